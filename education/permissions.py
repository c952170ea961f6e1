"""Who may do what in the commune's schools: the one place for the app's role checks.

* The commune's ``school_staff`` membership (in the commune of the current host, in a session
  confirmed by the second factor like every official role that approves or exports:
  ``communes.second_factor``) opens the app; what the person may do, and where, comes from their
  ``StaffMember`` rows: **staff of one school see only that school** (its classes, students,
  marks, timetable, messages, applications and fees). A school_staff member without a staff row
  sees nothing.
* Positions: the principal (hiệu trưởng) locks and unlocks a term's marks, signs report cards and
  decides everything of the school; a vice-principal and the school clerk manage classes,
  students, timetables, attendance and applications; a teacher enters the marks of the subjects
  assigned to them (``TeachingAssignment``) and, as homeroom teacher (giáo viên chủ nhiệm), the
  class's attendance, conduct and primary qualities, and writes to the class's guardians; the
  accountant keeps the fees.
* The chairman and vice-chairman read aggregates only (counts, rates, levels), never a student.
* Parents: a citizen account whose phone (proven at sign-up, where it is the username, or given by
  the identity provider) is a guardian's phone reads that guardian's children (``children_of``):
  marks, attendance, messages, invoices.
* Supervising units read the facts each commune publishes (``education.facts``), never a row here.

Every read and export of students' personal data is logged (``education.access``).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from communes.models import Role
from communes.permissions import page_guard, roles_for
from education.models import StaffPosition

SCHOOL_STAFF = Role.SCHOOL_STAFF.value
LEADERS = frozenset({Role.CHAIRMAN.value, Role.VICE_CHAIRMAN.value})
MODULE_ROLES = frozenset({SCHOOL_STAFF}) | LEADERS

P = StaffPosition
MANAGERS = frozenset({P.PRINCIPAL, P.VICE_PRINCIPAL, P.CLERK})
TEACHING = frozenset({P.PRINCIPAL, P.VICE_PRINCIPAL, P.TEACHER})
EVERY_POSITION = frozenset(P.values)

# action -> positions in the school that may do it (with the commune's school_staff membership)
SCHOOL_ACTIONS: dict[str, frozenset] = {
    "school.read": EVERY_POSITION,  # the school's classes, students, timetable (personal data: logged)
    "school.manage": MANAGERS,  # classes, staff, subjects' teachers, students, imports, timetable
    "marks.read": TEACHING | {P.CLERK},
    "marks.write": TEACHING,  # a teacher only for their assignments: may_write_marks
    "marks.lock": frozenset({P.PRINCIPAL}),  # lock and unlock a term (unlock is logged)
    "reports.make": TEACHING | {P.CLERK},  # report cards and result sheets as PDF
    "reports.sign": frozenset({P.PRINCIPAL}),
    "attendance.write": MANAGERS | {P.TEACHER},  # a teacher only for their homeroom class: may_take_attendance
    "timetable.write": MANAGERS,
    "messages.send": TEACHING,  # a teacher only to the classes they teach: may_write_to_class
    "applications.decide": MANAGERS,
    "fees.manage": frozenset({P.PRINCIPAL, P.ACCOUNTANT}),
    "fees.read": frozenset({P.PRINCIPAL, P.VICE_PRINCIPAL, P.ACCOUNTANT}),
}

# actions without a school: leaders and any school staff member
COMMUNE_ACTIONS: dict[str, frozenset] = {
    "module.open": MODULE_ROLES,
    "report.read": MODULE_ROLES,  # aggregates of the commune's schools, no personal data
}


def user_roles(user) -> set[str]:
    return roles_for(user)


def staff_rows(user):
    """The active ``StaffMember`` rows of ``user`` in this commune's schools, when the user holds
    the ``school_staff`` membership here (none otherwise)."""
    from education.models import StaffMember

    if SCHOOL_STAFF not in user_roles(user):
        return StaffMember.objects.none()
    return StaffMember.objects.filter(user_id=user.pk, active=True, school__active=True)


def schools_for(user):
    """The schools ``user`` works in (a queryset of ``School``)."""
    from education.models import School

    return School.objects.filter(pk__in=staff_rows(user).values("school_id"))


def positions_in(user, school) -> set[str]:
    school_id = getattr(school, "pk", school)
    return set(staff_rows(user).filter(school_id=school_id).values_list("position", flat=True))


def staff_member(user, school):
    """The user's ``StaffMember`` row in ``school`` (None when they do not work there)."""
    school_id = getattr(school, "pk", school)
    return staff_rows(user).filter(school_id=school_id).first()


def can(user, action: str, school=None) -> bool:
    if action in COMMUNE_ACTIONS:
        return bool(user_roles(user) & COMMUNE_ACTIONS[action])
    if school is None:
        raise ValueError(f"the action {action!r} is about a school: name it")
    return bool(positions_in(user, school) & SCHOOL_ACTIONS[action])


def require(user, action: str, school=None) -> None:
    if not can(user, action, school):
        raise PermissionDenied


def may_write_marks(user, school_class, subject) -> bool:
    """The principal and vice-principals of the class's school, or the teacher assigned the
    subject in the class."""
    from education.models import TeachingAssignment

    positions = positions_in(user, school_class.school_id)
    if positions & {P.PRINCIPAL, P.VICE_PRINCIPAL}:
        return True
    if P.TEACHER not in positions:
        return False
    return TeachingAssignment.objects.filter(school_class=school_class, subject=subject,
                                             teacher__user_id=user.pk, teacher__active=True).exists()


def is_homeroom_teacher(user, school_class) -> bool:
    teacher = school_class.homeroom_teacher
    return bool(teacher and teacher.user_id == user.pk and teacher.active
                and SCHOOL_STAFF in user_roles(user))


def may_take_attendance(user, school_class) -> bool:
    return bool(positions_in(user, school_class.school_id) & MANAGERS) or is_homeroom_teacher(user, school_class)


def may_write_to_class(user, school_class) -> bool:
    """The school's leaders, the homeroom teacher, or a teacher of the class."""
    from education.models import TeachingAssignment

    positions = positions_in(user, school_class.school_id)
    if positions & {P.PRINCIPAL, P.VICE_PRINCIPAL}:
        return True
    if is_homeroom_teacher(user, school_class):
        return True
    return P.TEACHER in positions and TeachingAssignment.objects.filter(
        school_class=school_class, teacher__user_id=user.pk, teacher__active=True).exists()


def children_of(user):
    """The students whose guardian's phone is this citizen's phone (proven at sign-up, the
    account's username): a queryset of ``Student``. Officials' accounts get none."""
    from core.phones import normalize_mobile
    from education.models import Student

    if not getattr(user, "is_authenticated", False) or not user.is_active or roles_for(user):
        return Student.objects.none()
    # The username of an account made at sign-up is the phone the code was sent to; an account of
    # the identity provider carries the phone of its claims (communes.oidc). Citizens cannot edit
    # either.
    phone = normalize_mobile(user.get_username() or "") or normalize_mobile(getattr(user, "phone", "") or "")
    if not phone:
        return Student.objects.none()
    return Student.objects.filter(guardians__phone=phone).distinct()


page_requires = page_guard(lambda user, action: require(user, action))
