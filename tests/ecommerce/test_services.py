"""The marketplace's services against the real PostgreSQL: each state change checks the role and
the producer, refuses bad input with a clear message and a code, and writes its history."""
from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ecommerce import permissions, selectors, services
from ecommerce.models import (
    CODE_ALPHABET, Certificate, Order, OrderEvent, OrderPayment, OrderState, Producer, ProducerMember, ProducerStatus,
    Product, ProductStatus, ProductVersion, TraceCode, TraceScanDay, VersionState,
)


def _refusal(exc_info) -> tuple[str, dict]:
    exc = exc_info.value
    fields = exc.message_dict if hasattr(exc, "error_dict") else {}
    return services.error_code(exc), fields


# --- producers ---------------------------------------------------------------------------------

def test_a_producer_registers_waits_for_approval_and_becomes_its_member(market):
    seller, officer = market["seller"], market["officer"]
    producer = services.register_producer(
        seller, kind="enterprise", name="  Công ty  Thử ", representative="Lò Văn Pản", phone="091 200 0109",
        address="Bản Thử Chợ", village=market["village"].pk, tax_code="0300588569", email="htx@example.vn")
    assert producer.status == ProducerStatus.PENDING and producer.name == "Công ty Thử"
    assert producer.phone == "0912000109" and producer.slug == "cong-ty-thu"
    assert ProducerMember.objects.filter(producer=producer, user_id=seller.pk).exists()
    assert permissions.can(seller, "product.write", producer)
    assert producer.history.first().history_change_reason == "registered"
    # Not approved: its products are not listed; only the economy officer approves.
    with pytest.raises(PermissionDenied):
        services.approve_producer(seller, producer)
    with pytest.raises(PermissionDenied):
        services.approve_producer(market["chairman"], producer)
    approved = services.approve_producer(officer, producer)
    assert approved.status == ProducerStatus.APPROVED and approved.approved_by_id == officer.pk
    assert approved.approved_at is not None
    with pytest.raises(ValidationError) as again:
        services.approve_producer(officer, producer)
    assert _refusal(again)[0] == "wrong_state"


@pytest.mark.parametrize("field, value, code", [
    ("phone", "12345", "invalid_phone"),
    ("tax_code", "0300588568", "invalid_tax_code"),
    ("village", 999999, "invalid_choice"),
    ("kind", "shop", "invalid_choice"),
    ("name", "   ", "required"),
    ("bank_account", "12 34-56", "invalid_bank"),
    ("email", "not-an-address", "invalid_email"),
])
def test_bad_producer_input_is_refused_on_its_field(market, field, value, code):
    data = {"kind": "cooperative", "name": "HTX Sai", "representative": "A", "phone": "0912000109",
            "address": "Bản", "village": market["village"], "bank_bin": "970405", "bank_account": "0001",
            "bank_account_name": "THU NGHIEM", field: value}
    before = Producer.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.register_producer(market["seller"], **data)
    assert _refusal(refused) [0] == code and field in _refusal(refused)[1]
    assert Producer.objects.count() == before


def test_a_suspended_producer_leaves_the_listing_and_cannot_change_products(market):
    officer, rice = market["officer"], market["rice"]
    assert rice in selectors.listed_products()
    with pytest.raises(ValidationError):
        services.suspend_producer(officer, market["ours"], "  ")
    services.suspend_producer(officer, market["ours"], "Chứng nhận an toàn thực phẩm hết hạn.")
    assert rice not in selectors.listed_products()
    with pytest.raises(ValidationError) as refused:
        services.set_stock(market["seller"], rice, 3)
    assert _refusal(refused)[0] == "producer_suspended"
    services.approve_producer(officer, market["ours"])
    assert rice in selectors.listed_products()


def test_members_are_only_users_with_the_producer_role(market):
    with pytest.raises(ValidationError):
        services.add_member(market["officer"], market["ours"], market["clerk"])
    services.add_member(market["officer"], market["ours"], market["rival"])
    assert permissions.can(market["rival"], "product.write", market["ours"])
    with pytest.raises(PermissionDenied):
        services.add_member(market["seller"], market["ours"], market["rival"])


# --- products and versions ---------------------------------------------------------------------

