"""Daily attendance of a class (điểm danh) and what is read from it.

* ``take_attendance`` writes the ``AttendanceDay`` of a class and the day's ``Absence`` rows
  exactly as sent (absences taken back are removed), in one transaction under a lock of the
  class's row. Only on a school day (``school_day_problem``): within a semester of the class's
  year, not a Sunday, not a day off of the official calendar (``workcalendar``; Saturdays stay
  allowed, many schools teach then), not in the future. Who: ``permissions.may_take_attendance``
  (the homeroom teacher, the school's managers); the homeroom teacher corrects up to
  ``CORRECTION_DAYS`` days back, the managers at any time.
* ``month_grid``: a class's month, students × days with P (absent with leave), K (without leave)
  and M (late), with totals per student and the flags.
* Flags: a student with ``school.absence_threshold`` or more days absent in a month, or
  ``UNEXCUSED_RUN`` days absent without leave in a row (school days on which the class's
  attendance was taken), is flagged to the homeroom teacher (class pages and inbox).
* ``days_absent`` and ``rate`` for the other parts (results, figures): lateness is not an absence;
  the rate is present student-days per enrolled student-days of the days on which attendance was
  taken.
"""
from __future__ import annotations

import calendar
import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.validation import refuse
from education import permissions
from education.models import Absence, AttendanceDay, Enrolment, SchoolClass, Semester

CORRECTION_DAYS = 7
UNEXCUSED_RUN = 3
MAX_REASON = 200
ABSENT_KINDS = (Absence.Kind.EXCUSED, Absence.Kind.UNEXCUSED)
MARKS = {Absence.Kind.EXCUSED: "P", Absence.Kind.UNEXCUSED: "K", Absence.Kind.LATE: "M"}
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


# --- days --------------------------------------------------------------------------------------

def parse_day(text: str) -> datetime.date | None:
    """``dd-mm-yyyy`` (or with slashes) or ``yyyy-mm-dd``; None when it is no date."""
    text = str(text or "").strip()
    match = _ISO.match(text)
    try:
        if match:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
        match = _DMY.match(text)
        if match:
            return datetime.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


def parse_month(text: str) -> datetime.date | None:
    """``yyyy-mm`` (or ``mm/yyyy``) as the month's first day."""
    text = str(text or "").strip()
    match = re.match(r"^(\d{4})-(\d{1,2})$", text) or re.match(r"^(\d{1,2})[/-](\d{4})$", text)
    if not match:
        return None
    year, month = (int(match[1]), int(match[2])) if len(match[1]) == 4 else (int(match[2]), int(match[1]))
    if not (1 <= month <= 12 and 1901 <= year <= 2099):
        return None
    return datetime.date(year, month, 1)


def month_bounds(first: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = first.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def today() -> datetime.date:
    return timezone.localdate()


def semester_on(year, day: datetime.date) -> Semester | None:
    year_id = getattr(year, "pk", year)
    return Semester.objects.filter(year_id=year_id, starts_on__lte=day, ends_on__gte=day).first()


def _holiday_name(day: datetime.date) -> str | None:
    """The name of the official day off on ``day`` (None on a day that is not one)."""
    from workcalendar.selectors import year_schedule

    try:
        schedule = year_schedule(day.year)
    except ValueError:
        return None
    if day in schedule.worked:
        return None
    listed = schedule.days_off.get(day)
    return str(listed.name) if listed is not None else None


def school_day_problem(school_class, day: datetime.date, *, on: datetime.date | None = None) -> ValidationError | None:
    """Why ``day`` is no school day for the class (a refusal with its code), or None."""
    on = on or today()
    if day > on:
        return refuse(_("Attendance cannot be taken for a day in the future."), "future_day", "date")
    if semester_on(school_class.year_id, day) is None:
        return refuse(_("%(date)s is not within a semester of the school year %(year)s.")
                      % {"date": f"{day:%d/%m/%Y}", "year": school_class.year.name}, "outside_semester", "date")
    if day.isoweekday() == 7:
        from workcalendar.selectors import year_schedule

        if day not in year_schedule(day.year).worked:
            return refuse(_("%(date)s is a Sunday: there is no school.") % {"date": f"{day:%d/%m/%Y}"},
                          "sunday", "date")
    holiday = _holiday_name(day)
    if holiday:
        return refuse(_("%(date)s is a day off (%(name)s): there is no school.")
                      % {"date": f"{day:%d/%m/%Y}", "name": holiday}, "holiday", "date")
    return None


def is_school_day(school_class, day: datetime.date, *, on: datetime.date | None = None) -> bool:
    return school_day_problem(school_class, day, on=on) is None


def school_days(school_class, date_from: datetime.date, date_to: datetime.date, *,
                on: datetime.date | None = None) -> list[datetime.date]:
    """The school days of the class from ``date_from`` to ``date_to`` (none in the future)."""
    on = on or today()
    semesters = list(Semester.objects.filter(year_id=school_class.year_id))
    found, day = [], date_from
    while day <= min(date_to, on):
        if any(s.starts_on <= day <= s.ends_on for s in semesters) and day.isoweekday() != 7 \
                and not _holiday_name(day):
            found.append(day)
        day += datetime.timedelta(days=1)
    return found


# --- who is in the class -------------------------------------------------------------------------

def enrolled_on(day: datetime.date):
    """Enrolments that count on ``day``: begun, not ended before it (an ended one counts up to its
    last day)."""
    return Enrolment.objects.filter(starts_on__lte=day).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day)).filter(
        Q(status=Enrolment.Status.ACTIVE) | Q(ends_on__isnull=False))


