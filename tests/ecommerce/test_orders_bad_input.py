"""Bad input on every order page and endpoint gets a clear 4xx, never a 500: the buyer's form and
lookup, the cancel form, the producer's actions, and schemathesis over the orders API as a buyer
and as a producer (whose tokens may write)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from config.wsgi import application

HOST = "tule.localhost"
JUNK = ["", " ", "\x00", "a" * 5000, "-1", "1e9", "9" * 40, "0x10", "１２", "NaN", "<script>alert(1)</script>",
        "'; DROP TABLE x; --", "\u202e", "😀" * 50, "1.5", "１"]


@pytest.fixture
def placed(market, tule, in_commune):
    from ecommerce import services

    with in_commune(tule):
        order = services.place_order(lines=[(market["rice"], 2)], buyer=market["buyer"], buyer_name="Hoàng Văn Nam",
                                     buyer_phone="0912345678", delivery_address="Bản Lìm")
        guest = services.place_order(lines=[(market["rice"], 2)], buyer_name="Khách", buyer_phone="0987654321",
                                     delivery_address="Bản Lìm")
    return {"account": order, "guest": guest}


def test_the_buyers_pages_answer_junk_without_an_error(market, placed, client_for):
    client = client_for(HOST)
    slug = market["rice"].slug
    for value in JUNK:
        for field in ("quantity", "buyer_name", "buyer_phone", "buyer_email", "delivery_address", "note", "submit_token"):
            data = {"quantity": "2", "buyer_name": "A", "buyer_phone": "0987654321", "delivery_address": "B",
                    "submit_token": "6f1c2a4e-0c1b-4e8a-9d4e-0c0ca0000009", field: value}
            response = client.post(f"/dat-hang/{slug}/", data)
            assert response.status_code in (200, 302, 400), (field, value, response.status_code)
        assert client.post("/don-hang/", {"code": value, "phone_last4": value}).status_code in (200, 400, 429)
        assert client.get("/don-hang/", {"code": value}).status_code in (200, 400)  # 400: a NUL byte
    for path in ("/don-hang/%00/", "/don-hang/" + "A" * 300 + "/", "/don-hang/ab%20cd/huy/", "/dat-hang/%E2%80%AE/",
                 "/don-hang/QQQQQQQQ/vietqr.png", f"/don-hang/{placed['guest'].code}/vietqr.png"):
        assert client.get(path).status_code in (302, 400, 404), path
    # A list where one value is expected, and a body that is not a form.
    assert client.post(f"/dat-hang/{slug}/", "quantity=1&quantity=2&buyer_name=A",
                       content_type="application/x-www-form-urlencoded").status_code == 200
    assert client.post(f"/dat-hang/{slug}/", b"\xff\xfe", content_type="application/json").status_code == 200


def test_the_cancel_form_and_the_producers_actions_answer_junk(market, placed, client_for, tule, in_commune):
    buyer = client_for(HOST, market["buyer"])
    code = placed["account"].code
    for value in JUNK[:6]:
        assert buyer.post(f"/don-hang/{code}/huy/", {"reason": value}).status_code in (200, 302)
    seller = client_for(HOST, market["seller"])
    order = placed["guest"]
    seller.post(f"/ocop/orders/{order.pk}/confirm/")
    for value in JUNK:
        response = seller.post(f"/ocop/orders/{order.pk}/pay/", {"amount": value, "transaction_id": value})
        assert response.status_code == 400, (value, response.status_code)
    assert seller.post(f"/ocop/orders/{order.pk}/ship/", {"shipping_note": "x"}).status_code == 409
    assert seller.post(f"/ocop/orders/{order.pk}/cancel/", {"reason": "a" * 5000}).status_code == 400
    for pk in ("0", "99999999999999999999"):
        assert seller.get(f"/ocop/orders/{pk}/").status_code == 404
    assert seller.get("/ocop/orders/", {"state": "\x00"}).status_code == 400  # NUL bytes: refused by the middleware
    for query in ({"producer": "a" * 500}, {"q": "%" * 300}, {"q": "\u202e"}, {"page": "-1"}, {"page": "9" * 30}):
        assert seller.get("/ocop/orders/", query).status_code == 200


def call(case, headers):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        return case.call(headers=headers)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.parametrize("who", ["buyer", "seller"])
def test_schemathesis_finds_no_server_error_in_the_orders_api(who, market, placed, client_for):
    response = client_for(HOST).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = application
    token, _ = Token.objects.get_or_create(user=market[who])
    headers = {"Host": HOST, "Authorization": f"Token {token.key}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()
                  if result.ok().path.startswith(("/api/v1/ocop/orders", "/api/v1/ocop/bank-notifications"))]
    assert len(operations) >= 9
    for operation in operations:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            if "id" in (case.path_parameters or {}) and hash(str(case.body)) % 2:
                case.path_parameters["id"] = placed["account"].pk  # a real order now and then
            answer = call(case, headers)
            if answer.status_code >= 500:
                failures.append(f"{operation.method.upper()} {operation.path}: {answer.status_code} "
                                f"{case.path_parameters} {case.body!r}"[:400])
            case.validate_response(answer, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - keep going: report every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:300]}")
    assert not failures, "\n".join(failures)
