"""Celery beat task of the documents app (the jobs themselves run through ``jobs.run``)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="documents.send_reminders", ignore_result=True)
def send_reminders() -> int:
    """Beat, once a day: a reminder job per commune for due-soon and overdue documents."""
    from documents.reminders import schedule_all

    return schedule_all()
