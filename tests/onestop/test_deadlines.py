"""Appointments on the working-day calendar: cut-off hour, weekends, Tết 2026 (Monday 16 to
Friday 20 February off), supplement pauses, same-day procedures, and early / on time / late.

The official days off come from the schedule file the workcalendar migration loads into the
test database (as in tests/workcalendar)."""
from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from onestop import deadlines
from onestop.deadlines import EARLY, LATE, ON_TIME, appointment, classify, dossier_due
from onestop.models import Dossier, Procedure, SupplementPause
from workcalendar.selectors import clear_cache

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(y, m, d, hh=0, mm=0):
    return datetime.datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    clear_cache()
    yield
    clear_cache()


def test_the_calendar_of_the_test_database_has_tet_2026(db):
    from workcalendar.services import is_working_day

    assert not any(is_working_day(datetime.date(2026, 2, day)) for day in range(16, 21))
    assert is_working_day(datetime.date(2026, 2, 13)) and is_working_day(datetime.date(2026, 2, 23))


def test_certified_copy_before_and_after_the_cutoff(procedures):
    copy = procedures["CT-01"]  # same day, cut-off 15:00
    assert appointment(copy, at(2026, 3, 9, 10)) == at(2026, 3, 9, 17)  # Monday 10:00 -> Monday 17:00
    assert appointment(copy, at(2026, 3, 9, 15)) == at(2026, 3, 9, 17)  # at the cut-off: still today
    assert appointment(copy, at(2026, 3, 9, 15, 30)) == at(2026, 3, 10, 17)  # 15:30 -> next working day
    assert appointment(copy, at(2026, 3, 13, 15, 30)) == at(2026, 3, 16, 17)  # Friday 15:30 -> Monday
    assert appointment(copy, at(2026, 3, 14, 9)) == at(2026, 3, 16, 17)  # Saturday -> Monday
    assert appointment(copy, at(2026, 3, 9, 6, 50)) == at(2026, 3, 9, 17)  # before opening
    due = appointment(copy, datetime.datetime(2026, 3, 9, 3, 0, tzinfo=datetime.timezone.utc))  # 10:00 local
    assert due == at(2026, 3, 9, 17) and due.utcoffset() == datetime.timedelta(hours=7)
    for code in ("CT-02", "CT-04", "HT-09"):  # the other same-day procedures
        assert appointment(procedures[code], at(2026, 3, 9, 15, 30)) == at(2026, 3, 10, 17), code


def test_working_days_across_a_weekend_and_after_hours(procedures):
    marital = procedures["HT-08"]  # 3 working days
    assert marital.time_amount == 3 and marital.cutoff is None
    assert appointment(marital, at(2026, 3, 9, 9)) == at(2026, 3, 12, 17)  # Monday -> Thursday
    assert appointment(marital, at(2026, 3, 9, 16, 30)) == at(2026, 3, 12, 17)
    assert appointment(marital, at(2026, 3, 9, 17, 30)) == at(2026, 3, 13, 17)  # after closing: from Tuesday
    assert appointment(marital, at(2026, 3, 12, 10)) == at(2026, 3, 17, 17)  # Thursday -> next Tuesday
    assert appointment(marital, at(2026, 3, 14, 10)) == at(2026, 3, 19, 17)  # Saturday counts from Monday
    birth = procedures["HT-01"]  # 1 working day
    assert appointment(birth, at(2026, 3, 13, 10)) == at(2026, 3, 16, 17)  # Friday -> Monday


def test_across_tet_2026(procedures):
    marital = procedures["HT-08"]
    # Thursday 12/02 is day 0, Friday 13/02 day 1, Tết 16–20/02, Monday 23/02 day 2, Tuesday 24/02 day 3.
    assert appointment(marital, at(2026, 2, 12, 10)) == at(2026, 2, 24, 17)
    copy = procedures["CT-01"]
    assert appointment(copy, at(2026, 2, 13, 10)) == at(2026, 2, 13, 17)
    assert appointment(copy, at(2026, 2, 13, 15, 30)) == at(2026, 2, 23, 17)  # Friday before Tết, after 15:00
    assert appointment(copy, at(2026, 2, 17, 9)) == at(2026, 2, 23, 17)  # an online file on Tết day
    assert appointment(procedures["BTXH-01"], at(2026, 2, 11, 9)) == at(2026, 2, 27, 17)  # 7 working days


