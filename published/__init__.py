"""The public side of the outbox: what communes publish for the national host to read.

Each commune's apps write their cross-commune rows through the outbox (``outbox``, a tenant app:
its entries live in the commune's schema). One writer per commune applies them here, in the
public schema, where the national host and supervising units read across communes without ever
switching schema inside a request.

This is a shared app (its tables live in the public schema only) and, like the other shared
layers, it imports no tenant app:

* ``published.topics``: the registry of topics (``Topic``: name, the handler that applies a
  ``Delivery`` to the topic's public rows, the snapshot that lists a commune's current rows), by
  dotted path, as ``communes.modules`` does for the other registries;
* ``published.models``: ``Publication`` (the ledger: per topic, commune and key, the version last
  applied, the payload's digest and whether it was withdrawn: what makes an apply idempotent and
  order-safe), ``Pending`` (the index of undelivered entries that the sweeper reads in one query),
  the abstract ``PublishedRow`` that a topic's table extends, and ``MonthlyFacts``;
* ``published.rows``: ``store`` and ``drop``, for handlers;
* ``published.facts``: the first topic, every app's period figures (``communes.modules.facts_for``)
  per commune and month;
* ``published.api``: their read API on the national host, ``/api/v1/facts/monthly/``.

How to publish is told in ``outbox``'s docstring.
"""
