"""The registers of Decree 30/2020/NĐ-CP (Appendix IV): outgoing (sổ đăng ký văn bản đi) and
incoming (sổ đăng ký văn bản đến), as rows, a landscape A4 PDF and an .xlsx workbook.

The column headings are the decree's words (a legal format, not interface text).
"""
from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from core import xlsx
from documents import numbering, rendering
from documents.models import CONFIDENTIALITY_MARKS, URGENCY_MARKS, IncomingDocument, OutgoingDocument
from communes.permissions import user_names

OUTGOING = "outgoing"
INCOMING = "incoming"
KINDS = (OUTGOING, INCOMING)

OUTGOING_COLUMNS = [
    "Số/ký hiệu", "Ngày tháng", "Tên loại và trích yếu", "Người ký", "Nơi nhận",
    "Đơn vị/người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận", "Ghi chú",
]
INCOMING_COLUMNS = [
    "Ngày đến", "Số đến", "Tác giả", "Số/ký hiệu", "Ngày tháng văn bản", "Tên loại và trích yếu",
    "Đơn vị/người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú",
]
TITLES = {OUTGOING: "SỔ ĐĂNG KÝ VĂN BẢN ĐI", INCOMING: "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"}
# Relative widths of the PDF columns.
OUTGOING_WIDTHS = [1.3, 1.1, 3.2, 1.5, 2.2, 1.5, 0.9, 1.1, 1.0, 1.4]
INCOMING_WIDTHS = [1.1, 0.8, 1.8, 1.3, 1.1, 3.2, 1.6, 1.1, 1.0, 1.3]
CANCELLED = "Đã thu hồi"


def _date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = numbering.local_date(value)
    return value.strftime("%d/%m/%Y")


def _type_and_subject(type_name: str, subject: str) -> str:
    return f"{type_name}: {subject}" if type_name else subject


@dataclass
class Register:
    kind: str
    columns: list[str]
    rows: list[list[str]]
    date_from: datetime.date | None
    date_to: datetime.date | None
    secret: bool = False

    @property
    def title(self) -> str:
        return TITLES[self.kind] + (" MẬT" if self.secret else "")

    @property
    def period(self) -> str:
        if self.date_from and self.date_to:
            return f"Từ ngày {_date(self.date_from)} đến ngày {_date(self.date_to)}"
        if self.date_from:
            return f"Từ ngày {_date(self.date_from)}"
        if self.date_to:
            return f"Đến ngày {_date(self.date_to)}"
        return ""


def _recipient(line: str) -> str:
    """A recipient as the register lists it: without the bullet and the ';' or '.' that end it
    on the document ('- Như trên;' → 'Như trên')."""
    return line.strip().lstrip("-–+•").strip().rstrip(";,.").strip()


def outgoing_row(doc: OutgoingDocument) -> list[str]:
    names = [_recipient(line) for line in doc.recipient_lines]
    names += [r.name for r in doc.electronic_recipients.all()]
    recipients = "; ".join(name for name in names if name)
    notes = [doc.note]
    if doc.state == OutgoingDocument.State.WITHDRAWN:
        notes.insert(0, f"{CANCELLED}: {doc.withdrawn_reason}")
    if doc.is_secret:
        notes.insert(0, CONFIDENTIALITY_MARKS.get(doc.confidentiality, ""))
    if doc.urgency in URGENCY_MARKS:
        notes.append(URGENCY_MARKS[doc.urgency])
    return [
        doc.number_symbol, _date(doc.issued_on), _type_and_subject(doc.doc_type.name, doc.subject), doc.signer_name,
        recipients, doc.archive_holder, str(doc.copies_count), _date(doc.dispatched_on), doc.receipt_note,
        ". ".join(n for n in notes if n),
    ]


def incoming_row(doc: IncomingDocument, names: dict[int, str]) -> list[str]:
    handlers = [names.get(doc.lead_handler_id, "")] + [names.get(pk, "") for pk in doc.co_handler_ids or []]
    receipt = _date(doc.started_at) if doc.started_at else ""
    notes = [doc.note]
    if doc.is_secret:
        notes.insert(0, CONFIDENTIALITY_MARKS.get(doc.confidentiality, ""))
    if doc.urgency in URGENCY_MARKS:
        notes.append(URGENCY_MARKS[doc.urgency])
    if doc.source == IncomingDocument.Source.ELECTRONIC:
        notes.append("Điện tử")
    return [
        _date(doc.arrived_at), f"{doc.incoming_number:02d}", doc.sender_org, doc.original_number_symbol,
        _date(doc.document_date), _type_and_subject(doc.display_type, doc.subject),
        ", ".join(h for h in handlers if h), _date(doc.assigned_at), receipt, ". ".join(n for n in notes if n),
    ]


