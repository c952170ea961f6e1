"""Claiming, leases, waiting and sweeping, on the real database (no worker needed)."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from jobs import registry, services
from jobs.heartbeat import beat, last_worker_heartbeat
from jobs.models import JobState, WorkerHeartbeat
from notifications.models import Notification
from tests.celery_worker import queue_of_its_own
from tests.jobs.helpers import TULE_SCHEMA


def make_job(**fields) -> Notification:
    fields.setdefault("channel", "sms")
    fields.setdefault("message", "Thông báo")
    fields.setdefault("recipients", ["0912000001"])
    return Notification.objects.create(**fields)


def _in_thread(target, results, index, *args):
    try:
        with schema_context(TULE_SCHEMA):
            results[index] = target(*args)
    finally:
        connection.close()


def test_two_concurrent_claims_exactly_one_wins(live_db):
    with schema_context(TULE_SCHEMA):
        job = make_job()
    results: list = [None, None]
    claimed = threading.Event()

    def slow_claim():
        # Holds the row locked (uncommitted UPDATE) while the other worker tries.
        with transaction.atomic():
            won = services.claim(Notification, job.pk, "worker-a")
            claimed.set()
            time.sleep(0.5)
        return won

    def second_claim():
        claimed.wait(5)
        return services.claim(Notification, job.pk, "worker-b")

    threads = [threading.Thread(target=_in_thread, args=(slow_claim, results, 0)),
               threading.Thread(target=_in_thread, args=(second_claim, results, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True, False]

    # And a straight race many times over: one winner each round.
    for round_ in range(10):
        with schema_context(TULE_SCHEMA):
            job = make_job()
        barrier = threading.Barrier(2)
        results = [None, None]

        def race(name):
            barrier.wait()
            return services.claim(Notification, job.pk, name)

        threads = [threading.Thread(target=_in_thread, args=(race, results, i, f"w{i}")) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False, True], (round_, results)
        with schema_context(TULE_SCHEMA):
            row = Notification.objects.get(pk=job.pk)
        assert row.attempts == 1 and row.lease_owner == f"w{results.index(True)}"


def test_lost_lease_cannot_commit(db, tule, in_commune):
    with in_commune(tule):
        job = make_job()
        assert services.claim(Notification, job.pk, "old")
        assert not services.claim(Notification, job.pk, "new")  # the lease is held
        Notification.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        assert services.claim(Notification, job.pk, "new")
        assert not services.renew_lease(Notification, job.pk, "old")
        assert not services.complete(Notification, job.pk, "old", {"by": "old"})
        assert services.fail_or_retry(Notification, job.pk, "old", "boom") == "lost"
        assert services.complete(Notification, job.pk, "new", {"by": "new"})
        assert not services.complete(Notification, job.pk, "new", {"again": True})
        job.refresh_from_db()
        assert job.state == JobState.SUCCEEDED and job.result == {"by": "new"}
        assert job.completions == 1 and job.attempts == 2


def test_retry_then_failure_after_max_attempts(db, tule, in_commune, settings):
    settings.XASO_JOB_BACKOFF_BASE = 5
    with in_commune(tule):
        job = make_job(max_attempts=2)
        assert services.claim(Notification, job.pk, "w")
        before = timezone.now()
        assert services.fail_or_retry(Notification, job.pk, "w", "gateway down") == "retry"
        job.refresh_from_db()
        assert job.state == JobState.QUEUED and job.error == "gateway down"
        assert timedelta(seconds=9.5) <= job.run_after - before <= timedelta(seconds=11)  # 5 * 2**1
        assert not services.claim(Notification, job.pk, "w2")  # not due yet
        Notification.objects.filter(pk=job.pk).update(run_after=timezone.now())
        assert services.claim(Notification, job.pk, "w2")
        assert services.fail_or_retry(Notification, job.pk, "w2", "still down") == "failed"
        job.refresh_from_db()
        assert job.state == JobState.FAILED and job.attempts == 2 and job.finished_at


def test_wait_frees_the_worker_and_resume_requeues(live_db, celery_broker):
    from django.apps import apps

    from config.celery import app

    class ConfirmOnPhone(Notification):
        """A job that waits for a person, then finishes (like a remote signature). Defined
        here and unregistered afterwards so that no migration ever sees it."""

        class Meta:
            proxy = True
            app_label = "notifications"

        def run(self, ctx):
            if not ctx.resumed_from:
                ctx.wait("confirmation on the phone")
            return {"confirmed_after": ctx.resumed_from}

    registry.register(ConfirmOnPhone)
    with queue_of_its_own(app, "xaso-test-nobody"):  # no worker runs this test's model
        try:
            with schema_context(TULE_SCHEMA):
                job = ConfirmOnPhone.objects.create(channel="sms", message="x", recipients=["0912000001"])
                assert services.execute(ConfirmOnPhone, job.pk, TULE_SCHEMA) == "waiting"
                job.refresh_from_db()
                assert job.state == JobState.WAITING and job.lease_owner == "" and job.attempts == 0
                assert job.waiting_reason == "confirmation on the phone" and job.run_after is None
                assert services.sweep_schema(grace_seconds=0)["woken"] == 0  # no timer: it waits
                assert services.resume(job)
                assert not services.resume(job)  # only a waiting job resumes
                assert services.execute(ConfirmOnPhone, job.pk, TULE_SCHEMA) == "succeeded"
                job.refresh_from_db()
                assert job.result == {"confirmed_after": "confirmation on the phone"}
                assert job.completions == 1 and job.attempts == 1

                # A timed wait is woken by the sweeper once its time has come.
                timed = ConfirmOnPhone.objects.create(
                    channel="sms", message="x", recipients=["0912000001"], state=JobState.WAITING,
                    waiting_reason="signature", run_after=timezone.now() - timedelta(seconds=1),
                )
                assert services.sweep_schema(grace_seconds=0)["woken"] == 1
                timed.refresh_from_db()
                assert timed.state == JobState.QUEUED and timed.last_enqueued_at is not None
        finally:
            registry._MODELS.pop("notifications.confirmonphone", None)
            apps.all_models["notifications"].pop("confirmonphone", None)
            apps.clear_cache()
            celery_broker["redis"].delete("xaso-test-nobody")


def test_email_notification_carries_the_idempotency_key(live_db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    with schema_context(TULE_SCHEMA):
        job = make_job(channel="email", subject="Họp dân", recipients=["a@example.vn", "b@example.vn"])
        assert services.execute(Notification, job.pk, TULE_SCHEMA) == "succeeded"
        job.refresh_from_db()
    assert job.result == {"total": 2, "sent": 2, "failed": 0} and job.sent_count == 2
    keys = sorted(m.extra_headers["Idempotency-Key"] for m in mail.outbox)
    assert keys == [f"{job.idempotency_key}:0", f"{job.idempotency_key}:1"]
    assert [m.to for m in mail.outbox] == [["a@example.vn"], ["b@example.vn"]]


def test_enqueue_outside_a_commune_is_refused(db):
    with pytest.raises(RuntimeError):
        services.enqueue(Notification(channel="sms", message="x", recipients=["0912000001"]))


def test_heartbeat_is_kept_in_postgresql(db):
    WorkerHeartbeat.objects.all().delete()
    assert last_worker_heartbeat() is None
    beat("w1@host")
    first = last_worker_heartbeat()
    beat("w1@host")
    assert WorkerHeartbeat.objects.filter(worker_name="w1@host").count() == 1
    assert last_worker_heartbeat() >= first


def test_sweep_probe_finds_exactly_the_schemas_with_due_jobs(db, tule, yenhoa, ngaan, in_commune):
    now = timezone.now()
    schemas = [tule.schema_name, yenhoa.schema_name, ngaan.schema_name]
    with in_commune(tule):  # queued long ago, its message lost: due
        make_job(state=JobState.QUEUED, run_after=now - timedelta(minutes=5), last_enqueued_at=now - timedelta(minutes=5))
    with in_commune(yenhoa):  # just sent: not due within the grace period
        make_job(state=JobState.QUEUED, run_after=now, last_enqueued_at=now)
    with in_commune(ngaan):  # finished long ago: never due
        make_job(state=JobState.SUCCEEDED, run_after=now - timedelta(hours=1), last_enqueued_at=now - timedelta(hours=1))
    connection.set_schema_to_public()
    assert services.schemas_with_due_jobs(schemas, grace_seconds=60, now=now) == {tule.schema_name}
    assert services.schemas_with_due_jobs(schemas, grace_seconds=0, now=now + timedelta(seconds=1)) == {
        tule.schema_name, yenhoa.schema_name,
    }
    with in_commune(ngaan):  # a running job whose worker died (lease expired)
        make_job(state=JobState.RUNNING, lease_expires_at=now - timedelta(seconds=1), last_enqueued_at=now - timedelta(minutes=5))
    with in_commune(yenhoa):  # a timed wait that is over
        make_job(state=JobState.WAITING, run_after=now - timedelta(seconds=1))
    connection.set_schema_to_public()
    assert services.schemas_with_due_jobs(schemas, grace_seconds=60, now=now) == set(schemas)
    # The probe and the per-schema sweep agree on what is due.
    for commune in (tule, yenhoa, ngaan):
        with in_commune(commune):
            assert sum(services.sweep_schema(grace_seconds=60, now=now).values()) >= 1
