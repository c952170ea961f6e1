"""The principal signs a class's report cards with the signatures app (PIN flow, PAdES): the signed
PDF is a new file beside the unsigned one, valid and trusted for poppler's pdfsig and for pyHanko;
a wrong PIN signs nothing; a principal without a certificate is told so and offered the PDF to
print; teachers and the principal of another school cannot sign."""
from __future__ import annotations

import io

import pytest

from tests.education.test_reports_pages import HOST, back_in, run
from tests.education.test_reports_pdf import flat, pdftotext, seed_results

PIN = "13572468"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XASO_TSA_URL = ""


@pytest.fixture(scope="module")
def pki_set():
    from signatures import pki

    ca = pki.make_demo_ca("Xã Số School CA")
    return {"ca": ca, "principal": pki.issue_personal(ca, "Hà Văn Hiệu", "Hiệu trưởng", "Trường THCS Tú Lệ")}


@pytest.fixture
def made(schoolyard, school_people, tule):
    """Class 6A's cards, made."""
    from education import report_cards

    seed_results(schoolyard)
    job, _created = report_cards.request_job(school_people["math"], schoolyard["class6a"], "cards", "year")
    assert run(job, tule) == "succeeded"
    return job


@pytest.fixture
def principal_certificate(made, school_people, pki_set):
    from signatures import services
    from truststore.services import add_anchor, clear_cache

    clear_cache()
    add_anchor(pki_set["ca"].cert_pem(), label="School CA", source="test")
    certificate = services.import_pkcs12(
        file_bytes=pki_set["principal"].to_pkcs12("x"), passphrase="x", kind="personal",
        owner_user_id=school_people["principal"].pk, grants={school_people["principal"].pk: PIN}, actor=None)
    yield certificate
    clear_cache()


def run_signing(tule):
    from jobs.models import JobState
    from jobs.services import execute
    from signatures.models import SigningJob

    back_in(tule)
    outcomes = [execute(SigningJob, pk, tule.schema_name)
                for pk in SigningJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True)]
    back_in(tule)
    return outcomes


def validate(data: bytes, roots: list[bytes]):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data))
    return [(sig.field_name, validate_pdf_signature(
        sig, ValidationContext(trust_roots=[asn1_x509.Certificate.load(r) for r in roots])))
        for sig in reader.embedded_signatures]


def test_the_principal_signs_and_pdfsig_and_pyhanko_validate(made, principal_certificate, school_people,
                                                              client_for, tule, pki_set):
    from core.storage import read
    from education import report_cards
    from population.models import AccessLog
    from tests.signatures.nss import NssDb

    unsigned_name = made.file
    unsigned = read(unsigned_name)
    client = client_for(HOST, school_people["principal"])
    page = client.get(f"/schools/reports/jobs/{made.pk}/").content.decode()
    assert 'id="sign"' in page and "Hà Văn Hiệu" in page and 'name="pin"' in page
    wrong = client.post(f"/schools/reports/jobs/{made.pk}/sign/", {"pin": "00000000"})
    assert wrong.status_code == 400
    back_in(tule)
    assert run_signing(tule) == []  # a wrong PIN asks for nothing
    answer = client.post(f"/schools/reports/jobs/{made.pk}/sign/", {"pin": PIN})
    assert answer.status_code == 302
    assert run_signing(tule) == ["succeeded"]
    made.refresh_from_db()
    assert made.signed
    signed_name = report_cards.signed_name(made)
    assert signed_name and signed_name != unsigned_name
    assert read(unsigned_name) == unsigned  # the unsigned file is kept as it was
    signed = client.get(f"/schools/reports/jobs/{made.pk}/pdf/?signed=1")
    assert signed.status_code == 200
    back_in(tule)
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT, description__contains="signed").exists()
    data = signed.content
    assert "Lò Văn An" in flat(pdftotext(data)) and "Cầm Văn Em" in flat(pdftotext(data))

    with NssDb([pki_set["ca"].cert_der]) as nss:
        (sig,) = nss.pdfsig(data)
    assert sig["field"] == report_cards.SIGNATURE_FIELD
    assert sig["signature"] == "Signature is Valid." and sig["certificate"] == "Certificate is Trusted."
    assert sig["common_name"] == "Hà Văn Hiệu" and sig["total"] is True

    ((field, status),) = validate(data, [pki_set["ca"].cert_der])
    assert field == report_cards.SIGNATURE_FIELD and status.intact and status.valid and status.trusted

    # Signed once: a second request is refused.
    again = client.post(f"/schools/reports/jobs/{made.pk}/sign/", {"pin": PIN})
    assert again.status_code in (400, 404)


def test_a_principal_without_a_certificate_is_offered_the_pdf_to_print(made, school_people, client_for, tule):
    client = client_for(HOST, school_people["principal"])
    page = client.get(f"/schools/reports/jobs/{made.pk}/").content.decode()
    assert "job-no-certificate" in page and f"/schools/reports/jobs/{made.pk}/pdf/" in page
    assert 'name="pin"' not in page
    refused = client.post(f"/schools/reports/jobs/{made.pk}/sign/", {"pin": PIN})
    assert refused.status_code == 400 and "job-no-certificate" in refused.content.decode()
    assert run_signing(tule) == []


@pytest.mark.parametrize("who", ["vice", "math", "clerk", "primary_principal"])
def test_only_the_school_s_principal_signs(who, made, principal_certificate, school_people, client_for, tule):
    client = client_for(HOST, school_people[who])
    assert client.post(f"/schools/reports/jobs/{made.pk}/sign/", {"pin": PIN}).status_code in (403, 404)
    assert 'name="pin"' not in client.get(f"/schools/reports/jobs/{made.pk}/").content.decode()
    assert run_signing(tule) == []
