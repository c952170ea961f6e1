"""Due moments and working time (default periods 07:30–11:30 and 13:00–17:00)."""
import datetime
from zoneinfo import ZoneInfo

import pytest

from workcalendar import services

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
D = datetime.date
T = datetime.time
H = datetime.timedelta(hours=1)


def at(y, m, d, hh=0, mm=0):
    return datetime.datetime(y, m, d, hh, mm, tzinfo=TZ)


def test_working_days_across_tet_2026(db):
    # Thursday 12/02 is day 0; Friday 13/02 = 1; Tết 16–20/02; Monday 23/02 = 2; Tuesday 24/02 = 3.
    due = services.due_at(at(2026, 2, 12, 10), working_days=3)
    assert due == at(2026, 2, 24, 17)
    assert due.tzinfo is not None and due.utcoffset() == datetime.timedelta(hours=7)
    assert services.add_working_days(D(2026, 2, 12), 3) == D(2026, 2, 24)
    assert services.add_working_days(D(2026, 2, 24), -3) == D(2026, 2, 12)
    assert services.working_days_between(D(2026, 2, 12), D(2026, 2, 24)) == 3
    assert services.working_days_between(D(2026, 2, 24), D(2026, 2, 12)) == -3
    assert services.next_working_day(D(2026, 2, 13)) == D(2026, 2, 23)


def test_received_in_working_time_one_day(db):
    assert services.due_at(at(2026, 3, 9, 9), working_days=1) == at(2026, 3, 10, 17)
    assert services.due_at(at(2026, 3, 9, 6, 45), working_days=1) == at(2026, 3, 10, 17)  # before opening


def test_received_on_a_weekend_or_after_hours(db):
    # Saturday: counts as received Monday 09/03.
    assert services.due_at(at(2026, 3, 7, 10), working_days=1) == at(2026, 3, 10, 17)
    # Friday 17:30, same-day procedure: Monday 17:00.
    assert services.due_at(at(2026, 3, 6, 17, 30), working_days=0) == at(2026, 3, 9, 17)
    # Friday 09/01/2026 with one working day: Saturday 10/01 is a worked Saturday.
    assert services.due_at(at(2026, 1, 9, 10), working_days=1) == at(2026, 1, 10, 17)


def test_cutoff(db):
    cutoff = T(15, 0)
    # Certified copy: before 15:00 the same day, after 15:00 the next working day.
    assert services.due_at(at(2026, 3, 6, 14, 30), cutoff=cutoff) == at(2026, 3, 6, 17)
    assert services.due_at(at(2026, 3, 6, 15, 30), cutoff=cutoff) == at(2026, 3, 9, 17)
    # Friday 15:30 with one working day: received Monday, due Tuesday.
    assert services.due_at(at(2026, 3, 6, 15, 30), working_days=1, cutoff=cutoff) == at(2026, 3, 10, 17)
    assert services.due_at(at(2026, 3, 6, 14, 59), working_days=1, cutoff=cutoff) == at(2026, 3, 9, 17)
    assert services.due_at(at(2026, 3, 6, 15, 30), working_days=1) == at(2026, 3, 9, 17)  # no cut-off


def test_paused_intervals(db):
    start = at(2026, 3, 9, 9)  # Monday
    assert services.due_at(start, working_days=3) == at(2026, 3, 12, 17)
    two_days = [(at(2026, 3, 10, 7, 30), at(2026, 3, 11, 17))]
    assert services.due_at(start, working_days=3, paused=two_days) == at(2026, 3, 16, 17)
    weekend = [(at(2026, 3, 7), at(2026, 3, 9))]
    assert services.due_at(at(2026, 3, 5, 9), working_days=3, paused=weekend) == at(2026, 3, 10, 17)
    # Overlapping pauses count once.
    overlapping = two_days + [(at(2026, 3, 11, 8), at(2026, 3, 11, 10))]
    assert services.due_at(start, working_days=3, paused=overlapping) == at(2026, 3, 16, 17)
    # A pause across the lunch break covers 30 min + 1 h of working time.
    lunch = [(at(2026, 3, 10, 11), at(2026, 3, 10, 14))]
    assert services.due_at(start, working_days=3, paused=lunch) == at(2026, 3, 13, 9)
    # A pause over Tết 2026 costs nothing, one that starts before it costs its working part.
    assert services.due_at(at(2026, 2, 12, 10), working_days=3, paused=[(at(2026, 2, 14), at(2026, 2, 22, 23))]) == at(2026, 2, 24, 17)
    assert services.due_at(at(2026, 2, 12, 10), working_days=3, paused=[(at(2026, 2, 13, 7), at(2026, 2, 22))]) == at(2026, 2, 25, 17)


