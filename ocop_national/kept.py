"""What the OCOP catalogue's pages keep in the shared cache (Redis), under a version.

A catalogue (a commune's, or the national one) has a version: a random token kept under its own
key. A page keeps what it drew under a key of its own (the query, the day, the language) together
with the version it was drawn at (``kept``): one request reads both in one round trip, and a
drawing of another version is drawn again. ``changed`` draws a new version at once (the
transaction that changed the rows then reads its own change) and again once the transaction
commits (a page drawn meanwhile from the rows before the commit is not taken for the version
that follows them). Without Redis nothing is kept and the pages are drawn every time.
"""
from __future__ import annotations

import uuid

from django.db import transaction

KEEP_SECONDS = 600


def _cache():
    from django.core.cache import caches

    return caches["shared"]


class _NewVersion:
    """Draw a new version under ``key``; never raises (nothing kept can outlive it anyway)."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self) -> None:
        try:
            _cache().set(self.key, uuid.uuid4().hex, timeout=None)
        except Exception:  # noqa: BLE001 - Redis down: nothing was kept either
            pass


def changed(version_key: str) -> None:
    """A new version under ``version_key`` now, and after the commit of the transaction in
    progress (that one once per transaction, however many rows it changes)."""
    bump = _NewVersion(version_key)
    bump()
    connection = transaction.get_connection()
    if connection.in_atomic_block and not any(
            isinstance(callback, _NewVersion) and callback.key == version_key
            for _savepoints, callback, _robust in connection.run_on_commit):
        transaction.on_commit(bump, robust=True)


def kept(version_key: str, key: str | None, make, seconds: int = KEEP_SECONDS):
    """``make()``, kept under ``key`` with the version under ``version_key`` it was drawn at, and
    drawn again when the version changed (every time without a key or without Redis)."""
    if key is None:
        return make()
    try:
        cache = _cache()
        found = cache.get_many([version_key, key])
        version = found.get(version_key)
        if version is None:  # the first drawing since Redis started
            cache.add(version_key, uuid.uuid4().hex, timeout=None)
            version = cache.get(version_key)
    except Exception:  # noqa: BLE001 - Redis down: draw it
        return make()
    drawn = found.get(key)
    if isinstance(drawn, tuple) and len(drawn) == 2 and drawn[0] == version:
        return drawn[1]
    value = make()
    try:
        cache.set(key, (version, value), seconds)
    except Exception:  # noqa: BLE001
        pass
    return value
