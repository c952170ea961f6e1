"""The audio of bulletins: speech requested once per text and voice, uploaded recordings.

* ``request_speech``: the text is normalised with the commune's pronunciations
  (``broadcasting.pronunciations``); the asset's key is the SHA-256 of the engine, the voice and
  the normalised text. An asset with that key — ready, or being rendered — is returned as it is;
  otherwise an ``AudioAsset`` and its ``SpeechJob`` are created and the job enqueued. Two
  requests at the same moment cannot both create one: the key is unique in the database, and the
  request that loses the race reads the winner's asset. A job that failed (the service was down
  beyond its retries) is queued again by the next request.
* ``import_uploaded_audio``: a recording in place of text. Its type is read from its content (MP3,
  WAV, OGG Vorbis or FLAC), its size and length are limited
  (``settings.XASO_RADIO_UPLOAD_MAX_BYTES``, ``XASO_RADIO_UPLOAD_MAX_SECONDS``); it is brought to
  the target loudness and stored as a mono MP3, keyed by its bytes (the same file twice is one
  asset). A long recording is converted by a ``SpeechJob`` instead of during the upload.
* ``job_status``: what the editor's progress bar shows.
"""
from __future__ import annotations

import hashlib
import math
import unicodedata
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from broadcasting.models import AudioAsset, SpeechJob
from broadcasting.pronunciations import commune_pronunciations
from broadcasting.speech import audio
from broadcasting.speech.engines import get_engine
from broadcasting.speech.jobs import (
    UPLOAD_ENGINE, UPLOAD_RATE, earlier_mp3, save_final_bytes, save_mp3, upload_source,
)
from broadcasting.speech.normalize import normalize, unsayable
from jobs.models import JobState
from jobs.services import enqueue



def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


# --- text ---------------------------------------------------------------------------------

def asset_key(text_normalized: str, voice: str, engine: str) -> str:
    """The key of what an asset says: SHA-256 (hex) of engine, voice and normalised text."""
    payload = "\x00".join([str(engine), str(voice), " ".join(str(text_normalized).split())])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _clean(text) -> str:
    text = unicodedata.normalize("NFC", str(text or "")).replace("\x00", "")
    return text.strip()


def normalize_text(text: str) -> str:
    """``text`` as the voice reads it, with the current commune's pronunciations."""
    mapping, insensitive = commune_pronunciations()
    return normalize(_clean(text), pronunciations=mapping, case_insensitive=insensitive)


def unsayable_characters(text: str) -> list[str]:
    mapping, insensitive = commune_pronunciations()
    return unsayable(_clean(text), pronunciations=mapping, case_insensitive=insensitive)


def preview(text: str) -> tuple[str, list[str]]:
    """(the text as read, the characters no voice can say) for the editor's live preview."""
    mapping, insensitive = commune_pronunciations()
    text = _clean(text)
    return (normalize(text, pronunciations=mapping, case_insensitive=insensitive),
            unsayable(text, pronunciations=mapping, case_insensitive=insensitive))


def validate_text(text) -> str:
    """The cleaned text, or ValidationError on ``text``: empty, longer than
    ``settings.XASO_TTS_MAX_CHARS``, characters no voice can say (named), nothing left to read."""
    text = _clean(text)
    if not text:
        raise _error("text", _("Write the text of the bulletin."), "required")
    limit = int(settings.XASO_TTS_MAX_CHARS)
    if len(text) > limit:
        raise _error("text", _("The text is too long: %(length)s characters, at most %(max)s.")
                     % {"length": len(text), "max": limit}, "too_long")
    bad = unsayable_characters(text)
    if bad:
        raise _error("text", _("The voice cannot read these characters: %(chars)s. Remove them or add a "
                               "pronunciation for them.") % {"chars": " ".join(bad)}, "unsayable")
    if not any(c.isalnum() for c in normalize_text(text)):
        raise _error("text", _("There is nothing to read in this text."), "nothing_to_read")
    return text


