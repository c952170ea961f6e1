"""Deadline reminders: once a day, a notice to the handlers of every incoming document that is
due soon or overdue.

``schedule_all`` (the Celery beat task ``documents.send_reminders``) writes one
``ReminderJob`` per commune and day; the job leaves a ``DocumentNotice`` in the portal for the
lead handler and each co-handler (one per person, document, kind and day, so a re-run adds
nothing) and logs what it did.
"""
from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from documents import numbering, selectors
from documents.models import DocumentNotice, ReminderJob
from jobs.services import enqueue

logger = logging.getLogger(__name__)


def run_job(job: ReminderJob, ctx) -> dict:
    moment = timezone.now()
    policy = numbering.get_policy()
    notices: list[DocumentNotice] = []
    counts = {"overdue": 0, "due_soon": 0}
    for kind, queryset in (
        (DocumentNotice.Kind.OVERDUE, selectors.overdue(at=moment)),
        (DocumentNotice.Kind.DUE_SOON, selectors.due_soon(days=policy.due_soon_days, at=moment)),
    ):
        for doc in queryset:
            counts[kind] += 1
            for user_id in sorted(doc.handler_ids()):
                notices.append(DocumentNotice(user_id=user_id, document=doc, kind=kind, day=job.day))
    created = DocumentNotice.objects.bulk_create(notices, ignore_conflicts=True)
    logger.info("Document reminders %s: %d overdue, %d due soon, %d notices", job.day, counts["overdue"],
                counts["due_soon"], len(notices))
    return {**counts, "notices": len(created)}


def schedule_today(day: datetime.date | None = None) -> ReminderJob | None:
    """The reminder job of the day in the current schema (none if it already exists)."""
    day = day or numbering.local_today()
    if ReminderJob.objects.filter(day=day).exists():
        return None
    try:
        with transaction.atomic():
            return enqueue(ReminderJob(day=day))
    except IntegrityError:  # written a moment ago by a concurrent beat
        return None


def schedule_all(day: datetime.date | None = None) -> int:
    """Every commune: write the day's reminder job. Returns how many were written."""
    from communes.models import Commune

    written = 0
    for schema_name in Commune.objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True):
        try:
            with schema_context(schema_name):
                written += schedule_today(day) is not None
        except Exception:  # one broken schema must not stop the others
            logger.exception("Scheduling document reminders in %s failed", schema_name)
    return written
