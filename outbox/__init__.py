"""The outbox: how a commune publishes rows into the public schema for the national host.

Cross-commune reads in a request never switch schema (DESIGN.md, "Architecture"): they read rows
that each commune publishes to the public schema through this outbox. This is a tenant app (its
``Entry`` table lives in every commune's schema), placed before the apps that use it; the public
side (the ledger, the index of undelivered entries, the topics' tables and their read API) is the
shared app ``published``.

The API, for an app that publishes (say the OCOP marketplace's national catalogue)
---------------------------------------------------------------------------------
1. A public table for the topic, in a shared app (``published`` or one of its own in
   ``SHARED_APPS``), extending ``published.models.PublishedRow`` (commune, key, version,
   published_at; unique by commune and key)::

       class CatalogueProduct(PublishedRow):
           name = models.CharField(max_length=200)
           stars = models.PositiveSmallIntegerField(null=True)
           price = models.PositiveBigIntegerField()

2. A handler and a snapshot, registered from the app's ``AppConfig.ready()`` by dotted path::

       # ecommerce/published.py
       from published import rows
       from published.models import CatalogueProduct

       def apply_product(delivery):          # runs in the writer, writes the public schema only
           rows.apply(CatalogueProduct, delivery, lambda p: {
               "name": p["name"], "stars": p["stars"], "price": p["price"]})

       def product_snapshot():               # runs in the commune's schema
           for product in Product.objects.filter(state="approved"):
               yield str(product.pk), product_payload(product)

       # ecommerce/apps.py, in ready()
       from published.topics import Topic, register_topic
       register_topic(Topic(name="ocop.product", apply="ecommerce.published.apply_product",
                            snapshot="ecommerce.published.product_snapshot"))

3. Publish in the transaction that changes the row, after the change::

       from outbox.services import publish, withdraw

       with transaction.atomic():
           product.save()
           if product.is_listed:
               publish("ocop.product", str(product.pk), product_payload(product))
           else:
               withdraw("ocop.product", str(product.pk))

   ``publish(topic, key, payload)`` (a JSON object; dates and decimals become strings) and
   ``withdraw(topic, key)`` write an entry in the commune's schema, in the caller's transaction: a
   rolled-back change publishes nothing. After the commit a Celery message carrying only the
   schema wakes the commune's writer; if Redis is down, the sweeper wakes it later.
   ``publish_many`` writes several entries of a topic at once; ``public_state(topic, commune,
   keys)`` tells the digest (``published.topics.canonical``) of what the public side holds or will
   hold for each key, so that a change that leaves a row as it was need not publish;
   ``sync(topic, pairs, scope=…)`` publishes only what differs from the public side and withdraws
   the keys in scope it no longer has (counts per month, say).

What the writer guarantees (``outbox.writer``): one writer per commune at a time; entries applied
in id order, each at most once in effect (an entry older than what the public side holds for its
key, or applied already, changes nothing; a tombstone removes the row and keeps an older entry
from bringing it back); an entry is marked delivered in the transaction that applied it; a
handler that raises is retried with backoff, its error kept on the entry and shown by
``python manage.py outbox_status --errors``, and blocks neither the other entries nor the other
communes. ``python manage.py republish [--commune CODE …] [--topic T]`` rebuilds a commune's public
rows from the topics' snapshots; running it twice changes nothing the second time. A snapshot
reads what is committed when it runs: a change that commits while it runs may see its row
overwritten by the snapshot's older view (the entry of the snapshot comes later) until the row
changes again; run ``republish`` while the commune is quiet, or once more afterwards (it publishes
only what differs).

The first topic is ``facts.monthly`` (``published.facts``, ``outbox.facts``): every app's figures
per commune and month, refreshed hourly for the previous and the current month and on demand
(``python manage.py publish_facts``), read on the national host at ``/api/v1/facts/monthly/``.
"""
