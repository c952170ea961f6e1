"""The producers' pages in Chromium on a 360 px phone: nothing wider than the screen, no script
error, Vietnamese, light (at most 150 KB on a first load without photos); a producer logs in,
adds a product, uploads a photo taken by the phone's camera (with its GPS position), and the page
shows it cleaned and resized.

A threaded WSGI server serves the test database; the rows the browser needs are committed and
removed afterwards."""
from __future__ import annotations


import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, tenant_context
from PIL import Image

from communes.models import Commune, Membership, Role, User
from ecommerce import services
from ecommerce.models import Producer, ProducerMember, Product, ProductPhoto, ProductVersion
from tests.browser import live_server, require_chromium
from tests.outbox.state import clear_outbox

pytestmark = pytest.mark.django_db

USERNAME = "ocop_browser_seller"
OFFICER = "ocop_browser_officer"
PASSWORD = "Nep-Tan-Tu-Le-2026"
BUDGET = 150 * 1024
WIDTH = 360


def _remove(tule) -> None:
    """What the module commits, gone (also what an interrupted run left)."""
    with schema_context(tule.schema_name):
        from population.models import Village

        producers = Producer.objects.filter(members__user__username__in=[USERNAME])
        products = Product.objects.filter(producer__in=list(producers))
        ProductPhoto.objects.filter(product__in=products).delete()
        products.update(live_version=None, pending_version=None, status="draft")
        ProductVersion.objects.filter(product__in=products).delete()
        products.delete()
        ids = list(producers.values_list("pk", flat=True))
        ProducerMember.objects.filter(producer_id__in=ids).delete()
        Producer.objects.filter(pk__in=ids).delete()
        Village.objects.filter(name="Bản Trình Duyệt").delete()
    clear_outbox(tule)
    connection.set_schema_to_public()
    users = User.objects.filter(username__in=[USERNAME, OFFICER])
    from django.contrib.sessions.models import Session

    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") in {str(pk) for pk in users.values_list("pk", flat=True)}:
            session.delete()
    Membership.objects.filter(user__in=users).delete()
    users.delete()


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    require_chromium()
    media_before = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        tule = Commune.objects.get(code="04630")
        _remove(tule)
        try:
            seller = User.objects.create_user(USERNAME, password=PASSWORD, full_name="Lò Văn Pản")
            officer = User.objects.create_user(OFFICER, password=PASSWORD)
            Membership.objects.create(user=seller, commune=tule, role=Role.PRODUCER)
            Membership.objects.create(user=officer, commune=tule, role=Role.ECONOMY_OFFICER)
            with tenant_context(tule):
                from population.models import Village

                village = Village.objects.create(name="Bản Trình Duyệt")
                producer = services.register_producer(
                    seller, kind="cooperative", name="Hợp tác xã Nông nghiệp Trình Duyệt Tú Lệ",
                    representative="Lò Văn Pản", phone="0912000404", address="Bản Trình Duyệt, xã Tú Lệ",
                    village=village, bank_bin="970405", bank_account="000004630404",
                    bank_account_name="TAI KHOAN THU NGHIEM")
                services.approve_producer(officer, producer)
                rice = services.create_product(
                    seller, producer, stock=120, name="Gạo nếp Tan Tú Lệ đóng túi hút chân không 2 kg", group="1",
                    subgroup="1.2", price=120000, unit="túi 2 kg", min_order=1, season_months=[9, 10, 11],
                    description="Gạo nếp Tan trồng trên ruộng bậc thang bản Lướt, hạt tròn, dẻo thơm. " * 5,
                    submit=True)
                services.approve_version(officer, rice.pending_version)
                services.save_version(seller, rice, price=125000)
            connection.set_schema_to_public()
            with live_server() as port:
                yield {"port": port, "tule": tule, "producer": producer, "rice": rice, "seller": seller}
        finally:
            _remove(tule)
            settings.MEDIA_ROOT = media_before


class Meter:
    """Bytes on the wire as Chromium counts them, with the cache disabled."""

    def __init__(self, page):
        self.sizes: dict[str, int] = {}
        self.urls: dict[str, str] = {}
        session = page.context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        session.on("Network.responseReceived", lambda e: self.urls.__setitem__(e["requestId"], e["response"]["url"]))
        session.on("Network.loadingFinished", lambda e: self.sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))

    def reset(self):
        self.sizes.clear()
        self.urls.clear()

    def total(self, photos: bool = True) -> int:
        return sum(size for key, size in self.sizes.items() if photos or "/anh-san-pham/" not in self.urls.get(key, ""))


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": 740}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    page.meter = Meter(page)
    yield page
    context.close()


