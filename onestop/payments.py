"""Payment notifications from the commune's bank (a VietQR transfer of a dossier's fee).

The bank POSTs JSON ``{"commune", "transaction_id", "amount", "purpose", "account", "paid_at"}``
to ``/api/v1/onestop/bank-notifications/`` of the commune's host, signed with HMAC-SHA256 over
the raw body under **that commune's** secret; the hex digest travels in the ``X-Xaso-Signature``
header. Without a configured installation secret every notification is refused.

Each commune has its own secret, derived from the installation's ``XASO_BANK_WEBHOOK_SECRET``
under this app's label (``core.bank_notifications``, which also checks the signature and the
body): ``HMAC-SHA256(XASO_BANK_WEBHOOK_SECRET, "xaso.bank-notifications:" + commune code)`` in hex
(``commune_secret``; ``python manage.py bank_webhook_secret <commune code>`` prints it for the
bank). The marketplace's order payments use another label, so this secret pays no order.

The notification names the commune it is for: ``commune`` (the 5-digit official code) or, when
that is absent, ``account`` equal to the commune's bank account. One that names another commune
is refused (400 ``wrong_commune``) and records nothing, so a notification to one commune can
never pay a dossier of another; the dossier is looked up in the named commune only.

A transaction is counted once: its id is kept in ``BankNotification`` (unique), so a replay
answers ``{"status": "duplicate"}`` and records nothing. The dossier is found by its code in the
transfer's purpose (banks may drop the dashes: they are ignored in the comparison). A payment
for an unknown dossier or to another account is kept as a notification with its outcome, and
no payment is recorded.
"""
from __future__ import annotations

import logging
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Func, Value
from django.db.models.lookups import Contains
from django.utils.translation import gettext as _

from communes.permissions import current_commune
from core import bank_notifications as signed
from onestop.models import BankNotification, Dossier, PaymentMethod

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = signed.SIGNATURE_HEADER
MAX_BODY_BYTES = signed.MAX_BODY_BYTES
SECRET_LABEL = "xaso.bank-notifications"
MIN_CODE_CHARS = 6

RECORDED = "recorded"
DUPLICATE = "duplicate"
UNMATCHED = "unmatched"
WRONG_ACCOUNT = "wrong_account"
NOT_PAYABLE = "not_payable"


def commune_secret(commune) -> str:
    """The secret the bank of ``commune`` signs with (empty when the installation has none)."""
    return signed.derived_secret(SECRET_LABEL, commune)


sign = signed.sign  # the hex HMAC-SHA256 of a body under a secret (X-Xaso-Signature)


def signature_ok(raw_body: bytes, signature_header: str | None, commune=None) -> bool:
    return signed.signature_matches(raw_body, signature_header,
                                    commune_secret(commune if commune is not None else current_commune()))


_error = signed.error


def _flat(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(text or "").upper())


def find_dossier(purpose: str) -> Dossier | None:
    """The dossier whose code appears in the transfer's purpose (dashes and spaces ignored)."""
    upper = str(purpose or "").upper()
    tokens = set(re.findall(r"[A-Z0-9][A-Z0-9./_-]{%d,39}" % (MIN_CODE_CHARS - 1), upper))
    if tokens:
        dossier = Dossier.objects.filter(code__in=tokens).first()
        if dossier is not None:
            return dossier
    flat = _flat(purpose)
    if len(flat) < MIN_CODE_CHARS:
        return None
    flat_code = Func(F("code"), Value("[^A-Za-z0-9]"), Value(""), Value("g"), function="regexp_replace")
    candidates = (
        Dossier.objects.filter(code__isnull=False)
        .alias(flat_code=Func(flat_code, function="UPPER"))
        .filter(Contains(Value(flat), F("flat_code")))
        .order_by("-received_at")
    )
    matches = [d for d in candidates[:2] if len(_flat(d.code)) >= MIN_CODE_CHARS]
    return matches[0] if len(matches) == 1 else None


_parse = signed.parse


def names_commune(data: dict, commune) -> bool:
    """Whether the notification is addressed to ``commune``: by its official code, or (without
    one) by the commune's bank account."""
    if data["commune"]:
        return data["commune"] == commune.code
    account = re.sub(r"\s", "", data["account"])
    expected = (getattr(commune, "bank_account", "") or "").strip()
    return bool(account and expected and account == expected)


def handle_bank_notification(raw_body: bytes, signature_header: str | None) -> tuple[int, dict]:
    """Check, record and apply one notification; returns (HTTP status, JSON body)."""
    if current_commune() is None:
        return _error(404, "not_found", _("Not found."))
    raw_body = bytes(raw_body or b"")
    if not signature_ok(raw_body, signature_header):
        return _error(403, "bad_signature", _("The signature of the notification is not valid."))
    if len(raw_body) > MAX_BODY_BYTES:
        return _error(400, "invalid", _("The notification is too large."))
    data, problem = _parse(raw_body)
    if problem is not None:
        return problem
    if not names_commune(data, current_commune()):
        return _error(400, "wrong_commune", _("The notification is not addressed to this commune."),
                      {"commune": _("Name the commune (its 5-digit code) the transfer was made to.")})
    payload = {**data, "paid_at": data["paid_at"].isoformat() if data["paid_at"] else None}
    if BankNotification.objects.filter(transaction_id=data["transaction_id"]).exists():
        return 200, {"status": DUPLICATE}
    try:
        with transaction.atomic():
            notice = BankNotification.objects.create(transaction_id=data["transaction_id"], payload=payload,
                                                     outcome="received")
            outcome, dossier, detail = _apply(data)
            notice.outcome = outcome
            notice.dossier = dossier
            notice.save(update_fields=["outcome", "dossier"])
    except IntegrityError:  # the same transaction at the same moment: the other request recorded it
        return 200, {"status": DUPLICATE}
    body = {"status": outcome}
    if dossier is not None:
        body["dossier"] = dossier.code
    if detail:
        body["detail"] = detail
    return 200, body


def _apply(data: dict):
    """(outcome, dossier, detail) — the payment recorded through the services when it fits."""
    from onestop import services

    commune = current_commune()
    expected_account = (getattr(commune, "bank_account", "") or "").strip()
    if expected_account and data["account"] and re.sub(r"\s", "", data["account"]) != expected_account:
        return WRONG_ACCOUNT, None, _("The transfer was made to another account.")
    dossier = find_dossier(data["purpose"])
    if dossier is None:
        return UNMATCHED, None, _("No dossier code was found in the purpose of the transfer.")
    try:
        with transaction.atomic():
            services._record_payment(dossier=dossier, user=None, method=PaymentMethod.BANK, amount=data["amount"],
                                     reference=data["transaction_id"], at=data["paid_at"] or None)
    except ValidationError as exc:
        logger.info("Bank payment %s for %s not recorded: %s", data["transaction_id"], dossier.code, exc.messages)
        return NOT_PAYABLE, dossier, exc.messages[0] if exc.messages else ""
    return RECORDED, dossier, ""

