"""The declaration (tờ khai) a procedure asks for "theo mẫu", printed by the portal as a blank
form to fill in by hand.

The catalogue describes each procedure's declaration by the questions of its online form
(``Procedure.form_fields``): the online application collects exactly that content, and
``services.filled_online`` spares the online applicant the paper. Someone who applies at the
desk needs the paper itself: this module prints it from the same questions, so that every paper
asked for "theo mẫu" can be downloaded from the procedure's page even where the commune has not
uploaded a template file of its own (an uploaded file always comes first, see
``public_views.requirement_template``).

The layout is that of the civil-status declarations (Thông tư 04/2020/TT-BTP): the national
motto, the title in capitals, "Kính gửi" the commune's People's Committee, the applicant, the
questions with dotted lines to write on, the pledge, the place and date, and the signature.
The fixed wording is Vietnamese: it is a legal paper, printed as such.
"""
from __future__ import annotations

import io
import re

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    BaseDocTemplate, Flowable, Frame, KeepTogether, PageTemplate, Paragraph, Spacer, Table, TableStyle,
)

from core.text import fold
from documents import rendering
from documents.rendering import FONT, FONT_BOLD, FONT_ITALIC
from onestop.models import CopyKind, Handler

APPLICANT_LINES = (
    "Họ, chữ đệm, tên người yêu cầu",
    "Số định danh cá nhân (số thẻ căn cước)",
    "Nơi cư trú",
    "Số điện thoại",
    "Quan hệ với người được cấp giấy tờ (nếu khai thay)",
)
PLEDGE = ("Tôi cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước pháp luật "
          "về cam đoan của mình.")
NOTE = ("Tờ khai do Cổng dịch vụ công của xã in theo các nội dung mà thủ tục yêu cầu. Khi nộp hồ sơ "
        "trực tuyến, các nội dung này được khai ngay trên mẫu điện tử, không cần nộp tờ khai giấy.")
WRITE_LINE = 10  # room above each dotted line to write on (points)
DOTS = (0.6, 2.2)  # a dotted line: 0.6 pt dash, 2.2 pt gap
SIGNATURE_SPACE = 20 * mm
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
SLOGAN = "Độc lập - Tự do - Hạnh phúc"


def _m(value) -> str:
    """Plain text made safe for reportlab's paragraph markup."""
    return rendering.markup(rendering.clean(value).strip())


class _Rule(Flowable):
    """A short centred line (under the motto)."""

    def __init__(self, length: float):
        super().__init__()
        self.length, self.height = length, 6

    def wrap(self, available_width, available_height):
        self.width = available_width
        return available_width, self.height

    def draw(self):
        self.canv.setLineWidth(0.6)
        middle = self.width / 2
        self.canv.line(middle - self.length / 2, 3, middle + self.length / 2, 3)


def can_render(requirement, procedure=None) -> bool:
    """A declaration of a procedure of the commune whose online form lists its questions."""
    procedure = procedure or requirement.procedure
    return (requirement.copy_kind == CopyKind.FORM and procedure.handler == Handler.COMMUNE
            and bool(procedure.form_fields))


def title_of(requirement) -> str:
    """'Tờ khai đăng ký khai sinh (theo mẫu), có cam đoan …' → 'TỜ KHAI ĐĂNG KÝ KHAI SINH'."""
    name = re.split(r"[(;]", requirement.name, maxsplit=1)[0].strip().rstrip(",")
    return (name or "Tờ khai").upper()


def file_name(requirement, procedure=None) -> str:
    procedure = procedure or requirement.procedure
    slug = re.sub(r"[^a-z0-9]+", "-", fold(title_of(requirement))).strip("-")[:60] or "to-khai"
    return f"{slug}-{procedure.code.lower()}.pdf"


def _styles() -> dict:
    rendering.register_fonts()
    size = 12.5
    return {
        "motto": ParagraphStyle("motto", fontName=FONT_BOLD, fontSize=12.5, leading=15, alignment=TA_CENTER),
        "slogan": ParagraphStyle("slogan", fontName=FONT_BOLD, fontSize=13.5, leading=16, alignment=TA_CENTER),
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=14, leading=17.5, alignment=TA_CENTER,
                                spaceBefore=10, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", fontName=FONT_ITALIC, fontSize=12.5, leading=15, alignment=TA_CENTER),
        "date": ParagraphStyle("date", fontName=FONT_ITALIC, fontSize=13, leading=15.5, alignment=TA_CENTER),
        "sign_title": ParagraphStyle("sign_title", fontName=FONT_BOLD, fontSize=13, leading=16, alignment=TA_CENTER),
        "sign_hint": ParagraphStyle("sign_hint", fontName=FONT_ITALIC, fontSize=12, leading=14.5, alignment=TA_CENTER),
        "label": ParagraphStyle("label", fontName=FONT, fontSize=size, leading=size * 1.25, alignment=TA_LEFT),
        "section": ParagraphStyle("section", fontName=FONT_BOLD, fontSize=size, leading=size * 1.3, spaceBefore=6,
                                  spaceAfter=2),
        "choice": ParagraphStyle("choice", fontName=FONT, fontSize=size, leading=size * 1.35, leftIndent=12),
        "pledge": ParagraphStyle("pledge", fontName=FONT, fontSize=size, leading=size * 1.3, spaceBefore=8,
                                 alignment=TA_JUSTIFY),
        "note": ParagraphStyle("note", fontName=FONT_ITALIC, fontSize=10, leading=12, spaceBefore=10),
        "to": ParagraphStyle("to", fontName=FONT, fontSize=size, leading=size * 1.3, alignment=TA_CENTER, spaceAfter=6),
    }


