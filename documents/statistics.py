"""The figures of the document office for a period: documents received and issued per month
and by type, and how incoming documents with a deadline were handled.

* **Received**: incoming documents registered with an incoming number whose arrival falls in the
  period (local dates, both included) — the lines of the incoming register, secret ones
  counted too (a count reveals no content).
* **Issued**: outgoing documents numbered and dated (``issued_on``) in the period — the lines of
  the outgoing register, withdrawn ones included (their number was used).
* **Type**: the catalogue's name of the type (an incoming document typed by hand counts under the
  name typed; one without a type as an official letter).
* **Deadlines**: the incoming documents received in the period that a leader gave a deadline:
  ``on_time`` completed by their deadline, ``late`` completed after it, ``overdue`` still open
  past it, ``pending`` still open and not yet due. ``on_time_share`` = on time / (on time + late +
  overdue): an overdue document is late already; None when none of these exists. The same per
  lead handler.
"""
from __future__ import annotations

import datetime
from collections import Counter, defaultdict

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce, NullIf, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from documents.models import (
    IncomingDocument, IncomingState, OPEN_INCOMING_STATES, OutgoingDocument,
)
from workcalendar.services import day_bounds

DEADLINE_KEYS = ("with_deadline", "on_time", "late", "overdue", "pending")


def _empty_deadlines() -> dict:
    return {key: 0 for key in DEADLINE_KEYS} | {"on_time_share": None}


def _share(counts: dict) -> dict:
    judged = counts["on_time"] + counts["late"] + counts["overdue"]
    counts["on_time_share"] = counts["on_time"] / judged if judged else None
    return counts


def _months(date_from: datetime.date, date_to: datetime.date) -> list[datetime.date]:
    result, month = [], date_from.replace(day=1)
    while month <= date_to:
        result.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return result


def compute(date_from: datetime.date, date_to: datetime.date, *, now: datetime.datetime | None = None) -> dict:
    """The figures of the current commune for the period; see the module's text."""
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    now = now or timezone.now()
    tz = timezone.get_default_timezone()
    start, end = day_bounds(date_from, date_to)
    official_letter = _("Official letter")

    incoming = IncomingDocument.objects.filter(incoming_number__isnull=False, arrived_at__gte=start, arrived_at__lt=end)
    outgoing = OutgoingDocument.objects.filter(number__isnull=False, issued_on__gte=date_from, issued_on__lte=date_to)

    received_by_month = Counter({
        row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"]: row["n"]
        for row in _count(incoming.annotate(month=TruncMonth("arrived_at", tzinfo=tz)), "month")
    })
    issued_by_month = Counter({row["month"]: row["n"] for row in _count(
        outgoing.annotate(month=TruncMonth("issued_on")), "month")})
    by_month = [{"month": month, "received": received_by_month.get(month, 0), "issued": issued_by_month.get(month, 0)}
                for month in _months(date_from, date_to)]

    types: dict[str, dict] = defaultdict(lambda: {"received": 0, "issued": 0})
    for row in _count(incoming.annotate(type_label=Coalesce("doc_type__name", NullIf("type_name", Value("")))),
                      "type_label"):
        types[row["type_label"] or official_letter]["received"] += row["n"]
    for row in _count(outgoing.annotate(type_label=F("doc_type__name")), "type_label"):
        types[row["type_label"] or official_letter]["issued"] += row["n"]
    by_type = sorted(({"type": name, **counts} for name, counts in types.items()),
                     key=lambda row: (-(row["received"] + row["issued"]), row["type"]))

    deadlines = _empty_deadlines()
    per_handler: dict[int | None, dict] = defaultdict(_empty_deadlines)
    for row in incoming.filter(deadline__isnull=False).values("state", "deadline", "completed_at", "lead_handler_id"):
        key = _deadline_class(row, now)
        if key is None:
            continue
        for counts in (deadlines, per_handler[row["lead_handler_id"]]):
            counts["with_deadline"] += 1
            counts[key] += 1
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[pk for pk in per_handler if pk])}
    by_handler = sorted(
        ({"handler_id": pk, "handler_name": _name(users.get(pk)), **_share(counts)} for pk, counts in per_handler.items()),
        key=lambda row: (row["handler_name"], row["handler_id"] or 0),
    )
    return {
        "date_from": date_from, "date_to": date_to,
        "received": sum(received_by_month.values()), "issued": sum(issued_by_month.values()),
        "by_month": by_month, "by_type": by_type, "deadlines": _share(deadlines), "by_handler": by_handler,
    }


def _count(queryset, field: str):
    return queryset.order_by().values(field).annotate(n=Count("id"))


def _deadline_class(row: dict, now: datetime.datetime) -> str | None:
    if row["state"] == IncomingState.COMPLETED and row["completed_at"] is not None:
        return "on_time" if row["completed_at"] <= row["deadline"] else "late"
    if row["state"] in OPEN_INCOMING_STATES:
        return "overdue" if row["deadline"] < now else "pending"
    return None


def _name(user) -> str:
    if user is None:
        return ""
    return (getattr(user, "full_name", "") or user.get_username()).strip()


# --- the workbook -------------------------------------------------------------------------------

DEADLINE_LINES = (
    (gettext_lazy("Incoming documents with a deadline"), "with_deadline"),
    (gettext_lazy("Handled by the deadline"), "on_time"),
    (gettext_lazy("Handled after the deadline"), "late"),
    (gettext_lazy("Open and overdue"), "overdue"),
    (gettext_lazy("Open, not yet due"), "pending"),
)


def to_xlsx(figures: dict, *, commune_name: str, agency: str, period) -> bytes:
    """The figures as a workbook: a summary sheet (title, commune, period with its dates, the
    totals and the deadlines), then sheets per month, per type and per handler, each with its
    headings on the first line. Counts are numbers, shares numbers shown in per cent, dates dates."""

    from core import xlsx

    percent = "0.0%"
    workbook, sheet = xlsx.figures_workbook(agency or commune_name, _("Statistics of official documents"), period)
    xlsx.append(sheet, [_("Incoming documents received"), figures["received"]])
    xlsx.append(sheet, [_("Outgoing documents issued"), figures["issued"]])
    deadlines = figures["deadlines"]
    for label, key in DEADLINE_LINES:
        xlsx.append(sheet, [str(label), deadlines[key]])
    xlsx.append(sheet, [_("Share handled by the deadline"), deadlines["on_time_share"]], number_formats={1: percent})
    sheet.column_dimensions["A"].width = 48
    sheet.column_dimensions["B"].width = 20

    xlsx.table_sheet(workbook, _("By month"), [_("Month"), _("Received"), _("Issued")],
                     [[row["month"], row["received"], row["issued"]] for row in figures["by_month"]],
                     number_formats={0: "MM/YYYY"})
    xlsx.table_sheet(workbook, _("By type"), [_("Type"), _("Received"), _("Issued")],
                     [[row["type"], row["received"], row["issued"]] for row in figures["by_type"]])
    xlsx.table_sheet(workbook, _("By handler"), [_("Lead handler")] + [str(label) for label, _key in DEADLINE_LINES]
                     + [_("Share handled by the deadline")],
                     [[row["handler_name"] or "–"] + [row[key] for _label, key in DEADLINE_LINES] + [row["on_time_share"]]
                      for row in figures["by_handler"]], number_formats={1 + len(DEADLINE_LINES): percent})
    return xlsx.save(workbook)
