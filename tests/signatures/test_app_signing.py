"""Asking for a signature and running the signing job: refusals, PINs, the signed file,
idempotency, two signatures on one file, remote signing confirmed on a phone."""
from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from communes.models import Role
from jobs import services as job_services
from jobs.models import JobState
from signatures import services
from signatures.models import KeyGrant, SigningEvent, SigningJob
from signatures.services import SigningRefused
from tests.signatures.conftest import DONE, read_stored, validate_signed


def _nothing_written(commune, in_commune, files_before):
    with in_commune(commune):
        assert not SigningJob.objects.exists()
        assert _files(commune, in_commune) == files_before


def _files(commune, in_commune) -> set[str]:
    import os

    with in_commune(commune):
        root = default_storage.path(default_storage.generate_filename("signatures"))
    found = set()
    for base, _dirs, names in os.walk(root):
        found |= {os.path.join(base, n) for n in names}
    return found


# --- the happy path -----------------------------------------------------------------------------

def test_request_then_job_gives_a_valid_signed_pdf(tule, in_commune, signer, stored_pdf, sign_request, run_job,
                                                   signing_pki, sample_pdf, django_capture_on_commit_callbacks):
    job = sign_request(signer, stored_pdf)
    assert job.state == JobState.QUEUED
    assert job.prepared_state and job.prepared_name and job.signature_value
    assert job.field_name == "Signature1" and job.subject == "documents.outgoing:42"
    with in_commune(tule):
        assert default_storage.exists(job.prepared_name)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_job(job) == "succeeded"
    with in_commune(tule):
        assert not default_storage.exists(job.prepared_name)  # the placeholder file is removed
    assert job.state == JobState.SUCCEEDED and job.output_name
    assert job.output_name != stored_pdf and "/signatures/signed/" in job.output_name
    assert DONE == [(job.pk, job.output_name)]
    signed = read_stored(job.output_name, tule, in_commune)
    assert signed.startswith(sample_pdf[:8]) and len(signed) > len(sample_pdf)
    (status,) = validate_signed(signed, signing_pki.roots_der)
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.subject.native["common_name"] == "Lò Văn Thành"
    with in_commune(tule):
        assert default_storage.is_final(job.output_name)
        assert read_stored(stored_pdf, tule, in_commune) == sample_pdf  # the source is untouched
        outcomes = list(SigningEvent.objects.filter(job=job).order_by("at", "pk").values_list("outcome", flat=True))
        assert outcomes == ["requested", "signed"]
        event = SigningEvent.objects.get(job=job, outcome="signed")
        assert event.certificate_fingerprint == signer.certificate.fingerprint
        assert event.user_id == signer.user.pk and event.purpose == "leader"
        status_info = services.job_status(job)
        assert status_info["done"] and status_info["message"] == "Signed."
        handle, filename = services.signed_file(job)
        assert handle.read() == signed and filename == "van-ban-signed.pdf"


def test_visible_personal_appearance_with_the_signature_image(tule, in_commune, signer, stored_pdf, sign_request,
                                                              run_job, signing_pki):
    from signatures import demo

    with in_commune(tule):
        services.save_signature_image(data=demo.demo_signature_png("Lò Văn Thành"), kind="signature",
                                      owner_user_id=signer.user.pk, actor=signer.user)
        appearance = services.default_appearance(signer.user, signer.certificate, purpose="leader")
    assert appearance.kind == "personal" and appearance.image_png
    job = sign_request(signer, stored_pdf, appearance=appearance)
    assert "image_id" in job.appearance and "image_png" not in job.appearance  # a reference, not bytes
    assert run_job(job) == "succeeded"
    (status,) = validate_signed(read_stored(job.output_name, tule, in_commune), signing_pki.roots_der)
    assert status.valid and status.intact


