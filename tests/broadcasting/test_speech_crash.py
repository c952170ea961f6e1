"""A speech job killed between saving its MP3 and recording it renders once: the re-run finds the
file the dead worker saved under the asset's name, checks it (an MP3 at the target loudness) and
records it, leaving one file on disk (``core.storage.earlier_final``).

The crash is real: the test holds a row lock on the asset, so the worker, once it has saved the
MP3, waits in the transaction that records it; the test then kills the worker (SIGKILL to the
whole process group) and a new worker takes the job over after the lease expires.
"""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from broadcasting.audio_services import request_speech
from broadcasting.models import AudioAsset, SpeechJob
from broadcasting.speech import jobs as speech_jobs
from core.storage import earlier_final
from jobs.models import JobState
from jobs.services import sweep_all
from tests.celery_worker import WorkerProcess, queue_of_its_own
from tests.jobs.helpers import TULE_SCHEMA, wait_for


# --- the helper, without a worker ------------------------------------------------------------

def test_an_earlier_file_is_kept_when_sound_and_removed_when_cut_short(in_tule):
    assert earlier_final("radio/audio/none.mp3") is None
    # a write cut short (not final, refused by the check): removed, the name is free again
    default_storage.save(speech_jobs.audio_path("cut"), ContentFile(b"ID3 half an mp3"))
    assert earlier_final(speech_jobs.audio_path("cut"), speech_jobs.measure_mp3) is None
    assert not default_storage.exists(default_storage.generate_filename(speech_jobs.audio_path("cut")))
    # written, then the crash came before the final mark: accepted and made final
    name = default_storage.save("signed/x.pdf", ContentFile(b"%PDF-1.7 signed"))
    found = earlier_final("signed/x.pdf", lambda data: data.startswith(b"%PDF"))
    assert found is not None and found.name == name and found.data == b"%PDF-1.7 signed"
    assert default_storage.is_final(name)
    # a final file the check refuses stays (it cannot be removed); a new save takes another name
    assert earlier_final("signed/x.pdf", lambda data: False) is None
    assert default_storage.exists(name)


# --- a real worker, killed at the worst moment ----------------------------------------------

@pytest.fixture(scope="module")
def crash_queue(celery_broker):
    from config.celery import app

    with queue_of_its_own(app, f"{celery_broker['queue']}-speech-crash") as queue:
        yield queue
    celery_broker["redis"].delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture
def crash_env(worker_env, crash_queue, tmp_path, settings, live_db, espeak):
    media = tmp_path / "crash-media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    with schema_context(TULE_SCHEMA):
        before = set(AudioAsset.objects.values_list("pk", flat=True))
    workers: list[WorkerProcess] = []
    yield {"env": {**worker_env, "XASO_MEDIA_ROOT": str(media), "CELERY_TASK_DEFAULT_QUEUE": crash_queue},
           "queue": crash_queue, "media": media, "workers": workers}
    for worker in workers:
        worker.kill() if worker.running else None
        from jobs.models import WorkerHeartbeat

        WorkerHeartbeat.objects.filter(worker_name=worker.name).delete()
        os.unlink(worker.log.name)
    connection.set_schema_to_public()
    with schema_context(TULE_SCHEMA):
        AudioAsset.objects.exclude(pk__in=before).delete()


def start_worker(crash_env) -> WorkerProcess:
    worker = WorkerProcess(crash_env["env"], crash_env["queue"]).start(timeout=60)
    crash_env["workers"].append(worker)
    return worker


def mp3_files(media: Path, key: str) -> list[str]:
    folder = media / "communes" / TULE_SCHEMA / "radio" / "audio"
    return sorted(p.name for p in folder.glob(f"{key}*.mp3")) if folder.exists() else []


def admin_connection():
    db = connection.settings_dict
    conn = psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db.get("PASSWORD") or None,
                            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
    return conn


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_a_worker_killed_between_saving_and_recording_the_mp3_renders_once(crash_env):
    text = f"Bản tin số {uuid.uuid4().int % 10 ** 8}. Bà con chú ý: chiều nay lúc 17h có họp dân tại nhà văn hóa thôn."
    with schema_context(TULE_SCHEMA):
        asset = request_speech(text=text)
        job = SpeechJob.objects.get(asset=asset)
    table = f'"{TULE_SCHEMA}"."{AudioAsset._meta.db_table}"'

    # Hold the asset's row: the worker will save the MP3, then wait to record it.
    holder = admin_connection()
    with holder.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [asset.pk])
    watcher = admin_connection()
    watcher.autocommit = True

    def recording_blocked():
        with watcher.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query ILIKE %s", [f"%{AudioAsset._meta.db_table}%"],
            )
            return cursor.fetchone()[0] > 0

    first = start_worker(crash_env)
    try:
        wait_for(recording_blocked, timeout=60, interval=0.05, message="the worker to wait on its record")
        assert mp3_files(crash_env["media"], asset.key) == [f"{asset.key}.mp3"]  # saved, not recorded
        first.kill()  # SIGKILL: the transaction that records the MP3 never commits
    finally:
        holder.rollback()
        holder.close()
    wait_for(lambda: not recording_blocked(), timeout=10, message="the dead worker's transaction to end")
    watcher.close()

    with schema_context(TULE_SCHEMA):
        asset.refresh_from_db()
        row = SpeechJob.objects.get(pk=job.pk)
    assert not asset.file and row.state == JobState.RUNNING and row.attempts == 1

    second = start_worker(crash_env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with schema_context(TULE_SCHEMA):
            row = SpeechJob.objects.get(pk=job.pk)
        if row.is_finished:
            break
        if row.state == JobState.QUEUED or (row.lease_expires_at and row.lease_expires_at < timezone.now()):
            sweep_all(grace_seconds=0)  # what beat does: the dead worker's lease expired
        time.sleep(0.2)
    assert row.state == JobState.SUCCEEDED, (row.state, row.error, second.output())
    assert row.attempts == 2 and row.completions == 1
    assert mp3_files(crash_env["media"], asset.key) == [f"{asset.key}.mp3"]  # one file on disk
    assert row.result.get("reused") is True  # the second attempt did not render

    with schema_context(TULE_SCHEMA):
        asset.refresh_from_db()
    assert asset.file == f"communes/{TULE_SCHEMA}/radio/audio/{asset.key}.mp3"
    assert mp3_files(crash_env["media"], asset.key) == [f"{asset.key}.mp3"]  # one file on disk
    assert default_storage.is_final(asset.file)
    data = default_storage.open(asset.file).read()
    assert asset.size == len(data) and abs(float(asset.loudness_lufs) + 16) <= 1.0
    assert float(asset.duration_seconds) > 1
