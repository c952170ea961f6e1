"""Bad input gets a clear message (the English source here; Vietnamese on the pages), a 4xx in
the API and never a 500, and nothing half-saved: missing documents, a program renamed .pdf, a
file too large or empty, an invalid phone or ID number, a double submit, a wrong role."""
from __future__ import annotations

import os
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from onestop import services
from onestop.models import Dossier, DossierDocument, IssuedForm

from .conftest import make_pdf, upload
from .helpers import applicant, form_data_for, full_checklist, received_dossier, required_ids

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode."
JSON = {"content_type": "application/json"}


def messages(exc: ValidationError) -> dict:
    return {key: value[0] for key, value in exc.message_dict.items()}


def stored_files(settings) -> list[str]:
    found = []
    for root, _dirs, names in os.walk(settings.MEDIA_ROOT):
        found += [os.path.join(root, n) for n in names if "/onestop/dossiers/" in os.path.join(root, n)]
    return found


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_program_renamed_pdf_is_refused_and_nothing_is_saved(procedures, people, english, settings):
    procedure = procedures["HT-02"]
    pk = required_ids(procedure)[0]
    with pytest.raises(ValidationError) as refused:
        received_dossier(procedure, people["onestop_officer"],
                         files={pk: [upload(make_pdf(), "to-khai.pdf"), upload(EXE, "giay-khai-sinh.pdf")]})
    message = messages(refused.value)["files"]
    assert "This file is not accepted: send a PDF, JPEG, PNG file" in message
    assert procedure.requirements.get(pk=pk).name in message
    assert services.error_code(refused.value) == "file_type"
    assert not Dossier.objects.exists() and not DossierDocument.objects.exists() and not stored_files(settings)


def test_too_large_and_empty_files(procedures, people, english, settings):
    settings.XASO_DOSSIER_FILE_MAX_BYTES = 4000
    dossier = received_dossier(procedures["HT-02"], people["onestop_officer"])
    big = make_pdf("x" * 50, pages=40)
    assert len(big) > 4000
    with pytest.raises(ValidationError) as large:
        services.add_file(dossier=dossier, user=people["onestop_officer"], requirement_id=None, upload=upload(big))
    assert messages(large.value)["file"].startswith("The file is too large: at most 3.9")
    with pytest.raises(ValidationError) as empty:
        services.add_file(dossier=dossier, user=people["onestop_officer"], requirement_id=None, upload=upload(b""))
    assert messages(empty.value)["file"] == "The file is empty."
    with pytest.raises(ValidationError) as foreign:
        services.add_file(dossier=dossier, user=people["onestop_officer"],
                          requirement_id=procedures["HT-01"].requirements.first().pk, upload=upload(make_pdf()))
    assert messages(foreign.value)["requirement"] == "This procedure does not require this document."
    assert dossier.documents.exclude(file="").count() == 0


def test_file_count_limit(procedures, people, english, settings):
    settings.XASO_DOSSIER_MAX_FILES = 2
    draft = services.save_draft(citizen=people["citizen"], procedure=procedures["HT-02"], applicant=applicant(),
                                form_data={})
    for _ in range(2):
        services.add_file(dossier=draft, user=people["citizen"], requirement_id=None, upload=upload(make_pdf()))
    with pytest.raises(ValidationError) as third:
        services.add_file(dossier=draft, user=people["citizen"], requirement_id=None, upload=upload(make_pdf()))
    assert messages(third.value)["file"] == "At most 2 files per dossier."


@pytest.mark.parametrize("phone", ["0123", "02163871234", "abc", "+1 415 555 0100"])
def test_invalid_phone(procedures, people, english, phone):
    with pytest.raises(ValidationError) as refused:
        received_dossier(procedures["HT-02"], people["onestop_officer"], applicant=applicant(phone=phone))
    assert messages(refused.value)["applicant_phone"].startswith("This is not a Vietnamese mobile number")
    assert not Dossier.objects.exists()


def test_missing_name_phone_and_bad_id(procedures, people, english):
    with pytest.raises(ValidationError) as refused:
        received_dossier(procedures["HT-02"], people["onestop_officer"],
                         applicant=applicant(name=" ", phone="", id_number="12345", email="not-an-email"))
    errors = messages(refused.value)
    assert errors["applicant_name"] == "Enter the applicant's full name."
    assert errors["applicant_phone"].startswith("Enter the applicant's mobile phone")
    assert errors["applicant_id_number"] == "The personal ID number has exactly 12 digits."
    assert errors["applicant_email"] == "This e-mail address is not valid."
    with pytest.raises(ValidationError) as province:
        received_dossier(procedures["HT-02"], people["onestop_officer"], applicant=applicant(id_number="999090001234"))
    assert "province" in messages(province.value)["applicant_id_number"]


