"""A homeroom teacher takes attendance on a 360 px phone in a real browser (Debian's Chromium,
driven by Playwright): the day's page and the month's grid stay within the screen, every choice is
a touch target of at least 44 px, and a tap on "without leave" with a reason, then "save", writes
the absence.

A threaded WSGI server serves the test database; the rows the browser needs are committed and
removed afterwards."""
from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from communes.models import Commune, Membership, Role, User
from tests.browser import live_server, require_chromium
from tests.conftest import host_client

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 12, 7)
SCHOOL = "Trường THCS Trình Duyệt"
VILLAGE = "Bản Trình Duyệt"
NAMES = ["Lò Thị Hoàng Phương Thảo Nguyên Khánh Linh Ngọc", "Hà Văn Bình", "Vì Thị Chi"]


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    from education import attendance
    from education.models import (
        Enrolment, School, SchoolClass, SchoolLevel, SchoolYear, Semester, StaffMember, StaffPosition, Student,
    )
    from population import services
    from population.models import AccessLog, Household, Resident, Village

    require_chromium()
    patch = pytest.MonkeyPatch()
    patch.setattr(attendance, "today", lambda: TODAY)
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        tule = Commune.objects.get(code="04630")
        teacher = User.objects.create_user("browser_att_teacher", password="Mat-khau-2026!", full_name="Cô Chủ Nhiệm")
        Membership.objects.create(user=teacher, commune=tule, role=Role.SCHOOL_STAFF)
        try:
            with schema_context(tule.schema_name):
                village = services.save_village(Village(name=VILLAGE))
                household = services.save_household(Household(code="TD-001", village=village, address=VILLAGE))
                year = SchoolYear.objects.create(name="B2026-27", starts_on=datetime.date(2026, 9, 5),
                                                 ends_on=datetime.date(2027, 5, 31))
                Semester.objects.create(year=year, number=1, starts_on=year.starts_on,
                                        ends_on=datetime.date(2027, 1, 16))
                school = School.objects.create(name=SCHOOL, level=SchoolLevel.LOWER_SECONDARY)
                staff = StaffMember.objects.create(school=school, user=teacher, full_name=teacher.full_name,
                                                   position=StaffPosition.TEACHER)
                school_class = SchoolClass.objects.create(school=school, year=year, grade=6, name="6T",
                                                          homeroom_teacher=staff)
                enrolments = []
                for number, name in enumerate(NAMES, start=1):
                    child = services.save_resident(Resident(
                        household=household, full_name=name, birth_date=datetime.date(2015, number, 1),
                        sex="female", relation="head" if number == 1 else "child", ethnicity="03"))
                    student = Student.objects.create(resident=child)
                    enrolments.append(Enrolment.objects.create(student=student, school_class=school_class, year=year,
                                                               number=number, starts_on=year.starts_on))
                client = host_client("tule.localhost", teacher)
                session = client.cookies[settings.SESSION_COOKIE_NAME].value
            connection.set_schema_to_public()
            with live_server() as port:
                yield {"port": port, "session": session, "class": school_class, "enrolments": enrolments,
                       "commune": tule}
        finally:
            patch.undo()
            connection.set_schema_to_public()
            with schema_context(tule.schema_name):
                from education.models import Absence, AttendanceDay

                school_ids = list(School.objects.filter(name=SCHOOL).values_list("pk", flat=True))
                Absence.objects.filter(enrolment__school_class__school_id__in=school_ids).delete()
                AttendanceDay.objects.filter(school_class__school_id__in=school_ids).delete()
                student_ids = list(Enrolment.objects.filter(school_class__school_id__in=school_ids)
                                   .values_list("student_id", flat=True))
                Enrolment.objects.filter(school_class__school_id__in=school_ids).delete()
                Student.objects.filter(pk__in=student_ids).delete()
                SchoolClass.objects.filter(school_id__in=school_ids).delete()
                StaffMember.objects.filter(school_id__in=school_ids).delete()
                School.objects.filter(pk__in=school_ids).delete()
                SchoolYear.objects.filter(name="B2026-27").delete()
                School.history.model.objects.filter(id__in=school_ids).delete()
                StaffMember.history.model.objects.filter(school_id__in=school_ids).delete()
                Student.history.model.objects.filter(id__in=student_ids).delete()
                Enrolment.history.model.objects.filter(student_id__in=student_ids).delete()
                class_ids = list(SchoolClass.history.model.objects.filter(school_id__in=school_ids)
                                 .values_list("id", flat=True).distinct())
                AccessLog.objects.filter(object_type="school_class", object_id__in=[str(pk) for pk in class_ids]) \
                    .delete()
                households = Household.objects.filter(village__name=VILLAGE)
                household_ids = list(households.values_list("pk", flat=True))
                households.update(head=None)
                resident_ids = list(Resident.objects.filter(household_id__in=household_ids).values_list("pk", flat=True))
                Resident.objects.filter(pk__in=resident_ids).delete()
                households.delete()
                village_ids = list(Village.objects.filter(name=VILLAGE).values_list("pk", flat=True))
                Village.objects.filter(pk__in=village_ids).delete()
                Resident.history.model.objects.filter(id__in=resident_ids).delete()
                Household.history.model.objects.filter(id__in=household_ids).delete()
                Village.history.model.objects.filter(id__in=village_ids).delete()
                SchoolClass.history.model.objects.filter(school_id__in=school_ids).delete()
            connection.set_schema_to_public()
            from django.contrib.sessions.models import Session

            Session.objects.all().delete()
            Membership.objects.filter(user=teacher).delete()
            User.objects.filter(pk=teacher.pk).delete()


def test_a_teacher_takes_attendance_on_a_phone(site, browser):
    from education.models import Absence

    base = f"http://tule.localhost:{site['port']}"
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": site["session"], "url": base}])
    page = context.new_page()
    day_url = f"{base}/schools/classes/{site['class'].pk}/attendance/{TODAY.isoformat()}/"
    page.goto(day_url)
    assert NAMES[0] in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    heights = page.eval_on_selector_all(".att-choices label", "els => els.map(e => e.getBoundingClientRect().height)")
    assert len(heights) == 4 * len(NAMES) and min(heights) >= 44
    first = site["enrolments"][0].pk
    page.click(f"#student-{first} input[value=unexcused]")
    page.fill(f"input[name=reason_{first}]", "Không rõ lý do")
    page.click("#attendance-form button[type=submit]")
    page.wait_for_url(day_url)
    assert page.is_checked(f"#student-{first} input[value=unexcused]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(f"{base}/schools/classes/{site['class'].pk}/attendance/month/?month=2026-12")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
    with schema_context(site["commune"].schema_name):
        absence = Absence.objects.get(enrolment_id=first, date=TODAY)
        assert (absence.kind, absence.reason) == ("unexcused", "Không rõ lý do")
