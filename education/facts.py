"""The schools' figures of a period for the reporting facts (``communes.modules``), which the
outbox publishes monthly to the public schema for the supervising units: counts and rates of the
commune's schools, never a student, a name of a person or an ID.

Commune totals are flat keys of plain numbers:

* ``schools``, ``classes``, ``students`` (enrolled on the period's last day), ``students_female``,
  ``students_male``, ``grade_<g>`` and ``grade_<g>_female`` (grade 0: preschool groups);
* ``attendance_days`` (class-days on which attendance was taken in the period),
  ``attendance_student_days`` (students enrolled on those days), ``absences`` (of them, days
  absent, excused or not; lateness is not an absence), ``attendance_rate`` (present student-days
  per hundred, one decimal; absent when no attendance was taken);
* the results of the assessment periods that ended in the school year of the period's last day
  and whose marks the principal locked: ``learning_<period>_<level>``, ``conduct_<period>_<level>``
  (lower secondary) and ``outcome_<period>_<level>`` (primary), counts of students by the stored
  level code (``education.rules``);
* ``applications`` (received in the period), ``applications_admitted`` (decided so in the period);
* ``fees_invoiced`` and ``fees_collected`` (đồng, invoices issued and payments received in the
  period).

``schools_detail`` lists the same figures per school (its name and level, which are public, with
``students``, ``grade_<g>``, ``attendance_rate``, the results), so that a supervising unit
compares the schools of a commune without reading any row of a person.
"""
from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum


def _rate(present: int, total: int):
    if not total:
        return None
    return float((Decimal(present * 100) / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _enrolled_on(day: datetime.date):
    from education.models import Enrolment

    return Enrolment.objects.filter(starts_on__lte=day).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day)).filter(
        Q(status=Enrolment.Status.ACTIVE) | Q(ends_on__isnull=False))


def _students(day) -> dict[int, Counter]:
    """{school id: Counter of students, students_<sex>, grade_<g>, grade_<g>_female}."""
    per_school: dict[int, Counter] = defaultdict(Counter)
    rows = (_enrolled_on(day).values("school_class__school_id", "school_class__grade", "student__resident__sex")
            .annotate(n=Count("pk")))
    for row in rows:
        counter = per_school[row["school_class__school_id"]]
        grade, sex, n = row["school_class__grade"], row["student__resident__sex"], row["n"]
        counter["students"] += n
        counter[f"students_{sex}"] += n
        counter[f"grade_{grade}"] += n
        if sex == "female":
            counter[f"grade_{grade}_female"] += n
    return per_school


def _attendance(date_from, date_to) -> dict[int, Counter]:
    """{school id: Counter of attendance_days, attendance_student_days, absences} over the days on
    which attendance was taken; a student counts on a day when enrolled in the class that day."""
    from education.models import Absence, AttendanceDay, Enrolment

    per_school: dict[int, Counter] = defaultdict(Counter)
    days = list(AttendanceDay.objects.filter(date__gte=date_from, date__lte=date_to)
                .values_list("school_class_id", "school_class__school_id", "date"))
    if not days:
        return per_school
    class_ids = {class_id for class_id, _school, _day in days}
    spans = defaultdict(list)
    for class_id, starts_on, ends_on in Enrolment.objects.filter(school_class_id__in=class_ids).values_list(
            "school_class_id", "starts_on", "ends_on"):
        spans[class_id].append((starts_on, ends_on))
    taken = set()
    for class_id, school_id, day in days:
        taken.add((class_id, day))
        counter = per_school[school_id]
        counter["attendance_days"] += 1
        counter["attendance_student_days"] += sum(
            1 for starts_on, ends_on in spans[class_id] if starts_on <= day and (ends_on is None or ends_on >= day))
    absences = (Absence.objects.filter(date__gte=date_from, date__lte=date_to)
                .exclude(kind=Absence.Kind.LATE)
                .values_list("enrolment__school_class_id", "enrolment__school_class__school_id", "date"))
    for class_id, school_id, day in absences:
        if (class_id, day) in taken:
            per_school[school_id]["absences"] += 1
    return per_school


