"""Helpers shared by the durable-jobs tests."""
from __future__ import annotations

import time
from collections import Counter

from django_tenants.utils import schema_context

TULE_SCHEMA = "c_04630"


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out waiting for {message}")


def job_state(model, pk) -> dict:
    with schema_context(TULE_SCHEMA):
        return model.objects.filter(pk=pk).values().first()


def assert_exactly_once(gateway, notification_key: str, phones: list[str]):
    """Each delivery key produced one effect, and each phone got exactly one message."""
    effects = gateway.effects_for(notification_key)
    assert sorted(effects) == sorted(f"{notification_key}:{i}" for i in range(len(phones)))
    assert all(gateway.effect_counts[k] == 1 for k in effects)
    per_phone = Counter(effects.values())
    assert per_phone == Counter(phones), per_phone
