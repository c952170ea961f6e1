"""Publishing the monthly facts (topic ``published.facts.TOPIC``) from a commune's schema: what
the beat (``outbox.refresh_facts``, the previous and the current month of every commune) and the
``publish_facts`` command run. Only figures that changed since the last publication become
entries; months outside those asked for are left alone."""
from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction

from outbox.services import SyncResult, sync
from published import facts


def publish_months(months: Iterable[datetime.date] | None = None) -> SyncResult:
    """Publish this commune's figures of ``months`` (first days; default: the previous and the
    current month), withdrawing sources that no longer report for those months."""
    chosen = {facts.first_of_month(month) for month in (months or facts.refresh_months())}
    pairs = facts.pairs_for(chosen)
    with transaction.atomic():
        return sync(facts.TOPIC, pairs, scope=lambda key: facts.month_of_key(key) in chosen)
