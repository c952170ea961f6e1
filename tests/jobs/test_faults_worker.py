"""The worker rides out a broker outage: its Redis stops for ten seconds while it runs jobs, and
it is still alive afterwards and finishes every job, each once.

With celery 5.7.0 as it comes, the worker could exit on such an outage ("Unrecoverable error:
AttributeError('NoneType' object has no attribute 'hostname')"), in about one outage out of
four under load: after collecting the lost connection it closed it again, and closing the
channel that was still polling and held the running jobs' unacknowledged messages rebuilt a
Redis pool from the dropped transport. ``config.celery.Consumer`` guards that clean-up. The
worker here runs with celery's default options, as the Procfile's worker did when the fault was
seen; the Procfile also restarts a worker that exits (bin/restart-on-exit).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from notifications.models import Notification
from notifications.services import create_notification
from tests.jobs.faults import (  # noqa: F401  (fixtures)
    PROCFILE_WORKER_FLAGS, broker_up, fault_broker, fault_media, fault_redis, fault_worker,
)
from tests.jobs.helpers import TULE_SCHEMA, assert_exactly_once, job_state, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.xdist_group("celery")]
BASE_DIR = Path(__file__).resolve().parents[2]


def test_the_procfile_restarts_a_worker_that_exits_and_starts_it_as_tested(db):
    lines = dict(line.split(":", 1) for line in (BASE_DIR / "Procfile").read_text().splitlines() if ":" in line)
    worker = lines["worker"].split()
    assert worker[0] == "bin/restart-on-exit", worker
    assert worker[1:5] == ["celery", "-A", "config", "worker"]
    assert set(PROCFILE_WORKER_FLAGS) <= set(worker)
    loop = subprocess.run(
        ["bin/restart-on-exit", sys.executable, "-c", "import sys; print('ran'); sys.exit(3)"],
        cwd=BASE_DIR, env={**os.environ, "XASO_RESTART_DELAY": "0.1", "XASO_RESTART_LIMIT": "3"},
        capture_output=True, text=True, timeout=30,
    )
    assert loop.stdout.count("ran") == 3, (loop.stdout, loop.stderr)  # run again after each exit
    assert "exited with status 3" in loop.stderr


def test_the_consumer_reconnects_when_closing_the_lost_connection_fails(db):
    """The step that killed the worker, with the connection in the state 5.7.0 leaves it in:
    its close raises the AttributeError. The consumer logs it and goes on to reconnect."""
    from types import SimpleNamespace

    from config.celery import Consumer, app

    class CollectedConnection:
        connection_errors = channel_errors = ()
        closed = 0

        def collect(self, socket_timeout=None):
            pass

        def close(self):
            self.closed += 1
            raise AttributeError("'NoneType' object has no attribute 'hostname'")

    assert app.conf.worker_consumer == "config.celery:Consumer"
    consumer = Consumer.__new__(Consumer)
    lost = CollectedConnection()
    consumer.__dict__.update(app=app, connection=lost, pool=SimpleNamespace(num_processes=2), qos_global=False, prefetch_multiplier=1,
                             max_prefetch_count=2, initial_prefetch_count=2)
    Consumer.on_connection_error_after_connected(consumer, ConnectionError("Connection closed by server."))
    assert lost.closed == 1 and consumer.connection is None  # closed (tried), and left for a new one


def test_the_worker_survives_a_redis_outage_and_finishes_each_job_once(live_db, gateway, fault_worker, broker_up):
    gateway.delay = 0.8  # each message takes a while: the jobs are running when Redis stops
    batches = [[f"09130{n:02d}{i:03d}" for i in range(5)] for n in range(4)]
    with schema_context(TULE_SCHEMA):
        jobs = [create_notification(channel="sms", message="Lịch họp thôn tháng 12.", recipients=numbers)
                for numbers in batches]

    def running():
        if not fault_worker.running:
            raise AssertionError(f"The worker exited:\n{fault_worker.output()}")
        return sum(job_state(Notification, job.pk)["state"] == "running" for job in jobs) >= 2

    try:
        wait_for(running, timeout=30, message="two jobs running")
    except AssertionError:
        raise AssertionError(fault_worker.output()) from None
    broker_up.stop()
    time.sleep(10)
    assert fault_worker.running, fault_worker.output()
    broker_up.start()

    def finished():
        states = [job_state(Notification, job.pk)["state"] for job in jobs]
        if not fault_worker.running:
            raise AssertionError(f"The worker exited:\n{fault_worker.output()}")
        return all(state in ("succeeded", "failed") for state in states) and states

    states = wait_for(finished, timeout=90, interval=0.2, message="every job to finish after the outage")
    assert states == ["succeeded"] * len(jobs), fault_worker.output()
    assert fault_worker.running, fault_worker.output()
    for job, numbers in zip(jobs, batches):
        row = job_state(Notification, job.pk)
        assert row["completions"] == 1
        assert_exactly_once(gateway, row["idempotency_key"], numbers)
