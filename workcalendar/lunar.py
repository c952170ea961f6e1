"""Vietnamese lunar calendar (âm lịch) → solar (Gregorian) dates.

The Vietnamese lunar calendar is computed for UTC+7. Chinese-calendar libraries use UTC+8 and
give a different new moon day in some years, so only ``lunar-vn`` (Hồ Ngọc Đức's algorithm with
an explicit time zone) is used here. In ``lunar_vn.LunarDate(day, month, year, leap)`` a leap
month (tháng nhuận) is the month number it repeats plus ``leap=True``.
"""
from __future__ import annotations

import datetime

import lunar_vn

VIETNAM_TIME_ZONE = 7.0


def lunar_to_solar(year: int, month: int, day: int, *, leap: bool = False) -> datetime.date:
    """The solar date of lunar ``day``/``month``/``year`` (``leap`` for a leap month).

    Raises ValueError for a lunar date that does not exist (day 30 of a 29-day month, a leap
    flag on a month that is not leap that year): lunar-vn would otherwise roll silently into
    the next month.
    """
    result = lunar_vn.lunar_to_solar(lunar_vn.LunarDate(day, month, year, leap), time_zone=VIETNAM_TIME_ZONE)
    back = lunar_vn.solar_to_lunar(result, time_zone=VIETNAM_TIME_ZONE)
    if (back.day, back.month, back.year, back.leap) != (day, month, year, leap):
        raise ValueError(f"Lunar date {day}/{month}{'L' if leap else ''}/{year} does not exist")
    return result


def solar_to_lunar(date: datetime.date) -> lunar_vn.LunarDate:
    return lunar_vn.solar_to_lunar(date, time_zone=VIETNAM_TIME_ZONE)


def lunar_new_year(year: int) -> datetime.date:
    """Mùng 1 Tết: the first day of the lunar year that starts in solar ``year``."""
    return lunar_to_solar(year, 1, 1)
