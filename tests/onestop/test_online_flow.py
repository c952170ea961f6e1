"""Online submission: a citizen's draft with uploads, the submission (once, whatever the clicks,
with its code at once), the desk's request to complete it (form 2, the code kept), the resubmission and the receipt (form 1),
then a supplement round during processing that pauses the clock; the citizen is told each time."""
from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from onestop import deadlines, selectors, services
from onestop.models import Dossier, DossierState, SupplementPause

from .conftest import flat, make_jpeg, make_pdf, pdftotext, upload
from .helpers import PHONE, applicant, form_data_for, notifications_to, read, required_ids, run_form_jobs


@pytest.fixture
def draft(procedures, people):
    procedure = procedures["HT-01"]
    return services.save_draft(citizen=people["citizen"], procedure=procedure, applicant=applicant(),
                               form_data=form_data_for(procedure))


def upload_ids(procedure) -> list[int]:
    """The required documents an online application uploads: the declaration "theo mẫu" is the
    online form itself (``services.filled_online``)."""
    return [pk for pk in required_ids(procedure)
            if not services.filled_online(procedure.requirements.get(pk=pk), procedure)]


def upload_all(dossier, citizen, skip=()):
    for pk in upload_ids(dossier.procedure):
        if pk not in skip:
            services.add_file(dossier=dossier, user=citizen, requirement_id=pk, upload=upload(make_pdf(), "giay-to.pdf"))


def test_draft_keeps_only_the_procedures_fields_and_belongs_to_the_citizen(draft, people, procedures):
    assert (draft.state, draft.channel, draft.citizen_id) == (DossierState.DRAFT, "online", people["citizen"].pk)
    assert draft.code is None and draft.delivery == "online"  # a fully online procedure: result to download
    updated = services.save_draft(citizen=people["citizen"], procedure=procedures["HT-01"], dossier=draft,
                                  applicant=applicant(phone=""), form_data={"child_name": "Lò Minh Khang", "x": "y"})
    assert updated.pk == draft.pk and updated.form_data == {"child_name": "Lò Minh Khang"}
    assert list(selectors.citizen_dossiers(people["citizen"])) == [updated]
    assert not selectors.staff_dossiers().filter(pk=draft.pk).exists()  # officials do not see unsent drafts
    other = people["specialist2"]
    with pytest.raises(PermissionDenied):
        services.save_draft(citizen=other, procedure=procedures["HT-01"], dossier=draft, applicant=applicant(),
                            form_data={})
    with pytest.raises(PermissionDenied):
        services.add_file(dossier=draft, user=other, requirement_id=None, upload=upload(make_pdf()))
    with pytest.raises(PermissionDenied):
        services.submit(dossier=draft, citizen=other, submit_token=uuid.uuid4())


def test_submit_needs_every_required_upload_then_happens_once(draft, people):
    citizen = people["citizen"]
    first, *rest = upload_ids(draft.procedure)
    upload_all(draft, citizen, skip={first})
    with pytest.raises(ValidationError) as refused:
        services.submit(dossier=draft, citizen=citizen, submit_token=uuid.uuid4())
    name = draft.procedure.requirements.get(pk=first).name
    assert name in refused.value.message_dict["documents"][0]
    draft.refresh_from_db()
    assert draft.state == DossierState.DRAFT

    services.add_file(dossier=draft, user=citizen, requirement_id=first, upload=upload(make_jpeg(), "anh.jpg", "image/jpeg"))
    token = uuid.uuid4()
    submitted = services.submit(dossier=draft, citizen=citizen, submit_token=token)
    again = services.submit(dossier=draft, citizen=citizen, submit_token=token)  # the double click
    assert submitted.pk == again.pk and again.state == DossierState.SUBMITTED
    assert submitted.events.filter(kind="submitted").count() == 1
    with pytest.raises(ValidationError) as late:  # a second submission with a new form
        services.submit(dossier=draft, citizen=citizen, submit_token=uuid.uuid4())
    assert services.error_code(late.value) == "wrong_state"
    assert list(selectors.worklist(people["onestop_officer"])["online_queue"]) == [submitted]


