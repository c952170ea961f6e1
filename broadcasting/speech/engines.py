"""Speech engines: text (already normalised) in, mono samples out.

Every engine has a ``name``, its ``voices()`` as (id, label) pairs, and
``synthesize(text, voice, *, idempotency_key="", progress=None) -> (float32 samples, rate)``.
Long texts are read in pieces (sentences packed up to a length); ``progress(fraction)`` is
called after each piece.

* ``EspeakEngine`` ("espeak", the default): the eSpeak NG program (Debian package
  ``espeak-ng``) with its northern, central and southern Vietnamese voices.
* ``VendorEngine`` ("vendor"): a text-to-speech service over HTTP
  (``settings.XASO_TTS_VENDOR_URL``, ``XASO_TTS_VENDOR_KEY`` as a bearer token,
  ``XASO_TTS_VENDOR_TIMEOUT``). Each piece is a POST of ``{"text", "voice", "format": "wav"}`` with
  an ``Idempotency-Key`` header (the job's key and the piece's number), answered with WAV bytes.
  Timeouts, refused connections, 408, 429 and 5xx are passing failures (the job retries); other
  answers are final.

Further engines (a neural model on disk, say) register with ``register_engine(name, factory)``
and are chosen with ``settings.XASO_TTS_ENGINE``.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from typing import Callable, Protocol

import numpy as np
import requests
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from broadcasting.speech import audio
from jobs.exceptions import PermanentError, RetryableError

Progress = Callable[[float], None]


class Engine(Protocol):
    name: str

    def voices(self) -> list[tuple[str, str]]: ...

    def synthesize(self, text: str, voice: str, *, idempotency_key: str = "",
                   progress: Progress | None = None) -> tuple[np.ndarray, int]: ...


class EngineUnavailable(RetryableError):
    """The engine is not installed or not configured."""


# --- pieces of text -----------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def split_text(text: str, max_chars: int) -> list[str]:
    """Sentences packed into pieces of at most ``max_chars`` (a longer sentence is cut at commas,
    then at spaces)."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text.strip()):
        for part in _cut(sentence.strip(), max_chars):
            if not part:
                continue
            if current and len(current) + 1 + len(part) > max_chars:
                pieces.append(current)
                current = part
            else:
                current = f"{current} {part}".strip()
    if current:
        pieces.append(current)
    return pieces


