"""Bank notifications of order payments (/api/v1/ocop/bank-notifications/): HMAC-SHA256 over the
raw body under the commune's marketplace secret, whose label differs from the one-stop desk's; a
replay answers duplicate and records nothing, a bad signature is refused, a wrong amount or an
unknown order is kept and pays nothing, a good one pays the order through the services."""
from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from django.core.management import call_command

from ecommerce import payments

MASTER = "bi-mat-ngan-hang-cho-don-hang-2026"
URL = "/api/v1/ocop/bank-notifications/"
HOST = "tule.localhost"
# Tú Lệ's marketplace secret, derived here independently of the code under test.
SECRET = hmac.new(MASTER.encode(), b"xaso.ocop-bank-notifications:04630", hashlib.sha256).hexdigest()
DESK_SECRET = hmac.new(MASTER.encode(), b"xaso.bank-notifications:04630", hashlib.sha256).hexdigest()


@pytest.fixture
def confirmed(market, tule, in_commune, settings):
    from ecommerce import services

    settings.XASO_BANK_WEBHOOK_SECRET = MASTER
    with in_commune(tule):
        order = services.place_order(lines=[(market["rice"], 2)], buyer_name="Lường Thị Hoa", buyer_phone="0987654321",
                                     delivery_address="Bản Lìm")
        order = services.confirm_order(market["seller"], order)
    return order


def body(order=None, **overrides) -> bytes:
    data = {"commune": "04630", "transaction_id": "FT26100100001", "amount": 120000,
            "purpose": f"DH {order.code}" if order is not None else "DH", "account": "000004630001",
            "paid_at": "2026-05-02T10:15:00+07:00"}
    data.update(overrides)
    return json.dumps(data).encode()


def post(client, raw: bytes, secret: str | None = SECRET, signature: str | None = None):
    if signature is None and secret is not None:
        signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"HTTP_X_XASO_SIGNATURE": signature} if signature is not None else {}
    return client.post(URL, raw, content_type="application/json", **headers)


def state(tule, in_commune, order):
    from ecommerce.models import BankNotification, Order, OrderPayment

    with in_commune(tule):
        return (Order.objects.get(pk=order.pk).state, OrderPayment.objects.filter(order_id=order.pk).count(),
                list(BankNotification.objects.order_by("pk").values_list("transaction_id", "outcome")))


def test_the_secret_is_the_marketplaces_own(confirmed, tule):
    assert payments.commune_secret(tule) == SECRET != DESK_SECRET
    out = io.StringIO()
    call_command("ocop_bank_webhook_secret", tule.code, stdout=out)
    text = out.getvalue()
    assert f"secret: {SECRET}" in text and MASTER not in text and "/api/v1/ocop/bank-notifications/" in text


def test_a_signed_notification_pays_the_order_once(confirmed, client_for, tule, in_commune):
    from ecommerce.models import OrderPayment
    from notifications.models import Notification

    client = client_for(HOST)
    raw = body(confirmed)
    first = post(client, raw)
    assert first.status_code == 200 and first.json() == {"status": "recorded", "order": confirmed.code}
    replay = post(client, raw)
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert state(tule, in_commune, confirmed) == ("paid", 1, [("FT26100100001", "recorded")])
    with in_commune(tule):
        payment = OrderPayment.objects.get(order_id=confirmed.pk)
        assert (payment.amount, payment.source, payment.transaction_id, payment.recorded_by_id) == (
            120000, "bank", "FT26100100001", None)
        assert payment.paid_at.isoformat() == "2026-05-02T03:15:00+00:00"
        event = confirmed.events.get(kind="paid")
        assert event.note == "Thông báo của ngân hàng" or event.note == "Bank notification"
        # The buyer is told, in the same transaction, by a job.
        told = Notification.objects.get(pk=event.notification_id)
        assert told.recipients == ["0987654321"] and "120.000 đ" in told.message and confirmed.code in told.message


@pytest.mark.parametrize("purpose", ["DH{code}", "dh {code}", "CHUYEN TIEN DH {code} LUONG THI HOA", "{code}",
                                     "MBVCB.123.DH-{code}.CT tu 0987654321"])
def test_the_order_code_is_found_in_the_purposes_banks_write(purpose, confirmed, client_for, tule, in_commune):
    response = post(client_for(HOST), body(confirmed, purpose=purpose.format(code=confirmed.code)))
    assert response.json()["status"] == "recorded", purpose
    assert state(tule, in_commune, confirmed)[0] == "paid"


def test_a_bad_signature_is_refused_and_records_nothing(confirmed, client_for, tule, in_commune):
    client = client_for(HOST)
    raw = body(confirmed)
    for response in (post(client, raw, signature="0" * 64), post(client, raw, secret=None),
                     post(client, raw, secret=DESK_SECRET),  # the desk's secret pays no order
                     post(client, raw, signature=hmac.new(SECRET.encode(), raw + b" ", hashlib.sha256).hexdigest())):
        assert response.status_code == 403 and response.json()["code"] == "bad_signature"
        assert set(response.json()) == {"code", "detail", "fields"}
    assert state(tule, in_commune, confirmed) == ("confirmed", 0, [])
    # The desk's endpoint refuses the marketplace's secret just the same.
    desk = client_for(HOST).post("/api/v1/onestop/bank-notifications/", raw, content_type="application/json",
                                 HTTP_X_XASO_SIGNATURE=hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest())
    assert desk.status_code == 403


