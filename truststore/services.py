"""The trust store's rules: which certificates may become trust anchors, the list of active
anchors handed to the signature engine, and the log of public checks."""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from truststore.models import TrustAnchor, VerificationLog

logger = logging.getLogger(__name__)

# A certificate file is small; anything bigger is not one (and is not read into memory).
MAX_CERTIFICATE_BYTES = 256 * 1024
_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


# --- reading certificates -----------------------------------------------------------------------

def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM file (one or a bundle) or the one of a DER file.

    Raises ``ValidationError`` (code ``not_certificate``) when there is none.
    """
    data = bytes(data or b"")
    if not data.strip():
        raise ValidationError(_("The file is empty."), code="not_certificate")
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise ValidationError(_("The file is too large to be a certificate."), code="not_certificate")
    try:
        if b"-----BEGIN" in data:
            blocks = _PEM_BLOCK.findall(data)
            certs = [x509.load_pem_x509_certificate(block) for block in blocks]
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except (ValueError, TypeError):
        certs = []
    if not certs:
        raise ValidationError(
            _("The file is not a certificate. Upload an X.509 certificate in PEM (.pem, .crt) or DER (.cer, .der) form."),
            code="not_certificate",
        )
    return certs


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _name(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()[:500]
    except ValueError:  # an attribute cryptography cannot print
        return ""


def fingerprint(cert_der: bytes) -> str:
    return hashlib.sha256(cert_der).hexdigest()


def check_anchor(cert: x509.Certificate) -> None:
    """Only certificate authorities (basic constraints CA=true) can be trust anchors."""
    if not is_ca(cert):
        raise ValidationError(
            _("This certificate is not a certificate authority (its basic constraints do not say CA), "
              "so it cannot be trusted as a root. Import the certificate of the authority that issued it."),
            code="not_ca",
        )


# --- changing the store ---------------------------------------------------------------------------

def add_anchor(cert_bytes: bytes, label: str, source: str = "", actor=None) -> TrustAnchor:
    """Trust a CA certificate (PEM or DER). Idempotent by fingerprint: adding a certificate that
    is already in the store returns its row (re-activated if it had been deactivated)."""
    certs = load_certificates(cert_bytes)
    if len(certs) != 1:
        raise ValidationError(
            _("The file holds %(count)s certificates; add them one at a time.") % {"count": len(certs)},
            code="several_certificates",
        )
    cert = certs[0]
    check_anchor(cert)
    der = cert.public_bytes(serialization.Encoding.DER)
    digest = fingerprint(der)
    label = (label or "").strip()[:200] or _name(cert.subject)[:200]
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        anchor = TrustAnchor.objects.select_for_update().filter(fingerprint=digest).first()
        if anchor is not None:
            if not anchor.active:
                anchor.active = True
                anchor._change_reason = "re-activated"
                anchor.save(update_fields=["active"])
                logger.info("trust anchor %s re-activated", digest)
            _changed()
            return anchor
        anchor = TrustAnchor(
            label=label, cert_der=der, subject=_name(cert.subject), issuer=_name(cert.issuer),
            fingerprint=digest, not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
            source=(source or "")[:200], active=True, added_by_user_id=actor_id,
        )
        if actor_id:
            anchor._history_user = actor
        anchor.save()
        logger.info("trust anchor %s added (%s)", digest, anchor.subject)
    _changed()
    return anchor


def set_active(anchor: TrustAnchor, active: bool, actor=None) -> TrustAnchor:
    with transaction.atomic():
        anchor = TrustAnchor.objects.select_for_update().get(pk=anchor.pk)
        if anchor.active != active:
            anchor.active = active
            if getattr(actor, "is_authenticated", False):
                anchor._history_user = actor
            anchor.save(update_fields=["active"])
            logger.info("trust anchor %s %s", anchor.fingerprint, "activated" if active else "deactivated")
    _changed()
    return anchor


# --- reading the store ----------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict = {"at": 0.0, "roots": None}


def _ttl() -> float:
    return float(getattr(settings, "XASO_TRUSTSTORE_CACHE_SECONDS", 30))


def clear_cache() -> None:
    with _cache_lock:
        _cache["roots"] = None
        _cache["at"] = 0.0


def _changed() -> None:
    clear_cache()
    transaction.on_commit(clear_cache)


def _in_transaction() -> bool:
    from django.db import connection

    return connection.in_atomic_block


def trust_roots_der() -> list[bytes]:
    """The DER certificates of the active trust anchors.

    Cached in the process for ``XASO_TRUSTSTORE_CACHE_SECONDS`` (30): a change made in this
    process is seen at once, elsewhere within the cache's lifetime. Inside a transaction the
    table is always read and nothing is cached (what it sees may still be rolled back)."""
    if _in_transaction():
        return _read_roots()
    now = time.monotonic()
    with _cache_lock:
        roots = _cache["roots"]
        if roots is not None and now - _cache["at"] < _ttl():
            return list(roots)
    roots = _read_roots()
    with _cache_lock:
        _cache["roots"], _cache["at"] = roots, now
    return list(roots)


def _read_roots() -> list[bytes]:
    return [bytes(der) for der in TrustAnchor.objects.filter(active=True).order_by("id").values_list("cert_der", flat=True)]


# --- the log of public checks ---------------------------------------------------------------------

def log_verification(*, host: str, schema_name: str, channel: str, user_id: int | None, client_ip: str | None,
                     file_sha256: str, file_size: int, outcome: dict) -> VerificationLog:
    return VerificationLog.objects.create(
        host=(host or "")[:253], schema_name=(schema_name or "")[:63], channel=channel, user_id=user_id,
        client_ip=client_ip or None, file_sha256=file_sha256 or "", file_size=max(0, int(file_size or 0)),
        outcome=outcome,
    )


def prune_verification_log(days: int | None = None) -> int:
    """Delete log rows older than ``days`` (default ``XASO_VERIFICATION_LOG_DAYS``, 365): the log
    holds client addresses, which are personal data kept no longer than needed."""
    import datetime as dt

    from django.utils import timezone

    days = int(days if days is not None else getattr(settings, "XASO_VERIFICATION_LOG_DAYS", 365))
    cutoff = timezone.now() - dt.timedelta(days=max(1, days))
    deleted, _detail = VerificationLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted
