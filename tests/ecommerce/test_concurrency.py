"""Twenty producers' confirmations at the same moment, each on its own connection with committed
rows: the stock never goes below zero and exactly what was available is reserved."""
from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from communes.models import Commune, Membership, Role, User

BUYERS = 20


@pytest.fixture
def committed_market(django_db_setup, django_db_blocker):
    """In Tú Lệ, committed: a producer with one member and a product with 7 kg in stock, and 20
    orders of 1 kg placed by 20 buyers; everything is removed afterwards."""
    from ecommerce import services
    from ecommerce.models import Order, OrderEvent, OrderLine, Producer, ProducerMember, Product, ProductVersion
    from population.models import Village

    with django_db_blocker.unblock():
        tule = Commune.objects.get(code="04630")
        officer = User.objects.create_user("conc_officer", password="x", full_name="Cán bộ")
        seller = User.objects.create_user("conc_seller", password="x", full_name="Người bán")
        Membership.objects.create(user=officer, commune=tule, role=Role.ECONOMY_OFFICER)
        Membership.objects.create(user=seller, commune=tule, role=Role.PRODUCER)
        try:
            with tenant_context(tule):
                village = Village.objects.create(name="Bản Đồng Thời")
                producer = services.register_producer(seller, kind="cooperative", name="HTX Đồng Thời",
                                                       representative="A", phone="0912000111", address="Bản",
                                                       village=village)
                services.approve_producer(officer, producer)
                product = services.create_product(seller, producer, stock=50, name="Gạo đồng thời", group="1",
                                                  price=10_000, unit="kg", description="x", submit=True)
                services.approve_version(officer, product.pending_version)
                quantities = [1] * BUYERS
                orders = [services.place_order(lines=[(product, quantity)], buyer_name=f"Người mua {index}",
                                               buyer_phone=f"09120{index:05d}", delivery_address="Yên Bái")
                          for index, quantity in enumerate(quantities)]
                services.set_stock(seller, product, 7)
            yield {"commune": tule, "seller": seller, "product": product, "orders": orders, "quantities": quantities}
        finally:
            connection.set_schema_to_public()
            with schema_context(tule.schema_name):
                # What the product's publishing left: its outbox entries, their index lines and
                # public rows (the outbox's and the catalogue's tests count what they find there).
                from outbox.models import Entry
                from published.models import Pending, Publication

                keys = [str(pk) for pk in Product.objects.filter(producer__name="HTX Đồng Thời").values_list("pk", flat=True)]
                entries = list(Entry.objects.filter(key__in=keys).values_list("pk", flat=True))
                Pending.objects.filter(schema_name=tule.schema_name, entry_id__in=entries).delete()
                Entry.objects.filter(pk__in=entries).delete()
                Publication.objects.filter(commune=tule, key__in=keys).delete()
                from django.apps import apps

                apps.get_model("ocop_national", "CatalogueProduct").objects.filter(commune=tule, key__in=keys).delete()
                OrderEvent.objects.filter(order__producer__name="HTX Đồng Thời").delete()
                OrderLine.objects.filter(order__producer__name="HTX Đồng Thời").delete()
                Order.history.model.objects.filter(producer_id__in=Producer.objects.filter(
                    name="HTX Đồng Thời").values("pk")).delete()
                Order.objects.filter(producer__name="HTX Đồng Thời").delete()
                Product.objects.filter(producer__name="HTX Đồng Thời").update(live_version=None, pending_version=None, status="draft")
                ProductVersion.objects.filter(product__producer__name="HTX Đồng Thời").delete()
                Product.objects.filter(producer__name="HTX Đồng Thời").delete()
                ProducerMember.objects.filter(producer__name="HTX Đồng Thời").delete()
                Producer.objects.filter(name="HTX Đồng Thời").delete()
                Village.objects.filter(name="Bản Đồng Thời").delete()
            Membership.objects.filter(user__username__in=["conc_officer", "conc_seller"]).delete()
            User.objects.filter(username__in=["conc_officer", "conc_seller"]).delete()


@pytest.mark.slow
def test_twenty_concurrent_confirmations_never_drive_the_stock_negative(committed_market):
    from ecommerce import services
    from ecommerce.models import Order, OrderState, Product

    tule, seller, product = committed_market["commune"], committed_market["seller"], committed_market["product"]
    orders, quantities = committed_market["orders"], committed_market["quantities"]
    barrier = threading.Barrier(BUYERS)
    confirmed, refused, errors, backends = [], [], [], set()

    def confirm(order):
        try:
            with tenant_context(tule):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    backends.add(cursor.fetchone()[0])
                user = User.objects.get(pk=seller.pk)
                barrier.wait(timeout=30)
                try:
                    services.confirm_order(user, order)
                    confirmed.append(order.pk)
                except ValidationError as exc:
                    assert services.error_code(exc) == "not_enough_stock"
                    refused.append(order.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(backends) == BUYERS  # twenty connections
    assert len(confirmed) + len(refused) == BUYERS and confirmed
    with tenant_context(tule):
        stock = Product.objects.get(pk=product.pk).stock
        reserved = sum(quantities[index] for index, order in enumerate(orders) if order.pk in confirmed)
        assert stock == 0 and reserved == 7  # exactly what was available, never below zero
        assert len(confirmed) == 7 and len(refused) == BUYERS - 7
        states = dict(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("pk", "state"))
        assert {states[pk] for pk in confirmed} == {OrderState.CONFIRMED}
        assert {states[pk] for pk in refused} <= {OrderState.PLACED}
        assert Order.objects.filter(pk__in=confirmed, stock_reserved=True).count() == len(confirmed)
