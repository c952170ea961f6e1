"""Bad input everywhere: a clear message, never a 500, never half-written data."""
import pytest
from django_tenants.utils import tenant_context

from documents.models import IncomingDocument, OutgoingDocument

from .conftest import make_pdf, upload

ERROR_KEYS = {"code", "detail", "fields"}


@pytest.fixture
def clerk_api(people, client_for):
    return client_for("tule.localhost", people["clerk"])


def _json(client, method, path, data):
    return getattr(client, method)(path, data, content_type="application/json")


@pytest.mark.parametrize("data, field", [
    ({"sender_org": "Sở Y tế", "subject": "x"}, "arrived_at"),
    ({"arrived_at": "31/02/2026 08:00", "sender_org": "Sở Y tế", "subject": "x"}, "arrived_at"),
    ({"arrived_at": "03/04/2026 08:00", "sender_org": "", "subject": "x"}, "sender_org"),
    ({"arrived_at": "03/04/2026 08:00", "sender_org": "Sở", "subject": "x" * 501}, "subject"),
    ({"arrived_at": "03/04/2026 08:00", "sender_org": "Sở", "subject": "x", "doc_type": 10**15}, "doc_type"),
    ({"arrived_at": "03/04/2026 08:00", "sender_org": "Sở", "subject": "x", "urgency": "very"}, "urgency"),
    ({"arrived_at": "03/04/2099 08:00", "sender_org": "Sở", "subject": "x"}, "arrived_at"),
    ({"arrived_at": "03/04/2026 08:00", "sender_org": "Sở", "subject": "x", "document_date": "05/04/2026"}, "document_date"),
])
def test_incoming_api_refuses_bad_input(clerk_api, tule, data, field):
    response = _json(clerk_api, "post", "/api/v1/documents/incoming/", data)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS and field in body["fields"] and body["detail"]
    with tenant_context(tule):
        assert not IncomingDocument.objects.exists()


@pytest.mark.parametrize("payload, name", [
    (b"", "empty.pdf"), (b"GIF89a....", "image.pdf"), (b"%PDF-1.4\n%broken", "broken.pdf"),
    (b"%PDF-1.7\ntrailer << /Encrypt 5 0 R >>\n%%EOF", "locked.pdf"),
])
def test_uploads_are_checked(clerk_api, tule, payload, name):
    response = clerk_api.post("/api/v1/documents/incoming/", {
        "arrived_at": "03/04/2026 08:00", "sender_org": "Sở Y tế", "subject": "V/v tiêm chủng",
        "scan": upload(payload, name)})
    assert response.status_code == 400 and "scan" in response.json()["fields"]
    with tenant_context(tule):
        assert not IncomingDocument.objects.exists()


def test_upload_size_limit(clerk_api, tule, settings):
    settings.XASO_PDF_MAX_BYTES = 2000
    response = clerk_api.post("/api/v1/documents/incoming/", {
        "arrived_at": "03/04/2026 08:00", "sender_org": "Sở Y tế", "subject": "V/v tiêm chủng",
        "scan": upload(make_pdf() + b"\n" * 3000)})
    assert response.status_code == 400 and "scan" in response.json()["fields"]


def test_outgoing_api_refuses_bad_input(people, client_for, doc_types, tule, authorities):
    client = client_for("tule.localhost", people["specialist"])
    qd = doc_types["quyet-dinh"].pk
    cases = [
        ({"subject": "x"}, "doc_type"),
        ({"doc_type": qd}, "subject"),
        ({"doc_type": qd, "subject": "x", "confidentiality": "classified"}, "confidentiality"),
        ({"doc_type": qd, "subject": "x", "copies_count": 0}, "copies_count"),
        ({"doc_type": qd, "subject": "x", "electronic_recipients": [{"kind": "commune", "code": "00000"}]},
         "electronic_recipients"),
        ({"doc_type": qd, "subject": "x", "electronic_recipients": "everyone"}, "electronic_recipients"),
        ({"doc_type": qd, "subject": "x", "drafting_unit": "V P/1"}, "drafting_unit"),
        ({"doc_type": qd, "subject": "x", "authority": authorities["vice"].pk, "confidentiality": "none"}, None),
        ({"doc_type": doc_types["nghi-quyet"].pk, "subject": "x", "authority": authorities["vice"].pk}, "authority"),
    ]
    for data, field in cases:
        response = _json(client, "post", "/api/v1/documents/outgoing/", data)
        if field is None:
            assert response.status_code == 201
            continue
        assert response.status_code == 400, (data, response.content)
        assert set(response.json()) == ERROR_KEYS and field in response.json()["fields"], (data, response.json())
    with tenant_context(tule):
        assert OutgoingDocument.objects.count() == 1


