"""The health station's figures of a period for the reporting facts (``communes.modules``), which
the outbox publishes monthly to the public schema for the supervising units: the monthly report's
figures (``health.reports``) as flat keys of plain numbers, never a person, a name or an ID.

``records`` (health records kept at the end of the period) and ``visits`` (visits in the period)
keep their names; the other keys are those of ``health.reports.flat``.
"""
from __future__ import annotations


def for_period(date_from, date_to) -> dict:
    from health import reports
    from health.models import HealthRecord

    figures = {"records": HealthRecord.objects.filter(opened_on__lte=date_to).count()}
    figures.update(reports.flat(reports.period_report(date_from, date_to)))
    return figures