def resolve_voice(voice: str | None):
    """(engine, voice id) for the configured engine; ValidationError on ``voice`` if unknown."""
    try:
        engine = get_engine()
    except LookupError:
        raise _error("voice", _("The speech engine is not configured."), "engine") from None
    voice = (voice or "").strip() or settings.XASO_TTS_VOICE
    known = [key for key, _label in engine.voices()]
    if voice not in known:
        if not (voice == settings.XASO_TTS_VOICE and known):
            raise _error("voice", _("Unknown voice: %(voice)s. Choose one of: %(voices)s.")
                         % {"voice": voice, "voices": ", ".join(known)}, "invalid_choice")
        voice = known[0]  # the configured default belongs to another engine
    return engine, voice


def request_speech(*, text: str, voice: str | None = None, user=None) -> AudioAsset:
    """The asset that says ``text`` in ``voice``: the existing one, or a new one being rendered.

    Never renders the same normalised text and voice twice (also when requests race).
    """
    text = validate_text(text)
    engine, voice = resolve_voice(voice)
    normalized = normalize_text(text)
    key = asset_key(normalized, voice, engine.name)
    existing = AudioAsset.objects.filter(key=key).first()
    if existing is not None:
        _requeue_if_failed(existing)
        return existing
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            asset = AudioAsset.objects.create(key=key, engine=engine.name, voice=voice, text=normalized)
            enqueue(SpeechJob(asset=asset, requested_by_id=user_id))
    except IntegrityError:
        # Another request created it between our read and our insert (the unique key decided).
        asset = AudioAsset.objects.get(key=key)
    return asset


def _requeue_if_failed(asset: AudioAsset) -> None:
    """An asset without its file gets rendered: its failed job queued again, or a job made for
    an asset that has none (created some other way)."""
    if asset.file:
        return
    job = SpeechJob.objects.filter(asset=asset).only("pk", "state").first()
    if job is None:
        if asset.engine != UPLOAD_ENGINE and asset.text:
            try:
                with transaction.atomic():
                    enqueue(SpeechJob(asset=asset))
            except IntegrityError:
                pass  # another request made it
        return
    if job.state != JobState.FAILED:
        return
    with transaction.atomic():
        # Only one request wins this conditional update; it re-sends the message.
        claimed = SpeechJob.objects.filter(pk=job.pk, state=JobState.FAILED).update(
            state=JobState.QUEUED, attempts=0, error="", progress_percent=0, progress_message="",
        )
        if claimed:
            enqueue(SpeechJob.objects.get(pk=job.pk))


# --- progress -----------------------------------------------------------------------------

def job_status(asset: AudioAsset) -> dict:
    """{state, percent, message, ready, url, duration} of an asset (for the progress bar)."""
    asset.refresh_from_db(fields=["file", "duration_seconds", "loudness_lufs", "size"])
    url = None
    if asset.file:
        try:
            url = reverse("broadcasting:audio-file", args=[asset.key])
        except NoReverseMatch:
            url = None
        return {"state": JobState.SUCCEEDED.value, "percent": 100, "message": _("Ready"), "ready": True, "url": url,
                "duration": float(asset.duration_seconds) if asset.duration_seconds is not None else None,
                "loudness_lufs": float(asset.loudness_lufs) if asset.loudness_lufs is not None else None,
                "error": ""}
    job = SpeechJob.objects.filter(asset=asset).first()
    if job is None:
        return {"state": "missing", "percent": 0, "message": _("No audio yet."), "ready": False, "url": None,
                "duration": None, "loudness_lufs": None, "error": ""}
    if job.state == JobState.FAILED:
        message = _("The audio could not be made: %(error)s") % {"error": job.error or "?"}
    elif job.state == JobState.QUEUED:
        message = job.progress_message or _("Waiting for the voice…")
    else:
        message = job.progress_message or job.get_state_display()
    return {"state": job.state, "percent": int(job.progress_percent or 0), "message": message, "ready": False,
            "url": None, "duration": None, "loudness_lufs": None, "error": job.error}


# --- uploaded recordings ------------------------------------------------------------------

def _read_upload(upload) -> bytes:
    if upload is None:
        raise _error("upload", _("Choose an audio file."), "required")
    limit = int(settings.XASO_RADIO_UPLOAD_MAX_BYTES)
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(limit)
    try:
        upload.seek(0)
    except (AttributeError, OSError):
        pass
    data = upload.read(limit + 1)
    if not data:
        raise _error("upload", _("The file is empty."), "empty")
    if len(data) > limit:
        raise _too_large(limit)
    return bytes(data)


