"""The 54 ethnic groups of Vietnam (dân tộc), Kinh first.

Codes are the two-digit codes of the General Statistics Office's list of ethnic groups
(Decision 121-TCTK/PPCĐ of 2 March 1979, still used by censuses and civil-status records).
The label is the group's Vietnamese name: a proper name, the same in every language, and the
value written in import/export files.
"""
from __future__ import annotations

from core.text import fold

ETHNICITIES: list[tuple[str, str]] = [
    ("01", "Kinh"),
    ("02", "Tày"),
    ("03", "Thái"),
    ("04", "Hoa"),
    ("05", "Khơ-me"),
    ("06", "Mường"),
    ("07", "Nùng"),
    ("08", "Mông"),
    ("09", "Dao"),
    ("10", "Gia-rai"),
    ("11", "Ngái"),
    ("12", "Ê-đê"),
    ("13", "Ba-na"),
    ("14", "Xơ-đăng"),
    ("15", "Sán Chay"),
    ("16", "Cơ-ho"),
    ("17", "Chăm"),
    ("18", "Sán Dìu"),
    ("19", "Hrê"),
    ("20", "Mnông"),
    ("21", "Ra-glai"),
    ("22", "Xtiêng"),
    ("23", "Bru-Vân Kiều"),
    ("24", "Thổ"),
    ("25", "Giáy"),
    ("26", "Cơ-tu"),
    ("27", "Gié-Triêng"),
    ("28", "Mạ"),
    ("29", "Khơ-mú"),
    ("30", "Co"),
    ("31", "Tà-ôi"),
    ("32", "Chơ-ro"),
    ("33", "Kháng"),
    ("34", "Xinh-mun"),
    ("35", "Hà Nhì"),
    ("36", "Chu-ru"),
    ("37", "Lào"),
    ("38", "La Chí"),
    ("39", "La Ha"),
    ("40", "Phù Lá"),
    ("41", "La Hủ"),
    ("42", "Lự"),
    ("43", "Lô Lô"),
    ("44", "Chứt"),
    ("45", "Mảng"),
    ("46", "Pà Thẻn"),
    ("47", "Cờ Lao"),
    ("48", "Cống"),
    ("49", "Bố Y"),
    ("50", "Si La"),
    ("51", "Pu Péo"),
    ("52", "Brâu"),
    ("53", "Ơ Đu"),
    ("54", "Rơ-măm"),
]

KINH = "01"
NAMES: dict[str, str] = dict(ETHNICITIES)

# Other spellings met in files: "H'Mông", "Hmong", "Khmer", "Ê Đê", "Xơ Đăng" and so on.
_ALIASES = {"hmong": "08", "h'mong": "08", "khmer": "05", "ede": "12", "bana": "13", "xodang": "14"}


def _key(name: str) -> str:
    return fold(name).replace("-", "").replace(" ", "")


_BY_KEY = {_key(name): code for code, name in ETHNICITIES}
_BY_KEY.update({k.replace("-", "").replace(" ", ""): v for k, v in _ALIASES.items()})


def code_for_name(name: str) -> str | None:
    """The code of an ethnic group from its name, however it is accented or hyphenated."""
    if not name:
        return None
    return _BY_KEY.get(_key(name))
