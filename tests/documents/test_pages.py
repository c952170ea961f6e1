"""The pages: lists, forms, details with their actions, through the real middleware."""
import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from documents import services
from documents.models import IncomingDocument, OutgoingDocument, SigningAuthority

from .conftest import make_pdf, upload


@pytest.fixture
def incoming(in_tule, people, doc_types):
    return services.register_incoming(IncomingDocument(
        arrived_at=timezone.now() - datetime.timedelta(hours=2), sender_org="Sở Tài chính tỉnh Lào Cai",
        original_number_symbol="77/STC-NS", subject="V/v quyết toán ngân sách xã năm 2025", doc_type=doc_types["cong-van"],
    ), user=people["clerk"], scan=upload(make_pdf()))


def test_every_page_renders_for_the_clerk(incoming, draft_factory, people, client_for, tule):
    draft = draft_factory()
    with tenant_context(tule):
        attachment = services.add_attachment(draft, user=people["specialist"], upload=upload(make_pdf()), title="Phụ lục")
    client = client_for("tule.localhost", people["clerk"])
    for path in ["/documents/", "/documents/incoming/", "/documents/incoming/new/", f"/documents/incoming/{incoming.pk}/",
                 f"/documents/incoming/{incoming.pk}/edit/", "/documents/incoming/?view=overdue",
                 "/documents/incoming/?view=due_soon&q=quyet toan", "/documents/outgoing/", "/documents/outgoing/new/",
                 f"/documents/outgoing/{draft.pk}/", f"/documents/outgoing/{draft.pk}/edit/",
                 "/documents/registers/incoming/", "/documents/registers/outgoing/?secret=1"]:
        response = client.get(path)
        assert response.status_code == 200, path
    assert client.get(f"/documents/incoming/{incoming.pk}/scan.pdf").status_code == 200
    assert client.get(f"/documents/outgoing/{draft.pk}/preview.pdf")["Content-Type"] == "application/pdf"
    assert client.get(f"/documents/outgoing/{draft.pk}/attachments/{attachment.pk}/").status_code == 200
    assert client.get("/documents/settings/").status_code == 403


def test_incoming_flow_through_the_pages(incoming, people, client_for, tule):
    clerk = client_for("tule.localhost", people["clerk"])
    response = clerk.post(f"/documents/incoming/{incoming.pk}/present/", {"leader": people["chairman"].pk})
    assert response.status_code == 302
    chairman = client_for("tule.localhost", people["chairman"])
    page = chairman.get(f"/documents/incoming/{incoming.pk}/").content.decode()
    assert "Trần Văn Lâm" in page  # the handler choices
    bad = chairman.post(f"/documents/incoming/{incoming.pk}/assign/", {"lead_handler": people["specialist"].pk,
                                                                       "working_days": "-3"})
    assert bad.status_code == 400 and "errorlist" in bad.content.decode()
    response = chairman.post(f"/documents/incoming/{incoming.pk}/assign/", {
        "lead_handler": people["specialist"].pk, "co_handlers": [people["specialist2"].pk], "deadline": "",
        "working_days": "3", "instruction": "Đề nghị xử lý."})
    assert response.status_code == 302
    specialist = client_for("tule.localhost", people["specialist"])
    assert specialist.post(f"/documents/incoming/{incoming.pk}/start/").status_code == 302
    assert specialist.post(f"/documents/incoming/{incoming.pk}/complete/", {"note": ""}).status_code == 400
    assert specialist.post(f"/documents/incoming/{incoming.pk}/complete/", {"note": "Đã xong."}).status_code == 302
    # The second specialist was a co-handler: sees it, cannot complete it.
    other = client_for("tule.localhost", people["specialist2"])
    assert other.get(f"/documents/incoming/{incoming.pk}/").status_code == 200
    assert other.post(f"/documents/incoming/{incoming.pk}/complete/", {"note": "x"}).status_code == 403
    with tenant_context(tule):
        assert IncomingDocument.objects.get(pk=incoming.pk).state == "completed"


def test_register_incoming_page_with_upload(people, client_for, tule, doc_types):
    client = client_for("tule.localhost", people["clerk"])
    data = {"arrived_at": "03/04/2026 08:30", "source": "paper", "sender_org": "Công an tỉnh Lào Cai",
            "original_number_symbol": "15/CAT-PV01", "document_date": "02/04/2026", "doc_type": doc_types["cong-van"].pk,
            "subject": "V/v bảo đảm an ninh trật tự", "urgency": "urgent", "confidentiality": "none"}
    response = client.post("/documents/incoming/new/", {**data, "scan": upload(make_pdf())})
    assert response.status_code == 302
    with tenant_context(tule):
        doc = IncomingDocument.objects.get()
        assert doc.document_date == datetime.date(2026, 4, 2) and doc.incoming_number == 1 and doc.scan
    bad = client.post("/documents/incoming/new/", {**data, "scan": upload(b"MZ\x90\x00 not a pdf", "virus.pdf")})
    assert bad.status_code == 400 and "scan" in bad.context["form"].errors
    bad = client.post("/documents/incoming/new/", {**data, "document_date": "31/02/2026"})
    assert bad.status_code == 400 and "document_date" in bad.context["form"].errors
    with tenant_context(tule):
        assert IncomingDocument.objects.count() == 1


