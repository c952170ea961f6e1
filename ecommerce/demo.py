"""Demo data of the OCOP marketplace (for seed_demo): the pilots' products.

Tú Lệ: the cooperative's sticky rice (gạo nếp Tú Lệ) and green rice flakes (cốm), a household's
Shan tuyết tea, and a brocade weaver who has just registered; Yên Hòa (Yên Mô): longan-flower
honey, nem chua and sedge handicraft. Every producer has a fictitious bank account whose name
says it is a test account (never transfer money to it), and no tax code (a made-up one could be
a real company's); certificates include one ending within
a month and one expired; lots with trace codes and events; orders in every state. Everything is
made through ``ecommerce.services`` (histories and events as in real use), by the commune's
economy officer and the producers' members (``<commune>.producer`` acts for the first producer).

Idempotent: a commune whose demo producers exist is left as it is.
"""
from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from communes.models import Role
from ecommerce import services
from ecommerce.models import (
    Order, OrderEvent, Producer, ProducerKind, Product, ProductSubGroup, TraceEventKind, add_months,
)

# A real bank of the NAPAS VietQR list (Agribank) and account numbers that are visibly no real
# ones (zeros, the commune's code, a serial); the name says it is a test account.
DEMO_BANK_BIN = "970405"
DEMO_ACCOUNT_NAME = "TÀI KHOẢN THỬ NGHIỆM – {name}"
DEMO_NAMESPACE = uuid.UUID("6f1c2a4e-0c1b-4e8a-9d4e-0c0ca0000000")


@dataclass(frozen=True)
class DemoProduct:
    key: str
    name: str
    subgroup: str
    price: int
    unit: str
    description: str
    stock: int
    min_order: int = 1
    season_months: tuple[int, ...] = ()
    description_en: str = ""
    certificate: tuple | None = None  # (score, months since issue, number, authority)
    lot: tuple | None = None  # (number, days since production, quantity, unit, input notes, item codes)
    listed: bool = True


@dataclass(frozen=True)
class DemoProducer:
    slug: str
    kind: str
    name: str
    representative: str
    phone: str
    village_index: int
    serial: str  # the end of its fictitious account number
    description: str
    products: tuple[DemoProduct, ...] = ()
    approved: bool = True
    member: bool = False  # the commune's demo producer login acts for it
    extra: dict = field(default_factory=dict)


TULE_AUTHORITY = "Ủy ban nhân dân tỉnh Yên Bái"
NINHBINH_AUTHORITY = "Ủy ban nhân dân tỉnh Ninh Bình"

