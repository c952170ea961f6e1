"""Fixtures for the tests of durable jobs (the jobs, notifications and radio tests): a real Celery
worker (subprocess) on the test database, a Redis database of its own, and a local HTTP server
playing the SMS gateway. They are registered once, in ``tests/conftest.py``: a second copy of a
session fixture would reset the Celery app under the first one's feet.

The worker is another process: it cannot see rows inside a test's rolled-back transaction, so
these tests commit (``live_db``) and delete what they created. (``transactional_db`` is not used:
its flush would empty the public tables that hold the session's communes.)
"""
from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db import connection
from django_tenants.utils import schema_context

from tests.jobs.helpers import TULE_SCHEMA, wait_for

BASE_DIR = Path(__file__).resolve().parents[1]
# Each test process (xdist worker) has a Redis database of its own, so that a test that empties
# its broker's database (Redis losing everything) never takes another process's messages.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
REDIS_DB = int(os.environ.get("XASO_TEST_REDIS_DB", "5")) + (int(_WORKER[2:]) if _WORKER[2:].isdigit() else 0)
REDIS_BASE = os.environ.get("XASO_TEST_REDIS_BASE", "redis://127.0.0.1:6379")
GATEWAY_TOKEN = "test-gateway-token"


# --- the fake SMS gateway -----------------------------------------------------------------

