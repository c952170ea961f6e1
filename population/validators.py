"""Checks shared by forms, the API and the file import.

Every check is a pure function: it returns a list of ``(field, message)`` pairs (empty when the
value is valid) or a normalised value, and never touches the database.
"""
from __future__ import annotations

import csv
import datetime
import functools
import re
from pathlib import Path

from django.utils.translation import gettext as _

from communes.models import LegacyWard
from core.phones import normalize_mobile

LEGACY_WARDS_CSV = Path(LegacyWard._meta.app_config.path) / "fixtures" / "legacy_wards.csv"

MALE = "male"
FEMALE = "female"

# 4th digit of the personal ID number: (first year of the century, sex).
CENTURY_SEX_DIGITS = {
    "0": (1900, MALE), "1": (1900, FEMALE),
    "2": (2000, MALE), "3": (2000, FEMALE),
    "4": (2100, MALE), "5": (2100, FEMALE),
    "6": (2200, MALE), "7": (2200, FEMALE),
    "8": (1800, MALE), "9": (1800, FEMALE),
}

MIN_BIRTH_DATE = datetime.date(1800, 1, 1)


@functools.cache
def province_codes() -> frozenset[str]:
    """Three-digit codes of the pre-2025 provinces ('001' Hà Nội … '096' Cà Mau).

    Personal ID numbers carry the province where the birth was registered, under the province
    list in force before the 2025 merger; the list is read from the legacy wards fixture.
    """
    with open(LEGACY_WARDS_CSV, encoding="utf-8", newline="") as handle:
        codes = {row["old_province_code"].strip() for row in csv.DictReader(handle)}
    return frozenset("0" + code for code in codes if code.isdigit() and len(code) == 2)


def check_personal_id(id_number: str | None, birth_date: datetime.date | None, sex: str | None) -> list[tuple[str, str]]:
    """Check a personal ID number (số định danh cá nhân) against the birth date and sex.

    Layout: 3 digits province of birth registration, 1 digit century and sex, 2 digits year of
    birth, 6 digits serial. An empty number is valid (children may have none yet).
    """
    if not id_number:
        return []
    if not re.fullmatch(r"[0-9]{12}", id_number):
        return [("personal_id", _("The ID number has exactly 12 digits."))]
    errors: list[tuple[str, str]] = []
    if id_number[:3] not in province_codes():
        errors.append(("personal_id", _("The first three digits of the ID number are not a province code.")))
    century, id_sex = CENTURY_SEX_DIGITS[id_number[3]]
    if sex in (MALE, FEMALE) and id_sex != sex:
        errors.append(("personal_id", _("The ID number does not match the sex.")))
    if birth_date is not None:
        if birth_date.year // 100 * 100 != century:
            errors.append(("personal_id", _("The ID number does not match the century of the birth year.")))
        elif int(id_number[4:6]) != birth_date.year % 100:
            errors.append(("personal_id", _("The ID number does not match the birth year.")))
    return errors


def check_birth_date(birth_date: datetime.date | None, today: datetime.date | None = None) -> list[tuple[str, str]]:
    if birth_date is None:
        return []
    today = today or datetime.date.today()
    if birth_date > today:
        return [("birth_date", _("The birth date is in the future."))]
    if birth_date < MIN_BIRTH_DATE:
        return [("birth_date", _("The birth date is too far in the past."))]
    return []


def check_resident(*, personal_id: str | None, birth_date, sex) -> list[tuple[str, str]]:
    """All checks of a resident's identity fields."""
    return check_birth_date(birth_date) + check_personal_id(personal_id, birth_date, sex)


# One rule for mobile numbers across the portal (the SMS gateway uses it too).
normalize_phone = normalize_mobile


def check_phone(field: str, value) -> tuple[str, list[tuple[str, str]]]:
    normalized = normalize_phone(value)
    if normalized is None:
        return str(value or ""), [(field, _("Enter a Vietnamese mobile number of 10 digits, e.g. 0912345678."))]
    return normalized, []


def mask_id(id_number: str | None) -> str:
    """'001234567789' → '001******789'. Empty stays empty."""
    if not id_number:
        return ""
    if len(id_number) <= 6:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 6) + id_number[-3:]
