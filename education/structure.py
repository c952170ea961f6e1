"""The schools' structure: years and semesters, classes and teaching assignments, staff, students
with their guardians, and the enrolments that move them through the years.

Every state change is one function here, inside a transaction; a refusal is a ``ValidationError``
with a Vietnamese message (and a ``code`` the API maps to a status). The database's own rules (one
open enrolment of a student a year, one current year, a class name once a year, a user once on a
school's staff) are checked first with the same message that a race's ``IntegrityError`` becomes.
"""
from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from communes.models import Membership, Role
from communes.permissions import current_commune
from core.phones import normalize_mobile
from core.text import clean_text, fold
from education import curriculum
from education.models import (
    Enrolment, Guardian, Mark, School, SchoolClass, SchoolYear, Semester, StaffMember, StaffPosition, Student,
    Subject, TeachingAssignment,
)
from population.models import Resident

YEAR_NAME_RE = re.compile(r"(\d{4})-(\d{4})")
SEMESTER_WEEKS = (18, 17)
SCHOOL_AGE = 6  # a child starts grade 1 in the year they turn six
MAX_AGE = 20  # older residents are not enrolled in a commune's school
LEADING = frozenset({StaffPosition.PRINCIPAL, StaffPosition.VICE_PRINCIPAL})
RANK = {StaffPosition.TEACHER: 1, StaffPosition.ACCOUNTANT: 1, StaffPosition.CLERK: 1,
        StaffPosition.VICE_PRINCIPAL: 2, StaffPosition.PRINCIPAL: 3}


def today() -> datetime.date:
    return timezone.localdate()


def _refuse(message: str, code: str = "invalid", field: str | None = None):
    error = ValidationError(message, code=code)
    raise ValidationError({field: [error]}) if field else error


def _open_enrolment_message(enrolment: Enrolment | None = None) -> str:
    if enrolment is not None:
        return _("This child is already studying this year in class %(class)s of %(school)s.") % {
            "class": enrolment.school_class.name, "school": enrolment.school_class.school.name}
    return _("This child is already studying in a class this year.")


# --- years -------------------------------------------------------------------------------------------

def current_year() -> SchoolYear | None:
    return SchoolYear.objects.filter(current=True).first()


def next_year_name(year: SchoolYear | None = None) -> str:
    year = year or SchoolYear.objects.order_by("-starts_on").first()
    if year is None:
        start = today().year if today().month >= 6 else today().year - 1
    else:
        start = int(year.name[:4]) + 1
    return f"{start}-{start + 1}"


def semester_dates(starts_on: datetime.date) -> list[tuple[datetime.date, datetime.date, int]]:
    """Semester 1 of 18 weeks from ``starts_on``; semester 2 of 17 weeks from the Monday after."""
    first_end = starts_on + datetime.timedelta(weeks=SEMESTER_WEEKS[0], days=-1)
    second_start = first_end + datetime.timedelta(days=7 - first_end.weekday())
    second_end = second_start + datetime.timedelta(weeks=SEMESTER_WEEKS[1], days=-1)
    return [(starts_on, first_end, SEMESTER_WEEKS[0]), (second_start, second_end, SEMESTER_WEEKS[1])]


def open_year(name: str, starts_on: datetime.date, *, current: bool | None = None) -> SchoolYear:
    """The school year ``name`` ("2026-2027") with its two semesters, and the curriculum's
    subjects. It becomes the current year when none is (or when ``current`` says so: the former
    current year then stops being current)."""
    name = clean_text(name)
    match = YEAR_NAME_RE.fullmatch(name)
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        _refuse(_("A school year is named by its two calendar years, for example 2026-2027."), field="name")
    if starts_on is None or starts_on.year != int(match.group(1)) or starts_on.month < 7:
        _refuse(_("The year %(name)s starts between July and December %(year)s.")
                % {"name": name, "year": match.group(1)}, field="starts_on")
    try:
        with transaction.atomic():
            if SchoolYear.objects.select_for_update().filter(name=name).exists():
                _refuse(_("The school year %(name)s is already open.") % {"name": name}, "duplicate", "name")
            existing = SchoolYear.objects.select_for_update().filter(current=True).first()
            make_current = existing is None if current is None else current
            if make_current and existing is not None:
                existing.current = False
                existing.save(update_fields=["current"])
            dates = semester_dates(starts_on)
            year = SchoolYear.objects.create(name=name, starts_on=starts_on, ends_on=dates[1][1], current=make_current)
            Semester.objects.bulk_create([Semester(year=year, number=number, starts_on=start, ends_on=end, weeks=weeks)
                                          for number, (start, end, weeks) in enumerate(dates, start=1)])
            curriculum.ensure_subjects()
    except IntegrityError:
        _refuse(_("The school year %(name)s is already open.") % {"name": name}, "duplicate", "name")
    return year


