"""The authenticator app becomes a django-otp device (``confirmed`` flag, ``name``, history), and
its secret moves from a key derived from SECRET_KEY to ``core.secrets``' own keyring.

A secret that the old key (SECRET_KEY, then SECRET_KEY_FALLBACKS) cannot open is unusable
anyway: that row is removed and its official enrols again at the next login (logged)."""
import logging

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


logger = logging.getLogger("communes.migrations")


def _legacy_decrypt(blob: bytes, user_id: int):
    """The secret as the previous scheme stored it (AES-GCM under HKDF(SECRET_KEY)), or None."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    blob = bytes(blob)
    if blob[:1] != b"\x01" or len(blob) < 13 + 16:
        return None
    nonce, ciphertext = blob[1:13], blob[13:]
    aad = f"communes.TotpDevice:user:{user_id}".encode()
    for secret_key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xaso.second-factor.v1",
                   info=b"totp device secret").derive(secret_key.encode() if isinstance(secret_key, str) else secret_key)
        try:
            return AESGCM(key).decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            continue
    return None


def forwards(apps, schema_editor):
    from core import secrets

    TotpDevice = apps.get_model("communes", "TotpDevice")
    TotpDevice.objects.filter(confirmed_at__isnull=False).update(confirmed=True)
    for device in TotpDevice.objects.all():
        blob = bytes(device.secret_encrypted)
        if blob[:1] == secrets.FORMAT:
            continue
        plain = _legacy_decrypt(blob, device.user_id)
        if plain is None:
            logger.warning("authenticator app of user %s cannot be opened: removed, enrolment at next login", device.user_id)
            device.delete()
            continue
        device.secret_encrypted = secrets.encrypt(plain, context=f"totp:user:{device.user_id}")
        device.save(update_fields=["secret_encrypted"])


class Migration(migrations.Migration):

    dependencies = [
        ('communes', '0005_commune_agency_code_unique'),
    ]

    operations = [
        migrations.AddField(
            model_name='totpdevice',
            name='confirmed',
            field=models.BooleanField(default=False, verbose_name='confirmed'),
        ),
        migrations.AddField(
            model_name='totpdevice',
            name='name',
            field=models.CharField(blank=True, default='authenticator', max_length=64, verbose_name='name'),
        ),
        migrations.CreateModel(
            name='HistoricalTotpDevice',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('name', models.CharField(blank=True, default='authenticator', max_length=64, verbose_name='name')),
                ('confirmed', models.BooleanField(default=False, verbose_name='confirmed')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created at')),
                ('confirmed_at', models.DateTimeField(blank=True, null=True, verbose_name='confirmed at')),
                ('locked_until', models.DateTimeField(blank=True, null=True, verbose_name='locked until')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'historical authenticator app',
                'verbose_name_plural': 'historical authenticator apps',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
