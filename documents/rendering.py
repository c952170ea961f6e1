"""A composed draft as a PDF in the layout of Decree 30/2020/NĐ-CP (Appendix I), with reportlab.

A4 portrait; margins top and bottom 20 mm, left 30 mm, right 15 mm. Liberation Serif (the
metrics of Times New Roman) in its four styles, from ``settings.XASO_FONT_DIR``.

* Left header: the governing agency (optional, regular), the agency (bold, upper case) with a
  short rule under it, then the number line and, for an official letter, ``V/v …``.
* Right header: the national motto, ``CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM`` (bold, 12.5 pt) and
  ``Độc lập - Tự do - Hạnh phúc`` (bold, 13.5 pt, underlined), then the place and date line.
* The number line and the date line are left EMPTY: they are form fields that the clerk's
  issuing fills in (``documents.signing.fill_text_fields``). Their boxes are returned.
* The type title (bold, 14 pt, upper case) and the subject under it (bold), then the body
  (14 pt, justified, first-line indent 1 cm), page numbers from page 2 at the top.
* The signer block on the right (authority lines bold, a blank for the signature image, the
  signer's name bold), and ``Nơi nhận:`` (bold italic 12 pt, lines 11 pt) on the left.

``render_draft`` returns the PDF bytes and the layout: the boxes of the number field, the date
field, the personal signature and the agency's seal, as ``{name: {"page", "box"}}`` with a
0-based page and (x1, y1, x2, y2) in PDF points from the bottom-left corner.
"""
from __future__ import annotations

import io
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm, mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Spacer
from reportlab.platypus.doctemplate import LayoutError

from documents.signing import Box

FONT = "XasoSerif"
FONT_BOLD = "XasoSerif-Bold"
FONT_ITALIC = "XasoSerif-Italic"
FONT_BOLD_ITALIC = "XasoSerif-BoldItalic"
_FONT_FILES = {
    FONT: "LiberationSerif-Regular.ttf",
    FONT_BOLD: "LiberationSerif-Bold.ttf",
    FONT_ITALIC: "LiberationSerif-Italic.ttf",
    FONT_BOLD_ITALIC: "LiberationSerif-BoldItalic.ttf",
}
_font_lock = threading.Lock()

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
MARGIN_LEFT = 30 * mm
MARGIN_RIGHT = 15 * mm
CONTENT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
LEFT_BLOCK = 0.40  # share of the width for the agency block
SIGNER_COLUMN = 0.55  # share of the width for the signer block
SIGNATURE_HEIGHT = 28 * mm
SEAL_SIZE = 113.0  # about 40 mm, the usual commune seal
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Debian's fonts-liberation (1.07) has no Vietnamese letters with horn and stacked marks
# (ư, ơ, ậ, Ủ …); fonts-liberation2 (2.x) has them. The configured directory comes first.
FALLBACK_FONT_DIRS = ["/usr/share/fonts/truetype/liberation2"]
VIETNAMESE_PROBE = "ĂÂĐÊÔƠƯăâđêôơưẠỦỘứậỹ"


def _covers_vietnamese(path: Path) -> bool:
    try:
        face = TTFont("probe", str(path)).face
    except Exception:
        return False
    return all(ord(char) in face.charToGlyph for char in VIETNAMESE_PROBE)


def font_dir() -> Path:
    """The first directory with the four Liberation Serif files that cover Vietnamese."""
    candidates = [Path(settings.XASO_FONT_DIR), *(Path(d) for d in FALLBACK_FONT_DIRS)]
    for directory in candidates:
        files = [directory / name for name in _FONT_FILES.values()]
        if all(f.exists() for f in files) and all(_covers_vietnamese(f) for f in files):
            return directory
    raise RuntimeError(
        f"No Liberation Serif with Vietnamese letters in {', '.join(map(str, candidates))}: "
        "install fonts-liberation2 or point XASO_FONT_DIR at Liberation Serif 2.x"
    )


def register_fonts() -> None:
    """Register Liberation Serif (four styles) with reportlab, once per process."""
    with _font_lock:
        # All four styles: another part of the process may have registered a face under the
        # regular style's name alone.
        if set(_FONT_FILES) <= set(pdfmetrics.getRegisteredFontNames()):
            return
        directory = font_dir()
        for name, filename in _FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(directory / filename)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD_ITALIC)


def clean(text) -> str:
    """NFC, no control characters (they have no glyph)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", str(text or "")).replace("\r\n", "\n").replace("\r", "\n"))


def markup(text) -> str:
    """Plain text made safe for reportlab's paragraph markup."""
    return escape(clean(text))