def year_has_marks(year: SchoolYear) -> bool:
    return Mark.objects.filter(enrolment__year=year).exists()


def edit_semesters(year: SchoolYear, dates: dict[int, tuple[datetime.date, datetime.date]]) -> SchoolYear:
    """New dates of the year's semesters ({number: (start, end)}), while no mark was entered."""
    with transaction.atomic():
        year = SchoolYear.objects.select_for_update().get(pk=year.pk)
        if year_has_marks(year):
            _refuse(_("Marks were already entered in this year: its semesters' dates can no longer change."),
                    "locked")
        (s1, e1), (s2, e2) = dates[1], dates[2]
        if not (s1 < e1 < s2 < e2):
            _refuse(_("Each semester ends after it starts, and semester 2 starts after semester 1 ends."), field="dates")
        if (e2 - s1).days > 366:
            _refuse(_("A school year lasts less than a year."), field="dates")
        for number, (start, end) in ((1, (s1, e1)), (2, (s2, e2))):
            Semester.objects.filter(year=year, number=number).update(
                starts_on=start, ends_on=end, weeks=max(1, round(((end - start).days + 1) / 7)))
        year.starts_on, year.ends_on = s1, e2
        year.save(update_fields=["starts_on", "ends_on"])
    return year


# --- classes and teaching assignments ----------------------------------------------------------------

def classes_of(school: School, year: SchoolYear | None):
    if year is None:
        return SchoolClass.objects.none()
    return (SchoolClass.objects.filter(school=school, year=year).select_related("homeroom_teacher")
            .annotate(students=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.ACTIVE)))
            .order_by("grade", "name"))


def active_staff(school: School):
    return StaffMember.objects.filter(school=school, active=True).order_by("full_name")


def save_class(school: School, *, year: SchoolYear, name: str, grade: int, homeroom_teacher=None, room: str = "",
               instance: SchoolClass | None = None) -> SchoolClass:
    name, room = clean_text(name)[:20], clean_text(room)[:30]
    if not name:
        _refuse(_("Give the class a name, for example 6A."), field="name")
    if grade not in school.grades:
        _refuse(_("%(school)s teaches grades %(grades)s.") % {
            "school": school.name, "grades": ", ".join(str(g) for g in school.grades)}, field="grade")
    if homeroom_teacher is not None and (homeroom_teacher.school_id != school.pk or not homeroom_teacher.active):
        _refuse(_("The homeroom teacher must be on the school's staff."), field="homeroom_teacher")
    if instance is not None and instance.school_id != school.pk:
        _refuse(_("This class belongs to another school."), "forbidden")
    duplicate = _("The school already has a class %(name)s in %(year)s.") % {"name": name, "year": year.name}
    clash = SchoolClass.objects.filter(school=school, year=year, name__iexact=name)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        _refuse(duplicate, "duplicate", "name")
    if instance is not None and instance.grade != grade and instance.enrolments.exists():
        _refuse(_("Students are enrolled in this class: its grade can no longer change."), field="grade")
    school_class = instance or SchoolClass(school=school, year=year)
    school_class.name, school_class.grade, school_class.room = name, grade, room
    school_class.homeroom_teacher = homeroom_teacher
    try:
        with transaction.atomic():
            school_class.save()
    except IntegrityError:
        _refuse(duplicate, "duplicate", "name")
    return school_class


def subjects_of(school_class: SchoolClass):
    return Subject.objects.filter(grade=school_class.grade).order_by("order", "name")


def assignment_grid(school_class: SchoolClass) -> list[tuple[Subject, int | None]]:
    chosen = dict(TeachingAssignment.objects.filter(school_class=school_class).values_list("subject_id", "teacher_id"))
    return [(subject, chosen.get(subject.pk)) for subject in subjects_of(school_class)]


