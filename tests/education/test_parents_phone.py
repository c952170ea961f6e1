"""The parent's pages in a real browser (Debian's Chromium, driven by Playwright) on a 360 px
phone: logged in through the login page, the list of children and a child's page with marks,
results, attendance, timetable and messages are never wider than the screen, and each first load
transfers at most 150 KB, counted as Chromium counts it (``Network.loadingFinished`` →
``encodedDataLength``, cache disabled).

A threaded WSGI server serves the test database: the rows the browser reads are committed here
(the server has its own connection) and removed afterwards, with their history rows."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.browser import live_server, require_chromium

pytestmark = pytest.mark.django_db

PHONE = "0912777999"
PASSWORD = "Con-Em-Toi-2026"
BUDGET = 150 * 1024


def _rows(tule, made):
    """A school with class 8P, the parent's son with marks, a locked semester's results, absences,
    a full week's timetable and long messages."""
    from education.curriculum import ensure_subjects
    from education.models import (
        Absence, AssessmentLock, Enrolment, Guardian, Mark, Message, School, SchoolClass, SchoolLevel, SchoolYear,
        Semester, StaffMember, Student, StudentResult, Subject, SubjectResult, TimetableSlot,
    )
    from population.models import Household, Resident, Village

    def keep(obj):
        made.append(obj)
        return obj

    ensure_subjects()
    today = timezone.localdate()
    year = SchoolYear.objects.filter(current=True).first() or keep(SchoolYear.objects.create(
        name="2097-2098", starts_on=today - datetime.timedelta(days=100), ends_on=today + datetime.timedelta(days=200)))
    semesters = list(Semester.objects.filter(year=year).order_by("number"))
    if not semesters:
        semesters = [keep(Semester.objects.create(year=year, number=1, starts_on=year.starts_on,
                                                  ends_on=today + datetime.timedelta(days=30))),
                     keep(Semester.objects.create(year=year, number=2, starts_on=today + datetime.timedelta(days=31),
                                                  ends_on=year.ends_on))]
    village = keep(Village.objects.create(name="Bản Điện Thoại"))
    household = keep(Household.objects.create(code="PHONE-TEST-1", village=village, address="Bản Điện Thoại"))
    school = keep(School.objects.create(name="Trường Phổ thông Dân tộc Bán trú THCS Thử Điện Thoại",
                                        short_name="PTDTBT THCS Thử", level=SchoolLevel.LOWER_SECONDARY))
    teacher = keep(StaffMember.objects.create(school=school, full_name="Hoàng Thị Chủ Nhiệm Lớp Tám"))
    school_class = keep(SchoolClass.objects.create(school=school, year=year, grade=8, name="8P",
                                                   homeroom_teacher=teacher, room="Phòng học tầng hai số 8P"))
    resident = keep(Resident.objects.create(household=household, full_name="Lò Văn Con Trai Đầu Lòng", sex="male",
                                            birth_date=datetime.date(2012, 2, 2), relation="child", ethnicity="03"))
    student = keep(Student.objects.create(resident=resident))
    enrolment = keep(Enrolment.objects.create(student=student, school_class=school_class, year=year, number=1,
                                              starts_on=year.starts_on))
    keep(Guardian.objects.create(student=student, full_name="Lò Thị Mẹ Thử", relation="mother", phone=PHONE))
    subjects = list(Subject.objects.filter(grade=8).order_by("order"))
    for subject in subjects:
        if subject.kind == Subject.Kind.SCORED:
            for column, score in (("tx1", "8.5"), ("tx2", "9.0"), ("tx3", "7.5"), ("tx4", "10.0"), ("mid", "8.0"),
                                  ("end", "9.5")):
                keep(Mark.objects.create(enrolment=enrolment, subject=subject, period="sem1", column=column,
                                         score=Decimal(score)))
            keep(SubjectResult.objects.create(enrolment=enrolment, subject=subject, period="sem1",
                                              average=Decimal("8.9")))
        else:
            keep(Mark.objects.create(enrolment=enrolment, subject=subject, period="sem1", column="level", level="Đ"))
    keep(StudentResult.objects.create(enrolment=enrolment, period="sem1", average=Decimal("8.9"), learning="T",
                                      conduct="T"))
    keep(AssessmentLock.objects.create(school=school, semester=semesters[0]))
    for day in range(1, 4):
        keep(Absence.objects.create(enrolment=enrolment, date=today.replace(day=day), kind="excused",
                                    reason="Đi khám bệnh ở trạm y tế xã cùng bố mẹ"))
    for weekday in range(1, 7):
        for lesson in range(1, 6):
            subject = subjects[(weekday * 5 + lesson) % len(subjects)]
            keep(TimetableSlot.objects.create(school=school, semester=semesters[0], school_class=school_class,
                                              weekday=weekday, lesson=lesson, subject=subject,
                                              room="Phòng học tầng hai số 8P"))
    for n in range(12):
        keep(Message.objects.create(
            school=school, school_class=school_class, student=student if n % 2 else None, sender=teacher,
            body="PTDTBT THCS Thử: Kính gửi quý phụ huynh, thứ Bảy tuần này nhà trường tổ chức họp phụ huynh "
                 "học sinh lúc 8 giờ sáng tại phòng học của lớp; đường dẫn https://tule.example.vn/"
                 "thong-bao-hop-phu-huynh-hoc-ky-mot-nam-hoc " + str(n)))
    return student


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    from communes.models import Commune, User
    from population.models import AccessLog

    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        tule = Commune.objects.get(code="04630")
        parent = User.objects.create_user(PHONE, password=PASSWORD, full_name="Lò Thị Mẹ Thử", phone=PHONE)
        made: list = []
        try:
            with schema_context(tule.schema_name):
                student = _rows(tule, made)
            connection.set_schema_to_public()
            with live_server() as port:
                yield {"port": port, "student": student, "parent": parent, "tule": tule}
        finally:
            with schema_context(tule.schema_name):
                AccessLog.objects.filter(user_id=parent.pk).delete()
                for obj in reversed(made):
                    model = type(obj)
                    model.objects.filter(pk=obj.pk).delete()
                    history = getattr(model, "history", None)
                    if history is not None:
                        history.filter(id=obj.pk).delete()
            connection.set_schema_to_public()
            from django.contrib.sessions.models import Session

            for session in Session.objects.all():
                if session.get_decoded().get("_auth_user_id") == str(parent.pk):
                    session.delete()
            User.objects.filter(pk=parent.pk).delete()


