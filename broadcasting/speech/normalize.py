"""Text as a Vietnamese announcer reads it: the words the voice is given (no Django import).

``normalize(text)`` turns what an editor writes into plain words, in this order:

1. Unicode: NFKC (so "m²" is "m2", "℃" is "°C", full-width digits are digits), invisible
   characters removed, letters of other alphabets with marks folded ("ü" → "u").
2. The editor's pronunciations (the commune's list: UBND → ủy ban nhân dân, km → ki lô mét, or
   any word an editor wants read differently). They win over every rule below: a matched word is
   set aside and its reading put back at the end.
3. Codes: a document's number and symbol ("12/QĐ-UBND" → "số mười hai, quyết định, ủy ban nhân
   dân"; "15/2020/NĐ-CP"; a symbol alone, "CT-UBND"), roads ("QL32" → "quốc lộ ba mươi hai"; TL,
   ĐT, ĐH), chainages ("Km15+300" → "ki lô mét mười lăm cộng ba trăm"), and the emergency numbers
   111–115 digit by digit after the word of a call or a service ("cấp cứu 115" → "cấp cứu một
   một năm"; "có 115 hộ" stays a count).
   Phone numbers, digit by digit in groups ("0912 345 678" → "không chín một hai, ba bốn năm,
   sáu bảy tám"; "gọi 113" → "gọi một một ba").
4. Dates ("ngày 12/3" → "ngày mười hai tháng ba", "12/3/2026", "12-15/3", "3/2026",
   "tháng 4" → "tháng tư") and quarters ("quý 1/2026").
5. Times ("7h30", "7:30", "17h", "7h30-9h").
6. Money ("1.000.000.000 đ", "đồng", "VNĐ", "$"), percentages, temperatures, units after a
   number (km, kg, ha, m2, m³, l, g …), with their minus ("-5°C" → "âm năm độ xê", "lãi -3%").
   An entry of the list that is a unit and also a word ("ha") is read as the unit only after a
   number or a slash: "ha ha" is a laugh, "5 ha" five hectares.
7. Ordinals ("thứ 2" → "thứ hai", "lần thứ 1" → "lần thứ nhất"), Roman numerals after words
   that take them ("quý IV", "khóa XV", "thế kỷ XXI").
8. Ranges ("5-7 ngày" → "năm đến bảy ngày"), negative numbers, fractions ("1/2" → "một phần
   hai"), "3x4" → "ba nhân bốn".
9. Numbers: thousands with dots ("1.000.000"), decimals with a comma ("2,5" → "hai phẩy năm"),
   up to hundreds of thousands of billions (``numbers.number_to_words``: mốt, tư, lăm, linh/lẻ).
10. Letters mixed with digits are split ("H5N1"), abbreviations in capitals that are no
    Vietnamese syllable are spelled with the letters' names ("ATTP" → "a tê tê pê").
11. Symbols said in words (& + = @ ~ > <), layout removed (bullets, quotes, brackets), lines
    without a full stop get one (a title is followed by a pause), characters no voice can say
    (emoji, other scripts) removed — ``unsayable(text)`` lists them for a message to the editor.

The result is lower case, one line, single spaces.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from broadcasting.speech.numbers import (
    DIGITS, decimal_to_words, digit_words, month_to_words, number_to_words, ordinal_to_words, roman_to_int,
)

__all__ = ["normalize", "unsayable", "spell", "number_to_words"]

# --- characters ---------------------------------------------------------------------------

# The marks of Vietnamese letters: five tones and the vowel marks (â ê ô / ă / ơ ư).
_VI_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b"}
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_LETTER_FOLDS = {"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
                 "ı": "i", "ð": "d", "Ð": "Đ", "þ": "th"}
_GREEK = {"α": "an pha", "β": "bê ta", "γ": "gam ma", "δ": "đen ta", "Δ": "đen ta", "ε": "ép xi lon",
          "λ": "lam đa", "μ": "muy", "µ": "muy", "π": "pi", "σ": "xích ma", "Σ": "xích ma", "ω": "ô mê ga",
          "Ω": "ô mê ga"}
# Symbols said in words (spaces around them are added where they are replaced).
_SYMBOLS = {
    "&": "và", "+": "cộng", "=": "bằng", "@": "a còng", "#": "số", "~": "khoảng", "≈": "xấp xỉ",
    "≥": "lớn hơn hoặc bằng", "≤": "nhỏ hơn hoặc bằng", ">": "lớn hơn", "<": "nhỏ hơn", "×": "nhân",
    "÷": "chia", "±": "cộng trừ", "‰": "phần nghìn", "€": "ơ rô", "£": "bảng Anh", "¥": "yên",
    "§": "điều", "°": "độ",
}
# Layout: read as a short pause, or nothing.
_PAUSES = set("()[]{}|•·▪▫►▶◆◇■□●○✓✔→←↑↓⇒;")
_SILENT = set("\"'“”‘’«»„‟‹›`´*_^\\") | {"\u2044"}  # ⁄ is made a slash before this applies
_KEEP_PUNCT = set(".,!?:")

# Placeholders of the editor's pronunciations (Unicode private use area: never in real text).
_OPEN, _CLOSE, _BASE = "\ue000", "\ue001", 0xE100
_PUA = re.compile("[\ue000-\uf8ff]")
_PLACEHOLDER = re.compile(f"{_OPEN}([\ue100-\ue1ff])([\ue100-\ue1ff]){_CLOSE}")

_LETTER_NAMES = {
    "a": "a", "ă": "á", "â": "ớ", "b": "bê", "c": "xê", "d": "dê", "đ": "đê", "e": "e", "ê": "ê", "f": "ép",
    "g": "giê", "h": "hát", "i": "i", "j": "gi", "k": "ca", "l": "e lờ", "m": "em mờ", "n": "en nờ", "o": "o",
    "ô": "ô", "ơ": "ơ", "p": "pê", "q": "quy", "r": "e rờ", "s": "ét xì", "t": "tê", "u": "u", "ư": "ư", "v": "vê",
    "w": "vê kép", "x": "ích xì", "y": "i dài", "z": "dét",
}
_VOWEL_LETTERS = set("aăâeêioôơuưy")

_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdđghklmnprstvx])?[aăâeêioôơuưy]{1,3}(?:ng|nh|ch|[cmnpt])?$"
)

_WS = re.compile(r"[ \t\f\v]+")
_NUM = r"\d+(?:[.,]\d+)*"  # a number as written: 1.000.000 / 2,5 / 12


def _strip_tones(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))


def is_syllable(word: str) -> bool:
    """Whether ``word`` can be read as one Vietnamese syllable (so it is not spelled)."""
    return bool(_SYLLABLE.match(_strip_tones(word.lower())))


def spell(word: str) -> str:
    """Letter by letter with the letters' Vietnamese names: "ATTP" → "a tê tê pê"."""
    names = []
    for char in _strip_tones(word.lower()):
        if char.isdigit():
            names.append(DIGITS[int(char)])
        elif char in _LETTER_NAMES:
            names.append(_LETTER_NAMES[char])
    return " ".join(names)


