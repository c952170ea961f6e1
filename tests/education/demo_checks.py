"""The schools' demo base, checked for one demo commune (hooked into tests/test_demo.py, which seeds
the whole demo twice): the two school years, a primary and a lower-secondary school with their
principals, one class per grade with a homeroom teacher and every subject assigned, at most 35
students a class, all of the grade's birth year, each with a guardian where the household has an
adult, and the demo citizen as a guardian in Tú Lệ."""
from __future__ import annotations

from django_tenants.utils import tenant_context


def structure_counts(commune) -> tuple:
    from education.models import Enrolment, Guardian, School, SchoolClass, StaffMember, Student, TeachingAssignment

    with tenant_context(commune):
        return tuple(model.objects.count() for model in (
            School, StaffMember, SchoolClass, TeachingAssignment, Student, Enrolment, Guardian))


def check(commune, *, citizen_phone: str = "0912345678") -> None:
    from communes.models import Membership, Role
    from education.models import (
        Enrolment, Guardian, School, SchoolYear, StaffMember, StaffPosition, Subject, TeachingAssignment,
    )
    from education.structure_demo import CLASS_SIZE, born_in

    slug = commune.domains.order_by("-is_primary").first().domain.split(".")[0]
    for username in (f"{slug}.school_staff", f"{slug}.school_primary"):
        assert Membership.objects.filter(user__username=username, commune=commune, role=Role.SCHOOL_STAFF,
                                         is_active=True).exists(), username
    with tenant_context(commune):
        years = {y.name: y for y in SchoolYear.objects.all()}
        assert {"2025-2026", "2026-2027"} <= set(years) and years["2026-2027"].current
        assert years["2026-2027"].starts_on.isoformat() == "2026-09-05"
        assert years["2026-2027"].semesters.count() == 2
        from communes.demo import DEMO_COMMUNES

        # The schools carry the pilot's name (a merged pilot's commune has the new commune's name).
        name = next((str(spec.name) for spec in DEMO_COMMUNES if spec.code == commune.code),
                    str(commune.name).removeprefix("Xã ").strip())
        primary = School.objects.get(name=f"Trường Tiểu học {name}")
        secondary = School.objects.get(name=f"Trường THCS {name}")
        for school, username in ((primary, f"{slug}.school_primary"), (secondary, f"{slug}.school_staff")):
            assert school.bank_bin == "970405" and school.bank_account.endswith(commune.code)
            assert set(school.bank_account[:-len(commune.code)]) <= {"0"}
            assert school.bank_account_name == "TAI KHOAN THU NGHIEM"
            assert school.catchment_villages.count() >= 1
            principal = StaffMember.objects.get(school=school, position=StaffPosition.PRINCIPAL)
            assert principal.user.username == username
            classes = list(school.classes.filter(year=years["2026-2027"]))
            assert sorted(c.grade for c in classes) == school.grades
            for school_class in classes:
                assert school_class.homeroom_teacher is not None
                assigned = set(TeachingAssignment.objects.filter(school_class=school_class, teacher__isnull=False)
                               .values_list("subject_id", flat=True))
                assert assigned == set(Subject.objects.filter(grade=school_class.grade).values_list("pk", flat=True))
                enrolments = list(Enrolment.objects.filter(school_class=school_class, status="active")
                                  .select_related("student__resident"))
                assert len(enrolments) <= CLASS_SIZE
                assert all(e.student.resident.birth_date.year == born_in(school_class.grade) for e in enrolments)
                assert [e.number for e in enrolments] == list(range(1, len(enrolments) + 1))
        students = Enrolment.objects.filter(year=years["2026-2027"], status="active").count()
        with_guardian = Enrolment.objects.filter(year=years["2026-2027"], status="active",
                                                 student__guardians__isnull=False).distinct().count()
        assert with_guardian >= students * 0.8, (with_guardian, students)
        if slug == "tule":
            for grade in (6, 2):
                if Enrolment.objects.filter(year=years["2026-2027"], school_class__grade=grade).exists():
                    assert Guardian.objects.filter(phone=citizen_phone, student__enrolments__school_class__grade=grade
                                                   ).exists(), grade
