"""One writer per commune, with committed rows and real threads (each its own database
connection): two writers of the same commune never interleave, and a writer killed in the middle
of a batch leaves nothing half-applied: the next one delivers everything exactly once."""
from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from outbox.models import Entry
from outbox.services import publish, publish_many
from outbox.writer import LOCK_CLASS, deliver, due_schemas, sweep
from published.models import Pending
from tests.outbox import probe
from tests.outbox.conftest import public_rows
from tests.outbox.state import clear_outbox

TOPIC = probe.TOPIC


@pytest.fixture
def tule_clean(tule_live, idle_queue):
    clear_outbox(tule_live)
    yield tule_live
    clear_outbox(tule_live)


def _in_thread(target, results: list, name: str) -> threading.Thread:
    def run():
        try:
            results.append((name, target()))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results.append((name, exc))
        finally:
            connection.close()

    return threading.Thread(target=run, name=name)


def _writer_locks(commune_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
                       " AND objsubid = 2 AND granted"
                       " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                       [LOCK_CLASS, commune_id])
        return cursor.fetchone()[0]


def test_the_writer_holds_the_commune_s_lock_while_it_applies_and_releases_it(db, tule, yenhoa, in_commune):
    seen = []
    probe.state["on_apply"] = lambda delivery: seen.append((_writer_locks(tule.pk), _writer_locks(yenhoa.pk)))
    with in_commune(tule):
        publish_many(TOPIC, [("a", {}), ("b", {})])
        assert deliver(tule.schema_name)["applied"] == 2
    assert seen == [(1, 0), (1, 0)]  # this commune's lock only
    assert _writer_locks(tule.pk) == 0


def test_two_writers_of_a_commune_never_interleave(tule_clean, settings):
    """Four writers started at once, entries published while they run; each writer works at most
    0.1 s and then hands over (to a wake-up, here on a queue nobody reads, and to the writers
    waiting for the lock)."""
    settings.XASO_OUTBOX_BATCH = 4
    settings.XASO_OUTBOX_RUN_SECONDS = 0.1
    schema = tule_clean.schema_name
    probe.state["delay"] = 0.01
    with schema_context(schema):
        publish_many(TOPIC, [(f"k{i}", {"i": i}) for i in range(24)])
    stop = threading.Event()

    def publisher():  # more entries while the writers run
        count = 0
        with schema_context(schema):
            while not stop.is_set() and count < 30:
                publish(TOPIC, f"late{count}", {"i": count})
                count += 1
                time.sleep(0.02)
        return count

    results: list = []
    writers = [_in_thread(lambda: deliver(schema, wait=True), results, f"writer-{n}") for n in range(4)]
    feeder = _in_thread(publisher, results, "publisher")
    feeder.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    stop.set()
    feeder.join(10)
    assert not [r for r in results if isinstance(r[1], Exception)], results
    deliver(schema, wait=True, budget_seconds=60)  # what the publisher wrote after the last writer looked

    calls = sorted(probe.CALLS, key=lambda call: call[3])
    assert len({call[0] for call in calls}) >= 3, ("the writers should have taken turns", results, calls)
    for before, after in zip(calls, calls[1:]):
        assert before[4] <= after[3], f"{before} overlaps {after}"
    with schema_context(schema):
        entries = list(Entry.objects.values_list("pk", "delivered_at", "superseded"))
    assert len(entries) == 24 + dict(results)["publisher"]
    assert sorted(call[2] for call in calls) == sorted(pk for pk, _d, _s in entries)  # each applied once
    assert all(delivered is not None and not superseded for _pk, delivered, superseded in entries)
    assert len(public_rows(tule_clean)) == len(entries)
    assert not Pending.objects.filter(schema_name=schema).exists()


def test_a_second_writer_gives_up_at_once_while_the_first_one_works(tule_clean):
    schema = tule_clean.schema_name
    probe.state["delay"] = 0.05
    with schema_context(schema):
        publish_many(TOPIC, [(f"k{i}", {"i": i}) for i in range(10)])
    results: list = []
    first = _in_thread(lambda: deliver(schema), results, "first")
    first.start()
    time.sleep(0.15)
    started = time.monotonic()
    assert deliver(schema) == {"busy": 1}
    assert time.monotonic() - started < 0.5
    first.join(30)
    assert dict(results)["first"]["applied"] == 10


def test_a_writer_killed_in_a_batch_leaves_nothing_half_applied(tule_clean, settings):
    """The writer's connection is terminated in the middle of its first batch (what a killed
    worker does): the batch rolls back, the lock goes with the connection, and the sweeper's
    next wake-up delivers every entry exactly once."""
    settings.XASO_OUTBOX_BATCH = 10
    settings.XASO_OUTBOX_GRACE_SECONDS = 0
    schema = tule_clean.schema_name
    probe.state["delay"] = 0.05
    with schema_context(schema):
        publish_many(TOPIC, [(f"k{i}", {"i": i}) for i in range(10)])
    pids: list = []

    def writer():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.append(cursor.fetchone()[0])
        return deliver(schema)

    results: list = []
    thread = _in_thread(writer, results, "doomed")
    thread.start()
    from tests.jobs.helpers import wait_for

    wait_for(lambda: len(probe.CALLS) >= 3, timeout=10, message="the writer's first calls")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pids[0]])
    thread.join(30)
    assert isinstance(dict(results)["doomed"], Exception)
    with schema_context(schema):
        assert not Entry.objects.filter(delivered_at__isnull=False).exists()
    assert public_rows(tule_clean) == {}
    assert schema in due_schemas()
    assert sweep()["woken"] >= 1  # the wake-up goes to a queue nobody reads: deliver here
    probe.CALLS.clear()
    assert deliver(schema)["applied"] == 10
    assert sorted(call[1] for call in probe.CALLS) == sorted(f"k{i}" for i in range(10))
    assert len(public_rows(tule_clean)) == 10