def _fold_letter(char: str) -> str | None:
    """A letter the voice can say (itself, or folded to one), or None."""
    if char in _LETTER_FOLDS:
        return _LETTER_FOLDS[char]
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if not ("a" <= base.lower() <= "z" or base in "đĐ"):
        return None
    if all(m in _VI_MARKS for m in marks):
        return char
    return unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _VI_MARKS))


def _char_kind(char: str) -> str:
    """'ok' (kept), 'drop' (layout: removed silently) or 'bad' (no voice can say it)."""
    if char.isspace() or char.isdigit() or char in _KEEP_PUNCT or char in "-–—/%$₫":
        return "ok"
    if _PUA.match(char):
        return "bad"
    category = unicodedata.category(char)
    if category == "Cf" or category == "Cc":
        return "drop"
    if char in _SYMBOLS or char in _GREEK or char in _PAUSES or char in _SILENT:
        return "ok"
    if category.startswith("L"):
        return "ok" if _fold_letter(char) is not None else "bad"
    if category.startswith("M"):  # a stray combining mark
        return "ok" if char in _VI_MARKS else "drop"
    return "bad"


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2044", "/").replace("…", "...")
    text = text.replace("−", "-").replace("‐", "-").replace("‑", "-")
    return text


def unsayable(text: str, *, pronunciations: dict[str, str] | None = None,
              case_insensitive: set[str] | None = None) -> list[str]:
    """The characters of ``text`` no voice can say (emoji, other scripts …), each once, in order.

    Characters covered by a pronunciation of the list are not counted (an editor may give "★"
    a reading).
    """
    prepared = _prepare(text)
    if pronunciations:
        matcher = _matcher(_items(pronunciations), frozenset(case_insensitive or ()))
        if matcher is not None:
            prepared = matcher.sub(" ", prepared)
    seen: list[str] = []
    for char in prepared:
        if char not in seen and _char_kind(char) == "bad":
            seen.append(char)
    return seen


# --- the editor's pronunciations ----------------------------------------------------------

def _items(pronunciations: dict[str, str]) -> tuple[tuple[str, str], ...]:
    out = {}
    for written, spoken in pronunciations.items():
        key = unicodedata.normalize("NFKC", str(written or "")).strip()
        if key:
            out[key] = str(spoken or "")
    return tuple(sorted(out.items()))


def _key_pattern(key: str, insensitive: bool) -> str:
    body = re.escape(key)
    first, last = key[0], key[-1]
    left = ""
    if key in UNIT_WORDS and is_syllable(key):
        # a unit that is also a word is read as a unit only after a number ("5 ha") or in a rate
        # ("đồng/ha"): "ha ha" is a laugh. Units that are no word ("km") are read anywhere.
        left = r"(?:(?<=\d)|(?<=\d )|(?<=/))"
    elif first.isalpha():
        left = r"(?<![^\W\d_])"  # no letter before (a digit may: "5km")
    elif first.isdigit():
        left = r"(?<![\w])(?<!\d[.,/])"
    right = r"(?![\w])" if (last.isalnum()) else ""
    return f"{left}{'(?i:' + body + ')' if insensitive else body}{right}"


@lru_cache(maxsize=64)
def _matcher(items: tuple[tuple[str, str], ...], insensitive: frozenset):
    if not items:
        return None
    folded = {k.casefold() for k in insensitive}
    keys = sorted((k for k, _ in items), key=lambda k: (-len(k), k))
    pattern = "|".join(_key_pattern(k, k.casefold() in folded) for k in keys)
    return re.compile(pattern)


