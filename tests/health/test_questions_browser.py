"""Ask the doctor in a real browser (Debian's Chromium, driven by Playwright) on a 360 px phone:
the published answers, an answer, and a citizen's question page fit the screen, read in
Vietnamese, and stay light for 3G.

A threaded WSGI server serves the test database; the rows the browser needs are committed and
removed afterwards."""
from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from communes.models import Commune, User
from tests.browser import live_server, require_chromium

pytestmark = pytest.mark.django_db
PASSWORD = "Mat-khau-2026!"
MAX_BYTES = 120_000  # everything a page loads (HTML, styles, scripts): light enough for 3G


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        from health import questions
        from health.models import Question

        tule = Commune.objects.get(code="04630")
        citizen = User.objects.create_user("browser_asker", password=PASSWORD, full_name="Lò Văn Hỏi")
        nurse = User.objects.create_user("browser_q_nurse", password=PASSWORD)
        with schema_context(tule.schema_name):
            from communes.models import Membership, Role

            Membership.objects.create(user=nurse, commune=tule, role=Role.HEALTH_STAFF)
            connection.set_tenant(tule)
            question = questions.ask(citizen, "Con tôi ho nhiều về đêm ở Bản Lướt",
                                     "Cháu 4 tuổi ho về đêm đã một tuần, không sốt.", True)
            questions.answer(nurse, question, "Cho cháu uống nhiều nước ấm; nếu ho kéo dài quá hai tuần hoặc khó "
                             "thở, hãy đưa cháu đến trạm." * 3, publish=True,
                             public_title="Trẻ 4 tuổi ho về đêm kéo dài một tuần",
                             public_body="Trẻ 4 tuổi ho về đêm đã một tuần, không sốt: có cần đi khám không?")
        connection.set_schema_to_public()
        with live_server() as port:
            try:
                yield {"port": port, "question": question}
            finally:
                with schema_context(tule.schema_name):
                    Question.objects.filter(asker_id=citizen.pk).delete()
                connection.set_schema_to_public()
                from django.contrib.sessions.models import Session

                Session.objects.all().delete()
                User.objects.filter(pk__in=[citizen.pk, nurse.pk]).delete()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.loaded = []
    page.on("response", lambda response: page.loaded.append(response))
    yield page
    context.close()


def check(page) -> None:
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url
    total = 0
    for response in page.loaded:
        try:
            total += len(response.body())
        except Exception:  # noqa: BLE001 - a redirect has no body
            pass
    assert total <= MAX_BYTES, (page.url, total)
    page.loaded.clear()


def test_the_public_answers_on_a_phone(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    phone.goto(base + "/ask-the-doctor/?q=tre+ho")
    assert "Trẻ 4 tuổi ho về đêm kéo dài một tuần" in phone.content()
    assert "Lò Văn Hỏi" not in phone.content() and "Bản Lướt" not in phone.content()
    check(phone)
    phone.click("text=Trẻ 4 tuổi ho về đêm kéo dài một tuần")
    phone.wait_for_url(f"{base}/ask-the-doctor/{site['question'].pk}/")
    assert "Trạm y tế trả lời" in phone.content()
    check(phone)


def test_a_citizen_asks_on_a_phone(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    phone.goto(base + "/ask-the-doctor/ask/")
    phone.fill("input[name=username]", "browser_asker")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(base + "/ask-the-doctor/ask/")
    phone.loaded.clear()
    phone.reload()
    assert "Hỏi bác sĩ" in phone.content()
    check(phone)
    phone.goto(base + "/ask-the-doctor/mine/")
    assert "Con tôi ho nhiều về đêm" in phone.content()
    check(phone)
