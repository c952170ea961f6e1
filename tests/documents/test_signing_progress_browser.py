"""Ký and Ban hành in Chromium at 1366 px, with a real Celery worker and the demo PKI: the PIN
form gives way to the signature's progress, which moves on by itself to the document's new state
and the next step — polled by htmx for the leader, refreshed by the page itself for a clerk whose
browser runs no JavaScript.

The worker starts only after the PIN is sent, so the page is seen waiting first (a worker that is
down or busy) and then finishing once it runs. The rows are committed (the live server and the
worker have connections of their own) and removed afterwards; the worker and the live server
share a media directory of the module's own.
"""
from __future__ import annotations

import datetime
import os

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context, tenant_context

from tests.browser import live_server, require_chromium
from tests.celery_worker import WorkerProcess, queue_of_its_own
from tests.conftest import host_client

pytestmark = [pytest.mark.django_db, pytest.mark.celery, pytest.mark.xdist_group("celery")]

TULE = "c_04630"
PIN = "135790"
CLERK_PIN = "246802"
SUBJECT = "Về việc thử ký và ban hành trên trình duyệt"


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("signing-media")


@pytest.fixture(scope="module")
def queue(celery_broker):
    from config.celery import app

    with queue_of_its_own(app, f"{celery_broker['queue']}-signing") as name:
        yield name
    celery_broker["redis"].delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


@pytest.fixture(scope="module")
def signing_worker(worker_env, queue, media, django_db_blocker):
    """A worker on the module's queue and media, not started yet."""
    env = {**worker_env, "XASO_MEDIA_ROOT": str(media), "CELERY_TASK_DEFAULT_QUEUE": queue, "XASO_TSA_URL": ""}
    worker = WorkerProcess(env, queue)
    yield worker
    worker.stop()
    with django_db_blocker.unblock():
        from jobs.models import WorkerHeartbeat

        WorkerHeartbeat.objects.filter(worker_name__startswith="jobs-test-").delete()
    os.unlink(worker.log.name)


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, media, queue):
    """Officials of Tú Lệ with their certificates, an approved draft, the portal served live."""
    require_chromium()
    from communes.models import Commune, Membership, Role, User
    from documents import services
    from documents.models import DocumentType, NumberSequence, OutgoingDocument, SigningAuthority
    from signatures import pki
    from signatures import services as signature_services
    from signatures.models import KeyGrant, SignatureImage, SigningCertificate, SigningEvent, SigningJob
    from signatures.pdf.images import demo_seal_png, demo_signature_png
    from truststore.models import TrustAnchor
    from truststore.services import add_anchor, clear_cache

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media), XASO_TSA_URL=""):
        assert connection.settings_dict["NAME"].startswith("test_")
        tule = Commune.objects.get(schema_name=TULE)
        forget_users()  # of a run that stopped half-way
        # What exists before: everything newer is the module's and goes at the end, even when
        # the setting up stops half-way.
        anchors_before = set(TrustAnchor.objects.values_list("pk", flat=True))
        with schema_context(TULE):
            sequences = {s.pk: s.last_number for s in NumberSequence.objects.all()}
            before = {model: set(model.objects.values_list("pk", flat=True)) for model in (
                SigningEvent, SigningJob, OutgoingDocument, SigningAuthority, SigningCertificate, SignatureImage)}
        try:
            people = {}
            for role, name in ((Role.CHAIRMAN, "Lò Văn Thành"), (Role.CLERK, "Hà Thị Dung"),
                               (Role.SPECIALIST, "Trần Văn Lâm"), (Role.COMMUNE_ADMIN, "Vũ Thị Mai")):
                user = User.objects.create_user(f"progress_{role}", password="Mat-khau-2026!", full_name=name)
                Membership.objects.create(user=user, commune=tule, role=role)
                people[str(role)] = user
            ca = pki.make_demo_ca("Xã Số Tiến trình CA")
            add_anchor(ca.cert_pem(), label="Tiến trình CA", source="test")
            clear_cache()
            with tenant_context(tule):
                signature_services.import_pkcs12(
                    file_bytes=pki.issue_personal(ca, "Lò Văn Thành", "Chủ tịch UBND xã",
                                                  "UBND xã Tú Lệ").to_pkcs12("x"),
                    passphrase="x", kind="personal", owner_user_id=people["chairman"].pk,
                    grants={people["chairman"].pk: PIN}, actor=None)
                signature_services.import_pkcs12(
                    file_bytes=pki.issue_agency(ca, "UBND xã Tú Lệ", locality="Tú Lệ").to_pkcs12("x"),
                    passphrase="x", kind="agency", grants={people["clerk"].pk: CLERK_PIN}, actor=None)
                signature_services.save_signature_image(data=demo_signature_png("Lò Văn Thành"), kind="signature",
                                                        owner_user_id=people["chairman"].pk, actor=None)
                signature_services.save_signature_image(data=demo_seal_png("UBND XÃ TÚ LỆ"), kind="seal",
                                                        actor=None)
                authority = SigningAuthority.objects.create(
                    user=people["chairman"], prefix="TM.", title="CHỦ TỊCH", collective="ỦY BAN NHÂN DÂN",
                    valid_from=datetime.date(2020, 1, 1))
                doc_type = DocumentType.objects.get(code="quyet-dinh")
                authority.document_types.set([doc_type])
                doc = services.save_draft(OutgoingDocument(
                    doc_type=doc_type, subject=SUBJECT, authority=authority, recipients_text="Như Điều 3;",
                    body="Căn cứ Luật Tổ chức chính quyền địa phương;\nĐiều 1. Thử ký trên trình duyệt."),
                    user=people["specialist"])
                doc = services.submit(doc, user=people["specialist"])
                doc = services.approve(doc, user=people["chairman"])
            cookies = {}
            for key in ("chairman", "clerk"):
                client = host_client("tule.localhost", people[key], second_factor=True)
                cookies[key] = client.cookies["sessionid"].value
            connection.set_schema_to_public()
            with live_server() as port:
                yield {"port": port, "doc": doc, "cookies": cookies}
        finally:
            connection.set_schema_to_public()
            with schema_context(TULE):
                for model in (SigningEvent, SigningJob):
                    model.objects.exclude(pk__in=before[model]).delete()
                new_documents = list(OutgoingDocument.objects.exclude(pk__in=before[OutgoingDocument])
                                     .values_list("pk", flat=True))
                OutgoingDocument.history.filter(id__in=new_documents).delete()
                OutgoingDocument.objects.filter(pk__in=new_documents).delete()
                SigningAuthority.objects.exclude(pk__in=before[SigningAuthority]).delete()
                new_certificates = SigningCertificate.objects.exclude(pk__in=before[SigningCertificate])
                KeyGrant.objects.filter(certificate__in=new_certificates).delete()
                new_certificates.delete()
                SignatureImage.objects.exclude(pk__in=before[SignatureImage]).delete()
                NumberSequence.objects.exclude(pk__in=sequences).delete()
                for pk, last in sequences.items():
                    NumberSequence.objects.filter(pk=pk).update(last_number=last)
            connection.set_schema_to_public()
            TrustAnchor.objects.exclude(pk__in=anchors_before).delete()
            clear_cache()
            from django.contrib.sessions.models import Session

            Session.objects.all().delete()
            forget_users()


