"""The producers' pages on a commune host, against the real PostgreSQL: a citizen asks to register
a producer and acts for it once approved; products are written as versions (an approved product's
change waits for approval while the listing keeps the approved version, and the page says so);
stock, photos and certificates; refusals keep what was typed; another producer's rows are 404."""
from __future__ import annotations

import datetime
import io
import re

import pytest
from django.utils import timezone
from PIL import Image

from communes.models import Membership, Role
from ecommerce import services
from ecommerce.models import Certificate, Producer, ProducerMember, ProducerStatus, Product, ProductStatus

HOST = "tule.localhost"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def text_of(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def producer_form(market, **changes) -> dict:
    data = {"kind": "household_business", "name": "Hộ Dệt Thổ Cẩm Thử", "representative": "Lường Thị Hoa",
            "phone": "0356 000 303", "email": "", "village": str(market["village"].pk), "address": "Bản Nà Lóng",
            "tax_code": "", "description": "Dệt khăn piêu.", "bank_bin": "970405", "bank_account": "000004630003",
            "bank_account_name": "Luong Thi Hoa"}
    data.update(changes)
    return data


def test_a_citizen_registers_a_producer_and_acts_for_it_once_approved(market, client_for, in_commune, tule):
    citizen = market["buyer"]
    client = client_for(HOST, citizen)
    page = client.get("/ocop/producer/register/")
    assert page.status_code == 200 and "Đăng ký chủ thể OCOP" in text_of(page)
    # A wrong phone: refused on its field, what was typed stays.
    refused = client.post("/ocop/producer/register/", producer_form(market, phone="12345"))
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "error-summary" in body and 'value="Hộ Dệt Thổ Cẩm Thử"' in body and "Lường Thị Hoa" in body
    assert "Nhập số điện thoại Việt Nam" in text_of(refused)
    with in_commune(tule):
        assert not Producer.objects.filter(name="Hộ Dệt Thổ Cẩm Thử").exists()
    sent = client.post("/ocop/producer/register/", producer_form(market))
    assert sent.status_code == 302
    with in_commune(tule):
        producer = Producer.objects.get(name="Hộ Dệt Thổ Cẩm Thử")
        assert producer.status == ProducerStatus.PENDING and producer.registered_by_id == citizen.pk
        assert producer.phone == "0356000303" and producer.bank_account_name == "LUONG THI HOA"
        assert ProducerMember.objects.filter(producer=producer, user_id=citizen.pk).exists()
    assert sent["Location"] == f"/ocop/producers/{producer.pk}/"
    status_page = client.get(sent["Location"])
    assert status_page.status_code == 200 and "Cán bộ kinh tế xã đang xem xét đăng ký" in text_of(status_page)
    # Waiting, without the producer role: no product yet, and the module's pages stay closed.
    assert client.get(f"/ocop/producers/{producer.pk}/products/new/").status_code == 403
    assert client.get("/ocop/").status_code == 403
    # The request can still be corrected by the person who sent it.
    fixed = client.post(f"/ocop/producers/{producer.pk}/edit/", producer_form(market, address="Bản Nà Lóng 2"))
    assert fixed.status_code == 302
    # The economy officer approves it: the citizen gets the producer role in this commune.
    officer = client_for(HOST, market["officer"])
    approved = officer.post(f"/ocop/review/producers/{producer.pk}/approve/")
    assert approved.status_code == 302
    assert Membership.objects.filter(user=citizen, commune=tule, role=Role.PRODUCER, is_active=True).exists()
    citizen.__dict__.pop("_roles_cache", None)
    with in_commune(tule):
        producer.refresh_from_db()
        assert producer.status == ProducerStatus.APPROVED and producer.address == "Bản Nà Lóng 2"
    client = client_for(HOST, citizen)
    home = client.get("/ocop/producer/")
    assert home.status_code == 200 and "Hộ Dệt Thổ Cẩm Thử" in text_of(home) and "Thêm sản phẩm" in text_of(home)
    new = client.post(f"/ocop/producers/{producer.pk}/products/new/", {
        "name": "Khăn piêu", "group": _group(in_commune, tule, "4"), "subgroup": "", "price": "450.000", "unit": "chiếc",
        "min_order": "1", "description": "Khăn thêu tay.", "description_en": "", "stock": "15", "gtin": "",
        "then": "submit"})
    assert new.status_code == 302
    with in_commune(tule):
        product = Product.objects.get(producer=producer)
        assert product.status == ProductStatus.PENDING and product.stock == 15
        assert product.pending_version.price == 450000


def _group(in_commune, tule, code) -> str:
    from ecommerce.models import ProductGroup

    with in_commune(tule):
        return str(ProductGroup.objects.get(code=code).pk)


def test_a_person_of_another_commune_is_not_given_the_role_by_the_officer(market, client_for, in_commune, tule, yenhoa,
                                                                        make_user):
    elsewhere = make_user("ocop_elsewhere", roles={yenhoa: [Role.CLERK]})
    with in_commune(tule):
        producer = services.request_producer(elsewhere, kind="cooperative", name="HTX Nơi Khác",
                                             representative="A", phone="0912000777", address="Bản",
                                             village=market["village"].pk)
    officer = client_for(HOST, market["officer"])
    response = officer.post(f"/ocop/review/producers/{producer.pk}/approve/", follow=True)
    assert response.status_code == 200
    assert "Đơn vị vận hành hệ thống sẽ cấp vai trò" in text_of(response)
    assert not Membership.objects.filter(user=elsewhere, commune=tule).exists()


def test_changing_an_approved_product_keeps_the_listing_and_says_so(market, client_for, in_commune, tule):
    rice = market["rice"]
    client = client_for(HOST, market["seller"])
    form = client.get(f"/ocop/products/{rice.pk}/edit/")
    assert form.status_code == 200
    assert "Người mua đang thấy phiên bản đã duyệt 1" in text_of(form)
    assert 'value="60.000"' in form.content.decode()
    with in_commune(tule):
        live = rice.live_version
    data = {"name": "Gạo nếp Thử", "group": str(live.group_id), "subgroup": str(live.subgroup_id),
            "price": "65.000", "unit": "kg", "min_order": "2", "season_months": ["9", "10"],
            "description": "Gạo nếp Tan, vụ mới.", "description_en": "", "then": "submit"}
    response = client.post(f"/ocop/products/{rice.pk}/edit/", data, follow=True)
    assert response.status_code == 200
    page = text_of(response)
    assert "Cho đến khi xã duyệt, người mua vẫn thấy phiên bản đã duyệt" in page
    assert "Phiên bản 2, gửi ngày" in page and "60.000 đ / kg" in page
    with in_commune(tule):
        rice.refresh_from_db()
        assert rice.status == ProductStatus.PUBLISHED and rice.live_version.number == 1 and rice.live_version.price == 60000
        assert rice.pending_version.number == 2 and rice.pending_version.price == 65000
        assert rice.pending_version.season_months == [9, 10]


def test_bad_product_input_is_refused_on_its_field_with_what_was_typed(market, client_for, in_commune, tule):
    client = client_for(HOST, market["seller"])
    group = _group(in_commune, tule, "1")
    base = {"name": "Mật ong Thử", "group": group, "subgroup": "", "price": "-5", "unit": "chai", "min_order": "1",
            "description": "Mật ong hoa nhãn.", "stock": "3", "gtin": "", "then": "draft"}
    for field, value, message in [
        ("price", "-5", "Nhập giá bằng đồng"),
        ("price", "99999999999999", "Nhập giá bằng đồng"),
        ("stock", "-1", "Tồn kho là số nguyên"),
        ("gtin", "12345", "GTIN"),
        ("min_order", "0", "Số lượng đặt tối thiểu là số nguyên"),
    ]:
        data = {**base, "price": "120.000", field: value}
        response = client.post(f"/ocop/producers/{market['ours'].pk}/products/new/", data)
        assert response.status_code == 400, (field, value)
        assert message in text_of(response), (field, value, text_of(response)[:2000])
        assert 'value="Mật ong Thử"' in response.content.decode()
    with in_commune(tule):
        assert not Product.objects.filter(versions__name="Mật ong Thử").exists()


def test_another_producers_rows_are_not_found_and_not_written(market, client_for, in_commune, tule):
    tea = market["tea"]
    client = client_for(HOST, market["seller"])
    for path in (f"/ocop/products/{tea.pk}/", f"/ocop/products/{tea.pk}/edit/", f"/ocop/producers/{market['theirs'].pk}/",
                 f"/ocop/producers/{market['theirs'].pk}/edit/"):
        assert client.get(path).status_code == 404, path
    for path in (f"/ocop/products/{tea.pk}/stock/", f"/ocop/products/{tea.pk}/submit/", f"/ocop/products/{tea.pk}/hide/",
                 f"/ocop/products/{tea.pk}/photos/"):
        assert client.post(path, {"stock": "0"}).status_code == 404, path
    assert client.post(f"/ocop/producers/{market['theirs'].pk}/products/new/", {}).status_code == 404
    with in_commune(tule):
        tea.refresh_from_db()
        assert tea.stock == 5 and tea.status == ProductStatus.PUBLISHED
    # Anonymous visitors are sent to the login page; a clerk has no product page.
    anonymous = client_for(HOST).get(f"/ocop/products/{tea.pk}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(HOST, market["clerk"]).get(f"/ocop/products/{tea.pk}/").status_code == 404
    # The same ids on another commune's host are not there.
    assert client_for("yenhoa.localhost", market["seller"]).get(f"/ocop/products/{market['rice'].pk}/").status_code == 404


def test_stock_is_set_and_bad_stock_is_refused(market, client_for, in_commune, tule):
    rice = market["rice"]
    client = client_for(HOST, market["seller"])
    assert client.post(f"/ocop/products/{rice.pk}/stock/", {"stock": "1.250"}).status_code == 302
    refused = client.post(f"/ocop/products/{rice.pk}/stock/", {"stock": "nhiều"})
    assert refused.status_code == 400 and "Tồn kho là số nguyên từ 0 đến 10.000.000" in text_of(refused)
    with in_commune(tule):
        rice.refresh_from_db()
        assert rice.stock == 1250


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), (120, 160, 40)).save(out, "JPEG")
    return out.getvalue()


