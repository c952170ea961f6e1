"""Benchmark: the one-stop desk under load on a real server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso python bench/onestop.py --seconds 15 --clients 4

Creates a scratch database (``xaso_bench_onestop``) with one commune, starts gunicorn on it
(``--workers``, sync workers, as the portal is deployed), and drives it over HTTP from
``--clients`` threads for ``--seconds`` each:

* baseline: ``GET /bench/minimal/``, a Django view that returns "ok" through the whole
  middleware stack (host routing to the commune's schema, sessions, language);
* intake: ``POST /api/v1/onestop/dossiers/`` by a one-stop officer in a session confirmed by the
  second factor (logged in through the login and code pages, as in a browser), a certified copy
  (CT-01) received at once: the dossier code drawn under a row lock, the appointment from the
  working-day calendar, the checklist, form 1 rendered as a PDF (two QR codes and the VietQR)
  and written to storage, the SMS and e-mail jobs queued;
* lookup: ``POST /api/v1/onestop/lookup/`` with a dossier code and the last four digits of the
  phone, anonymous, throttled in Redis per address (the limit set out of reach here).

Prints requests per second, median and 95th-percentile latency, and each figure's ratio to
the baseline measured in the same run.
"""
from __future__ import annotations

import argparse
import threading
import time
import uuid

import requests
from _scratch import free_port, scratch_database, start_gunicorn, summary

SCRATCH = "xaso_bench_onestop"
HOST = "tule.bench.test"


OFFICER_PASSWORD = "Bench-mat-khau-2026!"


def log_in(base: str, headers: dict, officer) -> tuple[dict, str]:
    """Log the officer in through the login page and the authenticator-app page (enrolling the
    app the first time, as an official does), and return the session's cookies and CSRF token."""
    import re

    import pyotp
    from django.db import connection

    from communes.second_factor import device_for, device_secret

    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", headers=headers, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(f"{base}/accounts/login/", headers={**headers, "Referer": f"{base}/accounts/login/"},
                          timeout=30, allow_redirects=False,
                          data={"csrfmiddlewaretoken": token, "username": officer.username, "password": OFFICER_PASSWORD})
    if answer.status_code != 302 or "/accounts/2fa/" not in answer.headers.get("Location", ""):
        raise SystemExit(f"The officer's password was not taken: {answer.status_code} {answer.text[:300]}")
    page = session.get(f"{base}/accounts/2fa/", headers=headers, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    code = pyotp.TOTP(device_secret(device_for(officer))).now()
    connection.close()
    answer = session.post(f"{base}/accounts/2fa/", headers={**headers, "Referer": f"{base}/accounts/2fa/"},
                          timeout=30, data={"csrfmiddlewaretoken": token, "code": code}, allow_redirects=False)
    if answer.status_code != 302 or "/accounts/" in answer.headers.get("Location", "/accounts/"):
        raise SystemExit(f"The officer could not log in: {answer.status_code} {answer.headers.get('Location')}")
    cookies = session.cookies.get_dict()
    return cookies, cookies["csrftoken"]


def drive(name: str, make_request, *, clients: int, seconds: float) -> dict:
    """Run ``make_request(session)`` from ``clients`` threads for ``seconds``; every answer must be 2xx."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker():
        session = requests.Session()
        mine = []
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = make_request(session)
            mine.append(time.perf_counter() - started)
            if not 200 <= response.status_code < 300:
                with lock:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                break
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{name}: {errors[0]}")
    _mean, median, p95 = summary(latencies)
    return {"name": name, "count": len(latencies), "rate": len(latencies) / elapsed, "median": median, "p95": p95}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    with scratch_database(SCRATCH) as url:
        run(url, options)


def run(url: str, options) -> None:
    import tempfile

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

    port = free_port()
    with tempfile.TemporaryDirectory() as media:
        server = start_gunicorn(url, port, workers=options.workers, media=media, settings_module="onestop_server", host=HOST)
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Host": HOST}
            cookies, csrf = log_in(base, headers, officer)
            api_headers = {**headers, "X-CSRFToken": csrf, "Referer": f"{base}/"}
            codes: list[str] = []

            def baseline(session):
                return session.get(f"{base}/bench/minimal/", headers=headers, timeout=30)

            def intake(session):
                response = session.post(f"{base}/api/v1/onestop/dossiers/", headers=api_headers, cookies=cookies, timeout=60, json={
                    "procedure": "CT-01", "applicant_name": "Lò Thị Duyên", "applicant_phone": "0912345678",
                    "checklist": checklist, "page_count": 3, "copy_count": 2, "submit_token": str(uuid.uuid4()),
                })
                if response.status_code == 201:
                    codes.append(response.json()["code"])
                return response

            counter = iter(range(10**9))

            def lookup(session):
                code = codes[next(counter) % len(codes)]
                return session.post(f"{base}/api/v1/onestop/lookup/", headers=headers, timeout=30,
                                    json={"code": code, "phone_last4": "5678"})

            drive("warm-up", baseline, clients=options.clients, seconds=2)
            results = [drive("baseline (minimal view)", baseline, clients=options.clients, seconds=options.seconds)]
            results.append(drive("dossier intake (API)", intake, clients=options.clients, seconds=options.seconds))
            results.append(drive("status lookup (API)", lookup, clients=options.clients, seconds=options.seconds))
            results.append(drive("baseline again", baseline, clients=options.clients, seconds=options.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
    reference = (results[0]["rate"] + results[-1]["rate"]) / 2
    print(f"\n{options.clients} clients, {options.workers} gunicorn workers, {options.seconds:.0f} s per load")
    print(f"{'load':<26}{'requests':>9}{'per s':>9}{'median ms':>11}{'p95 ms':>9}{'vs baseline':>13}")
    for row in results:
        print(f"{row['name']:<26}{row['count']:>9}{row['rate']:>9.1f}{row['median'] * 1000:>11.1f}"
              f"{row['p95'] * 1000:>9.1f}{row['rate'] / reference:>12.3f}×")


if __name__ == "__main__":
    main()
