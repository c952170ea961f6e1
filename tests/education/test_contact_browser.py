"""The contact book's form in Chromium: as the teacher types, the characters and the SMS segments
of what the guardians will receive (the school's short name in front) are counted, the same way
as the server counts them (``education.contact.sms_segments``)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from education import contact
from tests.browser import require_chromium

pytestmark = pytest.mark.django_db(transaction=False)

SCRIPT = Path(settings.BASE_DIR) / "static" / "education" / "contact.js"


def test_the_form_counts_characters_and_sms_segments_as_the_teacher_types(schoolyard, school_people, client_for,
                                                                          browser):
    require_chromium()
    html = client_for("tule.localhost", school_people["literature"]).get(
        f"/schools/classes/{schoolyard['class6a'].pk}/messages/").content.decode()
    assert 'id="sms-segments"' in html and "education/contact.js" in html
    page = browser.new_page(viewport={"width": 360, "height": 740})
    try:
        page.set_content(re.sub(r"<script[^>]*></script>", "", html))
        page.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
        assert page.inner_text("#sms-segments") == "0"
        for text in ("Họp phụ huynh lúc 8 giờ.", "Hop phu huynh luc 8 gio. " * 6, "Kính gửi quý phụ huynh. " * 8,
                     "x" * 500):
            page.fill("textarea[name=body]", text)
            expected = contact.sms_segments(contact.full_text(schoolyard["thcs"], text))
            assert page.inner_text("#sms-segments") == str(expected), text
            assert page.inner_text("#sms-chars") == str(len(text.strip()))
        # By hand: "THCS Tú Lệ: " (12) and 8 × 24 - 1 characters with diacritics: 203 UCS-2 units, more than
        # three segments of 67.
        assert contact.sms_segments(contact.full_text(schoolyard["thcs"], "Kính gửi quý phụ huynh. " * 8)) == 4
    finally:
        page.close()
