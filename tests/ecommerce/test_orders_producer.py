"""The producer's order pages: the lists the inbox lines open, the actions of each state with
their next step, a clear refusal when the stock is short, only the producer's members act, the
commune's staff read with the buyer's phone masked; the history is kept."""
from __future__ import annotations

import pytest

HOST = "tule.localhost"


@pytest.fixture
def orders(market, tule, in_commune):
    from ecommerce import services

    with in_commune(tule):
        placed = services.place_order(lines=[(market["rice"], 3)], buyer_name="Lường Thị Hoa", buyer_phone="0987654321",
                                      delivery_address="Bản Lìm, Tú Lệ", note="Giao buổi sáng")
        other = services.place_order(lines=[(market["tea"], 1)], buyer_name="Vì Văn Sơn", buyer_phone="0977111222",
                                     delivery_address="Bản Ngã")
    return {"placed": placed, "other": other}


def test_the_inbox_lines_open_the_lists_of_orders(market, orders, client_for, tule, in_commune):
    from ecommerce.inbox import producer_lines

    with in_commune(tule):
        lines = {line.key: line for line in producer_lines(market["seller"])}
    assert lines["ecommerce.orders_to_confirm"].url == "/ocop/orders/?state=placed"
    assert lines["ecommerce.orders_to_ship"].url == "/ocop/orders/?state=paid"
    seller = client_for(HOST, market["seller"])
    page = seller.get(lines["ecommerce.orders_to_confirm"].url)
    text = page.content.decode()
    assert page.status_code == 200 and orders["placed"].code in text and orders["other"].code not in text
    assert 'aria-current="page"' in text and "Cần xác nhận" in text
    assert "Gạo nếp Thử × 3 kg" in text and "180.000 đ" in text
    assert orders["placed"].code not in seller.get("/ocop/orders/?state=paid").content.decode()
    home = seller.get("/ocop/").content.decode()
    assert f'href="/ocop/orders/{orders["placed"].pk}/"' in home


def test_confirm_pay_ship_deliver_with_the_next_step(market, orders, client_for, tule, in_commune):
    from ecommerce.models import Order, Product

    order = orders["placed"]
    seller = client_for(HOST, market["seller"])
    page = seller.get(f"/ocop/orders/{order.pk}/").content.decode()
    assert "0987654321" in page and "Bản Lìm, Tú Lệ" in page and "Giao buổi sáng" in page
    assert 'id="action-confirm"' in page and 'id="action-ship"' not in page
    done = seller.post(f"/ocop/orders/{order.pk}/confirm/", follow=True)
    text = done.content.decode()
    assert "Đã xác nhận đơn hàng" in text and "Bước tiếp theo" in text
    assert 'id="action-pay"' in text and 'value="180.000"' in text
    with in_commune(tule):
        assert Product.objects.get(pk=market["rice"].pk).stock == 7
    wrong = seller.post(f"/ocop/orders/{order.pk}/pay/", {"amount": "100.000", "transaction_id": ""})
    assert wrong.status_code == 400
    assert "không bằng tổng tiền đơn hàng" in wrong.content.decode() and 'value="100.000"' in wrong.content.decode()
    seller.post(f"/ocop/orders/{order.pk}/pay/", {"amount": "180.000", "transaction_id": "FT123"})
    shipped = seller.post(f"/ocop/orders/{order.pk}/ship/", {"shipping_note": "Viettel Post VD1"}, follow=True)
    assert "Đã gửi hàng" in shipped.content.decode()
    seller.post(f"/ocop/orders/{order.pk}/deliver/")
    with in_commune(tule):
        order = Order.objects.get(pk=order.pk)
        assert order.state == "delivered" and order.shipping_note == "Viettel Post VD1"
        assert list(order.events.values_list("kind", flat=True)) == ["placed", "confirmed", "paid", "shipped", "delivered"]
        assert [h.history_change_reason for h in order.history.order_by("history_id")] == [
            "placed", "confirmed", "paid (producer)", "shipped", "delivered"]
        assert order.payments.get().transaction_id == "FT123"
    final = seller.get(f"/ocop/orders/{order.pk}/").content.decode()
    assert 'id="order-actions"' not in final and "Viettel Post VD1" in final
    assert seller.post(f"/ocop/orders/{order.pk}/confirm/").status_code == 409  # not in that state any more


