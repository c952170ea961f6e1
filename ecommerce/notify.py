"""Messages about an order, by SMS and e-mail, through the notifications app.

At each state change of an order (placed, confirmed, paid, shipped, delivered, cancelled) the
buyer gets an SMS on their mobile phone and, when they gave one, an e-mail. The producer gets
one when an order is placed (what to confirm) and when the buyer cancels it.

Each message is a ``notifications.services.create_notification`` job: a durable job whose row is
written in the caller's transaction (``ecommerce.services`` calls ``order_changed`` inside the
transaction of the state change), so a change that is rolled back sends nothing and a change
that commits is never left without its message, whatever happens to Redis or the worker. An
address the gateway would refuse (a landline, no e-mail) is skipped and logged; the order's
change stands.

The links in the messages are built from the commune's configured address (``core.links``),
never from the request's Host: the buyer's page ``/don-hang/<code>/`` (a guest is asked for the
last four digits of their phone there) and the producer's ``/ocop/orders/<id>/``. The text is
written in the portal's language (``settings.LANGUAGE_CODE``), whatever language the page that
made the change used.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core.links import commune_base_url
from core.phones import normalize_mobile

logger = logging.getLogger(__name__)

PLACED = "placed"
CONFIRMED = "confirmed"
PAID = "paid"
SHIPPED = "shipped"
DELIVERED = "delivered"
CANCELLED = "cancelled"
EVENTS = (PLACED, CONFIRMED, PAID, SHIPPED, DELIVERED, CANCELLED)

MAX_ITEMS_TEXT = 160
MAX_REASON_TEXT = 200
MAX_NAME_TEXT = 80


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def money(amount) -> str:
    """1234000 → '1.234.000 đ'."""
    return f"{int(amount or 0):,}".replace(",", ".") + " đ"


def _path(name: str, *args) -> str:
    try:
        return reverse(name, args=args, urlconf="config.urls_tenant")
    except NoReverseMatch:  # the page is not installed: the message goes without its link
        return ""


def buyer_url(order) -> str:
    """The buyer's page of the order on the commune's configured address."""
    path = _path("ocop:order", order.code)
    return f"{commune_base_url()}{path}" if path else ""


def producer_url(order) -> str:
    """The producer's page of the order on the commune's configured address."""
    path = _path("ecommerce:order", order.pk)
    return f"{commune_base_url()}{path}" if path else ""


def items_text(order) -> str:
    """'Gạo nếp Tú Lệ × 2 kg; Chè Shan tuyết × 1 hộp'."""
    lines = [f"{line.name} × {line.quantity} {line.unit}" for line in order.lines.all()]
    return _short("; ".join(lines), MAX_ITEMS_TEXT)


def _values(order, **context) -> dict:
    from ecommerce import vietqr

    producer = order.producer
    return {
        "code": order.code,
        "producer": _short(producer.name, MAX_NAME_TEXT),
        "total": money(order.total),
        "items": items_text(order),
        "url": buyer_url(order),
        "account": producer.bank_account,
        "account_name": _short(producer.bank_account_name, MAX_NAME_TEXT),
        "purpose": vietqr.purpose_for(order.code),
        "shipping": _short(order.shipping_note, 120),
        "reason": _short(context.get("reason") or order.cancel_reason, MAX_REASON_TEXT),
    }


def compose_for_buyer(order, event: str, **context) -> tuple[str, str]:
    """(subject, text) of the buyer's message for ``event`` (one of ``EVENTS``)."""
    values = _values(order, **context)
    follow = (" " + _("Follow it at %(url)s") % values) if values["url"] else ""
    if event == PLACED:
        subject = _("Order %(code)s placed") % values
        text = _("Your order %(code)s with %(producer)s (%(total)s) was placed. The producer confirms that the goods "
                 "are available, then you pay by bank transfer.") % values + follow
    elif event == CONFIRMED:
        subject = _("Order %(code)s confirmed: please pay") % values
        if order.producer.can_be_paid_by_vietqr:
            text = _("%(producer)s confirmed order %(code)s. Please transfer %(total)s to account %(account)s "
                     "(%(account_name)s) with the purpose “%(purpose)s”, or scan the VietQR code on the order's "
                     "page.") % values + follow
        else:
            text = _("%(producer)s confirmed order %(code)s (%(total)s). The producer will tell you how to "
                     "pay.") % values + follow
    elif event == PAID:
        subject = _("Order %(code)s: payment received") % values
        text = _("The payment of %(total)s for order %(code)s was received. %(producer)s prepares the "
                 "shipment.") % values + follow
    elif event == SHIPPED:
        subject = _("Order %(code)s shipped") % values
        text = _("Order %(code)s was shipped.") % values
        if values["shipping"]:
            text += " " + _("Carrier and tracking number: %(shipping)s.") % values
        text += follow
    elif event == DELIVERED:
        subject = _("Order %(code)s delivered") % values
        text = _("Order %(code)s was delivered. Thank you for buying OCOP products from %(producer)s.") % values
    elif event == CANCELLED:
        subject = _("Order %(code)s cancelled") % values
        text = _("Order %(code)s was cancelled. Reason: %(reason)s") % values
        if order.payments.exists():
            text += " " + _("The producer refunds what you paid.")
    else:
        raise ValueError(f"unknown event {event!r}")
    return subject, text


