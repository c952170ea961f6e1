"""The marketplace's outbox topic ``ocop.product``: what a commune publishes of its listed
products for the national catalogue (``ocop_national.models.CatalogueProduct``), and how.

One row per listed product (key: the product's id), published in the transaction of every
change that alters it and withdrawn when the product leaves the listing:

* ``ecommerce.services`` call ``refresh(product ids)`` after approving a version, setting the
  stock, hiding or showing a product, recording a certificate, approving, suspending or
  changing a producer; ``stock_moved`` after an order's confirmation or cancellation (a row
  changes only when the stock state does: in stock, or below the minimum order);
* rows written outside the services (a village's name or position, a product group's name, a
  product's photos) refresh their products through the ``post_save``/``post_delete`` signals
  connected by ``connect_signals``;
* what changes without a signal (a bulk update: photos put in another order, say) is made good by
  the daily resync (``resync_catalogue``, beat), which publishes only what differs.

``refresh`` compares each payload's digest with what the public side holds or will hold (the
entries still waiting, then the ledger), and publishes only what differs: a change that leaves
the public row as it was writes no entry, and the row's ``published_at`` on the national side is
when its content last changed. ``snapshot`` gives every listed product for ``republish``, which
publishes only what differs too: running it twice changes nothing the second time. Every refresh
also renews the commune's catalogue version, under which its catalogue pages are kept
(``ecommerce.public_views``).

Stars: the payload carries, for 3, 4 and 5 stars, the last day the product holds at least that
many (``stars_until``: the end of the latest certificate giving as many, revoked ones left out).
The national side computes the stars of the day when it reads the row, so a certificate that
expires with nothing else changing hides its stars there on the day it ends, as on the commune's
own pages; the payload does not depend on the day it is built.

The payload (JSON)::

    {"slug", "name", "search_text" (name, producer, village, group and description folded:
     lower case, no accents), "group", "group_name", "subgroup", "subgroup_name",
     "stars_until": {"3": "2027-03-01" | null, "4": …, "5": …}, "certificate_expires_on",
     "price" (đồng), "unit", "min_order", "season_months", "stock_state" ("in_stock" |
     "out_of_stock"), "village", "latitude", "longitude" (strings or null), "producer" (its public
     name), "image" (absolute URL of a photo, or ""), "url" (the product's page on the commune's
     configured address)}
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from celery import shared_task
from django.db import connection, transaction
from django.urls import reverse

from core.text import fold

TOPIC = "ocop.product"
SEARCH_DESCRIPTION_CHARS = 1000
PHOTO_WIDTH = 480  # the photo of a national catalogue card (the stored size at or above it)
TENANT_URLCONF = "config.urls_tenant"


# --- what the public sees of a product -----------------------------------------------------------

def stock_state(stock: int, min_order: int = 1) -> str:
    """"in_stock" while a buyer can order at least the minimum, else "out_of_stock"."""
    return "in_stock" if stock >= max(1, min_order or 1) else "out_of_stock"


def current_commune():
    """The commune whose schema is active: the request's tenant, or the one of the schema (jobs and
    commands run in a schema without a Commune row on the connection)."""
    from communes.models import Commune
    from communes.permissions import current_commune as tenant

    commune = tenant()
    if commune is None:
        commune = Commune.objects.filter(schema_name=connection.schema_name).first()
    return commune


def base_url(commune=None) -> str:
    from core.links import commune_base_url

    commune = commune if commune is not None else current_commune()
    return commune_base_url(commune) if commune is not None else ""


def product_path(slug: str) -> str:
    return reverse("ocop:product", kwargs={"slug": slug}, urlconf=TENANT_URLCONF)


def photo_url(photo, fmt: str = "jpeg", width: int = PHOTO_WIDTH, base: str = "") -> str:
    """The address of a photo's stored variant nearest ``width`` (``ecommerce.photos`` serves
    them), absolute when ``base`` is given."""
    from ecommerce import photos

    if photo is None:
        return ""
    url = photos.variant_url(photo, fmt, width) or photos.variant_url(photo, "webp", width)
    return f"{base}{url}" if url.startswith("/") else url


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def _coordinate(value) -> str | None:
    return None if value is None else f"{Decimal(value):.6f}"


def stars_until(certificates: Iterable[tuple[int, datetime.date]]) -> dict[str, str | None]:
    """{"3": last day of at least 3 stars, "4": …, "5": …} from (stars, expires_on) of the
    product's certificates that were not revoked."""
    ends: dict[str, datetime.date | None] = {"3": None, "4": None, "5": None}
    for stars, expires_on in certificates:
        for level in (3, 4, 5):
            if stars >= level and (ends[str(level)] is None or expires_on > ends[str(level)]):
                ends[str(level)] = expires_on
    return {level: _iso(day) for level, day in ends.items()}


