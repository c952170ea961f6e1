"""The documents' figures for a period, as the module registry's reporting facts
(``communes.modules.FactsSource``): the totals of ``documents.statistics.compute`` (the lines of
the registers received and issued, and how the incoming documents given a deadline were
handled), counts only."""
from __future__ import annotations

from documents import statistics


def for_period(date_from, date_to) -> dict:
    figures = statistics.compute(date_from, date_to)
    deadlines = figures["deadlines"]
    return {
        "received": figures["received"], "issued": figures["issued"],
        "handled_on_time": deadlines["on_time"], "handled_late": deadlines["late"],
        "overdue": deadlines["overdue"], "pending": deadlines["pending"],
    }
