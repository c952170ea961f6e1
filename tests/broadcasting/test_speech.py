"""Speech end to end without the database: eSpeak NG reads a Vietnamese bulletin, the result is
an MP3 that decodes, is not silent, lasts as long as its text needs and measures −16 LUFS.

Loudness is checked against pyloudnorm's own meter on the decoded MP3 (the reference, not the
module's sliced meter)."""
from __future__ import annotations

import io
import wave

import numpy as np
import pyloudnorm
import pytest

from broadcasting.pronunciations import default_pronunciations
from broadcasting.speech import audio, engines
from broadcasting.speech.engines import (
    EngineUnavailable, EspeakEngine, VendorEngine, engine_names, get_engine, register_engine, split_text,
)
from broadcasting.speech.normalize import normalize
from jobs.exceptions import PermanentError

BULLETIN = """THÔNG BÁO
Thực hiện kế hoạch của UBND huyện, trạm y tế xã Tú Lệ tổ chức tiêm chủng mở rộng cho trẻ em dưới 5 tuổi
từ ngày 12/3 đến ngày 15/3/2026, buổi sáng từ 7h30 đến 11h.
Đề nghị các gia đình đưa trẻ đến đúng giờ, mang theo sổ tiêm chủng và thẻ BHYT. Năm nay toàn xã có 1.245 trẻ
cần tiêm, đạt 98,5% kế hoạch. Mức hỗ trợ là 330.000 đồng mỗi tháng.
Mọi thắc mắc xin liên hệ số điện thoại 0912 345 678."""

# eSpeak NG at 160 words a minute reads 3.8–4.0 Vietnamese syllables (words) a second with these
# voices (measured); the bounds leave a wide margin either way.
WORDS_PER_SECOND = (2.5, 6.0)
TARGET = -16.0
SILENCE_FLOOR_DB = -45.0  # RMS of the decoded speech must be above this (speech at −16 LUFS is near −16 dBFS)


def reading(text=BULLETIN) -> str:
    mapping, insensitive = default_pronunciations()
    return normalize(text, pronunciations=mapping, case_insensitive=insensitive)


def reference_lufs(samples, rate) -> float:
    return pyloudnorm.Meter(rate).integrated_loudness(np.asarray(samples, dtype=np.float64))


@pytest.fixture(scope="module")
def spoken(espeak):
    """The bulletin read by the northern voice, as an MP3."""
    text = reading()
    samples, rate = EspeakEngine().synthesize(text, "vi")
    mp3, lufs, duration = audio.render_mp3(samples, rate, TARGET)
    return {"text": text, "raw": (samples, rate), "mp3": mp3, "lufs": lufs, "duration": duration}


def test_a_bulletin_becomes_an_mp3_that_decodes(spoken):
    assert audio.sniff(spoken["mp3"]) == "mp3"
    samples, rate = audio.decode(spoken["mp3"])
    assert rate == 22050 and samples.dtype == np.float32 and samples.ndim == 1
    assert audio.duration_of(spoken["mp3"]) == pytest.approx(len(samples) / rate, abs=0.05)


def test_it_is_not_silent(spoken):
    samples, _rate = audio.decode(spoken["mp3"])
    assert audio.rms_db(samples) > SILENCE_FLOOR_DB
    assert not audio.is_silent(samples)


def test_it_lasts_a_plausible_time_for_its_text(spoken):
    words = len(spoken["text"].split())
    assert words > 100
    rate = words / spoken["duration"]
    assert WORDS_PER_SECOND[0] < rate < WORDS_PER_SECOND[1], (words, spoken["duration"])


def test_it_measures_minus_16_lufs_after_decoding(spoken):
    samples, rate = audio.decode(spoken["mp3"])
    measured = reference_lufs(samples, rate)
    assert abs(measured - TARGET) <= 1.0, measured
    assert spoken["lufs"] == pytest.approx(measured, abs=0.01)  # what the asset would record
    # the raw voice was not at the target: the gain did something
    assert abs(reference_lufs(*spoken["raw"]) - TARGET) > 1.0


def test_peaks_are_limited(spoken):
    samples, rate = spoken["raw"]
    louder = audio.loudness_normalize(samples, rate, -12.0)  # 6 dB louder than the raw voice: peaks need the limiter
    assert np.abs(louder).max() <= 10 ** (audio.PEAK_CEILING_DB / 20) + 1e-6
    assert abs(reference_lufs(louder, rate) - (-12.0)) <= 0.5


