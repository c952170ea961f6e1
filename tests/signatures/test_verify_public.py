"""The public signature check: page and API, on a commune host and on the national host.

The PDFs are made here with reportlab and signed with pyHanko directly, from the demo PKI.
"""
from __future__ import annotations

import hashlib
import io
import itertools

import pytest
from django.test import Client
from django.utils.translation import gettext, override

from communes.models import Role
from signatures import pki
from signatures import verify_report as report
from truststore import services as truststore
from truststore.models import VerificationLog

COMMUNE_HOST = "tule.localhost"
NATIONAL_HOST = "localhost"
HOSTS = [COMMUNE_HOST, NATIONAL_HOST]
_addresses = itertools.count(1)


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


# --- making PDFs ---------------------------------------------------------------------------------

def make_pdf(text: str = "Quyet dinh so 05/QD-UBND", *, encrypt: str | None = None) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pageCompression=0, encrypt=encrypt)
    page.drawString(72, 760, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def sign(pdf: bytes, identity: pki.Identity, field: str = "Signature1") -> bytes:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(identity.cert_der),
        signing_key=load_private_key_from_pemder_data(identity.key_pem(), passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(d) for d in identity.chain_der]),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=field), signer=signer).getvalue()


def change_content_after_signing(signed: bytes) -> bytes:
    """An incremental update that replaces what page 1 shows (not allowed by any signature)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    stream = generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 760 Td (Quyet dinh so 99/QD-UBND) Tj ET")
    page = page_ref.get_object()
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="session")
def demo_pki():
    ca = pki.make_demo_ca("Xã Số Test CA")
    official = pki.issue_personal(ca, "Lò Văn Chủ", "Chủ tịch", "UBND xã Tú Lệ")
    agency = pki.issue_agency(ca, "UBND xã Tú Lệ", locality="Văn Chấn")
    return {"ca": ca, "official": official, "agency": agency}


@pytest.fixture(scope="session")
def pdfs(demo_pki):
    import datetime as dt

    expired = pki.issue_personal(demo_pki["ca"], "Nguyễn Văn Cũ", "Phó Chủ tịch", "UBND xã Tú Lệ",
                                 not_before=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
                                 not_after=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc))
    plain = make_pdf()
    signed = sign(plain, demo_pki["official"])
    twice = sign(signed, demo_pki["agency"], field="Signature2")
    marker = b"05/QD-UBND"
    assert signed.count(marker) == 1
    tampered = signed.replace(marker, b"06/QD-UBND")
    return {
        "plain": plain, "signed": signed, "twice": twice, "tampered": tampered,
        "changed": change_content_after_signing(signed),
        "encrypted": make_pdf(encrypt="mat-khau"),
        "expired": sign(plain, expired),
    }


@pytest.fixture
def trust_demo_ca(db, demo_pki):
    return truststore.add_anchor(demo_pki["ca"].cert_pem(), label="Demo CA", source="test")


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.XASO_VERIFY_RATE = "1000/minute"
    truststore.clear_cache()
    yield
    truststore.clear_cache()


def anonymous(host: str) -> Client:
    """A client with an address of its own (the throttle counts per address)."""
    n = next(_addresses)
    return Client(HTTP_HOST=host, REMOTE_ADDR=f"10.55.{n // 250}.{n % 250 + 1}")


def upload(data: bytes, name: str = "van-ban.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")


def api(client: Client, data: bytes, name: str = "van-ban.pdf"):
    return client.post("/api/v1/verify/", {"file": upload(data, name)})


def page(client: Client, data: bytes, name: str = "van-ban.pdf"):
    return client.post("/verify/", {"file": upload(data, name)})


# --- verdicts -----------------------------------------------------------------------------------

@pytest.mark.parametrize("host", HOSTS)
def test_trusted_signature_through_the_api(host, pdfs, trust_demo_ca):
    response = api(anonymous(host), pdfs["signed"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verdict"] == "valid"
    assert body["verdict_message"] == report.overall_message("valid", 1)
    [sig] = body["signatures"]
    assert sig["verdict"] == "valid" and sig["trusted"] and sig["intact"] and sig["valid"]
    assert sig["signer"] == "Lò Văn Chủ" and sig["organisation"] == "UBND xã Tú Lệ"
    assert sig["modification_level"] == "none" and sig["changes_permitted"] in (True, None)
    assert sig["signing_time"].endswith("+07:00")
    assert body["file"] == {"name": "van-ban.pdf", "size": len(pdfs["signed"]),
                            "sha256": hashlib.sha256(pdfs["signed"]).hexdigest()}


@pytest.mark.parametrize("host", HOSTS)
def test_trusted_signature_on_the_page(host, pdfs, trust_demo_ca):
    client = anonymous(host)
    form = client.get("/verify/")
    assert form.status_code == 200 and 'type="file"' in form.content.decode()
    assert 'enctype="multipart/form-data"' in form.content.decode()
    response = page(client, pdfs["signed"])
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-verdict="valid"' in text
    assert "Lò Văn Chủ" in text and "UBND xã Tú Lệ" in text
    assert str(report.VERDICT_TITLES["valid"]) in text
    # dd/mm/yyyy HH:MM in Vietnam's time
    import re
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", text)


@pytest.mark.parametrize("host", HOSTS)
def test_untrusted_when_the_ca_is_not_an_anchor(host, db, pdfs):
    body = api(anonymous(host), pdfs["signed"]).json()
    assert body["verdict"] == "untrusted"
    [sig] = body["signatures"]
    assert sig["intact"] and not sig["trusted"] and sig["trust_problem"]
    assert sig["trust_message"].startswith(vi("Not trusted: %(reason)s").split("%(reason)s")[0])
    text = page(anonymous(host), pdfs["signed"]).content.decode()
    assert 'data-verdict="untrusted"' in text


def test_no_anchor_at_all_says_so(db, pdfs):
    [sig] = api(anonymous(COMMUNE_HOST), pdfs["signed"]).json()["signatures"]
    assert sig["trust_message"] == vi("Not trusted: %(reason)s") % {"reason": report.NO_ANCHORS_REASON}


def test_certificate_expired_at_signing(pdfs, trust_demo_ca):
    body = api(anonymous(COMMUNE_HOST), pdfs["expired"]).json()
    assert body["verdict"] == "certificate_not_valid"
    [sig] = body["signatures"]
    assert sig["cert_valid_at_signing"] is False and "expired_at_signing" in sig["problems"]
    assert sig["cert_not_after"].startswith("2021-01-01T07:00:00+07:00")
    text = page(anonymous(COMMUNE_HOST), pdfs["expired"]).content.decode()
    assert 'data-verdict="certificate_not_valid"' in text and "01/01/2021 07:00" in text


def test_deactivated_anchor_is_not_trusted(pdfs, trust_demo_ca):
    truststore.set_active(trust_demo_ca, False)
    assert api(anonymous(COMMUNE_HOST), pdfs["signed"]).json()["verdict"] == "untrusted"


@pytest.mark.parametrize("host", HOSTS)
def test_tampered_copy_is_flagged(host, pdfs, trust_demo_ca):
    body = api(anonymous(host), pdfs["tampered"]).json()
    assert body["verdict"] == "invalid"
    assert not body["signatures"][0]["intact"]
    text = page(anonymous(host), pdfs["tampered"]).content.decode()
    assert 'data-verdict="invalid"' in text


def test_content_changed_after_signing_is_flagged(pdfs, trust_demo_ca):
    body = api(anonymous(COMMUNE_HOST), pdfs["changed"]).json()
    assert body["verdict"] in ("modified", "invalid")
    [sig] = body["signatures"]
    assert sig["modification_level"] == "other" and sig["changes_permitted"] is not True
    assert "unsigned_changes" in body["problems"]
    text = page(anonymous(COMMUNE_HOST), pdfs["changed"]).content.decode()
    assert str(report.PROBLEM_MESSAGES["unsigned_changes"]) in text.replace("&#x27;", "'")


def test_second_signature_is_a_permitted_change(pdfs, trust_demo_ca):
    body = api(anonymous(COMMUNE_HOST), pdfs["twice"]).json()
    assert body["verdict"] == "valid"
    first, second = body["signatures"]
    assert first["modification_level"] == "form_filling" and first["changes_permitted"] is not False
    assert second["organisation"] == "UBND xã Tú Lệ" and second["modification_level"] == "none"


def test_unsigned_pdf(db, pdfs):
    body = api(anonymous(COMMUNE_HOST), pdfs["plain"]).json()
    assert body["verdict"] == "no_signatures" and body["signatures"] == []
    assert 'data-verdict="no_signatures"' in page(anonymous(COMMUNE_HOST), pdfs["plain"]).content.decode()


# --- refusals ---------------------------------------------------------------------------------------

def error_body(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == code and body["detail"]
    return body


@pytest.mark.parametrize("host", HOSTS)
def test_not_a_pdf(host, db):
    body = error_body(api(anonymous(host), b"<html>not a pdf</html>", "thu.pdf"), 400, "not_pdf")
    assert body["detail"] == report.rejection_message("not_pdf")
    response = page(anonymous(host), b"GIF89a....", "anh.pdf")
    assert response.status_code == 400 and report.rejection_message("not_pdf") in response.content.decode().replace("&#x27;", "'")


def test_over_size_is_refused_before_parsing(db, settings, pdfs, monkeypatch):
    import signatures.verify_views as views

    def must_not_run(pdf, roots):
        raise AssertionError("the engine must not see an over-size file")

    monkeypatch.setattr(views, "_verify", must_not_run)
    settings.XASO_PDF_MAX_BYTES = 1000
    big = pdfs["signed"]
    # Just over the limit: the upload handler stops reading.
    body = error_body(api(anonymous(COMMUNE_HOST), big), 413, "too_large")
    assert body["detail"] == report.rejection_message("too_large", max_bytes=1000)
    assert page(anonymous(COMMUNE_HOST), big).status_code == 413
    # Far over: refused from the Content-Length header, before the body is read.
    huge = b"%PDF-1.7\n" + b"0" * (views.MULTIPART_ALLOWANCE + 5000)
    error_body(api(anonymous(NATIONAL_HOST), huge), 413, "too_large")
    assert page(anonymous(NATIONAL_HOST), huge).status_code == 413
    logs = VerificationLog.objects.filter(outcome__rejected="too_large")
    assert logs.count() == 4 and not logs.exclude(file_sha256="").exists()


@pytest.mark.parametrize("host", HOSTS)
def test_encrypted_pdf(host, db, pdfs):
    body = error_body(api(anonymous(host), pdfs["encrypted"]), 422, "encrypted")
    assert body["detail"] == report.rejection_message("encrypted")
    assert page(anonymous(host), pdfs["encrypted"]).status_code == 422


def test_missing_file(db):
    response = anonymous(COMMUNE_HOST).post("/api/v1/verify/", {})
    body = error_body(response, 400, "invalid")
    assert "file" in body["fields"]
    assert anonymous(COMMUNE_HOST).post("/verify/", {}).status_code == 400
    assert not VerificationLog.objects.exists()


def test_api_wants_multipart(db):
    response = anonymous(COMMUNE_HOST).post("/api/v1/verify/", {"file": "x"}, content_type="application/json")
    assert response.status_code == 415 and set(response.json()) == {"code", "detail", "fields"}


@pytest.mark.parametrize("code", sorted(report.REJECTION_MESSAGES))
def test_every_rejection_code_has_a_message_and_a_status(code, db, pdfs, monkeypatch):
    from signatures.pdf.errors import REJECTION_CODES, PdfRejected

    import signatures.pdf.sandbox as sandbox

    assert code in REJECTION_CODES
    assert set(report.REJECTION_MESSAGES) == set(REJECTION_CODES)

    def refuse(pdf, roots, **kwargs):
        raise PdfRejected(code, "test")

    monkeypatch.setattr(sandbox, "verify_limited", refuse)
    response = api(anonymous(COMMUNE_HOST), pdfs["plain"])
    expected_status = {"not_pdf": 400, "too_large": 413}.get(code, 422)
    body = error_body(response, expected_status, code)
    assert body["detail"] == report.rejection_message(code, max_bytes=20 * 1024 * 1024)
    assert page(anonymous(COMMUNE_HOST), pdfs["plain"]).status_code == expected_status


def test_unexpected_engine_failure_is_not_a_500(db, pdfs, monkeypatch):
    import signatures.pdf.sandbox as sandbox

    def crash(pdf, roots, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sandbox, "verify_limited", crash)
    error_body(api(anonymous(COMMUNE_HOST), pdfs["plain"]), 422, "malformed")


def test_engine_gets_the_limits_and_the_trust_roots(db, settings, pdfs, trust_demo_ca, monkeypatch):
    import signatures.pdf.sandbox as sandbox

    seen = {}

    def record(pdf, roots, **kwargs):
        seen.update(pdf=pdf, roots=roots, **kwargs)
        return {"signatures": [], "revisions": 1, "problems": []}

    settings.XASO_PDF_PARSE_SECONDS, settings.XASO_PDF_PARSE_MEMORY_MB = 7, 300
    monkeypatch.setattr(sandbox, "verify_limited", record)
    api(anonymous(COMMUNE_HOST), pdfs["plain"])
    assert seen["pdf"] == pdfs["plain"] and seen["roots"] == [bytes(trust_demo_ca.cert_der)]
    assert seen["seconds"] == 7 and seen["memory_mb"] == 300 and seen["max_bytes"] == settings.XASO_PDF_MAX_BYTES


# --- log, access, throttle ----------------------------------------------------------------------------

def test_every_check_is_logged(pdfs, trust_demo_ca, tule, make_user):
    client = anonymous(COMMUNE_HOST)
    api(client, pdfs["signed"])
    api(anonymous(NATIONAL_HOST), pdfs["tampered"])
    api(anonymous(NATIONAL_HOST), b"not a pdf")
    official = make_user("vanthu", roles={tule: [Role.SPECIALIST]})
    logged_in = anonymous(COMMUNE_HOST)
    from tests.conftest import log_in

    log_in(logged_in, official)
    page(logged_in, pdfs["signed"])

    api(anonymous(NATIONAL_HOST), pdfs["encrypted"])

    rows = list(VerificationLog.objects.order_by("id"))
    assert len(rows) == 5
    first, second, third, fourth, fifth = rows
    assert first.host == COMMUNE_HOST and first.schema_name == tule.schema_name and first.channel == "api"
    assert first.user_id is None and first.client_ip.startswith("10.55.")
    assert first.file_sha256 == hashlib.sha256(pdfs["signed"]).hexdigest() and first.file_size == len(pdfs["signed"])
    assert first.outcome["verdict"] == "valid" and first.outcome["count"] == 1 and first.outcome["verdicts"] == ["valid"]
    assert second.host == NATIONAL_HOST and second.schema_name == "" and second.outcome["verdict"] == "invalid"
    assert third.outcome == {"rejected": "not_pdf"} and third.file_size == len(b"not a pdf")
    assert fourth.channel == "page" and fourth.user_id == official.pk
    assert fifth.outcome == {"rejected": "encrypted"}
    assert fifth.file_sha256 == hashlib.sha256(pdfs["encrypted"]).hexdigest() and fifth.file_size == len(pdfs["encrypted"])
    # The file itself is not kept: the log has no field that could hold it.
    from django.db.models import BinaryField, FileField

    assert not [f for f in VerificationLog._meta.fields if isinstance(f, (BinaryField, FileField))]


def test_anonymous_is_allowed_and_a_bad_token_is_not_silently_ignored(db, pdfs):
    assert api(anonymous(COMMUNE_HOST), pdfs["plain"]).status_code == 200
    client = Client(HTTP_HOST=COMMUNE_HOST, REMOTE_ADDR="10.99.0.1", HTTP_AUTHORIZATION="Token nope")
    assert api(client, pdfs["plain"]).status_code == 401


def test_api_throttle(db, settings, pdfs):
    settings.XASO_VERIFY_RATE = "3/minute"
    client = anonymous(COMMUNE_HOST)
    for _ in range(3):
        assert api(client, pdfs["plain"]).status_code == 200
    response = api(client, pdfs["plain"])
    body = error_body(response, 429, "throttled")
    assert response.has_header("Retry-After")
    # Another address is not affected; a forged X-Forwarded-For does not reset the count.
    assert api(anonymous(COMMUNE_HOST), pdfs["plain"]).status_code == 200
    forged = Client(HTTP_HOST=COMMUNE_HOST, REMOTE_ADDR=client.defaults["REMOTE_ADDR"], HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert api(forged, pdfs["plain"]).status_code == 429
    assert VerificationLog.objects.count() == 4  # refused requests are not checks


def test_page_throttle(db, settings, pdfs):
    settings.XASO_VERIFY_RATE = "2/minute"
    client = anonymous(NATIONAL_HOST)
    assert page(client, pdfs["plain"]).status_code == 200
    assert page(client, pdfs["plain"]).status_code == 200
    response = page(client, pdfs["plain"])
    assert response.status_code == 429 and 'data-code="throttled"' in response.content.decode()
    assert client.get("/verify/").status_code == 200  # reading the page is never throttled


def test_page_fits_a_phone_and_needs_no_login(db):
    text = anonymous(COMMUNE_HOST).get("/verify/").content.decode()
    assert 'name="viewport"' in text and 'accept="application/pdf,.pdf"' in text
    assert "/accounts/login/" not in text.split("<main")[1]


def test_page_with_csrf_checks(db, settings, pdfs, trust_demo_ca):
    """The size limit is installed before the CSRF check reads the upload."""
    client = Client(HTTP_HOST=COMMUNE_HOST, REMOTE_ADDR="10.77.0.1", enforce_csrf_checks=True)
    client.get("/verify/")
    token = client.cookies["csrftoken"].value
    response = client.post("/verify/", {"file": upload(pdfs["signed"]), "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and 'data-verdict="valid"' in response.content.decode()
    assert client.post("/verify/", {"file": upload(pdfs["signed"])}).status_code == 403
    settings.XASO_PDF_MAX_BYTES = 1000
    response = client.post("/verify/", {"file": upload(pdfs["signed"]), "csrfmiddlewaretoken": token})
    assert response.status_code == 413
