"""The schools' base of the demo: in each demo commune, the school years 2025-2026 and 2026-2027
(current), a primary school "Trường Tiểu học <commune>" and a lower-secondary school "Trường THCS
<commune>" (catchment: every village; a test bank account), their principals (the commune's
``<slug>.school_staff`` for the THCS, a new ``<slug>.school_primary`` for the primary school) and
a few named teachers without accounts, one class per grade with the registry's children of the
grade's birth year (at most 35 a class, in a stable order), each class with its homeroom teacher
and every subject assigned, and a guardian per student from the household (its head or an adult,
with the household's phone). The demo citizen (phone 0912345678) is the guardian of one child of
Tú Lệ's grade 6 and one of its grade 2.

Idempotent (a second run changes nothing) and written with ``bulk_create``: a few dozen queries
per commune."""
from __future__ import annotations

import datetime

from django.db import transaction
from django_tenants.utils import tenant_context

from communes.models import Membership, Role
from core.phones import normalize_mobile
from education import curriculum
from education.models import (
    Enrolment, Guardian, School, SchoolClass, SchoolLevel, SchoolYear, StaffMember, StaffPosition, Student, Subject,
    TeachingAssignment,
)
from education.structure import open_year
from population.models import Resident, Village

YEARS = (("2025-2026", datetime.date(2025, 9, 5)), ("2026-2027", datetime.date(2026, 9, 5)))
CURRENT = "2026-2027"
CLASS_SIZE = 35
DEMO_BIN = "970405"
ACCOUNT_NAME = "TAI KHOAN THU NGHIEM"
CITIZEN_CHILDREN = ("tule", (6, 2))
TEACHERS = {
    SchoolLevel.PRIMARY: ["Lò Thị Hoa", "Hà Văn Bình", "Lường Thị Lan", "Cầm Thị Mai", "Vì Văn Sơn", "Đinh Thị Thu"],
    SchoolLevel.LOWER_SECONDARY: ["Nguyễn Văn Toán", "Trần Thị Văn", "Lê Thị Anh", "Phạm Văn Lý", "Hoàng Thị Hóa",
                                  "Bùi Văn Sử", "Đỗ Thị Địa", "Mai Văn Thể"],
}


def born_in(grade: int) -> int:
    """Grade 1 in 2026-2027: children born in 2020; grade g: born in 2021 - g."""
    return int(CURRENT[:4]) - 5 - grade


def _years() -> SchoolYear:
    for name, starts_on in YEARS:
        if not SchoolYear.objects.filter(name=name).exists():
            open_year(name, starts_on, current=name == CURRENT)
    curriculum.ensure_subjects()
    return SchoolYear.objects.get(name=CURRENT)


def _school(name: str, short: str, level: str, code: str, villages) -> School:
    school, created = School.objects.get_or_create(name=name, defaults={
        "short_name": short, "level": level, "village": villages[0] if villages else None,
        "address": villages[0].name if villages else "", "bank_bin": DEMO_BIN,
        "bank_account": code.rjust(13, "0"), "bank_account_name": ACCOUNT_NAME})
    if created:
        school.catchment_villages.set(villages)
    return school


def _staff(school: School, principal, teacher_names: list[str]) -> list[StaffMember]:
    if not StaffMember.objects.filter(school=school).exists():
        rows = [StaffMember(school=school, user=principal, full_name=principal.full_name or principal.username,
                            position=StaffPosition.PRINCIPAL)]
        rows += [StaffMember(school=school, full_name=name, position=StaffPosition.TEACHER) for name in teacher_names]
        StaffMember.objects.bulk_create(rows)
    return list(StaffMember.objects.filter(school=school, position=StaffPosition.TEACHER).order_by("pk"))