def test_photos_on_the_product_page(market, client_for, in_commune, tule):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rice = market["rice"]
    client = client_for(HOST, market["seller"])
    added = client.post(f"/ocop/products/{rice.pk}/photos/", {
        "photo": SimpleUploadedFile("ruong.jpg", _jpeg(), "image/jpeg"), "alt_text": "Túi gạo"})
    assert added.status_code == 302
    page = client.get(f"/ocop/products/{rice.pk}/")
    html = page.content.decode()
    assert re.search(r'srcset="/anh-san-pham/\d+/[0-9a-f]{16}-320\.webp 320w, /anh-san-pham/\d+/[0-9a-f]{16}-640\.webp 640w"', html)
    assert 'alt="Túi gạo"' in html
    # A corrupt file: a clear message, nothing stored.
    bad = client.post(f"/ocop/products/{rice.pk}/photos/", {
        "photo": SimpleUploadedFile("hong.jpg", _jpeg()[:500], "image/jpeg"), "alt_text": ""})
    assert bad.status_code == 400 and "Không đọc được ảnh này" in text_of(bad)
    # A good photo refused for its text (too long) is kept: no need to choose it again.
    kept = client.post(f"/ocop/products/{rice.pk}/photos/", {
        "photo": SimpleUploadedFile("ruong2.jpg", _jpeg(), "image/jpeg"), "alt_text": "x" * 300})
    assert kept.status_code == 400 and "kept-upload" in kept.content.decode()
    token = re.search(r'name="photo__kept" value="([^"]+)"', kept.content.decode()).group(1)
    again = client.post(f"/ocop/products/{rice.pk}/photos/", {"photo__kept": token, "alt_text": "Ruộng"})
    assert again.status_code == 302
    with in_commune(tule):
        assert list(rice.photos.order_by("order").values_list("alt_text", flat=True)) == ["Túi gạo", "Ruộng"]
        second = rice.photos.get(alt_text="Ruộng")
    assert client.post(f"/ocop/photos/{second.pk}/move/", {"position": "0"}).status_code == 302
    assert client.post(f"/ocop/photos/{second.pk}/edit/", {"alt_text": "Ruộng bậc thang"}).status_code == 302
    assert client_for(HOST, market["rival"]).post(f"/ocop/photos/{second.pk}/delete/").status_code == 404
    assert client.get(f"/ocop/photos/{second.pk}/delete/").status_code == 200
    assert client.post(f"/ocop/photos/{second.pk}/delete/").status_code == 302
    with in_commune(tule):
        assert list(rice.photos.values_list("alt_text", flat=True)) == ["Túi gạo"]