def test_an_approved_products_change_waits_while_the_listing_shows_the_approved_version(market):
    seller, officer, rice = market["seller"], market["officer"], market["rice"]
    first = rice.live_version
    assert rice.status == ProductStatus.PUBLISHED and first.price == 60_000 and rice.published_at
    change = services.save_version(seller, rice, price=65_000, description="Gạo nếp Tan, vụ mới.")
    assert change.number == 2 and change.state == VersionState.DRAFT and change.name == first.name
    services.submit_version(seller, rice)
    rice.refresh_from_db()
    assert rice.status == ProductStatus.PUBLISHED and rice.live_version_id == first.pk
    assert rice.pending_version_id == change.pk and rice in selectors.listed_products()
    assert list(selectors.versions_waiting()) == [change]
    # Reject: the listing keeps the first version.
    with pytest.raises(ValidationError):
        services.reject_version(officer, change, "")
    services.reject_version(officer, change, "Giá không khớp với bảng giá đã niêm yết.")
    rice.refresh_from_db()
    assert rice.pending_version_id is None and rice.live_version_id == first.pk
    # A new change, approved: it replaces the live version.
    third = services.save_version(seller, rice, price=62_000)
    assert third.number == 3 and third.description == first.description
    services.submit_version(seller, rice)
    with pytest.raises(PermissionDenied):
        services.approve_version(seller, third)
    services.approve_version(officer, third)
    rice.refresh_from_db()
    assert rice.live_version.price == 62_000 and rice.pending_version_id is None
    first.refresh_from_db()
    assert first.state == VersionState.APPROVED  # earlier versions stay as they were
    reasons = list(rice.history.values_list("history_change_reason", flat=True))
    assert "approved v3" in reasons and "rejected v2" in reasons


def test_a_new_products_first_version_goes_through_approval(market):
    seller, officer = market["seller"], market["officer"]
    product = services.create_product(seller, market["ours"], name="Cốm Thử", group="1", price=150000, unit="kg",
                                      description="Cốm.", season_months=[9, 10, 11])
    assert product.status == ProductStatus.DRAFT and product.live_version_id is None
    version = services.submit_version(seller, product)
    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING and product not in selectors.listed_products()
    services.reject_version(officer, version, "Thiếu mô tả quy cách đóng gói.")
    product.refresh_from_db()
    assert product.status == ProductStatus.DRAFT
    # The producer writes again from the rejected content and sends it.
    again = services.save_version(seller, product, description="Cốm, túi 500 g.")
    assert again.number == 2 and again.state == VersionState.DRAFT
    services.submit_version(seller, product)
    # Editing a submitted version takes it back to draft.
    back = services.save_version(seller, product, unit="túi 500 g")
    product.refresh_from_db()
    assert back.pk == again.pk and back.state == VersionState.DRAFT and product.status == ProductStatus.DRAFT
    services.submit_version(seller, product)
    services.approve_version(officer, again)
    product.refresh_from_db()
    assert product.status == ProductStatus.PUBLISHED and product.live_version.unit == "túi 500 g"
    assert product.live_version.in_season(10) and not product.live_version.in_season(3)


@pytest.mark.parametrize("field, value", [
    ("price", 0), ("price", -5), ("price", "abc"), ("price", 10**12), ("min_order", 0), ("group", "99"),
    ("subgroup", "2.1"), ("season_months", [13]), ("name", ""), ("description", ""),
])
def test_bad_product_input_is_refused_and_nothing_is_written(market, field, value):
    data = {"name": "Sản phẩm", "group": "1", "price": 1000, "unit": "kg", "description": "Mô tả.", field: value}
    before = (Product.objects.count(), ProductVersion.objects.count())
    with pytest.raises(ValidationError) as refused:
        services.create_product(market["seller"], market["ours"], **data)
    assert field in _refusal(refused)[1]
    assert (Product.objects.count(), ProductVersion.objects.count()) == before


def test_a_producer_cannot_touch_another_producers_rows(market):
    seller, rival, tea = market["seller"], market["rival"], market["tea"]
    with pytest.raises(PermissionDenied):
        services.save_version(seller, tea, price=1)
    with pytest.raises(PermissionDenied):
        services.set_stock(seller, tea, 100)
    with pytest.raises(PermissionDenied):
        services.create_product(seller, market["theirs"], name="X", group="1", price=1, unit="kg", description="x")
    with pytest.raises(PermissionDenied):
        services.create_lot(seller, tea, number="L1", produced_on=timezone.localdate(), quantity=1, unit="kg")
    with pytest.raises(PermissionDenied):
        services.hide_product(seller, tea)
    with pytest.raises(PermissionDenied):
        services.update_producer(seller, market["theirs"], phone="0912000999")
    # Reads: a producer sees their own rows only; the officer and the chairman see all.
    assert set(selectors.products_for(seller)) == {market["rice"]}
    assert set(selectors.products_for(rival)) == {tea}
    assert set(selectors.producers_for(seller)) == {market["ours"]}
    assert set(selectors.products_for(market["chairman"])) == {market["rice"], tea}
    assert not selectors.products_for(market["clerk"]).exists()
    assert not selectors.products_for(market["buyer"]).exists()
    # The chairman reads but does not write.
    with pytest.raises(PermissionDenied):
        services.set_stock(market["chairman"], tea, 1)
    tea.refresh_from_db()
    assert tea.stock == 5


