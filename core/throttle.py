"""Throttles that count in PostgreSQL: atomic, shared by every process, and still counting while
Redis is down.

A throttle counts attempts per (scope, key) in a window that opens at the first attempt:
``hit()`` adds one attempt and says whether it is within the limit, in one statement
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``), so sixteen concurrent requests against a limit
of five let exactly five through. The key (a client address, an account, a dossier code and an
address) is stored only as an HMAC under the installation's secret key: client addresses are
personal data.

Why not Redis (Django's cache) or DRF's ``SimpleRateThrottle``: the cache's read-then-write is
not atomic across processes, and a throttle that lives in Redis either fails open or answers 500
while Redis is away. Why not django-ratelimit: it counts in the cache too. The counters live in
the public schema (``core`` is a shared app), one row per key; rows of closed windows are
deleted now and then by ``hit()`` itself.

A count made inside a transaction that is rolled back is rolled back with it: call ``hit()``
outside the transaction of the work it guards.

Outside a transaction, a count is committed without waiting for the disk (``SET LOCAL
synchronous_commit TO OFF``, sent with the statement): it is seen by every other request at
once, as before, and only a PostgreSQL crash within the next fraction of a second could forget
it. Waiting for the disk cost a lookup about 4 ms per count on a busy machine, most of its time
(bench/README.md, one-stop). Inside a caller's transaction nothing changes: the setting would
apply to the caller's own writes.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import ngettext
from rest_framework.throttling import BaseThrottle

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
          "d": 86400, "day": 86400}
_TABLE = "core_throttlecounter"
# One hit in this many also deletes the rows whose window closed a day ago or more.
_CLEANUP_ONE_IN = 500


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window closes (0 when allowed)

    @property
    def retry_at(self):
        return timezone.now() + timezone.timedelta(seconds=self.retry_after)


def parse_rate(rate: str) -> tuple[int, int]:
    """``"20/hour"`` → (20, 3600); ``"5/15min"`` → (5, 900)."""
    try:
        count, period = str(rate).split("/", 1)
        period = period.strip().lower()
        digits = "".join(ch for ch in period if ch.isdigit())
        unit = period[len(digits):].strip()
        if unit.endswith("s") and unit not in _UNITS:
            unit = unit[:-1]
        seconds = int(digits or 1) * _UNITS[unit]
        limit = int(count)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"not a rate: {rate!r} (write it like '20/hour' or '5/15min')") from exc
    if limit < 0 or seconds <= 0:
        raise ValueError(f"not a rate: {rate!r}")
    return limit, seconds


def _digest(scope: str, key: str) -> str:
    secret = str(settings.SECRET_KEY).encode()
    # A namespace keeps separate counts for installations sharing a database (and for each test).
    namespace = getattr(settings, "XASO_THROTTLE_NAMESPACE", "")
    return hmac.new(secret, f"xaso.throttle:{namespace}:{scope}:{key}".encode(), hashlib.sha256).hexdigest()


def _unsynced(sql: str) -> str:
    """``sql`` preceded by ``SET LOCAL synchronous_commit TO OFF`` in autocommit (the two run as
    one implicit transaction, in one round trip); unchanged inside a transaction."""
    if connection.in_atomic_block:
        return sql
    return "SET LOCAL synchronous_commit TO OFF; " + sql


# The end of an INSERT of one attempt: a closed window starts again at one, an open one counts
# on; it returns the count and the seconds left in the window ("remaining").
_COUNTED = """ON CONFLICT (scope, key_hash) DO UPDATE SET
    count = CASE WHEN t.window_start + make_interval(secs => t.window_seconds) <= now()
                 THEN 1 ELSE t.count + 1 END,
    window_start = CASE WHEN t.window_start + make_interval(secs => t.window_seconds) <= now()
                        THEN now() ELSE t.window_start END,
    window_seconds = EXCLUDED.window_seconds
RETURNING count, GREATEST(0, CEIL(EXTRACT(EPOCH FROM
    (t.window_start + make_interval(secs => t.window_seconds) - now())))) AS remaining"""


def _open_count(table: str) -> str:
    """The count of a scope and key (two parameters) in its open window and the seconds left."""
    return f"""SELECT count, GREATEST(0, CEIL(EXTRACT(EPOCH FROM
    (window_start + make_interval(secs => window_seconds) - now())))) AS remaining
