"""The stamp sheet of a lot: an A4 PDF of QR stamps that a producer prints on a normal printer
and sticks on the packs.

A page holds ``COLUMNS`` × ``ROWS`` (5 × 8 = 40) stamps inside margins of ``MARGIN`` (10 mm,
more than an office printer needs) with light cut lines between them. Each stamp has the QR
code of the code's trace page (``ecommerce.trace.trace_url``: GS1 Digital Link for a product
with a GTIN, ``/t/<code>/`` otherwise, on the commune's configured address), the short code in
bold under it (a buyer without a camera types it), the product's name and the lot (and the
item's number in a printed series). The QR codes are drawn as vector squares (sharp at any
printer resolution), error correction M, with their 4-module quiet zone.

What is printed (``stamps_for``): copies of the lot's own code (the same code on every pack of
the lot), or the items ``serial_from``–``serial_to`` of its printed series (one code each).

Rendering was measured at 12–18 ms a stamp of a series (the QR code's mask, chosen among the
eight as the standard says, is three quarters of it; copies of one code share their drawing, about
2.5 ms each): 40 stamps in 1.1 s, 200 in 3.5 s, 1,000 in 12.3 s on the development machine. So a
sheet of up to ``DIRECT_LIMIT`` stamps (3 pages, under 2 s) is made in the request; a longer one
is a durable job (``StampSheetJob``) whose page shows its progress page by page, then the PDF.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import qrcode
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from core.validation import refuse as _refuse
from documents import rendering

COLUMNS = 5
ROWS = 8
PER_PAGE = COLUMNS * ROWS
MARGIN = 10 * mm
HEADER = 6 * mm
QR_SIZE = 23 * mm  # with its quiet zone
QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks
CODE_SIZE = 10.5
TEXT_SIZE = 6.5
MAX_STAMPS = 5000  # in one PDF (125 pages)
MAX_COPIES = MAX_STAMPS
DIRECT_LIMIT = 120  # stamps made in the request; more is a job
CUT_COLOR = Color(0.72, 0.72, 0.72)
HEADER_COLOR = Color(0.35, 0.35, 0.35)
ELLIPSIS = "…"


@dataclass(frozen=True)
class Stamp:
    code: str
    url: str
    title: str  # the product's name
    caption: str  # the lot (and the item's number)


def _number(value, field: str, message: str, minimum: int = 1, maximum: int = 10**9) -> int:
    text = str(value if value is not None else "").strip().replace(".", "")
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or len(text) > 10:
        raise _refuse(message, "invalid_number", field)
    number = int(text)
    if not minimum <= number <= maximum:
        raise _refuse(message, "out_of_range", field)
    return number


@dataclass(frozen=True)
class Selection:
    """What a sheet prints: ``copies`` of the lot's code, or the items ``serial_from``–``serial_to``."""

    copies: int = 0
    serial_from: int | None = None
    serial_to: int | None = None

    @property
    def count(self) -> int:
        if self.serial_from is not None:
            return self.serial_to - self.serial_from + 1
        return self.copies

    @property
    def is_series(self) -> bool:
        return self.serial_from is not None


def selection(lot, *, copies=None, serial_from=None, serial_to=None) -> Selection:
    """The checked selection of a sheet of ``lot``: either a number of copies of the lot's code,
    or a range of the item numbers it has."""
    from ecommerce.models import ProducerStatus

    if lot.product.producer.status == ProducerStatus.SUSPENDED:
        raise _refuse(_("This producer is suspended: its stamps cannot be printed."), "producer_suspended")
    blank = (None, "")
    if serial_from in blank and serial_to in blank:
        count = _number(copies if copies not in blank else PER_PAGE, "copies",
                        _("The number of copies is a whole number from 1 to 5.000."), maximum=MAX_COPIES)
        return Selection(copies=count)
    numbered = lot.codes.filter(serial__isnull=False)
    last = numbered.order_by("-serial").values_list("serial", flat=True).first()
    if last is None:
        raise _refuse(_("This lot has no item codes yet: issue a printed series first."), "no_items", "serial_from")
    message = _("Enter item numbers from 1 to %(last)s.") % {"last": f"{last:,}".replace(",", ".")}
    first = _number(serial_from if serial_from not in blank else 1, "serial_from", message, maximum=last)
    end = _number(serial_to if serial_to not in blank else last, "serial_to", message, maximum=last)
    if end < first:
        raise _refuse(_("The last item number must not be below the first."), "invalid_range", "serial_to")
    if end - first + 1 > MAX_STAMPS:
        raise _refuse(_("At most 5.000 stamps in one sheet: print the series in parts."), "too_many", "serial_to")
    return Selection(serial_from=first, serial_to=end)


