"""The OCOP catalogue in a real browser (Debian's Chromium, driven by Playwright) on a 360 px phone:
the commune's catalogue, a product page and the national catalogue have nothing wider than the
screen, no script error, and transfer at most 150 KB on a first load without the photos (counted
as Chromium counts them, cache disabled); the search without accents and a filter work through
the form; the product page's JSON-LD parses in the browser; photos come in their stored sizes
(``srcset``) and load lazily.

A threaded WSGI server serves the test database; the rows the browser needs are committed (the
server has its own connection) and removed afterwards."""
from __future__ import annotations

import datetime
import io
import json

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from communes.models import Commune, Membership, Role, User
from tests.browser import live_server, require_chromium
from tests.outbox.state import clear_outbox

pytestmark = pytest.mark.django_db
BUDGET = 150 * 1024
PREFIX = "Trình duyệt"


def png_upload(name: str = "anh.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 160, 60)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _remove_market(tule) -> None:
    """Remove what the fixture made in Tú Lệ and on the public side (committed rows)."""
    from ecommerce.models import Certificate, Producer, Product, ProductPhoto, ProductVersion
    from population.models import Village

    with schema_context(tule.schema_name):
        producers = Producer.objects.filter(name__startswith=PREFIX)
        products = Product.objects.filter(producer__in=producers)
        for photo in ProductPhoto.objects.filter(product__in=products):
            from ecommerce import photos

            photos._delete_files([v.get("path") for v in photo.variants or []])
        ProductPhoto.objects.filter(product__in=products).delete()
        Certificate.history.filter(product_id__in=products.values("pk")).delete()
        Certificate.objects.filter(product__in=products).delete()
        products.update(live_version=None, pending_version=None, status="draft")
        ProductVersion.history.filter(product_id__in=products.values("pk")).delete()
        ProductVersion.objects.filter(product__in=products).delete()
        Product.history.filter(producer_id__in=producers.values("pk")).delete()
        products.delete()
        Producer.history.filter(name__startswith=PREFIX).delete()
        producers.delete()
        Village.objects.filter(name__startswith=PREFIX).delete()
        Village.history.filter(name__startswith=PREFIX).delete()
    clear_outbox(tule)
    connection.set_schema_to_public()


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        from ecommerce import photos, services
        from outbox.writer import deliver
        from population.models import Village

        tule = Commune.objects.get(code="04630")
        _remove_market(tule)  # what a run cut short left behind
        User.objects.filter(username__in=["ocop_browser_officer", "ocop_browser_seller"]).delete()
        officer = User.objects.create_user("ocop_browser_officer", password="x", full_name="Lò Văn Kinh")
        seller = User.objects.create_user("ocop_browser_seller", password="x", full_name="Lò Văn Pản")
        Membership.objects.create(user=officer, commune=tule, role=Role.ECONOMY_OFFICER)
        Membership.objects.create(user=seller, commune=tule, role=Role.PRODUCER)
        today = timezone.localdate()
        server = live_server()
        port = server.__enter__()
        overrides = override_settings(XASO_PUBLIC_PORT=str(port))  # the published addresses reach this server
        overrides.enable()
        try:
            with tenant_context(tule):
                village = Village.objects.create(name=f"{PREFIX} Bản Lướt")
                producer = services.register_producer(
                    seller, kind="cooperative", name=f"{PREFIX} HTX Nông nghiệp", representative="Lò Văn Pản",
                    phone="0912000101", address="Bản Lướt", village=village)
                services.approve_producer(officer, producer)
                made = []
                for index, (name, price, unit) in enumerate([
                        ("Gạo nếp Tan", 60000, "kg"), ("Cốm non", 150000, "kg"), ("Chè Shan tuyết", 180000, "hộp 200 g"),
                        ("Mật ong bạc hà", 320000, "chai 500 ml"), ("Măng khô", 240000, "kg"), ("Khăn piêu", 450000, "chiếc")]):
                    product = services.create_product(
                        seller, producer, stock=40, name=f"{name} {PREFIX}", group="1" if index < 5 else "4",
                        price=price, unit=unit, description=f"{name} của hợp tác xã, làm theo cách truyền thống của bản.",
                        submit=True)
                    services.approve_version(officer, product.pending_version)
                    made.append(product)
                services.add_certificate(officer, made[0], number="BROWSER/412", score=78,
                                         issuing_authority="Ủy ban nhân dân tỉnh Lào Cai",
                                         issued_on=today - datetime.timedelta(days=400))
                photos.add_photo(seller, made[0], png_upload(), alt_text="Túi gạo nếp Tan")
                made[0].refresh_from_db()
            connection.set_schema_to_public()
            deliver(tule.schema_name, wait=True)
            connection.set_schema_to_public()
            yield {"port": port, "tule": tule, "rice": made[0], "made": made}
        finally:
            server.__exit__(None, None, None)
            overrides.disable()
            _remove_market(tule)
            from django.contrib.sessions.models import Session

            Session.objects.all().delete()
            User.objects.filter(pk__in=[officer.pk, seller.pk]).delete()


class Meter:
    """Bytes received by the page, as Chromium counts them on the wire (cache disabled); photos
    (image responses of the product photos) are counted apart."""

    def __init__(self, page):
        self.sizes: dict[str, int] = {}
        self.images: set[str] = set()
        self.session = page.context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.session.on("Network.responseReceived", self._response)
        self.session.on("Network.loadingFinished", self._finished)

    def _response(self, event):
        response = event["response"]
        if response.get("mimeType", "").startswith("image/") and "/photos/" in response.get("url", ""):
            self.images.add(event["requestId"])

    def _finished(self, event):
        self.sizes[event["requestId"]] = int(event["encodedDataLength"])

    def reset(self):
        self.sizes.clear()
        self.images.clear()

    @property
    def total(self) -> int:
        return sum(size for request, size in self.sizes.items() if request not in self.images)


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    page.meter = Meter(page)
    yield page
    context.close()


def check_light(page) -> int:
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "vi"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"
    assert page.console_errors == []
    assert 0 < page.meter.total <= BUDGET, f"{page.url} transferred {page.meter.total} bytes"
    assert page.evaluate("!!(window.htmx || window.React || window.Vue || window.jQuery)") is False
    print(f"{page.url}: {page.meter.total} bytes without photos, {width} px")
    return page.meter.total


def visit(page, url):
    page.meter.reset()
    page.goto(url)
    return check_light(page)


def test_the_commune_catalogue_on_a_phone(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    visit(phone, f"{base}/san-pham/")
    names = phone.locator(".product-card .name").all_inner_texts()
    assert len(names) >= 6 and any(name.startswith("Gạo nếp Tan") for name in names)
    # The search without accents, through the form.
    phone.meter.reset()
    phone.fill("#id_q", "mat ong bac ha")
    phone.click("form.cat-filter .searchbar button")
    check_light(phone)
    assert phone.locator(".product-card .name").all_inner_texts() == [f"Mật ong bạc hà {PREFIX}"]
    # A filter through the folded panel, and a bad price named beside its field.
    phone.goto(f"{base}/san-pham/")
    phone.click("form.cat-filter summary")
    phone.select_option("#id_group", "4")
    phone.fill("#id_price_min", "rẻ thôi")
    phone.click("form.cat-filter .actions button")
    phone.wait_for_load_state("networkidle")
    assert phone.locator(".error-summary").is_visible()
    assert phone.input_value("#id_price_min") == "rẻ thôi"
    assert phone.locator(".product-card .name").all_inner_texts() == [f"Khăn piêu {PREFIX}"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_product_page_on_a_phone(site, phone):
    base = f"http://tule.localhost:{site['port']}"
    visit(phone, f"{base}/san-pham/{site['rice'].slug}/")
    assert phone.locator("h1").inner_text() == f"Gạo nếp Tan {PREFIX}"
    assert "60.000 đ" in phone.locator(".buy .price").inner_text()
    assert "OCOP 4 sao" in phone.locator("main").inner_text()
    data = json.loads(phone.evaluate(
        "JSON.stringify(JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent))"))
    assert data["@type"] == "Product" and data["offers"]["priceCurrency"] == "VND" and data["image"]
    image = phone.locator(".gallery img").first
    assert image.get_attribute("loading") == "lazy"
    assert "320w" in image.get_attribute("srcset") and "640w" in image.get_attribute("srcset")
    assert "webp" in phone.locator(".gallery source").first.get_attribute("type")
    assert phone.evaluate("document.querySelector('.gallery img').naturalWidth") > 0  # the photo is served


def test_the_public_home_and_the_national_catalogue_on_a_phone(site, phone):
    visit(phone, f"http://tule.localhost:{site['port']}/")
    assert phone.locator("#ocop .product-card").count() >= 4
    visit(phone, f"http://localhost:{site['port']}/ocop/?q=gao+nep")
    cards = phone.locator(".product-card")
    assert cards.count() >= 1
    link = cards.first.locator("a").first.get_attribute("href")
    assert link == f"http://tule.localhost:{site['port']}/san-pham/{site['rice'].slug}/"
    assert phone.evaluate("document.querySelector('.product-card img').naturalWidth") > 0  # from the commune's site
    visit(phone, f"http://localhost:{site['port']}/ocop/?province=15&commune=04630")
    assert phone.locator(".product-card").count() >= 6
