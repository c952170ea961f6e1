"""Exchange between communes of one installation (outbox jobs run in-process), and with
supervising units through the national host's API."""
import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from communes.models import Role, SupervisingUnit
from documents import files, services
from documents.models import DeliveryState, ExchangeJob, IncomingDocument, OutgoingDocument, OutgoingRecipient
from jobs.services import execute

from .conftest import make_pdf, pdftotext

TULE, YENHOA = "c_04630", "c_14701"


@pytest.fixture
def sent(issued_factory, people, tule, yenhoa):
    """An issued decision of Tú Lệ dispatched to Yên Mô (commune 14701) and to the province of Lào Cai."""
    with tenant_context(tule):
        doc = issued_factory(
            subject="Về việc phối hợp tổ chức Lễ hội Cầu mùa năm 2026", urgency="immediate", reply_due=datetime.date(2099, 1, 9),
            electronic_recipients=[{"kind": "commune", "code": yenhoa.code}, {"kind": "unit", "code": "15"}],
        )
        doc = services.dispatch(doc, user=people["clerk"])
        job = ExchangeJob.objects.get(message_id=doc.electronic_recipients.get(kind="commune").message_id)
    return {"doc": doc, "job": job}


def run(job, schema, commune):
    with tenant_context(commune):
        return execute(ExchangeJob, job.pk, schema)


def test_document_arrives_in_the_other_communes_inbox(sent, tule, yenhoa):
    doc, job = sent["doc"], sent["job"]
    assert job.kind == "deliver" and job.target_code == "14701" and job.state == "queued"
    with tenant_context(tule):
        unit_line = doc.electronic_recipients.get(kind="unit")
        assert unit_line.state == DeliveryState.SENT  # the unit reads it through the API
        issued = files.read(doc.issued_pdf)
    assert run(job, TULE, tule) == "succeeded"
    with tenant_context(yenhoa):
        incoming = IncomingDocument.objects.get()
        assert incoming.state == IncomingDocument.State.RECEIVED and incoming.source == "electronic"
        assert incoming.incoming_number is None  # numbered when the clerk registers it
        assert incoming.original_number_symbol == doc.number_symbol == "01/QĐ-UBND"
        assert incoming.subject == "Về việc phối hợp tổ chức Lễ hội Cầu mùa năm 2026"
        assert incoming.sender_org == "Ủy ban nhân dân xã Tú Lệ"
        assert incoming.document_date == doc.issued_on and incoming.urgency == "immediate"
        assert incoming.doc_type.code == "quyet-dinh" and incoming.sender_due_date == datetime.date(2099, 1, 9)
        assert incoming.scan.startswith("communes/c_14701/") and files.read(incoming.scan) == issued
        header = incoming.envelope["MessageHeader"]
        assert header["From"]["OrganId"] == "000.00.X04630" and len(header["From"]["OrganId"]) == 13
        assert header["Code"] == {"CodeNumber": "01", "CodeNotation": "QĐ-UBND"}
        assert header["OtherInfo"]["Priority"] == 2 and header["DueDate"] == "2099-01-09"
        assert header["ToPlaces"]["Place"] == ["Như Điều 3;", "TT HĐND xã;"]
        assert [t["OrganId"] for t in incoming.envelope["TraceHeaderList"]["TraceHeader"]] == ["000.00.X04630", "000.00.X14701"]
    with tenant_context(tule):
        assert OutgoingRecipient.objects.get(pk=job.recipient_id).state == DeliveryState.SENT


def test_delivery_is_idempotent(sent, tule, yenhoa):
    job = sent["job"]
    assert run(job, TULE, tule) == "succeeded"
    with tenant_context(tule):  # the same message again (a lost acknowledgement, a re-sent job)
        again = ExchangeJob.objects.create(kind="deliver", recipient_id=job.recipient_id, message_id=job.message_id,
                                           target_code=job.target_code)
    assert run(again, TULE, tule) == "succeeded"
    with tenant_context(tule):
        again.refresh_from_db()
        assert again.result["created"] is False
    with tenant_context(yenhoa):
        assert IncomingDocument.objects.count() == 1


