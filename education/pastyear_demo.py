"""The demo's past school year 2025-2026, after the structure, marks and attendance of the current
year (``education.structure_demo``, ``assessment_demo``, ``attendance_demo``), so that a visitor
sees a whole year. In each demo commune, for each of its two schools:

* one class per grade in 2025-2026 (the same names as this year: "6A" is unique per school and
  year), with the same homeroom teacher and teaching assignments as the grade's class of this
  year. Its students are this year's students one grade higher in the same school (a grade-7
  student of 2026-2027 was in 6A of 2025-2026), whose enrolment of this year is then marked
  ``promoted``; the primary school's 5A holds this year's sixth-graders of the commune's THCS
  (they finished primary school there), and the THCS's 9A the registry's children one year older
  than this year's ninth-graders (they left for upper secondary). Every past enrolment is
  ``completed`` and ends with the year;
* attendance on every school day (Monday–Friday within the semesters, not on the official days
  off), about 3% of the student-days absent or late with a reason;
* every mark cell of both semesters (drawn like ``assessment_demo``'s: most marks 5–9, about one
  student in twelve weak, and one weak student for sure in each school's last grade), conduct or
  the primary qualities and competencies;
* the lower-secondary students who must retest get their summer retest marks (most pass; the
  weakest one of the school, preferably a ninth-grader, does not);
* both semesters locked by the school's principal through ``assessment.lock`` (results computed,
  the lock log shows it), then the principal's decision after each retest
  (``assessment.confirm_decision``).

Idempotent (a class, mark grid, day, lock or decision already there is left alone) and written with
``bulk_create``."""
from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django_tenants.utils import tenant_context

from education import assessment, attendance, rules, structure
from education.assessment_demo import _ability, _primary_level, _score
from education.attendance_demo import draw_absence
from education.models import (
    Absence, AssessmentLock, AttendanceDay, Enrolment, Evaluation, Mark, Period, School, SchoolClass, SchoolLevel,
    SchoolYear, Semester, StaffMember, StaffPosition, Student, StudentResult, Subject, SubjectResult,
    TeachingAssignment,
)
from population.models import Resident

PAST = "2025-2026"
PAST_STARTS_ON = datetime.date(2025, 9, 5)
CLASS_SIZE = 35
REPEATERS = 1  # the weakest student(s) of each lower-secondary school who fail the retest


def _past_year() -> SchoolYear:
    year = SchoolYear.objects.filter(name=PAST).first()
    if year is None:
        return structure.open_year(PAST, PAST_STARTS_ON, current=False)
    if Semester.objects.filter(year=year).count() < 2:
        have = set(Semester.objects.filter(year=year).values_list("number", flat=True))
        Semester.objects.bulk_create([
            Semester(year=year, number=number, starts_on=start, ends_on=end, weeks=weeks)
            for number, (start, end, weeks) in enumerate(structure.semester_dates(year.starts_on), start=1)
            if number not in have])
    return year


