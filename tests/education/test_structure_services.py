"""The structure's services: a year with its semesters, classes and teaching assignments, staff
(nobody adds themselves or raises their own position), enrolment from the registry with the
household's guardians, and the enrolment changes (transfer out and in, another class, promotion
and repetition), each refused in Vietnamese where the rules say so."""
from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from education import structure
from education.models import (
    Enrolment, Guardian, Mark, SchoolClass, SchoolYear, Semester, StaffMember, StaffPosition, Subject,
    TeachingAssignment,
)

pytestmark = pytest.mark.django_db(transaction=False)


def t(msgid: str, **params) -> str:
    """The message as the active language says it (the catalogue may not be built yet)."""
    return gettext(msgid) % params if params else gettext(msgid)


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return " ".join(info.value.messages)


def test_open_year_makes_two_semesters_the_subjects_and_one_current_year(tule, in_commune):
    with in_commune(tule):
        year = structure.open_year("2026-2027", datetime.date(2026, 9, 5))
        assert year.current
        s1, s2 = Semester.objects.filter(year=year).order_by("number")
        assert (s1.starts_on, s1.ends_on, s1.weeks) == (datetime.date(2026, 9, 5), datetime.date(2027, 1, 8), 18)
        assert s2.starts_on == datetime.date(2027, 1, 11) and s2.starts_on.weekday() == 0
        assert s2.ends_on == datetime.date(2027, 5, 9) and s2.weeks == 17 and year.ends_on == s2.ends_on
        assert Subject.objects.filter(grade=6, code="toan").exists()
        assert t("The school year %(name)s is already open.", name="2026-2027") in refusal(
            structure.open_year, "2026-2027", datetime.date(2026, 9, 5))
        assert t("A school year is named by its two calendar years, for example 2026-2027.") in refusal(
            structure.open_year, "2026-2028", datetime.date(2026, 9, 5))
        assert t("The year %(name)s starts between July and December %(year)s.", name="2027-2028", year="2027") in refusal(
            structure.open_year, "2027-2028", datetime.date(2026, 9, 5))
        following = structure.open_year("2027-2028", datetime.date(2027, 9, 6), current=False)
        assert not following.current and SchoolYear.objects.get(current=True) == year
        assert structure.next_year_name() == "2028-2029"


def test_semester_dates_change_until_marks_exist(tule, in_commune, schoolyard):
    year = schoolyard["year"]
    with in_commune(tule):
        assert t("Each semester ends after it starts, and semester 2 starts after semester 1 ends.") in refusal(structure.edit_semesters, year, {
            1: (datetime.date(2026, 9, 5), datetime.date(2027, 1, 20)),
            2: (datetime.date(2027, 1, 10), datetime.date(2027, 5, 25))})
        structure.edit_semesters(year, {1: (datetime.date(2026, 9, 7), datetime.date(2027, 1, 15)),
                                        2: (datetime.date(2027, 1, 18), datetime.date(2027, 5, 28))})
        year.refresh_from_db()
        assert (year.starts_on, year.ends_on) == (datetime.date(2026, 9, 7), datetime.date(2027, 5, 28))
        Mark.objects.create(enrolment=Enrolment.objects.first(), subject=schoolyard["subjects6"]["toan"],
                            period="sem1", column="tx1", score=8)
        assert t("Marks were already entered in this year: its semesters' dates can no longer change.") in refusal(
            structure.edit_semesters, year, {
            1: (datetime.date(2026, 9, 5), datetime.date(2027, 1, 15)),
            2: (datetime.date(2027, 1, 18), datetime.date(2027, 5, 28))})


def test_classes_grades_homeroom_and_assignments(tule, in_commune, schoolyard):
    thcs, primary, year = schoolyard["thcs"], schoolyard["primary"], schoolyard["year"]
    with in_commune(tule):
        assert t("%(school)s teaches grades %(grades)s.", school=thcs.name, grades="6, 7, 8, 9") in refusal(
            structure.save_class, thcs, year=year, name="3A", grade=3)
        assert t("The school already has a class %(name)s in %(year)s.", name="6a", year="2026-2027") in refusal(
            structure.save_class, thcs, year=year, name="6a", grade=6)
        other_teacher = schoolyard["staff"]["primary_teacher"]
        assert t("The homeroom teacher must be on the school's staff.") in refusal(
            structure.save_class, thcs, year=year, name="7A", grade=7, homeroom_teacher=other_teacher)
        class7 = structure.save_class(thcs, year=year, name="7A", grade=7, homeroom_teacher=schoolyard["staff"]["math"])
        assert class7.school == thcs and class7.grade == 7
        assert t("Students are enrolled in this class: its grade can no longer change.") in refusal(structure.save_class, thcs, year=year, name="6A", grade=7,
                                           instance=schoolyard["class6a"])
        math7 = Subject.objects.get(grade=7, code="toan")
        assert structure.set_assignments(class7, {math7.pk: schoolyard["staff"]["math"].pk}) == 1
        assert TeachingAssignment.objects.get(school_class=class7, subject=math7).teacher == schoolyard["staff"]["math"]
        assert t("This subject is not taught in grade %(grade)s.", grade=7) in refusal(structure.set_assignments, class7, {schoolyard["subjects6"]["toan"].pk: None})
        assert t("The teacher must be on the school's staff.") in refusal(structure.set_assignments, class7, {math7.pk: other_teacher.pk})
        assert [s.grade for s, _t in structure.assignment_grid(class7)] == [7] * Subject.objects.filter(grade=7).count()
        assert t("%(school)s teaches grades %(grades)s.", school=primary.name, grades="1, 2, 3, 4, 5") in refusal(
            structure.save_class, primary, year=year, name="6A", grade=6)