def payload(product, *, certificates=(), photo=None, base: str = "") -> dict:
    """The public row of a listed ``product`` (with its live version, group, sub-group, producer
    and village loaded): ``certificates`` are its (stars, expires_on) not revoked, ``photo`` its
    first photo."""
    version = product.live_version
    producer = product.producer
    village = producer.village
    group, subgroup = version.group, version.subgroup
    until = stars_until(certificates)
    words = [version.name, producer.name, village.name if village else "", group.name if group else "",
             subgroup.name if subgroup else "", version.description[:SEARCH_DESCRIPTION_CHARS]]
    image = photo_url(photo, base=base)
    return {
        "slug": product.slug,
        "name": version.name,
        "search_text": fold(" ".join(word for word in words if word)),
        "group": group.code if group else "",
        "group_name": group.name if group else "",
        "subgroup": subgroup.code if subgroup else "",
        "subgroup_name": subgroup.name if subgroup else "",
        "stars_until": until,
        "certificate_expires_on": until["3"],
        "price": int(version.price),
        "unit": version.unit,
        "min_order": int(version.min_order),
        "season_months": sorted(int(m) for m in version.season_months or []),
        "stock_state": stock_state(product.stock, version.min_order),
        "village": village.name if village else "",
        "latitude": _coordinate(village.latitude) if village else None,
        "longitude": _coordinate(village.longitude) if village else None,
        "producer": producer.name,
        "image": image,
        "url": f"{base}{product_path(product.slug)}",
    }


def payloads(products) -> dict[int, dict]:
    """{product id: payload} of listed products (``selectors.listed_products()`` rows), with
    their certificates and first photos read in two queries."""
    from ecommerce.models import Certificate, ProductPhoto

    products = list(products)
    if not products:
        return {}
    ids = [product.pk for product in products]
    certificates: dict[int, list] = defaultdict(list)
    for product_id, stars, expires_on in Certificate.objects.filter(
            product_id__in=ids, revoked_at__isnull=True).values_list("product_id", "stars", "expires_on"):
        certificates[product_id].append((stars, expires_on))
    photos = {photo.product_id: photo for photo in ProductPhoto.objects.filter(product_id__in=ids)
              .order_by("product_id", "order", "pk").distinct("product_id")}
    base = base_url()
    return {product.pk: payload(product, certificates=certificates[product.pk], photo=photos.get(product.pk),
                                base=base) for product in products}


# --- publishing ------------------------------------------------------------------------------------

def public_digests(keys: list[str]) -> dict[str, str | None]:
    """{key: digest of the payload the public side holds or will hold, None when withdrawn} for
    this commune's ``keys`` (absent: never published). The entries still waiting are read before
    the ledger, so that one delivered in between is seen in the ledger."""
    from outbox.models import Entry
    from published.models import Publication

    if not keys:
        return {}
    state: dict[str, tuple[int, str | None]] = {}
    waiting = (Entry.objects.filter(topic=TOPIC, key__in=keys, delivered_at__isnull=True).order_by("key", "-id")
               .distinct("key").values_list("key", "id", "digest"))
    for key, entry_id, digest in waiting:
        state[key] = (entry_id, digest or None)  # a withdrawal has no digest
    for key, version, digest, withdrawn in Publication.objects.filter(
            topic=TOPIC, commune__schema_name=connection.schema_name, key__in=keys).values_list(
            "key", "version", "digest", "withdrawn"):
        if key not in state or state[key][0] < version:
            state[key] = (version, None if withdrawn else digest)
    return {key: digest for key, (_version, digest) in state.items()}