def test_personal_then_agency_signature_on_one_file(tule, in_commune, signer, clerk, stored_pdf, sign_request,
                                                    run_job, signing_pki):
    from signatures import demo

    first = sign_request(signer, stored_pdf)
    assert run_job(first) == "succeeded"
    with in_commune(tule):
        services.save_signature_image(data=demo.demo_seal_png("UBND xã Tú Lệ"), kind="seal", actor=None)
        seal = services.default_appearance(clerk.user, clerk.certificate, purpose="agency")
    assert seal.kind == "agency"
    second = sign_request(clerk, first.output_name, field="Signature2", box=(280.0, 110.0, 393.0, 223.0),
                          appearance=seal, subject="documents.outgoing:42")
    assert run_job(second) == "succeeded"
    signed = read_stored(second.output_name, tule, in_commune)
    statuses = validate_signed(signed, signing_pki.roots_der)
    assert len(statuses) == 2 and all(s.intact and s.valid and s.trusted for s in statuses)
    assert [s.signing_cert.subject.native["common_name"] for s in statuses] == ["Lò Văn Thành", "UBND xã Tú Lệ"]
    from pyhanko.sign.diff_analysis import ModificationLevel

    assert statuses[0].modification_level <= ModificationLevel.FORM_FILLING
    assert DONE == [(first.pk, first.output_name), (second.pk, second.output_name)]


# --- refusals: nothing written -------------------------------------------------------------------

def test_wrong_pin_is_refused_and_nothing_is_written(tule, in_commune, signer, stored_pdf, sign_request):
    files = _files(tule, in_commune)
    with pytest.raises(SigningRefused) as info:
        sign_request(signer, stored_pdf, pin="00000000")
    assert info.value.code == "wrong_pin" and "4 attempts left" in info.value.message
    _nothing_written(tule, in_commune, files)
    with in_commune(tule):
        assert KeyGrant.objects.get(certificate=signer.certificate).failed_attempts == 1
        assert SigningEvent.objects.filter(outcome="refused", code="wrong_pin").count() == 1