class FakeGateway:
    """An SMS provider that honours Idempotency-Key: a repeated key is a duplicate, not a
    second effect (the message reaches the phone once).

    Configurable per test: ``deduplicate = False`` plays a provider that delivers every call (a
    repeated key reaches the phone again); ``answer_status = True`` answers ``GET /sms/<key>``
    (200 with the message id when it took the message, 404 when not); ``on_request(key)`` runs
    after the message is taken and before the answer (to cut the caller's database connection
    at that moment, say).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.delay = 0.0
            self.requests: list[tuple[float, str, str]] = []  # (time, key, to)
            self.effects: dict[str, str] = {}  # key -> phone
            self.effect_counts: Counter = Counter()
            self.duplicates: Counter = Counter()
            self.failures: dict[str, int] = {}  # key prefix -> 503s still to give
            self.unauthorized = 0
            self.in_flight = 0
            self.deduplicate = True
            self.answer_status = False
            self.lookups: list[str] = []
            self.on_request = None

    def fail_first(self, prefix: str, times: int):
        with self.lock:
            self.failures[prefix] = times

    def handle(self, key: str, to: str, authorization: str) -> tuple[int, dict]:
        if authorization != f"Bearer {GATEWAY_TOKEN}":
            with self.lock:
                self.unauthorized += 1
            return 401, {"error": "unauthorized"}
        if not key:
            return 400, {"error": "Idempotency-Key required"}
        with self.lock:
            self.requests.append((time.monotonic(), key, to))
            self.in_flight += 1
        try:
            if self.delay:
                time.sleep(self.delay)
            with self.lock:
                for prefix, remaining in self.failures.items():
                    if key.startswith(prefix) and remaining > 0:
                        self.failures[prefix] = remaining - 1
                        return 503, {"error": "try later"}
                duplicate = key in self.effects
                if duplicate and self.deduplicate:
                    self.duplicates[key] += 1
                    return 200, {"message_id": f"m-{key}", "duplicate": True}
                self.effects[key] = to
                self.effect_counts[key] += 1
                hook = self.on_request
            if hook is not None:
                hook(key)
            return 200, {"message_id": f"m-{key}"}
        finally:
            with self.lock:
                self.in_flight -= 1

    def status(self, key: str, authorization: str) -> tuple[int, dict]:
        """``GET /sms/<key>``: what happened to the message sent with this key."""
        if authorization != f"Bearer {GATEWAY_TOKEN}":
            return 401, {"error": "unauthorized"}
        with self.lock:
            if not self.answer_status:
                return 501, {"error": "no status lookup"}
            self.lookups.append(key)
            if key in self.effects:
                return 200, {"message_id": f"m-{key}", "status": "accepted"}
        return 404, {"error": "unknown key"}

    def effects_for(self, job_key: str) -> dict[str, str]:
        with self.lock:
            return {k: v for k, v in self.effects.items() if k.startswith(job_key + ":")}

    def requests_for(self, job_key: str):
        with self.lock:
            return [r for r in self.requests if r[1].startswith(job_key + ":")]


@pytest.fixture(scope="session")
def gateway_server():
    gateway = FakeGateway()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                body = {}
            status, payload = gateway.handle(
                self.headers.get("Idempotency-Key", ""), str(body.get("to", "")),
                self.headers.get("Authorization", ""),
            )
            self._answer(status, payload)

        def do_GET(self):
            key = urllib.parse.unquote(self.path.rstrip("/").rpartition("/")[2])
            self._answer(*gateway.status(key, self.headers.get("Authorization", "")))

        def _answer(self, status, payload):
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the worker died while we answered
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    yield gateway
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway(gateway_server):
    gateway_server.reset()
    yield gateway_server
    gateway_server.reset()


# --- Celery: producer in this process, worker as a subprocess ---------------------------

@pytest.fixture(scope="session")
def celery_broker():
    """A Redis database and a queue of our own; this process sends its messages there."""
    from config.celery import app

    url = f"{REDIS_BASE}/{REDIS_DB}"
    queue = f"xaso-test-{uuid.uuid4().hex[:10]}"
    saved = app_target(app)
    point_app(app, url, queue)
    client = redis.Redis.from_url(url)
    yield {"url": url, "queue": queue, "redis": client}
    # Leave nothing behind: our queue, its bindings, and messages a killed worker left unacked.
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, payload in client.hgetall("unacked").items():
        if queue.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    point_app(app, *saved)


def app_target(app) -> tuple[str, str]:
    """(broker address, default queue) this process publishes to."""
    return app.conf.broker_write_url or app.conf.broker_url, app.conf.task_default_queue


def point_app(app, broker_url: str, queue: str) -> None:
    """Publish to ``broker_url`` on ``queue`` from now on. The app reads its settings from
    Django's under the CELERY_ namespace: once a namespaced key is set, a plain assignment such as
    ``app.conf.task_default_queue = …`` is no longer seen, so every change goes through here. The
    producers and the queue the app worked out at its first message are cached: all are reset."""
    from kombu import pools

    _reset_producers(app)
    pools.reset()  # kombu keeps producer pools per connection, for the whole process
    for cached in ("default_queue", "queues", "router"):
        app.amqp.__dict__.pop(cached, None)
    app.conf.update(CELERY_BROKER_URL=broker_url, CELERY_BROKER_WRITE_URL=broker_url,
                    CELERY_BROKER_READ_URL=broker_url, CELERY_TASK_DEFAULT_QUEUE=queue)


@contextmanager
def queue_of_its_own(app, queue: str):
    """Publish on ``queue`` (same broker) inside the block, and on the queue before it after."""
    saved = app_target(app)
    point_app(app, saved[0], queue)
    try:
        yield queue
    finally:
        point_app(app, *saved)


def _reset_producers(app) -> None:
    """Close the connections to the old broker, and forget the producer pool built on them: a
    message sent before this fixture (by an earlier test) would otherwise leave the app
    publishing through a closed pool."""
    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


class WorkerProcess:
    """A Celery worker subprocess on ``queue``, started with ``flags`` (by default the options the
    suite's workers use)."""

    FLAGS = ("--without-mingle", "--without-gossip", "--without-heartbeat")

    def __init__(self, env: dict, queue: str, flags=None):
        self.env, self.queue = env, queue
        self.flags = list(self.FLAGS if flags is None else flags)
        self.proc: subprocess.Popen | None = None
        self.name = ""
        self.log = tempfile.NamedTemporaryFile(prefix="xaso-worker-", suffix=".log", delete=False)

    def start(self, timeout: float = 30.0):
        from jobs.models import WorkerHeartbeat

        prefix = f"jobs-test-{uuid.uuid4().hex[:8]}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "2",
             *self.flags, "-Q", self.queue, "-n", f"{prefix}@%h", "-l", "INFO"],
            cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"The worker exited ({self.proc.returncode}):\n{self.output()}")
            with schema_context("public"):
                return WorkerHeartbeat.objects.filter(worker_name__startswith=f"{prefix}@").values_list(
                    "worker_name", flat=True).first()

        self.name = wait_for(ready, timeout=timeout, interval=0.1, message="the Celery worker")
        return self

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-8000:]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Warm shutdown (SIGTERM to the whole process group)."""
        if self.running:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def kill(self):
        """Sudden death: SIGKILL to the worker and its pool processes."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self.proc = None


