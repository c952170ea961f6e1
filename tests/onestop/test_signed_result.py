"""The counter flow end to end with real signatures: intake and receipt, the hand-overs of form
6, the result rendered from the procedure's template, the leader's personal signature and the
agency's, both valid for poppler's pdfsig trusting the test CA; then the public lookup by code
and the last four digits of the phone, the return, and one rating."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from onestop import selectors, services
from onestop.models import DossierEvent, DossierState, Rating

from .conftest import flat, pdftotext
from .helpers import (  # noqa: F401 - fixtures
    CLERK_PIN, PHONE, PIN, form_data_for, notifications_to, pki_set, read, received_dossier, run_signing_jobs,
    signing_setup, to_signing,
)


@pytest.fixture
def signed(tule, people, procedures, signing_setup):
    """A birth registration taken from the desk to both signatures through the services."""
    procedure = procedures["HT-01"]
    data = form_data_for(procedure) | {"child_name": "Lò Minh Khang", "mother_name": "Lò Thị Mai"}
    dossier = received_dossier(procedure, people["onestop_officer"], form_data=data)
    dossier = to_signing(dossier, people)
    assert dossier.state == DossierState.IN_PROGRESS and dossier.current_step.kind == "sign"
    assert dossier.result_pdf  # rendered when the dossier entered the approval step
    services.prepare_result(dossier=dossier, user=people["specialist"], result_number="15/2026")
    dossier.refresh_from_db()

    job = services.sign_result_leader(dossier=dossier, user=people["chairman"], pin=PIN)
    assert job.field_name == services.LEADER_FIELD
    assert run_signing_jobs(tule) == ["succeeded"]
    dossier.refresh_from_db()
    assert dossier.leader_signed_pdf and dossier.state == DossierState.IN_PROGRESS
    assert dossier.signer_id == people["chairman"].pk

    services.sign_result_agency(dossier=dossier, user=people["clerk"], pin=CLERK_PIN)
    assert run_signing_jobs(tule) == ["succeeded"]
    dossier.refresh_from_db()
    return dossier


def test_result_signed_by_leader_then_agency_is_valid_for_pdfsig(signed, pki_set):
    from tests.signatures.nss import NssDb

    assert signed.state == DossierState.RESULT_READY
    assert signed.completed_at is not None and signed.current_step.kind == "return"
    data = read(signed.signed_result)
    with NssDb([pki_set["ca"].cert_der]) as nss:
        report = nss.pdfsig(data)
    assert [sig["field"] for sig in report] == [services.LEADER_FIELD, services.AGENCY_FIELD]
    for sig in report:
        assert sig["signature"] == "Signature is Valid.", sig
        assert sig["certificate"] == "Certificate is Trusted.", sig
    assert report[0]["common_name"] == "Lò Văn Thành"
    assert report[-1]["total"] is True

    text = flat(pdftotext(data))
    assert "GIẤY KHAI SINH" in text.upper()
    assert "Lò Minh Khang" in text and "Lò Thị Mai" in text and signed.code in text
    assert "15/2026" in text and "Lò Văn Thành" in text


def test_control_sheet_events_and_messages(signed, people):
    events = list(DossierEvent.objects.filter(dossier=signed).order_by("at", "pk"))
    kinds = [e.kind for e in events]
    assert kinds[:4] == ["received", "handover", "handover", "handover"]
    assert kinds[-2:] == ["leader_signed", "result_ready"]
    handovers = [e for e in events if e.kind == "handover"]
    assert [(e.from_step.kind, e.to_step.kind) for e in handovers] == [
        ("receive", "process"), ("process", "approve"), ("approve", "sign")]
    assert [e.actor_id for e in handovers] == [people["onestop_officer"].pk, people["specialist"].pk,
                                               people["chairman"].pk]
    assert all(e.step_started_at and e.step_due_at and e.step_due_at > e.step_started_at for e in handovers)
    ready = events[-1]
    assert (ready.from_step.kind, ready.to_step.kind) == ("sign", "return")

    from onestop import pdf

    sheet = flat(pdftotext(pdf.render_form("6", signed)))
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in sheet and "Trần Văn Lâm" in sheet

    messages = [n.message for n in notifications_to(PHONE)]
    assert len(messages) == 2 and signed.code in messages[1]
    # The rating key is never in a message (officials read messages); it is on the papers handed over.
    assert str(signed.rating_token) not in messages[1] and "/rate/" not in messages[1]


def test_public_lookup_shows_the_steps_then_return_and_rate_once(signed, people, client_for, tule, in_commune):
    phone_last4 = PHONE[-4:]
    client = client_for("tule.localhost")
    response = client.post("/api/v1/onestop/lookup/", {"code": signed.code, "phone_last4": phone_last4},
                           content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == signed.code and body["state"] == "result_ready"
    steps = [row["step"] for row in body["timeline"] if row["kind"] == "handover"]
    assert steps == ["Thẩm định, xử lý hồ sơ", "Lãnh đạo UBND xã xem xét", "Lãnh đạo UBND xã ký kết quả"]
    assert "Lường Thị Thu" not in response.content.decode() and "Trần Văn Lâm" not in response.content.decode()
    assert body["applicant"] != "Hoàng Văn Nam" and body["applicant"].endswith("Nam")

    wrong = client.post("/api/v1/onestop/lookup/", {"code": signed.code, "phone_last4": "0000"},
                        content_type="application/json")
    unknown = client.post("/api/v1/onestop/lookup/", {"code": "04630-990101-0001", "phone_last4": phone_last4},
                          content_type="application/json")
    assert wrong.status_code == unknown.status_code == 404 and wrong.json() == unknown.json()
    with in_commune(tule):
        return_and_rate(signed, people, phone_last4)


def return_and_rate(signed, people, phone_last4):
    with pytest.raises(PermissionDenied):
        services.return_result(dossier=signed, user=people["clerk"])
    returned = services.return_result(dossier=signed, user=people["onestop_officer"])
    assert returned.state == DossierState.RETURNED and returned.returned_at

    rating = services.rate(token=signed.rating_token, score=3, comment="Cán bộ nhiệt tình")
    assert rating.satisfied
    with pytest.raises(ValidationError) as again:
        services.rate(token=signed.rating_token, score=1)
    assert services.error_code(again.value) == "already_rated"
    assert Rating.objects.filter(dossier=signed).count() == 1
    assert selectors.lookup(signed.code, phone_last4).state == DossierState.RETURNED


def test_signatures_in_the_wrong_order_or_by_the_wrong_person_are_refused(tule, people, procedures, signing_setup):
    dossier = to_signing(received_dossier(procedures["HT-02"], people["onestop_officer"]), people)
    with pytest.raises(ValidationError) as early:
        services.sign_result_agency(dossier=dossier, user=people["clerk"], pin=CLERK_PIN)
    assert services.error_code(early.value) == "not_signed"
    with pytest.raises(PermissionDenied):
        services.sign_result_leader(dossier=dossier, user=people["clerk"], pin=PIN)
    with pytest.raises(PermissionDenied):  # the step was handed to the chairman
        services.sign_result_leader(dossier=dossier, user=people["vice_chairman"], pin=PIN)
    with pytest.raises(ValidationError) as wrong_pin:
        services.sign_result_leader(dossier=dossier, user=people["chairman"], pin="000000")
    assert "pin" in wrong_pin.value.message_dict
    with pytest.raises(ValidationError) as result_first:  # hand-over to return only through the signatures
        services.hand_over(dossier=dossier, user=people["chairman"])
    assert services.error_code(result_first.value) == "not_signed"
    dossier.refresh_from_db()
    assert dossier.state == DossierState.IN_PROGRESS and not dossier.leader_signed_pdf
