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
