"""The desk's figures for a period, as the module registry's reporting facts
(``communes.modules.FactsSource``): the counts of ``onestop.statistics.compute``, no personal data."""
from __future__ import annotations

from onestop import statistics

KEYS = ("received", "completed", "early", "on_time", "late", "in_progress", "overdue", "refusals", "stopped")


def for_period(date_from, date_to) -> dict:
    figures = statistics.compute(date_from, date_to)
    return {key: int(figures[key]) for key in KEYS}
