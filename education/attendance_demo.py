"""The demo's attendance and timetables, after the structure's schools, classes and students
(``education.structure_demo``): in each demo commune, for every class of the current year,

* a weekly timetable for semester 1 (mornings, periods 1–5, Monday to Saturday; each subject's
  periods a week from the curriculum as far as the week holds them, each teacher placed where
  they are free, each class in its own room: no clash) and the same for semester 2;
* attendance taken on every school day from Monday to Friday since the year began up to today,
  with about 3% of the student-days absent or late and a reason, the same every run (seeded by
  the commune, class and day), and one student of the first class of each school absent without
  leave three school days in a row this month (flagged to the homeroom teacher).

Idempotent: days already taken and timetables already there are left as they are; written with
``bulk_create``."""
from __future__ import annotations

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django_tenants.utils import tenant_context

from education import attendance, timetable
from education.models import (
    Absence, AttendanceDay, SchoolClass, SchoolYear, Semester, StaffMember, StaffPosition, Subject, TeachingAssignment,
    TimetableSlot,
)

DAILY_LESSONS = 5
ABSENT_SHARE = 0.03
EXCUSED_REASONS = ["Ốm, gia đình xin phép", "Sốt, đi khám ở trạm y tế", "Việc gia đình", "Đám cưới người thân",
                   "Đau bụng"]
UNEXCUSED_REASONS = ["Không rõ lý do", "Đi nương cùng gia đình", ""]
LATE_REASONS = ["Đường trơn do mưa", "Xe hỏng", "Nước suối lên"]


def _weekly(subject: Subject) -> int:
    return int((Decimal(subject.periods_per_year) / timetable.WEEKS_A_YEAR).quantize(Decimal("1"),
                                                                                    rounding=ROUND_HALF_UP))


def _timetables(year: SchoolYear) -> int:
    semesters = list(Semester.objects.filter(year=year).order_by("number"))
    if not semesters:
        return 0
    made = 0
    classes = list(SchoolClass.objects.filter(year=year).select_related("school").order_by("school", "grade", "name"))
    done = {(class_id, semester_id) for class_id, semester_id in TimetableSlot.objects.filter(
        semester__in=semesters).values_list("school_class_id", "semester_id").distinct()}
    assignments = {}
    for row in TeachingAssignment.objects.filter(school_class__in=classes).select_related("subject"):
        assignments.setdefault(row.school_class_id, []).append(row)
    for semester in semesters:
        busy = set(TimetableSlot.objects.filter(semester=semester, teacher__isnull=False).values_list(
            "teacher_id", "weekday", "lesson"))
        rows = []
        for school_class in classes:
            if (school_class.pk, semester.pk) in done:
                continue
            free = [(day, lesson) for day in timetable.WEEKDAYS for lesson in range(1, DAILY_LESSONS + 1)]
            wanted = []
            for assignment in sorted(assignments.get(school_class.pk, []),
                                     key=lambda a: (a.subject.order, a.subject.name)):
                wanted += [assignment] * _weekly(assignment.subject)
            # Spread each subject over the week: take the periods in turn, day by day.
            for index, assignment in enumerate(wanted):
                start = (index * 7) % len(free) if free else 0
                order = free[start:] + free[:start]
                place = next((slot for slot in order if assignment.teacher_id is None
                              or (assignment.teacher_id, *slot) not in busy), None)
                if place is None:
                    continue
                free.remove(place)
                if assignment.teacher_id:
                    busy.add((assignment.teacher_id, *place))
                rows.append(TimetableSlot(school=school_class.school, semester=semester, school_class=school_class,
                                          weekday=place[0], lesson=place[1], subject=assignment.subject,
                                          teacher_id=assignment.teacher_id, room=school_class.room))
                if not free:
                    break
        TimetableSlot.objects.bulk_create(rows)
        made += len(rows)
    return made


