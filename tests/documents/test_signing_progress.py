"""After Ký, Ban hành and Thêm chữ ký số của cơ quan the document's page shows the signature's
progress where the PIN form was, then the new state and the next step; a refusal or a failure
says what to do. With real signatures (the demo PKI), jobs run in process as a worker would;
the browser test with a real worker is ``test_signing_progress_browser.py``."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.documents.test_signed_flow import CLERK_PIN, PIN, pki_set, run_jobs, signing_setup  # noqa: F401

HOST = "tule.localhost"


class Official:
    """A logged-in client whose requests leave the test in Tú Lệ's schema (a request ends in the
    public one)."""

    def __init__(self, client_for, user, tule):
        self.client, self.tule = client_for(HOST, user), tule

    def _back(self, response):
        from django.db import connection

        connection.set_tenant(self.tule)
        return response

    def get(self, *args, **kwargs):
        return self._back(self.client.get(*args, **kwargs))

    def post(self, *args, **kwargs):
        return self._back(self.client.post(*args, **kwargs))


@pytest.fixture
def approved(draft_factory, people, signing_setup):
    from documents import services

    doc = draft_factory(subject="Về việc thử tiến trình ký")
    doc = services.submit(doc, user=people["specialist"])
    return services.approve(doc, user=people["chairman"])


def page_of(doc) -> str:
    return reverse("documents:outgoing-detail", args=[doc.pk])


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def sign(client, doc, pin=PIN, action="sign"):
    return client.post(reverse("documents:outgoing-action", args=[doc.pk, action]), {"pin": pin})


def test_sign_shows_progress_instead_of_the_pin_form_then_the_new_state_and_next_step(
        approved, people, client_for, tule):
    chairman = Official(client_for, people["chairman"], tule)
    response = sign(chairman, approved)
    assert response.status_code == 302
    from signatures.models import SigningJob

    job = SigningJob.objects.get(subject=f"documents.outgoing:{approved.pk}")
    assert response["Location"] == f"{page_of(approved)}?job={job.pk}"

    page = chairman.get(response["Location"])
    body = text(page)
    assert 'id="job-progress"' in body and 'data-state="queued"' in body
    assert 'id="action-sign"' not in body  # the PIN form gave way to the progress
    poll = reverse("documents:outgoing-progress", args=[approved.pk]) + f"?job={job.pk}"
    assert f'hx-get="{poll}"' in body
    assert "Chữ ký của người có thẩm quyền" in body
    # While the job runs, the poll answers with the panel alone.
    panel = chairman.get(poll, HTTP_HX_REQUEST="true")
    assert panel.status_code == 200 and b'id="job-progress"' in panel.content and b"<html" not in panel.content

    assert run_jobs(tule) == ["succeeded"]
    done = chairman.get(poll, HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == f"{page_of(approved)}?job={job.pk}"
    body = text(chairman.get(done["HX-Redirect"]))
    assert 'data-state="succeeded"' in body and "hx-get" not in body.split('id="job-progress"')[1][:400]
    assert "Đã ký. Trạng thái của văn bản: Lãnh đạo đã ký." in body
    assert "Bước tiếp theo: văn thư ban hành văn bản (cấp số, ngày và chữ ký số của cơ quan)." in body


def test_issue_shows_progress_then_the_number_and_sending_to_recipients(approved, people, client_for, tule):
    from documents import services

    services.sign_as_leader(approved, people["chairman"], PIN)
    assert run_jobs(tule) == ["succeeded"]
    clerk = Official(client_for, people["clerk"], tule)
    page = text(clerk.get(page_of(approved)))
    assert 'id="action-issue"' in page and 'id="job-progress"' not in page  # a finished signature, no ?job=

    response = sign(clerk, approved, CLERK_PIN, action="issue")
    assert response.status_code == 302 and "?job=" in response["Location"]
    body = text(clerk.get(response["Location"]))
    assert 'id="job-progress"' in body and "Ban hành: chữ ký số của cơ quan" in body
    assert 'id="action-agency_sign"' not in body and 'id="action-issue"' not in body

    assert run_jobs(tule) == ["succeeded"]
    body = text(clerk.get(response["Location"]))
    approved.refresh_from_db()
    assert approved.state == "issued"
    assert f"Đã ban hành với số {approved.number_symbol}. Trạng thái của văn bản: Đã ban hành." in body
    assert "Bước tiếp theo: gửi văn bản đến nơi nhận." in body
    assert 'href="#action-dispatch"' in body and 'id="action-dispatch"' in body


def test_without_javascript_the_page_refreshes_itself_and_offers_a_reload_link(approved, people, client_for, tule):
    chairman = Official(client_for, people["chairman"], tule)
    location = sign(chairman, approved)["Location"]
    body = text(chairman.get(location))
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in body
    assert f'<a href="{location}">Tải lại</a>' in body
    # A poll without htmx (the address opened by hand) once finished leads to the page.
    run_jobs(tule)
    poll = reverse("documents:outgoing-progress", args=[approved.pk]) + location[location.index("?"):]
    answer = chairman.get(poll)
    assert answer.status_code == 302 and answer["Location"] == location
    assert "<noscript>" not in text(chairman.get(location))  # finished: nothing refreshes any more


def test_a_wrong_pin_says_to_type_it_again(approved, people, client_for, tule):
    chairman = Official(client_for, people["chairman"], tule)
    response = sign(chairman, approved, pin="000000")
    assert response.status_code == 400
    body = text(response)
    assert "Hãy nhập lại mã PIN của chứng thư số." in body
    assert 'id="action-sign"' in body


def test_an_expired_certificate_says_whom_to_ask(draft_factory, people, client_for, in_tule, tule, pki_set, settings):
    import datetime

    from documents import services
    from signatures import services as signature_services
    from signatures.models import SigningCertificate
    from truststore.services import add_anchor, clear_cache

    settings.XASO_TSA_URL = ""
    clear_cache()
    add_anchor(pki_set["ca"].cert_pem(), label="Flow CA", source="test")
    certificate = signature_services.import_pkcs12(
        file_bytes=pki_set["chairman"].to_pkcs12("x"), passphrase="x", kind="personal",
        owner_user_id=people["chairman"].pk, grants={people["chairman"].pk: PIN}, actor=None,
    )
    # Time passes: the certificate's validity ends.
    SigningCertificate.objects.filter(pk=certificate.pk).update(
        not_after=datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc))
    doc = draft_factory(subject="Về việc thử chứng thư hết hạn")
    doc = services.submit(doc, user=people["specialist"])
    doc = services.approve(doc, user=people["chairman"])
    response = sign(Official(client_for, people["chairman"], tule), doc)
    assert response.status_code == 400
    body = text(response)
    # The administrator of the commune, by name, renews it; nothing was signed.
    assert "Hãy liên hệ quản trị viên của xã (Vũ Thị Mai) để gia hạn hoặc cấp quyền dùng chứng thư số" in body
    clear_cache()


def test_a_failed_signature_says_what_to_do_and_offers_the_form_again(approved, people, client_for, tule, settings):
    from jobs.services import execute
    from signatures.models import SigningJob
    from tests.jobs.faults import closed_port

    settings.XASO_TSA_URL = f"http://127.0.0.1:{closed_port()}/tsa"  # the timestamp authority does not answer
    chairman = Official(client_for, people["chairman"], tule)
    location = sign(chairman, approved)["Location"]
    job = SigningJob.objects.get(subject=f"documents.outgoing:{approved.pk}")
    SigningJob.objects.filter(pk=job.pk).update(max_attempts=1)
    assert execute(SigningJob, job.pk, tule.schema_name) == "failed"

    body = text(chairman.get(location))
    assert 'data-state="failed"' in body and "Việc này chưa hoàn thành được." in body
    assert "Cần làm: Hãy nhập mã PIN và ký lại ở bên dưới" in body
    assert 'id="action-sign"' in body  # the PIN form is back
    # Reopened later without the job's address, the page still tells of the failure.
    assert "Cần làm: Hãy nhập mã PIN và ký lại" in text(chairman.get(page_of(approved)))


def test_while_redis_is_down_the_job_is_kept_and_the_page_says_it_waits(
        approved, people, client_for, tule, django_capture_on_commit_callbacks):
    from config.celery import app
    from signatures.models import SigningJob
    from tests.celery_worker import app_target, point_app
    from tests.jobs.faults import closed_port

    chairman = Official(client_for, people["chairman"], tule)
    saved = app_target(app)
    point_app(app, f"redis://127.0.0.1:{closed_port()}/0", saved[1])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = sign(chairman, approved)
    finally:
        point_app(app, *saved)
    assert response.status_code == 302
    assert SigningJob.objects.get(subject=f"documents.outgoing:{approved.pk}").state == "queued"
    body = text(chairman.get(response["Location"]))
    assert 'data-state="queued"' in body
    assert "Không có gì bị mất: việc đã được lưu và sẽ tự tiếp tục khi máy chủ hoạt động trở lại." in body


def test_dispatch_to_another_commune_shows_the_delivery_then_the_next_step(
        issued_factory, people, client_for, tule, yenhoa):
    from jobs.services import execute

    from documents.models import ExchangeJob

    doc = issued_factory(subject="Về việc thử gửi văn bản",
                         electronic_recipients=[{"kind": "commune", "code": yenhoa.code}])
    clerk = Official(client_for, people["clerk"], tule)
    response = clerk.post(reverse("documents:outgoing-action", args=[doc.pk, "dispatch"]), {"note": ""})
    assert response.status_code == 302 and response["Location"] == f"{page_of(doc)}?sent=1"
    body = text(clerk.get(response["Location"]))
    assert 'id="job-progress"' in body and 'data-state="queued"' in body and "Gửi đến nơi nhận" in body

    job = ExchangeJob.objects.get(recipient__document=doc)
    assert execute(ExchangeJob, job.pk, tule.schema_name) == "succeeded"
    from django.db import connection

    connection.set_tenant(tule)
    body = text(clerk.get(response["Location"]))
    assert "Đã gửi đến nơi nhận. Trạng thái của văn bản:" in body
    assert "Bước tiếp theo: lưu trữ vào hồ sơ khi công việc đã xong." in body and 'href="#action-file"' in body
    assert 'id="job-progress"' not in text(clerk.get(page_of(doc)))  # delivered: nothing to follow any more
