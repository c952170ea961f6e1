"""Fixtures of the signature tests, reusable by other apps' tests:

* ``signing_pki`` (once per test run): a demo CA and identities (a chairman, a vice-chairman, the agency,
  an expired, a not-yet-valid one, a CA certificate, one from an unrelated CA);
* ``media`` (autouse): files go to a temporary directory;
* ``signer``: the chairman of Tú Lệ with an imported personal certificate, PIN ``SIGNER_PIN``;
* ``clerk``: a clerk of Tú Lệ holding the agency key, PIN ``CLERK_PIN``;
* ``sample_pdf`` (bytes) and ``stored_pdf`` (its storage name in Tú Lệ);
* ``run_job``: run a job in-process, as a worker would (``jobs.services.execute``);
* ``sign_request``: ``request_signature`` with sensible defaults.

Callbacks given to ``on_done`` here are recorded in ``DONE``.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.conf import settings

SIGNER_PIN = "48151623"
CLERK_PIN = "90817263"
DONE: list[tuple[int, str]] = []


def record_done(job) -> None:
    """An ``on_done`` callback for the tests."""
    DONE.append((job.pk, job.output_name))


def failing_done(job) -> None:
    raise RuntimeError("on_done failed")


@dataclass
class Pki:
    ca: object
    chairman: object
    vice: object
    agency: object
    expired: object
    future: object
    other_ca: object
    stranger: object

    @property
    def roots_der(self) -> list[bytes]:
        return [self.ca.cert_der]


@pytest.fixture(scope="session")
def signing_pki() -> Pki:
    from signatures import pki

    ca = pki.make_demo_ca("Xã Số Test CA")
    now = dt.datetime.now(dt.timezone.utc)
    other = pki.make_demo_ca("Unrelated CA")
    return Pki(
        ca=ca,
        chairman=pki.issue_personal(ca, "Lò Văn Thành", "Chủ tịch UBND xã", "UBND xã Tú Lệ"),
        vice=pki.issue_personal(ca, "Nguyễn Thị Hoa", "Phó Chủ tịch UBND xã", "UBND xã Tú Lệ"),
        agency=pki.issue_agency(ca, "UBND xã Tú Lệ", locality="Tú Lệ"),
        expired=pki.issue_personal(ca, "Hà Văn Cũ", "Chủ tịch", "UBND xã Tú Lệ",
                                   not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=1)),
        future=pki.issue_personal(ca, "Trần Văn Mới", "Chủ tịch", "UBND xã Tú Lệ",
                                  not_before=now + dt.timedelta(days=5), not_after=now + dt.timedelta(days=400)),
        other_ca=other,
        stranger=pki.issue_personal(other, "Người Lạ", "Chủ tịch", "UBND xã Khác"),
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XASO_TSA_URL = ""
    settings.XASO_SIGNING_EMBED_VALIDATION = False
    settings.XASO_JOB_LEASE_SECONDS = 600
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    try:
        from truststore.services import clear_cache
    except ImportError:
        clear_cache = None
    if clear_cache:
        clear_cache()
    DONE.clear()
    yield tmp_path / "media"
    if clear_cache:
        clear_cache()


@pytest.fixture
def trust_ca(db, signing_pki):
    """The test CA in the trust store (when the trust store exists)."""
    from truststore.services import add_anchor

    return add_anchor(signing_pki.ca.cert_pem(), label="Test CA", source="test")


@dataclass
class Holder:
    user: object
    certificate: object
    pin: str


def _import(commune, identity, kind, owner, grants, in_commune):
    from signatures import services

    with in_commune(commune):
        return services.import_pkcs12(
            file_bytes=identity.to_pkcs12("p12-pass"), passphrase="p12-pass", kind=kind,
            owner_user_id=owner.pk if owner else None, grants=grants, actor=None,
        )


@pytest.fixture
def signer(db, tule, make_user, signing_pki, in_commune) -> Holder:
    from communes.models import Role

    user = make_user("tule.chairman.sig", roles={tule: [Role.CHAIRMAN]}, full_name="Lò Văn Thành")
    certificate = _import(tule, signing_pki.chairman, "personal", user, {user.pk: SIGNER_PIN}, in_commune)
    return Holder(user, certificate, SIGNER_PIN)


@pytest.fixture
def clerk(db, tule, make_user, signing_pki, in_commune) -> Holder:
    from communes.models import Role

    user = make_user("tule.clerk.sig", roles={tule: [Role.CLERK]}, full_name="Trần Thị Lan")
    certificate = _import(tule, signing_pki.agency, "agency", None, {user.pk: CLERK_PIN}, in_commune)
    return Holder(user, certificate, CLERK_PIN)


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    try:
        from tests.signatures.samples import sample_pdf as make
    except ImportError:
        make = None
    if make is not None:
        return make(pages=1)
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 760, "Quyet dinh so 05/QD-UBND")
    page.showPage()
    page.save()
    return out.getvalue()


@pytest.fixture
def store_pdf(tule, in_commune):
    """store_pdf(data, name="van-ban.pdf", commune=tule) → storage name."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    def store(data: bytes, name: str = "documents/van-ban.pdf", commune=None):
        with in_commune(commune or tule):
            return default_storage.save(name, ContentFile(data))

    return store


