"""Replay and the monthly facts: ``republish`` rebuilds a commune's public rows from the topics'
snapshots and changes nothing when run a second time; ``publish_facts`` publishes every app's
figures per commune and month, only what changed; the sweeper finds the communes with work in one
query whatever the number of communes."""
from __future__ import annotations

import datetime
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communes import modules
from communes.modules import FactsSource
from core import periods
from outbox.models import Entry
from outbox.services import publish, sync
from outbox.writer import deliver, due_schemas, sweep
from published import facts
from published.models import MonthlyFacts, Pending
from tests.outbox import probe
from tests.outbox.conftest import public_rows


def _republish(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("republish", *args, stdout=out)
    return out.getvalue()


def test_republish_rebuilds_from_the_snapshot_and_twice_changes_nothing(tule, yenhoa, in_commune):
    with in_commune(tule):
        publish(probe.TOPIC, "stale", {"n": 0})  # on the public side, no longer in the state
        publish(probe.TOPIC, "b", {"n": 1})  # to be changed
        deliver(tule.schema_name)
    probe.SNAPSHOT.extend([("a", {"n": 1}), ("b", {"n": 2}), ("c", {"n": 3})])

    out = _republish("--commune", "04630", "--topic", probe.TOPIC)
    assert "04630 test.probe: 3 published, 1 withdrawn, 0 unchanged" in out
    rows = public_rows(tule)
    assert {key: figures for key, (figures, _v) in rows.items()} == {"a": {"n": 1}, "b": {"n": 2}, "c": {"n": 3}}
    assert public_rows(yenhoa) == {}  # only the commune asked for
    with in_commune(tule):
        entries = Entry.objects.count()

    out = _republish("--commune", "04630", "--topic", probe.TOPIC)
    assert "04630 test.probe: 0 published, 0 withdrawn, 3 unchanged" in out
    with in_commune(tule):
        assert Entry.objects.count() == entries  # not one entry written
    assert public_rows(tule) == rows  # versions unchanged too

    # --force publishes every row again (the ledger still decides): same content, new versions.
    out = _republish("--commune", "04630", "--topic", probe.TOPIC, "--force")
    assert "3 published" in out
    assert {k: f for k, (f, _v) in public_rows(tule).items()} == {k: f for k, (f, _v) in rows.items()}


def test_sync_counts_entries_still_waiting(tule, in_commune):
    """A pair already published but not yet delivered is not published again."""
    with in_commune(tule):
        first = sync(probe.TOPIC, [("a", {"n": 1}), ("b", {"n": 2})])
        again = sync(probe.TOPIC, [("a", {"n": 1}), ("b", {"n": 2})])
        assert (first.published, again.published, again.unchanged) == (2, 0, 2)
        gone = sync(probe.TOPIC, [("a", {"n": 1})])
        assert (gone.withdrawn, sync(probe.TOPIC, [("a", {"n": 1})]).withdrawn) == (1, 0)
        deliver(tule.schema_name)
    assert set(public_rows(tule)) == {"a"}


def test_republish_refuses_unknown_communes_and_topics(db):
    with pytest.raises(CommandError, match="99999"):
        call_command("republish", "--commune", "99999")
    with pytest.raises(CommandError, match="no.such"):
        call_command("republish", "--topic", "no.such")


def test_publish_facts_publishes_each_source_per_month_as_facts_for_gives_them(tule, in_commune, monkeypatch):
    figures = {"count": 3}
    monkeypatch.setattr(modules, "FACTS_SOURCES", [
        *modules.FACTS_SOURCES, FactsSource(module="probe_app", facts=lambda a, b: dict(figures), title="Probe")])
    call_command("publish_facts", "--commune", "04630", "--month", "2026-10", "--month", "11/2026")
    rows = {(row.source, row.month): row.figures for row in MonthlyFacts.objects.filter(commune=tule)}
    with in_commune(tule):
        for month in (datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)):
            period = periods.month(month.year, month.month)
            for source, expected in modules.facts_for(period.date_from, period.date_to).items():
                assert rows[(source, month)] == expected
    assert len(rows) == 2 * len(modules.FACTS_SOURCES)
    assert rows[("probe_app", datetime.date(2026, 11, 1))] == {"count": 3}
    with in_commune(tule):
        entries = Entry.objects.count()
    # A figure changes: only its key is published again.
    figures["count"] = 4
    call_command("publish_facts", "--commune", "04630", "--from", "2026-10", "--to", "2026-11")
    with in_commune(tule):
        assert Entry.objects.count() == entries + 2
        assert set(Entry.objects.order_by("-id").values_list("key", flat=True)[:2]) == {
            "2026-10/probe_app", "2026-11/probe_app"}
    assert MonthlyFacts.objects.get(commune=tule, key="2026-11/probe_app").figures == {"count": 4}
    # A source that stops reporting is withdrawn for the months refreshed, and kept for the others.
    monkeypatch.setattr(modules, "FACTS_SOURCES", [s for s in modules.FACTS_SOURCES if s.module != "probe_app"])
    call_command("publish_facts", "--commune", "04630", "--month", "2026-11")
    assert set(MonthlyFacts.objects.filter(commune=tule, source="probe_app").values_list("key", flat=True)) == {
        "2026-10/probe_app"}