def test_stock_is_set_within_its_bounds_and_hidden_products_leave_the_listing(market):
    seller, rice = market["seller"], market["rice"]
    for bad in (-1, "1,5", 10**9):
        with pytest.raises(ValidationError):
            services.set_stock(seller, rice, bad)
    services.set_stock(seller, rice, "1.200")
    rice.refresh_from_db()
    assert rice.stock == 1200
    services.hide_product(seller, rice, "Hết mùa.")
    assert rice not in selectors.listed_products()
    services.show_product(seller, rice)
    assert rice in selectors.listed_products()


def test_a_gtin_is_checked_and_unique(market):
    seller = market["seller"]
    product = services.create_product(seller, market["ours"], gtin="893 4563 12345 1", name="Có mã", group="1",
                                      price=1000, unit="kg", description="x")
    assert product.gtin == "08934563123451"
    for gtin in ("8934563123452", "08934563123451"):
        with pytest.raises(ValidationError) as refused:
            services.create_product(seller, market["ours"], gtin=gtin, name="Khác", group="1", price=1000, unit="kg",
                                    description="x")
        assert "gtin" in _refusal(refused)[1]


# --- certificates ------------------------------------------------------------------------------

def test_certificates_give_stars_until_they_expire(market):
    officer, rice = market["officer"], market["rice"]
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        services.add_certificate(market["seller"], rice, number="1", score=80, issuing_authority="UBND tỉnh",
                                 issued_on=today)
    with pytest.raises(ValidationError) as future:
        services.add_certificate(officer, rice, number="1", score=80, issuing_authority="UBND tỉnh",
                                 issued_on=today + datetime.timedelta(days=1))
    assert "issued_on" in _refusal(future)[1]
    with pytest.raises(ValidationError):
        services.add_certificate(officer, rice, number="1", score=101, issuing_authority="UBND tỉnh", issued_on=today)
    issued = today - datetime.timedelta(days=365 * 3 - 20)
    certificate = services.add_certificate(officer, rice, number="412/QĐ-UBND", score=78,
                                           issuing_authority="UBND tỉnh Yên Bái", issued_on=issued.strftime("%d/%m/%Y"))
    certificate.refresh_from_db()
    assert certificate.stars == 4 and certificate.expires_on > today
    assert selectors.stars_now(rice).stars == 4
    assert selectors.with_stars(Product.objects.filter(pk=rice.pk)).get().stars_today == 4
    assert list(selectors.certificates_expiring(90)) == [certificate]
    assert list(selectors.certificates_to_warn(90)) == [certificate]
    # Time moves past the end: no star, and the reason.
    after = certificate.expires_on
    shown = selectors.stars_now(rice, on=after)
    assert shown.stars == 0 and shown.expired and after.strftime("%d/%m/%Y") in shown.reason
    assert selectors.with_stars(Product.objects.filter(pk=rice.pk), on=after).get().stars_today == 0
    with pytest.raises(ValidationError) as twice:
        services.add_certificate(officer, rice, number="412/QĐ-UBND", score=78,
                                 issuing_authority="UBND tỉnh Yên Bái", issued_on=issued)
    assert _refusal(twice)[0] == "duplicate"
    assert Certificate.objects.filter(product=rice).count() == 1


# --- lots and traceability ---------------------------------------------------------------------

