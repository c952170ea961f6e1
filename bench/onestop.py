"""Benchmark: the one-stop desk under load on a real server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso python bench/onestop.py --seconds 15 --clients 4

Creates a scratch database (``xaso_bench_onestop``) with one commune, starts gunicorn on it
(``--workers``, sync workers, as the portal is deployed), and drives it over HTTP from
``--clients`` threads, ``--seconds`` per load in all, cut into ``--rounds`` rounds that each run
every load in turn (so that a machine whose load changes meanwhile slows every load alike, and
the ratios to the baseline stay comparable):

* baseline: ``GET /bench/minimal/``, a Django view that returns "ok" through the whole
  middleware stack (host routing to the commune's schema, sessions, language);
* intake: ``POST /api/v1/onestop/dossiers/`` by a one-stop officer in a session confirmed by the
  second factor (logged in through the login and code pages, as in a browser), a certified copy
  (CT-01) received at once: the dossier code drawn under a row lock, the appointment from the
  working-day calendar, the checklist, form 1 queued as a job (the answer says where its PDF
  will be), the SMS job queued;
* lookup: ``POST /api/v1/onestop/lookup/`` with a dossier code and the last four digits of the
  phone, anonymous, throttled in PostgreSQL per address (the limit set out of reach here).

Then form 1 of some of the dossiers, asked for where the intake's answer said, one after the
other (no worker runs: the request renders it, as when the officer prints it at once).

Prints requests per second, median and 95th-percentile latency, and each load's ratio to the
baseline measured in the same rounds. ``--profile N`` instead profiles N intakes and 10×N
lookups in process (cProfile, queries counted) and prints where the time goes.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

import requests
from _scratch import drive, empty_queue, free_port, log_in, merge, scratch_database, start_gunicorn, summary

SCRATCH = "xaso_bench_onestop"
HOST = "tule.bench.test"


OFFICER_PASSWORD = "Bench-mat-khau-2026!"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--forms", type=int, default=10, help="form 1 PDFs asked for after the loads")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N intakes in process instead")
    options = parser.parse_args()
    os.environ.setdefault("XASO_BENCH_QUEUE", f"xaso-bench-onestop-{uuid.uuid4().hex[:8]}")
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = os.environ["XASO_BENCH_QUEUE"]  # this process's messages too
    try:
        with scratch_database(SCRATCH) as url:
            run(url, options)
    finally:
        empty_queue(os.environ["XASO_BENCH_QUEUE"])


def _setup(options):
    """The commune, its officer (password hashed as the server hashes it) and CT-01's checklist."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from communes.models import Membership, Role, User
    from communes.services import create_commune, load_administrative_units
    from onestop.models import Procedure

    load_administrative_units(with_legacy=False)
    commune, _seconds = create_commune(code="04630", name="Tú Lệ", domain=HOST, province_code="15")
    officer = User.objects.create_user("bench_officer", password="x", full_name="Lường Thị Thu")
    Membership.objects.create(user=officer, commune=commune, role=Role.ONESTOP_OFFICER)
    # The server hashes with MD5 (onestop_server: the benchmark measures intake, not hashing).
    from django.contrib.auth.hashers import MD5PasswordHasher

    hasher = MD5PasswordHasher()
    officer.password = hasher.encode(OFFICER_PASSWORD, hasher.salt())
    officer.save(update_fields=["password"])
    with schema_context(commune.schema_name):
        procedure = Procedure.objects.get(code="CT-01", is_current=True)
        checklist = {str(r.pk): True for r in procedure.requirements.filter(required=True)}
    connection.close()
    return commune, officer, checklist


def intake_body(checklist) -> dict:
    return {"procedure": "CT-01", "applicant_name": "Lò Thị Duyên", "applicant_phone": "0912345678",
            "checklist": checklist, "page_count": 3, "copy_count": 2, "submit_token": str(uuid.uuid4())}


