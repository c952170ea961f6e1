"""Writes on durable jobs: enqueue, claim, lease, complete, retry, wait, resume, sweep.

Rules (see DESIGN.md, "Durable jobs"):

* The row is the truth. A Celery message carries only ``(schema, model label, job id)`` and is
  sent after the transaction that wrote the row commits; a lost message is re-sent by the
  sweeper, a duplicate one finds nothing to claim.
* ``claim`` is one conditional UPDATE: the job is queued (or running under an expired lease)
  and due. PostgreSQL re-checks the WHERE clause of a concurrent UPDATE on the same row after
  the first one commits, so exactly one worker wins.
* While ``run`` executes, a thread renews the lease every third of its length. Progress writes
  renew it too. A renewal that finds another owner marks the lease lost: progress raises
  ``LeaseLost`` and nothing is committed by this worker.
* ``complete`` and ``fail_or_retry`` are conditional on ``lease_owner`` being this worker, so a
  result is committed once.
* Times are the workers' clocks (keep them synchronised with NTP).
* Sending a message never raises into the caller (``JobMessage``): the row is committed, so the
  write succeeded; while Redis is down the message is sent later by the sweeper.

Recovery (the sweeper runs every ``XASO_SWEEP_SECONDS`` = 10 s, from beat):

* A message lost in Redis (flushed, restarted without persistence, or never sent because Redis
  was down): the sweeper reads the jobs queue and the unacked set (``messages_in_broker``, one
  snapshot per sweep) and re-sends a queued job whose message is in neither once it is
  ``XASO_JOB_LOST_MESSAGE_SECONDS`` = 10 s old: within 10–20 s, plus the run. Waiting 10 s
  keeps a message that is between the commit and the broker, or between the queue and the
  unacked set, from being duplicated; a duplicate would be harmless anyway (the claim is one
  conditional UPDATE, the second message finds nothing to claim). When the broker cannot be
  read, or holds more than ``XASO_JOB_BROKER_SCAN_LIMIT`` messages (a backlog, not a loss), only
  ``XASO_JOB_ENQUEUE_GRACE_SECONDS`` = 60 s applies, as before.
* A worker that died (kill -9, out of memory, the machine): its lease
  (``XASO_JOB_LEASE_SECONDS`` = 30 s, renewed every 10 s while the job runs) expires 20–30 s
  after the last renewal; the next sweep re-sends the job: 20–40 s, plus the start of a worker
  and the rest of the run. Its message stays in Redis's unacked set until the visibility
  timeout (1 hour), so the lease, not the broker, decides here. A shorter lease would let a
  database pause of a few seconds hand a running job to a second worker (harmless for the
  result, committed once, and for outside calls, made with the idempotency key, but wasted
  work); three renewals per lease tolerate two failed ones.
* Before (lease 60 s, grace 60 s, sweep 30 s) both took 68–96 s. Measured figures:
  bench/README.md (``bench/recovery.py``).
"""
from __future__ import annotations

import base64
import json
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from jobs import registry
from jobs.exceptions import LeaseLost, PermanentError, WaitRequested
from jobs.models import JobState

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600
SWEEP_BATCH = 1000


def lease_seconds() -> float:
    return float(settings.XASO_JOB_LEASE_SECONDS)


