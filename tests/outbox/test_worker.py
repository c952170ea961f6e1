"""The outbox with a real Celery worker on the test database: a commit wakes the commune's writer,
duplicate wake-ups deliver each entry once, the sweeper delivers what a flushed Redis lost, and the
hourly refresh publishes every commune's monthly figures through the worker."""
from __future__ import annotations

import time

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from communes.models import Commune
from communes.modules import FACTS_SOURCES, facts_for
from core import periods
from outbox.models import Entry
from outbox.services import Wake, publish_many
from outbox.tasks import publish_facts, refresh_facts
from outbox.writer import sweep
from published import facts
from published.models import MonthlyFacts, Pending
from tests.jobs.helpers import wait_for
from tests.outbox.conftest import public_rows
from tests.outbox.state import clear_outbox

pytestmark = [pytest.mark.celery, pytest.mark.xdist_group("celery")]


def _payload(i: int) -> dict:
    return {"source": "probe", "month": "2001-01", "figures": {"n": i}}


@pytest.fixture
def tule_clean(tule_live):
    clear_outbox(tule_live)
    yield tule_live
    clear_outbox(tule_live)


def _delivered(commune, count: int):
    def check():
        with schema_context(commune.schema_name):
            done = Entry.objects.filter(delivered_at__isnull=False).count()
        return done == count
    return check


def test_the_commit_wakes_the_writer_and_duplicate_wake_ups_deliver_each_entry_once(worker, tule_clean):
    schema = tule_clean.schema_name
    with schema_context(schema):
        with transaction.atomic():
            entries = publish_many(facts.TOPIC, [(f"2001-01/probe{i}", _payload(i)) for i in range(60)])
        for _i in range(10):  # duplicate wake-ups, some while the first writer works
            Wake(schema)()
    wait_for(_delivered(tule_clean, 60), timeout=30, message="the writer to deliver 60 entries")
    with schema_context(schema):
        assert not Entry.objects.filter(superseded=True).exists()  # no entry was taken twice
    rows = public_rows(tule_clean)
    assert {key: version for key, (_f, version) in rows.items()} == {e.key: e.pk for e in entries}
    assert rows["2001-01/probe7"][0] == {"n": 7}
    assert not Pending.objects.filter(schema_name=schema).exists()


def test_the_sweeper_delivers_after_redis_is_flushed(worker, tule_clean, celery_broker, settings):
    settings.XASO_OUTBOX_GRACE_SECONDS = 0  # the index line is due at once (this process publishes)
    queue, client = celery_broker["queue"], celery_broker["redis"]
    schema = tule_clean.schema_name
    worker.stop()  # the wake-up waits in Redis
    with schema_context(schema):
        publish_many(facts.TOPIC, [(f"2001-01/probe{i}", _payload(i)) for i in range(5)])
    assert client.llen(queue) >= 1
    client.flushdb()  # Redis loses the wake-up
    assert client.llen(queue) == 0
    worker.start()
    time.sleep(1.5)
    with schema_context(schema):
        assert Entry.objects.filter(delivered_at__isnull=True).count() == 5  # nobody knows
    assert public_rows(tule_clean) == {}

    assert sweep()["woken"] >= 1
    wait_for(_delivered(tule_clean, 5), timeout=30, message="the swept writer to deliver")
    assert len(public_rows(tule_clean)) == 5
    assert not Pending.objects.filter(schema_name=schema).exists()


def test_the_hourly_refresh_publishes_every_commune_s_figures_through_the_worker(worker, live_db):
    communes = list(Commune.objects.exclude(schema_name="public").order_by("code"))
    for commune in communes:
        clear_outbox(commune)
    try:
        assert refresh_facts() == len(communes)
        months = facts.refresh_months()

        def published():
            count = MonthlyFacts.objects.filter(month__in=months).count()
            return count == len(FACTS_SOURCES) * len(months) * len(communes)

        wait_for(published, timeout=90, interval=0.3, message="every commune's figures")
        for commune in communes:
            with schema_context(commune.schema_name):
                for month in months:
                    period = periods.month(month.year, month.month)
                    expected = facts_for(period.date_from, period.date_to)
                    rows = {row.source: row.figures for row in MonthlyFacts.objects.filter(commune=commune, month=month)}
                    assert rows == expected, (commune.code, month)
        # Refreshed again, nothing changed: no entry is written.
        with schema_context(communes[0].schema_name):
            before = Entry.objects.count()
        assert publish_facts(communes[0].schema_name) == (
            f"0 published, 0 withdrawn, {len(FACTS_SOURCES) * len(months)} unchanged")
        with schema_context(communes[0].schema_name):
            assert Entry.objects.count() == before
    finally:
        for commune in communes:
            clear_outbox(commune)
