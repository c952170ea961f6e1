"""Messages at each state change of an order: an SMS (and an e-mail when there is one) to the
buyer, and to the producer at placing, as notification jobs written in the change's transaction
(a change rolled back sends nothing), with links from the commune's configured address, never
the request's Host; with a real Celery worker the SMS reach the (fake) gateway."""
from __future__ import annotations

import pytest
from django.db import transaction

from tests.ecommerce.orders_live import committed_shop
from tests.jobs.helpers import TULE_SCHEMA, wait_for

HOST = "tule.localhost"


def messages_since(last: int):
    from notifications.models import Notification

    return list(Notification.objects.filter(pk__gt=last).order_by("pk"))


def last_notification() -> int:
    from notifications.models import Notification

    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_each_change_tells_the_buyer_and_placing_tells_the_producer(market, tule, in_commune):
    from ecommerce import services

    with in_commune(tule):
        start = last_notification()
        order = services.place_order(lines=[(market["rice"], 2)], buyer_name="Lường Thị Hoa", buyer_phone="0987654321",
                                     buyer_email="hoa@example.vn", delivery_address="Bản Lìm")
        placed = messages_since(start)
        assert [(m.channel, m.recipients) for m in placed] == [
            ("sms", ["0987654321"]), ("email", ["hoa@example.vn"]), ("sms", ["0912000101"])]
        buyer_sms, buyer_mail, producer_sms = placed
        assert order.code in buyer_sms.message and "120.000 đ" in buyer_sms.message and "HTX Nếp Thử" in buyer_sms.message
        assert f"http://tule.localhost/don-hang/{order.code}/" in buyer_sms.message
        assert buyer_mail.subject == f"Đã đặt đơn hàng {order.code}"
        assert "Đơn hàng mới" in producer_sms.message and "Gạo nếp Thử × 2 kg" in producer_sms.message
        assert f"http://tule.localhost/ocop/orders/{order.pk}/" in producer_sms.message
        assert "0987654321" not in producer_sms.message  # the buyer's phone stays on the producer's page
        assert order.events.get(kind="placed").notification_id == buyer_sms.pk

        start = last_notification()
        order = services.confirm_order(market["seller"], order)
        sms = messages_since(start)[0]
        assert "000004630001" in sms.message and f"DH {order.code}" in sms.message and "120.000 đ" in sms.message
        assert len(messages_since(start)) == 2  # SMS and e-mail to the buyer; nothing to the producer
        for step, change in (
            ("paid", lambda o: services.mark_paid(market["seller"], o, amount=120000)),
            ("shipped", lambda o: services.ship_order(market["seller"], o, "Viettel Post VD77")),
            ("delivered", lambda o: services.deliver_order(market["seller"], o)),
        ):
            start = last_notification()
            order = change(order)
            made = messages_since(start)
            assert [m.recipients for m in made] == [["0987654321"], ["hoa@example.vn"]], step
            assert order.code in made[0].message
            assert order.events.get(kind=step).notification_id == made[0].pk
        assert order.events.get(kind="shipped").note == "Viettel Post VD77"
        texts = [m.message for m in messages_since(0) if m.recipients == ["0987654321"]]
        assert any("đã được gửi đi" in t and "Viettel Post VD77" in t for t in texts)
        assert any("đã được giao" in t for t in texts)


def test_a_buyers_cancellation_tells_the_producer_too(market, tule, in_commune):
    from ecommerce import services

    with in_commune(tule):
        order = services.place_order(lines=[(market["rice"], 2)], buyer=market["buyer"], buyer_name="Hoàng Văn Nam",
                                     buyer_phone="0912345678", delivery_address="Bản Lìm")
        start = last_notification()
        services.cancel_order(market["buyer"], order, "Đặt nhầm")
        made = messages_since(start)
        assert [m.recipients for m in made] == [["0912345678"], ["0912000101"]]
        assert "Lý do: Đặt nhầm" in made[0].message and "Người mua đã hủy" in made[1].message
        # The producer's own cancellation tells the buyer only.
        other = services.place_order(lines=[(market["rice"], 2)], buyer_name="B", buyer_phone="0987111222",
                                     delivery_address="Bản")
        start = last_notification()
        services.cancel_order(market["seller"], other, "Hết hàng")
        assert [m.recipients for m in messages_since(start)] == [["0987111222"]]


