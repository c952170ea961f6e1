"""An order end to end in Chromium on 360 px phones, with a real Celery worker sending the SMS to
the (fake) gateway: a guest orders; the producer confirms from the phone; the VietQR appears on
the buyer's page and its image, read back by zbar (not the library that drew it), holds a payload
that passes a TLV and CRC check written here; the bank's signed notification pays the order; the
producer ships it and marks it delivered. The buyer gets an SMS at each step, the producer one
at placing. Committed rows (the live server, the worker and Chromium have connections of their
own), removed afterwards."""
from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import tempfile

import pytest
import requests
from django.db import connection
from django_tenants.utils import schema_context

from tests.browser import live_server, require_chromium
from tests.conftest import host_client
from tests.ecommerce.orders_live import TULE_SCHEMA, committed_shop
from tests.jobs.helpers import wait_for

pytestmark = [pytest.mark.celery, pytest.mark.xdist_group("celery")]

HOST = "tule.localhost"
MASTER = "bi-mat-ngan-hang-trinh-duyet-2026"
BUDGET = 150 * 1024  # bytes of a public page's first load, without photos
BUYER_PHONE = "0987650123"


# --- an independent reader of the VietQR payload -------------------------------------------------

def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), bit by bit."""
    crc = 0xFFFF
    for byte in data:
        for bit in range(7, -1, -1):
            top = (crc >> 15) & 1
            crc = (crc << 1) & 0xFFFF
            if top ^ ((byte >> bit) & 1):
                crc ^= 0x1021
    return crc


def tlv(text: str) -> dict:
    """ID (2 digits) + length (2 digits) + value, to the end; a length that overruns fails."""
    fields, index = {}, 0
    while index < len(text):
        tag, length = text[index:index + 2], int(text[index + 2:index + 4])
        value = text[index + 4:index + 4 + length]
        assert len(value) == length, f"field {tag} is cut"
        fields[tag] = value
        index += 4 + length
    return fields


def check_vietqr(payload: str) -> dict:
    assert crc16(b"123456789") == 0x29B1  # the CRC's check value
    assert payload[-8:-4] == "6304"
    assert f"{crc16(payload[:-4].encode('ascii')):04X}" == payload[-4:], "wrong CRC"
    top = tlv(payload)
    merchant = tlv(top["38"])
    return {"top": top, "merchant": merchant, "account": tlv(merchant["01"]), "extra": tlv(top["62"])}


def decode_qr(png: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".png") as image:
        image.write(png)
        image.flush()
        out = subprocess.run(["zbarimg", "--quiet", "--raw", image.name], capture_output=True, text=True, check=True)
    return out.stdout.strip()


# --- the phones ----------------------------------------------------------------------------------

class Meter:
    """Bytes received by the page, as Chromium counts them on the wire (cache disabled)."""

    def __init__(self, page):
        self.sizes: dict[str, int] = {}
        session = page.context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        session.on("Network.loadingFinished", lambda event: self.sizes.__setitem__(
            event["requestId"], int(event["encodedDataLength"])))

    def reset(self):
        self.sizes.clear()

    @property
    def total(self) -> int:
        return sum(self.sizes.values())


@pytest.fixture
def phones(browser):
    contexts = []

    def open_phone(sessionid: str | None = None):
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
        if sessionid:
            context.add_cookies([{"name": "sessionid", "value": sessionid, "domain": HOST, "path": "/"}])
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.console_errors = errors
        page.meter = Meter(page)
        contexts.append(context)
        return page

    yield open_phone
    for context in contexts:
        context.close()


def fits(page, *, budget: int | None = None) -> None:
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "vi"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"
    assert page.console_errors == []
    if budget is not None:
        assert 0 < page.meter.total <= budget, f"{page.url} transferred {page.meter.total} bytes"
        print(f"{page.url}: {page.meter.total} bytes, {width} px")


def sms_of(order_code: str, kind: str) -> tuple[str, str]:
    """(idempotency key, recipient) of the SMS job that told the buyer of ``kind``."""
    from ecommerce.models import OrderEvent
    from notifications.models import Notification

    with schema_context(TULE_SCHEMA):
        event = OrderEvent.objects.get(order__code=order_code, kind=kind)
        job = Notification.objects.get(pk=event.notification_id)
        return job.idempotency_key, job.recipients[0]


def wait_for_sms(gateway, key: str, phone: str) -> None:
    wait_for(lambda: gateway.effects_for(key), timeout=60, message=f"the SMS {key}")
    assert gateway.effects_for(key) == {f"{key}:0": phone}


def test_an_order_from_placing_to_delivery_on_phones(live_db, worker, gateway, phones, settings):
    require_chromium()
    settings.XASO_BANK_WEBHOOK_SECRET = MASTER
    from ecommerce.models import Order
    from notifications.models import Notification

    with committed_shop(stock=10, price=60_000) as shop:
        seller_session = host_client(HOST, shop["seller"]).cookies["sessionid"].value
        connection.set_schema_to_public()
        product = shop["product"]
        with live_server() as port:
            base = f"http://{HOST}:{port}"
            # 1. A guest orders on a 360 px phone.
            buyer = phones()
            buyer.goto(f"{base}/dat-hang/{product.slug}/")
            fits(buyer, budget=BUDGET)
            buyer.fill("#id_quantity", "2")
            buyer.fill("#id_buyer_name", "Lường Thị Hoa")
            buyer.fill("#id_buyer_phone", "0987 650 123")
            buyer.fill("#id_delivery_address", "Bản Lìm, xã Tú Lệ, Yên Bái")
            buyer.click("#order-form button[type=submit]")
            buyer.wait_for_url("**/da-dat/")
            fits(buyer)
            code = buyer.locator("#order-code").inner_text().strip()
            assert "120.000 đ" in buyer.locator(".panel-confirm").inner_text()
            assert buyer.locator("#vietqr").count() == 0
            assert "Chưa chuyển tiền" in buyer.locator("#payment").inner_text()
            wait_for_sms(gateway, sms_of(code, "placed")[0], BUYER_PHONE)
            with schema_context(TULE_SCHEMA):
                producer_job = Notification.objects.get(recipients=["0912000333"], message__contains=code)
            wait_for_sms(gateway, producer_job.idempotency_key, "0912000333")

            # 2. The producer confirms from the phone, through the list the inbox opens.
            seller = phones(seller_session)
            seller.goto(f"{base}/ocop/orders/?state=placed")
            fits(seller)
            seller.click(f"#order-list a[data-code='{code}']")
            seller.click("#action-confirm")
            seller.wait_for_selector(".messages li")
            assert "Đã xác nhận đơn hàng" in seller.locator(".messages").inner_text()
            fits(seller)
            wait_for_sms(gateway, sms_of(code, "confirmed")[0], BUYER_PHONE)

            # 3. The buyer's page now shows the VietQR; zbar reads it, and the payload checks out.
            buyer.goto(f"{base}/don-hang/{code}/")
            buyer.meter.reset()
            buyer.reload()
            fits(buyer, budget=BUDGET)
            assert buyer.locator("#vietqr").is_visible()
            assert buyer.evaluate("document.getElementById('vietqr').naturalWidth") > 0  # the image loaded
            # What the buyer's bank app would scan: the code as the phone shows it.
            fields = check_vietqr(decode_qr(buyer.locator("#vietqr").screenshot()))
            assert fields["top"]["01"] == "12" and fields["top"]["53"] == "704" and fields["top"]["58"] == "VN"
            assert fields["top"]["54"] == "120000"
            assert fields["merchant"]["00"] == "A000000727" and fields["merchant"]["02"] == "QRIBFTTA"
            assert fields["account"] == {"00": "970405", "01": "000004630099"}
            assert fields["extra"]["08"] == f"DH {code}"
            assert f"DH {code}" in buyer.locator("#transfer-purpose").inner_text()

            # 4. The bank's signed notification pays the order.
            raw = json.dumps({"commune": "04630", "transaction_id": f"LIVE-{shop['tag']}-1", "amount": 120000,
                              "purpose": f"DH {code} LUONG THI HOA CHUYEN KHOAN", "account": "000004630099"}).encode()
            secret = hmac.new(MASTER.encode(), b"xaso.ocop-bank-notifications:04630", hashlib.sha256).hexdigest()
            signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            answer = requests.post(f"http://127.0.0.1:{port}/api/v1/ocop/bank-notifications/", data=raw, timeout=30,
                                   headers={"Host": f"{HOST}:{port}", "Content-Type": "application/json",
                                            "X-Xaso-Signature": signature})
            assert answer.status_code == 200 and answer.json() == {"status": "recorded", "order": code}
            wait_for_sms(gateway, sms_of(code, "paid")[0], BUYER_PHONE)
            buyer.reload()
            assert buyer.locator("#order-state").get_attribute("data-state") == "paid"
            assert buyer.locator("#vietqr").count() == 0

            # 5. The producer ships, then marks it delivered.
            seller.reload()
            seller.fill("#id_shipping_note", "Viettel Post VD123456789")
            seller.click("#action-ship")
            seller.wait_for_selector("#action-deliver")
            fits(seller)
            wait_for_sms(gateway, sms_of(code, "shipped")[0], BUYER_PHONE)
            seller.click("#action-deliver")
            seller.wait_for_selector(".messages li")
            assert "Đã giao" in seller.locator(".messages").inner_text()
            wait_for_sms(gateway, sms_of(code, "delivered")[0], BUYER_PHONE)

            buyer.meter.reset()
            buyer.reload()
            fits(buyer, budget=BUDGET)
            assert buyer.locator("#order-state").get_attribute("data-state") == "delivered"
            steps = buyer.locator("#order-events li").all_inner_texts()
            assert len(steps) == 5 and "Viettel Post VD123456789" in steps[3]
            with schema_context(TULE_SCHEMA):
                order = Order.objects.get(code=code)
                assert order.state == "delivered" and order.payments.get().source == "bank"
                # One SMS to the buyer per step, each delivered once.
                jobs = Notification.objects.filter(recipients=[BUYER_PHONE], message__contains=code)
                assert jobs.count() == 5
            connection.set_schema_to_public()
        from django.contrib.sessions.models import Session

        for session in Session.objects.all():
            if code in (session.get_decoded().get("ocop_orders") or []):
                session.delete()
