"""The commune's public catalogue and product pages: search without accents, filters (and their
errors, which keep what was typed), pagination, the product page with its price, stock, season,
producer and certificate (stars hidden with the reason once expired, time moved), the schema.org
Product JSON-LD (parsed back, escaped against ``</script>``), the order link, the public home's
section, and a commune that never shows another commune's products."""
from __future__ import annotations

import datetime
import json
import re

import pytest
from django.utils import timezone

from ecommerce import services
from tests.ecommerce.test_publishing import moved_time
from tests.jobs.faults import mute_shared_cache  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
HOST = "tule.localhost"


@pytest.fixture
def shelf(market):
    """Besides the market's rice (60.000 đ/kg, 10 in stock) and tea (180.000 đ/hộp): honey in
    another village with a valid 4-star certificate, and a hidden product."""
    from population.models import Village

    officer, seller = market["officer"], market["seller"]
    other = Village.objects.create(name="Bản Lướt Thử")
    services.update_producer(officer, market["theirs"], village=other)
    honey = services.create_product(market["rival"], market["theirs"], stock=0, name="Mật ong bạc hà Thử",
                                    group="1", subgroup="1.6", price="320.000", unit="chai 500 ml",
                                    description="Mật ong hoa bạc hà của bản Lướt.", season_months=[3, 4],
                                    submit=True)
    services.approve_version(officer, honey.pending_version)
    today = timezone.localdate()
    services.add_certificate(officer, market["rice"], number="412/QĐ-UBND", score=78,
                             issuing_authority="Ủy ban nhân dân tỉnh Lào Cai",
                             issued_on=today - datetime.timedelta(days=400), expires_on=today + datetime.timedelta(days=10))
    basket = services.create_product(seller, market["ours"], stock=4, name="Giỏ cói Thử", group="5", subgroup="5.1",
                                     price=90000, unit="chiếc", description="Giỏ cói đan tay.", submit=True)
    services.approve_version(officer, basket.pending_version)
    services.hide_product(seller, basket, "Đang làm lại")
    honey.refresh_from_db()
    return {**market, "honey": honey, "basket": basket, "other": other}


def names(response) -> list[str]:
    return re.findall(r'<span class="name">([^<]+)</span>', response.content.decode())


def get(client_for, path, **params):
    return client_for(HOST).get(path, params)


def test_the_catalogue_lists_the_listed_products_only(shelf, client_for):
    response = get(client_for, "/san-pham/")
    assert response.status_code == 200
    assert sorted(names(response)) == ["Chè Thử", "Gạo nếp Thử", "Mật ong bạc hà Thử"]
    html = response.content.decode()
    assert "60.000 đ</strong> / kg" in html and "320.000 đ</strong> / chai 500 ml" in html
    assert "Hết hàng" in html and "OCOP 4 sao" in html
    assert "Giỏ cói" not in html  # hidden


@pytest.mark.parametrize("query, expected", [
    ("gao nep", ["Gạo nếp Thử"]), ("GẠO NẾP", ["Gạo nếp Thử"]), ("mat ong bac ha", ["Mật ong bạc hà Thử"]),
    ("ban luot", ["Mật ong bạc hà Thử"]),  # in the description
    ("htx nep", ["Gạo nếp Thử"]),  # the producer's name
    ("che shan tuyet", ["Chè Thử"]), ("shan nep", []),  # every word must be found
    ("ca phe", []),
])
def test_search_without_accents(shelf, client_for, query, expected):
    response = get(client_for, "/san-pham/", q=query)
    assert sorted(names(response)) == expected
    if not expected:
        assert "Không có sản phẩm nào" in response.content.decode()


@pytest.mark.parametrize("params, expected", [
    ({"group": "1"}, ["Chè Thử", "Gạo nếp Thử", "Mật ong bạc hà Thử"]),
    ({"group": "5"}, []),
    ({"stars": "4"}, ["Gạo nếp Thử"]),
    ({"stars": "3"}, []),
    ({"price_min": "100.000"}, ["Chè Thử", "Mật ong bạc hà Thử"]),
    ({"price_max": "180000"}, ["Chè Thử", "Gạo nếp Thử"]),
    ({"price_min": "150 000", "price_max": "200.000 đ"}, ["Chè Thử"]),
    ({"q": "thu", "price_max": "100000"}, ["Gạo nếp Thử"]),
])
def test_filters(shelf, client_for, params, expected):
    assert sorted(names(get(client_for, "/san-pham/", **params))) == expected


