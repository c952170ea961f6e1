"""Traceability of the OCOP marketplace: the public addresses of trace codes, finding a code from
what a buyer scanned or typed, what a trace page shows, and counting scans.

Addresses (paths of the commune host, ``ecommerce.public_urls``):

* ``/t/<code>/``: the local form, for every code (``ACDE4679``: 6 to 12 characters of the
  stamp alphabet ``models.CODE_ALPHABET``; typed in lower case, with spaces or dashes, it is
  still found).
* ``/01/<GTIN-14>/10/<lot>`` (and ``…/21/<item number>`` for an item of a printed series): the
  GS1 Digital Link form, for the products that have a GTIN (a barcode number). A GTIN-8, -12
  or -13 in the path is read as its GTIN-14 (zeros in front), as GS1 resolvers do.

A stamp's QR code carries the GS1 form when the product has a GTIN and the local form
otherwise, on the commune's configured address (``core.links``), never the request's host.

Scans are counted per code and day (``services.count_scan``), nothing about the scanner. The
producer's own look does not count: a ``HEAD`` request, a link with ``?preview=1`` (the lot page
uses it), a browser's prefetch, or a member of the producer (or the commune's staff) logged in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.links import commune_base_url
from ecommerce import permissions, selectors, services, validators
from ecommerce.models import CODE_ALPHABET, Lot, ProducerStatus, Product, StarsNow, TraceCode

CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{6,12}}$")
LOT_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$")
MAX_SERIAL = 10**9
PREVIEW_PARAM = "preview"


# --- codes from what was scanned or typed ------------------------------------------------------

def normalize_code(text) -> str:
    """The code as stored ('acde-4679 ' → 'ACDE4679'), or '' when it cannot be one."""
    code = re.sub(r"[\s\-.]", "", str(text or "")).upper()
    return code if CODE_RE.match(code) else ""


def _codes():
    return TraceCode.objects.select_related(
        "lot", "lot__product", "lot__product__producer", "lot__product__producer__village",
        "lot__product__live_version",
    )


def find_code(text) -> TraceCode | None:
    """The trace code typed or scanned, or None."""
    code = normalize_code(text)
    if not code:
        return None
    return _codes().filter(code=code).first()


def find_gs1(gtin, lot_number, serial=None) -> TraceCode | None:
    """The code of a GS1 Digital Link (``/01/{gtin}/10/{lot}[/21/{serial}]``): the lot's own code,
    or the code of the item ``serial`` of its printed series; None when nothing matches."""
    try:
        gtin14 = validators.normalize_gtin(gtin)
    except ValidationError:
        return None
    lot_number = str(lot_number or "")
    if not gtin14 or not LOT_RE.match(lot_number):
        return None
    codes = _codes().filter(lot__product__gtin=gtin14, lot__number=lot_number)
    if serial is None:
        return codes.filter(serial__isnull=True).first()
    serial_text = str(serial)
    if not serial_text.isdigit() or not 0 < int(serial_text) < MAX_SERIAL:
        return None
    return codes.filter(serial=int(serial_text)).first()


# --- addresses ---------------------------------------------------------------------------------

def local_path(code: str) -> str:
    return reverse("ocop:trace", kwargs={"code": code})


def gs1_path(gtin: str, lot_number: str, serial: int | None = None) -> str:
    if serial is None:
        return reverse("ocop:trace_gs1", kwargs={"gtin": gtin, "lot": lot_number})
    return reverse("ocop:trace_gs1_item", kwargs={"gtin": gtin, "lot": lot_number, "serial": serial})


def public_path(code: TraceCode) -> str:
    """The path a stamp's QR code carries: GS1 Digital Link when the product has a GTIN (and the
    lot number fits its syntax), else ``/t/<code>/``."""
    product = code.lot.product
    if product.gtin and LOT_RE.match(code.lot.number):
        return gs1_path(product.gtin, code.lot.number, code.serial)
    return local_path(code.code)


def base_url(commune=None) -> str:
    """The commune's configured address (``https://tule.example.vn``); refuses when there is none,
    as a printed stamp needs a full address."""
    url = commune_base_url(commune)
    if not url:
        raise ValidationError(_("The commune has no web address configured: stamps cannot be printed yet. "
                                "Ask the installation's administrator to give the commune its domain."),
                              code="no_address")
    return url


def trace_url(code: TraceCode, commune=None, *, base: str | None = None) -> str:
    """The absolute address of ``code``'s trace page, on the commune's configured address."""
    return f"{base if base is not None else base_url(commune)}{public_path(code)}"


def product_path(product: Product) -> str | None:
    """The public catalogue's page of ``product`` (``ocop:product``), when the catalogue is there."""
    try:
        return reverse("ocop:product", kwargs={"slug": product.slug})
    except NoReverseMatch:
        return None


# --- the trace page ----------------------------------------------------------------------------

def product_name(product: Product) -> str:
    """The approved name of the product, else the name of its latest version."""
    if product.live_version_id:
        return product.live_version.name
    latest = product.versions.order_by("-number").only("name").first()
    return latest.name if latest is not None else product.slug


@dataclass
class TracePage:
    """What the public trace page of a code shows (and the API's trace answer)."""

    code: TraceCode
    lot: Lot
    product: Product
    product_name: str
    producer_name: str
    producer_kind: str
    village_name: str
    producer_approved: bool
    offered: bool  # listed in the catalogue now
    product_path: str | None
    stars: StarsNow
    certificate: object | None
    events: list = field(default_factory=list)
    locator: object | None = None
    canonical_path: str = ""

    @property
    def unit(self) -> str:
        return self.lot.unit


def page_for(code: TraceCode, *, on=None) -> TracePage:
    """The trace page of ``code``: the producer (its public name only), the origin village and
    its place among the commune's villages, the certificate (the stars it gives today, or why
    none), the lot's dates and the chain of its events."""
    from ecommerce import geo

    on = on or timezone.localdate()
    lot = code.lot
    product = lot.product
    producer = product.producer
    certificate = selectors.current_certificate(product, on)
    stars = certificate.stars_now(on) if certificate is not None else StarsNow(0, "")
    offered = product.is_listed
    return TracePage(
        code=code, lot=lot, product=product, product_name=product_name(product), producer_name=producer.name,
        producer_kind=producer.get_kind_display(), village_name=producer.village.name,
        producer_approved=producer.status == ProducerStatus.APPROVED, offered=offered,
        product_path=product_path(product) if offered else None, stars=stars, certificate=certificate,
        events=list(lot.events.order_by("at", "pk")),
        locator=geo.locator(producer.village),
        canonical_path=local_path(code.code),
    )


# --- scans -------------------------------------------------------------------------------------

def is_preview(request, code: TraceCode) -> bool:
    """A look that is not a buyer's scan: a HEAD request, ``?preview=1``, a browser's prefetch,
    or the producer's members and the commune's staff looking at their own stamps."""
    if request.method != "GET" or request.GET.get(PREVIEW_PARAM):
        return True
    purpose = (request.headers.get("Sec-Purpose", "") or request.headers.get("Purpose", "")).lower()
    if "prefetch" in purpose or "prerender" in purpose:
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return permissions.can(user, "product.read", code.lot.product.producer_id)
    return False


def record_scan(request, code: TraceCode) -> bool:
    """Count the opening of ``code``'s page unless it is a preview; True when counted."""
    if is_preview(request, code):
        return False
    services.count_scan(code)
    return True
