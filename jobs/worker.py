"""Celery worker signals: the heartbeat starts as soon as the worker is ready."""
from __future__ import annotations

import logging

from celery.signals import worker_ready, worker_shutdown
from django.db import connection

from jobs.heartbeat import HeartbeatThread, forget

logger = logging.getLogger(__name__)
_threads: dict[str, HeartbeatThread] = {}


@worker_ready.connect
def start_heartbeat(sender=None, **kwargs):
    name = getattr(sender, "hostname", None) or "worker"
    if name not in _threads:
        thread = HeartbeatThread(name)
        _threads[name] = thread
        thread.start()


@worker_shutdown.connect
def stop_heartbeat(sender=None, **kwargs):
    name = getattr(sender, "hostname", None) or "worker"
    thread = _threads.pop(name, None)
    if thread is not None:
        thread.stop()
    try:
        forget(name)  # a worker that stopped cleanly is not "seen" any more
    except Exception:
        logger.exception("Could not remove the heartbeat of %s", name)
    finally:
        connection.close()
