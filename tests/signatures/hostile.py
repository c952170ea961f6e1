"""Makers of hostile and broken PDFs for the engine's tests: each one is cheap to build and
exercises one way a file can try to hang, exhaust or fool the server."""
from __future__ import annotations

import io
import re
import zlib

MIB = 1024 * 1024
A4 = b"[0 0 595 842]"


# --- building blocks --------------------------------------------------------------------------------

def raw_pdf(objects: dict[int, bytes], *, root: int = 1, version: bytes = b"1.7") -> bytes:
    """A classic-xref PDF from object bodies (``{1: b"<< /Type /Catalog ... >>", ...}``)."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += (b"%010d 00000 n \n" % offsets[number]) if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref_at)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def simple_pdf(content: bytes = b"BT /F1 24 Tf 72 720 Td (Hello) Tj ET") -> bytes:
    return raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox " + A4 + b" /Contents 4 0 R"
           b" /Resources << /Font << /F1 5 0 R >> >> >>",
        4: _stream(content),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    })


# --- files that are not what they claim -------------------------------------------------------------

def not_a_pdf() -> bytes:
    return b"<!doctype html><html><body>%PDF-1.7 appears only after the first kilobyte</body></html>" \
        .replace(b"%PDF", b" " * 1100 + b"%PDF")


def oversized(limit: int) -> bytes:
    """A header followed by padding: one byte over ``limit`` (rejected before parsing)."""
    head = b"%PDF-1.7\n"
    return head + b"%" + b"x" * (limit - len(head))


def encrypted(pdf: bytes, user_password: str = "secret") -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    writer.encrypt("owner-" + user_password, user_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def broken_xref(pdf: bytes) -> bytes:
    """Every offset in the cross-reference table is wrong and startxref points a few bytes off."""
    data = bytearray(pdf)
    at = data.rfind(b"\nxref\n")
    assert at > 0, "needs a classic cross-reference table"
    table_end = data.find(b"trailer", at)
    table = bytes(data[at:table_end])
    table = re.sub(rb"(\d{10}) (\d{5}) n", lambda m: b"%010d %s n" % (int(m.group(1)) + 7, m.group(2)), table)
    data[at:table_end] = table
    m = re.search(rb"startxref\s+(\d+)", bytes(data[-64:]))
    start = len(data) - 64 + m.start(1)
    new = str(int(m.group(1)) + 3).encode().rjust(len(m.group(1)))
    data[start:start + len(m.group(1))] = new
    return bytes(data)


def decompression_bomb(gib: float = 4.0) -> bytes:
    """A page whose content stream inflates to ``gib`` GiB of zeros (a few MB on disk).

    Zeros compress to an identical block once the window is full of zeros, so the stream is one
    compressed 16 MiB chunk, then the same flushed block repeated, closed by an empty final block
    and the right Adler-32 (1 + (n mod 65521) << 16 for n zeros): cheap to make, valid to inflate."""
    chunk = bytes(16 * MIB)
    c = zlib.compressobj(6)
    first = c.compress(chunk) + c.flush(zlib.Z_SYNC_FLUSH)
    repeated = c.compress(chunk) + c.flush(zlib.Z_SYNC_FLUSH)
    count = max(2, int(gib * 1024 / 16))
    total = count * len(chunk)
    adler = ((total % 65521) << 16) | 1
    body = first + repeated * (count - 1) + b"\x03\x00" + adler.to_bytes(4, "big")
    return raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox " + A4 + b" /Contents 4 0 R /Resources << >> >>",
        4: _stream(body, b"/Filter /FlateDecode"),
    })


def page_tree_cycle() -> bytes:
    """The page tree's only child points back to the root: /Kids loops forever."""
    return raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
    })


def self_referencing_length() -> bytes:
    """A content stream whose /Length is an indirect reference to the stream object itself."""
    return raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox " + A4 + b" /Contents 4 0 R /Resources << >> >>",
        4: b"<< /Length 4 0 R >>\nstream\nBT ET\nendstream",
    })


# --- attacks on signed files ------------------------------------------------------------------------

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\] *")


def _last_byte_range(data: bytes):
    matches = list(_BYTE_RANGE.finditer(data))
    assert matches, "no /ByteRange"
    return matches[-1]


def _replace_byte_range(data: bytearray, match, values) -> None:
    old = match.group(0)
    new = b"/ByteRange [" + b" ".join(b"%d" % v for v in values) + b"]"
    assert len(new) <= len(old), "new /ByteRange does not fit"
    data[match.start():match.end()] = new + b" " * (len(old) - len(new))


def wrong_byte_range(signed: bytes, kind: str) -> bytes:
    """The last signature's /ByteRange rewritten in place (so its digest breaks too):
    ``short`` (stops before the end of the file), ``overlap`` (second range starts inside the first),
    ``skip`` (the gap swallows bytes before the signature container), ``beyond`` (past the end)."""
    data = bytearray(signed)
    match = _last_byte_range(signed)
    start1, len1, start2, len2 = (int(g) for g in match.groups())
    values = {
        "short": [start1, len1, start2, len2 - 40],
        "overlap": [start1, len1, len1 - 100, len2 + 100],
        "skip": [start1, len1 - 20, start2, len2],
        "beyond": [start1, len1, start2, len2 + 5000],
    }[kind]
    _replace_byte_range(data, match, values)
    return bytes(data)