def _results(day) -> dict[int, Counter]:
    """{school id: Counter of learning_/conduct_/outcome_<period>_<level>} for the locked
    semesters of the school year of ``day`` (and the year's results once semester 2 is locked)."""
    from education.models import AssessmentLock, Period, SchoolYear, StudentResult

    year = SchoolYear.objects.filter(starts_on__lte=day, ends_on__gte=day).first()
    per_school: dict[int, Counter] = defaultdict(Counter)
    if year is None:
        return per_school
    locked = defaultdict(set)
    for school_id, number in AssessmentLock.objects.filter(semester__year=year, semester__ends_on__lte=day) \
            .values_list("school_id", "semester__number"):
        locked[school_id].update({Period.SEM1} if number == 1 else {Period.SEM2, Period.YEAR})
    if not locked:
        return per_school
    rows = (StudentResult.objects.filter(enrolment__year=year)
            .values("enrolment__school_class__school_id", "period", "learning", "conduct", "outcome")
            .annotate(n=Count("pk")))
    for row in rows:
        school_id, period = row["enrolment__school_class__school_id"], row["period"]
        if period not in locked.get(school_id, ()):
            continue
        counter = per_school[school_id]
        for field in ("learning", "conduct", "outcome"):
            if row[field]:
                counter[f"{field}_{period}_{row[field]}"] += row["n"]
    return per_school


def _money(date_from, date_to) -> dict[int, Counter]:
    from education.models import FeePayment, Invoice

    start = datetime.datetime.combine(date_from, datetime.time.min)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min)
    from django.utils import timezone

    start, end = timezone.make_aware(start), timezone.make_aware(end)
    per_school: dict[int, Counter] = defaultdict(Counter)
    for school_id, total in (Invoice.objects.filter(created_at__gte=start, created_at__lt=end)
                             .exclude(state=Invoice.State.CANCELLED)
                             .values_list("school_id").annotate(total=Sum("total"))):
        per_school[school_id]["fees_invoiced"] += total or 0
    for school_id, total in (FeePayment.objects.filter(received_at__gte=start, received_at__lt=end)
                             .values_list("invoice__school_id").annotate(total=Sum("amount"))):
        per_school[school_id]["fees_collected"] += total or 0
    return per_school


def _applications(date_from, date_to) -> dict[int, Counter]:
    from django.utils import timezone

    from education.models import Application

    start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min))
    per_school: dict[int, Counter] = defaultdict(Counter)
    for school_id, n in (Application.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
                         .values_list("school_id").annotate(n=Count("pk"))):
        per_school[school_id]["applications"] += n
    for school_id, n in (Application.objects.filter(decided_at__gte=start, decided_at__lt=end,
                                                    state=Application.State.ACCEPTED)
                         .values_list("school_id").annotate(n=Count("pk"))):
        per_school[school_id]["applications_admitted"] += n
    return per_school


def for_period(date_from, date_to) -> dict:
    from education.models import School, SchoolClass

    schools = list(School.objects.filter(active=True).order_by("name").values("pk", "name", "level"))
    parts = [_students(date_to), _attendance(date_from, date_to), _results(date_to), _money(date_from, date_to),
             _applications(date_from, date_to)]
    per_school: dict[int, Counter] = defaultdict(Counter)
    for part in parts:
        for school_id, counter in part.items():
            per_school[school_id].update(counter)
    classes = dict(SchoolClass.objects.filter(year__starts_on__lte=date_to, year__ends_on__gte=date_to)
                   .values_list("school_id").annotate(n=Count("pk")))
    totals: Counter = Counter()
    detail = []
    for school in schools:
        counter = per_school.get(school["pk"], Counter())
        counter["classes"] = classes.get(school["pk"], 0)
        totals.update(counter)
        figures = {"name": school["name"], "level": school["level"], **dict(sorted(counter.items()))}
        rate = _rate(counter["attendance_student_days"] - counter["absences"], counter["attendance_student_days"])
        if rate is not None:
            figures["attendance_rate"] = rate
        detail.append(figures)
    figures = {"schools": len(schools), "classes": 0, "students": 0, "students_female": 0, "students_male": 0,
               "attendance_days": 0, "attendance_student_days": 0, "absences": 0, "applications": 0,
               "applications_admitted": 0, "fees_invoiced": 0, "fees_collected": 0}
    figures.update(totals)
    rate = _rate(figures["attendance_student_days"] - figures["absences"], figures["attendance_student_days"])
    if rate is not None:
        figures["attendance_rate"] = rate
    figures = {key: figures[key] for key in sorted(figures)}
    figures["schools_detail"] = detail
    return figures
