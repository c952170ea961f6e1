"""Opening PDFs: the header check, size limit, strict parsing and mapping every parser failure
to PdfRejected. Shared by the other modules (no Django here)."""
from __future__ import annotations

import io

from .errors import PdfRejected

HEADER_WINDOW = 1024


def check_header(pdf: bytes) -> None:
    if not isinstance(pdf, (bytes, bytearray, memoryview)):
        raise PdfRejected("not_pdf", f"expected bytes, got {type(pdf).__name__}")
    if b"%PDF-" not in bytes(pdf[:HEADER_WINDOW]):
        raise PdfRejected("not_pdf", "no %PDF- header in the first 1024 bytes")


def check_size(pdf: bytes, max_bytes: int | None) -> None:
    if max_bytes is not None and len(pdf) > max_bytes:
        raise PdfRejected("too_large", f"{len(pdf)} bytes, limit {max_bytes}")


def map_error(exc: BaseException) -> PdfRejected:
    """The PdfRejected for an exception raised while reading a PDF."""
    from pyhanko.pdf_utils.misc import PdfDecodeLimitError, PdfReadError

    if isinstance(exc, PdfRejected):
        return exc
    if isinstance(exc, MemoryError):
        return PdfRejected("memory", "out of memory while reading")
    if isinstance(exc, PdfDecodeLimitError):
        return PdfRejected("too_complex", str(exc)[:300])
    if isinstance(exc, RecursionError):
        return PdfRejected("malformed", "object nesting too deep or cyclic")
    if isinstance(exc, PdfReadError):
        return PdfRejected("malformed", str(exc)[:300])
    return PdfRejected("malformed", f"{type(exc).__name__}: {str(exc)[:300]}")


def open_reader(pdf: bytes, *, strict: bool = True, decode_limits=None):
    """A pyHanko PdfFileReader over the bytes, or PdfRejected (not_pdf, encrypted, malformed …).

    Strict mode is the default: the file is going to be signed by appending to it and validated by
    readers that must all see the same document; a structure that only a lenient, repairing reader
    can reconstruct is exactly where two readers disagree about what was signed."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    check_header(pdf)
    try:
        reader = PdfFileReader(io.BytesIO(bytes(pdf)), strict=strict, decode_limits=decode_limits)
        if reader.encrypted:
            raise PdfRejected("encrypted", "the file is encrypted")
        root = reader.root
        if "/Pages" not in root:
            raise PdfRejected("malformed", "no page tree")
    except PdfRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - every parser failure becomes a rejection
        raise map_error(exc) from None
    return reader
