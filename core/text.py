"""Vietnamese text helpers shared by several apps."""
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
    """Lower case without diacritics (đ → d): 'Nguyễn Văn Đức' → 'nguyen van duc'.

    What accent-insensitive search compares, in the registry and in the document registers."""
    text = clean_text(value).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

# The Vietnamese alphabet, in dictionary order (D before Đ, A before Ă before Â …).
ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_ORDER = {letter: index for index, letter in enumerate(ALPHABET)}
# Tones in dictionary order: ngang, huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_VOWEL_MARKS = {
    ("a", "\u0306"): "ă", ("a", "\u0302"): "â", ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô", ("o", "\u031b"): "ơ", ("u", "\u031b"): "ư",
}


def vi_sort_key(text: str) -> tuple:
    """A sort key that orders Vietnamese words as a Vietnamese dictionary does.

    Letters compare first (with Ă, Â, Đ, Ê, Ô, Ơ, Ư as letters of their own), tones only break
    ties. So every name in Đ comes after every name in D, and "Hà Nội" < "Hải Phòng" <
    "Hồ Chí Minh" < "Hưng Yên".
    """
    letters: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFC", text).lower():
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        letter, tone = base, 0
        for mark in marks:
            if mark in _TONES:
                tone = _TONES[mark]
            else:
                letter = _VOWEL_MARKS.get((base, mark), letter)
        if char.isspace():
            letters.append(-1)
        else:
            letters.append(_ORDER.get(letter, 100 + ord(letter)))
        tones.append(tone)
    return (letters, tones)