@dataclass
class DraftContent:
    """What a composed draft shows (built from a document by ``content_for``)."""

    agency_lines: list[str]
    subject: str
    body: str
    signer_name: str
    authority_lines: list[str]
    type_title: str = ""  # empty for an official letter
    parent_line: str = ""
    recipients: list[str] = field(default_factory=list)
    urgency_mark: str = ""
    is_letter: bool = False


@dataclass
class Rendered:
    pdf: bytes
    layout: dict  # {"number": {...}, "date": {...}, "signature": {...}, "seal": {...}}
    pages: int


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for part in clean(text).split("\n"):
        lines.extend(simpleSplit(part, font, size, width) or [""])
    return lines


def _centered(canv, lines, font, size, center_x, top_y, leading) -> float:
    """Draw centred lines from ``top_y`` (first baseline = top_y - size); return the last baseline."""
    y = top_y
    for line in lines:
        y -= leading
        canv.setFont(font, size)
        canv.drawCentredString(center_x, y, line)
    return y


class _Recorder:
    """Boxes found while drawing, in absolute page coordinates."""

    def __init__(self):
        self.boxes: dict[str, Box] = {}

    def record(self, flowable: Flowable, name: str, x1, y1, x2, y2) -> None:
        canv = flowable.canv
        ax1, ay1 = canv.absolutePosition(x1, y1)
        ax2, ay2 = canv.absolutePosition(x2, y2)
        self.boxes[name] = Box(canv.getPageNumber() - 1, (min(ax1, ax2), min(ay1, ay2), max(ax1, ax2), max(ay1, ay2)))