def require_test_database():
    name = connection.settings_dict["NAME"]
    if not name.startswith("test_"):
        pytest.fail(f"Refusing to run against {name!r}: select at least one test that uses the `db` "
                    "fixture so that pytest-django creates the test database.")


@pytest.fixture(scope="session")
def worker_env(django_db_setup, celery_broker, gateway_server):
    require_test_database()
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = os.environ.copy()
    env.update({
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": celery_broker["url"],
        "REDIS_URL": celery_broker["url"],
        "CELERY_TASK_DEFAULT_QUEUE": celery_broker["queue"],
        "XASO_JOB_LEASE_SECONDS": "3",
        "XASO_JOB_BACKOFF_BASE": "0.2",
        "XASO_WORKER_HEARTBEAT_SECONDS": "5",
        "XASO_SMS_BACKEND": "notifications.gateways.HttpGateway",
        "XASO_SMS_URL": gateway_server.url,
        "XASO_SMS_TOKEN": GATEWAY_TOKEN,
        "XASO_SMS_TIMEOUT": "5",
        "XASO_SMS_DEDUPLICATES": "1",  # the fake gateway drops a repeated key (unless a test says not)
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture(scope="session")
def celery_worker(worker_env, celery_broker, django_db_blocker):
    """A running worker for the session; tests may stop, kill and restart it."""
    with django_db_blocker.unblock():
        worker = WorkerProcess(worker_env, celery_broker["queue"]).start()
    yield worker
    worker.stop()
    with django_db_blocker.unblock():
        from jobs.models import WorkerHeartbeat

        WorkerHeartbeat.objects.filter(worker_name__startswith="jobs-test-").delete()
    os.unlink(worker.log.name)


@pytest.fixture
def worker(celery_worker, django_db_blocker):
    """The session worker, running (restarted if a previous test left it stopped)."""
    if not celery_worker.running:
        with django_db_blocker.unblock():
            celery_worker.start()
    return celery_worker


# --- committed data --------------------------------------------------------------------------

@pytest.fixture
def live_db(django_db_setup, django_db_blocker):
    """Database access in autocommit (other processes see the rows); cleans up after itself."""
    from communes.models import Membership, User
    from notifications.models import Notification

    require_test_database()
    with django_db_blocker.unblock():
        with schema_context(TULE_SCHEMA):
            last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        users_before = set(User.objects.values_list("pk", flat=True))
        try:
            yield
        finally:
            connection.set_schema_to_public()
            with schema_context(TULE_SCHEMA):
                Notification.objects.filter(pk__gt=last).delete()
            new_users = User.objects.exclude(pk__in=users_before)
            Membership.objects.filter(user__in=new_users).delete()
            from django.contrib.sessions.models import Session
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user__in=new_users).delete()
            from django.apps import apps

            for label in ("communes.TotpDevice",):  # what a login may have started for a new user
                try:
                    apps.get_model(label).objects.filter(user__in=new_users).delete()
                except LookupError:
                    pass
            for session in Session.objects.all():
                if session.get_decoded().get("_auth_user_id") in {str(pk) for pk in new_users.values_list("pk", flat=True)}:
                    session.delete()
            # No ORM cascade: it would visit the tenant apps' history tables from the public schema.
            new_users._raw_delete(new_users.db)


@pytest.fixture
def tule_live(live_db):
    from communes.models import Commune

    return Commune.objects.get(schema_name=TULE_SCHEMA)
