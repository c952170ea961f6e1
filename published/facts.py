"""The topic ``facts.monthly``: every app's figures (``communes.modules.facts_for``) per commune and
month, published by each commune into ``MonthlyFacts`` for the national host to read.

One key per source and month, ``"2026-11/onestop"``; the payload::

    {"source": "onestop", "month": "2026-11", "figures": {"received": 41, "late": 2, ...}}

Figures are counts and sums, never personal data (see each app's ``facts.py``). The producer side
(the beat task that refreshes the current and the previous month, the ``publish_facts`` command)
is in ``outbox.facts``; this module is what both sides share: the keys, the payloads, the
handler and the snapshot.
"""
from __future__ import annotations

import datetime
import re
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from communes.models import Commune
from communes.modules import facts_for
from core import periods
from published import rows
from published.models import MonthlyFacts, Publication
from published.topics import Delivery

TOPIC = "facts.monthly"
_KEY = re.compile(r"^(\d{4})-(\d{2})/")


def key(month: datetime.date, source: str) -> str:
    return f"{month:%Y-%m}/{source}"


def month_of_key(value: str) -> datetime.date | None:
    match = _KEY.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (month - datetime.timedelta(days=1)).replace(day=1)


def refresh_months(today: datetime.date | None = None) -> list[datetime.date]:
    """The months a beat refreshes: the previous month and the current one."""
    current = first_of_month(today or timezone.localdate())
    return [previous_month(current), current]


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return periods.custom(first_of_month(first), last).months()


def pairs_for(months: Iterable[datetime.date]) -> list[tuple[str, dict]]:
    """The (key, payload) pairs of these months, computed in the commune's schema."""
    pairs = []
    for month in sorted(set(months)):
        period = periods.month(month.year, month.month)
        for source, figures in facts_for(period.date_from, period.date_to).items():
            pairs.append((key(month, source), {"source": source, "month": f"{month:%Y-%m}", "figures": figures}))
    return pairs


def commune_of_schema() -> Commune:
    return Commune.objects.get(schema_name=connection.schema_name)


def published_months(commune: Commune) -> set[datetime.date]:
    """The months of this commune on the public side (not withdrawn)."""
    keys = Publication.objects.filter(topic=TOPIC, commune=commune, withdrawn=False).values_list("key", flat=True)
    return {month for month in map(month_of_key, keys) if month is not None}


def snapshot() -> list[tuple[str, dict]]:
    """Every month already on the public side, and the previous and current month, recomputed."""
    months = published_months(commune_of_schema()) | set(refresh_months())
    return pairs_for(months)


def apply(delivery: Delivery) -> None:
    def fields(payload: dict) -> dict:
        month = datetime.date.fromisoformat(payload["month"] + "-01")
        return {"source": str(payload["source"]), "month": month, "figures": dict(payload["figures"])}

    rows.apply(MonthlyFacts, delivery, fields)
