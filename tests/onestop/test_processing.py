"""Processing: hand-overs between steps (who may do them, to whom), form 4 (a new date that does
not move the appointment), form 5, the fee paid at the desk with its receipt, the return, and
the work lists."""
from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from onestop import selectors, services
from onestop.models import DossierState, Payment, SupplementPause
from workcalendar.services import add_working_days

from .conftest import flat, pdftotext
from .helpers import PHONE, notifications_to, read, received_dossier


@pytest.fixture
def dossier(procedures, people):
    return received_dossier(procedures["HT-04"], people["onestop_officer"])


def test_hand_over_follows_the_steps_and_their_roles(dossier, people):
    officer, specialist, specialist2 = people["onestop_officer"], people["specialist"], people["specialist2"]
    with pytest.raises(PermissionDenied):  # the receive step is the officer's
        services.hand_over(dossier=dossier, user=specialist)
    with pytest.raises(ValidationError) as not_allowed:  # the process step is not the chairman's
        services.hand_over(dossier=dossier, user=officer, to_user_id=people["chairman"].pk)
    assert "to_user" in not_allowed.value.message_dict
    with pytest.raises(ValidationError):
        services.hand_over(dossier=dossier, user=officer, to_user_id=people["citizen"].pk)

    dossier = services.hand_over(dossier=dossier, user=officer, to_user_id=specialist.pk, note="Hồ sơ đủ")
    assert dossier.state == DossierState.IN_PROGRESS
    assert (dossier.current_step.kind, dossier.current_handler_id) == ("process", specialist.pk)
    assert list(selectors.my_steps(specialist)) == [dossier]
    assert not selectors.my_steps(specialist2).exists()
    with pytest.raises(PermissionDenied):  # handed to someone else
        services.hand_over(dossier=dossier, user=specialist2)
    dossier = services.hand_over(dossier=dossier, user=specialist)  # to anyone holding the next role
    assert (dossier.current_step.kind, dossier.current_handler_id) == ("approve", None)
    assert dossier.result_pdf  # rendered on entering the approval
    text = flat(pdftotext(read(dossier.result_pdf)))
    assert "Lò Văn Thành" in text and "CHỦ TỊCH" in text  # the chairman by default
    assert dossier in selectors.my_steps(people["vice_chairman"])
    event = dossier.events.order_by("-at", "-pk").first()
    assert (event.kind, event.from_step.kind, event.to_step.kind, event.to_user_id) == ("handover", "process",
                                                                                       "approve", None)


def test_prepare_result_renders_number_and_details(dossier, people):
    dossier = services.hand_over(dossier=dossier, user=people["onestop_officer"], to_user_id=people["specialist"].pk)
    with pytest.raises(PermissionDenied):
        services.prepare_result(dossier=dossier, user=people["onestop_officer"], result_number="1")
    dossier = services.prepare_result(dossier=dossier, user=people["specialist"], result_number="07/2026/TLKH",
                                      data={"ghi_chu": "Cấp lần đầu"})
    assert dossier.result_number == "07/2026/TLKH" and dossier.result_data == {"ghi_chu": "Cấp lần đầu"}
    assert "07/2026/TLKH" in flat(pdftotext(read(dossier.result_pdf)))
    with pytest.raises(ValidationError):
        services.prepare_result(dossier=dossier, user=people["specialist"], data={"bad key": "x"})


def test_extension_issues_form_4_and_never_moves_the_appointment(dossier, people):
    due = dossier.due_at
    new_date = add_working_days(due, 5)
    with pytest.raises(PermissionDenied):
        services.extend(dossier=dossier, user=people["specialist"], new_due_at=new_date, reason="x")
    with pytest.raises(ValidationError) as earlier:
        services.extend(dossier=dossier, user=people["onestop_officer"], new_due_at=timezone.localdate(),
                        reason="Cần xác minh")
    assert "new_due_at" in earlier.value.message_dict
    with pytest.raises(ValidationError) as no_reason:
        services.extend(dossier=dossier, user=people["onestop_officer"], new_due_at=new_date, reason=" ")
    assert "reason" in no_reason.value.message_dict

    extended = services.extend(dossier=dossier, user=people["chairman"], new_due_at=new_date,
                               reason="Cần xác minh nơi cư trú của người đề nghị")
    assert extended.due_at == due and extended.original_due_at == due
    assert timezone.localtime(extended.extended_due_at).date() == new_date
    assert extended.extensions.count() == 1
    text = flat(pdftotext(read(extended.forms.get(kind="4").file)))
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text and "xác minh nơi cư trú" in text
    assert new_date.strftime("%d/%m/%Y") in text
    message = notifications_to(PHONE)[-1].message
    assert new_date.strftime("%d/%m/%Y") in message and "xác minh nơi cư trú" in message