def _lookup(items: tuple[tuple[str, str], ...], insensitive: frozenset):
    exact = dict(items)
    folded = {k.casefold() for k in insensitive}
    loose = {k.casefold(): v for k, v in items if k.casefold() in folded}

    def find(found: str) -> str:
        if found in exact:
            return exact[found]
        return loose.get(found.casefold(), found)

    return find


# --- rules --------------------------------------------------------------------------------

class _Reader:
    """One normalisation (carries the options and the set-aside readings)."""

    def __init__(self, odd_word: str, thousand_word: str):
        self.odd_word, self.thousand_word = odd_word, thousand_word
        self.protected: list[str] = []

    def num(self, n: int) -> str:
        return number_to_words(n, odd_word=self.odd_word, thousand_word=self.thousand_word)

    def protect(self, spoken: str) -> str:
        index = len(self.protected)
        self.protected.append(spoken)
        return f" {_OPEN}{chr(_BASE + index // 256)}{chr(_BASE + index % 256)}{_CLOSE} "

    def restore(self, text: str) -> str:
        def put_back(match):
            index = (ord(match.group(1)) - _BASE) * 256 + (ord(match.group(2)) - _BASE)
            return f" {self.protected[index]} "

        return _PLACEHOLDER.sub(put_back, text)

    # numbers as written ------------------------------------------------------------------
    def number(self, written: str) -> str:
        """Words of a number as written: "1.000.000", "2,5", "3.14", "1,000,000", "05"."""
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", written):
            whole, _, fraction = written.partition(",")
            return self._decimal(whole.replace(".", ""), fraction)
        if re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?", written) or re.fullmatch(r"\d{1,3},000", written):
            whole, _, fraction = written.partition(".")
            return self._decimal(whole.replace(",", ""), fraction)
        if re.fullmatch(r"\d+,\d+", written):
            whole, fraction = written.split(",")
            return self._decimal(whole, fraction)
        if re.fullmatch(r"\d+\.\d+", written):
            whole, fraction = written.split(".")
            return self._decimal(whole, fraction)
        if re.fullmatch(r"\d+", written):
            return self.integer(written)
        # 1.2.3 (a section) or 1,2,3 (a list): each part, separated
        separator = " chấm " if "." in written else ", "
        return separator.join(self.integer(part) for part in re.split(r"[.,]", written) if part)

    def integer(self, digits: str) -> str:
        if len(digits) >= 4 and digits.startswith("0"):
            return digit_words(digits)  # a code, not an amount
        if len(digits) > 15:
            return digit_words(digits)
        return self.num(int(digits))

    def _decimal(self, whole: str, fraction: str) -> str:
        if len(whole) > 15:
            return digit_words(whole + fraction)
        return decimal_to_words(whole, fraction, odd_word=self.odd_word, thousand_word=self.thousand_word)


def _valid_date(day: int, month: int, year: int | None = None) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    days = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    if month == 2 and year is not None and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        days = 28
    return day <= days


_DATE_WORDS = r"(?:ngày|hôm|mùng|mồng)"
_DATE_CONTEXT = re.compile(
    r"(?:ngày|hôm|mùng|mồng|từ|đến|tới|và|sáng|chiều|tối|trưa|đêm|trước|sau|hạn|hết|thứ\s+\S+,?|chủ nhật,?)\s*$",
    re.IGNORECASE,
)
_ENDS_WITH_DATE_WORD = re.compile(rf"{_DATE_WORDS}\s*$", re.IGNORECASE)


def _before(text: str, start: int, size: int = 40) -> str:
    return text[max(0, start - size):start]


def _day_prefix(text: str, start: int) -> str:
    return "" if _ENDS_WITH_DATE_WORD.search(_before(text, start)) else "ngày "


# codes: document numbers, roads, chainages, emergency numbers -------------------------------

