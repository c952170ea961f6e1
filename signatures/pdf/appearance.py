"""Visible signature appearances per Decree 30/2020 (Appendix I):

- personal: the signer's handwritten signature image (blue, transparent PNG) between the title
  line(s) above and the full name below;
- agency: the red seal image at real size, no text, placed over the left third of the personal
  signature image (see :func:`agency_box_over`);
- attachment: text only, top right of page 1: the number/symbol of the main document and the
  signing time in ISO 8601 with +07:00 (see :func:`attachment_box`, :func:`attachment_lines`).

All text is Liberation Serif (embedded subset), so Vietnamese renders everywhere.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

KINDS = ("personal", "agency", "attachment")
VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")
SIGNING_TIME = "{signing_time}"   # placeholder in lines, replaced by the signature's own time
SEAL_SIZE_PT = (113.0, 113.0)     # about 40 mm, the usual commune seal


@dataclass
class Appearance:
    """What a visible signature shows. ``lines``: for "personal", the title line(s) then the full
    name last (an empty list draws the image alone); ignored for "agency"; for "attachment", the
    text lines, where "{signing_time}" (SIGNING_TIME) becomes the signature's own time."""

    kind: str
    lines: list[str] = field(default_factory=list)
    image_png: bytes | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"appearance kind must be one of {KINDS}, not {self.kind!r}")
        self.lines = [str(line) for line in (self.lines or [])]
        if self.kind == "agency" and not self.image_png:
            raise ValueError("an agency appearance needs the seal image")

    def resolved_lines(self, signing_time: dt.datetime) -> list[str]:
        stamp = iso_vn(signing_time)
        return [line.replace(SIGNING_TIME, stamp) for line in self.lines]


