"""The orders API (/api/v1/ocop/orders/): the role matrix over every endpoint (anonymous, citizen
A who placed order A, citizen B, the producer of A, the producer of B, the economy officer), the
project's error bodies, idempotent placing, and a commune that never sees another's orders."""
from __future__ import annotations

import uuid

import pytest

from communes.models import Role

HOST = "tule.localhost"
API = "/api/v1/ocop/orders/"
ROLES = ("anonymous", "citizen_a", "citizen_b", "producer_a", "producer_b", "officer")


@pytest.fixture
def world(market, make_user, tule, in_commune):
    from ecommerce import services

    citizen_b = make_user("ocop_citizen_b", full_name="Vì Thị Lan", phone="0977000111")
    with in_commune(tule):
        order_a = services.place_order(lines=[(market["rice"], 2)], buyer=market["buyer"], buyer_name="Hoàng Văn Nam",
                                       buyer_phone="0912345678", delivery_address="Bản Lìm")
        order_b = services.place_order(lines=[(market["tea"], 1)], buyer=citizen_b, buyer_name="Vì Thị Lan",
                                       buyer_phone="0977000111", delivery_address="Bản Ngã")
    users = {"anonymous": None, "citizen_a": market["buyer"], "citizen_b": citizen_b,
             "producer_a": market["seller"], "producer_b": market["rival"], "officer": market["officer"]}
    return {**market, "a": order_a, "b": order_b, "users": users}


def api(client_for, user, host=HOST):
    return client_for(host, user)


def body_is_error(response):
    data = response.json()
    assert set(data) == {"code", "detail", "fields"}, data
    return data