def compose_for_producer(order, event: str, **context) -> tuple[str, str]:
    """(subject, text) of the producer's message: a new order, or one the buyer cancelled."""
    values = {**_values(order, **context), "url": producer_url(order)}
    open_it = (" " + _("Open it at %(url)s") % values) if values["url"] else ""
    if event == PLACED:
        subject = _("New order %(code)s") % values
        text = _("New order %(code)s: %(items)s, total %(total)s. Confirm it when the goods are "
                 "available.") % values + open_it
    elif event == CANCELLED:
        subject = _("Order %(code)s cancelled by the buyer") % values
        text = _("The buyer cancelled order %(code)s. Reason: %(reason)s") % values + open_it
    else:
        raise ValueError(f"no producer's message for {event!r}")
    return subject, text


def _send(order, targets, subject: str, text: str, user) -> list:
    from notifications.models import Channel
    from notifications.services import MAX_SMS_LENGTH, create_notification

    sent = []
    for channel, recipient in targets:
        message = _short(text, MAX_SMS_LENGTH) if channel == Channel.SMS else text
        try:
            sent.append(create_notification(
                channel=channel, message=message, recipients=[recipient],
                subject=subject if channel == Channel.EMAIL else "",
                user=user if getattr(user, "is_authenticated", False) else None,
            ))
        except ValidationError as exc:
            logger.warning("Order %s: %s message not sent: %s", order.pk, channel, exc)
    return sent


def _targets(phone: str, email: str) -> list[tuple[str, str]]:
    from notifications.models import Channel

    targets = []
    mobile = normalize_mobile(phone)
    if mobile:
        targets.append((Channel.SMS, mobile))
    if email:
        targets.append((Channel.EMAIL, email))
    return targets


def order_changed(order, event: str, *, user=None, by_buyer: bool = False, **context) -> list:
    """Send the messages of ``event`` (the buyer's, and the producer's where there is one);
    returns the jobs made, the buyer's first. Call it inside the transaction of the change."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    with translation.override(settings.LANGUAGE_CODE):
        subject, text = compose_for_buyer(order, event, **context)
        producer_message = None
        if event == PLACED or (event == CANCELLED and by_buyer):
            producer_message = compose_for_producer(order, event, **context)
    sent = _send(order, _targets(order.buyer_phone, order.buyer_email), subject, text, user)
    if producer_message is not None:
        producer = order.producer
        sent += _send(order, _targets(producer.phone, producer.email), *producer_message, user)
    return sent
