"""The pages in a real browser (Debian's Chromium, driven by Playwright) on a 360 px phone screen.

A threaded WSGI server serves the test database; the rows the browser needs are committed
(the server has its own connection) and removed afterwards.
"""
from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from communes.models import Commune, Membership, Role, User
from tests.browser import live_server, require_chromium

# Also tells pytest-django that this module needs the test database.
pytestmark = pytest.mark.django_db

PASSWORD = "Mat-khau-2026!"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        from population.models import Household, Resident, Village

        tule = Commune.objects.get(code="04630")
        user = User.objects.create_user("browser_specialist", password=PASSWORD, full_name="Lò Thị Duyên")
        Membership.objects.create(user=user, commune=tule, role=Role.SPECIALIST)
        with schema_context(tule.schema_name):
            village = Village.objects.create(name="Bản Thử Trình Duyệt")
            household = Household.objects.create(code="BR-001", village=village, address="Bản Thử Trình Duyệt")
            resident = Resident.objects.create(
                household=household, full_name="Nguyễn Văn An", birth_date=datetime.date(1990, 5, 17),
                sex="male", ethnicity="01", personal_id="015090123456", relation="head",
            )
        with live_server() as port:
            try:
                yield {"port": port, "resident": resident}
            finally:
                with schema_context(tule.schema_name):
                    Resident.objects.filter(pk=resident.pk).delete()
                    Household.objects.filter(pk=household.pk).delete()
                    Village.objects.filter(pk=village.pk).delete()
                    from population.models import AccessLog

                    AccessLog.objects.filter(username="browser_specialist").delete()
                connection.set_schema_to_public()
                from django.contrib.sessions.models import Session

                Session.objects.all().delete()
                User.objects.filter(pk=user.pk).delete()  # memberships go with it


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    context.close()


def check_phone_layout(page):
    """Nothing wider than the screen, Vietnamese, htmx loaded where the page uses it (the
    citizens' layout leaves it out on 3G), no script errors."""
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url
    uses_htmx = page.evaluate(
        "[...document.querySelectorAll('*')].some(e => [...e.attributes].some(a => a.name.startsWith('hx-')))"
    )
    if uses_htmx:
        assert page.evaluate("typeof window.htmx") == "object", page.url
    assert page.console_errors == []


def test_public_pages_fit_a_phone(site, phone):
    base = f"http://localhost:{site['port']}"
    phone.goto(base + "/")
    assert "Lào Cai" in phone.content()
    check_phone_layout(phone)
    phone.goto(base + "/provinces/15/")
    check_phone_layout(phone)
    phone.goto(f"http://tule.localhost:{site['port']}/accounts/login/")
    assert phone.locator("h1").inner_text() == "Đăng nhập"
    check_phone_layout(phone)


def test_an_official_logs_in_and_finds_a_resident_without_accents(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    phone.goto(base + "/accounts/login/")
    phone.fill("input[name=username]", "browser_specialist")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    # A specialist signs and exports the registry: the first login sets up the authenticator app.
    phone.wait_for_url(base + "/accounts/2fa/**")
    import pyotp

    secret = phone.locator("#totp-secret").inner_text().replace(" ", "")
    phone.fill("input[name=code]", pyotp.TOTP(secret).now())
    phone.locator("form.card button[type=submit]").click()
    phone.wait_for_url(base + "/")
    assert "Quản lý nhân khẩu" in phone.content()
    check_phone_layout(phone)

    phone.goto(base + "/population/")
    phone.fill("input[name=q]", "nguyen van an")
    phone.press("input[name=q]", "Enter")
    phone.wait_for_load_state()
    row = phone.locator("table tbody tr", has_text="Nguyễn Văn An")
    assert row.count() == 1
    assert "015******456" in row.inner_text() and "015090123456" not in phone.content()
    check_phone_layout(phone)

    row.locator("a").first.click()
    phone.wait_for_load_state()
    assert "015090123456" in phone.content()  # the full number on the (logged) detail page
    assert "17/05/1990" in phone.content()
    check_phone_layout(phone)

    for path in ("/population/residents/new/", "/population/households/new/", "/population/residents/import/"):
        phone.goto(base + path)
        check_phone_layout(phone)
