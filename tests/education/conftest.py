"""Fixtures of the schools' tests: in Tú Lệ, the school year 2026-2027, a lower-secondary school
(THCS Tú Lệ) and a primary school (Tiểu học Tú Lệ) with their staff, class 6A (five students) and
class 1A (three students), their guardians, and the officials and citizens who must read nothing
here. ``schoolyard`` yields the rows by name (from inside Tú Lệ's schema)."""
from __future__ import annotations

import datetime

import pytest

from communes.models import Role

PARENT_PHONE = "0912000222"


@pytest.fixture
def school_people(tule, make_user):
    staff = {"school_staff_roles": [Role.SCHOOL_STAFF]}  # noqa: F841 (readability)
    people = {
        "principal": make_user("edu_principal", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Hà Văn Hiệu"),
        "vice": make_user("edu_vice", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Lò Thị Phó"),
        "math": make_user("edu_math", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Lường Văn Toán"),
        "literature": make_user("edu_literature", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Đinh Thị Văn"),
        "accountant": make_user("edu_accountant", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Vì Thị Kế"),
        "clerk": make_user("edu_clerk", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Cầm Văn Vụ"),
        "primary_principal": make_user("edu_primary_principal", roles={tule: [Role.SCHOOL_STAFF]},
                                       full_name="Lò Văn Tiểu"),
        "primary_teacher": make_user("edu_primary_teacher", roles={tule: [Role.SCHOOL_STAFF]},
                                     full_name="Hoàng Thị Một"),
        "unplaced": make_user("edu_unplaced", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Chưa Có Trường"),
        "chairman": make_user("edu_chairman", roles={tule: [Role.CHAIRMAN]}, full_name="Hà Văn Chủ"),
        "radio": make_user("edu_radio", roles={tule: [Role.RADIO_OPERATOR]}, full_name="Vì Văn Loa"),
        "nurse": make_user("edu_nurse", roles={tule: [Role.HEALTH_STAFF]}, full_name="Lò Thị Y"),
        "parent": make_user(PARENT_PHONE, full_name="Lường Thị Mẹ", phone=PARENT_PHONE),
        "citizen": make_user("0912000333", full_name="Lò Văn Dân", phone="0912000333"),
    }
    return people


@pytest.fixture
def schoolyard(tule, in_commune, school_people):
    from education.curriculum import ensure_subjects
    from education.models import (
        Enrolment, Guardian, School, SchoolClass, SchoolLevel, SchoolYear, Semester, StaffMember, StaffPosition,
        Student, Subject, TeachingAssignment,
    )
    from population import services
    from population.models import Household, Resident, Village

    p = school_people
    with in_commune(tule):
        ensure_subjects()
        village = services.save_village(Village(name="Bản Thử Trường"))
        far_village = services.save_village(Village(name="Bản Xa Trường"))
        year = SchoolYear.objects.create(name="2026-2027", starts_on=datetime.date(2026, 9, 5),
                                         ends_on=datetime.date(2027, 5, 31), current=True)
        sem1 = Semester.objects.create(year=year, number=1, starts_on=datetime.date(2026, 9, 5),
                                       ends_on=datetime.date(2027, 1, 16), weeks=18)
        sem2 = Semester.objects.create(year=year, number=2, starts_on=datetime.date(2027, 1, 18),
                                       ends_on=datetime.date(2027, 5, 31), weeks=17)
        thcs = School.objects.create(name="Trường THCS Tú Lệ", short_name="THCS Tú Lệ",
                                     level=SchoolLevel.LOWER_SECONDARY, village=village, phone="02163888111",
                                     bank_bin="970405", bank_account="1234567890123", bank_account_name="TRUONG THCS TU LE")
        primary = School.objects.create(name="Trường Tiểu học Tú Lệ", short_name="TH Tú Lệ",
                                        level=SchoolLevel.PRIMARY, village=village)
        thcs.catchment_villages.set([village])
        primary.catchment_villages.set([village])

        def staff(school, user, position):
            return StaffMember.objects.create(school=school, user=user, full_name=user.full_name, position=position)

        staff_rows = {
            "principal": staff(thcs, p["principal"], StaffPosition.PRINCIPAL),
            "vice": staff(thcs, p["vice"], StaffPosition.VICE_PRINCIPAL),
            "math": staff(thcs, p["math"], StaffPosition.TEACHER),
            "literature": staff(thcs, p["literature"], StaffPosition.TEACHER),
            "accountant": staff(thcs, p["accountant"], StaffPosition.ACCOUNTANT),
            "clerk": staff(thcs, p["clerk"], StaffPosition.CLERK),
            "primary_principal": staff(primary, p["primary_principal"], StaffPosition.PRINCIPAL),
            "primary_teacher": staff(primary, p["primary_teacher"], StaffPosition.TEACHER),
        }
        class6a = SchoolClass.objects.create(school=thcs, year=year, grade=6, name="6A",
                                             homeroom_teacher=staff_rows["literature"], room="P6A")
        class6b = SchoolClass.objects.create(school=thcs, year=year, grade=6, name="6B", room="P6B")
        class1a = SchoolClass.objects.create(school=primary, year=year, grade=1, name="1A",
                                             homeroom_teacher=staff_rows["primary_teacher"], room="P1A")
        subjects6 = {s.code: s for s in Subject.objects.filter(grade=6)}
        subjects1 = {s.code: s for s in Subject.objects.filter(grade=1)}
        TeachingAssignment.objects.create(school_class=class6a, subject=subjects6["toan"], teacher=staff_rows["math"])
        TeachingAssignment.objects.create(school_class=class6a, subject=subjects6["ngu_van"],
                                          teacher=staff_rows["literature"])
        TeachingAssignment.objects.create(school_class=class6b, subject=subjects6["toan"], teacher=staff_rows["math"])
        for subject in subjects1.values():
            TeachingAssignment.objects.create(school_class=class1a, subject=subject,
                                              teacher=staff_rows["primary_teacher"])

        household = services.save_household(Household(code="TT-001", village=village, phone=PARENT_PHONE,
                                                       address="Bản Thử Trường"))
        far_household = services.save_household(Household(code="TT-002", village=far_village, phone="0912000444",
                                                           address="Bản Xa Trường"))

        def resident(name, born, sex, relation, home=household, personal_id=None):
            return services.save_resident(Resident(household=home, full_name=name, birth_date=born, sex=sex,
                                                   relation=relation, ethnicity="03", personal_id=personal_id))

        mother = resident("Lường Thị Mẹ", datetime.date(1988, 4, 2), "female", "head", personal_id="015188004321")
        names6 = [("Lò Văn An", "male"), ("Lường Thị Bình", "female"), ("Hà Văn Cường", "male"),
                  ("Vì Thị Dung", "female"), ("Cầm Văn Em", "male")]
        students6 = []
        for number, (name, sex) in enumerate(names6, start=1):
            child = resident(name, datetime.date(2015, number, 10), sex, "child")
            student = Student.objects.create(resident=child)
            Enrolment.objects.create(student=student, school_class=class6a, year=year, number=number,
                                     starts_on=year.starts_on)
            students6.append(student)
        Guardian.objects.create(student=students6[0], resident=mother, full_name=mother.full_name,
                                relation=Guardian.Relation.MOTHER, phone=PARENT_PHONE)
        for student in students6[1:]:
            Guardian.objects.create(student=student, full_name=f"Phụ huynh {student.resident.full_name}",
                                    relation=Guardian.Relation.FATHER, phone=f"09120011{student.pk % 100:02d}")
        students1 = []
        for number, (name, sex) in enumerate([("Lò Thị Gấm", "female"), ("Hà Văn Hải", "male"),
                                              ("Lường Văn Kiên", "male")], start=1):
            child = resident(name, datetime.date(2020, number, 3), sex, "child",
                             home=household if number == 1 else far_household)
            student = Student.objects.create(resident=child)
            Enrolment.objects.create(student=student, school_class=class1a, year=year, number=number,
                                     starts_on=year.starts_on)
            students1.append(student)
        Guardian.objects.create(student=students1[0], resident=mother, full_name=mother.full_name,
                                relation=Guardian.Relation.MOTHER, phone=PARENT_PHONE)
        yield {
            "year": year, "sem1": sem1, "sem2": sem2, "thcs": thcs, "primary": primary, "staff": staff_rows,
            "class6a": class6a, "class6b": class6b, "class1a": class1a, "subjects6": subjects6,
            "subjects1": subjects1, "students6": students6, "students1": students1, "village": village,
            "far_village": far_village, "household": household, "far_household": far_household, "mother": mother,
        }
