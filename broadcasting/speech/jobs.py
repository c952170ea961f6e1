"""The body of ``SpeechJob.run``: read the asset's text aloud (or read a long uploaded
recording), make it an MP3 at the target loudness, store it once.

Progress: 5 % start, 10 → 70 % while the voice reads (piece by piece), 75 % loudness and MP3,
90 % saving, 100 % ready. The MP3 is decoded again and measured: its loudness (must be within
±1 LU of ``settings.XASO_TTS_TARGET_LUFS``) and duration are what the asset records. The file
is written with the storage's ``save_final`` under ``radio/audio/<key>.mp3``; the asset is updated
only while this worker still holds the job's lease, so a job taken over by another worker
commits nothing. The name follows from the asset's key, so a run after a crash between the save
and the record finds the MP3 (``core.storage.earlier_final``: it decodes at the target loudness)
and records it instead of rendering again.
"""
from __future__ import annotations

import math
import time
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from broadcasting import device_cache
from broadcasting.speech import audio
from broadcasting.speech.engines import get_engine
from core import storage
from jobs.exceptions import LeaseLost, PermanentError
from jobs.models import JobState

LOUDNESS_TOLERANCE = 1.0
# An uploaded recording: the asset's engine, and the rate it is stored at (speech and jingles on
# horn loudspeakers need no more).
UPLOAD_ENGINE = "upload"
UPLOAD_RATE = 22050


def audio_path(key: str) -> str:
    return f"radio/audio/{key}.mp3"


def upload_source(key: str) -> str:
    """Where a long uploaded recording waits, as uploaded, for its conversion."""
    return f"radio/uploads/{key}.orig"


def save_final_bytes(name: str, data: bytes) -> str:
    """Write a file once (never replaced); the storage name under the commune's prefix."""
    return storage.save_final(name, data)


def save_mp3(key: str, data: bytes) -> str:
    return save_final_bytes(audio_path(key), data)


def _result(asset, **extra) -> dict:
    return {
        "file": asset.file, "duration": float(asset.duration_seconds or 0),
        "loudness_lufs": float(asset.loudness_lufs) if asset.loudness_lufs is not None else None,
        "size": asset.size, **extra,
    }


def run_speech_job(job, ctx) -> dict:
    from broadcasting.models import AudioAsset

    asset = AudioAsset.objects.get(pk=job.asset_id)
    if asset.file:  # an earlier run stored it and stopped before committing the job
        ctx.progress(100, _("Ready"))
        return _result(asset)
    earlier = earlier_mp3(asset.key)
    if earlier is not None:  # an earlier run saved the MP3 and died before recording it
        ctx.progress(90, _("Saving the audio"))
        lufs, duration = earlier.checked
        _record(job, ctx, asset, earlier.name, len(earlier.data), lufs, duration)
        asset.refresh_from_db()
        ctx.progress(100, _("Ready"))
        return _result(asset, engine=asset.engine, voice=asset.voice, reused=True)
    started = time.perf_counter()
    ctx.progress(5, _("Preparing"))
    if asset.engine == UPLOAD_ENGINE:
        engine_name = UPLOAD_ENGINE
        samples, rate = _uploaded_samples(asset, ctx)
    else:
        try:
            engine = get_engine(asset.engine or None)
        except LookupError as exc:
            raise PermanentError(str(exc)) from exc
        engine_name = engine.name

        def reading(fraction: float) -> None:
            ctx.progress(10 + 60 * max(0.0, min(1.0, fraction)), _("Reading the text aloud"))

        ctx.progress(10, _("Reading the text aloud"))
        samples, rate = engine.synthesize(asset.text, asset.voice, idempotency_key=ctx.idempotency_key,
                                          progress=reading)
    synthesized = time.perf_counter()
    if not len(samples) or audio.is_silent(samples):
        raise PermanentError(_("The voice produced no sound.") if engine_name != UPLOAD_ENGINE
                             else _("The recording is silent."))
    ctx.progress(75, _("Adjusting the loudness and making the MP3"))
    target = float(settings.XASO_TTS_TARGET_LUFS)
    data, lufs, duration = audio.render_mp3(samples, rate, target)
    del samples
    if not math.isfinite(lufs) or abs(lufs - target) > LOUDNESS_TOLERANCE:
        raise PermanentError(_("The audio measures %(lufs).1f LUFS instead of %(target).0f.")
                             % {"lufs": lufs, "target": target})
    encoded = time.perf_counter()
    ctx.progress(90, _("Saving the audio"))
    ctx.check()
    name = save_mp3(asset.key, data)
    _record(job, ctx, asset, name, len(data), lufs, duration)
    asset.refresh_from_db()
    ctx.progress(100, _("Ready"))
    elapsed = encoded - started
    return _result(
        asset, engine=engine_name, voice=asset.voice,
        synthesis_seconds=round(synthesized - started, 3), total_seconds=round(elapsed, 3),
        realtime_factor=round(duration / elapsed, 1) if elapsed > 0 else None,
    )


def _record(job, ctx, asset, name: str, size: int, lufs: float, duration: float) -> None:
    """Record the stored MP3 on the asset, only while this worker still holds the job."""
    from broadcasting.models import AudioAsset, SpeechJob

    with transaction.atomic():
        owned = SpeechJob.objects.select_for_update().filter(
            pk=job.pk, lease_owner=ctx.worker_id, state=JobState.RUNNING,
        ).exists()
        if not owned:
            raise LeaseLost(job.pk)
        AudioAsset.objects.filter(pk=asset.pk).update(
            file=name, size=size, duration_seconds=Decimal(f"{duration:.2f}"),
            loudness_lufs=Decimal(f"{lufs:.2f}"),
        )
        device_cache.changed()  # playlists waiting for this audio change


def measure_mp3(data: bytes) -> tuple[float, float] | None:
    """(loudness in LUFS, duration in seconds) of an MP3 this job would have made, else None."""
    if audio.sniff(data) != "mp3":
        return None
    samples, rate = audio.decode(data)
    lufs = audio.measure_lufs(samples, rate)
    target = float(settings.XASO_TTS_TARGET_LUFS)
    if not math.isfinite(lufs) or abs(lufs - target) > LOUDNESS_TOLERANCE:
        return None
    return lufs, len(samples) / rate


def earlier_mp3(key: str):
    """The MP3 of ``key`` that an interrupted run saved (decodes, at the target loudness), or None."""
    return storage.earlier_final(audio_path(key), measure_mp3)


def _uploaded_samples(asset, ctx):
    """The samples of a long uploaded recording kept at ``upload_source(key)``."""
    source = default_storage.generate_filename(upload_source(asset.key))
    if not default_storage.exists(source):
        raise PermanentError(_("The uploaded recording is missing."))
    ctx.progress(10, _("Reading the recording"))
    with default_storage.open(source, "rb") as handle:
        data = handle.read()
    try:
        samples, rate = audio.decode(data, rate=UPLOAD_RATE)
    except audio.AudioError as exc:
        raise PermanentError(_("The recording cannot be read.")) from exc
    ctx.progress(70, _("Reading the recording"))
    return samples, rate