# --- the version of the commune's catalogue pages ------------------------------------------------
# The catalogue's pages keep what they drew (``ecommerce.public_views``) under the commune's
# catalogue version (``ocop_national.kept``): every refresh of a product's public row draws a new
# one, so a page never shows a product as it was before a change.

VERSION_KEY = "ocop:catalogue:{schema}"


def catalogue_version_key() -> str:
    return VERSION_KEY.format(schema=connection.schema_name)


def catalogue_changed() -> None:
    from ocop_national import kept

    kept.changed(catalogue_version_key())


def refresh(product_ids: Iterable[int]) -> dict[str, int]:
    """Publish the public rows of these products that differ from the public side, and withdraw
    those no longer listed, in the caller's transaction. The products are locked first (in id
    order, as orders lock them), so that two changes of one product publish in the order they
    commit."""
    ids = sorted({int(pk) for pk in product_ids})
    if not ids:
        return {"published": 0, "withdrawn": 0}
    with transaction.atomic():
        catalogue_changed()
        return _refresh(ids)


def _refresh(ids: list[int]) -> dict[str, int]:
    from ecommerce.models import Product
    from ecommerce.selectors import listed_products
    from outbox.services import publish_many
    from published.topics import canonical

    list(Product.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").values_list("pk"))
    rows = payloads(listed_products().filter(pk__in=ids))
    keys = [str(pk) for pk in ids]
    state = public_digests(keys)
    changed = []
    for pk, row in rows.items():
        if state.get(str(pk)) != canonical(row)[1]:
            changed.append((str(pk), row))
    gone = [key for key in keys if int(key) not in rows and state.get(key) is not None]
    publish_many(TOPIC, changed, withdrawals=gone)
    return {"published": len(changed), "withdrawn": len(gone)}


def refresh_producer(producer) -> dict[str, int]:
    """Refresh every product of a producer (approved, suspended, renamed, moved)."""
    from ecommerce.models import Product

    return refresh(Product.objects.filter(producer_id=getattr(producer, "pk", producer)).values_list("pk", flat=True))


def stock_moved(moves: dict[int, int]) -> dict[str, int]:
    """After stocks moved by ``moves`` ({product id: change, -3 for 3 taken}), refresh the products
    whose stock state changed (one query when none did)."""
    from ecommerce.models import Product

    if not moves:
        return {"published": 0, "withdrawn": 0}
    crossed = []
    for pk, stock, min_order in Product.objects.filter(pk__in=list(moves), live_version__isnull=False).values_list(
            "pk", "stock", "live_version__min_order"):
        before = stock - moves[pk]
        if stock_state(before, min_order) != stock_state(stock, min_order):
            crossed.append(pk)
    return refresh(crossed)


def snapshot() -> Iterable[tuple[str, dict]]:
    """Every listed product of the commune (for ``republish``)."""
    from ecommerce.selectors import listed_products

    rows = payloads(listed_products().order_by("pk"))
    return [(str(pk), row) for pk, row in sorted(rows.items())]


# --- the daily resync ----------------------------------------------------------------------------
# Every change the services make publishes at once; a row changed outside them without a signal
# (a bulk update, say) is made good by the daily resync: every commune's snapshot, published only
# where it differs from the public side (what ``republish`` does for one topic).

@shared_task(name="ecommerce.resync_catalogue", ignore_result=True)
def resync_catalogue() -> int:
    """Beat: one ``ecommerce.resync_catalogue_commune`` per commune (a lost message is made good
    the next day; the work is idempotent)."""
    from django_tenants.utils import get_public_schema_name

    from communes.models import Commune

    count = 0
    for schema_name in Commune.objects.exclude(schema_name=get_public_schema_name()).order_by("code").values_list(
            "schema_name", flat=True).iterator():
        resync_catalogue_commune.apply_async(args=[schema_name])
        count += 1
    return count


@shared_task(name="ecommerce.resync_catalogue_commune", acks_late=True, ignore_result=True)
def resync_catalogue_commune(schema_name: str) -> str:
    """Publish what differs between the commune's listed products and its public rows."""
    from django_tenants.utils import schema_context

    from outbox.services import sync

    with schema_context(schema_name), transaction.atomic():
        result = sync(TOPIC, snapshot())
        if result.published or result.withdrawn:
            catalogue_changed()
    return str(result)


# --- the public side (runs in the commune's writer, writes the public schema only) -----------------

def _date(value) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def row_fields(data: dict) -> dict:
    """The columns of ``CatalogueProduct`` from a payload."""
    until = data.get("stars_until") or {}
    return {
        "slug": str(data["slug"])[:80],
        "name": str(data["name"])[:200],
        "search_text": str(data.get("search_text") or ""),
        "group_code": str(data.get("group") or "")[:20],
        "group_name": str(data.get("group_name") or "")[:200],
        "subgroup_code": str(data.get("subgroup") or "")[:20],
        "subgroup_name": str(data.get("subgroup_name") or "")[:200],
        "stars3_until": _date(until.get("3")),
        "stars4_until": _date(until.get("4")),
        "stars5_until": _date(until.get("5")),
        "price": int(data["price"]),
        "unit": str(data.get("unit") or "")[:50],
        "min_order": int(data.get("min_order") or 1),
        "season_months": [int(m) for m in data.get("season_months") or []],
        "stock_state": "in_stock" if data.get("stock_state") == "in_stock" else "out_of_stock",
        "village": str(data.get("village") or "")[:100],
        "latitude": _decimal(data.get("latitude")),
        "longitude": _decimal(data.get("longitude")),
        "producer": str(data.get("producer") or "")[:200],
        "image_url": str(data.get("image") or "")[:500],
        "url": str(data.get("url") or "")[:500],
    }


def apply(delivery) -> None:
    """The topic's handler: upsert the commune's row of the product, or remove it (and draw a new
    version of the national catalogue's pages once the writer's transaction commits)."""
    from ocop_national import catalogue
    from ocop_national.models import CatalogueProduct
    from published import rows

    rows.apply(CatalogueProduct, delivery, row_fields)
    catalogue.rows_changed()


# --- rows changed outside the services ---------------------------------------------------------

def _listed_ids(**lookups) -> list[int]:
    from ecommerce.selectors import listed_products

    return list(listed_products().filter(**lookups).values_list("pk", flat=True))


def _village_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        refresh(_listed_ids(producer__village=instance))


def _group_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        refresh(_listed_ids(live_version__group=instance))


def _subgroup_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        refresh(_listed_ids(live_version__subgroup=instance))


def _photo_changed(sender, instance, raw=False, **kwargs):
    if not raw and instance.product_id:
        refresh([instance.product_id])


def connect_signals() -> None:
    """Refresh the products whose public row a village, a group or a photo changes (called from
    ``EcommerceConfig.ready``)."""
    from django.db.models.signals import post_delete, post_save

    from ecommerce.models import ProductGroup, ProductPhoto, ProductSubGroup
    from population.models import Village

    post_save.connect(_village_saved, sender=Village, dispatch_uid="ocop_publish_village")
    post_save.connect(_group_saved, sender=ProductGroup, dispatch_uid="ocop_publish_group")
    post_save.connect(_subgroup_saved, sender=ProductSubGroup, dispatch_uid="ocop_publish_subgroup")
    post_save.connect(_photo_changed, sender=ProductPhoto, dispatch_uid="ocop_publish_photo")
    post_delete.connect(_photo_changed, sender=ProductPhoto, dispatch_uid="ocop_publish_photo_deleted")