def test_the_facts_snapshot_covers_the_months_already_published(tule, in_commune):
    call_command("publish_facts", "--commune", "04630", "--month", "2025-03")
    out = _republish("--commune", "04630", "--topic", facts.TOPIC)
    sources = len(modules.FACTS_SOURCES)
    assert f"04630 facts.monthly: {2 * sources} published, 0 withdrawn, {sources} unchanged" in out
    months = set(MonthlyFacts.objects.filter(commune=tule).values_list("month", flat=True))
    assert months == {datetime.date(2025, 3, 1), *facts.refresh_months()}
    assert "0 published, 0 withdrawn" in _republish("--commune", "04630", "--topic", facts.TOPIC)


def test_publish_facts_refuses_bad_months(db):
    with pytest.raises(CommandError, match="yyyy-mm"):
        call_command("publish_facts", "--month", "13/2026")
    with pytest.raises(CommandError, match="before"):
        call_command("publish_facts", "--from", "2026-11", "--to", "2026-10")


def test_the_sweeper_finds_communes_with_work_in_one_query_whatever_their_number(db, tule, in_commune):
    """500 communes with an entry waiting and one with nothing due: one statement on the public
    index, no schema visited (the index names schemas that need not exist here)."""
    now = timezone.now()
    Pending.objects.bulk_create([
        Pending(schema_name=f"c_{90000 + n}", entry_id=n, topic=probe.TOPIC, due_at=now - timedelta(seconds=1),
                created_at=now) for n in range(500)
    ] + [Pending(schema_name="c_later", entry_id=1, topic=probe.TOPIC, due_at=now + timedelta(minutes=1),
                 created_at=now)])
    with CaptureQueriesContext(connection) as queries:
        due = due_schemas(now)
    assert len(queries) == 1
    assert len(due) == 500 and "c_later" not in due
    with in_commune(tule):
        publish(probe.TOPIC, "k", {"n": 1})  # due after the grace, not before
    assert tule.schema_name not in due_schemas()
    assert tule.schema_name in due_schemas(now + timedelta(seconds=60))


def test_the_sweeper_wakes_each_commune_once_until_its_writer_ran(db, tule, yenhoa, in_commune, idle_queue, settings):
    settings.XASO_OUTBOX_GRACE_SECONDS = 0
    with in_commune(tule):
        publish(probe.TOPIC, "k", {"n": 1})
    with in_commune(yenhoa):
        publish(probe.TOPIC, "k", {"n": 1})
    assert sweep() == {"due": 2, "woken": 2}
    assert sorted(idle_queue.schemas()) == sorted([tule.schema_name, yenhoa.schema_name])
    assert sweep() == {"due": 2, "woken": 0}  # woken a moment ago: not again (a worker outage piles nothing up)
    with in_commune(tule):
        deliver(tule.schema_name)
    with in_commune(yenhoa):
        Entry.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))
        deliver(yenhoa.schema_name)  # ran, nothing due yet: its mark is cleared
    Pending.objects.filter(schema_name=yenhoa.schema_name).update(due_at=timezone.now())
    assert sweep() == {"due": 1, "woken": 1}
    assert idle_queue.count() == 3