@pytest.fixture
def stored_pdf(store_pdf, sample_pdf) -> str:
    return store_pdf(sample_pdf)


@pytest.fixture
def run_job(tule, in_commune):
    """run_job(job) → what ``jobs.services.execute`` returned; the job is refreshed."""
    from jobs import services as job_services
    from signatures.models import SigningJob

    def run(job, commune=None):
        commune = commune or tule
        with in_commune(commune):
            outcome = job_services.execute(SigningJob, job.pk, commune.schema_name)
            job.refresh_from_db()
        return outcome

    return run


PERSONAL_BOX = (330.0, 90.0, 530.0, 210.0)


@pytest.fixture
def sign_request(tule, in_commune):
    """sign_request(holder, source_name, **overrides) → SigningJob (in Tú Lệ)."""
    from signatures import services
    from signatures.pdf.appearance import Appearance
    from signatures.pdf.pades import SignatureFieldSpec

    def request(holder, source_name, *, pin=None, field="Signature1", box=PERSONAL_BOX, purpose=None,
                subject="documents.outgoing:42", on_done="tests.signatures.conftest.record_done", appearance=None,
                user=None, commune=None, certificate=None):
        certificate = certificate or holder.certificate
        kind = certificate.kind
        purpose = purpose or ("leader" if kind == "personal" else "agency")
        if appearance is None:
            appearance = Appearance(kind="attachment", lines=["TM. ỦY BAN NHÂN DÂN", certificate.subject])
        with in_commune(commune or tule):
            return services.request_signature(
                user=user or holder.user, certificate=certificate, pin=holder.pin if pin is None else pin,
                source_name=source_name, field=SignatureFieldSpec(name=field, page=0, box=box),
                appearance=appearance, purpose=purpose, subject=subject, on_done=on_done,
                reason="Ban hành văn bản", location="Tú Lệ",
            )

    return request


def validate_signed(data: bytes, roots_der: list[bytes]) -> list:
    """pyHanko's validation of every signature of a PDF (explicit trust roots)."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data))
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(r) for r in roots_der])
    return [validate_pdf_signature(sig, context) for sig in reader.embedded_signatures]


def read_stored(name: str, commune, in_commune) -> bytes:
    from django.core.files.storage import default_storage

    with in_commune(commune):
        with default_storage.open(name, "rb") as handle:
            return handle.read()


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English here; the Vietnamese catalogue has its own tests."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client_for():
    """Officials here logged in fully, with the second factor where their role needs it."""
    from tests.conftest import host_client

    def make(host: str, user=None, *, second_factor: bool = True):
        client = host_client(host, user, second_factor=second_factor)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # these tests read the English messages
        return client

    return make
