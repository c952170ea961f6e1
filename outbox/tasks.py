"""Celery tasks of the outbox. A wake-up carries only the commune's schema: the entries in the
commune's schema are the truth, and a lost or duplicated message changes nothing (the sweeper
wakes a writer whose wake-up was lost; a second writer finds the commune locked or nothing due)."""
from __future__ import annotations

from celery import shared_task
from django_tenants.utils import get_public_schema_name


@shared_task(name="outbox.deliver", acks_late=True, ignore_result=True)
def deliver(schema_name: str) -> dict:
    """Apply the commune's due entries to the public schema (one writer per commune)."""
    from outbox.writer import deliver as run

    return run(schema_name)


@shared_task(name="outbox.sweep", ignore_result=True)
def sweep() -> dict:
    """Beat: wake the writers of the communes whose entries wait longer than the grace."""
    from outbox.writer import sweep as run

    return run()


@shared_task(name="outbox.refresh_facts", ignore_result=True)
def refresh_facts() -> int:
    """Beat: one ``outbox.publish_facts`` per commune (the previous and the current month). A lost
    message is made good by the next beat: the refresh publishes only what changed."""
    from communes.models import Commune

    schemas = Commune.objects.exclude(schema_name=get_public_schema_name()).order_by("code").values_list(
        "schema_name", flat=True)
    count = 0
    for schema_name in schemas.iterator():
        publish_facts.apply_async(args=[schema_name])
        count += 1
    return count


@shared_task(name="outbox.publish_facts", acks_late=True, ignore_result=True)
def publish_facts(schema_name: str, months: list[str] | None = None) -> str:
    """Publish the commune's monthly figures (``yyyy-mm`` months; default: the previous and the
    current month) through its outbox; its writer is woken when the transaction commits."""
    import datetime

    from django_tenants.utils import schema_context

    from outbox.facts import publish_months

    chosen = [datetime.date.fromisoformat(f"{month}-01") for month in months] if months else None
    with schema_context(schema_name):
        return str(publish_months(chosen))