# What each role gets from each endpoint on order A (placed, then the state the action needs).
MATRIX = {
    #             list  get-A  get-B  confirm pay  ship deliver cancel create
    "anonymous": (401, 401, 401, 401, 401, 401, 401, 401, 401),
    "citizen_a": (200, 200, 404, 403, 403, 403, 200, 200, 201),
    "citizen_b": (200, 404, 200, 403, 403, 403, 404, 404, 201),
    "producer_a": (200, 200, 404, 200, 200, 200, 200, 409, 201),
    "producer_b": (200, 404, 200, 404, 404, 404, 404, 404, 201),
    "officer": (200, 200, 200, 403, 403, 403, 403, 403, 201),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_role_matrix(world, role, client_for, tule, in_commune):
    from ecommerce.models import Order

    client = api(client_for, world["users"][role])
    a, b = world["a"], world["b"]
    expected = dict(zip(("list", "get_a", "get_b", "confirm", "pay", "ship", "deliver", "cancel", "create"),
                        MATRIX[role]))
    got = {}
    response = client.get(API)
    got["list"] = response.status_code
    if response.status_code == 200:
        codes = {row["code"] for row in response.json()["results"]}
        mine = {"citizen_a": {a.code}, "citizen_b": {b.code}, "producer_a": {a.code}, "producer_b": {b.code},
                "officer": {a.code, b.code}}[role]
        assert codes == mine, (role, codes)
    else:
        body_is_error(response)
    got["get_a"] = client.get(f"{API}{a.pk}/").status_code
    got["get_b"] = client.get(f"{API}{b.pk}/").status_code
    got["confirm"] = client.post(f"{API}{a.pk}/confirm/", {}, content_type="application/json").status_code
    if got["confirm"] != 200 and role != "anonymous":  # the next actions need a confirmed, paid, shipped order
        with in_commune(tule):
            from ecommerce import services

            services.confirm_order(world["seller"], Order.objects.get(pk=a.pk))
    got["pay"] = client.post(f"{API}{a.pk}/pay/", {"amount": 120000}, content_type="application/json").status_code
    if got["pay"] != 200 and role != "anonymous":
        with in_commune(tule):
            from ecommerce import services

            services.mark_paid(world["seller"], Order.objects.get(pk=a.pk), amount=120000)
    got["ship"] = client.post(f"{API}{a.pk}/ship/", {"shipping_note": "VNPost"}, content_type="application/json").status_code
    if got["ship"] != 200 and role != "anonymous":
        with in_commune(tule):
            from ecommerce import services

            services.ship_order(world["seller"], Order.objects.get(pk=a.pk))
    got["deliver"] = client.post(f"{API}{a.pk}/deliver/", {}, content_type="application/json").status_code
    # Cancelling: order B for the others' view is another producer's; order A is delivered by now
    # (409 for who may see it), except for the buyer of A who cancels a fresh order of theirs.
    if role == "citizen_a":
        with in_commune(tule):
            from ecommerce import services

            fresh = services.place_order(lines=[(world["rice"], 2)], buyer=world["buyer"], buyer_name="Hoàng Văn Nam",
                                         buyer_phone="0912345678", delivery_address="Bản Lìm")
        got["cancel"] = client.post(f"{API}{fresh.pk}/cancel/", {"reason": "Đổi ý"}, content_type="application/json").status_code
    else:
        got["cancel"] = client.post(f"{API}{a.pk}/cancel/", {"reason": "Thử"}, content_type="application/json").status_code
    created = client.post(API, {"lines": [{"product": world["tea"].pk, "quantity": 1}], "delivery_address": "Bản Ngã",
                                "buyer_phone": "0977000999"}, content_type="application/json")
    got["create"] = created.status_code
    assert got == expected, role


def test_the_buyer_and_the_producer_read_the_order_whole_the_officer_masked(world, client_for):
    a = world["a"]
    buyer = api(client_for, world["buyer"]).get(f"{API}{a.pk}/").json()
    assert buyer["buyer_phone"] == "0912345678" and buyer["delivery_address"] == "Bản Lìm"
    assert buyer["lines"] == [{"product": world["rice"].pk, "name": "Gạo nếp Thử", "unit": "kg", "unit_price": 60000,
                               "quantity": 2, "amount": 120000}]
    assert buyer["payment"] is None and buyer["actions"] == ["cancel"]
    assert [e["kind"] for e in buyer["events"]] == ["placed"]
    producer = api(client_for, world["seller"]).get(f"{API}{a.pk}/").json()
    assert producer["actions"] == ["confirm", "cancel"] and producer["buyer_phone"] == "0912345678"
    officer = api(client_for, world["officer"]).get(f"{API}{a.pk}/").json()
    assert officer["buyer_phone"] == "091*******" and officer["delivery_address"] == "" and officer["actions"] == []


def test_the_payment_details_once_confirmed(world, client_for):
    from core import vietqr

    seller = api(client_for, world["seller"])
    confirmed = seller.post(f"{API}{world['a'].pk}/confirm/", {}, content_type="application/json").json()
    assert confirmed["state"] == "confirmed" and confirmed["actions"] == ["pay", "cancel"]
    payment = api(client_for, world["buyer"]).get(f"{API}{world['a'].pk}/").json()["payment"]
    assert payment["amount"] == 120000 and payment["purpose"] == f"DH {world['a'].code}"
    fields = vietqr.parse_payload(payment["payload"])
    assert fields["54"] == "120000" and fields["38"]["01"]["01"] == "000004630001"


def test_placing_through_the_api(world, client_for, tule, in_commune):
    from ecommerce.models import Order

    client = api(client_for, world["buyer"])
    token = str(uuid.uuid4())
    data = {"lines": [{"product": world["rice"].pk, "quantity": 2}], "delivery_address": "Bản Lìm, Tú Lệ",
            "submit_token": token}
    first = client.post(API, data, content_type="application/json")
    assert first.status_code == 201, first.json()
    created = first.json()
    assert created["buyer_name"] == "Hoàng Văn Nam" and created["buyer_phone"] == "0912345678"
    assert created["total"] == 120000 and created["state"] == "placed"
    again = client.post(API, data, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == created["id"]
    with in_commune(tule):
        assert Order.objects.filter(submit_token=token).count() == 1
    # Bad input: the project's error body, in Vietnamese, with the field to blame.
    cases = [
        ({"lines": [], "delivery_address": "x"}, 400, "invalid", "lines"),
        ({"lines": [{"product": world["rice"].pk, "quantity": 0}], "delivery_address": "x"}, 400, "invalid", "lines"),
        ({"lines": [{"product": world["rice"].pk, "quantity": 2}]}, 400, "invalid", "delivery_address"),
        ({"lines": [{"product": world["rice"].pk, "quantity": 1}], "delivery_address": "x"}, 400, "below_minimum", "lines"),
        ({"lines": [{"product": world["rice"].pk, "quantity": 11}], "delivery_address": "x"}, 409, "not_enough_stock", "lines"),
        ({"lines": [{"product": world["rice"].pk, "quantity": 2}, {"product": world["tea"].pk, "quantity": 1}],
          "delivery_address": "x"}, 400, "several_producers", "lines"),
        ({"lines": [{"product": 999999, "quantity": 2}], "delivery_address": "x"}, 409, "not_listed", "lines"),
        ({"lines": [{"product": world["rice"].pk, "quantity": 2}], "delivery_address": "x", "buyer_phone": "02438251234"},
         400, "invalid_phone", "buyer_phone"),
        ({"lines": "nonsense", "delivery_address": "x"}, 400, "invalid", "lines"),
    ]
    for payload, status, code, field in cases:
        response = client.post(API, payload, content_type="application/json")
        body = body_is_error(response)
        assert (response.status_code, body["code"]) == (status, code), (payload, body)
        assert field in body["fields"], body
    assert client.post(API, b"{not json", content_type="application/json").status_code == 400


def test_refusals_of_the_actions(world, client_for, tule, in_commune):
    from ecommerce import services

    seller = api(client_for, world["seller"])
    a = world["a"]
    with in_commune(tule):
        services.set_stock(world["seller"], world["rice"], 1)
    short = seller.post(f"{API}{a.pk}/confirm/", {}, content_type="application/json")
    assert short.status_code == 409 and body_is_error(short)["code"] == "not_enough_stock"
    assert "còn 1" in short.json()["detail"]
    with in_commune(tule):
        services.set_stock(world["seller"], world["rice"], 10)
    seller.post(f"{API}{a.pk}/confirm/", {}, content_type="application/json")
    wrong = seller.post(f"{API}{a.pk}/pay/", {"amount": 1000}, content_type="application/json")
    assert wrong.status_code == 400 and body_is_error(wrong)["code"] == "wrong_amount" and "amount" in wrong.json()["fields"]
    negative = seller.post(f"{API}{a.pk}/pay/", {"amount": -5}, content_type="application/json")
    assert negative.status_code == 400 and "amount" in body_is_error(negative)["fields"]
    no_reason = seller.post(f"{API}{a.pk}/cancel/", {"reason": ""}, content_type="application/json")
    assert no_reason.status_code == 400 and "reason" in body_is_error(no_reason)["fields"]
    assert seller.get(f"{API}?state=lost").status_code == 400
    assert seller.get(f"{API}?as=thief").status_code == 400
    assert seller.get(f"{API}99999999999999999999/").status_code == 404
    only_buyer = api(client_for, world["buyer"]).get(f"{API}?as=buyer").json()
    assert [row["code"] for row in only_buyer["results"]] == [a.code]


def test_another_commune_and_the_national_host(world, client_for, yenhoa, make_user):
    buyer_elsewhere = api(client_for, world["buyer"], host="yenhoa.localhost")
    assert buyer_elsewhere.get(API).json()["results"] == []
    assert buyer_elsewhere.get(f"{API}{world['a'].pk}/").status_code == 404
    officer_elsewhere = make_user("ocop_officer_yh", roles={yenhoa: [Role.ECONOMY_OFFICER]})
    assert api(client_for, officer_elsewhere, host="yenhoa.localhost").get(f"{API}{world['a'].pk}/").status_code == 404
    national = api(client_for, world["officer"], host="localhost")
    assert national.get(API).status_code == 404