class HeaderBlock(Flowable):
    """The two header columns: agency, number (and V/v) on the left; motto and date on the right."""

    AGENCY_SIZE = 12.5
    MOTTO_SIZE = 12.5
    SLOGAN_SIZE = 13.5
    NUMBER_SIZE = 13
    FIELD_HEIGHT = 18

    def __init__(self, content: DraftContent, recorder: _Recorder):
        super().__init__()
        self.content, self.recorder = content, recorder
        self.left_w = CONTENT_WIDTH * LEFT_BLOCK
        self.right_w = CONTENT_WIDTH - self.left_w
        self.parent = _wrap(content.parent_line, FONT, self.AGENCY_SIZE, self.left_w) if content.parent_line else []
        self.agency = _wrap("\n".join(content.agency_lines).upper(), FONT_BOLD, self.AGENCY_SIZE, self.left_w)
        self.vv = _wrap(f"V/v {content.subject}", FONT, 12.5, self.left_w - 6) if content.is_letter else []
        self.mark = [content.urgency_mark] if content.urgency_mark else []

    def _heights(self):
        leading = self.AGENCY_SIZE * 1.2
        left_names = (len(self.parent) + len(self.agency)) * leading
        right_names = self.MOTTO_SIZE * 1.2 + self.SLOGAN_SIZE * 1.2
        names = max(left_names, right_names)
        below = 8 + self.FIELD_HEIGHT + len(self.vv) * 15 + (6 + len(self.mark) * 16 if self.mark else 0)
        return names, below

    def wrap(self, available_width, available_height):
        names, below = self._heights()
        self.height = names + below + 6
        self.width = available_width
        return self.width, self.height

    def draw(self):
        canv = self.canv
        names, _below = self._heights()
        top = self.height
        left_cx = self.left_w / 2
        right_x = self.left_w
        right_cx = right_x + self.right_w / 2
        leading = self.AGENCY_SIZE * 1.2

        # Left: governing agency (regular), agency (bold) and a rule under it.
        y = _centered(canv, self.parent, FONT, self.AGENCY_SIZE, left_cx, top, leading)
        y = _centered(canv, self.agency, FONT_BOLD, self.AGENCY_SIZE, left_cx, y if self.parent else top, leading)
        rule = max(pdfmetrics.stringWidth(line, FONT_BOLD, self.AGENCY_SIZE) for line in self.agency) / 3
        canv.setLineWidth(0.6)
        canv.line(left_cx - rule / 2, y - 5, left_cx + rule / 2, y - 5)

        # Right: the national motto, the slogan underlined.
        y_motto = top - self.MOTTO_SIZE * 1.2
        canv.setFont(FONT_BOLD, self.MOTTO_SIZE)
        canv.drawCentredString(right_cx, y_motto, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        y_slogan = y_motto - self.SLOGAN_SIZE * 1.2
        canv.setFont(FONT_BOLD, self.SLOGAN_SIZE)
        slogan = "Độc lập - Tự do - Hạnh phúc"
        canv.drawCentredString(right_cx, y_slogan, slogan)
        half = pdfmetrics.stringWidth(slogan, FONT_BOLD, self.SLOGAN_SIZE) / 2
        canv.line(right_cx - half, y_slogan - 3, right_cx + half, y_slogan - 3)

        # The number line (left) and the place and date line (right): empty field areas.
        field_top = top - names - 8
        field_bottom = field_top - self.FIELD_HEIGHT
        self.recorder.record(self, "number", 0, field_bottom, self.left_w, field_top)
        self.recorder.record(self, "date", right_x, field_bottom, right_x + self.right_w, field_top)

        y = field_bottom
        if self.vv:
            y = _centered(canv, self.vv, FONT, 12.5, left_cx, y, 15)
        if self.mark:
            canv.setFont(FONT_BOLD, 13)
            canv.drawCentredString(left_cx, y - 18, self.mark[0])


class SignerBlock(Flowable):
    """'Nơi nhận:' on the left, the signer on the right with a blank for the signature image."""

    LABEL_SIZE = 12
    LINE_SIZE = 11
    SIGNER_SIZE = 13.5

    def __init__(self, content: DraftContent, recorder: _Recorder):
        super().__init__()
        self.content, self.recorder = content, recorder
        self.right_w = CONTENT_WIDTH * SIGNER_COLUMN
        self.left_w = CONTENT_WIDTH - self.right_w - 6
        self.signer = []
        for line in content.authority_lines:
            self.signer.extend(_wrap(line.upper(), FONT_BOLD, self.SIGNER_SIZE, self.right_w))
        self.name = _wrap(content.signer_name, FONT_BOLD, self.SIGNER_SIZE, self.right_w)
        self.recipients = []
        for line in content.recipients:
            text = line if line.lstrip().startswith(("-", "–", "+")) else f"- {line}"
            self.recipients.extend(_wrap(text, FONT, self.LINE_SIZE, self.left_w))

    def wrap(self, available_width, available_height):
        signer_h = len(self.signer) * self.SIGNER_SIZE * 1.25 + SIGNATURE_HEIGHT + len(self.name) * self.SIGNER_SIZE * 1.25
        recipients_h = self.LABEL_SIZE * 1.3 + len(self.recipients) * self.LINE_SIZE * 1.25
        self.width = available_width
        self.height = max(signer_h, recipients_h) + 14
        return self.width, self.height

    def draw(self):
        canv = self.canv
        top = self.height - 10
        # Left: recipients.
        canv.setFont(FONT_BOLD_ITALIC, self.LABEL_SIZE)
        y = top - self.LABEL_SIZE
        canv.drawString(0, y, "Nơi nhận:")
        canv.setFont(FONT, self.LINE_SIZE)
        for line in self.recipients:
            y -= self.LINE_SIZE * 1.25
            canv.drawString(0, y, line)
        # Right: authority lines, the blank, the name.
        x0 = CONTENT_WIDTH - self.right_w
        cx = x0 + self.right_w / 2
        y = _centered(canv, self.signer, FONT_BOLD, self.SIGNER_SIZE, cx, top, self.SIGNER_SIZE * 1.25)
        blank_top = y - 4
        blank_bottom = blank_top - SIGNATURE_HEIGHT + 4
        half = min(self.right_w / 2 - 4, 85)
        self.recorder.record(self, "signature", cx - half, blank_bottom, cx + half, blank_top)
        # The seal covers the left third of the signature image (Decree 30, Appendix I).
        self.recorder.record(self, "seal", *seal_box((cx - half, blank_bottom, cx + half, blank_top)))
        _centered(canv, self.name, FONT_BOLD, self.SIGNER_SIZE, cx, blank_bottom - 2, self.SIGNER_SIZE * 1.25)


class _TitleRule(Flowable):
    def __init__(self, width):
        super().__init__()
        self.rule = width

    def wrap(self, available_width, available_height):
        self.width = available_width
        return available_width, 10

    def draw(self):
        self.canv.setLineWidth(0.6)
        cx = self.width / 2
        self.canv.line(cx - self.rule / 2, 6, cx + self.rule / 2, 6)


def _page_number(canv, doc):
    canv.saveState()
    canv.setFont(FONT, 13)
    canv.drawCentredString(MARGIN_LEFT + CONTENT_WIDTH / 2, PAGE_HEIGHT - MARGIN_TOP / 2 - 4, str(canv.getPageNumber()))
    canv.restoreState()


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    return {
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=14, leading=17, alignment=TA_CENTER, spaceBefore=12),
        "subject": ParagraphStyle("subject", fontName=FONT_BOLD, fontSize=14, leading=17, alignment=TA_CENTER),
        "body": ParagraphStyle(
            "body", fontName=FONT, fontSize=14, leading=18, alignment=TA_JUSTIFY, firstLineIndent=1 * cm,
            spaceAfter=6,
        ),
    }