# The abbreviations of a document's symbol (Decree 30/2020, appendix III: the kinds of document,
# and the usual issuing bodies), read only inside a symbol ("12/TB-UBND"): elsewhere "TB" may
# mean something else. The commune's pronunciation list wins over them.
DOCUMENT_SYMBOL_WORDS = {
    "NQ": "nghị quyết", "QĐ": "quyết định", "CT": "chỉ thị", "QC": "quy chế", "QyĐ": "quy định",
    "QYĐ": "quy định", "TC": "thông cáo", "TB": "thông báo", "HD": "hướng dẫn", "CTr": "chương trình",
    "KH": "kế hoạch", "PA": "phương án", "ĐA": "đề án", "DA": "dự án", "BC": "báo cáo", "BB": "biên bản",
    "TTr": "tờ trình", "HĐ": "hợp đồng", "CĐ": "công điện", "BGN": "bản ghi nhớ", "BTT": "bản thỏa thuận",
    "GUQ": "giấy ủy quyền", "GM": "giấy mời", "GGT": "giấy giới thiệu", "GNP": "giấy nghỉ phép",
    "PG": "phiếu gửi", "PC": "phiếu chuyển", "PB": "phiếu báo", "NĐ": "nghị định", "TT": "thông tư",
    "TTLT": "thông tư liên tịch", "L": "luật", "PL": "pháp lệnh", "CV": "công văn",
    "UBND": "ủy ban nhân dân", "HĐND": "hội đồng nhân dân", "CP": "chính phủ", "TTg": "thủ tướng chính phủ",
    "VPCP": "văn phòng chính phủ", "QH": "quốc hội", "UBTVQH": "ủy ban thường vụ quốc hội", "VP": "văn phòng",
    "BNV": "bộ nội vụ", "BTC": "bộ tài chính", "BYT": "bộ y tế", "BCA": "bộ công an", "BQP": "bộ quốc phòng",
    "BTTTT": "bộ thông tin và truyền thông", "BGDĐT": "bộ giáo dục và đào tạo", "BTP": "bộ tư pháp",
    "BNNPTNT": "bộ nông nghiệp và phát triển nông thôn", "BLĐTBXH": "bộ lao động thương binh và xã hội",
    "BTNMT": "bộ tài nguyên và môi trường", "BXD": "bộ xây dựng", "BCT": "bộ công thương",
    "BKHĐT": "bộ kế hoạch và đầu tư", "BVHTTDL": "bộ văn hóa thể thao và du lịch", "BGTVT": "bộ giao thông vận tải",
    "TU": "tỉnh ủy", "HU": "huyện ủy", "ĐU": "đảng ủy", "BCĐ": "ban chỉ đạo", "MTTQ": "mặt trận tổ quốc",
    "BHXH": "bảo hiểm xã hội", "CA": "công an", "BCH": "ban chấp hành", "TYT": "trạm y tế",
}
_PLACEHOLDER_TEXT = f"{_OPEN}[\ue100-\ue1ff]{{2}}{_CLOSE}"
_SYMBOL_PART = rf"(?:\s*{_PLACEHOLDER_TEXT}\s*|[A-ZĐ][A-Za-zĐđ]*)"
# number [/ year] / symbol with at least two parts: 12/QĐ-UBND, 15/2020/NĐ-CP, 05/CT-UBND
_DOCUMENT_NUMBER = re.compile(
    rf"(?<![\w/.,])(\d{{1,3}}(?:\.\d{{3}})*|\d+)(?:\s*/\s*((?:19|20)\d\d))?\s*/\s*"
    rf"({_SYMBOL_PART}(?:\s*-\s*{_SYMBOL_PART})*)(?![\w-])"
)
# a symbol alone, its kind first: "CT-UBND", "QĐ-UBND"
_SYMBOL_ALONE = re.compile(rf"(?<![\w/-])({_SYMBOL_PART}(?:\s*-\s*{_SYMBOL_PART})+)(?![\w-])")
_DOCUMENT_KINDS = {"NQ", "QĐ", "CT", "QC", "QyĐ", "QYĐ", "TC", "TB", "HD", "CTr", "KH", "PA", "ĐA", "DA", "BC", "BB",
                   "TTr", "HĐ", "CĐ", "GM", "NĐ", "TT", "TTLT"}
_ROADS = {"QL": "quốc lộ", "TL": "tỉnh lộ", "ĐT": "đường tỉnh", "ĐH": "đường huyện"}
# QL32, QL 32, QL.32, QL1A, ĐT.176B (a phone after "ĐT:" is read by the phone rule)
_ROAD = re.compile(r"(?<![^\W\d_])(QL|TL|ĐT|ĐH)(?:[ .\-]\s*)?(\d{1,3})([A-Z])?(?![\w]|[.,]\d)")
# a chainage on a road: Km15+300, KM 15 + 300, km 15
_CHAINAGE = re.compile(r"(?<![^\W\d_])(?:km|Km|KM)\s*\.?\s*(\d{1,4})(?:\s*\+\s*(\d{1,3}))?(?![\w]|[.,]\d)")
# The emergency numbers (111 child protection, 112 search and rescue, 113 police, 114 fire,
# 115 ambulance) are said digit by digit after the words that name a call or a service.
_EMERGENCY = re.compile(r"(?<![\w.,/+\-])(11[1-5])(?![\w]|[.,]\d)")
_EMERGENCY_CONTEXT = re.compile(
    r"(?i)(?:gọi|gọi điện|gọi ngay|gọi tới|gọi đến|gọi cho|báo ngay|báo cho|cấp cứu|công an|cảnh sát|cứu hỏa|"
    r"cứu hoả|chữa cháy|phòng cháy chữa cháy|cứu nạn|cứu hộ|tìm kiếm cứu nạn|khẩn cấp|trẻ em|đường dây nóng|"
    r"tổng đài|hotline|liên hệ|11[1-5]|một một \w+)[\s:,]*(?:số\s*)?(?:(?:,|hoặc|và)\s*)?$"
)


def _symbol_parts(written: str) -> list[str] | None:
    """The parts of a document's symbol ("QĐ-UBND" → ["QĐ", "UBND"]; a part may be a reading of
    the list, set aside), or None when it does not look like one."""
    parts = [p.strip() for p in written.split("-")]
    if not all(parts):
        return None
    known = [p for p in parts if p in DOCUMENT_SYMBOL_WORDS or _PLACEHOLDER.fullmatch(p)]
    if len(parts) == 1 and not known:
        return None  # "12/ABC": not enough to call it a symbol
    return parts


