"""The buyer's pages: ordering as a guest or with an account, the confirmation, the order's page
(the VietQR only once the producer confirmed), cancelling, and the lookup by code and phone."""
from __future__ import annotations

import re
import uuid

from core import vietqr

HOST = "tule.localhost"


def order_form(client, product):
    page = client.get(f"/dat-hang/{product.slug}/")
    assert page.status_code == 200
    token = re.search(r'name="submit_token" value="([0-9a-f-]+)"', page.content.decode()).group(1)
    return page, token


def guest_data(token, **overrides):
    data = {"quantity": "3", "buyer_name": "Lường Thị Hoa", "buyer_phone": "0987 654 321",
            "buyer_email": "", "delivery_address": "Bản Lìm, xã Tú Lệ, Yên Bái", "note": "Giao buổi sáng",
            "submit_token": token}
    data.update(overrides)
    return data


def test_a_guest_orders_once_even_with_a_double_click(market, client_for, tule, in_commune):
    from ecommerce.models import Order

    client = client_for(HOST)
    page, token = order_form(client, market["rice"])
    text = page.content.decode()
    assert "60.000 đ" in text and "HTX Nếp Thử" in text and "Đặt hàng" in text
    first = client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(token))
    assert first.status_code == 302
    second = client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(token))
    assert second.status_code == 302 and second["Location"] == first["Location"]
    with in_commune(tule):
        [order] = Order.objects.filter(buyer_phone="0987654321")
        assert (order.total, order.buyer_id, order.state, order.note) == (180_000, None, "placed", "Giao buổi sáng")
        assert order.lines.get().quantity == 3
    assert first["Location"] == f"/don-hang/{order.code}/da-dat/"
    placed = client.get(first["Location"]).content.decode()
    assert order.code in placed and "180.000 đ" in placed
    assert "098*******" in placed  # the phone the SMS goes to, masked
    # Not confirmed yet: no VietQR, and the page says why.
    assert 'id="vietqr"' not in placed and "Chưa chuyển tiền" in placed
    assert client.get(f"/don-hang/{order.code}/vietqr.png").status_code == 404


def test_the_vietqr_appears_once_the_producer_confirmed(market, client_for, tule, in_commune):
    from ecommerce import services
    from ecommerce.models import Order

    client = client_for(HOST)
    _page, token = order_form(client, market["rice"])
    client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(token, quantity="2"))
    with in_commune(tule):
        order = Order.objects.get(submit_token=token)
        services.confirm_order(market["seller"], order)
    page = client.get(f"/don-hang/{order.code}/").content.decode()
    assert 'id="vietqr"' in page and f"DH {order.code}" in page and "000004630001" in page
    assert "120.000 đ" in page
    image = client.get(f"/don-hang/{order.code}/vietqr.png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    from ecommerce import vietqr as order_vietqr

    with in_commune(tule):
        payload = vietqr.parse_payload(order_vietqr.payload_for(order))
    assert payload["54"] == "120000" and payload["62"]["08"] == f"DH {order.code}"
    assert payload["38"]["01"] == {"00": "970405", "01": "000004630001"}


def test_a_citizen_orders_with_the_account_and_finds_it_in_my_orders(market, client_for, tule, in_commune):
    from ecommerce.models import Order

    buyer = market["buyer"]
    client = client_for(HOST, buyer)
    page, token = order_form(client, market["rice"])
    text = page.content.decode()
    assert 'value="Hoàng Văn Nam"' in text and 'value="0912345678"' in text  # filled in from the account
    response = client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(
        token, buyer_name="Hoàng Văn Nam", buyer_phone="0912345678"))
    assert response.status_code == 302
    with in_commune(tule):
        order = Order.objects.get(buyer_id=buyer.pk)
    mine = client.get("/don-hang/cua-toi/").content.decode()
    assert order.code in mine
    # Another browser (a stranger) is sent to the lookup, the code filled in.
    stranger = client_for(HOST).get(f"/don-hang/{order.code}/")
    assert stranger.status_code == 302 and stranger["Location"] == f"/don-hang/?code={order.code}"
    unknown = client_for(HOST).get("/don-hang/ZZZZZZZZ/")
    assert unknown.status_code == 302 and unknown["Location"] == "/don-hang/?code=ZZZZZZZZ"


def test_errors_are_specific_and_keep_what_was_typed(market, client_for, tule, in_commune):
    from ecommerce.models import Order

    client = client_for(HOST)
    _page, token = order_form(client, market["rice"])
    response = client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(
        token, quantity="1", buyer_phone="024 3825 1234", delivery_address=""))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Có lỗi cần sửa" in text
    assert "Gạo nếp Thử” bán từ 2 kg" in text or "bán từ 2 kg" in text
    assert "Nhập số điện thoại di động Việt Nam gồm 10 chữ số" in text
    assert "Nhập địa chỉ nhận hàng" in text
    assert 'value="Lường Thị Hoa"' in text and "Giao buổi sáng" in text and 'value="024 3825 1234"' in text
    too_many = client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(token, quantity="11"))
    assert "chỉ còn 10 kg" in too_many.content.decode()
    huge = client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(token, quantity="9" * 30))
    assert huge.status_code == 200 and "chỉ còn 10 kg" in huge.content.decode()
    words = client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(token, quantity="ba"))
    assert "Nhập số lượng là một số nguyên" in words.content.decode()
    stale = client.post(f"/dat-hang/{market['rice'].slug}/", guest_data("not-a-token"))
    stale_text = stale.content.decode()
    assert "Biểu mẫu đã hết hạn" in stale_text
    fresh = re.search(r'name="submit_token" value="([0-9a-f-]+)"', stale_text).group(1)
    assert uuid.UUID(fresh)
    with in_commune(tule):
        assert not Order.objects.filter(buyer_phone="0987654321").exists()
    assert client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(fresh)).status_code == 302


