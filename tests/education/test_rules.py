"""The table of hand-computed cases of ``education.rules`` (Circulars 22/2021 and 27/2020). Each
case writes its arithmetic in a comment."""
from decimal import Decimal as D

import pytest

from education import rules as r

# --- semester averages: (regular marks, mid, end, required) -> expected ---------------------------
SEMESTER = [
    # 2 regular: (7 + 8 + 2·6 + 3·9) / 7 = (15 + 12 + 27) / 7 = 54/7 = 7.714… → 7.7
    (["7", "8"], "6", "9", 2, D("7.7")),
    # 3 regular: (6 + 7 + 8 + 2·7 + 3·7) / 8 = (21 + 14 + 21) / 8 = 56/8 = 7.0
    (["6", "7", "8"], "7", "7", 3, D("7.0")),
    # 4 regular: (5 + 6 + 7 + 8 + 2·5.5 + 3·6.5) / 9 = (26 + 11 + 19.5) / 9 = 56.5/9 = 6.277… → 6.3
    (["5", "6", "7", "8"], "5.5", "6.5", 4, D("6.3")),
    # rounding up at .x5: (6 + 7 + 2·6.5 + 3·6.9)/7 = (13 + 13 + 20.7)/7 = 46.7/7 = 6.6714… → 6.7
    (["6", "7"], "6.5", "6.9", 2, D("6.7")),
    # (6.5 + 6.8 + 2·6.6 + 3·6.7) / 7 = (13.3 + 13.2 + 20.1)/7 = 46.6/7 = 6.657… → 6.7
    (["6.5", "6.8"], "6.6", "6.7", 2, D("6.7")),
    # (10 + 9 + 10 + 2·10 + 3·9.5) / 8 = (29 + 20 + 28.5)/8 = 77.5/8 = 9.6875 → 9.7
    (["10", "9", "10"], "10", "9.5", 3, D("9.7")),
    # all zero: 0/7 = 0.0
    (["0", "0"], "0", "0", 2, D("0.0")),
    # all ten: (10·4 + 20 + 30)/9 = 90/9 = 10.0
    (["10", "10", "10", "10"], "10", "10", 4, D("10.0")),
    # a regular mark missing (2 of 3 required): not computed
    (["7", "8"], "6", "9", 3, None),
    # end-of-term missing: not computed
    (["7", "8"], "6", None, 2, None),
    # more than required counts all given: (4 + 6 + 8 + 2·6 + 3·6)/8 = (18 + 12 + 18)/8 = 48/8 = 6.0
    (["4", "6", "8"], "6", "6", 2, D("6.0")),
]


@pytest.mark.parametrize("regular,mid,end,required,expected", SEMESTER)
def test_semester_average(regular, mid, end, required, expected):
    assert r.semester_average([D(m) for m in regular], D(mid) if mid else None, D(end) if end else None,
                              required=required) == expected


ROUNDING = [
    (D("6.65"), D("6.7")),  # half up
    (D("6.649"), D("6.6")),  # below half
    (D("6.75"), D("6.8")),  # half up
    (D("6.45"), D("6.5")),  # half up, where half-even would give 6.4
    (D("4.95"), D("5.0")),  # up to the boundary
]


@pytest.mark.parametrize("value,expected", ROUNDING)
def test_round1(value, expected):
    assert r.round1(value) == expected


YEAR = [
    # (6.0 + 2·7.0)/3 = 20/3 = 6.666… → 6.7
    (D("6.0"), D("7.0"), D("6.7")),
    # (8.0 + 2·8.0)/3 = 8.0
    (D("8.0"), D("8.0"), D("8.0")),
    # (5.1 + 2·4.9)/3 = 14.9/3 = 4.966… → 5.0
    (D("5.1"), D("4.9"), D("5.0")),
    # (4.6 + 2·5.0)/3 = 14.6/3 = 4.866… → 4.9
    (D("4.6"), D("5.0"), D("4.9")),
    # (7.3 + 2·6.1)/3 = 19.5/3 = 6.5 exactly
    (D("7.3"), D("6.1"), D("6.5")),
    # a semester missing: not computed
    (D("7.0"), None, None),
]


@pytest.mark.parametrize("sem1,sem2,expected", YEAR)
def test_year_average(sem1, sem2, expected):
    assert r.year_average(sem1, sem2) == expected


def eight(*values):
    return [D(v) for v in values]


