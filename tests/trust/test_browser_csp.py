"""The main pages of every app under the Content-Security-Policy, in a real browser (Debian's
Chromium through Playwright): an official logs in with the second factor and opens the home,
the documents, a bulletin editor (live preview, listen), the week calendar and the one-stop
intake; a citizen opens the procedures, their dossiers and the status lookup. Any report of a
policy violation (the ``securitypolicyviolation`` event, or the console), any console error and
any script error fails the test.
"""
from __future__ import annotations

import datetime

import pyotp
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from communes.models import Commune, Membership, Role, User
from tests.browser import live_server, require_chromium

pytestmark = pytest.mark.django_db

PASSWORD = "Mat-khau-2026!"
PHONE = "0987001122"
CODE = "CSP-BROWSER-0001"
MARK = "Bản tin thử chính sách nội dung"
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        from broadcasting.models import AudioAsset, SpeechJob
        from onestop.models import Dossier, Procedure

        tule = Commune.objects.get(code="04630")
        User.objects.filter(username__in=["csp_official", PHONE]).delete()  # left by an interrupted run
        official = User.objects.create_user("csp_official", password=PASSWORD, full_name="Lò Văn Thành")
        for role in Role:
            Membership.objects.create(user=official, commune=tule, role=role)
        citizen = User.objects.create_user(PHONE, password=PASSWORD, full_name="Lò Thị Duyên", phone=PHONE,
                                           email="duyen.csp@example.vn")
        now = timezone.now()
        with schema_context(tule.schema_name):
            assets_before = AudioAsset.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            jobs_before = SpeechJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            procedure = Procedure.objects.get(code="HT-01", is_current=True)
            Dossier.objects.filter(code=CODE).delete()
            dossier = Dossier.objects.create(
                code=CODE, procedure=procedure, channel="counter", state="in_progress",
                applicant_name="Lò Thị Duyên", applicant_phone=PHONE, received_at=now - datetime.timedelta(hours=5),
                due_at=now + datetime.timedelta(days=1), original_due_at=now + datetime.timedelta(days=1),
                current_step=procedure.steps.first(), step_started_at=now - datetime.timedelta(hours=4),
                citizen=citizen,
            )
        with live_server() as port:
            try:
                yield {"port": port, "dossier": dossier}
            finally:
                with schema_context(tule.schema_name):
                    ids = list(Dossier.objects.filter(code=CODE).values_list("pk", flat=True))
                    Dossier.objects.filter(pk__in=ids).delete()
                    Dossier.history.filter(id__in=ids).delete()
                    SpeechJob.objects.filter(pk__gt=jobs_before).delete()
                    AudioAsset.objects.filter(pk__gt=assets_before).delete()
                connection.set_schema_to_public()
                from django.contrib.sessions.models import Session

                Session.objects.all().delete()
                User.objects.filter(pk__in=[official.pk, citizen.pk]).delete()
                # The live server's requests committed their throttle counts (the status lookup, the
                # logins); the tests after this module start from none.
                from core.models import ThrottleCounter

                ThrottleCounter.objects.all().delete()
                from django.apps import apps

                if apps.is_installed("axes"):
                    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

                    for model in (AccessAttempt, AccessFailureLog, AccessLog):
                        model.objects.filter(username__in=["csp_official", PHONE]).delete()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="vi-VN")
    context.add_init_script(WATCH)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(f"console {message.type}: {message.text}")
            if message.type == "error" or "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: errors.append(f"script error: {error}"))
    page.problems = errors
    yield page
    context.close()


def check(page, *, htmx: bool = True):
    """No policy violation, no console error, no script error; the page's own scripts ran."""
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__violations")
    assert violations == [] and page.problems == [], (page.url, violations, page.problems)
    if htmx:
        assert page.evaluate("typeof window.htmx") == "object", page.url


def test_an_officials_pages_under_the_policy(site, page):
    base = f"http://tule.localhost:{site['port']}"
    page.goto(base + "/accounts/login/")
    check(page, htmx=False)  # the login page is in the citizens' layout, without htmx
    page.fill("input[name=username]", "csp_official")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(base + "/accounts/2fa/**")
    assert page.locator("svg.qr").count() == 1  # the QR code, inline SVG
    check(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("form.card button[type=submit]")
    page.wait_for_url(base + "/")
    check(page)

    for path in ("/documents/", "/documents/outgoing/", "/documents/incoming/", "/radio/", "/radio/week/",
                 "/onestop/", "/onestop/intake/", "/onestop/intake/HT-01/", "/population/", "/signatures/",
                 "/signatures/commune/", "/notifications/", "/verify/"):
        response = page.goto(base + path)
        assert response.status == 200, path
        check(page)

    # The bulletin editor: the live preview (htmx on input) and the listen button (htmx, then a
    # progress bar whose width comes from the site's script).
    page.goto(base + "/radio/bulletins/new/")
    check(page)
    page.fill("textarea[name=text]", f"{MARK} lúc 7 giờ sáng ngày 15/12.")
    page.locator("#reading .reading").wait_for()
    assert "chính sách nội dung" in page.locator("#reading").inner_text()
    page.click("button[hx-post$='/radio/listen/']")
    page.locator("#listen-result .audio, #listen-result .errorlist").first.wait_for()
    bar = page.locator("#listen-result .progress > span")
    if bar.count():
        assert page.evaluate("document.querySelector('#listen-result .progress > span').style.width").endswith("%")
    check(page)

    page.goto(base + "/radio/emergency/")
    check(page)


def test_a_citizens_pages_under_the_policy(site, page):
    base = f"http://tule.localhost:{site['port']}"
    page.goto(base + "/services/")
    check(page, htmx=False)
    page.goto(base + "/lookup/")
    check(page, htmx=False)
    page.fill("input[name=code]", CODE)
    page.fill("input[name=phone_last4]", PHONE[-4:])
    page.locator("form[action='/lookup/'] button[type=submit]").click()
    page.wait_for_load_state("load")
    assert CODE in page.content()
    check(page, htmx=False)

    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", PHONE)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_load_state("load")
    for path in ("/my/dossiers/", f"/my/dossiers/{site['dossier'].pk}/", "/services/HT-01/"):
        response = page.goto(base + path)
        assert response.status == 200, path
        check(page, htmx=False)


def test_the_policy_is_enforced_in_this_browser(site, page):
    """The watch works: an inline script that a page would carry is blocked and reported."""
    base = f"http://tule.localhost:{site['port']}"
    page.goto(base + "/services/")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                     document.body.appendChild(s); }""")
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))


def test_the_api_documentation_runs_under_its_policy(site, page):
    """Swagger UI: its own start-up script file, the vendored bundle, no violation."""
    base = f"http://tule.localhost:{site['port']}"
    page.goto(base + "/api/docs/")
    page.locator(".swagger-ui .information-container, .swagger-ui .info").first.wait_for()
    check(page, htmx=False)
