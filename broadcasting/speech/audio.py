"""Audio of the radio: decoding, loudness, MP3 (no Django import).

* ``decode``: MP3, WAV, OGG Vorbis or FLAC (recognised by their content, decoded by miniaudio)
  to mono float32 samples.
* ``measure_lufs``: integrated loudness after ITU-R BS.1770-4 (K-weighting filters of
  pyloudnorm, 400 ms blocks with 75 % overlap, absolute gate −70 LUFS and relative gate −10 LU),
  computed in slices so that a half-hour recording needs no more memory than its samples.
* ``loudness_normalize``: gain to the target (−16 LUFS by default) with a look-ahead peak
  limiter at −1 dBFS, so loud voices are not clipped; repeated until the result measures within
  0.1 LU of the target.
* ``encode_mp3``: mono MP3 (lameenc).
"""
from __future__ import annotations

import math

import lameenc
import miniaudio
import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter, resample_poly

MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
PEAK_CEILING_DB = -1.0
# Quieter than this (RMS, dBFS) is silence.
SILENCE_RMS_DB = -60.0
_SLICE = 1 << 18  # samples filtered at a time


class AudioError(ValueError):
    """The data is not audio this module can read (or is damaged)."""


# --- what the data is -------------------------------------------------------------------

def sniff(data: bytes) -> str | None:
    """"mp3", "wav", "ogg", "flac" from the first bytes, or None."""
    head = bytes(data[:12])
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 4 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        version, layer = (head[1] >> 3) & 0x03, (head[1] >> 1) & 0x03
        bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0x03
        if version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3:  # MPEG audio layer III
            return "mp3"
    return None


_INFO = {
    "mp3": miniaudio.mp3_get_info, "wav": miniaudio.wav_get_info, "ogg": miniaudio.vorbis_get_info,
    "flac": miniaudio.flac_get_info,
}


def info(data: bytes) -> tuple[str, int, float]:
    """(format, sample rate, duration in seconds), without decoding everything."""
    kind = sniff(data)
    if kind is None:
        raise AudioError("not audio")
    try:
        details = _INFO[kind](bytes(data))
    except miniaudio.MiniaudioError as exc:
        raise AudioError(f"damaged {kind}: {exc}") from exc
    if not details.sample_rate or not details.num_frames:
        raise AudioError(f"empty {kind}")
    return kind, int(details.sample_rate), float(details.num_frames) / float(details.sample_rate)


