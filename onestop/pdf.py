"""The papers of the one-stop desk as PDFs: forms 1–7 of Circular 03/2025/TT-VPCP, the fee
receipt and the result document.

Every form is A4 in Liberation Serif (``documents.rendering``), with the commune's desk and the
national motto at the top, the place and date line, the form's title in capitals, its fields,
and the signature blocks. The fixed wording is the Vietnamese of the forms (a legal format,
printed as such). Dates are dd/mm/yyyy, times HH:MM, in Asia/Ho_Chi_Minh; amounts
``1.234.000 đ``. The applicant's personal ID number is masked (only its last four digits are
printed).

* ``render_form(kind, dossier, officer=None, extra=None)``: "1" receipt and appointment (with a
  QR code to the status page, one to the rating page and, when a fee is due and unpaid, the
  VietQR to pay it), "2" request to complete the dossier, "3" refusal, "4" apology and new date,
  "5" stop notice, "6" control sheet, "fee" fee receipt.
* ``render_register(rows, …)``: form 7, the register (landscape).
* ``render_result(dossier, …)``: the result document in the Decree 30 layout
  (``documents.rendering.render_draft``), with its number and date printed in the number and
  date fields and the boxes of the signature and the seal.
"""
from __future__ import annotations

import datetime
import io
import string
from decimal import Decimal

import qrcode
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm, mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    BaseDocTemplate, Flowable, Frame, Image, KeepTogether, LongTable, PageTemplate, Paragraph, Spacer, Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import LayoutError

from documents import numbering, rendering, signing
from documents.rendering import FONT, FONT_BOLD, FONT_ITALIC, clean
from onestop import links, registers, vietqr
from onestop.deadlines import classify
from onestop.fees import format_money
from onestop.models import CopyKind, Delivery, DossierEvent, EventKind, PaymentMethod, TimeUnit
from workcalendar.services import TZ

FORM_TITLES = {
    "1": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    "2": "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    "3": "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
    "4": "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
    "5": "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
    "6": "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
    "7": registers.TITLE,
    "fee": "BIÊN LAI THU PHÍ, LỆ PHÍ",
}
FORM_MARKS = {"1": "Mẫu số 01", "2": "Mẫu số 02", "3": "Mẫu số 03", "4": "Mẫu số 04", "5": "Mẫu số 05",
              "6": "Mẫu số 06", "7": "Mẫu số 07"}
FORM_KINDS = ("1", "2", "3", "4", "5", "6", "fee")

DESK = "Bộ phận Một cửa"
DESK_UPPER = "BỘ PHẬN MỘT CỬA"

COPY_KINDS = {
    CopyKind.ORIGINAL: "Bản chính",
    CopyKind.COPY: "Bản sao",
    CopyKind.CERTIFIED_COPY: "Bản sao chứng thực",
    CopyKind.ORIGINAL_OR_COPY: "Bản chính hoặc bản sao chứng thực",
    CopyKind.FORM: "Tờ khai",
}
PAYMENT_METHODS = {
    PaymentMethod.CASH: "Tiền mặt",
    PaymentMethod.VIETQR: "Chuyển khoản (VietQR)",
    PaymentMethod.BANK: "Chuyển khoản (VietQR), ngân hàng báo có",
}
# Lines of the control sheet (form 6): the hand-overs and the other moments of the dossier.
CONTROL_EVENTS = {
    EventKind.RECEIVED: "Tiếp nhận hồ sơ",
    EventKind.HANDOVER: "Giao, nhận hồ sơ",
    EventKind.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung hồ sơ (tạm dừng thời hạn)",
    EventKind.SUPPLEMENT_RECEIVED: "Nhận hồ sơ bổ sung (tính tiếp thời hạn)",
    EventKind.EXTENDED: "Xin lỗi và hẹn lại ngày trả kết quả",
    EventKind.STOPPED: "Dừng giải quyết hồ sơ",
    EventKind.RESULT_PREPARED: "Dự thảo kết quả",
    EventKind.LEADER_SIGNED: "Lãnh đạo ký kết quả",
    EventKind.RESULT_READY: "Có kết quả giải quyết",
    EventKind.RETURNED: "Trả kết quả",
}
CLASS_LABELS = registers.CLASS_LABELS

BODY_SIZE = 13
CELL_SIZE = 11
MAX_FIELD = 2000  # characters of one value printed on a form (a table cell must fit on a page)
MAX_ITEMS = 200  # lines of a list printed on a form
NOTE_LIMIT = 300  # characters of a note in a line of form 6
QR_SIZE = 2.3 * cm
VIETQR_SIZE = 2.6 * cm
SIGNATURE_SPACE = 20 * mm  # room for a handwritten signature on a form
ELLIPSIS = "…"


# --- Text ----------------------------------------------------------------------------------------

def _text(value, limit: int = MAX_FIELD) -> str:
    value = clean(value).strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + ELLIPSIS


def _m(value, limit: int = MAX_FIELD) -> str:
    """Plain text made safe for reportlab's paragraph markup (NFC, no control characters)."""
    return rendering.markup(_text(value, limit)).replace("\n", "<br/>")


def date_text(value) -> str:
    return registers.date_text(value)


def when(moment: datetime.datetime | None) -> str:
    """'10:00 ngày 05/01/2026' (local time), or dots to fill in by hand."""
    if moment is None:
        return "……"
    local = registers.local(moment)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def amount_in_words(amount: int) -> str:
    """'Hai nghìn đồng', 'Một trăm hai mươi nghìn đồng': the amount written out, as on a receipt."""
    amount = abs(int(amount))
    if amount == 0:
        return "Không đồng"
    digits = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
    units = ["", " nghìn", " triệu", " tỷ", " nghìn tỷ", " triệu tỷ", " tỷ tỷ"]

    def three(n: int, full: bool) -> str:
        hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
        words = []
        if full or hundreds:
            words.append(f"{digits[hundreds]} trăm")
        if tens == 0:
            if ones and words:
                words.append("linh")
        elif tens == 1:
            words.append("mười")
        else:
            words.append(f"{digits[tens]} mươi")
        if ones:
            if ones == 1 and tens > 1:
                words.append("mốt")
            elif ones == 5 and tens > 0:
                words.append("lăm")
            else:
                words.append(digits[ones])
        return " ".join(words)

    groups = []
    while amount:
        groups.append(amount % 1000)
        amount //= 1000
    parts = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        parts.append(three(group, full=index < len(groups) - 1) + units[min(index, len(units) - 1)])
    sentence = " ".join(parts) + " đồng"
    return sentence[0].upper() + sentence[1:]