def _cut(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    parts, current = [], ""
    for word in re.split(r"(?<=,)\s+|\s+", sentence):
        if current and len(current) + 1 + len(word) > max_chars:
            parts.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        parts.append(current)
    return parts


def _join(chunks: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    if not chunks:
        raise PermanentError(_("The voice produced no sound."))
    rate = chunks[0][1]
    parts = [audio.resample(samples, chunk_rate, rate) for samples, chunk_rate in chunks]
    return np.concatenate(parts).astype(np.float32), rate


# --- eSpeak NG ----------------------------------------------------------------------------

ESPEAK_VOICES = (
    ("vi", gettext_lazy("Machine voice, northern accent")),
    ("vi-vn-x-central", gettext_lazy("Machine voice, central accent")),
    ("vi-vn-x-south", gettext_lazy("Machine voice, southern accent")),
)


class EspeakEngine:
    """eSpeak NG, run as a program: text on standard input, a WAV stream on standard output."""

    name = "espeak"
    max_chars = 600

    def __init__(self, binary: str | None = None, rate: int | None = None, timeout: float | None = None):
        self.binary = binary or getattr(settings, "XASO_TTS_ESPEAK_BINARY", "") or shutil.which("espeak-ng") or ""
        self.rate = int(rate or getattr(settings, "XASO_TTS_ESPEAK_RATE", 160))
        self.timeout = float(timeout or getattr(settings, "XASO_TTS_ESPEAK_TIMEOUT", 60))

    def voices(self) -> list[tuple[str, str]]:
        return [(key, str(label)) for key, label in ESPEAK_VOICES]

    def synthesize(self, text: str, voice: str, *, idempotency_key: str = "",
                   progress: Progress | None = None) -> tuple[np.ndarray, int]:
        if voice not in dict(ESPEAK_VOICES):
            raise PermanentError(_("Unknown voice: %(voice)s") % {"voice": voice})
        if not self.binary:
            raise EngineUnavailable(_("eSpeak NG is not installed on this server (apt-get install espeak-ng)."))
        pieces = split_text(text, self.max_chars)
        chunks = []
        for index, piece in enumerate(pieces):
            chunks.append(self._one(piece, voice))
            if progress:
                progress((index + 1) / len(pieces))
        return _join(chunks)

    def _one(self, text: str, voice: str) -> tuple[np.ndarray, int]:
        command = [self.binary, "--stdout", "-b", "1", "-v", voice, "-s", str(self.rate)]
        try:
            done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=self.timeout,
                                  check=False)
        except FileNotFoundError as exc:
            raise EngineUnavailable(_("eSpeak NG is not installed on this server (apt-get install espeak-ng).")) from exc
        except subprocess.TimeoutExpired as exc:
            raise RetryableError(_("eSpeak NG took longer than %(seconds)s s.") % {"seconds": int(self.timeout)}) from exc
        if done.returncode != 0:
            raise PermanentError(_("eSpeak NG failed: %(error)s")
                                 % {"error": done.stderr.decode("utf-8", "replace").strip()[:300]})
        try:
            return audio.pcm16_wav_samples(done.stdout)
        except audio.AudioError as exc:
            raise PermanentError(_("eSpeak NG produced no audio.")) from exc


# --- a vendor's HTTP service --------------------------------------------------------------

RETRYABLE_STATUS = frozenset({408, 425, 429})


class VendorEngine:
    """A text-to-speech service over HTTP (JSON in, WAV out, bearer key, Idempotency-Key)."""

    name = "vendor"

    def __init__(self, url: str | None = None, key: str | None = None, timeout: float | None = None,
                 max_chars: int | None = None, session: requests.Session | None = None):
        self.url = url if url is not None else settings.XASO_TTS_VENDOR_URL
        self.key = key if key is not None else settings.XASO_TTS_VENDOR_KEY
        self.timeout = float(timeout or settings.XASO_TTS_VENDOR_TIMEOUT)
        self.max_chars = int(max_chars or getattr(settings, "XASO_TTS_VENDOR_MAX_CHARS", 2000))
        self.session = session or requests.Session()

    def voices(self) -> list[tuple[str, str]]:
        configured = getattr(settings, "XASO_TTS_VENDOR_VOICES", None) or []
        voices = []
        for entry in configured:
            key, _sep, label = str(entry).partition("=")
            if key.strip():
                voices.append((key.strip(), label.strip() or key.strip()))
        return voices or [("default", str(gettext_lazy("Voice of the speech service")))]

    def synthesize(self, text: str, voice: str, *, idempotency_key: str = "",
                   progress: Progress | None = None) -> tuple[np.ndarray, int]:
        if not self.url:
            raise EngineUnavailable(_("The speech service address (XASO_TTS_VENDOR_URL) is not set."))
        pieces = split_text(text, self.max_chars)
        chunks = []
        for index, piece in enumerate(pieces):
            if idempotency_key:
                key = f"{idempotency_key}:{index}"
            else:
                key = hashlib.sha256(f"{voice}\x00{piece}".encode()).hexdigest()
            chunks.append(self._one(piece, voice, key))
            if progress:
                progress((index + 1) / len(pieces))
        return _join(chunks)

    def _one(self, text: str, voice: str, key: str) -> tuple[np.ndarray, int]:
        headers = {"Idempotency-Key": key, "Accept": "audio/wav"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        try:
            response = self.session.post(self.url, json={"text": text, "voice": voice, "format": "wav"},
                                         headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise RetryableError(_("The speech service did not answer within %(seconds)s s.")
                                 % {"seconds": int(self.timeout)}) from exc
        except requests.RequestException as exc:  # refused, reset, DNS
            raise RetryableError(_("The speech service cannot be reached: %(error)s") % {"error": exc}) from exc
        status = response.status_code
        if status >= 500 or status in RETRYABLE_STATUS:
            raise RetryableError(_("The speech service is unavailable (HTTP %(status)s).") % {"status": status})
        if status >= 400:
            raise PermanentError(_("The speech service refused the text (HTTP %(status)s): %(detail)s")
                                 % {"status": status, "detail": _detail(response)})
        try:
            samples, rate = audio.decode(response.content)
        except audio.AudioError as exc:
            raise PermanentError(_("The speech service answered with something that is not audio.")) from exc
        return samples, rate


def _detail(response) -> str:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return response.text[:200]
    if isinstance(body, dict):
        for name in ("detail", "error", "message"):
            if body.get(name):
                return str(body[name])[:200]
    return str(body)[:200]


# --- the registry -------------------------------------------------------------------------

_ENGINES: dict[str, Callable[[], Engine]] = {
    EspeakEngine.name: EspeakEngine,
    VendorEngine.name: VendorEngine,
}


def register_engine(name: str, factory: Callable[[], Engine]) -> None:
    """Make an engine available under ``name`` (``factory()`` returns an instance)."""
    _ENGINES[name] = factory


def engine_names() -> list[str]:
    return list(_ENGINES)


def get_engine(name: str | None = None) -> Engine:
    """The engine called ``name`` (default ``settings.XASO_TTS_ENGINE``). LookupError if unknown."""
    name = name or settings.XASO_TTS_ENGINE
    try:
        factory = _ENGINES[name]
    except KeyError:
        raise LookupError(f"No speech engine called {name!r}") from None
    return factory()
