"""An SMS whose gateway call succeeded while the worker's database connection died is not sent
twice: the delivery was committed as "sending" before the call, so the next run knows the call
may have reached the gateway. It asks the gateway by idempotency key when the gateway can answer
(and records the delivery sent), and otherwise marks it "uncertain" and leaves it to an official,
who may confirm "send again".

The fault is real: when the fake gateway receives the call, it terminates the worker's
PostgreSQL backend (``pg_terminate_backend``) before it answers, so the worker cannot record the
outcome. The fake gateway delivers every call here (``deduplicate = False``), like the provider
of the fault report: a second call would reach the phone a second time.
"""
from __future__ import annotations

import os
import threading
import time
import uuid

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from jobs.services import sweep_all
from notifications.models import Delivery, Notification
from notifications.services import create_notification
from tests.celery_worker import WorkerProcess
from tests.conftest import host_client
from tests.jobs.helpers import TULE_SCHEMA, job_state, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.xdist_group("celery")]


@pytest.fixture
def cut_worker(worker_env, celery_worker, celery_broker, django_db_blocker, gateway):
    """Start a worker of this test's own (own settings, its connections named) and arm the
    gateway to terminate that worker's database connection on the first SMS it receives."""
    app_name = f"xaso-sms-intent-{uuid.uuid4().hex[:8]}"
    started: list[WorkerProcess] = []
    terminated: list[int] = []
    db = connection.settings_dict
    dsn = dict(dbname=db["NAME"], user=db["USER"], password=db.get("PASSWORD") or None,
               host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
    armed = threading.Event()
    armed.set()

    def terminate(_key):
        if not armed.is_set():
            return
        armed.clear()
        with psycopg2.connect(**dsn) as admin:
            admin.autocommit = True
            with admin.cursor() as cursor:
                # The job's connections: this worker's backends whose last statement was on the
                # notification (the job's own, and its lease keeper's), not the heartbeat's.
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND application_name = %s AND query ILIKE %s",
                    [app_name, "%notifications_%"],
                )
                terminated.append(sum(1 for (ok,) in cursor.fetchall() if ok))
        admin.close()

    def start(**settings_env):
        if celery_worker.running:
            celery_worker.stop()
        env = {**worker_env, "PGAPPNAME": app_name, **settings_env}
        with django_db_blocker.unblock():
            worker = WorkerProcess(env, celery_broker["queue"]).start()
        started.append(worker)
        gateway.deduplicate = False
        gateway.on_request = terminate
        return worker

    start.terminated = terminated
    yield start
    gateway.on_request = None
    for worker in started:
        worker.stop()
        with django_db_blocker.unblock():
            from jobs.models import WorkerHeartbeat

            WorkerHeartbeat.objects.filter(worker_name=worker.name).delete()
        os.unlink(worker.log.name)


def phones(n: int, start: int) -> list[str]:
    return [f"09130{start + i:05d}" for i in range(n)]


