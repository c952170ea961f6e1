"""The attendance and timetable pages: who opens what (the role matrix: the school's staff read,
the homeroom teacher and managers take attendance, the managers edit timetables; the chairman reads
the schools' rates only; another school's staff, other officials and parents get 403), the day's form saved and shown again
with what was typed on a refusal, the month's grid and flags, the school's rates and .xlsx files
logged as exports, the timetable grid's clash message, and the inbox lines."""
from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import load_workbook

from education import attendance
from education.models import Absence, AttendanceDay, Enrolment, TimetableSlot
from population.models import AccessLog

pytestmark = pytest.mark.django_db

HOST = "tule.localhost"
TODAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(attendance, "today", lambda: TODAY)


def enrolments(tule, in_commune, schoolyard, name="class6a"):
    with in_commune(tule):
        return list(Enrolment.objects.filter(school_class=schoolyard[name]).order_by("number"))


READERS = ["principal", "vice", "math", "literature", "accountant", "clerk"]
OUTSIDERS = ["primary_principal", "primary_teacher", "unplaced", "chairman", "radio", "nurse", "parent"]


@pytest.mark.parametrize("who", READERS + OUTSIDERS)
def test_the_role_matrix_of_the_pages(tule, schoolyard, school_people, client_for, who):
    s = schoolyard
    client = client_for(HOST, school_people[who])
    day = f"/schools/classes/{s['class6a'].pk}/attendance/{TODAY:%d-%m-%Y}/"
    pages = [day, f"/schools/classes/{s['class6a'].pk}/attendance/month/?month=2026-12",
             f"/schools/classes/{s['class6a'].pk}/attendance/month/xlsx/?month=2026-12",
             f"/schools/attendance/school/{s['thcs'].pk}/?month=2026-12",
             f"/schools/attendance/school/{s['thcs'].pk}/xlsx/?month=2026-12",
             f"/schools/timetable/school/{s['thcs'].pk}/", f"/schools/classes/{s['class6a'].pk}/timetable/",
             f"/schools/timetable/teacher/{s['staff']['math'].pk}/"]
    expected = 200 if who in READERS else 403
    rates = {pages[3], pages[4]}  # figures without a name: the chairman reads them too
    for page in pages:
        assert client.get(page).status_code == (200 if who == "chairman" and page in rates else expected), page
    writes_attendance = who in ("principal", "vice", "clerk", "literature")
    response = client.post(day, {})
    assert response.status_code == (302 if writes_attendance else 403)
    edit = client.get(f"/schools/classes/{s['class6a'].pk}/timetable/edit/")
    assert edit.status_code == (200 if who in ("principal", "vice", "clerk") else 403)
    # The primary school's pages stay closed to the lower-secondary school's staff and vice versa.
    other = client.get(f"/schools/classes/{s['class1a'].pk}/attendance/month/")
    assert other.status_code == (200 if who in ("primary_principal", "primary_teacher") else 403)