def _processing_time(procedure) -> str:
    amount = Decimal(procedure.time_amount or 0).normalize()
    number = f"{amount:f}".replace(".", ",")
    if procedure.time_unit == TimeUnit.WORKING_HOURS:
        text = f"{number} giờ làm việc"
    elif amount == 0:
        text = "Trong ngày làm việc"
    else:
        text = f"{number} ngày làm việc"
    if procedure.cutoff:
        text += f" (hồ sơ nhận sau {procedure.cutoff:%H:%M} được tính từ ngày làm việc tiếp theo)"
    return text


def _user_name(user_or_id) -> str:
    if not user_or_id:
        return ""
    if isinstance(user_or_id, int):
        user_or_id = get_user_model().objects.filter(pk=user_or_id).first()
        if user_or_id is None:
            return ""
    return (getattr(user_or_id, "full_name", "") or user_or_id.get_username()).strip()


# --- The commune -------------------------------------------------------------------------------

class _Commune:
    """What the forms print about the commune of the current schema."""

    def __init__(self):
        from communes.permissions import current_commune

        self.commune = current_commune()
        policy = numbering.get_policy() if self.commune is not None else None
        kind = (getattr(self.commune, "kind", "") or "xã").strip()
        name = (getattr(self.commune, "name", "") or "").strip()
        self.place = (numbering.place_name(policy) if policy is not None else name) or name
        # 'UBND XÃ TÚ LỆ' over 'BỘ PHẬN MỘT CỬA'; in a sentence 'Ủy ban nhân dân xã Tú Lệ'.
        self.head_line = f"UBND {kind} {name}".upper().strip()
        self.agency = f"Ủy ban nhân dân {kind} {name}".strip()
        self.desk = f"{DESK} {self.agency}"
        self.phone = getattr(self.commune, "phone", "") or ""


# --- Flowables and styles ----------------------------------------------------------------------

class _Rule(Flowable):
    """A short horizontal line, centred (under the agency's name and under the motto)."""

    def __init__(self, width: float, height: float = 6):
        super().__init__()
        self.rule, self.height = width, height

    def wrap(self, available_width, available_height):
        self.width = available_width
        return available_width, self.height

    def draw(self):
        self.canv.setLineWidth(0.6)
        cx = self.width / 2
        self.canv.line(cx - self.rule / 2, self.height - 3, cx + self.rule / 2, self.height - 3)


def _styles() -> dict[str, ParagraphStyle]:
    rendering.register_fonts()
    base = dict(fontName=FONT, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.17)
    return {
        "head": ParagraphStyle("head", fontName=FONT, fontSize=12, leading=14.5, alignment=TA_CENTER),
        "head_bold": ParagraphStyle("head_bold", fontName=FONT_BOLD, fontSize=12, leading=14.5, alignment=TA_CENTER),
        "motto": ParagraphStyle("motto", fontName=FONT_BOLD, fontSize=12.5, leading=15, alignment=TA_CENTER),
        "slogan": ParagraphStyle("slogan", fontName=FONT_BOLD, fontSize=13.5, leading=16, alignment=TA_CENTER),
        # 11 pt: 'Mã hồ sơ: 000.00.X04630-261207-0001' holds on one line under the desk's name.
        "left": ParagraphStyle("left", fontName=FONT, fontSize=11, leading=13.5, alignment=TA_CENTER),
        "date": ParagraphStyle("date", fontName=FONT_ITALIC, fontSize=13, leading=15.5, alignment=TA_CENTER),
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=14, leading=17, alignment=TA_CENTER,
                                spaceBefore=4, spaceAfter=1),
        "subtitle": ParagraphStyle("subtitle", fontName=FONT_ITALIC, fontSize=12.5, leading=15, alignment=TA_CENTER),
        "body": ParagraphStyle("body", alignment=TA_JUSTIFY, spaceAfter=1, **base),
        "item": ParagraphStyle("item", alignment=TA_LEFT, leftIndent=0.8 * cm, firstLineIndent=-0.5 * cm, spaceAfter=1,
                               **base),
        "caption": ParagraphStyle("caption", fontName=FONT_ITALIC, fontSize=9.5, leading=11, alignment=TA_CENTER),
        "qr_details": ParagraphStyle("qr_details", fontName=FONT, fontSize=9.5, leading=11, alignment=TA_LEFT),
        "sign_title": ParagraphStyle("sign_title", fontName=FONT_BOLD, fontSize=13, leading=16, alignment=TA_CENTER),
        "sign_hint": ParagraphStyle("sign_hint", fontName=FONT_ITALIC, fontSize=12, leading=14.5, alignment=TA_CENTER),
        "sign_name": ParagraphStyle("sign_name", fontName=FONT_BOLD, fontSize=13, leading=16, alignment=TA_CENTER),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=10.5, leading=12.5, alignment=TA_LEFT),
        "address": ParagraphStyle("address", fontName=FONT, fontSize=9, leading=10.5, alignment=TA_LEFT),
    }


