"""Vietnamese numbers in words, as an announcer reads them (no Django import).

The spoken rules:

* ``mười`` for the tens digit 1 (10 → "mười", never "một mươi"), ``mươi`` from 20 on;
* ``mốt`` for a units 1 after a tens digit of 2 or more (21 → "hai mươi mốt"; 11 → "mười một");
* ``tư`` for a units 4 after a tens digit of 2 or more (24 → "hai mươi tư"; 14 → "mười bốn");
* ``lăm`` for a units 5 after any tens digit (15 → "mười lăm", 25 → "hai mươi lăm"; 105 →
  "một trăm linh năm");
* ``linh`` (northern, the default) or ``lẻ`` (southern) for a zero tens digit inside a number
  (105 → "một trăm linh năm");
* inside a larger number a group below 100 is read with its hundreds ("không trăm"):
  2026 → "hai nghìn không trăm hai mươi sáu"; groups that are all zeros are left out:
  1.000.500 → "một triệu năm trăm";
* scales: nghìn (or ngàn), triệu, tỷ; above a tỷ the scales repeat ("một nghìn tỷ").
"""
from __future__ import annotations

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
ODD_WORDS = ("linh", "lẻ")
THOUSAND_WORDS = ("nghìn", "ngàn")
# Larger than this is read digit by digit (a number with 16 digits or more is a code, not an amount).
MAX_NUMBER = 10 ** 15 - 1


def digit_words(digits: str) -> str:
    """Each digit on its own: "0912" → "không chín một hai"."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def _below_thousand(n: int, *, full: bool, odd_word: str) -> list[str]:
    """Words of 0 < n < 1000. ``full``: a group inside a larger number (says "không trăm")."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append(odd_word)
            words.append(DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt" if tens >= 2 else "một")
    elif units == 4:
        words.append("tư" if tens >= 2 else "bốn")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


def number_to_words(n: int, *, odd_word: str = "linh", thousand_word: str = "nghìn") -> str:
    """A whole number in words: 21 → "hai mươi mốt", 105 → "một trăm linh năm",
    1_000_000_000 → "một tỷ". Negative numbers are preceded by "âm"."""
    if odd_word not in ODD_WORDS:
        raise ValueError(f"odd_word must be one of {ODD_WORDS}")
    if thousand_word not in THOUSAND_WORDS:
        raise ValueError(f"thousand_word must be one of {THOUSAND_WORDS}")
    n = int(n)
    if n < 0:
        return "âm " + number_to_words(-n, odd_word=odd_word, thousand_word=thousand_word)
    if n == 0:
        return DIGITS[0]
    if n > MAX_NUMBER:
        return digit_words(str(n))
    return " ".join(_words(n, odd_word=odd_word, thousand_word=thousand_word, inner=False))


def _words(n: int, *, odd_word: str, thousand_word: str, inner: bool) -> list[str]:
    """Words of n > 0. ``inner``: n follows a larger part (its leading group says "không trăm")."""
    billions, rest = divmod(n, 10 ** 9)
    words: list[str] = []
    if billions:
        words += _words(billions, odd_word=odd_word, thousand_word=thousand_word, inner=inner) + ["tỷ"]
        inner = True
    scales = ((10 ** 6, "triệu"), (10 ** 3, thousand_word), (1, ""))
    for size, name in scales:
        group, rest = divmod(rest, size)
        if not group:
            continue
        words += _below_thousand(group, full=inner, odd_word=odd_word)
        if name:
            words.append(name)
        inner = True
    return words


def decimal_to_words(whole: str, fraction: str, *, odd_word: str = "linh", thousand_word: str = "nghìn") -> str:
    """"2", "5" → "hai phẩy năm"; "2", "05" → "hai phẩy không năm"; the part after the comma is
    read as a number after its leading zeros, digit by digit when it is long."""
    head = number_to_words(int(whole or "0"), odd_word=odd_word, thousand_word=thousand_word)
    fraction = fraction.strip()
    if not fraction:
        return head
    if len(fraction) > 3:
        tail = digit_words(fraction)
    else:
        stripped = fraction.lstrip("0")
        zeros = len(fraction) - len(stripped)
        parts = [DIGITS[0]] * zeros
        if stripped:
            parts.append(number_to_words(int(stripped), odd_word=odd_word, thousand_word=thousand_word))
        tail = " ".join(parts)
    return f"{head} phẩy {tail}"


ORDINALS = {1: "nhất", 4: "tư"}


def ordinal_to_words(n: int, **kwargs) -> str:
    """The number after "thứ": 1 → "nhất", 4 → "tư", otherwise the cardinal (thứ hai, thứ mười)."""
    return ORDINALS.get(int(n)) or number_to_words(int(n), **kwargs)


MONTHS = {4: "tư"}


def month_to_words(n: int) -> str:
    """The month after "tháng": April is "tháng tư"; the others are the cardinal."""
    return MONTHS.get(int(n)) or number_to_words(int(n))


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(text: str) -> int | None:
    """A Roman numeral (I–MMMCMXCIX) as an int, or None when ``text`` is not a well-formed one."""
    text = text.upper()
    if not text or any(c not in _ROMAN for c in text):
        return None
    total = 0
    for index, char in enumerate(text):
        value = _ROMAN[char]
        if index + 1 < len(text) and _ROMAN[text[index + 1]] > value:
            total -= value
        else:
            total += value
    if not 0 < total < 4000 or int_to_roman(total) != text:
        return None
    return total


def int_to_roman(n: int) -> str:
    parts = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
             (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, letters in parts:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)