def stamps_for(lot, chosen: Selection, commune=None) -> list[Stamp]:
    """The stamps of ``chosen``, with the absolute trace addresses of their codes."""
    from ecommerce import trace

    base = trace.base_url(commune)
    name = trace.product_name(lot.product)
    if not chosen.is_series:
        code = lot.codes.get(serial__isnull=True)
        code.lot = lot
        stamp = Stamp(code.code, trace.trace_url(code, base=base), name, _("Lot %(number)s") % {"number": lot.number})
        return [stamp] * chosen.count
    codes = lot.codes.filter(serial__gte=chosen.serial_from, serial__lte=chosen.serial_to).order_by("serial")
    stamps = []
    for code in codes:
        code.lot = lot
        stamps.append(Stamp(code.code, trace.trace_url(code, base=base), name,
                            _("Lot %(number)s · no. %(serial)s") % {"number": lot.number, "serial": code.serial}))
    return stamps


# --- drawing -----------------------------------------------------------------------------------

def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code of ``data`` (error correction M, the mask chosen as the standard says), as
    rows of dark (True) and light modules, without the quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def _draw_qr(canv, matrix, x: float, y: float, size: float) -> None:
    """The code with its quiet zone in the square of side ``size`` whose lower left is (x, y);
    each row's dark runs as one rectangle."""
    modules = len(matrix) + 2 * QUIET_ZONE
    unit = size / modules
    canv.setFillColor(white)
    canv.rect(x, y, size, size, stroke=0, fill=1)
    path = canv.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + QUIET_ZONE + 1) * unit
        start = None
        for col_index, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                path.rect(x + (start + QUIET_ZONE) * unit, top, (col_index - start) * unit, unit)
                start = None
    canv.setFillColor(black)
    canv.drawPath(path, stroke=0, fill=1)


def _fit(text: str, font: str, size: float, width: float) -> str:
    text = rendering.clean(text).replace("\n", " ").strip()
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + ELLIPSIS, font, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _centered(canv, text: str, font: str, size: float, center_x: float, y: float, width: float) -> None:
    canv.setFont(font, size)
    canv.drawCentredString(center_x, y, _fit(text, font, size, width))


def render(stamps: list[Stamp], *, title: str, author: str = "", progress=None) -> bytes:
    """The A4 PDF of ``stamps``, 40 a page. ``progress(done, total)`` is called after each page."""
    rendering.register_fonts()
    if not stamps:
        raise ValidationError(_("There is no stamp to print."), code="empty")
    if len(stamps) > MAX_STAMPS:
        raise ValidationError(_("At most 5.000 stamps in one sheet: print the series in parts."), code="too_many")
    page_w, page_h = A4
    cell_w = (page_w - 2 * MARGIN) / COLUMNS
    cell_h = (page_h - 2 * MARGIN - HEADER) / ROWS
    text_w = cell_w - 3 * mm
    buffer = io.BytesIO()
    canv = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    canv.setTitle(rendering.clean(title))
    canv.setAuthor(rendering.clean(author))
    canv.setCreator("Xã Số")
    canv.setSubject(_("Trace stamps"))
    pages = (len(stamps) + PER_PAGE - 1) // PER_PAGE
    printed = timezone.localtime().strftime("%d/%m/%Y")
    matrices: dict[str, list] = {}
    for page in range(pages):
        chunk = stamps[page * PER_PAGE:(page + 1) * PER_PAGE]
        canv.setFillColor(HEADER_COLOR)
        canv.setFont(rendering.FONT, 7.5)
        canv.drawString(MARGIN, page_h - MARGIN - 4 * mm, _fit(title, rendering.FONT, 7.5, page_w * 0.62))
        canv.drawRightString(page_w - MARGIN, page_h - MARGIN - 4 * mm, _("Printed %(date)s · page %(page)s/%(pages)s") % {
            "date": printed, "page": page + 1, "pages": pages})
        grid_top = page_h - MARGIN - HEADER
        canv.setStrokeColor(CUT_COLOR)
        canv.setLineWidth(0.3)
        canv.setDash(2, 2)
        rows_used = (len(chunk) + COLUMNS - 1) // COLUMNS
        for column in range(COLUMNS + 1):
            x = MARGIN + column * cell_w
            canv.line(x, grid_top, x, grid_top - rows_used * cell_h)
        for row in range(rows_used + 1):
            y = grid_top - row * cell_h
            canv.line(MARGIN, y, page_w - MARGIN, y)
        canv.setDash()
        for index, stamp in enumerate(chunk):
            row, column = divmod(index, COLUMNS)
            left = MARGIN + column * cell_w
            top = grid_top - row * cell_h
            center = left + cell_w / 2
            matrix = matrices.get(stamp.url)
            if matrix is None:
                matrix = qr_matrix(stamp.url)
                if len(matrices) < 4:  # copies of one code share their drawing
                    matrices[stamp.url] = matrix
            _draw_qr(canv, matrix, center - QR_SIZE / 2, top - 1 * mm - QR_SIZE, QR_SIZE)
            canv.setFillColor(black)
            base = top - 1 * mm - QR_SIZE
            _centered(canv, stamp.code, rendering.FONT_BOLD, CODE_SIZE, center, base - 3.6 * mm, text_w)
            _centered(canv, stamp.title, rendering.FONT, TEXT_SIZE, center, base - 6.4 * mm, text_w)
            _centered(canv, stamp.caption, rendering.FONT, TEXT_SIZE, center, base - 8.9 * mm, text_w)
        canv.showPage()
        if progress is not None:
            progress(page + 1, pages)
    canv.save()
    return buffer.getvalue()