class _Form:
    """A form being written: the story of flowables and the styles."""

    def __init__(self, kind: str, *, pagesize=A4, margins=None):
        self.kind = kind
        self.pagesize = pagesize
        self.margins = margins or (rendering.MARGIN_TOP, rendering.MARGIN_RIGHT, rendering.MARGIN_BOTTOM,
                                   rendering.MARGIN_LEFT)
        top, right, bottom, left = self.margins
        self.width = pagesize[0] - left - right
        self.frame_height = pagesize[1] - top - bottom
        self.style = _styles()
        self.commune = _Commune()
        self.story: list[Flowable] = []

    # Header: desk and motto, then the number / code line and the place and date line.
    def header(self, *, left_line: str = "", day: datetime.date | None = None) -> None:
        s = self.style
        left_w = self.width * rendering.LEFT_BLOCK
        right_w = self.width - left_w
        left = [Paragraph(_m(self.commune.head_line, 200), s["head"]), Paragraph(_m(DESK_UPPER), s["head_bold"]),
                _Rule(left_w / 3)]
        slogan = "Độc lập - Tự do - Hạnh phúc"
        right = [Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s["motto"]), Paragraph(slogan, s["slogan"]),
                 _Rule(pdfmetrics.stringWidth(slogan, FONT_BOLD, 13.5))]
        day = day or numbering.local_today()
        date_line = numbering.date_line(self.commune.place, day) if self.commune.place else \
            f"Ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
        rows = [[left, right], [Paragraph(_m(left_line, 200), s["left"]), Paragraph(_m(date_line, 200), s["date"])]]
        table = Table(rows, colWidths=[left_w, right_w])
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 1), (-1, 1), 4),
        ]))
        self.story.append(table)

    def title(self, subtitle: str = "") -> None:
        self.story.append(Paragraph(_m(FORM_TITLES[self.kind]), self.style["title"]))
        if subtitle:
            self.story.append(Paragraph(_m(subtitle), self.style["subtitle"]))
        self.story.append(_Rule(self.width / 4, height=8))
        self.story.append(Spacer(1, 3))

    def para(self, text: str, *, style: str = "body") -> None:
        self.story.append(Paragraph(text, self.style[style]))

    def field(self, label: str, value, *, limit: int = MAX_FIELD) -> None:
        """'Label: value' with the label in bold."""
        self.para(f"<b>{_m(label)}</b> {_m(value, limit)}")

    def items(self, lines: list[str], *, numbered: bool = True) -> None:
        lines = [line for line in (_text(v) for v in lines) if line]
        extra = len(lines) - MAX_ITEMS
        for index, line in enumerate(lines[:MAX_ITEMS], start=1):
            prefix = f"{index}." if numbered else "-"
            self.para(f"{prefix} {_m(line)}", style="item")
        if extra > 0:
            self.para(f"(và {extra} nội dung khác)", style="item")

    def table(self, headings: list[str], rows: list[list[str]], widths: list[float], *,
              centered: tuple[int, ...] = (), size: float = CELL_SIZE, padding: float = 4) -> None:
        """A table with a heading row repeated on every page; a cell too tall for a page is cut."""
        cell = ParagraphStyle("cell", fontName=FONT, fontSize=size, leading=size * 1.22)
        cell_center = ParagraphStyle("cell_center", parent=cell, alignment=TA_CENTER)
        head = ParagraphStyle("cell_head", parent=cell, fontName=FONT_BOLD, alignment=TA_CENTER)
        col_widths = [self.width * w / sum(widths) for w in widths]
        max_height = self.frame_height * 0.5
        data = [[Paragraph(_m(h), head) for h in headings]]
        for row in rows:
            data.append([
                _fitted(value, cell_center if index in centered else cell, col_widths[index] - 2 * padding, max_height)
                for index, value in enumerate(row)
            ])
        table = LongTable(data, colWidths=col_widths, repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, "#000000"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), padding), ("RIGHTPADDING", (0, 0), (-1, -1), padding),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]))
        self.story.append(table)
        self.story.append(Spacer(1, 4))

    def signatures(self, blocks: list[tuple[list[str], str, str]]) -> None:
        """Signature blocks side by side: (title lines, hint, name); a block may be empty. They
        are kept on the page of the flowable before them (the last paragraph, form 1's QR
        codes): a signature block never stands alone at the top of a page."""
        s = self.style
        cells = []
        for lines, hint, name in blocks:
            cell: list[Flowable] = [Paragraph(_m(line, 200), s["sign_title"]) for line in lines]
            if hint:
                cell.append(Paragraph(_m(hint), s["sign_hint"]))
            cell.append(Spacer(1, SIGNATURE_SPACE))
            if name:
                cell.append(Paragraph(_m(name, 200), s["sign_name"]))
            cells.append(cell if lines else "")
        table = Table([cells], colWidths=[self.width / len(cells)] * len(cells))
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ]))
        last = [self.story.pop()] if self.story and not isinstance(self.story[-1], LongTable) else []
        if last and isinstance(last[0], KeepTogether):  # nested, it would measure as too tall for any page
            last = list(last[0]._content)
        self.story.append(KeepTogether([*last, Spacer(1, 4), table]))

    def build(self, *, title: str) -> bytes:
        return _build(self.story, title=title, author=self.commune.agency, pagesize=self.pagesize,
                      margins=self.margins, mark=FORM_MARKS.get(self.kind, ""))


def _fitted(value, style: ParagraphStyle, width: float, max_height: float) -> Paragraph:
    """A cell's paragraph, its text cut (with '…') until it is at most ``max_height`` tall: a
    table row cannot be split over two pages."""
    text = _text(value)
    paragraph = Paragraph(_m(text), style)
    if paragraph.wrap(width, max_height)[1] <= max_height:
        return paragraph
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits
        middle = (low + high + 1) // 2
        if Paragraph(_m(text[:middle] + ELLIPSIS), style).wrap(width, max_height)[1] <= max_height:
            low = middle
        else:
            high = middle - 1
    return Paragraph(_m(text[:low].rstrip() + ELLIPSIS), style)


def _page_number(canv, doc):
    canv.saveState()
    canv.setFont(FONT, 12)
    width, height = doc.pagesize
    canv.drawCentredString(width / 2, height - doc.topMargin / 2 - 4, str(canv.getPageNumber()))
    canv.restoreState()


def _form_mark(mark: str):
    """Draws the form's mark ('Mẫu số 01') at the top right of the first page, in the top
    margin, where it takes no line from the form."""

    def draw(canv, doc):
        canv.saveState()
        canv.setFont(FONT_ITALIC, 11)
        width, height = doc.pagesize
        canv.drawRightString(width - doc.rightMargin, height - doc.topMargin + 6, mark)
        canv.restoreState()

    return draw


