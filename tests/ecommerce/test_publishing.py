"""The topic ``ocop.product``: a listed product's public row is published through the outbox in
the transaction of every change that alters it (approval, stock, hiding, certificate, the
producer's approval and suspension, its village), withdrawn when the product leaves the listing,
only when it differs from what the public side holds; ``republish`` rebuilds it and changes
nothing the second time; an expiry with no other change hides the stars on the national side on
its own day, with no entry published."""
from __future__ import annotations

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from ecommerce import publishing, services
from ocop_national.models import CatalogueProduct
from outbox.models import Entry
from outbox.writer import deliver
from tests.outbox.state import empty_outbox

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_outbox(db):
    """Before the market is built: no rows that a committed test left behind."""
    empty_outbox()


def deliver_all(commune) -> dict:
    schema = connection.schema_name
    counts = deliver(commune.schema_name, wait=True)
    assert connection.schema_name == schema
    return counts


def national(commune) -> dict[str, CatalogueProduct]:
    return {row.key: row for row in CatalogueProduct.objects.filter(commune=commune)}


def entries(key=None) -> list[Entry]:
    found = Entry.objects.filter(topic=publishing.TOPIC).order_by("id")
    return list(found.filter(key=str(key)) if key is not None else found)


@contextmanager
def moved_time(monkeypatch, days: int):
    """Every ``timezone.now()`` (and so ``localdate()``) ``days`` later, inside the block."""
    moved = timezone.now() + datetime.timedelta(days=days)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moved)
        yield moved


def test_an_approved_product_is_published_with_its_public_row(market, tule):
    from core.links import commune_base_url

    rice = market["rice"]
    assert [e.payload["name"] for e in entries(rice.pk)] == ["Gạo nếp Thử"]
    deliver_all(tule)
    row = national(tule)[str(rice.pk)]
    assert row.name == "Gạo nếp Thử" and row.slug == rice.slug
    assert "gao nep thu" in row.search_text and "htx nep thu" in row.search_text and "ban thu cho" in row.search_text
    assert (row.group_code, row.subgroup_code) == ("1", "1.2") and row.group_name == "Thực phẩm"
    assert (row.price, row.unit, row.min_order, row.stock_state) == (60000, "kg", 2, "in_stock")
    assert (row.producer, row.village) == ("HTX Nếp Thử", "Bản Thử Chợ")
    assert row.url == f"{commune_base_url(tule)}/san-pham/{rice.slug}/"
    assert row.url.startswith("http") and row.stars3_until is None
    assert set(national(tule)) == {str(rice.pk), str(market["tea"].pk)}


