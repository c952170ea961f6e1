"""What a topic's handler usually does with a ``Delivery``: upsert the commune's row for the key,
or remove it. ``model`` extends ``published.models.PublishedRow``."""
from __future__ import annotations

from django.utils import timezone

from published.topics import Delivery


def store(model, delivery: Delivery, **fields) -> None:
    """Insert or update the row (commune, key) with ``fields`` in one statement."""
    row = model(commune_id=delivery.commune_id, key=delivery.key, version=delivery.version,
                published_at=timezone.now(), **fields)
    model.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["commune", "key"],
        update_fields=["version", "published_at", *fields],
    )


def drop(model, delivery: Delivery) -> None:
    """Remove the row (commune, key), if there is one."""
    model.objects.filter(commune_id=delivery.commune_id, key=delivery.key).delete()


def apply(model, delivery: Delivery, fields) -> None:
    """``drop`` for a tombstone, else ``store`` with ``fields(payload)``."""
    if delivery.withdrawn:
        drop(model, delivery)
    else:
        store(model, delivery, **fields(delivery.payload))