def forget_users():
    """The module's officials, without an ORM cascade (it would visit the tenant apps' history
    tables from the public schema)."""
    from communes.models import Membership, TotpDevice, User

    users = User.objects.filter(username__startswith="progress_")
    Membership.objects.filter(user__in=users).delete()
    TotpDevice.objects.filter(user__in=users).delete()
    users._raw_delete(users.db)


@pytest.fixture
def shared_media(settings, media):
    """This process (the live server) reads and writes the files where the worker does."""
    settings.MEDIA_ROOT = str(media)
    settings.XASO_TSA_URL = ""


@pytest.fixture
def desktop(browser, site, shared_media):
    def open_as(who: str, javascript: bool = True):
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN",
                                      java_script_enabled=javascript)
        context.add_cookies([{"name": "sessionid", "value": site["cookies"][who], "domain": "tule.localhost",
                              "path": "/"}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.console_errors = errors
        contexts.append(context)
        return page

    contexts: list = []
    yield open_as
    for context in contexts:
        context.close()


def sign_and_watch(page, url, form_id, pin, worker):
    """Send the PIN; the progress stands where the form was; once the worker runs, the page
    moves on by itself to the outcome."""
    page.goto(url)
    page.fill(f"#{form_id} input[name=pin]", pin)
    page.click(f"#{form_id} button[type=submit]")
    page.wait_for_url("**?job=*")
    panel = page.locator("#job-progress")
    assert panel.get_attribute("data-state") == "queued"
    assert page.locator(f"#{form_id}").count() == 0
    assert page.locator("#job-progress .progress").count() == 1
    assert panel.locator(".job-waiting").count() == 1  # no worker: it says the work waits and goes on
    worker.start(timeout=60)
    try:
        page.wait_for_selector("#job-progress[data-state=succeeded]", timeout=60_000)
    except Exception:
        raise AssertionError(f"no outcome; worker:\n{worker.output()}") from None
    finally:
        worker.stop()
    return page.locator("#job-progress").inner_text()


def test_the_leader_signs_and_the_clerk_issues_watching_the_progress(site, desktop, signing_worker):
    base = f"http://tule.localhost:{site['port']}"
    url = f"{base}/documents/outgoing/{site['doc'].pk}/"

    chairman = desktop("chairman")
    outcome = sign_and_watch(chairman, url, "action-sign", PIN, signing_worker)
    assert "Đã ký. Trạng thái của văn bản: Lãnh đạo đã ký." in outcome
    assert "Bước tiếp theo: văn thư ban hành văn bản (cấp số, ngày và chữ ký số của cơ quan)." in outcome
    assert chairman.evaluate("document.documentElement.scrollWidth") <= 1366
    assert chairman.console_errors == []

    # The clerk's browser runs no JavaScript: the page refreshes itself until the outcome.
    clerk = desktop("clerk", javascript=False)
    outcome = sign_and_watch(clerk, url, "action-issue", CLERK_PIN, signing_worker)
    assert "Đã ban hành với số" in outcome and "Trạng thái của văn bản: Đã ban hành." in outcome
    assert "Bước tiếp theo: gửi văn bản đến nơi nhận." in outcome
    clerk.click("#job-progress a.button")
    assert clerk.locator("#action-dispatch").is_visible()
    assert clerk.console_errors == []
    with schema_context(TULE):
        from documents.models import OutgoingDocument

        assert OutgoingDocument.objects.get(pk=site["doc"].pk).state == "issued"
    connection.set_schema_to_public()
