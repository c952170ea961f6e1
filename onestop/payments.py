"""Payment notifications from the commune's bank (a VietQR transfer of a dossier's fee).

The bank POSTs JSON ``{"commune", "transaction_id", "amount", "purpose", "account", "paid_at"}``
to ``/api/v1/onestop/bank-notifications/`` of the commune's host, signed with HMAC-SHA256 over
the raw body under **that commune's** secret; the hex digest travels in the ``X-Xaso-Signature``
header. Without a configured installation secret every notification is refused.

Each commune has its own secret, derived from the installation's ``XASO_BANK_WEBHOOK_SECRET``:
``HMAC-SHA256(XASO_BANK_WEBHOOK_SECRET, "xaso.bank-notifications:" + commune code)`` in hex
(``commune_secret``; ``python manage.py bank_webhook_secret <commune code>`` prints it for the
bank). Derived rather than stored: nothing to keep or back up per commune, and the bank of one
commune holds nothing that signs for another. Changing the installation secret changes every
commune's secret (each bank is then given its new one).

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

import hashlib
import hmac
import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Func, Value
from django.db.models.lookups import Contains
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from communes.permissions import current_commune
from core.parsers import JSONLimitError
from core.parsers import loads as json_loads
from onestop.models import BankNotification, Dossier, PaymentMethod

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Xaso-Signature"
MAX_BODY_BYTES = 16 * 1024
MIN_CODE_CHARS = 6

RECORDED = "recorded"
DUPLICATE = "duplicate"
UNMATCHED = "unmatched"
WRONG_ACCOUNT = "wrong_account"
NOT_PAYABLE = "not_payable"


def commune_secret(commune) -> str:
    """The secret the bank of ``commune`` signs with (empty when the installation has none)."""
    master = settings.XASO_BANK_WEBHOOK_SECRET or ""
    if not master or commune is None:
        return ""
    return hmac.new(master.encode("utf-8"), f"xaso.bank-notifications:{commune.code}".encode(), hashlib.sha256).hexdigest()


def sign(raw_body: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 of ``raw_body`` under ``secret`` (what the bank sends in
    ``X-Xaso-Signature``)."""
    return hmac.new(str(secret).encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def signature_ok(raw_body: bytes, signature_header: str | None, commune=None) -> bool:
    secret = commune_secret(commune if commune is not None else current_commune())
    if not secret or not signature_header:
        return False
    given = str(signature_header).strip().lower()
    if given.startswith("sha256="):
        given = given[7:]
    return hmac.compare_digest(sign(raw_body, secret), given)


def _error(status: int, code: str, detail: str, fields: dict | None = None) -> tuple[int, dict]:
    return status, {"code": code, "detail": detail, "fields": fields or {}}


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


def _parse(raw_body: bytes) -> tuple[dict | None, tuple[int, dict] | None]:
    try:
        data = json_loads(raw_body.decode("utf-8"))
    except JSONLimitError as exc:
        return None, _error(400, exc.code, exc.message)
    except (UnicodeDecodeError, ValueError):
        return None, _error(400, "invalid", _("The notification is not valid JSON."))
    if not isinstance(data, dict):
        return None, _error(400, "invalid", _("The notification is not valid JSON."))
    fields: dict[str, str] = {}
    transaction_id = data.get("transaction_id")
    if not isinstance(transaction_id, (str, int)) or isinstance(transaction_id, bool) or not str(transaction_id).strip() \
            or len(str(transaction_id)) > 100:
        fields["transaction_id"] = _("The transaction id is missing or too long.")
    amount = data.get("amount")
    if isinstance(amount, str) and amount.strip().isdigit():
        amount = int(amount.strip())
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 10**12:
        fields["amount"] = _("The amount must be a whole number of đồng above zero.")
    purpose = data.get("purpose")
    if not isinstance(purpose, str) or len(purpose) > 500:
        fields["purpose"] = _("The purpose of the transfer is missing.")
    account = data.get("account", "")
    if not isinstance(account, (str, int)) or isinstance(account, bool) or len(str(account)) > 40:
        fields["account"] = _("The account number is not valid.")
    commune_code = data.get("commune", "")
    if not isinstance(commune_code, (str, int)) or isinstance(commune_code, bool) or len(str(commune_code)) > 10:
        fields["commune"] = _("The commune code is not valid.")
    paid_at = data.get("paid_at")
    moment = None
    if paid_at not in (None, ""):
        moment = parse_datetime(str(paid_at)) if isinstance(paid_at, str) else None
        if moment is None:
            fields["paid_at"] = _("The time of payment is not an ISO 8601 date and time.")
        elif timezone.is_naive(moment):
            from workcalendar.services import TZ

            moment = moment.replace(tzinfo=TZ)
    if fields:
        return None, _error(400, "invalid", next(iter(fields.values())), fields)
    return {
        "transaction_id": str(transaction_id).strip(), "amount": amount, "purpose": purpose,
        "account": str(account or "").strip(), "paid_at": moment, "commune": str(commune_code or "").strip(),
    }, None


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

