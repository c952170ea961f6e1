"""Tables of the public side of the outbox (public schema only).

* ``Publication``: the ledger of what was applied, one row per (topic, commune, key): the version
  (the id of the entry last applied), the payload's digest, and whether the key was withdrawn (a
  tombstone kept so that an older entry arriving late cannot bring the row back). The writer
  applies an entry only if its version is above the ledger's; that is what makes delivery
  exactly-once in effect under replays and out-of-order arrival.
* ``Pending``: one row per undelivered entry (schema, entry id, when the sweeper should look at
  it, the last error). Written in the publishing transaction next to the entry and deleted in
  the transaction that delivers it, so that the sweeper finds the communes with work to do in
  one indexed query, whatever the number of communes.
* ``PublishedRow``: the abstract base of a topic's public table, keyed by (commune, key).
* ``MonthlyFacts``: every app's figures per commune, source and month (topic ``facts.monthly``).
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from communes.models import Commune
from published.topics import KEY_MAX_LENGTH, TOPIC_MAX_LENGTH


class Publication(models.Model):
    topic = models.CharField(_("topic"), max_length=TOPIC_MAX_LENGTH)
    commune = models.ForeignKey(Commune, verbose_name=_("commune"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=KEY_MAX_LENGTH)
    version = models.BigIntegerField(_("version"))
    digest = models.CharField(_("digest"), max_length=64, blank=True)
    withdrawn = models.BooleanField(_("withdrawn"), default=False)
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [
            models.UniqueConstraint(fields=["commune", "topic", "key"], name="published_publication_key"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.key} v{self.version}"


class Pending(models.Model):
    schema_name = models.CharField(_("schema"), max_length=63)
    entry_id = models.BigIntegerField(_("entry"))
    topic = models.CharField(_("topic"), max_length=TOPIC_MAX_LENGTH)
    due_at = models.DateTimeField(
        _("due at"), help_text=_("When the sweeper wakes the commune's writer if the entry is still here."))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("undelivered entry")
        verbose_name_plural = _("undelivered entries")
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["schema_name", "entry_id"], name="published_pending_entry"),
        ]
        indexes = [models.Index(fields=["due_at"], name="published_pending_due")]

    def __str__(self) -> str:
        return f"{self.schema_name}#{self.entry_id} ({self.topic})"


class PublishedRow(models.Model):
    """The base of a topic's public table: the commune, the key, and the version (the id of the
    entry that wrote the row). ``published.rows.store`` upserts one."""

    commune = models.ForeignKey(Commune, verbose_name=_("commune"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=KEY_MAX_LENGTH)
    version = models.BigIntegerField(_("version"))
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["commune", "key"], name="%(app_label)s_%(class)s_key")]


class MonthlyFacts(PublishedRow):
    """One app's figures (``communes.modules.FactsSource``) for one commune and one month."""

    source = models.CharField(_("source"), max_length=64)
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    figures = models.JSONField(_("figures"), default=dict)

    class Meta(PublishedRow.Meta):
        verbose_name = _("monthly figures")
        verbose_name_plural = _("monthly figures")
        ordering = ["commune", "month", "source"]
        indexes = [models.Index(fields=["month", "source"], name="published_facts_month")]

    def __str__(self) -> str:
        return f"{self.source} {self.month:%m/%Y}"