def new_worker_id() -> str:
    """A fresh owner id for one execution (host, process, random part)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"[:200]


# --- sending messages -------------------------------------------------------------------

def _send(schema_name: str, label: str, pk, countdown: float | None = None) -> None:
    from jobs.tasks import run_job

    run_job.apply_async(args=[schema_name, label, pk], countdown=countdown)


class JobMessage:
    """The call, after the commit, that sends one job's message; it never raises.

    The row is committed before this runs, so the write has succeeded: a broker that is down
    (or slow, or refusing) must not turn it into an error for the person who made it. The
    failure is logged and the sweeper sends the message once the broker answers again.

    A named callable, not a ``functools.partial``: Django logs a robust callback that raised
    under its ``__qualname__``, and a partial has none, so the logging itself raised an
    ``AttributeError`` into the request (writes answered 500 while their rows were saved).
    """

    def __init__(self, schema_name: str, label: str, pk, countdown: float | None = None):
        self.args = (schema_name, label, pk, countdown)
        self.__qualname__ = f"{type(self).__qualname__}({label}:{pk})"

    def __call__(self) -> None:
        try:
            _send(*self.args)
        except Exception as exc:  # noqa: BLE001 - the row is the truth; the sweeper re-sends
            schema_name, label, pk, _countdown = self.args
            logger.warning("Job %s:%s in %s saved, its message not sent (%s); the sweeper will send it",
                           label, pk, schema_name, exc)

    def __repr__(self) -> str:
        return f"<{self.__qualname__}>"


def _send_on_commit(schema_name: str, label: str, pk, countdown: float | None = None) -> None:
    transaction.on_commit(JobMessage(schema_name, label, pk, countdown), robust=True)


def _current_schema() -> str:
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError("Jobs live in a commune schema: enqueue inside the commune's schema.")
    return schema


def enqueue(job, *, delay: float | None = None):
    """Save the job as queued and send its message once the transaction commits."""
    schema_name = _current_schema()
    now = timezone.now()
    job.state = JobState.QUEUED
    job.run_after = now + timedelta(seconds=delay) if delay else now
    job.last_enqueued_at = job.run_after
    job.save()
    _send_on_commit(schema_name, registry.label_for(type(job)), job.pk, countdown=delay or None)
    return job


# --- claiming and the lease ---------------------------------------------------------------

def claim(model, pk, worker_id: str) -> bool:
    """Take the job for ``worker_id`` if it is free and due. True when this worker won."""
    now = timezone.now()
    won = (
        model.objects.filter(pk=pk, run_after__lte=now)
        .filter(Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, lease_expires_at__lt=now))
        .update(
            state=JobState.RUNNING,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
            started_at=now,
            updated_at=now,
        )
    )
    return won == 1


def renew_lease(model, pk, worker_id: str) -> bool:
    """Extend this worker's lease. False when the job is no longer ours."""
    now = timezone.now()
    return model.objects.filter(pk=pk, lease_owner=worker_id, state=JobState.RUNNING).update(
        lease_expires_at=now + timedelta(seconds=lease_seconds()), updated_at=now,
    ) == 1


class LeaseKeeper(threading.Thread):
    """Renews the lease every third of its length while ``run`` executes (own DB connection)."""

    def __init__(self, model, pk, worker_id: str, schema_name: str):
        super().__init__(name=f"lease-{pk}", daemon=True)
        self.model, self.pk, self.worker_id, self.schema_name = model, pk, worker_id, schema_name
        self.interval = max(lease_seconds() / 3.0, 0.2)
        self.lost = threading.Event()
        self._halt = threading.Event()

    def run(self):
        try:
            with schema_context(self.schema_name):
                while not self._halt.wait(self.interval):
                    try:
                        if not renew_lease(self.model, self.pk, self.worker_id):
                            logger.warning("Job %s lease lost by %s", self.pk, self.worker_id)
                            self.lost.set()
                            return
                    except Exception:  # a database hiccup: try again at the next tick
                        logger.exception("Job %s lease renewal failed", self.pk)
        finally:
            connection.close()

    def stop(self):
        self._halt.set()
        if self.is_alive():
            self.join()


