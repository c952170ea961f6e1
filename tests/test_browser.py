"""The pages in a real browser (Debian's Chromium, driven by Playwright) on a 360 px phone screen.

A threaded WSGI server serves the test database; the rows the browser needs are committed
(the server has its own connection) and removed afterwards.
"""
from __future__ import annotations

import datetime
import shutil
import threading

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connection
from django_tenants.utils import schema_context

from communes.models import Commune, Membership, Role, User
from config.wsgi import application

# Also tells pytest-django that this module needs the test database.
pytestmark = pytest.mark.django_db

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "Mat-khau-2026!"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is missing: bin/test installs Debian's chromium package")
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
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            before = {row[0] for row in cursor.fetchall()}
        server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
        server.set_app(StaticFilesHandler(application))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"port": server.server_address[1], "resident": resident}
        finally:
            server.shutdown()
            server.server_close()
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
            # A request thread still held by the browser's keep-alive never closes its connection.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND NOT pid = ANY(%s)",
                    [sorted(before)],
                )


@pytest.fixture(scope="module")
def browser():
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django's ORM calls made by the
    # fixtures meanwhile are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield instance
            instance.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


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
    """Nothing wider than the screen, Vietnamese, htmx loaded, no script errors."""
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url
    assert page.evaluate("typeof window.htmx") == "object"
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
