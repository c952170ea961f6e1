"""The demo's marks, after the structure's schools, classes and students
(``education.structure_demo``: classes of the current year 2026-2027 only). In each demo commune,
for every class of the current year:

* lower secondary: semester 1 complete (every regular mark, the mid-term and end-of-term marks
  of every scored subject, Đạt / Chưa đạt for the comment-assessed ones) and conduct; semester 2
  has not begun on the demo's date (December 2026), so it is left empty;
* primary: mid-semester 1 and end-of-semester 1 levels of every subject, the end-of-semester
  test scores of the tested subjects, and the qualities and competencies;
* the results computed (``assessment.recompute_school``).

Marks are spread realistically and the same every run (seeded by the commune and the student):
each student has an ability around 7 and most marks fall between 5 and 9; about one student in
twelve is weak, with marks around 4, so that some semester results are Chưa đạt (those students
would retest at the end of the year).

Idempotent: a class that has marks already is left as it is; written with ``bulk_create``.
"""
from __future__ import annotations

import random
import zlib
from decimal import Decimal

from django.db import transaction
from django_tenants.utils import tenant_context

from education import assessment, curriculum
from education.models import Enrolment, Evaluation, Mark, Period, School, SchoolClass, SchoolYear, Subject


def _score(rng, ability: float) -> Decimal:
    value = min(10.0, max(0.0, rng.gauss(ability, 1.2)))
    if rng.random() < 0.5:
        value = round(value * 2) / 2  # teachers often give whole and half marks
    return Decimal(f"{value:.1f}")


def _ability(rng) -> float:
    if rng.random() < 1 / 12:
        return rng.uniform(3.2, 4.6)
    return min(9.3, max(5.2, rng.gauss(7.0, 1.0)))


def _primary_level(ability: float, rng) -> str:
    value = ability + rng.gauss(0, 0.6)
    if value >= 8:
        return "HTT"
    return "HT" if value >= 4.5 else "CHT"


def _class_marks(school_class, subjects, enrolments, seed: int):
    marks, evaluations = [], []
    primary = assessment.is_primary(school_class)
    aspects = [a["code"] for a in assessment.aspects_for(school_class)]
    for enrolment in enrolments:
        rng = random.Random(seed * 100_003 + enrolment.student_id)
        ability = _ability(rng)
        for subject in subjects:
            periods = (Period.MID1, Period.SEM1) if primary else (Period.SEM1,)
            for period in periods:
                for column in assessment.columns_for(school_class, subject, period):
                    row = Mark(enrolment=enrolment, subject=subject, period=period, column=column)
                    if column == "level":
                        row.level = _primary_level(ability, rng) if primary else (
                            "D" if ability + rng.gauss(0, 1) >= 4 else "CD")
                    elif column == "test":
                        row.score = Decimal(min(10, max(1, round(rng.gauss(ability + 0.5, 1.3)))))
                    else:
                        row.score = _score(rng, ability)
                    marks.append(row)
        for aspect in aspects:
            value = ability + rng.gauss(0.8, 0.8)
            if primary:
                level = "T" if value >= 7.5 else ("D" if value >= 4.5 else "CCG")
            else:
                level = "T" if value >= 7.5 else ("K" if value >= 6 else ("D" if value >= 4.5 else "CD"))
            evaluations.append(Evaluation(enrolment=enrolment, period=Period.SEM1, aspect=aspect, level=level))
    return marks, evaluations


def seed_commune(commune) -> dict:
    made = {"marks": 0, "evaluations": 0, "results": 0}
    with tenant_context(commune), transaction.atomic():
        year = SchoolYear.objects.filter(current=True).first()
        if year is None:
            return made
        curriculum.ensure_subjects()
        subjects = {}
        for subject in Subject.objects.order_by("order", "name"):
            subjects.setdefault(subject.grade, []).append(subject)
        with_marks = set(Mark.objects.filter(enrolment__year=year).values_list("enrolment__school_class_id",
                                                                               flat=True).distinct())
        seed = zlib.crc32(commune.schema_name.encode())
        classes = list(SchoolClass.objects.filter(year=year, grade__gte=1).exclude(pk__in=with_marks))
        enrolments = {}
        for enrolment in Enrolment.objects.filter(school_class__in=classes, status=Enrolment.Status.ACTIVE):
            enrolments.setdefault(enrolment.school_class_id, []).append(enrolment)
        all_marks, all_evaluations = [], []
        for school_class in classes:
            marks, evaluations = _class_marks(school_class, subjects.get(school_class.grade, []),
                                              enrolments.get(school_class.pk, []), seed)
            all_marks += marks
            all_evaluations += evaluations
        Mark.objects.bulk_create(all_marks, batch_size=5000)
        Evaluation.objects.bulk_create(all_evaluations, batch_size=5000, ignore_conflicts=True)
        made["marks"], made["evaluations"] = len(all_marks), len(all_evaluations)
        if classes:
            for school in School.objects.filter(pk__in={c.school_id for c in classes}):
                made["results"] += assessment.recompute_school(school, year)
    return made


def seed(context) -> None:
    for _spec, commune in context.communes:
        made = seed_commune(commune)
        if made["marks"]:
            context.out(f"  {commune.name}: {made['marks']} marks, {made['evaluations']} evaluations, "
                        f"{made['results']} results")
