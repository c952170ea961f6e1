"""The installation's trust store (public schema): the CA certificates it trusts for signatures,
and the log of public signature checks.

Trust roots are configuration: an operator imports the certificates of the authorities the
installation trusts (the Government Cipher Committee's CA for official-duty signatures, licensed
public CAs, the demo CA on a demonstration machine). Nothing else is ever trusted: the operating
system's store is never consulted.
"""
from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class TrustAnchor(models.Model):
    """A certificate authority whose certificates the portal trusts (chứng thư số gốc tin cậy)."""

    label = models.CharField(_("label"), max_length=200)
    cert_der = models.BinaryField(_("certificate (DER)"), editable=False)
    subject = models.CharField(_("subject"), max_length=500, editable=False)
    issuer = models.CharField(_("issuer"), max_length=500, editable=False)
    fingerprint = models.CharField(
        _("SHA-256 fingerprint"), max_length=64, unique=True, editable=False,
        help_text=_("SHA-256 of the certificate, in hexadecimal."),
    )
    not_before = models.DateTimeField(_("valid from"), editable=False)
    not_after = models.DateTimeField(_("valid until"), editable=False)
    source = models.CharField(
        _("source"), max_length=200, blank=True,
        help_text=_("Where the certificate came from (a file, the administration pages, the demo)."),
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("Only active authorities are trusted."))
    added_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)
    added_by_user_id = models.BigIntegerField(_("added by (user id)"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["cert_der"])

    class Meta:
        verbose_name = _("trusted certificate authority")
        verbose_name_plural = _("trusted certificate authorities")
        ordering = ["label", "id"]

    def __str__(self) -> str:
        return self.label or self.subject

    @property
    def is_current(self) -> bool:
        now = timezone.now()
        return self.not_before <= now <= self.not_after


class VerificationLog(models.Model):
    """One public check of a signed PDF. The file itself is never kept: only its digest and size."""

    class Channel(models.TextChoices):
        PAGE = "page", _("Web page")
        API = "api", _("API")

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    host = models.CharField(_("host"), max_length=253, blank=True)
    schema_name = models.CharField(
        _("commune schema"), max_length=63, blank=True, help_text=_("Empty on the national host."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    user_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP address"), null=True, blank=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True, db_index=True)
    file_size = models.BigIntegerField(_("file size (bytes)"), default=0)
    outcome = models.JSONField(
        _("outcome"), default=dict, blank=True,
        help_text=_("Summary: overall verdict, number of signatures and their verdicts, or the rejection code."),
    )

    class Meta:
        verbose_name = _("signature check")
        verbose_name_plural = _("signature checks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.host} {self.outcome.get('verdict') or self.outcome.get('rejected', '')}"
