"""The to-do inbox in a real browser (Debian's Chromium, driven by Playwright) at 1366 px: the
chairman, a vice-chairman, the clerk and a one-stop officer log in through the login and
second-factor pages, land on their home page, click the line of what waits for them and arrive
at the item, without typing its address.

A threaded WSGI server serves the test database; the rows the browser needs are committed (the
server has its own connection) and removed afterwards.
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

PASSWORD = "Viec-Can-Lam-2026"
PEOPLE = {
    "chairman": (Role.CHAIRMAN, "Lò Văn Thành"),
    "vice_chairman": (Role.VICE_CHAIRMAN, "Nguyễn Thị Hoa"),
    "clerk": (Role.CLERK, "Hà Thị Dung"),
    "onestop_officer": (Role.ONESTOP_OFFICER, "Lường Thị Thu"),
}


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        tule = Commune.objects.get(code="04630")
        users = {}
        for key, (role, name) in PEOPLE.items():
            users[key] = User.objects.create_user(f"inbox_{key}", password=PASSWORD, full_name=name)
            Membership.objects.create(user=users[key], commune=tule, role=role)
        with schema_context(tule.schema_name):
            from documents.models import DocumentType, OutgoingDocument, SigningAuthority
            from onestop.models import Dossier, Procedure

            doc_type = DocumentType.objects.get(code="quyet-dinh", active=True)
            authorities = {key: SigningAuthority.objects.create(
                user=users[key], title="CHỦ TỊCH" if key == "chairman" else "PHÓ CHỦ TỊCH",
                valid_from=datetime.date(2020, 1, 1)) for key in ("chairman", "vice_chairman")}
            items = {
                "chairman": OutgoingDocument.objects.create(
                    doc_type=doc_type, subject="Về việc thành lập Tổ công nghệ số cộng đồng", state="approved",
                    authority=authorities["chairman"]),
                "vice_chairman": OutgoingDocument.objects.create(
                    doc_type=doc_type, subject="Về việc tổ chức Tết Trồng cây", state="approved",
                    authority=authorities["vice_chairman"]),
                "clerk": OutgoingDocument.objects.create(
                    doc_type=doc_type, subject="Thông báo lịch tiếp công dân", state="numbered"),
                "onestop_officer": Dossier.objects.create(
                    procedure=Procedure.objects.get(code="HT-01", is_current=True), channel="online",
                    state="submitted", applicant_name="Hoàng Văn Nam", applicant_phone="0912345678",
                    submitted_at=timezone.now()),
            }
        with live_server() as port:
            try:
                yield {"port": port, "items": items}
            finally:
                with schema_context(tule.schema_name):
                    ids = [items[key].pk for key in ("chairman", "vice_chairman", "clerk")]
                    OutgoingDocument.objects.filter(pk__in=ids).delete()
                    OutgoingDocument.history.filter(id__in=ids).delete()
                    authority_ids = [a.pk for a in authorities.values()]
                    SigningAuthority.objects.filter(pk__in=authority_ids).delete()
                    SigningAuthority.history.filter(id__in=authority_ids).delete()
                    Dossier.objects.filter(pk=items["onestop_officer"].pk).delete()
                    Dossier.history.filter(id=items["onestop_officer"].pk).delete()
                connection.set_schema_to_public()
                from django.contrib.sessions.models import Session

                Session.objects.all().delete()
                User.objects.filter(pk__in=[u.pk for u in users.values()]).delete()  # memberships go with them


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.script_errors = errors
    yield page
    context.close()


def log_in(page, base: str, username: str) -> None:
    """The login page, then the second factor: a first login sets up the authenticator app."""
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(base + "/accounts/2fa/**")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.press("input[name=code]", "Enter")
    page.wait_for_url(base + "/")


@pytest.mark.parametrize("who, line, path, heading", [
    ("chairman", "Văn bản chờ bạn ký", "/documents/outgoing/{pk}/", "Về việc thành lập Tổ công nghệ số cộng đồng"),
    ("vice_chairman", "Văn bản chờ bạn ký", "/documents/outgoing/{pk}/", "Về việc tổ chức Tết Trồng cây"),
    ("clerk", "Văn bản chờ thêm chữ ký số của cơ quan", "/documents/outgoing/{pk}/", "Thông báo lịch tiếp công dân"),
    ("onestop_officer", "Hồ sơ nộp trực tuyến cần tiếp nhận", "/onestop/dossiers/{pk}/", "Hoàng Văn Nam"),
])
def test_a_leader_reaches_the_waiting_item_from_the_home_page(site, desktop, who, line, path, heading):
    base = f"http://tule.localhost:{site['port']}"
    log_in(desktop, base, f"inbox_{who}")
    inbox = desktop.locator("section.inbox")
    assert inbox.locator("h2").inner_text() == "Việc cần làm"
    link = inbox.locator("a", has_text=line)
    assert link.count() == 1, inbox.inner_text()
    assert link.locator(".badge").inner_text() == "1"
    link.click()
    item = site["items"][who]
    desktop.wait_for_url(base + path.format(pk=item.pk))
    assert heading in desktop.content()
    assert desktop.script_errors == []
    # The module's overview starts with the same line.
    module = "/documents/" if "documents" in path else "/onestop/"
    desktop.goto(base + module)
    assert desktop.locator("section.inbox a", has_text=line).count() == 1
