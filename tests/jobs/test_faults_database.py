"""Dropped database connections and an unreachable database, on a real gunicorn.

* After ``pg_terminate_backend`` of the server's kept connections (those of this test database
  and this server only), every following request succeeds. Before the fix each kept connection
  failed its next request with "cursor already closed": django-tenants' ``SET search_path``
  swallowed the error of the dead connection and the query then ran on a closed cursor.
  ``CONN_HEALTH_CHECKS`` (on by default, ``DATABASE_CONN_HEALTH_CHECKS``) replaces the dead
  connection before the first query of each request.
* ``/healthz`` answers its JSON with 503 and the failed checks when PostgreSQL cannot be
  reached, never a 500.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from tests.celery_worker import BASE_DIR
from tests.jobs.faults import closed_port, free_port
from tests.jobs.helpers import wait_for

APP_NAME = "xaso-faults-web"


def _database_url(port=None) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return (f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}/{db['NAME']}"
            f"?application_name={APP_NAME}")


class Server:
    """gunicorn serving the project on a free port, as the Procfile's web process does."""

    def __init__(self, database_url: str, **env):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="xaso-web-", suffix=".log", delete=False)
        self.env = {**os.environ, "DATABASE_URL": database_url, "DATABASE_CONN_MAX_AGE": "600",
                    "DJANGO_SETTINGS_MODULE": "config.settings", "XASO_DEVELOPMENT": "1", **env}
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--threads", "4", "--timeout", "60"],
            cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.output()}")
            try:
                self.get("/healthz", "localhost")
                return True
            except OSError:
                return False

        wait_for(up, timeout=90, interval=0.3, message="gunicorn")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.unlink(self.log.name)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-6000:]

    def get(self, path: str, host: str) -> tuple[int, bytes, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers.get("Content-Type", "")


def _kept_connections() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # the view is a snapshot per transaction
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s"
            " AND pid <> pg_backend_pid()", [APP_NAME])
        return [row[0] for row in cursor.fetchall()]


def _terminate(pids: list[int]) -> None:
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_requests_after_the_connections_were_terminated_all_succeed(db):
    path, host = "/api/v1/onestop/procedures/", "tule.localhost"  # a commune schema (SET search_path)
    with Server(_database_url()) as server:
        with ThreadPoolExecutor(8) as pool:  # every thread opens and keeps its connection
            warm = list(pool.map(lambda _i: server.get(path, host)[0], range(16)))
        assert set(warm) == {200}, server.output()
        kept = _kept_connections()
        assert kept, "the server keeps its connections (CONN_MAX_AGE)"
        _terminate(kept)
        wait_for(lambda: not set(kept) & set(_kept_connections()), timeout=10, message="the backends to end")
        time.sleep(0.5)
        with ThreadPoolExecutor(8) as pool:
            after = list(pool.map(lambda _i: server.get(path, host)[0], range(24)))
        after += [server.get(path, host)[0] for _ in range(8)]
        assert after == [200] * len(after), (after, server.output())
        status, body, _type = server.get("/healthz", "localhost")
        assert json.loads(body)["checks"]["database"] == {"ok": True}


def test_healthz_answers_503_json_when_the_database_cannot_be_reached(db):
    with Server(_database_url(port=closed_port())) as server:
        answers = {host: server.get("/healthz", host) for host in ("localhost", "tule.localhost")}
        # Pages and the API of a commune host need the database to find their commune: a clear
        # 503 (JSON for the API), never a 500.
        page = server.get("/", "tule.localhost")
        api = server.get("/api/v1/onestop/procedures/", "tule.localhost")
    for host, (status, body, content_type) in answers.items():
        assert status == 503, (host, body)
        assert content_type.startswith("application/json")
        payload = json.loads(body)
        assert payload["status"] == "error"
        assert payload["checks"]["database"]["ok"] is False and payload["checks"]["database"]["error"]
        assert {"database", "worker", "migrations"} <= set(payload["failed"])
    assert page[0] == 503 and page[2].startswith("text/html"), page
    assert api[0] == 503 and json.loads(api[1])["code"] == "unavailable", api


def test_healthz_reports_a_check_that_raises_as_failed(db, client_for, monkeypatch):
    """The worker check reads PostgreSQL too: when it raises, the answer is still the JSON."""
    import jobs.heartbeat

    def broken():
        raise RuntimeError("cursor already closed")

    monkeypatch.setattr(jobs.heartbeat, "last_worker_heartbeat", broken)
    response = client_for("localhost").get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["worker"] == {"ok": False, "last_seen": None, "error": "cursor already closed"}
    assert "worker" in body["failed"]
