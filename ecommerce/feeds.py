"""Feeds of the commune's OCOP products for marketplaces (Postmart, Voso …), and stock files.

The feed (``docs/ocop-feed.md`` is its contract): the products the catalogue lists (published,
with an approved version, of an approved producer), one row each, with the fields of
``FIELDS`` in that order, as CSV or JSON. The field list is stable: a field is added at the end,
never renamed or removed (``FEED_VERSION`` says which list). CSV is UTF-8 with a byte order mark
(a spreadsheet opens the Vietnamese right), comma-separated, quoted where needed; a text cell that
a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) starts with an apostrophe instead, as ``core.xlsx`` does for workbooks.

Stock files: a producer sets the stock of its products at once by sending back rows of ``sku``
(or the feed's ``id``) and ``stock``: a CSV (the feed's own CSV, edited, will do: other columns
are ignored) or the API's JSON. The whole file is checked first; one bad line and nothing is
written, and the answer lists every bad line with its reason in Vietnamese; otherwise all the
stocks are written in one transaction (``services.set_stocks``). At most ``MAX_STOCK_FILE_BYTES``
and ``MAX_STOCK_LINES`` lines. Only the products the person may write are found (a producer's
own); another producer's product reads as unknown.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from core.links import commune_base_url
from core.validation import refuse
from core.xlsx import FORMULA_STARTS
from core.xlsx import clean_text as cell_text
from ecommerce import permissions, selectors, services
from ecommerce.models import ProducerStatus, Product, ProductPhoto

FEED_VERSION = 1
FIELDS = (
    "id", "sku", "name", "description", "price", "currency", "unit", "stock", "availability", "images", "category",
    "ocop_stars", "certificate_number", "certificate_expires_on", "producer", "village", "gtin", "url", "updated_at",
)
CURRENCY = "VND"
IN_STOCK, OUT_OF_STOCK = "in_stock", "out_of_stock"
IMAGE_WIDTH = 1280
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
MAX_STOCK_FILE_BYTES = 512 * 1024
MAX_STOCK_LINES = 5000
STOCK_HEADERS = {"stock", "ton_kho", "tồn kho", "so_luong"}


# --- the feed ----------------------------------------------------------------------------------

def feed_products(producer_slug: str = ""):
    """The listed products (of one producer when ``producer_slug`` is given), with what a row
    needs read in a few queries: the version, group, producer and village joined, the valid
    certificates and the photos prefetched."""
    products = selectors.listed_products().select_related("live_version__group", "live_version__subgroup")
    if producer_slug:
        products = products.filter(producer__slug=producer_slug)
    return products.prefetch_related(
        Prefetch("certificates", queryset=selectors.valid_certificates().order_by("-score", "-issued_on"),
                 to_attr="feed_certificates"),
        Prefetch("photos", queryset=ProductPhoto.objects.order_by("order", "pk"), to_attr="feed_photos"),
    ).order_by("pk")


def _image_urls(product, base: str) -> list[str]:
    from ecommerce import photos

    urls = []
    for photo in product.feed_photos:
        path = photos.variant_url(photo, "jpeg", IMAGE_WIDTH)
        if path:
            urls.append(f"{base}{path}")
    return urls


def row_for(product: Product, *, commune, base: str) -> dict:
    """The feed's row of a listed product (``FIELDS``, plain JSON values)."""
    from ecommerce.trace import product_path

    version = product.live_version
    certificate = product.feed_certificates[0] if product.feed_certificates else None
    stars = certificate.score_stars if certificate is not None else 0
    category = version.group.name + (f" > {version.subgroup.name}" if version.subgroup_id else "")
    path = product_path(product)
    updated = max([product.updated_at] + ([certificate.created_at] if certificate is not None else []))
    return {
        "id": f"{commune.code}-{product.pk}" if commune is not None else str(product.pk),
        "sku": product.slug,
        "name": version.name,
        "description": version.description,
        "price": version.price,
        "currency": CURRENCY,
        "unit": version.unit,
        "stock": product.stock,
        "availability": IN_STOCK if product.stock >= max(1, version.min_order) else OUT_OF_STOCK,
        "images": _image_urls(product, base),
        "category": category,
        "ocop_stars": stars,
        "certificate_number": certificate.number if stars else "",
        "certificate_expires_on": certificate.expires_on.isoformat() if stars else "",
        "producer": product.producer.name,
        "village": product.producer.village.name,
        "gtin": product.gtin,
        "url": f"{base}{path}" if path else "",
        "updated_at": timezone.localtime(updated).isoformat(timespec="seconds"),
    }


