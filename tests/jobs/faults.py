"""Fixtures of the fault tests: a Redis server of the test's own (on a free port, so that it can
be stopped and started without touching the machine's Redis), the Celery producer of this
process pointed at it, and a worker started with celery's default options (gossip, mingle and events on: more broker
connections and more paths through a reconnect than the Procfile's worker, which turns them off).

Import the fixtures into a test module: ``from tests.jobs.faults import fault_broker, …``.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid

import pytest
import redis

from tests.celery_worker import WorkerProcess, app_target, point_app  # noqa: F401  (the fault tests import them from here)
from tests.jobs.helpers import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound a moment ago, then released)."""
    return free_port()


class RedisServer:
    """``redis-server`` on a port of its own. It saves its data when stopped (SIGTERM) and loads
    it when started again, as a restarted production Redis with persistence does."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="xaso-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing (apt-get install redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "3600 1",
             "--appendonly", "no", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers():
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, timeout=10, interval=0.05, message=f"redis-server on port {self.port}")
        client.close()
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # saves, then exits
            self.proc.wait(timeout=15)
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# Options of the worker in the Procfile (after the restart loop).
PROCFILE_WORKER_FLAGS = ["--without-gossip", "--without-mingle", "--without-heartbeat"]


class FaultWorker(WorkerProcess):
    """A worker started with ``flags`` (default: none, celery's defaults), not the test suite's
    usual ``--without-*`` options."""

    def __init__(self, env: dict, queue: str, flags=()):
        super().__init__(env, queue, flags)

    def start(self, timeout: float = 60.0):
        return super().start(timeout)


@pytest.fixture(scope="module")
def fault_redis():
    server = RedisServer().start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def fault_broker(fault_redis, celery_broker):
    """This process publishes to the module's own Redis, on a queue of its own."""
    from config.celery import app

    saved = app_target(app)
    queue = f"xaso-faults-{uuid.uuid4().hex[:8]}"
    point_app(app, fault_redis.url, queue)
    yield {"url": fault_redis.url, "queue": queue, "server": fault_redis}
    point_app(app, *saved)


@pytest.fixture(scope="module")
def fault_media(tmp_path_factory):
    return tmp_path_factory.mktemp("faults-media")


@pytest.fixture(scope="module")
def fault_worker(worker_env, fault_broker, fault_media, django_db_blocker):
    env = {**worker_env, "CELERY_BROKER_URL": fault_broker["url"], "REDIS_URL": fault_broker["url"],
           "CELERY_TASK_DEFAULT_QUEUE": fault_broker["queue"], "XASO_MEDIA_ROOT": str(fault_media)}
    worker = FaultWorker(env, fault_broker["queue"])
    with django_db_blocker.unblock():
        worker.start()
    yield worker
    worker.stop()
    with django_db_blocker.unblock():
        from jobs.models import WorkerHeartbeat

        WorkerHeartbeat.objects.filter(worker_name=worker.name).delete()
    os.unlink(worker.log.name)


@pytest.fixture
def broker_up(fault_broker):
    """The module's Redis is running at the start and at the end of the test."""
    server = fault_broker["server"]
    if server.proc is None:
        server.start()
    yield server
    if server.proc is None:
        server.start()



class MuteServer:
    """A TCP server that accepts connections and never answers: a Redis whose link dropped or
    whose process is paused, as a client sees it (a stopped one refuses at once instead)."""

    def __init__(self):
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)  # the kernel completes the handshakes; nobody reads
        self.port = self._socket.getsockname()[1]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def mute_shared_cache(settings):
    """The shared cache (``caches["shared"]``) points at a server that never answers."""
    import copy

    server = MuteServer()
    caches = copy.deepcopy(settings.CACHES)
    caches["shared"]["LOCATION"] = server.url
    settings.CACHES = caches
    yield server
    server.close()
