"""The national OCOP catalogue: the public rows of every commune's listed products, as the
communes publish them through their outbox (topic ``ocop.product``), and the national host's
catalogue page and API that read them.

A shared app (its table lives in the public schema only). It imports no tenant app: the
marketplace (``ecommerce``, a tenant app) registers the topic and its handler
(``ecommerce.publishing``), which writes ``models.CatalogueProduct`` rows here; the national
host reads only these rows, in one query per page, and never visits a commune's schema.

* ``models``: ``CatalogueProduct``, one row per commune and product;
* ``catalogue``: the filters (search without accents, group, stars, price, province, commune,
  village, stock) and the stars of a row on a day, shared by the page and the API;
* ``views``: ``/ocop/`` on the national host (cards linking to each commune's product page);
* ``api``: ``GET /api/v1/ocop/catalogue/`` on the national host.
"""