def decode(data: bytes, *, rate: int | None = None) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate (``rate``: resample to it; default the file's own)."""
    kind, native, _seconds = info(data)
    rate = int(rate or native)
    try:
        decoded = miniaudio.decode(bytes(data), output_format=miniaudio.SampleFormat.FLOAT32, nchannels=1,
                                   sample_rate=rate)
    except miniaudio.MiniaudioError as exc:
        raise AudioError(f"damaged {kind}: {exc}") from exc
    samples = np.frombuffer(decoded.samples, dtype=np.float32)
    if not samples.size:
        raise AudioError(f"empty {kind}")
    return samples, rate


def duration_of(data: bytes) -> float:
    """Seconds of audio in ``data`` (any format ``decode`` reads)."""
    return info(data)[2]


def pcm16_wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Samples of a 16-bit PCM WAV whose size fields may be wrong (a stream written to a pipe
    does not know its length in advance): the data chunk runs to the end."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("not a WAV stream")
    at, rate, channels, bits = 12, 0, 1, 16
    while at + 8 <= len(data):
        chunk, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        body = at + 8
        if chunk == b"fmt ":
            channels = int.from_bytes(data[body + 2:body + 4], "little")
            rate = int.from_bytes(data[body + 4:body + 8], "little")
            bits = int.from_bytes(data[body + 14:body + 16], "little")
        elif chunk == b"data":
            if not rate or bits != 16 or channels < 1:
                raise AudioError("unsupported WAV stream")
            pcm = data[body:]
            pcm = pcm[:len(pcm) - len(pcm) % (2 * channels)]
            samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
            if channels > 1:
                samples = samples.reshape(-1, channels).mean(axis=1).astype(np.float32)
            return samples, rate
        at = body + size + (size & 1)
    raise AudioError("no audio data in the WAV stream")


# --- loudness -----------------------------------------------------------------------------

def _k_weighting(rate: int):
    meter = pyloudnorm.Meter(rate)  # the BS.1770 "K-weighting" filters of pyloudnorm
    return [(stage.b, stage.a) for stage in meter._filters.values()]


def _block_energies(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mean square of the K-weighted signal per 100 ms (a quarter of a 400 ms gating block)."""
    step = int(round(0.1 * rate))
    filters = _k_weighting(rate)
    states = [np.zeros(max(len(a), len(b)) - 1) for b, a in filters]
    sums: list[np.ndarray] = []
    carry = np.zeros(0)
    for start in range(0, len(samples), _SLICE):
        piece = np.asarray(samples[start:start + _SLICE], dtype=np.float64)
        for index, (b, a) in enumerate(filters):
            piece, states[index] = lfilter(b, a, piece, zi=states[index])
        piece = np.concatenate([carry, piece]) if carry.size else piece
        whole = len(piece) - len(piece) % step
        if whole:
            sums.append(np.square(piece[:whole]).reshape(-1, step).sum(axis=1))
        carry = piece[whole:]
    return np.concatenate(sums) / step if sums else np.zeros(0)


def measure_lufs(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of mono samples; −inf for silence."""
    quarters = _block_energies(samples, rate)
    if quarters.size < 4:
        # shorter than one gating block: the mean square of what there is
        energy = quarters.mean() if quarters.size else 0.0
        return -0.691 + 10 * math.log10(energy) if energy > 0 else float("-inf")
    blocks = (quarters[:-3] + quarters[1:-2] + quarters[2:-1] + quarters[3:]) / 4.0
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(blocks)
    gated = blocks[loudness >= -70.0]
    if not gated.size:
        return float("-inf")
    relative = -0.691 + 10 * math.log10(gated.mean()) - 10.0
    gated = blocks[(loudness > relative) & (loudness > -70.0)]
    if not gated.size:
        return float("-inf")
    return float(-0.691 + 10 * math.log10(gated.mean()))


def rms_db(samples: np.ndarray) -> float:
    if not len(samples):
        return float("-inf")
    energy = float(np.mean(np.square(samples, dtype=np.float64)))
    return 10 * math.log10(energy) if energy > 0 else float("-inf")


def is_silent(samples: np.ndarray) -> bool:
    return rms_db(samples) < SILENCE_RMS_DB


def limit_peaks(samples: np.ndarray, rate: int, ceiling_db: float = PEAK_CEILING_DB, *, gain: float = 1.0,
                attack: float = 0.005, hold: float = 0.02, out: np.ndarray | None = None) -> np.ndarray:
    """``samples × gain`` through a look-ahead limiter: the gain falls over ``attack`` before a
    peak above the ceiling and comes back after ``hold``; the result never exceeds the ceiling.

    Works slice by slice (with enough overlap that the result is the same as on the whole), so a
    long recording needs one output array and no large temporaries; quiet slices cost a copy.
    """
    ceiling = np.float32(10 ** (ceiling_db / 20))
    samples = np.asarray(samples, dtype=np.float32)
    total = len(samples)
    if out is None:
        out = np.empty(total, dtype=np.float32)
    ahead, behind = max(1, int(attack * rate)), max(1, int(hold * rate))
    size = ahead + behind + 1
    pad = behind + 2 * ahead + 1
    factor = np.float32(gain)
    for start in range(0, total, _SLICE):
        stop = min(total, start + _SLICE)
        low, high = max(0, start - pad), min(total, stop + pad)
        piece = samples[low:high] * factor
        magnitude = np.abs(piece)
        if float(magnitude.max(initial=0.0)) <= ceiling:
            out[start:stop] = piece[start - low:stop - low]
            continue
        needed = np.minimum(np.float32(1.0), ceiling / np.maximum(magnitude, np.float32(1e-12)))
        # the smallest gain needed from ``ahead`` samples before to ``behind`` samples after …
        smooth = minimum_filter1d(needed, size=size, origin=behind - size // 2, mode="nearest")
        # … averaged over ±ahead, which stays below what each sample needs
        smooth = uniform_filter1d(smooth, size=2 * ahead + 1, mode="nearest")
        piece *= smooth
        np.clip(piece, -ceiling, ceiling, out=piece)
        out[start:stop] = piece[start - low:stop - low]
    return out


def loudness_normalize(samples: np.ndarray, rate: int, target_lufs: float = -16.0, *,
                       ceiling_db: float = PEAK_CEILING_DB, tolerance: float = 0.1, max_gain_db: float = 40.0,
                       passes: int = 8) -> np.ndarray:
    """Samples at ``target_lufs`` integrated loudness, peaks limited to ``ceiling_db``.

    Silence is returned as it is. The limiter takes loudness off the loud parts, so the gain is
    searched (secant steps on the measured loudness) until the result is within ``tolerance``.
    """
    samples = np.asarray(samples, dtype=np.float32)
    measured = measure_lufs(samples, rate)
    if not math.isfinite(measured):
        return samples
    work = np.empty(len(samples), dtype=np.float32)
    best: tuple[float, np.ndarray] | None = None
    gain = min(target_lufs - measured, max_gain_db)
    previous = None
    for _ in range(passes):
        limit_peaks(samples, rate, ceiling_db, gain=10 ** (gain / 20), out=work)
        reached = measure_lufs(work, rate)
        miss = abs(reached - target_lufs) if math.isfinite(reached) else float("inf")
        if best is None or miss < best[0]:
            spare = best[1] if best is not None else np.empty(len(samples), dtype=np.float32)
            best, work = (miss, work), spare
        if miss <= tolerance or not math.isfinite(reached):
            break
        if previous is not None and abs(reached - previous[1]) > 1e-3:
            slope = (gain - previous[0]) / (reached - previous[1])
            step = (target_lufs - reached) * min(max(slope, 1.0), 4.0)
        else:
            step = target_lufs - reached
        previous = (gain, reached)
        gain = min(gain + step, max_gain_db)
    return best[1]


# --- MP3 ----------------------------------------------------------------------------------

def mp3_rate(rate: int) -> int:
    """The MP3 sample rate a signal at ``rate`` is encoded at (the nearest one not below it)."""
    for candidate in MP3_RATES:
        if candidate >= rate:
            return candidate
    return MP3_RATES[-1]


def resample(samples: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    if rate == new_rate:
        return samples
    divisor = math.gcd(int(rate), int(new_rate))
    return resample_poly(samples, new_rate // divisor, rate // divisor).astype(np.float32)


def encode_mp3(samples: np.ndarray, rate: int, *, bitrate: int = 64, quality: int = 5) -> bytes:
    """Mono MP3 (constant ``bitrate`` kbit/s) of float samples in [−1, 1]."""
    target_rate = mp3_rate(int(rate))
    samples = resample(np.asarray(samples, dtype=np.float32), int(rate), target_rate)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(int(bitrate))
    encoder.set_in_sample_rate(target_rate)
    encoder.set_channels(1)
    encoder.set_quality(int(quality))
    out = bytearray()
    for start in range(0, len(samples), _SLICE):
        piece = np.clip(samples[start:start + _SLICE], -1.0, 1.0)
        pcm = np.round(piece * 32767.0).astype("<i2")
        out += encoder.encode(pcm.tobytes())
    out += encoder.flush()
    return bytes(out)


def render_mp3(samples: np.ndarray, rate: int, target_lufs: float = -16.0, *, bitrate: int = 64,
               tolerance: float = 0.25, passes: int = 3) -> tuple[bytes, float, float]:
    """Loudness-normalised mono MP3 of ``samples``, checked by decoding it again.

    MP3 encoding takes a little off the highs (and so off the K-weighted loudness): the loudness
    of the decoded MP3 is measured, and the gain corrected when it misses the target by more than
    ``tolerance``. For a long signal, what the encoder takes off is first learnt on an excerpt,
    so the whole is usually encoded once. Returns (mp3 bytes, measured LUFS of the decoded MP3,
    duration in seconds).
    """
    aim = target_lufs
    excerpt_seconds = 30
    if len(samples) > 2 * excerpt_seconds * rate:
        middle = len(samples) // 2
        excerpt = loudness_normalize(samples[middle - excerpt_seconds * rate // 2:middle + excerpt_seconds * rate // 2],
                                     rate, target_lufs)
        before = measure_lufs(excerpt, rate)
        after = measure_lufs(*decode(encode_mp3(excerpt, rate, bitrate=bitrate)))
        if math.isfinite(before) and math.isfinite(after):
            aim += max(-3.0, min(3.0, before - after))
    best: tuple[bytes, float, float] | None = None
    for _ in range(passes):
        data = encode_mp3(loudness_normalize(samples, rate, aim), rate, bitrate=bitrate)
        decoded, decoded_rate = decode(data)
        measured = measure_lufs(decoded, decoded_rate)
        result = (data, measured, len(decoded) / decoded_rate)
        del decoded
        if best is None or abs(measured - target_lufs) < abs(best[1] - target_lufs):
            best = result
        if not math.isfinite(measured) or abs(measured - target_lufs) <= tolerance:
            break
        aim += target_lufs - measured
    return best