def test_desk_asks_to_complete_then_receives_after_resubmission(draft, people):
    citizen, officer = people["citizen"], people["onestop_officer"]
    upload_all(draft, citizen)
    sent = services.submit(dossier=draft, citizen=citizen, submit_token=uuid.uuid4())
    assert sent.code.startswith("000.00.X04630-") and sent.due_at is None  # the code at once, the date on receipt

    asked = services.ask_completion(dossier=draft, user=officer, items=["Bản chụp giấy chứng sinh rõ nét hơn"],
                                    note="Ảnh bị mờ")
    assert (asked.state, asked.code) == (DossierState.INCOMPLETE, sent.code)
    text = flat(pdftotext(read(asked.forms.get(kind="2").file)))
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and "giấy chứng sinh rõ nét hơn" in text
    [first_message] = notifications_to(PHONE)
    assert "giấy chứng sinh rõ nét hơn" in first_message.message

    requirement = upload_ids(draft.procedure)[0]
    services.add_file(dossier=asked, user=citizen, requirement_id=requirement, upload=upload(make_pdf("Rõ nét")))
    services.submit(dossier=asked, citizen=citizen, submit_token=uuid.uuid4())
    received = services.receive(dossier=asked, user=officer)
    assert received.state == DossierState.RECEIVED and received.code == sent.code
    assert received.due_at == deadlines.appointment(received.procedure, received.received_at)
    assert not received.forms.filter(kind="1").exists() and received.form_jobs.get().kind == "1"  # a job makes it
    assert run_form_jobs() == ["succeeded"] and received.forms.filter(kind="1").count() == 1
    messages = notifications_to(PHONE)
    assert len(messages) == 2 and received.code in messages[1].message
    assert received.documents.exclude(file="").count() == len(upload_ids(draft.procedure)) + 1
    with pytest.raises(ValidationError):  # received once
        services.receive(dossier=received, user=officer)


def test_supplement_round_pauses_the_clock(draft, people):
    citizen, officer, specialist = people["citizen"], people["onestop_officer"], people["specialist"]
    upload_all(draft, citizen)
    services.submit(dossier=draft, citizen=citizen, submit_token=uuid.uuid4())
    dossier = services.receive(dossier=draft, user=officer)
    dossier = services.hand_over(dossier=dossier, user=officer, to_user_id=specialist.pk)
    # Move the receipt ten days back, so that the pause below covers working time before the
    # appointment (the clock counts working time only).
    received_at = dossier.received_at - datetime.timedelta(days=10)
    original = deadlines.appointment(dossier.procedure, received_at)
    Dossier.objects.filter(pk=dossier.pk).update(received_at=received_at, due_at=original, original_due_at=original)
    dossier.refresh_from_db()

    dossier = services.request_supplement(dossier=dossier, user=specialist, items=["Bản sao giấy đăng ký kết hôn"],
                                          reason="Cần xác định quan hệ cha, mẹ")
    assert dossier.state == DossierState.SUPPLEMENT
    pause = SupplementPause.objects.get(dossier=dossier)
    assert pause.ended_at is None and pause.items == ["Bản sao giấy đăng ký kết hôn"]
    text = flat(pdftotext(read(dossier.forms.get(kind="2").file)))
    assert "Bản sao giấy đăng ký kết hôn" in text and "tạm dừng" in text
    assert "Bản sao giấy đăng ký kết hôn" in notifications_to(PHONE)[-1].message
    assert not selectors.overdue().filter(pk=dossier.pk).exists()  # the clock is stopped
    # The supplement was requested two hours after the receipt.
    SupplementPause.objects.filter(pk=pause.pk).update(started_at=received_at + datetime.timedelta(hours=2))

    with pytest.raises(ValidationError) as no_file:  # the citizen says it arrived, but sent nothing
        services.supplement_arrived(dossier=dossier, user=citizen)
    assert "file" in no_file.value.message_dict
    services.add_file(dossier=dossier, user=citizen, requirement_id=None, upload=upload(make_pdf("Đăng ký kết hôn")))
    dossier = services.supplement_arrived(dossier=dossier, user=citizen, note="Đã gửi bản sao")
    pause.refresh_from_db()
    assert pause.ended_at is not None and dossier.state == DossierState.IN_PROGRESS
    assert dossier.due_at == deadlines.appointment(dossier.procedure, received_at, [(pause.started_at, pause.ended_at)])
    assert dossier.due_at > original and dossier.due_at > pause.ended_at and dossier.original_due_at == original
    assert dossier.documents.filter(is_supplement=True).count() == 1
    assert [e.kind for e in dossier.events.order_by("at", "pk")][-2:] == ["supplement_requested", "supplement_received"]


def test_withdraw_before_receipt_only(draft, people):
    withdrawn = services.withdraw(dossier=draft, citizen=people["citizen"])
    assert withdrawn.state == DossierState.WITHDRAWN
    with pytest.raises(ValidationError):
        services.withdraw(dossier=draft, citizen=people["citizen"])