def test_not_enough_stock_is_told_clearly_and_nothing_is_taken(market, orders, client_for, tule, in_commune):
    from ecommerce import services
    from ecommerce.models import Order, Product

    with in_commune(tule):
        services.set_stock(market["seller"], market["rice"], 2)
    seller = client_for(HOST, market["seller"])
    refused = seller.post(f"/ocop/orders/{orders['placed'].pk}/confirm/")
    text = refused.content.decode()
    assert refused.status_code == 409
    assert "Không đủ hàng “Gạo nếp Thử”: đặt 3 kg, còn 2." in text
    assert "cập nhật tồn kho" in text and "hủy đơn kèm lý do" in text
    with in_commune(tule):
        assert Product.objects.get(pk=market["rice"].pk).stock == 2
        assert Order.objects.get(pk=orders["placed"].pk).state == "placed"
    empty = seller.post(f"/ocop/orders/{orders['placed'].pk}/cancel/", {"reason": ""})
    assert empty.status_code == 400 and "Nêu lý do hủy" in empty.content.decode()
    seller.post(f"/ocop/orders/{orders['placed'].pk}/cancel/", {"reason": "Hết gạo nếp vụ này"})
    with in_commune(tule):
        order = Order.objects.get(pk=orders["placed"].pk)
        assert order.state == "cancelled" and order.cancel_reason == "Hết gạo nếp vụ này"


def test_only_the_producers_members_act_and_staff_read_masked(market, orders, client_for, people):
    placed, other = orders["placed"], orders["other"]
    rival = client_for(HOST, market["rival"])
    assert rival.get(f"/ocop/orders/{placed.pk}/").status_code == 404
    assert rival.post(f"/ocop/orders/{placed.pk}/confirm/").status_code == 404
    assert placed.code not in rival.get("/ocop/orders/").content.decode()
    assert other.code in rival.get("/ocop/orders/").content.decode()
    officer = client_for(HOST, people["officer"])
    page = officer.get(f"/ocop/orders/{placed.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "098*******" in text and "0987654321" not in text
    assert "Bản Lìm" not in text and 'id="order-actions"' not in text
    assert officer.post(f"/ocop/orders/{placed.pk}/confirm/").status_code == 403
    listing = officer.get("/ocop/orders/").content.decode()
    assert placed.code in listing and other.code in listing
    assert client_for(HOST, people["clerk"]).get("/ocop/orders/").status_code == 403
    assert client_for(HOST, people["buyer"]).get("/ocop/orders/").status_code == 403
    anonymous = client_for(HOST).get("/ocop/orders/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    seller = client_for(HOST, market["seller"])
    assert seller.post(f"/ocop/orders/{placed.pk}/unknown/").status_code == 404
    assert seller.get(f"/ocop/orders/{placed.pk}/confirm/").status_code == 405
    assert seller.get("/ocop/orders/?state=nonsense&page=abc&producer=x").status_code == 200


def test_another_commune_sees_none_of_these_orders(market, orders, client_for, yenhoa, make_user):
    from communes.models import Role

    seller_elsewhere = make_user("ocop_seller_yh", roles={yenhoa: [Role.PRODUCER, Role.ECONOMY_OFFICER]})
    client = client_for("yenhoa.localhost", seller_elsewhere)
    assert client.get(f"/ocop/orders/{orders['placed'].pk}/").status_code == 404
    assert orders["placed"].code not in client.get("/ocop/orders/").content.decode()
    # The producer of Tú Lệ is nobody on Yên Mô's host.
    assert client_for("yenhoa.localhost", market["seller"]).get("/ocop/orders/").status_code == 403
