"""Reads of the OCOP marketplace: what each person may see, what is listed to buyers, what
waits for the economy officer and for the producers, and the stars a product shows today."""
from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from ecommerce import permissions
from ecommerce.models import (
    Certificate, Order, OrderState, Producer, ProducerStatus, Product, ProductStatus, ProductVersion, StarsNow,
    VersionState,
)

WARNING_DAYS = (90, 30)


# --- what a person may see ---------------------------------------------------------------------

def producers_for(user) -> QuerySet[Producer]:
    """Every producer for the commune's staff; a producer's own for a producer; none otherwise."""
    if permissions.sees_every_producer(user):
        return Producer.objects.all()
    if permissions.can(user, "producer.read"):
        return Producer.objects.filter(pk__in=permissions.member_producer_ids(user))
    return Producer.objects.none()


def products_for(user) -> QuerySet[Product]:
    if permissions.sees_every_producer(user):
        return Product.objects.all()
    if permissions.can(user, "product.read"):
        return Product.objects.filter(producer_id__in=permissions.member_producer_ids(user))
    return Product.objects.none()


def orders_for(user) -> QuerySet[Order]:
    """The orders a producer's member or the commune's staff may read (a buyer's are ``orders_of_buyer``)."""
    if permissions.sees_every_producer(user):
        return Order.objects.all()
    if permissions.can(user, "order.read"):
        return Order.objects.filter(producer_id__in=permissions.member_producer_ids(user))
    return Order.objects.none()


def orders_of_buyer(user) -> QuerySet[Order]:
    if not getattr(user, "is_authenticated", False):
        return Order.objects.none()
    return Order.objects.filter(buyer_id=user.pk)


# --- what buyers see ---------------------------------------------------------------------------

def listed_products() -> QuerySet[Product]:
    """Products shown to buyers: published, with an approved version, of an approved producer."""
    return (Product.objects.filter(status=ProductStatus.PUBLISHED, live_version__isnull=False,
                                   producer__status=ProducerStatus.APPROVED)
            .select_related("live_version", "live_version__group", "live_version__subgroup", "producer",
                            "producer__village"))


def valid_certificates(on: datetime.date | None = None) -> QuerySet[Certificate]:
    on = on or timezone.localdate()
    return Certificate.objects.filter(revoked_at__isnull=True, issued_on__lte=on, expires_on__gt=on)


def current_certificate(product, on: datetime.date | None = None) -> Certificate | None:
    """The certificate whose stars the product shows on ``on``: the best valid one, else the
    latest one (expired or revoked: it says why there is no star)."""
    on = on or timezone.localdate()
    best = valid_certificates(on).filter(product=product).order_by("-score", "-issued_on").first()
    if best is not None:
        return best
    return Certificate.objects.filter(product=product, issued_on__lte=on).order_by("-issued_on", "-pk").first()


def stars_now(product, on: datetime.date | None = None) -> StarsNow:
    """The stars ``product`` shows on ``on`` (today), with the reason when it shows none."""
    certificate = current_certificate(product, on)
    if certificate is None:
        return StarsNow(0, "")
    return certificate.stars_now(on)


def with_stars(products: QuerySet[Product], on: datetime.date | None = None) -> QuerySet[Product]:
    """``products`` each annotated with ``stars_today``: the stars of its best valid certificate
    (0 without one), in the same query (for lists and filters)."""
    from django.db.models import Max, Subquery
    from django.db.models.functions import Coalesce

    on = on or timezone.localdate()
    best = (valid_certificates(on).filter(product=OuterRef("pk")).order_by().values("product")
            .annotate(top=Max("stars")).values("top"))
    return products.annotate(stars_today=Coalesce(Subquery(best), 0))


# --- what waits --------------------------------------------------------------------------------

def producers_waiting() -> QuerySet[Producer]:
    return Producer.objects.filter(status=ProducerStatus.PENDING).order_by("created_at")


def versions_waiting() -> QuerySet[ProductVersion]:
    return (ProductVersion.objects.filter(state=VersionState.SUBMITTED)
            .select_related("product", "product__producer", "group").order_by("submitted_at", "pk"))


def certificates_expiring(within_days: int, on: datetime.date | None = None) -> QuerySet[Certificate]:
    """Valid certificates that end within ``within_days`` days of ``on`` (today)."""
    on = on or timezone.localdate()
    return (valid_certificates(on).filter(expires_on__lte=on + datetime.timedelta(days=within_days))
            .select_related("product", "product__live_version", "product__producer").order_by("expires_on"))


def certificates_to_warn(days: int, on: datetime.date | None = None) -> QuerySet[Certificate]:
    """Valid certificates within ``days`` (90 or 30) of their end whose warning was not sent."""
    if days not in WARNING_DAYS:
        raise ValueError(days)
    field = f"warned_{days}_on"
    return certificates_expiring(days, on).filter(**{f"{field}__isnull": True})


def orders_to_confirm(user) -> QuerySet[Order]:
    return orders_for(user).filter(state=OrderState.PLACED)


def orders_to_ship(user) -> QuerySet[Order]:
    return orders_for(user).filter(state=OrderState.PAID)


def order_detail(pk) -> Order:
    from ecommerce.models import OrderEvent, OrderLine

    return (Order.objects.select_related("producer")
            .prefetch_related(Prefetch("lines", OrderLine.objects.order_by("pk")),
                              Prefetch("events", OrderEvent.objects.order_by("at", "pk")), "payments")
            .get(pk=pk))


def has_open_orders(product) -> bool:
    from ecommerce.models import OPEN_ORDER_STATES, OrderLine

    return OrderLine.objects.filter(product=product, order__state__in=OPEN_ORDER_STATES).exists()


def producers_with_listed_products() -> QuerySet[Producer]:
    listed = listed_products().filter(producer=OuterRef("pk"))
    return Producer.objects.filter(status=ProducerStatus.APPROVED).filter(Exists(listed))


def search(products: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Keep the products whose live version's name or description holds every word of ``text``,
    accents ignored ("nep tu le" finds "Gạo nếp Tú Lệ")."""
    from core.text import fold

    for word in fold(text).split()[:8]:
        products = products.filter(Q(live_version__search_text__contains=word) | Q(producer__search_name__contains=word))
    return products
