"""The second factor on django-otp, and its secret at rest under core.secrets' rotatable keyring."""
from __future__ import annotations

import io

import django_otp
import pyotp
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from communes import second_factor as sf
from communes.models import Role, TotpDevice
from core import secrets

HOST = "tule.localhost"
KEY_OLD = "old-key-of-the-secrets-keyring-0123456789abcdef"
KEY_NEW = "new-key-of-the-secrets-keyring-fedcba9876543210"


@pytest.fixture
def chairman(make_user, tule):
    return make_user("otp_chairman", roles={tule: [Role.CHAIRMAN]})


def confirmed(user) -> TotpDevice:
    device = sf.start_enrolment(user)
    device.confirmed, device.confirmed_at = True, timezone.now()
    device.save()
    return device


def test_the_device_is_a_django_otp_device_and_the_session_is_verified_by_django_otp(db, chairman, client_for):
    from django_otp.models import Device

    device = confirmed(chairman)
    assert isinstance(device, Device)
    assert list(django_otp.devices_for_user(chairman)) == [device]
    code = pyotp.TOTP(sf.device_secret(device)).now()
    assert django_otp.verify_token(chairman, device.persistent_id, code) == device
    assert django_otp.verify_token(chairman, device.persistent_id, code) is None  # once only

    client = client_for(HOST)
    client.post("/accounts/login/", {"username": "otp_chairman", "password": "Mat-khau-2026!"})
    TotpDevice.objects.filter(pk=device.pk).update(last_used_step=None)
    response = client.post("/accounts/2fa/", {"code": pyotp.TOTP(sf.device_secret(device)).now()})
    assert response.status_code == 302
    assert client.session[django_otp.DEVICE_ID_SESSION_KEY] == device.persistent_id

    captured = {}

    def probe(request):
        from django.http import HttpResponse

        captured["verified"] = request.user.is_verified()
        captured["device"] = request.user.otp_device
        return HttpResponse("ok")

    from django_otp.middleware import OTPMiddleware
    from django.test import RequestFactory
    from django.contrib.auth.middleware import AuthenticationMiddleware

    request = RequestFactory().get("/")
    request.session = client.session
    AuthenticationMiddleware(lambda r: OTPMiddleware(probe)(r))(request)
    assert captured == {"verified": True, "device": device}


def test_an_unconfirmed_device_does_not_verify_a_session(db, chairman, client_for):
    device = sf.start_enrolment(chairman)  # enrolment not finished
    client = client_for(HOST, chairman, second_factor=False)
    session = client.session
    session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert client.get("/documents/").status_code == 302


def test_the_data_migration_moves_old_secrets_to_the_keyring(db, chairman, settings):
    """Rows written by the previous scheme (AES-GCM under a key derived from SECRET_KEY)."""
    import importlib
    import os

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from django.apps import apps

    migration = importlib.import_module("communes.migrations.0006_totpdevice_django_otp")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xaso.second-factor.v1",
               info=b"totp device secret").derive(settings.SECRET_KEY.encode())
    nonce = os.urandom(12)
    legacy = b"\x01" + nonce + AESGCM(key).encrypt(nonce, b"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                                                     f"communes.TotpDevice:user:{chairman.pk}".encode())
    device = TotpDevice.objects.create(user=chairman, secret_encrypted=legacy, confirmed_at=timezone.now())
    migration.forwards(apps, None)
    device.refresh_from_db()
    assert device.confirmed
    assert sf.device_secret(device) == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert bytes(device.secret_encrypted)[:1] == secrets.FORMAT


def test_rotation_of_the_keyring_and_the_command(db, chairman, make_user, tule, settings):
    settings.XASO_SECRETS_KEYS = [KEY_OLD]
    device = sf.start_enrolment(chairman)
    other = sf.start_enrolment(make_user("otp_clerk", roles={tule: [Role.CLERK]}))
    secret = sf.device_secret(device)

    settings.XASO_SECRETS_KEYS = [KEY_NEW, KEY_OLD]  # new key first, old one kept
    assert sf.device_secret(device) == secret
    out = io.StringIO()
    call_command("rotate_secrets", stdout=out)
    assert "authenticator apps: 2 re-encrypted, 0 already current, 0 unreadable" in out.getvalue()
    out = io.StringIO()
    call_command("rotate_secrets", stdout=out)  # idempotent
    assert "authenticator apps: 0 re-encrypted, 2 already current, 0 unreadable" in out.getvalue()

    settings.XASO_SECRETS_KEYS = [KEY_NEW]  # old key dropped
    device.refresh_from_db()
    other.refresh_from_db()
    assert sf.device_secret(device) == secret
    assert not secrets.needs_rotation(bytes(device.secret_encrypted))

    # SECRET_KEY is not part of it.
    settings.SECRET_KEY = "a-completely-different-django-secret-key-for-this-test"
    assert sf.device_secret(device) == secret

    # A secret under a key no longer in the keyring is reported, not silently lost.
    settings.XASO_SECRETS_KEYS = [KEY_OLD]
    with pytest.raises(CommandError):
        call_command("rotate_secrets", stdout=io.StringIO())
    with pytest.raises(secrets.SecretError):
        sf.device_secret(device)