def _codes(reader: _Reader, text: str) -> str:
    def document(match):
        parts = _symbol_parts(match.group(3))
        if parts is None:
            return match.group(0)
        before = reader.restore(_before(match.string, match.start(), 12))
        spoken = [] if re.search(r"(?i)(?<![^\W\d_])số\s*$", before) else ["số"]
        spoken.append(reader.number(match.group(1)))
        if match.group(2):
            spoken.append(f"năm {reader.num(int(match.group(2)))}")
        words = [DOCUMENT_SYMBOL_WORDS.get(part, part) for part in parts]
        return f" {' '.join(spoken)}, {', '.join(words)} "

    text = _DOCUMENT_NUMBER.sub(document, text)

    def symbol(match):
        parts = _symbol_parts(match.group(1))
        if parts is None or parts[0] not in _DOCUMENT_KINDS or not all(
                p in DOCUMENT_SYMBOL_WORDS or _PLACEHOLDER.fullmatch(p) for p in parts):
            return match.group(0)
        return f" {', '.join(DOCUMENT_SYMBOL_WORDS.get(p, p) for p in parts)} "

    text = _SYMBOL_ALONE.sub(symbol, text)
    text = _ROAD.sub(lambda m: (m.group(0) if m.group(1) == "ĐT" and 111 <= int(m.group(2)) <= 115 else
                                f" {_ROADS[m.group(1)]} {reader.integer(m.group(2))} {m.group(3) or ''} "), text)

    def chainage(match):
        if re.search(r"\d\s*$", _before(match.string, match.start(), 3)):
            return match.group(0)  # "5 km": a unit after its number
        spoken = f" ki lô mét {reader.integer(match.group(1))} "
        if match.group(2) is not None:
            spoken += f"cộng {reader.num(int(match.group(2)))} "
        return spoken

    text = _CHAINAGE.sub(chainage, text)

    def emergency(match):
        before = reader.restore(_before(match.string, match.start(), 60))
        if not _EMERGENCY_CONTEXT.search(before):
            return match.group(0)
        return f" {digit_words(match.group(1))} "

    return _EMERGENCY.sub(emergency, text)  # "gọi 113, 114 hoặc 115": a number is the context of the next


# phone numbers -----------------------------------------------------------------------------

_PHONE = re.compile(r"(?<![\w.,+])(\+84|0)((?:[ .\-]?\d){8,10})(?![\w]|[.,]\d)")
_CALL_WORDS = re.compile(
    r"(?i)(?<![^\W\d_])(điện thoại|đt|sđt|số máy|gọi(?: số)?|gọi tới|gọi đến|hotline|đường dây nóng|tổng đài|fax)"
    r"(\s*(?:số\s*)?:?\s*)(\d(?:[ .\-]?\d){2,})(?![\w]|[.,]\d)"
)


def _phone_groups(prefix: str, rest: str) -> list[str] | None:
    digits = re.sub(r"\D", "", rest)
    if prefix == "0":
        total = 1 + len(digits)
        if total not in (10, 11):
            return None
    elif len(digits) not in (9, 10):
        return None
    written = re.split(r"[ .\-]", (prefix if prefix == "0" else "") + rest.lstrip(" .-"))
    written = [g for g in written if g]
    if len(written) > 1:
        groups = written
    else:
        whole = (prefix if prefix == "0" else "") + digits
        sizes = {9: (3, 3, 3), 10: (4, 3, 3), 11: (4, 3, 4)}[len(whole)]
        groups, at = [], 0
        for size in sizes:
            groups.append(whole[at:at + size])
            at += size
    if prefix != "0":
        groups = ["+84"] + groups
    return groups


def _read_groups(groups: list[str]) -> str:
    spoken = []
    for group in groups:
        spoken.append("cộng tám tư" if group == "+84" else digit_words(group))
    return ", ".join(spoken)


def _phones(reader: _Reader, text: str) -> str:
    def call(match):
        groups = [g for g in re.split(r"[ .\-]", match.group(3)) if g]
        if len(groups) == 1 and len(groups[0]) >= 10:
            groups = _phone_groups("0", groups[0][1:]) if groups[0].startswith("0") else groups
            groups = groups or [match.group(3)]
        return f"{match.group(1)}{match.group(2)}{_read_groups(groups)} "

    text = _CALL_WORDS.sub(call, text)

    def phone(match):
        groups = _phone_groups(match.group(1), match.group(2))
        if groups is None:
            return match.group(0)
        return f" {_read_groups(groups)} "

    return _PHONE.sub(phone, text)


# dates -----------------------------------------------------------------------------------

_DATE_RANGE = re.compile(
    r"(?<![\w/.,])(\d{1,2})\s*[-–]\s*(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?(?![\w/]|[.,]\d)"
)
_FULL_DATE = re.compile(r"(?<![\w/.,\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?![\w/]|[.,]\d)")
_DAY_MONTH = re.compile(r"(?<![\w/.,])(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)")
_QUARTER_YEAR = re.compile(r"(?i)(?<![^\W\d_])(quý)\s+(\d)\s*/\s*(\d{4})(?![\w/])")
_MONTH_YEAR = re.compile(r"(?<![\w/.,])(\d{1,2})/(\d{4})(?![\w/]|[.,]\d)")
_MONTH = re.compile(r"(?i)(?<![^\W\d_])(tháng)\s+(\d{1,2})(?![\w/:]|[.,]\d)")
_FRACTION = re.compile(r"(?<![\w/.,])(\d+)\s*/\s*(\d+)(?![\w/]|[.,]\d)")