@transaction.atomic
def set_assignments(school_class: SchoolClass, teachers: dict[int, int | None]) -> int:
    """Who teaches each subject of the class ({subject id: staff member id or None}); returns the
    number of subjects with a teacher."""
    subjects = {s.pk: s for s in subjects_of(school_class)}
    staff_ids = set(active_staff(school_class.school).values_list("pk", flat=True))
    for subject_id, teacher_id in teachers.items():
        if subject_id not in subjects:
            _refuse(_("This subject is not taught in grade %(grade)s.") % {"grade": school_class.grade})
        if teacher_id is not None and teacher_id not in staff_ids:
            _refuse(_("The teacher must be on the school's staff."))
    existing = {a.subject_id: a for a in TeachingAssignment.objects.select_for_update().filter(school_class=school_class)}
    for subject_id, teacher_id in teachers.items():
        row = existing.get(subject_id)
        if row is None:
            TeachingAssignment.objects.create(school_class=school_class, subject_id=subject_id, teacher_id=teacher_id)
        elif row.teacher_id != teacher_id:
            row.teacher_id = teacher_id
            row.save(update_fields=["teacher"])
    return TeachingAssignment.objects.filter(school_class=school_class, teacher__isnull=False).count()


# --- staff ------------------------------------------------------------------------------------------

def staff_candidates(school: School):
    """The commune's ``school_staff`` members not yet on this school's staff."""
    from communes.models import User

    commune = current_commune()
    if commune is None:
        return User.objects.none()
    members = Membership.objects.filter(commune_id=commune.pk, role=Role.SCHOOL_STAFF, is_active=True)
    taken = StaffMember.objects.filter(school=school, user_id__isnull=False).values_list("user_id", flat=True)
    return (User.objects.filter(is_active=True, pk__in=members.values("user_id")).exclude(pk__in=list(taken))
            .order_by("full_name", "username"))


def _actor_rank(actor, school) -> int:
    from education.permissions import positions_in

    return max((RANK.get(p, 0) for p in positions_in(actor, school)), default=0)


def _check_position(actor, school, position: str) -> None:
    if position not in StaffPosition.values:
        _refuse(_("Choose a position."), field="position")
    if RANK[position] > 1 and _actor_rank(actor, school) < 3:
        _refuse(_("Only the principal appoints a principal or a vice-principal."), "forbidden", "position")


def add_staff(school: School, actor, *, user=None, full_name: str = "", position: str = StaffPosition.TEACHER,
              phone: str = "", email: str = "") -> StaffMember:
    """Add a person to the school's staff: a ``school_staff`` member of the commune (with their
    account), or a name without an account."""
    full_name = clean_text(full_name)[:150]
    if user is not None:
        if user.pk == getattr(actor, "pk", None):
            _refuse(_("Nobody adds themselves to a school's staff: ask the principal or the commune's "
                      "administrator."), "forbidden", "user")
        if not staff_candidates(school).filter(pk=user.pk).exists():
            _refuse(_("This account is not a teacher of the commune, or is already on the school's staff."),
                    "invalid", "user")
        full_name = full_name or user.full_name or user.get_username()
    if not full_name:
        _refuse(_("Give the full name, or choose an account."), field="full_name")
    _check_position(actor, school, position)
    clean_phone = ""
    if phone:
        clean_phone = normalize_mobile(phone)
        if not clean_phone:
            _refuse(_("This is not a Vietnamese mobile number (10 digits, for example 0912345678)."), field="phone")
    try:
        with transaction.atomic():
            return StaffMember.objects.create(school=school, user=user, full_name=full_name, position=position,
                                              phone=clean_phone, email=clean_text(email))
    except IntegrityError:
        _refuse(_("This account is not a teacher of the commune, or is already on the school's staff."),
                "duplicate", "user")


