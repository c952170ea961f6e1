"""Notifications to households: an SMS or e-mail campaign is a durable job, each recipient a
delivery row whose idempotency key never changes, so a retried job skips what was delivered
and sends the rest again with the same keys."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jobs.exceptions import PermanentError, RetryableError
from jobs.models import Job
from jobs.registry import register


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Target(models.TextChoices):
    LIST = "list", _("A list of phone numbers or e-mail addresses")
    ALL_HOUSEHOLDS = "all_households", _("All households")
    VILLAGE = "village", _("The households of one village")


@register
class Notification(Job):
    """A message sent to many recipients by SMS or e-mail (a job run by a Celery worker)."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.SMS)
    target = models.CharField(_("recipients"), max_length=20, choices=Target.choices, default=Target.LIST)
    village_id = models.BigIntegerField(_("village"), null=True, blank=True)
    recipients = models.JSONField(_("recipient list"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    message = models.TextField(_("message"))
    sent_count = models.PositiveIntegerField(_("sent"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.DO_NOTHING, related_name="+", db_constraint=False,  # no FK across schemas
    )

    class Meta(Job.Meta):
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}: {self.message[:40]}"

    @property
    def recipient_count(self) -> int:
        return len(self.recipients or [])

    def run(self, ctx):
        """Send to every recipient not yet delivered; progress after each one."""
        from notifications.gateways import get_gateway

        recipients = list(self.recipients or [])
        total = len(recipients)
        Delivery.objects.bulk_create(
            [Delivery(notification=self, index=i, recipient=r, idempotency_key=f"{self.idempotency_key}:{i}")
             for i, r in enumerate(recipients)],
            ignore_conflicts=True,
        )
        gateway = get_gateway()
        deliveries = list(self.deliveries.order_by("index"))
        done = sum(1 for d in deliveries if d.status != Delivery.Status.PENDING)
        ctx.progress(_percent(done, total), _progress_message(done, total))
        for delivery in deliveries:
            if delivery.status != Delivery.Status.PENDING:
                continue
            ctx.check()
            try:
                if self.channel == Channel.EMAIL:
                    message_id = gateway.send_email(
                        delivery.recipient, self.subject or str(_("Notice from the commune")),
                        self.message, delivery.idempotency_key,
                    )
                else:
                    message_id = gateway.send_sms(delivery.recipient, self.message, delivery.idempotency_key)
            except RetryableError as exc:
                Delivery.objects.filter(pk=delivery.pk).update(error=str(exc)[:500])
                raise
            except PermanentError as exc:
                Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
                    status=Delivery.Status.FAILED, error=str(exc)[:500],
                )
            else:
                if Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
                    status=Delivery.Status.SENT, gateway_message_id=str(message_id or "")[:200], error="",
                ):
                    Notification.objects.filter(pk=self.pk).update(sent_count=models.F("sent_count") + 1)
            done += 1
            ctx.progress(_percent(done, total), _progress_message(done, total))
        counts = dict(
            self.deliveries.values_list("status").annotate(n=models.Count("id")).values_list("status", "n")
        )
        sent, failed = counts.get(Delivery.Status.SENT, 0), counts.get(Delivery.Status.FAILED, 0)
        if total and not sent:
            raise PermanentError(_("No recipient could be reached."))
        return {"total": total, "sent": sent, "failed": failed}


def _percent(done: int, total: int) -> int:
    return 100 if not total else int(done * 100 / total)


def _progress_message(done: int, total: int) -> str:
    return str(_("%(done)d of %(total)d recipients") % {"done": done, "total": total})


class Delivery(models.Model):
    """One recipient of a notification and what the gateway answered."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.ForeignKey(
        Notification, verbose_name=_("notification"), on_delete=models.CASCADE, related_name="deliveries"
    )
    index = models.PositiveIntegerField(_("position"))
    recipient = models.CharField(_("recipient"), max_length=254)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_message_id = models.CharField(_("gateway message id"), max_length=200, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["notification", "index"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "index"], name="delivery_unique_index"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.get_status_display()})"
