"""The WHO Child Growth Standards shipped as data (``health.growth``): the tables give back the
values of the WHO's published z-score tables (median and −2 SD), z-scores and flags on those
reference values for boys and girls at length and height ages, the WHO's restricted rule for
weight beyond ±3 SD, the 0.7 cm correction, and the age in months the WHO's way."""
from __future__ import annotations

import datetime

import pytest

from health import growth


def test_every_table_names_its_source_and_covers_its_range():
    expected = {
        "wfa_boys": (0, 60, 61), "wfa_girls": (0, 60, 61),
        "lfa_boys": (0, 24, 25), "lfa_girls": (0, 24, 25), "hfa_boys": (24, 60, 37), "hfa_girls": (24, 60, 37),
        "wfl_boys": (45, 110, 131), "wfl_girls": (45, 110, 131),
        "wfh_boys": (65, 120, 111), "wfh_girls": (65, 120, 111),
    }
    for name, (first, last, rows) in expected.items():
        table = growth.table(name)
        assert (table[0][0], table[-1][0], len(table)) == (first, last, rows), name
        assert "WHO Child Growth Standards (2006)" in growth.source(name)
        keys = [key for key, _lms in table]
        assert keys == sorted(keys)


# Published values of the WHO z-score tables (median, −2 SD), in kg or cm, to one decimal.
PUBLISHED = [
    ("wfa_boys", 12, 9.6, 7.7),  # weight-for-age, boy of 12 months
    ("wfa_girls", 24, 11.5, 9.0),  # weight-for-age, girl of 24 months
    ("wfa_girls", 0, 3.2, 2.4),
    ("wfa_boys", 60, 18.3, 14.1),
    ("lfa_boys", 12, 75.7, 71.0),  # length-for-age (lying)
    ("lfa_girls", 24, 86.4, 80.0),
    ("hfa_girls", 24, 85.7, 79.3),  # height-for-age (standing): 0.7 cm below the length
    ("hfa_boys", 48, 103.3, 94.9),
    ("wfl_boys", 75, 9.5, 8.1),
    ("wfl_girls", 65, 7.1, 5.9),
    ("wfh_girls", 90, 12.6, 10.6),
    ("wfh_boys", 100, 15.4, 13.1),
]


@pytest.mark.parametrize("name, at, median, minus_two", PUBLISHED)
def test_the_tables_give_back_the_published_median_and_minus_two_sd(name, at, median, minus_two):
    lms = growth.lms_at(name, at)
    assert round(lms.value_at(0), 1) == median
    assert round(lms.value_at(-2), 1) == minus_two


def test_boy_of_12_months_weight_for_age_flags_just_above_and_just_below_minus_two():
    lms = growth.lms_at("wfa_boys", 12)
    minus_two = lms.value_at(-2)  # 7.7 kg in the published table
    assert growth.weight_for_age("male", 12, 9.6479) == pytest.approx(0, abs=1e-3)
    assert growth.weight_for_age("male", 12, minus_two) == pytest.approx(-2, abs=1e-6)
    above = growth.assess(sex="male", birth=datetime.date(2025, 1, 1), on=datetime.date(2026, 1, 1),
                          weight_kg=round(minus_two + 0.05, 2))
    below = growth.assess(sex="male", birth=datetime.date(2025, 1, 1), on=datetime.date(2026, 1, 1),
                          weight_kg=round(minus_two - 0.05, 2))
    assert -2 < above.weight_for_age < -1.9 and not above.underweight
    assert -2.1 < below.weight_for_age < -2 and below.underweight


def test_girl_of_24_months_is_measured_standing_and_flags_stunting_on_the_height_table():
    birth = datetime.date(2024, 3, 1)
    on = birth + datetime.timedelta(days=731)  # 24.02 months the WHO's way (days / 30.4375)
    hfa = growth.lms_at("hfa_girls", growth.age_in_months(birth, on))
    cut = hfa.value_at(-2)  # 79.3 cm standing
    tall = growth.assess(sex="female", birth=birth, on=on, weight_kg=11.5, height_cm=round(cut + 0.1, 1))
    short = growth.assess(sex="female", birth=birth, on=on, weight_kg=11.5, height_cm=round(cut - 0.1, 1))
    assert not tall.stunted and -2 < tall.height_for_age < -1.95
    assert short.stunted and -2.05 < short.height_for_age < -2
    # The girl's weight at the median: 0 SD; the weight-for-height table is used from 24 months.
    assert tall.weight_for_age == pytest.approx(0, abs=0.02)
    assert tall.weight_for_height == pytest.approx(growth.weight_for_height("female", 24, 11.5, tall.height_cm))