def update_staff(member: StaffMember, actor, *, position: str, active: bool, phone: str = "") -> StaffMember:
    """A staff member's position and whether they still work at the school. Nobody changes their
    own row (no one raises their own position)."""
    if member.user_id and member.user_id == getattr(actor, "pk", None):
        _refuse(_("Nobody changes their own position: ask the principal or the commune's administrator."),
                "forbidden", "position")
    if position != member.position:
        _check_position(actor, member.school, position)
    if member.position in LEADING and _actor_rank(actor, member.school) < 3:
        _refuse(_("Only the principal changes a principal's or a vice-principal's row."), "forbidden", "position")
    clean_phone = ""
    if phone:
        clean_phone = normalize_mobile(phone)
        if not clean_phone:
            _refuse(_("This is not a Vietnamese mobile number (10 digits, for example 0912345678)."), field="phone")
    with transaction.atomic():
        member = StaffMember.objects.select_for_update().get(pk=member.pk)
        member.position, member.active, member.phone = position, bool(active), clean_phone
        member.save(update_fields=["position", "active", "phone"])
        if not member.active:
            SchoolClass.objects.filter(homeroom_teacher=member, year__current=True).update(homeroom_teacher=None)
    return member


# --- students ---------------------------------------------------------------------------------------

def birth_years_for(grade: int, year: SchoolYear) -> range:
    """Birth years of children of school age for ``grade`` in ``year``: those who start on time,
    and up to two years older (late starters, repeaters)."""
    on_time = year.starts_on.year - SCHOOL_AGE - (grade - 1)
    return range(on_time - 2, on_time + 1)


def search_children(school_class: SchoolClass, query: str, *, limit: int = 30):
    """Residents of the registry of school age for the class's grade whose name (accents ignored)
    contains ``query``; each annotated with the class where they already study this year."""
    query = fold(query)[:100]
    if len(query) < 2:
        return Resident.objects.none()
    years = birth_years_for(max(school_class.grade, 1), school_class.year)
    return (Resident.objects.filter(search_name__contains=query, birth_date__year__gte=years.start,
                                    birth_date__year__lt=years.stop)
            .select_related("household", "household__village").order_by("search_name", "birth_date")[:limit])


def open_enrolment(resident_or_student, year: SchoolYear) -> Enrolment | None:
    student_filter = ({"student": resident_or_student} if isinstance(resident_or_student, Student)
                      else {"student__resident": resident_or_student})
    return (Enrolment.objects.filter(year=year, status=Enrolment.Status.ACTIVE, **student_filter)
            .select_related("school_class", "school_class__school").first())




def guardians_from_household(resident: Resident) -> list[dict]:
    """Guardians proposed for a child: the household's adults (the parents first), with the
    household's phone for the first of them."""
    household = resident.household
    adults = [r for r in household.members.exclude(pk=resident.pk).order_by("birth_date")
              if (resident.birth_date - r.birth_date).days >= 16 * 365]
    parents = [r for r in adults if r.relation in ("head", "wife", "husband")] or adults
    out = []
    for index, adult in enumerate(parents[:2]):
        relation = Guardian.Relation.MOTHER if adult.sex == "female" else Guardian.Relation.FATHER
        if adult.birth_date.year < resident.birth_date.year - 45:
            relation = Guardian.Relation.GRANDPARENT
        phone = normalize_mobile(adult.phone) or (normalize_mobile(household.phone) if index == 0 else "") or ""
        out.append({"resident": adult, "full_name": adult.full_name, "relation": relation, "phone": phone})
    return out


def _next_number(school_class: SchoolClass) -> int:
    return (Enrolment.objects.filter(school_class=school_class).aggregate(n=Max("number"))["n"] or 0) + 1


def _check_class_open(school_class: SchoolClass) -> None:
    if school_class.year.ends_on < today() - datetime.timedelta(days=92):
        _refuse(_("The year %(year)s is over: enrol the child in a class of the current year.")
                % {"year": school_class.year.name}, "closed")


