"""The error pages and the skip link in Chromium, on a 360 px phone screen."""
from __future__ import annotations

import pytest
from django.db import connection

from tests.browser import live_server, require_chromium

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def port(django_db_setup, django_db_blocker):
    require_chromium()
    with django_db_blocker.unblock():
        with live_server() as port:
            try:
                yield port
            finally:
                connection.set_schema_to_public()
                from django.contrib.sessions.models import Session

                Session.objects.all().delete()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url
    # The site's stylesheet is applied (the header's colour), not the browser's defaults.
    assert page.evaluate("getComputedStyle(document.querySelector('header.site')).backgroundColor") == "rgb(164, 22, 26)"


def skip_link_shows_on_focus(page) -> None:
    link = page.locator("a.skip")
    box = link.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, "hidden until focused"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    box = link.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 360, box
    assert link.inner_text() == "Bỏ qua đến nội dung chính"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("host", ["tule", "nowhere"])
def test_page_not_found_fits_a_phone(port, phone, host):
    response = phone.goto(f"http://{host}.localhost:{port}/a/page/that/is/not/here/")
    assert response.status == 404
    fits_the_phone(phone)
    assert "Không tìm thấy trang" in phone.inner_text("main")
    skip_link_shows_on_focus(phone)


def test_server_error_fits_a_phone(port, phone, settings):
    settings.ROOT_URLCONF = "tests.error_urls"
    response = phone.goto(f"http://tule.localhost:{port}/fails/")
    assert response.status == 500
    fits_the_phone(phone)
    assert "Lỗi máy chủ" in phone.inner_text("main")


def test_an_expired_form_fits_a_phone(port, phone):
    phone.goto(f"http://tule.localhost:{port}/accounts/login/")
    phone.context.clear_cookies()  # the page stayed open until its token no longer matches
    phone.fill("#id_username", "someone")
    phone.fill("#id_password", "something")
    with phone.expect_navigation():
        phone.click("form.card button[type=submit]")
    fits_the_phone(phone)
    assert "Biểu mẫu đã hết hạn" in phone.inner_text("main")
    skip_link_shows_on_focus(phone)
