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


STATIC = Path(settings.BASE_DIR) / "static"


def _inline_styles(html: str) -> str:
    def style(match):
        path = STATIC / match.group(1).split("/static/", 1)[1].split("?")[0]
        return f"<style>{path.read_text(encoding='utf-8')}</style>"

    html = re.sub(r'<link rel="stylesheet" href="([^"]+)">', style, html)
    return re.sub(r"<script[^>]*></script>", "", html)


def test_the_staff_pages_of_the_contact_book_fit_a_phone(tule, in_commune, schoolyard, school_people, client_for,
                                                         browser):
    require_chromium()
    y = schoolyard
    with in_commune(tule):
        for n in range(3):
            contact.send_message(school_people["literature"], school_class=y["class6a"],
                                 body="Kính gửi quý phụ huynh: https://tule.example.vn/thong-bao-hop-phu-huynh-"
                                      f"hoc-ky-mot-nam-hoc-2026-2027-lop-6a-so-{n} và lịch kiểm tra giữa kỳ.")
        contact.send_message(school_people["literature"], student=y["students6"][0], body="Em An đi học đều.")
    client = client_for("tule.localhost", school_people["literature"])
    pages = {
        "class": client.get(f"/schools/classes/{y['class6a'].pk}/messages/").content.decode(),
        "student": client.get(f"/schools/students/{y['students6'][0].pk}/contact-book/").content.decode(),
        "mine": client.get("/schools/messages/").content.decode(),
        "refused": client.post(f"/schools/classes/{y['class6a'].pk}/messages/", {"body": "x" * 600}
                               ).content.decode(),
    }
    page = browser.new_page(viewport={"width": 360, "height": 740})
    try:
        for name, html in pages.items():
            assert "Kính gửi quý phụ huynh" in html or name == "student"
            styled = _inline_styles(html)
            assert "<style>" in styled and 'rel="stylesheet"' not in styled
            page.set_content(styled)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{name} is {width} px wide"
    finally:
        page.close()