FROM {table}
WHERE scope = %s AND key_hash = %s
  AND window_start + make_interval(secs => window_seconds) > now()"""


def _table() -> str:
    public = connection.ops.quote_name(getattr(settings, "PUBLIC_SCHEMA_NAME", "public"))
    return f"{public}.{connection.ops.quote_name(_TABLE)}"


def hit(scope: str, key: str, limit: int, window_seconds: int) -> Decision:
    """Count one attempt of ``key`` in ``scope`` and say whether it is within ``limit`` attempts
    per ``window_seconds`` (the window opens at the first attempt)."""
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(_unsynced(
            f"""
            INSERT INTO {table} AS t (scope, key_hash, window_start, window_seconds, count)
            VALUES (%s, %s, now(), %s, 1)
            {_COUNTED}
            """),
            [scope, _digest(scope, key), int(window_seconds)],
        )
        count, remaining = cursor.fetchone()
    if random.randrange(_CLEANUP_ONE_IN) == 0:
        prune_closed()
    allowed = count <= limit
    return Decision(allowed, int(count), int(limit), 0 if allowed else max(1, int(remaining or 0)))


def hit_unless(scope: str, key: str, limit: int, window_seconds: int, *,
               guard: tuple[str, str, int]) -> tuple[Decision, Decision | None]:
    """``peek()`` of ``guard`` (scope, key, limit) and, only when it allows, ``hit()`` of
    ``key``, in one statement (one round trip where the two calls took two). Returns the
    guard's decision and the hit's, or None when the guard refused and nothing was counted."""
    guard_scope, guard_key, guard_limit = guard
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(_unsynced(
            f"""
            WITH guard AS (
                {_open_count(table)}
            ), counted AS (
                INSERT INTO {table} AS t (scope, key_hash, window_start, window_seconds, count)
                SELECT %s, %s, now(), %s, 1 WHERE COALESCE((SELECT count FROM guard), 0) < %s
                {_COUNTED}
            )
            SELECT (SELECT count FROM guard), (SELECT remaining FROM guard),
                   (SELECT count FROM counted), (SELECT remaining FROM counted)
            """),
            [guard_scope, _digest(guard_scope, guard_key), scope, _digest(scope, key), int(window_seconds),
             int(guard_limit)],
        )
        guard_count, guard_remaining, count, remaining = cursor.fetchone()
    guard_count = int(guard_count or 0)
    guard_allowed = guard_count < guard_limit
    guarded = Decision(guard_allowed, guard_count, int(guard_limit),
                       0 if guard_allowed else max(1, int(guard_remaining or 0)))
    if count is None:
        return guarded, None
    if random.randrange(_CLEANUP_ONE_IN) == 0:
        prune_closed()
    allowed = count <= limit
    return guarded, Decision(allowed, int(count), int(limit), 0 if allowed else max(1, int(remaining or 0)))


def hit_then_unless(first: tuple[str, str, int, int], scope: str, key: str, limit: int, window_seconds: int, *,
                    guard: tuple[str, str, int]) -> tuple[Decision, Decision | None, Decision | None]:
    """``hit()`` of ``first`` (scope, key, limit, window) and, only when it allows, ``hit_unless()``
    of the rest, in one statement (one round trip where the two calls took two). Returns the first
    decision, the guard's (None when the first refused) and the hit's (None when nothing was
    counted under ``scope``)."""
    first_scope, first_key, first_limit, first_window = first
    guard_scope, guard_key, guard_limit = guard
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(_unsynced(
            f"""
            WITH first AS (
                INSERT INTO {table} AS t (scope, key_hash, window_start, window_seconds, count)
                VALUES (%s, %s, now(), %s, 1)
                {_COUNTED}
            ), guard AS (
                {_open_count(table)}
            ), counted AS (
                INSERT INTO {table} AS t (scope, key_hash, window_start, window_seconds, count)
                SELECT %s, %s, now(), %s, 1
                WHERE (SELECT count FROM first) <= %s AND COALESCE((SELECT count FROM guard), 0) < %s
                {_COUNTED}
            )
            SELECT (SELECT count FROM first), (SELECT remaining FROM first),
                   (SELECT count FROM guard), (SELECT remaining FROM guard),
                   (SELECT count FROM counted), (SELECT remaining FROM counted)
            """),
            [first_scope, _digest(first_scope, first_key), int(first_window),
             guard_scope, _digest(guard_scope, guard_key),
             scope, _digest(scope, key), int(window_seconds), int(first_limit), int(guard_limit)],
        )
        first_count, first_remaining, guard_count, guard_remaining, count, remaining = cursor.fetchone()
    if random.randrange(_CLEANUP_ONE_IN) == 0:
        prune_closed()
    first_allowed = first_count <= first_limit
    firstly = Decision(first_allowed, int(first_count), int(first_limit),
                       0 if first_allowed else max(1, int(first_remaining or 0)))
    if not first_allowed:
        return firstly, None, None
    guard_count = int(guard_count or 0)
    guard_allowed = guard_count < guard_limit
    guarded = Decision(guard_allowed, guard_count, int(guard_limit),
                       0 if guard_allowed else max(1, int(guard_remaining or 0)))
    if count is None:
        return firstly, guarded, None
    allowed = count <= limit
    return firstly, guarded, Decision(allowed, int(count), int(limit), 0 if allowed else max(1, int(remaining or 0)))


def prune_closed() -> int:
    """Delete the counts whose window closed a day ago or more; how many went."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_table()} WHERE window_start + make_interval(secs => window_seconds)"
            f" < now() - interval '1 day'"
        )
        return cursor.rowcount


