"""Writes on digital signatures: importing and registering certificates, key grants and PINs,
signature images, and asking for a signature.

The rules live here; pages, the API, the documents app and the management commands call them.

* A private key held by the portal is stored only as ``KeyGrant.encrypted_key``: encrypted under
  the PIN of one person (``pki.encrypt_key``). Neither the PIN nor the PKCS#12 passphrase nor
  the key in clear is ever written anywhere.
* The private-key operation of a PIN-protected key happens in :func:`request_signature` and
  nowhere else; the job then only finishes the signature. A remote key (CSC) is used by the
  job, which waits for the official's confirmation without holding a worker.
* A wrong PIN is counted on the grant even though the request is refused (the counter is what
  locks the grant): callers must not roll back their transaction because of ``SigningRefused``.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import logging
import os
import posixpath
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from communes.models import Membership, User
from communes.permissions import current_commune
from core import throttle
from core.http import current_client_ip
from core.storage import read, save_final  # noqa: F401  (save_final: the runner calls it here)
from jobs.models import JobState
from jobs.services import enqueue
from signatures import permissions, pki
from signatures.models import (
    PIN_BACKENDS, Backend, CertificateKind, ImageKind, KeyGrant, Outcome, Purpose, SignatureImage,
    SigningCertificate, SigningEvent, SigningJob,
)

logger = logging.getLogger(__name__)

PIN_RE = re.compile(r"^\d{6,12}$")
MAX_PKCS12_BYTES = 200 * 1024
MAX_CERTIFICATE_BYTES = 64 * 1024
MAX_IMAGE_BYTES = 1024 * 1024
MAX_IMAGE_SIDE = 3000
TOKEN_SETTING_RE = re.compile(r"^XASO_CSC_TOKEN[A-Z0-9_]{0,60}$")
PDF_MAGIC = b"%PDF-"
_DER = Encoding.DER


def pin_max_attempts() -> int:
    return int(getattr(settings, "XASO_PIN_MAX_ATTEMPTS", 5))


def pin_lock_minutes() -> int:
    return int(getattr(settings, "XASO_PIN_LOCK_MINUTES", 15))


# --- errors ------------------------------------------------------------------------------------

REFUSAL_CODES = (
    "no_authority", "certificate_expired", "certificate_not_yet_valid", "certificate_inactive", "wrong_pin",
    "pin_locked", "untrusted", "already_signed", "invalid_pdf", "key_unavailable",
)


class SigningRefused(Exception):
    """A signature cannot be made; ``code`` says why (one of ``REFUSAL_CODES``), ``message``
    tells the official in their language. Raised before anything is written (only a wrong PIN
    is counted)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code
        self.message = message or code

    def __str__(self) -> str:
        return str(self.message)


def refusal_message(code: str) -> str:
    return {
        "no_authority": _("You are not allowed to sign with this certificate."),
        "certificate_expired": _("This certificate has expired."),
        "certificate_not_yet_valid": _("This certificate is not valid yet."),
        "certificate_inactive": _("This certificate has been deactivated."),
        "wrong_pin": _("The PIN is not correct."),
        "pin_locked": _("Too many wrong PINs: the key is locked for %(minutes)d minutes.") % {"minutes": pin_lock_minutes()},
        "untrusted": _("This certificate was not issued by a certification authority trusted by the portal."),
        "already_signed": _("This file is already signed in this place, or a signature of it is in progress."),
        "invalid_pdf": _("The file to sign is not a readable PDF."),
        "key_unavailable": _("The signing key cannot be reached now (token not connected or service down). Try again later."),
    }.get(code, _("The signature cannot be made."))


def _refuse(code: str, message: str | None = None) -> SigningRefused:
    return SigningRefused(code, message or refusal_message(code))


# --- building blocks -----------------------------------------------------------------------------

def validate_pin(pin, field: str = "pin") -> str:
    pin = "" if pin is None else str(pin)
    if not PIN_RE.match(pin):
        raise ValidationError({field: _("The PIN must have 6 to 12 digits.")})
    return pin


def trust_roots() -> list[bytes]:
    """The trust anchors of the installation (DER)."""
    from truststore.services import trust_roots_der

    return [bytes(r) for r in trust_roots_der()]


def _fingerprint(der: bytes) -> str:
    return hashlib.sha256(bytes(der)).hexdigest()


def chain_is_trusted(cert_der: bytes, chain_der: list[bytes], roots_der: list[bytes]) -> bool:
    """Does the chain (certificate, then issuers) lead to one of the roots?

    Each certificate must be issued by the next; the chain is trusted when one of its members is
    a root, or when its last member was issued by a root.
    """
    roots = {}
    for der in roots_der:
        try:
            roots[_fingerprint(der)] = x509.load_der_x509_certificate(bytes(der))
        except ValueError:
            continue
    if not roots:
        return False
    try:
        path = [x509.load_der_x509_certificate(bytes(d)) for d in [cert_der, *chain_der]]
    except ValueError:
        return False
    for index, cert in enumerate(path):
        if _fingerprint(cert.public_bytes(_DER)) in roots:
            return True
        issuer = path[index + 1] if index + 1 < len(path) else None
        if issuer is not None:
            if not _issued_by(cert, issuer):
                return False
            continue
        return any(_issued_by(cert, root) for root in roots.values())
    return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # noqa: BLE001 - wrong name, wrong signature, unsupported algorithm
        return False
    return True