def test_staff_nobody_adds_themselves_or_raises_their_position(tule, in_commune, schoolyard, school_people, make_user):
    from communes.models import Role

    p, thcs = school_people, schoolyard["thcs"]
    newcomer = make_user("edu_newcomer", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Mới Đến")
    with in_commune(tule):
        assert t("Nobody adds themselves to a school's staff: ask the principal or the commune's administrator.") in refusal(
            structure.add_staff, thcs, p["clerk"], user=p["clerk"])
        not_candidate = t("This account is not a teacher of the commune, or is already on the school's staff.")
        assert not_candidate in refusal(structure.add_staff, thcs, p["principal"], user=p["math"])
        assert not_candidate in refusal(structure.add_staff, thcs, p["principal"], user=p["radio"])
        only_principal = t("Only the principal appoints a principal or a vice-principal.")
        assert only_principal in refusal(structure.add_staff, thcs, p["clerk"], user=newcomer,
                                         position=StaffPosition.VICE_PRINCIPAL)
        member = structure.add_staff(thcs, p["clerk"], user=newcomer, position=StaffPosition.TEACHER, phone="0912 111 222")
        assert (member.full_name, member.phone) == ("Mới Đến", "0912111222")
        named = structure.add_staff(thcs, p["clerk"], full_name="Giáo Viên Không Tài Khoản")
        assert named.user_id is None
        own = StaffMember.objects.get(school=thcs, user=p["vice"])
        assert t("Nobody changes their own position: ask the principal or the commune's administrator.") in refusal(
            structure.update_staff, own, p["vice"], position=StaffPosition.PRINCIPAL, active=True)
        assert only_principal in refusal(structure.update_staff, member, p["vice"],
                                         position=StaffPosition.VICE_PRINCIPAL, active=True)
        structure.update_staff(member, p["principal"], position=StaffPosition.VICE_PRINCIPAL, active=True)
        literature = schoolyard["staff"]["literature"]
        structure.update_staff(literature, p["principal"], position=StaffPosition.TEACHER, active=False)
        assert SchoolClass.objects.get(pk=schoolyard["class6a"].pk).homeroom_teacher is None
        assert newcomer not in structure.staff_candidates(thcs)
        assert p["unplaced"] in structure.staff_candidates(thcs) and p["radio"] not in structure.staff_candidates(thcs)


def _child(household, name, born, sex="male", personal_id=None):
    from population import services
    from population.models import Resident

    return services.save_resident(Resident(household=household, full_name=name, birth_date=born, sex=sex,
                                           relation="child", ethnicity="03", personal_id=personal_id))


def test_enrol_from_the_registry_with_the_households_guardians(tule, in_commune, schoolyard):
    with in_commune(tule):
        child = _child(schoolyard["household"], "Lò Văn Mới", datetime.date(2015, 6, 1))
        found = list(structure.search_children(schoolyard["class6b"], "lo van moi"))
        assert child in found
        assert child not in structure.search_children(schoolyard["class1a"], "lo van moi")
        enrolment = structure.enrol(schoolyard["class6b"], child)
        assert (enrolment.number, enrolment.entry, enrolment.status) == (1, "new", "active")
        guardian = Guardian.objects.get(student=enrolment.student)
        assert (guardian.full_name, guardian.relation, guardian.phone) == ("Lường Thị Mẹ", "mother", "0912000222")
        message = refusal(structure.enrol, schoolyard["class6a"], child)
        assert message == t("This child is already studying this year in class %(class)s of %(school)s.",
                             **{"class": "6B", "school": "Trường THCS Tú Lệ"})
        # The database's own rule answers with the same message in a race.
        with pytest.raises(IntegrityError), transaction.atomic():
            Enrolment.objects.create(student=enrolment.student, school_class=schoolyard["class6a"],
                                     year=schoolyard["year"], starts_on=schoolyard["year"].starts_on)
        other = _child(schoolyard["far_household"], "Hà Văn Chuyển", datetime.date(2015, 2, 2))
        assert t("Give the school the student comes from.") in refusal(
            structure.enrol, schoolyard["class6b"], other, entry="transferred_in")
        came = structure.enrol(schoolyard["class6b"], other, entry="transferred_in", came_from="THCS Nghĩa Lộ",
                               guardians=[{"full_name": "Hà Văn Bố", "relation": "father", "phone": "+84 987 654 321"}])
        assert (came.entry, came.came_from, came.number) == ("transferred_in", "THCS Nghĩa Lộ", 2)
        assert list(came.student.guardians.values_list("phone", flat=True)) == ["0987654321"]
        assert t("%(name)s is not of school age.", name="Lường Thị Mẹ") in refusal(
            structure.enrol, schoolyard["class6b"], schoolyard["mother"])
        third = _child(schoolyard["far_household"], "Hà Thị Ba", datetime.date(2015, 3, 3), "female")
        assert t("This is not a Vietnamese mobile number (10 digits, for example 0912345678).") in refusal(
            structure.enrol, schoolyard["class6b"], third,
                                    guardians=[{"full_name": "X", "relation": "father", "phone": "12345"}])
        assert not Enrolment.objects.filter(student__resident=third).exists()


def test_transfer_out_move_promote_and_repeat(tule, in_commune, schoolyard):
    an, binh, cuong = schoolyard["students6"][:3]
    year = schoolyard["year"]
    with in_commune(tule):
        first = Enrolment.objects.get(student=an, status="active")
        today = structure.today()
        assert t("Give the school the student goes to.") in refusal(structure.transfer_out, first, on=today,
                                                                     reason="Chuyển nhà")
        assert t("The date cannot be in the future.") in refusal(structure.transfer_out, first, on=today + datetime.timedelta(days=3),
                                      went_to="THCS Sơn Thịnh", reason="Chuyển nhà")
        done = structure.transfer_out(first, on=today, went_to="THCS Sơn Thịnh", reason="Gia đình chuyển nhà")
        assert (done.status, done.ends_on, done.went_to) == ("transferred_out", today, "THCS Sơn Thịnh")
        assert t("This enrolment has already ended (%(status)s).", status=t("Transferred out")) in refusal(
            structure.transfer_out, first, on=today, went_to="X", reason="Y")
        # Back later, transferred in again: a new open enrolment is allowed once the first ended.
        again = structure.enrol(schoolyard["class6b"], an.resident, entry="transferred_in", came_from="THCS Sơn Thịnh")
        assert again.status == "active"

        second = Enrolment.objects.get(student=binh, status="active")
        moved = structure.move_class(second, schoolyard["class6b"], on=today, reason="Theo nguyện vọng")
        second.refresh_from_db()
        assert (second.status, second.ends_on) == ("moved_class", today)
        assert (moved.school_class, moved.entry, moved.starts_on, moved.came_from) == (
            schoolyard["class6b"], "moved_class", today, "6A")
        assert t("Choose a class of the same school and year.") in refusal(structure.move_class, moved, schoolyard["class1a"], on=today)

        nxt = structure.open_year("2027-2028", datetime.date(2027, 9, 6), current=False)
        class7 = SchoolClass.objects.create(school=schoolyard["thcs"], year=nxt, grade=7, name="7A")
        class6_next = SchoolClass.objects.create(school=schoolyard["thcs"], year=nxt, grade=6, name="6A")
        third = Enrolment.objects.get(student=cuong, status="active")
        assert t("A promoted student goes to grade %(grade)s.", grade=7) in refusal(structure.promote, third, class6_next)
        assert t("A repeating student stays in grade %(grade)s.", grade=6) in refusal(structure.repeat, third, class7)
        assert t("Choose a class of the next school year.") in refusal(structure.promote, third, schoolyard["class6b"])
        promoted = structure.promote(third, class7)
        third.refresh_from_db()
        assert (third.status, third.ends_on) == ("completed", year.ends_on)
        assert (promoted.entry, promoted.year, promoted.number, promoted.starts_on) == (
            "promoted", nxt, 1, nxt.starts_on)
        dung = Enrolment.objects.get(student=schoolyard["students6"][3], status="active", year=year)
        repeating = structure.repeat(dung, class6_next)
        assert (repeating.entry, repeating.school_class) == ("repeating", class6_next)
        assert Enrolment.objects.filter(student=cuong, status="active").count() == 1
