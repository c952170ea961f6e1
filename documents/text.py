"""Text helpers of the documents app: NFC text, multi-line text, and the folded search text.

``fold`` (accent-insensitive, 'Quyết định' → 'quyet dinh') comes from ``core.text``: the registry
and the document registers search the same way.
"""
from __future__ import annotations

import re
import unicodedata

from core.text import clean_text, fold

__all__ = ["clean_text", "clean_multiline", "fold", "search_text", "search_words"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_SPACES = re.compile(r"[ \t]+")


def clean_multiline(value) -> str:
    """NFC, control characters removed, line endings unified, spaces collapsed inside lines."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_LINE_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def search_text(*parts) -> str:
    """The folded text a search runs on (one line, words separated by single spaces)."""
    return " ".join(fold(part) for part in parts if part)


def search_words(query: str, limit: int = 100) -> list[str]:
    return fold(str(query or "")[:limit]).split()