def test_working_hours(db):
    # Friday 16:00 + 8 h: 1 h Friday, 4 h Monday morning, 3 h from 13:00 → Monday 16:00.
    assert services.due_at(at(2026, 3, 6, 16), working_hours=8) == at(2026, 3, 9, 16)
    # Ending exactly at the end of the morning gives 11:30.
    assert services.due_at(at(2026, 3, 9, 9, 30), working_hours=2) == at(2026, 3, 9, 11, 30)
    # Received in the lunch break: counted from 13:00.
    assert services.due_at(at(2026, 3, 9, 12), working_hours=1.5) == at(2026, 3, 9, 14, 30)
    # Across Tết 2026: 2 h on Friday 13/02, 2 h on Monday 23/02.
    assert services.due_at(at(2026, 2, 13, 15), working_hours=4) == at(2026, 2, 23, 9, 30)
    # Days then hours: one working day later at the same clock time, then 2 h.
    assert services.due_at(at(2026, 3, 9, 10), working_days=1, working_hours=2) == at(2026, 3, 10, 13, 30)
    # Custom day bounds.
    assert services.due_at(at(2026, 3, 9, 16), working_hours=1, day_end=T(17, 30)) == at(2026, 3, 9, 17)
    assert services.due_at(at(2026, 3, 9, 17, 15), working_days=0, day_end=T(17, 30)) == at(2026, 3, 9, 17, 30)


def test_working_time_between(db):
    assert services.working_time_between(at(2026, 3, 9, 10), at(2026, 3, 9, 14)) == 2.5 * H
    assert services.working_time_between(at(2026, 3, 9, 14), at(2026, 3, 9, 10)) == -2.5 * H
    # Wednesday 29/04 16:00 → Monday 04/05 08:30: 30/4 and 1/5 off, then the weekend.
    assert services.working_time_between(at(2026, 4, 29, 16), at(2026, 5, 4, 8, 30)) == 2 * H
    assert services.working_time_between(at(2026, 2, 14), at(2026, 2, 22, 23)) == datetime.timedelta(0)
    assert services.working_time_between(at(2026, 3, 9), at(2026, 3, 10)) == 8 * H


def test_time_zones(db):
    utc = datetime.timezone.utc
    # 03:00 UTC is 10:00 in Hà Nội.
    assert services.due_at(datetime.datetime(2026, 2, 12, 3, tzinfo=utc), working_days=3) == at(2026, 2, 24, 17)
    # 20:00 UTC on Thursday is 03:00 Friday local: received Friday.
    assert services.due_at(datetime.datetime(2026, 3, 5, 20, tzinfo=utc), working_days=0) == at(2026, 3, 6, 17)
    assert services.due_at(datetime.datetime(2026, 3, 9, 9), working_days=1) == at(2026, 3, 10, 17)  # naive = local
    assert not services.is_working_day(datetime.datetime(2026, 2, 15, 18, tzinfo=utc))  # 16/02 01:00 local


def test_bad_arguments(db):
    with pytest.raises(ValueError):
        services.due_at(at(2026, 3, 9, 9), working_days=-1)
    with pytest.raises(ValueError):
        services.is_working_day(D(1800, 1, 1))