class JobContext:
    """What ``Job.run(ctx)`` gets: progress, the idempotency key, waiting."""

    def __init__(self, job, worker_id: str, schema_name: str, keeper: LeaseKeeper | None = None,
                 resumed_from: str = ""):
        self.job = job
        self.worker_id = worker_id
        self.schema_name = schema_name
        self.keeper = keeper
        self.idempotency_key = job.idempotency_key
        self.attempt = job.attempts
        self.resumed_from = resumed_from

    @property
    def lease_lost(self) -> bool:
        return bool(self.keeper and self.keeper.lost.is_set())

    def check(self) -> None:
        """Raise ``LeaseLost`` if another worker took the job over."""
        if self.lease_lost:
            raise LeaseLost(self.job.pk)

    def progress(self, percent, message: str = "") -> None:
        """Record progress (0–100) and renew the lease."""
        self.check()
        percent = max(0, min(100, int(percent)))
        now = timezone.now()
        updated = type(self.job).objects.filter(
            pk=self.job.pk, lease_owner=self.worker_id, state=JobState.RUNNING
        ).update(
            progress_percent=percent, progress_message=str(message)[:255],
            lease_expires_at=now + timedelta(seconds=lease_seconds()), updated_at=now,
        )
        if updated != 1:
            if self.keeper:
                self.keeper.lost.set()
            raise LeaseLost(self.job.pk)
        self.job.progress_percent, self.job.progress_message = percent, str(message)[:255]

    def wait(self, reason: str, until=None):
        """Park the job (state waiting) and free the worker; ``resume`` or ``until`` wakes it."""
        raise WaitRequested(reason, until)


# --- endings --------------------------------------------------------------------------------

def _owned(model, pk, worker_id):
    return model.objects.filter(pk=pk, lease_owner=worker_id, state=JobState.RUNNING)


def complete(model, pk, worker_id: str, result=None) -> bool:
    """Commit the result, once: only the lease owner of a running job can."""
    now = timezone.now()
    return _owned(model, pk, worker_id).update(
        state=JobState.SUCCEEDED, result=result, error="", progress_percent=100,
        completions=F("completions") + 1, finished_at=now, updated_at=now,
        lease_owner="", lease_expires_at=None, waiting_reason="",
    ) == 1


def backoff_seconds(attempts: int) -> float:
    return min(float(settings.XASO_JOB_BACKOFF_BASE) * (2 ** attempts), MAX_BACKOFF_SECONDS)


def fail_or_retry(model, pk, worker_id: str, error: str, *, retryable: bool = True) -> str:
    """After a failed run: back to queued after an exponential backoff, or failed.

    Returns "retry", "failed" or "lost" (the job was no longer ours).
    """
    row = _owned(model, pk, worker_id).values("attempts", "max_attempts").first()
    if row is None:
        return "lost"
    now = timezone.now()
    error = str(error)[:4000]
    if retryable and row["attempts"] < row["max_attempts"]:
        delay = backoff_seconds(row["attempts"])
        run_after = now + timedelta(seconds=delay)
        if _owned(model, pk, worker_id).update(
            state=JobState.QUEUED, run_after=run_after, last_enqueued_at=run_after, error=error,
            lease_owner="", lease_expires_at=None, updated_at=now,
        ) != 1:
            return "lost"
        _send_on_commit(connection.schema_name, registry.label_for(model), pk, countdown=delay)
        return "retry"
    if _owned(model, pk, worker_id).update(
        state=JobState.FAILED, error=error, finished_at=now, updated_at=now,
        lease_owner="", lease_expires_at=None,
    ) != 1:
        return "lost"
    return "failed"


def park(model, pk, worker_id: str, reason: str, until=None) -> bool:
    """Move a running job to waiting; the run was not a failure, so it does not count."""
    now = timezone.now()
    return _owned(model, pk, worker_id).update(
        state=JobState.WAITING, waiting_reason=str(reason)[:255], run_after=until,
        attempts=F("attempts") - 1, lease_owner="", lease_expires_at=None, updated_at=now,
    ) == 1


def resume(job) -> bool:
    """Wake a waiting job now (for example when the person confirmed on the phone)."""
    model = type(job)
    now = timezone.now()
    woke = model.objects.filter(pk=job.pk, state=JobState.WAITING).update(
        state=JobState.QUEUED, run_after=now, last_enqueued_at=now, updated_at=now,
    ) == 1
    if woke:
        _send_on_commit(_current_schema(), registry.label_for(model), job.pk)
    return woke


# --- running (inside the worker) -----------------------------------------------------------