def class_list(school_class, day: datetime.date):
    """The class's students on ``day``, in the order of the class list."""
    return (enrolled_on(day).filter(school_class=school_class)
            .select_related("student__resident").order_by("number", "student__resident__full_name", "pk"))


# --- taking attendance ---------------------------------------------------------------------------

@dataclass
class Mark:
    """One student's line as sent: ``kind`` empty for present."""

    enrolment_id: int
    kind: str = ""
    reason: str = ""


@dataclass
class Sheet:
    school_class: SchoolClass
    date: datetime.date
    taken: AttendanceDay | None
    rows: list = field(default_factory=list)  # (enrolment, absence or None)

    @property
    def counts(self) -> dict:
        kinds = [absence.kind for _enrolment, absence in self.rows if absence is not None]
        return {"students": len(self.rows), "excused": kinds.count(Absence.Kind.EXCUSED),
                "unexcused": kinds.count(Absence.Kind.UNEXCUSED), "late": kinds.count(Absence.Kind.LATE),
                "present": len(self.rows) - sum(1 for k in kinds if k in ABSENT_KINDS)}


def day_sheet(school_class, day: datetime.date) -> Sheet:
    enrolments = list(class_list(school_class, day))
    absences = {a.enrolment_id: a for a in Absence.objects.filter(
        date=day, enrolment_id__in=[e.pk for e in enrolments])}
    taken = AttendanceDay.objects.filter(school_class=school_class, date=day).first()
    return Sheet(school_class, day, taken, [(e, absences.get(e.pk)) for e in enrolments])


def correction_problem(user, school_class, day: datetime.date, *, on: datetime.date | None = None):
    """A homeroom teacher (not a manager) takes or corrects a day up to ``CORRECTION_DAYS`` back."""
    on = on or today()
    if permissions.positions_in(user, school_class.school_id) & permissions.MANAGERS:
        return None
    if (on - day).days > CORRECTION_DAYS:
        return refuse(_("The attendance of %(date)s can no longer be changed by the homeroom teacher (%(days)s days "
                        "back at most); ask the school's management.") % {"date": f"{day:%d/%m/%Y}",
                                                                           "days": CORRECTION_DAYS},
                      "correction_closed", "date")
    return None


def _check_marks(school_class, day, marks: list[Mark]) -> dict[int, Mark]:
    allowed = set(class_list(school_class, day).values_list("pk", flat=True))
    by_enrolment: dict[int, Mark] = {}
    for mark in marks:
        if mark.enrolment_id not in allowed:
            raise refuse(_("A student sent is not in class %(name)s on %(date)s.")
                         % {"name": school_class.name, "date": f"{day:%d/%m/%Y}"}, "not_in_class", "students")
        if mark.enrolment_id in by_enrolment:
            raise refuse(_("A student is sent twice."), "duplicate_student", "students")
        kind = (mark.kind or "").strip()
        if kind and kind not in Absence.Kind.values:
            raise refuse(_("Choose present, absent with leave, absent without leave or late."), "invalid_kind",
                         "students")
        reason = " ".join(str(mark.reason or "").split())
        if len(reason) > MAX_REASON:
            raise refuse(_("A reason is at most %(n)s characters long.") % {"n": MAX_REASON}, "reason_too_long",
                         "students")
        by_enrolment[mark.enrolment_id] = Mark(mark.enrolment_id, kind, reason if kind else "")
    return by_enrolment