def render_draft(content: DraftContent, *, title: str = "", first_page_footer=None) -> Rendered:
    """The PDF of a composed draft and the boxes of its fields.

    ``first_page_footer(canvas)``, when given, draws in the bottom margin of page 1 (below
    ``MARGIN_BOTTOM``), e.g. a QR code to a page of the portal."""
    register_fonts()
    style = styles()
    recorder = _Recorder()
    story: list[Flowable] = [HeaderBlock(content, recorder)]
    if content.type_title:
        story.append(Paragraph(markup(content.type_title.upper()), style["title"]))
        story.append(Paragraph(markup(content.subject), style["subject"]))
        story.append(_TitleRule(CONTENT_WIDTH / 4))
    story.append(Spacer(1, 10))
    for paragraph in clean(content.body).split("\n"):
        if paragraph.strip():
            story.append(Paragraph(markup(paragraph.strip()), style["body"]))
    story.append(Spacer(1, 8))
    story.append(SignerBlock(content, recorder))

    buffer = io.BytesIO()
    frame = Frame(MARGIN_LEFT, MARGIN_BOTTOM, CONTENT_WIDTH, PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="content")
    document = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN_LEFT, rightMargin=MARGIN_RIGHT, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=clean(title or content.subject)[:200], author=" ".join(content.agency_lines),
        creator="Xã Số", pageCompression=1,
    )
    document.addPageTemplates([
        PageTemplate(id="first", frames=[frame], autoNextPageTemplate="later",
                     **({"onPage": lambda canv, doc: first_page_footer(canv)} if first_page_footer else {})),
        PageTemplate(id="later", frames=[frame], onPage=_page_number),
    ])
    try:
        document.build(story)
    except LayoutError as exc:
        raise ValidationError(
            _("The signer block or the list of recipients is too long to fit on a page."), code="layout",
        ) from exc
    layout = {name: box.to_json() for name, box in recorder.boxes.items()}
    return Rendered(pdf=buffer.getvalue(), layout=layout, pages=document.page)


def default_upload_layout(pages: int | None = None, page_sizes: list | None = None) -> dict:
    """Boxes for a draft uploaded as a PDF, when the clerk chose none: the number under the
    agency's name and the date under the motto (top of page 1), the signature at the bottom
    right of the last page, the seal over its left third."""
    first_w, first_h = _size(page_sizes, 0)
    last = max((pages or 1) - 1, 0)
    last_w, _last_h = _size(page_sizes, last)
    top = first_h - MARGIN_TOP
    left_w = (first_w - MARGIN_LEFT - MARGIN_RIGHT) * LEFT_BLOCK
    sig_x2 = last_w - MARGIN_RIGHT - 20
    sig = (sig_x2 - 170, MARGIN_BOTTOM + 50, sig_x2, MARGIN_BOTTOM + 50 + SIGNATURE_HEIGHT)
    return {
        "number": Box(0, (MARGIN_LEFT, top - 80, MARGIN_LEFT + left_w, top - 62)).to_json(),
        "date": Box(0, (MARGIN_LEFT + left_w, top - 80, first_w - MARGIN_RIGHT, top - 62)).to_json(),
        "signature": Box(last, sig).to_json(),
        "seal": Box(last, seal_box(sig)).to_json(),
    }


def seal_box(signature: tuple) -> tuple:
    """The seal at real size, its right edge a third into the signature image, centred on it."""
    x1, y1, x2, y2 = signature
    right = x1 + (x2 - x1) / 3
    middle = (y1 + y2) / 2
    return (right - SEAL_SIZE, middle - SEAL_SIZE / 2, right, middle + SEAL_SIZE / 2)


def _size(page_sizes, index) -> tuple[float, float]:
    try:
        width, height = (float(v) for v in page_sizes[index][:2])
    except (TypeError, ValueError, IndexError):
        return PAGE_WIDTH, PAGE_HEIGHT
    return (width, height) if width > 100 and height > 100 else (PAGE_WIDTH, PAGE_HEIGHT)
