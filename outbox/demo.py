"""The demo's published figures: every demo commune's monthly facts of the last six months,
delivered at once, so that the national host's ``/api/v1/facts/monthly/`` shows them without
waiting for the hourly beat. Runs after the other apps' demo steps (``DEMO_AFTER``)."""
from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import schema_context

from outbox.facts import publish_months
from outbox.writer import deliver
from published import facts

MONTHS = 6
# The demo steps whose data the figures count (names nobody registered are ignored).
DEMO_AFTER = ("population", "signatures", "documents", "notifications", "onestop", "broadcasting", "ecommerce",
              "health", "education")


def seed_demo(context) -> None:
    current = facts.first_of_month(timezone.localdate())
    first = current
    for _i in range(MONTHS - 1):
        first = facts.previous_month(first)
    months = facts.months_between(first, current)
    for _spec, commune in context.communes:
        with schema_context(commune.schema_name):
            result = publish_months(months)
        deliver(commune.schema_name, wait=True)
        context.out(f"  {commune}: monthly figures published for the national host ({result})")
