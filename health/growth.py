"""Children's growth against the WHO Child Growth Standards (chuẩn tăng trưởng của WHO), the
reference the Ministry of Health uses for children under 5.

The tables are data, shipped under ``health/data/who/`` as CSV files with their source on the
first line: the WHO's "z-score tables" (the simplified field tables that give each row's L, M
and S), for boys and girls:

* ``wfa_*``: weight-for-age, by month, 0–60 months;
* ``lfa_*``: length-for-age (lying), by month, 0–24 months; ``hfa_*``: height-for-age
  (standing), by month, 24–60 months;
* ``wfl_*``: weight-for-length, 45–110 cm; ``wfh_*``: weight-for-height, 65–120 cm, by 0.5 cm.

A z-score is computed from the row's Box-Cox parameters: z = ((X/M)^L − 1) / (L·S), the row
interpolated linearly between two months (age in days / 30.4375, as the WHO's software does) or
two half-centimetres. For the weight indicators the distribution's tails are not trusted beyond
±3 SD, so the WHO's restricted rule applies there (as in the WHO Anthro macros): beyond +3 SD,
z = 3 + (X − SD3) / (SD3 − SD2), and symmetrically below −3 SD. Length and height are normal
(L = 1) and need no such rule.

Length or height: under 24 months a child is measured lying (length), from 24 months standing
(height). A child measured the other way is corrected by 0.7 cm, as the WHO standards say
(standing under 24 months: +0.7 cm; lying from 24 months: −0.7 cm); the stored value is the
corrected one, so that it is always the measure of the child's age.

Flags (below −2 SD): underweight (weight-for-age), stunting (length/height-for-age), wasting
(weight-for-length/height). Values beyond the WHO's plausibility limits (weight-for-age below −6
or above +5, length/height-for-age beyond ±6, weight-for-length/height beyond ±5) are refused as
a measurement to check, as the WHO Anthro software flags them.
"""
from __future__ import annotations

import csv
import datetime
import functools
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "who"
DAYS_PER_MONTH = 30.4375
UNDER_FIVE_MONTHS = 60
LYING_UNTIL_MONTHS = 24
POSITION_CORRECTION_CM = 0.7
FLAG_BELOW = -2.0
# The WHO's limits of plausible values (WHO Anthro): beyond them the measure is probably wrong.
PLAUSIBLE = {"wfa": (-6.0, 5.0), "lhfa": (-6.0, 6.0), "wfh": (-5.0, 5.0)}

LYING = "lying"
STANDING = "standing"


@dataclass(frozen=True)
class LMS:
    L: float
    M: float
    S: float

    def value_at(self, z: float) -> float:
        """The measure at ``z`` SD (the published tables' columns)."""
        if self.L == 0:
            return self.M * math.exp(self.S * z)
        return self.M * (1 + self.L * self.S * z) ** (1 / self.L)

    def z(self, x: float) -> float:
        if self.L == 0:
            return math.log(x / self.M) / self.S
        return ((x / self.M) ** self.L - 1) / (self.L * self.S)

    def restricted_z(self, x: float) -> float:
        """The WHO's rule for weight beyond ±3 SD."""
        z = self.z(x)
        if z > 3:
            sd3, sd2 = self.value_at(3), self.value_at(2)
            return 3 + (x - sd3) / (sd3 - sd2)
        if z < -3:
            sd3, sd2 = self.value_at(-3), self.value_at(-2)
            return -3 + (x - sd3) / (sd2 - sd3)
        return z


