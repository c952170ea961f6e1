"""Files of dossiers: checking uploads by their content, writing files once, reading them back.

An uploaded paper of a dossier is accepted when its size is within
``settings.XASO_DOSSIER_FILE_MAX_BYTES`` and its content (not its name, not the type the
browser claims) is one of ``settings.XASO_DOSSIER_FILE_TYPES``: a PDF (``%PDF-``), a JPEG
(``FF D8 FF``) or a PNG (the 8-byte PNG signature). Every file is written with the storage's
``save_final`` (never replaced, never deleted); a new version is a new file.
"""
from __future__ import annotations

import posixpath
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from core.storage import exists, open_file, read, save_final  # noqa: F401  (this app's file helpers)

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

_SIGNATURES = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
TYPE_NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG"}
# A PDF may carry a little junk before its header, as readers accept.
PDF_HEADER_WINDOW = 1024


def max_bytes() -> int:
    return int(settings.XASO_DOSSIER_FILE_MAX_BYTES)


def accepted_types() -> list[str]:
    return [t.strip() for t in settings.XASO_DOSSIER_FILE_TYPES if t.strip()]


def accepted_names() -> str:
    """'PDF, JPEG, PNG': the accepted types as people name them."""
    return ", ".join(TYPE_NAMES.get(t, t) for t in accepted_types())


def sniff(data: bytes) -> str | None:
    """The type of ``data`` read from its first bytes, or None when it is none we know."""
    head = bytes(data[:16])
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if b"%PDF-" in bytes(data[:PDF_HEADER_WINDOW]):
        return PDF
    return None


def read_upload(upload) -> tuple[bytes, str]:
    """Read an uploaded file within the size limit and check its type by content.

    Returns ``(data, content_type)``; raises ``ValidationError`` (codes ``required``,
    ``empty``, ``too_large``, ``file_type``) with a message for the person who uploaded it.
    """
    if upload is None:
        raise ValidationError(_("Choose a file."), code="required")
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise too_large()
    try:
        upload.seek(0)
    except (AttributeError, OSError):
        pass
    data = upload.read(limit + 1)
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(data) > limit:
        raise too_large()
    content_type = sniff(data)
    if content_type is None or content_type not in accepted_types():
        raise ValidationError(
            _("This file is not accepted: send a %(types)s file (the content is checked, not the name).")
            % {"types": accepted_names()},
            code="file_type",
        )
    return data, content_type


def too_large() -> ValidationError:
    return ValidationError(
        _("The file is too large: at most %(max)s.") % {"max": filesizeformat(max_bytes())}, code="too_large",
    )


def clean_filename(name: str, content_type: str) -> str:
    """A safe file name with the extension of its real type."""
    base = posixpath.basename(str(name or "").replace("\\", "/"))
    stem = base.rsplit(".", 1)[0] if "." in base else base
    try:
        stem = get_valid_filename(stem)[:60]
    except Exception:  # SuspiciousFileOperation for names like '..'
        stem = ""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "", stem) or "giay-to"
    return f"{stem}.{EXTENSIONS.get(content_type, 'bin')}"


