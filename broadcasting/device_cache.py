"""The devices' answers kept where one read finds them (Redis), with PostgreSQL as the truth.

Every loudspeaker cluster asks for its playlist every minute; a province has thousands. What a
device is told changes only when the commune changes something (a bulletin, its audio, a slot,
a cluster or its token, an emergency broadcast) or when a window starts or ends. So:

* ``ScheduleVersion`` (PostgreSQL) is raised in the same transaction as every such change
  (``changed()``: the signals below, and the writes that go around the ORM's signals call it).
* Redis (the ``shared`` cache) keeps ``radio:<schema>:version``, the committed version
  (forgotten at the change, told again after the commit, never lowered, and forgotten after
  ``VERSION_SECONDS`` anyway, so that a change that could not reach Redis is seen from
  PostgreSQL within that time), and, per device token (by its SHA-256),
  ``radio:<schema>:device:<hash>``: the token's cluster and its answer — ETag, JSON body, the
  version it was computed at and the moment it stops being true (the end of the current window,
  the start of the next, the end of an emergency; at most ``ENTRY_SECONDS`` ahead).
* A poll reads both keys in one round trip (``lookup``). The same version and not past its
  moment: the answer without a query. Otherwise — a change, a new window, a revoked or rotated
  token (a change of the cluster: the version moves), Redis emptied — the answer is computed
  from PostgreSQL and kept again. While Redis cannot be reached, every answer comes from
  PostgreSQL, as before.

Heartbeats are answered at once and kept in a Redis list per commune (``queue_heartbeat``, with
the pace check there too); the beat task ``broadcasting.flush_heartbeats`` writes them into
PostgreSQL every ``HEARTBEAT_FLUSH_SECONDS`` (``flush_heartbeats``). Without Redis they are
written at once, as before.
"""
from __future__ import annotations

import datetime
import json
import logging

from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

logger = logging.getLogger(__name__)

# A raise of the version missed by Redis (unreachable at that moment) is seen after this long.
VERSION_SECONDS = 10
# A device's kept answer is computed again after this long at most, whatever happens.
ENTRY_SECONDS = 300
# How often the beat task writes the heartbeats kept in Redis into PostgreSQL.
HEARTBEAT_FLUSH_SECONDS = 30
PENDING_KEY = "radio:heartbeats:pending"
HEARTBEAT_ONLY = frozenset({"last_heartbeat_at", "last_status"})

# SET the version unless Redis already has a higher one (a late writer never lowers it).
_RAISE = """
local current = redis.call('GET', KEYS[1])
if (not current) or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""
# A heartbeat: refused (the seconds to wait) when the last one of the cluster is too recent,
# else kept in the commune's list and the commune marked as having some to write.
_HEARTBEAT = """
local last = redis.call('GET', KEYS[1])
if last and (tonumber(ARGV[1]) - tonumber(last)) < tonumber(ARGV[2]) then
  return tostring(tonumber(ARGV[2]) - (tonumber(ARGV[1]) - tonumber(last)))
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
return false
"""
# Take every heartbeat kept for a commune (read and emptied at once).
_TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return items
"""


class Unavailable(Exception):
    """Redis could not be reached: the caller falls back to PostgreSQL."""


def _cache():
    from django.core.cache import caches

    return caches["shared"]


def _client(cache, key: str):
    return cache._cache.get_client(key, write=True)


def _redis_errors() -> tuple:
    import redis

    return (redis.RedisError, OSError)


def _schema() -> str:
    return connection.schema_name


def version_key(schema: str) -> str:
    return f"radio:{schema}:version"


def device_key(schema: str, token_hash: str) -> str:
    return f"radio:{schema}:device:{token_hash}"


def heartbeats_key(schema: str) -> str:
    return f"radio:{schema}:heartbeats"


def last_beat_key(schema: str, cluster_id: int) -> str:
    return f"radio:{schema}:last-beat:{cluster_id}"


# --- the version -------------------------------------------------------------------------------

def stored_version() -> int:
    """The commune's version in PostgreSQL (0 before any change)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM broadcasting_scheduleversion ORDER BY id LIMIT 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def changed() -> None:
    """A change that may change what a device is told: raise the version in this transaction,
    and in Redis once it is committed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE broadcasting_scheduleversion SET number = number + 1, changed_at = %s "
            "WHERE id = (SELECT min(id) FROM broadcasting_scheduleversion) RETURNING number", [timezone.now()])
        row = cursor.fetchone()
        if row is None:  # the first change of the commune: one row, whoever comes first
            cursor.execute("LOCK TABLE broadcasting_scheduleversion IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(
                "UPDATE broadcasting_scheduleversion SET number = number + 1, changed_at = %s "
                "WHERE id = (SELECT min(id) FROM broadcasting_scheduleversion) RETURNING number", [timezone.now()])
            row = cursor.fetchone()
            if row is None:
                cursor.execute("INSERT INTO broadcasting_scheduleversion (number, changed_at) VALUES (1, %s) "
                               "RETURNING number", [timezone.now()])
                row = cursor.fetchone()
    schema, number = _schema(), int(row[0])
    # Now: Redis forgets the version, so that polls read it from PostgreSQL (the one committed,
    # or this one inside this transaction); after the commit: Redis is told this one.
    forget(schema)
    transaction.on_commit(lambda: publish(schema, number))


def forget(schema: str) -> None:
    try:
        _cache().delete(version_key(schema))
    except _redis_errors() as exc:
        logger.info("Radio: Redis unreachable, the version of %s is read again in %s s (%s)", schema,
                    VERSION_SECONDS, exc)


