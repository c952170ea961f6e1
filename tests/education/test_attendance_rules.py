"""Attendance's rules in the service: school days only (not a Sunday, not a day off of the
official calendar, not in the future, within a semester), only students of the class, a save
replaces the day exactly, the homeroom teacher's seven days of corrections; the flags at the
threshold (n−1 vs n) and for three unexcused days in a row; days absent and the rate's arithmetic."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.validation import error_code
from education import attendance
from education.models import Absence, AttendanceDay, Enrolment

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 7)  # a Monday of semester 1
MONDAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(attendance, "today", lambda: TODAY)


def enrolments(schoolyard, name="class6a"):
    return list(Enrolment.objects.filter(school_class=schoolyard[name]).order_by("number"))


def refused(call) -> str:
    with pytest.raises(ValidationError) as info:
        call()
    return error_code(info.value)


def test_only_school_days_are_taken(tule, in_commune, schoolyard, school_people):
    teacher, class6a = school_people["literature"], schoolyard["class6a"]
    with in_commune(tule):
        take = lambda day: attendance.take_attendance(teacher, class6a, day, [])  # noqa: E731
        assert refused(lambda: take(datetime.date(2026, 12, 6))) == "sunday"
        assert refused(lambda: attendance.take_attendance(  # New Year's Day, seen from January
            teacher, class6a, datetime.date(2027, 1, 1), [], on=datetime.date(2027, 1, 4))) == "holiday"
        assert refused(lambda: take(TODAY + datetime.timedelta(days=1))) == "future_day"
        assert refused(lambda: take(datetime.date(2026, 9, 4))) == "outside_semester"  # before the year
        assert not AttendanceDay.objects.exists()
        take(datetime.date(2026, 12, 5))  # a Saturday stays a school day
        take(TODAY)
        assert AttendanceDay.objects.filter(school_class=class6a).count() == 2


def test_a_save_writes_the_day_exactly_and_replaces_it(tule, in_commune, schoolyard, school_people):
    teacher, class6a = school_people["literature"], schoolyard["class6a"]
    with in_commune(tule):
        e = enrolments(schoolyard)
        sheet = attendance.take_attendance(teacher, class6a, TODAY, [
            attendance.Mark(e[0].pk, "excused", "  Ốm,   sốt "), attendance.Mark(e[1].pk, "unexcused"),
            attendance.Mark(e[2].pk, "late", "Xe hỏng"), attendance.Mark(e[3].pk, "")])
        assert sheet.counts == {"students": 5, "excused": 1, "unexcused": 1, "late": 1, "present": 3}
        assert Absence.objects.get(enrolment=e[0]).reason == "Ốm, sốt"
        day = AttendanceDay.objects.get(school_class=class6a, date=TODAY)
        assert day.taken_by_id == teacher.pk
        # Saved again: the first student taken back (present), the second now excused.
        attendance.take_attendance(school_people["principal"], class6a, TODAY, [
            attendance.Mark(e[1].pk, "excused", "Giấy xin phép")])
        rows = {a.enrolment_id: (a.kind, a.reason) for a in Absence.objects.filter(date=TODAY)}
        assert rows == {e[1].pk: ("excused", "Giấy xin phép")}
        assert AttendanceDay.objects.get(pk=day.pk).taken_by_id == school_people["principal"].pk
        assert AttendanceDay.objects.filter(school_class=class6a).count() == 1


def test_a_student_not_in_the_class_and_bad_marks_write_nothing(tule, in_commune, schoolyard, school_people):
    teacher, class6a = school_people["literature"], schoolyard["class6a"]
    with in_commune(tule):
        e = enrolments(schoolyard)
        other = enrolments(schoolyard, "class1a")[0]
        assert refused(lambda: attendance.take_attendance(teacher, class6a, TODAY, [
            attendance.Mark(e[0].pk, "excused"), attendance.Mark(other.pk, "unexcused")])) == "not_in_class"
        assert refused(lambda: attendance.take_attendance(teacher, class6a, TODAY, [
            attendance.Mark(e[0].pk, "sick")])) == "invalid_kind"
        assert refused(lambda: attendance.take_attendance(teacher, class6a, TODAY, [
            attendance.Mark(e[0].pk, "late"), attendance.Mark(e[0].pk, "excused")])) == "duplicate_student"
        assert refused(lambda: attendance.take_attendance(teacher, class6a, TODAY, [
            attendance.Mark(e[0].pk, "late", "x" * 201)])) == "reason_too_long"
        # A student who left the class before the day is not in it any more.
        e[4].status, e[4].ends_on = Enrolment.Status.TRANSFERRED_OUT, TODAY - datetime.timedelta(days=3)
        e[4].save()
        assert refused(lambda: attendance.take_attendance(teacher, class6a, TODAY, [
            attendance.Mark(e[4].pk, "unexcused")])) == "not_in_class"
        assert not AttendanceDay.objects.exists() and not Absence.objects.exists()
        assert len(attendance.day_sheet(class6a, TODAY).rows) == 4
        assert len(attendance.day_sheet(class6a, TODAY - datetime.timedelta(days=4)).rows) == 5


def test_who_takes_attendance_and_the_seven_days_of_corrections(tule, in_commune, schoolyard, school_people):
    p, class6a = school_people, schoolyard["class6a"]
    with in_commune(tule):
        for who in ("math", "accountant", "primary_principal", "primary_teacher", "chairman", "unplaced"):
            with pytest.raises(PermissionDenied):
                attendance.take_attendance(p[who], class6a, TODAY, [])
        attendance.take_attendance(p["literature"], class6a, TODAY - datetime.timedelta(days=7), [])
        assert refused(lambda: attendance.take_attendance(
            p["literature"], class6a, TODAY - datetime.timedelta(days=9), [])) == "correction_closed"
        for manager in ("principal", "vice", "clerk"):
            attendance.take_attendance(p[manager], class6a, datetime.date(2026, 10, 5), [])
        assert AttendanceDay.objects.filter(school_class=class6a).count() == 2


def _absent(teacher, school_class, days, enrolment, kind="excused"):
    for day in days:
        attendance.take_attendance(teacher, school_class, day, [attendance.Mark(enrolment.pk, kind, "Ốm")])


def test_flags_at_the_threshold(tule, in_commune, schoolyard, school_people):
    teacher, class6a = school_people["principal"], schoolyard["class6a"]
    with in_commune(tule):
        e = enrolments(schoolyard)
        november = [datetime.date(2026, 11, d) for d in (2, 4, 6, 9)]  # Mon, Wed, Fri, Mon
        _absent(teacher, class6a, november[:2], e[0])  # n−1 = 2 days
        assert attendance.flags(class6a, datetime.date(2026, 11, 1)) == []
        _absent(teacher, class6a, november[2:3], e[0])  # n = 3 days
        found = attendance.flags(class6a, datetime.date(2026, 11, 1))
        assert [(f.enrolment.pk, f.days_absent) for f in found] == [(e[0].pk, 3)]
        # Lateness is no absence; December is another month.
        _absent(teacher, class6a, november[3:], e[1], kind="late")
        assert [f.enrolment.pk for f in attendance.flags(class6a, datetime.date(2026, 11, 1))] == [e[0].pk]
        assert attendance.flags(class6a, datetime.date(2026, 12, 1)) == []
        # A threshold raised to 4 unflags.
        school = class6a.school
        school.absence_threshold = 4
        school.save()
        class6a.refresh_from_db()
        assert attendance.flags(class6a, datetime.date(2026, 11, 1)) == []


def test_three_unexcused_days_in_a_row_are_flagged(tule, in_commune, schoolyard, school_people):
    teacher, class6a = school_people["principal"], schoolyard["class6a"]
    with in_commune(tule):
        school = class6a.school
        school.absence_threshold = 10
        school.save()
        class6a.refresh_from_db()
        e = enrolments(schoolyard)
        days = [datetime.date(2026, 11, d) for d in (2, 3, 4, 5)]
        # Unexcused on the 2nd and 3rd, present on the 4th (taken), unexcused on the 5th: no run of 3.
        _absent(teacher, class6a, days[:2], e[2], kind="unexcused")
        attendance.take_attendance(teacher, class6a, days[2], [])
        _absent(teacher, class6a, days[3:], e[2], kind="unexcused")
        assert attendance.flags(class6a, datetime.date(2026, 11, 1)) == []
        # Taken again: the 4th unexcused too makes four in a row.
        _absent(teacher, class6a, days[2:3], e[2], kind="unexcused")
        found = attendance.flags(class6a, datetime.date(2026, 11, 1))
        assert [(f.enrolment.pk, f.unexcused_run) for f in found] == [(e[2].pk, 4)]
        assert any("4" in reason for reason in found[0].reasons)


def test_days_absent_and_the_rate(tule, in_commune, schoolyard, school_people):
    p = school_people
    class6a, class1a, thcs = schoolyard["class6a"], schoolyard["class1a"], schoolyard["thcs"]
    d1, d2 = datetime.date(2026, 11, 2), datetime.date(2026, 11, 3)
    with in_commune(tule):
        e = enrolments(schoolyard)
        assert attendance.rate(thcs, d1, d2).percent is None  # nothing taken
        attendance.take_attendance(p["principal"], class6a, d1, [
            attendance.Mark(e[0].pk, "excused"), attendance.Mark(e[1].pk, "late")])
        attendance.take_attendance(p["principal"], class6a, d2, [attendance.Mark(e[0].pk, "unexcused")])
        assert attendance.days_absent([x.pk for x in e], d1, d2) == {e[0].pk: 2, e[1].pk: 0, e[2].pk: 0,
                                                                       e[3].pk: 0, e[4].pk: 0}
        assert attendance.days_absent([e[0].pk], d2, d2) == {e[0].pk: 1}
        rate = attendance.rate(thcs, d1, d2)
        assert (rate.enrolled, rate.absent, rate.present, rate.days) == (10, 2, 8, 2)
        assert rate.percent == Decimal("80.0")
        # A student who joins on the 3rd counts from the 3rd: 11 student-days, 9 present → 81.8.
        Enrolment.objects.filter(student=schoolyard["students1"][2], school_class=class1a).update(
            status=Enrolment.Status.MOVED_CLASS, ends_on=d1)
        late_joiner = Enrolment.objects.create(student=schoolyard["students1"][2], school_class=class6a,
                                               year=schoolyard["year"], number=6, starts_on=d2)
        rate = attendance.rate(thcs, d1, d2)
        assert (rate.enrolled, rate.present, rate.percent) == (11, 9, Decimal("81.8"))
        assert late_joiner.pk in attendance.days_absent([late_joiner.pk], d1, d2)
        # The primary school: 1 absent of 3 on one day → 66.7 (half up), per day and per class.
        e1 = enrolments(schoolyard, "class1a")
        attendance.take_attendance(p["primary_principal"], class1a, d1, [attendance.Mark(e1[1].pk, "unexcused")])
        rates = attendance.school_rates(schoolyard["primary"], d1, d2)
        assert rates.total.percent == Decimal("66.7")
        assert [(day, r.enrolled, r.present) for day, r in rates.days] == [(d1, 3, 2)]
        assert [(c.name, r.percent) for c, r in rates.classes] == [("1A", Decimal("66.7"))]
        # The month's grid of class 6A.
        grid = attendance.month_grid(class6a, d1)
        row = next(r for r in grid.rows if r.enrolment.pk == e[0].pk)
        assert row.marks[grid.days.index(d1)] == "P" and row.marks[grid.days.index(d2)] == "K"
        assert (row.excused, row.unexcused, row.late) == (1, 1, 0)
        assert grid.days[0] == d1 and datetime.date(2026, 11, 1) not in grid.days  # a Sunday
        assert datetime.date(2026, 11, 30) in grid.days and len(grid.rows) == 6
