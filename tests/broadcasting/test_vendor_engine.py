"""The vendor's speech service, played by a local HTTP server this test starts."""
from __future__ import annotations

import http.server
import io
import json
import threading
import time
import wave

import numpy as np
import pytest

from broadcasting.speech import audio
from broadcasting.speech.engines import EngineUnavailable, VendorEngine, get_engine
from jobs.exceptions import PermanentError, RetryableError

KEY = "vendor-test-key"
RATE = 24000


def tone_wav(seconds: float, rate: int = RATE) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.25 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    return buffer.getvalue()


class FakeVendor:
    """Answers each POST with a WAV whose length follows the text (0.05 s a character), or with
    what the test asks for: a status, a delay, a body that is not audio."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.body: bytes | None = None
        self.fail_times = 0  # answer 503 this many times first

    def answer(self, headers, body: dict) -> tuple[int, str, bytes]:
        with self.lock:
            self.requests.append({"headers": dict(headers), "body": body})
            if self.fail_times > 0:
                self.fail_times -= 1
                return 503, "application/json", b'{"error": "busy"}'
            status, delay, override = self.status, self.delay, self.body
        if delay:
            time.sleep(delay)
        if headers.get("Authorization") != f"Bearer {KEY}":
            return 401, "application/json", b'{"error": "bad key"}'
        if status != 200:
            return status, "application/json", json.dumps({"error": f"status {status}"}).encode()
        if override is not None:
            return 200, "text/html", override
        return 200, "audio/wav", tone_wav(0.05 * len(body.get("text", "")))


@pytest.fixture(scope="module")
def vendor_server():
    vendor = FakeVendor()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                body = {}
            status, content_type, data = vendor.answer(self.headers, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    vendor.url = f"http://127.0.0.1:{server.server_address[1]}/v1/tts"
    yield vendor
    server.shutdown()
    server.server_close()


@pytest.fixture
def vendor(vendor_server, settings):
    vendor_server.reset()
    settings.XASO_TTS_VENDOR_URL = vendor_server.url
    settings.XASO_TTS_VENDOR_KEY = KEY
    settings.XASO_TTS_VENDOR_TIMEOUT = 5
    yield vendor_server
    vendor_server.reset()


def test_the_vendor_reads_and_gets_key_and_idempotency_key(vendor):
    engine = get_engine("vendor")
    assert isinstance(engine, VendorEngine)
    samples, rate = engine.synthesize("ủy ban nhân dân xã tú lệ thông báo.", "default", idempotency_key="job-1")
    assert rate == RATE and samples.dtype == np.float32
    assert len(samples) / rate == pytest.approx(0.05 * len("ủy ban nhân dân xã tú lệ thông báo."), abs=0.01)
    assert not audio.is_silent(samples)
    (request,) = vendor.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["idempotency-key"] == "job-1:0"
    assert headers["content-type"].startswith("application/json")
    assert request["body"] == {"text": "ủy ban nhân dân xã tú lệ thông báo.", "voice": "default", "format": "wav"}


def test_a_long_text_goes_in_pieces_each_with_its_own_key(vendor):
    engine = VendorEngine(max_chars=60)
    text = " ".join(f"câu thứ {i} của bản tin hôm nay." for i in range(8))
    seen = []
    samples, rate = engine.synthesize(text, "default", idempotency_key="job-2", progress=seen.append)
    keys = [r["headers"]["Idempotency-Key"] for r in vendor.requests]
    assert len(keys) >= 3 and keys == [f"job-2:{i}" for i in range(len(keys))]
    assert " ".join(r["body"]["text"] for r in vendor.requests) == text
    assert seen[-1] == 1.0 and len(seen) == len(keys)
    assert len(samples) / rate == pytest.approx(0.05 * sum(len(r["body"]["text"]) for r in vendor.requests), abs=0.05)
    # the same job asks again (a retry): the same keys, so the vendor can answer without a second effect
    vendor.requests.clear()
    engine.synthesize(text, "default", idempotency_key="job-2")
    assert [r["headers"]["Idempotency-Key"] for r in vendor.requests] == keys


def test_without_a_job_the_key_follows_the_text(vendor):
    engine = VendorEngine()
    engine.synthesize("xin chào bà con.", "default")
    engine.synthesize("xin chào bà con.", "default")
    engine.synthesize("xin chào bà con.", "other")
    first, second, third = (r["headers"]["Idempotency-Key"] for r in vendor.requests)
    assert first == second != third and len(first) == 64


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_errors_are_retryable(vendor, status):
    vendor.status = status
    with pytest.raises(RetryableError, match=str(status)):
        VendorEngine().synthesize("xin chào.", "default", idempotency_key="k")


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_permanent(vendor, status):
    vendor.status = status
    with pytest.raises(PermanentError, match=f"status {status}"):
        VendorEngine().synthesize("xin chào.", "default", idempotency_key="k")


def test_a_wrong_key_is_permanent(vendor, settings):
    settings.XASO_TTS_VENDOR_KEY = "wrong"
    with pytest.raises(PermanentError, match="401"):
        VendorEngine().synthesize("xin chào.", "default")


def test_a_timeout_is_retryable(vendor, settings):
    vendor.delay = 1.5
    settings.XASO_TTS_VENDOR_TIMEOUT = 0.3
    started = time.monotonic()
    with pytest.raises(RetryableError):
        VendorEngine().synthesize("xin chào.", "default", idempotency_key="slow")
    assert time.monotonic() - started < 1.4


def test_a_closed_port_is_retryable(settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.XASO_TTS_VENDOR_URL = f"http://127.0.0.1:{port}/tts"
    with pytest.raises(RetryableError):
        VendorEngine(timeout=2).synthesize("xin chào.", "default")


def test_an_answer_that_is_not_audio_is_permanent(vendor):
    from django.utils import translation

    vendor.body = b"<html>maintenance</html>"
    with translation.override("en"), pytest.raises(PermanentError, match="not audio"):
        VendorEngine().synthesize("xin chào.", "default", idempotency_key="k")


def test_no_address_means_unavailable(settings):
    settings.XASO_TTS_VENDOR_URL = ""
    with pytest.raises(EngineUnavailable):
        VendorEngine().synthesize("xin chào.", "default")


def test_voices_come_from_the_settings(settings):
    settings.XASO_TTS_VENDOR_VOICES = ["hn-female=Giọng nữ Hà Nội", "sg-male"]
    assert VendorEngine().voices() == [("hn-female", "Giọng nữ Hà Nội"), ("sg-male", "sg-male")]
    del settings.XASO_TTS_VENDOR_VOICES
    assert [key for key, _ in VendorEngine().voices()] == ["default"]


def test_a_speech_job_on_the_vendor_sends_the_jobs_key_and_recovers_from_a_passing_failure(
        vendor, settings, tule, in_commune, django_capture_on_commit_callbacks):
    """The job (run here, in this process) sends its own idempotency key; a 503 makes it retry;
    the retry sends the same key; the MP3 is at the target loudness."""
    from broadcasting.audio_services import request_speech
    from broadcasting.models import SpeechJob
    from jobs import services

    settings.XASO_TTS_ENGINE = "vendor"
    settings.XASO_JOB_BACKOFF_BASE = 0
    with in_commune(tule):
        with django_capture_on_commit_callbacks(execute=False):
            asset = request_speech(text="Bà con chú ý: ngày 12/3 có họp dân lúc 19h.", voice="default")
        job = SpeechJob.objects.get(asset=asset)
        assert asset.engine == "vendor" and asset.voice == "default"
        vendor.fail_times = 1
        assert services.claim(SpeechJob, job.pk, "w1")
        ctx = services.JobContext(SpeechJob.objects.get(pk=job.pk), "w1", tule.schema_name)
        with pytest.raises(RetryableError):
            job.run(ctx)
        assert services.fail_or_retry(SpeechJob, job.pk, "w1", "busy") == "retry"
        SpeechJob.objects.filter(pk=job.pk).update(run_after=services.timezone.now())
        assert services.claim(SpeechJob, job.pk, "w2")
        ctx = services.JobContext(SpeechJob.objects.get(pk=job.pk), "w2", tule.schema_name)
        result = job.run(ctx)
        assert services.complete(SpeechJob, job.pk, "w2", result)
        keys = [r["headers"]["Idempotency-Key"] for r in vendor.requests]
        assert keys == [f"{job.idempotency_key}:0", f"{job.idempotency_key}:0"]
        asset.refresh_from_db()
        assert asset.file.endswith(".mp3") and abs(float(asset.loudness_lufs) + 16) <= 1
        assert result["engine"] == "vendor"
