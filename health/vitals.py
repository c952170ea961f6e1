"""Sane ranges of the vital signs typed at the station's desk (dấu hiệu sinh tồn).

These are limits of plausibility for data entry, not clinical thresholds: a value outside them
is almost surely a typing slip (37 typed as 73, kilograms typed as grams) and is refused with a
message that names the range; a value inside them may still be alarming and is the doctor's
business. Each limit is wide enough for a newborn as for an adult.

Source of the limits: the issue that asked for the register (temperature 34–43 °C, pulse
30–220/min, systolic 60–260 mmHg above a diastolic of 30–160 mmHg, breaths 8–80/min, SpO2
50–100 %, weight 0.5–300 kg, height 30–250 cm). Compared with the entry limits that a common
electronic chart applies to its vital-sign fields (SOAPware's "Vital Signs Reading Types":
pulse 30–220/min and SpO2 50–100 % are the same; respiratory rate 4–60/min, temperature
90–110 °F ≈ 32.2–43.3 °C, height 15–95 in ≈ 38–241 cm, weight 3–550 lb ≈ 1.4–250 kg there).
No Ministry of Health text setting entry limits was found: the limits are therefore the issue's,
kept here as data in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SOURCE = ("Limits of plausibility given by the issue; pulse and SpO2 agree with SOAPware's vital-sign "
          "entry limits (soapware.screenstepslive.com, 'Vital Signs Reading Types').")


@dataclass(frozen=True)
class Range:
    field: str
    label: object  # lazy text
    low: Decimal
    high: Decimal
    unit: str
    decimals: int = 0

    def contains(self, value) -> bool:
        return self.low <= Decimal(value) <= self.high

    def text(self) -> str:
        def show(number: Decimal) -> str:
            shown = f"{number:.{self.decimals}f}" if self.decimals else f"{number.normalize():f}"
            return shown.replace(".", ",")
        return f"{show(self.low)}–{show(self.high)} {self.unit}".strip()


RANGES: dict[str, Range] = {r.field: r for r in (
    Range("temperature_c", gettext_lazy("Temperature"), Decimal("34"), Decimal("43"), "°C"),
    Range("pulse", gettext_lazy("Pulse"), Decimal("30"), Decimal("220"), gettext_lazy("beats/min")),
    Range("systolic", gettext_lazy("Systolic blood pressure"), Decimal("60"), Decimal("260"), "mmHg"),
    Range("diastolic", gettext_lazy("Diastolic blood pressure"), Decimal("30"), Decimal("160"), "mmHg"),
    Range("respiratory_rate", gettext_lazy("Breaths"), Decimal("8"), Decimal("80"), gettext_lazy("breaths/min")),
    Range("spo2", gettext_lazy("SpO2"), Decimal("50"), Decimal("100"), "%"),
    Range("weight_kg", gettext_lazy("Weight"), Decimal("0.5"), Decimal("300"), "kg"),
    Range("height_cm", gettext_lazy("Height"), Decimal("30"), Decimal("250"), "cm"),
)}
FIELDS = tuple(RANGES)
# How many decimals each field keeps (the model's columns).
DECIMALS = {"temperature_c": 1, "weight_kg": 2, "height_cm": 1}


def check(values: dict) -> dict[str, str]:
    """{field: Vietnamese message} for each value outside its range, and for a systolic pressure
    not above the diastolic; ``values`` holds numbers or None (not measured)."""
    errors: dict[str, str] = {}
    for field, limits in RANGES.items():
        value = values.get(field)
        if value is None:
            continue
        if not limits.contains(value):
            errors[field] = _("%(what)s %(value)s is outside the sane range %(range)s: check the number typed.") % {
                "what": limits.label, "value": str(value).replace(".", ","), "range": limits.text()}
    systolic, diastolic = values.get("systolic"), values.get("diastolic")
    if (systolic is None) != (diastolic is None):
        errors.setdefault("diastolic" if diastolic is None else "systolic",
                          _("Enter both blood pressure figures, systolic and diastolic, or neither."))
    elif systolic is not None and "systolic" not in errors and "diastolic" not in errors and systolic <= diastolic:
        errors["systolic"] = _("The systolic pressure (%(systolic)s) must be above the diastolic (%(diastolic)s).") % {
            "systolic": systolic, "diastolic": diastolic}
    return errors
