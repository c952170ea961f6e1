"""What the parent's pages and API read of a child (``education.parent_views``,
``education.contact_api``): the current class, marks as they are entered, results only for the
semesters the school has locked, attendance of this month and the year's totals, the class's
timetable of the current semester and the contact book's messages.

Results (``SubjectResult``, ``StudentResult``) are computed as marks are entered and change until
the principal locks the semester (``AssessmentLock``): a parent sees them only once locked, so that
what they read is what the report card says. Marks are shown as they are entered."""
from __future__ import annotations

from collections import Counter, OrderedDict

from django.utils import timezone

from core.phones import normalize_mobile
from education import contact
from education.models import (
    Absence, AssessmentLock, Enrolment, Mark, Period, Semester, StudentResult, SubjectResult, TimetableSlot,
)

# Periods whose results are shown once the semester of the number is locked.
PERIODS_OF_SEMESTER = {
    1: {Period.MID1, Period.SEM1},
    2: {Period.MID2, Period.SEM2, Period.YEAR, Period.RETEST},
}
PERIOD_ORDER = [Period.MID1, Period.SEM1, Period.MID2, Period.SEM2, Period.YEAR, Period.RETEST]
COLUMN_ORDER = ["tx1", "tx2", "tx3", "tx4", "mid", "end", "test", "level", "retest"]


def account_phone(user) -> str:
    return normalize_mobile(user.get_username() or "") or normalize_mobile(getattr(user, "phone", "") or "") or ""


def visible_periods(enrolment) -> set[str]:
    """The periods whose results the parent may read: those of the locked semesters."""
    locked = AssessmentLock.objects.filter(school_id=enrolment.school_class.school_id,
                                           semester__year_id=enrolment.year_id).values_list("semester__number",
                                                                                           flat=True)
    periods: set[str] = set()
    for number in locked:
        periods |= PERIODS_OF_SEMESTER.get(number, set())
    return periods


def column_label(column: str) -> str:
    from django.utils.translation import pgettext

    labels = {"mid": pgettext("mark column", "Mid-term"), "end": pgettext("mark column", "End of term"),
              "retest": pgettext("mark column", "Retest"), "test": pgettext("mark column", "Test"),
              "level": pgettext("mark column", "Level")}
    if column.startswith("tx"):
        return pgettext("mark column", "Regular %(n)s") % {"n": column[2:]}
    return labels.get(column, column)


def mark_value(mark) -> str:
    from django.utils.formats import number_format

    if mark.score is not None:
        return number_format(mark.score, 1)
    return mark.level or ""


def marks_of(enrolment):
    """The entered marks, per subject and period in order: ``[{"subject", "periods": [{"period",
    "label", "cells": [(label, value)]}]}]``."""
    marks = (Mark.objects.filter(enrolment=enrolment).select_related("subject")
             .order_by("subject__order", "subject__name", "pk"))
    by_subject: OrderedDict = OrderedDict()
    for mark in marks:
        value = mark_value(mark)
        if not value:
            continue
        by_subject.setdefault(mark.subject, {}).setdefault(mark.period, []).append(mark)
    result = []
    for subject, periods in by_subject.items():
        rows = []
        for period in PERIOD_ORDER:
            cells = sorted(periods.get(period, []),
                           key=lambda m: (COLUMN_ORDER.index(m.column) if m.column in COLUMN_ORDER else 99, m.column))
            if cells:
                rows.append({"period": str(period), "label": Period(period).label,
                             "cells": [(column_label(m.column), mark_value(m)) for m in cells]})
        result.append({"subject": subject, "periods": rows})
    return result


def results_of(enrolment, periods: set[str]):
    """Subject results and overall results of the visible periods."""
    subject_results = list(SubjectResult.objects.filter(enrolment=enrolment, period__in=periods)
                           .select_related("subject").order_by("subject__order", "subject__name"))
    overall = {r.period: r for r in StudentResult.objects.filter(enrolment=enrolment, period__in=periods)}
    result = []
    for period in PERIOD_ORDER:
        if period not in periods:
            continue
        subjects = [r for r in subject_results if r.period == period]
        if subjects or period in overall:
            result.append({"period": str(period), "label": Period(period).label, "subjects": subjects,
                           "overall": overall.get(period)})
    return result


def attendance_of(student, enrolment, today=None):
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    year_enrolments = Enrolment.objects.filter(student=student, year_id=enrolment.year_id)
    absences = Absence.objects.filter(enrolment__in=year_enrolments)
    this_month = list(absences.filter(date__gte=month_start, date__lte=today).order_by("date"))
    totals = Counter(absences.values_list("kind", flat=True))
    return {
        "month": this_month,
        "month_start": month_start,
        "totals": [(Absence.Kind(kind).label, totals.get(kind, 0)) for kind in Absence.Kind.values],
        "totals_by_kind": {kind: totals.get(kind, 0) for kind in Absence.Kind.values},
    }


def current_semester(year, today=None):
    today = today or timezone.localdate()
    semesters = list(Semester.objects.filter(year=year).order_by("number"))
    for semester in semesters:
        if semester.starts_on <= today <= semester.ends_on:
            return semester
    before = [s for s in semesters if s.starts_on <= today]
    return before[-1] if before else (semesters[0] if semesters else None)


def timetable_of(school_class, today=None):
    """The class's week in the current semester: ``(semester, [(day label, [slots])])``."""
    semester = current_semester(school_class.year, today)
    if semester is None:
        return None, []
    slots = (TimetableSlot.objects.filter(school_class=school_class, semester=semester)
             .select_related("subject", "teacher").order_by("weekday", "lesson"))
    days: OrderedDict = OrderedDict()
    for slot in slots:
        days.setdefault(slot.get_weekday_display(), []).append(slot)
    return semester, list(days.items())


def child_page(student, today=None) -> dict:
    enrolment = contact.current_enrolment(student)
    data = {"student": student, "enrolment": enrolment, "book": list(contact.student_messages(student)[:50])}
    if enrolment is None:
        return data
    periods = visible_periods(enrolment)
    semester, days = timetable_of(enrolment.school_class, today)
    data.update({
        "marks": marks_of(enrolment),
        "results": results_of(enrolment, periods),
        "locked_any": bool(periods),
        "attendance": attendance_of(student, enrolment, today),
        "semester": semester,
        "timetable": days,
    })
    return data