def _dates(reader: _Reader, text: str) -> str:
    def date_range(match):
        first, last, month = int(match.group(1)), int(match.group(2)), int(match.group(3))
        year = int(match.group(4)) if match.group(4) else None
        if not (first < last and _valid_date(first, month, year) and _valid_date(last, month, year)):
            return match.group(0)
        spoken = (f"{_day_prefix(match.string, match.start())}{reader.num(first)} đến ngày {reader.num(last)} "
                  f"tháng {month_to_words(month)}")
        if year is not None:
            spoken += f" năm {reader.num(year)}"
        return f" {spoken} "

    text = _DATE_RANGE.sub(date_range, text)

    def full_date(match):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
        if not _valid_date(day, month, year):
            return match.group(0)
        return (f" {_day_prefix(match.string, match.start())}{reader.num(day)} tháng {month_to_words(month)} "
                f"năm {reader.num(year)} ")

    text = _FULL_DATE.sub(full_date, text)
    text = _QUARTER_YEAR.sub(lambda m: f"{m.group(1)} {reader.num(int(m.group(2)))} năm {reader.num(int(m.group(3)))}",
                             text)

    def month_year(match):
        month, year = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            return match.group(0)
        prefix = "" if re.search(r"(?i)tháng\s*$", _before(match.string, match.start())) else "tháng "
        return f" {prefix}{month_to_words(month)} năm {reader.num(year)} "

    text = _MONTH_YEAR.sub(month_year, text)

    def day_month(match):
        day, month = int(match.group(1)), int(match.group(2))
        before = _before(match.string, match.start())
        in_context = bool(_DATE_CONTEXT.search(before))
        if not in_context and day < month <= 10:
            return match.group(0)  # 1/2, 3/4: a fraction (read below)
        if not _valid_date(day, month):
            return match.group(0)
        return f" {_day_prefix(match.string, match.start())}{reader.num(day)} tháng {month_to_words(month)} "

    text = _DAY_MONTH.sub(day_month, text)

    def month(match):
        value = int(match.group(2))
        if not 1 <= value <= 12:
            return match.group(0)
        return f"{match.group(1)} {month_to_words(value)}"

    return _MONTH.sub(month, text)


# times -----------------------------------------------------------------------------------

_TIME = r"([01]?\d|2[0-3])\s*(?:[hg]\s*([0-5]\d)|:([0-5]\d)(?::([0-5]\d))?|h(?![^\W\d_]))(?:\s*')?(\s*phút)?"
_TIMES = re.compile(rf"(?<![\w:.,])(?:{_TIME})(?:\s*[-–]\s*(?:{_TIME}))?(?![\w:]|[.,]\d)")


def _times(reader: _Reader, text: str) -> str:
    def one(hour, minute_h, minute_colon, second, _minute_word):
        # "phút" written after the minutes is said once; "19h00" is "mười chín giờ"
        words = [reader.num(int(hour)), "giờ"]
        minute = minute_h or minute_colon
        if minute and int(minute):
            words += [reader.num(int(minute)), "phút"]
        if second and int(second):
            if not (minute and int(minute)):
                words += [reader.num(0), "phút"]
            words += [reader.num(int(second)), "giây"]
        return " ".join(words)

    def replace(match):
        g = match.groups()
        first = one(*g[0:5])
        if g[5] is None:
            return f" {first} "
        return f" {first} đến {one(*g[5:10])} "

    return _TIMES.sub(replace, text)


# money, percent, units -------------------------------------------------------------------

_MONEY = re.compile(rf"(?<![\w.,])({_NUM})\s*(?:đồng|đ|₫|vnđ|vnd)(?![\w])", re.IGNORECASE)
_DOLLARS_BEFORE = re.compile(rf"\$\s*({_NUM})")
_DOLLARS_AFTER = re.compile(rf"(?<![\w.,])({_NUM})\s*(?:usd|\$)(?![\w])", re.IGNORECASE)
_PERCENT = re.compile(rf"(?<![\w.,])({_NUM})\s*%")
_TEMPERATURE = re.compile(r"°\s*([CF])(?![^\W\d_])")
_PER_PRICE = re.compile(r"(?i)(đồng|đô la)\s*/\s*(?=\S)")  # 50.000 đồng/kg → đồng một ki lô gam
_UNITS = {
    "km2": "ki lô mét vuông", "m2": "mét vuông", "cm2": "xen ti mét vuông", "m3": "mét khối", "cm3": "xen ti mét khối",
    "km/h": "ki lô mét trên giờ", "m/s": "mét trên giây", "kWh": "ki lô oát giờ", "kW": "ki lô oát", "MW": "mê ga oát",
    "km": "ki lô mét", "cm": "xen ti mét", "mm": "mi li mét", "m": "mét", "kg": "ki lô gam", "mg": "mi li gam",
    "g": "gam", "ml": "mi li lít", "l": "lít", "ha": "héc ta", "W": "oát", "V": "vôn", "mA": "mi li am pe",
    "h": "giờ",
}
# Written forms that are units: an entry of the pronunciation list with one of them is read only
# after a number or a slash (``_key_pattern``).
UNIT_WORDS = frozenset(_UNITS) | {"km²", "m²", "cm²", "m³", "cm³", "°C", "°F", "℃"} - {"h", "W", "V"}
_UNIT = re.compile(
    rf"(?<![\w.,])({_NUM})\s*(" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    + r")(?![\w/])"
)


