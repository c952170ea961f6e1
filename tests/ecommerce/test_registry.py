"""What the marketplace brings to the shared pages through the module registry: its card for
the economy officer, the leaders and the producers; its inbox lines; its figures for a period;
its demo step; and its overview page, each commune seeing its own rows only."""
from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from communes import modules
from communes.models import Role
from ecommerce import permissions, services

HOST = "tule.localhost"


def test_the_module_card_is_for_the_economy_officer_the_leaders_and_producers():
    for role in (Role.ECONOMY_OFFICER, Role.CHAIRMAN, Role.VICE_CHAIRMAN, Role.PRODUCER):
        assert "ecommerce" in [m.key for m in modules.modules_for({role.value})]
    for role in (Role.CLERK, Role.ONESTOP_OFFICER, Role.TECH_TEAM):
        assert "ecommerce" not in [m.key for m in modules.modules_for({role.value})]


def test_the_demo_step_comes_after_the_registry():
    order = [step.key for step in modules.demo_steps()]
    assert order.index("ecommerce") > order.index("population")


def test_the_economy_officer_approves_in_a_session_confirmed_by_the_second_factor():
    from communes import second_factor

    assert permissions.APPROVER_ROLES == {Role.ECONOMY_OFFICER.value}
    assert Role.ECONOMY_OFFICER.value in second_factor.second_factor_roles()
    assert Role.PRODUCER.value not in second_factor.second_factor_roles()


@pytest.fixture
def waiting(market):
    """A producer and a product waiting, a certificate ending in 20 days and one in 80, an order
    to confirm and a paid one to ship."""
    officer, seller = market["officer"], market["seller"]
    services.register_producer(officer, kind="enterprise", name="Công ty Chờ Duyệt", representative="B",
                               phone="0912000222", address="Bản", village=market["village"])
    services.save_version(seller, market["rice"], price=70_000)
    services.submit_version(seller, market["rice"])
    today = timezone.localdate()
    for number, days_left in (("C-20", 20), ("C-80", 80)):
        expires = today + datetime.timedelta(days=days_left)
        services.add_certificate(officer, market["rice"], number=number, score=75, issuing_authority="UBND tỉnh",
                                 issued_on=today - datetime.timedelta(days=400), expires_on=expires)
    placed = services.place_order(lines=[(market["rice"], 2)], buyer_name="Người Mua", buyer_phone="0912345001",
                                  delivery_address="Yên Bái")
    paid = services.place_order(lines=[(market["rice"], 2)], buyer_name="Người Mua", buyer_phone="0912345001",
                                delivery_address="Yên Bái")
    services.confirm_order(seller, paid)
    services.mark_paid(seller, paid, amount=paid.total)
    return {**market, "placed": placed, "paid": paid}


def _lines(user, commune):
    from django.test import RequestFactory

    request = RequestFactory().get("/", HTTP_HOST=HOST)
    request.user, request.commune = user, commune
    return {line.key: line for line in modules.inbox_for(request, module="ecommerce")}


def test_the_inbox_tells_each_person_what_waits(waiting, tule):
    officer = _lines(waiting["officer"], tule)
    assert officer["ecommerce.producers_waiting"].count == 1
    assert officer["ecommerce.versions_waiting"].count == 1
    assert officer["ecommerce.certificates_30"].count == 1
    assert officer["ecommerce.certificates_30"].severity == modules.Severity.DUE_SOON
    assert officer["ecommerce.certificates_90"].count == 1
    assert officer["ecommerce.producers_waiting"].url == "/ocop/#producers-waiting"
    assert "ecommerce.orders_to_confirm" not in officer
    seller = _lines(waiting["seller"], tule)
    assert seller["ecommerce.orders_to_confirm"].count == 1 and seller["ecommerce.orders_to_ship"].count == 1
    assert "ecommerce.producers_waiting" not in seller
    assert _lines(waiting["rival"], tule) == {}  # no order of theirs waits
    assert _lines(waiting["clerk"], tule) == {}


def test_the_overview_page_lists_what_waits(waiting, client_for):
    page = client_for(HOST, waiting["officer"]).get("/ocop/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Công ty Chờ Duyệt" in text and 'id="versions-waiting"' in text and "C-20" in text and "C-80" in text
    assert "70.000 đ" in text  # the change waiting for approval, in đồng
    seller = client_for(HOST, waiting["seller"]).get("/ocop/").content.decode()
    assert waiting["placed"].code in seller and waiting["paid"].code in seller and "Công ty Chờ Duyệt" not in seller
    rival = client_for(HOST, waiting["rival"]).get("/ocop/").content.decode()
    assert waiting["placed"].code not in rival
    assert client_for(HOST, waiting["clerk"]).get("/ocop/").status_code == 403
    anonymous = client_for(HOST).get("/ocop/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    # The officials' home shows the card.
    assert 'href="/ocop/"' in client_for(HOST, waiting["officer"]).get("/").content.decode()


def test_the_figures_of_a_period(waiting, tule, in_commune):
    today = timezone.localdate()
    with in_commune(tule):
        facts = modules.facts_for(today, today)["ecommerce"]
    assert facts["orders_placed"] == 2 and facts["revenue"] == waiting["paid"].total
    assert facts["products_listed"] == 2 and facts["products_4_stars"] == 1 and facts["products_3_stars"] == 0
    assert facts["producers_approved"] == 2 and facts["orders_cancelled"] == 0
    yesterday = today - datetime.timedelta(days=1)
    with in_commune(tule):
        assert modules.facts_for(yesterday, yesterday)["ecommerce"]["orders_placed"] == 0


def _move_sequence_to(value: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('ecommerce_producer', 'id'), %s)", [value])


def _sequence_value() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM " + "ecommerce_producer_id_seq")
        return cursor.fetchone()[0]


def test_a_producer_of_two_communes_acts_on_each_communes_own_rows(tule, yenhoa, in_commune, make_user):
    """Row ids are per commune: the producer with id N in Yên Mô is not the one the user is a
    member of in Tú Lệ."""
    from ecommerce import selectors
    from ecommerce.models import Producer
    from population.models import Village

    officer = make_user("two_officer", roles={tule: [Role.ECONOMY_OFFICER], yenhoa: [Role.ECONOMY_OFFICER]})
    seller = make_user("two_seller", roles={tule: [Role.PRODUCER], yenhoa: [Role.PRODUCER]})
    with in_commune(tule):
        start = _sequence_value()
    with in_commune(yenhoa):
        start = max(start, _sequence_value()) + 1000
    with in_commune(tule):
        _move_sequence_to(start)  # both communes draw the same next id
        mine = services.register_producer(seller, kind="cooperative", name="HTX Tú Lệ Hai", representative="A",
                                          phone="0912000333", address="Bản", village=Village.objects.create(name="Bản Hai"))
        assert permissions.can(seller, "product.write", mine.pk)
        assert set(selectors.producers_for(seller)) == {mine}
    with in_commune(yenhoa):
        _move_sequence_to(start)
        other = services.register_producer(officer, kind="cooperative", name="HTX Yên Mô Hai", representative="B",
                                           phone="0912000444", address="Thôn", village=Village.objects.create(name="Thôn Hai"))
        assert other.pk == mine.pk
        assert not permissions.can(seller, "product.write", other.pk)
        assert not selectors.producers_for(seller).exists()
        assert not Producer.objects.filter(name="HTX Tú Lệ Hai").exists()
        with pytest.raises(PermissionDenied):
            services.create_product(seller, other, name="X", group="1", price=1, unit="kg", description="x")
