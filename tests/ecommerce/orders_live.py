"""Committed data for the order tests that need other processes or connections (a Celery worker,
a live server's threads, threads of their own): in Tú Lệ, an economy officer and a producer's
member, an approved producer with a test bank account and one listed product. Everything the
block made is removed afterwards, its orders, payments, bank notifications, outbox entries and
public rows included."""
from __future__ import annotations

import uuid
from contextlib import contextmanager

from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from tests.outbox.state import clear_outbox

TULE_SCHEMA = "c_04630"
PASSWORD = "Mat-khau-2026!"


@contextmanager
def committed_shop(*, stock: int = 10, price: int = 60_000, min_order: int = 1, tag: str = ""):
    """Yields {"commune", "officer", "seller", "producer", "product", "tag", "password"}; bank
    transactions of the block are named ``LIVE-<tag>-…`` so that they go with it."""
    from communes.models import Commune, Membership, Role, User
    from ecommerce import services

    tag = tag or uuid.uuid4().hex[:6]
    tule = Commune.objects.get(schema_name=TULE_SCHEMA)
    names = {"officer": f"live_officer_{tag}", "seller": f"live_seller_{tag}"}
    officer = User.objects.create_user(names["officer"], password=PASSWORD, full_name="Lò Văn Kinh")
    seller = User.objects.create_user(names["seller"], password=PASSWORD, full_name="Lò Văn Pản")
    Membership.objects.create(user=officer, commune=tule, role=Role.ECONOMY_OFFICER)
    Membership.objects.create(user=seller, commune=tule, role=Role.PRODUCER)
    producer_name = f"HTX Thử Đơn {tag}"
    try:
        with tenant_context(tule):
            from population.models import Village

            village = Village.objects.create(name=f"Bản Thử Đơn {tag}")
            producer = services.register_producer(
                seller, kind="cooperative", name=producer_name, representative="Lò Văn Pản", phone="0912000333",
                address="Bản Thử Đơn", village=village, bank_bin="970405", bank_account="000004630099",
                bank_account_name="TAI KHOAN THU NGHIEM")
            services.approve_producer(officer, producer)
            product = services.create_product(seller, producer, stock=stock, name=f"Gạo nếp thử {tag}", group="1",
                                              price=price, unit="kg", min_order=min_order,
                                              description="Gạo nếp thử nghiệm.", submit=True)
            services.approve_version(officer, product.pending_version)
            product.refresh_from_db()
        connection.set_schema_to_public()
        yield {"commune": tule, "officer": officer, "seller": seller, "producer": producer, "product": product,
               "tag": tag, "password": PASSWORD}
    finally:
        connection.set_schema_to_public()
        forget(tule, producer_name, list(names.values()), tag)


def forget(tule, producer_name: str, usernames: list[str], tag: str) -> None:
    from communes.models import Membership, User
    from ecommerce.models import (
        BankNotification, Order, OrderEvent, OrderLine, OrderPayment, Producer, ProducerMember, Product,
        ProductVersion,
    )

    with schema_context(tule.schema_name):
        from population.models import Village

        producers = Producer.objects.filter(name=producer_name)
        orders = Order.objects.filter(producer__in=producers)
        product_ids = list(Product.objects.filter(producer__in=producers).values_list("pk", flat=True))
        BankNotification.objects.filter(order__in=orders).delete()
        BankNotification.objects.filter(transaction_id__startswith=f"LIVE-{tag}").delete()
        OrderPayment.objects.filter(order__in=orders).delete()
        OrderEvent.objects.filter(order__in=orders).delete()
        OrderLine.objects.filter(order__in=orders).delete()
        Order.history.model.objects.filter(producer_id__in=producers.values("pk")).delete()
        orders.delete()
        Product.objects.filter(pk__in=product_ids).update(live_version=None, pending_version=None, status="draft")
        ProductVersion.history.model.objects.filter(product_id__in=product_ids).delete()
        ProductVersion.objects.filter(product_id__in=product_ids).delete()
        Product.history.model.objects.filter(id__in=product_ids).delete()
        Product.objects.filter(pk__in=product_ids).delete()
        ProducerMember.objects.filter(producer__in=producers).delete()
        Producer.history.model.objects.filter(name=producer_name).delete()
        producers.delete()
        Village.history.model.objects.filter(name=f"Bản Thử Đơn {tag}").delete()
        Village.objects.filter(name=f"Bản Thử Đơn {tag}").delete()
    clear_outbox(tule)
    users = User.objects.filter(username__in=usernames)
    from django.contrib.sessions.models import Session

    ids = {str(pk) for pk in users.values_list("pk", flat=True)}
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") in ids:
            session.delete()
    Membership.objects.filter(user__in=users).delete()
    from communes.models import TotpDevice

    TotpDevice.objects.filter(user__in=users).delete()
    users._raw_delete(users.db)
