"""The marketplace's demo: the pilots' producers and products with certificates (one ending
soon, one expired), lots with codes and events, orders in every state, a producer login; made
once (a second run changes nothing). Checked by tests/test_demo.py, which seeds the demo twice
for every app at once (seeding is the slow part)."""
from __future__ import annotations

from django.utils import timezone

from communes.demo import DEMO_PASSWORD
from communes.models import Commune


def marketplace_counts(in_commune):
    from ecommerce.models import Certificate, Lot, Order, OrderEvent, Producer, Product, TraceCode, TraceEvent

    out = {}
    for code in ("04630", "14701"):
        with in_commune(Commune.objects.get(code=code)):
            out[code] = tuple(model.objects.count() for model in (
                Producer, Product, Certificate, Lot, TraceCode, TraceEvent, Order, OrderEvent))
    return out


def check_demo_marketplace(in_commune, client_for, printed: str) -> None:
    from ecommerce import selectors
    from ecommerce.models import Order, Producer, ProducerStatus, Product, ProductStatus
    from population.models import Village

    assert "tule.producer" in printed and "economy_officer" in printed
    tule = Commune.objects.get(code="04630")
    with in_commune(tule):
        rice = Product.objects.get(slug="gao-nep-tu-le")
        assert rice.is_listed and rice.live_version.name == "Gạo nếp Tú Lệ" and rice.live_version.price == 60_000
        assert selectors.stars_now(rice).stars == 4
        com = Product.objects.get(slug="com-tu-le")
        ending = selectors.current_certificate(com)
        assert 0 < (ending.expires_on - timezone.localdate()).days <= 30
        tea = Product.objects.get(slug="che-shan-tuyet-tu-le")
        shown = selectors.stars_now(tea)
        assert shown.stars == 0 and shown.expired
        assert tea.pending_version is not None and tea.is_listed  # a change waits, the listing stays
        assert Producer.objects.get(slug="hkd-tho-cam-na-long").status == ProducerStatus.PENDING
        assert Product.objects.get(slug="khan-tho-cam-na-long").status == ProductStatus.PENDING
        assert {"placed", "confirmed", "paid", "shipped", "delivered", "cancelled"} <= set(
            Order.objects.values_list("state", flat=True))
        assert all("THỬ NGHIỆM" in p.bank_account_name for p in Producer.objects.all())
        assert rice.lots.get().codes.count() == 13
        assert rice.stock >= 0
        assert Village.objects.filter(latitude__isnull=True).count() == 0
        village = Village.objects.order_by("pk").first()
        assert 21 < village.latitude < 22.5 and 103.5 < village.longitude < 105
    # The producer's login opens the overview with its orders to confirm.
    client = client_for("tule.localhost")
    assert client.login(username="tule.producer", password=DEMO_PASSWORD)
    page = client.get("/ocop/")
    assert page.status_code == 200 and "Hợp tác xã Nông nghiệp Tú Lệ" in page.content.decode()
    with in_commune(tule):
        placed = Order.objects.get(state="placed")
    assert placed.code in page.content.decode()
    # The economy officer (second factor confirmed) sees the weaver waiting for approval.
    from communes.models import User

    officer = client_for("tule.localhost", User.objects.get(username="tule.economy_officer"))
    assert "Hộ kinh doanh Thổ cẩm Nà Lóng" in officer.get("/ocop/").content.decode()
