"""The national catalogue's table (public schema): one row per commune and listed product.

A row is written only by the commune's outbox writer, through the handler of the topic
``ocop.product`` (``ecommerce.publishing.apply``): the commune publishes it in the transaction
that changed the product and withdraws it when the product leaves the listing.

Stars are not stored as a number that would go stale: ``stars3_until``, ``stars4_until`` and
``stars5_until`` are the days until which the product holds at least 3, 4 and 5 stars (the end
of its best certificate giving that many, revoked ones left out). The stars shown on a day are
computed when the row is read (``catalogue.stars_on``), so a certificate that expires with no
other change hides its stars nationally on the day it ends, as on the commune's own pages.
``published_at`` (from ``PublishedRow``) is when the row's content last changed here: the
commune publishes only what differs from what this table holds.
"""
from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from published.models import PublishedRow


class StockState(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")


class CatalogueProduct(PublishedRow):
    """A commune's listed OCOP product, as its public pages show it."""

    slug = models.CharField(_("address in links"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    search_text = models.TextField(
        _("text for search"), help_text=_("Name, producer, village, group and description, lower case without accents."))
    # The words of search_text, kept by PostgreSQL itself: a word typed is found as the beginning
    # of a word ("mat ong" finds "mật ong hoa nhãn"), through the GIN index below.
    search_vector = models.GeneratedField(
        expression=SearchVector("search_text", config="simple"), output_field=SearchVectorField(), db_persist=True)
    group_code = models.CharField(_("product group"), max_length=20, blank=True)
    group_name = models.CharField(_("product group's name"), max_length=200, blank=True)
    subgroup_code = models.CharField(_("sub-group"), max_length=20, blank=True)
    subgroup_name = models.CharField(_("sub-group's name"), max_length=200, blank=True)
    stars3_until = models.DateField(_("at least 3 stars until"), null=True, blank=True)
    stars4_until = models.DateField(_("at least 4 stars until"), null=True, blank=True)
    stars5_until = models.DateField(_("5 stars until"), null=True, blank=True)
    price = models.PositiveBigIntegerField(_("price (đồng)"))
    unit = models.CharField(_("unit"), max_length=50)
    min_order = models.PositiveIntegerField(_("minimum order"), default=1)
    season_months = models.JSONField(_("months of the season"), default=list, blank=True)
    stock_state = models.CharField(_("stock"), max_length=12, choices=StockState.choices)
    village = models.CharField(_("village"), max_length=100, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    producer = models.CharField(_("producer"), max_length=200)
    image_url = models.CharField(_("photo"), max_length=500, blank=True)
    url = models.CharField(_("product page"), max_length=500)

    class Meta(PublishedRow.Meta):
        verbose_name = _("national catalogue product")
        verbose_name_plural = _("national catalogue products")
        ordering = ["name", "pk"]
        indexes = [
            GinIndex(fields=["search_vector"], name="ocop_cat_search"),
            models.Index(fields=["group_code", "price"], name="ocop_cat_group_price"),
            models.Index(fields=["price"], name="ocop_cat_price"),
            models.Index(fields=["name", "id"], name="ocop_cat_name"),
        ]

    def __str__(self) -> str:
        return self.name
