"""Monthly figures of the commune radio.

* Hours aired per cluster: the sum of the as-run log's entries (``ended_at − started_at``) that
  started in the month, with the number of plays and of emergency plays.
* Bulletins by category: how many bulletins were on the air in the month (approved with a
  validity that meets the month, or reported as played), their plays and hours aired.
* Device uptime: the share of the month (up to now) covered by heartbeats — each heartbeat covers
  the time until the next one, at most XASO_RADIO_OFFLINE_SECONDS (after that the cluster counts
  as offline). A cluster's month starts when it first reported, or when it was added.

The same report goes to the supervising unit's API, one per commune (``national_api``).
"""
from __future__ import annotations

import calendar
import datetime
import re

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasting.models import AsRunEntry, Bulletin, BulletinState, Category, Cluster, Heartbeat
from broadcasting.scheduler import offline_seconds, online_since

_MONTH_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_MONTH_VN = re.compile(r"^\s*(\d{1,2})/(\d{4})\s*$")


def parse_month(value) -> datetime.date:
    """The first day of the month written ``2026-11`` or ``11/2026``; this month when empty."""
    if value in (None, ""):
        return timezone.localdate().replace(day=1)
    text = value if isinstance(value, str) else ""
    match = _MONTH_ISO.match(text)
    year = month = None
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        match = _MONTH_VN.match(text)
        if match:
            month, year = int(match.group(1)), int(match.group(2))
    if year is None or not 1 <= month <= 12 or not 2000 <= year <= 2200:
        raise ValidationError({"month": [ValidationError(_("Enter a month as yyyy-mm (e.g. 2026-11) or mm/yyyy."),
                                                         code="invalid_month")]})
    return datetime.date(year, month, 1)