def test_action_endpoints_refuse_bad_input(people, client_for, draft_factory, tule):
    doc = draft_factory()
    client = client_for("tule.localhost", people["specialist"])
    base = f"/api/v1/documents/outgoing/{doc.pk}"
    bad = client.post(f"{base}/draft-pdf/", {"file": upload(make_pdf()), "layout": '{"number": {"page": -1, "box": [1]}}'})
    assert bad.status_code == 400 and "layout" in bad.json()["fields"]
    bad = client.post(f"{base}/draft-pdf/", {"file": upload(make_pdf()), "layout": "not json"})
    assert bad.status_code == 400
    bad = client.post(f"{base}/attachments/", {"file": upload(b"PK\x03\x04zip", "x.pdf")})
    assert bad.status_code == 400 and set(bad.json()) == ERROR_KEYS
    leader = client_for("tule.localhost", people["chairman"])
    assert leader.post(f"{base}/return/", {"reason": ""}, content_type="application/json").status_code == 400
    clerk = client_for("tule.localhost", people["clerk"])
    assert clerk.post(f"{base}/issue/", {"pin": "x" * 65}, content_type="application/json").status_code == 400
    assert clerk.post(f"{base}/archive/", {"retention_years": 101}, content_type="application/json").status_code == 400
    assert clerk.post(f"{base}/withdraw/", "{not json", content_type="application/json").status_code == 400
    assert clerk.get("/api/v1/documents/outgoing/99999999999999999999/").status_code == 404
    assert clerk.get(f"{base}/download/?kind=../../etc/passwd").status_code == 404
    with tenant_context(tule):
        doc.refresh_from_db()
        assert doc.state == "draft" and doc.draft_source == "composed" and not doc.attachments.exists()


def test_incoming_actions_refuse_bad_input(people, client_for, in_tule, doc_types):
    from documents import services

    from django.utils import timezone

    doc = services.register_incoming(IncomingDocument(
        arrived_at=timezone.now(), sender_org="Sở Y tế", subject="V/v tiêm chủng"), user=people["clerk"])
    leader = client_for("tule.localhost", people["chairman"])
    base = f"/api/v1/documents/incoming/{doc.pk}"
    cases = [
        ({"lead_handler": "abc"}, "lead_handler"),
        ({"lead_handler": people["specialist"].pk, "working_days": -1}, "working_days"),
        ({"lead_handler": people["specialist"].pk, "deadline": "32/01/2026"}, "deadline"),
        ({"lead_handler": people["specialist"].pk, "co_handlers": list(range(1, 30))}, "co_handlers"),
        ({"lead_handler": people["producer"].pk}, "lead_handler"),
        ({"lead_handler": 2**70}, "lead_handler"),
    ]
    for data, field in cases:
        response = leader.post(f"{base}/assign/", data, content_type="application/json")
        assert response.status_code == 400 and field in response.json()["fields"], (data, response.json())
    assert leader.post(f"{base}/present/", {"leader": people["clerk"].pk}, content_type="application/json").status_code == 400


def test_pages_refuse_bad_input(people, client_for, draft_factory, tule, doc_types):
    doc = draft_factory()
    clerk = client_for("tule.localhost", people["clerk"])
    response = clerk.post("/documents/outgoing/new/", {"doc_type": "x", "subject": "", "copies_count": "-1",
                                                       "number_box": "a,b", "urgency": "???",
                                                       "other_communes": "1470; Nowhere at all"})
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count('class="errorlist"') >= 4
    assert {"doc_type", "subject", "copies_count", "number_box", "urgency", "other_communes"} <= set(
        response.context["form"].errors)
    response = clerk.post(f"/documents/outgoing/{doc.pk}/edit/", {
        "doc_type": doc_types["quyet-dinh"].pk, "subject": "Sửa", "urgency": "normal", "confidentiality": "none",
        "copies_count": "1", "upload": upload(b"not a pdf", "x.pdf")})
    assert response.status_code == 400
    response = clerk.post(f"/documents/outgoing/{doc.pk}/attachment/", {"title": "x"})
    assert response.status_code == 400
    assert clerk.post(f"/documents/outgoing/{doc.pk}/nonsense/").status_code == 403
    assert clerk.get(f"/documents/outgoing/{doc.pk}/submit/").status_code == 405
    assert clerk.get("/documents/incoming/?date_from=99/99/9999&page=x").status_code == 400
    assert clerk.get("/documents/outgoing/?q=%00%00&state=zzz").status_code == 400
    with tenant_context(tule):
        doc.refresh_from_db()
        assert doc.subject != "Sửa" and not doc.attachments.exists()