def test_a_lot_gets_its_codes_and_events(market):
    seller, rice = market["seller"], market["rice"]
    lot = services.create_lot(seller, rice, number="NEP2025-01", produced_on=timezone.localdate(), quantity=1200,
                              unit="kg", input_notes="Phân chuồng.", item_codes=30)
    codes = list(TraceCode.objects.filter(lot=lot))
    assert len(codes) == 31 and len({c.code for c in codes}) == 31
    assert [c.serial for c in codes if c.serial is None] == [None]
    assert all(set(c.code) <= set(CODE_ALPHABET) and len(c.code) == 8 for c in codes)
    with pytest.raises(ValidationError) as twice:
        services.create_lot(seller, rice, number="NEP2025-01", produced_on=timezone.localdate(), quantity=1, unit="kg")
    assert "number" in _refusal(twice)[1]
    for bad in ({"quantity": 0}, {"produced_on": timezone.localdate() + datetime.timedelta(days=2)},
                {"item_codes": 10**6}, {"number": "lô 1/2"}):
        fields = {"number": "NEP-X", "produced_on": timezone.localdate(), "quantity": 5, "unit": "kg", **bad}
        with pytest.raises(ValidationError):
            services.create_lot(seller, rice, **fields)
    event = services.add_trace_event(seller, lot, kind="packed", place="Xưởng", note="Đóng gói.")
    assert event.lot == lot
    with pytest.raises(ValidationError):
        services.add_trace_event(seller, lot, kind="eaten")
    with pytest.raises(ValidationError):
        services.add_trace_event(seller, lot, kind="shipped", at=timezone.now() + datetime.timedelta(days=1))
    with pytest.raises(PermissionDenied):
        services.add_trace_event(market["rival"], lot, kind="other")
    code = codes[0]
    for _ in range(3):
        services.count_scan(code)
    assert TraceScanDay.objects.get(code=code, day=timezone.localdate()).count == 3


# --- orders ------------------------------------------------------------------------------------

def _place(market, quantity=3, **extra):
    fields = {"lines": [(market["rice"], quantity)], "buyer_name": "Nguyễn Thị Hạnh", "buyer_phone": "0912 345 001",
              "delivery_address": "Số 1 Trần Phú, Yên Bái", **extra}
    return services.place_order(**fields)


def test_the_order_flow_from_placing_to_delivery(market):
    seller, rice = market["seller"], market["rice"]
    order = _place(market, quantity=3, buyer=market["buyer"], note="Giao giờ hành chính.")
    assert order.state == OrderState.PLACED and order.total == 180_000 and order.subtotal == 180_000
    assert order.buyer_phone == "0912345001" and len(order.code) == 8
    line = order.lines.get()
    assert (line.name, line.unit, line.unit_price, line.amount) == ("Gạo nếp Thử", "kg", 60_000, 180_000)
    assert line.version_id == rice.live_version_id
    rice.refresh_from_db()
    assert rice.stock == 10  # placing reserves nothing
    services.confirm_order(seller, order)
    rice.refresh_from_db()
    assert rice.stock == 7
    with pytest.raises(ValidationError) as wrong:
        services.mark_paid(seller, order, amount=170_000)
    assert _refusal(wrong)[0] == "wrong_amount" and "amount" in _refusal(wrong)[1]
    services.mark_paid(seller, order, amount=180_000, transaction_id="FT2601")
    order.refresh_from_db()
    assert order.state == OrderState.PAID and order.paid_at
    # A replayed bank notification changes nothing; the same transaction on another order is refused.
    services.mark_paid(None, order, amount=180_000, transaction_id="FT2601", source="bank")
    assert OrderPayment.objects.filter(order=order).count() == 1
    other = _place(market, quantity=2)
    services.confirm_order(seller, other)
    with pytest.raises(ValidationError) as reused:
        services.mark_paid(None, other, amount=other.total, transaction_id="FT2601", source="bank")
    assert _refusal(reused)[0] == "duplicate_transaction"
    services.ship_order(seller, order, "Viettel Post 123")
    services.deliver_order(market["buyer"], order)  # the buyer says it arrived
    order.refresh_from_db()
    assert order.state == OrderState.DELIVERED and order.shipping_note == "Viettel Post 123"
    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == ["placed", "confirmed", "paid", "shipped", "delivered"]
    assert order.history.count() == 5
    with pytest.raises(ValidationError):
        services.cancel_order(seller, order, "Muộn.")


def test_placing_is_idempotent_by_its_submission_key(market):
    token = uuid.uuid4()
    first = _place(market, submit_token=token)
    again = _place(market, submit_token=str(token))
    assert again.pk == first.pk and again.repeated and not first.repeated
    assert Order.objects.count() == 1
    with pytest.raises(ValidationError) as other_buyer:
        _place(market, submit_token=token, buyer_phone="0983000999")
    assert _refusal(other_buyer)[0] == "duplicate_token"
    with pytest.raises(ValidationError):
        _place(market, submit_token="not-a-uuid")


