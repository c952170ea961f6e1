"""Reads: the schedule of one year, cached in the process.

A year's schedule is built from the database once and kept for
``settings.XASO_CALENDAR_CACHE_SECONDS`` (default 300 s). Saving or deleting a ``CalendarYear``,
``DayOverride`` or ``StatutoryHoliday`` clears the cache of the process that saved it at once (and
again when the transaction commits, see ``workcalendar.signals``); the time limit bounds how long
other processes (web workers, Celery) can answer from an older schedule. Queryset ``update()`` and
``bulk_create`` bypass the signals: call ``clear_cache()`` after them.
"""
from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings

from workcalendar.holidays import computed_days_off, is_weekly_rest
from workcalendar.models import CalendarYear, Confidence, DayOverride, StatutoryHoliday

_cache: dict[int, tuple[float, "YearSchedule"]] = {}
_lock = threading.Lock()
_generation = 0  # bumped by clear_cache(): a schedule built before a clear is not stored

DAY_OFF = DayOverride.Kind.DAY_OFF.value
WORKING_DAY = DayOverride.Kind.WORKING_DAY.value
MIN_YEAR, MAX_YEAR = 1901, 2099


@dataclass(frozen=True)
class ListedDay:
    date: datetime.date
    kind: str  # "day_off" or "working_day"
    name: str
    source: str
    confidence: str
    origin: str  # "override" or "computed"
    compensation_for: datetime.date | None = None

    @property
    def confidence_label(self):
        return Confidence(self.confidence).label if self.confidence in Confidence.values else self.confidence


@dataclass(frozen=True)
class YearSchedule:
    year: int
    status: str
    computed: bool  # True: no confirmed or secondary notice, the days come from the law
    notice: str = ""
    source: str = ""
    note: str = ""
    days_off: dict = field(default_factory=dict)  # date -> ListedDay
    worked: dict = field(default_factory=dict)  # date -> ListedDay (working_day overrides)

    def is_working_day(self, date: datetime.date) -> bool:
        if date in self.worked:
            return True
        if date in self.days_off:
            return False
        return not is_weekly_rest(date)

    @property
    def status_label(self):
        return Confidence(self.status).label

    @property
    def listed_days_off(self) -> list[ListedDay]:
        return sorted(self.days_off.values(), key=lambda d: d.date)

    @property
    def listed_worked(self) -> list[ListedDay]:
        return sorted(self.worked.values(), key=lambda d: d.date)


def _build(year: int) -> YearSchedule:
    row = CalendarYear.objects.filter(year=year).first()
    overrides = list(DayOverride.objects.filter(date__year=year).order_by("date"))
    days_off: dict = {}
    worked: dict = {}
    computed = row is None or not row.uses_overrides_only
    if computed:
        for holiday in computed_days_off(year, StatutoryHoliday.objects.all()):
            if holiday.date.year != year:
                continue
            # Names stay lazy: the cache is shared by requests in every language.
            days_off[holiday.date] = ListedDay(
                holiday.date, DAY_OFF, holiday.name, holiday.source, holiday.confidence, "computed", holiday.compensation_for,
            )
    for override in overrides:
        listed = ListedDay(
            override.date, override.kind, override.name, override.source, override.confidence, "override",
        )
        if override.kind == DAY_OFF:
            worked.pop(override.date, None)
            days_off[override.date] = listed
        else:
            days_off.pop(override.date, None)
            worked[override.date] = listed
    return YearSchedule(
        year=year,
        status=row.status if row else Confidence.UNCONFIRMED.value,
        computed=computed,
        notice=row.notice if row else "",
        source=row.source if row else "",
        note=row.note if row else "",
        days_off=days_off,
        worked=worked,
    )


def year_schedule(year: int) -> YearSchedule:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"Year {year} is outside the supported range {MIN_YEAR}–{MAX_YEAR}")
    ttl = float(getattr(settings, "XASO_CALENDAR_CACHE_SECONDS", 300))
    now = time.monotonic()
    hit = _cache.get(year)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    generation = _generation
    schedule = _build(year)
    with _lock:
        if generation == _generation:
            _cache[year] = (now, schedule)
    return schedule


def clear_cache() -> None:
    global _generation
    with _lock:
        _generation += 1
        _cache.clear()