def take_attendance(user, school_class, day: datetime.date, marks: list[Mark], *,
                    on: datetime.date | None = None) -> Sheet:
    """Write the class's attendance of ``day``: the day taken by ``user``, an ``Absence`` for each
    student marked absent or late (changed ones updated, those now present removed)."""
    if not permissions.may_take_attendance(user, school_class):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    problem = school_day_problem(school_class, day, on=on) or correction_problem(user, school_class, day, on=on)
    if problem is not None:
        raise problem
    wanted = _check_marks(school_class, day, marks)
    try:
        with transaction.atomic():
            SchoolClass.objects.select_for_update().filter(pk=school_class.pk).first()
            taken, _created = AttendanceDay.objects.update_or_create(
                school_class=school_class, date=day, defaults={"taken_by": user})
            enrolment_ids = list(class_list(school_class, day).values_list("pk", flat=True))
            existing = {a.enrolment_id: a for a in Absence.objects.select_for_update().filter(
                date=day, enrolment_id__in=enrolment_ids)}
            absent = {pk: mark for pk, mark in wanted.items() if mark.kind}
            Absence.objects.filter(pk__in=[a.pk for pk, a in existing.items() if pk not in absent]).delete()
            new = []
            for pk, mark in absent.items():
                row = existing.get(pk)
                if row is None:
                    new.append(Absence(enrolment_id=pk, date=day, kind=mark.kind, reason=mark.reason,
                                       recorded_by=user))
                elif (row.kind, row.reason) != (mark.kind, mark.reason):
                    row.kind, row.reason, row.recorded_by = mark.kind, mark.reason, user
                    row.save(update_fields=["kind", "reason", "recorded_by"])
            Absence.objects.bulk_create(new)
    except IntegrityError:
        raise refuse(_("The attendance of this day was saved by someone else at the same moment; open it again."),
                     "conflict") from None
    return day_sheet(school_class, day)


# --- reading ---------------------------------------------------------------------------------------

def days_absent(enrolment_ids, date_from: datetime.date, date_to: datetime.date) -> dict[int, int]:
    """{enrolment id: days absent (with or without leave; lateness is no absence)} from
    ``date_from`` to ``date_to``, 0 for those never absent."""
    ids = list(enrolment_ids)
    counts = dict.fromkeys(ids, 0)
    rows = Absence.objects.filter(enrolment_id__in=ids, date__gte=date_from, date__lte=date_to,
                                  kind__in=ABSENT_KINDS).values_list("enrolment_id", flat=True)
    for enrolment_id in rows:
        counts[enrolment_id] += 1
    return counts


def _longest_unexcused_run(taken_days: list[datetime.date], unexcused: set[datetime.date]) -> int:
    longest = run = 0
    for day in taken_days:
        run = run + 1 if day in unexcused else 0
        longest = max(longest, run)
    return longest


@dataclass
class Flag:
    enrolment: Enrolment
    days_absent: int
    unexcused_run: int
    threshold: int

    @property
    def reasons(self) -> list[str]:
        found = []
        if self.days_absent >= self.threshold:
            found.append(_("%(n)s days absent this month") % {"n": self.days_absent})
        if self.unexcused_run >= UNEXCUSED_RUN:
            found.append(_("%(n)s days absent without leave in a row") % {"n": self.unexcused_run})
        return found


def flags(school_class, month: datetime.date) -> list[Flag]:
    """The class's students flagged in ``month``: ``school.absence_threshold`` days absent or
    more, or ``UNEXCUSED_RUN`` days absent without leave in a row (days taken)."""
    first, last = month_bounds(month)
    threshold = school_class.school.absence_threshold
    enrolments = {e.pk: e for e in Enrolment.objects.filter(school_class=school_class)
                  .select_related("student__resident")}
    absent = days_absent(enrolments, first, last)
    taken = sorted(AttendanceDay.objects.filter(school_class=school_class, date__gte=first, date__lte=last)
                   .values_list("date", flat=True))
    unexcused = defaultdict(set)
    for enrolment_id, day in Absence.objects.filter(enrolment_id__in=enrolments, date__gte=first, date__lte=last,
                                                    kind=Absence.Kind.UNEXCUSED).values_list("enrolment_id", "date"):
        unexcused[enrolment_id].add(day)
    found = []
    for pk, enrolment in enrolments.items():
        run = _longest_unexcused_run(taken, unexcused[pk]) if unexcused[pk] else 0
        if absent[pk] >= threshold or run >= UNEXCUSED_RUN:
            found.append(Flag(enrolment, absent[pk], run, threshold))
    found.sort(key=lambda f: (f.enrolment.number or 0, f.enrolment.pk))
    return found


