"""The assessment rules of Circular 22/2021/TT-BGDĐT (lower secondary) and Circular 27/2020/TT-BGDĐT
(primary) as pure functions: no database, Decimal arithmetic, results rounded half up to one
decimal (``round1``: 6.65 → 6.7, 6.649 → 6.6). The services (``education.assessment``) read the
cells, call these and store ``SubjectResult`` / ``StudentResult``.

What we follow. The circulars' own text was not at hand when these rules were written; the points
below follow DOMAIN.md and the issue, and, beyond them, the articles as schools' guidance commonly
quotes them — those are marked [unconfirmed] and should be checked against the published text:

Lower secondary, Circular 22/2021
* Art. 7: regular marks (ĐĐGtx) a semester: at least 2 for a subject of up to 35 periods a year,
  3 for more than 35 up to 70, 4 above 70 (``Subject.regular_marks``). The grid has the columns
  ``tx1`` … ``tx4``; a teacher may give more than the minimum within those four. The semester
  average counts the regular marks actually given (nTX); with fewer than the minimum, or without
  the mid-term or end-of-term mark, the average is not computed (the student has marks to make
  up, Art. 6).
* Art. 9.1: semester average ``ĐTBmhk = (ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck) / (nTX + 5)``; year average
  ``ĐTBmcn = (ĐTBmhkI + 2·ĐTBmhkII) / 3`` computed from the rounded semester averages.
* Comment-assessed subjects: the teacher gives the semester level Đạt / Chưa đạt (one ``level``
  cell a semester); the year level is the level of semester 2 (Art. 9.2) [unconfirmed].
* Art. 9.3 (learning result, the same criteria for a semester and the year):
  Tốt: every comment subject Đạt, every scored subject ≥ 6.5, at least 6 of them ≥ 8.0;
  Khá: every comment subject Đạt, every scored subject ≥ 5.0, at least 6 of them ≥ 6.5;
  Đạt: at most one comment subject Chưa đạt, at least 6 scored subjects ≥ 5.0, none below 3.5;
  Chưa đạt: the rest.
  **Fewer than six scored subjects** (the programme has eight in grades 6–9, so this happens
  only where a class is taught fewer): "at least six" becomes "all of them" — a class cannot be
  held to more subjects than it has (``SIX``/``_at_least``).
* Art. 8 (conduct, rèn luyện): the homeroom teacher gives Tốt / Khá / Đạt / Chưa đạt a semester;
  the year's conduct follows the table of Art. 8.2 from the two semesters (``year_conduct``)
  [unconfirmed].
* Art. 12–13 (decision): promoted when the year's conduct and learning are Đạt or better and the
  student was absent no more than 45 days (the circular counts sessions, buổi; we count the days
  of ``Absence`` with or without leave, one session a day); over 45 → repeats the grade; else
  summer retest (learning Chưa đạt: the subjects with a year average below 5.0 or Chưa đạt) and/or
  summer training (conduct Chưa đạt). After the retest the learning result is computed again with
  the retest marks replacing the year's; promoted when it reaches Đạt, else repeats. Grade 9
  completes the level instead of being promoted. [unconfirmed: the 45 days and the retest rules]

Primary, Circular 27/2020
* Art. 6–7: subjects at the levels Hoàn thành tốt / Hoàn thành / Chưa hoàn thành at mid- and
  end-of-semester; the periodic test (score 1–10, a whole number) at the end of semester 1 and of
  the year for the tested subjects, and also at mid-semester 1 and 2 for Tiếng Việt and Toán of
  grades 4 and 5 (``test_periods``) [unconfirmed]. Qualities and competencies: Tốt / Đạt / Cần cố gắng.
* Art. 9 (education result at the end of the year; applied to the end of semester 1 as well):
  Hoàn thành xuất sắc: every subject Hoàn thành tốt, every quality and competency Tốt, every
  tested subject's test ≥ 9; Hoàn thành tốt: every subject Hoàn thành tốt, every quality and
  competency Tốt, every test ≥ 7; Hoàn thành: every subject Hoàn thành or better, every quality
  and competency Đạt or better, every test ≥ 5; Chưa hoàn thành: the rest. [unconfirmed: the
  thresholds 9 / 7 / 5 follow the issue]
* Art. 11 (commendations): "Học sinh Xuất sắc" for Hoàn thành xuất sắc; "Học sinh Tiêu biểu hoàn
  thành tốt trong học tập và rèn luyện" for a student of Hoàn thành tốt whom the teachers propose
  for outstanding progress (``outstanding``) — a proposal, not a computed fact.
* Art. 12: a student of Chưa hoàn thành is helped over the summer and assessed again (decision
  ``retest``); the others complete the grade (grade 5: the level).
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.utils.translation import pgettext_lazy

# --- level codes (stored, at most 4 characters) --------------------------------------------------

GOOD, FAIR, PASS, FAIL = "T", "K", "D", "CD"  # Tốt, Khá, Đạt, Chưa đạt (lower secondary; also Tốt/Đạt of primary aspects)
EXCELLENT, COMPLETED_WELL, COMPLETED, NOT_COMPLETED = "HTXS", "HTT", "HT", "CHT"
NEEDS_EFFORT = "CCG"  # Cần cố gắng

LABELS = {
    GOOD: pgettext_lazy("assessment level", "Good"),
    FAIR: pgettext_lazy("assessment level", "Fair"),
    PASS: pgettext_lazy("assessment level", "Pass"),
    FAIL: pgettext_lazy("assessment level", "Not passed"),
    EXCELLENT: pgettext_lazy("assessment level", "Completed excellently"),
    COMPLETED_WELL: pgettext_lazy("assessment level", "Completed well"),
    COMPLETED: pgettext_lazy("assessment level", "Completed"),
    NOT_COMPLETED: pgettext_lazy("assessment level", "Not completed"),
    NEEDS_EFFORT: pgettext_lazy("assessment level", "Needs more effort"),
}

COMMENT_LEVELS = (PASS, FAIL)  # comment-assessed subjects of lower secondary
CONDUCT_LEVELS = (GOOD, FAIR, PASS, FAIL)
PRIMARY_SUBJECT_LEVELS = (COMPLETED_WELL, COMPLETED, NOT_COMPLETED)
PRIMARY_ASPECT_LEVELS = (GOOD, PASS, NEEDS_EFFORT)
PRIMARY_OUTCOMES = (EXCELLENT, COMPLETED_WELL, COMPLETED, NOT_COMPLETED)

RANK = {GOOD: 3, FAIR: 2, PASS: 1, FAIL: 0}
SIX = 6
MAX_ABSENCES = 45

COMMENDATION_EXCELLENT = "Học sinh Xuất sắc"
COMMENDATION_OUTSTANDING = "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện"

PROMOTED, RETEST, REPEAT, COMPLETED_LEVEL = "promoted", "retest", "repeat", "completed"


def label(code: str) -> str:
    return str(LABELS.get(code, code or ""))


# --- arithmetic ----------------------------------------------------------------------------------

def _fraction(value) -> Fraction:
    return Fraction(str(value)) if not isinstance(value, Fraction) else value


def round1(value) -> Decimal:
    """Half up to one decimal, from the exact value (a Fraction keeps 6.649… exact)."""
    exact = _fraction(value)
    tenths = exact * 10
    sign = -1 if tenths < 0 else 1
    whole = int(abs(tenths) + Fraction(1, 2))  # floor(|x|·10 + ½)
    return Decimal(sign * whole) / Decimal(10)


def parse_score(text) -> Decimal | None:
    """A mark typed in the grid: 0–10 with at most one decimal, comma or dot ("8,5" = 8.5).
    Empty → None. Anything else raises ValueError with the reason's code."""
    if text is None:
        return None
    raw = str(text).strip().replace(",", ".")
    if raw == "":
        return None
    if raw.count(".") > 1 or not raw.replace(".", "").isdigit():
        raise ValueError("not_a_number")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError("not_a_number") from None
    if value < 0 or value > 10:
        raise ValueError("out_of_range")
    if "." in raw and len(raw.split(".")[1]) > 1 and value != value.quantize(Decimal("0.1")):
        raise ValueError("too_many_decimals")
    return value.quantize(Decimal("0.1"))


