"""Fillable text fields for the number and the date of an official document.

The drafter's file gets empty text fields (before anyone signs); after the leader has signed, the
clerk's number and date are filled in as an incremental update that only sets the fields' values
and appearances, which signature validators classify as form filling: the leader's signature stays
valid. Stamping the number into the page content instead would break it.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

from .errors import PdfRejected

NUMBER_FIELD = "xaso_number"
DATE_FIELD = "xaso_date"
DR_FONT = "XasoSerif"      # resource name of the form font in the AcroForm /DR
ALIGN = {"left": 0, "center": 1, "right": 2}
PAD = 2.0
_MAX_FIELD_DEPTH = 32
_READ_ONLY = 1


@dataclass
class TextFieldSpec:
    name: str
    page: int
    box: tuple
    font_size: float = 13.0
    align: str = "left"

    def __post_init__(self):
        if self.align not in ALIGN:
            raise ValueError(f"align must be one of {tuple(ALIGN)}")
        if not self.name or "." in self.name:
            raise ValueError("a field name must be non-empty and without dots")
        x1, y1, x2, y2 = (float(v) for v in self.box)
        if x2 <= x1 or y2 <= y1:
            raise ValueError("box must be (x1, y1, x2, y2) with x1 < x2 and y1 < y2")
        self.box = (x1, y1, x2, y2)


# --- reading ----------------------------------------------------------------------------------------

def _open_reader(pdf: bytes):
    from .reading import open_reader

    return open_reader(pdf)


def iter_fields(root):
    """(full name, field dictionary, reference) of every terminal field of the AcroForm."""
    from pyhanko.pdf_utils import generic

    try:
        form = root["/AcroForm"]
        top = form["/Fields"]
    except KeyError:
        return
    seen: set = set()

    def walk(refs, prefix, depth):
        if depth > _MAX_FIELD_DEPTH:
            raise PdfRejected("too_complex", "form field tree too deep")
        for ref in refs:
            if isinstance(ref, generic.IndirectObject):
                key = (ref.idnum, ref.generation)
                if key in seen:
                    raise PdfRejected("malformed", "cycle in the form field tree")
                seen.add(key)
            node = ref.get_object()
            if not isinstance(node, generic.DictionaryObject):
                continue
            partial = node.get("/T")
            name = prefix if partial is None else (f"{prefix}.{partial}" if prefix else str(partial))
            kids = node.get("/Kids")
            if kids is not None and any("/T" in k.get_object() for k in kids if k is not None):
                yield from walk(kids, name, depth + 1)
            else:
                yield name, node, ref

    yield from walk(top, "", 0)


def _field_type(node) -> str | None:
    current, depth = node, 0
    while current is not None and depth < _MAX_FIELD_DEPTH:
        if "/FT" in current:
            return str(current["/FT"])
        current = current.get("/Parent")
        current = current.get_object() if current is not None else None
        depth += 1
    return None


def text_field_values(pdf: bytes) -> dict[str, str]:
    """Every text field's value ("" when empty)."""
    return text_values_of(_open_reader(pdf))


def text_values_of(reader) -> dict[str, str]:
    values = {}
    for name, node, _ref in iter_fields(reader.root):
        if _field_type(node) == "/Tx":
            value = node.get("/V")
            values[name] = str(value) if value is not None else ""
    return values


# --- adding -----------------------------------------------------------------------------------------

def _has_signatures(root) -> bool:
    return any(_field_type(node) == "/Sig" and "/V" in node for _n, node, _r in iter_fields(root))