def _reschedule_if_early(model, pk, schema_name: str) -> None:
    """A message that arrived before ``run_after`` (clock or ETA drift) is sent again."""
    row = model.objects.filter(pk=pk, state=JobState.QUEUED).values_list("run_after", flat=True).first()
    if row is None:
        return
    wait = (row - timezone.now()).total_seconds()
    if 0 < wait <= MAX_BACKOFF_SECONDS:
        _send(schema_name, registry.label_for(model), pk, countdown=wait + 0.05)


def execute(model, pk, schema_name: str, worker_id: str | None = None) -> str:
    """Claim and run one job in the current schema. Returns what happened."""
    worker_id = worker_id or new_worker_id()
    if not claim(model, pk, worker_id):
        _reschedule_if_early(model, pk, schema_name)
        return "not-claimed"
    job = model.objects.get(pk=pk)
    resumed_from = job.waiting_reason
    if resumed_from:
        model.objects.filter(pk=pk, lease_owner=worker_id).update(waiting_reason="")
    keeper = LeaseKeeper(model, pk, worker_id, schema_name)
    ctx = JobContext(job, worker_id, schema_name, keeper, resumed_from)
    keeper.start()
    try:
        result = job.run(ctx)
    except WaitRequested as wait:
        keeper.stop()
        return "waiting" if park(model, pk, worker_id, wait.reason, wait.until) else "lost"
    except LeaseLost:
        keeper.stop()
        return "lost"
    except PermanentError as exc:
        keeper.stop()
        return fail_or_retry(model, pk, worker_id, str(exc) or type(exc).__name__, retryable=False)
    except Exception as exc:
        keeper.stop()
        logger.warning("Job %s:%s failed: %s", registry.label_for(model), pk, exc, exc_info=True)
        return fail_or_retry(model, pk, worker_id, str(exc) or type(exc).__name__, retryable=True)
    keeper.stop()
    if keeper.lost.is_set():
        return "lost"
    return "succeeded" if complete(model, pk, worker_id, result) else "lost"


# --- the sweeper ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepWindows:
    """When the sweeper re-sends a job's message (times are thresholds on ``last_enqueued_at``)."""

    now: datetime
    stale: datetime  # older than the grace: re-sent whatever the broker holds
    lost: datetime  # older than the lost-message delay: re-sent if the broker does not hold it
    running: datetime  # a running job under an expired lease, sent at least this long ago

    @classmethod
    def at(cls, now=None, grace_seconds: float | None = None) -> "SweepWindows":
        now = now or timezone.now()
        grace = settings.XASO_JOB_ENQUEUE_GRACE_SECONDS if grace_seconds is None else grace_seconds
        lost = float(settings.XASO_JOB_LOST_MESSAGE_SECONDS)
        lost = min(lost, grace) if lost > 0 else grace
        return cls(now=now, stale=now - timedelta(seconds=grace), lost=now - timedelta(seconds=lost),
                   running=now - timedelta(seconds=lost))