def draw_absence(draw: random.Random, enrolment_id: int, day: datetime.date, taker) -> Absence | None:
    """A student's day drawn from ``draw``: present (None) most days, else absent with leave,
    without leave or late, with a plausible reason (``ABSENT_SHARE`` of the student-days)."""
    if draw.random() >= ABSENT_SHARE:
        return None
    pick = draw.random()
    if pick < 0.55:
        kind, reason = Absence.Kind.EXCUSED, draw.choice(EXCUSED_REASONS)
    elif pick < 0.8:
        kind, reason = Absence.Kind.UNEXCUSED, draw.choice(UNEXCUSED_REASONS)
    else:
        kind, reason = Absence.Kind.LATE, draw.choice(LATE_REASONS)
    return Absence(enrolment_id=enrolment_id, date=day, kind=kind, reason=reason, recorded_by_id=taker)


def _attendance(slug: str, year: SchoolYear, today: datetime.date) -> int:
    classes = list(SchoolClass.objects.filter(year=year).select_related("school", "year", "homeroom_teacher")
                   .order_by("school", "grade", "name"))
    principals = dict(StaffMember.objects.filter(position=StaffPosition.PRINCIPAL, user__isnull=False)
                      .values_list("school_id", "user_id"))
    first_of_school = {}
    for school_class in classes:
        first_of_school.setdefault(school_class.school_id, school_class.pk)
    taken = {(class_id, day) for class_id, day in AttendanceDay.objects.filter(
        school_class__in=classes).values_list("school_class_id", "date")}
    days_made, absences = [], []
    for school_class in classes:
        taker = (school_class.homeroom_teacher.user_id if school_class.homeroom_teacher
                 and school_class.homeroom_teacher.user_id else principals.get(school_class.school_id))
        days = [d for d in attendance.school_days(school_class, year.starts_on, today, on=today)
                if d.isoweekday() <= 5 and (school_class.pk, d) not in taken]
        if not days:
            continue
        enrolments = list(school_class.enrolments.order_by("number", "pk").values_list("pk", "starts_on", "ends_on"))
        flagged_days = set()
        if school_class.pk == first_of_school[school_class.school_id] and len(enrolments) > 1:
            month_days = [d for d in days if d.month == today.month and d.year == today.year]
            flagged_days = set(month_days[-3:]) if len(month_days) >= 3 else set()
        for day in days:
            days_made.append(AttendanceDay(school_class=school_class, date=day, taken_by_id=taker))
            draw = random.Random(f"{slug}-{school_class.school.name}-{school_class.name}-{day.isoformat()}")
            for number, (enrolment_id, starts_on, ends_on) in enumerate(enrolments):
                if starts_on > day or (ends_on is not None and ends_on < day):
                    continue
                if number == 1 and day in flagged_days:
                    absences.append(Absence(enrolment_id=enrolment_id, date=day, kind=Absence.Kind.UNEXCUSED,
                                            reason="Không rõ lý do", recorded_by_id=taker))
                    continue
                absence = draw_absence(draw, enrolment_id, day, taker)
                if absence is not None:
                    absences.append(absence)
    AttendanceDay.objects.bulk_create(days_made, batch_size=2000)
    Absence.objects.bulk_create(absences, batch_size=2000, ignore_conflicts=True)
    return len(days_made)


def seed_commune(spec, commune, *, today: datetime.date | None = None) -> dict:
    today = today or attendance.today()
    with tenant_context(commune), transaction.atomic():
        year = SchoolYear.objects.filter(current=True).first()
        if year is None:
            return {"slots": 0, "days": 0}
        return {"slots": _timetables(year), "days": _attendance(spec.slug, year, min(today, year.ends_on))}


def seed(context) -> None:
    for spec, commune in context.communes:
        made = seed_commune(spec, commune)
        if made["slots"] or made["days"]:
            context.out(f"  {commune}: {made['slots']} timetable periods, attendance of {made['days']} class-days")
