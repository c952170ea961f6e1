"""Speech as a durable job: requested once per text and voice, rendered by a real Celery worker
(a subprocess on the test database), with its progress visible; uploaded recordings checked by
their content and length.

The worker tests commit (``live_db``): the worker is another process and cannot see a test's
rolled-back transaction. They use a queue of their own and a media directory the worker shares
with this process, and delete the rows they made.
"""
from __future__ import annotations

import io
import os
import subprocess
import threading
import time
import uuid
import wave

import numpy as np
import pyloudnorm
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context

from broadcasting.audio_services import (
    asset_key, import_uploaded_audio, job_status, normalize_text, preview, request_speech, validate_text,
)
from broadcasting.models import AudioAsset, Pronunciation, SpeechJob
from broadcasting.pronunciations import DEFAULT_PRONUNCIATIONS, load_default_pronunciations
from broadcasting.speech import audio
from jobs.models import JobState
from tests.celery_worker import WorkerProcess, queue_of_its_own
from tests.jobs.helpers import TULE_SCHEMA, wait_for

BULLETIN = ("Ủy ban nhân dân xã Tú Lệ thông báo: từ ngày 12/3 đến ngày 15/3/2026, trạm y tế xã tổ chức tiêm chủng mở "
            "rộng cho trẻ em dưới 5 tuổi, buổi sáng từ 7h30 đến 11h. Đề nghị các gia đình đưa trẻ đến đúng giờ, mang "
            "theo sổ tiêm chủng và thẻ BHYT. Mọi thắc mắc xin gọi số 0912 345 678.")


def captured(callbacks) -> list:
    """The job messages among on-commit callbacks (``jobs.services.JobMessage``)."""
    from jobs.services import JobMessage

    return [c for c in callbacks if isinstance(c, JobMessage)]


# --- requests, without a worker ------------------------------------------------------------