def _amounts(reader: _Reader, text: str) -> str:
    text = _NEGATIVE.sub(lambda m: f" âm {m.group(1)} ", text)  # "-5°C", "lãi -3%": the minus is said
    text = _MONEY.sub(lambda m: f" {m.group(1)} đồng ", text)
    text = _DOLLARS_BEFORE.sub(lambda m: f" {m.group(1)} đô la ", text)
    text = _DOLLARS_AFTER.sub(lambda m: f" {m.group(1)} đô la ", text)
    text = _PERCENT.sub(lambda m: f" {m.group(1)} phần trăm ", text)
    text = _TEMPERATURE.sub(lambda m: " độ xê " if m.group(1) == "C" else " độ ép ", text)
    text = _UNIT.sub(lambda m: f" {m.group(1)} {_UNITS[m.group(2)]} ", text)
    return _PER_PRICE.sub(lambda m: f"{m.group(1)} một ", text)


# ordinals, Roman numerals ----------------------------------------------------------------

_ORDINAL = re.compile(r"(?i)(?<![^\W\d_])(thứ)\s+(\d{1,3}|[IVXLC]+)(?![\w/:]|[.,]\d)")
_ROMAN_AFTER = re.compile(
    r"(?i)(?<![^\W\d_])(quý|khóa|khoá|kỳ|kì|chương|phần|mục|thế kỷ|thế kỉ|đại hội|hội nghị|lần|cấp|giai đoạn|đợt|tập|"
    r"phụ lục|điều)\s+(?-i:([IVXLCDM]+))(?:\s*/\s*(\d{4}))?(?![\w/])"
)


def _ordinals(reader: _Reader, text: str) -> str:
    def ordinal(match):
        written = match.group(2)
        value = int(written) if written.isdigit() else roman_to_int(written)
        if value is None:
            return match.group(0)
        return f"{match.group(1)} {ordinal_to_words(value, odd_word=reader.odd_word, thousand_word=reader.thousand_word)}"

    text = _ORDINAL.sub(ordinal, text)

    def roman(match):
        value = roman_to_int(match.group(2))
        if value is None:
            return match.group(0)
        spoken = f"{match.group(1)} {reader.num(value)}"
        if match.group(3):
            spoken += f" năm {reader.num(int(match.group(3)))}"
        return spoken

    return _ROMAN_AFTER.sub(roman, text)


# ranges, signs, fractions, numbers -------------------------------------------------------

_RANGE = re.compile(rf"(?<![\w.,/\-])({_NUM})\s*[-–—]\s*({_NUM})(?![\w/\-]|[.,]\d)")
# "-5" after a space is a minus sign; at the start of a line it is a bullet ("- 5 hộ"), and after
# a word read from the list a hyphen ("COVID-19").
_NEGATIVE = re.compile(rf"(?<![{_CLOSE}] )(?<![^\s(])-({_NUM})(?![\w])")
_TIMES_SIGN = re.compile(rf"(?<![\w.,])({_NUM})\s*[xX×]\s*({_NUM})(?![\w])")
_NUMBER = re.compile(r"(?<![\d])\d+(?:[.,]\d+)*")


def _arithmetic(reader: _Reader, text: str) -> str:
    text = _TIMES_SIGN.sub(lambda m: f" {m.group(1)} nhân {m.group(2)} ", text)
    text = _RANGE.sub(lambda m: f" {m.group(1)} đến {m.group(2)} ", text)

    text = _NEGATIVE.sub(lambda m: f" âm {m.group(1)} ", text)

    def fraction(match):
        numerator, denominator = int(match.group(1)), int(match.group(2))
        if 0 < numerator < denominator and denominator <= 10:
            spoken_denominator = "tư" if denominator == 4 else reader.num(denominator)
            return f" {reader.num(numerator)} phần {spoken_denominator} "
        return f" {reader.number(match.group(1))} trên {reader.number(match.group(2))} "

    return _FRACTION.sub(fraction, text)


def _numbers(reader: _Reader, text: str) -> str:
    return _NUMBER.sub(lambda m: f" {reader.number(m.group(0))} ", text)


# words -----------------------------------------------------------------------------------

_SPLIT_ALNUM = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_WORD = re.compile(r"[^\W\d_]+")


_APOSTROPHE_NAME = re.compile(r"(?<![^\W\d_])([BCDĐGHKLMNPRSTVXbcdđghklmnprstvx])['’](?=[^\W\d_])")
_DOTTED_WORDS = re.compile(r"(?<=[^\W\d_])\.(?=[^\W\d_])")  # tule.gov.vn


