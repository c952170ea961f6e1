"""Appointments of the one-stop desk, on the working-day calendar (``workcalendar.services.due_at``).

* ``appointment``: the due moment of a dossier of a procedure received at a moment, given the
  procedure's time (working days, fractions of a day as working hours, or working hours) and
  cut-off hour, and the supplement pauses (the clock stops while the office waits for the
  citizen).
* ``dossier_due``: the same for a dossier, with its pauses (an open pause counts up to now).
* ``classify``: early / on time / late, against the appointment (never against a form-4 date).

A same-day procedure has 0 working days and a cut-off hour: a certified copy received at 10:00
on a Monday is due Monday 17:00; at 15:30, Tuesday 17:00; on a Friday at 15:30, Monday 17:00.
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Iterable

from django.utils import timezone

from workcalendar.services import due_at, to_local, work_periods

EARLY, ON_TIME, LATE = "early", "on_time", "late"
WORKING_HOURS = "working_hours"


def hours_per_day() -> float:
    """Working hours of a working day (8 with the default periods)."""
    return sum(
        (datetime.datetime.combine(datetime.date.min, e) - datetime.datetime.combine(datetime.date.min, s)).total_seconds()
        for s, e in work_periods()
    ) / 3600


def _cutoff(procedure) -> datetime.time | None:
    value = getattr(procedure, "cutoff", None)
    if value in (None, ""):
        return None
    if isinstance(value, datetime.time):
        return value
    return datetime.time.fromisoformat(str(value))


def time_of(procedure) -> tuple[int, float]:
    """``(working_days, working_hours)`` of a procedure's processing time."""
    amount = Decimal(str(procedure.time_amount or 0))
    if amount < 0:
        raise ValueError("A processing time must not be negative.")
    if procedure.time_unit == WORKING_HOURS:
        return 0, float(amount)
    days = int(amount)
    return days, float(amount - days) * hours_per_day()


def appointment(procedure, received_at: datetime.datetime, pauses: Iterable = ()) -> datetime.datetime:
    """The due moment (Asia/Ho_Chi_Minh) of a dossier of ``procedure`` received at ``received_at``.

    ``pauses``: ``(start, end)`` intervals when the clock stood still (supplement requests)."""
    if received_at is None:
        raise ValueError("The dossier has not been received.")
    days, hours = time_of(procedure)
    return due_at(received_at, working_days=days, working_hours=hours, cutoff=_cutoff(procedure),
                  paused=[(a, b) for a, b in pauses if a is not None and b is not None and b > a])


def pauses_of(dossier, *, now: datetime.datetime | None = None) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The supplement pauses of a dossier; an open one lasts until ``now``."""
    if dossier.pk is None:
        return []
    now = now or timezone.now()
    result = []
    for pause in dossier.pauses.all():
        end = pause.ended_at or now
        if end > pause.started_at:
            result.append((pause.started_at, end))
    return result


def dossier_due(dossier, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """The appointment of a received dossier, moved by its supplement pauses (the version of
    the procedure it was received under; form-4 extensions do not move it)."""
    return appointment(dossier.procedure, dossier.received_at, pauses_of(dossier, now=now))


def step_due(step, started_at: datetime.datetime, pauses: Iterable = ()) -> datetime.datetime:
    """When a step that started at ``started_at`` should be done (its ``duration_hours`` of
    working time; form 6 compares each hand-over with it)."""
    return due_at(started_at, working_hours=float(step.duration_hours or 0),
                  paused=[(a, b) for a, b in pauses if a is not None and b is not None and b > a])


def classify(completed_at: datetime.datetime | None, due_at: datetime.datetime | None) -> str | None:
    """``"early"``: completed on an earlier (local) date than the appointment's; ``"on_time"``:
    the same date, not after the appointment; ``"late"``: after the appointment. None when the
    dossier is not completed or has no appointment."""
    if completed_at is None or due_at is None:
        return None
    completed_at, due_at = to_local(completed_at), to_local(due_at)
    if completed_at > due_at:
        return LATE
    if completed_at.date() < due_at.date():
        return EARLY
    return ON_TIME
