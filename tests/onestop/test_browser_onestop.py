"""The citizens' pages in a real browser (Debian's Chromium, driven by Playwright) on a 360 px
phone screen: nothing wider than the screen, and at most 150 KB transferred on the first load of
the procedure list, a procedure's page, the application form and the status page.

A threaded WSGI server serves the test database; the rows the browser needs are committed (the
server has its own connection) and removed afterwards. The bytes are counted as Chromium counts
them (``Network.loadingFinished`` → ``encodedDataLength``), with the browser cache disabled.
"""
from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from communes.models import Commune, User
from tests.browser import live_server, require_chromium
from onestop import deadlines, services
from onestop.models import Dossier, DossierCounter, DossierEvent, DossierState, EventKind, Procedure, StepKind
from tests.onestop.conftest import make_png
from workcalendar.services import is_working_day

pytestmark = pytest.mark.django_db

PASSWORD = "Ban-Na-Hin-2026"
PHONE = "0911222333"
CODE = "UBND-TL-260302-0042"
BUDGET = 150 * 1024


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        tule = Commune.objects.get(code="04630")
        bank = {field: getattr(tule, field) for field in ("bank_bin", "bank_account", "bank_account_name")}
        Commune.objects.filter(pk=tule.pk).update(bank_bin="970415", bank_account="113366668888",
                                                  bank_account_name="UBND XA TU LE")
        citizen = User.objects.create_user(PHONE, password=PASSWORD, full_name="Lò Thị Duyên", phone=PHONE,
                                           email="duyen@example.vn")
        now = timezone.now()
        with schema_context(tule.schema_name):
            # Dossiers sent in the browser draw committed codes: the counters are put back after,
            # so that the numbering tests that follow start from the same day's counters.
            counters = list(DossierCounter.objects.values("day", "prefix", "last"))
            procedure = Procedure.objects.get(code="HT-01", is_current=True)
            steps = list(procedure.steps.all())
            process = next(s for s in steps if s.kind == StepKind.PROCESS)
            dossier = Dossier.objects.create(
                code=CODE, procedure=procedure, channel="counter", state=DossierState.IN_PROGRESS,
                applicant_name="Lò Thị Duyên", applicant_phone=PHONE, received_at=now - datetime.timedelta(hours=5),
                due_at=now + datetime.timedelta(days=1), original_due_at=now + datetime.timedelta(days=1),
                current_step=process, step_started_at=now - datetime.timedelta(hours=4),
                citizen=citizen, fee_amount=8000,
            )
            DossierEvent.objects.create(dossier=dossier, kind=EventKind.RECEIVED, at=dossier.received_at, to_step=steps[0])
            DossierEvent.objects.create(dossier=dossier, kind=EventKind.HANDOVER, at=dossier.step_started_at,
                                        from_step=steps[0], to_step=process)
        with live_server() as port:
            try:
                yield {"port": port, "tule": tule, "citizen": citizen, "dossier": dossier}
            finally:
                with schema_context(tule.schema_name):
                    mine = Dossier.objects.filter(applicant_phone=PHONE)
                    ids = list(mine.values_list("pk", flat=True))
                    mine.delete()  # documents and events go with them
                    Dossier.history.filter(id__in=ids).delete()
                    DossierCounter.objects.all().delete()
                    DossierCounter.objects.bulk_create(DossierCounter(**counter) for counter in counters)
                connection.set_schema_to_public()
                from django.contrib.sessions.models import Session

                Session.objects.all().delete()
                User.objects.filter(pk=citizen.pk).delete()
                Commune.objects.filter(pk=tule.pk).update(**bank)


class Meter:
    """Bytes received by the page, as Chromium counts them on the wire (cache disabled)."""

    def __init__(self, page):
        self.sizes: dict[str, int] = {}
        self.session = page.context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.session.on("Network.loadingFinished", self._finished)

    def _finished(self, event):
        self.sizes[event["requestId"]] = int(event["encodedDataLength"])

    def reset(self):
        self.sizes.clear()

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