def _job_in_message(raw) -> tuple[str, str, str] | None:
    """(schema, model label, id) of a ``jobs.run`` message as kombu keeps it in Redis."""
    try:
        message = json.loads(raw)
        if isinstance(message, list):  # an unacked entry: [message, exchange, routing key]
            message = message[0]
        if (message.get("headers") or {}).get("task") != "jobs.run":
            return None
        body = message["body"]
        if (message.get("properties") or {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        schema_name, label, pk = json.loads(body)[0][:3]
        return str(schema_name), str(label), str(pk)
    except Exception:  # noqa: BLE001 - another application's message, or a damaged one
        return None


def messages_in_broker() -> set[tuple[str, str, str]] | None:
    """The jobs whose message the broker holds: waiting in the jobs queue, or delivered to a
    worker and not yet acknowledged (which includes messages with a countdown).

    ``None`` when it cannot tell: the broker is not Redis or does not answer, the check is
    turned off, or the queue is longer than ``XASO_JOB_BROKER_SCAN_LIMIT`` (a backlog, not a
    loss). Then only the grace period decides.
    """
    from config.celery import app

    url = str(app.conf.broker_url or "")
    limit = int(settings.XASO_JOB_BROKER_SCAN_LIMIT)
    if settings.XASO_JOB_LOST_MESSAGE_SECONDS <= 0 or not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    queue = app.conf.task_default_queue
    # kombu keeps a queue's priorities in sibling lists: name, name\x06\x163, \x06\x166, \x06\x169
    keys = [queue] + [f"{queue}\x06\x16{step}" for step in (3, 6, 9)]
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        try:
            with client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.llen(key)
                pipe.hlen("unacked")
                *lengths, unacked = pipe.execute()
            if sum(lengths) + unacked > limit:
                return None
            with client.pipeline(transaction=True) as pipe:  # one snapshot of queue and unacked
                for key in keys:
                    pipe.lrange(key, 0, limit)
                pipe.hvals("unacked")
                *waiting, delivered = pipe.execute()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - Redis down: it cannot tell
        logger.info("The sweeper could not read the broker (%s); the grace period decides", exc)
        return None
    found = set()
    for raw in [item for items in waiting for item in items] + list(delivered):
        job = _job_in_message(raw)
        if job is not None:
            found.add(job)
    return found


def sweep_schema(*, grace_seconds: float | None = None, now=None,
                 in_broker: set[tuple[str, str, str]] | None = None) -> dict:
    """Re-send what needs a message in the current schema.

    * queued and due, last sent longer ago than the grace period (message lost: Redis flushed),
      or longer ago than the lost-message delay when ``in_broker`` (``messages_in_broker``)
      shows that the broker does not hold its message;
    * running under an expired lease (the worker died), last sent longer ago than the
      lost-message delay; failed when it used its attempts;
    * waiting whose ``run_after`` passed (a timed wait).
    One SELECT per job model when there is nothing to do.
    """
    windows = SweepWindows.at(now, grace_seconds)
    now = windows.now
    counts = {"requeued": 0, "woken": 0, "failed": 0}
    schema = connection.schema_name
    queued_since = windows.stale if in_broker is None else windows.lost
    not_recent = Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lte=queued_since)
    run_not_recent = Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lte=windows.running)
    for model in registry.models():
        label = registry.label_for(model)
        rows = list(
            model.objects.filter(
                Q(state=JobState.WAITING, run_after__lte=now)
                | (Q(state=JobState.QUEUED, run_after__lte=now) & not_recent)
                | (Q(state=JobState.RUNNING, lease_expires_at__lt=now) & run_not_recent)
            ).order_by().values_list("pk", "state", "attempts", "max_attempts", "last_enqueued_at")[:SWEEP_BATCH]
        )
        if in_broker is not None:
            # Between the lost-message delay and the grace: only what the broker does not hold.
            rows = [
                row for row in rows
                if row[1] != JobState.QUEUED or row[4] is None or row[4] <= windows.stale
                or (schema, label, str(row[0])) not in in_broker
            ]
        if not rows:
            continue
        waiting = [pk for pk, state, _a, _m, _e in rows if state == JobState.WAITING]
        exhausted = [pk for pk, state, a, m, _e in rows if state == JobState.RUNNING and a >= m]
        resend = [pk for pk, state, a, m, _e in rows
                  if state == JobState.QUEUED or (state == JobState.RUNNING and a < m)]
        send: list = []
        if waiting:
            qs = model.objects.filter(pk__in=waiting, state=JobState.WAITING, run_after__lte=now)
            woken = list(qs.values_list("pk", flat=True))
            qs.filter(pk__in=woken).update(state=JobState.QUEUED, run_after=now, last_enqueued_at=now, updated_at=now)
            counts["woken"] += len(woken)
            send += woken
        if exhausted:
            counts["failed"] += model.objects.filter(
                pk__in=exhausted, state=JobState.RUNNING, lease_expires_at__lt=now
            ).update(
                state=JobState.FAILED, finished_at=now, updated_at=now, lease_owner="", lease_expires_at=None,
                error="The worker running this job stopped too many times.",
            )
        if resend:
            model.objects.filter(pk__in=resend).update(last_enqueued_at=now)
            counts["requeued"] += len(resend)
            send += resend
        for pk in send:
            _send_on_commit(schema, label, pk)
    return counts


