"""Secrets at rest (authenticator seeds, per-commune secrets) encrypted under a keyring of their
own, not under Django's ``SECRET_KEY``: rotating the one never breaks the other, and a leaked
``SECRET_KEY`` opens no stored secret.

The keyring is ``settings.XASO_SECRETS_KEYS`` (the environment variable of the same name,
comma-separated): the first key encrypts, every key decrypts. Rotation: put a new key first and
keep the old ones after it, run ``python manage.py rotate_secrets`` (it re-encrypts every stored
secret under the first key), then drop the old keys. A key is any string of at least 32
characters (``python -c 'import secrets; print(secrets.token_urlsafe(32))'``); the AES-256 key
is derived from it with HKDF-SHA256.

Without ``XASO_SECRETS_KEYS`` (a developer's machine, the demo, the tests) the key is read from
the file ``settings.XASO_SECRETS_KEY_FILE`` (``.xaso-secrets`` at the top of the checkout, kept
out of git), made with a random key the first time.

A blob is: format byte ``0x02``, the 8-byte id of the key that encrypted it, a 12-byte nonce,
then the AES-GCM ciphertext and tag. ``context`` is bound to the blob as associated data (for
example ``"totp:user:42"``): a blob copied to another row does not open there.
"""
from __future__ import annotations

import hashlib
import os
import secrets as std_secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FORMAT = b"\x02"
MIN_KEY_LENGTH = 32


class SecretError(ValueError):
    """A stored secret that no key of the keyring opens (or that is not a secret blob)."""


def _key_id(material: bytes) -> bytes:
    return hashlib.sha256(b"xaso.secrets.key-id:" + material).digest()[:8]


def _derive(material: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xaso.secrets.v2", info=b"secrets at rest").derive(material)


def _key_file() -> Path:
    return Path(getattr(settings, "XASO_SECRETS_KEY_FILE", Path(settings.BASE_DIR) / ".xaso-secrets"))


def _read_or_create_key_file(path: Path) -> list[str]:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(std_secrets.token_urlsafe(48) + "\n")
    # Another process may have created it a moment ago: read until its key is there.
    for _attempt in range(50):
        keys = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        if keys:
            return keys
        import time

        time.sleep(0.02)
    raise ImproperlyConfigured(f"The secrets key file {path} is empty.")


@lru_cache(maxsize=8)
def _keyring_for(configured: tuple[str, ...], key_file: str) -> tuple[tuple[bytes, bytes], ...]:
    raw = list(configured) or _read_or_create_key_file(Path(key_file))
    ring = []
    for key in raw:
        if len(key) < MIN_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"Every key of XASO_SECRETS_KEYS needs at least {MIN_KEY_LENGTH} characters."
            )
        material = key.encode()
        ring.append((_key_id(material), _derive(material)))
    return tuple(ring)


def keyring() -> tuple[tuple[bytes, bytes], ...]:
    """((key id, AES key), …), the current key first."""
    configured = tuple(k for k in getattr(settings, "XASO_SECRETS_KEYS", []) or [] if k)
    return _keyring_for(configured, str(_key_file()))


def encrypt(plaintext: bytes, *, context: str) -> bytes:
    key_id, key = keyring()[0]
    nonce = os.urandom(12)
    return FORMAT + key_id + nonce + AESGCM(key).encrypt(nonce, bytes(plaintext), context.encode())


def decrypt(blob: bytes, *, context: str) -> bytes:
    blob = bytes(blob)
    if blob[:1] != FORMAT or len(blob) < 1 + 8 + 12 + 16:
        raise SecretError("not a stored secret")
    key_id, nonce, ciphertext = blob[1:9], blob[9:21], blob[21:]
    for candidate_id, key in keyring():
        if candidate_id == key_id:
            try:
                return AESGCM(key).decrypt(nonce, ciphertext, context.encode())
            except InvalidTag as exc:
                raise SecretError("the stored secret does not open (altered, or another context)") from exc
    raise SecretError("the key that encrypted this secret is no longer in XASO_SECRETS_KEYS")


def needs_rotation(blob: bytes) -> bool:
    """Was ``blob`` encrypted under another key than the current one?"""
    blob = bytes(blob)
    return blob[:1] != FORMAT or blob[1:9] != keyring()[0][0]


def reencrypt(blob: bytes, *, context: str) -> bytes:
    """The same secret under the current key (``blob`` itself when it already is)."""
    if not needs_rotation(blob):
        return bytes(blob)
    return encrypt(decrypt(blob, context=context), context=context)