def sheet_title(lot) -> str:
    from ecommerce import trace

    return _("Trace stamps · %(product)s · lot %(lot)s") % {"product": trace.product_name(lot.product),
                                                            "lot": lot.number}


def render_lot(lot, chosen: Selection, *, commune=None, progress=None) -> bytes:
    """The sheet of ``chosen`` stamps of ``lot``."""
    from communes.permissions import current_commune

    commune = commune if commune is not None else current_commune()
    return render(stamps_for(lot, chosen, commune), title=sheet_title(lot),
                  author=str(commune) if commune is not None else "", progress=progress)


def file_name(lot, chosen: Selection) -> str:
    """'tem-NEP-2025-09.pdf', 'tem-NEP-2025-09-1-400.pdf'."""
    from django.utils.text import slugify

    from core.text import fold

    stem = slugify(fold(lot.number)) or str(lot.pk)
    if chosen.is_series:
        stem += f"-{chosen.serial_from}-{chosen.serial_to}"
    return f"tem-{stem}.pdf"


# --- the job of a long series ------------------------------------------------------------------

def run_job(job, ctx) -> dict:
    """``StampSheetJob.run``: render the sheet, keep it under the commune's prefix, once (a job
    run again after its file was written finds it and stops there)."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import translation

    from core.storage import save_final
    from ecommerce.models import Lot, StampSheetJob

    locked = StampSheetJob.objects.get(pk=job.pk)
    if locked.file:
        return {"file": locked.file, "stamps": locked.stamps, "pages": locked.pages}
    lot = Lot.objects.select_related("product", "product__live_version", "product__producer").get(pk=locked.lot_id)
    chosen = Selection(copies=locked.copies, serial_from=locked.serial_from, serial_to=locked.serial_to)
    ctx.progress(2, _("Preparing the stamps"))

    def report(done, total):
        ctx.progress(2 + int(93 * done / total), _("Page %(page)s of %(pages)s") % {"page": done, "pages": total})

    from django.db import connection

    from communes.models import Commune

    # A worker works in the schema, without the request's commune: the address comes from the row.
    commune = Commune.objects.prefetch_related("domains").get(schema_name=connection.schema_name)
    with translation.override(settings.LANGUAGE_CODE):
        data = render_lot(lot, chosen, commune=commune, progress=report)
    name = save_final(f"ecommerce/stamps/lot-{lot.pk}/sheet-{locked.pk}.pdf", data)
    pages = (chosen.count + PER_PAGE - 1) // PER_PAGE
    with transaction.atomic():
        StampSheetJob.objects.filter(pk=locked.pk, file="").update(file=name, stamps=chosen.count, pages=pages)
    return {"file": name, "stamps": chosen.count, "pages": pages}
