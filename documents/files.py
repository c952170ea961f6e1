"""Files of documents: checking uploaded PDFs, writing files once, reading them back.

Every file is written with the storage's ``save_final`` (never replaced, never deleted); a new
version of a document is a new file. Uploaded PDFs are checked before anything is written:
the size limit (``settings.XASO_PDF_MAX_BYTES``), the ``%PDF-`` signature, and, in a separate
process with time and memory limits (``signatures.pdf.sandbox.inspect_limited``), that the file
parses and is not encrypted. Where the sandbox is not installed, a header and trailer check
stands in for it.
"""
from __future__ import annotations

import logging
import posixpath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.storage import exists, open_file, read, save_final  # noqa: F401  (this app's file helpers)

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
PDF_CONTENT_TYPE = "application/pdf"

REJECTION_MESSAGES = {
    "not_pdf": gettext_lazy("This file is not a PDF document."),
    "encrypted": gettext_lazy("This PDF is encrypted or password-protected: save it again without protection."),
    "too_large": gettext_lazy("This PDF is too large."),
    "malformed": gettext_lazy("This PDF is damaged and cannot be read: scan or export it again."),
    "too_complex": gettext_lazy("This PDF is too complex to be checked safely."),
    "timeout": gettext_lazy("Checking this PDF took too long: it may be damaged."),
    "memory": gettext_lazy("Checking this PDF needed too much memory: it may be damaged."),
    "bad_byte_range": gettext_lazy("This PDF carries a damaged signature."),
    "unsupported": gettext_lazy("This kind of PDF is not supported."),
}


def max_bytes() -> int:
    return int(settings.XASO_PDF_MAX_BYTES)


def _too_large() -> ValidationError:
    return ValidationError(
        _("The file is too large: at most %(max)s.") % {"max": filesizeformat(max_bytes())}, code="too_large",
    )


def inspect_pdf(data: bytes) -> dict:
    """Check that ``data`` is a readable, unencrypted PDF; returns what the check learnt.

    Raises ``ValidationError`` with a message for the person who uploaded the file.
    """
    if len(data) > max_bytes():
        raise _too_large()
    if not data.startswith(PDF_MAGIC):
        raise ValidationError(str(REJECTION_MESSAGES["not_pdf"]), code="not_pdf")
    from signatures.pdf.errors import PdfRejected
    from signatures.pdf.sandbox import inspect_limited

    try:
        info = inspect_limited(
            data, max_bytes=max_bytes(), seconds=float(settings.XASO_PDF_PARSE_SECONDS),
            memory_mb=int(settings.XASO_PDF_PARSE_MEMORY_MB),
        )
    except PdfRejected as exc:
        code = getattr(exc, "code", "malformed")
        message = REJECTION_MESSAGES.get(code, REJECTION_MESSAGES["malformed"])
        raise ValidationError(str(message), code=code) from exc
    return dict(info or {})


def read_upload(upload) -> tuple[bytes, dict]:
    """Read an uploaded PDF within the size limit and check it. Returns (bytes, inspection)."""
    if upload is None:
        raise ValidationError(_("Choose a PDF file."), code="required")
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes():
        raise _too_large()
    upload.seek(0)
    data = upload.read(max_bytes() + 1)
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    return data, inspect_pdf(data)


def clean_filename(name: str, default: str = "document.pdf") -> str:
    base = posixpath.basename(str(name or "").replace("\\", "/"))
    try:
        cleaned = get_valid_filename(base)[:80]
    except Exception:  # SuspiciousFileOperation for names like '..'
        cleaned = ""
    if not cleaned.lower().endswith(".pdf"):
        cleaned = (cleaned[:76] or default.rsplit(".", 1)[0]) + ".pdf"
    return cleaned


