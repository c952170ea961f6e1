"""The trace page and the product map in Chromium: on a 360 px phone nothing is wider than the
screen and the first load weighs at most 150 KB (the map's library is loaded only when asked);
on a wide screen the map draws itself with Leaflet, its tiles from another origin admitted by the
page's Content-Security-Policy (a local tile server here), the producers' markers clustered at low
zoom and apart at high zoom; without JavaScript the page is the list by village. No script error,
no policy violation (Chromium reports both on its console)."""
from __future__ import annotations

import datetime
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser import live_server, require_chromium
from tests.onestop.test_browser_onestop import Meter, check_light_phone_page
from tests.outbox.state import clear_outbox

pytestmark = pytest.mark.django_db
BUDGET = 150 * 1024


def tile_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (226, 236, 222)).save(buffer, "PNG")
    return buffer.getvalue()


class TileHandler(BaseHTTPRequestHandler):
    body = b""
    served: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        TileHandler.served.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    from ecommerce import services
    from ecommerce.models import Certificate, Lot, TraceCode, TraceEvent
    from population.models import Village
    from tests.ecommerce.orders_live import committed_shop

    require_chromium()
    TileHandler.body = tile_png()
    tiles = ThreadingHTTPServer(("127.0.0.1", 0), TileHandler)
    threading.Thread(target=tiles.serve_forever, daemon=True).start()
    old_tiles = settings.XASO_MAP_TILE_URL
    settings.XASO_MAP_TILE_URL = f"http://127.0.0.1:{tiles.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        with committed_shop(tag="mapa") as first, committed_shop(tag="mapb") as second:
            tule = first["commune"]
            made = {}
            try:
                with tenant_context(tule):
                    Village.objects.filter(name="Bản Thử Đơn mapa").update(latitude="21.795000", longitude="104.290000")
                    Village.objects.filter(name="Bản Thử Đơn mapb").update(latitude="21.812000", longitude="104.318000")
                    made["certificate"] = Certificate.objects.create(
                        product=first["product"], number="OCOP-BROWSER-1", score=92,
                        issuing_authority="Ủy ban nhân dân tỉnh Yên Bái",
                        issued_on=timezone.localdate() - datetime.timedelta(days=30))
                    lot = services.create_lot(first["seller"], first["product"], number="NEP-B1",
                                              produced_on=timezone.localdate() - datetime.timedelta(days=12),
                                              quantity=800, unit="kg", input_notes="Giống nếp Tan cổ truyền.")
                    made["lot"] = lot
                    for days, kind, place in ((12, "harvested", "Ruộng bậc thang"), (6, "packed", "Nhà sơ chế"),
                                              (2, "shipped", "Bưu điện Văn Chấn")):
                        services.add_trace_event(first["seller"], lot, kind=kind, place=place,
                                                 at=timezone.now() - datetime.timedelta(days=days))
                    code = lot.codes.get(serial__isnull=True).code
                connection.set_schema_to_public()
                with live_server() as port:
                    yield {"port": port, "code": code, "first": first, "second": second, "tiles": TileHandler.served}
            finally:
                with tenant_context(tule):
                    if "lot" in made:
                        TraceEvent.objects.filter(lot_id=made["lot"].pk).delete()
                        TraceCode.objects.filter(lot_id=made["lot"].pk).delete()  # scan days go with them
                        Lot.objects.filter(pk=made["lot"].pk).delete()
                        Lot.history.model.objects.filter(id=made["lot"].pk).delete()
                    if "certificate" in made:
                        Certificate.history.model.objects.filter(id=made["certificate"].pk).delete()
                        made["certificate"].delete()
                    Village.objects.filter(name__in=["Bản Thử Đơn mapa", "Bản Thử Đơn mapb"]).update(
                        latitude=None, longitude=None)
                clear_outbox(tule)
                connection.set_schema_to_public()
    settings.XASO_MAP_TILE_URL = old_tiles
    tiles.shutdown()
    tiles.server_close()


def new_page(browser, width: int, **options):
    context = browser.new_context(viewport={"width": width, "height": 780}, locale="vi-VN", **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    page.meter = Meter(page)
    return page


@pytest.fixture
def phone(browser):
    page = new_page(browser, 360)
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser):
    page = new_page(browser, 1280)
    yield page
    page.context.close()


