"""Publishing and delivering, in the test's transaction: a rolled-back change publishes nothing,
delivery is exactly-once in effect under replays, an older entry never overwrites a newer one, a
tombstone removes the row for good, a failing handler is retried with backoff and blocks neither
the commune's other entries nor the other communes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from outbox.models import Entry
from outbox.services import Wake, publish, publish_many, withdraw
from outbox.writer import backoff_seconds, deliver, due_schemas
from published.models import MonthlyFacts, Pending, Publication
from tests.outbox import probe
from tests.outbox.conftest import public_rows

TOPIC = probe.TOPIC


class Boom(Exception):
    pass


def test_a_rolled_back_change_publishes_nothing(tule, in_commune, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with in_commune(tule):
            with pytest.raises(Boom):
                with transaction.atomic():
                    publish(TOPIC, "k1", {"n": 1})
                    withdraw(TOPIC, "k2")
                    raise Boom
            assert not Entry.objects.exists()
    assert not Pending.objects.filter(schema_name=tule.schema_name).exists()
    assert callbacks == []  # no wake-up either
    with in_commune(tule):
        assert deliver(tule.schema_name) == {}
    assert public_rows(tule) == {}


def test_an_entry_and_its_index_line_are_written_together_with_one_wake_up(
        tule, in_commune, django_capture_on_commit_callbacks, settings):
    settings.XASO_OUTBOX_GRACE_SECONDS = 30
    before = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        with in_commune(tule):
            with transaction.atomic():
                first = publish(TOPIC, "k1", {"n": 1, "on": timezone.localdate()})
                publish_many(TOPIC, [("k2", {"n": 2}), ("k3", {"n": 3})], withdrawals=["k4"])
    wakes = [c for c in callbacks if isinstance(c, Wake)]
    assert [w.schema_name for w in wakes] == [tule.schema_name]  # one per transaction
    with in_commune(tule):
        entries = list(Entry.objects.order_by("id"))
    assert [(e.topic, e.key, e.payload is None) for e in entries] == [
        (TOPIC, "k1", False), (TOPIC, "k2", False), (TOPIC, "k3", False), (TOPIC, "k4", True)]
    assert entries[0].payload["on"] == timezone.localdate().isoformat()  # as JSON gives it back
    lines = Pending.objects.filter(schema_name=tule.schema_name).order_by("entry_id")
    assert [line.entry_id for line in lines] == [e.pk for e in entries]
    assert all(line.due_at >= before + timedelta(seconds=30) for line in lines)
    assert first.pk == entries[0].pk


def test_publish_refuses_the_public_schema_an_unknown_topic_and_a_bad_key(tule, in_commune):
    with pytest.raises(RuntimeError):
        publish(TOPIC, "k", {"n": 1})
    with in_commune(tule):
        with pytest.raises(LookupError):
            publish("no.such.topic", "k", {})
        with pytest.raises(ValueError):
            publish(TOPIC, "", {})
        with pytest.raises(ValueError):
            publish(TOPIC, "x" * 201, {})
        with pytest.raises(TypeError):
            publish(TOPIC, "k", [1, 2])


def test_delivery_applies_marks_delivered_and_clears_the_index(tule, in_commune):
    with in_commune(tule):
        entry = publish(TOPIC, "k1", {"n": 1})
        counts = deliver(tule.schema_name)
        assert counts["applied"] == 1 and counts.get("failed", 0) == 0
        entry.refresh_from_db()
        assert entry.delivered_at is not None and not entry.superseded
    assert public_rows(tule) == {"k1": ({"n": 1}, entry.pk)}
    assert not Pending.objects.filter(schema_name=tule.schema_name).exists()
    ledger = Publication.objects.get(topic=TOPIC, commune=tule, key="k1")
    assert (ledger.version, ledger.withdrawn, ledger.digest) == (entry.pk, False, entry.digest)
    assert due_schemas(timezone.now() + timedelta(days=1)) == []


def test_delivery_is_exactly_once_in_effect_under_replays_and_duplicate_wake_ups(tule, in_commune):
    with in_commune(tule):
        entries = [publish(TOPIC, f"k{i}", {"n": i}) for i in range(5)]
        assert deliver(tule.schema_name)["applied"] == 5
        stamps = dict(MonthlyFacts.objects.filter(commune=tule).values_list("key", "published_at"))
        # Duplicate wake-ups: nothing is due, nothing happens.
        assert deliver(tule.schema_name) == {}
        assert deliver(tule.schema_name) == {}
        # A replay: the entries are undelivered again (as if the marks were lost) and the
        # index points at them again; the writer finds the ledger at their versions already.
        Entry.objects.update(delivered_at=None)
        Pending.objects.bulk_create([Pending(schema_name=tule.schema_name, entry_id=e.pk, topic=TOPIC,
                                             due_at=timezone.now(), created_at=timezone.now()) for e in entries])
        counts = deliver(tule.schema_name)
        assert counts == {"superseded": 5, "batches": 1}
        assert Entry.objects.filter(superseded=True, delivered_at__isnull=False).count() == 5
    assert len(probe.CALLS) == 5  # the handler ran once per entry
    assert dict(MonthlyFacts.objects.filter(commune=tule).values_list("key", "published_at")) == stamps
    assert not Pending.objects.filter(schema_name=tule.schema_name).exists()


def test_an_older_entry_never_overwrites_a_newer_one(tule, in_commune):
    with in_commune(tule):
        old = publish(TOPIC, "k", {"price": 100})
        new = publish(TOPIC, "k", {"price": 120})
        # The older entry is held back (a failure's backoff), the newer one goes first.
        Entry.objects.filter(pk=old.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
        assert deliver(tule.schema_name)["applied"] == 1
        assert public_rows(tule) == {"k": ({"price": 120}, new.pk)}
        Entry.objects.filter(pk=old.pk).update(next_attempt_at=timezone.now())
        assert deliver(tule.schema_name)["superseded"] == 1
        assert Entry.objects.get(pk=old.pk).superseded
    assert public_rows(tule) == {"k": ({"price": 120}, new.pk)}
    assert [call[1:3] for call in probe.CALLS] == [("k", new.pk)]


def test_a_tombstone_removes_the_row_and_keeps_an_older_entry_from_bringing_it_back(tule, in_commune):
    with in_commune(tule):
        old = publish(TOPIC, "k", {"n": 1})
        assert deliver(tule.schema_name)["applied"] == 1
        gone = withdraw(TOPIC, "k")
        deliver(tule.schema_name)
        assert public_rows(tule) == {}
        ledger = Publication.objects.get(topic=TOPIC, commune=tule, key="k")
        assert (ledger.version, ledger.withdrawn) == (gone.pk, True)
        # The older publication, replayed: superseded, the row stays gone.
        Entry.objects.filter(pk=old.pk).update(delivered_at=None)
        assert deliver(tule.schema_name)["superseded"] == 1
        assert public_rows(tule) == {}
        # A withdrawal of a key never published is kept as a tombstone too.
        withdraw(TOPIC, "never")
        deliver(tule.schema_name)
        assert Publication.objects.get(topic=TOPIC, commune=tule, key="never").withdrawn
        # Published again later: back.
        again = publish(TOPIC, "k", {"n": 3})
        deliver(tule.schema_name)
    assert public_rows(tule) == {"k": ({"n": 3}, again.pk)}


def test_a_failing_handler_is_retried_with_backoff_and_blocks_nothing_else(
        tule, yenhoa, in_commune, settings, capsys):
    settings.XASO_OUTBOX_BACKOFF_BASE = 5
    probe.FAIL.add("bad")
    with in_commune(tule):
        publish(TOPIC, "a", {"n": 1})
        bad = publish(TOPIC, "bad", {"n": 2})
        publish(TOPIC, "c", {"n": 3})
        started = timezone.now()
        counts = deliver(tule.schema_name)
        assert (counts["applied"], counts["failed"]) == (2, 1)
        bad.refresh_from_db()
        assert bad.delivered_at is None and bad.attempts == 1
        assert "the probe refuses bad" in bad.last_error
        assert bad.next_attempt_at >= started + timedelta(seconds=5)
    assert set(public_rows(tule)) == {"a", "c"}
    line = Pending.objects.get(schema_name=tule.schema_name, entry_id=bad.pk)
    assert line.attempts == 1 and "the probe refuses bad" in line.error and line.due_at == bad.next_attempt_at
    # Visible to the operators.
    call_command("outbox_status", "--errors")
    out = capsys.readouterr().out
    assert "04630: 1 waiting" in out and "the probe refuses bad" in out
    # Another commune delivers meanwhile.
    with in_commune(yenhoa):
        publish(TOPIC, "y", {"n": 9})
        assert deliver(yenhoa.schema_name)["applied"] == 1
    assert set(public_rows(yenhoa)) == {"y"}
    # Not yet due: a wake-up does not retry it.
    with in_commune(tule):
        assert deliver(tule.schema_name) == {}
        # Still failing when due: the backoff doubles.
        Entry.objects.filter(pk=bad.pk).update(next_attempt_at=timezone.now())
        deliver(tule.schema_name)
        bad.refresh_from_db()
        assert bad.attempts == 2 and bad.next_attempt_at >= timezone.now() + timedelta(seconds=9)
        # Fixed: the retry applies it and clears the error.
        probe.FAIL.clear()
        Entry.objects.filter(pk=bad.pk).update(next_attempt_at=timezone.now())
        assert deliver(tule.schema_name)["applied"] == 1
        bad.refresh_from_db()
        assert bad.delivered_at is not None and bad.last_error == ""
    assert set(public_rows(tule)) == {"a", "bad", "c"}
    assert not Pending.objects.filter(schema_name=tule.schema_name).exists()


def test_backoff_doubles_up_to_an_hour(settings):
    settings.XASO_OUTBOX_BACKOFF_BASE = 5
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff_seconds(30) == 3600


def test_entries_are_applied_in_order_across_batches(tule, in_commune, settings):
    settings.XASO_OUTBOX_BATCH = 7
    with in_commune(tule):
        publish_many(TOPIC, [(f"k{i % 5}", {"i": i}) for i in range(30)])
        counts = deliver(tule.schema_name)
    assert counts["applied"] == 30 and counts["batches"] == 5
    versions = [call[2] for call in probe.CALLS]
    assert versions == sorted(versions)
    assert {key: figures["i"] for key, (figures, _v) in public_rows(tule).items()} == {
        "k0": 25, "k1": 26, "k2": 27, "k3": 28, "k4": 29}


def test_delivered_entries_are_pruned_after_the_keeping_days(tule, in_commune, settings):
    settings.XASO_OUTBOX_KEEP_DAYS = 7
    with in_commune(tule):
        old = publish(TOPIC, "k", {"n": 1})
        deliver(tule.schema_name)
        Entry.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=8))
        kept = publish(TOPIC, "k", {"n": 2})
        deliver(tule.schema_name)
        assert list(Entry.objects.values_list("pk", flat=True)) == [kept.pk]


def test_an_index_line_whose_entry_is_gone_is_dropped(tule, in_commune):
    now = timezone.now()
    Pending.objects.create(schema_name=tule.schema_name, entry_id=999_999, topic=TOPIC, due_at=now, created_at=now)
    assert tule.schema_name in due_schemas()
    with in_commune(tule):
        deliver(tule.schema_name)
    assert tule.schema_name not in due_schemas()
    Pending.objects.create(schema_name="c_gone", entry_id=1, topic=TOPIC, due_at=now, created_at=now)
    deliver("c_gone")  # no such commune
    assert not Pending.objects.filter(schema_name="c_gone").exists()


def test_the_national_admin_lists_the_failing_entries(tule, in_commune, make_user, client_for):
    probe.FAIL.add("bad")
    with in_commune(tule):
        publish(TOPIC, "bad", {"n": 1})
        deliver(tule.schema_name)
    operator = make_user("outbox_operator", is_staff=True, is_superuser=True)
    page = client_for("localhost", operator, second_factor=True).get("/admin/published/pending/")
    assert page.status_code == 200
    assert "the probe refuses bad" in page.content.decode()
    assert client_for("localhost", operator, second_factor=True).get("/admin/published/pending/add/").status_code == 403
