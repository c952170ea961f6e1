"""The normaliser: what the voice is given for what an editor writes (no database)."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from broadcasting.pronunciations import DEFAULT_PRONUNCIATIONS, default_pronunciations
from broadcasting.speech.normalize import UNIT_WORDS, normalize, spell, unsayable
from broadcasting.speech.numbers import number_to_words

DEFAULTS, DEFAULTS_CI = default_pronunciations()


def read(text: str, **kwargs) -> str:
    kwargs.setdefault("pronunciations", DEFAULTS)
    kwargs.setdefault("case_insensitive", DEFAULTS_CI)
    return normalize(text, **kwargs).rstrip(".")


NUMBERS = [
    (0, "không"),
    (5, "năm"),
    (10, "mười"),  # never "một mươi"
    (11, "mười một"),  # "một", not "mốt", after mười
    (14, "mười bốn"),  # "bốn", not "tư", after mười
    (15, "mười lăm"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (55, "năm mươi lăm"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (115, "một trăm mười lăm"),
    (1_000, "một nghìn"),
    (1_005, "một nghìn không trăm linh năm"),
    (1_024, "một nghìn không trăm hai mươi tư"),
    (2_026, "hai nghìn không trăm hai mươi sáu"),
    (10_500, "mười nghìn năm trăm"),
    (1_000_000, "một triệu"),
    (1_001_000, "một triệu không trăm linh một nghìn"),
    (1_000_500, "một triệu năm trăm"),
    (1_000_000_000, "một tỷ"),
    (21_500_000_000, "hai mươi mốt tỷ năm trăm triệu"),
    (1_234_567_891, "một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi mốt"),
    (1_000_000_000_000, "một nghìn tỷ"),
    (-3, "âm ba"),
]


@pytest.mark.parametrize("n, words", NUMBERS)
def test_number_to_words(n, words):
    assert number_to_words(n) == words


def test_the_southern_odd_word_and_thousand_word():
    assert number_to_words(105, odd_word="lẻ") == "một trăm lẻ năm"
    assert number_to_words(2_005, odd_word="lẻ", thousand_word="ngàn") == "hai ngàn không trăm lẻ năm"
    assert read("Có 105 hộ", odd_word="lẻ") == "có một trăm lẻ năm hộ"
    with pytest.raises(ValueError):
        number_to_words(1, odd_word="le")


# (rule, written, read) — every rule of the issue, at least one case each.
CASES = [
    # dates
    ("date", "ngày 12/3", "ngày mười hai tháng ba"),
    ("date", "12/3/2026", "ngày mười hai tháng ba năm hai nghìn không trăm hai mươi sáu"),
    ("date", "Ngày 05/03/2026 họp dân", "ngày năm tháng ba năm hai nghìn không trăm hai mươi sáu họp dân"),
    ("date", "12.3.2026", "ngày mười hai tháng ba năm hai nghìn không trăm hai mươi sáu"),
    ("date", "Sáng 12/3, họp", "sáng ngày mười hai tháng ba, họp"),
    ("date", "Từ 1/4 đến 30/4", "từ ngày một tháng tư đến ngày ba mươi tháng tư"),
    ("date", "từ ngày 12-15/3", "từ ngày mười hai đến ngày mười lăm tháng ba"),
    ("date", "tháng 12/2025", "tháng mười hai năm hai nghìn không trăm hai mươi lăm"),
    ("date", "trong tháng 4", "trong tháng tư"),
    ("date", "quý 1/2026", "quý một năm hai nghìn không trăm hai mươi sáu"),
    ("date", "năm 2026", "năm hai nghìn không trăm hai mươi sáu"),
    # times
    ("time", "7h30", "bảy giờ ba mươi phút"),
    ("time", "7:30", "bảy giờ ba mươi phút"),
    ("time", "17h", "mười bảy giờ"),
    ("time", "19h00", "mười chín giờ"),
    ("time", "lúc 07:05", "lúc bảy giờ năm phút"),
    ("time", "Từ 7h30-9h sáng", "từ bảy giờ ba mươi phút đến chín giờ sáng"),
    ("time", "7h30 phút", "bảy giờ ba mươi phút"),
    ("time", "trực 24/24h", "trực hai mươi tư trên hai mươi tư giờ"),
    # numbers: mốt, tư, lăm, linh, mười/mươi, thousands with dots, up to billions
    ("number", "21 hộ", "hai mươi mốt hộ"),
    ("number", "24 người", "hai mươi tư người"),
    ("number", "15 và 25", "mười lăm và hai mươi lăm"),
    ("number", "105 con", "một trăm linh năm con"),
    ("number", "10 và 11", "mười và mười một"),
    ("number", "1.000.000", "một triệu"),
    ("number", "1.234.567.890", "một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi"),
    ("number", "01 bộ hồ sơ", "một bộ hồ sơ"),
    # decimals and percentages
    ("decimal", "2,5 tấn", "hai phẩy năm tấn"),
    ("decimal", "3,05 mét", "ba phẩy không năm mét"),
    ("percent", "2,5%", "hai phẩy năm phần trăm"),
    ("percent", "tăng 50 %", "tăng năm mươi phần trăm"),
    # money
    ("money", "1.000.000.000 đ", "một tỷ đồng"),
    ("money", "500.000đ", "năm trăm nghìn đồng"),
    ("money", "200.000 VNĐ", "hai trăm nghìn đồng"),
    ("money", "1,5 tỷ đồng", "một phẩy năm tỷ đồng"),
    ("money", "12.500đ/kg", "mười hai nghìn năm trăm đồng một ki lô gam"),
    # phone numbers, digit by digit in groups
    ("phone", "0912 345 678", "không chín một hai, ba bốn năm, sáu bảy tám"),
    ("phone", "0912345678", "không chín một hai, ba bốn năm, sáu bảy tám"),
    ("phone", "Liên hệ: 0987.654.321", "liên hệ: không chín tám bảy, sáu năm bốn, ba hai một"),
    ("phone", "+84 912 345 678", "cộng tám tư, chín một hai, ba bốn năm, sáu bảy tám"),
    ("phone", "gọi 113", "gọi một một ba"),
    # ranges, ordinals, fractions, signs
    ("range", "5-7 ngày", "năm đến bảy ngày"),
    ("ordinal", "thứ 2, 12/3", "thứ hai, ngày mười hai tháng ba"),
    ("ordinal", "lần thứ 1", "lần thứ nhất"),
    ("ordinal", "thứ 4", "thứ tư"),
    ("ordinal", "Kỳ họp thứ VIII", "kỳ họp thứ tám"),
    ("roman", "Khóa XV", "khóa mười lăm"),
    ("fraction", "3/4 số hộ", "ba phần tư số hộ"),
    ("sign", "Nhiệt độ -2°C", "nhiệt độ âm hai độ xê"),
    # abbreviations and units (the default list)
    ("abbreviation", "UBND xã Tú Lệ", "ủy ban nhân dân xã tú lệ"),
    ("abbreviation", "HĐND, TTHC, BHYT, BHXH", "hội đồng nhân dân, thủ tục hành chính, bảo hiểm y tế, bảo hiểm xã hội"),
    ("abbreviation", "CCCD và THCS, THPT", "căn cước công dân và trung học cơ sở, trung học phổ thông"),
    ("abbreviation", "UBMTTQ, ĐTN, HTX", "ủy ban mặt trận tổ quốc, đoàn thanh niên, hợp tác xã"),
    ("abbreviation", "V/v họp dân, mời Đ/c Thành", "về việc họp dân, mời đồng chí thành"),
    ("unit", "5km", "năm ki lô mét"),
    ("unit", "100m2 và 20 m²", "một trăm mét vuông và hai mươi mét vuông"),
    ("unit", "0,5 ha, 30 kg", "không phẩy năm héc ta, ba mươi ki lô gam"),
    ("unit", "nắng nóng 38°C", "nắng nóng ba mươi tám độ xê"),
    ("unit", "40km/h", "bốn mươi ki lô mét trên giờ"),
    # spelling of unknown abbreviations, letters with digits
    ("spell", "ATTP và OK", "an toàn thực phẩm và o ca"),
    ("spell", "Đoàn XYZ", "đoàn ích xì i dài dét"),
    ("spell", "Cúm H5N1", "cúm hát năm en nờ một"),
    ("spell", "lớp 9A, khu B", "lớp chín a, khu bê"),
    ("words", "THÔNG BÁO KHẨN", "thông báo khẩn"),
    ("words", "Đồng bào H'Mông", "đồng bào hờ mông"),
    # symbols, layout and characters the voice cannot say
    ("symbol", "A & B", "a và bê"),
    ("symbol", "Dự kiến ~200 hộ", "dự kiến khoảng hai trăm hộ"),
    ("layout", "- 5 hộ nghèo\n- 7 hộ cận nghèo", "năm hộ nghèo. bảy hộ cận nghèo"),
    ("layout", "Nội dung:\n+ Họp dân\n• Tiêm chủng", "nội dung: họp dân. tiêm chủng"),
    ("layout", "THÔNG BÁO\nLịch tiêm", "thông báo. lịch tiêm"),
    ("layout", '"Ngày hội" (đại đoàn kết)', "ngày hội, đại đoàn kết"),
    ("unsayable", "Chào 👋 bà con ★", "chào bà con"),
    ("unsayable", "Café Zürich", "café zurich"),
    ("unicode", "Tu\u0300 Lê\u0323", "tù lệ"),  # decomposed marks become the letters
    # emergency numbers, digit by digit after the word of a call or a service; a count stays a count
    ("emergency", "Cấp cứu 115", "cấp cứu một một năm"),
    ("emergency", "Công an 113, cứu hỏa 114", "công an một một ba, cứu hỏa một một bốn"),
    ("emergency", "Khi có cháy, gọi ngay 114.", "khi có cháy, gọi ngay một một bốn"),
    ("emergency", "gọi 113, 114 hoặc 115", "gọi một một ba, một một bốn hoặc một một năm"),
    ("emergency", "PCCC: 114", "phòng cháy chữa cháy: một một bốn"),
    ("emergency", "Đường dây nóng bảo vệ trẻ em 111", "đường dây nóng bảo vệ trẻ em một một một"),
    ("emergency", "Có 113 hộ, 115 người", "có một trăm mười ba hộ, một trăm mười lăm người"),
    # roads and chainages
    ("road", "QL32", "quốc lộ ba mươi hai"),
    ("road", "Sạt lở trên QL 279", "sạt lở trên quốc lộ hai trăm bảy mươi chín"),
    ("road", "QL.4D và QL1A", "quốc lộ bốn dê và quốc lộ một a"),
    ("road", "TL 152, ĐT.175, ĐH 12", "tỉnh lộ một trăm năm mươi hai, đường tỉnh một trăm bảy mươi lăm, đường huyện mười hai"),
    ("road", "ĐT: 0912 345 678", "đê tê: không chín một hai, ba bốn năm, sáu bảy tám"),  # a phone, not a road
    ("chainage", "KM 15+300", "ki lô mét mười lăm cộng ba trăm"),
    ("chainage", "tại Km15+300 QL32", "tại ki lô mét mười lăm cộng ba trăm quốc lộ ba mươi hai"),
    ("chainage", "km 15 + 300", "ki lô mét mười lăm cộng ba trăm"),
    ("chainage", "5 km 300 m", "năm ki lô mét ba trăm mét"),  # units after numbers, not a chainage
    # the minus is said
    ("sign", "-5°C", "âm năm độ xê"),
    ("sign", "lãi -3%", "lãi âm ba phần trăm"),
    ("sign", "Lỗ -2.000.000 đồng", "lỗ âm hai triệu đồng"),
    ("sign", "từ -5 đến 3°C", "từ âm năm đến ba độ xê"),
    ("sign", "- 5 hộ", "năm hộ"),  # a bullet, not a minus
    ("sign", "năm học 2025-2026", "năm học hai nghìn không trăm hai mươi lăm đến hai nghìn không trăm hai mươi sáu"),
    # a document's number and symbol
    ("document", "12/QĐ-UBND", "số mười hai, quyết định, ủy ban nhân dân"),
    ("document", "Quyết định số 12/QĐ-UBND", "quyết định số mười hai, quyết định, ủy ban nhân dân"),
    ("document", "Thông báo số 02/TB-UBND ngày 05/03/2026",
     "thông báo số hai, thông báo, ủy ban nhân dân ngày năm tháng ba năm hai nghìn không trăm hai mươi sáu"),
    ("document", "Nghị định 15/2020/NĐ-CP",
     "nghị định số mười lăm năm hai nghìn không trăm hai mươi, nghị định của chính phủ"),
    ("document", "Kế hoạch 125/KH-UBND", "kế hoạch số một trăm hai mươi lăm, kế hoạch, ủy ban nhân dân"),
    ("document", "theo Chỉ thị 05/CT-UBND", "theo chỉ thị số năm, chỉ thị, ủy ban nhân dân"),
    ("document", "theo CT-UBND", "theo chỉ thị, ủy ban nhân dân"),
    ("document", "Công văn 1.234/UBND-VP", "công văn số một nghìn hai trăm ba mươi tư, ủy ban nhân dân, văn phòng"),
    ("document", "3/4 số hộ, 12/3", "ba phần tư số hộ, ngày mười hai tháng ba"),  # no symbol: a fraction, a date
    # a unit only after a number
    ("unit", "Cười ha ha", "cười ha ha"),
    ("unit", "5 ha lúa", "năm héc ta lúa"),
    ("unit", "2,5 ha và 3ha", "hai phẩy năm héc ta và ba héc ta"),
    ("unit", "50.000 đồng/ha", "năm mươi nghìn đồng một héc ta"),
]


@pytest.mark.parametrize("rule, written, spoken", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_the_normaliser(rule, written, spoken):
    assert read(written) == spoken


def test_the_table_covers_every_rule():
    assert len(CASES) >= 40
    assert {"date", "time", "number", "decimal", "percent", "money", "phone", "range", "ordinal", "abbreviation",
            "unit", "unsayable"} <= {rule for rule, _w, _s in CASES}


def test_an_editors_override_wins_over_every_rule():
    # a number: the phone rule would read "một một năm"
    assert read("Gọi 115 ngay", pronunciations={"115": "một một lăm"}) == "gọi một một lăm ngay"
    # a unit: the unit rule would read "ki lô mét"
    assert read("Cách 5km", pronunciations={"km": "cây số"}) == "cách năm cây số"
    # a date: the date rule would read "ngày hai tháng chín"
    assert read("Mừng 2/9", pronunciations={"2/9": "Quốc khánh"}) == "mừng quốc khánh"
    # a word of the default list, read differently by this commune
    assert read("UBND xã", pronunciations={**DEFAULTS, "UBND": "ủy ban"}) == "ủy ban xã"
    # case-insensitive entries match any case; case-sensitive ones only theirs
    assert read("covid và Covid", pronunciations={"COVID": "cô vít"}, case_insensitive={"COVID"}) == "cô vít và cô vít"
    assert read("Tp và TP", pronunciations={"TP": "thành phố"}) == "tp và thành phố"
    # digits inside a reading are read too
    assert read("Số 5G", pronunciations={"5G": "5 gờ"}) == "số năm gờ"


def test_unsayable_characters_are_listed_once_in_order():
    assert unsayable("Chào 👋 bà con ★ 你好 👋") == ["👋", "★", "你", "好"]
    assert unsayable("Tú Lệ: 1.000.000 đồng, 2,5% (thứ 2) — “tin” & 7h30") == []
    # a character with a reading in the list is sayable
    assert unsayable("Đánh giá ★★★", pronunciations={"★": "sao"}) == []
    assert read("3 ★", pronunciations={"★": "sao"}) == "ba sao"


def test_spelling_names_the_letters():
    assert spell("ATTP") == "a tê tê pê"
    assert spell("WHO") == "vê kép hát o"


def test_every_default_entry_is_read_as_written():
    for written, spoken, _case, _note in DEFAULT_PRONUNCIATIONS:
        result = read(f"Về {written} này")
        if written in UNIT_WORDS and spoken.lower() not in result:
            result = read(f"Về 5 {written} này")  # a unit that is also a word: only after a number
        assert spoken.lower() in result, (written, result)


def test_a_unit_that_is_a_word_is_a_unit_only_after_a_number():
    assert read("ha ha") == "ha ha"
    assert read("Cách 5km", pronunciations={"km": "cây số"}) == "cách năm cây số"
    assert read("vài km nữa") == "vài ki lô mét nữa"  # "km" is no word: read as a unit anywhere
    assert read("ha ha, 5 ha", pronunciations={"ha": "hếc ta"}) == "ha ha, năm hếc ta"


# What any text becomes: no digits, nothing unsayable, no placeholder, no error.
_ALPHABET = st.sampled_from(list("0123456789 ./,-:%hđ°Cxk+-&@~()\n") + ["UBND", "km", "ngày", "tháng", "thứ", "👋",
                                                                        "Tú Lệ", "VNĐ", "m²", "I", "V", "X"])


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_any_text_becomes_words(text):
    spoken = normalize(text, pronunciations=DEFAULTS, case_insensitive=DEFAULTS_CI)
    assert not re.search(r"\d", spoken), (text, spoken)
    assert not re.search("[\ue000-\uf8ff]", spoken)
    assert unsayable(spoken) == []
    assert spoken == spoken.lower()