def test_an_expired_certificate_hides_the_stars_and_the_page_says_why(market, client_for, in_commune, tule):
    today = timezone.localdate()
    with in_commune(tule):
        Certificate.objects.create(product=market["tea"], number="77/QĐ-UBND", score=75,
                                   issuing_authority="UBND tỉnh Thử", issued_on=today - datetime.timedelta(days=1200),
                                   expires_on=today - datetime.timedelta(days=3))
        live = Certificate.objects.create(product=market["rice"], number="78/QĐ-UBND", score=92,
                                          issuing_authority="UBND tỉnh Thử", issued_on=today - datetime.timedelta(days=30))
    expired_on = (today - datetime.timedelta(days=3)).strftime("%d/%m/%Y")
    tea_page = client_for(HOST, market["rival"]).get(f"/ocop/products/{market['tea'].pk}/")
    assert f"Giấy chứng nhận OCOP đã hết hạn ngày {expired_on}." in text_of(tea_page)
    assert "★" not in tea_page.content.decode().split('id="versions"')[0]
    rice_page = client_for(HOST, market["seller"]).get(f"/ocop/products/{market['rice'].pk}/")
    assert "★★★★★" in rice_page.content.decode()
    assert f"có hiệu lực đến {live.expires_on:%d/%m/%Y}" in text_of(rice_page)
    home = client_for(HOST, market["rival"]).get("/ocop/producer/")
    assert "★" not in home.content.decode()