def _received(procedure, received_at):
    return Dossier.objects.create(
        procedure=procedure, channel="counter", state="in_progress", code=f"TEST-{received_at:%y%m%d%H%M}",
        applicant_name="Lò Văn Pọm", received_at=received_at,
    )


def test_a_supplement_pause_moves_the_appointment(procedures):
    dossier = _received(procedures["HT-08"], at(2026, 3, 9, 9))
    assert dossier_due(dossier) == at(2026, 3, 12, 17)
    # Waiting for the citizen on Tuesday and Wednesday: two working days later.
    SupplementPause.objects.create(dossier=dossier, started_at=at(2026, 3, 10, 7, 30), ended_at=at(2026, 3, 11, 17))
    assert dossier_due(dossier) == at(2026, 3, 16, 17)


def test_a_short_pause_and_an_open_pause(procedures):
    dossier = _received(procedures["HT-08"], at(2026, 3, 9, 9))
    # Two working hours on Tuesday afternoon: due Friday 09:30 instead of Thursday 17:00.
    SupplementPause.objects.create(dossier=dossier, started_at=at(2026, 3, 10, 13), ended_at=at(2026, 3, 10, 15))
    assert dossier_due(dossier) == at(2026, 3, 13, 9, 30)
    # A pause still open counts up to now; over a weekend it moves nothing more.
    SupplementPause.objects.create(dossier=dossier, started_at=at(2026, 3, 11, 7, 30))
    assert dossier_due(dossier, now=at(2026, 3, 11, 17)) == at(2026, 3, 16, 9, 30)
    assert dossier_due(dossier, now=at(2026, 3, 14, 12)) == at(2026, 3, 18, 9, 30)  # Wed–Fri paused
    assert deadlines.pauses_of(dossier, now=at(2026, 3, 11, 7)) == [(at(2026, 3, 10, 13), at(2026, 3, 10, 15))]


def test_a_pause_across_tet(procedures):
    dossier = _received(procedures["HT-08"], at(2026, 2, 12, 10))
    # Paused from Friday 13/02 morning to Monday 23/02 noon: only Friday and Monday morning count.
    SupplementPause.objects.create(dossier=dossier, started_at=at(2026, 2, 13, 7, 30), ended_at=at(2026, 2, 23, 11, 30))
    # Without the pause: Tuesday 24/02 17:00. Paused: Friday 8 h + Monday morning 4 h = 12 h later.
    assert dossier_due(dossier) == at(2026, 2, 26, 11, 30)


def test_fractions_of_a_day_and_working_hours(db):
    half_day = Procedure(code="X-1", time_amount=Decimal("0.5"), time_unit="working_days")
    assert appointment(half_day, at(2026, 3, 9, 9)) == at(2026, 3, 9, 14, 30)  # 4 h over the lunch break
    day_and_half = Procedure(code="X-2", time_amount=Decimal("1.5"), time_unit="working_days")
    assert appointment(day_and_half, at(2026, 3, 9, 9)) == at(2026, 3, 10, 14, 30)
    hours = Procedure(code="X-3", time_amount=Decimal("4"), time_unit="working_hours", cutoff=datetime.time(15))
    assert appointment(hours, at(2026, 3, 13, 16)) == at(2026, 3, 16, 11, 30)  # after the cut-off: Monday 07:30 + 4 h
    assert deadlines.time_of(day_and_half) == (1, 4.0)
    with pytest.raises(ValueError):
        appointment(half_day, None)


def test_step_due(procedures):
    step = procedures["HT-08"].steps.get(kind="process")  # 16 working hours
    assert deadlines.step_due(step, at(2026, 3, 9, 9)) == at(2026, 3, 11, 9)


def test_classify_early_on_time_late():
    due = at(2026, 3, 16, 17)
    assert classify(at(2026, 3, 13, 10), due) == EARLY
    assert classify(at(2026, 3, 16, 8), due) == ON_TIME
    assert classify(at(2026, 3, 16, 17), due) == ON_TIME
    assert classify(at(2026, 3, 16, 17, 1), due) == LATE
    assert classify(at(2026, 3, 17, 9), due) == LATE
    # Local dates: 23:30 UTC on the 15th is 06:30 on the 16th in Viet Nam (same date: on time).
    assert classify(datetime.datetime(2026, 3, 15, 23, 30, tzinfo=datetime.timezone.utc), due) == ON_TIME
    assert classify(datetime.datetime(2026, 3, 15, 16, 30, tzinfo=datetime.timezone.utc), due) == EARLY
    assert classify(None, due) is None and classify(at(2026, 3, 13), None) is None
