"""Shared by the benchmarks: a scratch database next to the one in DATABASE_URL.

The database named in DATABASE_URL is never touched: the scratch one is dropped, created,
migrated, used and dropped again.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def scratch_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def admin_sql(url: str, *statements: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password, dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    conn.close()


def manage(url: str, *args: str, **env: str) -> float:
    """Run a manage.py command against the scratch database; return its seconds."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args, "--skip-checks", "--noinput", "-v", "0"],
        cwd=ROOT, check=True, env={**os.environ, "DATABASE_URL": url, **env},
    )
    return time.perf_counter() - started


def summary(values: list[float]) -> tuple[float, float, float]:
    """Mean, median and 95th percentile."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.mean(ordered), statistics.median(ordered), p95


@contextlib.contextmanager
def scratch_database(name: str):
    """Point Django at a fresh scratch database with the shared migrations applied; yield its URL."""
    original = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xaso")
    url = scratch_url(original, name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        print(f"Scratch database {name}: shared migrations …", flush=True)
        manage(url, "migrate_schemas", "--shared")
        import django

        django.setup()
        yield url
    finally:
        if "django" in sys.modules and "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, port: int, *, workers: int, media: str, settings_module: str, host: str,
                   ready_path: str = "/bench/minimal/") -> subprocess.Popen:
    """gunicorn (sync workers, as deployed) on the scratch database, with the benchmark's settings
    module from ``bench/``; returns once ``ready_path`` answers on ``host``."""
    import requests

    bench_dir = Path(__file__).resolve().parent
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": settings_module, "XASO_MEDIA_ROOT": media,
           "PYTHONPATH": f"{bench_dir}{os.pathsep}{ROOT}", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"], cwd=ROOT, env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}{ready_path}", headers={"Host": host}, timeout=10).ok:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("The server did not start")


# --- driving a server from client threads ---------------------------------------------------------

def succeeded(status: int) -> bool:
    return 200 <= status < 300


def drive(name: str, make_request, *, clients: int, seconds: float, ok=succeeded) -> dict:
    """Run ``make_request(session)`` from ``clients`` threads (a ``requests.Session`` each) for
    ``seconds``; an answer whose status ``ok`` refuses stops the benchmark with its text."""
    import threading

    import requests

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
            if not ok(response.status_code):
                with lock:
                    errors.append(f"{response.status_code} {response.url} {response.text[:300]}")
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
    return {"name": name, "count": len(latencies), "rate": len(latencies) / elapsed, "median": median, "p95": p95,
            "latencies": latencies, "elapsed": elapsed}


def merge(name: str, parts: list[dict]) -> dict:
    """One load's figures over its rounds."""
    latencies = [x for part in parts for x in part["latencies"]]
    elapsed = sum(part["elapsed"] for part in parts)
    _mean, median, p95 = summary(latencies)
    return {"name": name, "count": len(latencies), "rate": len(latencies) / elapsed, "median": median, "p95": p95}


def empty_queue(queue: str) -> None:
    """Drop the messages the server left in the benchmark's Celery queue (no worker ran)."""
    import redis

    client = redis.Redis.from_url(os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL")
                                  or "redis://127.0.0.1:6379/0")
    try:
        client.delete(queue, f"_kombu.binding.{queue}")
    except redis.RedisError:
        pass


def log_in(base: str, headers: dict, user, password: str) -> tuple[dict, str]:
    """Log ``user`` in through the login page and the authenticator-app page (enrolling the app
    the first time, as an official does); the session's cookies and CSRF token."""
    import re

    import pyotp
    import requests
    from django.db import connection

    from communes.second_factor import device_for, device_secret

    def token_of(page) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", headers=headers, timeout=30)
    answer = session.post(f"{base}/accounts/login/", headers={**headers, "Referer": f"{base}/accounts/login/"},
                          timeout=30, allow_redirects=False,
                          data={"csrfmiddlewaretoken": token_of(page), "username": user.username, "password": password})
    if answer.status_code != 302 or "/accounts/2fa/" not in answer.headers.get("Location", ""):
        raise SystemExit(f"{user.username}'s password was not taken: {answer.status_code} {answer.text[:300]}")
    page = session.get(f"{base}/accounts/2fa/", headers=headers, timeout=30)
    code = pyotp.TOTP(device_secret(device_for(user))).now()
    connection.close()
    answer = session.post(f"{base}/accounts/2fa/", headers={**headers, "Referer": f"{base}/accounts/2fa/"},
                          timeout=30, data={"csrfmiddlewaretoken": token_of(page), "code": code}, allow_redirects=False)
    if answer.status_code != 302 or "/accounts/" in answer.headers.get("Location", "/accounts/"):
        raise SystemExit(f"{user.username} could not log in: {answer.status_code} {answer.headers.get('Location')}")
    cookies = session.cookies.get_dict()
    return cookies, cookies["csrftoken"]
