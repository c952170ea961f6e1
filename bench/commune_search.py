"""Benchmark: the commune search of the national home page with every commune of the country.

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso \\
        python bench/commune_search.py

Loads the official list (3,321 communes) into a scratch database (``xaso_bench_search``) and, as
the worst case, a portal row and a host for every one of them (rows only, no schemas), then
times the national home page through the whole stack with Django's test client: without a query
(the baseline of the same run: provinces and their counts), and with searches that find one
commune, a hundred, and none; then the search function alone, on a cold and a warm list.
"""
from __future__ import annotations

import argparse
import time

from _scratch import scratch_database, summary

SCRATCH = "xaso_bench_search"


def timed(call, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
        status = getattr(result, "status_code", 200)
        assert status == 200, status
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    with scratch_database(SCRATCH):
        run(options)


def run(options) -> None:
    from django.db import connection
    from django.test import Client

    from communes import search
    from communes.models import AdministrativeUnit, Commune, Domain, SupervisingUnit
    from communes.services import load_administrative_units

    load_administrative_units(with_legacy=False)
    connection.set_schema_to_public()
    provinces = {unit.code: unit for unit in SupervisingUnit.objects.all()}
    official = list(AdministrativeUnit.objects.filter(level="commune"))
    Commune.objects.bulk_create([
        Commune(code=unit.code, name=unit.name, kind=unit.kind, schema_name=f"c_{unit.code}",
                supervising_unit=provinces.get(unit.province_code)) for unit in official
    ], batch_size=1000)
    by_code = {commune.code: commune for commune in Commune.objects.all()}
    Domain.objects.bulk_create([Domain(domain=f"c{code}.bench.test", tenant=commune, is_primary=True)
                                for code, commune in by_code.items()], batch_size=1000)
    print(f"{len(official)} official communes, {len(by_code)} portals", flush=True)

    client = Client(HTTP_HOST="localhost")
    n = options.repeat
    client.get("/")  # warm the templates and the connection
    results = {
        "national home, no query (baseline)": timed(lambda: client.get("/"), n),
        "search 'tu le' (1 match)": timed(lambda: client.get("/", {"q": "tu le"}), n),
        "search 'yen' (91 matches, 50 shown)": timed(lambda: client.get("/", {"q": "yen"}), n),
        "search 'khong co' (none)": timed(lambda: client.get("/", {"q": "khong co"}), n),
    }

    def cold():
        search.clear_cache()
        return search.search("yen")

    functions = {
        "search() on a cold list (loads 3,321 rows)": timed(cold, n),
        "search() on a warm list": timed(lambda: search.search("yen"), n),
    }
    print()
    print(f"{n} requests each; times in milliseconds")
    print()
    print("| request | mean | median | p95 | × baseline |")
    print("|---|---|---|---|---|")
    base = summary(results["national home, no query (baseline)"])[0]
    for label, values in {**results, **functions}.items():
        mean, median, p95 = summary(values)
        print(f"| {label} | {mean * 1000:.1f} | {median * 1000:.1f} | {p95 * 1000:.1f} | {mean / base:.2f} |")


if __name__ == "__main__":
    main()
