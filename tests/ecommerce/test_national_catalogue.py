"""The national catalogue (``/ocop/`` and ``/api/v1/ocop/catalogue/`` on the national host): read
from the rows communes publish, never by visiting a commune's schema; search without accents,
the commune's filters plus province and commune, pagination, the error body of bad filters,
stars hidden once a certificate expired (time moved, nothing published), cards linking to the
commune's product page; and the marketplace's monthly figures reaching supervising units through
the published facts."""
from __future__ import annotations

import datetime
import re

import pytest
from django.db import connections
from django.utils import timezone

from ecommerce import services
from outbox.models import Entry
from tests.ecommerce.test_publishing import deliver_all, moved_time
from tests.jobs.faults import mute_shared_cache  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
API = "/api/v1/ocop/catalogue/"
PAGE = "/ocop/"


@pytest.fixture
def published(market, tule, yenhoa, in_commune, people):
    """Tú Lệ (Lào Cai, 15): the rice (4 stars until 10 days from now) and the tea; Yên Mô
    (Ninh Bình, 37): honey, out of stock. Delivered to the public side."""
    from communes.models import Membership, Role
    from population.models import Village

    today = timezone.localdate()
    services.add_certificate(market["officer"], market["rice"], number="412/QĐ-UBND", score=78,
                             issuing_authority="Ủy ban nhân dân tỉnh Lào Cai",
                             issued_on=today - datetime.timedelta(days=400), expires_on=today + datetime.timedelta(days=10))
    Membership.objects.create(user=people["officer"], commune=yenhoa, role=Role.ECONOMY_OFFICER)
    Membership.objects.create(user=people["seller"], commune=yenhoa, role=Role.PRODUCER)
    people["seller"].__dict__.pop("_ocop_producers", None)
    with in_commune(yenhoa):
        village = Village.objects.create(name="Thôn Thử Nhãn")
        producer = services.register_producer(people["seller"], kind="cooperative", name="HTX Mật ong Yên Mô Thử",
                                              representative="Đinh Văn An", phone="0912000909", address="Yên Mô",
                                              village=village)
        services.approve_producer(people["officer"], producer)
        honey = services.create_product(people["seller"], producer, stock=0, name="Mật ong hoa nhãn Thử",
                                        group="1", subgroup="1.6", price=250000, unit="chai 500 ml",
                                        description="Mật ong hoa nhãn Yên Mô.", submit=True)
        services.approve_version(people["officer"], honey.pending_version)
    deliver_all(tule)
    deliver_all(yenhoa)
    return {**market, "honey": honey}


def api(client_for, **params):
    return client_for("localhost").get(API, params)


def names(body) -> list[str]:
    return sorted(row["name"] for row in body["results"])


