"""The days off a year gets from the law alone, used where no official notice is known.

Labour Code 2019 (Bộ luật Lao động 45/2019/QH14), Art. 112(1): 1 January; Tết Nguyên đán, 5 days;
Giỗ Tổ Hùng Vương, 10th day of the 3rd lunar month; 30 April; 1 May; 2 September and one adjacent
day. Art. 112(3) lets the Prime Minister choose the 5 Tết days and the adjacent National Day day,
so the computation picks defaults:

* Tết: the last day of the old lunar year (30 tháng Chạp, or 29 when the month is short) and
  mùng 1 to mùng 4 of the new one. This is the pattern of recent notices (2026: 16–20 February).
* National Day: 1 September is the adjacent day (2025 and 2026 both chose it).

Art. 111(3): a holiday of Art. 112(1) on a weekly rest day is made up (nghỉ bù) on the next
working day that is not itself a holiday. Holidays added by later laws (``StatutoryHoliday``)
are made up only where their row says so.

Swapped days (a weekday off against a worked Saturday) exist only in notices; they are never
computed.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterable, Protocol

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from workcalendar.lunar import lunar_new_year, lunar_to_solar

DEFAULT_WEEKLY_REST_DAYS = (5, 6)  # Saturday and Sunday (Monday = 0): the 5-day week of officials
LABOUR_CODE_SOURCE = "Bộ luật Lao động 2019, Điều 111, 112 (computed)"
ONE_DAY = datetime.timedelta(days=1)


def weekly_rest_days() -> frozenset[int]:
    return frozenset(getattr(settings, "XASO_WEEKLY_REST_DAYS", DEFAULT_WEEKLY_REST_DAYS))


def is_weekly_rest(date: datetime.date) -> bool:
    return date.weekday() in weekly_rest_days()


@dataclass(frozen=True)
class Holiday:
    date: datetime.date
    name: str
    confidence: str = "unconfirmed"
    source: str = LABOUR_CODE_SOURCE
    compensated: bool = True
    compensation_for: datetime.date | None = None


class ExtraHoliday(Protocol):
    name: str
    compensated: bool
    source: str
    confidence: str

    def date_in(self, year: int) -> datetime.date | None: ...


def labour_code_holidays(year: int) -> list[Holiday]:
    """Art. 112(1) days of ``year`` before any make-up day."""
    new_year = lunar_new_year(year)
    tet = _("Lunar New Year (Tết Nguyên đán)")
    days = [Holiday(datetime.date(year, 1, 1), _("New Year's Day (Tết Dương lịch)"))]
    days += [Holiday(new_year + offset * ONE_DAY, tet) for offset in range(-1, 4)]
    days += [
        Holiday(lunar_to_solar(year, 3, 10), _("Hùng Kings' Commemoration Day (Giỗ Tổ Hùng Vương)")),
        Holiday(datetime.date(year, 4, 30), _("Reunification Day (30/4)")),
        Holiday(datetime.date(year, 5, 1), _("International Labour Day (1/5)")),
        Holiday(datetime.date(year, 9, 1), _("National Day, adjacent day (Quốc khánh)")),
        Holiday(datetime.date(year, 9, 2), _("National Day (Quốc khánh)")),
    ]
    return days


def statutory_holidays(year: int, extra: Iterable[ExtraHoliday] = ()) -> list[Holiday]:
    """Every holiday the law gives in ``year`` (Art. 112 and the extra ones), no make-up days."""
    days = labour_code_holidays(year)
    for item in extra:
        date = item.date_in(year)
        if date is not None:
            days.append(Holiday(date, item.name, item.confidence, item.source, item.compensated))
    return sorted(days, key=lambda h: h.date)


def computed_days_off(year: int, extra: Iterable[ExtraHoliday] = ()) -> list[Holiday]:
    """The holidays of ``year`` plus the Art. 111(3) make-up days, sorted by date.

    Holidays that fall on a weekly rest day stay in the list (they are days off anyway); the
    make-up day carries ``compensation_for``.
    """
    holidays = statutory_holidays(year, extra)
    taken = {h.date for h in holidays}
    result = list(holidays)
    for holiday in holidays:
        if not (holiday.compensated and is_weekly_rest(holiday.date)):
            continue
        day = holiday.date + ONE_DAY
        while is_weekly_rest(day) or day in taken:
            day += ONE_DAY
        taken.add(day)
        result.append(Holiday(
            day, holiday.name, holiday.confidence, holiday.source, holiday.compensated, compensation_for=holiday.date,
        ))
    return sorted(result, key=lambda h: h.date)