def test_outgoing_flow_through_the_pages(people, client_for, tule, doc_types, authorities, fake_signing, yenhoa):
    client = client_for("tule.localhost", people["specialist"])
    data = {"doc_type": doc_types["cong-van"].pk, "subject": "đề nghị hỗ trợ kinh phí sửa chữa đường liên thôn",
            "body": "Kính gửi: UBND tỉnh Lào Cai.\nUBND xã Tú Lệ đề nghị hỗ trợ kinh phí.", "recipients_text": "Như trên;",
            "drafting_unit": "TC", "urgency": "normal", "confidentiality": "none", "authority": authorities["vice"].pk,
            "copies_count": "2", "other_communes": "yen mo", "recipient_units": ["15"]}
    response = client.post("/documents/outgoing/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(tule):
        doc = OutgoingDocument.objects.get()
        assert {(r.kind, r.code) for r in doc.electronic_recipients.all()} == {("commune", "14701"), ("unit", "15")}
    assert client.post(f"/documents/outgoing/{doc.pk}/submit/").status_code == 302
    vice = client_for("tule.localhost", people["vice_chairman"])
    assert vice.post(f"/documents/outgoing/{doc.pk}/approve/", {"note": ""}).status_code == 302
    assert vice.post(f"/documents/outgoing/{doc.pk}/sign/", {"pin": "1234"}).status_code == 302
    clerk = client_for("tule.localhost", people["clerk"])
    page = clerk.get(f"/documents/outgoing/{doc.pk}/").content.decode()
    assert "01" in page and 'name="pin"' in page  # the next number and the PIN field
    assert clerk.post(f"/documents/outgoing/{doc.pk}/issue/", {"pin": "1234"}).status_code == 302
    assert clerk.post(f"/documents/outgoing/{doc.pk}/dispatch/", {"day": "32/01/2026"}).status_code == 400
    assert clerk.post(f"/documents/outgoing/{doc.pk}/dispatch/", {"day": ""}).status_code == 302
    assert clerk.post(f"/documents/outgoing/{doc.pk}/file/", {"retention_years": "abc"}).status_code == 400
    assert clerk.post(f"/documents/outgoing/{doc.pk}/file/", {"retention_years": "10"}).status_code == 302
    with tenant_context(tule):
        doc.refresh_from_db()
        assert doc.state == "filed" and doc.number_symbol == "01/UBND-TC"
    page = clerk.get(f"/documents/outgoing/{doc.pk}/").content.decode()
    assert "Số: 01/UBND-TC" in page


def test_settings_page_for_the_commune_admin(people, client_for, tule, doc_types):
    client = client_for("tule.localhost", people["commune_admin"])
    assert client.get("/documents/settings/").status_code == 200
    response = client.post("/documents/settings/", {"mode": "per_type", "agency_symbol": "UBND", "default_unit_code": "VP",
                                                    "secret_mark": "M", "due_soon_days": "3", "default_handling_days": "10"})
    assert response.status_code == 302
    bad = client.post("/documents/settings/", {"mode": "per_type", "agency_symbol": "UB ND/X", "default_unit_code": "VP",
                                               "due_soon_days": "3", "default_handling_days": "10"})
    assert bad.status_code == 400
    response = client.post("/documents/settings/authorities/new/", {
        "user": people["vice_chairman"].pk, "prefix": "KT.", "title": "Phó Chủ tịch", "principal_title": "Chủ tịch",
        "collective": "Ủy ban nhân dân", "document_types": [doc_types["quyet-dinh"].pk], "valid_from": "03/04/2026"})
    assert response.status_code == 302
    with tenant_context(tule):
        authority = SigningAuthority.objects.get()
        assert authority.valid_from == datetime.date(2026, 4, 3)
        assert authority.lines() == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    bad = client.post("/documents/settings/authorities/new/", {
        "user": people["specialist"].pk, "title": "X", "document_types": [doc_types["quyet-dinh"].pk],
        "valid_from": "03/04/2026"})
    assert bad.status_code == 400
    assert client.post(f"/documents/settings/authorities/{authority.pk}/end/").status_code == 302


def test_module_on_the_officials_home(people, client_for):
    assert "/documents/" in client_for("tule.localhost", people["clerk"]).get("/").content.decode()
    assert "/documents/" not in client_for("tule.localhost", people["radio_operator"]).get("/").content.decode()


def test_signing_without_the_code_comes_back_to_the_document_after_it(draft_factory, people, client_for, tule):
    """A chairman whose session skipped the authenticator code is sent to the code page first, and
    from there back to the document's page (the signing action itself answers POST only)."""
    from documents import services

    doc = services.approve(services.submit(draft_factory(), user=people["specialist"]), user=people["chairman"])
    chairman = client_for("tule.localhost", people["chairman"], second_factor=False)
    response = chairman.post(f"/documents/outgoing/{doc.pk}/sign/", {"pin": "1234"})
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/2fa/?next=%2Fdocuments%2Foutgoing%2F{doc.pk}%2F"
    assert client_for("tule.localhost", people["chairman"]).get(f"/documents/outgoing/{doc.pk}/").status_code == 200
