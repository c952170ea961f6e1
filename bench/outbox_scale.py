"""Benchmark: the outbox across many communes (sweeper, delivery, publishing, the facts refresh).

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso \\
        python bench/outbox_scale.py --communes 1000

Creates the communes by clone in a scratch database (``xaso_bench_outbox``; the database of
DATABASE_URL is not touched), then times, in the same run:

* the sweeper's query (``due_schemas``) with nothing waiting, with a due entry in 1 % of the
  communes, and with a backlog of 50 due entries in every commune (a worker outage), beside a
  probe that visits every commune's schema (one indexed EXISTS per schema, the way a sweeper
  without the public index would have to look);
* ``sweep()`` itself (query, Redis marks, wake-ups to an in-memory broker);
* the cost of ``publish`` in a committed transaction, beside the same transaction without it;
* one writer delivering 2,000 entries;
* the monthly facts refresh of a commune (previous and current month; first run and a run with
  nothing changed), and the whole refresh of every commune delivered by its writer.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from _scratch import scratch_database, summary

SCRATCH = "xaso_bench_outbox"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["XASO_CACHE_PREFIX"] = "bench-outbox"
    with scratch_database(SCRATCH):
        run(options)


def timed(function, repeat: int) -> list[float]:
    values = []
    for _round in range(repeat):
        started = time.perf_counter()
        function()
        values.append(time.perf_counter() - started)
    return values


def line(label: str, values: list[float], unit: float = 1000.0, suffix: str = "ms") -> str:
    mean, median, p95 = summary(values)
    return f"| {label} | {mean * unit:.2f} | {median * unit:.2f} | {p95 * unit:.2f} | {suffix} |"


def run(options) -> None:
    from datetime import timedelta

    from django.core.cache import caches
    from django.db import connection, transaction
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from communes.models import AdministrativeUnit
    from communes.services import create_commune, load_administrative_units
    from outbox.facts import publish_months
    from outbox.models import Entry
    from outbox.services import publish, publish_many
    from outbox.writer import deliver, due_schemas, sweep
    from published import facts
    from published.models import Pending

    load_administrative_units(with_legacy=False)
    units = list(AdministrativeUnit.objects.filter(level="commune").order_by("code")[: options.communes])
    started = time.perf_counter()
    communes = [
        create_commune(code=u.code, name=u.name, kind=u.kind, domain=f"c{u.code}.bench.test",
                       province_code=u.province_code)[0]
        for u in units
    ]
    connection.set_schema_to_public()
    print(f"{len(communes)} communes cloned in {time.perf_counter() - started:.1f} s", flush=True)
    schemas = [c.schema_name for c in communes]
    topic = facts.TOPIC

    def payload(i: int) -> dict:
        return {"source": "bench", "month": "2001-01", "figures": {"n": i}}

    def every_schema() -> int:
        found = 0
        with connection.cursor() as cursor:
            for schema in schemas:
                cursor.execute(
                    f'SELECT EXISTS (SELECT 1 FROM "{schema}".outbox_entry WHERE delivered_at IS NULL '
                    "AND next_attempt_at <= now())")
                found += cursor.fetchone()[0]
        return found

    def sweeps(count: int, expected: int) -> list[float]:
        values = []
        for _round in range(count):
            for schema in few:  # the marks of the last round: the sweeper wakes them again
                caches["shared"].delete(f"outbox:woken:{schema}")
            started = time.perf_counter()
            assert sweep()["woken"] == expected
            values.append(time.perf_counter() - started)
        return values

    rows = []
    # 1. Nothing waits.
    rows.append(line("due_schemas, nothing waiting", timed(due_schemas, options.repeat)))
    rows.append(line("probe of every schema, nothing waiting", timed(every_schema, 3)))
    # 2. A due entry in 1 % of the communes (its wake-up was lost).
    few = schemas[:: max(1, len(schemas) // max(1, len(schemas) // 100))]
    for schema in few:
        with schema_context(schema):
            publish(topic, "2001-01/bench", payload(0))
    Pending.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert len(due_schemas()) == len(few)
    rows.append(line(f"due_schemas, {len(few)} communes with a due entry", timed(due_schemas, options.repeat)))
    rows.append(line(f"probe of every schema, {len(few)} with a due entry", timed(every_schema, 3)))

    rows.append(line(f"sweep() waking {len(few)} communes", sweeps(options.repeat, len(few))))
    # 3. A backlog: 50 due entries in every commune.
    for schema in schemas:
        with schema_context(schema):
            publish_many(topic, [(f"2001-01/bench{i}", payload(i)) for i in range(50)])
    Pending.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    backlog = Pending.objects.count()
    rows.append(line(f"due_schemas, backlog of {backlog} entries in {len(schemas)} communes",
                     timed(due_schemas, options.repeat)))
    rows.append(line("probe of every schema, backlog", timed(every_schema, 3)))
    started = time.perf_counter()
    for schema in schemas:
        deliver(schema)
    drained = time.perf_counter() - started
    assert not Pending.objects.exists()
    print(f"backlog of {backlog} entries delivered commune by commune in {drained:.1f} s "
          f"({backlog / drained:.0f} entries/s, one process)", flush=True)

    # 4. The cost of publishing, in a committed transaction.
    schema = schemas[0]
    with schema_context(schema):
        counter = iter(range(10**9))
        own = publish(topic, "2001-02/own", payload(0)).pk  # a row for the transaction's own write

        def with_publish():
            with transaction.atomic():
                Entry.objects.filter(pk=own).update(attempts=next(counter) % 1000)  # the transaction's own work
                publish(topic, f"2001-02/p{next(counter)}", payload(1))

        def without_publish():
            with transaction.atomic():
                Entry.objects.filter(pk=own).update(attempts=next(counter) % 1000)

        publish_times = timed(with_publish, 300)
        plain_times = timed(without_publish, 300)
    rows.append(line("a transaction with one publish", publish_times))
    rows.append(line("the same transaction without it", plain_times))
    deliver(schema)

    # 5. One writer, 2,000 entries.
    with schema_context(schema):
        publish_many(topic, [(f"2001-03/d{i}", payload(i)) for i in range(2000)])
    started = time.perf_counter()
    counts = deliver(schema, budget_seconds=600)
    seconds = time.perf_counter() - started
    assert counts["applied"] == 2000, counts
    print(f"one writer: 2,000 entries in {seconds:.2f} s ({2000 / seconds:.0f} entries/s)", flush=True)

    # 6. The facts refresh.
    sample = schemas[: min(20, len(schemas))]
    first, again = [], []
    for schema in sample:
        with schema_context(schema):
            started = time.perf_counter()
            publish_months()
            first.append(time.perf_counter() - started)
        deliver(schema)
        with schema_context(schema):
            started = time.perf_counter()
            result = publish_months()
            again.append(time.perf_counter() - started)
            assert result.published == 0, result
    rows.append(line("facts refresh of a commune (2 months), first", first))
    rows.append(line("facts refresh of a commune, nothing changed", again))
    started = time.perf_counter()
    for schema in schemas:
        with schema_context(schema):
            publish_months()
        deliver(schema)
    whole = time.perf_counter() - started

    print()
    print(f"The outbox over {len(communes)} communes")
    print()
    print("| what | mean | median | p95 | unit |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    print(f"facts refresh of every commune, delivered (one process): {whole:.1f} s, "
          f"{whole / len(schemas) * 1000:.1f} ms per commune; at 3,321 communes ≈ "
          f"{whole / len(schemas) * 3321:.0f} s of worker time per hour")
    ratio = statistics.median(publish_times) - statistics.median(plain_times)
    print(f"publish adds {ratio * 1000:.2f} ms (median) to a committed transaction")


if __name__ == "__main__":
    main()
