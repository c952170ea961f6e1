"""Celery beat task of the commune radio (speech itself renders through durable jobs)."""
from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="broadcasting.prepare_playlists", ignore_result=True)
def prepare_playlists(hours: float = 24) -> dict:
    """Beat, every 15 minutes: in every commune, build the playlists of the coming windows for
    every active cluster and ask for the audio still missing. Returns a summary per schema."""
    from django_tenants.utils import get_public_schema_name, schema_context

    from broadcasting.scheduler import prepare_upcoming
    from communes.models import Commune

    done = {}
    schemas = Commune.objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
    for schema_name in schemas:
        try:
            with schema_context(schema_name):
                done[schema_name] = prepare_upcoming(hours=hours)
        except Exception:  # one broken schema must not stop the others
            logger.exception("Preparing the radio playlists of %s failed", schema_name)
    return done


@shared_task(name="broadcasting.flush_heartbeats", ignore_result=True)
def flush_heartbeats() -> dict:
    """Beat, every ``device_cache.HEARTBEAT_FLUSH_SECONDS``: write the devices' heartbeats kept in
    Redis into each commune that has some (rows, and the clusters' last heartbeat). Returns how
    many were written per schema; what could not be written is put back for the next run."""
    from django_tenants.utils import schema_context

    from broadcasting import device_cache, services

    done = {}
    for schema_name in device_cache.pending_schemas():
        records = []
        try:
            with schema_context(schema_name):
                records = device_cache.take_heartbeats(schema_name)
                done[schema_name] = services.write_heartbeats(records)
        except Exception:  # one broken schema must not stop the others
            logger.exception("Writing the radio heartbeats of %s failed", schema_name)
            try:
                device_cache.requeue_heartbeats(schema_name, records)
            except Exception:  # noqa: BLE001
                logger.exception("%s heartbeats of %s are lost", len(records), schema_name)
    return done