def test_the_same_text_twice_renders_once(in_tule, people, django_capture_on_commit_callbacks):
    operator = people["radio_operator"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = request_speech(text=BULLETIN, voice="vi", user=operator)
        again = request_speech(text=BULLETIN, voice="vi", user=operator)
        # the same words after normalisation: other spacing, a line break, the date written out
        same_words = request_speech(text="  " + BULLETIN.replace("ngày 12/3", "ngày mười hai tháng ba").replace(
            ". Đề nghị", ".\nĐề nghị"), user=operator)
    assert first.pk == again.pk == same_words.pk
    assert AudioAsset.objects.count() == 1 and SpeechJob.objects.count() == 1
    assert len(captured(callbacks)) == 1  # one message for one render
    job = SpeechJob.objects.get()
    assert job.asset_id == first.pk and job.requested_by_id == operator.pk and job.state == JobState.QUEUED
    assert first.key == asset_key(normalize_text(BULLETIN), "vi", "espeak")
    assert first.text == normalize_text(BULLETIN) and "ủy ban nhân dân" in first.text and first.engine == "espeak"
    # another voice is another rendering
    southern = request_speech(text=BULLETIN, voice="vi-vn-x-south")
    assert southern.pk != first.pk and AudioAsset.objects.count() == 2
    status = job_status(first)
    assert status["state"] == "queued" and status["ready"] is False and status["percent"] == 0


def test_the_commune_pronunciations_change_what_is_read(in_tule):
    Pronunciation.objects.all().delete()  # (a data migration may have loaded the defaults)
    assert normalize_text("UBND xã") == "ủy ban nhân dân xã."  # defaults while the list is empty
    assert load_default_pronunciations(Pronunciation) == len(DEFAULT_PRONUNCIATIONS)
    assert load_default_pronunciations(Pronunciation) == 0  # idempotent
    Pronunciation.objects.filter(written="UBND").update(spoken="ủy ban")
    Pronunciation.objects.create(written="Tú Lệ", spoken="Tú Lệ thân yêu", case_sensitive=False)
    assert normalize_text("UBND xã tú lệ") == "ủy ban xã tú lệ thân yêu."
    # the reading changed, so the key did too: a new rendering
    assert request_speech(text="UBND xã").key == asset_key("ủy ban xã.", "vi", "espeak")
    assert preview("Họp lúc 7h30 ☎") == ("họp lúc bảy giờ ba mươi phút.", ["☎"])


def test_bad_text_gets_a_clear_message(in_tule, settings):
    def refused(text, **kwargs) -> tuple[str, str, str]:
        """(field, code, message)"""
        with pytest.raises(ValidationError) as caught:
            request_speech(text=text, **kwargs)
        ((field, (error,)),) = caught.value.error_dict.items()
        return field, error.code, error.messages[0]

    assert refused("   ")[:2] == ("text", "required")
    settings.XASO_TTS_MAX_CHARS = 50
    field, code, message = refused("a " * 40)
    assert (field, code) == ("text", "too_long") and "50" in message and "79" in message
    settings.XASO_TTS_MAX_CHARS = 20000
    field, code, message = refused("Chúc mừng năm mới 🎉🧧 bà con")
    assert (field, code) == ("text", "unsayable") and "🎉" in message and "🧧" in message
    assert refused("...!!! ---")[:2] == ("text", "nothing_to_read")
    field, code, message = refused("Xin chào", voice="en-us")
    assert (field, code) == ("voice", "invalid_choice") and "vi-vn-x-south" in message
    assert validate_text("  Xin chào  ") == "Xin chào"
    assert AudioAsset.objects.count() == 0


def test_a_failed_render_is_queued_again_by_the_next_request(in_tule, django_capture_on_commit_callbacks):
    asset = request_speech(text="Bản tin thử.")
    SpeechJob.objects.filter(asset=asset).update(state=JobState.FAILED, error="service down", attempts=5)
    assert job_status(asset)["state"] == "failed" and "service down" in job_status(asset)["message"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert request_speech(text="Bản tin thử.").pk == asset.pk
    job = SpeechJob.objects.get(asset=asset)
    assert job.state == JobState.QUEUED and job.attempts == 0 and len(captured(callbacks)) == 1
    # an asset that lost its job (made some other way) gets one
    job.delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert request_speech(text="Bản tin thử.").pk == asset.pk
    assert SpeechJob.objects.get(asset=asset).state == JobState.QUEUED and len(captured(callbacks)) == 1


# --- uploads --------------------------------------------------------------------------------

def wav_bytes(samples, rate) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def recorded(espeak) -> bytes:
    """A recording of speech (a WAV file, as a phone or a studio would give)."""
    stream = subprocess.run([espeak, "--stdout", "-v", "vi", "-a", "40"], input="Bà con chú ý, bà con chú ý. "
                            "Chiều nay có họp dân tại nhà văn hóa thôn.".encode(), capture_output=True, check=True).stdout
    samples, rate = audio.pcm16_wav_samples(stream)
    return wav_bytes(samples, rate)


def upload_refused(upload) -> tuple[str, str]:
    """(code, message) of the refusal of ``upload``."""
    with pytest.raises(ValidationError) as caught:
        import_uploaded_audio(upload=upload)
    (error,) = caught.value.error_dict["upload"]
    return error.code, error.messages[0]


def test_an_uploaded_recording_becomes_a_normalised_mp3(in_tule, recorded):
    asset = import_uploaded_audio(upload=SimpleUploadedFile("hop-dan.wav", recorded, "audio/wav"))
    assert asset.engine == "upload" and asset.file.endswith(".mp3") and asset.size > 0
    data = default_storage.open(asset.file).read()
    samples, rate = audio.decode(data)
    assert abs(pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64)) + 16) <= 1.0
    assert abs(float(asset.loudness_lufs) + 16) <= 1.0
    assert float(asset.duration_seconds) == pytest.approx(audio.duration_of(recorded), abs=0.2)
    # the same file again: the same asset
    again = import_uploaded_audio(upload=SimpleUploadedFile("lai-lan-nua.wav", recorded, "audio/wav"))
    assert again.pk == asset.pk and AudioAsset.objects.count() == 1
    assert job_status(asset)["ready"] is True


def test_a_long_recording_is_converted_by_a_job(in_tule, settings, recorded, django_capture_on_commit_callbacks):
    from jobs import services

    settings.XASO_RADIO_UPLOAD_INLINE_SECONDS = 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        asset = import_uploaded_audio(upload=SimpleUploadedFile("dai.wav", recorded, "audio/wav"))
        same = import_uploaded_audio(upload=SimpleUploadedFile("dai-2.wav", recorded, "audio/wav"))
    assert same.pk == asset.pk and not asset.ready and len(captured(callbacks)) == 1
    job = SpeechJob.objects.get(asset=asset)
    assert job_status(asset)["state"] == "queued"
    assert services.claim(SpeechJob, job.pk, "w1")
    result = job.run(services.JobContext(SpeechJob.objects.get(pk=job.pk), "w1", TULE_SCHEMA))
    assert services.complete(SpeechJob, job.pk, "w1", result)
    asset.refresh_from_db()
    assert asset.ready and result["engine"] == "upload" and abs(float(asset.loudness_lufs) + 16) <= 1
    assert float(asset.duration_seconds) == pytest.approx(audio.duration_of(recorded), abs=0.2)
    assert job_status(asset)["ready"] is True