def settle(pk: int, worker, timeout: float = 40.0) -> dict:
    """Wait for the job to finish, sweeping as beat would once the dead attempt's lease expires."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = job_state(Notification, pk)
        if row["state"] in ("succeeded", "failed"):
            return row
        if row["state"] == "queued" or (row["lease_expires_at"] and row["lease_expires_at"] < timezone.now()):
            sweep_all(grace_seconds=0)
        time.sleep(0.2)
    raise AssertionError(f"notification {pk} did not finish: {job_state(Notification, pk)}\n{worker.output()}")


def deliveries(pk: int) -> list[dict]:
    with schema_context(TULE_SCHEMA):
        return list(Delivery.objects.filter(notification_id=pk).order_by("index").values(
            "index", "status", "idempotency_key", "gateway_message_id", "sending_at", "resent_in_id"))


def test_only_an_uncertain_delivery_can_be_sent_again(db, tule, in_commune):
    from django.core.exceptions import ValidationError

    from notifications.services import send_again

    with in_commune(tule):
        job = create_notification(channel="sms", message="Thông báo", recipients=["0912000001"])
        delivery = Delivery.objects.create(notification=job, index=0, recipient="0912000001",
                                           idempotency_key=f"{job.idempotency_key}:0", status="sent")
        with pytest.raises(ValidationError) as refused:
            send_again(delivery.pk)
        assert [e.code for e in refused.value.error_dict["delivery"]] == ["not_uncertain"]
        Delivery.objects.filter(pk=delivery.pk).update(status="uncertain")
        again = send_again(delivery.pk)
        assert again.recipients == ["0912000001"] and again.message == "Thông báo"
        with pytest.raises(ValidationError) as twice:
            send_again(delivery.pk)
        assert [e.code for e in twice.value.error_dict["delivery"]] == ["already_sent_again"]
        assert Notification.objects.count() == 2


def test_the_http_gateway_tells_a_refused_connection_from_a_lost_answer(settings):
    import socket

    from notifications.gateways import GatewayRetryableError, GatewayUncertainError, HttpGateway

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(GatewayRetryableError) as refused:  # nothing listens: nothing was sent
        HttpGateway(url=f"http://127.0.0.1:{port}/sms", token="t").send_sms("0912000001", "x", "k:0")
    assert not isinstance(refused.value, GatewayUncertainError)

    with socket.socket() as server:  # accepts the call, then hangs up without answering
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def hang_up():
            conn, _addr = server.accept()
            conn.recv(65536)
            conn.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        with pytest.raises(GatewayUncertainError):
            HttpGateway(url=f"http://127.0.0.1:{server.getsockname()[1]}/sms", token="t", timeout=5).send_sms(
                "0912000001", "x", "k:0")
        thread.join(5)


def test_a_send_cut_off_before_it_was_recorded_is_looked_up_not_sent_again(cut_worker, gateway, live_db):
    gateway.answer_status = True
    worker = cut_worker(XASO_SMS_DEDUPLICATES="0", XASO_SMS_STATUS_URL=gateway.url + "/{key}")
    numbers = phones(3, start=100)
    with schema_context(TULE_SCHEMA):
        job = create_notification(channel="sms", message="Lịch tiêm chủng tháng 6", recipients=numbers)

    row = settle(job.pk, worker)

    assert cut_worker.terminated and cut_worker.terminated[0] >= 1, "the worker's connection was not cut"
    first = f"{job.idempotency_key}:0"
    assert gateway.effect_counts[first] == 1  # the phone got the message once
    assert all(gateway.effect_counts[f"{job.idempotency_key}:{i}"] == 1 for i in range(3))
    assert gateway.lookups == [first]  # the next run asked the gateway instead of sending again
    assert [d["status"] for d in deliveries(job.pk)] == ["sent", "sent", "sent"]
    assert deliveries(job.pk)[0]["gateway_message_id"] == f"m-{first}"
    assert row["state"] == "succeeded" and row["attempts"] >= 2 and row["completions"] == 1, row
    assert row["result"] == {"total": 3, "sent": 3, "failed": 0}
    assert row["sent_count"] == 3


def test_without_a_lookup_the_delivery_is_uncertain_until_an_official_sends_it_again(cut_worker, gateway, live_db,
                                                                                      tule_live):
    from communes.models import Membership, Role, User

    worker = cut_worker(XASO_SMS_DEDUPLICATES="0", XASO_SMS_STATUS_URL="")
    numbers = phones(3, start=200)
    with schema_context(TULE_SCHEMA):
        job = create_notification(channel="sms", message="Họp dân lúc 19h", recipients=numbers)

    row = settle(job.pk, worker)

    assert cut_worker.terminated and cut_worker.terminated[0] >= 1, "the worker's connection was not cut"
    first = f"{job.idempotency_key}:0"
    assert all(gateway.effect_counts[f"{job.idempotency_key}:{i}"] == 1 for i in range(3))
    assert gateway.lookups == []
    states = deliveries(job.pk)
    assert [d["status"] for d in states] == ["uncertain", "sent", "sent"]
    assert states[0]["sending_at"] is not None
    assert row["state"] == "succeeded" and row["completions"] == 1, row
    assert row["result"] == {"total": 3, "sent": 2, "failed": 0, "uncertain": 1}

    # An official sees it, and decides.
    clerk = User.objects.create_user(username=f"clerk_sms_{uuid.uuid4().hex[:6]}", password="Mat-khau-2026!")
    Membership.objects.create(user=clerk, commune=tule_live, role=Role.CLERK)
    client = host_client("tule.localhost", clerk, second_factor=True)
    with schema_context(TULE_SCHEMA):
        delivery = Delivery.objects.get(notification_id=job.pk, index=0)
    detail = client.get(f"/notifications/{job.pk}/").content.decode()
    confirm_url = f"/notifications/{job.pk}/deliveries/{delivery.pk}/send-again/"
    assert 'data-status="uncertain"' in detail and confirm_url in detail
    partial = client.get(f"/notifications/{job.pk}/progress/").content.decode()
    assert 'class="errorlist" role="alert"' in partial  # the page says a person must decide
    assert client.get(confirm_url).status_code == 200
    unconfirmed = client.post(confirm_url, {})
    assert unconfirmed.status_code == 400
    with schema_context(TULE_SCHEMA):
        assert Notification.objects.filter(pk__gt=job.pk).count() == 0
    gateway.on_request = None
    confirmed = client.post(confirm_url, {"confirm": "yes"})
    assert confirmed.status_code == 302
    with schema_context(TULE_SCHEMA):
        again = Notification.objects.get(pk__gt=job.pk)
        delivery.refresh_from_db()
    assert confirmed["Location"] == f"/notifications/{again.pk}/"
    assert delivery.resent_in_id == again.pk and again.recipients == [numbers[0]]
    assert again.idempotency_key != job.idempotency_key
    assert client.post(confirm_url, {"confirm": "yes"}).status_code == 400  # decided once
    row = settle(again.pk, worker)
    assert row["state"] == "succeeded" and row["result"] == {"total": 1, "sent": 1, "failed": 0}
    # The second message reaches the phone because a person asked for it.
    assert gateway.effects_for(again.idempotency_key) == {f"{again.idempotency_key}:0": numbers[0]}
    assert gateway.effect_counts[first] == 1