DEMO_PRODUCERS = {
    "04630": (
        DemoProducer(
            "htx-nong-nghiep-tu-le", ProducerKind.COOPERATIVE, "Hợp tác xã Nông nghiệp Tú Lệ", "Lò Văn Pản",
            "0912000101", 0, "0001",
            "Hợp tác xã của 46 hộ trồng lúa nếp Tan trên ruộng bậc thang Tú Lệ, thu hoạch tháng 9–10.",
            products=(
                DemoProduct(
                    "gao-nep-tu-le", "Gạo nếp Tú Lệ", "1.2", 60_000, "kg",
                    "Gạo nếp Tan trồng trên ruộng bậc thang bản Lướt, hạt tròn, dẻo thơm; đóng túi hút chân không.",
                    stock=400, min_order=2,
                    description_en="Tan sticky rice from the terraced fields of Tú Lệ, vacuum-packed.",
                    certificate=(78, 14, "412/QĐ-UBND", TULE_AUTHORITY),
                    lot=("NEP2025-01", 70, 1200, "kg", "Giống nếp Tan địa phương; phân chuồng hoai mục; không phun thuốc diệt cỏ.", 12),
                ),
                DemoProduct(
                    "com-tu-le", "Cốm Tú Lệ", "1.3", 150_000, "kg",
                    "Cốm làm từ lúa nếp non, giã tay theo cách của người Thái Tú Lệ; ăn ngon nhất trong tuần đầu.",
                    stock=40, min_order=1, season_months=(9, 10, 11),
                    certificate=(62, 35, "1873/QĐ-UBND", TULE_AUTHORITY),  # ends within a month
                    lot=("COM2025-03", 20, 60, "kg", "Lúa nếp non của hợp tác xã; rang và giã tại bản Lướt.", 0),
                ),
            ),
            member=True,
        ),
        DemoProducer(
            "hkd-che-shan-khau-than", ProducerKind.HOUSEHOLD_BUSINESS, "Hộ kinh doanh Chè Shan tuyết Khau Thán",
            "Hà Thị Mai", "0983000202", 3, "0002",
            "Chè Shan tuyết cổ thụ trên đồi Khau Thán, hái và sao tay.",
            products=(
                DemoProduct(
                    "che-shan-tuyet-tu-le", "Chè Shan tuyết Tú Lệ", "1.5", 180_000, "hộp 200 g",
                    "Búp chè Shan tuyết cổ thụ, sao khô thủ công; nước vàng sánh, hậu ngọt.",
                    stock=120, certificate=(72, 37, "1120/QĐ-UBND", TULE_AUTHORITY),  # expired
                    lot=("CHE2025-07", 45, 300, "hộp", "Chè hái một tôm hai lá; sao chảo gang; không dùng phân hóa học.", 0),
                ),
            ),
        ),
        DemoProducer(
            "hkd-tho-cam-na-long", ProducerKind.HOUSEHOLD_BUSINESS, "Hộ kinh doanh Thổ cẩm Nà Lóng",
            "Lường Thị Hoa", "0356000303", 4, "0003",
            "Dệt thổ cẩm Thái bằng khung cửi truyền thống.",
            products=(
                DemoProduct(
                    "khan-tho-cam-na-long", "Khăn piêu thổ cẩm", "4.1", 450_000, "chiếc",
                    "Khăn piêu thêu tay hoa văn Thái, sợi bông nhuộm chàm.", stock=15, listed=False,
                ),
            ),
            approved=False,
        ),
    ),
    "14701": (
        DemoProducer(
            "htx-dich-vu-nong-nghiep-yen-hoa", ProducerKind.COOPERATIVE, "Hợp tác xã Dịch vụ nông nghiệp Yên Hòa",
            "Phạm Văn Tùng", "0978000404", 0, "0001",
            "Hợp tác xã nuôi ong lấy mật hoa nhãn ven núi Yên Mô.",
            products=(
                DemoProduct(
                    "mat-ong-hoa-nhan-yen-mo", "Mật ong hoa nhãn Yên Mô", "1.6", 250_000, "chai 500 ml",
                    "Mật ong nguyên chất thu hoạch mùa hoa nhãn tháng 3–4, không pha đường.", stock=200,
                    season_months=(3, 4, 5, 6, 7, 8),
                    description_en="Raw longan-flower honey, harvested in March and April.",
                    certificate=(81, 8, "238/QĐ-UBND", NINHBINH_AUTHORITY),
                    lot=("MO2025-04", 100, 600, "chai", "Đàn ong nội; không dùng kháng sinh trong mùa thu mật.", 24),
                ),
            ),
            member=True,
        ),
        DemoProducer(
            "hkd-nem-chua-yen-mac", ProducerKind.HOUSEHOLD_BUSINESS, "Hộ kinh doanh Nem chua Yên Mạc",
            "Đinh Thị Lan", "0868000505", 2, "0002",
            "Nem chua gói lá ổi, lá chuối theo công thức của làng Yên Mạc.",
            products=(
                DemoProduct(
                    "nem-chua-yen-mac", "Nem chua Yên Mạc", "1.3", 5_000, "chiếc",
                    "Nem chua thịt lợn gói lá, ủ ba ngày; bảo quản mát.", stock=800, min_order=20,
                    certificate=(74, 20, "2011/QĐ-UBND", NINHBINH_AUTHORITY),
                    lot=("NEM-0315", 2, 500, "chiếc", "Thịt lợn có giấy kiểm dịch; thính gạo rang; lá ổi rửa sạch.", 0),
                ),
            ),
        ),
        DemoProducer(
            "cong-ty-coi-my-nghe-yen-mo", ProducerKind.ENTERPRISE, "Công ty TNHH Cói mỹ nghệ Yên Mô",
            "Vũ Văn Khánh", "0389000606", 5, "0003",
            "Sản phẩm cói đan tay của các hộ trong xã.",
            products=(
                DemoProduct(
                    "gio-coi-dan-tay", "Giỏ cói đan tay", "5.1", 120_000, "chiếc",
                    "Giỏ cói đan tay, quai tết, đường kính 30 cm.", stock=60,
                    certificate=(58, 24, "1561/QĐ-UBND", NINHBINH_AUTHORITY),
                    lot=("COI-2025-11", 30, 150, "chiếc", "Cói Kim Sơn phơi khô, nhuộm màu tự nhiên.", 0),
                ),
            ),
        ),
    ),
}

