"""Date questions for documents and the one-stop desk (bộ phận một cửa).

Every answer uses the official calendar (``workcalendar.selectors.year_schedule``): the notice of
the year where one is known, the Labour Code computation otherwise. Datetimes are read and
returned in Asia/Ho_Chi_Minh; a naive datetime is taken as local time.

Working time is the working periods of a working day, ``settings.XASO_WORK_PERIODS``, by
default 07:30–11:30 and 13:00–17:00: two blocks with a lunch break, 8 hours a day (the 8-hour
day, 40-hour week of officials). ``settings.XASO_WEEKLY_REST_DAYS`` (default Saturday and
Sunday) are the weekly rest days.
"""
from __future__ import annotations

import datetime
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from workcalendar import loading
from workcalendar.selectors import clear_cache, year_schedule

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ONE_DAY = datetime.timedelta(days=1)
ZERO = datetime.timedelta(0)
DEFAULT_WORK_PERIODS = [("07:30", "11:30"), ("13:00", "17:00")]
MAX_SCAN_DAYS = 3660  # no answer is searched further than ten years ahead

Periods = Sequence[tuple[datetime.time, datetime.time]]


# --- Working days -------------------------------------------------------------------------

def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return to_local(value).date()
    return value


def to_local(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in Asia/Ho_Chi_Minh (a naive datetime is taken as local time)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=TZ)
    return moment.astimezone(TZ)


def day_bounds(date_from: datetime.date | None, date_to: datetime.date | None):
    """The local days ``date_from`` to ``date_to`` (both included) as aware moments [start, end):
    a filter ``start <= t < end`` that an index on ``t`` serves. None for an open side."""
    start = datetime.datetime.combine(date_from, datetime.time.min, TZ) if date_from else None
    end = datetime.datetime.combine(date_to + ONE_DAY, datetime.time.min, TZ) if date_to else None
    return start, end


def is_working_day(date: datetime.date | datetime.datetime) -> bool:
    date = _as_date(date)
    return year_schedule(date.year).is_working_day(date)


def next_working_day(date: datetime.date | datetime.datetime) -> datetime.date:
    """The first working day strictly after ``date``."""
    day = _as_date(date)
    for _ in range(MAX_SCAN_DAYS):
        day += ONE_DAY
        if is_working_day(day):
            return day
    raise ValueError("No working day found")


def previous_working_day(date: datetime.date | datetime.datetime) -> datetime.date:
    day = _as_date(date)
    for _ in range(MAX_SCAN_DAYS):
        day -= ONE_DAY
        if is_working_day(day):
            return day
    raise ValueError("No working day found")


def add_working_days(start_date: datetime.date | datetime.datetime, n: int) -> datetime.date:
    """The ``n``-th working day after ``start_date`` (before it when ``n`` is negative).

    ``n == 0`` gives ``start_date`` itself when it is a working day, else the next working day.
    """
    day = _as_date(start_date)
    if n == 0:
        return day if is_working_day(day) else next_working_day(day)
    step = next_working_day if n > 0 else previous_working_day
    for _ in range(abs(n)):
        day = step(day)
    return day


def working_days_between(a_date: datetime.date, b_date: datetime.date) -> int:
    """Working days in (a_date, b_date]: Monday → Tuesday is 1; negative when b_date < a_date.

    ``working_days_between(d, add_working_days(d, n)) == n`` for a working day ``d``.
    """
    a_date, b_date = _as_date(a_date), _as_date(b_date)
    if b_date < a_date:
        return -working_days_between(b_date, a_date)
    count, day = 0, a_date
    while day < b_date:
        day += ONE_DAY
        count += is_working_day(day)
    return count


# --- Working time -------------------------------------------------------------------------

def _parse_time(value) -> datetime.time:
    if isinstance(value, datetime.time):
        return value
    return datetime.time.fromisoformat(str(value))


def work_periods(day_start: datetime.time | None = None, day_end: datetime.time | None = None) -> list:
    """The working periods of a day: ``settings.XASO_WORK_PERIODS``, sorted.

    ``day_start`` replaces the start of the first period and ``day_end`` the end of the last one
    (periods that fall wholly outside are dropped).
    """
    periods = sorted(
        (_parse_time(a), _parse_time(b)) for a, b in getattr(settings, "XASO_WORK_PERIODS", DEFAULT_WORK_PERIODS)
    )
    if day_start is not None:
        periods = [(s, e) for s, e in periods if e > day_start]
        if periods:
            periods[0] = (day_start, periods[0][1])
    if day_end is not None:
        periods = [(s, e) for s, e in periods if s < day_end]
        if periods:
            periods[-1] = (periods[-1][0], day_end)
    if not periods or any(s >= e for s, e in periods) or any(
        periods[i][1] > periods[i + 1][0] for i in range(len(periods) - 1)
    ):
        raise ValueError("Working periods must be non-empty, ordered and must not overlap")
    return periods


def _periods_on(day: datetime.date, periods: Periods) -> list[tuple[datetime.datetime, datetime.datetime]]:
    if not is_working_day(day):
        return []
    return [(datetime.datetime.combine(day, s, TZ), datetime.datetime.combine(day, e, TZ)) for s, e in periods]


def _working_time_between(a: datetime.datetime, b: datetime.datetime, periods: Periods) -> datetime.timedelta:
    total, day = ZERO, a.date()
    while day <= b.date():
        for s, e in _periods_on(day, periods):
            overlap = min(e, b) - max(s, a)
            if overlap > ZERO:
                total += overlap
        day += ONE_DAY
    return total


