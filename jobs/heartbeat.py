"""When was a Celery worker last seen alive? Kept in PostgreSQL (public schema), not in Redis,
so that a Redis that lost everything does not make a live worker look dead."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

logger = logging.getLogger(__name__)


def beat(worker_name: str) -> None:
    """Record that ``worker_name`` is alive now (one upsert)."""
    from jobs.models import WorkerHeartbeat

    with schema_context(get_public_schema_name()):
        WorkerHeartbeat.objects.bulk_create(
            [WorkerHeartbeat(worker_name=worker_name[:200], last_seen=timezone.now())],
            update_conflicts=True, unique_fields=["worker_name"], update_fields=["last_seen"],
        )


def forget(worker_name: str) -> None:
    from jobs.models import WorkerHeartbeat

    with schema_context(get_public_schema_name()):
        WorkerHeartbeat.objects.filter(worker_name=worker_name[:200]).delete()


def forget_stale(days: int = 1) -> int:
    """Drop workers not seen for ``days`` (their names change at every deployment)."""
    from jobs.models import WorkerHeartbeat

    with schema_context(get_public_schema_name()):
        deleted, _ = WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted


def last_worker_heartbeat():
    """The newest heartbeat of any worker, or None."""
    from jobs.models import WorkerHeartbeat

    with schema_context(get_public_schema_name()):
        return WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()


class HeartbeatThread(threading.Thread):
    """Writes the worker's heartbeat at once, then every XASO_WORKER_HEARTBEAT_SECONDS.

    Runs in the worker's main process; it closes its database connection after every write so
    that no open connection is inherited by a forked pool process.
    """

    def __init__(self, worker_name: str):
        super().__init__(name="xaso-heartbeat", daemon=True)
        self.worker_name = worker_name
        self.interval = float(settings.XASO_WORKER_HEARTBEAT_SECONDS)
        self._halt = threading.Event()

    def run(self):
        while True:
            try:
                beat(self.worker_name)
            except Exception:
                logger.exception("Worker heartbeat failed")
            finally:
                connection.close()
            if self._halt.wait(self.interval):
                return

    def stop(self):
        self._halt.set()
