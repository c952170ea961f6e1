"""The outbox of a commune (its own schema): one entry per published or withdrawn row.

An entry is written by ``outbox.services.publish``/``withdraw`` in the transaction that changed
the commune's data, and marked delivered in the transaction that applied it to the public schema.
Its id is the version of what it carries: within a commune, a later entry has a larger id.
Delivered entries are kept ``XASO_OUTBOX_KEEP_DAYS`` days (what was published, and when), then
pruned by the writer.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from published.topics import KEY_MAX_LENGTH, TOPIC_MAX_LENGTH


class Entry(models.Model):
    topic = models.CharField(_("topic"), max_length=TOPIC_MAX_LENGTH)
    key = models.CharField(_("key"), max_length=KEY_MAX_LENGTH)
    payload = models.JSONField(_("payload"), null=True, blank=True, help_text=_("Empty for a withdrawal."))
    digest = models.CharField(_("digest"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    superseded = models.BooleanField(
        _("superseded"), default=False,
        help_text=_("Delivered without effect: the public side already held a newer entry for the key."))

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox entries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(delivered_at__isnull=True), name="outbox_entry_pending"),
            models.Index(fields=["delivered_at"], name="outbox_entry_delivered"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.topic} {self.key}"

    @property
    def withdrawn(self) -> bool:
        return self.payload is None
