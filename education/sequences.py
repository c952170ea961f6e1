"""Numbers drawn from a series without gaps or repeats, under a row lock held until the caller's
transaction ends (application references, invoice codes, receipt numbers)."""
from __future__ import annotations

from django.db import transaction

from education.models import Sequence


def next_number(name: str) -> int:
    """The next number of the series ``name`` (1 for a new series). Call inside the transaction
    that writes the numbered row: the lock is released at its commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that uses the number")
    Sequence.objects.get_or_create(name=name)
    row = Sequence.objects.select_for_update().get(name=name)
    row.last += 1
    row.save(update_fields=["last"])
    return row.last