def _build(story, *, title: str, author: str, pagesize=A4, margins=None, mark: str = "") -> bytes:
    top, right, bottom, left = margins or (rendering.MARGIN_TOP, rendering.MARGIN_RIGHT, rendering.MARGIN_BOTTOM,
                                           rendering.MARGIN_LEFT)
    width, height = pagesize
    buffer = io.BytesIO()
    frame = Frame(left, bottom, width - left - right, height - top - bottom,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="content")
    document = BaseDocTemplate(
        buffer, pagesize=pagesize, leftMargin=left, rightMargin=right, topMargin=top, bottomMargin=bottom,
        title=clean(title)[:200], author=clean(author)[:200], creator="Xã Số", pageCompression=1,
    )
    document.addPageTemplates([
        PageTemplate(id="first", frames=[frame], autoNextPageTemplate="later", pagesize=pagesize,
                     **({"onPage": _form_mark(mark)} if mark else {})),
        PageTemplate(id="later", frames=[frame], onPage=_page_number, pagesize=pagesize),
    ])
    try:
        document.build(story)
    except LayoutError as exc:
        raise ValidationError(_("The form has a block too large to fit on a page."), code="layout") from exc
    return buffer.getvalue()


# --- QR codes ------------------------------------------------------------------------------------

def qr_png(data: str) -> bytes:
    """A QR code (error correction M, 4 pixels a module, a 4-module quiet zone) as PNG bytes."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def _image(png: bytes, size: float) -> Image:
    return Image(io.BytesIO(png), width=size, height=size)


def _qr_cell(png: bytes, caption: str, style, size: float = QR_SIZE) -> list[Flowable]:
    return [_image(png, size), Paragraph(_m(caption), style["caption"])]


def vietqr_payload(dossier, commune) -> str | None:
    """The dynamic VietQR of the dossier's fee, when one is due and unpaid and the commune has an
    account; None otherwise."""
    if commune is None or not dossier.fee_amount or dossier.fee_paid_at or dossier.fee_exempt_reason:
        return None
    if not (commune.bank_bin and commune.bank_account and dossier.code):
        return None
    return vietqr.build_payload(bank_bin=commune.bank_bin, account=commune.bank_account,
                                amount=int(dossier.fee_amount), purpose=vietqr.purpose_for(dossier.code))


# --- The dossier's facts -------------------------------------------------------------------------

def _documents(dossier) -> list[list[str]]:
    """Rows (STT, name, kind, copies) of the papers provided (ticked at the desk or uploaded),
    one per required document."""
    groups: dict = {}
    provided = dossier.documents.filter(Q(provided=True) | ~Q(file="")).select_related("requirement").order_by("pk")
    for doc in provided:
        key = doc.requirement_id or f"name:{doc.name}"
        entry = groups.setdefault(key, {"name": doc.name or (doc.requirement.name if doc.requirement else ""),
                                        "kind": doc.copy_kind or (doc.requirement.copy_kind if doc.requirement else ""),
                                        "count": 0, "files": 0})
        entry["count"] = max(entry["count"], doc.count or 1)
        entry["files"] += 1 if doc.file else 0
    rows = []
    for index, entry in enumerate(list(groups.values())[:MAX_ITEMS], start=1):
        kind = COPY_KINDS.get(entry["kind"], "")
        if entry["files"]:
            kind = f"{kind} (kèm {entry['files']} tệp điện tử)".strip() if kind else f"{entry['files']} tệp điện tử"
        rows.append([str(index), entry["name"], kind, f"{entry['count']:02d}"])
    return rows


def _delivery(dossier, commune: _Commune) -> str:
    if dossier.delivery == Delivery.POST:
        address = dossier.delivery_address or dossier.applicant_address
        return f"Qua dịch vụ bưu chính: {address}" if address else "Qua dịch vụ bưu chính"
    if dossier.delivery == Delivery.ONLINE:
        return "Trực tuyến, trên trang dịch vụ công của xã (tài khoản của người nộp)"
    return commune.desk


def _fee(dossier) -> str:
    if dossier.fee_exempt_reason:
        return f"Miễn ({dossier.fee_exempt_reason})"
    if not dossier.fee_amount:
        return "Không thu"
    state = f"đã nộp lúc {when(dossier.fee_paid_at)}" if dossier.fee_paid_at else "chưa nộp"
    return f"{format_money(dossier.fee_amount)} ({state})"


def _officer_name(dossier, officer) -> str:
    return _user_name(officer) or _user_name(dossier.received_by_id)


def _applicant_lines(form: _Form, dossier, *, with_id: bool = False, with_contact: bool = True) -> None:
    name = f"<b>Ông/Bà:</b> {_m(dossier.applicant_name, 300)}"
    if with_id and dossier.applicant_id_number:  # on the name's line: a receipt keeps to one page
        name += f"; <b>Số định danh cá nhân:</b> {_m(dossier.masked_id_number)}"
    form.para(name)
    if dossier.applicant_address:
        form.field("Địa chỉ:", dossier.applicant_address, limit=400)
    if with_contact:
        contact = []
        if dossier.applicant_phone:
            contact.append(f"Số điện thoại: {dossier.applicant_phone}")
        if dossier.applicant_email:
            contact.append(f"Thư điện tử: {dossier.applicant_email}")
        if contact:
            form.para(_m("; ".join(contact), 400))


def _authority(officer, extra: dict) -> tuple[list[str], str]:
    """The signer of a notice issued by the commune (forms 4 and 5): lines and name."""
    from onestop import permissions

    name = extra.get("signer_name") or _user_name(officer)
    if extra.get("signer_title_lines"):
        return [str(line) for line in extra["signer_title_lines"]], name
    roles = permissions.user_roles(officer) if officer is not None else set()
    if permissions.CHAIRMAN in roles:
        return ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], name
    if permissions.VICE_CHAIRMAN in roles:
        return ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], name
    return [f"CÔNG CHỨC {DESK_UPPER}"], name


def _moment(value) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time(17, 0), tzinfo=TZ)
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _issued_on(extra: dict) -> datetime.date | None:
    """The date printed in the date line when the caller gives one (``extra["issued_on"]``)."""
    value = extra.get("issued_on")
    if isinstance(value, datetime.datetime):
        return registers.local(value).date()
    return value if isinstance(value, datetime.date) else None


# --- The forms ----------------------------------------------------------------------------------

def _form_1(dossier, officer, extra) -> bytes:
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả."""
    form = _Form("1")
    received = dossier.received_at or timezone.now()
    form.header(left_line=f"Mã hồ sơ: {dossier.code or ''}", day=registers.local(received).date())
    form.title()
    c = form.commune
    form.para(f"{_m(c.desk)} tiếp nhận hồ sơ của:")
    _applicant_lines(form, dossier, with_id=True)
    form.field("Nội dung yêu cầu giải quyết:", dossier.procedure.name, limit=500)
    form.field("1. Thành phần hồ sơ nộp gồm:", "")
    rows = _documents(dossier)
    if rows:
        # 10.5 pt and these widths: 'Bản chính hoặc bản sao chứng thực' and 'Số lượng' hold on one line.
        form.table(["STT", "Tên giấy tờ", "Hình thức", "Số lượng"], rows, [0.57, 4.68, 3.15, 0.95], centered=(0, 3),
                   size=10.5, padding=3)
    else:
        form.para("(không có giấy tờ kèm theo)", style="item")
    form.field("2. Số lượng hồ sơ:", "01 bộ")
    form.field("3. Thời gian giải quyết hồ sơ theo quy định:", _processing_time(dossier.procedure))
    form.field("4. Thời gian nhận hồ sơ:", when(dossier.received_at))
    form.field("5. Thời gian trả kết quả giải quyết hồ sơ:", when(dossier.original_due_at or dossier.due_at))
    form.field("6. Đăng ký nhận kết quả tại:", _delivery(dossier, c))
    form.field("7. Phí, lệ phí:", _fee(dossier))

    status = links.status_url(dossier, c.commune)
    rating = links.rating_url(dossier, c.commune)
    form.para(_m("Tra cứu tình trạng hồ sơ: quét mã QR hoặc vào địa chỉ dưới đây, nhập mã hồ sơ và 4 số cuối "
                 "của số điện thoại đã đăng ký."), style="address")
    cells = [_qr_cell(qr_png(status), "Tra cứu tình trạng hồ sơ", form.style),
             _qr_cell(qr_png(rating), "Đánh giá mức độ hài lòng", form.style)]
    widths = [form.width * 0.23, form.width * 0.23]
    payload = vietqr_payload(dossier, c.commune)
    if payload:
        account_name = c.commune.bank_account_name or c.agency
        small = form.style["qr_details"]
        details = [
            Paragraph("<b>Nộp phí, lệ phí qua VietQR</b>", small),
            Paragraph(_m(f"Số tiền: {format_money(dossier.fee_amount)}"), small),
            Paragraph(_m(f"Tài khoản: {c.commune.bank_account} – {account_name}"), small),
            Paragraph(_m(f"Ngân hàng (BIN): {c.commune.bank_bin}"), small),
            Paragraph(_m(f"Nội dung: {vietqr.purpose_for(dossier.code)}"), small),
        ]
        inner = Table([[_image(vietqr.qr_png(payload), VIETQR_SIZE), details]],
                      colWidths=[VIETQR_SIZE + 6, form.width * 0.54 - VIETQR_SIZE - 10])
        inner.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0)]))
        cells.append(inner)
        widths.append(form.width * 0.54)
    table = Table([cells], colWidths=widths)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
    form.story.append(KeepTogether([
        table,
        Paragraph(_m(f"Địa chỉ tra cứu: {status}", 300), form.style["address"]),
        Paragraph(_m(f"Địa chỉ đánh giá: {rating}", 300), form.style["address"]),
    ]))
    form.signatures([
        (["NGƯỜI NỘP HỒ SƠ"], "(Ký và ghi rõ họ tên)", dossier.applicant_name),
        (["NGƯỜI TIẾP NHẬN HỒ SƠ"], "(Ký và ghi rõ họ tên)", _officer_name(dossier, officer)),
    ])
    return form.build(title=f"{FORM_TITLES['1']} {dossier.code or ''}")