def enrol(school_class: SchoolClass, resident: Resident, *, entry: str = Enrolment.Entry.NEW, came_from: str = "",
          starts_on: datetime.date | None = None, guardians: list[dict] | None = None) -> Enrolment:
    """Enrol a child of the registry in a class (a new student, or one transferred in from another
    school: ``entry=transferred_in`` with ``came_from``). The guardians are those given, or those
    of the household when none are (and the student has none yet)."""
    came_from = clean_text(came_from)[:200]
    if entry not in (Enrolment.Entry.NEW, Enrolment.Entry.TRANSFERRED_IN):
        _refuse(_("Choose how the student comes to the class."), field="entry")
    if entry == Enrolment.Entry.TRANSFERRED_IN and not came_from:
        _refuse(_("Give the school the student comes from."), field="came_from")
    starts_on = starts_on or max(today(), school_class.year.starts_on)
    if not (school_class.year.starts_on <= starts_on <= school_class.year.ends_on):
        _refuse(_("The date must be within the school year %(year)s.") % {"year": school_class.year.name},
                field="starts_on")
    age = school_class.year.starts_on.year - resident.birth_date.year
    if not (1 if school_class.grade == 0 else 5) <= age <= MAX_AGE:
        _refuse(_("%(name)s is not of school age.") % {"name": resident.full_name}, field="resident")
    prepared = [_clean_guardian(g) for g in guardians] if guardians else None
    try:
        with transaction.atomic():
            Resident.objects.select_for_update().filter(pk=resident.pk).first()
            existing = open_enrolment(resident, school_class.year)
            if existing is not None:
                _refuse(_open_enrolment_message(existing), "duplicate", "resident")
            student, _created = Student.objects.get_or_create(resident=resident)
            SchoolClass.objects.select_for_update().filter(pk=school_class.pk).first()
            enrolment = Enrolment.objects.create(
                student=student, school_class=school_class, year=school_class.year, number=_next_number(school_class),
                entry=entry, starts_on=starts_on, came_from=came_from)
            if not student.guardians.exists():
                for values in prepared if prepared is not None else guardians_from_household(resident):
                    Guardian.objects.create(student=student, **values)
    except IntegrityError:
        _refuse(_open_enrolment_message(), "duplicate", "resident")
    return enrolment


def _clean_guardian(values: dict) -> dict:
    full_name = clean_text(values.get("full_name"))[:150]
    if not full_name:
        _refuse(_("Give the guardian's full name."), field="full_name")
    relation = values.get("relation") or Guardian.Relation.OTHER
    if relation not in Guardian.Relation.values:
        _refuse(_("Choose the guardian's relation to the student."), field="relation")
    phone = normalize_mobile(values.get("phone"))
    if phone is None:
        _refuse(_("This is not a Vietnamese mobile number (10 digits, for example 0912345678)."), field="phone")
    return {"full_name": full_name, "relation": relation, "phone": phone or "",
            "email": clean_text(values.get("email"))[:254], "resident": values.get("resident"),
            "receives_messages": bool(values.get("receives_messages", True))}


def save_guardian(student: Student, values: dict, *, instance: Guardian | None = None) -> Guardian:
    data = _clean_guardian(values)
    with transaction.atomic():
        guardian = instance or Guardian(student=student)
        if guardian.student_id != student.pk:
            _refuse(_("This guardian is another student's."), "forbidden")
        for key, value in data.items():
            if key == "resident" and instance is not None and value is None:
                continue
            setattr(guardian, key, value)
        guardian.save()
    return guardian


@transaction.atomic
def remove_guardian(guardian: Guardian) -> None:
    Guardian.objects.filter(pk=guardian.pk).delete()


def _locked(enrolment: Enrolment) -> Enrolment:
    enrolment = (Enrolment.objects.select_for_update().select_related("school_class", "school_class__school", "year")
                 .get(pk=enrolment.pk))
    if enrolment.status != Enrolment.Status.ACTIVE:
        _refuse(_("This enrolment has already ended (%(status)s).") % {"status": enrolment.get_status_display()},
                "ended")
    return enrolment


def _check_end_date(enrolment: Enrolment, on: datetime.date) -> None:
    if on is None or not (enrolment.starts_on <= on <= enrolment.year.ends_on):
        _refuse(_("The date must be between %(start)s and %(end)s.") % {
            "start": enrolment.starts_on.strftime("%d/%m/%Y"), "end": enrolment.year.ends_on.strftime("%d/%m/%Y")},
            field="on")
    if on > today():
        _refuse(_("The date cannot be in the future."), field="on")


