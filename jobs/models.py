"""Durable jobs: the row in PostgreSQL is the truth, the Celery message only a wake-up call.

``Job`` is abstract: each tenant app that runs background work (notifications, signing,
text-to-speech) subclasses it, implements ``run(self, ctx)`` and registers the model with
``jobs.registry.register``. ``WorkerHeartbeat`` lives in the public schema and tells the health
check that a worker is alive (PostgreSQL, not Redis, so a flushed Redis does not hide workers).
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def default_max_attempts() -> int:
    return settings.XASO_JOB_MAX_ATTEMPTS


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED})


class Job(models.Model):
    """A unit of background work whose state lives in this row.

    Life cycle: queued → running (a worker holds the lease) → succeeded | failed, or back to
    queued (retry after a backoff, or a dead worker's expired lease), or waiting (on a person or
    an outside event, without holding a worker) → queued on ``jobs.services.resume`` or when
    ``run_after`` passes.
    """

    State = JobState

    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(_("maximum attempts"), default=default_max_attempts)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=64, unique=True, default=new_idempotency_key, editable=False,
        help_text=_("Sent with every call to an outside service, so that a retried call has no second effect."),
    )
    lease_owner = models.CharField(_("lease owner"), max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    run_after = models.DateTimeField(_("run after"), null=True, blank=True, default=timezone.now)
    progress_percent = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    progress_message = models.CharField(_("progress message"), max_length=255, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    waiting_reason = models.CharField(_("waiting for"), max_length=255, blank=True)
    completions = models.PositiveIntegerField(
        _("completions"), default=0, editable=False,
        help_text=_("How many times a result was committed (always 0 or 1)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    last_enqueued_at = models.DateTimeField(_("last enqueued at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "run_after"], name="%(class)s_sweep"),
        ]

    def run(self, ctx):  # pragma: no cover - implemented by subclasses
        """Do the work. ``ctx`` is a ``jobs.services.JobContext``. Return a JSON-able result."""
        raise NotImplementedError

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker was seen alive (public schema)."""

    worker_name = models.CharField(_("worker name"), max_length=200, unique=True)
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.worker_name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
