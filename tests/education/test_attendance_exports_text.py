"""The attendance .xlsx files write text that begins like a formula as text: students and a class
named so, in a class's month and in the school's rates. Their URLs are the ones the export list of
``tests/trust/test_xlsx_export.py`` is to name: ``/schools/classes/1/attendance/month/xlsx/`` and
``/schools/attendance/school/1/xlsx/``."""
from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import load_workbook

from education import attendance
from education.models import Enrolment
from tests.trust.test_xlsx_export import HOSTILE

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 7)
EXPORTS = ("/schools/classes/{class_id}/attendance/month/xlsx/?month=2026-12",
           "/schools/attendance/school/{school_id}/xlsx/?month=2026-12")


def cells(response) -> list:
    assert response.status_code == 200, response.content[:300]
    assert "spreadsheetml" in response["Content-Type"]
    workbook = load_workbook(io.BytesIO(response.content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


def test_every_attendance_export_writes_text_as_text(tule, in_commune, schoolyard, school_people, client_for,
                                                     monkeypatch):
    monkeypatch.setattr(attendance, "today", lambda: TODAY)
    s = schoolyard
    with in_commune(tule):
        enrolments = list(Enrolment.objects.filter(school_class=s["class6a"]).order_by("number"))
        for enrolment, name in zip(enrolments, HOSTILE):
            resident = enrolment.student.resident
            resident.full_name = name
            resident.save()
        s["class6a"].name = HOSTILE[3]
        s["class6a"].save()
        attendance.take_attendance(school_people["principal"], s["class6a"], TODAY,
                                   [attendance.Mark(enrolments[0].pk, "excused", HOSTILE[0])])
    client = client_for("tule.localhost", school_people["principal"])
    seen = set()
    for url in EXPORTS:
        for cell in cells(client.get(url.format(class_id=s["class6a"].pk, school_id=s["thcs"].pk))):
            if isinstance(cell.value, str) and cell.value in HOSTILE:
                assert cell.data_type == "s", (url, cell.value)
                seen.add((url, cell.value))
    assert {value for url, value in seen if "month" in url} == set(HOSTILE)
    assert (EXPORTS[1], HOSTILE[3]) in seen  # the class's name in the rates
    with in_commune(tule):
        s["class6a"].name = "6/A:*?"  # characters a sheet's title cannot hold
        s["class6a"].save()
    response = client.get(EXPORTS[0].format(class_id=s["class6a"].pk, school_id=s["thcs"].pk))
    assert cells(response) and 'filename="diem-danh-lop-6a-' in response["Content-Disposition"]