def test_the_trace_page_is_light_on_a_phone(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    phone.meter.reset()
    phone.goto(f"{base}/t/{site['code']}/")
    size = check_light_phone_page(phone)
    assert size <= BUDGET
    assert phone.locator("h1").inner_text().startswith("Gạo nếp thử mapa")
    assert phone.locator("#events .timeline li").count() == 3
    assert phone.locator(".locator svg circle").count() == 2
    assert "★★★★★" in phone.locator(".stars").first.inner_text()
    # A code that does not exist: a clear page on a phone too.
    phone.meter.reset()
    response = phone.goto(f"{base}/t/ACDEFGHJ/")
    assert response.status == 404
    phone.wait_for_load_state("networkidle")
    # The page's own status is the one error Chromium reports; nothing else failed.
    assert phone.console_errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    phone.console_errors.clear()
    check_light_phone_page(phone)
    assert "Không tìm thấy mã truy xuất" in phone.locator("h1").inner_text()
    phone.fill("input[name=code]", site["code"].lower())
    phone.click("main form button[type=submit]")
    phone.wait_for_url(f"{base}/t/{site['code']}/")


def test_the_map_waits_on_a_phone_until_asked(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    phone.meter.reset()
    phone.goto(f"{base}/ban-do/")
    check_light_phone_page(phone)
    assert phone.locator("#villages > li").count() >= 2
    assert phone.evaluate("typeof window.L") == "undefined"  # Leaflet not loaded on the first load
    assert phone.locator("#map-show").is_visible()
    phone.click("#map-show")
    phone.wait_for_selector("#map-box[data-ready]")
    assert phone.locator("#product-map .leaflet-marker-icon").count() >= 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.console_errors == []


def test_the_map_draws_itself_with_clusters_and_tiles_on_a_wide_screen(site, desktop):
    base = f"http://tule.localhost:{site['port']}"
    desktop.goto(f"{base}/ban-do/")
    desktop.wait_for_selector("#map-box[data-ready]")
    desktop.wait_for_function("document.querySelectorAll('#product-map img.leaflet-tile-loaded').length > 0")
    assert site["tiles"], "no tile was asked for"
    ours = f"#product-map .leaflet-marker-icon[title='{site['first']['producer'].name}']"
    theirs = f"#product-map .leaflet-marker-icon[title='{site['second']['producer'].name}']"
    desktop.evaluate("window.xasoProductMap.setView([21.80, 104.30], 6, {animate: false})")
    desktop.wait_for_timeout(400)
    clusters = desktop.locator("#product-map .marker-cluster")
    assert clusters.count() >= 1 and desktop.locator(ours).count() == 0
    assert int(clusters.first.inner_text()) >= 2
    desktop.evaluate("window.xasoProductMap.setView([21.80, 104.30], 17, {animate: false})")
    desktop.wait_for_timeout(400)
    desktop.evaluate("window.xasoProductMap.fitBounds([[21.795, 104.29], [21.812, 104.318]], {animate: false})")
    desktop.wait_for_timeout(400)
    assert desktop.locator(ours).count() == 1 and desktop.locator(theirs).count() == 1
    desktop.click(ours)
    popup = desktop.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Gạo nếp thử mapa" in popup.inner_text() and "60.000 đ / kg" in popup.inner_text()
    assert popup.locator("a").get_attribute("href").endswith(f"/san-pham/{site['first']['product'].slug}/")
    assert "OpenStreetMap" in desktop.locator(".leaflet-control-attribution").inner_text()
    assert desktop.console_errors == []


def test_without_javascript_the_map_page_is_the_list(site, browser):
    page = new_page(browser, 360, java_script_enabled=False)
    try:
        page.goto(f"http://tule.localhost:{site['port']}/ban-do/")
        assert page.locator("#map-box").is_hidden()
        assert page.get_by_text("Gạo nếp thử mapa").count() == 1
        assert page.locator("#villages > li").count() >= 2
    finally:
        page.context.close()


def test_the_producers_lot_pages_fit_a_phone(site, phone):
    """The producer logs in on a phone, opens its lots, a lot, and the form of a new lot: nothing
    wider than the screen, no script error."""
    from tests.ecommerce.orders_live import PASSWORD

    base = f"http://tule.localhost:{site['port']}"
    phone.goto(f"{base}/accounts/login/?next=/ocop/lots/")
    phone.fill("input[name=username]", site["first"]["seller"].username)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("main form button[type=submit]")
    phone.wait_for_url(f"{base}/ocop/lots/")
    for path in ("/ocop/lots/new/", "/ocop/lots/", None):
        if path is None:  # from the list, the lot
            phone.click("main table a >> nth=0")
            phone.wait_for_load_state()
        else:
            phone.goto(base + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, phone.url
    assert phone.locator("#stamp-form").count() == 1 and "NEP-B1" in phone.locator("h1").inner_text()
    assert phone.console_errors == []