LEARNING = [
    # Tốt: all ≥ 6.5 and six ≥ 8.0, comments Đạt
    (eight(8, 8, 8, 8, 8, 8, "6.5", "6.5"), ["D", "D"], "T"),
    # one below 6.5 (6.4) → not Tốt; all ≥ 5, six ≥ 6.5 → Khá
    (eight(8, 8, 8, 8, 8, 8, "6.5", "6.4"), ["D", "D"], "K"),
    # only five ≥ 8.0 (one 7.9) → Khá
    (eight(8, 8, 8, 8, 8, "7.9", 7, 7), ["D"], "K"),
    # exactly six ≥ 8.0 with 8.0 at the boundary → Tốt
    (eight("8.0", "8.0", "8.0", "8.0", "8.0", "8.0", 7, 7), ["D"], "T"),
    # Tốt marks but a comment subject Chưa đạt → not Tốt, not Khá: Đạt (one CĐ allowed)
    (eight(9, 9, 9, 9, 9, 9, 9, 9), ["D", "CD"], "D"),
    # Khá boundary: all ≥ 5.0 (one exactly 5.0), six ≥ 6.5 → Khá
    (eight("6.5", "6.5", "6.5", "6.5", "6.5", "6.5", "5.0", "5.0"), ["D"], "K"),
    # one 4.9 → not Khá; six ≥ 5.0, none < 3.5 → Đạt
    (eight("6.5", "6.5", "6.5", "6.5", "6.5", "6.5", "5.0", "4.9"), ["D"], "D"),
    # only five ≥ 6.5 → not Khá → Đạt
    (eight("6.5", "6.5", "6.5", "6.5", "6.5", "6.4", "5.0", "5.0"), ["D"], "D"),
    # Đạt boundary: a 3.5 is allowed, six ≥ 5.0
    (eight(5, 5, 5, 5, 5, 5, "3.5", "3.5"), ["D"], "D"),
    # a 3.4 → Chưa đạt
    (eight(5, 5, 5, 5, 5, 5, "5", "3.4"), ["D"], "CD"),
    # only five ≥ 5.0 (one 4.9) → Chưa đạt
    (eight(5, 5, 5, 5, 5, "4.9", 4, 4), ["D"], "CD"),
    # two comment subjects Chưa đạt → Chưa đạt even with good marks
    (eight(9, 9, 9, 9, 9, 9, 9, 9), ["CD", "CD"], "CD"),
    # one comment Chưa đạt with Khá marks → Đạt
    (eight(7, 7, 7, 7, 7, 7, 7, 7), ["CD", "D"], "D"),
    # fewer than six scored subjects (four): "at least six" becomes "all": all four ≥ 8 → Tốt
    (eight(8, 8, 9, 9), ["D"], "T"),
    # four subjects, one 7.9 → not all ≥ 8 → Khá
    (eight(8, 8, 9, "7.9"), ["D"], "K"),
]


@pytest.mark.parametrize("scored,comments,expected", LEARNING)
def test_learning_result(scored, comments, expected):
    assert r.learning_result(scored, comments) == expected


CONDUCT = [
    ("T", "T", "T"), ("K", "T", "T"),  # HK2 Tốt, HK1 Khá or better → Tốt
    ("D", "T", "K"), ("CD", "T", "K"),  # HK2 Tốt, HK1 Đạt/Chưa đạt → Khá
    ("D", "K", "K"), ("CD", "K", "D"),  # HK2 Khá: HK1 Đạt or better → Khá, else Đạt
    ("T", "D", "K"), ("K", "D", "D"),  # HK2 Đạt: HK1 Tốt → Khá, else Đạt
    ("T", "CD", "CD"),  # HK2 Chưa đạt → Chưa đạt
]


@pytest.mark.parametrize("sem1,sem2,expected", CONDUCT)
def test_year_conduct(sem1, sem2, expected):
    assert r.year_conduct(sem1, sem2) == expected


def test_decision_and_retest():
    # learning Đạt, conduct Khá, 10 days absent → promoted; grade 9 completes the level
    assert r.decision("D", "K", 10, 7) == "promoted"
    assert r.decision("D", "K", 10, 9) == "completed"
    # 46 days absent (> 45) → repeats whatever the results
    assert r.decision("T", "T", 46, 6) == "repeat"
    assert r.decision("T", "T", 45, 6) == "promoted"
    # learning Chưa đạt → retest
    assert r.decision("CD", "T", 0, 6) == "retest"
    # conduct Chưa đạt → summer training (retest decision)
    assert r.decision("K", "CD", 0, 6) == "retest"
    # the subjects to retest: averages below 5.0 and comment subjects Chưa đạt
    year = {"toan": D("4.9"), "van": D("5.0"), "anh": D("3.0"), "the_duc": "CD", "am_nhac": "D"}
    assert r.retest_subjects(year) == ["toan", "anh", "the_duc"]