def test_registration_and_return_travel_back_to_the_sender(sent, tule, yenhoa, make_user, issued_factory, people):
    assert run(sent["job"], TULE, tule) == "succeeded"
    clerk = make_user("yh_clerk", roles={yenhoa: [Role.CLERK]}, full_name="Phạm Văn Yên")
    with tenant_context(yenhoa):
        incoming = IncomingDocument.objects.get()
        incoming = services.register_received(incoming, user=clerk)
        assert incoming.incoming_number == 1 and incoming.state == IncomingDocument.State.REGISTERED
        status_job = ExchangeJob.objects.get(kind="status")
        assert status_job.target_code == "04630" and status_job.payload["ArrivalNumber"] == 1
        # Now a line of Yên Mô's incoming register, with the sender's metadata.
        from documents import registers, selectors

        (row,) = registers.build("incoming", selectors.incoming_register()).rows
        assert row[1:6] == ["01", "Ủy ban nhân dân xã Tú Lệ", "01/QĐ-UBND", sent["doc"].issued_on.strftime("%d/%m/%Y"),
                            "Quyết định: Về việc phối hợp tổ chức Lễ hội Cầu mùa năm 2026"]
        assert "Điện tử" in row[-1]
    assert run(status_job, YENHOA, yenhoa) == "succeeded"
    with tenant_context(tule):
        line = OutgoingRecipient.objects.get(pk=sent["job"].recipient_id)
        assert line.state == DeliveryState.RECEIVED and line.arrival_number == 1
    # A second document is returned with a reason.
    with tenant_context(tule):
        second = issued_factory(subject="Về việc gửi nhầm", electronic_recipients=[{"kind": "commune", "code": "14701"}])
        second = services.dispatch(second, user=people["clerk"])
        deliver = ExchangeJob.objects.get(kind="deliver", recipient__document=second)
    assert run(deliver, TULE, tule) == "succeeded"
    with tenant_context(yenhoa):
        incoming = IncomingDocument.objects.get(subject="Về việc gửi nhầm")
        with pytest.raises(ValidationError):
            services.return_to_sender(incoming, user=clerk, reason="  ")
        services.return_to_sender(incoming, user=clerk, reason="Không thuộc thẩm quyền của xã Yên Mô")
        status_job = ExchangeJob.objects.filter(kind="status").latest("pk")
    assert run(status_job, YENHOA, yenhoa) == "succeeded"
    with tenant_context(tule):
        line = second.electronic_recipients.get()
        assert line.state == DeliveryState.RETURNED and line.return_reason == "Không thuộc thẩm quyền của xã Yên Mô"


def test_a_status_never_moves_backwards(sent, tule, yenhoa):
    with tenant_context(tule):
        OutgoingRecipient.objects.filter(pk=sent["job"].recipient_id).update(state=DeliveryState.RECEIVED)
    # The delivery job runs late: the line stays "received".
    assert run(sent["job"], TULE, tule) == "succeeded"
    with tenant_context(tule):
        assert OutgoingRecipient.objects.get(pk=sent["job"].recipient_id).state == DeliveryState.RECEIVED


def test_secret_documents_never_leave_the_commune(draft_factory, people, in_tule, yenhoa, fake_signing):
    with pytest.raises(ValidationError) as refused:
        draft_factory(body="", confidentiality="secret", electronic_recipients=[{"kind": "commune", "code": "14701"}])
    assert "electronic_recipients" in refused.value.message_dict
    doc = services.issue(draft_factory(body="", confidentiality="top_secret"), people["clerk"])
    assert doc.state == OutgoingDocument.State.ISSUED and doc.sequence_key == "secret"
    doc = services.dispatch(doc, user=people["clerk"])
    assert not ExchangeJob.objects.exists()
    # Even a forged outbox row cannot carry it out.
    line = OutgoingRecipient.objects.create(document=doc, kind="commune", code="14701", name="Yên Mô")
    job = ExchangeJob.objects.create(kind="deliver", recipient=line, message_id=line.message_id, target_code="14701")
    assert execute(ExchangeJob, job.pk, "c_04630") == "failed"
    with tenant_context(yenhoa):
        assert not IncomingDocument.objects.exists()


# --- supervising units on the national host ------------------------------------------------------

def api(client_for, user):
    token, _ = Token.objects.get_or_create(user=user)
    return client_for("localhost"), {"HTTP_AUTHORIZATION": f"Token {token.key}"}


@pytest.fixture
def lao_cai(make_user):
    return make_user("staff_laocai", units=[SupervisingUnit.objects.get(code="15")], full_name="Sở Nội vụ Lào Cai")


@pytest.fixture
def thanh_hoa(make_user):
    return make_user("staff_thanhhoa", units=[SupervisingUnit.objects.get(code="38")])