# The demo orders of each commune, on the first producer: (key, days ago, state, buyer, lines).
# ``buyer`` is "citizen" (the demo citizen's account) or a guest (name, phone).
DEMO_ORDERS = {
    "04630": (
        ("placed", 0, "placed", ("Nguyễn Thị Hạnh", "0912345001"), (("gao-nep-tu-le", 5),)),
        ("confirmed", 1, "confirmed", "citizen", (("gao-nep-tu-le", 10), ("com-tu-le", 2))),
        ("paid", 2, "paid", ("Trần Văn Bình", "0983456002"), (("gao-nep-tu-le", 4),)),
        ("shipped", 4, "shipped", ("Lê Thị Thu", "0356789003"), (("com-tu-le", 3),)),
        ("delivered", 9, "delivered", "citizen", (("gao-nep-tu-le", 20),)),
        ("cancelled", 6, "cancelled", ("Phạm Văn Hùng", "0868123004"), (("gao-nep-tu-le", 50),)),
    ),
    "14701": (
        ("placed", 0, "placed", "citizen", (("mat-ong-hoa-nhan-yen-mo", 2),)),
        ("delivered", 12, "delivered", ("Đỗ Thị Yến", "0978234005"), (("mat-ong-hoa-nhan-yen-mo", 3),)),
    ),
}


def _shift(order: Order, days: int) -> None:
    """Move an order made now back ``days`` days (its times and events keep their order)."""
    if not days:
        return
    delta = datetime.timedelta(days=days)
    fields = {name: F(name) - delta for name in ("placed_at", "confirmed_at", "paid_at", "shipped_at", "delivered_at",
                                                 "cancelled_at") if getattr(order, name) is not None}
    Order.objects.filter(pk=order.pk).update(**fields)
    OrderEvent.objects.filter(order=order).update(at=F("at") - delta)
    order.payments.update(paid_at=F("paid_at") - delta)


def _producer(spec: DemoProducer, commune, officer, producer_user, villages) -> Producer:
    village = villages[spec.village_index % len(villages)]
    producer = services.register_producer(
        officer, kind=spec.kind, name=spec.name, representative=spec.representative, phone=spec.phone,
        address=f"{village.name}, {commune.name_in_sentence}", village=village,
        description=spec.description, bank_bin=DEMO_BANK_BIN, bank_account=f"0000{commune.code}{spec.serial}",
        bank_account_name=DEMO_ACCOUNT_NAME.format(name=spec.name.upper()),
    )
    Producer.objects.filter(pk=producer.pk).update(slug=spec.slug)
    producer.slug = spec.slug
    if spec.approved:
        services.approve_producer(officer, producer)
    if spec.member and producer_user is not None:
        services.add_member(officer, producer, producer_user)
    return producer


def _product(spec: DemoProduct, producer: Producer, writer, officer, approve: bool) -> Product:
    product = services.create_product(
        writer, producer, slug=spec.key, stock=spec.stock, name=spec.name,
        group=ProductSubGroup.objects.get(code=spec.subgroup).group, subgroup=spec.subgroup, price=spec.price,
        unit=spec.unit, min_order=spec.min_order, season_months=list(spec.season_months), description=spec.description,
        description_en=spec.description_en, submit=True,
    )
    if approve:
        services.approve_version(officer, product.pending_version)
    product.refresh_from_db()
    today = timezone.localdate()
    if spec.certificate:
        score, months_ago, number, authority = spec.certificate
        issued = add_months(today, -months_ago) - datetime.timedelta(days=10 if months_ago == 35 else 0)
        services.add_certificate(officer, product, number=number, score=score, issuing_authority=authority,
                                 issued_on=issued)
    if spec.lot:
        number, days_ago, quantity, unit, notes, items = spec.lot
        produced = today - datetime.timedelta(days=days_ago)
        lot = services.create_lot(writer, product, number=number, produced_on=produced, quantity=quantity, unit=unit,
                                  input_notes=notes, item_codes=items)
        moment = timezone.make_aware(datetime.datetime.combine(produced, datetime.time(7, 30)))
        services.add_trace_event(writer, lot, kind=TraceEventKind.HARVESTED, at=moment, place=producer.village.name,
                                 note="Thu hoạch tại vườn, ruộng của hộ thành viên.")
        if days_ago >= 2:
            services.add_trace_event(writer, lot, kind=TraceEventKind.PACKED, at=moment + datetime.timedelta(days=1),
                                     place=f"Xưởng đóng gói {producer.village.name}", note="Đóng gói, dán tem truy xuất.")
        if days_ago >= 10:
            services.add_trace_event(writer, lot, kind=TraceEventKind.SHIPPED, at=moment + datetime.timedelta(days=3),
                                     place=producer.address, note="Giao cho đơn vị vận chuyển.")
    return product


