"""Pages and API of the signatures app: forms, uploads, errors as clear messages (never a 500)."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from communes.models import Role
from signatures.models import KeyGrant, SignatureImage, SigningCertificate, SigningJob
from tests.signatures.conftest import CLERK_PIN, SIGNER_PIN


@pytest.fixture
def admin_user(make_user, tule):
    return make_user("tule.admin.sig", roles={tule: [Role.COMMUNE_ADMIN]})


@pytest.fixture
def chairman(make_user, tule):
    return make_user("tule.ct", roles={tule: [Role.CHAIRMAN]}, full_name="Lò Văn Thành")


def p12(identity, passphrase="mat-khau", name="cert.p12"):
    return SimpleUploadedFile(name, identity.to_pkcs12(passphrase), content_type="application/x-pkcs12")


def png(colour=(20, 60, 200)) -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (200, 80), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 40), (60, 10), (120, 70), (190, 20)], fill=colour, width=8)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return SimpleUploadedFile("chu-ky.png", out.getvalue(), content_type="image/png")


# --- pages ----------------------------------------------------------------------------------------

def test_admin_imports_a_personal_certificate_on_the_page(tule, in_commune, admin_user, chairman, signing_pki,
                                                          client_for):
    client = client_for("tule.localhost", admin_user)
    assert client.get("/signatures/commune/import/").status_code == 200
    response = client.post("/signatures/commune/import/", {
        "kind": "personal", "holder": chairman.pk, "file": p12(signing_pki.chairman), "passphrase": "mat-khau",
        "pin": "246813", "pin_confirm": "246813",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    with in_commune(tule):
        certificate = SigningCertificate.objects.get()
        assert certificate.owner_user_id == chairman.pk
    page = client.get(response["Location"]).content.decode()
    assert "Lò Văn Thành" in page and certificate.fingerprint in page
    assert "Lò Văn Thành" in client.get("/signatures/commune/").content.decode()


@pytest.mark.parametrize("data, message", [
    ({"passphrase": "sai"}, "The passphrase does not open this file."),
    ({"pin": "12", "pin_confirm": "12"}, "The PIN must have 6 to 12 digits."),
    ({"pin_confirm": "999999"}, "The two PINs are not the same."),
    ({"file": SimpleUploadedFile("x.p12", b"garbage")}, "This is not a PKCS#12 certificate file (.p12 or .pfx)."),
])
def test_import_page_errors(tule, in_commune, admin_user, chairman, signing_pki, client_for, data, message):
    client = client_for("tule.localhost", admin_user)
    payload = {"kind": "personal", "holder": chairman.pk, "file": p12(signing_pki.chairman), "passphrase": "mat-khau",
               "pin": "246813", "pin_confirm": "246813", **data}
    response = client.post("/signatures/commune/import/", payload)
    assert response.status_code == 400
    assert message in response.content.decode()
    with in_commune(tule):
        assert not SigningCertificate.objects.exists()


def test_official_imports_own_certificate_and_changes_pin(tule, in_commune, chairman, signing_pki, client_for):
    client = client_for("tule.localhost", chairman)
    response = client.post("/signatures/import/", {"file": p12(signing_pki.chairman), "passphrase": "mat-khau",
                                                   "pin": "246813", "pin_confirm": "246813"})
    assert response.status_code == 302
    with in_commune(tule):
        grant = KeyGrant.objects.get(user_id=chairman.pk)
    page = client.get("/signatures/").content.decode()
    assert "Lò Văn Thành" in page and f"/signatures/grants/{grant.pk}/pin/" in page
    response = client.post(f"/signatures/grants/{grant.pk}/pin/", {"old_pin": "000000", "new_pin": "1357911",
                                                                   "new_pin_confirm": "1357911"})
    assert response.status_code == 400 and "The PIN is not correct." in response.content.decode()
    response = client.post(f"/signatures/grants/{grant.pk}/pin/", {"old_pin": "246813", "new_pin": "1357911",
                                                                   "new_pin_confirm": "1357911"})
    assert response.status_code == 302
    from signatures import pki

    with in_commune(tule):
        pki.decrypt_key(bytes(KeyGrant.objects.get(pk=grant.pk).encrypted_key), "1357911")


def test_someone_elses_grant_is_not_found(tule, signer, clerk, client_for):
    client = client_for("tule.localhost", clerk.user)
    from django_tenants.utils import tenant_context

    with tenant_context(tule):
        grant = KeyGrant.objects.get(user_id=signer.user.pk)
    assert client.get(f"/signatures/grants/{grant.pk}/pin/").status_code == 404


def test_signature_image_upload_page(tule, in_commune, chairman, client_for):
    client = client_for("tule.localhost", chairman)
    response = client.post("/signatures/image/", {"file": png((0, 0, 0))})
    assert response.status_code == 400 and "The handwritten signature must be in blue ink." in response.content.decode()
    assert client.post("/signatures/image/", {"file": png()}).status_code == 302
    page = client.get("/signatures/").content.decode()
    assert "data:image/png;base64," in page
    with in_commune(tule):
        assert SignatureImage.objects.filter(owner_user_id=chairman.pk, active=True).count() == 1


def test_admin_uploads_seal_and_gives_agency_key(tule, in_commune, admin_user, clerk, make_user, client_for):
    client = client_for("tule.localhost", admin_user)
    assert client.post("/signatures/commune/seal/", {"file": png((200, 20, 30))}).status_code == 302
    second = make_user("clerk.two", roles={tule: [Role.CLERK]})
    url = f"/signatures/certificates/{clerk.certificate.pk}/grants/"
    response = client.post(url, {"user": second.pk, "pin": "555666", "pin_confirm": "555666",
                                 "unlocking_user": clerk.user.pk, "unlocking_pin": "000000"})
    assert response.status_code == 400 and "The PIN is not correct." in response.content.decode()
    response = client.post(url, {"user": second.pk, "pin": "555666", "pin_confirm": "555666",
                                 "unlocking_user": clerk.user.pk, "unlocking_pin": CLERK_PIN})
    assert response.status_code == 302
    with in_commune(tule):
        assert KeyGrant.objects.filter(certificate=clerk.certificate).count() == 2
    page = client.get(f"/signatures/certificates/{clerk.certificate.pk}/").content.decode()
    assert "clerk.two" in page
    assert client.post(f"/signatures/certificates/{clerk.certificate.pk}/deactivate/").status_code == 302
    with in_commune(tule):
        assert not SigningCertificate.objects.get(pk=clerk.certificate.pk).active


def test_sign_a_pdf_on_the_page_and_follow_it(tule, in_commune, signer, sample_pdf, client_for, run_job):
    client = client_for("tule.localhost", signer.user)
    assert client.get("/signatures/sign/").status_code == 200
    upload = lambda: SimpleUploadedFile("bao-cao.pdf", sample_pdf, content_type="application/pdf")  # noqa: E731
    response = client.post("/signatures/sign/", {"file": upload(), "certificate": signer.certificate.pk,
                                                 "pin": "000000"})
    assert response.status_code == 400 and "The PIN is not correct." in response.content.decode()
    with in_commune(tule):
        assert not SigningJob.objects.exists()
    response = client.post("/signatures/sign/", {"file": SimpleUploadedFile("x.pdf", b"not a pdf"),
                                                 "certificate": signer.certificate.pk, "pin": SIGNER_PIN})
    assert response.status_code == 400 and "This file is not a PDF." in response.content.decode()
    response = client.post("/signatures/sign/", {"file": upload(), "certificate": signer.certificate.pk,
                                                 "pin": SIGNER_PIN, "reason": "Báo cáo tháng"})
    assert response.status_code == 302
    with in_commune(tule):
        job = SigningJob.objects.get()
    page = client.get(f"/signatures/jobs/{job.pk}/").content.decode()
    assert 'hx-get="/signatures/jobs/%d/progress/"' % job.pk in page
    assert run_job(job) == "succeeded"
    partial = client.get(f"/signatures/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert partial["HX-Redirect"] == f"/signatures/jobs/{job.pk}/"
    page = client.get(partial["HX-Redirect"]).content.decode()
    assert "hx-get" not in page and f'href="/signatures/jobs/{job.pk}/download/"' in page
    download = client.get(f"/signatures/jobs/{job.pk}/download/")
    assert download.status_code == 200 and 'filename="bao-cao-signed.pdf"' in download["Content-Disposition"]


def test_csc_job_page_says_confirm_on_the_phone(tule, in_commune, signer, stored_pdf, client_for):
    from django.utils import timezone

    with in_commune(tule):
        job = SigningJob.objects.create(
            certificate=signer.certificate, requested_by_id=signer.user.pk, source_name=stored_pdf,
            field_name="Signature1", state="waiting", csc_request_id="abc", run_after=timezone.now(),
            waiting_reason="confirmation on the signer's phone",
        )
    page = client_for("tule.localhost", signer.user).get(f"/signatures/jobs/{job.pk}/").content.decode()
    assert "Waiting for confirmation on your phone." in page and "hx-get" in page


def test_every_page_renders_for_an_empty_commune(tule, admin_user, chairman, client_for):
    for user in (admin_user, chairman):
        client = client_for("tule.localhost", user)
        for url in ["/signatures/", "/signatures/jobs/", "/signatures/jobs/?page=abc", "/signatures/jobs/99/",
                    "/signatures/certificates/99/"]:
            assert client.get(url).status_code in (200, 403, 404), url


# --- API -------------------------------------------------------------------------------------------

def test_api_import_and_errors(tule, in_commune, admin_user, chairman, signing_pki, client_for):
    client = client_for("tule.localhost", admin_user)
    url = "/api/v1/signatures/certificates/"
    base = {"kind": "personal", "holder": chairman.pk, "passphrase": "mat-khau", "pin": "246813"}
    bad = client.post(url, {**base, "file": p12(signing_pki.chairman, "khac")})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid" and "passphrase" in bad.json()["fields"]
    bad = client.post(url, {**base, "pin": "1", "file": p12(signing_pki.chairman)})
    assert bad.status_code == 400 and "pin" in bad.json()["fields"]
    bad = client.post(url, {**base, "holder": 999999, "file": p12(signing_pki.chairman)})
    assert bad.status_code == 400 and "holder" in bad.json()["fields"]
    bad = client.post(url, {**base, "file": p12(signing_pki.expired)})
    assert bad.status_code == 400 and bad.json()["fields"]["file"][0].startswith("This certificate expired on")
    bad = client.post(url, {**base, "kind": "robot", "file": p12(signing_pki.chairman)})
    assert bad.status_code == 400 and "kind" in bad.json()["fields"]
    bad = client.post(url, base)
    assert bad.status_code == 400 and "file" in bad.json()["fields"]
    with in_commune(tule):
        assert not SigningCertificate.objects.exists()
    good = client.post(url, {**base, "file": p12(signing_pki.chairman)})
    assert good.status_code == 201, good.content
    body = good.json()
    assert body["subject"] == "Lò Văn Thành" and body["owner"] == chairman.pk and body["status"] == "valid"
    assert body["grants"][0]["user"] == chairman.pk
    assert "pin" not in body and "passphrase" not in body
    detail = client.get(f"{url}{body['id']}/").json()
    assert detail["fingerprint"] == body["fingerprint"]


def test_api_sign_upload_and_follow(tule, in_commune, signer, sample_pdf, client_for, run_job, signing_pki):
    client = client_for("tule.localhost", signer.user)
    url = "/api/v1/signatures/jobs/"
    upload = lambda data=sample_pdf: SimpleUploadedFile("bao-cao.pdf", data, content_type="application/pdf")  # noqa: E731
    wrong = client.post(url, {"file": upload(), "certificate": signer.certificate.pk, "pin": "000000"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_pin"
    assert wrong.json()["detail"].startswith("The PIN is not correct.")
    not_pdf = client.post(url, {"file": upload(b"GIF89a"), "certificate": signer.certificate.pk, "pin": SIGNER_PIN})
    assert not_pdf.status_code == 400 and not_pdf.json()["fields"] == {"file": ["This file is not a PDF."]}
    other = client.post(url, {"file": upload(), "certificate": 987654, "pin": SIGNER_PIN})
    assert other.status_code == 400 and "certificate" in other.json()["fields"]
    with in_commune(tule):
        assert not SigningJob.objects.exists()
    created = client.post(url, {"file": upload(), "certificate": signer.certificate.pk, "pin": SIGNER_PIN})
    assert created.status_code == 201, created.content
    job_id = created.json()["id"]
    assert created.json()["state"] == "queued" and created.json()["download_url"] is None
    assert client.get(f"{url}{job_id}/download/").status_code == 404
    with in_commune(tule):
        job = SigningJob.objects.get(pk=job_id)
    assert run_job(job) == "succeeded"
    progress = client.get(f"{url}{job_id}/progress/").json()
    assert progress["done"] and progress["state"] == "succeeded"
    detail = client.get(f"{url}{job_id}/").json()
    assert detail["download_url"] == f"/api/v1/signatures/jobs/{job_id}/download/"
    response = client.get(detail["download_url"])
    assert response.status_code == 200
    from tests.signatures.conftest import validate_signed

    (status,) = validate_signed(b"".join(response.streaming_content), signing_pki.roots_der)
    assert status.valid and status.intact


def test_api_locked_pin_is_423(tule, in_commune, signer, sample_pdf, client_for):
    from django.utils import timezone

    with in_commune(tule):
        KeyGrant.objects.filter(user_id=signer.user.pk).update(locked_until=timezone.now() + timezone.timedelta(minutes=5))
    response = client_for("tule.localhost", signer.user).post("/api/v1/signatures/jobs/", {
        "file": SimpleUploadedFile("a.pdf", sample_pdf), "certificate": signer.certificate.pk, "pin": SIGNER_PIN})
    assert response.status_code == 423 and response.json()["code"] == "pin_locked"


def test_api_images(tule, in_commune, chairman, admin_user, client_for):
    client = client_for("tule.localhost", chairman)
    bad = client.post("/api/v1/signatures/images/", {"kind": "signature", "file": png((0, 0, 0))})
    assert bad.status_code == 400 and bad.json()["fields"]["file"] == ["The handwritten signature must be in blue ink."]
    assert client.post("/api/v1/signatures/images/", {"kind": "seal", "file": png((200, 20, 30))}).status_code == 403
    good = client.post("/api/v1/signatures/images/", {"kind": "signature", "file": png()})
    assert good.status_code == 201 and good.json()["owner"] == chairman.pk
    content = client.get(f"/api/v1/signatures/images/{good.json()['id']}/content/")
    assert content.status_code == 200 and content["Content-Type"] == "image/png"
    admin = client_for("tule.localhost", admin_user)
    assert admin.get(f"/api/v1/signatures/images/{good.json()['id']}/").status_code == 404
    seal = admin.post("/api/v1/signatures/images/", {"kind": "seal", "file": png((200, 20, 30))})
    assert seal.status_code == 201 and seal.json()["owner"] is None
