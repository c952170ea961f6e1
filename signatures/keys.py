"""Signing keys: where the private-key operation of a signature happens.

Three backends share one small interface (:class:`KeyBackend`): a key held by the portal under a
PIN (:class:`SoftwareKey`), a key on a PKCS#11 token or HSM (:class:`Pkcs11Key`), and a key held
by a remote signing service speaking the Cloud Signature Consortium API (:class:`CscKey`, the
official confirms each signature on another device: a phone application or a SIM prompt).

Every backend signs a precomputed digest and returns the raw signature value: RSA PKCS#1 v1.5
over the DER DigestInfo of the digest, or an ECDSA signature DER-encoded as
``SEQUENCE {r, s}`` — exactly what goes into a CMS ``SignerInfo``.

Failures are :class:`KeyError_` subclasses, each with a short machine ``code`` (the application
translates codes into messages) and a ``retryable`` flag.

Nothing here talks to Django.
"""
from __future__ import annotations

import binascii
import os
import threading
import time
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

__all__ = [
    "KeyBackend", "KeyError_", "WrongPin", "PinLocked", "KeyUnavailable", "AuthorizationPending",
    "AuthorizationRefused", "KeyConfigurationError", "BadDigest", "SoftwareKey", "Pkcs11Key", "CscKey",
    "DIGEST_SIZES", "digest_info", "verify_digest_signature", "key_kind",
]


# --- errors ----------------------------------------------------------------------------------------

class KeyError_(Exception):
    """Base of every failure of a signing key. ``code`` is short and machine-readable."""

    default_code = "key_error"
    retryable = False

    def __init__(self, detail: str = "", *, code: str | None = None):
        self.code = code or self.default_code
        self.detail = detail or self.code
        super().__init__(self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, detail={self.detail!r})"


class WrongPin(KeyError_):
    """The PIN does not open the key."""

    default_code = "wrong_pin"


class PinLocked(KeyError_):
    """The PIN is blocked (too many wrong attempts) or must be changed before use."""

    default_code = "pin_locked"


class KeyUnavailable(KeyError_):
    """The key cannot be reached now (token absent, driver missing, service down): try again later."""

    default_code = "key_unavailable"
    retryable = True

    def __init__(self, detail: str = "", *, code: str | None = None, retry_after: float | None = None):
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class AuthorizationPending(KeyError_):
    """The remote service waits for the official to confirm on their device.

    ``retry_after`` is the number of seconds to wait before asking again, ``reason`` a short code
    ("authorization_pending" or "slow_down"); ``request_id`` identifies the request to collect.
    """

    default_code = "authorization_pending"
    retryable = True

    def __init__(self, retry_after: float, reason: str = "authorization_pending", *, request_id: str | None = None,
                 detail: str = ""):
        super().__init__(detail or f"waiting for the signer's confirmation ({reason})", code="authorization_pending")
        self.retry_after = float(retry_after)
        self.reason = reason
        self.request_id = request_id


class AuthorizationRefused(KeyError_):
    """The official declined, the confirmation expired, or the service refused the authorisation."""

    default_code = "authorization_refused"


class KeyConfigurationError(KeyError_):
    """The key is not set up correctly (key or certificate not found, wrong credential, bad service token,
    unsupported algorithm, key and certificate do not match). Retrying does not help."""

    default_code = "key_misconfigured"


class BadDigest(KeyError_, ValueError):
    """The digest does not fit the digest algorithm."""

    default_code = "bad_digest"


# --- algorithms --------------------------------------------------------------------------------------

DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}

_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}

# DER of DigestInfo ::= SEQUENCE { AlgorithmIdentifier {OID, NULL}, OCTET STRING } minus the digest.
_DIGEST_INFO_PREFIX = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


def _check_digest(digest: bytes, digest_algorithm: str) -> tuple[bytes, str]:
    algorithm = (digest_algorithm or "").lower().replace("-", "")
    if algorithm not in DIGEST_SIZES:
        raise BadDigest(f"unsupported digest algorithm {digest_algorithm!r}", code="unsupported_digest")
    digest = bytes(digest)
    if len(digest) != DIGEST_SIZES[algorithm]:
        raise BadDigest(f"a {algorithm} digest has {DIGEST_SIZES[algorithm]} bytes, not {len(digest)}")
    return digest, algorithm


def digest_info(digest: bytes, digest_algorithm: str = "sha256") -> bytes:
    """The DER DigestInfo that RSA PKCS#1 v1.5 signs (RFC 8017, section 9.2)."""
    digest, algorithm = _check_digest(digest, digest_algorithm)
    return _DIGEST_INFO_PREFIX[algorithm] + digest