def test_stop_issues_form_5_and_ends_an_open_pause(dossier, people):
    dossier = services.request_supplement(dossier=dossier, user=people["onestop_officer"], items=["Tờ khai"])
    with pytest.raises(PermissionDenied):
        services.stop(dossier=dossier, user=people["specialist"], reason="x")
    stopped = services.stop(dossier=dossier, user=people["onestop_officer"], reason="Người nộp đề nghị dừng")
    assert stopped.state == DossierState.STOPPED and stopped.closed_reason == "Người nộp đề nghị dừng"
    assert not SupplementPause.objects.filter(dossier=dossier, ended_at__isnull=True).exists()
    text = flat(pdftotext(read(stopped.forms.get(kind="5").file)))
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text and "đề nghị dừng" in text
    messages = [n.message for n in notifications_to(PHONE)]  # receipt, supplement, stop (SMS)
    assert len(messages) == 3 and dossier.code in messages[2] and "đề nghị dừng" in messages[2]
    with pytest.raises(ValidationError):
        services.hand_over(dossier=stopped, user=people["onestop_officer"])


def test_fee_paid_at_the_desk_with_receipt(procedures, people):
    dossier = received_dossier(procedures["CT-03"], people["onestop_officer"])
    assert dossier.fee_amount == 50000
    with pytest.raises(PermissionDenied):
        services.record_payment(dossier=dossier, user=people["specialist"], method="cash")
    with pytest.raises(ValidationError) as too_much:
        services.record_payment(dossier=dossier, user=people["onestop_officer"], method="cash", amount=60000)
    assert "amount" in too_much.value.message_dict
    payment = services.record_payment(dossier=dossier, user=people["onestop_officer"], method="cash")
    assert payment.amount == 50000 and payment.receipt_number.endswith(f"/{timezone.localdate().year}")
    dossier.refresh_from_db()
    assert dossier.fee_paid_at is not None
    text = flat(pdftotext(read(dossier.forms.get(kind="fee").file)))
    assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in text and "50.000 đ" in text and payment.receipt_number in text
    with pytest.raises(ValidationError) as twice:
        services.record_payment(dossier=dossier, user=people["onestop_officer"], method="cash")
    assert services.error_code(twice.value) == "already_paid"
    assert Payment.objects.filter(dossier=dossier).count() == 1


def test_return_waits_for_the_fee(procedures, people):
    from onestop.models import Dossier

    dossier = received_dossier(procedures["CT-03"], people["onestop_officer"])
    Dossier.objects.filter(pk=dossier.pk).update(state=DossierState.RESULT_READY, completed_at=timezone.now())
    with pytest.raises(ValidationError) as unpaid:
        services.return_result(dossier=dossier, user=people["onestop_officer"])
    assert services.error_code(unpaid.value) == "not_paid" and "50.000 đ" in unpaid.value.messages[0]
    services.record_payment(dossier=dossier, user=people["onestop_officer"], method="vietqr", reference="FT26001")
    returned = services.return_result(dossier=dossier, user=people["onestop_officer"], delivery="counter")
    assert returned.state == DossierState.RETURNED


def test_worklists_by_role(dossier, people):
    officer = selectors.worklist(people["onestop_officer"])
    assert list(officer["my_steps"]) == [dossier]
    assert set(officer) >= {"online_queue", "supplements", "to_return", "overdue", "due_soon"}
    assert "to_sign" in selectors.worklist(people["chairman"])
    assert "to_seal" in selectors.worklist(people["clerk"])
    from onestop.models import Dossier

    Dossier.objects.filter(pk=dossier.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    assert list(selectors.overdue()) == [Dossier.objects.get(pk=dossier.pk)]