def valid_signature_over_bad_range(pdf: bytes, key, kind: str = "skip") -> bytes:
    """A cryptographically valid signature whose /ByteRange is unsound: ``skip`` leaves 24 bytes
    before the container unsigned, ``short`` leaves the end of the file unsigned. The signer really
    signed those ranges, so only the range check can tell."""
    import hashlib

    from asn1crypto import cms
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    from signatures.pdf import pades

    prepared = pades.prepare(pdf, field=pades.SignatureFieldSpec("crafted"), appearance=None,
                             signing_cert_der=key.cert_der, chain_der=key.chain_der)
    data = bytearray(prepared.pdf)
    match = _last_byte_range(bytes(data))
    start1, len1, start2, len2 = (int(g) for g in match.groups())
    values = [start1, len1 - 24, start2, len2] if kind == "skip" else [start1, len1, start2, len2 - 30]
    _replace_byte_range(data, match, values)
    digest = hashlib.sha256(bytes(data[values[0]:values[0] + values[1]]) +
                            bytes(data[values[2]:values[2] + values[3]])).digest()
    cert = pades._asn1_cert(key.cert_der)
    chain = [pades._asn1_cert(c) for c in key.chain_der]
    probe = pades._external_signer(cert, chain, b"")
    signed_attrs = pades._run(probe.signed_attrs(digest, "sha256", attr_settings=PdfCMSSignedAttributes(),
                                                 use_pades=True))
    value = key.sign_digest(hashlib.sha256(signed_attrs.dump()).digest(), "sha256")
    signer = pades._external_signer(cert, chain, value)
    container = pades._run(signer.async_sign_prescribed_attributes(
        "sha256", cms.CMSAttributes.load(signed_attrs.dump())))
    hex_value = container.dump().hex().upper().encode()
    data[prepared.reserved_start + 1:prepared.reserved_start + 1 + len(hex_value)] = hex_value
    return bytes(data)


def tampered(signed: bytes) -> bytes:
    """One byte inside the first signed range flipped (in the header comment when there is one)."""
    data = bytearray(signed)
    at = data.find(b"ReportLab Generated")
    if at < 0:
        match = _last_byte_range(signed)
        at = int(match.group(2)) // 2
    data[at] ^= 0x20
    return bytes(data)


def _writer(signed: bytes):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    return IncrementalPdfFileWriter(io.BytesIO(signed))


def _written(writer) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def shadow_replace_contents(signed: bytes, page: int = 0, text: bytes = b"(NOI DUNG DA BI THAY) Tj") -> bytes:
    """Shadow attack: an incremental update that replaces the page's content stream."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    writer = _writer(signed)
    page_ref, _resources = writer.find_page_for_modification(page)
    stream = generic.StreamObject(stream_data=b"BT /Helv 20 Tf 72 700 Td " + text + b" ET")
    page_obj = page_ref.get_object()
    page_obj[pdf_name("/Contents")] = writer.add_object(stream)
    writer.mark_update(page_ref)
    return _written(writer)


def shadow_overlay_xobject(signed: bytes, page: int = 0) -> bytes:
    """Shadow attack: an incremental update drawing a form XObject over the page (a white box
    with other text on top)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    writer = _writer(signed)
    form = generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"),
        pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
        pdf_name("/Resources"): generic.DictionaryObject(),
    }, stream_data=b"1 g 60 600 480 160 re f 0 g BT /Helv 18 Tf 72 700 Td (Overlay) Tj ET")
    resources = generic.DictionaryObject({
        pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Ov"): writer.add_object(form)})})
    writer.add_stream_to_page(page, writer.add_object(generic.StreamObject(stream_data=b"q /Ov Do Q")),
                              resources=resources)
    return _written(writer)


def stamped_number(signed: bytes, text: str = "Số: 05/QĐ-UBND", page: int = 0, at=(100, 716)) -> bytes:
    """The number stamped into the page content (pyHanko text stamp) after the leader's signature,
    instead of filling the number field."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStamp, TextStampStyle

    from signatures.pdf.fonts import serif_path

    writer = _writer(signed)
    style = TextStampStyle(stamp_text=text, border_width=0,
                           text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(serif_path()), font_size=13))
    TextStamp(writer, style).apply(page, at[0], at[1])
    return _written(writer)


# --- jobs that misbehave inside the sandbox (run_limited("tests.signatures.hostile.spin", ...)) ----

def spin(_pdf: bytes):
    """Burns CPU forever (stopped by RLIMIT_CPU)."""
    x = 0
    while True:
        x += 1


def sleep_forever(_pdf: bytes):
    """Blocks without using CPU (stopped by the wall-clock deadline)."""
    import time

    while True:
        time.sleep(60)


def hog_memory(_pdf: bytes):
    """Allocates far beyond any sensible limit (stopped by RLIMIT_AS)."""
    blocks = []
    while True:
        blocks.append(bytearray(256 * MIB))


def crash(_pdf: bytes):
    """Dies from a signal, as a crashing C library would."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)


def exit_silently(_pdf: bytes):
    import os

    os._exit(3)


def child_facts(_pdf: bytes) -> dict:
    """The sandbox child's pid and limits, and whether it imported Django or the test runner."""
    import os
    import resource
    import sys

    return {
        "pid": os.getpid(),
        "as": resource.getrlimit(resource.RLIMIT_AS),
        "cpu": resource.getrlimit(resource.RLIMIT_CPU),
        "django": "django" in sys.modules,
        "pytest": "pytest" in sys.modules,
        "pyhanko_preloaded": "pyhanko.sign.validation" in sys.modules,
    }
