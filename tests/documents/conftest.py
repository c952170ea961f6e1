"""Fixtures of the documents tests: officials of Tú Lệ, a signing authority, PDFs, and the
signature calls replaced by stand-ins (only for the tests of numbering and state logic)."""
from __future__ import annotations

import datetime
import io
import types

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from communes.models import Role

TULE_SCHEMA = "c_04630"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Files of each test under a temporary directory."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(tule, make_user):
    """One official per role in Tú Lệ (with Vietnamese names), plus a second specialist."""
    names = {
        Role.CHAIRMAN: "Lò Văn Thành", Role.VICE_CHAIRMAN: "Nguyễn Thị Hoa", Role.CLERK: "Hà Thị Dung",
        Role.SPECIALIST: "Trần Văn Lâm", Role.COMMUNE_ADMIN: "Vũ Thị Mai",
    }
    out = {}
    for role in Role:
        out[role.value] = make_user(f"tl_{role.value}", roles={tule: [role]}, full_name=names.get(role, str(role.label)))
    out["specialist2"] = make_user("tl_specialist2", roles={tule: [Role.SPECIALIST]}, full_name="Đinh Văn Khánh")
    out["clerk2"] = make_user("tl_clerk2", roles={tule: [Role.CLERK]}, full_name="Bùi Thị Ngọc")
    return out


@pytest.fixture
def in_tule(tule, in_commune):
    """Run the test body in Tú Lệ's schema."""
    with in_commune(tule):
        yield tule


@pytest.fixture
def doc_types(in_tule):
    from documents.models import DocumentType

    return {t.code: t for t in DocumentType.objects.all()}


@pytest.fixture
def authorities(in_tule, people, doc_types):
    """The chairman signs everything (TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH); the vice-chairman signs
    for him (KT.) everything but resolutions."""
    from documents.models import SigningAuthority

    chairman = SigningAuthority.objects.create(
        user=people["chairman"], prefix="TM.", title="CHỦ TỊCH", collective="ỦY BAN NHÂN DÂN",
        valid_from=datetime.date(2020, 1, 1),
    )
    chairman.document_types.set(doc_types.values())
    vice = SigningAuthority.objects.create(
        user=people["vice_chairman"], prefix="KT.", title="PHÓ CHỦ TỊCH", principal_title="CHỦ TỊCH",
        collective="ỦY BAN NHÂN DÂN", valid_from=datetime.date(2020, 1, 1),
    )
    vice.document_types.set([t for code, t in doc_types.items() if code != "nghi-quyet"])
    return {"chairman": chairman, "vice": vice}


def make_pdf(text: str = "Tài liệu thử", pages: int = 1) -> bytes:
    """A small real PDF (reportlab), with Vietnamese text."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from documents.rendering import FONT, register_fonts

    register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(pages):
        pdf.setFont(FONT, 14)
        pdf.drawString(100, 700, f"{text} – {page + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.fixture
def pdf_bytes():
    return make_pdf()


def upload(data: bytes, name: str = "van-ban.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")


class FakeSigning:
    """Stands in for the signatures app in the tests of state logic: a request "signs" at once
    (copies the source file to a new final file) and calls the document's callback, as the
    signing job does in its final transaction."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.refuse: dict[str, tuple[str, str]] = {}  # purpose -> (code, message)
        self.deferred = False  # True: record the request, do not finish it

    def _finish(self, purpose, source_name, subject, on_done, user):
        from django.utils.module_loading import import_string

        from documents import files, signing

        self.calls.append((purpose, subject))
        if purpose in self.refuse:
            raise signing.SignatureRefused(*self.refuse[purpose])
        job = types.SimpleNamespace(subject=subject, requested_by_id=user.pk, output_name="")
        if self.deferred:
            return job
        job.output_name = files.save_final(source_name.rsplit("/", 1)[0] + f"/signed-{purpose}.pdf", files.read(source_name))
        import_string(on_done)(job)
        return job

    def install(self, monkeypatch):
        from documents import signing

        monkeypatch.setattr(signing, "request_leader_signature", lambda doc, user, pin: self._finish(
            "leader", doc.draft_pdf, f"documents.outgoing:{doc.pk}", signing.LEADER_ON_DONE, user))
        monkeypatch.setattr(signing, "request_agency_signature", lambda doc, clerk, pin: self._finish(
            "agency", doc.numbered_pdf, f"documents.outgoing:{doc.pk}", signing.AGENCY_ON_DONE, clerk))
        monkeypatch.setattr(signing, "request_attachment_signature", lambda att, clerk, pin: self._finish(
            "attachment", att.file, f"documents.attachment:{att.pk}", signing.ATTACHMENT_ON_DONE, clerk))
        monkeypatch.setattr(signing, "check_agency_certificate", lambda clerk: None)
        return self


@pytest.fixture
def fake_signing(monkeypatch):
    return FakeSigning().install(monkeypatch)


@pytest.fixture
def draft_factory(in_tule, people, doc_types, authorities):
    """draft(**fields) → a saved draft by the specialist, signed by the chairman by default."""
    from documents import services
    from documents.models import OutgoingDocument

    def factory(type_code="quyet-dinh", author=None, **fields):
        fields.setdefault("subject", "Về việc tổ chức Tết Trồng cây năm 2026")
        fields.setdefault("body", "Căn cứ Luật Tổ chức chính quyền địa phương;\nĐiều 1. Tổ chức Tết Trồng cây.")
        fields.setdefault("recipients_text", "Như Điều 3;\nTT HĐND xã;")
        fields.setdefault("authority", authorities["chairman"])
        recipients = fields.pop("electronic_recipients", None)
        doc = OutgoingDocument(doc_type=doc_types[type_code], **fields)
        return services.save_draft(doc, user=author or people["specialist"], electronic_recipients=recipients)

    return factory


@pytest.fixture
def issued_factory(draft_factory, people, fake_signing):
    """issued(**fields) → a draft taken through review, signatures and issuing."""
    from documents import services

    def factory(on=None, **fields):
        doc = draft_factory(**fields)
        doc = services.submit(doc, user=fields.get("author") or people["specialist"])
        doc = services.approve(doc, user=people["chairman"])
        services.sign_as_leader(doc, people["chairman"], "1234")
        doc.refresh_from_db()
        return services.issue(doc, people["clerk"], "1234", on=on)

    return factory


def pdftotext(data: bytes) -> str:
    import subprocess

    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Autocommit access for tests that need other connections to see the rows; removes
    what it made afterwards (the documents and sequences it lists, new users)."""
    from communes.models import Membership, User

    with django_db_blocker.unblock():
        users_before = set(User.objects.values_list("pk", flat=True))
        made = {"documents": [], "years": []}
        try:
            yield made
        finally:
            connection.set_schema_to_public()
            with schema_context(TULE_SCHEMA):
                from documents.models import NumberSequence, OutgoingDocument

                OutgoingDocument.history.filter(id__in=made["documents"]).delete()
                OutgoingDocument.objects.filter(pk__in=made["documents"]).delete()
                NumberSequence.objects.filter(year__in=made["years"]).delete()
            new_users = User.objects.exclude(pk__in=users_before)
            Membership.objects.filter(user__in=new_users).delete()
            new_users._raw_delete(new_users.db)


@pytest.fixture
def client_for():
    """Officials here logged in fully, with the second factor where their role needs it."""
    from tests.conftest import host_client

    def make(host: str, user=None, *, second_factor: bool = True):
        return host_client(host, user, second_factor=second_factor)

    return make
