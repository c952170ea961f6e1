"""core.secrets: secrets at rest under a keyring of their own, rotatable."""
from __future__ import annotations

import pytest

from core import secrets


@pytest.fixture
def keys(settings):
    def use(*ring):
        settings.XASO_SECRETS_KEYS = list(ring)
    return use


OLD = "old-key-" + "a" * 40
NEW = "new-key-" + "b" * 40


def test_round_trip_bound_to_context(keys):
    keys(OLD)
    blob = secrets.encrypt(b"JBSWY3DPEHPK3PXP", context="totp:user:1")
    assert b"JBSWY3DPEHPK3PXP" not in blob
    assert secrets.decrypt(blob, context="totp:user:1") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(secrets.SecretError):
        secrets.decrypt(blob, context="totp:user:2")  # copied to another row: does not open
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(secrets.SecretError):
        secrets.decrypt(tampered, context="totp:user:1")


def test_rotation_keeps_old_secrets_open_until_reencrypted(keys):
    keys(OLD)
    blob = secrets.encrypt(b"seed", context="c")
    keys(NEW, OLD)
    assert secrets.needs_rotation(blob)
    assert secrets.decrypt(blob, context="c") == b"seed"
    fresh = secrets.reencrypt(blob, context="c")
    assert not secrets.needs_rotation(fresh)
    keys(NEW)
    assert secrets.decrypt(fresh, context="c") == b"seed"
    with pytest.raises(secrets.SecretError):
        secrets.decrypt(blob, context="c")  # the old key is gone


def test_independent_of_django_secret_key(keys, settings):
    keys(OLD)
    blob = secrets.encrypt(b"seed", context="c")
    settings.SECRET_KEY = "another-django-secret-key-" + "x" * 30
    assert secrets.decrypt(blob, context="c") == b"seed"


def test_short_keys_are_refused(keys):
    from django.core.exceptions import ImproperlyConfigured

    keys("short")
    with pytest.raises(ImproperlyConfigured):
        secrets.encrypt(b"x", context="c")


def test_key_file_is_made_once_and_reused(settings, tmp_path):
    settings.XASO_SECRETS_KEYS = []
    settings.XASO_SECRETS_KEY_FILE = tmp_path / "keys"
    blob = secrets.encrypt(b"seed", context="c")
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o600
    assert secrets.decrypt(blob, context="c") == b"seed"
