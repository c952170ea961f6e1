"""Twenty buyers order at once more than the stock, through the real pages of a live server (each
request thread on its own database connection), then the producer confirms them all at once:
the stock never goes below zero, exactly the available quantity is confirmed, and the others are
told clearly (the producer by the refusal, the buyers by the cancellation with its reason, a new
buyer by the sold-out product page)."""
from __future__ import annotations

import re
import threading

import pytest
import requests
from django.contrib.sessions.models import Session
from django.db import connection
from django_tenants.utils import tenant_context

from tests.browser import live_server
from tests.conftest import host_client
from tests.ecommerce.orders_live import committed_shop

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("celery")]

BUYERS = 20
STOCK = 7
HOST = "tule.localhost"


class Browser:
    """A buyer's or a producer's browser: cookies kept, the commune's host named in each request."""

    def __init__(self, port: int, sessionid: str | None = None):
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        self.http.headers["Host"] = f"{HOST}:{port}"
        if sessionid:
            self.http.cookies.set("sessionid", sessionid)

    def get(self, path: str):
        response = self.http.get(self.base + path, allow_redirects=False, timeout=60)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict):
        data = {**data, "csrfmiddlewaretoken": self.csrf}
        return self.http.post(self.base + path, data=data, allow_redirects=False, timeout=60)


def form_token(text: str) -> str:
    return re.search(r'name="submit_token" value="([0-9a-f-]+)"', text).group(1)


def run_together(count: int, work):
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index):
        try:
            results[index] = work(index, barrier)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def test_twenty_buyers_order_more_than_the_stock(live_db, celery_broker):
    from ecommerce import services
    from ecommerce.models import Order, OrderState, Product

    codes: list[str] = []
    try:
        with committed_shop(stock=STOCK, price=50_000) as shop:
            product, tule = shop["product"], shop["commune"]
            seller_session = host_client(HOST, shop["seller"]).cookies["sessionid"].value
            connection.set_schema_to_public()
            with live_server() as port:
                # Twenty buyers open the form, then send it at the same moment.
                def order(index, barrier):
                    buyer = Browser(port)
                    page = buyer.get(f"/dat-hang/{product.slug}/")
                    assert page.status_code == 200
                    data = {"quantity": "1", "buyer_name": f"Người mua {index}", "buyer_phone": f"09871{index:05d}",
                            "delivery_address": f"Nhà {index}, bản Lìm", "submit_token": form_token(page.text)}
                    barrier.wait()
                    sent = buyer.post(f"/dat-hang/{product.slug}/", data)
                    again = buyer.post(f"/dat-hang/{product.slug}/", data)  # a double click
                    assert sent.status_code == again.status_code == 302 and sent.headers["Location"] == again.headers["Location"]
                    code = sent.headers["Location"].split("/")[2]
                    return buyer, code

                placed = run_together(BUYERS, order)
                codes[:] = [code for _buyer, code in placed]
                assert len(set(codes)) == BUYERS  # one order each, the double clicks made none
                with tenant_context(tule):
                    orders = {o.code: o for o in Order.objects.filter(code__in=codes)}
                    assert len(orders) == BUYERS and Product.objects.get(pk=product.pk).stock == STOCK
                connection.set_schema_to_public()

                # The producer confirms the twenty at once (twenty requests of one session, say from
                # the producer's phone and the cooperative's computer).
                def confirm(index, barrier):
                    producer = Browser(port, seller_session)
                    pk = orders[codes[index]].pk
                    assert producer.get(f"/ocop/orders/{pk}/").status_code == 200
                    barrier.wait()
                    return producer.post(f"/ocop/orders/{pk}/confirm/", {})

                answers = run_together(BUYERS, confirm)
                statuses = sorted(answer.status_code for answer in answers)
                assert statuses == [302] * STOCK + [409] * (BUYERS - STOCK), statuses
                refused = [answer for answer in answers if answer.status_code == 409]
                for answer in refused:
                    assert "Không đủ hàng" in answer.text and "đặt 1 kg, còn 0" in answer.text
                    assert "hủy đơn kèm lý do" in answer.text  # what to do about it
                with tenant_context(tule):
                    assert Product.objects.get(pk=product.pk).stock == 0
                    states = list(Order.objects.filter(code__in=codes).values_list("state", flat=True))
                    assert states.count(OrderState.CONFIRMED) == STOCK
                    assert states.count(OrderState.PLACED) == BUYERS - STOCK
                    waiting = list(Order.objects.filter(code__in=codes, state=OrderState.PLACED))
                    for left_out in waiting:
                        services.cancel_order(shop["seller"], left_out, "Hết hàng: đã bán hết số gạo của vụ này.")
                    assert Product.objects.get(pk=product.pk).stock == 0
                connection.set_schema_to_public()

                # Each buyer's page says where their order stands; the ones left out read why.
                cancelled = {o.code for o in waiting}
                for buyer, code in placed:
                    page = buyer.get(f"/don-hang/{code}/")
                    assert page.status_code == 200
                    if code in cancelled:
                        assert "Đã hủy" in page.text and "Hết hàng: đã bán hết số gạo của vụ này." in page.text
                    else:
                        assert 'id="vietqr"' in page.text and "50.000 đ" in page.text
                # A buyer who comes now finds the product sold out, and an old form is refused clearly.
                late = Browser(port)
                assert "Sản phẩm này tạm hết hàng" in late.get(f"/dat-hang/{product.slug}/").text
                stale = placed[0][0].post(f"/dat-hang/{product.slug}/", {
                    "quantity": "1", "buyer_name": "Muộn", "buyer_phone": "0987199999", "delivery_address": "Bản",
                    "submit_token": "6f1c2a4e-0c1b-4e8a-9d4e-0c0ca0000001"})
                assert stale.status_code == 200 and "Sản phẩm này tạm hết hàng" in stale.text
    finally:
        connection.set_schema_to_public()
        for session in Session.objects.all():  # the buyers' sessions (guests: no account to clean up)
            if set(session.get_decoded().get("ocop_orders") or []) & set(codes):
                session.delete()