def transfer_out(enrolment: Enrolment, *, on: datetime.date, went_to: str = "", reason: str = "",
                 status: str = Enrolment.Status.TRANSFERRED_OUT) -> Enrolment:
    """End the enrolment: the student leaves for another school (``went_to``) or leaves school."""
    went_to, reason = clean_text(went_to)[:200], clean_text(reason)[:300]
    if status not in (Enrolment.Status.TRANSFERRED_OUT, Enrolment.Status.DROPPED_OUT):
        _refuse(_("Choose why the student leaves."), field="status")
    if status == Enrolment.Status.TRANSFERRED_OUT and not went_to:
        _refuse(_("Give the school the student goes to."), field="went_to")
    if not reason:
        _refuse(_("Give the reason."), field="reason")
    with transaction.atomic():
        enrolment = _locked(enrolment)
        _check_end_date(enrolment, on)
        enrolment.status, enrolment.ends_on, enrolment.went_to, enrolment.reason = status, on, went_to, reason
        enrolment.save(update_fields=["status", "ends_on", "went_to", "reason"])
    return enrolment


def move_class(enrolment: Enrolment, new_class: SchoolClass, *, on: datetime.date, reason: str = "") -> Enrolment:
    """End the enrolment (``moved_class``) and open one in another class of the school and year
    the same day. Returns the new enrolment."""
    try:
        with transaction.atomic():
            enrolment = _locked(enrolment)
            if new_class.pk == enrolment.school_class_id:
                _refuse(_("The student already studies in this class."), field="school_class")
            if new_class.school_id != enrolment.school_class.school_id or new_class.year_id != enrolment.year_id:
                _refuse(_("Choose a class of the same school and year."), field="school_class")
            _check_end_date(enrolment, on)
            enrolment.status, enrolment.ends_on = Enrolment.Status.MOVED_CLASS, on
            enrolment.reason = clean_text(reason)[:300]
            enrolment.save(update_fields=["status", "ends_on", "reason"])
            SchoolClass.objects.select_for_update().filter(pk=new_class.pk).first()
            return Enrolment.objects.create(student_id=enrolment.student_id, school_class=new_class,
                                            year_id=enrolment.year_id, number=_next_number(new_class),
                                            entry=Enrolment.Entry.MOVED_CLASS, starts_on=on,
                                            came_from=enrolment.school_class.name)
    except IntegrityError:
        _refuse(_open_enrolment_message(), "duplicate")


def _next_year_enrolment(enrolment: Enrolment, next_class: SchoolClass, entry: str) -> Enrolment:
    try:
        with transaction.atomic():
            enrolment = _locked(enrolment)
            year = enrolment.year
            if next_class.year.starts_on <= year.starts_on:
                _refuse(_("Choose a class of the next school year."), field="school_class")
            if entry == Enrolment.Entry.PROMOTED and next_class.grade != enrolment.school_class.grade + 1:
                _refuse(_("A promoted student goes to grade %(grade)s.") % {"grade": enrolment.school_class.grade + 1},
                        field="school_class")
            if entry == Enrolment.Entry.REPEATING and next_class.grade != enrolment.school_class.grade:
                _refuse(_("A repeating student stays in grade %(grade)s.") % {"grade": enrolment.school_class.grade},
                        field="school_class")
            existing = open_enrolment(enrolment.student, next_class.year)
            if existing is not None:
                _refuse(_open_enrolment_message(existing), "duplicate")
            enrolment.status, enrolment.ends_on = Enrolment.Status.COMPLETED, year.ends_on
            enrolment.save(update_fields=["status", "ends_on"])
            SchoolClass.objects.select_for_update().filter(pk=next_class.pk).first()
            came_from = "" if next_class.school_id == enrolment.school_class.school_id else \
                enrolment.school_class.school.name[:200]
            return Enrolment.objects.create(student_id=enrolment.student_id, school_class=next_class,
                                            year=next_class.year, number=_next_number(next_class), entry=entry,
                                            starts_on=next_class.year.starts_on, came_from=came_from)
    except IntegrityError:
        _refuse(_open_enrolment_message(), "duplicate")


def promote(enrolment: Enrolment, next_class: SchoolClass) -> Enrolment:
    """At the year's end: the student goes up a grade, into ``next_class`` of the next year."""
    return _next_year_enrolment(enrolment, next_class, Enrolment.Entry.PROMOTED)


def repeat(enrolment: Enrolment, next_class: SchoolClass) -> Enrolment:
    """At the year's end: the student repeats the grade, in ``next_class`` of the next year."""
    return _next_year_enrolment(enrolment, next_class, Enrolment.Entry.REPEATING)