def test_five_wrong_pins_lock_the_key_for_fifteen_minutes(tule, in_commune, signer, stored_pdf, sign_request):
    codes = []
    for _ in range(5):
        with pytest.raises(SigningRefused) as info:
            sign_request(signer, stored_pdf, pin="11111111")
        codes.append(info.value.code)
    assert codes == ["wrong_pin"] * 4 + ["pin_locked"]
    with pytest.raises(SigningRefused) as info:
        sign_request(signer, stored_pdf)  # even the right PIN, while locked
    assert info.value.code == "pin_locked"
    with in_commune(tule):
        grant = KeyGrant.objects.get(certificate=signer.certificate)
        left = grant.locked_until - timezone.now()
        assert timedelta(minutes=14) < left <= timedelta(minutes=15)
        assert not SigningJob.objects.exists()
        KeyGrant.objects.filter(pk=grant.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert sign_request(signer, stored_pdf).pk  # the lock is over


@pytest.mark.parametrize("case", ["other_official", "clerk_with_personal", "leader_with_agency", "no_grant",
                                  "lost_role"])
def test_without_authority(tule, in_commune, make_user, signer, clerk, stored_pdf, sign_request, case):
    from communes.models import Membership

    if case == "other_official":
        vice = make_user("vice", roles={tule: [Role.VICE_CHAIRMAN]})
        call = lambda: sign_request(signer, stored_pdf, user=vice)  # noqa: E731
    elif case == "clerk_with_personal":
        call = lambda: sign_request(clerk, stored_pdf, certificate=signer.certificate)  # noqa: E731
    elif case == "leader_with_agency":
        call = lambda: sign_request(clerk, stored_pdf, purpose="leader")  # noqa: E731
    elif case == "no_grant":
        other_clerk = make_user("clerk2", roles={tule: [Role.CLERK]})
        call = lambda: sign_request(clerk, stored_pdf, user=other_clerk)  # noqa: E731
    else:
        Membership.objects.filter(user=signer.user).update(is_active=False)
        signer.user.__dict__.pop("_roles_cache", None)
        call = lambda: sign_request(signer, stored_pdf)  # noqa: E731
    files = _files(tule, in_commune)
    with pytest.raises(SigningRefused) as info:
        call()
    assert info.value.code == "no_authority"
    _nothing_written(tule, in_commune, files)


@pytest.mark.parametrize("change, code", [
    ({"active": False}, "certificate_inactive"),
    ({"not_after": timezone.now() - timedelta(days=1)}, "certificate_expired"),
    ({"not_before": timezone.now() + timedelta(days=1)}, "certificate_not_yet_valid"),
])
def test_certificate_state_refusals(tule, in_commune, signer, stored_pdf, sign_request, change, code):
    from signatures.models import SigningCertificate

    with in_commune(tule):
        SigningCertificate.objects.filter(pk=signer.certificate.pk).update(**change)
        signer.certificate.refresh_from_db()
    with pytest.raises(SigningRefused) as info:
        sign_request(signer, stored_pdf)
    assert info.value.code == code
    with in_commune(tule):
        assert not SigningJob.objects.exists()


def test_untrusted_certificate_is_refused(tule, in_commune, signer, stored_pdf, sign_request, signing_pki):
    from truststore.services import add_anchor

    add_anchor(signing_pki.other_ca.cert_pem(), label="Other", source="test")  # the store no longer trusts ours
    with pytest.raises(SigningRefused) as info:
        sign_request(signer, stored_pdf)
    assert info.value.code == "untrusted"
    add_anchor(signing_pki.ca.cert_pem(), label="Ours", source="test")
    assert sign_request(signer, stored_pdf).pk


def test_already_signed_and_pending(tule, in_commune, signer, stored_pdf, sign_request, run_job):
    job = sign_request(signer, stored_pdf)
    with pytest.raises(SigningRefused) as info:
        sign_request(signer, stored_pdf)  # a signature of the same field is in progress
    assert info.value.code == "already_signed"
    run_job(job)
    with pytest.raises(SigningRefused) as info:
        sign_request(signer, job.output_name)  # the signed file's field is signed
    assert info.value.code == "already_signed"


def test_not_a_pdf(tule, in_commune, signer, store_pdf, sign_request):
    name = store_pdf(b"hello, not a pdf", "documents/x.pdf")
    with pytest.raises(SigningRefused) as info:
        sign_request(signer, name)
    assert info.value.code == "invalid_pdf"
    with pytest.raises(SigningRefused) as info:
        sign_request(signer, "documents/missing.pdf")
    assert info.value.code == "invalid_pdf"


# --- never two signatures ------------------------------------------------------------------------

def test_running_the_job_again_adds_no_second_signature(tule, in_commune, signer, stored_pdf, sign_request, run_job,
                                                        signing_pki):
    job = sign_request(signer, stored_pdf)
    assert run_job(job) == "succeeded"
    first_output = job.output_name
    assert run_job(job) == "not-claimed"  # a duplicate message finds nothing to claim
    with in_commune(tule):  # force a second run, as a wrongly re-queued job would be
        SigningJob.objects.filter(pk=job.pk).update(state=JobState.QUEUED, run_after=timezone.now())
    assert run_job(job) == "succeeded"
    assert job.output_name == first_output
    assert DONE == [(job.pk, first_output)]
    assert len(validate_signed(read_stored(first_output, tule, in_commune), signing_pki.roots_der)) == 1
    with in_commune(tule):
        assert SigningEvent.objects.filter(job=job, outcome="signed").count() == 1


def test_interrupted_after_the_file_was_saved(tule, in_commune, signer, stored_pdf, sign_request, run_job, signing_pki):
    """on_done fails once: the transaction is rolled back after the signed file was written; the
    next run reuses that file (no second file, no second signature)."""
    job = sign_request(signer, stored_pdf, on_done="tests.signatures.conftest.failing_done")
    assert run_job(job) == "retry"
    assert job.state == JobState.QUEUED and not job.output_name and job.error == "on_done failed"
    with in_commune(tule):
        SigningJob.objects.filter(pk=job.pk).update(on_done="tests.signatures.conftest.record_done",
                                                    run_after=timezone.now())
        signed_dir = default_storage.path(default_storage.generate_filename("signatures/signed"))
    import os

    files_before = [f for _b, _d, names in os.walk(signed_dir) for f in names if f.endswith(".pdf")]
    assert len(files_before) == 1
    assert run_job(job) == "succeeded"
    files_after = [f for _b, _d, names in os.walk(signed_dir) for f in names if f.endswith(".pdf")]
    assert files_after == files_before
    assert len(validate_signed(read_stored(job.output_name, tule, in_commune), signing_pki.roots_der)) == 1
    assert DONE == [(job.pk, job.output_name)]


def test_finish_failing_once_is_retried(tule, in_commune, signer, stored_pdf, sign_request, run_job, monkeypatch,
                                        signing_pki):
    from signatures.pdf import pades
    from signatures.pdf.errors import SigningFailed

    real = pades.finish
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise SigningFailed("timestamp_unavailable", "TSA down", retryable=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(pades, "finish", flaky)
    job = sign_request(signer, stored_pdf)
    assert run_job(job) == "retry" and job.state == JobState.QUEUED and job.attempts == 1
    with in_commune(tule):
        SigningJob.objects.filter(pk=job.pk).update(run_after=timezone.now())
    assert run_job(job) == "succeeded"
    assert len(validate_signed(read_stored(job.output_name, tule, in_commune), signing_pki.roots_der)) == 1


def test_the_pin_never_reaches_the_database(tule, in_commune, signer, clerk, stored_pdf, sign_request, run_job):
    from django.db import connection

    job = sign_request(signer, stored_pdf)
    run_job(job)
    with in_commune(tule):
        with connection.cursor() as cursor:
            texts = []
            for table in ("signatures_signingjob", "signatures_keygrant", "signatures_historicalkeygrant",
                          "signatures_signingcertificate", "signatures_signingevent"):
                cursor.execute(f"SELECT t::text FROM {table} t")
                texts += [row[0] for row in cursor.fetchall()]
    blob = "\n".join(texts)
    assert texts and signer.pin not in blob and clerk.pin not in blob
    assert "BEGIN PRIVATE KEY" not in blob and "p12-pass" not in blob
    assert "ENCRYPTED PRIVATE KEY" in blob or "\\x2d2d2d2d2d424547494e20454e43525950544544" in blob


# --- remote signing (CSC): confirmed on the phone ----------------------------------------------

@pytest.fixture
def csc(settings, signing_pki):
    from tests.signatures.csc_server import CscTestServer

    with CscTestServer(token="csc-test-token-h4") as server:
        settings.XASO_CSC_TOKENS = {"XASO_CSC_TOKEN_TEST": server.token}
        server.credential_id = server.add_credential(signing_pki.vice, "vice-chairman-1")
        yield server


@pytest.fixture
def remote_signer(tule, in_commune, make_user, csc):
    from tests.signatures.conftest import Holder

    user = make_user("tule.vice.remote", roles={tule: [Role.VICE_CHAIRMAN]}, full_name="Nguyễn Thị Hoa")
    with in_commune(tule):
        certificate = services.register_csc_certificate(
            kind="personal", service_url=csc.url, credential_id=csc.credential_id,
            token_setting="XASO_CSC_TOKEN_TEST", owner_user_id=user.pk, actor=None,
        )
    return Holder(user, certificate, "")


def test_register_csc_reads_the_certificate_and_keeps_no_token(tule, in_commune, remote_signer, signing_pki, csc):
    certificate = remote_signer.certificate
    assert certificate.backend == "csc" and certificate.cert_bytes == signing_pki.vice.cert_der
    assert certificate.backend_config == {"service_url": csc.url, "credential_id": "vice-chairman-1",
                                          "token_setting": "XASO_CSC_TOKEN_TEST"}
    assert csc.token not in repr(certificate.backend_config)


def test_csc_job_waits_for_the_phone_then_finishes(tule, in_commune, remote_signer, stored_pdf, sign_request,
                                                   run_job, csc, signing_pki):
    job = sign_request(remote_signer, stored_pdf, purpose="leader")
    assert not job.prepared_state and not job.signature_value
    assert run_job(job) == "waiting"
    assert job.state == JobState.WAITING and job.prepared_state and job.csc_request_id
    assert job.is_waiting_for_phone and job.run_after > timezone.now()
    with in_commune(tule):
        assert services.job_status(job)["waiting_for_phone"]
    assert len(csc.pending()) == 1
    # nobody confirmed yet: the sweeper wakes it when its time comes, it waits again
    time.sleep(max(0.0, (job.run_after - timezone.now()).total_seconds()) + 0.05)
    with in_commune(tule):
        assert job_services.sweep_schema()["woken"] == 1
    assert run_job(job) == "waiting"
    assert csc.effects.get(job.idempotency_key) == 1  # asked once, polled since
    csc.release(job.idempotency_key)
    with in_commune(tule):
        job_services.resume(job)
    assert run_job(job) == "succeeded"
    signed = read_stored(job.output_name, tule, in_commune)
    (status,) = validate_signed(signed, signing_pki.roots_der)
    assert status.valid and status.intact and status.signing_cert.subject.native["common_name"] == "Nguyễn Thị Hoa"
    assert DONE == [(job.pk, job.output_name)]


def test_csc_service_down_after_prepare_then_one_signature(tule, in_commune, remote_signer, stored_pdf, sign_request,
                                                          run_job, csc, signing_pki):
    job = sign_request(remote_signer, stored_pdf, purpose="leader")
    csc.fail_next = [503, 503, 503]
    assert run_job(job) == "retry"
    assert job.prepared_state and not job.csc_request_id
    prepared = job.prepared_state
    csc.fail_next = []
    with in_commune(tule):
        SigningJob.objects.filter(pk=job.pk).update(run_after=timezone.now())
    assert run_job(job) == "waiting"
    assert job.prepared_state == prepared  # not prepared twice
    csc.release(job.idempotency_key)
    with in_commune(tule):
        job_services.resume(job)
    assert run_job(job) == "succeeded"
    assert len(validate_signed(read_stored(job.output_name, tule, in_commune), signing_pki.roots_der)) == 1


def test_csc_declined_fails_the_job(tule, in_commune, remote_signer, stored_pdf, sign_request, run_job, csc):
    job = sign_request(remote_signer, stored_pdf, purpose="leader")
    assert run_job(job) == "waiting"
    csc.deny(job.idempotency_key)
    with in_commune(tule):
        job_services.resume(job)
    assert run_job(job) == "failed"
    assert "declined" in job.error and not job.output_name
    with in_commune(tule):
        assert SigningEvent.objects.filter(job=job, outcome="failed").exists()
    assert DONE == []


# --- certificate_for and expiry ---------------------------------------------------------------

def test_certificate_for(tule, in_commune, signer, clerk, make_user):
    with in_commune(tule):
        assert services.certificate_for(signer.user, "personal") == signer.certificate
        assert services.certificate_for(signer.user, "agency") is None
        assert services.certificate_for(clerk.user, "agency") == clerk.certificate
        assert services.certificate_for(clerk.user, "personal") is None
        assert services.certificate_for(make_user("nobody"), "personal") is None


def test_expiry_warning(tule, in_commune, signer, settings, client_for):
    from signatures.models import SigningCertificate

    settings.XASO_CERT_EXPIRY_WARNING_DAYS = 30
    with in_commune(tule):
        assert not SigningCertificate.objects.get(pk=signer.certificate.pk).expires_soon
        SigningCertificate.objects.filter(pk=signer.certificate.pk).update(not_after=timezone.now() + timedelta(days=10))
        certificate = SigningCertificate.objects.get(pk=signer.certificate.pk)
        assert certificate.expires_soon and certificate.status == "expires_soon" and certificate.days_left in (9, 10)
    page = client_for("tule.localhost", signer.user).get("/signatures/").content.decode()
    assert "expires on" in page and "Expires in" in page
    settings.XASO_CERT_EXPIRY_WARNING_DAYS = 5
    page = client_for("tule.localhost", signer.user).get("/signatures/").content.decode()
    assert "expires on" not in page


def test_expiry_warning_tag_for_the_officials_home(tule, in_commune, signer, rf):
    from django.template import Context, Template

    from signatures.models import SigningCertificate

    with in_commune(tule):
        SigningCertificate.objects.filter(pk=signer.certificate.pk).update(not_after=timezone.now() + timedelta(days=3))
        request = rf.get("/")
        request.user = signer.user
        request.commune = tule
        html = Template("{% load signatures_tags %}{% certificate_warnings %}").render(Context({"request": request}))
    assert "Lò Văn Thành" in html and "expires on" in html


def test_signature_value_in_the_job_is_not_a_key(tule, in_commune, signer, stored_pdf, sign_request):
    job = sign_request(signer, stored_pdf)
    value = base64.b64decode(job.signature_value)
    assert len(value) == 256  # an RSA-2048 signature, nothing more


# --- timestamps (PAdES B-T) ------------------------------------------------------------------

def test_timestamped_signature_and_tsa_down_is_retried(tule, in_commune, signer, stored_pdf, sign_request, run_job,
                                                       settings, signing_pki):
    from signatures import pki
    from tests.signatures.tsa_server import TsaServer

    with TsaServer(pki.issue_tsa(signing_pki.ca), chain=[signing_pki.ca.cert]) as tsa:
        settings.XASO_TSA_URL = tsa.url
        job = sign_request(signer, stored_pdf)
        assert job.timestamp_url == tsa.url
        tsa.fail = True
        assert run_job(job) == "retry"
        assert "timestamp_unavailable" in job.error and not job.output_name
        tsa.fail = False
        with in_commune(tule):
            SigningJob.objects.filter(pk=job.pk).update(run_after=timezone.now())
        assert run_job(job) == "succeeded"
        assert tsa.requests == 1
    (status,) = validate_signed(read_stored(job.output_name, tule, in_commune), signing_pki.roots_der)
    assert status.valid and status.intact and status.timestamp_validity is not None
    assert status.timestamp_validity.valid and status.timestamp_validity.trusted


# --- a key on a PKCS#11 token ------------------------------------------------------------------

def test_pkcs11_token_signs_in_the_request(tule, in_commune, make_user, stored_pdf, sign_request, run_job, settings,
                                           signing_pki):
    from django.core.exceptions import ValidationError

    from tests.signatures import softhsm
    from tests.signatures.conftest import Holder

    softhsm.require()
    module, label, pin, _conf = softhsm.create_token(signing_pki.chairman, token_label="xaso-h4-app", pin="24681357")
    user = make_user("tule.chairman.token", roles={tule: [Role.CHAIRMAN]})
    settings.XASO_PKCS11_MODULES = []
    with in_commune(tule):
        with pytest.raises(ValidationError) as info:
            services.register_pkcs11_certificate(kind="personal", module_path=module, token_label=label, pin=pin,
                                                 key_label="signer", owner_user_id=user.pk, actor=None)
        assert "module_path" in info.value.message_dict
        settings.XASO_PKCS11_MODULES = [module]
        certificate = services.register_pkcs11_certificate(
            kind="personal", module_path=module, token_label=label, pin=pin, key_label="signer",
            owner_user_id=user.pk, actor=None)
        assert certificate.backend == "pkcs11" and certificate.cert_bytes == signing_pki.chairman.cert_der
        assert certificate.chain_bytes == [signing_pki.ca.cert_der]
        assert pin not in repr(certificate.backend_config)
        assert KeyGrant.objects.get(certificate=certificate).encrypted_key is None
    holder = Holder(user, certificate, pin)
    with pytest.raises(SigningRefused) as info:
        sign_request(holder, stored_pdf, pin="99999999")
    assert info.value.code == "wrong_pin"
    with in_commune(tule):
        assert KeyGrant.objects.get(certificate=certificate).failed_attempts == 1
        assert not SigningJob.objects.exists()
    job = sign_request(holder, stored_pdf)
    assert run_job(job) == "succeeded"
    (status,) = validate_signed(read_stored(job.output_name, tule, in_commune), signing_pki.roots_der)
    assert status.valid and status.intact


def test_default_appearances(tule, in_commune, signer, clerk):
    from signatures import demo

    with in_commune(tule):
        bare = services.default_appearance(signer.user, signer.certificate, purpose="leader", lines=[])
        assert bare.kind == "personal" and bare.lines == ["Lò Văn Thành"] and bare.image_png is None
        no_seal = services.default_appearance(clerk.user, clerk.certificate, purpose="agency", lines=[])
        assert no_seal.kind == "attachment" and no_seal.lines == ["UBND xã Tú Lệ"]
        services.save_signature_image(data=demo.demo_seal_png("UBND xã Tú Lệ"), kind="seal", actor=None)
        seal = services.default_appearance(clerk.user, clerk.certificate, purpose="agency", lines=[])
        assert seal.kind == "agency" and seal.image_png
        attachment = services.default_appearance(clerk.user, clerk.certificate, purpose="attachment",
                                                 lines=["Số: 05/QĐ-UBND", "{signing_time}"])
        assert attachment.kind == "attachment" and attachment.lines[0] == "Số: 05/QĐ-UBND"
