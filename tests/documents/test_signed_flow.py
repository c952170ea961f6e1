"""The outgoing flow end to end with real signatures: a draft composed in the portal, the leader's
personal signature, the number and date filled by the clerk's issuing, the agency's signature —
checked by pyHanko and by poppler's pdfsig (a second, independent validator)."""
from __future__ import annotations

import datetime

import pytest

from tests.documents.conftest import flat, pdftotext

PIN = "135790"
CLERK_PIN = "246802"


@pytest.fixture(scope="module")
def pki_set():
    from signatures import pki

    ca = pki.make_demo_ca("Xã Số Flow CA")
    return {
        "ca": ca,
        "chairman": pki.issue_personal(ca, "Lò Văn Thành", "Chủ tịch UBND xã", "UBND xã Tú Lệ"),
        "agency": pki.issue_agency(ca, "UBND xã Tú Lệ", locality="Tú Lệ"),
    }


@pytest.fixture
def signing_setup(in_tule, people, pki_set, settings):
    """The chairman's personal certificate and the commune's, with the clerk's grant; the demo CA trusted."""
    from signatures import services
    from signatures.pdf.images import demo_seal_png, demo_signature_png
    from truststore.services import add_anchor, clear_cache

    settings.XASO_TSA_URL = ""
    clear_cache()
    add_anchor(pki_set["ca"].cert_pem(), label="Flow CA", source="test")
    services.import_pkcs12(
        file_bytes=pki_set["chairman"].to_pkcs12("x"), passphrase="x", kind="personal",
        owner_user_id=people["chairman"].pk, grants={people["chairman"].pk: PIN}, actor=None,
    )
    services.import_pkcs12(
        file_bytes=pki_set["agency"].to_pkcs12("x"), passphrase="x", kind="agency",
        grants={people["clerk"].pk: CLERK_PIN}, actor=None,
    )
    services.save_signature_image(data=demo_signature_png("Lò Văn Thành"), kind="signature",
                                  owner_user_id=people["chairman"].pk, actor=None)
    services.save_signature_image(data=demo_seal_png("UBND XÃ TÚ LỆ"), kind="seal", actor=None)
    yield
    clear_cache()


def run_jobs(tule):
    """Run every signing job that is due, in process, as a worker would."""
    from jobs.models import JobState
    from jobs.services import execute
    from signatures.models import SigningJob

    outcomes = []
    for pk in SigningJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True):
        outcomes.append(execute(SigningJob, pk, tule.schema_name))
    return outcomes


def read(name: str) -> bytes:
    from documents import files

    return files.read(name)


def validate(data: bytes, roots: list[bytes]):
    from asn1crypto import x509 as asn1_x509
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data))
    statuses = []
    for sig in reader.embedded_signatures:
        context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(r) for r in roots])
        statuses.append((sig.field_name, validate_pdf_signature(sig, context)))
    return statuses


@pytest.fixture
def issued(tule, people, draft_factory, signing_setup):
    """A decision taken from draft to both signatures through the services."""
    from documents import services

    doc = draft_factory(subject="Về việc ban hành Kế hoạch chuyển đổi số xã Tú Lệ năm 2026")
    doc = services.submit(doc, user=people["specialist"])
    doc = services.approve(doc, user=people["chairman"])
    services.sign_as_leader(doc, people["chairman"], PIN)
    assert run_jobs(tule) == ["succeeded"]
    doc.refresh_from_db()
    assert doc.state == "signed"
    doc = services.issue(doc, people["clerk"], CLERK_PIN, on=datetime.date(2026, 4, 3))
    assert doc.state == "numbered"
    assert run_jobs(tule) == ["succeeded"]
    doc.refresh_from_db()
    assert doc.state == "issued"
    return doc


def test_draft_to_two_signatures_valid_for_pyhanko_and_pdfsig(issued, pki_set):
    from pyhanko.sign.diff_analysis import ModificationLevel

    from tests.signatures.nss import NssDb

    data = read(issued.issued_pdf)
    roots = [pki_set["ca"].cert_der]
    statuses = validate(data, roots)
    assert [name for name, _s in statuses] == ["xaso_leader", "xaso_agency"]
    for _name, status in statuses:
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    leader = statuses[0][1]
    # What changed after the leader signed: the number and date fields filled, then the agency's
    # signature — form filling, which a signature allows.
    assert leader.modification_level == ModificationLevel.FORM_FILLING
    assert leader.docmdp_ok
    assert statuses[1][1].modification_level == ModificationLevel.NONE

    with NssDb([pki_set["ca"].cert_der]) as nss:
        report = nss.pdfsig(data)
    assert len(report) == 2
    for sig in report:
        assert sig["signature"] == "Signature is Valid.", sig
        assert sig["certificate"] == "Certificate is Trusted.", sig
    assert report[-1]["total"] is True


def test_issued_text_has_number_type_title_and_subject(issued):
    assert issued.number_symbol == "01/QĐ-UBND"
    text = flat(pdftotext(read(issued.issued_pdf)))
    assert "01/QĐ-UBND" in text
    assert "QUYẾT ĐỊNH" in text
    assert "Về việc ban hành Kế hoạch chuyển đổi số xã Tú Lệ năm 2026" in text
    assert "ngày 03 tháng 4 năm 2026" in text  # Decree 30: a leading zero for days below 10 and months below 3


def test_number_stamped_into_content_is_flagged_and_tampering_breaks_both(issued, pki_set):
    from signatures.pdf.verify import verify
    from tests.signatures import hostile
    from tests.signatures.nss import NssDb

    roots = [pki_set["ca"].cert_der]
    leader_signed = read(issued.leader_signed_pdf)
    stamped = hostile.stamped_number(leader_signed, text="Số: 01/QĐ-UBND")
    report = verify(stamped, trust_roots_der=roots)
    assert report["signatures"][0]["intact"]
    assert report["signatures"][0]["modification_level"] == "other"
    assert "changes_not_permitted" in report["problems"] or "unsigned_changes" in report["problems"]

    tampered = hostile.tampered(read(issued.issued_pdf))
    assert not any(status.intact for _n, status in validate(tampered, roots)[-1:])
    with NssDb(roots) as nss:
        verdicts = [sig["signature"] for sig in nss.pdfsig(tampered)]
    assert verdicts and all(v != "Signature is Valid." for v in verdicts[-1:])


def test_failed_agency_signature_keeps_the_number(tule, people, draft_factory, signing_setup):
    from documents import services
    from django.core.exceptions import ValidationError

    doc = draft_factory(subject="Về việc kiểm tra số giữ lại")
    doc = services.submit(doc, user=people["specialist"])
    doc = services.approve(doc, user=people["chairman"])
    services.sign_as_leader(doc, people["chairman"], PIN)
    run_jobs(tule)
    doc.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.issue(doc, people["clerk"], "000000", on=datetime.date(2026, 4, 3))
    assert "01/QĐ-UBND" in str(refused.value)  # "The number … is kept."
    doc.refresh_from_db()
    assert (doc.state, doc.number_symbol) == ("numbered", "01/QĐ-UBND")
    services.apply_agency_signature(doc, people["clerk"], CLERK_PIN)
    assert run_jobs(tule) == ["succeeded"]
    doc.refresh_from_db()
    assert (doc.state, doc.number_symbol) == ("issued", "01/QĐ-UBND")
    # A second attempt to issue is refused; the number is not drawn again.
    with pytest.raises(ValidationError):
        services.issue(doc, people["clerk2"], CLERK_PIN)