def working_time_between(a: datetime.datetime, b: datetime.datetime) -> datetime.timedelta:
    """Working time from ``a`` to ``b``: only the working periods of working days count.

    Negative when ``b`` is before ``a``.
    """
    a, b = to_local(a), to_local(b)
    if b < a:
        return -working_time_between(b, a)
    return _working_time_between(a, b, work_periods())


def _merge(intervals: Iterable[tuple[datetime.datetime, datetime.datetime]]) -> list:
    merged: list[list[datetime.datetime]] = []
    for a, b in sorted((to_local(a), to_local(b)) for a, b in intervals):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _free_segments(s, e, paused):
    """[s, e) minus the (merged, sorted) paused intervals."""
    cursor = s
    for a, b in paused:
        if b <= cursor or a >= e:
            continue
        if a > cursor:
            yield cursor, a
        cursor = max(cursor, b)
        if cursor >= e:
            return
    if cursor < e:
        yield cursor, e


def _add_working_time(start: datetime.datetime, amount: datetime.timedelta, periods: Periods, paused=()) -> datetime.datetime:
    """The moment at which ``amount`` of (unpaused) working time after ``start`` has passed.

    Ending exactly at the end of a period gives that end (17:00), not the next opening.
    """
    if amount <= ZERO:
        return start
    remaining, day = amount, start.date()
    for _ in range(MAX_SCAN_DAYS):
        for s, e in _periods_on(day, periods):
            if e <= start:
                continue
            for seg_start, seg_end in _free_segments(max(s, start), e, paused):
                available = seg_end - seg_start
                if remaining <= available:
                    return seg_start + remaining
                remaining -= available
        day += ONE_DAY
    raise ValueError("Working time runs past the supported range")


def _opening(day: datetime.date, periods: Periods) -> datetime.datetime:
    return datetime.datetime.combine(day, periods[0][0], TZ)


def effective_receipt(
    start: datetime.datetime,
    *,
    cutoff: datetime.time | None = None,
    day_start: datetime.time | None = None,
    day_end: datetime.time | None = None,
) -> datetime.datetime:
    """The moment from which a file received at ``start`` is counted (see ``due_at``)."""
    periods = work_periods(day_start, day_end)
    local = to_local(start)
    day, clock = local.date(), local.time()
    if not is_working_day(day) or clock >= periods[-1][1] or (cutoff is not None and clock > cutoff):
        return _opening(next_working_day(day), periods)
    for s, e in periods:
        if clock < e:
            return max(local, datetime.datetime.combine(day, s, TZ))
    return _opening(next_working_day(day), periods)  # not reached: clock < the last end here


def due_at(
    start: datetime.datetime,
    *,
    working_days: int = 0,
    working_hours: float = 0,
    cutoff: datetime.time | None = None,
    paused: Iterable[tuple[datetime.datetime, datetime.datetime]] = (),
    day_start: datetime.time | None = None,
    day_end: datetime.time | None = None,
) -> datetime.datetime:
    """The moment a file received at ``start`` is due (thời hạn giải quyết), in Asia/Ho_Chi_Minh.

    1. Effective receipt. A file received on a day that is not a working day, at or after the
       end of the last working period, or later than ``cutoff`` (e.g. 15:00 for a certified copy)
       counts as received at the opening of the next working day. Received before the opening it
       counts from the opening; received in the lunch break, from the afternoon opening.
    2. Working days (``working_hours == 0``): the due moment is the end of the working day
       (``day_end``, 17:00 by default) of the ``working_days``-th working day after the receipt
       day. The receipt day is day 0: 0 working days is the same day at 17:00, 1 working day
       received Monday morning is Tuesday 17:00; received Thursday 12/02/2026 with 3 working days
       (Tết 16–20/02) is Tuesday 24/02/2026 17:00.
    3. Working hours (``working_hours > 0``): the moment at which that much working time (only
       inside the working periods of working days) has passed since the receipt. With
       ``working_days`` as well, the count starts at the same clock time ``working_days``
       working days after the receipt.
    4. Pauses (``paused``, e.g. waiting for the citizen's supplement): the working time they
       cover after the receipt does not count, so the due moment moves by exactly that much
       working time (a pause of two whole working days moves it two working days; a pause over
       a weekend or a holiday moves nothing). Overlapping pauses count once.

    ``day_start``/``day_end`` replace the start of the first and the end of the last working
    period of ``settings.XASO_WORK_PERIODS`` for this call.
    """
    if working_days < 0 or working_hours < 0:
        raise ValueError("working_days and working_hours must not be negative")
    periods = work_periods(day_start, day_end)
    receipt = effective_receipt(start, cutoff=cutoff, day_start=day_start, day_end=day_end)
    if working_hours:
        moment = receipt
        if working_days:
            moment = datetime.datetime.combine(
                add_working_days(receipt.date(), working_days), receipt.time(), TZ,
            )
        base = _add_working_time(moment, datetime.timedelta(hours=working_hours), periods)
    else:
        base = datetime.datetime.combine(add_working_days(receipt.date(), working_days), periods[-1][1], TZ)
    pauses = _merge(paused)
    if not pauses:
        return base
    needed = _working_time_between(receipt, base, periods)
    return _add_working_time(receipt, needed, periods, pauses)


# --- Writes -------------------------------------------------------------------------------

def load_holidays(path=None, *, prune: bool = False) -> dict:
    """Load (or refresh) the schedule file into the tables; see ``workcalendar.loading``."""
    from workcalendar.models import CalendarYear, DayOverride, StatutoryHoliday

    data = loading.read_file(path)
    with transaction.atomic():
        counts = loading.load_schedule(
            data, CalendarYear=CalendarYear, DayOverride=DayOverride, StatutoryHoliday=StatutoryHoliday, prune=prune,
        )
    clear_cache()
    return counts