def run(url: str, options) -> None:
    import tempfile

    commune, officer, checklist = _setup(options)
    if options.profile:
        profile(commune, officer, checklist, options.profile)
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as media:
        server = start_gunicorn(url, port, workers=options.workers, media=media, settings_module="onestop_server", host=HOST)
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Host": HOST}
            cookies, csrf = log_in(base, headers, officer, OFFICER_PASSWORD)
            api_headers = {**headers, "X-CSRFToken": csrf, "Referer": f"{base}/"}
            codes: list[str] = []
            pending: list[str] = []

            def baseline(session):
                return session.get(f"{base}/bench/minimal/", headers=headers, timeout=30)

            def intake(session):
                response = session.post(f"{base}/api/v1/onestop/dossiers/", headers=api_headers, cookies=cookies,
                                        timeout=60, json=intake_body(checklist))
                if response.status_code == 201:
                    body = response.json()
                    codes.append(body["code"])
                    pending.extend(f["url"] for f in body.get("pending_forms", []))
                return response

            counter = iter(range(10**9))

            def lookup(session):
                code = codes[next(counter) % len(codes)]
                return session.post(f"{base}/api/v1/onestop/lookup/", headers=headers, timeout=30,
                                    json={"code": code, "phone_last4": "5678"})

            loads = [("baseline (minimal view)", baseline), ("dossier intake (API)", intake),
                     ("status lookup (API)", lookup)]
            drive("warm-up", baseline, clients=options.clients, seconds=2)
            drive("warm-up", intake, clients=1, seconds=1)
            slice_seconds = options.seconds / max(1, options.rounds)
            rounds: dict[str, list[dict]] = {name: [] for name, _make in loads}
            for _round in range(max(1, options.rounds)):
                for name, make_request in loads:
                    rounds[name].append(drive(name, make_request, clients=options.clients, seconds=slice_seconds))
            results = [merge(name, rounds[name]) for name, _make in loads]
            forms = first_forms(base, pending[-options.forms:], headers, cookies) if options.forms and pending else None
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
    spread = [r["rate"] for r in rounds["baseline (minimal view)"]]
    print(f"baseline per round: {', '.join(f'{r:.0f}/s' for r in spread)}")
    if forms:
        print(f"form 1 asked for where the answer said, one at a time ({forms['count']}): median "
              f"{forms['median'] * 1000:.0f} ms, p95 {forms['p95'] * 1000:.0f} ms (rendered in that request)")


def first_forms(base: str, urls: list[str], headers: dict, cookies: dict) -> dict:
    """GET each form 1 where the intake's answer said it would be (on the commune's host, sent to
    this server); every answer must be the PDF."""
    from urllib.parse import urlsplit

    session = requests.Session()
    latencies = []
    for answer_url in urls:
        parts = urlsplit(answer_url)
        url = f"{base}{parts.path}"
        started = time.perf_counter()
        response = session.get(url, headers=headers, cookies=cookies, timeout=60)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200 or not response.content.startswith(b"%PDF"):
            raise SystemExit(f"form 1 at {url}: {response.status_code} {response.text[:200]}")
    _mean, median, p95 = summary(latencies)
    return {"count": len(latencies), "median": median, "p95": p95}


def profile(commune, officer, checklist, count: int) -> None:
    """Where an intake and a lookup spend their time, in process: cProfile over ``count``
    intakes and 10×``count`` lookups through Django's test client (the whole middleware stack),
    with the queries counted."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.conftest import log_in as force_log_in

    import tempfile

    media = tempfile.mkdtemp(prefix="xaso-bench-media-")
    overrides = override_settings(XASO_LOOKUP_RATE="100000000/hour", XASO_LOOKUP_MAX_FAILURES=100000000,
                                  ALLOWED_HOSTS=["*"], MEDIA_ROOT=media)
    overrides.enable()
    officer_client = Client(HTTP_HOST=HOST)
    force_log_in(officer_client, officer, second_factor=True)
    visitor = Client(HTTP_HOST=HOST)
    codes = []

    def intake():
        response = officer_client.post("/api/v1/onestop/dossiers/", intake_body(checklist), content_type="application/json")
        assert response.status_code == 201, response.content[:300]
        codes.append(response.json()["code"])

    def lookup():
        response = visitor.post("/api/v1/onestop/lookup/", {"code": codes[0], "phone_last4": "5678"},
                                content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    for name, call, n in (("intake", intake, count), ("lookup", lookup, 10 * count)):
        call()
        with CaptureQueriesContext(connection) as captured:
            call()
        statements = [q["sql"] for q in captured.captured_queries]
        sets = sum(1 for sql in statements if sql.startswith("SET search_path"))
        started = time.perf_counter()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            call()
        profiler.disable()
        elapsed = (time.perf_counter() - started) / n
        stats = pstats.Stats(profiler, stream=io.StringIO())
        database = sum(v[3] for k, v in stats.stats.items() if "psycopg2.extensions" in k[2])
        print(f"\n{name}: {elapsed * 1000:.1f} ms a request under the profiler; {len(statements)} "
              f"statements ({sets} of them SET search_path); waiting on PostgreSQL {database / n * 1000:.1f} ms")
        out = io.StringIO()
        # Where the time is spent: the functions by their own time, then the project's by total.
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"/(onestop|core|jobs)/", 12)
        print("\n".join(line for line in out.getvalue().splitlines()
                        if line.strip() and ("/" in line or "{" in line or "ncalls" in line)))
    overrides.disable()
    import shutil

    shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