def _classes(school: School, past: SchoolYear, current: SchoolYear, secondary_of_commune) -> list[SchoolClass]:
    """The school's classes of the past year, made with their students where missing."""
    existing = {c.grade: c for c in SchoolClass.objects.filter(school=school, year=past)}
    now = {c.grade: c for c in SchoolClass.objects.filter(school=school, year=current)}
    missing = [g for g in school.grades if g not in existing]
    if not missing:
        return [existing[g] for g in school.grades]
    made = [SchoolClass(school=school, year=past, grade=grade, name=f"{grade}A", room=f"P{grade}A",
                        homeroom_teacher_id=now[grade].homeroom_teacher_id if grade in now else None)
            for grade in missing]
    SchoolClass.objects.bulk_create(made)
    made = list(SchoolClass.objects.filter(school=school, year=past, grade__in=missing))
    by_grade = {c.grade: c for c in made}
    TeachingAssignment.objects.bulk_create([
        TeachingAssignment(school_class=by_grade[row.school_class.grade], subject_id=row.subject_id,
                           teacher_id=row.teacher_id)
        for row in TeachingAssignment.objects.filter(school_class__in=[now[g] for g in missing if g in now])
        .select_related("school_class")])
    enrolments, promoted = [], []
    for school_class in made:
        grade = school_class.grade
        # who was in this grade last year: this year's students one grade up, in this school …
        if grade + 1 in school.grades:
            source = Enrolment.objects.filter(school_class__school=school, school_class__grade=grade + 1,
                                              year=current, status=Enrolment.Status.ACTIVE)
            promoted_here = True
        # … or in the commune's THCS after the last primary grade
        elif secondary_of_commune is not None and grade == 5:
            source = Enrolment.objects.filter(school_class__school=secondary_of_commune, school_class__grade=6,
                                              year=current, status=Enrolment.Status.ACTIVE)
            promoted_here = False
        else:
            source = None
            promoted_here = False
        if source is not None:
            rows = list(source.order_by("number", "pk").values_list("pk", "student_id"))
            students = [student_id for _pk, student_id in rows]
            if promoted_here:
                promoted += [pk for pk, _s in rows]
        else:
            students = _leavers(grade, current)
        enrolments += [Enrolment(student_id=student_id, school_class=school_class, year=past, number=number,
                                 entry=Enrolment.Entry.PROMOTED if grade > min(school.grades) else Enrolment.Entry.NEW,
                                 status=Enrolment.Status.COMPLETED, starts_on=past.starts_on, ends_on=past.ends_on)
                       for number, student_id in enumerate(students, start=1)]
    Enrolment.objects.bulk_create(enrolments)
    Enrolment.objects.filter(pk__in=promoted, entry=Enrolment.Entry.NEW).update(entry=Enrolment.Entry.PROMOTED)
    existing.update(by_grade)
    return [existing[g] for g in school.grades if g in existing]


def _leavers(grade: int, current: SchoolYear) -> list[int]:
    """Students for the last grade of the past year: the registry's children one year older than
    this year's class of that grade, who have left the commune's schools since (made students)."""
    born = int(current.name[:4]) - 5 - grade - 1
    taken = set(Student.objects.values_list("resident_id", flat=True))
    enrolled = set(Enrolment.objects.filter(year=current).values_list("student__resident_id", flat=True))
    children = [pk for pk in Resident.objects.filter(birth_date__year=born).order_by("search_name", "birth_date", "pk")
                .values_list("pk", flat=True) if pk not in enrolled][:CLASS_SIZE]
    Student.objects.bulk_create([Student(resident_id=pk) for pk in children if pk not in taken])
    ids = dict(Student.objects.filter(resident_id__in=children).values_list("resident_id", "pk"))
    return [ids[pk] for pk in children]


# --- attendance ------------------------------------------------------------------------------------

def _attendance(slug: str, past: SchoolYear, classes: list[SchoolClass]) -> int:
    if not classes:
        return 0
    days = [d for d in attendance.school_days(classes[0], past.starts_on, past.ends_on, on=past.ends_on)
            if d.isoweekday() <= 5]
    principals = dict(StaffMember.objects.filter(position=StaffPosition.PRINCIPAL, user__isnull=False)
                      .values_list("school_id", "user_id"))
    users = dict(StaffMember.objects.filter(user__isnull=False).values_list("pk", "user_id"))
    taken = set(AttendanceDay.objects.filter(school_class__in=classes).values_list("school_class_id", "date"))
    enrolments = {}
    for pk, class_id in Enrolment.objects.filter(school_class__in=classes).order_by("number", "pk") \
            .values_list("pk", "school_class_id"):
        enrolments.setdefault(class_id, []).append(pk)
    days_made, absences = [], []
    for school_class in classes:
        taker = users.get(school_class.homeroom_teacher_id) or principals.get(school_class.school_id)
        for day in days:
            if (school_class.pk, day) in taken:
                continue
            days_made.append(AttendanceDay(school_class=school_class, date=day, taken_by_id=taker))
            draw = random.Random(f"{slug}-{school_class.school_id}-{PAST}-{school_class.name}-{day.isoformat()}")
            for enrolment_id in enrolments.get(school_class.pk, []):
                absence = draw_absence(draw, enrolment_id, day, taker)
                if absence is not None:
                    absences.append(absence)
    AttendanceDay.objects.bulk_create(days_made, batch_size=5000)
    Absence.objects.bulk_create(absences, batch_size=5000, ignore_conflicts=True)
    return len(days_made)