def test_an_unlisted_or_sold_out_product(market, client_for, tule, in_commune):
    from ecommerce import services

    client = client_for(HOST)
    assert client.get("/dat-hang/khong-co-san-pham-nay/").status_code == 404
    with in_commune(tule):
        services.set_stock(market["seller"], market["rice"], 1)
    text = client.get(f"/dat-hang/{market['rice'].slug}/").content.decode()
    assert "Sản phẩm này tạm hết hàng" in text and 'name="submit_token"' not in text


def test_a_guest_cancels_before_paying_and_the_stock_comes_back(market, client_for, tule, in_commune):
    from ecommerce import services
    from ecommerce.models import Order, Product

    client = client_for(HOST)
    _page, token = order_form(client, market["rice"])
    client.post(f"/dat-hang/{market['rice'].slug}/", guest_data(token, quantity="4"))
    with in_commune(tule):
        order = Order.objects.get(submit_token=token)
        services.confirm_order(market["seller"], order)
        assert Product.objects.get(pk=market["rice"].pk).stock == 6
    page = client.get(f"/don-hang/{order.code}/").content.decode()
    assert 'id="cancel-order"' in page
    ask = client.get(f"/don-hang/{order.code}/huy/")
    assert ask.status_code == 200 and "Hủy đơn hàng?" in ask.content.decode()
    empty = client.post(f"/don-hang/{order.code}/huy/", {"reason": "  "})
    assert "Nêu lý do hủy" in empty.content.decode()
    done = client.post(f"/don-hang/{order.code}/huy/", {"reason": "Đặt nhầm số lượng"})
    assert done.status_code == 302
    with in_commune(tule):
        order.refresh_from_db()
        assert order.state == "cancelled" and order.cancel_reason == "Đặt nhầm số lượng"
        assert Product.objects.get(pk=market["rice"].pk).stock == 10
        assert order.events.get(kind="cancelled").actor_name == "Lường Thị Hoa"
    after = client.get(f"/don-hang/{order.code}/").content.decode()
    assert "Đã hủy" in after and "Đặt nhầm số lượng" in after and 'id="cancel-order"' not in after


def test_the_lookup_by_code_and_phone_is_throttled(market, client_for, tule, in_commune, settings):
    from ecommerce import services

    settings.XASO_LOOKUP_MAX_FAILURES = 3
    with in_commune(tule):
        order = services.place_order(lines=[(market["rice"], 2)], buyer_name="Khách", buyer_phone="0977123456",
                                     delivery_address="Tú Lệ")
    client = client_for(HOST)
    form = client.get(f"/don-hang/?code={order.code}").content.decode()
    assert f'value="{order.code}"' in form
    wrong = client.post("/don-hang/", {"code": order.code.lower(), "phone_last4": "0000"})
    assert wrong.status_code == 200 and "Không có đơn hàng nào khớp" in wrong.content.decode()
    assert f'value="{order.code.lower()}"' in wrong.content.decode()  # what was typed stays
    unknown = client.post("/don-hang/", {"code": "QQQQQQQQ", "phone_last4": "3456"})
    assert "Không có đơn hàng nào khớp" in unknown.content.decode()  # the same answer
    right = client.post("/don-hang/", {"code": f" {order.code} ", "phone_last4": "3456"})
    assert right.status_code == 302 and right["Location"] == f"/don-hang/{order.code}/"
    page = client.get(right["Location"]).content.decode()
    assert "chờ chủ thể xác nhận" in page and "097*******" in page
    # A guesser of the four digits is stopped after three wrong tries for the code.
    guesser = client_for(HOST)
    for digits in ("1111", "2222", "3333"):
        assert guesser.post("/don-hang/", {"code": order.code, "phone_last4": digits}).status_code == 200
    stopped = guesser.post("/don-hang/", {"code": order.code, "phone_last4": "3456"})
    assert stopped.status_code == 429 and "Retry-After" in stopped
    assert "Có quá nhiều lượt tra cứu" in stopped.content.decode() and order.code in stopped.content.decode()
    bad = client_for(HOST).post("/don-hang/", {"code": "<script>", "phone_last4": "12ab"})
    assert bad.status_code == 200 and "Mã đơn hàng chỉ gồm chữ và số" in bad.content.decode()


def test_the_lookup_per_address_budget(market, client_for, settings):
    settings.XASO_LOOKUP_RATE = "2/hour"
    client = client_for(HOST)
    for _attempt in range(2):
        assert client.post("/don-hang/", {"code": "QQQQQQQQ", "phone_last4": "1234"}).status_code == 200
    assert client.post("/don-hang/", {"code": "QQQQQQQQ", "phone_last4": "1234"}).status_code == 429