def test_the_producers_home_tells_what_waits(market, client_for, in_commune, tule):
    today = timezone.localdate()
    with in_commune(tule):
        draft = services.create_product(market["seller"], market["ours"], name="Cốm Thử", group="1", price=150000,
                                        unit="kg", description="Cốm.")
        sent = services.create_product(market["seller"], market["ours"], name="Rượu Thử", group="2", price=100000,
                                       unit="chai", description="Rượu.", submit=True)
        services.reject_version(market["officer"], sent.pending_version, "Thiếu ảnh nhãn chai.")
        services.set_stock(market["seller"], market["rice"], 0)
        Certificate.objects.create(product=market["rice"], number="80/QĐ-UBND", score=70, issuing_authority="UBND tỉnh",
                                   issued_on=today - datetime.timedelta(days=1050))
    page = text_of(client_for(HOST, market["seller"]).get("/ocop/producer/"))
    assert "1 Sản phẩm bị xã trả lại" in page
    assert "1 Sản phẩm hoặc thay đổi chưa gửi duyệt" in page
    assert "1 Sản phẩm đang bán đã hết hàng" in page
    assert "1 Giấy chứng nhận OCOP hết hạn trong 90 ngày" in page
    assert "Xã đã trả lại: hãy sửa rồi gửi lại" in page and "Bản nháp: chưa gửi duyệt" in page
    product_page = text_of(client_for(HOST, market["seller"]).get(f"/ocop/products/{sent.pk}/"))
    assert "Thiếu ảnh nhãn chai." in product_page
    assert draft.pk


def test_a_refused_registration_shows_its_reason(market, client_for, in_commune, tule):
    citizen = market["buyer"]
    with in_commune(tule):
        producer = services.request_producer(citizen, kind="household_business", name="Hộ Thử Bị Từ Chối",
                                             representative="A", phone="0912000888", address="Bản",
                                             village=market["village"].pk)
    officer = client_for(HOST, market["officer"])
    empty = officer.post(f"/ocop/review/producers/{producer.pk}/refuse/", {"reason": "  "})
    assert empty.status_code == 400 and "error-summary" in empty.content.decode()
    assert officer.post(f"/ocop/review/producers/{producer.pk}/refuse/",
                        {"reason": "Không ở trên địa bàn xã."}).status_code == 302
    page = text_of(client_for(HOST, citizen).get(f"/ocop/producers/{producer.pk}/"))
    assert "Đăng ký bị từ chối" in page and "Không ở trên địa bàn xã." in page
    with in_commune(tule):
        producer.refresh_from_db()
        assert producer.status == ProducerStatus.SUSPENDED and producer.approved_at is None
