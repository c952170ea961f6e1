"""Secret documents (Mật, Tối mật, Tuyệt mật): a number and a register line, nothing else."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from documents import services
from documents.api import OutgoingSerializer
from documents.models import IncomingDocument, OutgoingDocument

from .conftest import make_pdf, upload


@pytest.mark.parametrize("level", ["confidential", "secret", "top_secret"])
def test_secret_outgoing_is_a_number_and_a_register_line(level, draft_factory, people, fake_signing):
    with pytest.raises(ValidationError) as refused:
        draft_factory(confidentiality=level, body="Nội dung mật")
    assert "body" in refused.value.message_dict
    doc = draft_factory(confidentiality=level, body="")
    with pytest.raises(ValidationError):
        services.save_draft(doc, user=people["specialist"], upload=upload(make_pdf()))
    with pytest.raises(ValidationError):
        services.add_attachment(doc, user=people["specialist"], upload=upload(make_pdf()))
    doc = services.submit(doc, user=people["specialist"])
    assert not doc.draft_pdf  # nothing is rendered
    with pytest.raises(ValidationError):
        services.preview_pdf(doc)
    doc = services.issue(doc, people["clerk"], on=datetime.date(2026, 8, 3))
    assert doc.state == OutgoingDocument.State.ISSUED and doc.number_symbol == "01/QĐ-UBND-M"
    assert doc.sequence_key == "secret" and fake_signing.calls == []
    assert not any([doc.body, doc.draft_pdf, doc.leader_signed_pdf, doc.numbered_pdf, doc.issued_pdf])


def test_the_database_refuses_content_for_a_secret_document(draft_factory, in_tule):
    doc = draft_factory(confidentiality="secret", body="")
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingDocument.objects.filter(pk=doc.pk).update(body="lộ nội dung")
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingDocument.objects.filter(pk=doc.pk).update(draft_pdf="x.pdf")
    incoming = IncomingDocument.objects.create(arrived_at=timezone.now(), sender_org="Công an tỉnh", subject="Mật",
                                               confidentiality="confidential")
    with pytest.raises(IntegrityError), transaction.atomic():
        IncomingDocument.objects.filter(pk=incoming.pk).update(scan="x.pdf")


def test_model_clean_refuses_body_and_files(draft_factory):
    doc = draft_factory(confidentiality="confidential", body="")
    doc.body = "nội dung"
    with pytest.raises(ValidationError) as refused:
        doc.full_clean()
    assert "body" in refused.value.message_dict
    doc.body, doc.issued_pdf = "", "x.pdf"
    with pytest.raises(ValidationError):
        doc.full_clean()


def test_the_api_never_shows_a_secret_documents_body_or_files(draft_factory, people, client_for):
    secret = draft_factory(confidentiality="secret", body="")
    ordinary = draft_factory()
    data = OutgoingSerializer(secret).data
    assert not {"body", "attachments", "files", "electronic_recipients", "layout"} & set(data)
    assert data["subject"] and data["confidentiality"] == "secret"
    client = client_for("tule.localhost", people["clerk"])
    detail = client.get(f"/api/v1/documents/outgoing/{secret.pk}/").json()
    assert "body" not in detail and "files" not in detail
    listed = client.get("/api/v1/documents/outgoing/").json()["results"]
    assert all("body" not in row for row in listed if row["confidentiality"] != "none")
    for path in ("preview/", "download/?kind=draft"):
        assert client.get(f"/api/v1/documents/outgoing/{secret.pk}/{path}").status_code == 404
    created = client.post("/api/v1/documents/outgoing/", {
        "doc_type": secret.doc_type_id, "subject": "Mật", "body": "nội dung", "confidentiality": "top_secret",
    }, content_type="application/json")
    assert created.status_code == 400 and "body" in created.json()["fields"]
    assert "body" in client.get(f"/api/v1/documents/outgoing/{ordinary.pk}/").json()


def test_secret_incoming_has_no_scan(in_tule, people):
    doc = IncomingDocument(arrived_at=timezone.now(), sender_org="Công an tỉnh Lào Cai", subject="Tài liệu mật",
                           confidentiality="top_secret")
    with pytest.raises(ValidationError) as refused:
        services.register_incoming(doc, user=people["clerk"], scan=upload(make_pdf()))
    assert "scan" in refused.value.message_dict
    assert not IncomingDocument.objects.exists()
    doc = services.register_incoming(doc, user=people["clerk"])
    assert doc.incoming_number == 1 and not doc.scan


def test_secret_documents_have_a_register_of_their_own(draft_factory, people, fake_signing, issued_factory):
    from documents import selectors

    services.issue(draft_factory(confidentiality="secret", body=""), people["clerk"], on=datetime.date(2026, 9, 1))
    issued_factory(on=datetime.date(2026, 9, 1))
    assert [d.number_symbol for d in selectors.outgoing_register()] == ["01/QĐ-UBND"]
    secret = list(selectors.outgoing_register(secret=True))
    assert [(d.number_symbol, d.sequence_key) for d in secret] == [("01/QĐ-UBND-M", "secret")]