@dataclass
class MonthRow:
    enrolment: Enrolment
    marks: list  # one per day of the grid: "", "P", "K" or "M"
    excused: int = 0
    unexcused: int = 0
    late: int = 0
    flagged: bool = False

    @property
    def absent(self) -> int:
        return self.excused + self.unexcused


@dataclass
class MonthGrid:
    school_class: SchoolClass
    month: datetime.date
    days: list  # school days of the month up to today, and any other day taken
    taken: set
    rows: list
    flags: list


def month_grid(school_class, month: datetime.date, *, on: datetime.date | None = None) -> MonthGrid:
    first, last = month_bounds(month)
    taken = set(AttendanceDay.objects.filter(school_class=school_class, date__gte=first, date__lte=last)
                .values_list("date", flat=True))
    days = sorted(set(school_days(school_class, first, last, on=on)) | taken)
    enrolments = list(Enrolment.objects.filter(school_class=school_class, starts_on__lte=last)
                      .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
                      .select_related("student__resident").order_by("number", "student__resident__full_name", "pk"))
    marks = defaultdict(dict)
    for absence in Absence.objects.filter(enrolment__in=enrolments, date__gte=first, date__lte=last):
        marks[absence.enrolment_id][absence.date] = absence.kind
    found = flags(school_class, month)
    flagged = {f.enrolment.pk for f in found}
    rows = []
    for enrolment in enrolments:
        own = marks[enrolment.pk]
        row = MonthRow(enrolment, [MARKS.get(own.get(day), "") for day in days], flagged=enrolment.pk in flagged)
        for kind in own.values():
            if kind == Absence.Kind.EXCUSED:
                row.excused += 1
            elif kind == Absence.Kind.UNEXCUSED:
                row.unexcused += 1
            else:
                row.late += 1
        rows.append(row)
    return MonthGrid(school_class, first, days, taken, rows, found)


# --- rates -------------------------------------------------------------------------------------