def _form_font(writer, form):
    """The Liberation Serif subset referenced from the AcroForm /DR, added when missing."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    from .fonts import SerifFont

    dr = form.get("/DR")
    if dr is None:
        dr = generic.DictionaryObject()
        form[pdf_name("/DR")] = dr
    else:
        dr = dr.get_object()
    fonts = dr.get("/Font")
    if fonts is None:
        fonts = generic.DictionaryObject()
        dr[pdf_name("/Font")] = fonts
    else:
        fonts = fonts.get_object()
    if "/" + DR_FONT not in fonts:
        font = SerifFont.get()
        fonts[pdf_name("/" + DR_FONT)] = font.embed(writer, font.repertoire_glyphs())
        writer.update_container(fonts)
        writer.update_container(dr)


def _empty_appearance(writer, width, height):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    stream = generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"),
        pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): generic.ArrayObject([generic.FloatObject(0), generic.FloatObject(0),
                                                generic.FloatObject(width), generic.FloatObject(height)]),
        pdf_name("/Resources"): generic.DictionaryObject(),
    }, stream_data=b"/Tx BMC EMC")
    return writer.add_object(stream)


def add_text_fields(pdf: bytes, specs) -> bytes:
    """Add empty, fillable text fields (widgets on their pages, /DA in Liberation Serif) to an
    unsigned PDF. Refuses (PdfRejected "unsupported") a file that already carries signatures."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from .reading import open_reader

    specs = list(specs)
    reader = open_reader(pdf)
    if _has_signatures(reader.root):
        raise PdfRejected("unsupported", "fields cannot be added to a signed file")
    existing = {name for name, _node, _ref in iter_fields(reader.root)}
    names = [spec.name for spec in specs]
    clash = (set(names) & existing) | {n for n in names if names.count(n) > 1}
    if clash:
        raise PdfRejected("unsupported", f"fields already exist: {sorted(clash)}")
    writer = IncrementalPdfFileWriter.from_reader(reader)
    root = writer.root
    form = root.get("/AcroForm")
    if form is None:
        form = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        root[pdf_name("/AcroForm")] = writer.add_object(form)
        writer.update_root()
    else:
        form = form.get_object()
        writer.update_container(form)
    fields = form.get("/Fields")
    if fields is None:
        fields = generic.ArrayObject()
        form[pdf_name("/Fields")] = fields
    else:
        fields = fields.get_object()
        writer.update_container(fields)
    _form_font(writer, form)
    if "/DA" not in form:
        form[pdf_name("/DA")] = generic.TextStringObject(f"/{DR_FONT} 0 Tf 0 g")
    for spec in specs:
        try:
            page_ref, _resources = writer.find_page_for_modification(spec.page)
        except Exception as exc:  # noqa: BLE001 - out of range or broken page tree
            raise PdfRejected("unsupported", f"page {spec.page}: {exc}") from None
        x1, y1, x2, y2 = spec.box
        field = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/FT"): pdf_name("/Tx"),
            pdf_name("/T"): generic.TextStringObject(spec.name),
            pdf_name("/Ff"): generic.NumberObject(0),
            pdf_name("/F"): generic.NumberObject(4),  # print
            pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in (x1, y1, x2, y2)),
            pdf_name("/P"): page_ref,
            pdf_name("/DA"): generic.TextStringObject(f"/{DR_FONT} {spec.font_size:g} Tf 0 g"),
            pdf_name("/Q"): generic.NumberObject(ALIGN[spec.align]),
            pdf_name("/MK"): generic.DictionaryObject(),
        })
        field[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): _empty_appearance(writer, x2 - x1, y2 - y1)})
        ref = writer.add_object(field)
        fields.append(ref)
        writer.register_annotation(page_ref, ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- filling ----------------------------------------------------------------------------------------

_DA_FONT = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+([0-9.]+)\s+Tf")


def _da_size(node, default=13.0) -> float:
    da = node.get("/DA")
    if da is None:
        return default
    match = _DA_FONT.search(str(da).encode("latin-1", "replace"))
    if match:
        size = float(match.group(2))
        if size > 0:
            return size
    return default


def _reusable_form_font(form, glyphs: set[int], font_id: str):
    """The /DR form font when it is ours (same font file) and holds all ``glyphs``."""
    try:
        font_ref = form["/DR"]["/Font"].raw_get("/" + DR_FONT)
        font = font_ref.get_object()
        if str(font.get("/XasoFontId", "")) != font_id:
            return None
        widths = font["/DescendantFonts"][0].get_object()["/W"]
    except (KeyError, IndexError, AttributeError, TypeError):
        return None
    present, i = set(), 0
    while i + 1 < len(widths):
        first, nxt = widths[i], widths[i + 1]
        if isinstance(nxt, list):
            present.update(range(int(first), int(first) + len(nxt)))
            i += 2
        else:
            present.update(range(int(first), int(nxt) + 1))
            i += 3
    return font_ref if glyphs <= present else None


def fill_text_fields(pdf: bytes, values: dict[str, str]) -> bytes:
    """Set the values of text fields in an incremental update: /V and a normal appearance drawn with
    embedded Liberation Serif. Earlier signatures stay valid (modification level: form filling)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from .fonts import SerifFont
    from .reading import open_reader

    reader = open_reader(pdf)
    wanted = {str(k): ("" if v is None else str(v)) for k, v in values.items()}
    found = {}
    for name, node, ref in iter_fields(reader.root):
        if name in wanted:
            found[name] = (node, ref)
    missing = set(wanted) - set(found)
    if missing:
        raise PdfRejected("unsupported", f"no such text fields: {sorted(missing)}")
    writer = IncrementalPdfFileWriter.from_reader(reader)
    font = SerifFont.get()
    form = writer.root["/AcroForm"]
    for name, value in wanted.items():
        node, ref = found[name]
        if _field_type(node) != "/Tx":
            raise PdfRejected("unsupported", f"{name} is not a text field")
        if int(node.get("/Ff", 0)) & _READ_ONLY:
            raise PdfRejected("unsupported", f"{name} is read-only")
        if "/Kids" in node:
            raise PdfRejected("unsupported", f"{name} has several widgets")
        if not isinstance(ref, generic.IndirectObject):
            raise PdfRejected("unsupported", f"{name} is not an indirect object")
        unknown = font.missing(value)
        if unknown:
            raise PdfRejected("unsupported", f"characters without glyphs: {''.join(sorted(unknown))}")
        rect = [float(v) for v in node["/Rect"]]
        width, height = abs(rect[2] - rect[0]), abs(rect[3] - rect[1])
        size = _da_size(node)
        shaped = font.shape(value)
        if shaped.width(size) > width - 2 * PAD and shaped.width_units:
            size = max(4.0, size * (width - 2 * PAD) / shaped.width(size))
        size = min(size, max(4.0, (height - 2 * PAD) / 1.15))
        align = int(node.get("/Q", 0))
        text_w = shaped.width(size)
        x = PAD if align == 0 else ((width - text_w) / 2 if align == 1 else width - PAD - text_w)
        # baseline so that the cap height sits in the middle of the box
        y = (height - size * font.cap_height / font.units_per_em) / 2
        font_ref = _reusable_form_font(form, set(shaped.unicode_map), font.font_id) if value else None
        if font_ref is None and value:
            font_ref = font.embed(writer, shaped.unicode_map)
        resources = generic.DictionaryObject()
        content = b"/Tx BMC EMC"
        if value:
            resources[pdf_name("/Font")] = generic.DictionaryObject({pdf_name("/" + DR_FONT): font_ref})
            content = b"/Tx BMC q BT /%s %g Tf 0 g %g %g Td %s ET Q EMC" % (
                DR_FONT.encode(), round(size, 2), round(x, 3), round(y, 3), shaped.show(size))
        appearance = generic.StreamObject({
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject([generic.FloatObject(0), generic.FloatObject(0),
                                                    generic.FloatObject(width), generic.FloatObject(height)]),
            pdf_name("/Resources"): resources,
        }, stream_data=content)
        node[pdf_name("/V")] = generic.TextStringObject(value)
        node[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): writer.add_object(appearance)})
        writer.mark_update(ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