@pytest.mark.parametrize("voice", ["vi", "vi-vn-x-central", "vi-vn-x-south"])
def test_every_voice_reads(espeak, voice):
    text = reading("Ủy ban nhân dân xã Tú Lệ thông báo lịch tiêm chủng ngày 12/3 cho trẻ em dưới 5 tuổi.")
    samples, rate = EspeakEngine().synthesize(text, voice)
    mp3, lufs, duration = audio.render_mp3(samples, rate, TARGET)
    decoded, decoded_rate = audio.decode(mp3)
    assert audio.rms_db(decoded) > SILENCE_FLOOR_DB
    assert abs(reference_lufs(decoded, decoded_rate) - TARGET) <= 1.0
    words = len(text.split())
    assert WORDS_PER_SECOND[0] < words / duration < WORDS_PER_SECOND[1]


def test_the_voices_differ(espeak):
    text = "Bà con chú ý."
    northern, _ = EspeakEngine().synthesize(text, "vi")
    southern, _ = EspeakEngine().synthesize(text, "vi-vn-x-south")
    assert len(northern) != len(southern) or not np.allclose(northern, southern)


def test_the_engine_lists_its_voices_and_refuses_others(espeak):
    engine = get_engine("espeak")
    assert [key for key, _label in engine.voices()] == ["vi", "vi-vn-x-central", "vi-vn-x-south"]
    with pytest.raises(PermanentError):
        engine.synthesize("xin chào", "en-us")
    assert {"espeak", "vendor"} <= set(engine_names())
    with pytest.raises(LookupError):
        get_engine("no-such-engine")


def test_a_long_text_is_read_in_pieces_with_progress(espeak):
    text = reading(" ".join([BULLETIN.replace("\n", " ")] * 4))
    pieces = split_text(text, EspeakEngine.max_chars)
    assert len(pieces) >= 3 and all(len(p) <= EspeakEngine.max_chars for p in pieces)
    assert " ".join(pieces).split() == text.split()
    seen: list[float] = []
    samples, rate = EspeakEngine().synthesize(text, "vi", progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == len(pieces)
    single, _ = EspeakEngine().synthesize(reading(BULLETIN), "vi")
    assert len(samples) > 3 * len(single)


def test_a_missing_program_is_reported(tmp_path):
    engine = EspeakEngine(binary=str(tmp_path / "espeak-ng"))
    with pytest.raises(EngineUnavailable, match="espeak-ng"):
        engine.synthesize("xin chào", "vi")


def test_further_engines_plug_in():
    class ToneEngine:
        name = "tone"

        def voices(self):
            return [("a", "A")]

        def synthesize(self, text, voice, *, idempotency_key="", progress=None):
            rate = 16000
            t = np.arange(rate) / rate
            return (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate

    register_engine("tone", ToneEngine)
    try:
        samples, rate = get_engine("tone").synthesize("x", "a")
    finally:
        engines._ENGINES.pop("tone", None)
    mp3, lufs, duration = audio.render_mp3(samples, rate, TARGET)
    assert abs(lufs - TARGET) <= 1.0 and duration == pytest.approx(1.0, abs=0.1)
    assert audio.decode(mp3)[1] == 16000


def _wav(samples, rate) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def test_decoding_reads_by_content_and_refuses_what_is_not_audio():
    rate = 8000
    tone = (0.2 * np.sin(2 * np.pi * 300 * np.arange(rate * 2) / rate)).astype(np.float32)
    data = _wav(tone, rate)
    assert audio.sniff(data) == "wav" and audio.duration_of(data) == pytest.approx(2.0)
    samples, decoded_rate = audio.decode(data, rate=16000)
    assert decoded_rate == 16000 and len(samples) == pytest.approx(32000, abs=20)
    for junk in (b"", b"%PDF-1.7 not audio", b"\xff\xfb" + b"\x00" * 500, b"RIFF\x00\x00\x00\x00WAVEjunk", b"ID3junk"):
        with pytest.raises(audio.AudioError):
            audio.decode(junk)


def test_the_sliced_meter_equals_pyloudnorm(spoken):
    samples, rate = spoken["raw"]
    assert audio.measure_lufs(samples, rate) == pytest.approx(reference_lufs(samples, rate), abs=0.01)
    quiet = samples * np.float32(0.05)
    assert audio.measure_lufs(quiet, rate) == pytest.approx(reference_lufs(quiet, rate), abs=0.01)


def test_silence_stays_silence():
    silence = np.zeros(22050, dtype=np.float32)
    assert audio.measure_lufs(silence, 22050) == float("-inf")
    assert np.array_equal(audio.loudness_normalize(silence, 22050), silence)
    assert audio.is_silent(silence)


def test_the_vendor_engine_needs_an_address(settings):
    settings.XASO_TTS_VENDOR_URL = ""
    with pytest.raises(EngineUnavailable):
        VendorEngine().synthesize("xin chào", "default")