def check(page, refused: bool = False) -> int:
    """``refused``: the page answers a refused form (400), which Chromium logs as a failed load."""
    page.wait_for_load_state("networkidle")
    if refused:
        page.console_errors[:] = [e for e in page.console_errors if "status of 400" not in e]
    assert page.evaluate("document.documentElement.lang") == "vi"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide"
    assert page.console_errors == [], page.console_errors
    assert page.evaluate("typeof window.htmx") == "undefined"
    weight = page.meter.total(photos=False)
    assert 0 < weight <= BUDGET, f"{page.url}: {weight} bytes"
    print(f"{page.url}: {weight} bytes without photos, {page.meter.total()} with, {width} px")
    return weight


def visit(page, url) -> int:
    page.meter.reset()
    page.goto(url)
    return check(page)


def camera_photo(path) -> str:
    image = Image.new("RGB", (3000, 2000), (170, 130, 60))
    for x in range(0, 3000, 61):
        image.paste((40, 110, 40), (x, 0, x + 25, 900))
    exif = Image.Exif()
    exif[0x0112] = 8  # held the other way: turned 90° counter-clockwise on display
    exif[0x8825] = {1: "N", 2: (21.0, 47.0, 1.0), 3: "E", 4: (104.0, 25.0, 2.0)}
    image.save(path, "JPEG", quality=88, exif=exif.tobytes())
    return str(path)


def test_a_producer_works_from_a_phone(site, phone, tmp_path):
    base = f"http://tule.localhost:{site['port']}"
    phone.goto(base + "/accounts/login/?next=/ocop/producer/")
    phone.fill("input[name=username]", USERNAME)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form.card button[type=submit]")
    phone.wait_for_url(base + "/ocop/producer/")

    visit(phone, base + "/ocop/producer/")
    assert phone.locator("h1").inner_text() == "Sản phẩm OCOP của tôi"
    assert phone.get_by_text("Đang bán · có thay đổi chưa gửi duyệt").count() == 1

    rice = site["rice"]
    visit(phone, base + f"/ocop/products/{rice.pk}/")
    assert phone.get_by_text("Phiên bản 2 là bản nháp").count() == 1
    visit(phone, base + f"/ocop/products/{rice.pk}/edit/")
    assert "Người mua đang thấy phiên bản đã duyệt 1" in phone.locator("main").inner_text()
    visit(phone, base + "/ocop/producer/register/")
    visit(phone, base + f"/ocop/producers/{site['producer'].pk}/")

    # A new product: a refused price keeps what was typed, then it is saved as a draft.
    visit(phone, base + f"/ocop/producers/{site['producer'].pk}/products/new/")
    phone.fill("input[name=name]", "Cốm Tú Lệ")
    phone.select_option("select[name=group]", label="1. Thực phẩm")
    phone.fill("input[name=price]", "-150")
    phone.fill("input[name=unit]", "kg")
    phone.fill("textarea[name=description]", "Cốm làm từ lúa nếp non.")
    phone.check("input[name=season_months][value='9']")
    phone.meter.reset()
    phone.click("button[value=draft]")
    phone.wait_for_load_state()
    check(phone, refused=True)
    assert phone.locator(".error-summary").count() == 1
    assert phone.evaluate("document.activeElement.classList.contains('error-summary')")
    assert phone.input_value("input[name=name]") == "Cốm Tú Lệ"
    assert phone.locator("input[name=season_months][value='9']").is_checked()
    phone.fill("input[name=price]", "150.000")
    phone.click("button[value=draft]")
    phone.wait_for_url("**/ocop/products/*/")
    check(phone)

    # A photo from the camera: uploaded, cleaned, shown at the phone's width.
    phone.set_input_files("input[name=photo]", camera_photo(tmp_path / "IMG_2026.jpg"))
    phone.fill("input[name=alt_text]", "Cốm xanh trong lá dong")
    phone.click("#photos form[enctype] button[type=submit]")
    phone.wait_for_url("**/ocop/products/*/#photos")
    check(phone)
    image = phone.locator(".photo-grid img").first
    image.wait_for()
    phone.wait_for_function("document.querySelector('.photo-grid img').complete")
    natural = phone.evaluate("[document.querySelector('.photo-grid img').naturalWidth,"
                             " document.querySelector('.photo-grid img').naturalHeight]")
    assert natural[1] > natural[0], natural  # turned upright: portrait
    source = phone.evaluate("document.querySelector('.photo-grid img').currentSrc")
    assert source.endswith(("-320.webp", "-640.webp")), source  # a stored WebP width, for the phone's screen
    assert image.get_attribute("alt") == "Cốm xanh trong lá dong"
    with schema_context(site["tule"].schema_name):
        photo = ProductPhoto.objects.get(alt_text="Cốm xanh trong lá dong")
        assert sorted(v["width"] for v in photo.variants if v["format"] == "webp") == [320, 640, 1280]
    connection.set_schema_to_public()