def test_anyone_reads_every_commune_s_published_products(published, client_for):
    response = api(client_for)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and names(body) == ["Chè Thử", "Gạo nếp Thử", "Mật ong hoa nhãn Thử"]
    rice = next(row for row in body["results"] if row["name"] == "Gạo nếp Thử")
    assert rice["commune_code"] == "04630" and rice["commune_name"] == "Xã Tú Lệ"
    assert rice["stars"] == 4 and rice["certificate_expired_on"] is None
    assert rice["stars_until"] == (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    assert (rice["price"], rice["unit"], rice["stock_state"], rice["group"]) == (60000, "kg", "in_stock", "1")
    assert rice["producer"] == "HTX Nếp Thử" and rice["village"] == "Bản Thử Chợ"
    assert re.match(r"^https?://tule\.localhost(:\d+)?/san-pham/[a-z0-9-]+/$", rice["url"])
    assert set(rice) >= {"id", "slug", "subgroup", "group_name", "min_order", "season_months", "latitude",
                         "longitude", "image_url", "updated_at"}
    assert [row["name"] for row in body["results"]] == ["Chè Thử", "Gạo nếp Thử", "Mật ong hoa nhãn Thử"]  # by name


@pytest.mark.parametrize("params, expected", [
    ({"q": "gao nep"}, ["Gạo nếp Thử"]),
    ({"q": "MẬT ONG"}, ["Mật ong hoa nhãn Thử"]),
    ({"q": "yen mo"}, ["Mật ong hoa nhãn Thử"]),  # the producer's name
    ({"q": "thu"}, ["Chè Thử", "Gạo nếp Thử", "Mật ong hoa nhãn Thử"]),
    ({"q": "nep nhan"}, []),
    ({"q": "ong"}, ["Mật ong hoa nhãn Thử"]),  # the beginning of a word: not the rice's "nông sản"
    ({"q": "mật & !ong|:* ("}, ["Mật ong hoa nhãn Thử"]),  # only letters and digits reach the query
    ({"q": "h"}, ["Chè Thử", "Gạo nếp Thử", "Mật ong hoa nhãn Thử"]),  # "HTX", "Hộ", "hoa"
    ({"province": "15"}, ["Chè Thử", "Gạo nếp Thử"]),
    ({"province": "37"}, ["Mật ong hoa nhãn Thử"]),
    ({"commune": "14701"}, ["Mật ong hoa nhãn Thử"]),
    ({"commune": "04630", "village": "bản thử chợ"}, ["Chè Thử", "Gạo nếp Thử"]),
    ({"group": "1.6"}, ["Mật ong hoa nhãn Thử"]),
    ({"group": "5"}, []),
    ({"stars": "4"}, ["Gạo nếp Thử"]),
    ({"stars": "3"}, []),
    ({"price_min": "100.000"}, ["Chè Thử", "Mật ong hoa nhãn Thử"]),
    ({"price_max": "180000", "province": "15"}, ["Chè Thử", "Gạo nếp Thử"]),
    ({"in_stock": "1"}, ["Chè Thử", "Gạo nếp Thử"]),
])
def test_search_and_filters(published, client_for, params, expected):
    assert names(api(client_for, **params).json()) == expected


@pytest.mark.parametrize("params, field", [
    ({"stars": "6"}, "stars"), ({"price_min": "rẻ"}, "price_min"), ({"price_min": "9", "price_max": "1"}, "price_max"),
    ({"province": "99"}, "province"), ({"commune": "1234"}, "commune"), ({"commune": "99999"}, "commune"),
    ({"group": "a b"}, "group"), ({"q": "x" * 101}, "q"), ({"in_stock": "maybe"}, "in_stock"),
])
def test_bad_filters_answer_400_with_the_error_body(published, client_for, params, field):
    response = api(client_for, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body) == {"code", "detail", "fields"}
    assert list(body["fields"]) == [field] and body["fields"][field][0]


def test_pages(published, client_for):
    first = api(client_for, page_size=2).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = client_for("localhost").get(first["next"]).json()
    assert len(second["results"]) == 1
    assert {r["id"] for r in first["results"]} | {r["id"] for r in second["results"]} == {
        str(published["rice"].pk), str(published["tea"].pk), str(published["honey"].pk)}
    assert api(client_for, page=9).status_code == 404


def test_the_request_reads_without_switching_schema(published, client_for, monkeypatch,
                                                    django_assert_max_num_queries):
    wrapper = connections["default"]
    switched = []
    original = wrapper.set_tenant

    def set_tenant(tenant, *args, **kwargs):
        if tenant.schema_name != "public":
            switched.append(tenant.schema_name)
        return original(tenant, *args, **kwargs)

    monkeypatch.setattr(wrapper, "set_tenant", set_tenant)
    with django_assert_max_num_queries(4):
        assert api(client_for, q="mat ong", province="37").status_code == 200
    with django_assert_max_num_queries(12):
        assert client_for("localhost").get(PAGE, {"q": "nep", "province": "15", "commune": "04630"}).status_code == 200
    assert switched == []


def entry_count(communes) -> int:
    from django_tenants.utils import schema_context

    total = 0
    for commune in communes:
        with schema_context(commune.schema_name):
            total += Entry.objects.count()
    return total


def test_stars_are_hidden_nationally_once_the_certificate_expired(published, client_for, monkeypatch, tule, yenhoa):
    expires = timezone.localdate() + datetime.timedelta(days=10)
    count = entry_count([tule, yenhoa])
    with moved_time(monkeypatch, 10):
        body = api(client_for, q="gao nep").json()
        assert body["results"][0]["stars"] == 0
        assert body["results"][0]["certificate_expired_on"] == expires.isoformat()
        assert api(client_for, stars="4").json()["count"] == 0
        html = client_for("localhost").get(PAGE, {"q": "gao nep"}).content.decode()
        assert f"Giấy chứng nhận OCOP đã hết hạn ngày {expires:%d/%m/%Y}" in html and "OCOP 4 sao" not in html
    with moved_time(monkeypatch, 9):
        assert api(client_for, q="gao nep").json()["results"][0]["stars"] == 4
    assert entry_count([tule, yenhoa]) == count


def test_the_page_lists_cards_linking_to_the_commune_s_product_page(published, client_for):
    response = client_for("localhost").get(PAGE, {"q": "nep"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Gạo nếp Thử" in html and "Mật ong" not in html
    assert re.search(rf'href="https?://tule\.localhost(:\d+)?/san-pham/{published["rice"].slug}/"', html)
    assert "60.000 đ</strong> / kg" in html and "OCOP 4 sao" in html and "Xã Tú Lệ" in html
    assert 'lang="vi"' in html and "<script src" in html and "htmx" not in html


def test_the_page_names_a_bad_filter_and_keeps_what_was_typed(published, client_for):
    html = client_for("localhost").get(PAGE, {"price_min": "rẻ", "q": "mat ong"}).content.decode()
    assert "error-summary" in html and "Nhập giá bằng đồng" in html
    assert 'value="rẻ"' in html and 'value="mat ong"' in html
    assert "Mật ong hoa nhãn Thử" in html  # the other filters still apply


def test_the_page_offers_the_communes_of_the_chosen_province_and_their_villages(published, client_for):
    html = client_for("localhost").get(PAGE, {"province": "15"}).content.decode()
    assert 'value="04630"' in html and 'value="14701"' not in html
    html = client_for("localhost").get(PAGE, {"province": "15", "commune": "04630"}).content.decode()
    assert ">Bản Thử Chợ</option>" in html


def test_the_catalogue_is_the_national_host_s_only(published, client_for):
    assert client_for("tule.localhost").get(API).status_code == 404
    assert client_for("tule.localhost").get(PAGE).status_code in (302, 403, 404)


def test_the_endpoint_is_documented(client_for, db):
    schema = client_for("localhost").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][API]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "q", "group", "stars", "price_min", "price_max", "province", "commune", "village", "in_stock", "page",
        "page_size"}
    assert operation["responses"]["200"]


def test_the_marketplace_s_monthly_figures_reach_the_supervising_units(published, client_for, make_user, tule,
                                                                       in_commune):
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from communes.models import SupervisingUnit

    month = timezone.localdate().strftime("%Y-%m")
    with in_commune(tule):
        order = services.place_order(lines=[(published["rice"], 2)], buyer_name="Hoàng Văn Nam",
                                     buyer_phone="0912345678", delivery_address="Bản Thử Chợ")
        services.confirm_order(published["seller"], order)
        services.mark_paid(published["seller"], order, amount=120000)
    call_command("publish_facts", "--commune", tule.code, "--month", month)
    staff = make_user("ocop_facts_laocai", units=[SupervisingUnit.objects.get(code="15")])
    token, _ = Token.objects.get_or_create(user=staff)
    body = client_for("localhost").get("/api/v1/facts/monthly/", {"source": "ecommerce", "from": month, "to": month},
                                       HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert [(row["commune_code"], row["source"]) for row in body["results"]] == [("04630", "ecommerce")]
    figures = body["results"][0]["figures"]
    today = timezone.localdate()
    last_day = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    four_stars = 1 if today + datetime.timedelta(days=10) > last_day else 0  # stars on the month's last day
    assert figures["products_listed"] == 2 and figures["products_4_stars"] == four_stars
    assert figures["producers_approved"] == 2
    assert figures["orders_placed"] == 1 and figures["revenue"] == 120000
    assert body["results"][0]["source_title"] == "Sàn sản phẩm OCOP"


def test_a_page_kept_is_drawn_again_once_a_writer_changed_rows(published, client_for, tule, in_commune):
    assert api(client_for, q="gao").json()["count"] == 1
    assert "Gạo nếp Thử" in client_for("localhost").get(PAGE, {"q": "gao"}).content.decode()
    with in_commune(tule):
        services.hide_product(published["seller"], published["rice"], "Hết hàng mùa này")
    assert api(client_for, q="gao").json()["count"] == 1  # not delivered yet: the public side is as it was
    deliver_all(tule)
    assert api(client_for, q="gao").json()["count"] == 0
    assert "Gạo nếp Thử" not in client_for("localhost").get(PAGE, {"q": "gao"}).content.decode()


def test_without_an_answering_redis_the_page_and_the_api_are_drawn(published, client_for, mute_shared_cache):
    assert names(api(client_for, q="mat ong").json()) == ["Mật ong hoa nhãn Thử"]
    page = client_for("localhost").get(PAGE, {"q": "gao"})
    assert page.status_code == 200 and "Gạo nếp Thử" in page.content.decode()


def test_the_page_may_show_the_photos_of_the_communes_it_lists(published, client_for):
    from ocop_national.models import CatalogueProduct

    CatalogueProduct.objects.filter(key=str(published["rice"].pk)).update(
        image_url="https://tule.example.gov.vn/anh-san-pham/7/abc-480.jpg")
    response = client_for("localhost").get(PAGE, {"q": "gao nep", "in_stock": "1"})
    policy = response["Content-Security-Policy"]
    assert "img-src 'self' data: https://tule.example.gov.vn" in policy and 'src="https://tule.example.gov.vn/' in (
        response.content.decode())
    assert "tule.example.gov.vn" not in client_for("localhost").get(PAGE, {"q": "mat ong"})["Content-Security-Policy"]
