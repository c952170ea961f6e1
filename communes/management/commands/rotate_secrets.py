"""Re-encrypt every stored secret under the current key of ``XASO_SECRETS_KEYS`` (core.secrets).

Rotation: put the new key first in XASO_SECRETS_KEYS and keep the old ones after it, run this
command (again as often as you like: a secret already under the current key is left as it is),
then drop the old keys. It reports, per kind of secret, how many were re-encrypted, already
current, and could not be opened (those need the key that encrypted them back in the keyring);
it exits with an error when any could not be opened.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.secrets import SecretError


@dataclass
class Counts:
    rotated: int = 0
    current: int = 0
    failed: int = 0


def rotate_totp_secrets() -> Counts:
    """Authenticator apps' secrets (public schema)."""
    from communes.models import TotpDevice
    from communes.second_factor import rotate_device_secret

    counts = Counts()
    for pk in TotpDevice.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            device = TotpDevice.objects.select_for_update().filter(pk=pk).first()
            if device is None:
                continue
            try:
                if rotate_device_secret(device):
                    counts.rotated += 1
                else:
                    counts.current += 1
            except SecretError:
                counts.failed += 1
    return counts


# Each kind of stored secret: (name, function re-encrypting them all and counting).
ROTATORS = [
    ("authenticator apps", rotate_totp_secrets),
]


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the current key of XASO_SECRETS_KEYS (idempotent)."

    def handle(self, *args, **options):
        failed = 0
        for name, rotate in ROTATORS:
            counts = rotate()
            failed += counts.failed
            self.stdout.write(
                f"{name}: {counts.rotated} re-encrypted, {counts.current} already current, {counts.failed} unreadable"
            )
        if failed:
            raise CommandError(
                f"{failed} secrets could not be opened with any key of XASO_SECRETS_KEYS: put back the key that "
                "encrypted them and run the command again."
            )