def _classes(school: School, year: SchoolYear, teachers: list[StaffMember], taken: set[int]) -> int:
    existing = set(SchoolClass.objects.filter(school=school, year=year).values_list("grade", flat=True))
    new = [SchoolClass(school=school, year=year, grade=grade, name=f"{grade}A", room=f"P{grade}A",
                       homeroom_teacher=teachers[index % len(teachers)] if teachers else None)
           for index, grade in enumerate(school.grades) if grade not in existing]
    if not new:
        return 0
    SchoolClass.objects.bulk_create(new)
    new = list(SchoolClass.objects.filter(school=school, year=year, grade__in=[c.grade for c in new]))
    subjects = {}
    for subject in Subject.objects.filter(grade__in=[c.grade for c in new]).order_by("order"):
        subjects.setdefault(subject.grade, []).append(subject)
    assignments = []
    for school_class in new:
        for index, subject in enumerate(subjects.get(school_class.grade, [])):
            teacher = school_class.homeroom_teacher if school.level == SchoolLevel.PRIMARY or not teachers else \
                teachers[(index + school_class.grade) % len(teachers)]
            assignments.append(TeachingAssignment(school_class=school_class, subject=subject, teacher=teacher))
    TeachingAssignment.objects.bulk_create(assignments)
    # The registry's children of each grade's birth year.
    students, enrolments, guardians = [], [], []
    existing_students = {s.resident_id: s for s in Student.objects.all()}
    for school_class in new:
        children = [r for r in Resident.objects.filter(birth_date__year=born_in(school_class.grade))
                    .select_related("household", "household__head").order_by("search_name", "birth_date", "pk")
                    if r.pk not in taken][:CLASS_SIZE]
        for number, child in enumerate(children, start=1):
            taken.add(child.pk)
            student = existing_students.get(child.pk) or Student(resident=child)
            if student.pk is None:
                students.append(student)
            enrolments.append((student, Enrolment(school_class=school_class, year=year, number=number,
                                                  starts_on=year.starts_on)))
    Student.objects.bulk_create(students)
    for student, enrolment in enrolments:
        enrolment.student = student
    Enrolment.objects.bulk_create([e for _s, e in enrolments])
    adults = _adults_by_household([s.resident.household_id for s in students])
    for student in students:
        child = student.resident
        adult = next((a for a in adults.get(child.household_id, []) if a.pk == child.household.head_id
                      and (child.birth_date - a.birth_date).days >= 16 * 365), None) or next(
            (a for a in adults.get(child.household_id, []) if (child.birth_date - a.birth_date).days >= 16 * 365), None)
        if adult is None:
            continue
        relation = Guardian.Relation.MOTHER if adult.sex == "female" else Guardian.Relation.FATHER
        if child.birth_date.year - adult.birth_date.year > 45:
            relation = Guardian.Relation.GRANDPARENT
        guardians.append(Guardian(student=student, resident=adult, full_name=adult.full_name, relation=relation,
                                  phone=normalize_mobile(child.household.phone) or normalize_mobile(adult.phone) or ""))
    Guardian.objects.bulk_create(guardians)
    return len(enrolments)


def _adults_by_household(household_ids) -> dict[int, list[Resident]]:
    out: dict[int, list[Resident]] = {}
    for adult in Resident.objects.filter(household_id__in=set(household_ids)).order_by("birth_date", "pk"):
        out.setdefault(adult.household_id, []).append(adult)
    return out


def _citizen_guardian(citizen, year: SchoolYear) -> None:
    phone = normalize_mobile(getattr(citizen, "phone", "") or citizen.get_username())
    if not phone:
        return
    for grade in CITIZEN_CHILDREN[1]:
        enrolment = (Enrolment.objects.filter(year=year, school_class__grade=grade, status=Enrolment.Status.ACTIVE)
                     .order_by("number", "pk").first())
        if enrolment and not Guardian.objects.filter(phone=phone, student_id=enrolment.student_id).exists():
            Guardian.objects.create(student_id=enrolment.student_id, full_name=citizen.full_name or "Phụ huynh",
                                    relation=Guardian.Relation.FATHER, phone=phone)


def seed_commune(spec, commune, *, citizen=None) -> dict:
    from communes.demo import ROLE_TITLES, _user

    secondary_principal = _user(f"{spec.slug}.school_staff", "Lò Văn Thành")[0]
    primary_principal, created = _user(f"{spec.slug}.school_primary", "Hà Thị Nguyệt")
    Membership.objects.get_or_create(user=primary_principal, commune=commune, role=Role.SCHOOL_STAFF,
                                     defaults={"job_title": ROLE_TITLES[Role.SCHOOL_STAFF]})
    with tenant_context(commune), transaction.atomic():
        year = _years()
        villages = list(Village.objects.order_by("name"))
        name = str(spec.name)
        primary = _school(f"Trường Tiểu học {name}", f"TH {name}", SchoolLevel.PRIMARY, spec.code, villages)
        secondary = _school(f"Trường THCS {name}", f"THCS {name}", SchoolLevel.LOWER_SECONDARY, spec.code, villages)
        taken = set(Enrolment.objects.filter(year=year, status=Enrolment.Status.ACTIVE)
                    .values_list("student__resident_id", flat=True))
        made = 0
        for school, principal in ((primary, primary_principal), (secondary, secondary_principal)):
            teachers = _staff(school, principal, TEACHERS[school.level])
            made += _classes(school, year, teachers, taken)
        if citizen is not None and spec.slug == CITIZEN_CHILDREN[0]:
            _citizen_guardian(citizen, year)
    return {"enrolments": made}


def seed(context) -> None:
    for spec, commune in context.communes:
        made = seed_commune(spec, commune, citizen=context.citizen)
        if made["enrolments"]:
            context.out(f"  {commune}: 2 schools, {made['enrolments']} students enrolled in {CURRENT}")
    context.out("  schools (/schools/): <commune>.school_staff is the principal of the lower-secondary school, "
                "<commune>.school_primary of the primary school")
    if context.citizen is not None:
        context.out(f"  parents (/my-children/): {context.citizen.get_username()} follows two children in "
                    f"{CITIZEN_CHILDREN[0]}.localhost")