def test_a_rolled_back_approval_publishes_nothing(market, tule):
    product = services.create_product(market["seller"], market["ours"], stock=3, name="Cốm Thử", group="1",
                                      price=150000, unit="kg", description="Cốm non.", submit=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.approve_version(market["officer"], product.pending_version)
        assert [e.key for e in entries(product.pk)] == [str(product.pk)]  # written in the same transaction
        raise RuntimeError("the approval fails after the publication")
    assert entries(product.pk) == []
    deliver_all(tule)
    assert str(product.pk) not in national(tule)
    services.approve_version(market["officer"], product.pending_version)
    deliver_all(tule)
    assert national(tule)[str(product.pk)].name == "Cốm Thử"


def test_hiding_and_a_suspended_producer_withdraw_the_row_and_showing_brings_it_back(market, tule):
    rice, tea = market["rice"], market["tea"]
    deliver_all(tule)
    services.hide_product(market["seller"], rice, "Hết mùa")
    deliver_all(tule)
    assert set(national(tule)) == {str(tea.pk)}
    services.show_product(market["seller"], rice)
    deliver_all(tule)
    assert str(rice.pk) in national(tule)
    services.suspend_producer(market["officer"], market["theirs"], "Vi phạm an toàn thực phẩm")
    deliver_all(tule)
    assert set(national(tule)) == {str(rice.pk)}
    services.approve_producer(market["officer"], market["theirs"])
    deliver_all(tule)
    assert set(national(tule)) == {str(rice.pk), str(tea.pk)}


def test_a_new_approved_version_replaces_the_row(market, tule):
    rice = market["rice"]
    deliver_all(tule)
    services.save_version(market["seller"], rice, name="Gạo nếp Tan Thử", price="65.000")
    services.submit_version(market["seller"], rice)
    assert len(entries(rice.pk)) == 1  # waiting for approval changes nothing public
    services.approve_version(market["officer"], rice.versions.get(state="submitted"))
    deliver_all(tule)
    row = national(tule)[str(rice.pk)]
    assert (row.name, row.price) == ("Gạo nếp Tan Thử", 65000) and "nep tan" in row.search_text


def test_stock_publishes_only_when_its_state_changes(market, tule):
    rice = market["rice"]  # stock 10, sold from 2 kg
    deliver_all(tule)
    before = len(entries(rice.pk))
    services.set_stock(market["seller"], rice, 12)
    assert len(entries(rice.pk)) == before  # still in stock: the public row is the same
    services.set_stock(market["seller"], rice, 1)  # below the minimum order
    deliver_all(tule)
    assert national(tule)[str(rice.pk)].stock_state == "out_of_stock"
    services.set_stock(market["seller"], rice, 5)
    deliver_all(tule)
    assert national(tule)[str(rice.pk)].stock_state == "in_stock"
    count = len(entries(rice.pk))
    order = services.place_order(lines=[(rice, 2)], buyer_name="Hoàng Văn Nam", buyer_phone="0912345678",
                                 delivery_address="Bản Thử Chợ")
    services.confirm_order(market["seller"], order)  # 5 → 3: still in stock
    assert len(entries(rice.pk)) == count
    second = services.place_order(lines=[(rice, 2)], buyer_name="Lò Thị Duyên", buyer_phone="0987654321",
                                  delivery_address="Bản Thử Chợ")
    services.confirm_order(market["seller"], second)  # 3 → 1: below the minimum of 2
    deliver_all(tule)
    assert national(tule)[str(rice.pk)].stock_state == "out_of_stock"
    services.cancel_order(market["seller"], second, "Khách đổi ý")  # 1 → 3
    deliver_all(tule)
    assert national(tule)[str(rice.pk)].stock_state == "in_stock"


def test_a_certificate_publishes_the_days_of_its_stars(market, tule):
    rice = market["rice"]
    today = timezone.localdate()
    services.add_certificate(market["officer"], rice, number="412/QĐ-UBND", score=78,
                             issuing_authority="Ủy ban nhân dân tỉnh Lào Cai", issued_on=today - datetime.timedelta(days=400),
                             expires_on=today + datetime.timedelta(days=10))
    services.add_certificate(market["officer"], rice, number="77/QĐ-UBND", score=55,
                             issuing_authority="Ủy ban nhân dân tỉnh Lào Cai", issued_on=today - datetime.timedelta(days=5))
    deliver_all(tule)
    row = national(tule)[str(rice.pk)]
    assert row.stars4_until == today + datetime.timedelta(days=10)
    assert row.stars3_until > row.stars4_until and row.stars5_until is None
    assert entries(rice.pk)[-1].payload["certificate_expires_on"] == row.stars3_until.isoformat()


def test_an_expiry_hides_the_stars_nationally_with_nothing_published(market, tule, monkeypatch):
    from ocop_national import catalogue

    rice = market["rice"]
    today = timezone.localdate()
    expires = today + datetime.timedelta(days=10)
    services.add_certificate(market["officer"], rice, number="412/QĐ-UBND", score=92,
                             issuing_authority="Ủy ban nhân dân tỉnh Lào Cai",
                             issued_on=today - datetime.timedelta(days=1000), expires_on=expires)
    deliver_all(tule)
    count = Entry.objects.count()
    row = national(tule)[str(rice.pk)]
    assert catalogue.stars_on(row) == catalogue.Stars(5, expires)
    with moved_time(monkeypatch, 10):
        assert timezone.localdate() == expires
        assert catalogue.stars_on(row) == catalogue.Stars(0, expired_on=expires)
        filters, _errors = catalogue.parse({"stars": "5"})
        assert not catalogue.products(filters).filter(key=str(rice.pk)).exists()
    assert Entry.objects.count() == count
    filters, _errors = catalogue.parse({"stars": "5"})
    assert catalogue.products(filters).filter(key=str(rice.pk)).exists()


def test_a_village_moved_or_renamed_refreshes_its_products(market, tule):
    rice = market["rice"]
    deliver_all(tule)
    village = market["village"]
    village.latitude, village.longitude = Decimal("21.812345"), Decimal("104.298765")
    village.save()
    deliver_all(tule)
    row = national(tule)[str(rice.pk)]
    assert (row.latitude, row.longitude) == (Decimal("21.812345"), Decimal("104.298765"))
    assert entries(rice.pk)[-1].payload["latitude"] == "21.812345"


def test_a_change_of_the_producer_s_name_is_published(market, tule):
    deliver_all(tule)
    services.update_producer(market["officer"], market["ours"], name="Hợp tác xã Nếp Thử")
    deliver_all(tule)
    row = national(tule)[str(market["rice"].pk)]
    assert row.producer == "Hợp tác xã Nếp Thử" and "hop tac xa nep thu" in row.search_text


def test_republish_rebuilds_the_rows_and_changes_nothing_the_second_time(market, tule, capsys):

    deliver_all(tule)
    rows_before = {key: (row.name, row.price, row.version) for key, row in national(tule).items()}
    call_command("republish", "--commune", tule.code, "--topic", publishing.TOPIC)
    assert "0 published, 0 withdrawn, 2 unchanged" in capsys.readouterr().out
    assert {key: (row.name, row.price, row.version) for key, row in national(tule).items()} == rows_before
    # The public side lost its rows (a table emptied by hand, a restored dump): --force rebuilds them.
    CatalogueProduct.objects.filter(commune=tule).delete()
    call_command("republish", "--commune", tule.code, "--topic", publishing.TOPIC, "--force")
    assert "2 published" in capsys.readouterr().out
    assert {key: (row.name, row.price) for key, row in national(tule).items()} == {
        key: value[:2] for key, value in rows_before.items()}
    call_command("republish", "--commune", tule.code, "--topic", publishing.TOPIC)
    assert "0 published, 0 withdrawn, 2 unchanged" in capsys.readouterr().out
    # A product that left the listing while its withdrawal was lost is withdrawn by republish.
    market["rice"].__class__.objects.filter(pk=market["rice"].pk).update(status="hidden")
    call_command("republish", "--commune", tule.code, "--topic", publishing.TOPIC)
    assert "0 published, 1 withdrawn, 1 unchanged" in capsys.readouterr().out
    assert set(national(tule)) == {str(market["tea"].pk)}
    call_command("republish", "--commune", tule.code, "--topic", publishing.TOPIC)
    assert "0 published, 0 withdrawn, 1 unchanged" in capsys.readouterr().out


def test_each_commune_publishes_its_own_rows(market, tule, yenhoa, in_commune, people):
    from communes.models import Membership, Role
    from population.models import Village

    deliver_all(tule)
    Membership.objects.create(user=people["officer"], commune=yenhoa, role=Role.ECONOMY_OFFICER)
    Membership.objects.create(user=people["seller"], commune=yenhoa, role=Role.PRODUCER)
    people["seller"].__dict__.pop("_ocop_producers", None)
    with in_commune(yenhoa):
        village = Village.objects.create(name="Thôn Thử Mật")
        producer = services.register_producer(people["seller"], kind="cooperative", name="HTX Mật Ong Thử",
                                              representative="Đinh Văn An", phone="0912000909", address="Yên Mô",
                                              village=village)
        services.approve_producer(people["officer"], producer)
        honey = services.create_product(people["seller"], producer, stock=20, name="Mật ong hoa nhãn Thử",
                                        group="1", subgroup="1.6", price=250000, unit="chai 500 ml",
                                        description="Mật ong hoa nhãn.", submit=True)
        services.approve_version(people["officer"], honey.pending_version)
    deliver_all(yenhoa)
    assert [row.name for row in national(yenhoa).values()] == ["Mật ong hoa nhãn Thử"]
    assert national(yenhoa)[str(honey.pk)].url.startswith("http") and "yenhoa" in national(yenhoa)[str(honey.pk)].url
    assert {row.name for row in national(tule).values()} == {"Gạo nếp Thử", "Chè Thử"}


def test_the_daily_resync_makes_good_a_change_that_bypassed_the_services(market, tule):
    from ecommerce.models import ProductPhoto

    rice = market["rice"]
    variants = lambda name: [{"format": "jpeg", "width": 480, "height": 360, "path": f"x/{name}-480.jpg", "bytes": 1}]  # noqa: E731
    first = ProductPhoto.objects.create(product=rice, order=0, variants=variants("a"))
    second = ProductPhoto.objects.create(product=rice, order=1, variants=variants("b"))
    deliver_all(tule)
    assert national(tule)[str(rice.pk)].image_url.endswith(f"/{first.pk}/a-480.jpg")
    ProductPhoto.objects.filter(pk=first.pk).update(order=2)  # no signal: nothing published
    deliver_all(tule)
    assert national(tule)[str(rice.pk)].image_url.endswith(f"/{first.pk}/a-480.jpg")
    assert publishing.resync_catalogue_commune(tule.schema_name) == "1 published, 0 withdrawn, 1 unchanged"
    deliver_all(tule)
    assert national(tule)[str(rice.pk)].image_url.endswith(f"/{second.pk}/b-480.jpg")
    assert publishing.resync_catalogue_commune(tule.schema_name) == "0 published, 0 withdrawn, 2 unchanged"
