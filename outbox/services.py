"""Writing to the outbox, inside the commune's schema and the caller's transaction.

``publish(topic, key, payload)`` and ``withdraw(topic, key)`` write one entry in the commune's
schema and its line in the public index of undelivered entries (``published.models.Pending``),
in the caller's transaction: a rolled-back change publishes nothing. Once the transaction
commits, one Celery message per commune and transaction (carrying only the schema) wakes the
commune's writer (``outbox.writer.deliver``); when Redis is down the message is not sent, the
write still succeeds, and the sweeper wakes the writer ``XASO_OUTBOX_GRACE_SECONDS`` later.

``sync(topic, pairs)`` publishes only what differs from what the public side holds (or will
hold once the entries waiting are delivered) and withdraws the keys it no longer has: what
``republish`` and the refresh of the monthly facts use, so that running them twice changes
nothing the second time.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from communes.models import Commune
from outbox.models import Entry
from published.models import Pending, Publication
from published.topics import KEY_MAX_LENGTH, canonical, get_topic

logger = logging.getLogger(__name__)


def grace_seconds() -> float:
    return float(getattr(settings, "XASO_OUTBOX_GRACE_SECONDS", 30))


def publish(topic: str, key: str, payload: dict) -> Entry:
    """Publish ``payload`` (a JSON object) as the commune's row ``key`` of ``topic``."""
    return publish_many(topic, [(key, payload)])[0]


def withdraw(topic: str, key: str) -> Entry:
    """Remove the commune's row ``key`` of ``topic`` from the public side (a tombstone)."""
    return publish_many(topic, [], withdrawals=[key])[0]


def publish_many(topic: str, pairs: Iterable[tuple[str, dict]], withdrawals: Iterable[str] = ()) -> list[Entry]:
    """Several entries of one topic in two statements: the publications in the order given,
    then the withdrawals."""
    schema_name = current_schema()
    get_topic(topic)  # an unknown topic fails here, in the caller's transaction, not in the writer
    now = timezone.now()
    entries = []
    for key, payload in pairs:
        normal, digest = canonical(payload)
        entries.append(Entry(topic=topic, key=_checked_key(key), payload=normal, digest=digest,
                             created_at=now, next_attempt_at=now))
    for key in withdrawals:
        entries.append(Entry(topic=topic, key=_checked_key(key), payload=None, digest="",
                             created_at=now, next_attempt_at=now))
    if not entries:
        return []
    due = now + timedelta(seconds=grace_seconds())
    with transaction.atomic(savepoint=False):
        Entry.objects.bulk_create(entries)
        Pending.objects.bulk_create([
            Pending(schema_name=schema_name, entry_id=entry.pk, topic=topic, due_at=due, created_at=now)
            for entry in entries
        ])
        wake_on_commit(schema_name)
    return entries


def current_schema() -> str:
    schema_name = connection.schema_name
    if schema_name == get_public_schema_name():
        raise RuntimeError("The outbox lives in a commune's schema: publish inside the commune's schema.")
    return schema_name


def _checked_key(key) -> str:
    key = str(key)
    if not key or len(key) > KEY_MAX_LENGTH:
        raise ValueError(f"An outbox key has 1 to {KEY_MAX_LENGTH} characters: {key[:50]!r}")
    return key


# --- waking the writer -------------------------------------------------------------------------

class Wake:
    """The call that sends the writer's wake-up for one commune; it never raises (the entries
    are committed: the sweeper wakes the writer later if this message is lost)."""

    def __init__(self, schema_name: str):
        self.schema_name = schema_name
        self.__qualname__ = f"Wake({schema_name})"

    def __call__(self) -> None:
        from outbox.tasks import deliver

        try:
            deliver.apply_async(args=[self.schema_name])
        except Exception as exc:  # noqa: BLE001 - the entry is the truth; the sweeper wakes the writer
            logger.warning("Outbox of %s: wake-up not sent (%s); the sweeper will wake the writer",
                           self.schema_name, exc)

    def __repr__(self) -> str:
        return f"<{self.__qualname__}>"


def wake_on_commit(schema_name: str) -> None:
    """One wake-up per commune and transaction, however many entries it writes."""
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        for _savepoints, callback, _robust in conn.run_on_commit:
            if isinstance(callback, Wake) and callback.schema_name == schema_name:
                return
    transaction.on_commit(Wake(schema_name), robust=True)


# --- publishing what differs --------------------------------------------------------------------

@dataclass
class SyncResult:
    published: int = 0
    withdrawn: int = 0
    unchanged: int = 0

    def __add__(self, other: "SyncResult") -> "SyncResult":
        return SyncResult(self.published + other.published, self.withdrawn + other.withdrawn,
                          self.unchanged + other.unchanged)

    def __str__(self) -> str:
        return f"{self.published} published, {self.withdrawn} withdrawn, {self.unchanged} unchanged"


def public_state(topic: str, commune: Commune, keys: Iterable[str] | None = None) -> dict[str, str | None]:
    """{key: digest of its payload, or None when withdrawn} as the public side will hold it once
    the entries waiting in the outbox are delivered (the newest of ledger and entries wins), for
    this commune's ``keys`` of ``topic`` (all of them when None; a key never published is absent).

    The waiting entries are read before the ledger: an entry delivered between the two reads is
    then seen in the ledger (read the other way round, it would be seen in neither)."""
    waiting = Entry.objects.filter(topic=topic, delivered_at__isnull=True)
    ledger = Publication.objects.filter(topic=topic, commune=commune)
    if keys is not None:
        keys = list(keys)
        waiting, ledger = waiting.filter(key__in=keys), ledger.filter(key__in=keys)
    state: dict[str, tuple[int, str | None]] = {
        key: (entry_id, digest or None)  # a withdrawal has no digest
        for key, entry_id, digest in waiting.order_by("key", "-id").distinct("key").values_list("key", "id", "digest")
    }
    for key, version, digest, withdrawn in ledger.values_list("key", "version", "digest", "withdrawn"):
        if key not in state or state[key][0] < version:
            state[key] = (version, None if withdrawn else digest)
    return {key: digest for key, (_version, digest) in state.items()}


def sync(topic: str, pairs: Iterable[tuple[str, dict]], *, scope: Callable[[str], bool] | None = None,
         force: bool = False) -> SyncResult:
    """Make the public side hold exactly ``pairs`` for this commune's keys of ``topic`` within
    ``scope`` (every key when None): publish the pairs whose payload differs (all of them with
    ``force``), withdraw the keys in scope that ``pairs`` does not have."""
    commune = Commune.objects.get(schema_name=current_schema())
    wanted: dict[str, dict] = {}
    digests: dict[str, str] = {}
    for key, payload in pairs:
        wanted[str(key)], digests[str(key)] = canonical(payload)
    state = public_state(topic, commune)
    changed = [(key, payload) for key, payload in wanted.items() if force or state.get(key) != digests[key]]
    gone = sorted(key for key, digest in state.items()
                  if digest is not None and key not in wanted and (scope is None or scope(key)))
    publish_many(topic, changed, withdrawals=gone)
    return SyncResult(published=len(changed), withdrawn=len(gone), unchanged=len(wanted) - len(changed))
