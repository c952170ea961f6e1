"""/healthz: database, Redis, worker heartbeat, migrations; 503 when one is down."""
from datetime import timedelta

from django.utils import timezone

from jobs.models import WorkerHeartbeat


def _fresh_heartbeat():
    WorkerHeartbeat.objects.all().delete()
    WorkerHeartbeat.objects.create(worker_name="w@host", last_seen=timezone.now())


def test_healthz_ok_with_a_recent_worker(db, client_for):
    _fresh_heartbeat()
    response = client_for("localhost").get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"


def test_healthz_503_when_redis_is_unreachable(db, client_for, settings):
    _fresh_heartbeat()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client_for("tule.localhost").get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True and body["checks"]["worker"]["ok"] is True


def test_healthz_503_when_no_worker_was_seen(db, client_for):
    WorkerHeartbeat.objects.all().delete()
    response = client_for("localhost").get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "last_seen": None}


def test_healthz_503_when_the_worker_went_quiet(db, client_for, settings):
    WorkerHeartbeat.objects.all().delete()
    WorkerHeartbeat.objects.create(
        worker_name="w@host", last_seen=timezone.now() - timedelta(seconds=settings.XASO_WORKER_STALE_SECONDS + 5)
    )
    response = client_for("localhost").get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False