def test_boy_under_two_is_measured_lying_and_wasting_uses_weight_for_length():
    birth = datetime.date(2025, 6, 1)
    on = birth + datetime.timedelta(days=round(12 * growth.DAYS_PER_MONTH))
    wfl = growth.lms_at("wfl_boys", 75)
    thin = growth.assess(sex="male", birth=birth, on=on, weight_kg=round(wfl.value_at(-2) - 0.05, 2), height_cm=75)
    fine = growth.assess(sex="male", birth=birth, on=on, weight_kg=round(wfl.value_at(-2) + 0.05, 2), height_cm=75)
    assert thin.wasted and thin.weight_for_height < -2
    assert not fine.wasted and fine.weight_for_height > -2
    # 75 cm lying at 12 months is near the median length (75.7 cm): not stunted.
    assert -0.5 < thin.height_for_age < 0 and not thin.stunted


def test_girl_length_under_two_and_boy_height_over_two():
    # A girl of 12 months (length 68.9 cm = −2 SD of the published table).
    girl = growth.height_for_age("female", 12, growth.lms_at("lfa_girls", 12).value_at(-2) - 0.05)
    assert girl < -2
    # A boy of 36 months standing at the −2 SD of the height table (88.7 cm).
    boy = growth.height_for_age("male", 36, growth.lms_at("hfa_boys", 36).value_at(-2) + 0.05)
    assert -2 < boy < -1.9


def test_the_07_cm_correction_when_measured_the_other_way():
    # Under 2 years measured standing: +0.7 cm; from 2 years measured lying: −0.7 cm.
    assert growth.corrected_height(70.0, 12, growth.STANDING) == pytest.approx(70.7)
    assert growth.corrected_height(70.0, 12, growth.LYING) == pytest.approx(70.0)
    assert growth.corrected_height(90.0, 30, growth.LYING) == pytest.approx(89.3)
    assert growth.corrected_height(90.0, 30, None) == pytest.approx(90.0)
    birth = datetime.date(2024, 1, 1)
    on = datetime.date(2026, 7, 1)
    lying = growth.assess(sex="male", birth=birth, on=on, weight_kg=13, height_cm=92.0, position=growth.LYING)
    standing = growth.assess(sex="male", birth=birth, on=on, weight_kg=13, height_cm=91.3, position=growth.STANDING)
    assert lying.height_cm == pytest.approx(91.3)
    assert lying.height_for_age == pytest.approx(standing.height_for_age)


def test_weight_beyond_three_sd_follows_the_who_restricted_rule():
    lms = growth.lms_at("wfa_boys", 12)
    sd3, sd2 = lms.value_at(3), lms.value_at(2)
    heavy = sd3 + (sd3 - sd2)  # one more "SD step" above +3 SD
    assert growth.weight_for_age("male", 12, heavy) == pytest.approx(4.0, abs=1e-9)
    assert lms.z(heavy) < 4.0  # the plain LMS formula would say less
    sdm3, sdm2 = lms.value_at(-3), lms.value_at(-2)
    light = sdm3 - (sdm2 - sdm3) / 2
    assert growth.weight_for_age("male", 12, light) == pytest.approx(-3.5, abs=1e-9)


def test_age_in_months_and_under_five():
    birth = datetime.date(2021, 12, 7)
    assert growth.age_in_months(birth, datetime.date(2022, 12, 7)) == pytest.approx(365 / 30.4375)
    assert growth.is_under_five(birth, datetime.date(2026, 12, 6))  # 59 months, the day before 5 years
    assert not growth.is_under_five(birth, datetime.date(2026, 12, 7))  # 60 months: the fifth birthday
    assert not growth.is_under_five(birth, datetime.date(2021, 12, 6))  # before birth


def test_interpolation_between_months_and_half_centimetres():
    low, high = growth.lms_at("wfa_girls", 6), growth.lms_at("wfa_girls", 7)
    middle = growth.lms_at("wfa_girls", 6.5)
    assert middle.M == pytest.approx((low.M + high.M) / 2)
    assert growth.lms_at("wfl_girls", 75.25).M == pytest.approx((9.149 + 9.2418) / 2)
    assert growth.lms_at("wfl_boys", 44.9) is None and growth.lms_at("wfh_boys", 120.5) is None
    assert growth.weight_for_height("male", 30, 12, 60) is None  # below the weight-for-height table