class Meter:
    """Bytes received by the page, as Chromium counts them on the wire (cache disabled)."""

    def __init__(self, page):
        self.sizes: dict[str, int] = {}
        session = page.context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        session.on("Network.loadingFinished", lambda event: self.sizes.__setitem__(
            event["requestId"], int(event["encodedDataLength"])))

    @property
    def total(self) -> int:
        return sum(self.sizes.values())


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    page.meter = Meter(page)
    yield page
    context.close()


def visit(page, url) -> int:
    page.meter.sizes.clear()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"
    assert page.console_errors == []
    assert 0 < page.meter.total <= BUDGET, f"{page.url} transferred {page.meter.total} bytes"
    print(f"{page.url}: {page.meter.total} bytes, {width} px")
    return page.meter.total


def test_the_parent_s_pages_fit_a_phone_and_a_slow_network(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    # Not logged in: the login page of the citizens' layout, and back to the children after it.
    phone.goto(base + "/my-children/")
    assert "/login/" in phone.url and phone.locator("header.site .pub-nav").count() == 1
    phone.fill("input[name=username]", PHONE)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form.card button[type=submit]")
    phone.wait_for_url(base + "/my-children/")

    visit(phone, base + "/my-children/")
    assert phone.locator("#my-children li").count() == 1
    assert "Lò Văn Con Trai Đầu Lòng" in phone.locator("#my-children").inner_text()

    visit(phone, base + f"/my-children/{site['student'].pk}/")
    assert phone.locator("h1").inner_text() == "Lò Văn Con Trai Đầu Lòng"
    assert phone.locator("#marks .kid-list > li").count() >= 8
    assert "8,9" in phone.locator("#results").inner_text()
    assert phone.locator("#timetable h3").count() == 6
    assert phone.locator("#messages .kid-list > li").count() == 12
    # Every section's box stays within the screen.
    boxes = phone.evaluate("Array.from(document.querySelectorAll('section.box')).map(e => e.getBoundingClientRect().right)")
    assert boxes and max(boxes) <= 360