def parse_test_score(text) -> int | None:
    """A primary periodic test: a whole number 1–10. Empty → None; else ValueError."""
    if text is None or str(text).strip() == "":
        return None
    raw = str(text).strip().replace(",", ".")
    if raw.endswith(".0"):
        raw = raw[:-2]
    if not raw.isdigit():
        raise ValueError("not_whole")
    value = int(raw)
    if not 1 <= value <= 10:
        raise ValueError("test_out_of_range")
    return value


def _tenths(value) -> int | None:
    """A mark of at most one decimal as a whole number of tenths (8.5 → 85); None otherwise."""
    if isinstance(value, int):
        return value * 10
    if isinstance(value, Decimal) and value >= 0:
        tenths = value * 10
        if tenths == tenths.to_integral_value():
            return int(tenths)
    return None


def _weighted(parts, divisor: int) -> Decimal:
    """Σ(weight·value) / divisor rounded half up to one decimal: in whole tenths when every value
    is a mark of one decimal (the grid's case, fast and exact), else with Fractions."""
    tenths = [(_tenths(v), w) for v, w in parts]
    if all(t is not None for t, _w in tenths):
        total = sum(t * w for t, w in tenths)
        return Decimal((2 * total + divisor) // (2 * divisor)).scaleb(-1)
    return round1(sum((_fraction(v) * w for v, w in parts), Fraction(0)) / divisor)


def semester_average(regular: Iterable, mid, end, *, required: int = 2) -> Decimal | None:
    """(ΣTX + 2·GK + 3·CK) / (nTX + 5), rounded; None while marks are missing (fewer regular marks
    than ``required``, or no mid-term or end-of-term mark)."""
    marks = [m for m in regular if m is not None]
    if mid is None or end is None or len(marks) < required:
        return None
    return _weighted([(m, 1) for m in marks] + [(mid, 2), (end, 3)], len(marks) + 5)


def year_average(sem1, sem2) -> Decimal | None:
    """(HK1 + 2·HK2) / 3 from the semester averages, rounded; None when one is missing."""
    if sem1 is None or sem2 is None:
        return None
    return _weighted([(sem1, 1), (sem2, 2)], 3)


def comment_year_level(sem1_level: str, sem2_level: str) -> str:
    """A comment-assessed subject's year level is its semester 2 level (Art. 9.2)."""
    return sem2_level or ""


# --- lower secondary: learning result, conduct, decision ----------------------------------------

def _at_least(count: int, scored_total: int) -> bool:
    """"At least six": with fewer than six scored subjects, all of them."""
    return count >= min(SIX, scored_total)


def learning_result(scored: Iterable, comments: Iterable[str]) -> str:
    """Tốt / Khá / Đạt / Chưa đạt from the averages of the scored subjects and the levels of the
    comment-assessed subjects (Art. 9.3). With no scored subject at all the result is Chưa đạt."""
    averages = [Decimal(a) for a in scored]
    levels = list(comments)
    n = len(averages)
    if n == 0:
        return FAIL
    failed_comments = sum(1 for level in levels if level != PASS)
    if failed_comments == 0 and min(averages) >= Decimal("6.5") \
            and _at_least(sum(a >= 8 for a in averages), n):
        return GOOD
    if failed_comments == 0 and min(averages) >= 5 and _at_least(sum(a >= Decimal("6.5") for a in averages), n):
        return FAIR
    if failed_comments <= 1 and min(averages) >= Decimal("3.5") and _at_least(sum(a >= 5 for a in averages), n):
        return PASS
    return FAIL


def year_conduct(sem1: str, sem2: str) -> str:
    """The year's conduct from the two semesters (Art. 8.2)."""
    if not sem1 or not sem2:
        return ""
    if sem2 == GOOD:
        return GOOD if sem1 in (GOOD, FAIR) else FAIR
    if sem2 == FAIR:
        return FAIR if sem1 in (GOOD, FAIR, PASS) else PASS
    if sem2 == PASS:
        return FAIR if sem1 == GOOD else PASS
    return FAIL


def retest_subjects(year_results: dict) -> list:
    """The subjects a student retests: ``year_results`` maps a subject key to a year average
    (Decimal) or a comment level; those below 5.0 or Chưa đạt."""
    keys = []
    for key, value in year_results.items():
        if isinstance(value, str):
            if value != PASS:
                keys.append(key)
        elif value is None or Decimal(value) < 5:
            keys.append(key)
    return keys


def decision(learning: str, conduct: str, absences: int, grade: int) -> str:
    """The year's decision before any retest (Art. 12–13)."""
    if absences > MAX_ABSENCES:
        return REPEAT
    if RANK.get(learning, -1) >= RANK[PASS] and RANK.get(conduct, -1) >= RANK[PASS]:
        return COMPLETED_LEVEL if grade == 9 else PROMOTED
    return RETEST


def after_retest(year_results: dict, retest_results: dict, comment_keys: set, conduct: str, grade: int):
    """The learning result after the summer retest (retest marks replacing the year's) and the
    decision: (learning, decision). ``year_results``/``retest_results``: subject key → average
    or level; ``comment_keys``: which keys are comment-assessed. ``conduct``: the year's conduct
    (after summer training where there was one)."""
    merged = dict(year_results)
    for key, value in retest_results.items():
        if value is not None and value != "":
            merged[key] = value
    scored = [v for k, v in merged.items() if k not in comment_keys and v is not None]
    comments = [v for k, v in merged.items() if k in comment_keys]
    learning = learning_result(scored, comments)
    ok = RANK[learning] >= RANK[PASS] and RANK.get(conduct, -1) >= RANK[PASS]
    if not ok:
        return learning, REPEAT
    return learning, COMPLETED_LEVEL if grade == 9 else PROMOTED


# --- primary (Circular 27/2020) ------------------------------------------------------------------

def test_periods(grade: int, subject_code: str) -> tuple[str, ...]:
    """The periods at which a tested primary subject has a test score."""
    periods = ("sem1", "year")
    if grade in (4, 5) and subject_code in ("tieng_viet", "toan"):
        periods = ("mid1", "sem1", "mid2", "year")
    return periods


def primary_outcome(subject_levels: Iterable[str], aspect_levels: Iterable[str], test_scores: Iterable) -> str:
    """Hoàn thành xuất sắc / tốt / Hoàn thành / Chưa hoàn thành (Art. 9)."""
    subjects = list(subject_levels)
    aspects = list(aspect_levels)
    tests = [int(t) for t in test_scores]
    if not subjects or any(level not in PRIMARY_SUBJECT_LEVELS for level in subjects):
        return NOT_COMPLETED
    all_htt = all(level == COMPLETED_WELL for level in subjects)
    all_good = all(level == GOOD for level in aspects)
    lowest = min(tests) if tests else 10
    if all_htt and all_good and lowest >= 9:
        return EXCELLENT
    if all_htt and all_good and lowest >= 7:
        return COMPLETED_WELL
    if all(level != NOT_COMPLETED for level in subjects) and all(level in (GOOD, PASS) for level in aspects) \
            and lowest >= 5:
        return COMPLETED
    return NOT_COMPLETED


def commendation(outcome: str, *, outstanding: bool = False) -> str:
    if outcome == EXCELLENT:
        return COMMENDATION_EXCELLENT
    if outcome == COMPLETED_WELL and outstanding:
        return COMMENDATION_OUTSTANDING
    return ""


def primary_decision(outcome: str, grade: int) -> str:
    if not outcome:
        return ""
    if outcome == NOT_COMPLETED:
        return RETEST
    return COMPLETED_LEVEL if grade == 5 else PROMOTED
