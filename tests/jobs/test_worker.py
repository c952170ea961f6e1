"""Durable jobs with a real Celery worker, a real Redis and a local SMS gateway."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from jobs.services import sweep_all
from notifications.models import Delivery, Notification
from notifications.services import create_notification
from tests.jobs.helpers import TULE_SCHEMA, assert_exactly_once, job_state, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.xdist_group("celery")]


def phones(n: int, start: int = 0) -> list[str]:
    return [f"09120{start + i:05d}" for i in range(n)]


def notify(numbers, message="Họp dân lúc 19h tại nhà văn hoá thôn."):
    with schema_context(TULE_SCHEMA):
        return create_notification(channel="sms", message=message, recipients=numbers)


def wait_finished(pk, timeout=20.0):
    def finished():
        row = job_state(Notification, pk)
        return row if row["state"] in ("succeeded", "failed") else None

    return wait_for(finished, timeout=timeout, message=f"notification {pk} to finish")


@pytest.fixture
def clerk_client(tule_live):
    from communes.models import Membership, Role, User

    user = User.objects.create_user(username="clerk_jobs", password="Mat-khau-2026!")
    Membership.objects.create(user=user, commune=tule_live, role=Role.CLERK)
    client = Client(HTTP_HOST="tule.localhost")
    from tests.conftest import log_in

    log_in(client, user)  # a clerk's session is confirmed by the second factor
    return client


def test_the_message_carries_only_schema_model_and_id(db, tule, in_commune, django_capture_on_commit_callbacks):
    with in_commune(tule):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = create_notification(channel="sms", message="x", recipients=["0912000001"])
        assert Notification.objects.get(pk=job.pk).state == "queued"
    assert len(callbacks) == 1  # sent after the commit, not before
    assert callbacks[0].args[:3] == (TULE_SCHEMA, "notifications.Notification", job.pk)


def test_job_completes_and_its_progress_is_visible(worker, gateway, clerk_client):
    gateway.delay = 0.2
    numbers = phones(8)
    response = clerk_client.post(
        "/api/v1/notifications/", {"channel": "sms", "message": "Lịch tiêm chủng tháng 5", "recipients": numbers},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["state"] == "queued"

    seen, page_polled = [], False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body = clerk_client.get(f"/api/v1/notifications/{pk}/").json()
        seen.append((body["state"], body["progress_percent"], body["progress_message"]))
        if body["state"] == "running" and 0 < body["progress_percent"] < 100 and not page_polled:
            partial = clerk_client.get(f"/notifications/{pk}/progress/").content.decode()
            assert 'hx-trigger="every 2s"' in partial  # the page keeps polling while it runs
            page_polled = True
        if body["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)

    assert any(state == "running" and 0 < percent < 100 for state, percent, _m in seen), seen
    assert page_polled
    body = clerk_client.get(f"/api/v1/notifications/{pk}/").json()
    assert body["state"] == "succeeded"
    assert body["progress_percent"] == 100
    assert body["result"] == {"total": 8, "sent": 8, "failed": 0}
    assert body["attempts"] == 1 and body["sent_count"] == 8
    row = job_state(Notification, pk)
    assert row["completions"] == 1 and row["lease_owner"] == ""
    assert_exactly_once(gateway, body["idempotency_key"], numbers)
    assert gateway.unauthorized == 0
    # Finished: the partial no longer asks to be polled.
    partial = clerk_client.get(f"/notifications/{pk}/progress/").content.decode()
    assert "hx-trigger" not in partial and 'data-state="succeeded"' in partial
    # A page that was polling reloads once, so its delivery table shows the final state.
    polled = clerk_client.get(f"/notifications/{pk}/progress/", HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"


def test_jobs_survive_a_flushed_redis(worker, gateway, celery_broker, live_db):
    queue, client = celery_broker["queue"], celery_broker["redis"]
    worker.stop()  # messages stay in Redis, nobody consumes them
    jobs = [notify(phones(4, start=100 + 10 * i)) for i in range(3)]
    assert client.llen(queue) >= 3
    client.flushdb()  # Redis loses everything the portal keeps there (the other test processes keep theirs)
    assert client.llen(queue) == 0

    counts = sweep_all(grace_seconds=0)
    assert counts["requeued"] >= 3
    assert client.llen(queue) >= 3
    worker.start()

    for job in jobs:
        row = wait_finished(job.pk)
        assert row["state"] == "succeeded", row
        assert row["completions"] == 1
        assert row["result"] == {"total": 4, "sent": 4, "failed": 0}
        assert_exactly_once(gateway, job.idempotency_key, job.recipients)


def test_killed_worker_leaves_the_job_to_another_worker(worker, gateway, live_db):
    gateway.delay = 0.3
    numbers = phones(10, start=500)
    job = notify(numbers)
    wait_for(lambda: len(gateway.effects_for(job.idempotency_key)) >= 3, message="three deliveries")
    wait_for(lambda: gateway.in_flight > 0, message="a request in flight")
    worker.kill()  # SIGKILL to the whole worker, in the middle of a request

    row = job_state(Notification, job.pk)
    assert row["state"] == "running" and row["attempts"] == 1
    with schema_context(TULE_SCHEMA):
        delivered_before = Delivery.objects.filter(notification_id=job.pk, status="sent").count()
    assert 3 <= delivered_before < 10

    # Nothing happens before the lease expires …
    assert sweep_all(grace_seconds=0)["requeued"] == 0
    wait_for(lambda: job_state(Notification, job.pk)["lease_expires_at"] < timezone.now(),
             timeout=6, message="the lease to expire")
    # … then the sweeper re-queues the job and a new worker finishes it.
    assert sweep_all(grace_seconds=0)["requeued"] >= 1
    worker.start()
    row = wait_finished(job.pk)
    assert row["state"] == "succeeded", row
    assert row["attempts"] == 2
    assert row["completions"] == 1
    assert row["result"] == {"total": 10, "sent": 10, "failed": 0}
    assert_exactly_once(gateway, job.idempotency_key, numbers)
    # The request cut off by the kill was sent again with the same key: a duplicate, no effect.
    assert sum(gateway.duplicates.values()) >= 1


def test_retries_back_off_exponentially(worker, gateway, live_db):
    numbers = phones(2, start=900)
    with schema_context(TULE_SCHEMA):
        job = Notification(channel="sms", message="Thông báo", recipients=numbers)
    gateway.fail_first(job.idempotency_key, 2)  # 503, 503, then fine

    observed: dict[int, object] = {}
    stop = threading.Event()

    def watch():
        from django.db import connection

        try:
            with schema_context(TULE_SCHEMA):
                while not stop.is_set():
                    row = Notification.objects.filter(idempotency_key=job.idempotency_key).values(
                        "state", "attempts", "run_after").first()
                    if row and row["state"] == "queued" and row["attempts"]:
                        observed.setdefault(row["attempts"], row["run_after"])
                    time.sleep(0.03)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with schema_context(TULE_SCHEMA):
            from jobs.services import enqueue

            enqueue(job)
        row = wait_finished(job.pk)
    finally:
        stop.set()
        watcher.join()

    assert row["state"] == "succeeded", row
    assert row["attempts"] == 3
    assert row["completions"] == 1
    first_key = f"{job.idempotency_key}:0"
    times = [t for t, key, _to in gateway.requests if key == first_key]
    assert len(times) == 3
    gap1, gap2 = times[1] - times[0], times[2] - times[1]
    assert gap1 >= 0.4 * 0.9 and gap2 >= 0.8 * 0.9 and gap2 > gap1, (gap1, gap2)
    # The row showed both backoffs: run_after 0.4 s, then 0.8 s after each failure.
    assert sorted(observed) == [1, 2], observed
    assert observed[2] - observed[1] >= timedelta(seconds=0.7)
    assert_exactly_once(gateway, job.idempotency_key, numbers)


def test_healthz_sees_the_running_worker(worker, live_db):
    response = Client(HTTP_HOST="localhost").get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["worker"]["age_seconds"] <= 10
    assert Client(HTTP_HOST="tule.localhost").get("/healthz").status_code == 200