def _supplement_facts(dossier, extra) -> tuple[list[str], str, datetime.datetime | None]:
    """What is asked (items), why, and since when the clock is paused (during processing)."""
    pause = dossier.pauses.order_by("-started_at").first() if dossier.pk else None
    items = extra.get("items")
    if items is None:
        items = (pause.items if pause is not None and pause.ended_at is None else None) or dossier.missing_items or []
    if isinstance(items, str):
        items = [line for line in items.splitlines() if line.strip()]
    reason = extra.get("reason")
    if reason is None:
        reason = pause.reason if pause is not None and pause.ended_at is None else ""
    paused_at = pause.started_at if pause is not None and pause.ended_at is None else None
    return [str(item) for item in items], reason or "", paused_at


def _form_2(dossier, officer, extra) -> bytes:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ."""
    items, reason, paused_at = _supplement_facts(dossier, extra)
    form = _Form("2")
    form.header(left_line=f"Mã hồ sơ: {dossier.code}" if dossier.code else "",
                day=_issued_on(extra) or (registers.local(paused_at).date() if paused_at else None))
    form.title()
    form.field("Hồ sơ của:", dossier.applicant_name, limit=300)
    form.field("Nội dung yêu cầu giải quyết:", dossier.procedure.name, limit=500)
    if dossier.applicant_address:
        form.field("Địa chỉ:", dossier.applicant_address, limit=400)
    contact = "; ".join(v for v in (dossier.applicant_phone and f"Số điện thoại: {dossier.applicant_phone}",
                                   dossier.applicant_email and f"Thư điện tử: {dossier.applicant_email}") if v)
    if contact:
        form.para(_m(contact))
    submitted = dossier.received_at or dossier.submitted_at
    if submitted:
        form.field("Ngày nộp hồ sơ:", date_text(submitted))
    form.para("<b>Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:</b>")
    form.items(items or ["……"])
    if reason:
        form.field("Lý do:", reason)
    if paused_at:
        form.para(_m(f"Thời hạn giải quyết hồ sơ tạm dừng từ {when(paused_at)} đến khi nhận đủ hồ sơ bổ sung; "
                     "thời gian còn lại được tính tiếp từ ngày nhận hồ sơ bổ sung."))
    officer_name = _officer_name(dossier, officer)
    phone = f", số điện thoại {form.commune.phone}" if form.commune.phone else ""
    form.para(_m(f"Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, ông/bà liên hệ với "
                 f"{officer_name or form.commune.desk}{phone} để được hướng dẫn."))
    form.signatures([([], "", ""), (["NGƯỜI HƯỚNG DẪN"], "(Ký và ghi rõ họ tên)", officer_name)])
    return form.build(title=FORM_TITLES["2"])


def _form_3(dossier, officer, extra) -> bytes:
    """Phiếu từ chối tiếp nhận giải quyết hồ sơ."""
    form = _Form("3")
    form.header(left_line=f"Mã hồ sơ: {dossier.code}" if dossier.code else "", day=_issued_on(extra))
    form.title()
    c = form.commune
    form.para(f"{_m(c.desk)} tiếp nhận hồ sơ của:")
    _applicant_lines(form, dossier)
    form.field("Nội dung yêu cầu giải quyết:", dossier.procedure.name, limit=500)
    submitted = dossier.received_at or dossier.submitted_at
    if submitted:
        form.field("Ngày nộp hồ sơ:", date_text(submitted))
    reason = extra.get("reason") or dossier.closed_reason or "……"
    form.para(_m("Qua xem xét, đối chiếu với quy định của pháp luật, hồ sơ của ông/bà không đủ điều kiện "
                 "tiếp nhận, giải quyết với lý do như sau:"))
    form.para(_m(reason))
    form.para("Xin thông báo để ông/bà được biết và thực hiện./.")
    form.signatures([([], "", ""), (["NGƯỜI TIẾP NHẬN HỒ SƠ"], "(Ký và ghi rõ họ tên)", _officer_name(dossier, officer))])
    return form.build(title=FORM_TITLES["3"])


def _form_4(dossier, officer, extra) -> bytes:
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả."""
    extension = dossier.extensions.order_by("-created_at", "-pk").first() if dossier.pk else None
    new_due = _moment(extra.get("new_due_at")) or dossier.extended_due_at or (extension.new_due_at if extension else None)
    reason = extra.get("reason") or (extension.reason if extension else "") or "……"
    form = _Form("4")
    form.header(left_line=f"Mã hồ sơ: {dossier.code or ''}", day=_issued_on(extra))
    form.title()
    c = form.commune
    form.field("Kính gửi:", f"Ông/Bà {dossier.applicant_name}", limit=300)
    form.para(_m(f"Ngày {date_text(dossier.received_at)}, {c.desk} tiếp nhận giải quyết hồ sơ của Ông/Bà, "
                 f"mã hồ sơ {dossier.code or ''}."))
    form.field("Nội dung yêu cầu giải quyết:", dossier.procedure.name, limit=500)
    form.field("Thời gian hẹn trả kết quả giải quyết hồ sơ:", when(dossier.due_at))
    form.para(_m(f"Tuy nhiên, đến nay {c.agency} chưa trả kết quả giải quyết hồ sơ cho Ông/Bà."))
    form.field("Lý do:", reason)
    form.para(_m(f"Sự chậm trễ này đã gây phiền hà cho Ông/Bà. {c.agency} xin lỗi Ông/Bà và sẽ trả kết quả "
                 f"giải quyết hồ sơ cho Ông/Bà vào {when(new_due)}."))
    form.para("Xin trân trọng cảm ơn!")
    lines, name = _authority(officer, extra)
    form.signatures([([], "", ""), (lines, "", name)])
    return form.build(title=FORM_TITLES["4"])


