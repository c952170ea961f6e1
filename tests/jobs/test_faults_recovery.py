"""A message lost in Redis is re-sent as soon as the broker shows it does not hold it, not
after the whole grace period; a message the broker holds is not duplicated; a dead worker's job
is re-sent once its lease expired, whatever the grace. (Before: 60 s grace for both, so a
flushed Redis or a killed worker cost 68–96 s; figures in bench/README.md.)"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.services import JobMessage, messages_in_broker, sweep_all
from notifications.models import Notification
from tests.jobs.faults import broker_up, fault_broker, fault_redis  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.celery, pytest.mark.xdist_group("celery")]


def _sent_ids(server, queue: str) -> list[int]:
    ids = []
    for raw in server.client().lrange(queue, 0, -1):
        import base64

        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        ids.append(int(args[2]))
    return ids


def _job(in_commune, tule, **fields):
    with in_commune(tule):
        return Notification.objects.create(channel="sms", message="x", recipients=["0912000001"], **fields)


def test_the_sweeper_resends_a_lost_message_without_waiting_for_the_grace(
        db, tule, in_commune, settings, fault_broker, broker_up, django_capture_on_commit_callbacks):
    settings.XASO_JOB_ENQUEUE_GRACE_SECONDS = 60
    settings.XASO_JOB_LOST_MESSAGE_SECONDS = 10
    queue, now = fault_broker["queue"], timezone.now()
    broker_up.client().delete(queue)
    ago = now - timedelta(seconds=15)
    lost = _job(in_commune, tule, state="queued", run_after=ago, last_enqueued_at=ago)
    held = _job(in_commune, tule, state="queued", run_after=ago, last_enqueued_at=ago)
    recent = _job(in_commune, tule, state="queued", run_after=now, last_enqueued_at=now - timedelta(seconds=3))
    dead = _job(in_commune, tule, state="running", attempts=1, lease_owner="gone:1:x",
                lease_expires_at=now - timedelta(seconds=1), run_after=ago, last_enqueued_at=ago)
    JobMessage(tule.schema_name, "notifications.Notification", held.pk)()  # its message waits in Redis
    assert (tule.schema_name, "notifications.Notification", str(held.pk)) in messages_in_broker()

    with django_capture_on_commit_callbacks(execute=True):
        counts = sweep_all()
    assert counts["requeued"] == 2, counts
    assert sorted(_sent_ids(broker_up, queue)) == sorted([held.pk, lost.pk, dead.pk])
    with in_commune(tule):
        assert Notification.objects.get(pk=recent.pk).last_enqueued_at < now  # left alone
        assert Notification.objects.get(pk=lost.pk).last_enqueued_at >= now  # sent again


def test_without_the_broker_only_the_grace_decides(db, tule, in_commune, settings, fault_broker, broker_up,
                                                   django_capture_on_commit_callbacks):
    settings.XASO_JOB_ENQUEUE_GRACE_SECONDS = 60
    settings.XASO_JOB_LOST_MESSAGE_SECONDS = 10
    ago = timezone.now() - timedelta(seconds=15)
    _job(in_commune, tule, state="queued", run_after=ago, last_enqueued_at=ago)
    broker_up.stop()
    assert messages_in_broker() is None  # cannot tell: no re-send of what may be waiting there
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_all()["requeued"] == 0
    long_ago = timezone.now() - timedelta(seconds=61)
    _job(in_commune, tule, state="queued", run_after=long_ago, last_enqueued_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_all()["requeued"] == 1  # past the grace: sent (and not raised while Redis is down)