def rows(producer_slug: str = "") -> list[dict]:
    from communes.permissions import current_commune

    commune = current_commune()
    base = commune_base_url(commune)
    return [row_for(product, commune=commune, base=base) for product in feed_products(producer_slug)]


def as_json(items: list[dict]) -> dict:
    from communes.permissions import current_commune

    commune = current_commune()
    return {
        "version": FEED_VERSION,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "commune": {"code": commune.code, "name": str(commune)} if commune is not None else None,
        "fields": list(FIELDS),
        "count": len(items),
        "items": items,
    }


def safe_cell(value) -> str:
    """A text cell that no spreadsheet reads as a formula."""
    text = cell_text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_value(key: str, value) -> str:
    if key == "images":
        return safe_cell(" ".join(value))
    if isinstance(value, int):
        return str(value)
    return safe_cell(value)


def as_csv(items: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for item in items:
        writer.writerow([csv_value(key, item[key]) for key in FIELDS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- stock files -------------------------------------------------------------------------------

@dataclass
class StockLine:
    line: int  # the line of the file (the header is line 1), or the item's number in a JSON list
    key: str  # what identified the product (its sku or the feed's id)
    stock_text: str


@dataclass
class LineError:
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return _("Line %(line)s (%(key)s): %(message)s") % {"line": self.line, "key": self.key or "—",
                                                             "message": self.message}


@dataclass
class StockReport:
    """What a stock file did: every product changed (old and new stock), or every bad line."""

    changes: list[tuple[Product, int, int]] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_refusal(self, field_name: str) -> ValidationError:
        message = _("Nothing was changed: %(count)s lines have errors.") % {"count": len(self.errors)}
        return ValidationError({"__all__": [ValidationError(message, code="invalid_lines")],
                                field_name: [str(error) for error in self.errors]})


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse(_("The file is not in UTF-8: save it as “CSV UTF-8” and send it again."), "bad_encoding",
                     "file") from None


def parse_csv(data: bytes) -> list[StockLine]:
    """The lines of a stock CSV (header with ``sku`` or ``id``, and ``stock``). Refuses a file
    over the size or line limit, not UTF-8, or without those columns."""
    if len(data) > MAX_STOCK_FILE_BYTES:
        raise refuse(_("The file is too large: at most %(max)s.") % {"max": filesizeformat(MAX_STOCK_FILE_BYTES)},
                     "too_large", "file")
    if b"\x00" in data:
        raise refuse(_("This is not a CSV file: save the sheet as “CSV UTF-8”."), "not_csv", "file")
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip().lstrip("'").lower() for cell in next(reader, [])]
    except csv.Error:
        raise refuse(_("This is not a CSV file: save the sheet as “CSV UTF-8”."), "not_csv", "file") from None
    key_column = next((header.index(name) for name in ("sku", "id") if name in header), None)
    stock_column = next((index for index, name in enumerate(header) if name in STOCK_HEADERS), None)
    if key_column is None or stock_column is None:
        raise refuse(_("The first line must name the columns, with “sku” (or “id”) and “stock”."), "no_header", "file")
    lines = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(lines) >= MAX_STOCK_LINES:
                raise refuse(_("At most %(max)s lines in one file.") % {"max": f"{MAX_STOCK_LINES:,}".replace(",", ".")},
                             "too_many_lines", "file")
            cell = (lambda index: cells[index].strip().lstrip("'").strip() if index < len(cells) else "")
            lines.append(StockLine(number, cell(key_column)[:80], cell(stock_column)[:40]))
    except csv.Error:
        raise refuse(_("This is not a CSV file: save the sheet as “CSV UTF-8”."), "not_csv", "file") from None
    if not lines:
        raise refuse(_("The file has no line of products under its first line."), "empty", "file")
    return lines


def lines_from_items(items) -> list[StockLine]:
    """The lines of the API's JSON (``[{"sku" or "id": …, "stock": …}, …]``)."""
    if not isinstance(items, list) or not items:
        raise refuse(_("Send a list of products with their stock."), "required", "items")
    if len(items) > MAX_STOCK_LINES:
        raise refuse(_("At most %(max)s lines in one file.") % {"max": f"{MAX_STOCK_LINES:,}".replace(",", ".")},
                     "too_many_lines", "items")
    lines = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            lines.append(StockLine(number, "", ""))
            continue
        key = item.get("sku", item.get("id", ""))
        stock = item.get("stock", "")
        lines.append(StockLine(number, str(key if isinstance(key, (str, int)) and not isinstance(key, bool) else "")[:80],
                               str(stock) if isinstance(stock, (str, int)) and not isinstance(stock, bool) else "?"))
    return lines


_STOCK_RE = re.compile(r"^[0-9]{1,3}(?:[. \u00a0][0-9]{3})*$|^[0-9]{1,9}$")


def _stock(text: str) -> int | None:
    if not _STOCK_RE.match(text):
        return None
    value = int(re.sub(r"[. \u00a0]", "", text))
    return value if 0 <= value <= services.MAX_STOCK else None


def _find(user, key: str, commune_code: str, products: dict) -> Product | None:
    """The product of ``key`` (its sku, or the feed's id ``<commune>-<pk>``) among those ``user``
    may write."""
    match = re.fullmatch(r"([0-9]{5})-([0-9]{1,18})", key)
    if match:
        if match.group(1) != commune_code:
            return None
        product = products["pk"].get(int(match.group(2)))
    else:
        product = products["sku"].get(key.lower())
    if product is None or not permissions.can(user, "product.write", product.producer_id):
        return None
    return product


def check(user, lines: list[StockLine]) -> StockReport:
    """Every line checked, nothing written: the changes it would make, or its bad lines."""
    from communes.permissions import current_commune

    if not permissions.can(user, "product.write"):
        raise PermissionDenied
    commune = current_commune()
    code = commune.code if commune is not None else ""
    keys = {line.key.lower() for line in lines}
    ids = {int(m.group(1)) for line in lines if (m := re.fullmatch(r"[0-9]{5}-([0-9]{1,18})", line.key))
           and int(m.group(1)) < 2**63}
    found = list(Product.objects.filter(slug__in=keys).select_related("producer"))
    found += list(Product.objects.filter(pk__in=ids).select_related("producer"))
    products = {"sku": {p.slug: p for p in found}, "pk": {p.pk: p for p in found}}
    report = StockReport()
    seen: dict[int, int] = {}
    for line in lines:
        if not line.key:
            report.errors.append(LineError(line.line, "", _("Enter the product's code (sku).")))
            continue
        product = _find(user, line.key, code, products)
        if product is None:
            report.errors.append(LineError(line.line, line.key, _("No product of yours has this code.")))
            continue
        if product.pk in seen:
            report.errors.append(LineError(line.line, line.key, _("This product is already on line %(line)s.") % {
                "line": seen[product.pk]}))
            continue
        seen[product.pk] = line.line
        if product.producer.status == ProducerStatus.SUSPENDED:
            report.errors.append(LineError(line.line, line.key,
                                           _("This producer is suspended: its products cannot be changed.")))
            continue
        stock = _stock(line.stock_text)
        if stock is None:
            report.errors.append(LineError(line.line, line.key,
                                           _("The stock is a whole number from 0 to 10.000.000.")))
            continue
        report.changes.append((product, product.stock, stock))
    return report


def import_stock(user, lines: list[StockLine]) -> StockReport:
    """Check every line, then write all the stocks in one transaction, or none."""
    report = check(user, lines)
    if not report.ok:
        return report
    try:
        services.set_stocks(user, [(product, new) for product, _old, new in report.changes])
    except ValidationError as exc:  # changed meanwhile (a producer suspended): nothing was written
        report.errors.append(LineError(0, "", " ".join(exc.messages)))
    return report


def file_name(extension: str, producer_slug: str = "") -> str:
    """'san-pham-ocop-20261207.csv' (with the producer's slug when the feed is one producer's)."""
    stem = "san-pham-ocop" + (f"-{producer_slug}" if producer_slug else "")
    return f"{stem}-{timezone.localdate():%Y%m%d}.{extension}"
