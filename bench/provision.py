"""Benchmark: provisioning communes by cloning the template schema versus running migrations,
and migrate_schemas across every commune with the standard and multiprocessing executors.

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso \\
        python bench/provision.py --communes 50

The database named in DATABASE_URL is never touched: a scratch database ``xaso_bench`` on the
same server is dropped, created, used and dropped again.
"""
from __future__ import annotations

import argparse
import statistics
import time

from _scratch import manage, scratch_database, summary

SCRATCH = "xaso_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=50, help="communes to create by clone")
    parser.add_argument("--migrate-sample", type=int, default=10, help="communes to create by migrations")
    options = parser.parse_args()
    with scratch_database(SCRATCH) as url:
        run(url, options)


def run(url: str, options) -> None:
    from django.test import override_settings

    from communes import provisioning
    from communes.models import AdministrativeUnit
    from communes.services import create_commune, load_administrative_units

    load_administrative_units(with_legacy=False)
    started = time.perf_counter()
    provisioning.ensure_template_schema()
    template_seconds = time.perf_counter() - started
    units = list(
        AdministrativeUnit.objects.filter(level="commune").order_by("code")[: options.communes + options.migrate_sample]
    )
    clone_times, migrate_times = [], []
    for unit in units[: options.communes]:
        commune, seconds = create_commune(code=unit.code, name=unit.name, kind=unit.kind,
                                          domain=f"c{unit.code}.bench.test", province_code=unit.province_code)
        assert commune.provisioning_path == "clone", commune.provisioning_path
        clone_times.append(seconds)
    with override_settings(XASO_PROVISION_METHOD="migrate"):
        for unit in units[options.communes:]:
            commune, seconds = create_commune(code=unit.code, name=unit.name, kind=unit.kind,
                                              domain=f"c{unit.code}.bench.test", province_code=unit.province_code)
            assert commune.provisioning_path == "migrate", commune.provisioning_path
            migrate_times.append(seconds)
    total = len(units)
    print(f"{len(clone_times)} communes cloned, {len(migrate_times)} migrated; migrate_schemas runs …", flush=True)

    runs = {}
    for executor in ("standard", "multiprocessing"):
        runs[f"nothing to apply, {executor}"] = manage(url, "migrate_schemas", "--tenant", f"--executor={executor}")
    probe = {"XASO_TEST_PROBE_APP": "1"}
    for executor in ("standard", "multiprocessing"):
        runs[f"one new app (2 migrations), {executor}"] = manage(
            url, "migrate_schemas", "--tenant", f"--executor={executor}", **probe)
        manage(url, "migrate_schemas", "--tenant", "probe_app", "zero", "--executor=multiprocessing", **probe)

    import django.db

    with django.db.connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                       [provisioning.template_schema_name()])
        template_objects = cursor.fetchone()[0]

    print()
    print(f"Template: {template_objects} relations (tables, indexes, sequences, views); built by migrations in {template_seconds:.2f} s")
    print()
    print("| provisioning (seconds per commune) | n | mean | median | p95 |")
    print("|---|---|---|---|---|")
    for label, values in (("clone", clone_times), ("migrate", migrate_times)):
        if values:
            mean, median, p95 = summary(values)
            print(f"| {label} | {len(values)} | {mean:.3f} | {median:.3f} | {p95:.3f} |")
    if clone_times and migrate_times:
        ratio = statistics.mean(clone_times) / statistics.mean(migrate_times)
        print(f"\nclone / migrate (means): {ratio:.3f}  (clone is {1 / ratio:.1f}x faster)")
    print()
    print(f"| migrate_schemas --tenant over {total} communes + template | seconds total | seconds per schema |")
    print("|---|---|---|")
    for label, seconds in runs.items():
        print(f"| {label} | {seconds:.2f} | {seconds / (total + 1):.3f} |")


if __name__ == "__main__":
    main()
