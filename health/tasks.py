"""Celery tasks of the health station (beat tasks; SMS go out as durable notification jobs)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="health.send_vaccination_reminders", ignore_result=True)
def send_vaccination_reminders() -> dict:
    """Beat, on the first of the month: in every commune, one SMS per household for the doses
    due this month (``health.vaccination.send_reminders``; each dose is announced once a month,
    so a repeated run sends nothing new)."""
    from health.vaccination import send_all_communes

    return send_all_communes()