def test_decisions_need_their_reason_and_items(procedures, people, english):
    officer, procedure = people["onestop_officer"], procedures["HT-02"]
    with pytest.raises(ValidationError) as no_reason:
        services.counter_intake(user=officer, procedure=procedure, applicant=applicant(), checklist={},
                                decision="refuse", reason="  ")
    assert messages(no_reason.value)["reason"] == "Give the reason for the refusal."
    with pytest.raises(ValidationError) as nothing_missing:
        services.counter_intake(user=officer, procedure=procedure, applicant=applicant(),
                                checklist=full_checklist(procedure), decision="incomplete")
    assert messages(nothing_missing.value)["missing"] == "List what the applicant must complete."
    with pytest.raises(ValidationError) as unknown:
        services.counter_intake(user=officer, procedure=procedure, applicant=applicant(), checklist={},
                                decision="maybe")
    assert "decision" in messages(unknown.value)
    with pytest.raises(ValidationError) as foreign:
        services.counter_intake(user=officer, procedure=procedure, applicant=applicant(),
                                checklist={procedures["HT-01"].requirements.first().pk: True})
    assert "does not require" in messages(foreign.value)["checklist"]
    with pytest.raises(ValidationError) as external:
        services.counter_intake(user=officer, procedure=procedures["CTR-01"], applicant=applicant(), checklist={})
    assert messages(external.value)["procedure"] == "This procedure is not taken at the commune's desk."
    assert not Dossier.objects.exists() and not IssuedForm.objects.exists()


def test_online_required_fields_and_state_errors(procedures, people, english):
    citizen = people["citizen"]
    procedure = procedures["HT-01"]
    with pytest.raises(ValidationError) as bad_fields:
        services.save_draft(citizen=citizen, procedure=procedure, applicant=applicant(),
                            form_data={"child_birth_date": "31/02/2026", "child_sex": "Khác"})
    assert messages(bad_fields.value) == {"child_birth_date": "Enter the date as dd/mm/yyyy.",
                                          "child_sex": "Choose one of the values offered."}
    draft = services.save_draft(citizen=citizen, procedure=procedure, applicant=applicant(), form_data={})
    for pk in required_ids(procedure):
        services.add_file(dossier=draft, user=citizen, requirement_id=pk, upload=upload(make_pdf()))
    with pytest.raises(ValidationError) as unfilled:
        services.submit(dossier=draft, citizen=citizen, submit_token=uuid.uuid4())
    assert messages(unfilled.value)["child_name"].startswith("Fill in “")
    with pytest.raises(ValidationError) as no_token:
        services.submit(dossier=draft, citizen=citizen, submit_token="not-a-uuid")
    assert messages(no_token.value)["submit_token"].startswith("The form has expired")
    with pytest.raises(ValidationError) as desk_only:
        services.save_draft(citizen=citizen, procedure=procedures["CT-02"], applicant=applicant(), form_data={})
    assert "cannot be submitted online" in messages(desk_only.value)["procedure"]
    services.save_draft(citizen=citizen, procedure=procedure, dossier=draft, applicant=applicant(),
                        form_data=form_data_for(procedure))
    services.submit(dossier=draft, citizen=citizen, submit_token=uuid.uuid4())
    with pytest.raises(ValidationError) as frozen:
        services.add_file(dossier=draft, user=citizen, requirement_id=None, upload=upload(make_pdf()))
    assert services.error_code(frozen.value) == "wrong_state"
    assert frozen.value.messages[0] == "This action is not possible while the dossier is “Submitted, waiting for the desk”."


