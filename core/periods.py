"""Reporting periods of the pages of figures: a month, a quarter, a year, or dates typed
dd/mm/yyyy.

A period is named by a token that travels in the query string: ``2026-12`` (December 2026),
``2026-Q4`` (the fourth quarter), ``2026`` (the year). ``choices`` lists the recent ones for a
select of a GET form (no script needed); ``slug`` names export files.
"""
from __future__ import annotations

import calendar
import datetime
import re
from urllib.parse import urlencode
from dataclasses import dataclass

from django import forms
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import fold

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True)
class Period:
    kind: str  # "month", "quarter", "year" or "custom"
    date_from: datetime.date
    date_to: datetime.date
    token: str = ""

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("Month %(month)s/%(year)s") % {"month": f"{self.date_from:%m}", "year": self.date_from.year}
        if self.kind == "quarter":
            return _("Quarter %(quarter)s/%(year)s") % {
                "quarter": ROMAN[(self.date_from.month - 1) // 3 + 1], "year": self.date_from.year}
        if self.kind == "year":
            return _("Year %(year)s") % {"year": self.date_from.year}
        return _("From %(start)s to %(end)s") % {"start": f"{self.date_from:%d/%m/%Y}", "end": f"{self.date_to:%d/%m/%Y}"}

    @property
    def slug(self) -> str:
        """For file names: ``thang-12-2026``, ``quy-4-2026``, ``nam-2026``, ``20260301-20260331``."""
        if self.kind == "month":
            return f"thang-{self.date_from:%m}-{self.date_from.year}"
        if self.kind == "quarter":
            return f"quy-{(self.date_from.month - 1) // 3 + 1}-{self.date_from.year}"
        if self.kind == "year":
            return f"nam-{self.date_from.year}"
        return f"{self.date_from:%Y%m%d}-{self.date_to:%Y%m%d}"

    def months(self) -> list[datetime.date]:
        """The first day of every month the period meets."""
        result, month = [], self.date_from.replace(day=1)
        while month <= self.date_to:
            result.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        return result


def month(year: int, number: int) -> Period:
    last = calendar.monthrange(year, number)[1]
    return Period("month", datetime.date(year, number, 1), datetime.date(year, number, last), f"{year}-{number:02d}")


def quarter(year: int, number: int) -> Period:
    first = datetime.date(year, 3 * number - 2, 1)
    end_month = 3 * number
    last = datetime.date(year, end_month, calendar.monthrange(year, end_month)[1])
    return Period("quarter", first, last, f"{year}-Q{number}")


def year(number: int) -> Period:
    return Period("year", datetime.date(number, 1, 1), datetime.date(number, 12, 31), f"{number}")


def custom(date_from: datetime.date, date_to: datetime.date) -> Period:
    return Period("custom", date_from, date_to)


def parse(token: str) -> Period | None:
    """The period named by ``token``; None when the token names none."""
    text = (token or "").strip()
    match = _MONTH.match(text)
    if match and 2000 <= int(match.group(1)) <= 2200 and 1 <= int(match.group(2)) <= 12:
        return month(int(match.group(1)), int(match.group(2)))
    match = _QUARTER.match(text)
    if match and 2000 <= int(match.group(1)) <= 2200:
        return quarter(int(match.group(1)), int(match.group(2)))
    match = _YEAR.match(text)
    if match and 2000 <= int(match.group(1)) <= 2200:
        return year(int(match.group(1)))
    return None


def of_date(kind: str, day: datetime.date) -> Period:
    """The month, quarter or year that holds ``day``."""
    if kind == "quarter":
        return quarter(day.year, (day.month - 1) // 3 + 1)
    if kind == "year":
        return year(day.year)
    return month(day.year, day.month)


def choices(today: datetime.date, *, months: int = 12, quarters: int = 4, years: int = 3) -> list[tuple[str, str]]:
    """Recent periods, newest first: the last ``months`` months, ``quarters`` quarters and
    ``years`` years (the current ones included)."""
    result = []
    first = today.replace(day=1)
    for _i in range(months):
        period = month(first.year, first.month)
        result.append((period.token, period.label))
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    current = of_date("quarter", today)
    for _i in range(quarters):
        result.append((current.token, current.label))
        current = of_date("quarter", current.date_from - datetime.timedelta(days=1))
    for offset in range(years):
        period = year(today.year - offset)
        result.append((period.token, period.label))
    return result


def file_name(prefix: str, commune, period: Period, extension: str) -> str:
    """``thong-ke-mot-cua-tu-le-thang-12-2026.xlsx``: ASCII, the commune's name and the period."""
    commune_part = slugify(fold(getattr(commune, "name", "") or str(commune or "")))
    return "-".join(part for part in (prefix, commune_part, period.slug) if part) + f".{extension}"


# --- the filter of a page of figures ------------------------------------------------------------



class DateField(forms.DateField):
    """A date typed dd/mm/yyyy (the Vietnamese formats module reads 03/04/2026 as 3 April)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", formats.get_format("DATE_INPUT_FORMATS", lang="vi", use_l10n=True))
        kwargs.setdefault("widget", forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy",
                                                                               "inputmode": "numeric"}))
        kwargs.setdefault("error_messages", {"invalid": gettext_lazy("Enter the date as dd/mm/yyyy, e.g. 03/04/2026.")})
        super().__init__(**kwargs)


class PeriodForm(forms.Form):
    """A month, quarter or year chosen from a list (``period``), or two dates typed dd/mm/yyyy.

    The chosen period wins; without one, the dates (the start defaults to the first day of the
    end's month, the end to today); without either, the current month. ``period()`` is the
    result (call it after ``is_valid``)."""

    period = forms.CharField(label=gettext_lazy("Period"), required=False, max_length=10)
    date_from = DateField(label=gettext_lazy("From"), required=False)
    date_to = DateField(label=gettext_lazy("To"), required=False)

    def __init__(self, *args, today: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.period_choices = [("", _("Dates typed below"))] + choices(self.today)

    def clean_period(self):
        token = (self.cleaned_data.get("period") or "").strip()
        if token and parse(token) is None:
            raise forms.ValidationError(_("Choose a month, a quarter or a year from the list."), code="invalid_period")
        return token

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if not cleaned.get("period") and start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def get_period(self) -> Period:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("period"):
            return parse(data["period"])
        start, end = data.get("date_from"), data.get("date_to")
        if not start and not end:
            return of_date("month", self.today)
        end = end or self.today
        start = start or end.replace(day=1)
        return custom(start, end)

    @property
    def selected(self) -> str:
        """The token to show as chosen in the list ("" for typed dates)."""
        return self.get_period().token

    def query(self) -> str:
        """The query string of the chosen period (for the export link)."""
        period = self.get_period()
        if period.kind == "custom":
            return urlencode({"date_from": f"{period.date_from:%d/%m/%Y}", "date_to": f"{period.date_to:%d/%m/%Y}"})
        return urlencode({"period": period.token})