def _write_lines(label: str, style, width: float, *, lines: int = 1) -> Table:
    """The label, then dotted lines to write on (the first one beside the label)."""
    rows = [[Paragraph(_m(label) + ":", style), ""]] + [["", ""] for _ in range(lines - 1)]
    label_width = min(width * 0.6, max(width * 0.25, style.fontSize * 0.48 * (len(label) + 2)))
    table = Table(rows, colWidths=[label_width, width - label_width], rowHeights=None)
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), WRITE_LINE / 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ("LINEBELOW", (1, 0), (1, 0), 0.6, "#000000", None, DOTS),
    ]
    for row in range(1, lines):
        commands += [("SPAN", (0, row), (1, row)), ("LINEBELOW", (0, row), (1, row), 0.6, "#000000", None, DOTS)]
    table.setStyle(TableStyle(commands))
    return table


def _choices(spec) -> list[str]:
    labels = []
    for choice in spec.get("choices") or []:
        labels.append(str(choice[1] if isinstance(choice, (list, tuple)) and len(choice) > 1 else
                          (choice[0] if isinstance(choice, (list, tuple)) else choice)))
    return labels


def _agency() -> str:
    """'Ủy ban nhân dân xã Tú Lệ' for the commune of the current schema."""
    from communes.permissions import current_commune

    commune = current_commune()
    kind = (getattr(commune, "kind", "") or "xã").strip()
    name = (getattr(commune, "name", "") or "").strip()
    return f"Ủy ban nhân dân {kind} {name}".strip()


def render(requirement, procedure=None) -> bytes:
    """The blank declaration as an A4 PDF (one page for the catalogue's declarations)."""
    procedure = procedure or requirement.procedure
    s = _styles()
    top, right, bottom, left = rendering.MARGIN_TOP, rendering.MARGIN_RIGHT, rendering.MARGIN_BOTTOM, rendering.MARGIN_LEFT
    width = A4[0] - left - right
    agency = _agency()
    story: list = [
        Paragraph(MOTTO, s["motto"]), Paragraph(SLOGAN, s["slogan"]),
        _Rule(pdfmetrics.stringWidth(SLOGAN, FONT_BOLD, 13.5)), Spacer(1, 6),
        Paragraph(_m(title_of(requirement)), s["title"]),
        Paragraph(_m(f"Thủ tục: {procedure.name}"), s["subtitle"]), Spacer(1, 8),
        Paragraph(_m(f"Kính gửi: {agency}"), s["to"]),
    ]

    story.append(Paragraph("I. NGƯỜI YÊU CẦU", s["section"]))
    for label in APPLICANT_LINES:
        story.append(_write_lines(label, s["label"], width))

    story.append(Paragraph("II. NỘI DUNG ĐỀ NGHỊ", s["section"]))
    for spec in procedure.form_fields:
        label = str(spec.get("label") or spec.get("name") or "")
        kind = spec.get("type", "text")
        if kind == "select" and _choices(spec):
            boxes = "&nbsp;&nbsp;&nbsp; ".join("□&nbsp;" + _m(choice) for choice in _choices(spec))
            story.append(KeepTogether([Paragraph(_m(label) + " <i>(đánh dấu X vào một ô)</i>:", s["label"]),
                                       Paragraph(boxes, s["choice"])]))
        elif kind == "date":
            story.append(_write_lines(f"{label} (ngày/tháng/năm)", s["label"], width))
        else:
            story.append(_write_lines(label, s["label"], width, lines=2 if kind == "textarea" else 1))

    story.append(Paragraph(_m(PLEDGE), s["pledge"]))
    place = ParagraphStyle("place", parent=s["date"])
    sign = [
        Paragraph("......................, ngày ...... tháng ...... năm ..........", place),
        Paragraph("NGƯỜI YÊU CẦU", s["sign_title"]),
        Paragraph("(Ký, ghi rõ họ, chữ đệm, tên)", s["sign_hint"]),
        Spacer(1, SIGNATURE_SPACE),
    ]
    table = Table([["", sign]], colWidths=[width * 0.4, width * 0.6])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story.append(Spacer(1, 8))
    story.append(KeepTogether([table]))
    story.append(Paragraph(_m(NOTE), s["note"]))

    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=left, rightMargin=right, topMargin=top, bottomMargin=bottom,
        title=rendering.clean(f"{title_of(requirement)} – {procedure.code}")[:200], author=rendering.clean(agency)[:200],
        creator="Xã Số", pageCompression=1,
    )
    frame = Frame(left, bottom, width, A4[1] - top - bottom, leftPadding=0, rightPadding=0, topPadding=0,
                  bottomPadding=0, id="content")
    document.addPageTemplates([PageTemplate(id="page", frames=[frame], pagesize=A4)])
    document.build(story)
    return buffer.getvalue()