def _form_5(dossier, officer, extra) -> bytes:
    """Thông báo dừng giải quyết hồ sơ."""
    reason = extra.get("reason") or dossier.closed_reason or "……"
    form = _Form("5")
    form.header(left_line=f"Mã hồ sơ: {dossier.code or ''}", day=_issued_on(extra))
    form.title()
    c = form.commune
    form.field("Kính gửi:", f"Ông/Bà {dossier.applicant_name}", limit=300)
    form.para(_m(f"Ngày {date_text(dossier.received_at)}, {c.desk} đã tiếp nhận hồ sơ của Ông/Bà, mã hồ sơ "
                 f"{dossier.code or ''}, nội dung yêu cầu giải quyết: {dossier.procedure.name}."))
    form.para(_m(f"{c.agency} thông báo dừng giải quyết hồ sơ nêu trên."))
    form.field("Lý do:", reason)
    form.para(_m(f"Ông/Bà liên hệ {c.desk} để nhận lại hồ sơ và được hướng dẫn./."))
    lines, name = _authority(officer, extra)
    form.signatures([([], "", ""), (lines, "", name)])
    return form.build(title=FORM_TITLES["5"])


def control_lines(dossier) -> list[dict]:
    """The lines of form 6: every hand-over and the other moments of the dossier, in order."""
    events = (DossierEvent.objects.filter(dossier=dossier, kind__in=list(CONTROL_EVENTS))
              .select_related("from_step", "to_step").order_by("at", "pk"))
    lines = []
    for event in events:
        if event.kind == EventKind.HANDOVER:
            steps = " → ".join(s.name for s in (event.from_step, event.to_step) if s is not None)
            step = steps or CONTROL_EVENTS[event.kind]
        else:
            step = CONTROL_EVENTS[event.kind]
            if event.kind == EventKind.RECEIVED and event.to_step is not None and event.to_step.name != step:
                step = f"{step} → {event.to_step.name}"
        klass = classify(event.at, event.step_due_at) if event.step_due_at else None
        lines.append({
            "kind": event.kind, "step": step, "from": event.actor_name, "to": event.to_user_name,
            "at": event.at, "step_due_at": event.step_due_at, "class": klass,
            "result": CLASS_LABELS.get(klass, ""), "note": event.note,
        })
    return lines


