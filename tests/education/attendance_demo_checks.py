"""The demo's attendance and timetables, checked for one demo commune (for tests/test_demo.py,
which seeds the whole demo twice): every class of the current year has a timetable in both
semesters with no teacher or room twice at once, attendance on the weekday school days up to
today (none on a Sunday or in the future), a few per cent absent with reasons, and a flagged
student this month."""
from __future__ import annotations

from collections import Counter

from django_tenants.utils import tenant_context


def attendance_counts(commune) -> tuple:
    from education.models import Absence, AttendanceDay, TimetableSlot

    with tenant_context(commune):
        return tuple(model.objects.count() for model in (TimetableSlot, AttendanceDay, Absence))


def check(commune) -> None:
    from education import attendance
    from education.models import Absence, AttendanceDay, SchoolClass, SchoolYear, Semester, TimetableSlot

    today = attendance.today()
    with tenant_context(commune):
        year = SchoolYear.objects.get(current=True)
        classes = list(SchoolClass.objects.filter(year=year))
        assert classes
        for semester in Semester.objects.filter(year=year):
            slots = list(TimetableSlot.objects.filter(semester=semester))
            assert {slot.school_class_id for slot in slots} == {c.pk for c in classes}
            assert max(Counter((s.teacher_id, s.weekday, s.lesson) for s in slots if s.teacher_id).values()) == 1
            assert max(Counter((s.school_id, s.room, s.weekday, s.lesson) for s in slots if s.room).values()) == 1
        assert not AttendanceDay.objects.filter(date__gt=today).exists()
        assert not AttendanceDay.objects.filter(date__week_day=1).exists()  # no Sunday
        if today > year.starts_on:
            taken = AttendanceDay.objects.filter(school_class__in=classes).count()
            assert taken >= len(classes)
            absences = Absence.objects.filter(enrolment__school_class__in=classes).exclude(kind="late").count()
            assert 0 < absences
            assert Absence.objects.exclude(reason="").exists()
            # The demo flags the second student of each school's first class once three school days
            # of the month have passed (a class of one student has nobody to flag).
            firsts = {}
            for school_class in sorted(classes, key=lambda c: (c.school_id, c.grade, c.name)):
                firsts.setdefault(school_class.school_id, school_class)
            month_days = AttendanceDay.objects.filter(date__year=today.year, date__month=today.month)
            if any(first.enrolments.count() > 1 and month_days.filter(school_class=first).count() >= 3
                   for first in firsts.values()):
                assert any(attendance.flags(c, today) for c in classes)