@functools.lru_cache(maxsize=None)
def table(name: str) -> tuple[tuple[float, LMS], ...]:
    """The rows of ``health/data/who/<name>.csv``: (month or cm, LMS), in order."""
    rows = []
    with open(DATA / f"{name}.csv", encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(lines):
            key = "month" if "month" in row else "cm"
            rows.append((float(row[key]), LMS(float(row["L"]), float(row["M"]), float(row["S"]))))
    return tuple(rows)


def source(name: str) -> str:
    """The source line of a table's file (without its '# ')."""
    with open(DATA / f"{name}.csv", encoding="utf-8") as handle:
        return handle.readline().lstrip("# ").strip()


def _sex_key(sex: str) -> str:
    if sex in ("male", "boys", "m"):
        return "boys"
    if sex in ("female", "girls", "f"):
        return "girls"
    raise ValueError(f"unknown sex {sex!r}")


def lms_at(name: str, at: float) -> LMS | None:
    """The row at ``at`` (a month or a length), interpolated linearly between the two rows
    around it; None outside the table."""
    rows = table(name)
    if not rows or at < rows[0][0] - 1e-9 or at > rows[-1][0] + 1e-9:
        return None
    for (low, lms_low), (high, lms_high) in zip(rows, rows[1:]):
        if low - 1e-9 <= at <= high + 1e-9:
            share = 0.0 if high == low else min(1.0, max(0.0, (at - low) / (high - low)))
            return LMS(lms_low.L + (lms_high.L - lms_low.L) * share,
                       lms_low.M + (lms_high.M - lms_low.M) * share,
                       lms_low.S + (lms_high.S - lms_low.S) * share)
    return rows[-1][1]


def age_in_days(birth: datetime.date, on: datetime.date) -> int:
    return (on - birth).days


def age_in_months(birth: datetime.date, on: datetime.date) -> float:
    """Age in months as the WHO counts it: days / 30.4375."""
    return age_in_days(birth, on) / DAYS_PER_MONTH


def completed_months(birth: datetime.date, on: datetime.date) -> int:
    """Whole months of age by the calendar (60 on the fifth birthday)."""
    return (on.year - birth.year) * 12 + (on.month - birth.month) - (on.day < birth.day)


def is_under_five(birth: datetime.date, on: datetime.date) -> bool:
    """Under 60 months on ``on``: from birth to the day before the fifth birthday."""
    return birth <= on and completed_months(birth, on) < UNDER_FIVE_MONTHS


def expected_position(months: float) -> str:
    return LYING if months < LYING_UNTIL_MONTHS else STANDING


def corrected_height(height_cm: float, months: float, position: str | None) -> float:
    """The length (under 24 months) or height (from 24 months) of a child measured in
    ``position``: 0.7 cm more when a child under 2 stood, 0.7 cm less when an older one lay."""
    expected = expected_position(months)
    if not position or position == expected:
        return height_cm
    return height_cm + POSITION_CORRECTION_CM if expected == LYING else height_cm - POSITION_CORRECTION_CM


def weight_for_age(sex: str, months: float, weight_kg: float) -> float | None:
    lms = lms_at(f"wfa_{_sex_key(sex)}", months)
    return None if lms is None else lms.restricted_z(weight_kg)


def height_for_age(sex: str, months: float, height_cm: float) -> float | None:
    """Length-for-age under 24 months, height-for-age from 24 months (``height_cm`` being the
    measure of that age, already corrected)."""
    name = "lfa" if months < LYING_UNTIL_MONTHS else "hfa"
    lms = lms_at(f"{name}_{_sex_key(sex)}", months)
    return None if lms is None else lms.z(height_cm)


def weight_for_height(sex: str, months: float, weight_kg: float, height_cm: float) -> float | None:
    """Weight-for-length under 24 months (45–110 cm), weight-for-height from 24 months
    (65–120 cm); None outside the table's lengths."""
    name = "wfl" if months < LYING_UNTIL_MONTHS else "wfh"
    lms = lms_at(f"{name}_{_sex_key(sex)}", round(height_cm, 1))
    return None if lms is None else lms.restricted_z(weight_kg)


@dataclass(frozen=True)
class Assessment:
    months: float
    height_cm: float | None  # corrected to the measure of the age
    weight_for_age: float | None
    height_for_age: float | None
    weight_for_height: float | None

    @property
    def underweight(self) -> bool:
        return self.weight_for_age is not None and self.weight_for_age < FLAG_BELOW

    @property
    def stunted(self) -> bool:
        return self.height_for_age is not None and self.height_for_age < FLAG_BELOW

    @property
    def wasted(self) -> bool:
        return self.weight_for_height is not None and self.weight_for_height < FLAG_BELOW

    def implausible(self) -> list[str]:
        """The indicators beyond the WHO's plausibility limits."""
        found = []
        for key, value in (("wfa", self.weight_for_age), ("lhfa", self.height_for_age),
                           ("wfh", self.weight_for_height)):
            low, high = PLAUSIBLE[key]
            if value is not None and not low <= value <= high:
                found.append(key)
        return found


def assess(*, sex: str, birth: datetime.date, on: datetime.date, weight_kg, height_cm=None,
           position: str | None = None) -> Assessment:
    """The z-scores of a child's weight (kg) and length or height (cm) measured on ``on``."""
    months = age_in_months(birth, on)
    weight = float(weight_kg)
    height = corrected_height(float(height_cm), months, position) if height_cm is not None else None
    return Assessment(
        months=months,
        height_cm=height,
        weight_for_age=weight_for_age(sex, months, weight),
        height_for_age=height_for_age(sex, months, height) if height is not None else None,
        weight_for_height=weight_for_height(sex, months, weight, height) if height is not None else None,
    )


def to_decimal(z: float | None) -> Decimal | None:
    """A z-score as stored (two decimals)."""
    if z is None:
        return None
    return Decimal(str(z)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
