"""Client for remote signing services: Cloud Signature Consortium API v1.0.4, with an asynchronous
authorisation (the official confirms on their phone or with a SIM prompt). See docs/csc.md.

Every failure is a ``signatures.keys.KeyError_`` with a short ``code``:
timeouts, connection errors, 5xx and 429 → ``KeyUnavailable`` (retryable);
``authorization_pending``/``slow_down`` → ``AuthorizationPending``;
``access_denied``/``expired_token`` and SAD errors → ``AuthorizationRefused``;
PIN/OTP errors → ``WrongPin``/``PinLocked``; anything else the service rejects (bad token, unknown
credential, bad request) → ``KeyConfigurationError``; an unreadable answer → ``KeyError_("csc_bad_response")``.

Nothing here talks to Django.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

import requests
from cryptography import x509

from signatures.keys import (
    DIGEST_SIZES, AuthorizationPending, AuthorizationRefused, KeyConfigurationError, KeyError_, KeyUnavailable,
    PinLocked, WrongPin, key_kind as _key_kind,
)

__all__ = ["CscClient", "CredentialInfo", "Authorization", "HASH_OIDS", "SIGN_OIDS", "API_PATH"]

API_PATH = "/csc/v1"
DEFAULT_INTERVAL = 5.0  # seconds between polls when the service does not say

HASH_OIDS = {
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}
SIGN_OIDS = {
    ("rsa", "sha256"): "1.2.840.113549.1.1.11",
    ("rsa", "sha384"): "1.2.840.113549.1.1.12",
    ("rsa", "sha512"): "1.2.840.113549.1.1.13",
    ("ec", "sha256"): "1.2.840.10045.4.3.2",
    ("ec", "sha384"): "1.2.840.10045.4.3.3",
    ("ec", "sha512"): "1.2.840.10045.4.3.4",
}
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"

_PENDING = {"authorization_pending", "slow_down"}
_REFUSED = {"access_denied": "access_denied", "expired_token": "authorization_expired"}
_PIN_ERRORS = {"invalid_pin": "wrong_pin", "invalid_otp": "wrong_otp"}


@dataclass
class CredentialInfo:
    """The useful part of a ``credentials/info`` answer."""

    credential_id: str
    cert_der: bytes
    chain_der: list[bytes]
    key_kind: str  # "rsa" | "ec"
    key_algorithms: list[str] = field(default_factory=list)  # OIDs the service announces
    key_length: int | None = None
    key_status: str = "enabled"
    cert_status: str = "valid"
    scal: int = 1
    auth_mode: str = "explicit"
    multisign: int = 1
    pin_presence: str = "false"
    otp_presence: str = "false"
    description: str = ""
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class Authorization:
    """Signature activation data (SAD) for the hashes given to ``credentials/authorize``."""

    sad: str
    expires_in: int = 3600


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _unb64(value, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise KeyError_(f"{what} is not base64", code="csc_bad_response") from None


def _code(error: str) -> str:
    return "csc_" + (re.sub(r"[^a-z0-9_]+", "_", (error or "error").lower()).strip("_")[:40] or "error")


def _retry_after(response, body: dict, default: float | None) -> float | None:
    for value in (body.get("interval") if isinstance(body, dict) else None, response.headers.get("Retry-After")):
        try:
            if value is not None and float(value) >= 0:
                return float(value)
        except (TypeError, ValueError):
            continue
    return default


class CscClient:
    """A CSC API v1 client. ``base_url`` is the service root (``/csc/v1`` is added unless present);
    ``token`` the bearer access token of the portal's account; ``timeout`` in seconds per call."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0, *, session: requests.Session | None = None,
                 lang: str | None = None):
        base = (base_url or "").rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise KeyConfigurationError(f"not an http(s) URL: {base_url!r}", code="csc_bad_url")
        self.base_url = base if base.endswith(API_PATH) else base + API_PATH
        self.token = token
        self.timeout = timeout
        self.lang = lang
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"CscClient({self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    # transport

    def _post(self, method: str, body: dict, *, idempotency_key: str | None = None, stage: str = "other") -> dict:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = f"{self.base_url}/{method}"
        try:
            response = self._session.post(url, json=body, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            raise KeyUnavailable(f"{method}: no answer within {self.timeout} s", code="csc_timeout") from None
        except requests.ConnectionError as exc:
            raise KeyUnavailable(f"{method}: cannot reach the service ({exc.__class__.__name__})",
                                 code="csc_unreachable") from None
        except requests.RequestException as exc:
            raise KeyUnavailable(f"{method}: {exc.__class__.__name__}", code="csc_unreachable") from None
        return self._answer(method, response, stage)

    def _answer(self, method: str, response, stage: str) -> dict:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if status >= 500:
            raise KeyUnavailable(f"{method}: service error HTTP {status}", code="csc_service_error",
                                 retry_after=_retry_after(response, body or {}, None))
        if status == 429:
            raise KeyUnavailable(f"{method}: too many requests", code="csc_rate_limited",
                                 retry_after=_retry_after(response, body or {}, DEFAULT_INTERVAL))
        if not isinstance(body, dict):
            raise KeyError_(f"{method}: HTTP {status} without a JSON object", code="csc_bad_response")
        error = body.get("error")
        description = str(body.get("error_description") or error or "")[:300]
        if status in (200, 201) and not error:
            return body
        error = str(error or f"http_{status}")
        if error in _PENDING and stage == "authorize" and status in (202, 400):
            interval = _retry_after(response, body, DEFAULT_INTERVAL)
            if error == "slow_down":
                interval += 5.0
            raise AuthorizationPending(interval, error, detail=description)
        if status == 401 or error == "invalid_token":
            raise KeyConfigurationError(f"{method}: the service refused the access token ({description})",
                                        code="csc_invalid_token")
        if stage == "authorize" and error in _REFUSED:
            raise AuthorizationRefused(f"{method}: {description}", code=_REFUSED[error])
        if error in _PIN_ERRORS:
            raise WrongPin(f"{method}: {description}", code=_PIN_ERRORS[error])
        if "locked" in error or "blocked" in error:
            raise PinLocked(f"{method}: {description}", code="pin_locked")
        if status in (409, 422):
            raise KeyConfigurationError(f"{method}: {description}", code="csc_idempotency_conflict")
        if stage == "sign" and status == 400 and (error == "invalid_sad" or "sad" in description.lower()):
            raise AuthorizationRefused(f"{method}: {description}", code="csc_invalid_sad")
        if status == 202:
            raise KeyError_(f"{method}: unexpected HTTP 202 ({error})", code="csc_bad_response")
        raise KeyConfigurationError(f"{method}: HTTP {status} {description}", code=_code(error))

    # the API

    def info(self) -> dict:
        body = {"lang": self.lang} if self.lang else {}
        return self._post("info", body)

    def list_credentials(self, user_id: str | None = None, max_results: int | None = None) -> list[str]:
        """All credential ids of the account (``credentials/list``, following ``nextPageToken``)."""
        ids: list[str] = []
        page_token = None
        for _page in range(100):
            body: dict = {}
            if user_id:
                body["userID"] = user_id
            if max_results:
                body["maxResults"] = int(max_results)
            if page_token:
                body["pageToken"] = page_token
            answer = self._post("credentials/list", body)
            found = answer.get("credentialIDs")
            if not isinstance(found, list) or not all(isinstance(i, str) for i in found):
                raise KeyError_("credentials/list: no credentialIDs list", code="csc_bad_response")
            ids.extend(found)
            page_token = answer.get("nextPageToken")
            if not page_token or (max_results and len(ids) >= max_results):
                break
        return ids

    def credential_info(self, credential_id: str) -> CredentialInfo:
        body = {"credentialID": credential_id, "certificates": "chain", "certInfo": True, "authInfo": True}
        if self.lang:
            body["lang"] = self.lang
        answer = self._post("credentials/info", body)
        key = answer.get("key") if isinstance(answer.get("key"), dict) else {}
        cert = answer.get("cert") if isinstance(answer.get("cert"), dict) else {}
        encoded = cert.get("certificates")
        if not isinstance(encoded, list) or not encoded:
            raise KeyError_("credentials/info: no certificates", code="csc_bad_response")
        ders = [_unb64(c, "a certificate") for c in encoded]
        try:
            signer = x509.load_der_x509_certificate(ders[0])
        except ValueError:
            raise KeyError_("credentials/info: the first certificate is not DER", code="csc_bad_response") from None
        algorithms = [str(a) for a in key.get("algo", []) if isinstance(a, str)] if isinstance(key.get("algo"), list) else []
        try:
            kind = _key_kind(signer.public_key())
        except KeyConfigurationError:
            kind = "rsa" if RSA_ENCRYPTION in algorithms else "ec" if EC_PUBLIC_KEY in algorithms else ""
            if not kind:
                raise
        try:
            scal = int(answer.get("SCAL", 1))
        except (TypeError, ValueError):
            scal = 1
        try:
            multisign = int(answer.get("multisign", 1))
        except (TypeError, ValueError):
            multisign = 1
        pin = answer.get("PIN") if isinstance(answer.get("PIN"), dict) else {}
        otp = answer.get("OTP") if isinstance(answer.get("OTP"), dict) else {}
        return CredentialInfo(
            credential_id=credential_id, cert_der=ders[0], chain_der=ders[1:], key_kind=kind,
            key_algorithms=algorithms, key_length=key.get("len") if isinstance(key.get("len"), int) else None,
            key_status=str(key.get("status", "enabled")), cert_status=str(cert.get("status", "valid")),
            scal=scal, auth_mode=str(answer.get("authMode", "explicit")), multisign=multisign,
            pin_presence=str(pin.get("presence", "false")), otp_presence=str(otp.get("presence", "false")),
            description=str(answer.get("description", "")), raw=answer,
        )

    def authorize(self, credential_id: str, hashes: list[bytes], *, idempotency_key: str, pin: str | None = None,
                  otp: str | None = None, description: str | None = None) -> Authorization:
        """``credentials/authorize`` for exactly these hashes (SCAL2). Raises ``AuthorizationPending``
        while the official has not confirmed; repeat the same call (same idempotency key) to poll."""
        if not idempotency_key:
            raise KeyConfigurationError("an idempotency key is required", code="missing_idempotency_key")
        body = {
            "credentialID": credential_id,
            "numSignatures": len(hashes),
            "hash": [_b64(h) for h in hashes],
            "clientData": idempotency_key,
        }
        if pin is not None:
            body["PIN"] = pin
        if otp is not None:
            body["OTP"] = otp
        if description:
            body["description"] = description[:500]
        answer = self._post("credentials/authorize", body, idempotency_key=idempotency_key, stage="authorize")
        sad = answer.get("SAD")
        if not isinstance(sad, str) or not sad:
            raise KeyError_("credentials/authorize: no SAD in the answer", code="csc_bad_response")
        try:
            expires_in = int(answer.get("expiresIn", 3600))
        except (TypeError, ValueError):
            expires_in = 3600
        return Authorization(sad=sad, expires_in=expires_in)

    def sign_hash(self, credential_id: str, sad: str, hashes: list[bytes], *, digest_algorithm: str = "sha256",
                  key_kind: str = "rsa", sign_algo: str | None = None,
                  idempotency_key: str | None = None) -> list[bytes]:
        """``signatures/signHash``: raw signature values, one per hash, in order."""
        algorithm = digest_algorithm.lower().replace("-", "")
        if algorithm not in HASH_OIDS:
            raise KeyConfigurationError(f"unsupported digest algorithm {digest_algorithm!r}", code="unsupported_digest")
        for h in hashes:
            if len(h) != DIGEST_SIZES[algorithm]:
                raise KeyConfigurationError(f"a {algorithm} hash has {DIGEST_SIZES[algorithm]} bytes",
                                            code="bad_digest")
        sign_algo = sign_algo or SIGN_OIDS.get((key_kind, algorithm))
        if not sign_algo:
            raise KeyConfigurationError(f"unsupported key type {key_kind!r}", code="unsupported_key")
        body = {
            "credentialID": credential_id,
            "SAD": sad,
            "hash": [_b64(h) for h in hashes],
            "hashAlgo": HASH_OIDS[algorithm],
            "signAlgo": sign_algo,
        }
        if idempotency_key:
            body["clientData"] = idempotency_key
        answer = self._post("signatures/signHash", body, idempotency_key=idempotency_key, stage="sign")
        signatures = answer.get("signatures")
        if not isinstance(signatures, list) or len(signatures) != len(hashes):
            raise KeyError_("signatures/signHash: wrong number of signatures", code="csc_bad_response")
        return [_unb64(s, "a signature") for s in signatures]
