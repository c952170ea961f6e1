"""The registry of outbox topics.

A topic is a kind of row that communes publish (``"facts.monthly"``, ``"ocop.product"`` …). The
app that owns it registers it from its ``AppConfig.ready()``::

    register_topic(Topic(name="ocop.product", apply="ecommerce.published.apply_product",
                         snapshot="ecommerce.published.product_snapshot"))

* ``apply(delivery)`` writes the public row of one entry (``Delivery``): upsert it keyed by
  (commune, key) when ``delivery.payload`` is a dict, remove it when the entry is a tombstone
  (``delivery.withdrawn``). It runs in the writer's transaction, with the commune's schema and
  the public schema on the search path; ``published.rows.store``/``drop`` do the usual work. It
  is called only for an entry newer than what the ledger holds for its key, so it needs no
  version check of its own; it must write only the public schema.
* ``snapshot()`` runs in the commune's schema and yields the commune's current ``(key, payload)``
  pairs of the topic: ``republish`` publishes those that differ from the public side and withdraws
  the keys that the snapshot no longer has.

Callables may be dotted paths, imported when first used. Names are at most 64 characters, keys
at most 200; payloads are JSON objects (dates, times and decimals are written as strings).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.module_loading import import_string

TOPIC_MAX_LENGTH = 64
KEY_MAX_LENGTH = 200


@dataclass(frozen=True)
class Topic:
    name: str
    apply: Callable[["Delivery"], None] | str
    snapshot: Callable[[], Iterable[tuple[str, dict]]] | str | None = None

    def applier(self) -> Callable[["Delivery"], None]:
        return _resolve(self.apply)

    def snapshotter(self) -> Callable[[], Iterable[tuple[str, dict]]] | None:
        return _resolve(self.snapshot) if self.snapshot is not None else None


@dataclass(frozen=True)
class Delivery:
    """One entry, as its topic's handler receives it.

    ``commune_id`` / ``commune_code`` name the publishing commune; ``version`` is the entry's id
    (increasing within the commune): keep it on the public row (``PublishedRow.version``).
    ``payload`` is None for a tombstone (``withdraw``)."""

    topic: str
    commune_id: int
    commune_code: str
    key: str
    payload: dict | None
    version: int

    @property
    def withdrawn(self) -> bool:
        return self.payload is None


TOPICS: dict[str, Topic] = {}


def register_topic(topic: Topic) -> None:
    if not topic.name or len(topic.name) > TOPIC_MAX_LENGTH:
        raise ValueError(f"A topic's name has 1 to {TOPIC_MAX_LENGTH} characters: {topic.name!r}")
    known = TOPICS.get(topic.name)
    if known is not None and known != topic:
        raise ValueError(f"The topic {topic.name!r} is already registered by another app")
    TOPICS[topic.name] = topic


def get_topic(name: str) -> Topic:
    try:
        return TOPICS[name]
    except KeyError:
        raise LookupError(f"No outbox topic named {name!r} (registered: {', '.join(sorted(TOPICS)) or 'none'})") from None


def topics() -> list[Topic]:
    return [TOPICS[name] for name in sorted(TOPICS)]


def canonical(payload: dict) -> tuple[dict, str]:
    """The payload as JSON gives it back (dates, decimals and UUIDs as strings) and the SHA-256 of
    its canonical text: two payloads with the same content have the same digest."""
    if not isinstance(payload, dict):
        raise TypeError(f"A payload is a JSON object (a dict), not {type(payload).__name__}")
    text = json.dumps(payload, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return json.loads(text), hashlib.sha256(text.encode()).hexdigest()


def _resolve(target: Any):
    return import_string(target) if isinstance(target, str) else target
