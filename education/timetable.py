"""The weekly timetable (thời khóa biểu) of a class in a semester: one ``TimetableSlot`` per
period (day Monday–Saturday, period 1–10) with a subject of the class's grade, a teacher of the
school and a room.

A teacher or a room is never in two places at once, and a class has one subject a period:
``clash`` answers first, in Vietnamese, naming the other class ("Thầy/cô … đã dạy lớp 6B vào
tiết 2 thứ Ba"); the database constraints back it, and an IntegrityError of a race is turned into
the same message. Writing (``save_slot``, ``delete_slot``, ``save_grid``, ``copy_semester``)
needs ``timetable.write`` in the class's school (its managers).

``hints`` compares each subject's periods a week with the curriculum (periods a year / 35): a
hint, never enforced.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.validation import refuse
from education import permissions
from education.models import SchoolClass, Semester, StaffMember, Subject, TimetableSlot

WEEKDAYS = (1, 2, 3, 4, 5, 6)
LESSONS = tuple(range(1, 11))
WEEKS_A_YEAR = 35
CLASH_CODES = ("teacher_busy", "room_busy", "class_slot_taken")


def day_name(weekday: int) -> str:
    return {1: _("Monday"), 2: _("Tuesday"), 3: _("Wednesday"), 4: _("Thursday"), 5: _("Friday"),
            6: _("Saturday")}[weekday]


@dataclass
class Cell:
    weekday: int
    lesson: int
    subject: Subject
    teacher: StaffMember | None = None
    room: str = ""


def day_in_sentence(weekday: int) -> str:
    """"on Tuesday" (Vietnamese: "thứ Ba"), for the clash messages."""
    return {1: _("on Monday"), 2: _("on Tuesday"), 3: _("on Wednesday"), 4: _("on Thursday"), 5: _("on Friday"),
            6: _("on Saturday")}[weekday]


def _where(weekday: int, lesson: int) -> dict:
    return {"lesson": lesson, "day": day_in_sentence(weekday)}


def clash(semester, school_class, cell: Cell, *, exclude_class: bool = True) -> ValidationError | None:
    """Why ``cell`` cannot be written in the class's timetable: the teacher or the room already in
    another class at that time (or, with ``exclude_class`` False, the class's own period taken)."""
    same_time = TimetableSlot.objects.filter(semester=semester, weekday=cell.weekday, lesson=cell.lesson) \
        .select_related("school_class", "subject")
    if not exclude_class:
        own = same_time.filter(school_class=school_class).first()
        if own is not None:
            return refuse(_("Class %(name)s already has %(subject)s in period %(lesson)s %(day)s.")
                          % {"name": school_class.name, "subject": own.subject.name, **_where(cell.weekday, cell.lesson)},
                          "class_slot_taken", "lesson")
    others = same_time.exclude(school_class=school_class)
    if cell.teacher is not None:
        other = others.filter(teacher=cell.teacher).first()
        if other is not None:
            return refuse(_("Teacher %(teacher)s already teaches class %(name)s in period %(lesson)s %(day)s.")
                          % {"teacher": cell.teacher.full_name, "name": other.school_class.name,
                             **_where(cell.weekday, cell.lesson)}, "teacher_busy", "teacher")
    room = (cell.room or "").strip()
    if room:
        other = others.filter(school_id=school_class.school_id, room=room).first()
        if other is not None:
            return refuse(_("Room %(room)s already has class %(name)s in period %(lesson)s %(day)s.")
                          % {"room": room, "name": other.school_class.name, **_where(cell.weekday, cell.lesson)},
                          "room_busy", "room")
    return None


def _check_cell(school_class, cell: Cell) -> None:
    if cell.weekday not in WEEKDAYS:
        raise refuse(_("Choose a day from Monday to Saturday."), "invalid_day", "weekday")
    if cell.lesson not in LESSONS:
        raise refuse(_("Choose a period from 1 to 10."), "invalid_lesson", "lesson")
    if cell.subject is None or cell.subject.grade != school_class.grade:
        raise refuse(_("Choose a subject of grade %(grade)s.") % {"grade": school_class.grade}, "invalid_subject",
                     "subject")
    if cell.teacher is not None and (cell.teacher.school_id != school_class.school_id or not cell.teacher.active):
        raise refuse(_("Choose a teacher of the school."), "invalid_teacher", "teacher")
    cell.room = " ".join((cell.room or "").split())
    if len(cell.room) > 30:
        raise refuse(_("A room is at most 30 characters long."), "invalid_room", "room")


def _check_semester(school_class, semester) -> None:
    if semester.year_id != school_class.year_id:
        raise refuse(_("Choose a semester of the class's school year."), "invalid_semester", "semester")


def _require_write(user, school_class) -> None:
    if not permissions.can(user, "timetable.write", school_class.school_id):
        raise PermissionDenied


def _write(school_class, semester, cell: Cell, *, replace: bool) -> TimetableSlot:
    """Inside a transaction: the checks, then the row (an IntegrityError of a race becomes the
    clash's message)."""
    problem = clash(semester, school_class, cell, exclude_class=replace)
    if problem is not None:
        raise problem
    try:
        with transaction.atomic():
            if replace:
                TimetableSlot.objects.filter(school_class=school_class, semester=semester, weekday=cell.weekday,
                                             lesson=cell.lesson).delete()
            return TimetableSlot.objects.create(
                school_id=school_class.school_id, semester=semester, school_class=school_class,
                weekday=cell.weekday, lesson=cell.lesson, subject=cell.subject, teacher=cell.teacher, room=cell.room)
    except IntegrityError:
        problem = clash(semester, school_class, cell, exclude_class=replace)
        raise (problem or refuse(_("This period was changed by someone else at the same moment; try again."),
                                 "conflict")) from None


def save_slot(user, school_class, semester, cell: Cell, *, replace: bool = False) -> TimetableSlot:
    """Write one period of the class's timetable; ``replace`` lets it take the place of the class's
    own period at that time (the grid), otherwise that is a clash too (the API's POST)."""
    _require_write(user, school_class)
    _check_semester(school_class, semester)
    _check_cell(school_class, cell)
    with transaction.atomic():
        return _write(school_class, semester, cell, replace=replace)


def delete_slot(user, slot: TimetableSlot) -> None:
    _require_write(user, slot.school_class)
    slot.delete()


def save_grid(user, school_class, semester, cells: dict) -> int:
    """The class's whole week as edited in the grid: ``cells`` maps (weekday, lesson) to a
    ``Cell`` (an empty period is left out). Every period is checked; any refusal writes nothing
    and answers with all the messages keyed ``"<weekday>_<lesson>"``. Returns the periods written."""
    _require_write(user, school_class)
    _check_semester(school_class, semester)
    errors = {}
    for (weekday, lesson), cell in cells.items():
        try:
            _check_cell(school_class, cell)
        except ValidationError as exc:
            errors[f"{weekday}_{lesson}"] = exc.messages
    if errors:
        raise ValidationError(errors, code="invalid")
    with transaction.atomic():
        SchoolClass.objects.select_for_update().filter(pk=school_class.pk).first()
        current = {(s.weekday, s.lesson): s for s in TimetableSlot.objects.filter(
            school_class=school_class, semester=semester)}
        keep = set()
        for key, slot in current.items():
            cell = cells.get(key)
            if cell and (slot.subject_id, slot.teacher_id, slot.room) == (
                    cell.subject.pk, getattr(cell.teacher, "pk", None), cell.room):
                keep.add(key)
        TimetableSlot.objects.filter(pk__in=[s.pk for k, s in current.items() if k not in keep]).delete()
        codes = []
        for key in sorted(cells):
            if key in keep:
                continue
            try:
                with transaction.atomic():
                    _write(school_class, semester, cells[key], replace=False)
            except ValidationError as exc:
                errors[f"{key[0]}_{key[1]}"] = exc.messages
                codes.append(exc)
        if errors:
            from core.validation import error_code

            code = error_code(codes[0]) if codes else "invalid"
            transaction.set_rollback(True)
            raise ValidationError({k: [ValidationError(m, code=code) for m in v] for k, v in errors.items()})
    return len(cells)


def copy_semester(user, school, source: Semester, target: Semester) -> int:
    """Copy the school's timetables of ``source`` (semester 1) to ``target`` (semester 2) for the
    classes that have none in ``target`` yet; any clash there writes nothing. Returns the periods
    copied."""
    if not permissions.can(user, "timetable.write", school):
        raise PermissionDenied
    if source.pk == target.pk or source.year_id != target.year_id:
        raise refuse(_("Choose two semesters of one school year."), "invalid_semester", "semester")
    with transaction.atomic():
        done = set(TimetableSlot.objects.filter(school=school, semester=target).values_list("school_class_id", flat=True))
        slots = list(TimetableSlot.objects.filter(school=school, semester=source).exclude(school_class_id__in=done)
                     .select_related("school_class", "subject", "teacher").order_by("school_class", "weekday", "lesson"))
        if not slots:
            raise refuse(_("There is nothing to copy: every class with a timetable in %(source)s already has one in "
                           "%(target)s.") % {"source": source.get_number_display(), "target": target.get_number_display()},
                         "nothing_to_copy")
        for slot in slots:
            _write(slot.school_class, target, Cell(slot.weekday, slot.lesson, slot.subject, slot.teacher, slot.room),
                   replace=False)
    return len(slots)


# --- reading -----------------------------------------------------------------------------------

def class_week(school_class, semester) -> dict:
    """{(weekday, lesson): slot} of the class in the semester."""
    return {(s.weekday, s.lesson): s for s in TimetableSlot.objects.filter(
        school_class=school_class, semester=semester).select_related("subject", "teacher")}


def teacher_week(staff: StaffMember, semester) -> dict:
    return {(s.weekday, s.lesson): s for s in TimetableSlot.objects.filter(
        teacher=staff, semester=semester).select_related("subject", "school_class")}


def lessons_shown(*weeks) -> list[int]:
    """Periods 1–5 always, further ones up to the last used."""
    used = [lesson for week in weeks for (_day, lesson) in week]
    return list(range(1, max([5, *used]) + 1))


@dataclass
class Hint:
    subject: Subject
    planned: Decimal  # periods a week by the curriculum
    actual: int

    @property
    def differs(self) -> bool:
        return abs(Decimal(self.actual) - self.planned) >= Decimal("0.5")


def hints(school_class, semester) -> list[Hint]:
    counts: dict[int, int] = {}
    for subject_id in TimetableSlot.objects.filter(school_class=school_class, semester=semester).values_list(
            "subject_id", flat=True):
        counts[subject_id] = counts.get(subject_id, 0) + 1
    found = []
    for subject in Subject.objects.filter(grade=school_class.grade).order_by("order", "name"):
        planned = (Decimal(subject.periods_per_year) / WEEKS_A_YEAR).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        found.append(Hint(subject, planned, counts.get(subject.pk, 0)))
    return found


def current_semester(school_class_or_year=None, *, on=None) -> Semester | None:
    """The semester of today (or the nearest one of the current year)."""
    from education.attendance import today
    from education.models import SchoolYear

    on = on or today()
    year = None
    if school_class_or_year is not None:
        year = getattr(school_class_or_year, "year", school_class_or_year)
    year = year or SchoolYear.objects.filter(current=True).first()
    if year is None:
        return None
    semesters = list(Semester.objects.filter(year=year).order_by("number"))
    for semester in semesters:
        if semester.starts_on <= on <= semester.ends_on:
            return semester
    if semesters and on < semesters[0].starts_on:
        return semesters[0]
    return semesters[-1] if semesters else None


def classes_without_timetable(schools, semester):
    return SchoolClass.objects.filter(school__in=schools, year_id=semester.year_id).exclude(
        pk__in=TimetableSlot.objects.filter(semester=semester).values("school_class_id")).order_by("school", "name")


def inbox_lines(request, user, roles) -> list:
    """For a school's managers: the classes without a timetable for the current semester."""
    from django.urls import reverse

    from communes.modules import InboxLine

    if permissions.SCHOOL_STAFF not in roles:
        return []
    lines = []
    for school in permissions.schools_for(user).order_by("name"):
        if not permissions.can(user, "timetable.write", school):
            continue
        semester = current_semester()
        if semester is None:
            continue
        missing = classes_without_timetable([school], semester).count()
        lines.append(InboxLine(
            f"education.timetable_missing.{school.pk}",
            _("%(school)s: classes without a timetable for %(semester)s")
            % {"school": school.short_name or school.name, "semester": semester.get_number_display()},
            missing, reverse("education:timetables", args=[school.pk]) + f"?semester={semester.pk}&missing=1"))
    return lines