def _form_6(dossier, officer, extra) -> bytes:
    """Phiếu kiểm soát quá trình giải quyết hồ sơ."""
    form = _Form("6")
    form.header(left_line=f"Mã hồ sơ: {dossier.code or ''}", day=_issued_on(extra))
    form.title(subtitle=f"(Kèm theo hồ sơ của: {_text(dossier.applicant_name, 300)})")
    c = form.commune
    form.field("Nội dung yêu cầu giải quyết:", dossier.procedure.name, limit=500)
    form.field("Cơ quan giải quyết hồ sơ:", c.agency)
    form.field("Thời gian nhận hồ sơ:", when(dossier.received_at))
    form.field("Thời gian hẹn trả kết quả:", when(dossier.due_at))
    if dossier.extended_due_at:
        form.field("Hẹn lại ngày trả kết quả (mẫu số 04):", when(dossier.extended_due_at))
    rows = []
    for index, line in enumerate(control_lines(dossier)[:MAX_ITEMS * 2], start=1):
        step = line["step"]
        if line["from"]:
            step += f"\nGiao: {line['from']}"
        if line["to"]:
            step += f"\nNhận: {line['to']}"
        if line["note"].strip():
            step += f"\nGhi chú: {_text(line['note'], NOTE_LIMIT)}"
        rows.append([str(index), step, registers.moment_text(line["at"]), registers.moment_text(line["step_due_at"]),
                     line["result"]])
    form.table(
        ["STT", "Bước giải quyết, bên giao, bên nhận, ghi chú", "Thời gian giao, nhận", "Hạn của bước",
         "Kết quả (Trước hạn / Đúng hạn / Quá hạn)"],
        rows or [["", "(chưa có lần giao, nhận nào)", "", "", ""]],
        [26, 208, 86, 86, 62], centered=(0, 2, 3, 4), size=10.5, padding=3,
    )
    completed = dossier.completed_at
    if completed and dossier.due_at:
        form.field("Kết quả giải quyết hồ sơ:",
                   f"có kết quả lúc {when(completed)} – {CLASS_LABELS[classify(completed, dossier.due_at)]}")
    return form.build(title=f"{FORM_TITLES['6']} {dossier.code or ''}")


def _payment(dossier, extra):
    payment = extra.get("payment")
    if payment is None and dossier.pk:
        payment = dossier.payments.order_by("-received_at", "-pk").first()
    if payment is None:
        raise ValidationError({"payment": _("No payment has been recorded for this dossier.")})
    return payment


def _form_fee(dossier, officer, extra) -> bytes:
    """Biên lai thu phí, lệ phí."""
    payment = _payment(dossier, extra)
    form = _Form("fee")
    form.header(left_line=f"Số: {payment.receipt_number}" if payment.receipt_number else "",
                day=registers.local(payment.received_at).date())
    form.title(subtitle="(Liên giao người nộp)")
    form.field("Mã hồ sơ:", dossier.code or "")
    form.field("Họ và tên người nộp:", dossier.applicant_name, limit=300)
    if dossier.applicant_address:
        form.field("Địa chỉ:", dossier.applicant_address, limit=400)
    form.field("Nội dung thu:", f"Phí, lệ phí giải quyết thủ tục hành chính “{dossier.procedure.name}”", limit=600)
    form.field("Số tiền:", format_money(payment.amount))
    form.field("Viết bằng chữ:", amount_in_words(payment.amount))
    form.field("Hình thức thanh toán:", PAYMENT_METHODS.get(payment.method, payment.get_method_display()))
    if payment.reference:
        form.field("Mã giao dịch:", payment.reference)
    form.field("Thời gian nộp:", when(payment.received_at))
    collector = _user_name(officer) or _user_name(payment.recorded_by_id)
    form.signatures([
        (["NGƯỜI NỘP TIỀN"], "(Ký và ghi rõ họ tên)", dossier.applicant_name),
        (["NGƯỜI THU TIỀN"], "(Ký và ghi rõ họ tên)", collector),
    ])
    return form.build(title=f"{FORM_TITLES['fee']} {dossier.code or ''}")


_RENDERERS = {"1": _form_1, "2": _form_2, "3": _form_3, "4": _form_4, "5": _form_5, "6": _form_6, "fee": _form_fee}


def render_form(kind: str, dossier, *, officer=None, extra: dict | None = None) -> bytes:
    """The PDF of form ``kind`` ("1"–"6" or "fee") for the dossier, in the current commune's schema.

    ``officer``: who issues it (the receiving officer by default). ``extra``: "items" and
    "reason" (form 2), "reason" (forms 3, 4, 5), "new_due_at" (form 4), "payment" (fee
    receipt), "signer_name" and "signer_title_lines" (forms 4 and 5), "issued_on" (the date of
    the date line, forms 2–6; by default today, or the day the supplement was asked for).
    """
    renderer = _RENDERERS.get(str(kind))
    if renderer is None:
        raise ValueError(f"unknown form {kind!r}; expected one of {', '.join(FORM_KINDS)}")
    return renderer(dossier, officer, dict(extra or {}))


# --- Form 7: the register ---------------------------------------------------------------------

def render_register(rows: list[dict], *, commune_name: str = "", date_from=None, date_to=None) -> bytes:
    """Form 7, Sổ theo dõi hồ sơ: landscape A4, the heading row repeated on every page."""
    margin = 12 * mm
    form = _Form("7", pagesize=landscape(A4), margins=(margin, margin, margin, margin))
    if commune_name and form.commune.commune is None:  # headed 'UBND XÃ …' like forms 1–6 in a commune
        form.commune.head_line = commune_name.replace("\n", " ").upper()
    form.header(left_line="")
    form.title(subtitle=registers.period_text(date_from, date_to))
    data = [[str(values.get(key, "")) for key in registers.KEYS] for values in rows]
    form.table(registers.HEADINGS, data or [["", "(không có hồ sơ)"] + [""] * (len(registers.KEYS) - 2)],
               registers.WIDTHS, centered=(0,), size=9.5, padding=3)
    form.para(_m(f"Tổng số: {len(rows)} hồ sơ."), style="small")
    return form.build(title=registers.TITLE)


