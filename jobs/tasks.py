"""Celery tasks of the durable jobs. A message carries only (schema, model label, job id)."""
from __future__ import annotations

import socket

from celery import shared_task
from django_tenants.utils import schema_context

from jobs import registry, services
from jobs.heartbeat import beat


@shared_task(name="jobs.run", acks_late=True, ignore_result=True)
def run_job(schema_name: str, model_label: str, job_id) -> str:
    """Claim the job row in the commune's schema, run it and commit its result once."""
    model = registry.get_model(model_label)
    with schema_context(schema_name):
        return services.execute(model, job_id, schema_name)


@shared_task(name="jobs.sweep", ignore_result=True)
def sweep() -> dict:
    """Beat: re-send lost messages, re-queue jobs of dead workers, wake timed waits."""
    return services.sweep_all()


@shared_task(name="jobs.heartbeat", bind=True, ignore_result=True)
def heartbeat(self) -> None:
    """Beat: record that a worker consumes tasks (next to the worker's own heartbeat thread)."""
    beat(self.request.hostname or socket.gethostname())
