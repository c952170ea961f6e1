"""The citizen's confirmation in a real browser on a 360 px phone: logged in, the citizen applies
online with a scan, sees at once the panel with the dossier's code and the expected result date
(the appointment the calendar computes, on a working day), then looks the dossier up with that
code and the last four digits of the phone."""
from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from onestop import deadlines, services
from onestop.models import Dossier, DossierState, Procedure
from tests.browser import browser  # noqa: F401  (a fixture)
from tests.onestop.conftest import make_png
from tests.onestop.test_browser_onestop import PHONE, log_in, phone, site  # noqa: F401  (fixtures)
from workcalendar.services import is_working_day

pytestmark = pytest.mark.django_db


def fill_the_application(page, procedure):
    for spec in procedure.form_fields:
        selector = f"[name=f_{spec['name']}]"
        if spec["type"] == "date":
            page.fill(selector, "2026-03-01")
        elif spec["type"] == "select":
            page.select_option(selector, index=0)
        else:
            page.fill(selector, "Lò Văn Tủa")


def test_the_citizen_sees_the_code_and_the_expected_date_at_once_and_looks_the_dossier_up(site, phone, tmp_path):
    base = f"http://tule.localhost:{site['port']}"
    # The login page: the citizens' layout, which says what the account is for, on the phone's width.
    phone.goto(base + "/accounts/login/?next=/my/dossiers/")
    assert phone.locator(".why-account").is_visible() and phone.locator("nav.pub-nav").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    log_in(phone, base)
    phone.goto(base + "/services/HT-01/apply/")
    with schema_context(site["tule"].schema_name):
        procedure = Procedure.objects.get(code="HT-01", is_current=True)
        uploads = [r for r in procedure.requirements.all()
                   if r.required and not r.condition and not services.filled_online(r, procedure)]
    connection.set_schema_to_public()
    fill_the_application(phone, procedure)
    photo = tmp_path / "giay-chung-sinh.png"
    photo.write_bytes(make_png())
    for requirement in uploads:
        phone.set_input_files(f"input[name=doc_{requirement.pk}]", str(photo))
    phone.click("button[name=action][value=submit]")
    phone.wait_for_url("**/my/dossiers/*/sent/")
    phone.wait_for_load_state("networkidle")

    with schema_context(site["tule"].schema_name):
        dossier = Dossier.objects.select_related("procedure").get(citizen_id=site["citizen"].pk, channel="online")
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
