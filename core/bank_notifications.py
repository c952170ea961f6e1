"""Signed payment notifications from banks: what the apps that are paid by transfer share (the
one-stop desk's fees, ``onestop.payments``; the OCOP marketplace's orders, ``ecommerce.payments``).

The bank (or the notification service watching the account) POSTs JSON
``{"commune", "transaction_id", "amount", "purpose", "account", "paid_at"}`` to the app's address
on the commune's host, signed with HMAC-SHA256 over the raw body; the hex digest travels in the
``X-Xaso-Signature`` header (a ``sha256=`` prefix is accepted). Without a configured installation
secret every notification is refused.

Secrets are derived, per commune **and per purpose**, from the installation's
``XASO_BANK_WEBHOOK_SECRET``: ``HMAC-SHA256(XASO_BANK_WEBHOOK_SECRET, label + ":" + commune
code)`` in hex (``derived_secret``). Each app has its own label (``"xaso.bank-notifications"``
for the desk's fees, ``"xaso.ocop-bank-notifications"`` for the marketplace's orders), so the
secret given to the commune's bank for its fees cannot sign a notification that pays an order,
and the other way round; nor can one commune's secret sign for another. Derived rather than
stored: nothing to keep or back up, and changing the installation secret changes them all.

``parse`` checks the body's fields (400 ``invalid`` with a message per field) and gives them back
normalised; ``error`` is the body of a refusal (``{"code", "detail", "fields"}``).
"""
from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.parsers import JSONLimitError
from core.parsers import loads as json_loads

SIGNATURE_HEADER = "X-Xaso-Signature"
MAX_BODY_BYTES = 16 * 1024


def derived_secret(label: str, commune) -> str:
    """The secret ``commune``'s bank signs the notifications of ``label`` with (empty when the
    installation has no secret, or without a commune)."""
    master = getattr(settings, "XASO_BANK_WEBHOOK_SECRET", "") or ""
    if not master or commune is None or not label:
        return ""
    return hmac.new(master.encode("utf-8"), f"{label}:{commune.code}".encode(), hashlib.sha256).hexdigest()


def sign(raw_body: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 of ``raw_body`` under ``secret`` (what the bank sends in
    ``X-Xaso-Signature``)."""
    return hmac.new(str(secret).encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def signature_matches(raw_body: bytes, signature_header: str | None, secret: str) -> bool:
    """Whether ``signature_header`` is the signature of ``raw_body`` under ``secret`` (compared
    in constant time); never with an empty secret or signature."""
    if not secret or not signature_header:
        return False
    given = str(signature_header).strip().lower()
    if given.startswith("sha256="):
        given = given[7:]
    return hmac.compare_digest(sign(bytes(raw_body or b""), secret), given)


def error(status: int, code: str, detail: str, fields: dict | None = None) -> tuple[int, dict]:
    """(HTTP status, the project's error body)."""
    return status, {"code": code, "detail": detail, "fields": fields or {}}


def parse(raw_body: bytes) -> tuple[dict | None, tuple[int, dict] | None]:
    """(the notification's fields, None), or (None, a 400 refusal) for a body that is not the
    JSON object described above. ``paid_at`` is an aware datetime or None (a naive time is
    Vietnam's)."""
    try:
        data = json_loads(raw_body.decode("utf-8"))
    except JSONLimitError as exc:
        return None, error(400, exc.code, exc.message)
    except (UnicodeDecodeError, ValueError):
        return None, error(400, "invalid", _("The notification is not valid JSON."))
    if not isinstance(data, dict):
        return None, error(400, "invalid", _("The notification is not valid JSON."))
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
        try:
            moment = parse_datetime(str(paid_at)) if isinstance(paid_at, str) else None
        except ValueError:  # well formed but no such day or time
            moment = None
        if moment is None:
            fields["paid_at"] = _("The time of payment is not an ISO 8601 date and time.")
        elif timezone.is_naive(moment):
            from workcalendar.services import TZ

            moment = moment.replace(tzinfo=TZ)
    if fields:
        return None, error(400, "invalid", next(iter(fields.values())), fields)
    return {
        "transaction_id": str(transaction_id).strip(), "amount": amount, "purpose": purpose,
        "account": str(account or "").strip(), "paid_at": moment, "commune": str(commune_code or "").strip(),
    }, None


class SecretCommand:
    """What the ``…bank_webhook_secret <commune code>`` commands share: print the secret one app's
    notifications are signed with for a commune, and the address to send them to. A command is
    ``class Command(SecretCommand, BaseCommand)`` with ``api_path`` (the notifications' path on
    the commune's host), ``secret`` (the app's ``commune -> secret`` function) and, where the
    transfer's purpose must carry a code, ``purpose_hint``."""

    api_path = ""
    purpose_hint = ""

    def secret(self, commune) -> str:  # pragma: no cover - given by each command
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("commune", metavar="CODE", help="Administrative code of the commune (5 digits)")

    def handle(self, *args, **options):
        from django.core.management.base import CommandError

        from communes.models import Commune
        from core.links import commune_base_url

        if not settings.XASO_BANK_WEBHOOK_SECRET:
            raise CommandError("XASO_BANK_WEBHOOK_SECRET is not set: bank notifications are refused.")
        commune = Commune.objects.filter(code=str(options["commune"]).strip()).prefetch_related("domains").first()
        if commune is None:
            raise CommandError(f"No commune with the code {options['commune']!r}.")
        self.stdout.write(f"commune: {commune.code} {commune}")
        self.stdout.write(f"address: {commune_base_url(commune)}{self.api_path}")
        self.stdout.write('body names the commune: "commune": "%s"' % commune.code)
        if self.purpose_hint:
            self.stdout.write(f"purpose of a transfer: {self.purpose_hint}")
        self.stdout.write(f"secret: {self.secret(commune)}")
