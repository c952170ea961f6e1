"""Payment notifications for OCOP orders: a buyer's VietQR transfer to the producer's own account,
reported by the bank (or the notification service that watches the producers' accounts).

The bank POSTs JSON ``{"commune", "transaction_id", "amount", "purpose", "account", "paid_at"}``
to ``/api/v1/ocop/bank-notifications/`` of the commune's host, signed with HMAC-SHA256 over the
raw body; the hex digest travels in the ``X-Xaso-Signature`` header (``core.bank_notifications``
checks the signature and the body, as for the one-stop desk's fees).

The secret is the commune's **marketplace** secret: ``HMAC-SHA256(XASO_BANK_WEBHOOK_SECRET,
"xaso.ocop-bank-notifications:" + commune code)`` in hex (``commune_secret``; ``python manage.py
ocop_bank_webhook_secret <commune code>`` prints it). Its label differs from the desk's
(``onestop.payments``), so the secret a commune gives its bank for the desk's fees cannot pay an
order, and the marketplace's cannot pay a dossier's fee.

What happens to a notification:

* a bad or missing signature: 403 ``bad_signature``, nothing recorded;
* a body that is not the JSON above: 400 ``invalid`` with the field to blame, nothing recorded;
* one addressed to another commune (``commune`` is another code, or without ``commune`` the
  ``account`` is no producer's account of this commune): 400 ``wrong_commune``, nothing recorded;
* a transaction already notified (its id is unique in ``BankNotification``): 200
  ``{"status": "duplicate"}``, nothing recorded (a replay, or the bank's retry);
* otherwise the notification is kept with its outcome, and answered 200 with it:
  ``recorded`` (the order is paid through ``services.mark_paid``, with its message to the
  buyer), ``unmatched`` (no order code in the purpose), ``wrong_account`` (paid to another
  account than the order's producer's), ``wrong_amount`` (not the order's total) or
  ``not_payable`` (the order is not waiting for its payment: not confirmed yet, cancelled, or
  already paid). Nothing is paid for those; the producer sees them on the order's page.

The order is found by its code in the transfer's purpose (``DH <order code>``; banks may drop
the space or add words around it).
"""
from __future__ import annotations

import logging
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from communes.permissions import current_commune
from core import bank_notifications as signed
from core.validation import error_code
from ecommerce.models import CODE_ALPHABET, BankNotification, Order, PaymentSource, Producer

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = signed.SIGNATURE_HEADER
MAX_BODY_BYTES = signed.MAX_BODY_BYTES
SECRET_LABEL = "xaso.ocop-bank-notifications"
CODE_LENGTH = 8

RECORDED = "recorded"
DUPLICATE = "duplicate"
UNMATCHED = "unmatched"
WRONG_ACCOUNT = "wrong_account"
WRONG_AMOUNT = "wrong_amount"
NOT_PAYABLE = "not_payable"
OUTCOMES = (RECORDED, UNMATCHED, WRONG_ACCOUNT, WRONG_AMOUNT, NOT_PAYABLE)

_STANDALONE = re.compile(rf"(?<![A-Z0-9])([{CODE_ALPHABET}]{{{CODE_LENGTH}}})(?![A-Z0-9])")
_AFTER_DH = re.compile(rf"(?=DH([{CODE_ALPHABET}]{{{CODE_LENGTH}}}))")


def commune_secret(commune) -> str:
    """The secret the notifications of ``commune``'s order payments are signed with (empty when
    the installation has none)."""
    return signed.derived_secret(SECRET_LABEL, commune)


def signature_ok(raw_body: bytes, signature_header: str | None, commune=None) -> bool:
    return signed.signature_matches(raw_body, signature_header,
                                    commune_secret(commune if commune is not None else current_commune()))


def _account(text: str) -> str:
    return re.sub(r"\s", "", str(text or ""))


def find_order(purpose: str) -> Order | None:
    """The order whose code is in the transfer's purpose: after 'DH' (with or without a space), or
    as a word of its own; None when there is none or more than one."""
    upper = str(purpose or "").upper()
    flat = re.sub(r"[^A-Z0-9]", "", upper)
    for candidates in (set(_AFTER_DH.findall(flat)), set(_STANDALONE.findall(upper))):
        if not candidates:
            continue
        matches = list(Order.objects.select_related("producer").filter(code__in=candidates)[:2])
        if len(matches) == 1:
            return matches[0]
        if matches:
            return None
    return None