SWEEP_PROBE_BATCH = 400


def _due_condition() -> str:
    """The WHERE clause of ``sweep_schema`` in SQL, for the cross-schema probe."""
    return (
        "(state = 'waiting' AND run_after <= %(now)s)"
        " OR (state = 'queued' AND run_after <= %(now)s"
        "     AND (last_enqueued_at IS NULL OR last_enqueued_at <= %(queued_since)s))"
        " OR (state = 'running' AND lease_expires_at < %(now)s"
        "     AND (last_enqueued_at IS NULL OR last_enqueued_at <= %(running_since)s))"
    )


def schemas_with_due_jobs(schema_names: list[str], *, grace_seconds: float | None = None, now=None,
                          check_broker: bool = False) -> set[str]:
    """Which of these schemas hold a job that ``sweep_schema`` would act on (with
    ``check_broker``: or might, once it compares with what the broker holds).

    One read-only statement per batch of schemas (a UNION ALL of indexed ``EXISTS`` probes), so
    a sweep over thousands of communes costs a handful of round trips, not one per commune.
    """
    windows = SweepWindows.at(now, grace_seconds)
    params = {"now": windows.now, "queued_since": windows.lost if check_broker else windows.stale,
              "running_since": windows.running}
    tables = [model._meta.db_table for model in registry.models()]
    found: set[str] = set()
    if not tables:
        return found
    quote = connection.ops.quote_name
    condition = _due_condition()
    with connection.cursor() as cursor:
        for start in range(0, len(schema_names), SWEEP_PROBE_BATCH):
            batch = schema_names[start:start + SWEEP_PROBE_BATCH]
            probes = []
            for index, schema in enumerate(batch):
                params[f"s{index}"] = schema
                exists = " OR ".join(
                    f"EXISTS (SELECT 1 FROM {quote(schema)}.{quote(table)} WHERE {condition})" for table in tables
                )
                probes.append(f"SELECT %(s{index})s::text WHERE {exists}")
            cursor.execute(" UNION ALL ".join(probes), params)
            found.update(row[0] for row in cursor.fetchall())
    return found


def sweep_all(*, grace_seconds: float | None = None, probe: bool = True, check_broker: bool = True) -> dict:
    """Sweep every commune schema that has something due.

    The broker is read first (``messages_in_broker``, one snapshot for all schemas), so that a
    message lost in Redis is re-sent after ``XASO_JOB_LOST_MESSAGE_SECONDS`` rather than after the
    whole grace period. A batched probe (``schemas_with_due_jobs``) then finds the schemas with
    due jobs; only those are swept. ``probe=False`` visits every schema (one query per job model
    each), the old way, kept for the benchmark and as a fallback when the probe fails.
    """
    from communes.models import Commune

    in_broker = messages_in_broker() if check_broker else None
    totals = {"schemas": 0, "requeued": 0, "woken": 0, "failed": 0}
    schemas = list(
        Commune.objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
    )
    totals["schemas"] = len(schemas)
    if probe:
        try:
            due = schemas_with_due_jobs(schemas, grace_seconds=grace_seconds, check_broker=in_broker is not None)
            schemas = [name for name in schemas if name in due]
        except Exception:  # a schema missing a table, say: fall back to visiting every schema
            logger.exception("The sweep probe failed; visiting every schema")
    for schema_name in schemas:
        try:
            with schema_context(schema_name):
                counts = sweep_schema(grace_seconds=grace_seconds, in_broker=in_broker)
        except Exception:  # one broken schema must not stop the others
            logger.exception("Sweeping schema %s failed", schema_name)
            continue
        for key, value in counts.items():
            totals[key] += value
    from jobs.heartbeat import forget_stale

    forget_stale()
    return totals