def test_a_change_rolled_back_sends_nothing(market, tule, in_commune):
    from django.core.exceptions import ValidationError

    from ecommerce import services
    from ecommerce.models import Order

    with in_commune(tule):
        start = last_notification()
        with pytest.raises(RuntimeError), transaction.atomic():
            services.place_order(lines=[(market["rice"], 2)], buyer_name="C", buyer_phone="0987333444",
                                 delivery_address="Bản")
            assert len(messages_since(start)) == 2
            raise RuntimeError("the caller's transaction fails after placing")
        assert messages_since(start) == [] and not Order.objects.filter(buyer_phone="0987333444").exists()
        order = services.place_order(lines=[(market["rice"], 2)], buyer_name="C", buyer_phone="0987333444",
                                     delivery_address="Bản")
        services.set_stock(market["seller"], market["rice"], 1)
        start = last_notification()
        with pytest.raises(ValidationError):
            services.confirm_order(market["seller"], order)
        assert messages_since(start) == []  # refused: no message


def test_links_come_from_the_configured_address_not_the_host(market, client_for, tule, in_commune, settings):
    import re

    from communes.models import Domain

    settings.XASO_PUBLIC_SCHEME = "https"
    settings.XASO_PUBLIC_PORT = "8443"
    Domain.objects.create(domain="cho-tule.localhost", tenant=tule, is_primary=False)
    client = client_for("cho-tule.localhost")
    page = client.get(f"/dat-hang/{market['rice'].slug}/", HTTP_HOST="cho-tule.localhost:8000")
    token = re.search(r'name="submit_token" value="([0-9a-f-]+)"', page.content.decode()).group(1)
    with in_commune(tule):
        start = last_notification()
    response = client.post(f"/dat-hang/{market['rice'].slug}/", {
        "quantity": "2", "buyer_name": "Lường Thị Hoa", "buyer_phone": "0987654321", "delivery_address": "Bản Lìm",
        "submit_token": token}, HTTP_HOST="cho-tule.localhost:8000")
    assert response.status_code == 302
    with in_commune(tule):
        made = messages_since(start)
        code = made[0].message.split("https://tule.localhost:8443/don-hang/")[1].split("/")[0]
    assert len(code) == 8
    for message in made:
        assert "https://tule.localhost:8443/" in message.message
        assert "cho-tule" not in message.message and ":8000" not in message.message


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_the_sms_of_every_step_reach_the_gateway(live_db, worker, gateway):
    from django_tenants.utils import schema_context, tenant_context

    from ecommerce import services
    from ecommerce.models import Order
    from notifications.models import Notification

    with committed_shop(stock=5) as shop:
        with tenant_context(shop["commune"]):
            order = services.place_order(lines=[(shop["product"], 2)], buyer_name="Lường Thị Hoa",
                                         buyer_phone="0987654321", delivery_address="Bản Lìm")
            order = services.confirm_order(shop["seller"], order)
            order = services.mark_paid(shop["seller"], order, amount=order.total,
                                       transaction_id=f"LIVE-{shop['tag']}-1")
            order = services.ship_order(shop["seller"], order, "VNPost")
            order = services.deliver_order(shop["seller"], order)
            events = list(Order.objects.get(pk=order.pk).events.order_by("pk"))
            jobs = {event.kind: Notification.objects.get(pk=event.notification_id) for event in events}
            producer_job = Notification.objects.filter(recipients=["0912000333"], pk__gt=jobs["placed"].pk).first()
        assert list(jobs) == ["placed", "confirmed", "paid", "shipped", "delivered"]

        def delivered():
            return all(gateway.effects_for(job.idempotency_key) for job in [*jobs.values(), producer_job])

        wait_for(delivered, timeout=60, message="the order's SMS at the gateway")
        for kind, job in jobs.items():
            assert gateway.effects_for(job.idempotency_key) == {f"{job.idempotency_key}:0": "0987654321"}, kind
        assert gateway.effects_for(producer_job.idempotency_key) == {f"{producer_job.idempotency_key}:0": "0912000333"}
        def succeeded():
            with schema_context(TULE_SCHEMA):
                return set(Notification.objects.filter(pk__in=[j.pk for j in jobs.values()]).values_list(
                    "state", flat=True)) == {"succeeded"}

        wait_for(succeeded, timeout=30, message="the jobs to succeed")