def check_light_phone_page(page):
    """Nothing wider than the screen, Vietnamese, no script errors, within the byte budget."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "vi"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"
    assert page.console_errors == []
    assert 0 < page.meter.total <= BUDGET, f"{page.url} transferred {page.meter.total} bytes"
    print(f"{page.url}: {page.meter.total} bytes, {width} px")
    return page.meter.total


def visit(page, url):
    page.meter.reset()
    page.goto(url)
    return check_light_phone_page(page)


def log_in(page, base):
    page.goto(base + "/accounts/login/?next=/my/dossiers/")
    page.fill("input[name=username]", PHONE)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(base + "/my/dossiers/")


def sent_online(site) -> set[int]:
    """The citizen's online dossiers so far: each test of this module counts only its own."""
    with schema_context(site["tule"].schema_name):
        ids = set(Dossier.objects.filter(citizen_id=site["citizen"].pk, channel="online").values_list("pk", flat=True))
    connection.set_schema_to_public()
    return ids


def test_citizens_pages_fit_a_phone_and_a_slow_network(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    visit(phone, base + "/")
    assert phone.locator("form[action=\"/services/\"] input[name=q]").count() == 1 and phone.locator("input[name=phone_last4]").count() == 1

    visit(phone, base + "/services/")
    assert phone.locator(".proc-list li").count() >= 15
    phone.fill("main input[name=q]", "dang ky khai sinh")
    phone.meter.reset()
    phone.press("main input[name=q]", "Enter")
    phone.wait_for_url("**q=dang+ky+khai+sinh**")
    check_light_phone_page(phone)
    assert phone.get_by_role("link", name="Đăng ký khai sinh", exact=True).count() == 1

    visit(phone, base + "/services/HT-01/")
    assert phone.locator("h1").inner_text() == "Đăng ký khai sinh"
    assert phone.locator("ol.docs li").count() >= 3

    # The status page, reached by the code and the last four digits of the phone.
    visit(phone, base + f"/lookup/?code={CODE}")
    assert phone.input_value("input[name=code]") == CODE
    phone.fill("input[name=phone_last4]", PHONE[-4:])
    phone.meter.reset()
    phone.click("main form button[type=submit]")
    phone.wait_for_load_state()
    check_light_phone_page(phone)
    assert CODE in phone.locator("h1").inner_text()
    assert phone.locator(".timeline li").count() == 2

    # The application form, logged in as a citizen.
    log_in(phone, base)
    visit(phone, base + "/services/HT-01/apply/")
    assert phone.input_value("input[name=applicant_name]") == "Lò Thị Duyên"
    assert phone.input_value("input[name=applicant_phone]") == PHONE
    assert phone.evaluate("typeof window.htmx") == "undefined"  # no script library on the public pages

    # The citizen's dossier with the fee to pay by VietQR: the QR image and the long payload fit.
    visit(phone, base + f"/my/dossiers/{site['dossier'].pk}/")
    assert phone.evaluate("document.querySelector('img.qr').naturalWidth") > 0
    phone.click("#payment summary")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def fill_the_application(page, site, tmp_path):
    """Fills the open application form and attaches a scan to each paper asked for."""
    procedure, uploads = application(site)
    for spec in procedure.form_fields:
        selector = f"[name=f_{spec['name']}]"
        if spec["type"] == "date":
            page.fill(selector, "2026-03-01")
        elif spec["type"] == "select":
            page.select_option(selector, index=0)
        else:
            page.fill(selector, "Lò Văn Tủa")
    photo = tmp_path / "giay-chung-sinh.png"
    photo.write_bytes(make_png())
    for requirement in uploads:
        page.set_input_files(f"input[name=doc_{requirement.pk}]", str(photo))
    return procedure, uploads


def application(site):
    """Birth registration online: the procedure and the papers to upload (the declaration "theo
    mẫu" is the online form itself, conditional papers are not asked for)."""
    with schema_context(site["tule"].schema_name):
        procedure = Procedure.objects.get(code="HT-01", is_current=True)
        uploads = [r for r in procedure.requirements.all()
                   if r.required and not r.condition and not services.filled_online(r, procedure)]
    connection.set_schema_to_public()
    assert uploads
    return procedure, uploads


def test_a_double_click_on_send_makes_one_dossier(site, phone, tmp_path):
    base = f"http://tule.localhost:{site['port']}"
    before = sent_online(site)
    log_in(phone, base)
    phone.goto(base + "/services/HT-01/apply/")
    _, uploads = fill_the_application(phone, site, tmp_path)
    phone.dblclick("button[name=action][value=submit]")
    phone.wait_for_url("**/my/dossiers/*/sent/")
    phone.wait_for_load_state("networkidle")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    with schema_context(site["tule"].schema_name):
        sent = list(Dossier.objects.filter(citizen_id=site["citizen"].pk, channel="online").exclude(pk__in=before))
        assert len(sent) == 1 and sent[0].state == DossierState.SUBMITTED
        assert sent[0].documents.count() == len(uploads)
    connection.set_schema_to_public()


def test_the_citizen_sees_the_code_and_the_expected_date_at_once_and_looks_the_dossier_up(site, phone, tmp_path):
    """The citizen's confirmation in a real browser on a 360 px phone: logged in, the citizen applies
    online with a scan, sees at once the panel with the dossier's code and the expected result date
    (the appointment the calendar computes, on a working day), then looks the dossier up with that
    code and the last four digits of the phone."""
    base = f"http://tule.localhost:{site['port']}"
    before = sent_online(site)
    # The login page: the citizens' layout, which says what the account is for, on the phone's width.
    phone.goto(base + "/accounts/login/?next=/my/dossiers/")
    assert phone.locator(".why-account").is_visible() and phone.locator("nav.pub-nav").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    log_in(phone, base)
    phone.goto(base + "/services/HT-01/apply/")
    procedure, uploads = fill_the_application(phone, site, tmp_path)
    phone.click("button[name=action][value=submit]")
    phone.wait_for_url("**/my/dossiers/*/sent/")
    phone.wait_for_load_state("networkidle")

    with schema_context(site["tule"].schema_name):
        dossier = (Dossier.objects.select_related("procedure").exclude(pk__in=before)
                   .get(citizen_id=site["citizen"].pk, channel="online"))
        assert dossier.state == DossierState.SUBMITTED and dossier.code
        expected = timezone.localtime(deadlines.appointment(dossier.procedure, dossier.submitted_at))
    connection.set_schema_to_public()
    assert is_working_day(expected.date())

    panel = phone.locator(".panel-confirm")
    assert panel.is_visible()
    assert panel.locator("h1").inner_text() == "Đã gửi hồ sơ"
    assert panel.locator(".ref").inner_text() == dossier.code
    assert panel.locator(".ref-date").inner_text() == expected.strftime("%d/%m/%Y")
    # The code is large: bigger type than the page's text.
    ref_size = float(phone.evaluate("parseFloat(getComputedStyle(document.querySelector('.panel-confirm .ref')).fontSize)"))
    body_size = float(phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
    assert ref_size >= 1.4 * body_size
    assert phone.get_by_role("heading", name="Các bước tiếp theo").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    # Looked up with the code (filled in by the link) and the last four digits of the phone.
    phone.get_by_role("link", name="Tra cứu tình trạng hồ sơ").click()
    phone.wait_for_url("**/lookup/?code=*")
    assert phone.input_value("input[name=code]") == dossier.code
    phone.fill("input[name=phone_last4]", PHONE[-4:])
    phone.click("main form button[type=submit]")
    phone.wait_for_load_state()
    assert dossier.code in phone.locator("h1").inner_text()
    status = phone.locator("dl.fields").inner_text()
    assert "Đã nộp, chờ Bộ phận Một cửa tiếp nhận" in status and expected.strftime("%d/%m/%Y") in status
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    # The dossier's page offers the withdrawal last, and asking changes nothing.
    phone.goto(base + f"/my/dossiers/{dossier.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.locator("section.apart a").click()
    phone.wait_for_url(f"**/my/dossiers/{dossier.pk}/withdraw/")
    assert phone.locator("button.danger").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    with schema_context(site["tule"].schema_name):
        assert Dossier.objects.get(pk=dossier.pk).state == DossierState.SUBMITTED
    connection.set_schema_to_public()