@pytest.mark.parametrize("change, code", [
    ({"quantity": 1}, "below_minimum"),
    ({"quantity": 11}, "not_enough_stock"),
    ({"quantity": 10**7}, "out_of_range"),
    ({"quantity": -2}, "out_of_range"),
    ({"quantity": "ba"}, "invalid_number"),
    ({"buyer_phone": "12345"}, "invalid_phone"),
    ({"buyer_name": ""}, "required"),
    ({"delivery_address": ""}, "required"),
    ({"lines": []}, "required"),
])
def test_bad_orders_are_refused_with_nothing_written(market, change, code):
    quantity = change.pop("quantity", 3)
    before = Order.objects.count()
    with pytest.raises(ValidationError) as refused:
        _place(market, quantity=quantity, **change)
    assert _refusal(refused)[0] == code
    assert Order.objects.count() == before


def test_an_order_needs_listed_products_of_one_approved_producer(market):
    officer = market["officer"]
    with pytest.raises(ValidationError) as two:
        _place(market, lines=[(market["rice"], 2), (market["tea"], 1)])
    assert _refusal(two)[0] == "several_producers"
    services.suspend_producer(officer, market["theirs"], "Tạm dừng.")
    with pytest.raises(ValidationError) as suspended:
        _place(market, lines=[(market["tea"], 1)])
    assert _refusal(suspended)[0] == "not_listed"
    services.hide_product(market["seller"], market["rice"])
    with pytest.raises(ValidationError) as hidden:
        _place(market)
    assert _refusal(hidden)[0] == "not_listed"
    with pytest.raises(ValidationError):
        _place(market, lines=[(987654, 2)])


def test_confirming_more_than_the_stock_is_refused_and_takes_nothing(market):
    seller, rice = market["seller"], market["rice"]
    first, second = _place(market, quantity=6), _place(market, quantity=6)
    services.confirm_order(seller, first)
    with pytest.raises(ValidationError) as refused:
        services.confirm_order(seller, second)
    assert _refusal(refused)[0] == "not_enough_stock" and "4" in refused.value.messages[0]
    second.refresh_from_db()
    rice.refresh_from_db()
    assert second.state == OrderState.PLACED and rice.stock == 4
    with pytest.raises(ValidationError) as twice:
        services.confirm_order(seller, first)
    assert _refusal(twice)[0] == "wrong_state"


def test_cancelling_gives_the_reserved_stock_back_and_keeps_the_history(market):
    seller, rice = market["seller"], market["rice"]
    order = _place(market, quantity=4, buyer=market["buyer"])
    services.confirm_order(seller, order)
    with pytest.raises(ValidationError):
        services.cancel_order(seller, order, " ")
    services.cancel_order(market["buyer"], order, "Đặt nhầm số lượng.")
    order.refresh_from_db()
    rice.refresh_from_db()
    assert order.state == OrderState.CANCELLED and not order.stock_reserved and rice.stock == 10
    assert order.cancel_reason == "Đặt nhầm số lượng." and order.cancelled_by_id == market["buyer"].pk
    assert list(order.events.values_list("kind", flat=True)) == ["placed", "confirmed", "cancelled"]
    # A placed order cancelled by the producer: nothing was reserved, nothing comes back.
    placed = _place(market, quantity=2)
    services.cancel_order(seller, placed, "Hết hàng vụ này.")
    rice.refresh_from_db()
    assert rice.stock == 10
    # A buyer cannot cancel a paid order; the producer can (and refunds).
    paid = _place(market, quantity=2, buyer=market["buyer"])
    services.confirm_order(seller, paid)
    services.mark_paid(seller, paid, amount=paid.total)
    with pytest.raises(ValidationError):
        services.cancel_order(market["buyer"], paid, "Đổi ý.")
    services.cancel_order(seller, paid, "Hoàn tiền cho khách: hàng bị ẩm.")
    rice.refresh_from_db()
    assert rice.stock == 10


def test_only_the_producers_members_handle_its_orders(market):
    order = _place(market)
    for user in (market["rival"], market["officer"], market["chairman"], market["buyer"]):
        with pytest.raises(PermissionDenied):
            services.confirm_order(user, order)
    stranger = market["clerk"]
    with pytest.raises(PermissionDenied):
        services.cancel_order(stranger, order, "Không phải đơn của tôi.")
    assert set(selectors.orders_for(market["seller"])) == {order}
    assert not selectors.orders_for(market["rival"]).exists()
    assert set(selectors.orders_for(market["officer"])) == {order}
    assert permissions.may_read_order(market["seller"], order)
    assert not permissions.may_read_order(market["rival"], order)
