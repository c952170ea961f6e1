"""Benchmark: the OCOP catalogue of a commune with 2,000 products, the national catalogue over
300 communes' published rows, and orders under concurrency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso python bench/ocop.py --seconds 15 --clients 4

Creates a scratch database (``xaso_bench_ocop``) with one commune (Tú Lệ) holding
``--products`` listed products (2,000 by default) of 100 producers in nine villages, a third of
them with an OCOP certificate, written in bulk; publishes them through the outbox (the topic's
snapshot, ``sync`` and the commune's writer, timed: what ``republish`` does); adds 299 more
communes whose ``--national-rows`` published rows each (50 by default) are written straight into
the national table (only the public side is read nationally: those communes need no schema).
Starts gunicorn on it (``--workers`` sync workers, as the portal is deployed) and drives it over
HTTP from ``--clients`` threads, ``--seconds`` per load in all, cut into ``--rounds`` rounds that
each run every load in turn (so that a machine whose load changes meanwhile slows every load
alike):

* baseline: ``GET /bench/minimal/`` on the commune's host, a Django view that returns "ok"
  through the whole middleware stack (host routing to the commune's schema, sessions, language);
* catalogue page: ``GET /san-pham/?page=N``, a random page of the 100;
* catalogue search: ``GET /san-pham/?q=…`` with two words without accents ("mat ong", "gao nep" …);
* product page: ``GET /san-pham/<slug>/`` of a random product (JSON-LD, certificate, stock);
* national search (page): ``GET /ocop/?q=…`` on the national host, over every commune's rows;
* national search (API): ``GET /api/v1/ocop/catalogue/?q=…`` (a province filter every other time).

Prints requests per second, median and 95th-percentile latency, and each load's ratio to the
baseline measured in the same rounds (goals: the catalogue page at 0.5× the minimal view or more;
the national search's median at 100 ms or less).

Then orders under concurrency, in this process: ``--order-clients`` threads, each with its own
database connection, place an order (``services.place_order``, as a guest) and confirm it
(``services.confirm_order``, which reserves the stock with one conditional UPDATE per line and
publishes the product's row when its stock state changes) for ``--order-seconds``, on 20
products in demand: orders per second, the median and p95 of place + confirm, and a check that no
stock went below zero.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import tempfile
import threading
import time
import uuid

from _scratch import drive, free_port, merge, scratch_database, start_gunicorn, summary

SCRATCH = "xaso_bench_ocop"
HOST = "tule.bench.test"
NATIONAL_HOST = "localhost"
VILLAGES = ("Bản Lướt", "Bản Phạ", "Bản Chao", "Khau Thán", "Nà Lóng", "Tà Chơ", "Sài Lương", "Nậm Lành", "Bản Đồng")
GOODS = [
    ("Gạo nếp Tan", "1", "1.2", "kg"), ("Cốm non", "1", "1.3", "kg"), ("Chè Shan tuyết", "1", "1.5", "hộp 200 g"),
    ("Mật ong hoa nhãn", "1", "1.6", "chai 500 ml"), ("Mật ong bạc hà", "1", "1.6", "chai 500 ml"),
    ("Măng khô", "1", "1.3", "kg"), ("Miến dong", "1", "1.3", "gói 500 g"), ("Nem chua", "1", "1.3", "chục"),
    ("Tỏi cô đơn", "1", "1.1", "kg"), ("Gừng sẻ", "1", "1.4", "kg"), ("Tinh bột nghệ", "3", "3.1", "hộp 250 g"),
    ("Rượu ngô men lá", "2", "2.1", "chai 750 ml"), ("Nước mắm cốt", "1", "1.4", "chai 500 ml"),
    ("Cà phê rang xay", "2", "2.2", "gói 500 g"), ("Hạt điều rang muối", "1", "1.2", "hộp 500 g"),
    ("Bưởi da xanh", "1", "1.1", "kg"), ("Nhãn lồng sấy", "1", "1.3", "kg"), ("Tinh dầu quế", "3", "3.3", "lọ 30 ml"),
    ("Khăn piêu thổ cẩm", "4", "4.1", "chiếc"), ("Túi thổ cẩm", "4", "4.2", "chiếc"), ("Giỏ cói", "5", "5.1", "chiếc"),
    ("Làn mây tre đan", "5", "5.1", "chiếc"), ("Bình gốm men lam", "5", "5.3", "chiếc"), ("Homestay nhà sàn", "6", "6.1", "đêm"),
]
SEARCHES = ["mat ong", "gao nep", "che shan", "nem chua", "tho cam", "ruou ngo", "may tre", "ca phe", "mang kho",
            "tinh dau", "nhan long", "gom men"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="per HTTP load, over every round")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--products", type=int, default=2000, help="listed products of the commune")
    parser.add_argument("--communes", type=int, default=300, help="communes with published rows, the commune's included")
    parser.add_argument("--national-rows", type=int, default=50, help="published rows of each other commune")
    parser.add_argument("--order-clients", type=int, default=8)
    parser.add_argument("--order-seconds", type=float, default=10)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile N requests of each page in process instead of the loads")
    options = parser.parse_args()
    # Job messages (the order notifications, the outbox's wake-ups) go nowhere: the writer is run
    # here, and no worker takes the SMS.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["XASO_CACHE_PREFIX"] = f"bench-ocop-{os.getpid()}"
    with tempfile.TemporaryDirectory() as media:
        os.environ["XASO_MEDIA_ROOT"] = media
        with scratch_database(SCRATCH) as url:
            run(url, options, media)


# --- the data ------------------------------------------------------------------------------------

def setup_commune(options) -> tuple[object, dict]:
    """Tú Lệ with ``options.products`` listed products written in bulk, then published through
    the outbox; returns the commune and what it took."""
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from communes.models import Membership, Role, User
    from communes.services import create_commune, load_administrative_units
    from core.text import fold
    from ecommerce import publishing
    from ecommerce.models import (
        Certificate, Producer, ProducerMember, ProducerStatus, Product, ProductGroup, ProductStatus, ProductSubGroup,
        ProductVersion, VersionState,
    )
    from outbox.services import sync
    from outbox.writer import deliver
    from population.models import Village

    load_administrative_units(with_legacy=False)
    commune, _seconds = create_commune(code="04630", name="Tú Lệ", domain=HOST, province_code="15")
    seller = User.objects.create_user("bench_seller", password="x", full_name="Lò Văn Pản")
    Membership.objects.create(user=seller, commune=commune, role=Role.PRODUCER)
    took: dict = {}
    rng = random.Random(4630)
    now = timezone.now()
    today = timezone.localdate()
    with tenant_context(commune):
        started = time.perf_counter()
        villages = [Village.objects.create(name=name, latitude=f"{21.78 + i * 0.01:.6f}", longitude=f"{104.28 + i * 0.01:.6f}")
                    for i, name in enumerate(VILLAGES)]
        groups = {g.code: g for g in ProductGroup.objects.all()}
        subgroups = {s.code: s for s in ProductSubGroup.objects.all()}
        producers = Producer.objects.bulk_create([
            Producer(kind="cooperative" if n % 3 == 0 else "household_business", name=f"HTX Sản xuất số {n + 1:03d}",
                     search_name=fold(f"HTX Sản xuất số {n + 1:03d}"), slug=f"htx-{n + 1:03d}",
                     representative="Lò Văn Pản", phone="0912000101", address=VILLAGES[n % 9],
                     village=villages[n % 9], status=ProducerStatus.APPROVED, approved_at=now)
            for n in range(100)])
        ProducerMember.objects.create(producer=producers[0], user_id=seller.pk)
        products = Product.objects.bulk_create([
            Product(producer=producers[0 if n < 20 else n % 100], slug=f"san-pham-{n + 1:04d}", status=ProductStatus.DRAFT,
                    stock=rng.choice([0, 3, 40, 200, 1000]) if n >= 20 else 1_000_000)
            for n in range(options.products)])
        versions = []
        for n, product in enumerate(products):
            good, group, subgroup, unit = GOODS[n % len(GOODS)]
            place = VILLAGES[(n // len(GOODS)) % 9]
            name = f"{good} {place} {n + 1}"
            description = f"{good} của {product.producer.name}, {place}, xã Tú Lệ; làm theo cách truyền thống."
            versions.append(ProductVersion(
                product=product, number=1, name=name, group=groups[group], subgroup=subgroups[subgroup],
                price=rng.randrange(20, 900) * 1000, unit=unit, min_order=1 if n < 20 else rng.choice([1, 1, 1, 2, 5]),
                description=description, search_text=fold(f"{name} {description}"), state=VersionState.APPROVED,
                reviewed_at=now))
        ProductVersion.objects.bulk_create(versions)
        for product, version in zip(products, versions):
            product.live_version, product.status, product.published_at = version, ProductStatus.PUBLISHED, now
        Product.objects.bulk_update(products, ["live_version", "status", "published_at"])
        certificates = []
        for n, product in enumerate(products):
            if n % 3 == 0:  # 36 months each; some ended already
                issued = today - datetime.timedelta(days=rng.randrange(30, 1200))
                certificates.append(Certificate(
                    product=product, number=f"{n}/QĐ-UBND", score=rng.choice([55, 62, 74, 78, 86, 93]),
                    issuing_authority="Ủy ban nhân dân tỉnh Lào Cai", issued_on=issued,
                    expires_on=issued + datetime.timedelta(days=1095)))
        Certificate.objects.bulk_create(certificates)
        took["rows"] = time.perf_counter() - started
        started = time.perf_counter()
        from django.db import transaction

        with transaction.atomic():
            result = sync(publishing.TOPIC, publishing.snapshot())
        took["snapshot"] = time.perf_counter() - started
        took["published"] = result.published
    started = time.perf_counter()
    counts = deliver(commune.schema_name, wait=True)
    took["deliver"] = time.perf_counter() - started
    took["applied"] = counts.get("applied", 0)
    connection.close()
    return commune, took


def setup_national(options, commune) -> dict:
    """``options.communes - 1`` more communes (rows only: the national side never visits their
    schemas) with ``options.national_rows`` published rows each."""
    from django.db import connection
    from django.utils import timezone

    from communes.models import AdministrativeUnit, Commune, SupervisingUnit
    from core.text import fold
    from ocop_national.models import CatalogueProduct

    started = time.perf_counter()
    rng = random.Random(300)
    units = {u.code: u for u in SupervisingUnit.objects.filter(kind=SupervisingUnit.Kind.PROVINCE)}
    official = list(AdministrativeUnit.objects.filter(level="commune").exclude(code=commune.code)
                    .values_list("code", "name", "province_code"))
    rng.shuffle(official)
    chosen = [row for row in official if row[2] in units][: options.communes - 1]
    Commune.objects.bulk_create([
        Commune(code=code, name=name, schema_name=f"c_bench_{code}", supervising_unit=units[province])
        for code, name, province in chosen])
    communes = list(Commune.objects.filter(code__in=[code for code, _n, _p in chosen]))
    today = timezone.localdate()
    now = timezone.now()
    rows = []
    for commune_row in communes:
        for n in range(options.national_rows):
            good, group, subgroup, unit = GOODS[rng.randrange(len(GOODS))]
            name = f"{good} {commune_row.name}"
            stars = rng.choice([None, None, 3, 4, 5])
            until = today + datetime.timedelta(days=rng.randrange(-100, 900)) if stars else None
            rows.append(CatalogueProduct(
                commune=commune_row, key=str(n + 1), version=n + 1, published_at=now, slug=f"sp-{n + 1}", name=name,
                search_text=fold(f"{name} HTX {commune_row.name} {good} làm theo cách truyền thống"),
                group_code=group, group_name=group, subgroup_code=subgroup, subgroup_name=subgroup,
                stars3_until=until if stars else None, stars4_until=until if stars and stars >= 4 else None,
                stars5_until=until if stars == 5 else None, price=rng.randrange(20, 900) * 1000, unit=unit,
                min_order=1, stock_state=rng.choice(["in_stock", "in_stock", "out_of_stock"]),
                village=f"Thôn {n % 7 + 1}", producer=f"HTX {commune_row.name}",
                url=f"https://{commune_row.code}.example.gov.vn/san-pham/sp-{n + 1}/"))
    CatalogueProduct.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ocop_national_catalogueproduct")
    total = CatalogueProduct.objects.count()
    connection.close()
    return {"seconds": time.perf_counter() - started, "rows": total, "communes": len(communes) + 1}


# --- HTTP loads ----------------------------------------------------------------------------------

def http_loads(url: str, options, media: str, slugs: list[str], pages: int) -> tuple[list[dict], list[float]]:
    port = free_port()
    server = start_gunicorn(url, port, workers=options.workers, media=media, settings_module="ocop_server", host=HOST)
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Host": HOST}
        national = {"Host": NATIONAL_HOST}
        rng = random.Random(7)

        def baseline(session):
            return session.get(f"{base}/bench/minimal/", headers=headers, timeout=30)

        def catalogue_first_page(session):
            return session.get(f"{base}/san-pham/", headers=headers, timeout=30)

        def catalogue_page(session):
            return session.get(f"{base}/san-pham/", params={"page": rng.randrange(1, pages + 1)}, headers=headers,
                               timeout=30)

        def catalogue_search(session):
            return session.get(f"{base}/san-pham/", params={"q": rng.choice(SEARCHES)}, headers=headers, timeout=30)

        unique = iter(range(10**9))

        def catalogue_search_drawn(session):  # a price never asked before: nothing kept to show
            return session.get(f"{base}/san-pham/", params={"q": rng.choice(SEARCHES), "price_max": 2_000_000 + next(unique)},
                               headers=headers, timeout=30)

        def product_page(session):
            return session.get(f"{base}/san-pham/{rng.choice(slugs)}/", headers=headers, timeout=30)

        def national_page(session):
            return session.get(f"{base}/ocop/", params={"q": rng.choice(SEARCHES)}, headers=national, timeout=30)

        counter = iter(range(10**9))

        def national_api(session):
            params = {"q": rng.choice(SEARCHES)}
            if next(counter) % 2:
                params["province"] = "15"
            return session.get(f"{base}/api/v1/ocop/catalogue/", params=params, headers=national, timeout=30)

        def national_api_drawn(session):  # a price never asked before: nothing kept to show
            return session.get(f"{base}/api/v1/ocop/catalogue/", params={
                "q": rng.choice(SEARCHES), "price_max": 2_000_000 + next(unique)}, headers=national, timeout=30)

        loads = [("baseline (minimal view)", baseline), ("catalogue, first page", catalogue_first_page),
                 ("catalogue, any of 100 pages", catalogue_page), ("catalogue search", catalogue_search),
                 ("catalogue search, drawn", catalogue_search_drawn), ("product page", product_page),
                 ("national search (page)", national_page), ("national search (API)", national_api),
                 ("national search, drawn", national_api_drawn)]
        for _name, make_request in loads:
            drive("warm-up", make_request, clients=options.clients, seconds=1)
        slice_seconds = options.seconds / max(1, options.rounds)
        rounds: dict[str, list[dict]] = {name: [] for name, _make in loads}
        for _round in range(max(1, options.rounds)):
            for name, make_request in loads:
                rounds[name].append(drive(name, make_request, clients=options.clients, seconds=slice_seconds))
        spread = [len(part["latencies"]) / part["elapsed"] for part in rounds["baseline (minimal view)"]]
        alone = [merge(f"{name}, one client", [drive(name, make_request, clients=1, seconds=slice_seconds)])
                 for name, make_request in loads if name.startswith("national") or name.startswith("baseline")]
        return [merge(name, rounds[name]) for name, _make in loads] + alone, spread
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- orders --------------------------------------------------------------------------------------

def orders(commune, options) -> dict:
    """Guests' orders placed and confirmed from ``options.order_clients`` threads at once."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from communes.models import User
    from ecommerce import services
    from ecommerce.models import Product

    seller = User.objects.get(username="bench_seller")
    with tenant_context(commune):
        hot = list(Product.objects.filter(producer__members__user_id=seller.pk).order_by("pk")
                   .values_list("pk", flat=True)[:20])
    connection.close()
    latencies: list[float] = []
    refused: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + options.order_seconds

    def client(number: int):
        rng = random.Random(number)
        mine = []
        try:
            with tenant_context(commune):
                while time.perf_counter() < stop_at:
                    started = time.perf_counter()
                    order = services.place_order(
                        lines=[(rng.choice(hot), rng.randrange(1, 4))], buyer_name="Hoàng Văn Nam",
                        buyer_phone=f"09{rng.randrange(10**7, 10**8)}", delivery_address="Bản Lướt, xã Tú Lệ",
                        submit_token=str(uuid.uuid4()))
                    services.confirm_order(seller, order)
                    mine.append(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - reported below
            with lock:
                refused.append(f"{type(exc).__name__}: {exc}")
        finally:
            with lock:
                latencies.extend(mine)
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(options.order_clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if refused:
        raise SystemExit(f"orders: {refused[0]}")
    with tenant_context(commune):
        negative = Product.objects.filter(stock__lt=0).count()
    connection.close()
    _mean, median, p95 = summary(latencies)
    return {"count": len(latencies), "rate": len(latencies) / elapsed, "median": median, "p95": p95,
            "negative": negative}


SCARCE_STOCK = 30


def scarce_orders(commune, options) -> dict:
    """The 20 products in demand put back to ``SCARCE_STOCK`` each (through ``services.set_stock``),
    then the same clients order until every one is sold out: the refusals for want of stock are
    counted, what was confirmed must be exactly the stock there was, none below zero, and the
    products sold out are published as out of stock (their rows read on the national side)."""
    from django.core.exceptions import ValidationError
    from django.db import connection
    from django.db.models import Sum
    from django_tenants.utils import tenant_context

    from communes.models import User
    from core.validation import error_code
    from ecommerce import services
    from ecommerce.models import OrderLine, Product
    from ocop_national.models import CatalogueProduct
    from outbox.writer import deliver

    seller = User.objects.get(username="bench_seller")
    with tenant_context(commune):
        hot = list(Product.objects.filter(producer__members__user_id=seller.pk).order_by("pk")[:20])
        for product in hot:
            services.set_stock(seller, product, SCARCE_STOCK)
        before = dict(OrderLine.objects.filter(product__in=hot, order__state="confirmed").values("product")
                      .annotate(n=Sum("quantity")).values_list("product", "n"))
    deliver(commune.schema_name, wait=True)
    connection.close()
    ids = [product.pk for product in hot]
    counts = {"confirmed": 0, "refused": 0}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + max(options.order_seconds, 30)

    def client(number: int):
        rng = random.Random(1000 + number)
        try:
            with tenant_context(commune):
                while time.perf_counter() < stop_at:
                    left = [pk for pk in ids if Product.objects.filter(pk=pk, stock__gt=0).exists()]
                    if not left:
                        return
                    try:
                        order = services.place_order(
                            lines=[(rng.choice(left), rng.randrange(1, 4))], buyer_name="Lò Thị Duyên",
                            buyer_phone=f"09{rng.randrange(10**7, 10**8)}", delivery_address="Bản Phạ, xã Tú Lệ",
                            submit_token=str(uuid.uuid4()))
                        services.confirm_order(seller, order)
                    except ValidationError as exc:
                        if error_code(exc) != "not_enough_stock":
                            raise
                        with lock:
                            counts["refused"] += 1
                    else:
                        with lock:
                            counts["confirmed"] += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(options.order_clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"scarce orders: {errors[0]}")
    with tenant_context(commune):
        after = dict(OrderLine.objects.filter(product__in=hot, order__state="confirmed").values("product")
                     .annotate(n=Sum("quantity")).values_list("product", "n"))
        sold = sum(after.get(pk, 0) - before.get(pk, 0) for pk in ids)
        left = sum(Product.objects.filter(pk__in=ids).values_list("stock", flat=True))
        negative = Product.objects.filter(stock__lt=0).count()
    deliver(commune.schema_name, wait=True)
    published_out = CatalogueProduct.objects.filter(commune=commune, key__in=[str(pk) for pk in ids],
                                                    stock_state="out_of_stock").count()
    connection.close()
    return {**counts, "sold": sold, "stock": SCARCE_STOCK * len(ids), "left": left, "negative": negative,
            "published_out": published_out, "products": len(ids)}


def profile(count: int, slugs: list[str], pages: int) -> None:
    """Where a request of each page spends its time, in process: the queries of one request, then
    cProfile over ``count`` requests through Django's test client (the whole middleware stack)."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client, override_settings

    from django.conf import settings

    overrides = override_settings(ALLOWED_HOSTS=["*"], STORAGES={
        **settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}})
    overrides.enable()
    commune_client, national_client = Client(HTTP_HOST=HOST), Client(HTTP_HOST=NATIONAL_HOST)
    rng = random.Random(3)
    # Without the profiler first: the minimal view beside the pages whose content is kept.
    with override_settings(ROOT_URLCONF="ocop_urls"):
        timed_calls = [("minimal view", lambda: commune_client.get("/bench/minimal/")),
                       ("catalogue page (kept)", lambda: commune_client.get("/san-pham/")),
                       ("national page (kept)", lambda: national_client.get("/ocop/", {"q": "mat ong"}))]
        for _round in range(3):
            for name, call in timed_calls:
                call()
                started = time.perf_counter()
                for _ in range(count * 4):
                    call()
                print(f"{name}: {(time.perf_counter() - started) / (count * 4) * 1000:.2f} ms a request in process")
    calls = [
        ("catalogue page (kept)", lambda: commune_client.get("/san-pham/", {"page": 2})),
        ("catalogue search (kept)", lambda: commune_client.get("/san-pham/", {"q": "mat ong"})),
        ("catalogue page", lambda: commune_client.get("/san-pham/", {"page": rng.randrange(1, pages + 1)})),
        ("catalogue search", lambda: commune_client.get("/san-pham/", {"q": rng.choice(SEARCHES)})),
        ("product page", lambda: commune_client.get(f"/san-pham/{rng.choice(slugs)}/")),
        ("national search (page)", lambda: national_client.get("/ocop/", {"q": rng.choice(SEARCHES)})),
        ("national search (API)", lambda: national_client.get("/api/v1/ocop/catalogue/", {"q": rng.choice(SEARCHES)})),
    ]
    for name, call in calls:
        assert call().status_code == 200
        captured = []

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                captured.append((time.perf_counter() - started, sql))

        with connection.execute_wrapper(timed):
            call()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(count):
            call()
        profiler.disable()
        elapsed = (time.perf_counter() - started) / count
        stats = pstats.Stats(profiler, stream=io.StringIO())
        database = sum(v[3] for k, v in stats.stats.items() if "psycopg2.extensions" in k[2])
        print(f"\n{name}: {elapsed * 1000:.1f} ms a request under the profiler, {len(captured)} statements, "
              f"waiting on PostgreSQL {database / count * 1000:.1f} ms")
        for seconds, sql in captured:
            print(f"  {seconds * 1000:6.1f} ms  {sql[:160]}")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("XASO_BENCH_SORT", "tottime")).print_stats(int(os.environ.get("XASO_BENCH_LINES", "15")))
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip() and "/" in line))
    overrides.disable()


def run(url: str, options, media: str) -> None:
    from django_tenants.utils import tenant_context

    from ecommerce.models import Product

    print(f"Commune with {options.products} products …", flush=True)
    commune, took = setup_commune(options)
    print(f"  written in {took['rows']:.1f} s; {took['published']} rows published (snapshot and sync "
          f"{took['snapshot']:.1f} s), delivered by the writer in {took['deliver']:.1f} s ({took['applied']} applied)")
    print(f"National rows of {options.communes} communes …", flush=True)
    national = setup_national(options, commune)
    print(f"  {national['rows']} rows of {national['communes']} communes in {national['seconds']:.1f} s")
    with tenant_context(commune):
        slugs = list(Product.objects.values_list("slug", flat=True))
    pages = max(1, (len(slugs) + 19) // 20)
    if options.profile:
        profile(options.profile, slugs, pages)
        if os.environ.get("XASO_BENCH_KEEP"):
            input(f"The scratch database {SCRATCH} is kept until Enter …")
        return
    results, spread = http_loads(url, options, media, slugs, pages)
    print(f"\n{options.clients} clients, {options.workers} gunicorn workers, {options.seconds:.0f} s per load "
          f"in {options.rounds} rounds")
    print(f"{'load':<42}{'requests':>9}{'per s':>9}{'median ms':>11}{'p95 ms':>9}{'vs baseline':>13}")
    reference = results[0]["rate"]
    for row in results:
        ratio = f"{row['rate'] / reference:>12.3f}×" if not row["name"].endswith("one client") else ""
        print(f"{row['name']:<42}{row['count']:>9}{row['rate']:>9.1f}{row['median'] * 1000:>11.1f}"
              f"{row['p95'] * 1000:>9.1f}{ratio}")
    print(f"baseline per round: {', '.join(f'{r:.0f}/s' for r in spread)}")
    print(f"\nOrders: {options.order_clients} clients placing and confirming at once for {options.order_seconds:.0f} s …",
          flush=True)
    result = orders(commune, options)
    print(f"  {result['count']} orders, {result['rate']:.1f} per s; place + confirm median "
          f"{result['median'] * 1000:.0f} ms, p95 {result['p95'] * 1000:.0f} ms; products below zero: {result['negative']}")
    print(f"Orders on scarce stock: {options.order_clients} clients until {SCARCE_STOCK} of each of 20 products "
          "are sold …", flush=True)
    scarce = scarce_orders(commune, options)
    print(f"  {scarce['confirmed']} orders confirmed, {scarce['refused']} refused for want of stock; "
          f"{scarce['sold']} units sold of {scarce['stock']} ({scarce['left']} left), products below zero: "
          f"{scarce['negative']}; {scarce['published_out']} of {scarce['products']} rows published as out of stock")


if __name__ == "__main__":
    main()