def test_wrong_roles_are_permission_denied(procedures, people):
    dossier = received_dossier(procedures["HT-02"], people["onestop_officer"])
    calls = [
        lambda u: services.request_supplement(dossier=dossier, user=u, items=["x"]),
        lambda u: services.extend(dossier=dossier, user=u, new_due_at="31/12/2030", reason="x"),
        lambda u: services.record_payment(dossier=dossier, user=u, method="cash"),
        lambda u: services.sign_result_agency(dossier=dossier, user=u, pin="123456"),
        lambda u: services.hand_over(dossier=dossier, user=u),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call(people["commune_admin"])
        with pytest.raises(PermissionDenied):
            call(people["citizen"])


def test_api_bad_input_is_4xx_with_an_error_body(procedures, people, client_for, tule, in_commune, settings):
    with in_commune(tule):
        dossier = received_dossier(procedures["HT-02"], people["onestop_officer"])
        at_process = services.hand_over(dossier=received_dossier(procedures["HT-02"], people["onestop_officer"]),
                                        user=people["onestop_officer"])
    officer = client_for("tule.localhost", people["onestop_officer"])
    chairman = client_for("tule.localhost", people["chairman"], second_factor=True)
    base = "/api/v1/onestop/dossiers"
    cases = [
        (officer.post(f"{base}/", {"procedure": "HT-02", "applicant_name": "A", "applicant_phone": "0912345678",
                                   "checklist": {}}, **JSON), 400, "checklist"),
        (officer.post(f"{base}/", {"procedure": "ZZ-99"}, **JSON), 400, "procedure"),
        (officer.post(f"{base}/", {"procedure": "HT-02", "checklist": "[nope"}, **JSON), 400, "checklist"),
        (officer.post(f"{base}/", {"procedure": "HT-02", "checklist": "{bad"}), 400, "checklist"),
        (officer.post(f"{base}/", {"procedure": "HT-02", "file_abc": upload(make_pdf())}), 400, "files"),
        (officer.post(f"{base}/", {"procedure": "HT-02", "applicant_name": "A", "applicant_phone": "0123",
                                   "checklist": {}}, **JSON), 400, "applicant_phone"),
        (officer.post(f"{base}/", {"procedure": "HT-02", "page_count": -1}, **JSON), 400, "page_count"),
        (officer.post(f"{base}/{dossier.pk}/files/", {"file": upload(EXE, "scan.pdf")}), 400, "file"),
        (officer.post(f"{base}/{dossier.pk}/files/", {}), 400, "file"),
        (officer.post(f"{base}/{dossier.pk}/hand-over/", {"to_user": "ai"}, **JSON), 400, "to_user"),
        (officer.post(f"{base}/{dossier.pk}/hand-over/", {"to_user": 2**62}, **JSON), 400, "to_user"),
        (officer.post(f"{base}/{dossier.pk}/extend/", {"new_due_at": "hôm sau", "reason": "x"}, **JSON), 400,
         "new_due_at"),
        (officer.post(f"{base}/{dossier.pk}/request-supplement/", {"items": []}, **JSON), 400, "items"),
        (officer.post(f"{base}/{dossier.pk}/request-supplement/", {"items": ["  "]}, **JSON), 400, "items"),
        (officer.post(f"{base}/{dossier.pk}/payments/", {"method": "gold"}, **JSON), 400, "method"),
        (officer.post(f"{base}/{dossier.pk}/payments/", {"method": "cash"}, **JSON), 409, None),  # free
        (officer.get(f"{base}/99999999/"), 404, None),
        (officer.get(f"{base}/{dossier.pk}/forms/999999/"), 404, None),
        (chairman.post(f"{base}/{at_process.pk}/sign-leader/", {"pin": "abc"}, **JSON), 400, "pin"),
        (chairman.post(f"{base}/{at_process.pk}/sign-leader/", {"pin": "123456"}, **JSON), 409, None),
        (officer.post(f"{base}/{dossier.pk}/receive/"), 409, None),
        (officer.post(f"{base}/{dossier.pk}/ask-completion/", "{", content_type="application/json"), 400, None),
        (officer.post("/api/v1/onestop/lookup/", {"code": "'; DROP TABLE", "phone_last4": "1234"}, **JSON), 404, None),
        (officer.post("/api/v1/onestop/ratings/", {"token": "x", "score": 2}, **JSON), 400, "token"),
    ]
    for index, (response, status, field) in enumerate(cases):
        assert response.status_code == status, (index, response.content[:300])
        body = response.json()
        assert set(body) == {"code", "detail", "fields"} and body["detail"], index
        if field:
            assert field in body["fields"], (index, body)
    with in_commune(tule):
        assert Dossier.objects.count() == 2



def test_a_fee_by_the_page_needs_the_pages(procedures, people, english):
    """A certified copy is charged by the page: received with no page count it would cost 0 đ."""
    copy = procedures["CT-01"]
    with pytest.raises(ValidationError) as exc:
        services.counter_intake(user=people["onestop_officer"], procedure=copy, applicant=applicant(),
                                checklist=full_checklist(copy), form_data=form_data_for(copy), page_count=0)
    assert "counted by the page" in messages(exc.value)["page_count"]
    assert not Dossier.objects.exists()
    dossier = services.counter_intake(user=people["onestop_officer"], procedure=copy, applicant=applicant(),
                                      checklist=full_checklist(copy), form_data=form_data_for(copy), page_count=3)
    assert dossier.fee_amount == 5000
