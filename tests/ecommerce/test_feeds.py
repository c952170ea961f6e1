"""The marketplace feeds (CSV and JSON of the listed products, docs/ocop-feed.md) and the stock
files (a CSV upload by the producer, or the API's JSON): the stable field list, absolute image
and product addresses, no formula in the CSV, and stock files checked whole and written all or
nothing with every bad line reported in Vietnamese."""
from __future__ import annotations

import csv
import datetime
import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ecommerce import feeds, services
from ecommerce.models import Certificate, Product, add_months

HOST = "tule.localhost"


def png() -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (180, 140, 60)).save(buffer, "PNG")
    return SimpleUploadedFile("gao.png", buffer.getvalue(), content_type="image/png")


def read_csv(response) -> list[dict]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def catalogue(market, in_commune, tule):
    """Tú Lệ's listed rice (4 stars, a photo) and tea; a draft and a hidden product not listed."""
    from ecommerce import photos

    with in_commune(tule):
        officer, seller = market["officer"], market["seller"]
        services.add_certificate(officer, market["rice"], number="OCOP-YB-2025-017", score=78,
                                 issuing_authority="Ủy ban nhân dân tỉnh Yên Bái",
                                 issued_on=timezone.localdate() - datetime.timedelta(days=100))
        photos.add_photo(seller, market["rice"], png(), alt_text="Gạo nếp Tú Lệ")
        draft = services.create_product(seller, market["ours"], stock=3, name="Cốm nháp", group="1", price=90000,
                                        unit="kg", description="Chưa gửi duyệt.")
        hidden = services.create_product(seller, market["ours"], stock=3, name="Nếp ẩn", group="1", price=50000,
                                         unit="kg", description="Ẩn.", submit=True)
        services.approve_version(officer, hidden.pending_version)
        services.hide_product(seller, hidden, "Hết mùa")
        yield {**market, "draft": draft, "hidden": hidden}


# --- the feed ----------------------------------------------------------------------------------

def test_the_json_feed_has_the_documented_fields_of_the_listed_products(catalogue, client_for, tule):
    response = client_for(HOST).get("/api/v1/ocop/feed.json")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1 and body["fields"] == list(feeds.FIELDS)
    assert body["commune"] == {"code": "04630", "name": "Xã Tú Lệ"}
    items = {item["sku"]: item for item in body["items"]}
    assert set(items) == {catalogue["rice"].slug, catalogue["tea"].slug}  # no draft, no hidden product
    assert body["count"] == 2
    rice = items[catalogue["rice"].slug]
    assert list(rice) == list(feeds.FIELDS)
    assert rice["id"] == f"04630-{catalogue['rice'].pk}"
    assert (rice["name"], rice["price"], rice["currency"], rice["unit"], rice["stock"]) == (
        "Gạo nếp Thử", 60000, "VND", "kg", 10)
    assert rice["availability"] == "in_stock" and rice["ocop_stars"] == 4
    assert rice["certificate_number"] == "OCOP-YB-2025-017"
    assert rice["certificate_expires_on"] == add_months(timezone.localdate() - datetime.timedelta(days=100), 36).isoformat()
    assert rice["category"].startswith("Thực phẩm > ")
    assert (rice["producer"], rice["village"], rice["gtin"]) == ("HTX Nếp Thử", "Bản Thử Chợ", "")
    assert rice["url"] == f"http://tule.localhost/san-pham/{catalogue['rice'].slug}/"
    [image] = rice["images"]
    assert image.startswith("http://tule.localhost/") and image.endswith(".jpg")
    assert client_for(HOST).get(image.removeprefix("http://tule.localhost")).status_code == 200
    assert datetime.datetime.fromisoformat(rice["updated_at"]).tzinfo is not None
    tea = items[catalogue["tea"].slug]
    assert (tea["ocop_stars"], tea["certificate_number"], tea["certificate_expires_on"], tea["images"]) == (0, "", "", [])
    # No personal data of the producers: no phone, no representative, no bank account.
    raw = response.content.decode()
    assert "0912000101" not in raw and "Lò Văn Pản" not in raw and "000004630001" not in raw


def test_the_feed_follows_stock_and_expiry(catalogue, client_for, in_commune, tule):
    with in_commune(tule):
        services.set_stock(catalogue["seller"], catalogue["rice"], 1)  # below the minimum order of 2
        issued = add_months(timezone.localdate(), -37)
        Certificate.objects.filter(product=catalogue["rice"]).update(issued_on=issued, expires_on=add_months(issued, 36))
    rice = next(i for i in client_for(HOST).get("/api/v1/ocop/feed.json").json()["items"]
                if i["sku"] == catalogue["rice"].slug)
    assert (rice["stock"], rice["availability"]) == (1, "out_of_stock")
    assert (rice["ocop_stars"], rice["certificate_number"], rice["certificate_expires_on"]) == (0, "", "")