def test_an_uploaded_file_that_is_not_audio_is_refused(in_tule):
    code, message = upload_refused(SimpleUploadedFile("ban-tin.mp3", b"%PDF-1.7\n" + b"x" * 2000, "audio/mpeg"))
    assert code == "file_type" and "MP3" in message and "WAV" in message
    broken = SimpleUploadedFile("ban-tin.wav", b"RIFF\x10\x00\x00\x00WAVEbroken", "audio/wav")
    assert upload_refused(broken)[0] == "file_type"
    assert upload_refused(SimpleUploadedFile("rong.mp3", b"", "audio/mpeg"))[0] == "empty"
    assert AudioAsset.objects.count() == 0


def test_an_uploaded_recording_too_long_or_too_large_or_silent_is_refused(in_tule, settings, recorded):
    settings.XASO_RADIO_UPLOAD_MAX_SECONDS = 2
    code, message = upload_refused(SimpleUploadedFile("dai.wav", recorded, "audio/wav"))
    length = audio.duration_of(recorded)
    assert code == "too_long" and "0:02" in message and f"0:{int(length) + 1:02d}" in message
    settings.XASO_RADIO_UPLOAD_MAX_SECONDS = 1800
    settings.XASO_RADIO_UPLOAD_MAX_BYTES = 1000
    assert upload_refused(SimpleUploadedFile("lon.wav", recorded, "audio/wav"))[0] == "too_large"
    settings.XASO_RADIO_UPLOAD_MAX_BYTES = 30 * 1024 * 1024
    silence = wav_bytes(np.zeros(16000 * 3, dtype=np.float32), 16000)
    assert upload_refused(SimpleUploadedFile("im-lang.wav", silence, "audio/wav"))[0] == "silent"
    assert AudioAsset.objects.count() == 0


# --- a real worker --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def radio_queue(celery_broker):
    """A queue of this module's own (another worker of the session would not take its jobs)."""
    from config.celery import app

    with queue_of_its_own(app, f"{celery_broker['queue']}-radio") as queue:
        yield queue
    celery_broker["redis"].delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture(scope="module")
def radio_media(tmp_path_factory):
    return tmp_path_factory.mktemp("radio-media")


@pytest.fixture(scope="module")
def radio_worker(worker_env, radio_queue, radio_media, django_db_blocker, espeak):
    env = {**worker_env, "XASO_MEDIA_ROOT": str(radio_media), "CELERY_TASK_DEFAULT_QUEUE": radio_queue}
    with django_db_blocker.unblock():
        worker = WorkerProcess(env, radio_queue).start(timeout=60)
    yield worker
    worker.stop()
    with django_db_blocker.unblock():
        from jobs.models import WorkerHeartbeat

        WorkerHeartbeat.objects.filter(worker_name=worker.name).delete()
    os.unlink(worker.log.name)


@pytest.fixture
def live_radio(live_db, radio_worker, radio_media, settings):
    """Committed rows in Tú Lệ seen by the worker, files in the directory it writes to."""
    settings.MEDIA_ROOT = str(radio_media)
    with schema_context(TULE_SCHEMA):
        before = set(AudioAsset.objects.values_list("pk", flat=True))
    yield radio_worker
    connection.set_schema_to_public()
    with schema_context(TULE_SCHEMA):
        AudioAsset.objects.exclude(pk__in=before).delete()  # their jobs go with them


def unique(text: str) -> str:
    """The text with a marker of its own (rows of an earlier run must not answer for it)."""
    return f"Bản tin số {uuid.uuid4().int % 10 ** 8}. {text}"


def wait_ready(asset, worker, timeout=60.0):
    """The asset's status once its audio is ready. Beat's sweeper does not run here: if the job is
    still waiting for its first claim half-way through, the test sweeps once, as beat would (a
    message lost between this process and Redis is the sweeper's to re-send), and says so."""
    from jobs.services import sweep_all

    swept_at = time.monotonic() + timeout / 2

    def ready():
        nonlocal swept_at
        with schema_context(TULE_SCHEMA):
            status = job_status(asset)
            job = SpeechJob.objects.filter(asset=asset).first()
        if status["state"] == "failed":
            raise AssertionError(f"the speech job failed: {status['message']}\n{worker.output()}")
        if swept_at and time.monotonic() > swept_at and job is not None and job.attempts == 0:
            swept_at = 0
            print(f"speech job {job.pk} unclaimed after {timeout / 2:.0f} s; sweeping: {sweep_all(grace_seconds=0)}")
        return status if status["ready"] else None

    try:
        return wait_for(ready, timeout=timeout, interval=0.05, message=f"the audio of asset {asset.pk}")
    except AssertionError as exc:
        with schema_context(TULE_SCHEMA):
            job = SpeechJob.objects.filter(asset=asset).values().first()
        raise AssertionError(f"{exc}\njob: {job}\nworker:\n{worker.output()}") from None