def peek(scope: str, key: str, limit: int, window_seconds: int) -> Decision:
    """The decision ``hit()`` would give for the attempts made so far, without counting one."""
    with connection.cursor() as cursor:
        cursor.execute(
            _open_count(_table()),
            [scope, _digest(scope, key)],
        )
        row = cursor.fetchone()
    count, remaining = (int(row[0]), int(row[1])) if row else (0, 0)
    allowed = count < limit
    return Decision(allowed, count, int(limit), 0 if allowed else max(1, remaining))


def clear(scope: str, key: str) -> None:
    """Forget the attempts of ``key`` (after a success that should not count against it)."""
    with connection.cursor() as cursor:
        cursor.execute(_unsynced(f"DELETE FROM {_table()} WHERE scope = %s AND key_hash = %s"),
                       [scope, _digest(scope, key)])


def clearing(scope: str, key: str) -> tuple[str, list]:
    """``clear()`` as SQL text and its parameters, for a caller that sends it inside a statement of
    its own (a data-modifying ``WITH``) to save a round trip; the caller sends the statement
    through ``unsynced()``, as ``clear()`` does."""
    return f"DELETE FROM {_table()} WHERE scope = %s AND key_hash = %s", [scope, _digest(scope, key)]


unsynced = _unsynced


def check(scope: str, key: str, rate: str) -> Decision:
    """``hit()`` with the limit and window of a rate such as ``"20/hour"``."""
    limit, window = parse_rate(rate)
    return hit(scope, key, limit, window)


def refusal_message(decision: Decision) -> str:
    """'Too many attempts. Try again in 12 minutes (at 14:35).' in the active language."""
    minutes = max(1, math.ceil(decision.retry_after / 60))
    moment = date_format(timezone.localtime(decision.retry_at), "H:i")
    return ngettext(
        "Too many attempts. For your safety, try again in %(minutes)s minute (at %(time)s).",
        "Too many attempts. For your safety, try again in %(minutes)s minutes (at %(time)s).",
        minutes,
    ) % {"minutes": minutes, "time": moment}


class DatabaseRateThrottle(BaseThrottle):
    """A DRF throttle on ``hit()``: every key of ``get_keys()`` is counted under ``scope`` at
    ``rate`` (a rate string, or the name of a setting that holds one), and the request passes
    only if each is within the limit."""

    scope = "api"
    rate = "100/hour"

    def get_rate(self) -> str:
        return str(getattr(settings, self.rate, self.rate)) if str(self.rate).isupper() else str(self.rate)

    def get_keys(self, request, view) -> list[str]:
        from core.http import client_ip

        return [client_ip(request) or "unknown"]

    def allow_request(self, request, view) -> bool:
        limit, window = parse_rate(self.get_rate())
        self.decisions = [hit(self.scope, key, limit, window) for key in self.get_keys(request, view)]
        return all(d.allowed for d in self.decisions)

    def wait(self):
        refused = [d.retry_after for d in getattr(self, "decisions", []) if not d.allowed]
        return max(refused) if refused else None


def message_for_wait(seconds: int) -> str:
    return refusal_message(Decision(False, 0, 0, int(seconds)))


__all__ = ["Decision", "parse_rate", "hit", "hit_unless", "hit_then_unless", "peek", "prune_closed", "clear", "clearing",
           "unsynced", "check", "refusal_message", "DatabaseRateThrottle", "message_for_wait"]