# --- marks -----------------------------------------------------------------------------------------

def _class_year(school_class, subjects, enrolments, seed: str, weak: set[int]):
    """Every cell of the year of a class: both semesters (primary: the four periodic
    assessments) and conduct or the qualities and competencies, drawn like ``assessment_demo``'s
    from an ability per student (stable across databases: seeded by the commune, the class and the
    number in the class list); the enrolments in ``weak`` are weak students."""
    marks, evaluations = [], []
    primary = assessment.is_primary(school_class)
    aspects = [a["code"] for a in assessment.aspects_for(school_class)]
    periods = assessment.PRIMARY_PERIODS if primary else (Period.SEM1, Period.SEM2)
    for enrolment in enrolments:
        rng = random.Random(f"{seed}-{school_class.school_id}-{school_class.name}-{enrolment.number}")
        ability = rng.uniform(3.0, 3.6) if enrolment.pk in weak else _ability(rng)
        for subject in subjects:
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
        for period in assessment.evaluation_periods(school_class):
            for aspect in aspects:
                value = ability + rng.gauss(0.8, 0.8)
                if primary:
                    level = "T" if value >= 7.5 else ("D" if value >= 4.5 else "CCG")
                else:
                    level = "T" if value >= 7.5 else ("K" if value >= 6 else ("D" if value >= 4.5 else "CD"))
                evaluations.append(Evaluation(enrolment=enrolment, period=period, aspect=aspect, level=level))
    return marks, evaluations