# --- The result document ------------------------------------------------------------------------

class _Fields(dict):
    def __missing__(self, key):
        return ELLIPSIS


def result_fields(dossier, *, issued_on: datetime.date | None = None) -> dict[str, str]:
    """The values a result template may use: the dossier's, the application's (form fields) and
    the result's details (``result_data``)."""
    from communes.permissions import current_commune

    commune = current_commune()
    issued_on = issued_on or numbering.local_today()
    values = {
        "applicant_name": dossier.applicant_name,
        "applicant_address": dossier.applicant_address,
        "applicant_id_number": dossier.applicant_id_number,
        "code": dossier.code or "",
        "procedure_name": dossier.procedure.name,
        "received_date": date_text(dossier.received_at),
        "due_date": date_text(dossier.due_at),
        "result_number": dossier.result_number,
        "issued_date": date_text(issued_on),
        "page_count": str(dossier.page_count) if dossier.page_count else "",
        "copy_count": str(dossier.copy_count) if dossier.copy_count else "",
        "commune_name": commune.name_in_sentence if commune is not None else "",
        "place": numbering.place_name(numbering.get_policy()) if commune is not None else "",
    }
    for source in (dossier.form_data or {}, dossier.result_data or {}):
        if isinstance(source, dict):
            for key, value in source.items():
                if isinstance(key, str) and key.isidentifier() and isinstance(value, (str, int, float, Decimal)):
                    values[key] = str(value)
                elif isinstance(key, str) and key.isidentifier() and isinstance(value, datetime.date):
                    values[key] = date_text(value)
    return {key: value for key, value in values.items() if value not in (None, "")}


def fill_template(template: str, values: dict) -> str:
    """``{name}`` placeholders replaced by the values; a missing one (or an attribute, index,
    conversion or format spec, which are not honoured) prints '…'. A template with unbalanced
    braces is printed as written."""
    values = _Fields(values)
    out = []
    try:
        parsed = list(string.Formatter().parse(template or ""))
    except ValueError:
        return template or ""
    for literal, name, _spec, _conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        out.append(values[name] if name.isidentifier() else ELLIPSIS)
    return "".join(out)


RATING_QR_SIZE = 42.0  # points, about 15 mm: fits the 20 mm bottom margin


def _rating_footer(dossier):
    """Draws, in the bottom margin of the result's first page, a QR code to the rating page and
    its address, so the citizen can rate the service from the paper as well."""
    if not dossier.pk:
        return None
    url = links.rating_url(dossier)
    png = qr_png(url)

    def draw(canv):
        from reportlab.lib.utils import ImageReader

        x, y = rendering.MARGIN_LEFT, 5.0
        canv.saveState()
        canv.drawImage(ImageReader(io.BytesIO(png)), x, y, width=RATING_QR_SIZE, height=RATING_QR_SIZE)
        canv.setFont(rendering.FONT_ITALIC, 8.5)
        canv.drawString(x + RATING_QR_SIZE + 6, y + 24, "Mời Ông/Bà đánh giá mức độ hài lòng với việc giải quyết hồ sơ:")
        canv.setFont(rendering.FONT, 8.5)
        canv.drawString(x + RATING_QR_SIZE + 6, y + 12, url)
        canv.restoreState()

    return draw


def render_result(dossier, *, signer_name: str, signer_title_lines: list[str],
                  issued_on: datetime.date | None = None) -> rendering.Rendered:
    """The result document of the dossier in the Decree 30 layout.

    The PDF carries the number and date form fields (``documents.signing.add_text_fields``),
    filled with ``Số: <result_number>`` (when the dossier has one) and the place and date line:
    they print as text, and the clerk may fill them again after the leader has signed. The
    layout gives the boxes of the leader's signature and the agency's seal.
    """
    procedure = dossier.procedure
    policy = numbering.get_policy()
    issued_on = issued_on or numbering.local_today()
    body = fill_template(procedure.result_template, result_fields(dossier, issued_on=issued_on))
    if not body.strip():
        body = f"Kết quả giải quyết thủ tục “{procedure.name}” của Ông/Bà {dossier.applicant_name}, mã hồ sơ {dossier.code or ''}."
    content = rendering.DraftContent(
        agency_lines=numbering.agency_name(policy).split("\n"),
        parent_line=policy.parent_agency_line,
        type_title=procedure.result_title or procedure.result_type or procedure.name,
        subject=str((dossier.result_data or {}).get("subject", "") or ""),
        body=body,
        signer_name=signer_name,
        authority_lines=list(signer_title_lines),
        recipients=[f"Ông/Bà {dossier.applicant_name};", f"Lưu: VT, {DESK} (hồ sơ {dossier.code or ''})."],
    )
    rendered = rendering.render_draft(content, title=f"{content.type_title} {dossier.code or ''}",
                                      first_page_footer=_rating_footer(dossier))
    pdf = signing.add_text_fields(rendered.pdf, rendered.layout)
    place = numbering.place_name(policy)
    date_line = numbering.date_line(place, issued_on) if place else numbering.date_line("", issued_on).lstrip(", ")
    values = {"date": date_line}
    if dossier.result_number:
        values["number"] = numbering.number_line(dossier.result_number)
    from signatures.pdf.errors import PdfRejected

    try:
        pdf = signing.fill_text_fields(pdf, number=values.get("number", ""), date=values["date"])
    except PdfRejected as exc:
        raise ValidationError(
            {"result_number": _("The result number has characters that cannot be printed.")}, code="glyphs",
        ) from exc
    return rendering.Rendered(pdf=pdf, layout=rendered.layout, pages=rendered.pages)
