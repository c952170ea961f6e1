"""The citizen's journey of online enrolment in a real browser (Debian's Chromium, driven by
Playwright) on a 360 px phone: the explanation page, logging in, the form sent with a birth date
too young (the error summary at the top, what was typed and the chosen file kept), sent again
without choosing the file again, the confirmation panel with the reference and the expected
answer date, then "My applications" and the application's page; no page wider than the screen, no
script error (the strict CSP refuses inline scripts and styles).

A threaded WSGI server serves the test database: the rows the browser reads are committed here
and removed afterwards, with their history rows."""
from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.browser import live_server, require_chromium

pytestmark = pytest.mark.django_db

PHONE = "0912777866"
PASSWORD = "Con-Em-Vao-Lop-1"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    from communes.models import Commune, User
    from education.models import Application, School, SchoolLevel, SchoolYear, Sequence
    from notifications.models import Notification
    from population.models import AccessLog, Household, Resident, Village

    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        tule = Commune.objects.get(code="04630")
        parent = User.objects.create_user(PHONE, password=PASSWORD, full_name="Lò Thị Mẹ Điện Thoại", phone=PHONE)
        made: list = []

        def keep(obj):
            made.append(obj)
            return obj

        last_notification = None
        try:
            with schema_context(tule.schema_name):
                # The SMS to the parent is committed with the application: removed after.
                last_notification = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                year = SchoolYear.objects.filter(current=True).first() or keep(SchoolYear.objects.create(
                    name="2026-2027", starts_on=datetime.date(2026, 9, 5), ends_on=datetime.date(2027, 5, 31),
                    current=True))
                village = keep(Village.objects.create(name="Bản Tuyển Sinh Điện Thoại"))
                household = keep(Household.objects.create(code="ENROL-PHONE-1", village=village, phone=PHONE,
                                                          address="Bản Tuyển Sinh Điện Thoại"))
                child = keep(Resident.objects.create(household=household, full_name="Lò Văn Bé Vào Lớp Một",
                                                     sex="male", birth_date=datetime.date(year.starts_on.year - 6, 3, 9),
                                                     relation="child", ethnicity="03"))
                school = keep(School.objects.create(name="Trường Tiểu học Thử Tuyển Sinh Trên Điện Thoại",
                                                    short_name="TH Thử", level=SchoolLevel.PRIMARY))
                school.catchment_villages.set([village])
            connection.set_schema_to_public()
            with live_server() as port:
                yield {"port": port, "parent": parent, "school": school, "year": year, "child": child}
        finally:
            with schema_context(tule.schema_name):
                AccessLog.objects.filter(user_id=parent.pk).delete()
                ids = list(Application.objects.filter(applicant_id=parent.pk).values_list("pk", flat=True))
                for application in Application.objects.filter(pk__in=ids):
                    application.documents.all().delete()
                Application.objects.filter(pk__in=ids).delete()
                Application.history.filter(id__in=ids).delete()
                if last_notification is not None:
                    Notification.objects.filter(pk__gt=last_notification).delete()
                if made and isinstance(made[0], SchoolYear):
                    Sequence.objects.filter(name=f"education.applications.{made[0].pk}").delete()
                for obj in reversed(made):
                    model = type(obj)
                    if model is School:
                        obj.catchment_villages.clear()
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


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    context.close()


def fits(page) -> None:
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"
    assert page.console_errors == []


def test_the_citizen_applies_on_a_phone(site, phone, tmp_path):
    base = f"http://tule.localhost:{site['port']}"
    phone.goto(base + "/school-enrolment/")
    fits(phone)
    assert "Trường Tiểu học Thử Tuyển Sinh Trên Điện Thoại" in phone.locator("#enrolment-schools").inner_text()
    phone.click("main a.button.big")
    assert "/login/" in phone.url
    phone.fill("input[name=username]", PHONE)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form.card button[type=submit]")
    phone.wait_for_url(base + "/school-enrolment/apply/")
    fits(phone)

    paper = tmp_path / "giay-khai-sinh.pdf"
    paper.write_bytes(PDF)
    phone.check("input[name=grade][value='1']")
    phone.select_option("select[name=school]", str(site["school"].pk))
    phone.fill("input[name=child_name]", "Lò Văn Bé Vào Lớp Một")
    too_young = datetime.date(site["year"].starts_on.year - 5, 3, 9)
    phone.fill("input[name=child_birth_date]", too_young.strftime("%d/%m/%Y"))
    phone.check("input[name=child_sex][value=male]")
    phone.set_input_files("input[name=birth_certificate]", str(paper))
    phone.click("#enrolment-form button[type=submit]")
    phone.wait_for_load_state("networkidle")
    fits(phone)
    summary = phone.locator(".error-summary")
    assert summary.count() == 1 and str(site["year"].starts_on.year - 6) in summary.inner_text()
    assert phone.input_value("input[name=child_name]") == "Lò Văn Bé Vào Lớp Một"
    assert "giay-khai-sinh.pdf" in phone.locator(".kept-upload").inner_text()

    phone.fill("input[name=child_birth_date]", site["child"].birth_date.strftime("%d/%m/%Y"))
    phone.click("#enrolment-form button[type=submit]")
    phone.wait_for_url(re.compile(r".*/school-enrolment/applications/\d+/sent/$"))
    fits(phone)
    code = phone.locator("#application-code").inner_text()
    assert re.fullmatch(r"TS\d{2}-\d{6}", code)
    assert phone.locator(".panel-confirm .ref-date").count() == 1
    assert phone.locator("#catchment-in").count() == 1

    phone.click("a[href='/school-enrolment/applications/']")
    fits(phone)
    assert code in phone.locator("#my-applications").inner_text()
    phone.click("#my-applications a.name")
    fits(phone)
    assert phone.locator("#withdraw-section").count() == 1
    assert "giay-khai-sinh.pdf" in phone.locator("main").inner_text()
