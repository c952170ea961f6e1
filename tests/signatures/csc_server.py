"""A local remote-signing service for tests, speaking the CSC API v1.0.4 with the asynchronous
authorisation described in docs/csc.md.

Unlike a real service, nobody confirms on a phone: every authorisation stays pending until the test
calls ``server.release(...)`` (or ``server.deny(...)`` / ``server.expire(...)``). The server checks
the bearer token, counts effects per idempotency key (a repeated key never creates a second
prompt), and signs in ``signatures/signHash`` with the real key, only the hashes bound to the SAD.

    with CscTestServer() as server:
        cred = server.add_credential(identity)           # an Identity from signatures.pki
        client = CscClient(server.url, server.token, timeout=5)
        ...
        server.release(request_id)
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

API = "/csc/v1/"
HASH_ALGOS = {
    "2.16.840.1.101.3.4.2.1": ("sha256", hashes.SHA256, 32),
    "2.16.840.1.101.3.4.2.2": ("sha384", hashes.SHA384, 48),
    "2.16.840.1.101.3.4.2.3": ("sha512", hashes.SHA512, 64),
}
RSA_SIGN = {"1.2.840.113549.1.1.1": None, "1.2.840.113549.1.1.11": "sha256", "1.2.840.113549.1.1.12": "sha384",
            "1.2.840.113549.1.1.13": "sha512"}
EC_SIGN = {"1.2.840.10045.4.3.2": "sha256", "1.2.840.10045.4.3.3": "sha384", "1.2.840.10045.4.3.4": "sha512"}


@dataclass
class Credential:
    credential_id: str
    identity: object  # signatures.pki.Identity
    pin: str | None = None
    description: str = ""
    status: str = "enabled"


@dataclass
class AuthRequest:
    request_id: str
    credential_id: str
    hashes: list[bytes]
    idempotency_key: str | None
    description: str = ""
    state: str = "pending"  # pending | approved | denied | expired
    sad: str | None = None
    sad_used: bool = False
    polls: int = 0
    created: float = field(default_factory=time.monotonic)


class _Reply(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, error: str, description: str, **extra) -> _Reply:
    return _Reply(status, {"error": error, "error_description": description, **extra})


class CscTestServer:
    """ThreadingHTTPServer on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, token: str = "xaso-csc-test-token", *, interval: float = 0.05, pending_status: int = 202,
                 auto_release: bool = False, sad_lifetime: int = 300, multisign: int = 1):
        self.token = token
        self.interval = interval
        self.pending_status = pending_status  # 202, or 400 (the RFC 8628 way)
        self.auto_release = auto_release
        self.sad_lifetime = sad_lifetime
        self.multisign = multisign
        self.credentials: dict[str, Credential] = {}
        self.requests: dict[str, AuthRequest] = {}
        self.by_key: dict[str, AuthRequest] = {}
        self.effects: dict[str | None, int] = {}  # authorisation prompts created, per idempotency key
        self.sign_effects: dict[str | None, int] = {}  # signHash operations performed, per idempotency key
        self._sign_replies: dict[str, tuple[str, dict]] = {}
        self.calls: list[tuple[str, int]] = []  # (method, HTTP status), in order
        self.fail_next: list[int] = []  # HTTP statuses to answer (5xx, 429) before normal service resumes
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set = set()

    # --- life cycle

    def start(self) -> "CscTestServer":
        server = self

        class Handler(_Handler):
            csc = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="csc-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open (keep-alive) connections, as a crashed service would."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            with self.lock:
                connections, self._connections = list(self._connections), set()
            for connection in connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._thread.join(5)
            self._httpd = None

    def __enter__(self) -> "CscTestServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The service root; the API is under /csc/v1/."""
        return f"http://127.0.0.1:{self.port}"

    # --- configuration

    def add_credential(self, identity, credential_id: str | None = None, *, pin: str | None = None,
                       description: str = "") -> str:
        credential_id = credential_id or f"cred-{len(self.credentials) + 1}"
        with self.lock:
            self.credentials[credential_id] = Credential(credential_id, identity, pin, description)
        return credential_id

    # --- what the official does on the phone

    def _matching(self, ref: str, state: str = "pending") -> list[AuthRequest]:
        with self.lock:
            found = [r for r in self.requests.values()
                     if r.state == state and ref in (r.request_id, r.idempotency_key, r.credential_id)]
        if not found:
            raise LookupError(f"no {state} authorisation request matches {ref!r}")
        return found

    def release(self, ref: str) -> int:
        """Confirm the pending request(s) matching a request id, an idempotency key or a credential id."""
        with self.lock:
            found = self._matching(ref)
            for request in found:
                request.state = "approved"
                request.sad = secrets.token_urlsafe(24)
            return len(found)

    def deny(self, ref: str) -> int:
        with self.lock:
            found = self._matching(ref)
            for request in found:
                request.state = "denied"
            return len(found)

    def expire(self, ref: str) -> int:
        with self.lock:
            found = self._matching(ref)
            for request in found:
                request.state = "expired"
            return len(found)

    def pending(self, credential_id: str | None = None) -> list[AuthRequest]:
        with self.lock:
            return [r for r in self.requests.values()
                    if r.state == "pending" and credential_id in (None, r.credential_id)]

    # --- the API

    def dispatch(self, method: str, headers, body) -> tuple[int, dict, dict]:
        with self.lock:
            if self.fail_next:
                status = self.fail_next.pop(0)
                return status, {"error": "temporarily_unavailable", "error_description": f"HTTP {status}"}, \
                    {"Retry-After": "1"}
        try:
            if method != "info":
                self._check_token(headers)
            if not isinstance(body, dict):
                raise _error(400, "invalid_request", "the body is not a JSON object")
            handler = {
                "info": self._info,
                "credentials/list": self._credentials_list,
                "credentials/info": self._credentials_info,
                "credentials/authorize": self._credentials_authorize,
                "signatures/signHash": self._sign_hash,
            }.get(method)
            if handler is None:
                raise _error(404, "invalid_request", f"unknown method {method}")
            with self.lock:
                return 200, handler(headers, body), {}
        except _Reply as reply:
            return reply.status, reply.body, reply.headers

    def _check_token(self, headers) -> None:
        value = headers.get("Authorization") or ""
        if not value.startswith("Bearer ") or not secrets.compare_digest(value[7:].encode(), self.token.encode()):
            raise _Reply(401, {"error": "invalid_token", "error_description": "invalid or missing access token"},
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def _credential(self, body) -> Credential:
        credential = self.credentials.get(body.get("credentialID"))
        if credential is None:
            raise _error(400, "invalid_request", "Invalid parameter credentialID")
        return credential

    @staticmethod
    def _hashes(body, *, required: bool) -> list[bytes]:
        values = body.get("hash")
        if values is None and not required:
            return []
        if not isinstance(values, list) or not values:
            raise _error(400, "invalid_request", "Missing (or invalid type) array parameter hash")
        try:
            return [base64.b64decode(v, validate=True) for v in values]
        except (binascii.Error, ValueError, TypeError):
            raise _error(400, "invalid_request", "Invalid Base64 hash string parameter") from None

    def _info(self, headers, body) -> dict:
        return {
            "specs": "1.0.4.0", "name": "Xã Số test signing service", "logo": "", "region": "VN", "lang": "en-US",
            "description": "Local remote-signing service for tests (asynchronous authorisation).",
            "authType": ["external"],
            "methods": ["credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"],
        }

    def _credentials_list(self, headers, body) -> dict:
        return {"credentialIDs": sorted(self.credentials)}

    def _credentials_info(self, headers, body) -> dict:
        from cryptography.hazmat.primitives import serialization

        credential = self._credential(body)
        identity = credential.identity
        key = identity.key
        certificates = [identity.cert, *identity.chain]
        mode = body.get("certificates", "single")
        if mode == "none":
            certificates = []
        elif mode != "chain":
            certificates = certificates[:1]
        if isinstance(key, rsa.RSAPrivateKey):
            key_info = {"status": credential.status, "algo": ["1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11"],
                        "len": key.key_size}
        else:
            key_info = {"status": credential.status, "algo": ["1.2.840.10045.2.1", "1.2.840.10045.4.3.2"],
                        "len": key.curve.key_size, "curve": "1.2.840.10045.3.1.7"}
        return {
            "description": credential.description,
            "key": key_info,
            "cert": {
                "status": "valid",
                "certificates": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                                 for c in certificates],
                "issuerDN": identity.cert.issuer.rfc4514_string(),
                "serialNumber": format(identity.cert.serial_number, "x"),
                "subjectDN": identity.cert.subject.rfc4514_string(),
                "validFrom": identity.cert.not_valid_before_utc.strftime("%Y%m%d%H%M%SZ"),
                "validTo": identity.cert.not_valid_after_utc.strftime("%Y%m%d%H%M%SZ"),
            },
            "authMode": "explicit",
            "SCAL": "2",
            "PIN": {"presence": "true" if credential.pin else "false"},
            "OTP": {"presence": "false"},
            "multisign": self.multisign,
        }

    def _credentials_authorize(self, headers, body) -> dict:
        credential = self._credential(body)
        hash_list = self._hashes(body, required=True)  # SCAL2: the SAD is bound to these hashes
        if body.get("numSignatures") != len(hash_list):
            raise _error(400, "invalid_request", "numSignatures does not match the number of hashes")
        if len(hash_list) > self.multisign:
            raise _error(400, "invalid_request", "numSignatures exceeds multisign")
        if credential.pin is not None and body.get("PIN") != credential.pin:
            raise _error(400, "invalid_pin", "The PIN is invalid")
        key = headers.get("Idempotency-Key") or body.get("clientData") or None
        request = self.by_key.get(key) if key else None
        if request is not None:
            if request.credential_id != credential.credential_id or request.hashes != hash_list:
                raise _error(422, "invalid_request", "Idempotency-Key reused with different parameters")
        else:
            request = AuthRequest(request_id=secrets.token_hex(8), credential_id=credential.credential_id,
                                  hashes=hash_list, idempotency_key=key, description=str(body.get("description", "")))
            self.requests[request.request_id] = request
            if key:
                self.by_key[key] = request
            self.effects[key] = self.effects.get(key, 0) + 1
            if self.auto_release:
                request.state, request.sad = "approved", secrets.token_urlsafe(24)
        request.polls += 1
        if request.state == "pending":
            raise _Reply(self.pending_status, {
                "error": "authorization_pending", "error_description": "waiting for the signer to confirm",
                "interval": self.interval, "expiresIn": self.sad_lifetime, "requestID": request.request_id,
            }, {"Retry-After": str(max(1, math.ceil(self.interval)))})
        if request.state == "denied":
            raise _error(400, "access_denied", "The signer declined the request", requestID=request.request_id)
        if request.state == "expired":
            raise _error(400, "expired_token", "The request expired before the signer confirmed",
                         requestID=request.request_id)
        return {"SAD": request.sad, "expiresIn": self.sad_lifetime}

    def _sign_hash(self, headers, body) -> dict:
        credential = self._credential(body)
        hash_list = self._hashes(body, required=True)
        key = headers.get("Idempotency-Key") or None
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if key and key in self._sign_replies:
            seen, reply = self._sign_replies[key]
            if seen != fingerprint:
                raise _error(422, "invalid_request", "Idempotency-Key reused with different parameters")
            return reply
        request = next((r for r in self.requests.values()
                        if r.sad and r.sad == body.get("SAD") and r.credential_id == credential.credential_id), None)
        if request is None or request.state != "approved":
            raise _error(400, "invalid_request", "Invalid SAD")
        if request.sad_used:
            raise _error(400, "invalid_request", "The SAD was already used")
        if hash_list != request.hashes:
            raise _error(400, "invalid_request", "The hash is not the one authorised by the SAD")
        hash_oid = body.get("hashAlgo")
        sign_oid = body.get("signAlgo")
        private_key = credential.identity.key
        if hash_oid not in HASH_ALGOS:
            raise _error(400, "invalid_request", "Invalid parameter hashAlgo")
        name, hash_class, size = HASH_ALGOS[hash_oid]
        if any(len(h) != size for h in hash_list):
            raise _error(400, "invalid_request", "Invalid hash length for hashAlgo")
        if isinstance(private_key, rsa.RSAPrivateKey):
            if sign_oid not in RSA_SIGN or RSA_SIGN[sign_oid] not in (None, name):
                raise _error(400, "invalid_request", "Invalid parameter signAlgo")
            values = [private_key.sign(h, padding.PKCS1v15(), Prehashed(hash_class())) for h in hash_list]
        else:
            if EC_SIGN.get(sign_oid) != name:
                raise _error(400, "invalid_request", "Invalid parameter signAlgo")
            values = [private_key.sign(h, ec.ECDSA(Prehashed(hash_class()))) for h in hash_list]
        request.sad_used = True
        self.sign_effects[key] = self.sign_effects.get(key, 0) + 1
        reply = {"signatures": [base64.b64encode(v).decode() for v in values]}
        if key:
            self._sign_replies[key] = (fingerprint, reply)
        return reply


class _Handler(BaseHTTPRequestHandler):
    csc: CscTestServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def setup(self):
        super().setup()
        with self.csc.lock:
            self.csc._connections.add(self.connection)

    def finish(self):
        with self.csc.lock:
            self.csc._connections.discard(self.connection)
        super().finish()

    def _method(self) -> str | None:
        path = self.path.split("?", 1)[0]
        return path[len(API):] if path.startswith(API) else None

    def _send(self, status: int, body: dict, headers: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        method = self._method()
        if method == "info":
            status, body, headers = self.csc.dispatch("info", self.headers, {})
        else:
            status, body, headers = 404, {"error": "invalid_request", "error_description": "not found"}, {}
        self._send(status, body, headers)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        method = self._method()
        if method is None:
            status, body, headers = 404, {"error": "invalid_request", "error_description": "not found"}, {}
        else:
            try:
                payload = json.loads(raw or b"{}")
            except ValueError:
                payload = None
            status, body, headers = self.csc.dispatch(method, self.headers, payload)
        with self.csc.lock:
            self.csc.calls.append((method or self.path, status))
        self._send(status, body, headers)
