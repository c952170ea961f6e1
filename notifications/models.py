"""Notifications to households: an SMS or e-mail campaign is a durable job, each recipient a
delivery row whose idempotency key never changes, so a retried job skips what was delivered
and sends the rest again with the same keys. A delivery is committed as *sending* before its
gateway call and as *sent* after it; one a crash left *sending* is looked up at the gateway, or
marked *uncertain* for an official to decide (``Notification.run``)."""
from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
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
        """Send to every recipient not yet settled; progress after each one.

        Each send is recorded in two commits around the gateway call: *sending* before it (the
        intent, with the delivery's idempotency key), *sent* or *failed* after it. A delivery a
        crashed run left *sending* is settled first (``_settle``): looked up at the gateway, sent
        again with the same key where the gateway drops repeats, or else marked *uncertain* and
        left to an official. So a message whose call may have reached the gateway is never sent
        a second time without a person deciding (see ``notifications.gateways``).
        """
        from notifications.gateways import get_gateway

        recipients = list(self.recipients or [])
        total = len(recipients)
        Delivery.objects.bulk_create(
            [Delivery(notification=self, index=i, recipient=r, idempotency_key=f"{self.idempotency_key}:{i}")
             for i, r in enumerate(recipients)],
            ignore_conflicts=True,
        )
        gateway = get_gateway()
        open_states = (Delivery.Status.PENDING, Delivery.Status.SENDING)
        deliveries = list(self.deliveries.order_by("index"))
        done = sum(1 for d in deliveries if d.status not in open_states)
        ctx.progress(_percent(done, total), _progress_message(done, total))
        for delivery in deliveries:
            if delivery.status not in open_states:
                continue
            ctx.check()
            if delivery.status == Delivery.Status.SENDING:
                delivery.status = self._settle(delivery, gateway)
            if delivery.status == Delivery.Status.PENDING:
                self._send(delivery, gateway)
            done += 1
            ctx.progress(_percent(done, total), _progress_message(done, total))
        counts = dict(
            self.deliveries.values_list("status").annotate(n=models.Count("id")).values_list("status", "n")
        )
        sent, failed = counts.get(Delivery.Status.SENT, 0), counts.get(Delivery.Status.FAILED, 0)
        uncertain = counts.get(Delivery.Status.UNCERTAIN, 0)
        if total and not sent and not uncertain:
            raise PermanentError(_("No recipient could be reached."))
        result = {"total": total, "sent": sent, "failed": failed}
        if uncertain:
            result["uncertain"] = uncertain
        return result

    def _call(self, gateway, delivery) -> str:
        if self.channel == Channel.EMAIL:
            return gateway.send_email(
                delivery.recipient, self.subject or str(_("Notice from the commune")), self.message,
                delivery.idempotency_key,
            )
        return gateway.send_sms(delivery.recipient, self.message, delivery.idempotency_key)

    def _send(self, delivery, gateway) -> None:
        """Commit the intent, call the gateway, commit the outcome."""
        from notifications.gateways import GatewayUncertainError

        pending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING)
        if not pending.update(status=Delivery.Status.SENDING, sending_at=timezone.now()):
            return  # settled meanwhile
        sending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING)
        try:
            message_id = self._call(gateway, delivery)
        except GatewayUncertainError as exc:
            # It may have left: stays "sending", and the next run settles it (never blindly re-sent).
            sending.update(error=str(exc)[:500])
            raise
        except RetryableError as exc:  # the gateway did not take it: sending it again is safe
            sending.update(status=Delivery.Status.PENDING, error=str(exc)[:500])
            raise
        except PermanentError as exc:
            sending.update(status=Delivery.Status.FAILED, error=str(exc)[:500])
        else:
            self._mark_sent(delivery, message_id)

    def _mark_sent(self, delivery, message_id) -> None:
        with transaction.atomic():
            if Delivery.objects.filter(
                pk=delivery.pk, status__in=(Delivery.Status.SENDING, Delivery.Status.PENDING),
            ).update(status=Delivery.Status.SENT, gateway_message_id=str(message_id or "")[:200], error=""):
                Notification.objects.filter(pk=self.pk).update(sent_count=models.F("sent_count") + 1)

    def _settle(self, delivery, gateway) -> str:
        """What became of a call an earlier run started and did not record. Returns the status."""
        sending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING)
        if gateway.can_look_up(self.channel):
            found = gateway.look_up(self.channel, delivery.idempotency_key)  # cannot answer: retry later
            if found.accepted:
                self._mark_sent(delivery, found.message_id)
                return Delivery.Status.SENT
            sending.update(status=Delivery.Status.PENDING)
            return Delivery.Status.PENDING
        if gateway.deduplicates(self.channel):  # the same key again reaches the phone once
            sending.update(status=Delivery.Status.PENDING)
            return Delivery.Status.PENDING
        sending.update(status=Delivery.Status.UNCERTAIN, error=str(_(
            "The connection was lost during the send: the message may have reached the recipient. "
            "It is not sent again unless an official asks for it."))[:500])
        return Delivery.Status.UNCERTAIN


def _percent(done: int, total: int) -> int:
    return 100 if not total else int(done * 100 / total)


def _progress_message(done: int, total: int) -> str:
    return str(_("%(done)d of %(total)d recipients") % {"done": done, "total": total})


class Delivery(models.Model):
    """One recipient of a notification and what the gateway answered."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNCERTAIN = "uncertain", _("Uncertain")

    notification = models.ForeignKey(
        Notification, verbose_name=_("notification"), on_delete=models.CASCADE, related_name="deliveries"
    )
    index = models.PositiveIntegerField(_("position"))
    recipient = models.CharField(_("recipient"), max_length=254)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_message_id = models.CharField(_("gateway message id"), max_length=200, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    sending_at = models.DateTimeField(
        _("sending since"), null=True, blank=True,
        help_text=_("When the call to the gateway started (committed before the call)."),
    )
    resent_in = models.ForeignKey(
        Notification, verbose_name=_("sent again in"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="resent_deliveries",
        help_text=_("An uncertain delivery that an official chose to send again, as this notification."),
    )
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

    @property
    def can_send_again(self) -> bool:
        return self.status == self.Status.UNCERTAIN and self.resent_in_id is None
