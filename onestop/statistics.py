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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


# --- shares, months and the workbook of the statistics page ---------------------------------------

def on_time_share(counts: dict) -> float | None:
    """Dossiers resolved by their appointment (early or on time) among those resolved and
    classified; None when none was resolved."""
    resolved = counts["early"] + counts["on_time"] + counts["late"]
    return (counts["early"] + counts["on_time"]) / resolved if resolved else None


def monthly(period, **filters) -> list[dict]:
    """``compute`` for each month the period meets (cut to the period), oldest first; each
    with ``month`` (its first day)."""
    rows = []
    for first in period.months():
        last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        figures = compute(max(first, period.date_from), min(last, period.date_to), **filters)
        rows.append({"month": first, **figures})
    return rows


def to_xlsx(figures: dict, months: list[dict], *, commune_name: str, period, procedure_label: str = "",
            officer_label: str = "") -> bytes:
    """The figures as a workbook: a summary sheet (title, commune, period with its dates, one
    line per figure), then one sheet per procedure, per official and per month, each with its
    headings on the first line. Counts are numbers, shares are numbers shown in per cent, dates
    are dates (``core.xlsx``)."""

    from core import xlsx

    percent = "0.0%"
    details = [(_("Procedure"), procedure_label)] if procedure_label else []
    details += [(_("Official"), officer_label)] if officer_label else []
    workbook, sheet = xlsx.figures_workbook(commune_name, _("Statistics of the one-stop desk"), period, details=details)
    for label, key in SUMMARY_LINES:
        xlsx.append(sheet, [str(label), figures[key]])
    xlsx.append(sheet, [_("Share resolved on time (early or on time)"), on_time_share(figures)],
                number_formats={1: percent})
    xlsx.append(sheet, [_("Share of satisfied ratings"), figures["satisfaction_share"]], number_formats={1: percent})
    sheet.column_dimensions["A"].width = 48
    sheet.column_dimensions["B"].width = 20

    columns = [(label, key) for label, key in TABLE_COLUMNS]

    def table(title: str, first_headings: list[str], rows: list[list], source: list[dict]):
        return xlsx.table_sheet(
            workbook, title, first_headings + [str(label) for label, _key in columns]
            + [_("Share resolved on time"), _("Share of satisfied ratings")],
            [first + [counts[key] for _label, key in columns] + [on_time_share(counts), counts["satisfaction_share"]]
             for first, counts in zip(rows, source)],
            number_formats={len(first_headings) + len(columns): percent,
                            len(first_headings) + len(columns) + 1: percent},
            widths=(16, 40))

    table(_("By procedure"), [_("Procedure code"), _("Procedure")],
          [[row["procedure_code"], row["procedure_name"]] for row in figures["by_procedure"]], figures["by_procedure"])
    table(_("By official"), [_("Official")], [[row["officer_name"] or "–"] for row in figures["by_officer"]],
          figures["by_officer"])
    month_sheet_rows = [[row["month"]] for row in months]
    month_sheet = table(_("By month"), [_("Month")], month_sheet_rows, months)
    for row in month_sheet.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "MM/YYYY"
    return xlsx.save(workbook)


SUMMARY_LINES = (
    (gettext_lazy("Dossiers received"), "received"),
    (gettext_lazy("In progress"), "in_progress"),
    (gettext_lazy("Open and overdue"), "overdue"),
    (gettext_lazy("Resolved"), "completed"),
    (gettext_lazy("Resolved early"), "early"),
    (gettext_lazy("Resolved on time"), "on_time"),
    (gettext_lazy("Resolved late"), "late"),
    (gettext_lazy("Supplements requested"), "supplements"),
    (gettext_lazy("Refused"), "refusals"),
    (gettext_lazy("Stopped"), "stopped"),
    (gettext_lazy("Ratings"), "rated"),
    (gettext_lazy("Satisfied ratings"), "satisfied"),
)
TABLE_COLUMNS = (
    (gettext_lazy("Received"), "received"),
    (gettext_lazy("In progress"), "in_progress"),
    (gettext_lazy("Early"), "early"),
    (gettext_lazy("On time"), "on_time"),
    (gettext_lazy("Late"), "late"),
    (gettext_lazy("Supplements"), "supplements"),
    (gettext_lazy("Refused"), "refusals"),
    (gettext_lazy("Stopped"), "stopped"),
)