def publish(schema: str, number: int) -> bool:
    """Tell Redis the committed version (never lowering it); False when Redis is unreachable."""
    cache = _cache()
    key = cache.make_and_validate_key(version_key(schema))
    try:
        _client(cache, key).eval(_RAISE, 1, key, number, VERSION_SECONDS)
        return True
    except _redis_errors() as exc:
        logger.info("Radio: Redis unreachable, version %s of %s not published (%s)", number, schema, exc)
        return False


# --- devices' answers ------------------------------------------------------------------------------

class Found:
    """What one read of Redis gave for a device token: the commune's committed ``version`` (None
    when Redis has none) and the kept ``entry`` (None, or one of an older version)."""

    def __init__(self, version: int | None, entry: dict | None):
        self.version = version
        self.entry = entry if entry is not None and version is not None and entry.get("version") == version else None


def lookup(token_hash: str) -> Found | None:
    """The version and the token's kept answer, in one round trip; None when Redis is unreachable."""
    schema = _schema()
    keys = [version_key(schema), device_key(schema, token_hash)]
    try:
        values = _cache().get_many(keys)
    except _redis_errors() as exc:
        logger.info("Radio: Redis unreachable, the device's answer is computed from PostgreSQL (%s)", exc)
        return None
    version = values.get(keys[0])
    return Found(int(version) if version is not None else None, values.get(keys[1]))


def version_to_keep(found: Found | None) -> int | None:
    """The version an answer computed now is kept under: Redis's, or PostgreSQL's when Redis has
    none (then told to Redis). Read before the answer is computed, so that a change committed
    meanwhile makes the kept answer old at once. None: do not keep (Redis unreachable)."""
    if found is None:
        return None
    if found.version is not None:
        return found.version
    number = stored_version()
    publish(_schema(), number)
    return number


def keep(token_hash: str, entry: dict) -> None:
    """Keep a device's answer (``entry`` carries ``version`` and ``until``)."""
    seconds = max(1, min(ENTRY_SECONDS, int(entry["until"] - timezone.now().timestamp()) + 1)) + ENTRY_SECONDS
    try:
        _cache().set(device_key(_schema(), token_hash), entry, timeout=seconds)
    except _redis_errors() as exc:
        logger.info("Radio: Redis unreachable, the device's answer is not kept (%s)", exc)


def answer_until(now: datetime.datetime, moments) -> float:
    """The moment (epoch seconds) a kept answer stops being true: the first of ``moments`` after
    ``now``, and at most ENTRY_SECONDS ahead."""
    limit = now + datetime.timedelta(seconds=ENTRY_SECONDS)
    later = [m for m in moments if m is not None and m > now]
    return min([limit, *later]).timestamp()


# --- heartbeats ------------------------------------------------------------------------------------

def queue_heartbeat(cluster_id: int, record: dict, min_seconds: int) -> float | None:
    """Keep a heartbeat in Redis for the beat task to write: None when kept, the seconds still to
    wait when the cluster's last heartbeat is too recent. Raises ``Unavailable`` without Redis."""
    schema = _schema()
    cache = _cache()
    keys = [cache.make_and_validate_key(k) for k in
            (last_beat_key(schema, cluster_id), heartbeats_key(schema), PENDING_KEY)]
    payload = json.dumps({"cluster": cluster_id, **record}, ensure_ascii=False)
    now = timezone.now().timestamp()
    try:
        wait = _client(cache, keys[0]).eval(_HEARTBEAT, 3, *keys, repr(now), min_seconds,
                                            max(60, min_seconds * 3), payload, schema)
    except _redis_errors() as exc:
        raise Unavailable(str(exc)) from exc
    return float(wait) if wait is not None else None


def take_heartbeats(schema: str) -> list[dict]:
    cache = _cache()
    key = cache.make_and_validate_key(heartbeats_key(schema))
    items = _client(cache, key).eval(_TAKE, 1, key)
    return [json.loads(item) for item in items or []]


def requeue_heartbeats(schema: str, records: list[dict]) -> None:
    """Put back heartbeats that could not be written (they are written at the next flush)."""
    if not records:
        return
    cache = _cache()
    key = cache.make_and_validate_key(heartbeats_key(schema))
    client = _client(cache, key)
    client.rpush(key, *[json.dumps(r, ensure_ascii=False) for r in records])
    client.sadd(cache.make_and_validate_key(PENDING_KEY), schema)


def pending_schemas() -> list[str]:
    cache = _cache()
    key = cache.make_and_validate_key(PENDING_KEY)
    client = _client(cache, key)
    pipe = client.pipeline()
    pipe.smembers(key)
    pipe.delete(key)
    members, _deleted = pipe.execute()
    return sorted(m.decode() if isinstance(m, bytes) else m for m in members)


# --- what changes a device's answer ----------------------------------------------------------------

def _saved(sender, instance=None, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if update_fields and frozenset(update_fields) <= HEARTBEAT_ONLY:
        return  # a heartbeat: not a change of what the device is told
    changed()


def _deleted(sender, instance=None, **kwargs):
    changed()


def _targets(sender, action=None, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        changed()


def connect() -> None:
    """Listen to the models a device's answer is made of (senders named, connected once loaded)."""
    for name in ("Bulletin", "AudioAsset", "Slot", "SlotException", "Cluster", "Emergency"):
        post_save.connect(_saved, sender=f"broadcasting.{name}", dispatch_uid=f"radio-version-save-{name}")
        post_delete.connect(_deleted, sender=f"broadcasting.{name}", dispatch_uid=f"radio-version-delete-{name}")
    for name in ("Bulletin_clusters", "Bulletin_villages", "Emergency_clusters"):
        m2m_changed.connect(_targets, sender=f"broadcasting.{name}", dispatch_uid=f"radio-version-m2m-{name}")
