"""Text helpers for Vietnamese names: NFC normalisation and accent-insensitive folding."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def clean_text(value) -> str:
    """NFC, trimmed, inner whitespace collapsed, NUL characters removed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\x00", "")
    return _SPACES.sub(" ", text).strip()


def fold(value) -> str:
    """Lower case without diacritics (đ → d): 'Nguyễn Văn Đức' → 'nguyen van duc'."""
    text = clean_text(value).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
