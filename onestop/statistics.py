"""The desk's figures for a period: received, in progress, early, on time, late, supplements,
refusals, stops and the citizens' satisfaction — overall, per procedure and per officer.

* The cohort is the dossiers **received** between ``date_from`` and ``date_to`` (local dates,
  both included). Their completion is classified by ``onestop.deadlines.classify(completed_at,
  due_at)``: ``due_at`` is the appointment of form 1, moved only by supplement pauses. A form-4
  extension (``extended_due_at``) never turns a late result into an on-time one.
* ``in_progress``: dossiers of the cohort still open today (received, in processing, or waiting
  for a supplement); ``overdue`` counts those past their appointment.
* ``supplements``: dossiers of the cohort for which a supplement was requested during processing.
* ``refusals``: dossiers refused (form 3) during the period, whether at the desk or online
  (a refused dossier was never received, so it is counted by the date of the refusal).
* ``stopped``: dossiers of the cohort stopped by form 5.
* ``rated`` / ``satisfied``: ratings of the cohort's dossiers; satisfied = "satisfied" or "very
  satisfied"; ``satisfaction_share`` = satisfied / rated (None when nobody rated).
* ``by_officer`` groups by the officer who received the dossier.
"""
from __future__ import annotations

import datetime
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.utils import timezone

from onestop.models import DONE_STATES, OPEN_STATES, Dossier, DossierEvent, DossierState, EventKind
from workcalendar.services import day_bounds

COUNT_KEYS = (
    "received", "in_progress", "overdue", "completed", "early", "on_time", "late", "supplements", "refusals",
    "stopped", "rated", "satisfied",
)


def empty_counts() -> dict:
    return {key: 0 for key in COUNT_KEYS} | {"satisfaction_share": None}


def _finish(counts: dict) -> dict:
    counts["satisfaction_share"] = (counts["satisfied"] / counts["rated"]) if counts["rated"] else None
    return counts


def add_counts(total: dict, part: dict) -> dict:
    """Add ``part``'s counts into ``total`` (for totals over communes); the share is recomputed."""
    for key in COUNT_KEYS:
        total[key] = total.get(key, 0) + int(part.get(key, 0) or 0)
    return _finish(total)


def compute(date_from: datetime.date, date_to: datetime.date, *, procedure_code: str | None = None,
            officer_id: int | None = None, now: datetime.datetime | None = None) -> dict:
    """The figures of the current commune for the period; see the module's docstring."""
    from onestop.deadlines import classify

    if date_to < date_from:
        date_from, date_to = date_to, date_from
    now = now or timezone.now()
    start, end = day_bounds(date_from, date_to)
    cohort = Dossier.objects.filter(received_at__gte=start, received_at__lt=end, code__isnull=False)
    refused = DossierEvent.objects.filter(kind=EventKind.REFUSED, at__gte=start, at__lt=end,
                                          dossier__state=DossierState.REFUSED)
    if procedure_code:
        cohort = cohort.filter(procedure__code=procedure_code)
        refused = refused.filter(dossier__procedure__code=procedure_code)
    if officer_id:
        cohort = cohort.filter(received_by_id=officer_id)
        refused = refused.filter(actor_id=officer_id)

    rows = list(cohort.values(
        "pk", "state", "due_at", "completed_at", "received_by_id", "procedure__code", "procedure__name",
        "rating__score",
    ))
    with_pauses = set(cohort.filter(pauses__isnull=False).values_list("pk", flat=True).distinct())

    total = empty_counts()
    by_procedure: dict[str, dict] = defaultdict(empty_counts)
    procedure_names: dict[str, str] = {}
    by_officer: dict[int | None, dict] = defaultdict(empty_counts)

    def bump(key: str, row: dict, amount: int = 1) -> None:
        total[key] += amount
        by_procedure[row["procedure__code"]][key] += amount
        by_officer[row["received_by_id"]][key] += amount

    for row in rows:
        procedure_names[row["procedure__code"]] = row["procedure__name"]
        bump("received", row)
        state = row["state"]
        if state in OPEN_STATES:
            bump("in_progress", row)
            if state != DossierState.SUPPLEMENT and row["due_at"] and row["due_at"] < now:
                bump("overdue", row)
        elif state == DossierState.STOPPED:
            bump("stopped", row)
        if row["completed_at"] is not None and state in DONE_STATES:
            bump("completed", row)
            bump(classify(row["completed_at"], row["due_at"]), row)
        if row["pk"] in with_pauses:
            bump("supplements", row)
        if row["rating__score"] is not None:
            bump("rated", row)
            if row["rating__score"] >= 2:
                bump("satisfied", row)

    for event in refused.values("dossier_id", "dossier__procedure__code", "dossier__procedure__name", "actor_id") \
            .order_by("dossier_id").distinct("dossier_id"):
        row = {"procedure__code": event["dossier__procedure__code"], "received_by_id": event["actor_id"]}
        procedure_names.setdefault(event["dossier__procedure__code"], event["dossier__procedure__name"])
        bump("refusals", row)

    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[k for k in by_officer if k])}
    result = _finish(total)
    result.update({
        "date_from": date_from,
        "date_to": date_to,
        "by_procedure": [
            {"procedure_code": code, "procedure_name": procedure_names.get(code, ""), **_finish(counts)}
            for code, counts in sorted(by_procedure.items())
        ],
        "by_officer": [
            {"officer_id": pk, "officer_name": _name(users.get(pk)), **_finish(counts)}
            for pk, counts in sorted(by_officer.items(), key=lambda item: (_name(users.get(item[0])), item[0] or 0))
        ],
    })
    return result


def _name(user) -> str:
    if user is None:
        return ""
    return (getattr(user, "full_name", "") or user.get_username()).strip()
