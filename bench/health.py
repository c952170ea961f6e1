"""Benchmark: the health station of a commune of 8,000 residents with a year of visits.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso python bench/health.py --seconds 15 --clients 4

Creates a scratch database (``xaso_bench_health``) with one commune (Tú Lệ) of ``--households``
generated households (2,100 by default: about 8,000 residents), personal health records for 83%
of them (``health.record_demo``), then a year of the station's work written in bulk:
``--visits`` visits a month (each with a diagnosis), the year's vaccinations of the children
under 2, new chronic conditions, pregnancies with antenatal visits, growth measurements of the
children under 5 and deaths.

Then, in this process, the monthly report (``health.reports.monthly_report``) of each of the
twelve months, ``--repeat`` times each: its median and worst time (goal: 1 s or less) and its
number of queries.

Then gunicorn (``--workers`` sync workers, the settings of ``onestop_server``: the portal's own
with a minimal view) is driven over HTTP from ``--clients`` threads, ``--seconds`` per load in
all, cut into ``--rounds`` rounds that each run every load in turn, logged in as health staff
through the login and authenticator-app pages (as a browser does):

* baseline: ``GET /bench/minimal/`` on the commune's host (a Django view answering "ok" through
  the whole middleware stack);
* record page: ``GET /health/records/<id>/`` of a random record (``health:record``: the record,
  its conditions, the parts' summaries, the read logged);
* visit entry: ``POST /health/visits/new/`` (``health:visit_new``) of a whole visit (vital signs,
  two diagnoses, a prescription line) for a random record, answered by the redirect to the visit;
* monthly report page: ``GET /health/reports/?month=…`` of a random month of the year.

Prints requests per second, median and 95th-percentile latency, and each load's ratio to the
baseline measured in the same rounds.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import tempfile
import time
import uuid

import requests
from _scratch import drive, empty_queue, free_port, log_in, merge, scratch_database, start_gunicorn

SCRATCH = "xaso_bench_health"
HOST = "tule.bench.test"
PASSWORD = "Bench-mat-khau-2026!"
COMMON_CODES = ["J06.9", "J02.9", "J20.9", "A09", "K29.7", "M54.5", "I10", "E11.9", "R50.9", "K52.9", "L30.9",
                "H10.9", "N39.0", "M79.1", "R51", "J00", "B35.4", "T14.0", "K59.0", "J45.9"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="per HTTP load, over every round")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--households", type=int, default=2100)
    parser.add_argument("--visits", type=int, default=1000, help="visits a month")
    parser.add_argument("--repeat", type=int, default=5, help="monthly reports per month, in process")
    options = parser.parse_args()
    os.environ.setdefault("XASO_BENCH_QUEUE", f"xaso-bench-health-{uuid.uuid4().hex[:8]}")
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = os.environ["XASO_BENCH_QUEUE"]
    os.environ["XASO_CACHE_PREFIX"] = f"bench-health-{os.getpid()}"
    try:
        with scratch_database(SCRATCH) as url:
            run(url, options)
    finally:
        empty_queue(os.environ["XASO_BENCH_QUEUE"])


# --- the data ------------------------------------------------------------------------------------

def setup(options):
    """The commune, its residents and records, a year of the station's work, the nurse."""
    from django.contrib.auth.hashers import MD5PasswordHasher
    from django.db import connection, transaction
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from communes.models import Membership, Role, User
    from communes.services import create_commune, load_administrative_units
    from health import record_demo
    from health.models import (
        AntenatalVisit, ChronicCondition, Death, GrowthMeasurement, HealthRecord, Pregnancy, Vaccination, Visit,
        VisitDiagnosis,
    )
    from population.demo import populate

    load_administrative_units(with_legacy=False)
    commune, _seconds = create_commune(code="04630", name="Tú Lệ", domain=HOST, province_code="15")
    started = time.perf_counter()
    villages = ["Bản Lướt", "Bản Phạ", "Bản Chao", "Khau Thán", "Nà Lóng", "Tà Chơ", "Sài Lương", "Nậm Lành", "Bản Đồng"]
    made = populate(commune, villages=villages, households=options.households, seed=4630)
    records = record_demo.populate(commune, share=0.8286, province="15", seed=831)
    print(f"{made['residents']} residents in {made['households']} households, {records['records']} records "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    nurse = User.objects.create_user("bench_nurse", password="x", full_name="Lò Thị Y")
    hasher = MD5PasswordHasher()
    nurse.password = hasher.encode(PASSWORD, hasher.salt())
    nurse.save(update_fields=["password"])
    Membership.objects.create(user=nurse, commune=commune, role=Role.HEALTH_STAFF)
    rng = random.Random(2026)
    today = timezone.localdate()
    this_month = today.replace(day=1)
    months = []
    month = this_month
    for _n in range(12):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        months.append(month)
    started = time.perf_counter()
    with tenant_context(commune), transaction.atomic():
        rows = list(HealthRecord.objects.values_list("pk", "resident__birth_date", "resident__sex"))
        children = [r for r in rows if (today - r[1]).days < 2 * 365]
        under_five = [r for r in rows if (today - r[1]).days < 5 * 365]
        women = [r for r in rows if r[2] == "female" and 18 * 365 < (today - r[1]).days < 40 * 365]
        visits = []
        for first in months:
            for _n in range(options.visits):
                pk, born, _sex = rng.choice(rows)
                day = first + datetime.timedelta(days=rng.randrange(28))
                if day < born:
                    continue
                visits.append(Visit(
                    record_id=pk, reason="Khám bệnh", payment=rng.choice(["insurance", "insurance", "paid", "free"]),
                    referred=rng.random() < 0.04, systolic=rng.randrange(100, 160), diastolic=rng.randrange(60, 95),
                    visited_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.randrange(7, 17))))))
        Visit.objects.bulk_create(visits, batch_size=2000)
        VisitDiagnosis.objects.bulk_create([VisitDiagnosis(visit=v, icd10=rng.choice(COMMON_CODES), primary=True)
                                            for v in visits], batch_size=2000)
        doses = []
        plan = [("VGB_SS", 1, 0), ("BCG", 1, 0), ("DPT_VGB_HIB", 1, 60), ("OPV", 1, 60), ("DPT_VGB_HIB", 2, 90),
                ("OPV", 2, 90), ("DPT_VGB_HIB", 3, 120), ("OPV", 3, 120), ("IPV", 1, 150), ("SOI", 1, 270)]
        for pk, born, _sex in children:
            for vaccine, number, age in plan:
                day = born + datetime.timedelta(days=age + rng.randrange(0, 20))
                if day <= today and rng.random() < 0.93:
                    doses.append(Vaccination(record_id=pk, vaccine=vaccine, dose=number, given_on=day))
        Vaccination.objects.bulk_create(doses, batch_size=2000)
        growth = []
        for pk, born, _sex in under_five:
            for first in months[::3]:
                day = first + datetime.timedelta(days=rng.randrange(28))
                if day > born:
                    growth.append(GrowthMeasurement(record_id=pk, measured_on=day, weight_kg=rng.randrange(4, 18),
                                                    underweight=rng.random() < 0.12, stunted=rng.random() < 0.2,
                                                    wasted=rng.random() < 0.05))
        GrowthMeasurement.objects.bulk_create(growth, batch_size=2000)
        pregnancies, antenatal = [], []
        for pk, _born, _sex in rng.sample(women, min(len(women), 150)):
            registered = rng.choice(months) + datetime.timedelta(days=rng.randrange(28))
            ended = registered + datetime.timedelta(days=rng.randrange(120, 250))
            done = ended <= today
            pregnancies.append(Pregnancy(record_id=pk, registered_on=registered,
                                         expected_delivery=registered + datetime.timedelta(days=200),
                                         outcome="live_birth" if done else "", ended_on=ended if done else None,
                                         children=1 if done else 0))
        Pregnancy.objects.bulk_create(pregnancies)
        for pregnancy in pregnancies:
            for n in range(4):
                day = pregnancy.registered_on + datetime.timedelta(days=30 * n)
                if day <= (pregnancy.ended_on or today):
                    antenatal.append(AntenatalVisit(pregnancy=pregnancy, visited_on=day))
        AntenatalVisit.objects.bulk_create(antenatal, batch_size=2000)
        conditions = []
        for pk, born, _sex in rng.sample(rows, 300):
            day = rng.choice(months) + datetime.timedelta(days=rng.randrange(28))
            if day > born:
                conditions.append(ChronicCondition(record_id=pk, icd10=rng.choice(["J45.9", "M54.5", "K29.7", "N18.9"]),
                                                   diagnosed_on=day))
        ChronicCondition.objects.bulk_create(conditions, ignore_conflicts=True)
        from population.models import Resident

        old = list(Resident.objects.filter(birth_date__lt=today - datetime.timedelta(days=70 * 365))
                   .values_list("pk", flat=True)[:60])
        Death.objects.bulk_create([Death(resident_id=pk, died_on=rng.choice(months) + datetime.timedelta(days=5))
                                   for pk in old])
        record_ids = [r[0] for r in rows]
    print(f"A year: {len(visits)} visits, {len(doses)} doses, {len(growth)} measurements, {len(pregnancies)} "
          f"pregnancies, {len(antenatal)} antenatal visits, {len(conditions)} new conditions, {len(old)} deaths "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    connection.close()
    return commune, nurse, months, record_ids


def time_reports(commune, months, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import tenant_context

    from health.reports import monthly_report

    times = []
    with tenant_context(commune):
        monthly_report(months[0])  # the first call loads the schedule
        with CaptureQueriesContext(connection) as queries:
            monthly_report(months[0])
        for month in months:
            for _n in range(repeat):
                started = time.perf_counter()
                monthly_report(month)
                times.append(time.perf_counter() - started)
    connection.close()
    return {"count": len(times), "median": statistics.median(times), "max": max(times), "queries": len(queries)}


# --- the loads -------------------------------------------------------------------------------------

def answered(status: int) -> bool:
    """A page's 2xx, or visit entry's redirect to the visit written."""
    return 200 <= status < 300 or status == 302


def visit_form(record_id: int) -> dict:
    from django.utils import timezone

    moment = timezone.localtime() - datetime.timedelta(minutes=1)
    return {"record": record_id, "visit_date": moment.strftime("%d/%m/%Y"), "visit_time": moment.strftime("%H:%M"),
            "reason": "Sốt, ho 2 ngày", "examination": "Họng đỏ", "temperature_c": "38,5", "pulse": "88",
            "systolic": "130", "diastolic": "80", "respiratory_rate": "18", "spo2": "98", "dx_1": "J06.9",
            "dx_2": "R50.9", "dx_main": "1", "rx_text_1": "Paracetamol 500 mg", "rx_dose_1": "1 viên x 3 lần/ngày",
            "rx_days_1": "3", "treatment": "Hạ sốt, uống nhiều nước", "payment": "paid"}


def run(url: str, options) -> None:
    from django.urls import NoReverseMatch, reverse

    commune, nurse, months, record_ids = setup(options)
    report = time_reports(commune, months, options.repeat)
    print(f"\nMonthly report in process, {report['count']} reports over 12 months: median "
          f"{report['median'] * 1000:.0f} ms, worst {report['max'] * 1000:.0f} ms, {report['queries']} queries "
          f"(goal: 1 s or less)", flush=True)
    available = {}
    for name in ("health:record", "health:visit_new", "health:report"):
        try:
            reverse(name, args=[1], urlconf="config.urls_tenant") if name == "health:record" else reverse(name, urlconf="config.urls_tenant")
            available[name] = True
        except NoReverseMatch:
            available[name] = False
            print(f"{name} is not installed: not timed")
    port = free_port()
    with tempfile.TemporaryDirectory() as media:
        server = start_gunicorn(url, port, workers=options.workers, media=media, settings_module="onestop_server",
                                host=HOST)
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Host": HOST}
            cookies, csrf = log_in(base, headers, nurse, PASSWORD)
            post_headers = {**headers, "X-CSRFToken": csrf, "Referer": f"{base}/health/visits/new/"}
            rng = random.Random(1)

            def baseline(session):
                return session.get(f"{base}/bench/minimal/", headers=headers, timeout=30)

            def record_page(session):
                return session.get(f"{base}/health/records/{rng.choice(record_ids)}/", headers=headers,
                                   cookies=cookies, timeout=30)

            def visit_entry(session):
                return session.post(f"{base}/health/visits/new/", headers=post_headers, cookies=cookies, timeout=60,
                                    data={**visit_form(rng.choice(record_ids)), "csrfmiddlewaretoken": csrf},
                                    allow_redirects=False)

            def report_page(session):
                return session.get(f"{base}/health/reports/", params={"month": f"{rng.choice(months):%Y-%m}"},
                                   headers=headers, cookies=cookies, timeout=60)

            loads = [("baseline (minimal view)", baseline)]
            if available["health:record"]:
                loads.append(("record page", record_page))
            if available["health:visit_new"]:
                loads.append(("visit entry (POST)", visit_entry))
            loads.append(("monthly report page", report_page))
            for _name, make_request in loads:
                response = make_request(requests.Session())
                if not (200 <= response.status_code < 300 or response.status_code == 302):
                    raise SystemExit(f"{_name}: {response.status_code} {response.text[:500]}")
                drive("warm-up", make_request, clients=options.clients, seconds=1, ok=answered)
            slice_seconds = options.seconds / max(1, options.rounds)
            rounds: dict[str, list[dict]] = {name: [] for name, _make in loads}
            for _round in range(max(1, options.rounds)):
                for name, make_request in loads:
                    rounds[name].append(drive(name, make_request, clients=options.clients, seconds=slice_seconds,
                                               ok=answered))
            results = [merge(name, rounds[name]) for name, _make in loads]
        finally:
            server.terminate()
            server.wait(timeout=30)
    reference = results[0]["rate"]
    print(f"\n{options.clients} clients, {options.workers} gunicorn workers, {options.seconds:.0f} s per load "
          f"in {options.rounds} rounds")
    print(f"{'load':<26}{'requests':>9}{'per s':>9}{'median ms':>11}{'p95 ms':>9}{'vs baseline':>13}")
    for row in results:
        print(f"{row['name']:<26}{row['count']:>9}{row['rate']:>9.1f}{row['median'] * 1000:>11.1f}"
              f"{row['p95'] * 1000:>9.1f}{row['rate'] / reference:>12.3f}×")
    spread = [len(part["latencies"]) / part["elapsed"] for part in rounds["baseline (minimal view)"]]
    print(f"baseline per round: {', '.join(f'{r:.0f}/s' for r in spread)}")


if __name__ == "__main__":
    main()
