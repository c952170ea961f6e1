"""The demo's attendance and timetables on the test school year: timetables for both semesters
without any clash (each teacher and room once a period), attendance on every weekday school day up
to today with a few per cent absent or late and a reason, a flagged student in the first class of
each school, and nothing more on a second run."""
from __future__ import annotations

import datetime
from collections import Counter
from types import SimpleNamespace

import pytest

from education import attendance, attendance_demo
from education.models import Absence, AttendanceDay, TimetableSlot

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 7)


def test_the_demo_seeds_timetables_and_attendance_once(tule, in_commune, schoolyard, monkeypatch):
    monkeypatch.setattr(attendance, "today", lambda: TODAY)
    s = schoolyard
    spec = SimpleNamespace(slug="tule")
    made = attendance_demo.seed_commune(spec, tule, today=TODAY)
    with in_commune(tule):
        assert made["slots"] > 0 and made["days"] > 0
        for semester in (s["sem1"], s["sem2"]):
            slots = list(TimetableSlot.objects.filter(semester=semester))
            assert {slot.school_class_id for slot in slots} == {s["class6a"].pk, s["class6b"].pk, s["class1a"].pk}
            teachers = Counter((slot.teacher_id, slot.weekday, slot.lesson) for slot in slots if slot.teacher_id)
            assert max(teachers.values()) == 1  # the math teacher of 6A and 6B never twice at once
            rooms = Counter((slot.room, slot.weekday, slot.lesson) for slot in slots)
            assert max(rooms.values()) == 1
        weekdays = [d for d in attendance.school_days(s["class6a"], s["year"].starts_on, TODAY, on=TODAY)
                    if d.isoweekday() <= 5]
        assert AttendanceDay.objects.filter(school_class=s["class6a"]).count() == len(weekdays)
        assert not AttendanceDay.objects.filter(date__gt=TODAY).exists()
        assert not AttendanceDay.objects.filter(date__week_day__in=[1, 7]).exists()  # no Sunday, no Saturday
        student_days = len(weekdays) * 5 + len(weekdays) * 3  # 6A and 1A (6B has no students)
        share = Absence.objects.exclude(reason="Không rõ lý do", kind="unexcused").count() / student_days
        assert 0.005 < share < 0.08
        assert Absence.objects.exclude(reason="").exists()
        for school_class in (s["class6a"], s["class1a"]):
            assert len(attendance.flags(school_class, TODAY)) >= 1
        counts = (TimetableSlot.objects.count(), AttendanceDay.objects.count(), Absence.objects.count())
    again = attendance_demo.seed_commune(spec, tule, today=TODAY)
    assert again == {"slots": 0, "days": 0}
    with in_commune(tule):
        assert (TimetableSlot.objects.count(), AttendanceDay.objects.count(), Absence.objects.count()) == counts


def test_the_demo_check_passes_on_the_seeded_rows(tule, schoolyard, monkeypatch):
    from tests.education.attendance_demo_checks import attendance_counts, check

    monkeypatch.setattr(attendance, "today", lambda: TODAY)
    assert attendance_counts(tule) == (0, 0, 0)
    attendance_demo.seed_commune(SimpleNamespace(slug="tule"), tule, today=TODAY)
    check(tule)
    assert attendance_counts(tule)[0] > 0
