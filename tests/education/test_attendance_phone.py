"""The attendance pages a teacher opens on a phone fit 360 px: each is drawn by headless Chromium
in a 360 px frame with the portal's style sheets (the day's form with a long name and a refusal
shown, the month's grid, whose table scrolls inside its frame) and nothing is wider than the
screen; the choices are touch targets of at least 44 px."""
from __future__ import annotations

import datetime
import re

import pytest

from education import attendance
from education.models import Enrolment
from tests.browser import require_chromium
from tests.health.test_records_phone import drawn_width

pytestmark = pytest.mark.django_db

HOST = "tule.localhost"
TODAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(attendance, "today", lambda: TODAY)


def test_the_attendance_pages_fit_a_phone(tule, in_commune, schoolyard, school_people, client_for):
    require_chromium()
    s = schoolyard
    with in_commune(tule):
        first = Enrolment.objects.filter(school_class=s["class6a"]).order_by("number").first()
        resident = first.student.resident
        resident.full_name = "Lò Thị Hoàng Phương Thảo Nguyên Khánh Linh Ngọc"
        resident.save()
        for day in (datetime.date(2026, 12, 1), datetime.date(2026, 12, 2), datetime.date(2026, 12, 3)):
            attendance.take_attendance(school_people["principal"], s["class6a"], day,
                                       [attendance.Mark(first.pk, "unexcused", "Không rõ lý do")])
    client = client_for(HOST, school_people["literature"])
    day_url = f"/schools/classes/{s['class6a'].pk}/attendance/{TODAY.isoformat()}/"
    pages = {
        "day": client.get(day_url).content.decode(),
        "refused": client.post(day_url, {f"kind_{first.pk}": "late", f"reason_{first.pk}": "x" * 201}).content.decode(),
        "month": client.get(f"/schools/classes/{s['class6a'].pk}/attendance/month/?month=2026-12").content.decode(),
        "index": client.get("/schools/attendance/").content.decode(),
    }
    assert "Hoàng Phương Thảo" in pages["day"] and 'id="errors"' in pages["refused"]
    assert 'rel="stylesheet" href="/static/education/attendance.css"' in pages["day"]
    for name, html in pages.items():
        width = drawn_width(html)
        assert width <= 360, f"{name} is {width} px wide"
    css = open("static/education/attendance.css", encoding="utf-8").read()
    assert re.search(r"\.att-choices label\{[^}]*min-height:44px", css)