def year_end_class(school_class: SchoolClass, *, promote_to: SchoolClass | None, repeat_to: SchoolClass | None = None,
                   repeaters=()) -> dict[str, int]:
    """At the year's end, every student still studying in the class goes on, in one transaction
    (all or nothing): those in ``repeaters`` (enrolment ids) repeat the grade in ``repeat_to``, the
    others are promoted into ``promote_to``, or, without it (the school's last grade), complete
    the year and leave the school."""
    repeaters = {int(pk) for pk in repeaters}
    if repeaters and repeat_to is None:
        _refuse(_("Choose the class of the next year where the repeating students go."), field="repeat_to")
    for target in (promote_to, repeat_to):
        if target is not None and target.school_id != school_class.school_id:
            _refuse(_("Choose a class of the same school."), "forbidden")
    counts = {"promoted": 0, "repeating": 0, "completed": 0}
    with transaction.atomic():
        rows = list(Enrolment.objects.select_for_update().filter(
            school_class=school_class, status=Enrolment.Status.ACTIVE).select_related("student__resident")
            .order_by("number", "pk"))
        if not rows:
            _refuse(_("No student studies in this class any more."), "empty")
        for enrolment in rows:
            try:
                if enrolment.pk in repeaters:
                    repeat(enrolment, repeat_to)
                    counts["repeating"] += 1
                elif promote_to is not None:
                    promote(enrolment, promote_to)
                    counts["promoted"] += 1
                else:
                    enrolment.status, enrolment.ends_on = Enrolment.Status.COMPLETED, school_class.year.ends_on
                    enrolment.save(update_fields=["status", "ends_on"])
                    counts["completed"] += 1
            except ValidationError as exc:
                raise ValidationError(_("%(name)s: %(reason)s Nothing was changed.") % {
                    "name": enrolment.student.resident.full_name, "reason": exc.messages[0]},
                    code=getattr(exc, "code", None) or "invalid") from exc
    return counts


def class_list(school_class: SchoolClass, *, include_ended: bool = False):
    rows = Enrolment.objects.filter(school_class=school_class)
    if not include_ended:
        rows = rows.filter(status=Enrolment.Status.ACTIVE)
    return rows.select_related("student", "student__resident").prefetch_related("student__guardians").order_by(
        "number", "pk")


def next_classes(enrolment: Enrolment):
    """Classes of later years of the school's commune where the student may go at year's end."""
    return (SchoolClass.objects.filter(year__starts_on__gt=enrolment.year.starts_on,
                                       grade__in=[enrolment.school_class.grade, enrolment.school_class.grade + 1])
            .select_related("school", "year").order_by("year__starts_on", "school__name", "grade", "name"))


# --- to do ---------------------------------------------------------------------------------------

def classes_without_homeroom(schools):
    return SchoolClass.objects.filter(school__in=schools, year__current=True, homeroom_teacher__isnull=True)


def students_without_phone(schools):
    return Enrolment.objects.filter(school_class__school__in=schools, year__current=True,
                                    status=Enrolment.Status.ACTIVE).exclude(
        student__guardians__phone__gt="")


def inbox_lines(request, user, roles) -> list:
    """For a school's principal, vice-principal and clerk: imports checked and waiting, classes of
    the current year without a homeroom teacher, students without a guardian's phone."""
    from django.urls import reverse

    from communes.modules import InboxLine, Severity
    from education import permissions
    from education.models import StudentImport

    schools = [s for s in permissions.schools_for(user) if permissions.can(user, "school.manage", s)]
    lines = []
    for school in schools:
        url = reverse("education:school", args=[school.pk])
        prefix = f"{school.short_name or school.name}: " if len(schools) > 1 else ""
        waiting = StudentImport.objects.filter(school_class__school=school, state=StudentImport.State.CHECKED).count()
        lines += [
            InboxLine(f"education.imports.{school.pk}", prefix + _("Class list imports checked and waiting"),
                      waiting, f"{url}#imports", Severity.DUE_SOON),
            InboxLine(f"education.no_homeroom.{school.pk}", prefix + _("Classes without a homeroom teacher"),
                      classes_without_homeroom([school]).count(), f"{url}?without_homeroom=1#classes"),
            InboxLine(f"education.no_phone.{school.pk}", prefix + _("Students without a guardian's phone"),
                      students_without_phone([school]).count(),
                      reverse("education:students_without_phone", args=[school.pk])),
        ]
    return lines
