"""Shared (public-schema) tables of the core app."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class ThrottleCounter(models.Model):
    """Attempts of one key in one throttle's current window (see ``core.throttle``). The key is
    kept only as an HMAC: it may be a client address or an account name."""

    scope = models.CharField(_("throttle"), max_length=60)
    key_hash = models.CharField(_("key (HMAC)"), max_length=64)
    window_start = models.DateTimeField(_("window opened at"))
    window_seconds = models.PositiveIntegerField(_("window length (seconds)"))
    count = models.PositiveIntegerField(_("attempts"))

    class Meta:
        verbose_name = _("throttle counter")
        verbose_name_plural = _("throttle counters")
        constraints = [models.UniqueConstraint(fields=["scope", "key_hash"], name="throttlecounter_scope_key")]