def _too_large(limit: int) -> ValidationError:
    return _error("upload", _("The file is too large: at most %(max)s.") % {"max": filesizeformat(limit)}, "too_large")


def _not_audio() -> ValidationError:
    return _error("upload", _("This file is not audio: send an MP3, WAV, OGG or FLAC recording (the content is "
                              "checked, not the name)."), "file_type")


def _minutes(seconds: float) -> str:
    seconds = int(math.ceil(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def inline_seconds() -> float:
    """Recordings up to this length are converted during the upload; longer ones by a job."""
    return float(getattr(settings, "XASO_RADIO_UPLOAD_INLINE_SECONDS", 300))


def import_uploaded_audio(*, upload, user=None) -> AudioAsset:
    """An asset from an uploaded recording (checked, loudness-normalised, re-encoded as MP3).

    A recording up to ``inline_seconds()`` long is converted at once (the asset is ready); a
    longer one is kept as uploaded and converted by a ``SpeechJob`` (its progress shows like a
    rendering's). The same file twice is one asset.
    """
    data = _read_upload(upload)
    if audio.sniff(data) is None:
        raise _not_audio()
    try:
        _kind, _rate, seconds = audio.info(data)
    except audio.AudioError:
        raise _not_audio() from None
    limit = int(settings.XASO_RADIO_UPLOAD_MAX_SECONDS)
    if seconds > limit:
        raise _error("upload", _("The recording is too long: %(length)s, at most %(max)s (minutes:seconds).")
                     % {"length": _minutes(seconds), "max": _minutes(limit)}, "too_long")
    key = hashlib.sha256(b"upload\x00" + data).hexdigest()
    existing = AudioAsset.objects.filter(key=key).first()
    if existing is not None and (existing.file or SpeechJob.objects.filter(asset=existing).exists()):
        _requeue_if_failed(existing)
        return existing
    if seconds > inline_seconds():
        return _import_later(key, data, user)
    earlier = earlier_mp3(key)  # converted before, and the asset's row was never committed
    if earlier is not None:
        (lufs, duration), name, size = earlier.checked, earlier.name, len(earlier.data)
    else:
        try:
            samples, rate = audio.decode(data, rate=UPLOAD_RATE)
        except audio.AudioError:
            raise _not_audio() from None
        if audio.is_silent(samples):
            raise _error("upload", _("The recording is silent."), "silent")
        mp3, lufs, duration = audio.render_mp3(samples, rate, float(settings.XASO_TTS_TARGET_LUFS))
        del samples
        name, size = save_mp3(key, mp3), len(mp3)
    fields = {"engine": UPLOAD_ENGINE, "voice": "", "text": "", "file": name, "size": size,
              "duration_seconds": Decimal(f"{duration:.2f}"),
              "loudness_lufs": Decimal(f"{lufs:.2f}") if math.isfinite(lufs) else None}
    try:
        with transaction.atomic():
            asset, created = AudioAsset.objects.get_or_create(key=key, defaults=fields)
            if not created and not asset.file:
                AudioAsset.objects.filter(pk=asset.pk).update(**fields)
                from broadcasting import device_cache

                device_cache.changed()  # the audio a playlist waited for is there
                asset.refresh_from_db()
    except IntegrityError:
        asset = AudioAsset.objects.get(key=key)
    return asset


def _import_later(key: str, data: bytes, user) -> AudioAsset:
    source = upload_source(key)
    if not default_storage.exists(default_storage.generate_filename(source)):
        save_final_bytes(source, data)
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            asset = AudioAsset.objects.create(key=key, engine=UPLOAD_ENGINE, voice="", text="")
            enqueue(SpeechJob(asset=asset, requested_by_id=user_id))
    except IntegrityError:
        asset = AudioAsset.objects.get(key=key)
    return asset


def available_voices() -> list[tuple[str, str]]:
    """The voices of the configured engine (empty when it is not configured)."""
    try:
        return list(get_engine().voices())
    except LookupError:
        return []
