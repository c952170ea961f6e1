"""Benchmark: how long durable jobs take to recover after (a) their messages were lost in Redis
and (b) the worker was killed (kill -9) in the middle of a job, with the old settings and the
current ones, in the same run.

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso \\
        python bench/recovery.py --lost-jobs 4 --kills 2

Everything is real and local: a scratch database (``xaso_bench_recovery``), a redis-server on a
free port, a Celery worker and celery beat started as the Procfile starts them (beat runs the
sweeper on its schedule), and a local SMS gateway that takes 1 s per message.

(a) Jobs are committed while the broker cannot be reached (their message is lost, as after a
    FLUSHALL or a Redis restart without persistence). Recovery = from the commit to the job's
    end (its run takes about a second).
(b) A job of five SMS (5 s of work) is running; the worker's process group is killed with
    SIGKILL and a new worker is started at once. Recovery = from the kill to the job's end; it
    includes the new worker's start-up (a few seconds) and the rest of the work.
"""
from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _scratch import ROOT, scratch_database, summary

SCRATCH = "xaso_bench_recovery"
CONFIGS = {
    "old (lease 60 s, grace 60 s, sweep 30 s)": {
        "XASO_JOB_LEASE_SECONDS": "60", "XASO_JOB_ENQUEUE_GRACE_SECONDS": "60", "XASO_SWEEP_SECONDS": "30",
        "XASO_JOB_LOST_MESSAGE_SECONDS": "0",
    },
    "new (lease 30 s, lost message 10 s, sweep 10 s)": {
        "XASO_JOB_LEASE_SECONDS": "30", "XASO_JOB_ENQUEUE_GRACE_SECONDS": "60", "XASO_SWEEP_SECONDS": "10",
        "XASO_JOB_LOST_MESSAGE_SECONDS": "10",
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gateway(http.server.ThreadingHTTPServer):
    """An SMS provider that takes ``delay`` seconds per message and drops a repeated key."""

    daemon_threads = True

    def __init__(self, delay: float):
        self.delay, self.effects, self.lock = delay, {}, threading.Lock()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                time.sleep(gateway.delay)
                key = self.headers.get("Idempotency-Key", "")
                with gateway.lock:
                    gateway.effects[key] = gateway.effects.get(key, 0) + 1
                data = json.dumps({"message_id": f"m-{key}", "to": body.get("to")}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def do_GET(self):
                self.send_response(501)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/sms"


class Stack:
    """redis-server, a worker and beat with one configuration."""

    def __init__(self, database_url: str, gateway: Gateway, config: dict):
        self.redis_port = free_port()
        self.dir = tempfile.mkdtemp(prefix="xaso-bench-recovery-")
        self.queue = f"bench-recovery-{self.redis_port}"
        self.env = {
            **os.environ, **config, "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0", "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "XASO_SMS_BACKEND": "notifications.gateways.HttpGateway", "XASO_SMS_URL": gateway.url,
            "XASO_SMS_TOKEN": "bench", "XASO_SMS_TIMEOUT": "10", "XASO_DEVELOPMENT": "1",
            "XASO_WORKER_HEARTBEAT_SECONDS": "5", "PYTHONUNBUFFERED": "1",
        }
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.worker = self.beat = None
        self.logs = []

    def _start(self, *args):
        log = open(Path(self.dir) / f"{args[0]}-{len(self.logs)}.log", "wb")
        self.logs.append(log)
        return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *args], cwd=ROOT, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start_worker(self):
        from jobs.models import WorkerHeartbeat

        WorkerHeartbeat.objects.all().delete()
        self.worker = self._start("worker", "-P", "prefork", "-c", "2", "--without-gossip", "--without-mingle",
                                  "--without-heartbeat", "-Q", self.queue, "-n", f"bench{self.redis_port}-{time.time():.0f}@%h",
                                  "-l", "WARNING")
        wait(lambda: WorkerHeartbeat.objects.exists(), 120, "the worker")

    def start_beat(self):
        self.beat = self._start("beat", "-l", "WARNING", "--schedule", str(Path(self.dir) / "beat-schedule"))

    def kill_worker(self):
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def stop(self):
        for proc in (self.worker, self.beat):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        self.redis.terminate()
        self.redis.wait()


def wait(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out waiting for {what}")


def point_producer(url: str, queue: str) -> None:
    from kombu import pools

    from config.celery import app

    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()
    for cached in ("default_queue", "queues", "router"):
        app.amqp.__dict__.pop(cached, None)
    app.conf.update(CELERY_BROKER_URL=url, CELERY_BROKER_WRITE_URL=url, CELERY_BROKER_READ_URL=url,
                    CELERY_TASK_DEFAULT_QUEUE=queue)


def finished_at(schema: str, pk):
    from django_tenants.utils import schema_context

    from notifications.models import Notification

    with schema_context(schema):
        row = Notification.objects.filter(pk=pk).values("state", "finished_at", "completions").first()
    return row if row["state"] in ("succeeded", "failed") else None


def lost_messages(stack: Stack, schema: str, count: int) -> list[float]:
    from django_tenants.utils import schema_context

    from notifications.services import create_notification

    point_producer(f"redis://127.0.0.1:{free_port()}/0", stack.queue)  # nothing listens: the messages are lost
    with schema_context(schema):
        jobs = [create_notification(channel="sms", message="Họp thôn", recipients=[f"091400{i:04d}"])
                for i in range(count)]
    point_producer(stack.env["CELERY_BROKER_URL"], stack.queue)
    rows = {job.pk: wait(lambda pk=job.pk: finished_at(schema, pk), 300, f"lost job {job.pk}") for job in jobs}
    assert all(row["state"] == "succeeded" and row["completions"] == 1 for row in rows.values()), rows
    return [(rows[job.pk]["finished_at"] - job.last_enqueued_at).total_seconds() for job in jobs]


def killed_worker(stack: Stack, schema: str, run: int) -> float:
    from django_tenants.utils import schema_context

    from notifications.models import Notification
    from notifications.services import create_notification

    with schema_context(schema):
        job = create_notification(channel="sms", message="Lịch tiêm chủng",
                                  recipients=[f"09150{run}{i:04d}" for i in range(5)])

    def running():
        with schema_context(schema):
            return Notification.objects.filter(pk=job.pk, state="running", progress_percent__gte=20).exists()

    wait(running, 120, "the job to run")
    stack.kill_worker()
    killed = time.time()
    stack.start_worker()
    row = wait(lambda: finished_at(schema, job.pk), 300, "the killed job")
    assert row["state"] == "succeeded" and row["completions"] == 1, row
    return row["finished_at"].timestamp() - killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lost-jobs", type=int, default=4)
    parser.add_argument("--kills", type=int, default=2)
    options = parser.parse_args()
    with scratch_database(SCRATCH) as url:
        run(options, url)


def run(options, url: str) -> None:
    from django.db import connection

    from communes.models import AdministrativeUnit
    from communes.services import create_commune, load_administrative_units

    load_administrative_units(with_legacy=False)
    unit = AdministrativeUnit.objects.filter(level="commune").order_by("code").first()
    commune = create_commune(code=unit.code, name=unit.name, domain="recovery.bench.test",
                             province_code=unit.province_code)[0]
    connection.set_schema_to_public()
    gateway = Gateway(delay=1.0)
    results: dict[str, dict[str, list[float]]] = {}
    for label, config in CONFIGS.items():
        print(f"\n{label}", flush=True)
        stack = Stack(url, gateway, config)
        try:
            time.sleep(0.5)
            stack.start_worker()
            stack.start_beat()
            lost = lost_messages(stack, commune.schema_name, options.lost_jobs)
            print(f"  (a) lost messages: {', '.join(f'{v:.1f}' for v in lost)} s", flush=True)
            kills = []
            for run_index in range(options.kills):
                kills.append(killed_worker(stack, commune.schema_name, run_index))
                print(f"  (b) kill -9: {kills[-1]:.1f} s", flush=True)
            results[label] = {"(a) messages lost in Redis": lost, "(b) worker killed mid-job": kills}
        finally:
            stack.stop()
    duplicates = {key: n for key, n in gateway.effects.items() if n > 1}
    print(f"\nSMS sent: {len(gateway.effects)} keys, repeated keys at the gateway: {len(duplicates)}")
    print("\n| settings | fault | n | mean (s) | median (s) | max (s) |")
    print("|---|---|---|---|---|---|")
    for label, faults in results.items():
        for fault, values in faults.items():
            mean, median, _p95 = summary(values)
            print(f"| {label} | {fault} | {len(values)} | {mean:.1f} | {median:.1f} | {max(values):.1f} |")


if __name__ == "__main__":
    main()
