"""The commune's writer: it applies the commune's outbox entries to the public schema, and the
sweeper that wakes it when a wake-up was lost.

One writer per commune
----------------------
``deliver(schema)`` takes a PostgreSQL advisory lock on the commune (session lock, class
``LOCK_CLASS``, the commune's id): a second writer for the same commune gives up at once
(``busy``), unless asked to wait (``wait=True``, the commands). The lock goes with the
connection, so a killed worker leaves no lock behind. Once the lock is released the writer looks
again for due entries and starts over if there are some: a wake-up that arrived while it was
finishing is not lost.

Entries are taken in id order, ``XASO_OUTBOX_BATCH`` at a time, in one transaction per batch,
each in a savepoint:

1. the ledger (``published.models.Publication``) of (topic, commune, key) is moved to the entry's
   id only if that is larger than the id it holds: otherwise the entry is older than what is
   applied (a replay, or an entry that arrived late), it is marked delivered and *superseded*,
   and nothing else is written;
2. the topic's handler applies it (upsert, or removal for a tombstone);
3. the entry is marked delivered and its line of the public index (``Pending``) deleted, in the
   same transaction.

So a batch that dies half-way (worker killed, database restarted) leaves no trace and is applied
again by the next writer, and an entry applied twice has no second effect. A handler that raises
rolls back its savepoint only: the entry's attempts, error and next attempt (backoff
``XASO_OUTBOX_BACKOFF_BASE`` × 2^(attempts-1) seconds, at most an hour) are written to the entry
and to its index line (where ``outbox_status`` and the national admin show them), and the writer
goes on with the next entries; other communes have writers of their own. A writer works at most
``XASO_OUTBOX_RUN_SECONDS`` and then hands over to a new wake-up, so a busy commune never holds a
worker for long.

The sweeper
-----------
``sweep()`` (beat, every ``XASO_OUTBOX_SWEEP_SECONDS``) reads the public index once: the
communes with an entry due (published more than ``XASO_OUTBOX_GRACE_SECONDS`` ago and still
undelivered: its wake-up was lost, Redis was flushed, the worker was killed; or a failed entry
whose backoff is over) and wakes their writers. It never visits a commune schema: its cost is one
indexed query on the entries still waiting, whatever the number of communes (figures in
bench/README.md, ``bench/outbox_scale.py``). A commune woken less than ``XASO_OUTBOX_REWAKE_SECONDS``
ago is not woken again (a mark in Redis), so a worker outage does not pile up wake-ups.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from communes.models import Commune
from outbox.models import Entry
from outbox.services import Wake
from published.models import Pending, Publication
from published.topics import Delivery, get_topic

logger = logging.getLogger(__name__)

# First key of the advisory locks of the writers (the second is the commune's id).
LOCK_CLASS = 7_303_201
MAX_BACKOFF_SECONDS = 3600


def _setting(name: str, default):
    return type(default)(getattr(settings, name, default))


def backoff_seconds(attempts: int) -> float:
    base = _setting("XASO_OUTBOX_BACKOFF_BASE", 5.0)
    return max(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS), 0.05)


# --- the lock ------------------------------------------------------------------------------------

def _lock(commune_id: int, wait: bool) -> bool:
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_CLASS, commune_id])
            return True
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, commune_id])
        return bool(cursor.fetchone()[0])


def _unlock(commune_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, commune_id])
    except Exception:  # noqa: BLE001 - the connection died: the lock went with it
        logger.warning("Outbox writer of commune %s: unlock failed (the connection is gone)", commune_id)


# --- delivering ------------------------------------------------------------------------------------

def deliver(schema_name: str, *, wait: bool = False, budget_seconds: float | None = None) -> dict:
    """Apply the commune's due entries. Returns counts: applied, superseded, failed, batches, and
    busy=1 when another writer holds the commune."""
    counts: Counter = Counter()
    commune = Commune.objects.filter(schema_name=schema_name).values_list("pk", "code").first()
    if commune is None:  # the commune was removed: its index lines lead nowhere
        Pending.objects.filter(schema_name=schema_name).delete()
        return dict(counts)
    commune_id, code = commune
    budget = _setting("XASO_OUTBOX_RUN_SECONDS", 20.0) if budget_seconds is None else budget_seconds
    deadline = None
    try:
        while True:
            if not _lock(commune_id, wait):
                counts["busy"] = 1
                break
            deadline = deadline or time.monotonic() + budget  # the time counts from the first lock
            try:
                with schema_context(schema_name):
                    finished = _run(schema_name, commune_id, code, counts, deadline)
                    if finished:
                        _tidy(schema_name)
            finally:
                _unlock(commune_id)
            if not finished:  # out of time: a new wake-up carries on
                Wake(schema_name)()
                counts["handed_over"] = 1
                break
            with schema_context(schema_name):
                if not _due().exists():
                    break
    finally:
        _forget_wake(schema_name)
    return {key: value for key, value in counts.items() if value}


def _due():
    return Entry.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=timezone.now())


def _run(schema_name: str, commune_id: int, code: str, counts: Counter, deadline: float) -> bool:
    """Deliver batches until none is due (True) or the time is out (False)."""
    size = _setting("XASO_OUTBOX_BATCH", 100)
    while True:
        batch = list(_due().order_by("id")[:size])
        if not batch:
            return True
        if time.monotonic() > deadline:
            return False
        _deliver_batch(schema_name, commune_id, code, batch, counts)
        counts["batches"] += 1


def _deliver_batch(schema_name: str, commune_id: int, code: str, batch: list[Entry], counts: Counter) -> None:
    with transaction.atomic():
        applied, superseded, failed = [], [], []
        for entry in batch:
            try:
                with transaction.atomic():
                    outcome = apply_entry(entry, commune_id, code)
            except Exception as exc:  # noqa: BLE001 - the handler's error is kept on the entry
                failed.append((entry, f"{type(exc).__name__}: {exc}"[:2000]))
                logger.warning("Outbox of %s: entry %s (%s %s) failed: %s", schema_name, entry.pk, entry.topic,
                               entry.key, exc, exc_info=True)
            else:
                (applied if outcome == "applied" else superseded).append(entry.pk)
        now = timezone.now()
        done = applied + superseded
        if applied:
            Entry.objects.filter(pk__in=applied).update(delivered_at=now, last_error="")
        if superseded:
            Entry.objects.filter(pk__in=superseded).update(delivered_at=now, superseded=True, last_error="")
        if done:
            Pending.objects.filter(schema_name=schema_name, entry_id__in=done).delete()
        for entry, error in failed:
            attempts = entry.attempts + 1
            retry_at = now + timedelta(seconds=backoff_seconds(attempts))
            Entry.objects.filter(pk=entry.pk).update(attempts=attempts, next_attempt_at=retry_at, last_error=error)
            Pending.objects.filter(schema_name=schema_name, entry_id=entry.pk).update(
                attempts=attempts, due_at=retry_at, error=error)
    counts["applied"] += len(applied)
    counts["superseded"] += len(superseded)
    counts["failed"] += len(failed)


LEDGER_SQL = """
INSERT INTO {table} (topic, commune_id, key, version, digest, withdrawn, published_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (commune_id, topic, key) DO UPDATE
   SET version = EXCLUDED.version, digest = EXCLUDED.digest, withdrawn = EXCLUDED.withdrawn,
       published_at = EXCLUDED.published_at
 WHERE {table}.version < EXCLUDED.version
RETURNING 1
"""


def apply_entry(entry: Entry, commune_id: int, code: str) -> str:
    """Apply one entry (inside the batch's transaction): "applied", or "superseded" when the
    ledger already holds this entry or a newer one for its key."""
    topic = get_topic(entry.topic)
    table = connection.ops.quote_name(Publication._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_SQL.format(table=table), [
            entry.topic, commune_id, entry.key, entry.pk, entry.digest, entry.payload is None, timezone.now()])
        if cursor.fetchone() is None:
            return "superseded"
    topic.applier()(Delivery(topic=entry.topic, commune_id=commune_id, commune_code=code, key=entry.key,
                             payload=entry.payload, version=entry.pk))
    return "applied"


def _tidy(schema_name: str) -> None:
    """Prune entries delivered more than ``XASO_OUTBOX_KEEP_DAYS`` ago, and index lines whose
    entry is no longer waiting (an index rebuilt by hand, a schema restored from a dump)."""
    now = timezone.now()
    Entry.objects.filter(delivered_at__lt=now - timedelta(days=_setting("XASO_OUTBOX_KEEP_DAYS", 7.0))).delete()
    stale = set(Pending.objects.filter(schema_name=schema_name, due_at__lte=now).values_list("entry_id", flat=True))
    if stale:
        waiting = set(Entry.objects.filter(pk__in=stale, delivered_at__isnull=True).values_list("pk", flat=True))
        if stale - waiting:
            Pending.objects.filter(schema_name=schema_name, entry_id__in=stale - waiting).delete()


# --- the sweeper ---------------------------------------------------------------------------------

WAKE_MARK = "outbox:woken:{}"


def _mark_wake(schema_name: str) -> bool:
    """True when this commune was not woken by the sweeper in the last ``XASO_OUTBOX_REWAKE_SECONDS``."""
    try:
        return bool(caches["shared"].add(WAKE_MARK.format(schema_name), 1,
                                         timeout=_setting("XASO_OUTBOX_REWAKE_SECONDS", 60.0)))
    except Exception:  # noqa: BLE001 - Redis down: the wake-up will not get through either
        return True


def _forget_wake(schema_name: str) -> None:
    try:
        caches["shared"].delete(WAKE_MARK.format(schema_name))
    except Exception:  # noqa: BLE001
        pass


def due_schemas(now=None, limit: int = 10_000) -> list[str]:
    """The communes with an entry due, in one query on the public index."""
    now = now or timezone.now()
    return list(Pending.objects.filter(due_at__lte=now).order_by().values_list("schema_name", flat=True)
                .distinct()[:limit])


def sweep(now=None) -> dict:
    """Wake the writers of the communes with an entry due."""
    schemas = due_schemas(now)
    woken = 0
    for schema_name in schemas:
        if _mark_wake(schema_name):
            Wake(schema_name)()
            woken += 1
    return {"due": len(schemas), "woken": woken}