@dataclass
class Rate:
    enrolled: int = 0  # enrolled student-days of the days taken
    absent: int = 0
    days: int = 0  # class-days taken

    @property
    def present(self) -> int:
        return self.enrolled - self.absent

    @property
    def percent(self) -> Decimal | None:
        """Present per hundred, one decimal (half up); None when nothing was taken."""
        if not self.enrolled:
            return None
        return (Decimal(self.present * 100) / Decimal(self.enrolled)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def add(self, other: "Rate") -> None:
        self.enrolled += other.enrolled
        self.absent += other.absent
        self.days += other.days


def _rates(classes, date_from, date_to) -> tuple[dict, dict]:
    """({class id: Rate}, {date: Rate}) over the days on which attendance was taken."""
    class_ids = [c.pk for c in classes]
    per_class = {pk: Rate() for pk in class_ids}
    per_day: dict = defaultdict(Rate)
    days = list(AttendanceDay.objects.filter(school_class_id__in=class_ids, date__gte=date_from, date__lte=date_to)
                .values_list("school_class_id", "date"))
    if not days:
        return per_class, dict(per_day)
    spans = defaultdict(list)
    for class_id, starts_on, ends_on, status in Enrolment.objects.filter(school_class_id__in=class_ids).values_list(
            "school_class_id", "starts_on", "ends_on", "status"):
        if status == Enrolment.Status.ACTIVE or ends_on is not None:
            spans[class_id].append((starts_on, ends_on))
    taken = set()
    for class_id, day in days:
        taken.add((class_id, day))
        n = sum(1 for s, e in spans[class_id] if s <= day and (e is None or e >= day))
        for rate in (per_class[class_id], per_day[day]):
            rate.enrolled += n
            rate.days += 1
    for class_id, day in Absence.objects.filter(
            enrolment__school_class_id__in=class_ids, date__gte=date_from, date__lte=date_to,
            kind__in=ABSENT_KINDS).values_list("enrolment__school_class_id", "date"):
        if (class_id, day) in taken:
            per_class[class_id].absent += 1
            per_day[day].absent += 1
    return per_class, dict(sorted(per_day.items()))


def rate(school, date_from: datetime.date, date_to: datetime.date) -> Rate:
    """The school's attendance from ``date_from`` to ``date_to``: present student-days per
    enrolled student-days of the days on which a class's attendance was taken."""
    per_class, _per_day = _rates(list(SchoolClass.objects.filter(school=school)), date_from, date_to)
    total = Rate()
    for value in per_class.values():
        total.add(value)
    return total


@dataclass
class SchoolRates:
    school: object
    date_from: datetime.date
    date_to: datetime.date
    classes: list  # (class, Rate)
    days: list  # (date, Rate)
    total: Rate


def school_rates(school, date_from: datetime.date, date_to: datetime.date) -> SchoolRates:
    classes = list(SchoolClass.objects.filter(school=school, year__starts_on__lte=date_to,
                                              year__ends_on__gte=date_from).order_by("grade", "name"))
    per_class, per_day = _rates(classes, date_from, date_to)
    total = Rate()
    for value in per_class.values():
        total.add(value)
    return SchoolRates(school, date_from, date_to, [(c, per_class[c.pk]) for c in classes],
                       list(per_day.items()), total)


def rates_xlsx(rates: SchoolRates) -> bytes:
    """The school's rates of a period as .xlsx: a sheet per class, a sheet per day (no names)."""
    from core import periods, xlsx

    period = periods.custom(rates.date_from, rates.date_to)
    if rates.date_from.day == 1 and rates.date_to == month_bounds(rates.date_from)[1]:
        period = periods.month(rates.date_from.year, rates.date_from.month)
    workbook, sheet = xlsx.figures_workbook(rates.school.name, _("Attendance rate"), period)
    xlsx.append(sheet, [_("Class-days taken"), rates.total.days])
    xlsx.append(sheet, [_("Enrolled student-days"), rates.total.enrolled])
    xlsx.append(sheet, [_("Present student-days"), rates.total.present])
    xlsx.append(sheet, [_("Attendance rate (%)"), rates.total.percent])
    headings = [_("Class"), _("Class-days taken"), _("Enrolled student-days"), _("Days absent"),
                _("Present student-days"), _("Attendance rate (%)")]
    xlsx.table_sheet(workbook, _("By class"), headings, [
        [c.name, r.days, r.enrolled, r.absent, r.present, r.percent] for c, r in rates.classes], widths=(12,))
    xlsx.table_sheet(workbook, _("By day"), [_("Date"), *headings[1:]], [
        [d, r.days, r.enrolled, r.absent, r.present, r.percent] for d, r in rates.days], widths=(14,))
    return xlsx.save(workbook)


def month_xlsx(grid: MonthGrid) -> bytes:
    """A class's month as .xlsx: students × days with P/K/M and the totals."""
    from core import xlsx

    workbook = xlsx.new_workbook()
    workbook.remove(workbook.active)
    headings = [_("No."), _("Student"), *[f"{d:%d/%m}" for d in grid.days], _("With leave"), _("Without leave"),
                pgettext("attendance", "Late")]
    rows = [[row.enrolment.number, row.enrolment.student.resident.full_name, *row.marks, row.excused,
             row.unexcused, row.late] for row in grid.rows]
    title = re.sub(r"[\[\]:*?/\\]", "-", f"{grid.school_class.name} {grid.month:%m-%Y}")  # what a sheet title cannot hold
    xlsx.table_sheet(workbook, title, headings, rows, widths=(5, 28))
    return xlsx.save(workbook)


# --- inbox -----------------------------------------------------------------------------------------

def homeroom_classes(user):
    from education.models import SchoolYear

    return SchoolClass.objects.filter(
        homeroom_teacher__user_id=user.pk, homeroom_teacher__active=True, school__active=True,
        year__in=SchoolYear.objects.filter(current=True)).select_related("school", "year").order_by("name")


def inbox_lines(request, user, roles) -> list:
    """For a homeroom teacher: today's attendance not yet taken for each of their classes (on a
    school day), and the students flagged this month, per class."""
    from django.urls import reverse

    from communes.modules import InboxLine, Severity

    if permissions.SCHOOL_STAFF not in roles:
        return []
    day = today()
    lines = []
    for school_class in homeroom_classes(user):
        if is_school_day(school_class, day, on=day):
            missing = 0 if AttendanceDay.objects.filter(school_class=school_class, date=day).exists() else 1
            lines.append(InboxLine(
                f"education.attendance_today.{school_class.pk}",
                _("Class %(name)s: today's attendance not yet taken") % {"name": school_class.name}, missing,
                reverse("education:attendance_day", args=[school_class.pk, day.isoformat()]), Severity.DUE_SOON))
        flagged = flags(school_class, day)
        lines.append(InboxLine(
            f"education.attendance_flags.{school_class.pk}",
            _("Class %(name)s: students flagged for absences this month") % {"name": school_class.name},
            len(flagged), reverse("education:attendance_month", args=[school_class.pk]) + f"?month={day:%Y-%m}#flags"))
    return lines
