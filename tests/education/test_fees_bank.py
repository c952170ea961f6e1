"""The bank's signed notification of a school fee transfer (``POST /api/v1/education/fees/
bank-notification/``): signed under the commune's secret of its own label ("education-fees"), the
commune named, the invoice found by its code in the purpose; paid only for exactly what remains,
once per transaction id (a replay gets the first answer), and once per invoice even when two
notifications arrive at the same moment."""
from __future__ import annotations

import datetime
import hashlib
import hmac
import json

import pytest

pytestmark = pytest.mark.django_db(transaction=False)

URL = "/api/v1/education/fees/bank-notification/"
MASTER = "school-fees-test-master"
SECRET = hmac.new(MASTER.encode(), b"education-fees:04630", hashlib.sha256).hexdigest()  # Tú Lệ's
DESK_SECRET = hmac.new(MASTER.encode(), b"xaso.bank-notifications:04630", hashlib.sha256).hexdigest()


@pytest.fixture
def invoices(tule, in_commune, schoolyard, school_people, settings):
    from education import fees
    from education.models import Invoice

    settings.XASO_BANK_WEBHOOK_SECRET = MASTER
    y = schoolyard
    with in_commune(tule):
        assert fees.commune_secret(tule) == SECRET
        fees.save_fee_item(school_people["accountant"], y["thcs"], semester=y["sem1"], name="Bảo hiểm y tế học sinh",
                           amount=442_260, grades=[6], due_on=datetime.date(2026, 10, 15))
        fees.issue_invoices(y["thcs"], y["sem1"])
        yield list(Invoice.objects.order_by("code"))


def body(invoice=None, **overrides) -> bytes:
    data = {"commune": "04630", "transaction_id": "FT2610150001", "amount": 442_260,
            "purpose": f"NOP TIEN {invoice.code}" if invoice else "NOP TIEN", "account": "1234567890123",
            "paid_at": "2026-10-15T09:30:00+07:00"}
    data.update(overrides)
    return json.dumps(data).encode()