def build(kind: str, queryset, *, date_from=None, date_to=None, secret: bool = False, limit: int | None = None) -> Register:
    docs = list(queryset[:limit] if limit else queryset)
    if kind == OUTGOING:
        rows = [outgoing_row(doc) for doc in docs]
        return Register(OUTGOING, OUTGOING_COLUMNS, rows, date_from, date_to, secret)
    ids = set()
    for doc in docs:
        ids.add(doc.lead_handler_id)
        ids.update(doc.co_handler_ids or [])
    names = user_names(ids)
    rows = [incoming_row(doc, names) for doc in docs]
    return Register(INCOMING, INCOMING_COLUMNS, rows, date_from, date_to, secret)


def to_pdf(register: Register, agency: str) -> bytes:
    """Landscape A4, Liberation Serif; the heading row repeats on every page."""
    rendering.register_fonts()
    buffer = io.BytesIO()
    page = landscape(A4)
    margin = 12 * mm
    document = SimpleDocTemplate(
        buffer, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=margin, bottomMargin=margin,
        title=register.title, author=agency, creator="Xã Số",
    )
    head = ParagraphStyle("head", fontName=rendering.FONT_BOLD, fontSize=9.5, leading=11.5, alignment=TA_CENTER)
    cell = ParagraphStyle("cell", fontName=rendering.FONT, fontSize=9.5, leading=11.5)
    title = ParagraphStyle("title", fontName=rendering.FONT_BOLD, fontSize=14, leading=18, alignment=TA_CENTER)
    sub = ParagraphStyle("sub", fontName=rendering.FONT_ITALIC, fontSize=11, leading=14, alignment=TA_CENTER)
    widths = OUTGOING_WIDTHS if register.kind == OUTGOING else INCOMING_WIDTHS
    usable = page[0] - 2 * margin
    col_widths = [usable * w / sum(widths) for w in widths]
    data = [[Paragraph(rendering.markup(c), head) for c in register.columns]]
    data += [[Paragraph(rendering.markup(value), cell) for value in row] for row in register.rows]
    table = LongTable(data, colWidths=col_widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, "#000000"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee"),
    ]))
    story = [
        Paragraph(rendering.markup(agency.replace("\n", " ")), sub),
        Paragraph(rendering.markup(register.title), title),
    ]
    if register.period:
        story.append(Paragraph(rendering.markup(register.period), sub))
    story += [Spacer(1, 6 * mm), table]
    document.build(story)
    return buffer.getvalue()


def to_xlsx(register: Register, agency: str) -> bytes:
    """The register as .xlsx; every value written as text (``core.xlsx``)."""
    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = "Sổ đi" if register.kind == OUTGOING else "Sổ đến"
    bold = Font(bold=True)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    xlsx.append(sheet, [agency.replace("\n", " ")])
    xlsx.append(sheet, [register.title])
    sheet["A2"].font = Font(bold=True, size=14)
    xlsx.append(sheet, [register.period])
    header_row = 4
    xlsx.append(sheet, register.columns)
    for index, _heading in enumerate(register.columns, start=1):
        c = sheet.cell(row=header_row, column=index)
        c.font, c.border, c.alignment = bold, border, Alignment(wrap_text=True, horizontal="center", vertical="center")
    for row_index, row in enumerate(register.rows, start=header_row + 1):
        for index, value in enumerate(row, start=1):
            c = xlsx.put(sheet, row_index, index, "" if value is None else str(value))
            c.border, c.alignment = border, wrap
    widths = OUTGOING_WIDTHS if register.kind == OUTGOING else INCOMING_WIDTHS
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, width * 11)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    sheet.print_options.gridLines = True
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    return xlsx.save(workbook)


XLSX_CONTENT_TYPE = xlsx.CONTENT_TYPE