def iso_vn(moment: dt.datetime) -> str:
    """ISO 8601 in Vietnam time, to the second: 2026-04-03T09:15:00+07:00."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(VN_TZ).replace(microsecond=0).isoformat()


def agency_box_over(personal_box, seal_size_pt=SEAL_SIZE_PT, *, title_lines: int = 2) -> tuple[float, float, float, float]:
    """The seal's box: real size, its right edge a third of the way into the personal signature
    image (so it covers the image's left third), vertically centred on it. ``title_lines`` is the
    number of lines above the image in the personal appearance (e.g. "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH")."""
    x1, y1, x2, y2 = (float(v) for v in personal_box)
    seal_w, seal_h = (float(v) for v in seal_size_pt)
    image = _personal_image_area(x2 - x1, y2 - y1, title_lines)
    img_x1, img_y1, img_x2, img_y2 = image
    right = x1 + img_x1 + (img_x2 - img_x1) / 3
    centre_y = y1 + (img_y1 + img_y2) / 2
    return (round(right - seal_w, 2), round(centre_y - seal_h / 2, 2), round(right, 2), round(centre_y + seal_h / 2, 2))


def attachment_box(page_width, page_height, *, width=230.0, height=40.0, margin=12.0) -> tuple[float, float, float, float]:
    """Top-right corner of the page, in the top margin (Decree 30: 20–25 mm) above the text."""
    pw, ph = float(page_width), float(page_height)
    width = min(width, pw - 2 * margin)
    return (round(pw - margin - width, 2), round(ph - margin - height, 2), round(pw - margin, 2), round(ph - margin, 2))


def attachment_lines(number_symbol: str) -> list[str]:
    """Lines of an attachment's signature: the document's number/symbol, then the signing time."""
    return [number_symbol, SIGNING_TIME]


# --- layout ---------------------------------------------------------------------------------------
TEXT_SIZE = 12.0
MIN_TEXT_SIZE = 6.0
PAD = 2.0
LEADING = 1.2


def _personal_text_heights(height: float, n_title: int, has_name: bool) -> tuple[float, float, float]:
    """(font size, title block height, name block height) for a personal appearance."""
    n = n_title + (1 if has_name else 0)
    size = TEXT_SIZE
    # the text may take at most half of the height, the image keeps the rest
    while n and size > MIN_TEXT_SIZE and n * size * LEADING > height * 0.5:
        size -= 0.5
    return size, n_title * size * LEADING, (size * LEADING if has_name else 0.0)


def _personal_image_area(width: float, height: float, n_title: int = 2, has_name: bool = True):
    size, title_h, name_h = _personal_text_heights(height, n_title, has_name)
    return (PAD, name_h + PAD, width - PAD, height - title_h - PAD)


def _fit(box_w: float, box_h: float, img_w: float, img_h: float) -> tuple[float, float, float, float]:
    """(x, y, w, h) of an image scaled to fit a box, aspect kept, centred."""
    if box_w <= 0 or box_h <= 0:
        return 0.0, 0.0, 0.0, 0.0
    scale = min(box_w / img_w, box_h / img_h)
    w, h = img_w * scale, img_h * scale
    return (box_w - w) / 2, (box_h - h) / 2, w, h


def _fitted_size(font, text: str, max_width: float, size: float) -> float:
    line_w = font.width(text, size)
    if line_w > max_width > 0:
        size = max(MIN_TEXT_SIZE, size * max_width / line_w)
    return size


def render(appearance: Appearance, writer, width: float, height: float, signing_time: dt.datetime):
    """Content stream and resources (pyHanko PdfResources) of the appearance in a width x height box."""
    from pyhanko.pdf_utils.content import PdfResources, ResourceType
    from pyhanko.pdf_utils.generic import pdf_name

    from .fonts import SerifFont
    from .images import image_xobject

    resources = PdfResources()
    ops: list[bytes] = []
    lines = appearance.resolved_lines(signing_time)

    def draw_image(area):
        ax1, ay1, ax2, ay2 = area
        ref, img_w, img_h = image_xobject(writer, appearance.image_png)
        resources[ResourceType.XOBJECT][pdf_name("/Img0")] = ref
        x, y, w, h = _fit(ax2 - ax1, ay2 - ay1, img_w, img_h)
        if w and h:
            ops.append(b"q %g 0 0 %g %g %g cm /Img0 Do Q" % (round(w, 3), round(h, 3), round(ax1 + x, 3), round(ay1 + y, 3)))

    def draw_text(font, font_name: str, placed: list[tuple[str, float, float, float]]):
        """placed: (text, size, x_centre_or_left, baseline); returns nothing, collects glyphs."""
        glyphs: dict[int, str] = {}
        for text, size, x, y in placed:
            shaped = font.shape(text)
            glyphs.update(shaped.unicode_map)
            ops.append(b"BT /%s %g Tf 0 g %g %g Td %s ET" % (
                font_name.encode(), round(size, 2), round(x, 3), round(y, 3), shaped.show(size)))
        if glyphs:
            resources[ResourceType.FONT][pdf_name("/" + font_name)] = font.embed(writer, glyphs)

    if appearance.kind == "agency":
        draw_image((0.0, 0.0, width, height))
    elif appearance.kind == "personal":
        bold = SerifFont.get(bold=True)
        title, name = (lines[:-1], lines[-1]) if lines else ([], None)
        size, title_h, name_h = _personal_text_heights(height, len(title), name is not None)
        placed = []
        for i, text in enumerate(title):
            s = _fitted_size(bold, text, width - 2 * PAD, size)
            baseline = height - PAD - (i + 1) * size * LEADING + (LEADING - 1) * size
            placed.append((text, s, (width - bold.width(text, s)) / 2, baseline))
        if name is not None:
            s = _fitted_size(bold, name, width - 2 * PAD, size)
            placed.append((name, s, (width - bold.width(name, s)) / 2, PAD + (LEADING - 1) * size))
        if appearance.image_png:
            draw_image((PAD, name_h + PAD, width - PAD, height - title_h - PAD))
        draw_text(bold, "FB", placed)
    else:  # attachment: text only, left-aligned, top down
        regular = SerifFont.get(bold=False)
        n = max(len(lines), 1)
        size = min(TEXT_SIZE, (height - 2 * PAD) / (n * LEADING))
        placed = []
        for i, text in enumerate(lines):
            s = _fitted_size(regular, text, width - 2 * PAD, max(size, MIN_TEXT_SIZE))
            baseline = height - PAD - (i + 1) * size * LEADING + (LEADING - 1) * size
            placed.append((text, s, PAD, baseline))
        draw_text(regular, "FR", placed)
    return b"\n".join(ops), resources


def stamp_style(appearance: Appearance, signing_time: dt.datetime):
    """A pyHanko stamp style drawing ``appearance`` (used by pades.prepare)."""
    from dataclasses import dataclass as _dc

    from pyhanko.pdf_utils import layout
    from pyhanko.stamp import BaseStampStyle
    from pyhanko.stamp.base import BaseStamp

    class _Stamp(BaseStamp):
        def render(self):
            content, resources = render(appearance, self.writer, self.box.width, self.box.height, signing_time)
            self.import_resources(resources)
            return content

    @_dc(frozen=True)
    class _Style(BaseStampStyle):
        border_width: int = 0

        def create_stamp(self, writer, box: layout.BoxConstraints, text_params: dict):
            return _Stamp(writer, self, box=box)

    return _Style()