def test_unit_reads_what_its_commune_sent_and_acknowledges(sent, lao_cai, client_for, tule):
    client, auth = api(client_for, lao_cai)
    base = "/api/v1/communes/04630/documents/exchange/to-unit/"
    body = client.get(base, **auth).json()
    assert body["count"] == 1
    line = body["results"][0]
    assert line["number_symbol"] == "01/QĐ-UBND" and line["subject"].startswith("Về việc phối hợp") and line["state"] == "sent"
    pdf = client.get(f"{base}{line['id']}/file/", **auth)
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    ack = client.post(f"{base}{line['id']}/acknowledge/", **auth)
    assert ack.status_code == 200 and ack.json()["state"] == "received"
    # The registers, read-only; nothing else of the commune.
    assert client.get("/api/v1/communes/04630/documents/registers/outgoing/", **auth).status_code == 200
    assert client.get("/api/v1/communes/04630/documents/registers/outgoing/?secret=true", **auth).status_code == 403
    assert client.get("/api/v1/communes/04630/documents/outgoing/", **auth).status_code == 403
    assert client.post("/api/v1/communes/04630/documents/outgoing/", {}, content_type="application/json", **auth).status_code == 403


def test_unit_sends_to_its_commune(lao_cai, client_for, tule, people):
    client, auth = api(client_for, lao_cai)
    message = str(uuid.uuid4())
    data = {"message_id": message, "subject": "V/v triển khai Kế hoạch chuyển đổi số năm 2026",
            "original_number_symbol": "88/UBND-KSTT", "document_date": "03/04/2026", "type_name": "Công văn",
            "sender_org": "UBND tỉnh Lào Cai", "urgency": "urgent", "file": _file()}
    response = client.post("/api/v1/communes/04630/documents/exchange/from-unit/", data, **auth)
    assert response.status_code == 201, response.json()
    assert client.post("/api/v1/communes/04630/documents/exchange/from-unit/", {**data, "file": _file()}, **auth).status_code == 200
    with tenant_context(tule):
        incoming = IncomingDocument.objects.get()
        assert incoming.document_date == datetime.date(2026, 4, 3)  # 03/04/2026 is 3 April
        assert incoming.sender_org == "UBND tỉnh Lào Cai" and incoming.exchange_sender_code == "15"
        assert incoming.state == IncomingDocument.State.RECEIVED and incoming.doc_type.code == "cong-van"
        assert "Tài liệu" in pdftotext(files.read(incoming.scan))
        services.return_to_sender(incoming, user=people["clerk"], reason="Sai địa chỉ")
    listed = client.get("/api/v1/communes/04630/documents/exchange/from-unit/", **auth).json()["results"]
    assert [(d["state"], d["return_reason"]) for d in listed] == [("returned", "Sai địa chỉ")]
    bad = client.post("/api/v1/communes/04630/documents/exchange/from-unit/", {"subject": "x", "file": _file(b"hello")}, **auth)
    assert bad.status_code == 400 and set(bad.json()) == {"code", "detail", "fields"} and "file" in bad.json()["fields"]


def test_another_provinces_staff_get_404(sent, thanh_hoa, client_for):
    client, auth = api(client_for, thanh_hoa)
    for path in ["exchange/to-unit/", "exchange/from-unit/", "registers/outgoing/"]:
        response = client.get(f"/api/v1/communes/04630/documents/{path}", **auth)
        assert response.status_code == 404 and set(response.json()) == {"code", "detail", "fields"}
    response = client.post("/api/v1/communes/04630/documents/exchange/from-unit/", {"subject": "x"}, **auth)
    assert response.status_code == 404
    # Their own commune (Nga An, province 38) answers, with nothing sent to them.
    assert client.get("/api/v1/communes/16144/documents/exchange/to-unit/", **auth).json()["count"] == 0


def test_exchange_endpoints_are_closed_on_commune_hosts(sent, people, client_for, lao_cai):
    for user in (people["clerk"], people["chairman"], lao_cai):
        client = client_for("tule.localhost", user)
        assert client.get("/api/v1/documents/exchange/to-unit/").status_code == 403
        assert client.post("/api/v1/documents/exchange/from-unit/", {"subject": "x"}).status_code == 403


def _file(data: bytes | None = None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("cong-van.pdf", data or make_pdf("Tài liệu tỉnh"), content_type="application/pdf")
