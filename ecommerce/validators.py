"""Checks of the identifiers a producer or a product carries: the tax code (mã số thuế), the
GTIN of a barcode, the months of a season, a bank account for VietQR."""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Weights of the first nine digits of a 10-digit tax code; the tenth is the check digit.
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_TAX_RE = re.compile(r"^(\d{10})(?:-(\d{3}))?$")


def tax_check_digit(first_nine: str) -> int | None:
    """The check digit of a tax code's first nine digits (None when no code can have them)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _TAX_WEIGHTS))
    check = 10 - total % 11
    return check if check < 10 else None


def validate_tax_code(value: str) -> None:
    """A Vietnamese tax code: 10 digits with their check digit, optionally followed by a branch
    number ("0101248141-001"), or the 12-digit personal ID number that household businesses use
    as their tax code since 1 July 2025."""
    text = str(value or "").strip()
    if not text:
        return
    if re.fullmatch(r"\d{12}", text):
        return
    match = _TAX_RE.match(text)
    if not match:
        raise ValidationError(
            _("A tax code has 10 digits (or 10 digits, a dash and 3 digits for a branch), or the 12 digits of a personal ID number."),
            code="tax_code_format",
        )
    digits = match.group(1)
    if tax_check_digit(digits[:9]) != int(digits[9]):
        raise ValidationError(_("This tax code is not valid: its last digit does not match the others."),
                              code="tax_code_check")


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of the digits before it (weights 3 and 1 from the right)."""
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_gtin(value) -> str:
    """A GTIN-8, -12, -13 or -14 as the 14 digits of GS1 Digital Link (zeros in front); ''
    when empty. Raises ValidationError for a wrong length or check digit."""
    text = re.sub(r"[\s-]", "", str(value or ""))
    if not text:
        return ""
    if not text.isdigit() or len(text) not in (8, 12, 13, 14):
        raise ValidationError(_("A GTIN (barcode number) has 8, 12, 13 or 14 digits."), code="gtin_format")
    if gtin_check_digit(text[:-1]) != int(text[-1]):
        raise ValidationError(_("This barcode number is not valid: its check digit does not match."), code="gtin_check")
    return text.zfill(14)


def validate_gtin14(value: str) -> None:
    if value and (len(value) != 14 or normalize_gtin(value) != value):
        raise ValidationError(_("Store the GTIN as its 14 digits."), code="gtin_format")


def validate_months(value) -> None:
    """The months of a season: distinct numbers from 1 to 12 (an empty list means all year)."""
    months = list(value or [])
    if any(not isinstance(m, int) or isinstance(m, bool) or not 1 <= m <= 12 for m in months):
        raise ValidationError(_("Months are numbers from 1 to 12."), code="months_range")
    if len(set(months)) != len(months):
        raise ValidationError(_("A month is listed twice."), code="months_twice")


def validate_bank_bin(value: str) -> None:
    if value and not re.fullmatch(r"\d{6}", value):
        raise ValidationError(_("The bank BIN has 6 digits."), code="bank_bin")


def validate_bank_account(value: str) -> None:
    if value and not re.fullmatch(r"[0-9A-Za-z]{1,19}", value):
        raise ValidationError(_("The account number has 1 to 19 letters or digits."), code="bank_account")