def month_bounds(first: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Start and end (exclusive) of the month, Vietnam time."""
    tz = timezone.get_default_timezone()
    last_day = calendar.monthrange(first.year, first.month)[1]
    start = datetime.datetime.combine(first, datetime.time()).replace(tzinfo=tz)
    end = start + datetime.timedelta(days=last_day)
    return start, end


def _duration():
    return ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())


def _seconds(value) -> float:
    return value.total_seconds() if value else 0.0


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


UPTIME_SQL = """
WITH beats AS (
    SELECT cluster_id, at, LEAD(at) OVER (PARTITION BY cluster_id ORDER BY at) AS next_at
    FROM broadcasting_heartbeat
    WHERE at >= %(low)s AND at < %(end)s
)
SELECT cluster_id,
       SUM(GREATEST(0, EXTRACT(EPOCH FROM (
           LEAST(COALESCE(next_at, %(end)s), at + make_interval(secs => %(window)s), %(end)s) - GREATEST(at, %(start)s)
       )))) AS covered
FROM beats
GROUP BY cluster_id
"""


def covered_seconds(start: datetime.datetime, end: datetime.datetime) -> dict[int, float]:
    """Seconds of [start, end) covered by each cluster's heartbeats."""
    if end <= start:
        return {}
    window = offline_seconds()
    params = {"low": start - datetime.timedelta(seconds=window), "start": start, "end": end, "window": window}
    with connection.cursor() as cursor:
        cursor.execute(UPTIME_SQL, params)
        return {cluster_id: float(covered or 0) for cluster_id, covered in cursor.fetchall()}


def monthly_report(first: datetime.date, now: datetime.datetime | None = None) -> dict:
    """The month's figures of the commune in use (see the module's text)."""
    start, end = month_bounds(first)
    report = period_report(first, (end - datetime.timedelta(days=1)).date(), now=now)
    report["month"] = f"{first:%Y-%m}"
    return report


def period_bounds(date_from: datetime.date, date_to: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Start of ``date_from`` and end (exclusive) of ``date_to``, Vietnam time."""
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(date_from, datetime.time()).replace(tzinfo=tz)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time()).replace(tzinfo=tz)
    return start, end


def period_report(date_from: datetime.date, date_to: datetime.date, now: datetime.datetime | None = None) -> dict:
    """The figures of the commune in use between two dates (both included): the month's
    figures of the module's text over any span (a quarter, a year); uptime covers the span up
    to now."""
    now = now or timezone.now()
    first = date_from
    start, end = period_bounds(date_from, date_to)
    until = min(end, now)
    aired = {
        row["cluster"]: row for row in
        AsRunEntry.objects.filter(started_at__gte=start, started_at__lt=end).values("cluster")
        .annotate(total=Sum(_duration()), plays=Count("id"), emergency_plays=Count("id", filter=Q(emergency=True)))
    }
    covered = covered_seconds(start, until)
    first_beat = Heartbeat.objects.filter(cluster=OuterRef("pk")).order_by("at").values("at")[:1]
    online_from = online_since(now)
    clusters = []
    totals = {"clusters": 0, "online": 0, "seconds_aired": 0.0, "hours_aired": 0.0, "plays": 0, "emergency_plays": 0,
              "uptime": None}
    uptimes = []
    for cluster in Cluster.objects.select_related("village").annotate(first_beat=Subquery(first_beat)):
        row = aired.get(cluster.pk, {})
        seconds = _seconds(row.get("total"))
        began = cluster.created_at
        if cluster.first_beat is not None and cluster.first_beat < began:
            began = cluster.first_beat
        span_start = max(start, began)
        span = (until - span_start).total_seconds()
        uptime = None
        if span > 0 and cluster.active:
            uptime = round(min(1.0, covered.get(cluster.pk, 0.0) / span), 4)
            uptimes.append(uptime)
        online = cluster.last_heartbeat_at is not None and cluster.last_heartbeat_at >= online_from
        clusters.append({
            "id": cluster.pk, "name": cluster.name, "village": cluster.village.name, "active": cluster.active,
            "online": online, "seconds_aired": round(seconds, 2), "hours_aired": _hours(seconds),
            "plays": row.get("plays", 0), "emergency_plays": row.get("emergency_plays", 0), "uptime": uptime,
        })
        totals["clusters"] += 1
        totals["online"] += int(online)
        totals["seconds_aired"] += seconds
        totals["plays"] += row.get("plays", 0)
        totals["emergency_plays"] += row.get("emergency_plays", 0)
    totals["seconds_aired"] = round(totals["seconds_aired"], 2)
    totals["hours_aired"] = _hours(totals["seconds_aired"])
    totals["uptime"] = round(sum(uptimes) / len(uptimes), 4) if uptimes else None

    last_day = date_to
    on_air = set(Bulletin.objects.filter(state=BulletinState.APPROVED, valid_from__lte=last_day,
                                         valid_until__gte=first).values_list("pk", flat=True))
    plays = {
        row["bulletin__category"]: row for row in
        AsRunEntry.objects.filter(started_at__gte=start, started_at__lt=end, bulletin__isnull=False)
        .values("bulletin__category").annotate(total=Sum(_duration()), plays=Count("id"))
    }
    played_ids = set(AsRunEntry.objects.filter(started_at__gte=start, started_at__lt=end, bulletin__isnull=False)
                     .values_list("bulletin_id", flat=True).distinct())
    counts = {row["category"]: row["n"] for row in Bulletin.objects.filter(pk__in=on_air | played_ids)
              .values("category").annotate(n=Count("id"))}
    categories = []
    for value, label in Category.choices:
        seconds = _seconds(plays.get(value, {}).get("total"))
        categories.append({"category": value, "label": str(label), "bulletins": counts.get(value, 0),
                           "plays": plays.get(value, {}).get("plays", 0), "seconds_aired": round(seconds, 2),
                           "hours_aired": _hours(seconds)})
    totals["bulletins"] = sum(counts.values())
    totals["bulletins_played"] = len(played_ids)
    return {
        "date_from": first, "date_to": last_day,
        "clusters": clusters, "categories": categories, "totals": totals,
    }


# --- the workbook of the reports page -------------------------------------------------------------

def to_xlsx(report: dict, *, commune_name: str, period) -> bytes:
    """The report as a workbook: a summary sheet (title, commune, period with its dates, the
    totals), then a sheet per cluster and per category, each with its headings on the first
    line. Hours are numbers with two decimals, uptime a number shown in per cent, dates dates."""

    from core import xlsx

    hours, percent = "0.00", "0.0%"
    totals = report["totals"]
    workbook, sheet = xlsx.figures_workbook(commune_name, _("Radio report"), period)
    xlsx.append(sheet, [_("Hours aired"), totals["hours_aired"]], number_formats={1: hours})
    xlsx.append(sheet, [_("Plays"), totals["plays"]])
    xlsx.append(sheet, [_("Emergency plays"), totals["emergency_plays"]])
    xlsx.append(sheet, [_("Bulletins broadcast"), totals["bulletins_played"]])
    xlsx.append(sheet, [_("Bulletins on the air"), totals["bulletins"]])
    xlsx.append(sheet, [_("Clusters"), totals["clusters"]])
    xlsx.append(sheet, [_("Device uptime"), totals["uptime"]], number_formats={1: percent})
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 20

    xlsx.table_sheet(
        workbook, _("Per cluster"), [_("Cluster"), _("Village"), _("Hours aired"), _("Plays"), _("Emergency plays"), _("Uptime")],
        [[row["name"], row["village"], row["hours_aired"], row["plays"], row["emergency_plays"], row["uptime"]]
         for row in report["clusters"]], number_formats={2: hours, 5: percent}, widths=(30, 24))
    xlsx.table_sheet(
        workbook, _("Bulletins by category"), [_("Category"), _("Bulletins"), _("Plays"), _("Hours aired")],
        [[row["label"], row["bulletins"], row["plays"], row["hours_aired"]] for row in report["categories"]],
        number_formats={3: hours}, widths=(30, 24))
    return xlsx.save(workbook)
