"""Writes on notifications: check the input, resolve the recipients, enqueue the job."""
from __future__ import annotations

import re

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from core.phones import normalize_mobile
from jobs.services import enqueue
from notifications.models import Channel, Delivery, Notification, Target

MAX_RECIPIENTS = 20000
MAX_SMS_LENGTH = 640  # four long SMS segments
MAX_EMAIL_LENGTH = 20000


def normalize_phone(value: str) -> str | None:
    """A mobile number as the gateway receives it (0XXXXXXXXX); None when it is not one.

    The registry's rule (``core.phones``): an SMS to a landline could never be delivered.
    """
    return normalize_mobile(value) or None


def split_recipients(text: str) -> list[str]:
    """Split a pasted list (one per line, or separated by commas or semicolons)."""
    return [item.strip() for item in re.split(r"[\n,;]+", text or "") if item.strip()]


def clean_recipients(channel: str, values) -> list[str]:
    """Check and normalise a list of phones or e-mails; duplicates are dropped, order kept."""
    cleaned: list[str] = []
    invalid: list[str] = []
    for raw in values or []:
        raw = str(raw).strip()
        if not raw:
            continue
        if channel == Channel.SMS:
            value = normalize_phone(raw)
        else:
            try:
                validate_email(raw)
                value = raw.lower()
            except ValidationError:
                value = None
        if value is None:
            invalid.append(raw)
        elif value not in cleaned:
            cleaned.append(value)
    if invalid:
        shown = ", ".join(invalid[:5]) + ("…" if len(invalid) > 5 else "")
        if channel == Channel.SMS:
            message = _("These phone numbers are not valid: %(values)s") % {"values": shown}
        else:
            message = _("These e-mail addresses are not valid: %(values)s") % {"values": shown}
        raise ValidationError({"recipients": message})
    return cleaned


def population_available() -> bool:
    try:
        apps.get_model("population", "Household")
    except LookupError:
        return False
    return True


def village_choices() -> list[tuple[int, str]]:
    """Villages of the commune, when the population registry has them."""
    try:
        village = apps.get_model("population", "Village")
    except LookupError:
        return []
    return [(v.pk, str(v)) for v in village.objects.all()]


def household_recipients(channel: str, village_id=None) -> list[str]:
    """Phones (or e-mails) of the households in the population registry, resolved now."""
    try:
        household = apps.get_model("population", "Household")
    except LookupError:
        raise ValidationError({"target": _("The population registry is not available in this installation.")})
    field = "phone" if channel == Channel.SMS else "email"
    if field not in {f.name for f in household._meta.get_fields()}:
        raise ValidationError({"channel": _("Households have no address for this channel.")})
    queryset = household.objects.exclude(**{f"{field}__isnull": True}).exclude(**{field: ""})
    if village_id is not None:
        queryset = queryset.filter(village_id=village_id)
    values = list(queryset.order_by("pk").values_list(field, flat=True))
    if channel == Channel.SMS:
        values = [normalize_phone(v) for v in values]
    result: list[str] = []
    for value in values:
        if value and value not in result:
            result.append(value)
    return result


@transaction.atomic
def create_notification(*, channel: str, message: str, target: str = Target.LIST, recipients=None,
                        village_id=None, subject: str = "", user=None) -> Notification:
    """Check the input, fix the recipient list and enqueue the sending job."""
    errors: dict[str, str] = {}
    message = (message or "").strip()
    subject = (subject or "").strip()
    if channel not in Channel.values:
        errors["channel"] = _("Choose SMS or e-mail.")
    if target not in Target.values:
        errors["target"] = _("Choose who receives the message.")
    if not message:
        errors["message"] = _("Write the message.")
    elif channel == Channel.SMS and len(message) > MAX_SMS_LENGTH:
        errors["message"] = _("An SMS can hold at most %(max)d characters.") % {"max": MAX_SMS_LENGTH}
    elif len(message) > MAX_EMAIL_LENGTH:
        errors["message"] = _("The message is too long.")
    if len(subject) > 200:
        errors["subject"] = _("The subject can hold at most 200 characters.")
    if target == Target.VILLAGE and not village_id:
        errors["village"] = _("Choose the village.")
    if errors:
        raise ValidationError(errors)

    if target == Target.LIST:
        resolved = clean_recipients(channel, recipients)
    else:
        if target == Target.VILLAGE:
            try:
                village_id = int(village_id)
            except (TypeError, ValueError):
                raise ValidationError({"village": _("Choose the village.")})
            if village_id not in {pk for pk, _label in village_choices()}:
                raise ValidationError({"village": _("This village does not exist in the commune.")})
        else:
            village_id = None
        resolved = household_recipients(channel, village_id)
    if not resolved:
        raise ValidationError({"recipients": _("There is no recipient to send to.")})
    if len(resolved) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": _("At most %(max)d recipients per notification.") % {"max": MAX_RECIPIENTS}})

    notification = Notification(
        channel=channel, target=target, village_id=village_id if target == Target.VILLAGE else None,
        recipients=resolved, message=message, subject=subject,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    return enqueue(notification)


@transaction.atomic
def send_again(delivery_pk: int, *, user=None) -> Notification:
    """An official confirmed that an uncertain delivery is to be sent again.

    An uncertain delivery's call may have reached the gateway (the connection was lost before
    its answer was recorded), so the recipient may already have the message: only a person
    decides to send it a second time. It goes out as a new notification to that one recipient,
    with new idempotency keys (the old key would be dropped by a gateway that deduplicates).
    """
    delivery = (
        Delivery.objects.select_for_update().select_related("notification").filter(pk=delivery_pk).first()
    )
    if delivery is None:
        raise ValidationError({"delivery": ValidationError(_("This delivery does not exist."), code="not_found")})
    if delivery.status != Delivery.Status.UNCERTAIN:
        raise ValidationError({"delivery": ValidationError(
            _("Only a delivery whose outcome is uncertain can be sent again."), code="not_uncertain")})
    if delivery.resent_in_id is not None:
        raise ValidationError({"delivery": ValidationError(_("This delivery was already sent again."), code="already_sent_again")})
    original = delivery.notification
    again = enqueue(Notification(
        channel=original.channel, target=Target.LIST, recipients=[delivery.recipient],
        subject=original.subject, message=original.message,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    ))
    Delivery.objects.filter(pk=delivery.pk).update(resent_in=again)
    return again