def test_the_day_is_saved_and_a_refusal_keeps_what_was_typed(tule, in_commune, schoolyard, school_people,
                                                              client_for):
    s = schoolyard
    e = enrolments(tule, in_commune, s)
    other = enrolments(tule, in_commune, s, "class1a")[0]
    client = client_for(HOST, school_people["literature"])
    url = f"/schools/classes/{s['class6a'].pk}/attendance/{TODAY.isoformat()}/"
    page = client.get(url).content.decode()
    assert "Lò Văn An" in page and 'name="kind_%s"' % e[0].pk in page
    response = client.post(url, {f"kind_{e[0].pk}": "excused", f"reason_{e[0].pk}": "Ốm",
                                 f"kind_{e[1].pk}": "late", f"reason_{e[1].pk}": "",
                                 f"kind_{e[2].pk}": ""})
    assert response.status_code == 302
    with in_commune(tule):
        assert {a.enrolment_id: a.kind for a in Absence.objects.filter(date=TODAY)} == {
            e[0].pk: "excused", e[1].pk: "late"}
        assert AttendanceDay.objects.get(school_class=s["class6a"], date=TODAY).taken_by_id == \
            school_people["literature"].pk
    # A student of another class sent: refused, nothing changed, the form shows what was typed.
    response = client.post(url, {f"kind_{e[0].pk}": "unexcused", f"reason_{e[0].pk}": "Bỏ học đi chơi",
                                 f"kind_{other.pk}": "excused"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Bỏ học đi chơi" in page and 'id="errors"' in page
    with in_commune(tule):
        assert Absence.objects.get(enrolment=e[0], date=TODAY).kind == "excused"
        assert not Absence.objects.filter(enrolment=other).exists()
    # Taken back: the second student present again.
    client.post(url, {f"kind_{e[0].pk}": "excused", f"reason_{e[0].pk}": "Ốm", f"kind_{e[1].pk}": ""})
    with in_commune(tule):
        assert list(Absence.objects.filter(date=TODAY).values_list("enrolment_id", flat=True)) == [e[0].pk]
        assert AccessLog.objects.filter(object_type="school_class", object_id=s["class6a"].pk).exists()


@pytest.mark.parametrize("day, shown", [("06-12-2026", "Sunday"), ("2026-12-08", "future"),
                                        ("04-09-2026", "semester")])
def test_no_school_day_shows_why_without_a_form(tule, schoolyard, school_people, client_for, day, shown):
    client = client_for(HOST, school_people["principal"])
    url = f"/schools/classes/{schoolyard['class6a'].pk}/attendance/{day}/"
    page = client.get(url).content.decode()
    assert 'id="no-school"' in page and 'id="attendance-form"' not in page
    assert client.post(url, {}).status_code == 400
    assert client.get(f"/schools/classes/{schoolyard['class6a'].pk}/attendance/31-02-2026/").status_code == 404


def test_the_homeroom_teacher_reads_but_no_longer_corrects_an_old_day(tule, schoolyard, school_people, client_for):
    url = f"/schools/classes/{schoolyard['class6a'].pk}/attendance/2026-11-20/"
    page = client_for(HOST, school_people["literature"]).get(url).content.decode()
    assert 'id="closed"' in page and "<fieldset disabled>" in page
    assert client_for(HOST, school_people["literature"]).post(url, {}).status_code == 400
    assert client_for(HOST, school_people["principal"]).post(url, {}).status_code == 302


def test_month_grid_flags_rates_and_exports(tule, in_commune, schoolyard, school_people, client_for):
    s, p = schoolyard, school_people
    e = enrolments(tule, in_commune, s)
    with in_commune(tule):
        for day in (datetime.date(2026, 11, 2), datetime.date(2026, 11, 3), datetime.date(2026, 11, 4)):
            attendance.take_attendance(p["principal"], s["class6a"], day, [attendance.Mark(e[0].pk, "unexcused")])
    client = client_for(HOST, p["math"])
    page = client.get(f"/schools/classes/{s['class6a'].pk}/attendance/month/?month=2026-11").content.decode()
    assert 'class="mark-K"' in page and "Lò Văn An" in page.split('id="flags"')[1].split("</div>")[0]
    rates = client.get(f"/schools/attendance/school/{s['thcs'].pk}/?month=2026-11").content.decode()
    assert "80.0%" in rates or "80,0%" in rates  # 12 of 15 student-days present
    with in_commune(tule):
        before = AccessLog.objects.filter(action=AccessLog.Action.EXPORT).count()
    response = client.get(f"/schools/attendance/school/{s['thcs'].pk}/xlsx/?month=2026-11")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    by_class = [row for row in book.worksheets[1].iter_rows(values_only=True)]
    assert by_class[1][:5] == ("6A", 3, 15, 3, 12) and float(by_class[1][5]) == 80.0
    grid = client.get(f"/schools/classes/{s['class6a'].pk}/attendance/month/xlsx/?month=2026-11")
    rows = list(load_workbook(io.BytesIO(grid.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == "Lò Văn An" and rows[1][2:5] == ("K", "K", "K")
    with in_commune(tule):
        assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT).count() == before + 2
    assert client.get(f"/schools/classes/{s['class6a'].pk}/attendance/month/?month=2026-13").status_code == 404
    for url in ("/schools/classes/99999999999999999999/attendance/month/",
                "/schools/attendance/school/99999999999999999999/",
                "/schools/timetable/teacher/99999999999999999999/",
                "/schools/classes/99999999999999999999/timetable/"):
        assert client.get(url).status_code == 404, url


def test_the_inbox_lines(tule, in_commune, schoolyard, school_people, client_for):
    from communes.modules import inbox_for
    from django.test import RequestFactory

    s, p = schoolyard, school_people
    e = enrolments(tule, in_commune, s)
    with in_commune(tule):
        request = RequestFactory().get("/schools/", HTTP_HOST=HOST)
        request.commune = tule

        def lines(who):
            request.user = p[who]
            return {line.key: line for line in inbox_for(request, module="education")}

        teacher = lines("literature")
        assert teacher[f"education.attendance_today.{s['class6a'].pk}"].count == 1
    home = client_for(HOST, p["literature"]).get("/schools/").content.decode()
    assert f"/schools/classes/{s['class6a'].pk}/attendance/{TODAY.isoformat()}/" in home
    with in_commune(tule):
        assert f"{TODAY.isoformat()}" in teacher[f"education.attendance_today.{s['class6a'].pk}"].url
        assert f"education.attendance_flags.{s['class6a'].pk}" not in teacher
        for day in (datetime.date(2026, 12, 1), datetime.date(2026, 12, 2), TODAY):
            attendance.take_attendance(p["principal"], s["class6a"], day, [attendance.Mark(e[3].pk, "excused")])
        teacher = lines("literature")
        assert f"education.attendance_today.{s['class6a'].pk}" not in teacher
        assert teacher[f"education.attendance_flags.{s['class6a'].pk}"].count == 1
        assert not any(key.startswith("education.attendance") for key in lines("math"))
        manager = lines("principal")
        missing = manager[f"education.timetable_missing.{s['thcs'].pk}"]
        assert missing.count == 2 and "missing=1" in missing.url
        assert f"education.timetable_missing.{s['primary'].pk}" not in manager
        assert not any(key.startswith("education.timetable") for key in lines("math"))
    page = client_for(HOST, p["principal"]).get(missing.url).content.decode()
    assert 'id="missing-only"' in page and ">6A<" in page and ">6B<" in page


def test_the_timetable_grid_refuses_a_clash_by_name_and_keeps_the_choices(tule, in_commune, schoolyard,
                                                                         school_people, client_for):
    from education import timetable

    s, p = schoolyard, school_people
    math, toan = s["staff"]["math"], s["subjects6"]["toan"]
    with in_commune(tule):
        timetable.save_slot(p["principal"], s["class6b"], s["sem1"], timetable.Cell(2, 2, toan, math, "P6B"))
    client = client_for(HOST, p["vice"])
    url = f"/schools/classes/{s['class6a'].pk}/timetable/edit/?semester={s['sem1'].pk}"
    response = client.post(url, {"s_1_1": toan.pk, "t_1_1": math.pk, "r_1_1": "P6A",
                                 "s_2_2": toan.pk, "t_2_2": math.pk, "r_2_2": "P6A"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "6B" in page.split('id="errors"')[1].split("</ul>")[0] and 'class="cell-error"' in page
    assert 'value="P6A"' in page
    with in_commune(tule):
        assert not TimetableSlot.objects.filter(school_class=s["class6a"]).exists()
    response = client.post(url, {"s_1_1": toan.pk, "t_1_1": math.pk, "r_1_1": "P6A",
                                 "s_2_3": toan.pk, "t_2_3": math.pk, "r_2_3": "P6A"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert toan.name in page and math.full_name in page and 'id="hints"' in page
    assert "data-print" in page and "/static/education/attendance.js" in page
    edit = client.get(url).content.decode()
    assert 'name="s_1_1"' in edit and f'<option value="{toan.pk}" selected>' in edit
    assert f'<option value="{math.pk}" selected>' in edit
    teacher_page = client.get(f"/schools/timetable/teacher/{math.pk}/?semester={s['sem1'].pk}").content.decode()
    assert "6A" in teacher_page and "6B" in teacher_page
    # Semester 2 copied from semester 1.
    response = client.post(f"/schools/timetable/school/{s['thcs'].pk}/copy/")
    assert response.status_code == 302
    with in_commune(tule):
        assert TimetableSlot.objects.filter(semester=s["sem2"]).count() == 3


def test_the_class_page_panel_shows_the_flags_to_the_school_staff_only(tule, in_commune, schoolyard, school_people):
    from django.template import Context, Template
    from django.test import RequestFactory

    s, p = schoolyard, school_people
    e = enrolments(tule, in_commune, s)
    template = Template("{% load education_attendance %}{% attendance_panel school_class %}")
    with in_commune(tule):
        for day in (datetime.date(2026, 12, 1), datetime.date(2026, 12, 2), datetime.date(2026, 12, 3)):
            attendance.take_attendance(p["principal"], s["class6a"], day, [attendance.Mark(e[2].pk, "unexcused")])

        def panel(who):
            request = RequestFactory().get("/")
            request.user = p[who]
            return template.render(Context({"request": request, "school_class": s["class6a"]}))

        shown = panel("literature")
        assert 'id="attendance-flags"' in shown and "Hà Văn Cường" in shown and "/attendance/2026-12-07/" in shown
        assert "Hà Văn Cường" in panel("math") and "/attendance/2026-12-07/" not in panel("math")
        for who in ("primary_principal", "chairman", "parent"):
            assert panel(who).strip() == ""


def test_the_chairman_reads_the_rates_of_every_school_and_no_name(tule, in_commune, schoolyard, school_people,
                                                                   client_for):
    s, p = schoolyard, school_people
    e = enrolments(tule, in_commune, s)
    with in_commune(tule):
        attendance.take_attendance(p["principal"], s["class6a"], TODAY, [attendance.Mark(e[0].pk, "unexcused")])
    client = client_for(HOST, p["chairman"])
    index = client.get("/schools/attendance/").content.decode()
    assert f"/schools/attendance/school/{s['thcs'].pk}/" in index and f"/attendance/school/{s['primary'].pk}/" in index
    page = client.get(f"/schools/attendance/school/{s['thcs'].pk}/?month=2026-12").content.decode()
    assert "80" in page and "Lò Văn An" not in page and "/attendance/month/" not in page
    assert client_for(HOST, p["math"]).get(f"/schools/attendance/school/{s['primary'].pk}/").status_code == 403