def _orders(code: str, products: dict, citizen, producer_user) -> int:
    made = 0
    for key, days_ago, state, buyer, lines in DEMO_ORDERS.get(code, ()):
        if buyer == "citizen":
            buyer_fields = {"buyer": citizen, "buyer_name": citizen.full_name or citizen.username,
                            "buyer_phone": citizen.phone or "0912345678"}
        else:
            buyer_fields = {"buyer_name": buyer[0], "buyer_phone": buyer[1]}
        order = services.place_order(
            lines=[(products[name], quantity) for name, quantity in lines], delivery_address="Số 12, đường Trần Phú, TP Yên Bái"
            if code == "04630" else "Thôn Yên Phú, xã Yên Mô, tỉnh Ninh Bình", note="",
            submit_token=uuid.uuid5(DEMO_NAMESPACE, f"{code}:{key}"), **buyer_fields,
        )
        if state != "placed":
            order = services.confirm_order(producer_user, order)
        if state in ("paid", "shipped", "delivered"):
            order = services.mark_paid(producer_user, order, amount=order.total,
                                       transaction_id=f"DEMO-{code}-{key}".upper(), purpose=f"DH {order.code}")
        if state in ("shipped", "delivered"):
            order = services.ship_order(producer_user, order, shipping_note="Viettel Post – mã vận đơn thử nghiệm")
        if state == "delivered":
            order = services.deliver_order(producer_user, order)
        if state == "cancelled":
            order = services.cancel_order(producer_user, order, "Khách hàng đổi ý, xin hủy đơn.")
        order.refresh_from_db()
        _shift(order, days_ago)
        made += 1
    return made


def populate(commune, officials: dict, citizen) -> dict | None:
    """The marketplace of one commune; None when it has no demo data or already has it."""
    from population.models import Village

    specs = DEMO_PRODUCERS.get(commune.code)
    if not specs:
        return None
    officer = officials.get(Role.ECONOMY_OFFICER.value)
    producer_user = officials.get(Role.PRODUCER.value)
    if officer is None:
        return None
    with tenant_context(commune), transaction.atomic():
        if Producer.objects.filter(slug__in=[spec.slug for spec in specs]).exists():
            return None
        villages = list(Village.objects.order_by("pk"))
        if not villages:
            return None
        products: dict[str, Product] = {}
        counts = {"producers": 0, "products": 0, "orders": 0}
        for spec in specs:
            producer = _producer(spec, commune, officer, producer_user, villages)
            writer = producer_user if spec.member and producer_user is not None else officer
            counts["producers"] += 1
            for product_spec in spec.products:
                products[product_spec.key] = _product(product_spec, producer, writer, officer, approve=product_spec.listed)
                counts["products"] += 1
        # An approved product's change waits for approval while the listing shows the approved one.
        tea = next((products[key] for key in ("che-shan-tuyet-tu-le", "mat-ong-hoa-nhan-yen-mo") if key in products), None)
        if tea is not None:
            services.save_version(officer, tea, price=tea.live_version.price + 10_000)
            services.submit_version(officer, tea)
        first = specs[0]
        if first.member and producer_user is not None:
            counts["orders"] = _orders(commune.code, products, citizen, producer_user)
        return counts


def seed_demo(context) -> None:
    """The demo step (``communes.modules.DemoStep``): the pilots' producers, products and orders."""
    for _spec, commune in context.communes:
        made = populate(commune, context.officials(commune), context.citizen)
        if made:
            context.out(f"  {commune}: {made['producers']} OCOP producers, {made['products']} products, "
                        f"{made['orders']} orders")
