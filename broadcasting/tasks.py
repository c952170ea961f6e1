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