def test_the_village_filter(shelf, client_for):
    response = get(client_for, "/san-pham/", village=str(shelf["other"].pk))
    assert sorted(names(response)) == ["Chè Thử", "Mật ong bạc hà Thử"]
    assert sorted(names(get(client_for, "/san-pham/", village=str(shelf["village"].pk)))) == ["Gạo nếp Thử"]


@pytest.mark.parametrize("params, field, message", [
    ({"price_min": "rẻ"}, "price_min", "Nhập giá bằng đồng"),
    ({"price_min": "200.000", "price_max": "100.000"}, "price_max", "thấp hơn giá thấp nhất"),
    ({"stars": "7"}, "stars", "Chọn 3, 4 hoặc 5 sao"),
    ({"village": "999999"}, "village", "Chọn một thôn, bản trong danh sách"),
    ({"group": "<script>"}, "group", "Chọn một nhóm sản phẩm trong danh sách"),
    ({"q": "x" * 101}, "q", "Nhập tối đa 100 ký tự"),
])
def test_a_bad_filter_is_named_keeps_what_was_typed_and_the_others_still_apply(shelf, client_for, params, field,
                                                                               message):
    response = get(client_for, "/san-pham/", **params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "error-summary" in html and message in html, html[html.find("error-summary"):][:800]
    typed = params[field]
    if field in ("price_min", "price_max", "q"):
        assert f'value="{typed}"' in html
    assert "<script>" not in html.split("</header>", 1)[1].split('<script type="application/ld+json">')[0]


def test_a_bad_filter_leaves_the_good_ones_applied(shelf, client_for):
    response = get(client_for, "/san-pham/", price_min="abc", price_max="100.000")
    assert names(response) == ["Gạo nếp Thử"]


def test_pages_of_twenty(shelf, client_for, settings):
    seller, officer, ours = shelf["seller"], shelf["officer"], shelf["ours"]
    for number in range(25):
        product = services.create_product(seller, ours, stock=5, name=f"Bánh Thử {number:02d}", group="1",
                                          price=10000 + number, unit="gói", description="Bánh.", submit=True)
        services.approve_version(officer, product.pending_version)
    first = get(client_for, "/san-pham/", q="banh")
    assert len(names(first)) == 20 and "25 sản phẩm" in first.content.decode()
    assert 'href="?q=banh&amp;page=2"' in first.content.decode()
    second = get(client_for, "/san-pham/", q="banh", page="2")
    assert len(names(second)) == 5 and not set(names(first)) & set(names(second))
    assert len(names(get(client_for, "/san-pham/", q="banh", page="abc"))) == 20  # an unreadable page: the first


def jsonld_of(response) -> dict:
    html = response.content.decode()
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def test_the_product_page(shelf, client_for):
    rice = shelf["rice"]
    response = get(client_for, f"/san-pham/{rice.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Gạo nếp Thử</h1>" in html
    assert "60.000 đ</strong> / kg" in html and "Đặt tối thiểu: 2 kg" in html and "Còn hàng" in html
    assert "412/QĐ-UBND" in html and "Ủy ban nhân dân tỉnh Lào Cai" in html and "78/100 điểm" in html
    expires = (timezone.localdate() + datetime.timedelta(days=10)).strftime("%d/%m/%Y")
    assert expires in html and "OCOP 4 sao" in html
    assert "HTX Nếp Thử" in html and "Bản Thử Chợ" in html and "Có quanh năm" in html
    honey = get(client_for, f"/san-pham/{shelf['honey'].slug}/").content.decode()
    assert "Hết hàng" in honey and "Tháng 3, 4" in honey and "chưa có giấy chứng nhận OCOP" in honey


def test_the_json_ld_parses_with_the_expected_fields(shelf, client_for, tule):
    from core.links import commune_base_url

    rice = shelf["rice"]
    services.set_stock(shelf["seller"], rice, 10)
    rice.gtin = "8934567000013"
    rice.save(update_fields=["gtin"])
    data = jsonld_of(get(client_for, f"/san-pham/{rice.slug}/"))
    url = f"{commune_base_url(tule)}/san-pham/{rice.slug}/"
    assert data["@context"] == "https://schema.org" and data["@type"] == "Product"
    assert data["name"] == "Gạo nếp Thử" and data["description"] == "Gạo nếp Tan."
    assert data["sku"] == rice.slug and data["url"] == url and data["gtin14"] == "08934567000013"
    assert data["brand"] == {"@type": "Brand", "name": "HTX Nếp Thử"}
    assert data["manufacturer"]["name"] == "HTX Nếp Thử"
    assert data["manufacturer"]["address"]["addressLocality"] == "Bản Thử Chợ"
    assert data["offers"] == {**data["offers"], "@type": "Offer", "price": "60000", "priceCurrency": "VND",
                              "availability": "https://schema.org/InStock", "url": url}
    assert "4 sao" in data["award"]
    honey = jsonld_of(get(client_for, f"/san-pham/{shelf['honey'].slug}/"))
    assert honey["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert "gtin14" not in honey and "award" not in honey


def test_the_json_ld_cannot_end_its_script_element(shelf, client_for):
    honey = shelf["honey"]
    name = 'Mật </script><script>alert("x")</script> & <!-- Thử'
    services.save_version(shelf["rival"], honey, name=name, description="</SCRIPT> mô tả")
    services.submit_version(shelf["rival"], honey)
    services.approve_version(shelf["officer"], honey.versions.get(state="submitted"))
    response = get(client_for, f"/san-pham/{honey.slug}/")
    html = response.content.decode()
    assert "<script>alert" not in html
    assert html.count("</script>") == html.count("<script")  # only the elements the page opened
    data = jsonld_of(response)
    assert data["name"] == name and data["description"] == "</SCRIPT> mô tả"


def test_the_order_link_when_the_order_form_exists(shelf, client_for):
    from django.urls import NoReverseMatch, reverse

    html = get(client_for, f"/san-pham/{shelf['rice'].slug}/").content.decode()
    try:
        url = reverse("ocop:order_new", args=[shelf["rice"].slug], urlconf="config.urls_tenant")
    except NoReverseMatch:
        assert "Đặt mua" not in html
    else:
        assert f'href="{url}"' in html
    assert "Đặt mua sản phẩm" not in get(client_for, f"/san-pham/{shelf['honey'].slug}/").content.decode()


def test_a_product_not_listed_is_not_found(shelf, client_for, tule, in_commune):
    assert get(client_for, f"/san-pham/{shelf['basket'].slug}/").status_code == 404
    response = get(client_for, "/san-pham/khong-co-san-pham-nay/")
    assert response.status_code == 404 and "Sản phẩm này không có trong danh mục của xã" in response.content.decode()
    with in_commune(tule):  # a request leaves the connection on the public schema
        services.suspend_producer(shelf["officer"], shelf["ours"], "Tạm dừng")
    assert get(client_for, f"/san-pham/{shelf['rice'].slug}/").status_code == 404
    assert "Gạo nếp Thử" not in names(get(client_for, "/san-pham/"))


def test_stars_are_hidden_with_the_reason_once_the_certificate_expired(shelf, client_for, monkeypatch):
    rice = shelf["rice"]
    expires = timezone.localdate() + datetime.timedelta(days=10)
    with moved_time(monkeypatch, 10):
        html = get(client_for, f"/san-pham/{rice.slug}/").content.decode()
        assert f"Giấy chứng nhận OCOP đã hết hạn ngày {expires:%d/%m/%Y}." in html
        assert "OCOP 4 sao" not in html and "award" not in json.dumps(jsonld_of(get(client_for, f"/san-pham/{rice.slug}/")))
        listing = get(client_for, "/san-pham/").content.decode()
        assert "OCOP 4 sao" not in listing
        assert names(get(client_for, "/san-pham/", stars="4")) == []
    assert "OCOP 4 sao" in get(client_for, f"/san-pham/{rice.slug}/").content.decode()


def test_the_public_home_shows_the_catalogue_section(shelf, client_for):
    html = get(client_for, "/").content.decode()
    assert 'id="ocop"' in html and "/san-pham/" in html
    assert "Mật ong bạc hà Thử" in html and "Xem tất cả 3 sản phẩm" in html


def test_a_commune_never_shows_another_commune_s_products(shelf, client_for, yenhoa, in_commune, people):
    from communes.models import Membership, Role
    from population.models import Village

    Membership.objects.create(user=people["officer"], commune=yenhoa, role=Role.ECONOMY_OFFICER)
    Membership.objects.create(user=people["seller"], commune=yenhoa, role=Role.PRODUCER)
    people["seller"].__dict__.pop("_ocop_producers", None)
    with in_commune(yenhoa):
        village = Village.objects.create(name="Thôn Thử Nhãn")
        producer = services.register_producer(people["seller"], kind="cooperative", name="HTX Nhãn Thử",
                                              representative="Đinh Văn An", phone="0912000909", address="Yên Mô",
                                              village=village)
        services.approve_producer(people["officer"], producer)
        longan = services.create_product(people["seller"], producer, stock=20, name="Nhãn sấy Thử", group="1",
                                         price=120000, unit="kg", description="Nhãn sấy khô.", submit=True)
        services.approve_version(people["officer"], longan.pending_version)
    tule_names = names(get(client_for, "/san-pham/"))
    assert "Nhãn sấy Thử" not in tule_names and "Gạo nếp Thử" in tule_names
    assert get(client_for, f"/san-pham/{longan.slug}/").status_code == 404
    other = client_for("yenhoa.localhost")
    assert names(other.get("/san-pham/")) == ["Nhãn sấy Thử"]
    assert other.get(f"/san-pham/{shelf['rice'].slug}/").status_code == 404


def test_the_catalogue_is_drawn_without_redis(shelf, client_for, settings):
    import copy

    caches = copy.deepcopy(settings.CACHES)
    caches["shared"]["LOCATION"] = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CACHES = caches
    assert sorted(names(get(client_for, "/san-pham/"))) == ["Chè Thử", "Gạo nếp Thử", "Mật ong bạc hà Thử"]
    assert "Mật ong bạc hà Thử" in get(client_for, "/").content.decode()


def test_a_redis_that_never_answers_costs_a_page_its_timeout_not_the_page(shelf, client_for, mute_shared_cache):
    rice = shelf["rice"]
    assert sorted(names(get(client_for, "/san-pham/"))) == ["Chè Thử", "Gạo nếp Thử", "Mật ong bạc hà Thử"]
    assert "Gạo nếp Thử" in get(client_for, f"/san-pham/{rice.slug}/").content.decode()
    assert "Mật ong bạc hà Thử" in get(client_for, "/").content.decode()


def test_a_page_kept_is_drawn_again_once_a_product_changes(shelf, client_for, tule, in_commune):
    assert "Gạo nếp Thử" in names(get(client_for, "/san-pham/", q="gao"))
    assert "60.000 đ" in get(client_for, "/san-pham/", q="gao").content.decode()
    with in_commune(tule):
        services.save_version(shelf["seller"], shelf["rice"], price="65.000")
        services.submit_version(shelf["seller"], shelf["rice"])
        assert "60.000 đ" in get(client_for, "/san-pham/", q="gao").content.decode()  # waiting: the listing stays
    with in_commune(tule):
        services.approve_version(shelf["officer"], shelf["rice"].versions.get(state="submitted"))
    html = get(client_for, "/san-pham/", q="gao").content.decode()
    assert "65.000 đ" in html and "60.000 đ" not in html


def test_the_product_page_follows_its_stock_state(shelf, client_for, tule, in_commune):
    rice = shelf["rice"]
    assert "Còn hàng" in get(client_for, f"/san-pham/{rice.slug}/").content.decode()
    with in_commune(tule):
        services.set_stock(shelf["seller"], rice, 1)  # below its minimum order of 2
    html = get(client_for, f"/san-pham/{rice.slug}/").content.decode()
    assert "Hết hàng" in html and "OutOfStock" in html
    assert "Hết hàng" in get(client_for, "/san-pham/", q="gao").content.decode()


def test_a_page_kept_whole_gives_each_visitor_their_own_token(shelf, client_for, make_user):
    from django.test import Client

    tokens = []
    for _visitor in range(2):
        client = Client(HTTP_HOST=HOST, enforce_csrf_checks=True)
        html = client.get("/san-pham/", {"q": "gao"}).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        assert "OCOPKEPTPAGECSRFTOKEN" not in html and "Gạo nếp Thử" in html
        tokens.append(token)
        answer = client.post("/i18n/setlang/", {"csrfmiddlewaretoken": token, "language": "en", "next": "/san-pham/"})
        assert answer.status_code == 302  # the token is this visitor's own: the form works
    assert tokens[0] != tokens[1]
    citizen = make_user("ocop_citizen_kept", phone="0912555666")
    html = client_for(HOST, citizen).get("/san-pham/", {"q": "gao"}).content.decode()
    assert "Gạo nếp Thử" in html and 'action="/accounts/logout/"' in html  # a logged-in visitor's own layout