def _is_signing_certificate(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return bool(usage.digital_signature or usage.content_commitment)


def _member(user_id, roles) -> User | None:
    commune = current_commune()
    if commune is None:
        return None
    membership = (
        Membership.objects.filter(user_id=user_id, commune=commune, is_active=True, user__is_active=True,
                                  role__in=[str(r) for r in roles])
        .select_related("user").first()
    )
    return membership.user if membership else None


def _storage():
    return default_storage


read_file = read  # the name the signing code and its callers use


def _log(*, user=None, certificate=None, subject="", purpose="", outcome, code="", detail="", job=None):
    return SigningEvent.objects.create(
        user_id=getattr(user, "pk", None), username=getattr(user, "username", "")[:150],
        certificate=certificate,
        certificate_fingerprint=getattr(certificate, "fingerprint", ""),
        certificate_subject=getattr(certificate, "subject", "")[:300],
        subject=(subject or "")[:200], purpose=purpose or "", outcome=outcome, code=code[:40],
        detail=str(detail or "")[:500], job=job,
    )


# --- certificates ------------------------------------------------------------------------------

@dataclass
class _CheckedCertificate:
    cert: x509.Certificate
    summary: dict


def _check_certificate(cert: x509.Certificate, field: str) -> _CheckedCertificate:
    summary = pki.cert_summary(cert)
    now = timezone.now()
    if summary["is_ca"]:
        raise ValidationError({field: _("This is a certification authority's certificate, not a signing certificate.")})
    if not _is_signing_certificate(cert):
        raise ValidationError({field: _("This certificate may not be used for signatures (key usage).")})
    if summary["not_after"] < now:
        raise ValidationError({field: _("This certificate expired on %(date)s.") % {
            "date": timezone.localtime(summary["not_after"]).strftime("%d/%m/%Y")}})
    if summary["not_before"] > now:
        raise ValidationError({field: _("This certificate is valid only from %(date)s.") % {
            "date": timezone.localtime(summary["not_before"]).strftime("%d/%m/%Y")}})
    if SigningCertificate.objects.filter(fingerprint=summary["fingerprint"]).exists():
        raise ValidationError({field: _("This certificate is already registered.")})
    return _CheckedCertificate(cert=cert, summary=summary)


def _check_owner_and_grants(kind: str, owner_user_id, grant_user_ids) -> None:
    if kind not in CertificateKind.values:
        raise ValidationError({"kind": _("Choose personal or agency.")})
    grant_user_ids = list(grant_user_ids)
    if len(set(grant_user_ids)) != len(grant_user_ids):
        raise ValidationError({"grants": _("Each person can be given the key only once.")})
    if kind == CertificateKind.PERSONAL:
        if not owner_user_id:
            raise ValidationError({"owner": _("Choose the official who owns this certificate.")})
        if _member(owner_user_id, permissions.PERSONAL_SIGNER_ROLES) is None:
            raise ValidationError({"owner": _("This person is not an official of the commune who may sign.")})
        if [u for u in grant_user_ids if u != owner_user_id]:
            raise ValidationError({"grants": _("Only the owner may use a personal certificate.")})
    else:
        if owner_user_id:
            raise ValidationError({"owner": _("An agency certificate belongs to the commune, not to a person.")})
        if not grant_user_ids:
            raise ValidationError({"grants": _("Give the key to at least one clerk.")})
        for user_id in grant_user_ids:
            if _member(user_id, permissions.AGENCY_SIGNER_ROLES) is None:
                raise ValidationError({"grants": _("Only clerks of the commune may be given the agency key.")})


def _check_trusted(cert_der: bytes, chain_der: list[bytes], field: str) -> None:
    roots = trust_roots()
    if roots and not chain_is_trusted(cert_der, chain_der, roots):
        raise ValidationError({field: _(
            "This certificate was not issued by a certification authority trusted by the portal. "
            "Ask the installation's operator to add the authority to the trust store."
        )})


def _new_certificate(checked: _CheckedCertificate, *, kind, owner_user_id, chain_der, backend, backend_config,
                     actor) -> SigningCertificate:
    summary = checked.summary
    certificate = SigningCertificate(
        kind=kind, owner_user_id=owner_user_id if kind == CertificateKind.PERSONAL else None,
        subject=summary["subject"][:300] or checked.cert.subject.rfc4514_string()[:300],
        organisation=summary["organisation"][:300], title=summary["title"][:300], issuer=summary["issuer"][:300],
        serial=summary["serial"][:100], fingerprint=summary["fingerprint"],
        not_before=summary["not_before"], not_after=summary["not_after"],
        cert_der=checked.cert.public_bytes(_DER), backend=backend, backend_config=backend_config or {},
        created_by_id=getattr(actor, "pk", None),
    )
    certificate.set_chain(chain_der)
    try:
        with transaction.atomic():
            certificate.save()
    except IntegrityError:
        raise ValidationError({"file": _("This certificate is already registered.")}) from None
    return certificate


def import_pkcs12(*, file_bytes: bytes, passphrase: str, kind: str, owner_user_id=None, grants: dict,
                  actor) -> SigningCertificate:
    """Import a PKCS#12 bundle (.p12/.pfx): the key is kept only encrypted under each grant
    holder's PIN; the passphrase is used once and forgotten.

    ``grants`` maps user ids to PINs: the owner alone for a personal certificate, one or more
    clerks for the agency certificate.
    """
    grants = dict(grants or {})
    if not file_bytes:
        raise ValidationError({"file": _("Choose the certificate file (.p12 or .pfx).")})
    if len(file_bytes) > MAX_PKCS12_BYTES:
        raise ValidationError({"file": _("This file is too large for a certificate file (.p12).")})
    if kind == CertificateKind.PERSONAL and owner_user_id and not grants:
        raise ValidationError({"pin": _("Choose the owner's PIN.")})
    _check_owner_and_grants(kind, owner_user_id, grants.keys())
    for pin in grants.values():
        validate_pin(pin)
    try:
        identity = pki.load_pkcs12(bytes(file_bytes), passphrase or None)
    except pki.InvalidPkcs12 as exc:
        if exc.code == "wrong_passphrase":
            raise ValidationError({"passphrase": _("The passphrase does not open this file.")}) from None
        if exc.code == "no_key":
            raise ValidationError({"file": _("This file holds no private key.")}) from None
        if exc.code == "no_certificate":
            raise ValidationError({"file": _("This file holds no certificate.")}) from None
        if exc.code == "unsupported_key":
            raise ValidationError({"file": _("This kind of key is not supported (RSA or elliptic curve only).")}) from None
        raise ValidationError({"file": _("This is not a PKCS#12 certificate file (.p12 or .pfx).")}) from None
    checked = _check_certificate(identity.cert, "file")
    public = identity.key.public_key().public_numbers()
    if public != identity.cert.public_key().public_numbers():
        raise ValidationError({"file": _("The key in this file does not belong to its certificate.")})
    chain = identity.chain_der
    _check_trusted(identity.cert_der, chain, "file")
    with transaction.atomic():
        certificate = _new_certificate(
            checked, kind=kind, owner_user_id=owner_user_id, chain_der=chain, backend=Backend.SOFTWARE,
            backend_config={}, actor=actor,
        )
        for user_id, pin in grants.items():
            KeyGrant.objects.create(
                certificate=certificate, user_id=user_id, encrypted_key=pki.encrypt_key(identity.key, pin),
                created_by_id=getattr(actor, "pk", None),
            )
    return certificate


def _allowed_pkcs11_modules() -> list[str]:
    value = getattr(settings, "XASO_PKCS11_MODULES", [])
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def register_pkcs11_certificate(*, kind: str, module_path: str, token_label: str, pin: str | None = None,
                                key_label: str | None = None, key_id: str | None = None, cert_der: bytes | None = None,
                                chain_der=None, owner_user_id=None, grant_user_ids=(), actor) -> SigningCertificate:
    """A key on a PKCS#11 token or HSM. The module must be one the installation allows
    (XASO_PKCS11_MODULES). Without ``cert_der`` the certificate is read from the token (with the
    token's PIN when it shows certificates only after login). The token's PIN is not stored."""
    from signatures.keys import KeyError_, Pkcs11Key

    grant_user_ids = list(grant_user_ids or ([owner_user_id] if kind == CertificateKind.PERSONAL else []))
    _check_owner_and_grants(kind, owner_user_id, grant_user_ids)
    if module_path not in _allowed_pkcs11_modules():
        raise ValidationError({"module_path": _("This PKCS#11 module is not allowed by the installation (XASO_PKCS11_MODULES).")})
    token_label = (token_label or "").strip()
    if not token_label:
        raise ValidationError({"token_label": _("Enter the token label.")})
    chain = [bytes(c) for c in (chain_der or [])]
    if cert_der:
        try:
            cert = pki.load_certificate(bytes(cert_der))
        except ValueError:
            raise ValidationError({"certificate": _("This is not a certificate (DER or PEM).")}) from None
    else:
        key = Pkcs11Key(module_path, token_label, pin or "", key_label=key_label or None, key_id=key_id or None)
        try:
            found = key.cert_der
            chain = chain or key.chain_der
        except KeyError_ as exc:
            raise ValidationError({"token_label": _("The certificate could not be read from the token (%(code)s).") % {
                "code": exc.code}}) from None
        cert = x509.load_der_x509_certificate(found)
    checked = _check_certificate(cert, "certificate")
    _check_trusted(cert.public_bytes(_DER), chain, "certificate")
    config = {"module_path": module_path, "token_label": token_label, "key_label": key_label or "",
              "key_id": key_id or ""}
    with transaction.atomic():
        certificate = _new_certificate(checked, kind=kind, owner_user_id=owner_user_id, chain_der=chain,
                                       backend=Backend.PKCS11, backend_config=config, actor=actor)
        for user_id in grant_user_ids:
            KeyGrant.objects.create(certificate=certificate, user_id=user_id, created_by_id=getattr(actor, "pk", None))
    return certificate


def csc_token(setting_name: str = "") -> str:
    """The bearer token of a remote signing service: from settings (XASO_CSC_TOKENS, a dict) or
    the environment, by the name kept in the certificate's settings (never the token itself)."""
    name = setting_name or "XASO_CSC_TOKEN"
    if not TOKEN_SETTING_RE.match(name):
        return ""
    tokens = getattr(settings, "XASO_CSC_TOKENS", None) or {}
    value = tokens.get(name) if isinstance(tokens, dict) else None
    if value is None and name == "XASO_CSC_TOKEN":
        value = getattr(settings, "XASO_CSC_TOKEN", None)
    if value is None:
        value = os.environ.get(name, "")
    return str(value or "")


def _allowed_csc_url(url: str) -> bool:
    allowed = getattr(settings, "XASO_CSC_URLS", [])
    if isinstance(allowed, str):
        allowed = [v.strip() for v in allowed.split(",") if v.strip()]
    if not url.startswith(("https://", "http://")):
        return False
    return not allowed or any(url.startswith(prefix) for prefix in allowed)


def csc_client(service_url: str, token_setting: str = ""):
    from signatures.csc import CscClient

    return CscClient(service_url, csc_token(token_setting), timeout=float(getattr(settings, "XASO_CSC_TIMEOUT", 10)))


def register_csc_certificate(*, kind: str, service_url: str, credential_id: str, token_setting: str = "",
                             owner_user_id=None, grant_user_ids=(), actor) -> SigningCertificate:
    """A credential of a remote signing service (Cloud Signature Consortium API). The
    certificate and its chain are fetched from the service (``credentials/info``)."""
    from signatures.keys import KeyError_

    grant_user_ids = list(grant_user_ids or ([owner_user_id] if kind == CertificateKind.PERSONAL else []))
    _check_owner_and_grants(kind, owner_user_id, grant_user_ids)
    service_url = (service_url or "").strip()
    credential_id = (credential_id or "").strip()
    if not _allowed_csc_url(service_url):
        raise ValidationError({"service_url": _("This signing service address is not allowed (XASO_CSC_URLS).")})
    if not credential_id or len(credential_id) > 200:
        raise ValidationError({"credential_id": _("Enter the credential id given by the signing service.")})
    if token_setting and not TOKEN_SETTING_RE.match(token_setting):
        raise ValidationError({"token_setting": _("The token setting must be named XASO_CSC_TOKEN or XASO_CSC_TOKEN_<NAME>.")})
    try:
        info = csc_client(service_url, token_setting).credential_info(credential_id)
    except KeyError_ as exc:
        raise ValidationError({"credential_id": _("The signing service did not give this credential (%(code)s).") % {
            "code": exc.code}}) from None
    cert = x509.load_der_x509_certificate(info.cert_der)
    checked = _check_certificate(cert, "credential_id")
    _check_trusted(info.cert_der, list(info.chain_der), "credential_id")
    config = {"service_url": service_url, "credential_id": credential_id, "token_setting": token_setting}
    with transaction.atomic():
        certificate = _new_certificate(checked, kind=kind, owner_user_id=owner_user_id, chain_der=list(info.chain_der),
                                       backend=Backend.CSC, backend_config=config, actor=actor)
        for user_id in grant_user_ids:
            KeyGrant.objects.create(certificate=certificate, user_id=user_id, created_by_id=getattr(actor, "pk", None))
    return certificate


@transaction.atomic
def deactivate_certificate(certificate: SigningCertificate, *, actor) -> SigningCertificate:
    """No further signature with this certificate (signatures already made stay valid)."""
    certificate = SigningCertificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.active:
        certificate.active = False
        certificate.deactivated_at = timezone.now()
        certificate._history_user = actor if getattr(actor, "pk", None) else None
        certificate.save(update_fields=["active", "deactivated_at"])
    return certificate


# --- grants and PINs ---------------------------------------------------------------------------

class _PinCheck:
    """Opens a grant's key with a PIN, counting wrong PINs (committed even when the caller
    refuses afterwards) and honouring the lock."""

    @staticmethod
    def open(grant_id: int, pin: str, opener):
        """Run ``opener(grant)`` under a row lock; returns its result or raises SigningRefused."""
        from signatures.keys import PinLocked, WrongPin

        # Wrong PINs are also counted per client address, whatever the key (XASO_PIN_ADDRESS_RATE).
        address = current_client_ip()
        address_limit, address_window = throttle.parse_rate(settings.XASO_PIN_ADDRESS_RATE)
        if address:
            decision = throttle.peek("pin.address", address, address_limit, address_window)
            if not decision.allowed:
                raise _refuse("pin_locked", throttle.refusal_message(decision))
        wrong = False
        refusal = None
        result = None
        with transaction.atomic():
            grant = KeyGrant.objects.select_for_update().select_related("certificate").get(pk=grant_id)
            now = timezone.now()
            if grant.locked_until and grant.locked_until > now:
                refusal = _refuse("pin_locked")
            elif not pin:
                refusal = _refuse("wrong_pin")
            else:
                try:
                    result = opener(grant)
                except (WrongPin, pki.WrongPin):
                    wrong = True
                    attempts = grant.failed_attempts + 1
                    if attempts >= pin_max_attempts():
                        KeyGrant.objects.filter(pk=grant.pk).update(
                            failed_attempts=0, locked_until=now + dt.timedelta(minutes=pin_lock_minutes()))
                        refusal = _refuse("pin_locked")
                    else:
                        KeyGrant.objects.filter(pk=grant.pk).update(failed_attempts=attempts)
                        left = pin_max_attempts() - attempts
                        refusal = _refuse("wrong_pin", _(
                            "The PIN is not correct. %(left)d attempts left before the key is locked."
                        ) % {"left": left})
                except PinLocked:
                    refusal = _refuse("pin_locked", _("The token's PIN is blocked. Unblock it with the software of the token."))
                else:
                    if grant.failed_attempts or grant.locked_until:
                        KeyGrant.objects.filter(pk=grant.pk).update(failed_attempts=0, locked_until=None)
        if wrong and address:
            decision = throttle.hit("pin.address", address, address_limit, address_window)
            if not decision.allowed:
                refusal = _refuse("pin_locked", throttle.refusal_message(decision))
        if refusal is not None:
            raise refusal
        return result


def _grant_for(certificate, user) -> KeyGrant | None:
    return KeyGrant.objects.filter(certificate=certificate, user_id=user.pk).first()


def add_grant(certificate: SigningCertificate, user_id, pin: str, actor, unlocking_pin_of_existing_grant: str,
              *, unlocking_user_id=None) -> KeyGrant:
    """Give one more person (a clerk, for the agency key) the use of a key held by the portal.

    The key is opened with the PIN of an existing grant (``unlocking_user_id``'s, by default
    the actor's own, or the only grant) and encrypted again under the new person's PIN.
    """
    if certificate.backend != Backend.SOFTWARE:
        raise ValidationError({"user": _("This key is not held by the portal: give the right without a PIN.")})
    if certificate.kind != CertificateKind.AGENCY:
        raise ValidationError({"user": _("Only the owner may use a personal certificate.")})
    if not certificate.active:
        raise ValidationError({"user": _("This certificate has been deactivated.")})
    validate_pin(pin)
    if _member(user_id, permissions.AGENCY_SIGNER_ROLES) is None:
        raise ValidationError({"user": _("Only clerks of the commune may be given the agency key.")})
    if KeyGrant.objects.filter(certificate=certificate, user_id=user_id).exists():
        raise ValidationError({"user": _("This person already holds the key.")})
    grants = KeyGrant.objects.filter(certificate=certificate, encrypted_key__isnull=False)
    if unlocking_user_id is not None:
        source = grants.filter(user_id=unlocking_user_id).first()
    else:
        source = grants.filter(user_id=getattr(actor, "pk", None)).first()
        if source is None and grants.count() == 1:
            source = grants.first()
    if source is None:
        raise ValidationError({"unlocking_user": _("Choose whose PIN opens the key.")})
    try:
        private_key = _PinCheck.open(source.pk, unlocking_pin_of_existing_grant or "",
                                     lambda g: pki.decrypt_key(bytes(g.encrypted_key), unlocking_pin_of_existing_grant))
    except SigningRefused as exc:
        raise ValidationError({"unlocking_pin": exc.message}) from None
    try:
        with transaction.atomic():
            return KeyGrant.objects.create(
                certificate=certificate, user_id=user_id, encrypted_key=pki.encrypt_key(private_key, pin),
                created_by_id=getattr(actor, "pk", None),
            )
    except IntegrityError:
        raise ValidationError({"user": _("This person already holds the key.")}) from None


def add_right(certificate: SigningCertificate, user_id, *, actor) -> KeyGrant:
    """The use of an agency key the portal does not hold (token, remote service): no PIN here."""
    if certificate.backend == Backend.SOFTWARE:
        raise ValidationError({"user": _("This key is held by the portal: a PIN is needed.")})
    if certificate.kind != CertificateKind.AGENCY:
        raise ValidationError({"user": _("Only the owner may use a personal certificate.")})
    if _member(user_id, permissions.AGENCY_SIGNER_ROLES) is None:
        raise ValidationError({"user": _("Only clerks of the commune may be given the agency key.")})
    grant, created = KeyGrant.objects.get_or_create(certificate=certificate, user_id=user_id,
                                                    defaults={"created_by_id": getattr(actor, "pk", None)})
    if not created:
        raise ValidationError({"user": _("This person already holds the key.")})
    return grant


def revoke_grant(grant: KeyGrant, *, actor) -> None:
    """Take the use of the key away (the encrypted copy is deleted)."""
    grant._history_user = actor if getattr(actor, "pk", None) else None
    grant.delete()


def change_pin(grant: KeyGrant, *, old_pin: str, new_pin: str) -> KeyGrant:
    """The holder replaces their PIN (the key is encrypted again under the new one)."""
    validate_pin(new_pin, "new_pin")
    if grant.certificate.backend != Backend.SOFTWARE:
        raise ValidationError({"old_pin": _("The PIN of this key is managed by the token or the service.")})
    try:
        private_key = _PinCheck.open(grant.pk, old_pin or "", lambda g: pki.decrypt_key(bytes(g.encrypted_key), old_pin))
    except SigningRefused as exc:
        raise ValidationError({"old_pin": exc.message}) from None
    KeyGrant.objects.filter(pk=grant.pk).update(encrypted_key=pki.encrypt_key(private_key, new_pin))
    grant.refresh_from_db()
    return grant


def unlock_grant(grant: KeyGrant, *, actor) -> KeyGrant:
    """The administrator lifts a PIN lock before its time."""
    KeyGrant.objects.filter(pk=grant.pk).update(failed_attempts=0, locked_until=None)
    grant.refresh_from_db()
    return grant


# --- signature images --------------------------------------------------------------------------

def validate_image(data: bytes, kind: str) -> tuple[int, int]:
    """A transparent PNG of at most 1 MB: its size, or a ValidationError that says what is wrong."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ValidationError({"file": _("Choose the image file.")})
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError({"file": _("The image is larger than 1 MB.")})
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationError({"file": _("The image must be a PNG file.")})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != "PNG":
                raise ValidationError({"file": _("The image must be a PNG file.")})
            width, height = probe.size
            if width < 20 or height < 20 or width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
                raise ValidationError({"file": _("The image must be between 20 and %(max)d pixels on each side.") % {
                    "max": MAX_IMAGE_SIDE}})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
            if not has_alpha:
                raise ValidationError({"file": _("The image must have a transparent background (PNG with alpha).")})
            rgba = image.convert("RGBA")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"file": _("The image file is damaged or is not a PNG file.")}) from None
    low, high = rgba.getchannel("A").getextrema()
    if low == 255:
        raise ValidationError({"file": _("The image must have a transparent background (PNG with alpha).")})
    if high == 0:
        raise ValidationError({"file": _("The image is completely transparent.")})
    red, green, blue = _ink_colour(rgba)
    if kind == ImageKind.SIGNATURE and not (blue > red + 15 and blue >= green):
        raise ValidationError({"file": _("The handwritten signature must be in blue ink.")})
    if kind == ImageKind.SEAL and not (red > green + 30 and red > blue + 30):
        raise ValidationError({"file": _("The seal must be red.")})
    return width, height


def _ink_colour(rgba) -> tuple[float, float, float]:
    """The average colour of the clearly visible pixels."""
    small = rgba.copy()
    small.thumbnail((200, 200))
    total = [0, 0, 0]
    count = 0
    for r, g, b, a in small.getdata():
        if a >= 128:
            total[0] += r
            total[1] += g
            total[2] += b
            count += 1
    if not count:
        return 0.0, 0.0, 0.0
    return total[0] / count, total[1] / count, total[2] / count


def save_signature_image(*, data: bytes, kind: str, owner_user_id=None, actor) -> SignatureImage:
    """Upload the official's handwritten signature or the commune's seal; the previous one of
    the same owner is kept but no longer used."""
    if kind not in ImageKind.values:
        raise ValidationError({"kind": _("Choose a handwritten signature or the seal.")})
    if kind == ImageKind.SIGNATURE and not owner_user_id:
        raise ValidationError({"owner": _("A handwritten signature belongs to an official.")})
    if kind == ImageKind.SEAL:
        owner_user_id = None
    data = bytes(data or b"")
    width, height = validate_image(data, kind)
    digest = hashlib.sha256(data).hexdigest()
    name = _storage().save(f"signatures/images/{kind}-{digest[:16]}.png", ContentFile(data))
    with transaction.atomic():
        previous = SignatureImage.objects.select_for_update().filter(kind=kind, active=True)
        previous = previous.filter(owner_user_id=owner_user_id) if kind == ImageKind.SIGNATURE else previous
        for old in previous:
            old.active = False
            old.save(update_fields=["active"])
        return SignatureImage.objects.create(
            kind=kind, owner_user_id=owner_user_id, file_name=name, sha256=digest, width=width, height=height,
            created_by_id=getattr(actor, "pk", None),
        )


def active_image(kind: str, owner_user_id=None) -> SignatureImage | None:
    qs = SignatureImage.objects.filter(kind=kind, active=True)
    if kind == ImageKind.SIGNATURE:
        qs = qs.filter(owner_user_id=owner_user_id)
    return qs.first()


# --- appearance and field (what the job keeps) --------------------------------------------------

def field_to_json(field) -> dict:
    box = getattr(field, "box", None)
    return {"name": str(field.name), "page": int(getattr(field, "page", 0) or 0),
            "box": [float(v) for v in box] if box else None}


def field_from_json(data: dict):
    from signatures.pdf.pades import SignatureFieldSpec

    box = data.get("box")
    return SignatureFieldSpec(name=data["name"], page=int(data.get("page") or 0), box=tuple(box) if box else None)


def appearance_to_json(appearance) -> dict:
    """The appearance without the image bytes: the SignatureImage id, or a stored copy's name."""
    if appearance is None:
        return {}
    data = {"kind": str(appearance.kind), "lines": [str(line) for line in (appearance.lines or [])]}
    png = getattr(appearance, "image_png", None)
    if png:
        digest = hashlib.sha256(png).hexdigest()
        image = SignatureImage.objects.filter(sha256=digest).order_by("-active", "-pk").first()
        if image is not None:
            data["image_id"] = image.pk
        else:
            name = f"signatures/appearance/{digest}.png"
            storage = _storage()
            full = storage.generate_filename(name)
            data["image_name"] = full if storage.exists(full) else storage.save(name, ContentFile(png))
    return data


def appearance_from_json(data: dict):
    from signatures.pdf.appearance import Appearance

    if not data:
        return None
    png = None
    if data.get("image_id"):
        image = SignatureImage.objects.filter(pk=data["image_id"]).first()
        png = image.read() if image else None
    elif data.get("image_name"):
        png = read_file(data["image_name"])
    return Appearance(kind=data.get("kind", "attachment"), lines=list(data.get("lines") or []), image_png=png)


def default_appearance(user, certificate: SigningCertificate, *, purpose: str = Purpose.OTHER, lines=None):
    """A ready appearance: the official's blue signature between title and name (personal), the
    commune's red seal (agency), or text only (attachment)."""
    from signatures.pdf.appearance import Appearance

    if purpose == Purpose.ATTACHMENT:
        return Appearance(kind="attachment", lines=list(lines or [certificate.subject]))
    if certificate.kind == CertificateKind.AGENCY:
        seal = active_image(ImageKind.SEAL)
        if seal is None:  # no seal uploaded yet: the organisation's name as text
            return Appearance(kind="attachment", lines=list(lines or [certificate.organisation or certificate.subject]))
        return Appearance(kind="agency", lines=list(lines or []), image_png=seal.read())
    image = active_image(ImageKind.SIGNATURE, certificate.owner_user_id or getattr(user, "pk", None))
    if lines is None:
        lines = [line for line in (certificate.title, certificate.subject) if line]
    if image is None and not lines:  # no handwritten signature uploaded: at least the signer's name
        lines = [certificate.subject]
    return Appearance(kind="personal", lines=list(lines), image_png=image.read() if image else None)


# --- signing -----------------------------------------------------------------------------------

def usable_certificates(user, kind: str | None = None):
    """The active, currently valid certificates the user may sign with."""
    now = timezone.now()
    qs = SigningCertificate.objects.filter(active=True, not_before__lte=now, not_after__gte=now)
    personal = qs.filter(kind=CertificateKind.PERSONAL, owner_user_id=user.pk)
    agency = qs.filter(kind=CertificateKind.AGENCY, grants__user_id=user.pk)
    if kind == CertificateKind.PERSONAL:
        result = personal
    elif kind == CertificateKind.AGENCY:
        result = agency
    else:
        result = personal | agency
    return result.distinct().order_by("kind", "-not_after")


def certificate_for(user, kind: str) -> SigningCertificate | None:
    """The certificate ``user`` signs with: their own (personal), or a commune certificate they
    hold a key grant for (agency). None when there is none usable now."""
    if not getattr(user, "is_authenticated", False):
        return None
    if kind == CertificateKind.PERSONAL and not permissions.may_hold_personal(user):
        return None
    if kind == CertificateKind.AGENCY and not permissions.may_use_agency_key(user):
        return None
    return usable_certificates(user, kind).first()


def check_authority(user, certificate: SigningCertificate, purpose: str) -> None:
    """Raise SigningRefused unless ``user`` may sign now with ``certificate`` for ``purpose``."""
    if not getattr(user, "is_authenticated", False) or certificate is None:
        raise _refuse("no_authority")
    if certificate.kind == CertificateKind.PERSONAL:
        if certificate.owner_user_id != user.pk or not permissions.may_hold_personal(user):
            raise _refuse("no_authority")
        if purpose in (Purpose.AGENCY, Purpose.ATTACHMENT):
            raise _refuse("no_authority", _("The agency's signature needs the commune's certificate."))
    else:
        if not permissions.may_use_agency_key(user) or _grant_for(certificate, user) is None:
            raise _refuse("no_authority")
        if purpose == Purpose.LEADER:
            raise _refuse("no_authority", _("The signature of the person with authority needs a personal certificate."))
    if certificate.backend in PIN_BACKENDS and _grant_for(certificate, user) is None:
        raise _refuse("no_authority")
    if not certificate.active:
        raise _refuse("certificate_inactive")
    now = timezone.now()
    if certificate.not_after < now:
        raise _refuse("certificate_expired")
    if certificate.not_before > now:
        raise _refuse("certificate_not_yet_valid")
    roots = trust_roots()
    if roots and not chain_is_trusted(certificate.cert_bytes, certificate.chain_bytes, roots):
        raise _refuse("untrusted")


def _read_source(source_name: str) -> bytes:
    max_bytes = int(getattr(settings, "XASO_PDF_MAX_BYTES", 20 * 1024 * 1024))
    storage = _storage()
    try:
        if not source_name or not storage.exists(source_name) or storage.size(source_name) > max_bytes:
            raise _refuse("invalid_pdf")
        data = read_file(source_name)
    except (OSError, ValueError):
        raise _refuse("invalid_pdf") from None
    if not data.startswith(PDF_MAGIC):
        raise _refuse("invalid_pdf")
    return data


def _signed_fields(pdf: bytes) -> dict:
    from signatures.pdf import pades

    try:
        return pades.signature_fields(pdf)
    except Exception:  # noqa: BLE001 - any parser failure: the file is not usable
        raise _refuse("invalid_pdf") from None


def _check_on_done(on_done: str) -> None:
    if on_done:
        try:
            func = import_string(on_done)
        except ImportError:
            raise ValueError(f"on_done {on_done!r} cannot be imported") from None
        if not callable(func):
            raise ValueError(f"on_done {on_done!r} is not callable")


def _open_key(user, certificate: SigningCertificate, pin: str):
    """The key to sign with, opened with the PIN (counting wrong PINs)."""
    from signatures.keys import Pkcs11Key, SoftwareKey

    grant = _grant_for(certificate, user)
    if grant is None:
        raise _refuse("no_authority")
    if certificate.backend == Backend.SOFTWARE:
        return _PinCheck.open(grant.pk, pin, lambda g: SoftwareKey.from_encrypted(
            bytes(g.encrypted_key), pin, certificate.cert_bytes, certificate.chain_bytes))
    config = certificate.backend_config or {}
    if config.get("module_path") not in _allowed_pkcs11_modules():
        raise _refuse("key_unavailable")
    return grant, Pkcs11Key(
        config["module_path"], config.get("token_label", ""), pin, key_label=config.get("key_label") or None,
        key_id=config.get("key_id") or None, cert_der=certificate.cert_bytes, chain_der=certificate.chain_bytes,
    )


def _sign_with_token(grant: KeyGrant, key, digest: bytes) -> bytes:
    """Sign on a PKCS#11 token: the token checks the PIN; wrong ones are counted like ours."""
    from signatures.keys import KeyError_, PinLocked, WrongPin

    def opener(_grant):
        try:
            return key.sign_digest(digest, "sha256")
        except (WrongPin, PinLocked):
            raise
        except KeyError_ as exc:
            raise _refuse("key_unavailable") if exc.retryable else SigningRefused(
                "key_unavailable", _("The token refused to sign (%(code)s).") % {"code": exc.code}) from None

    return _PinCheck.open(grant.pk, key._pin, opener)


def _output_field_name(field) -> str:
    return str(getattr(field, "name", "") or "").strip()


def request_signature(*, user, certificate: SigningCertificate, pin, source_name: str, field, appearance,
                      purpose: str, subject: str, on_done: str, reason: str = "", location: str = "") -> SigningJob:
    """Ask for a PAdES signature of the stored PDF ``source_name`` in ``field`` (a
    ``SignatureFieldSpec``) drawn as ``appearance`` (an ``Appearance``).

    Every refusal is a ``SigningRefused`` raised before anything is written. For a key opened
    with a PIN, the key signs here (prepare → sign the digest) and the job only finishes; for a
    remote key the job prepares, asks the service and waits for the official's confirmation.
    ``on_done`` (dotted path of ``f(job)``) runs in the job's final transaction, once the signed
    file is saved (``job.output_name``).
    """
    from signatures.pdf import pades
    from signatures.pdf.errors import PdfRejected

    if purpose not in Purpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    field_name = _output_field_name(field)
    if not field_name or len(field_name) > 100:
        raise ValueError("the signature field needs a name of at most 100 characters")
    _check_on_done(on_done)
    try:
        check_authority(user, certificate, purpose)
    except SigningRefused as exc:
        _log_refusal(user, certificate, subject, purpose, exc)
        raise
    pdf = _read_source(source_name)
    fields = _signed_fields(pdf)
    if fields.get(field_name) or _pending_job_exists(source_name, field_name):
        refusal = _refuse("already_signed")
        _log_refusal(user, certificate, subject, purpose, refusal)
        raise refusal

    job = SigningJob(
        purpose=purpose, subject=(subject or "")[:200], certificate=certificate, requested_by_id=user.pk,
        source_name=source_name, field_name=field_name, field_spec=field_to_json(field),
        on_done=on_done or "", reason=(reason or "")[:200],
        location=(location or "")[:200], timestamp_url=getattr(settings, "XASO_TSA_URL", "") or "",
    )
    prepared_bytes = None
    if certificate.backend in PIN_BACKENDS:
        try:
            opened = _open_key(user, certificate, str(pin or ""))
        except SigningRefused as exc:
            _log_refusal(user, certificate, subject, purpose, exc)
            raise
        try:
            prepared = pades.prepare(
                pdf, field=field, appearance=appearance, signing_cert_der=certificate.cert_bytes,
                chain_der=certificate.chain_bytes, reason=job.reason, location=job.location,
            )
        except PdfRejected as exc:
            logger.info("Cannot prepare %s for signing: %s", source_name, exc)
            refusal = _refuse("invalid_pdf", pdf_rejection_message(exc.code))
            _log_refusal(user, certificate, subject, purpose, refusal)
            raise refusal from None
        try:
            if certificate.backend == Backend.SOFTWARE:
                signature = opened.sign_digest(prepared.to_be_signed_digest, "sha256")
            else:
                grant, key = opened
                signature = _sign_with_token(grant, key, prepared.to_be_signed_digest)
        except SigningRefused as exc:
            _log_refusal(user, certificate, subject, purpose, exc)
            raise
        finally:
            opened = None  # the key in clear lives no longer than this call
        job.prepared_state = prepared.to_state()
        job.signature_value = base64.b64encode(signature).decode("ascii")
        prepared_bytes = prepared.pdf
        job.progress_message = _("Signed; the file is being finished.")[:255]
    else:
        job.progress_message = _("Waiting to ask the signing service.")[:255]

    job.appearance = appearance_to_json(appearance)
    with transaction.atomic():
        try:
            with transaction.atomic():
                job.save()
        except IntegrityError:
            raise _refuse("already_signed") from None
        if prepared_bytes is not None:
            stem = posixpath.splitext(posixpath.basename(source_name))[0][:60] or "document"
            job.prepared_name = _storage().save(f"signatures/prepared/{stem}-{job.idempotency_key}.pdf",
                                                ContentFile(prepared_bytes))
        enqueue(job)
        _log(user=user, certificate=certificate, subject=job.subject, purpose=purpose, outcome=Outcome.REQUESTED,
             job=job)
    return job


def _pending_job_exists(source_name: str, field_name: str) -> bool:
    return SigningJob.objects.filter(source_name=source_name, field_name=field_name).exclude(
        state=JobState.FAILED).exists()


def _log_refusal(user, certificate, subject, purpose, exc: SigningRefused) -> None:
    try:
        _log(user=user, certificate=certificate, subject=subject, purpose=purpose, outcome=Outcome.REFUSED,
             code=exc.code, detail=exc.message)
    except Exception:  # noqa: BLE001 - the log must not hide the refusal
        logger.exception("Could not log a refused signature")


# --- reading a job -----------------------------------------------------------------------------

def job_status(job: SigningJob) -> dict:
    """What a page or an API client shows about a signing job."""
    waiting_phone = job.state == JobState.WAITING and bool(job.csc_request_id)
    if job.state == JobState.SUCCEEDED:
        message = _("Signed.")
    elif job.state == JobState.FAILED:
        message = _("The signature failed: %(error)s") % {"error": job.error or "-"}
    elif waiting_phone or (job.certificate.backend == Backend.CSC and job.state == JobState.WAITING):
        message = _("Waiting for the signer to confirm on their phone.")
    elif job.state == JobState.WAITING:
        message = _("Waiting: %(reason)s") % {"reason": job.waiting_reason}
    else:
        message = job.progress_message or _("In progress.")
    return {
        "id": job.pk, "state": job.state, "done": job.state == JobState.SUCCEEDED,
        "failed": job.state == JobState.FAILED, "waiting_for_phone": waiting_phone,
        "progress_percent": job.progress_percent, "message": str(message), "error": job.error,
        "output_name": job.output_name, "attempts": job.attempts,
    }


def signed_file(job: SigningJob):
    """(open file, download name) of a finished job's signed PDF; None while there is none."""
    if job.state != JobState.SUCCEEDED or not job.output_name:
        return None
    storage = _storage()
    if not storage.exists(job.output_name):
        return None
    stem = posixpath.splitext(posixpath.basename(job.source_name))[0] or "document"
    return storage.open(job.output_name, "rb"), f"{stem}-signed.pdf"


# --- signing a PDF of one's own ------------------------------------------------------------------

def pdf_rejection_message(code: str) -> str:
    return {
        "not_pdf": _("This file is not a PDF."),
        "encrypted": _("This PDF is protected by a password; remove the protection first."),
        "too_large": _("This PDF is too large."),
        "malformed": _("This PDF is damaged and cannot be read."),
        "too_complex": _("This PDF is too complex to be processed."),
        "timeout": _("This PDF took too long to read."),
        "memory": _("This PDF needs too much memory to be read."),
        "bad_byte_range": _("A signature in this PDF is malformed."),
        "unsupported": _("This PDF uses a feature that cannot be signed here."),
    }.get(code, _("This PDF cannot be processed."))


def check_pdf_upload(data: bytes) -> None:
    """Size, signature bytes, and a parse in a separate, limited process (hostile files)."""
    max_bytes = int(getattr(settings, "XASO_PDF_MAX_BYTES", 20 * 1024 * 1024))
    if not data:
        raise ValidationError({"file": _("Choose the PDF file.")})
    if len(data) > max_bytes:
        raise ValidationError({"file": _("The PDF is larger than %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}})
    if PDF_MAGIC not in data[:1024]:
        raise ValidationError({"file": pdf_rejection_message("not_pdf")})
    from signatures.pdf.errors import PdfRejected
    from signatures.pdf.sandbox import inspect_limited

    try:
        inspect_limited(data, max_bytes=max_bytes, seconds=float(getattr(settings, "XASO_PDF_PARSE_SECONDS", 20)),
                        memory_mb=int(getattr(settings, "XASO_PDF_PARSE_MEMORY_MB", 768)))
    except PdfRejected as exc:
        raise ValidationError({"file": pdf_rejection_message(exc.code)}) from None


def sign_uploaded_pdf(*, user, certificate: SigningCertificate, pin, data: bytes, filename: str = "",
                      reason: str = "") -> SigningJob:
    """Sign a PDF the official uploads (invisible signature, purpose "other")."""
    from signatures.pdf.appearance import Appearance
    from signatures.pdf.pades import SignatureFieldSpec

    data = bytes(data or b"")
    check_pdf_upload(data)
    try:
        fields = _signed_fields(data)
    except SigningRefused:
        raise ValidationError({"file": pdf_rejection_message("malformed")}) from None
    check_authority(user, certificate, Purpose.OTHER)
    number = len(fields) + 1
    while f"Signature{number}" in fields:
        number += 1
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", posixpath.splitext(posixpath.basename(filename or ""))[0])[:60] or "document"
    name = _storage().save(f"signatures/uploads/{stem}.pdf", ContentFile(data))
    try:
        return request_signature(
            user=user, certificate=certificate, pin=pin, source_name=name,
            field=SignatureFieldSpec(name=f"Signature{number}", page=0, box=None),
            appearance=Appearance(kind="attachment", lines=[certificate.subject]),
            purpose=Purpose.OTHER, subject="signatures.upload", on_done="", reason=reason,
        )
    except BaseException:
        try:
            _storage().delete(name)
        except Exception:  # noqa: BLE001 - best effort: the refusal matters more
            logger.warning("Could not remove the refused upload %s", name)
        raise
