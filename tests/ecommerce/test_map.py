"""The product map: the GeoJSON of the producers with listed products at their villages (public,
published rows only, no personal data), and the page that lists the products by village without
JavaScript or tiles, under the project's Content-Security-Policy widened for the tile host on
that page alone."""
from __future__ import annotations

import html
import json
import re

import pytest

from ecommerce import services

HOST = "tule.localhost"


@pytest.fixture
def placed(market, in_commune, tule):
    """The market's villages placed; a third producer in a village without a position; a
    suspended producer's and a draft product that the map must not show."""
    from population.models import Village

    with in_commune(tule):
        Village.objects.filter(pk=market["village"].pk).update(latitude="21.795000", longitude="104.290000")
        far = Village.objects.create(name="Bản Thử Xa")
        third = services.register_producer(market["officer"], kind="enterprise", name="Công ty Thử Xa",
                                           representative="Vì Văn Xa", phone="0912000777", address="Bản Thử Xa",
                                           village=far)
        services.approve_producer(market["officer"], third)
        honey = services.create_product(market["officer"], third, stock=4, name="Mật ong Thử", group="1", price=250000,
                                        unit="chai", description="Mật ong.", submit=True)
        services.approve_version(market["officer"], honey.pending_version)
        services.create_product(market["seller"], market["ours"], name="Cốm nháp", group="1", price=1000, unit="kg",
                                description="Nháp.")
        yield {**market, "far": far, "third": third, "honey": honey}


def test_the_geojson_places_each_producer_at_its_village(placed, client_for):
    response = client_for(HOST).get("/api/v1/ocop/map/")
    assert response.status_code == 200 and response["Cache-Control"] == "public, max-age=300"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    features = {f["properties"]["producer"]: f for f in body["features"]}
    assert set(features) == {"HTX Nếp Thử", "Hộ Chè Thử"}  # Công ty Thử Xa's village has no position
    rice = features["HTX Nếp Thử"]
    assert rice["geometry"] == {"type": "Point", "coordinates": [104.29, 21.795]}  # longitude first (RFC 7946)
    assert rice["id"] == placed["ours"].slug and rice["properties"]["village"] == "Bản Thử Chợ"
    [product] = rice["properties"]["products"]
    assert product == {"name": "Gạo nếp Thử", "sku": placed["rice"].slug, "price": 60000, "currency": "VND",
                       "unit": "kg", "ocop_stars": 0, "group": product["group"],
                       "url": f"http://tule.localhost/san-pham/{placed['rice'].slug}/"}
    raw = response.content.decode()
    for private in ("0912000101", "Lò Văn Pản", "000004630001", "Cốm nháp", "Vì Văn Xa", "Bản Thử Chợ, "):
        assert private not in raw


def test_a_suspended_producer_leaves_the_map(placed, client_for, in_commune, tule):
    with in_commune(tule):
        services.suspend_producer(placed["officer"], placed["theirs"], "Kiểm tra")
    producers = [f["properties"]["producer"] for f in client_for(HOST).get("/api/v1/ocop/map/").json()["features"]]
    assert producers == ["HTX Nếp Thử"]
    assert "Chè Thử" not in html.unescape(client_for(HOST).get("/ban-do/").content.decode())


def test_the_page_lists_the_products_by_village_without_script_or_tiles(placed, client_for):
    response = client_for(HOST).get("/ban-do/")
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    villages = re.findall(r'<li id="village-\d+"><h2>([^<]+)</h2>', page)
    assert villages == ["Bản Thử Chợ", "Bản Thử Xa"]
    for text in ("HTX Nếp Thử", "Gạo nếp Thử", "60.000 đ / kg", "Hộ Chè Thử", "180.000 đ / hộp", "Mật ong Thử",
                 "250.000 đ / chai", "chưa có vị trí"):
        assert text in page, text
    assert f'href="/san-pham/{placed["rice"].slug}/"' in page
    # The map's data: a JSON block, not a script to run; every script is a file of the portal.
    data = json.loads(re.search(r'<script id="map-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert len(data["geojson"]["features"]) == 2
    assert data["tiles"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png" and "OpenStreetMap" in data["attribution"]
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert "leaflet.js" not in re.sub(r'data-leaflet="[^"]*"', "", page)  # loaded by the page's script, later


def test_only_the_map_page_admits_the_tile_host(placed, client_for, settings):
    client = client_for(HOST)
    policy = client.get("/ban-do/")["Content-Security-Policy"]
    img = re.search(r"img-src ([^;]*)", policy).group(1).split()
    assert img == ["'self'", "data:", "https://tile.openstreetmap.org"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    other = client.get("/t/")["Content-Security-Policy"]
    assert "tile.openstreetmap.org" not in other
    settings.XASO_MAP_TILE_URL = "https://{s}.tiles.example.vn/osm/{z}/{x}/{y}.png"
    img = re.search(r"img-src ([^;]*)", client.get("/ban-do/")["Content-Security-Policy"]).group(1).split()
    assert img == ["'self'", "data:", "https://*.tiles.example.vn"]
    settings.XASO_MAP_TILE_URL = ""
    page = client.get("/ban-do/")
    assert re.search(r"img-src ([^;]*)", page["Content-Security-Policy"]).group(1).split() == ["'self'", "data:"]
    assert '"tiles": ""' in html.unescape(page.content.decode())


def test_another_commune_has_its_own_map(placed, client_for):
    assert client_for("yenhoa.localhost").get("/api/v1/ocop/map/").json()["features"] == []
    assert "Gạo nếp Thử" not in html.unescape(client_for("yenhoa.localhost").get("/ban-do/").content.decode())
