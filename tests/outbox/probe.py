"""A topic of the tests, ``test.probe``: its handler writes ``MonthlyFacts`` rows (source
``probe``) and records every call, and can be told to fail for some keys or to take its time."""
from __future__ import annotations

import datetime
import threading
import time

from published import rows
from published.models import MonthlyFacts
from published.topics import Topic, register_topic

TOPIC = "test.probe"
CALLS: list[tuple[str, str, int, float, float]] = []  # (thread, key, version, start, end)
FAIL: set[str] = set()
SNAPSHOT: list[tuple[str, dict]] = []
state = {"delay": 0.0, "on_apply": None}
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        CALLS.clear()
    FAIL.clear()
    SNAPSHOT.clear()
    state["delay"] = 0.0
    state["on_apply"] = None


def apply(delivery) -> None:
    start = time.monotonic()
    if state["delay"]:
        time.sleep(state["delay"])
    if state["on_apply"] is not None:
        state["on_apply"](delivery)
    if delivery.key in FAIL:
        raise RuntimeError(f"the probe refuses {delivery.key}")
    rows.apply(MonthlyFacts, delivery, lambda payload: {
        "source": "probe", "month": datetime.date(2026, 1, 1), "figures": payload})
    with _lock:
        CALLS.append((threading.current_thread().name, delivery.key, delivery.version, start, time.monotonic()))


def snapshot():
    return list(SNAPSHOT)


register_topic(Topic(name=TOPIC, apply=apply, snapshot=snapshot))