def post(client, raw: bytes, secret: str | None = SECRET):
    headers = {}
    if secret is not None:
        headers["HTTP_X_XASO_SIGNATURE"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post(URL, raw, content_type="application/json", **headers)


def test_paid_once_with_a_receipt_and_a_replay_gets_the_same_answer(invoices, client_for, tule, in_commune):
    from education.models import FeeNotification, FeePayment, Invoice

    client = client_for("tule.localhost")
    invoice = invoices[0]
    raw = body(invoice, purpose=f"Phu huynh Lo Van An lop 6A {invoice.code.replace('-', '')} chuyen tien")
    first = post(client, raw)
    assert first.status_code == 200, first.content
    school = invoice.school_id
    assert first.json() == {"status": "paid", "invoice": invoice.code, "receipt": f"BL26{school}-000001",
                            "amount": 442_260}
    replay = post(client, raw)
    assert replay.status_code == 200 and replay.json() == first.json()
    with in_commune(tule):
        payment = FeePayment.objects.get()
        assert (payment.method, payment.transaction_id, payment.amount) == ("bank", "FT2610150001", 442_260)
        assert payment.received_at == datetime.datetime(2026, 10, 15, 2, 30, tzinfo=datetime.UTC)
        paid = Invoice.objects.get(pk=invoice.pk)
        assert paid.state == "paid" and paid.paid_at == payment.received_at
        assert FeeNotification.objects.get().outcome == "paid"


def test_signature_label_commune_and_body(invoices, client_for, tule, in_commune, settings):
    from education.models import FeeNotification, FeePayment

    client = client_for("tule.localhost")
    raw = body(invoices[0])
    for secret in (None, "wrong", DESK_SECRET):  # the one-stop desk's secret cannot pay a school fee
        refused = post(client, raw, secret=secret)
        assert refused.status_code == 403
        assert refused.json()["code"] == "bad_signature" and set(refused.json()) == {"code", "detail", "fields"}
        assert refused.json()["detail"] == "Chữ ký của thông báo không hợp lệ."
    tampered = body(invoices[0], amount=1)
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert client.post(URL, tampered, content_type="application/json",
                       HTTP_X_XASO_SIGNATURE=signature).status_code == 403
    other = post(client, body(invoices[0], commune="04627"))
    assert other.status_code == 400 and other.json()["code"] == "wrong_commune"
    unnamed = post(client, body(invoices[0], commune=""))
    assert unnamed.status_code == 400 and unnamed.json()["code"] == "wrong_commune"
    for bad in (b"not json", b"[]", body(invoices[0], amount=-1), body(invoices[0], transaction_id=""),
                body(invoices[0], paid_at="15/10/2026")):
        response = post(client, bad)
        assert response.status_code == 400 and response.json()["code"] == "invalid", bad
    settings.XASO_BANK_WEBHOOK_SECRET = ""
    assert post(client, raw, secret="").status_code == 403
    with in_commune(tule):
        assert not FeeNotification.objects.exists() and not FeePayment.objects.exists()


def test_mismatches_are_kept_for_the_accountant_and_pay_nothing(invoices, client_for, tule, in_commune,
                                                                 school_people):
    from education import fees
    from education.models import FeeNotification, FeePayment, Invoice

    client = client_for("tule.localhost")
    first, second, third = invoices[:3]
    wrong = post(client, body(first, transaction_id="T-AMOUNT", amount=442_000))
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "wrong_amount" and wrong.json()["invoice"] == first.code
    assert "442.260 đ" in wrong.json()["detail"]
    assert post(client, body(first, transaction_id="T-AMOUNT", amount=442_000)).json() == wrong.json()  # replay
    unknown = post(client, body(None, transaction_id="T-UNKNOWN", purpose="HP26999-000001 hoc phi"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_invoice"
    no_code = post(client, body(None, transaction_id="T-NOCODE", purpose="tien hoc"))
    assert no_code.status_code == 404
    with in_commune(tule):
        fees.cancel_invoice(school_people["accountant"], Invoice.objects.get(pk=second.pk))
    cancelled = post(client, body(second, transaction_id="T-CANCEL"))
    assert cancelled.status_code == 409 and cancelled.json()["code"] == "invoice_cancelled"
    elsewhere = post(client, body(third, transaction_id="T-ACCOUNT", account="555666777"))
    assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "wrong_account"
    assert post(client, body(third, transaction_id="T-OK", account="1234 5678 90123")).status_code == 200
    twice = post(client, body(third, transaction_id="T-TWICE"))
    assert twice.status_code == 409 and twice.json()["code"] == "already_paid"
    with in_commune(tule):
        assert FeePayment.objects.count() == 1
        assert Invoice.objects.get(pk=first.pk).state == "unpaid"
        waiting = fees.mismatches(first.school)
        # the unknown code went to the school's account: the school's accountant sees it too
        assert sorted(waiting.values_list("transaction_id", flat=True)) == [
            "T-ACCOUNT", "T-AMOUNT", "T-CANCEL", "T-NOCODE", "T-TWICE", "T-UNKNOWN"]
        fees.resolve_mismatch(school_people["accountant"], FeeNotification.objects.get(transaction_id="T-AMOUNT"))
        assert waiting.count() == 5
        unknown_pk = FeeNotification.objects.get(transaction_id="T-UNKNOWN").pk
        cancel_pk = FeeNotification.objects.get(transaction_id="T-CANCEL").pk
    accountant = client_for("tule.localhost", school_people["accountant"])
    page = accountant.get(f"/schools/fees/invoices/{first.code}/").content.decode()
    assert "442.000 đ" in page  # the transfer of the wrong amount, on the invoice's page
    listing = accountant.get(f"/schools/fees/{first.school_id}/notifications/").content.decode()
    assert "T-UNKNOWN" in listing and "T-AMOUNT" not in listing  # dealt with: off the list
    done = accountant.post(f"/schools/fees/{first.school_id}/notifications/",
                           {"notification": unknown_pk})
    assert done.status_code == 302
    vice = client_for("tule.localhost", school_people["vice"])  # reads, does not deal with them
    assert vice.post(f"/schools/fees/{first.school_id}/notifications/",
                     {"notification": cancel_pk}).status_code == 403
    with in_commune(tule):
        assert waiting.count() == 4


def test_another_communes_invoice_code_is_unknown_here(invoices, client_for, yenhoa, in_commune, settings):
    """Yên Hòa's bank notification naming a Tú Lệ invoice: signed with Yên Hòa's secret, no such
    invoice in Yên Hòa; Tú Lệ's secret is refused on Yên Hòa's host."""
    from education import fees

    client = client_for("yenhoa.localhost")
    raw = body(invoices[0], commune=yenhoa.code)
    assert post(client, raw).status_code == 403  # Tú Lệ's secret
    answer = post(client, raw, secret=fees.commune_secret(yenhoa))
    assert answer.status_code == 404 and answer.json()["code"] == "unknown_invoice"


def test_the_command_prints_the_fees_secret(tule, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.XASO_BANK_WEBHOOK_SECRET = MASTER
    out = StringIO()
    call_command("fees_bank_webhook_secret", "04630", stdout=out)
    assert f"secret: {SECRET}" in out.getvalue() and DESK_SECRET not in out.getvalue()
    assert "/api/v1/education/fees/bank-notification/" in out.getvalue()