def test_after_retest():
    year = {f"s{i}": D("6.0") for i in range(6)} | {"toan": D("3.0"), "van": D("4.0"), "td": "D"}
    # before: a 3.0 < 3.5 → Chưa đạt
    assert r.learning_result([v for k, v in year.items() if k != "td"], ["D"]) == "CD"
    # retest toan 5.5: now 6·6.0 ≥ 5, min 4.0 ≥ 3.5 → Đạt → promoted
    assert r.after_retest(year, {"toan": D("5.5")}, {"td"}, "K", 6) == ("D", "promoted")
    # retest toan 3.0 again: still < 3.5 → Chưa đạt → repeats
    assert r.after_retest(year, {"toan": D("3.0")}, {"td"}, "K", 6) == ("CD", "repeat")
    # grade 9 passing the retest completes the level
    assert r.after_retest(year, {"toan": D("5.5")}, {"td"}, "D", 9) == ("D", "completed")


GOOD10 = ["T"] * 10
PRIMARY = [
    # every subject HTT, every aspect Tốt, lowest test 9 → Hoàn thành xuất sắc
    (["HTT", "HTT"], GOOD10, [9, 10], "HTXS"),
    # lowest test 8 → not HTXS → Hoàn thành tốt
    (["HTT", "HTT"], GOOD10, [8, 10], "HTT"),
    # lowest test 7 → Hoàn thành tốt
    (["HTT", "HTT"], GOOD10, [7, 10], "HTT"),
    # lowest test 6 → Hoàn thành
    (["HTT", "HTT"], GOOD10, [6, 10], "HT"),
    # a subject HT → Hoàn thành (tests 10)
    (["HTT", "HT"], GOOD10, [10, 10], "HT"),
    # an aspect Đạt → not HTT → Hoàn thành
    (["HTT", "HTT"], ["T"] * 9 + ["D"], [10, 10], "HT"),
    # lowest test 5 → Hoàn thành
    (["HT", "HT"], GOOD10, [5, 6], "HT"),
    # lowest test 4 → Chưa hoàn thành
    (["HT", "HT"], GOOD10, [4, 6], "CHT"),
    # an aspect Cần cố gắng → Chưa hoàn thành
    (["HTT", "HTT"], ["T"] * 9 + ["CCG"], [10, 10], "CHT"),
    # a subject Chưa hoàn thành → Chưa hoàn thành
    (["HTT", "CHT"], GOOD10, [10, 10], "CHT"),
]


@pytest.mark.parametrize("subjects,aspects,tests,expected", PRIMARY)
def test_primary_outcome(subjects, aspects, tests, expected):
    assert r.primary_outcome(subjects, aspects, tests) == expected


def test_commendations_and_primary_decision():
    assert r.commendation("HTXS") == "Học sinh Xuất sắc"
    assert r.commendation("HTT") == ""
    assert r.commendation("HTT", outstanding=True) == "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện"
    assert r.primary_decision("CHT", 3) == "retest"
    assert r.primary_decision("HT", 5) == "completed"
    assert r.primary_decision("HTT", 2) == "promoted"


PARSE = [
    ("8,5", D("8.5")), ("8.5", D("8.5")), ("10", D("10.0")), ("0", D("0.0")), (" 7 ", D("7.0")), ("", None),
]


@pytest.mark.parametrize("text,expected", PARSE)
def test_parse_score(text, expected):
    assert r.parse_score(text) == expected


@pytest.mark.parametrize("text,code", [("8,25", "too_many_decimals"), ("10.5", "out_of_range"),
                                       ("11", "out_of_range"), ("-1", "not_a_number"), ("abc", "not_a_number"),
                                       ("8,5,1", "not_a_number")])
def test_parse_score_refused(text, code):
    with pytest.raises(ValueError) as caught:
        r.parse_score(text)
    assert str(caught.value) == code


def test_parse_test_score():
    assert r.parse_test_score("9") == 9
    assert r.parse_test_score("") is None
    for bad in ("0", "11", "8.5", "x"):
        with pytest.raises(ValueError):
            r.parse_test_score(bad)
    # grades 4–5 test Tiếng Việt and Toán at mid-semester too
    assert r.test_periods(4, "toan") == ("mid1", "sem1", "mid2", "year")
    assert r.test_periods(1, "toan") == ("sem1", "year")