def _words(reader: _Reader, text: str) -> str:
    # names of peoples and places written with an apostrophe: H'Mông → hờ mông, M'Nông → mờ nông
    text = _APOSTROPHE_NAME.sub(lambda m: f"{'cờ' if m.group(1).lower() == 'k' else m.group(1).lower() + 'ờ'} ", text)
    text = _DOTTED_WORDS.sub(" chấm ", text)
    text = _SPLIT_ALNUM.sub(" ", text)

    def word(match):
        token = match.group(0)
        if _OPEN in token or _CLOSE in token:
            return token
        if len(token) == 1:
            lower = token.lower()
            if token.isupper() and lower not in _VOWEL_LETTERS and lower in _LETTER_NAMES:
                return _LETTER_NAMES[lower]
            return token
        if token.isupper() and not is_syllable(token):
            return spell(token)
        return token

    return _WORD.sub(word, text)


def _symbols(text: str, dropped: list[str]) -> str:
    out = []
    for char in text:
        if _PUA.match(char) and char not in (_OPEN, _CLOSE) and not ("\ue100" <= char <= "\ue1ff"):
            dropped.append(char)
            out.append(" ")
            continue
        if char in (_OPEN, _CLOSE) or "\ue100" <= char <= "\ue1ff":
            out.append(char)
            continue
        if char in _SYMBOLS:
            out.append(f" {_SYMBOLS[char]} ")
        elif char in _GREEK:
            out.append(f" {_GREEK[char]} ")
        elif char == "%":
            out.append(" phần trăm ")
        elif char == "$":
            out.append(" đô la ")
        elif char == "₫":
            out.append(" đồng ")
        elif char in _PAUSES:
            out.append(", ")
        elif char in _SILENT:
            out.append(" ")
        elif char == "/":
            out.append(" ")
        else:
            kind = _char_kind(char)
            if kind == "bad":
                dropped.append(char)
                out.append(" ")
            elif kind == "drop":
                continue
            elif unicodedata.category(char).startswith("L"):
                out.append(_fold_letter(char) or " ")
            elif unicodedata.category(char).startswith("M"):
                out.append(char)
            else:
                out.append(char)
    return "".join(out)


def _punctuation(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = _WS.sub(" ", line).strip()
        line = re.sub(r"^(?:[-–—+*]\s*)+", "", line)  # a bullet
        line = re.sub(r"[\s,;]+$", "", line)
        if not line:
            continue
        if line[-1] not in ".!?:":
            line += "."
        lines.append(line)
    text = " ".join(lines)
    # dashes: between words a pause, inside a word (Covid-19, Hà Nội-Lào Cai) a space
    text = re.sub(r"\s+[-–—]+\s+", ", ", text)
    text = re.sub(r"[-–—]+", " ", text)
    text = re.sub(r"\.{2,}", ",", text)
    text = re.sub(r"\s+([.,!?:;])", r"\1", text)
    text = re.sub(r"([.,!?:;])(?=[^\s.,!?:;])", r"\1 ", text)
    # a run of marks keeps its strongest: ". ," → "."
    def strongest(match):
        marks = re.sub(r"\s", "", match.group(0))
        for mark in ".!?:;,":
            if mark in marks:
                return mark + " "
        return match.group(0)

    text = re.sub(r"[.,!?:;](?:\s*[.,!?:;])+\s*", strongest, text)
    text = re.sub(r"^[\s.,!?:;]+", "", text)
    return _WS.sub(" ", text).strip()


def normalize(text: str, *, pronunciations: dict[str, str] | None = None, case_insensitive: set[str] | None = None,
              odd_word: str = "linh", thousand_word: str = "nghìn") -> str:
    """The words a Vietnamese announcer says for ``text`` (see the module's docstring).

    ``pronunciations``: written → spoken (the commune's list and the editor's overrides; they win
    over every rule); ``case_insensitive``: the written forms matched in any case. ``odd_word``:
    "linh" (northern, default) or "lẻ" for the zero tens ("một trăm linh năm");
    ``thousand_word``: "nghìn" or "ngàn".
    """
    reader = _Reader(odd_word, thousand_word)
    text = _prepare(text)
    text = _PUA.sub(" ", text)
    if pronunciations:
        items = _items(pronunciations)
        insensitive = frozenset(case_insensitive or ())
        matcher = _matcher(items, insensitive)
        if matcher is not None:
            find = _lookup(items, insensitive)
            text = matcher.sub(
                lambda m: reader.protect(_plain(find(m.group(0)), odd_word, thousand_word)), text,
            )
    text = _read(reader, text)
    text = reader.restore(text)
    text = re.sub(r"\s+([.,!?:;])", r"\1", text)
    return _WS.sub(" ", text).strip()


def _plain(spoken: str, odd_word: str, thousand_word: str) -> str:
    """An editor's reading goes through the rules too (without the list), so digits in it are
    read; it keeps its own punctuation."""
    reader = _Reader(odd_word, thousand_word)
    return _read(reader, _prepare(spoken)).rstrip(".")


_BULLET = re.compile(r"(?m)^[ \t]*[-–—+*•·▪►▶◆■●○✓✔][ \t]+")


def _read(reader: _Reader, text: str) -> str:
    dropped: list[str] = []
    text = _BULLET.sub("", text)  # "+ nội dung", "- 5 hộ": list marks, not "cộng" or "âm"
    for rule in (_codes, _phones, _dates, _times, _amounts, _ordinals, _arithmetic, _numbers, _words):
        text = rule(reader, text)
    text = _symbols(text, dropped)
    text = _punctuation(text)
    return text.lower()
