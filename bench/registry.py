"""Benchmark: the residents' registry at the size of a large pilot commune.

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso \\
        python bench/registry.py --households 2301

Fills one commune of a scratch database (``xaso_bench_registry``) with generated households and
residents (Yên Hòa had 2,301 households and 7,557 residents), then times, through the whole
Django stack (host routing, session, role checks, access log) with the test client:
the resident list, an accent-insensitive search, the API list, a resident's page, the .xlsx
export of everyone, and importing that export into an empty commune. The baseline in the same
run is the password-change page: host routing, session and a template, no registry query.
"""
from __future__ import annotations

import argparse
import statistics
import time

from _scratch import scratch_database, summary

SCRATCH = "xaso_bench_registry"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=2301)
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    with scratch_database(SCRATCH):
        run(options)


def timed(call, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        times.append(time.perf_counter() - started)
        assert response.status_code in (200, 302), response.status_code
    return times


def run(options) -> None:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django_tenants.utils import schema_context

    from communes.models import Membership, Role, User
    from communes.services import create_commune, load_administrative_units
    from population.demo import populate
    from population.models import Resident, Village

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_administrative_units(with_legacy=False)
    source, _s = create_commune(code="14701", name="Yên Hòa", domain="yenhoa.bench.test", province_code="37")
    target, _s = create_commune(code="16144", name="Nga An", domain="ngaan.bench.test", province_code="38")
    villages = [f"Thôn {n}" for n in range(1, 11)]
    started = time.perf_counter()
    made = populate(source, villages=villages, households=options.households, seed=14701)
    print(f"Generated {made['households']} households, {made['residents']} residents in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    with schema_context(target.schema_name):
        for name in villages:
            Village.objects.create(name=name)
    user = User.objects.create_user("bench", password="x")
    for commune in (source, target):
        Membership.objects.create(user=user, commune=commune, role=Role.SPECIALIST)
    client = Client(HTTP_HOST="yenhoa.bench.test")
    client.force_login(user)
    with schema_context(source.schema_name):
        some = Resident.objects.order_by("pk")[len(villages)]

    n = options.repeat
    results = {
        "resident list, page 1": timed(lambda: client.get("/population/"), n),
        "search 'nguyen van' (no accents)": timed(lambda: client.get("/population/?q=nguyen+van"), n),
        "API list, page 1 (50)": timed(lambda: client.get("/api/v1/residents/"), n),
        "API search 'thi'": timed(lambda: client.get("/api/v1/residents/?search=thi"), n),
        "resident page (logged read)": timed(lambda: client.get(f"/population/residents/{some.pk}/"), n),
    }
    baseline = timed(lambda: client.get("/accounts/password/change/"), n)
    results = {"password page (baseline)": baseline, **results}
    export = timed(lambda: client.get("/population/residents/export.xlsx"), 3)
    results["export all residents (.xlsx)"] = export
    data = client.get("/population/residents/export.xlsx").content

    target_client = Client(HTTP_HOST="ngaan.bench.test")
    target_client.force_login(user)
    started = time.perf_counter()
    response = target_client.post("/population/residents/import/", {"file": SimpleUploadedFile("export.xlsx", data)})
    import_seconds = time.perf_counter() - started
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(target.schema_name):
        imported = Resident.objects.count()
    results["import the export into an empty commune"] = [import_seconds]

    print()
    print(f"{made['residents']} residents in {made['households']} households; {n} requests each "
          "(export 3, import 1); times in milliseconds")
    print()
    print("| request | mean | median | p95 | × baseline |")
    print("|---|---|---|---|---|")
    base = statistics.mean(baseline)
    for label, values in results.items():
        mean, median, p95 = summary(values)
        print(f"| {label} | {mean * 1000:.1f} | {median * 1000:.1f} | {p95 * 1000:.1f} | {mean / base:.1f} |")
    print(f"\nexport file: {len(data) / 1024:.0f} KiB; imported {imported} residents "
          f"({imported / import_seconds:.0f} rows/s)")


if __name__ == "__main__":
    main()