def test_without_an_installation_secret_everything_is_refused(confirmed, client_for, settings, tule, in_commune):
    settings.XASO_BANK_WEBHOOK_SECRET = ""
    response = post(client_for(HOST), body(confirmed), secret="")
    assert response.status_code == 403
    assert post(client_for(HOST), body(confirmed), signature="").status_code == 403
    assert state(tule, in_commune, confirmed) == ("confirmed", 0, [])


def test_what_pays_nothing_is_kept_with_its_outcome(confirmed, market, client_for, tule, in_commune):
    from ecommerce import services

    client = client_for(HOST)
    wrong_amount = post(client, body(confirmed, transaction_id="T-1", amount=100000))
    assert wrong_amount.json()["status"] == "wrong_amount" and "120.000" in wrong_amount.json()["detail"]
    unknown = post(client, body(confirmed, transaction_id="T-2", purpose="DH QQQQQQQQ"))
    assert unknown.json() == {"status": "unmatched", "detail": "Không tìm thấy mã đơn hàng trong nội dung chuyển khoản."}
    no_code = post(client, body(confirmed, transaction_id="T-3", purpose="ung ho"))
    assert no_code.json()["status"] == "unmatched"
    other_account = post(client, body(confirmed, transaction_id="T-4", account="999999999"))
    assert other_account.json()["status"] == "wrong_account"
    with in_commune(tule):
        placed = services.place_order(lines=[(market["rice"], 2)], buyer_name="B", buyer_phone="0987111222",
                                      delivery_address="Bản")
    too_early = post(client, body(placed, transaction_id="T-5"))
    assert too_early.json()["status"] == "not_payable" and too_early.json()["order"] == placed.code
    assert state(tule, in_commune, confirmed) == ("confirmed", 0, [
        ("T-1", "wrong_amount"), ("T-2", "unmatched"), ("T-3", "unmatched"), ("T-4", "wrong_account"),
        ("T-5", "not_payable")])
    # The producer sees them on the order's page.
    page = client_for(HOST, market["seller"]).get(f"/ocop/orders/{confirmed.pk}/").content.decode()
    assert "T-1" in page and "Không đúng tổng tiền đơn hàng" in page and "T-4" in page
    # The same transaction sent again, now right, is still a duplicate: a transaction counts once.
    assert post(client, body(confirmed, transaction_id="T-1")).json() == {"status": "duplicate"}
    assert post(client, body(confirmed, transaction_id="T-6")).json()["status"] == "recorded"
    already = post(client, body(confirmed, transaction_id="T-7"))
    assert already.json()["status"] == "not_payable"
    assert state(tule, in_commune, confirmed)[:2] == ("paid", 1)


def test_a_notification_for_another_commune_records_nothing(confirmed, client_for, yenhoa, tule, in_commune):
    client = client_for(HOST)
    elsewhere = post(client, body(confirmed, commune=yenhoa.code))
    assert elsewhere.status_code == 400 and elsewhere.json()["code"] == "wrong_commune"
    anonymous_account = post(client, body(confirmed, commune="", account="123123123"))
    assert anonymous_account.status_code == 400
    by_account = post(client, body(confirmed, commune="", account="0000 0463 0001", transaction_id="T-9"))
    assert by_account.json()["status"] == "recorded"
    # Tú Lệ's secret means nothing on Yên Mô's host.
    yenhoa_secret = payments.commune_secret(yenhoa)
    on_yenhoa = post(client_for("yenhoa.localhost"), body(confirmed, commune=yenhoa.code, transaction_id="T-10"))
    assert on_yenhoa.status_code == 403
    assert post(client_for("yenhoa.localhost"), body(confirmed, commune=yenhoa.code, transaction_id="T-10"),
                secret=yenhoa_secret).json()["status"] == "unmatched"
    assert state(tule, in_commune, confirmed)[2] == [("T-9", "recorded")]


@pytest.mark.parametrize("raw", [
    b"", b"not json", b"[1, 2]", b'"text"', b"{}", b'{"transaction_id": "", "amount": 1, "purpose": "x"}',
    b'{"transaction_id": "T", "amount": "mot tram", "purpose": "x"}',
    b'{"transaction_id": "T", "amount": -5, "purpose": "x"}',
    b'{"transaction_id": "T", "amount": true, "purpose": "x"}',
    b'{"transaction_id": "T", "amount": 1, "purpose": 5}',
    b'{"transaction_id": "T", "amount": 1, "purpose": "x", "paid_at": "2026-13-45T99:00:00"}',
    b'{"transaction_id": "T", "amount": 1, "purpose": "x", "paid_at": "hom qua"}',
    b'{"transaction_id": "T", "amount": 1, "purpose": "x", "commune": {"a": 1}}',
    b"\xff\xfe\x00",
    b'{"a": ' * 200 + b"1" + b"}" * 200,
    json.dumps({"transaction_id": "T", "amount": 1, "purpose": "x" * 20000}).encode(),
])
def test_bad_bodies_are_refused_without_an_error(raw, confirmed, client_for, tule, in_commune):
    response = post(client_for(HOST), raw)
    assert response.status_code == 400, (raw[:60], response.status_code, response.content[:200])
    assert set(response.json()) == {"code", "detail", "fields"}
    assert state(tule, in_commune, confirmed)[2] == []


def test_not_on_the_national_host(confirmed, client_for):
    raw = body(confirmed)
    assert post(client_for("localhost"), raw).status_code == 404
    assert client_for(HOST).get(URL).status_code == 405
