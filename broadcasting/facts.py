"""The radio's figures for a period, as the module registry's reporting facts
(``communes.modules.FactsSource``): the totals of ``broadcasting.reports.period_report`` (what
the clusters reported they played, and the bulletins on the air), counts only."""
from __future__ import annotations

from broadcasting import reports


def for_period(date_from, date_to) -> dict:
    totals = reports.period_report(date_from, date_to)["totals"]
    return {
        "clusters": totals["clusters"], "bulletins_on_air": totals["bulletins"], "plays": totals["plays"],
        "emergency_plays": totals["emergency_plays"], "hours_aired": totals["hours_aired"],
    }
