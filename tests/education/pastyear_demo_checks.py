"""The demo's past school year 2025-2026, checked for one demo commune (for tests/test_demo.py,
which seeds the whole demo twice): classes in both schools, every past enrolment completed with the
year, both semesters locked by the principal (and the lock log says so), a year's result with a
learning or education result and a decision for every past enrolment (promoted, retest, repeat,
completed the level), and attendance on weekday school days of the year only."""
from __future__ import annotations

from django_tenants.utils import tenant_context


def pastyear_counts(commune) -> tuple:
    from education.models import (
        Absence, AssessmentLock, AttendanceDay, Enrolment, LockEvent, Mark, SchoolClass, StudentResult,
    )

    with tenant_context(commune):
        return (SchoolClass.objects.filter(year__name="2025-2026").count(),
                Enrolment.objects.filter(year__name="2025-2026").count(),
                Enrolment.objects.filter(entry="promoted").count(),
                Mark.objects.filter(enrolment__year__name="2025-2026").count(),
                StudentResult.objects.filter(enrolment__year__name="2025-2026").count(),
                AssessmentLock.objects.filter(semester__year__name="2025-2026").count(),
                LockEvent.objects.count(),
                AttendanceDay.objects.filter(school_class__year__name="2025-2026").count(),
                Absence.objects.filter(enrolment__year__name="2025-2026").count())


def check(commune) -> None:
    from education.models import (
        Absence, AssessmentLock, AttendanceDay, Enrolment, LockEvent, School, SchoolClass, SchoolYear, Semester,
        StaffPosition, StudentResult,
    )

    with tenant_context(commune):
        past = SchoolYear.objects.get(name="2025-2026")
        assert not past.current
        semesters = list(Semester.objects.filter(year=past).order_by("number"))
        assert [s.number for s in semesters] == [1, 2]
        schools = list(School.objects.filter(classes__year=past).distinct())
        assert {s.level for s in schools} == {"primary", "lower_secondary"}, schools
        enrolments = Enrolment.objects.filter(year=past)
        assert enrolments.exists()
        assert not enrolments.exclude(status="completed").exists()
        assert not enrolments.exclude(ends_on=past.ends_on).exists()
        assert Enrolment.objects.filter(year__current=True, entry="promoted").exists()
        for school in schools:
            classes = list(SchoolClass.objects.filter(school=school, year=past))
            assert sorted(c.grade for c in classes) == school.grades
            principal = school.staff.get(position=StaffPosition.PRINCIPAL).user_id
            for semester in semesters:
                lock = AssessmentLock.objects.get(school=school, semester=semester)
                assert lock.locked_by_id == principal
                assert LockEvent.objects.filter(school=school, semester=semester, action="lock",
                                                user_id=principal).exists()
        results = {r.enrolment_id: r for r in StudentResult.objects.filter(enrolment__year=past, period="year")}
        assert set(results) == set(enrolments.values_list("pk", flat=True))
        for result in results.values():
            assert result.complete and (result.learning or result.outcome), result.enrolment_id
            assert result.decision in ("promoted", "retest", "repeat", "completed"), result.enrolment_id
        decisions = {r.decision for r in results.values()}
        # A last grade completes the level; among a handful of students the draw may give no promotion.
        if enrolments.exclude(school_class__grade__in=(5, 9)).count() >= 10:
            assert "promoted" in decisions, decisions
        retests = StudentResult.objects.filter(enrolment__year=past, period="retest")
        assert not retests.filter(decision="").exists()
        days = AttendanceDay.objects.filter(school_class__year=past)
        assert days.exists()
        assert not days.filter(date__week_day__in=[1, 7]).exists()  # no Sunday, no Saturday
        assert not days.exclude(date__gte=past.starts_on, date__lte=past.ends_on).exists()
        assert Absence.objects.filter(enrolment__year=past).exclude(reason="").exists()