def _marks(commune, classes: list[SchoolClass]) -> int:
    subjects = {}
    for subject in Subject.objects.order_by("order", "name"):
        subjects.setdefault(subject.grade, []).append(subject)
    with_marks = set(Mark.objects.filter(enrolment__school_class__in=classes)
                     .values_list("enrolment__school_class_id", flat=True).distinct())
    todo = [c for c in classes if c.pk not in with_marks]
    enrolments = {}
    for enrolment in Enrolment.objects.filter(school_class__in=todo).order_by("number", "pk"):
        enrolments.setdefault(enrolment.school_class_id, []).append(enrolment)
    # one weak student for sure in each school's last class: a retest, which they fail (a repeat)
    weak = {rows[len(rows) // 2].pk for class_id, rows in enrolments.items()
            if len(rows) >= 4 and any(c.pk == class_id and c.grade in (5, 9) for c in todo)}
    seed = f"{commune.schema_name}-{PAST}"
    all_marks, all_evaluations = [], []
    for school_class in todo:
        marks, evaluations = _class_year(school_class, subjects.get(school_class.grade, []),
                                         enrolments.get(school_class.pk, []), seed, weak)
        all_marks += marks
        all_evaluations += evaluations
    Mark.objects.bulk_create(all_marks, batch_size=5000)
    Evaluation.objects.bulk_create(all_evaluations, batch_size=5000, ignore_conflicts=True)
    return len(all_marks)


def _retests(school: School, classes: list[SchoolClass]) -> int:
    """Summer retest marks of the lower-secondary students whose year's decision is a retest, in
    the subjects they failed: most pass; the weakest (a ninth-grader where there is one) does not."""
    if school.level != SchoolLevel.LOWER_SECONDARY:
        return 0
    ids = [c.pk for c in classes]
    retesting = list(StudentResult.objects.filter(enrolment__school_class_id__in=ids, period=Period.YEAR,
                                                  decision=rules.RETEST)
                     .select_related("enrolment__school_class").order_by("average", "enrolment_id"))
    if not retesting or Mark.objects.filter(enrolment__school_class_id__in=ids, period=Period.RETEST).exists():
        return 0
    ranked = sorted(retesting, key=lambda r: (r.enrolment.school_class.grade != 9, r.average or 0, r.enrolment_id))
    failing = {r.enrolment_id for r in ranked[:REPEATERS]}
    failed = SubjectResult.objects.filter(enrolment_id__in=[r.enrolment_id for r in retesting], period=Period.YEAR) \
        .select_related("subject")
    marks = []
    for row in failed:
        rng = random.Random(f"{school.pk}-{row.enrolment_id}-{row.subject_id}-retest")
        fails = row.enrolment_id in failing
        if row.subject.kind == Subject.Kind.COMMENT:
            if row.level == rules.FAIL:
                marks.append(Mark(enrolment_id=row.enrolment_id, subject=row.subject, period=Period.RETEST,
                                  column="level", level=rules.FAIL if fails else rules.PASS))
        elif row.average is not None and row.average < Decimal("5.0"):
            value = rng.uniform(2.5, 4.0) if fails else rng.uniform(5.0, 7.5)
            marks.append(Mark(enrolment_id=row.enrolment_id, subject=row.subject, period=Period.RETEST,
                              column="retest", score=Decimal(f"{round(value * 2) / 2:.1f}")))
    Mark.objects.bulk_create(marks)
    return len(marks)


def _principal(school: School):
    staff = StaffMember.objects.filter(school=school, position=StaffPosition.PRINCIPAL, user__isnull=False) \
        .select_related("user").order_by("pk").first()
    return staff.user if staff else None


def _lock_and_decide(school: School, past: SchoolYear, classes: list[SchoolClass]) -> dict:
    made = {"locks": 0, "decisions": 0}
    principal = _principal(school)
    if principal is None:
        return made
    semesters = list(Semester.objects.filter(year=past).order_by("number"))
    locked = set(AssessmentLock.objects.filter(school=school, semester__in=semesters)
                 .values_list("semester_id", flat=True))
    for semester in semesters:
        if semester.pk not in locked:
            assessment.lock(principal, school, semester)  # computes the results
            made["locks"] += 1
    if _retests(school, classes):
        assessment.recompute_school(school, past)
    for result in StudentResult.objects.filter(enrolment__school_class__in=classes, period=Period.RETEST,
                                               decision="").select_related("enrolment__school_class__school"):
        year_row = StudentResult.objects.filter(enrolment_id=result.enrolment_id, period=Period.YEAR).first()
        decision = assessment.proposed_after_retest(year_row, result, result.enrolment.school_class.grade)
        if decision:
            assessment.confirm_decision(principal, result.enrolment, decision)
            made["decisions"] += 1
    return made


# --- the commune ---------------------------------------------------------------------------------

def seed_commune(spec, commune) -> dict:
    made = {"classes": 0, "days": 0, "marks": 0, "locks": 0, "decisions": 0}
    with tenant_context(commune), transaction.atomic():
        current = SchoolYear.objects.filter(current=True).first()
        if current is None or current.name == PAST:
            return made
        past = _past_year()
        name = str(spec.name)
        primary = School.objects.filter(name=f"Trường Tiểu học {name}").first()
        secondary = School.objects.filter(name=f"Trường THCS {name}").first()
        before = SchoolClass.objects.filter(year=past).count()
        by_school = []
        for school in (primary, secondary):
            if school is not None:
                by_school.append((school, _classes(school, past, current,
                                                   secondary if school.level == SchoolLevel.PRIMARY else None)))
        made["classes"] = SchoolClass.objects.filter(year=past).count() - before
        every = [c for _s, classes in by_school for c in classes]
        made["days"] = _attendance(spec.slug, past, every)
        made["marks"] = _marks(commune, every)
        for school, classes in by_school:
            done = _lock_and_decide(school, past, classes)
            made["locks"] += done["locks"]
            made["decisions"] += done["decisions"]
    return made


def seed(context) -> None:
    for spec, commune in context.communes:
        made = seed_commune(spec, commune)
        if made["classes"] or made["marks"] or made["locks"]:
            context.out(f"  {commune}: the year {PAST} with {made['classes']} classes, {made['marks']} marks, "
                        f"attendance of {made['days']} class-days, {made['locks']} semesters locked, "
                        f"{made['decisions']} decisions after the retest")