def wait_job_finished(asset, timeout=20.0) -> SpeechJob:
    """The job row once the worker committed it (the file is stored a moment before)."""
    def finished():
        with schema_context(TULE_SCHEMA):
            job = SpeechJob.objects.get(asset=asset)
        return job if job.is_finished else None

    return wait_for(finished, timeout=timeout, message=f"the speech job of asset {asset.pk}")


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_the_worker_renders_with_visible_progress_and_stores_file_duration_loudness(live_radio):
    # over two minutes of speech: long enough to watch the progress
    text = unique(" ".join([BULLETIN] * 6))
    with schema_context(TULE_SCHEMA):
        asset = request_speech(text=text, voice="vi-vn-x-central")
    seen: list[tuple[str, int, str]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with schema_context(TULE_SCHEMA):
            status = job_status(asset)
        seen.append((status["state"], status["percent"], status["message"]))
        if status["ready"] or status["state"] == "failed":
            break
        time.sleep(0.02)
    assert seen[-1][0] == "succeeded", (seen[-5:], live_radio.output())
    running = [(percent, message) for state, percent, message in seen if state == "running" and 0 < percent < 100]
    assert running, seen[:20]  # progress was visible while it rendered
    percents = [percent for state, percent, _m in seen if state in ("running", "succeeded")]
    assert percents == sorted(percents) and percents[-1] == 100
    assert all(message for _p, message in running)

    job = wait_job_finished(asset)
    with schema_context(TULE_SCHEMA):
        asset.refresh_from_db()
        final = job_status(asset)
    assert job.state == JobState.SUCCEEDED and job.completions == 1 and job.attempts == 1
    assert asset.file == f"communes/{TULE_SCHEMA}/radio/audio/{asset.key}.mp3"
    assert default_storage.is_final(asset.file)
    data = default_storage.open(asset.file).read()
    assert asset.size == len(data)
    samples, rate = audio.decode(data)
    duration = len(samples) / rate
    assert float(asset.duration_seconds) == pytest.approx(duration, abs=0.05)
    words = len(asset.text.split())
    assert words > 500 and 2.5 < words / duration < 6.0  # eSpeak NG reads ~4 words a second
    measured = pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64))
    assert abs(measured + 16) <= 1.0 and float(asset.loudness_lufs) == pytest.approx(measured, abs=0.02)
    assert final["ready"] and final["url"] == f"/radio/audio/{asset.key}.mp3" and final["duration"] == float(
        asset.duration_seconds)
    assert job.result["realtime_factor"] > 1  # faster than real time

    # asked again once ready (the same words): the same asset, no second job, no second render
    with schema_context(TULE_SCHEMA):
        again = request_speech(text=text.replace(" 7h30 ", " 7:30 "), voice="vi-vn-x-central")
        assert again.pk == asset.pk
        assert SpeechJob.objects.filter(asset=asset).count() == 1
        assert SpeechJob.objects.get(asset=asset).completions == 1


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_concurrent_requests_render_once(live_radio):
    text = unique("Bà con chú ý: chiều nay lúc 17h có họp dân tại nhà văn hóa thôn Bản Lướt.")
    results: list = [None] * 6
    errors: list = []
    barrier = threading.Barrier(len(results))

    def ask(index):
        try:
            with schema_context(TULE_SCHEMA):
                barrier.wait()
                results[index] = request_speech(text=text).pk
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 1, (errors, results)
    with schema_context(TULE_SCHEMA):
        asset = AudioAsset.objects.get(pk=results[0])
        assert AudioAsset.objects.filter(text=asset.text).count() == 1
        assert SpeechJob.objects.filter(asset=asset).count() == 1
    wait_ready(asset, live_radio)
    job = wait_job_finished(asset)
    assert job.completions == 1 and job.attempts == 1
    with schema_context(TULE_SCHEMA):
        asset.refresh_from_db()
    assert asset.ready and abs(float(asset.loudness_lufs) + 16) <= 1