def names_commune(data: dict, commune) -> bool:
    """Whether the notification is addressed to ``commune``: by its official code, or (without
    one) by the account of one of its producers."""
    if data["commune"]:
        return data["commune"] == commune.code
    account = _account(data["account"])
    return bool(account) and Producer.objects.filter(bank_account=account).exists()


def handle_bank_notification(raw_body: bytes, signature_header: str | None) -> tuple[int, dict]:
    """Check, record and apply one notification; returns (HTTP status, JSON body)."""
    commune = current_commune()
    if commune is None:
        return signed.error(404, "not_found", _("Not found."))
    raw_body = bytes(raw_body or b"")
    if not signature_ok(raw_body, signature_header, commune):
        return signed.error(403, "bad_signature", _("The signature of the notification is not valid."))
    if len(raw_body) > MAX_BODY_BYTES:
        return signed.error(400, "invalid", _("The notification is too large."))
    data, problem = signed.parse(raw_body)
    if problem is not None:
        return problem
    if not names_commune(data, commune):
        return signed.error(400, "wrong_commune", _("The notification is not addressed to this commune."),
                            {"commune": _("Name the commune (its 5-digit code) the transfer was made in.")})
    payload = {**data, "paid_at": data["paid_at"].isoformat() if data["paid_at"] else None}
    if BankNotification.objects.filter(transaction_id=data["transaction_id"]).exists():
        return 200, {"status": DUPLICATE}
    try:
        with transaction.atomic():
            notice = BankNotification.objects.create(transaction_id=data["transaction_id"], payload=payload,
                                                     outcome="received")
            outcome, order, detail = _apply(data)
            notice.outcome, notice.order = outcome, order
            notice.save(update_fields=["outcome", "order"])
    except IntegrityError:  # the same transaction at the same moment: the other request recorded it
        return 200, {"status": DUPLICATE}
    body = {"status": outcome}
    if order is not None:
        body["order"] = order.code
    if detail:
        body["detail"] = detail
    return 200, body


def _apply(data: dict) -> tuple[str, Order | None, str]:
    """(outcome, order, detail): the order paid through the services when everything fits."""
    from ecommerce import services

    order = find_order(data["purpose"])
    if order is None:
        return UNMATCHED, None, _("No order code was found in the purpose of the transfer.")
    account = _account(data["account"])
    if account and account != _account(order.producer.bank_account):
        return WRONG_ACCOUNT, order, _("The transfer was made to another account than the producer's.")
    try:
        with transaction.atomic():
            services.mark_paid(None, order, amount=data["amount"], transaction_id=data["transaction_id"],
                               paid_at=data["paid_at"] or None, purpose=str(data["purpose"])[:100],
                               source=PaymentSource.BANK)
    except ValidationError as exc:
        code = error_code(exc)
        logger.info("Bank payment %s for order %s not recorded: %s", data["transaction_id"], order.code, exc.messages)
        outcome = WRONG_AMOUNT if code == "wrong_amount" else NOT_PAYABLE
        return outcome, order, exc.messages[0] if exc.messages else ""
    return RECORDED, order, ""


def outcome_label(outcome: str) -> str:
    """The outcome in words, for the producer's page."""
    labels = {
        RECORDED: _("Payment recorded"),
        UNMATCHED: _("No order code in the purpose"),
        WRONG_ACCOUNT: _("Paid to another account"),
        WRONG_AMOUNT: _("Not the order's total: nothing recorded"),
        NOT_PAYABLE: _("The order was not waiting for a payment: nothing recorded"),
    }
    return labels.get(outcome, outcome)


def transfer_details(order) -> dict | None:
    """What the buyer needs to pay ``order`` by transfer to the producer's own account: the
    account, the amount, the purpose and the VietQR payload. Only once the producer has confirmed
    the order (its stock is reserved, so what is paid for is there) and while it waits for its
    payment, and only when the producer has an account for transfers; None otherwise."""
    from ecommerce import vietqr
    from ecommerce.models import OrderState

    producer = order.producer
    if order.state != OrderState.CONFIRMED or not producer.can_be_paid_by_vietqr:
        return None
    return {
        "bank_bin": producer.bank_bin, "account": producer.bank_account, "account_name": producer.bank_account_name,
        "amount": order.total, "purpose": vietqr.purpose_for(order.code), "payload": vietqr.payload_for(order),
    }
