"""Benchmark: one beat of the durable-job sweeper across many communes.

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso \\
        python bench/sweep.py --communes 400 --due-share 0.01

Creates the communes by clone in a scratch database (``xaso_bench_sweep``), leaves a due job
(a queued notification whose message was lost) in a share of them, and times ``sweep_all``
with the batched probe (only schemas with due jobs are visited) against the baseline that
visits every schema, in the same run. Celery messages go to an in-memory broker.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from _scratch import scratch_database, summary

SCRATCH = "xaso_bench_sweep"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=400)
    parser.add_argument("--due-share", type=float, default=0.01, help="share of communes with a due job")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = "memory://"
    with scratch_database(SCRATCH):
        run(options)


def run(options) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from communes.models import AdministrativeUnit
    from communes.services import create_commune, load_administrative_units
    from jobs.models import JobState
    from jobs.services import sweep_all
    from notifications.models import Notification

    load_administrative_units(with_legacy=False)
    units = list(AdministrativeUnit.objects.filter(level="commune").order_by("code")[: options.communes])
    started = time.perf_counter()
    communes = [
        create_commune(code=u.code, name=u.name, kind=u.kind, domain=f"c{u.code}.bench.test",
                       province_code=u.province_code)[0]
        for u in units
    ]
    print(f"{len(communes)} communes cloned in {time.perf_counter() - started:.1f} s", flush=True)
    every = max(1, round(1 / options.due_share)) if options.due_share > 0 else 0
    due = communes[::every] if every else []

    def plant():
        long_ago = timezone.now() - timedelta(minutes=10)
        for commune in due:
            with schema_context(commune.schema_name):
                Notification.objects.filter(message="bench").delete()
                Notification.objects.create(
                    message="bench", recipients=["0912000001"], state=JobState.QUEUED,
                    run_after=long_ago, last_enqueued_at=long_ago,
                )

    timings: dict[str, list[float]] = {"probe": [], "every schema": []}
    for _round in range(options.repeat):
        for label, probe in (("probe", True), ("every schema", False)):
            plant()  # the same due jobs before each sweep
            started = time.perf_counter()
            totals = sweep_all(grace_seconds=60, probe=probe)
            timings[label].append(time.perf_counter() - started)
            assert totals["requeued"] == len(due), totals

    print()
    print(f"sweep_all over {len(communes)} communes, {len(due)} with a due job, {options.repeat} rounds")
    print()
    print("| sweep | mean (s) | median (s) | p95 (s) |")
    print("|---|---|---|---|")
    for label, values in timings.items():
        mean, median, p95 = summary(values)
        print(f"| {label} | {mean:.3f} | {median:.3f} | {p95:.3f} |")
    ratio = statistics.mean(timings["probe"]) / statistics.mean(timings["every schema"])
    print(f"\nprobe / every schema (means): {ratio:.3f}  ({1 / ratio:.1f}x faster)")
    per_commune = statistics.mean(timings["every schema"]) / len(communes)
    print(f"every schema: {per_commune * 1000:.2f} ms per commune; at 3,300 communes ≈ {per_commune * 3300:.1f} s per beat")


if __name__ == "__main__":
    main()