def key_kind(public_key) -> str:
    """"rsa" or "ec" for a cryptography public or private key."""
    if isinstance(public_key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "rsa"
    if isinstance(public_key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "ec"
    raise KeyConfigurationError(f"unsupported key type {type(public_key).__name__}", code="unsupported_key")


def _certificate(cert_der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(bytes(cert_der))
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"not a DER certificate: {exc}", code="bad_certificate") from None


def verify_digest_signature(cert_der: bytes, digest: bytes, signature: bytes, digest_algorithm: str = "sha256") -> bool:
    """True if ``signature`` is a valid signature of ``digest`` by the certificate's key."""
    digest, algorithm = _check_digest(digest, digest_algorithm)
    public_key = _certificate(cert_der).public_key()
    prehashed = Prehashed(_HASHES[algorithm]())
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(bytes(signature), digest, padding.PKCS1v15(), prehashed)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(bytes(signature), digest, ec.ECDSA(prehashed))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


# --- the interface -----------------------------------------------------------------------------------

@runtime_checkable
class KeyBackend(Protocol):
    """What the signing engine needs from a key: its certificate, the chain above it (issuer first),
    and a signature of a precomputed digest."""

    cert_der: bytes
    chain_der: list[bytes]

    def sign_digest(self, digest: bytes, digest_algorithm: str = "sha256") -> bytes:
        """The raw signature value (RSA PKCS#1 v1.5 over DigestInfo, or DER ECDSA)."""
        ...


def _public_numbers_match(private_key, cert: x509.Certificate) -> bool:
    return private_key.public_key().public_numbers() == cert.public_key().public_numbers()


# --- a key held by the portal -----------------------------------------------------------------------

class SoftwareKey:
    """A private key in memory (opened with the official's PIN for one signing operation)."""

    def __init__(self, private_key, cert_der: bytes, chain_der=()):
        self.kind = key_kind(private_key)
        self.cert_der = bytes(cert_der)
        self.chain_der = [bytes(c) for c in chain_der]
        if not _public_numbers_match(private_key, _certificate(self.cert_der)):
            raise KeyConfigurationError("the private key does not belong to the certificate",
                                        code="key_certificate_mismatch")
        self._key = private_key

    @classmethod
    def from_encrypted(cls, blob: bytes, pin: str | bytes, cert_der: bytes, chain_der=()) -> "SoftwareKey":
        """Open a key stored as encrypted PKCS#8 (``pki.encrypt_key``) with the PIN."""
        from signatures import pki

        try:
            private_key = pki.decrypt_key(blob, pin)
        except pki.WrongPin:
            raise WrongPin("the PIN does not open this key") from None
        return cls(private_key, cert_der, chain_der)

    def sign_digest(self, digest: bytes, digest_algorithm: str = "sha256") -> bytes:
        digest, algorithm = _check_digest(digest, digest_algorithm)
        prehashed = Prehashed(_HASHES[algorithm]())
        if self.kind == "rsa":
            return self._key.sign(digest, padding.PKCS1v15(), prehashed)
        return self._key.sign(digest, ec.ECDSA(prehashed))

    def __repr__(self) -> str:
        return f"SoftwareKey({self.kind})"


# --- a key on a PKCS#11 token ----------------------------------------------------------------------

_PKCS11_LOCK = threading.RLock()
_PKCS11_LIBS: dict[str, tuple[object, int]] = {}


def _new_lock_in_child() -> None:
    global _PKCS11_LOCK
    _PKCS11_LOCK = threading.RLock()  # a lock held by another thread at fork time is never released


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


def _pkcs11_lib(module_path: str):
    """The PKCS#11 module, loaded once per process (and initialised again after a fork)."""
    import pkcs11

    with _PKCS11_LOCK:
        cached = _PKCS11_LIBS.get(module_path)
        if cached is not None:
            lib, pid = cached
            if pid != os.getpid():  # a forked child must call C_Initialize itself
                try:
                    lib.finalize()
                except Exception:  # noqa: BLE001 - the module may have reset itself on fork
                    pass
                lib.initialize()
                _PKCS11_LIBS[module_path] = (lib, os.getpid())
            return lib
        if not os.path.exists(module_path):
            raise KeyUnavailable(f"PKCS#11 module {module_path} is not installed", code="pkcs11_module_missing")
        try:
            lib = pkcs11.lib(module_path)
        except (OSError, RuntimeError) as exc:
            raise KeyUnavailable(f"PKCS#11 module {module_path} cannot be loaded: {exc}",
                                 code="pkcs11_module_missing") from None
        _PKCS11_LIBS[module_path] = (lib, os.getpid())
        return lib


def _map_pkcs11_error(exc: Exception) -> KeyError_:
    from pkcs11 import exceptions as e

    detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(exc, (e.PinIncorrect, e.PinInvalid, e.PinLenRange)):
        return WrongPin(detail)
    if isinstance(exc, e.PinLocked):
        return PinLocked(detail)
    if isinstance(exc, e.PinExpired):
        return PinLocked(detail, code="pin_expired")
    if isinstance(exc, (e.NoSuchToken, e.TokenNotPresent, e.TokenNotRecognised, e.DeviceRemoved,
                        e.SlotIDInvalid, e.SessionHandleInvalid, e.SessionClosed, e.SessionCount)):
        return KeyUnavailable(detail, code="token_absent")
    if isinstance(exc, (e.DeviceError, e.DeviceMemory, e.GeneralError, e.FunctionFailed, e.HostMemory)):
        return KeyUnavailable(detail, code="token_error")
    if isinstance(exc, e.UserPinNotInitialized):
        return KeyConfigurationError(detail, code="token_not_initialised")
    if isinstance(exc, e.NoSuchKey):
        return KeyConfigurationError(detail, code="key_not_found")
    if isinstance(exc, e.MultipleObjectsReturned):
        return KeyConfigurationError(detail, code="key_ambiguous")
    if isinstance(exc, e.MultipleTokensReturned):
        return KeyConfigurationError(detail, code="token_ambiguous")
    if isinstance(exc, (e.MechanismInvalid, e.KeyTypeInconsistent, e.FunctionNotSupported)):
        return KeyConfigurationError(detail, code="mechanism_unsupported")
    return KeyError_(detail, code="token_error")


def _key_id_bytes(key_id) -> bytes | None:
    if key_id is None or isinstance(key_id, (bytes, bytearray)):
        return bytes(key_id) if key_id is not None else None
    try:
        return binascii.unhexlify(str(key_id).replace(":", "").strip())
    except (binascii.Error, ValueError):
        raise KeyConfigurationError(f"key id {key_id!r} is not hexadecimal", code="bad_key_id") from None


class Pkcs11Key:
    """A private key on a PKCS#11 token (USB token of the official, or an HSM).

    ``key_id`` is bytes or a hexadecimal string ("01"). Without ``key_label`` and ``key_id`` the
    token must hold exactly one private key. Without ``cert_der`` the certificate is read from the
    token (same id, else same label); without ``chain_der`` the chain is built from the other
    certificates on the token. Each :meth:`sign_digest` opens a session, logs in with the PIN,
    signs and logs out; operations on the module are serialised within the process.
    """

    def __init__(self, module_path: str, token_label: str, pin: str | bytes, key_label: str | None = None,
                 key_id: bytes | str | None = None, cert_der: bytes | None = None, chain_der=()):
        self.module_path = module_path
        self.token_label = token_label
        self._pin = pin.decode() if isinstance(pin, (bytes, bytearray)) else pin
        self.key_label = key_label
        self.key_id = _key_id_bytes(key_id)
        self._cert_der = bytes(cert_der) if cert_der else None
        self._chain_der = [bytes(c) for c in chain_der] if chain_der else None

    def __repr__(self) -> str:
        return f"Pkcs11Key({self.module_path!r}, {self.token_label!r}, key_label={self.key_label!r})"

    # token access

    def _token(self, lib):
        import pkcs11

        try:
            return lib.get_token(token_label=self.token_label)
        except pkcs11.NoSuchToken:
            # Tokens inserted (or created) after the module was initialised appear only after
            # C_Finalize/C_Initialize with some modules.
            lib.reinitialize()
            return lib.get_token(token_label=self.token_label)

    def _run(self, func, *, login: bool):
        import pkcs11

        if login and not self._pin:
            raise WrongPin("no PIN given")
        with _PKCS11_LOCK:
            lib = _pkcs11_lib(self.module_path)
            try:
                token = self._token(lib)
                with token.open(user_pin=self._pin if login else None) as session:
                    return func(session)
            except pkcs11.PKCS11Error as exc:
                raise _map_pkcs11_error(exc) from None

    def _find_private_key(self, session):
        import pkcs11
        from pkcs11 import Attribute, ObjectClass

        attrs = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
        if self.key_label is not None:
            attrs[Attribute.LABEL] = self.key_label
        if self.key_id is not None:
            attrs[Attribute.ID] = self.key_id
        found = list(session.get_objects(attrs))
        if not found:
            raise pkcs11.NoSuchKey(f"no private key matching label={self.key_label!r} id={self.key_id!r}")
        if len(found) > 1:
            raise pkcs11.MultipleObjectsReturned("more than one private key matches; give key_label or key_id")
        return found[0]

    def _read_certificates(self, session) -> tuple[bytes | None, list[bytes]]:
        from pkcs11 import Attribute, ObjectClass

        certs = []
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            try:
                value = bytes(obj[Attribute.VALUE])
            except Exception:  # noqa: BLE001 - an unreadable object is skipped
                continue
            ident = _safe_attr(obj, Attribute.ID)
            label = _safe_attr(obj, Attribute.LABEL)
            certs.append((ident, label, value))
        own = None
        if self.key_id is not None:
            own = next((v for i, _l, v in certs if i == self.key_id), None)
        if own is None and self.key_label is not None:
            own = next((v for _i, l, v in certs if l == self.key_label), None)
        if own is None and self.key_id is None and self.key_label is None:
            own = _single_end_entity([v for _i, _l, v in certs])
        others = [v for _i, _l, v in certs if v != own]
        return own, others

    def _load_certificates(self, session):
        if self._cert_der is not None and self._chain_der is not None:
            return
        own, others = self._read_certificates(session)
        if self._cert_der is None:
            if own is None:
                raise KeyConfigurationError("no certificate for this key on the token", code="certificate_not_found")
            self._cert_der = own
        if self._chain_der is None:
            self._chain_der = _build_chain(self._cert_der, others)

    def _ensure_certificates(self) -> None:
        if self._cert_der is not None and self._chain_der is not None:
            return
        try:
            self._run(self._load_certificates, login=False)
        except KeyConfigurationError as exc:
            if exc.code != "certificate_not_found" or not self._pin:
                raise
            self._run(self._load_certificates, login=True)  # certificates visible only after login

    @property
    def cert_der(self) -> bytes:
        self._ensure_certificates()
        return self._cert_der

    @property
    def chain_der(self) -> list[bytes]:
        self._ensure_certificates()
        return list(self._chain_der or [])

    def sign_digest(self, digest: bytes, digest_algorithm: str = "sha256") -> bytes:
        from pkcs11 import KeyType, Mechanism

        digest, algorithm = _check_digest(digest, digest_algorithm)

        def sign(session):
            key = self._find_private_key(session)
            if key.key_type == KeyType.RSA:
                return bytes(key.sign(_DIGEST_INFO_PREFIX[algorithm] + digest, mechanism=Mechanism.RSA_PKCS))
            if key.key_type == KeyType.EC:
                raw = bytes(key.sign(digest, mechanism=Mechanism.ECDSA))
                half = len(raw) // 2
                return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
            raise KeyConfigurationError(f"unsupported key type {key.key_type}", code="unsupported_key")

        return self._run(sign, login=True)


def _safe_attr(obj, attribute):
    try:
        value = obj[attribute]
    except Exception:  # noqa: BLE001 - attribute absent or not readable
        return None
    return bytes(value) if isinstance(value, (bytes, bytearray)) else value


def _single_end_entity(certs_der: list[bytes]) -> bytes | None:
    end_entities = []
    for der in certs_der:
        try:
            cert = x509.load_der_x509_certificate(der)
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        except ValueError:
            continue
        if not is_ca:
            end_entities.append(der)
    return end_entities[0] if len(end_entities) == 1 else None


def _build_chain(cert_der: bytes, others_der: list[bytes]) -> list[bytes]:
    """Issuer first, root last, from the certificates available; unrelated ones are dropped."""
    pool = []
    for der in others_der:
        try:
            pool.append((x509.load_der_x509_certificate(der), der))
        except ValueError:
            continue
    chain, current = [], _certificate(cert_der)
    while True:
        issuer = next(((c, d) for c, d in pool if c.subject == current.issuer and d not in chain), None)
        if issuer is None:
            break
        chain.append(issuer[1])
        if issuer[0].subject == issuer[0].issuer:
            break
        current = issuer[0]
    return chain


# --- a key held by a remote signing service ---------------------------------------------------------

class CscKey:
    """A credential of a remote signing service (Cloud Signature Consortium API, see docs/csc.md).

    Signing is two steps, because the official confirms each signature on their phone:
    :meth:`request` asks the service to authorise the digest and returns a request id; later,
    :meth:`collect` returns the signature once the official has confirmed, raises
    :class:`AuthorizationPending` while they have not, and :class:`AuthorizationRefused` if they
    declined or the prompt expired. Both are safe to repeat: the request id is the idempotency key,
    so a retried request or a poll never creates a second prompt.
    """

    def __init__(self, client, credential_id: str, *, cert_der: bytes | None = None, chain_der=None,
                 pin: str | None = None, otp: str | None = None, description: str | None = None,
                 sync_wait: float = 5.0, poll_interval: float = 0.5, verify: bool = True):
        self.client = client
        self.credential_id = credential_id
        self._cert_der = bytes(cert_der) if cert_der else None
        self._chain_der = [bytes(c) for c in chain_der] if chain_der is not None else None
        self._kind = None
        self.pin = pin
        self.otp = otp
        self.description = description
        self.sync_wait = sync_wait
        self.poll_interval = poll_interval
        self.verify = verify
        self._sads: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"CscKey({self.credential_id!r})"

    def _load_info(self):
        info = self.client.credential_info(self.credential_id)
        if self._cert_der is None:
            self._cert_der = info.cert_der
        if self._chain_der is None:
            self._chain_der = list(info.chain_der)

    @property
    def cert_der(self) -> bytes:
        if self._cert_der is None:
            self._load_info()
        return self._cert_der

    @property
    def chain_der(self) -> list[bytes]:
        if self._chain_der is None:
            self._load_info()
        return list(self._chain_der)

    @property
    def kind(self) -> str:
        if self._kind is None:
            self._kind = key_kind(_certificate(self.cert_der).public_key())
        return self._kind

    def _authorize(self, request_id: str, digest: bytes, algorithm: str, description: str | None):
        return self.client.authorize(
            self.credential_id, [digest], idempotency_key=request_id, pin=self.pin, otp=self.otp,
            description=description if description is not None else self.description,
        )

    def request(self, digest: bytes, idempotency_key: str, digest_algorithm: str = "sha256", *,
                description: str | None = None) -> str:
        """Ask the service to authorise a signature of ``digest``; returns the request id.

        Does not raise :class:`AuthorizationPending`: waiting is the normal outcome. Raises
        :class:`KeyUnavailable` (retry with the same key), :class:`AuthorizationRefused`,
        :class:`KeyConfigurationError`."""
        digest, algorithm = _check_digest(digest, digest_algorithm)
        request_id = str(idempotency_key)
        if not request_id:
            raise KeyConfigurationError("an idempotency key is required", code="missing_idempotency_key")
        try:
            self._sads[request_id] = self._authorize(request_id, digest, algorithm, description)
        except AuthorizationPending:
            pass
        return request_id

    def collect(self, request_id: str, digest: bytes, digest_algorithm: str = "sha256") -> bytes:
        """The signature of ``digest`` once the official has confirmed request ``request_id``."""
        digest, algorithm = _check_digest(digest, digest_algorithm)
        authorization = self._sads.pop(request_id, None)
        if authorization is None:
            try:
                authorization = self._authorize(request_id, digest, algorithm, None)
            except AuthorizationPending as exc:
                exc.request_id = request_id
                raise
        signatures = self.client.sign_hash(
            self.credential_id, authorization.sad, [digest], digest_algorithm=algorithm, key_kind=self.kind,
            idempotency_key=f"{request_id}/signHash",
        )
        if len(signatures) != 1:
            raise KeyError_(f"expected one signature, got {len(signatures)}", code="bad_response")
        signature = signatures[0]
        if self.verify and not verify_digest_signature(self.cert_der, digest, signature, algorithm):
            raise KeyError_("the service returned a signature that does not match the certificate",
                            code="bad_signature")
        return signature

    def sign_digest(self, digest: bytes, digest_algorithm: str = "sha256") -> bytes:
        """Request and wait up to ``sync_wait`` seconds; then :class:`AuthorizationPending` carrying
        the ``request_id`` to :meth:`collect` later."""
        import uuid

        request_id = self.request(digest, uuid.uuid4().hex, digest_algorithm)
        deadline = time.monotonic() + self.sync_wait
        while True:
            try:
                return self.collect(request_id, digest, digest_algorithm)
            except AuthorizationPending as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                time.sleep(min(remaining, max(exc.retry_after, self.poll_interval, 0.01)))