def test_one_producers_feed_and_a_bad_filter(catalogue, client_for):
    client = client_for(HOST)
    only = client.get("/api/v1/ocop/feed.json", {"producer": catalogue["theirs"].slug}).json()
    assert [i["sku"] for i in only["items"]] == [catalogue["tea"].slug]
    assert client.get("/api/v1/ocop/feed.json", {"producer": "khong-co"}).json()["items"] == []
    bad = client.get("/api/v1/ocop/feed.csv", {"producer": "<script>"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"code", "detail", "fields"} and "producer" in bad.json()["fields"]


def test_the_csv_feed_is_safe_in_a_spreadsheet(catalogue, client_for, in_commune, tule):
    with in_commune(tule):
        services.save_version(catalogue["seller"], catalogue["rice"], name="=HYPERLINK(\"http://x\",\"Gạo\")",
                              description="+84 912 000 101\n@SUM(A1)")
        services.submit_version(catalogue["seller"], catalogue["rice"])
        services.approve_version(catalogue["officer"], Product.objects.get(pk=catalogue["rice"].pk).pending_version)
        services.save_version(catalogue["rival"], catalogue["tea"], description="-2+3 tách chè")
        services.submit_version(catalogue["rival"], catalogue["tea"])
        services.approve_version(catalogue["officer"], Product.objects.get(pk=catalogue["tea"].pk).pending_version)
    response = client_for(HOST).get("/api/v1/ocop/feed.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('inline; filename="san-pham-ocop-')
    rows = read_csv(response)
    assert list(rows[0]) == list(feeds.FIELDS)
    by_sku = {row["sku"]: row for row in rows}
    rice, tea = by_sku[catalogue["rice"].slug], by_sku[catalogue["tea"].slug]
    assert rice["name"] == "'=HYPERLINK(\"http://x\",\"Gạo\")"
    assert rice["description"] == "'+84 912 000 101\n@SUM(A1)"
    assert tea["description"] == "'-2+3 tách chè"
    assert rice["price"] == "60000" and rice["stock"] == "10" and rice["ocop_stars"] == "4"
    for row in rows:
        for key, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (key, value)


def test_another_commune_has_its_own_feed(catalogue, client_for):
    body = client_for("yenhoa.localhost").get("/api/v1/ocop/feed.json").json()
    assert catalogue["rice"].slug not in {i["sku"] for i in body["items"]}
    assert body["commune"]["code"] == "14701"


# --- stock files -------------------------------------------------------------------------------

def upload(client, text: str | bytes, name: str = "ton-kho.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post("/ocop/feeds/stock/", {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def stocks(in_commune, tule, *products) -> list[int]:
    with in_commune(tule):
        return [Product.objects.get(pk=p.pk).stock for p in products]


def test_a_producer_sets_its_stock_from_a_csv(catalogue, client_for, in_commune, tule):
    rice = catalogue["rice"]
    client = client_for(HOST, catalogue["seller"])
    page = client.get("/ocop/feeds/")
    assert page.status_code == 200
    assert "http://tule.localhost/api/v1/ocop/feed.csv" in text_of(page)
    assert f"feed.csv?producer={catalogue['ours'].slug}" in text_of(page)
    done = upload(client, f"sku;stock\n{rice.slug};1.250\n{catalogue['hidden'].slug};0\n\n")
    assert done.status_code == 200
    assert "Đã cập nhật tồn kho của 2 sản phẩm" in text_of(done)
    assert stocks(in_commune, tule, rice, catalogue["hidden"]) == [1250, 0]


def test_the_feeds_own_csv_comes_back_as_a_stock_file(catalogue, client_for, in_commune, tule):
    feed = client_for(HOST).get("/api/v1/ocop/feed.csv", {"producer": catalogue["ours"].slug})
    rows = read_csv(feed)
    for row in rows:
        row["stock"] = "7"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=feeds.FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    done = upload(client_for(HOST, catalogue["seller"]), "\ufeff" + out.getvalue())
    assert done.status_code == 200, text_of(done)
    assert stocks(in_commune, tule, catalogue["rice"]) == [7]


def test_one_bad_line_changes_nothing_and_every_bad_line_is_told(catalogue, client_for, in_commune, tule):
    rice, tea = catalogue["rice"], catalogue["tea"]
    client = client_for(HOST, catalogue["seller"])
    text = ("sku,stock\n"
            f"{rice.slug},99\n"
            f"{tea.slug},5\n"  # another producer's product
            "khong-co-ma-nay,3\n"
            f"{catalogue['hidden'].slug},-4\n"
            f"{catalogue['draft'].slug},mười\n"
            f"{rice.slug},100\n"
            ",8\n"
            f"14701-{catalogue['draft'].pk},1\n"  # the feed's id of another commune
            f"04630-{catalogue['draft'].pk},2\n"  # the draft again, by its feed id
            f"{catalogue['rice'].slug.upper()}X,20000000\n")
    refused = upload(client, text)
    assert refused.status_code == 400
    page = text_of(refused)
    assert "Chưa thay đổi gì: 9 dòng có lỗi" in page
    assert page.count("Không có sản phẩm nào của bạn mang mã này") == 4
    assert "Sản phẩm này đã có ở dòng 2" in page and "Sản phẩm này đã có ở dòng 6" in page
    assert page.count("Tồn kho là số nguyên từ 0 đến 10.000.000") == 2
    assert "Hãy nhập mã sản phẩm (sku)" in page
    too_much = upload(client, f"sku,stock\n{rice.slug},20000000\n")
    assert too_much.status_code == 400 and "Tồn kho là số nguyên từ 0 đến 10.000.000" in text_of(too_much)
    assert stocks(in_commune, tule, rice, tea, catalogue["hidden"], catalogue["draft"]) == [10, 5, 3, 3]


@pytest.mark.parametrize("content, message", [
    (b"sku,stock\nabc,1\n".replace(b"abc", "Đỗ".encode("cp1258", "replace")), "không ở mã UTF-8"),
    ("ten,so\nabc,1\n", "Dòng đầu tiên phải ghi tên các cột"),
    ("sku,stock\n", "Tệp không có dòng sản phẩm nào"),
    (b"PK\x03\x04\x00\x00binary", "Đây không phải tệp CSV"),
    ("sku,stock\n" + "x,1\n" * (feeds.MAX_STOCK_LINES + 1), "Mỗi tệp tối đa 5.000 dòng"),
    ("sku,stock\n" + "x" * (feeds.MAX_STOCK_FILE_BYTES + 10), "Tệp quá lớn"),
])
def test_a_bad_stock_file_is_refused_whole(catalogue, client_for, in_commune, tule, content, message):
    refused = upload(client_for(HOST, catalogue["seller"]), content)
    assert refused.status_code == 400
    assert message in text_of(refused)
    assert stocks(in_commune, tule, catalogue["rice"]) == [10]


def test_stock_files_are_for_producers_and_the_economy_officer(catalogue, client_for, in_commune, tule):
    text = f"sku,stock\n{catalogue['tea'].slug},4\n"
    assert upload(client_for(HOST), text).status_code == 302  # to the login page
    for user in ("buyer", "clerk", "chairman"):
        assert upload(client_for(HOST, catalogue[user]), text).status_code == 403, user
    assert upload(client_for(HOST, catalogue["officer"]), text).status_code == 200
    assert stocks(in_commune, tule, catalogue["tea"]) == [4]


def test_the_api_takes_stock_updates_all_or_nothing(catalogue, client_for, in_commune, tule):
    rice, tea = catalogue["rice"], catalogue["tea"]
    seller = client_for(HOST, catalogue["seller"])
    done = seller.post("/api/v1/ocop/stock-updates/", {"items": [{"sku": rice.slug, "stock": 40},
                                                                  {"id": f"04630-{catalogue['hidden'].pk}", "stock": 2}]},
                       content_type="application/json")
    assert done.status_code == 200
    assert done.json() == [{"sku": rice.slug, "stock_before": 10, "stock": 40},
                           {"sku": catalogue["hidden"].slug, "stock_before": 3, "stock": 2}]
    refused = seller.post("/api/v1/ocop/stock-updates/", {"items": [{"sku": rice.slug, "stock": 41},
                                                                     {"sku": tea.slug, "stock": 1},
                                                                     {"sku": rice.slug, "stock": True}]},
                          content_type="application/json")
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "invalid_lines" and body["detail"] == "Chưa thay đổi gì: 2 dòng có lỗi."
    assert body["fields"]["items"] == [
        f"Dòng 2 ({tea.slug}): Không có sản phẩm nào của bạn mang mã này.",
        f"Dòng 3 ({rice.slug}): Sản phẩm này đã có ở dòng 1.",
    ]
    assert stocks(in_commune, tule, rice, tea) == [40, 5]
    for payload in ({}, {"items": []}, {"items": "abc"}, {"items": [1, 2]}, [1]):
        bad = seller.post("/api/v1/ocop/stock-updates/", payload, content_type="application/json")
        assert bad.status_code == 400 and set(bad.json()) == {"code", "detail", "fields"}, payload
    anonymous = client_for(HOST).post("/api/v1/ocop/stock-updates/", {"items": []}, content_type="application/json")
    assert anonymous.status_code in (401, 403)
    buyer = client_for(HOST, catalogue["buyer"]).post("/api/v1/ocop/stock-updates/", {"items": [{"sku": rice.slug, "stock": 1}]},
                                                      content_type="application/json")
    assert buyer.status_code == 403
    assert stocks(in_commune, tule, rice) == [40]
