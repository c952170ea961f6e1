"""Factories of the radio tests: a real small MP3, ready audio assets (written to the commune's
storage, with a chosen duration — the scheduler only reads the duration), clusters with their
device tokens, approved bulletins, and a clock the test sets (``timezone.now`` patched, so
the services, the ORM's ``auto_now`` and the device API all see the same time)."""
from __future__ import annotations

import datetime
import hashlib
import itertools
import math
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
JSON = {"content_type": "application/json"}
_counter = itertools.count(1)
_MP3_CACHE: dict = {}


def at(day: str, clock: str = "09:00") -> datetime.datetime:
    """at("03/12/2026", "05:00") → an aware datetime of Vietnam time."""
    return datetime.datetime.strptime(f"{day} {clock}", "%d/%m/%Y %H:%M").replace(tzinfo=TZ)


def d(day: str) -> datetime.date:
    return datetime.datetime.strptime(day, "%d/%m/%Y").date()


class Clock:
    """The time every part of the project sees (``django.utils.timezone.now``)."""

    def __init__(self, monkeypatch, start: datetime.datetime):
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, when: datetime.datetime) -> datetime.datetime:
        self.now = when
        return when

    def advance(self, seconds: float) -> datetime.datetime:
        self.now = self.now + datetime.timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """Thursday 03/12/2026 06:00, in the morning slot (05:00–07:30)."""
    return Clock(monkeypatch, at("03/12/2026", "06:00"))


def make_mp3(seconds: float = 1.0, frequency: float = 440.0, rate: int = 16000) -> bytes:
    """A real mono MP3 (a sine tone) encoded with lameenc."""
    key = (seconds, frequency, rate)
    if key not in _MP3_CACHE:
        import lameenc

        count = int(seconds * rate)
        samples = bytearray()
        for n in range(count):
            value = int(12000 * math.sin(2 * math.pi * frequency * n / rate))
            samples += value.to_bytes(2, "little", signed=True)
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(32)
        encoder.set_in_sample_rate(rate)
        encoder.set_channels(1)
        encoder.set_quality(7)
        _MP3_CACHE[key] = bytes(encoder.encode(bytes(samples)) + encoder.flush())
    return _MP3_CACHE[key]


def ready_asset(duration: float = 60.0, *, text: str | None = None, voice: str = "vi", data: bytes | None = None):
    """A ready AudioAsset in the current commune: a real MP3 file saved as the speech job saves
    it, with ``duration`` as its stored duration."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from broadcasting.models import AudioAsset

    text = text or f"bản tin thử số {next(_counter)}"
    key = hashlib.sha256(f"test|{voice}|{text}".encode()).hexdigest()
    data = data if data is not None else make_mp3()
    name = default_storage.save_final(f"radio/audio/{key}.mp3", ContentFile(data))
    return AudioAsset.objects.create(key=key, engine="espeak", voice=voice, text=text, file=name,
                                     duration_seconds=duration, loudness_lufs=-16, size=len(data))


def pending_asset(text: str | None = None):
    """An AudioAsset whose rendering has not finished (no file yet)."""
    from broadcasting.models import AudioAsset

    text = text or f"bản tin đang đọc số {next(_counter)}"
    key = hashlib.sha256(f"pending|{text}".encode()).hexdigest()
    return AudioAsset.objects.create(key=key, engine="espeak", voice="vi", text=text)


def make_cluster(user, village, name: str | None = None, **data):
    """(cluster, token) through the service, as the radio operator creates one."""
    from broadcasting import services

    payload = {"name": name or f"Cụm loa {next(_counter)}", "village_id": village.pk, **data}
    return services.create_cluster(user=user, data=payload)


def approved_bulletin(*, title: str | None = None, duration: float = 60.0, priority: int | None = None,
                      category: str = "news", repeats: int = 1, valid_from=None, valid_until=None, villages=(),
                      clusters=(), asset=None, decided_at=None, leader=None, state: str = "approved"):
    """A bulletin as the services leave it once a leader approved it, with ready audio."""
    from broadcasting.models import CATEGORY_PRIORITY, Bulletin

    today = timezone.localdate()
    title = title or f"Bản tin {next(_counter)}"
    asset = asset if asset is not None else ready_asset(duration, text=title.lower())
    bulletin = Bulletin.objects.create(
        title=title, category=category, priority=CATEGORY_PRIORITY[category] if priority is None else priority,
        text=asset.text, normalized_text=asset.text, voice="vi", asset=asset,
        valid_from=valid_from or today, valid_until=valid_until or valid_from or today, repeats_per_day=repeats,
        state=state, submitted_at=timezone.now(), decided_by=leader, decided_at=decided_at or timezone.now(),
    )
    if villages:
        bulletin.villages.set(villages)
    if clusters:
        bulletin.clusters.set(clusters)
    return bulletin


def device_headers(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Device {token}"}


def token_headers(user) -> dict:
    from rest_framework.authtoken.models import Token

    token, _created = Token.objects.get_or_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def set_slots(*spans: tuple[str, str]):
    """Replace the commune's slots by these windows (("05:00", "07:30"), …)."""
    from broadcasting.models import Slot

    Slot.objects.all().delete()
    return [Slot.objects.create(name=f"Khung {i + 1}", start=datetime.time.fromisoformat(start),
                                end=datetime.time.fromisoformat(end))
            for i, (start, end) in enumerate(spans)]


class StayIn:
    """A test client that puts the commune's schema back after each request (the host
    middleware leaves the connection on the public schema), so the test goes on reading rows."""

    def __init__(self, client, commune):
        self._client, self._commune = client, commune

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name not in ("get", "post", "put", "patch", "delete", "head", "options"):
            return attribute

        def call(*args, **kwargs):
            from django.db import connection

            try:
                return attribute(*args, **kwargs)
            finally:
                connection.set_tenant(self._commune)

        return call
