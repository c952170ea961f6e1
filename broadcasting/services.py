"""Writes of the commune radio: the only place where bulletins, clusters, slots, emergencies,
heartbeats and the as-run log change.

Each function takes the acting user where a person acts, checks the role
(``broadcasting.permissions``; a wrong role is ``PermissionDenied``) and the input
(``ValidationError`` with a dict of field → message), then writes in one transaction.

* Bulletins: ``create_bulletin`` / ``update_bulletin`` (text is checked — not empty, not too
  long, only characters the voice can say — and its speech is requested at once; or an uploaded
  recording), ``submit_bulletin`` → ``approve_bulletin`` or ``reject_bulletin``;
  ``withdraw_bulletin`` takes it off the air.
* Clusters: ``create_cluster`` (returns the device token once), ``update_cluster``,
  ``rotate_token``, ``revoke_token``; ``device_for_token`` finds the cluster of a device's token
  (SHA-256, constant-time comparison; a revoked token finds nothing).
* Slots: ``create_slot`` / ``update_slot`` / ``delete_slot``, per-day exceptions
  (``add_slot_exception``: cancel, move or an extra window; ``delete_slot_exception``),
  ``slots_for_day`` and ``ensure_default_slots``.
* ``send_emergency`` / ``cancel_emergency`` (leaders only): devices learn it on their next poll.
* Devices: ``record_heartbeat`` (throttled: code ``throttled``; kept in Redis and written by beat
  with ``write_heartbeats``, or at once without Redis), ``record_as_run`` (idempotent).

Refusals carry a code: ``CONFLICT_CODES`` are conflicts with the current state (409 in the API),
``throttled`` is 429, ``not_found`` 404, every other code bad input (400).
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import re
import secrets
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from django.db import models

from broadcasting import device_cache, permissions
from broadcasting.models import (
    CATEGORY_PRIORITY, AsRunEntry, AudioAsset, Bulletin, BulletinState, Category, Cluster, Emergency, Heartbeat,
    Pronunciation, Slot, SlotException,
)
from core.text import clean_text
from core.validation import error_code  # noqa: F401  (the API reads it here)
from core.validation import refuse as _error

logger = logging.getLogger(__name__)

CONFLICT_CODES = frozenset({"wrong_state", "already_cancelled", "revoked"})
MAX_DB_ID = 2**63 - 1
MAX_TITLE = 200
MAX_NOTE = 2000
MAX_TARGETS = 500
MAX_VALIDITY_DAYS = 366
MAX_AS_RUN_ENTRIES = 500
MAX_AS_RUN_SECONDS = 6 * 3600
# A device clock may run a little ahead of the server's.
CLOCK_SKEW = datetime.timedelta(minutes=10)
EDITABLE_STATES = (BulletinState.DRAFT, BulletinState.REJECTED)
EXCEPTION_KINDS = ("cancel", "move", "extra")
_TIME = re.compile(r"^\s*([01]?\d|2[0-3])[:hH]([0-5]\d)\s*$")


# --- small helpers -------------------------------------------------------------------------------

class _Errors:
    """Collects field errors so one answer names every bad field."""

    def __init__(self):
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message, code: str = "invalid") -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def merge(self, field: str, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for key, errors in exc.error_dict.items():
                target = field if key == "__all__" else key
                self.errors.setdefault(target, []).extend(errors)
        else:
            self.errors.setdefault(field, []).extend(exc.error_list)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def tz():
    return timezone.get_default_timezone()


def local_datetime(day: datetime.date, clock: datetime.time) -> datetime.datetime:
    """An aware datetime of the commune's clock (Vietnam time)."""
    return datetime.datetime.combine(day, clock).replace(tzinfo=tz())


def parse_date(value, field: str, errors: _Errors) -> datetime.date | None:
    """dd/mm/yyyy (as people write it), yyyy-mm-dd, or a date."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    text = clean_text(value) if isinstance(value, str) else ""
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            day = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if day.year < 2000 or day.year > 2200:
            break
        return day
    errors.add(field, _("Enter a valid date (dd/mm/yyyy)."), "invalid_date")
    return None


def parse_time(value, field: str, errors: _Errors) -> datetime.time | None:
    """HH:MM (07:30, 7h30) or a time."""
    if isinstance(value, datetime.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        errors.add(field, _("Enter a valid time (HH:MM)."), "invalid_time")
        return None
    return datetime.time(int(match.group(1)), int(match.group(2)))


def parse_datetime(value, field: str, errors: _Errors) -> datetime.datetime | None:
    """An ISO 8601 date and time (a device's clock); without an offset it is Vietnam time."""
    from django.utils.dateparse import parse_datetime as django_parse

    parsed = None
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            parsed = django_parse(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        errors.add(field, _("Enter a valid date and time (ISO 8601, e.g. 2026-11-05T05:00:00+07:00)."),
                   "invalid_datetime")
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz())
    return parsed


def parse_int(value, field: str, errors: _Errors, *, low: int, high: int, message=None) -> int | None:
    if isinstance(value, bool):
        value = None
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        errors.add(field, message or _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
                   "out_of_range")
        return None
    return number


def parse_ids(value, field: str, errors: _Errors) -> list[int] | None:
    """A list of database ids (a list, or "1,2,3")."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or len(value) > MAX_TARGETS:
        errors.add(field, _("Send a list of ids."), "invalid")
        return None
    ids = []
    for item in value:
        if isinstance(item, bool):
            item = None
        try:
            pk = int(str(item).strip()) if item is not None else 0
        except ValueError:
            pk = 0
        if not 0 < pk <= MAX_DB_ID:
            errors.add(field, _("Send a list of ids."), "invalid")
            return None
        ids.append(pk)
    return sorted(set(ids))


def _text(value) -> str:
    """A short text field cleaned; anything but a string (a list, an object) counts as empty."""
    return clean_text(value) if isinstance(value, str) else ""


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _invalidate(**kwargs) -> None:
    from broadcasting import scheduler

    scheduler.invalidate(**kwargs)


# --- text and speech -------------------------------------------------------------------------------

def max_chars() -> int:
    return int(settings.XASO_TTS_MAX_CHARS)


def available_voices() -> list[tuple[str, str]]:
    """(voice id, label) of the engine in use."""
    from broadcasting.audio_services import available_voices as voices

    return voices()


def check_text(text: str, field: str, errors: _Errors, *, required: bool = True) -> str:
    """The text cleaned (NFC, no NUL, trimmed) or an error: empty, too long, unsayable."""
    import unicodedata

    from broadcasting.speech.normalize import unsayable

    if text is not None and not isinstance(text, str):
        errors.add(field, _("The text is not valid."), "invalid")
        return ""
    text = unicodedata.normalize("NFC", text or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not text:
        if required:
            errors.add(field, _("Write the text of the bulletin (or upload a recording)."), "empty_text")
        return ""
    if len(text) > max_chars():
        errors.add(field, _("The text is too long: %(length)s characters, at most %(limit)s.") % {
            "length": f"{len(text):,}".replace(",", "."), "limit": f"{max_chars():,}".replace(",", ".")},
            "text_too_long")
        return text
    from broadcasting.pronunciations import commune_pronunciations

    mapping, insensitive = commune_pronunciations()
    bad = unsayable(text, pronunciations=mapping, case_insensitive=insensitive)
    if bad:
        shown = ", ".join(f"“{ch}”" for ch in list(dict.fromkeys(bad))[:20])
        errors.add(field, _("The voice cannot read these characters: %(chars)s. Remove them or write them in words.")
                   % {"chars": shown}, "unsayable")
    return text


def check_voice(value, field: str, errors: _Errors) -> str:
    """The voice id of the engine in use (its default when empty)."""
    from broadcasting.audio_services import resolve_voice

    if value is not None and not isinstance(value, str):
        errors.add(field, _("Choose a voice."), "invalid_choice")
        return settings.XASO_TTS_VOICE
    try:
        _engine, voice = resolve_voice(clean_text(value)[:60] or None)
    except ValidationError as exc:
        errors.merge(field, exc)
        return clean_text(value)[:60]
    return voice


def _request_speech(bulletin: Bulletin, user) -> AudioAsset:
    from broadcasting.audio_services import request_speech

    asset = request_speech(text=bulletin.text, voice=bulletin.voice or None, user=user)
    bulletin.asset = asset
    bulletin.normalized_text = asset.text
    if not (asset.text or "").strip():
        raise _error(_("There is nothing to read in this text."), "empty_text", "text")
    return asset


# --- bulletins -------------------------------------------------------------------------------------

def _apply_bulletin_data(bulletin: Bulletin, data: dict, *, creating: bool, errors: _Errors) -> dict:
    """Check ``data`` and copy it onto ``bulletin`` (unsaved). Returns what else to do."""
    if not isinstance(data, dict):
        errors.add("__all__", _("The data sent are not valid."))
        return {}
    present = (lambda key: True) if creating else (lambda key: key in data)
    todo: dict = {}

    if present("title"):
        title = _text(data.get("title"))
        if not title:
            errors.add("title", _("Give the bulletin a title."), "required")
        elif len(title) > MAX_TITLE:
            errors.add("title", _("The title is too long: at most %(limit)s characters.") % {"limit": MAX_TITLE},
                       "too_long")
        bulletin.title = title[:MAX_TITLE]

    old_category = bulletin.category
    if present("category") and data.get("category") not in (None, ""):
        category = data.get("category")
        if category not in Category.values:
            errors.add("category", _("Choose one of the categories: %(choices)s.") % {
                "choices": ", ".join(str(label) for _value, label in Category.choices)}, "invalid_choice")
        else:
            bulletin.category = category
    if "priority" in data and data.get("priority") not in (None, ""):
        priority = parse_int(data.get("priority"), "priority", errors, low=0, high=100)
        if priority is not None:
            bulletin.priority = priority
    elif creating or bulletin.category != old_category:
        bulletin.priority = CATEGORY_PRIORITY.get(bulletin.category, 30)

    old_voice, old_text = bulletin.voice, bulletin.text
    if present("voice"):
        bulletin.voice = check_voice(data.get("voice"), "voice", errors)

    upload = data.get("upload") or None
    if upload is not None and not (hasattr(upload, "read") and hasattr(upload, "name")):
        errors.add("upload", _("Upload an audio file."), "invalid")
        upload = None
    if creating or "text" in data:
        required = upload is None and (creating or not bulletin.uploaded_audio)
        bulletin.text = check_text(data.get("text"), "text", errors, required=required)
    if upload is not None:
        todo["upload"] = upload
    elif bulletin.text and (creating or bulletin.text != old_text or (
            not bulletin.uploaded_audio and (bulletin.voice != old_voice or not bulletin.asset_id))):
        # A recording stays what airs until its text is changed: then the voice reads the new text.
        todo["speech"] = True

    if present("valid_from") or present("valid_until"):
        today = timezone.localdate()
        start = parse_date(data["valid_from"], "valid_from", errors) if data.get("valid_from") not in (None, "") \
            else (bulletin.valid_from if not creating and bulletin.valid_from else today)
        if data.get("valid_until") not in (None, ""):
            end = parse_date(data["valid_until"], "valid_until", errors)
        elif not creating and bulletin.valid_until and start and bulletin.valid_until >= start:
            end = bulletin.valid_until
        else:
            end = start
        if start and end:
            if end < start:
                errors.add("valid_until", _("The last day is before the first day."), "invalid_range")
            elif (end - start).days > MAX_VALIDITY_DAYS:
                errors.add("valid_until", _("A bulletin can be valid for at most a year."), "invalid_range")
            elif end < today:
                errors.add("valid_until", _("The last day has passed: the bulletin would never air."), "in_past")
            bulletin.valid_from, bulletin.valid_until = start, end

    if present("repeats_per_day") and data.get("repeats_per_day") not in (None, ""):
        repeats = parse_int(data.get("repeats_per_day"), "repeats_per_day", errors, low=1, high=20,
                            message=_("Times a day: a whole number from 1 to 20."))
        if repeats is not None:
            bulletin.repeats_per_day = repeats

    for key, model_name in (("village_ids", "villages"), ("cluster_ids", "clusters")):
        if present(key):
            ids = parse_ids(data.get(key), key, errors)
            if ids is None:
                continue
            if model_name == "villages":
                from population.models import Village

                found = set(Village.objects.filter(pk__in=ids).values_list("pk", flat=True))
            else:
                found = set(Cluster.objects.filter(pk__in=ids).values_list("pk", flat=True))
            missing = [pk for pk in ids if pk not in found]
            if missing:
                message = _("There is no village with the id %(ids)s.") if model_name == "villages" else \
                    _("There is no cluster with the id %(ids)s.")
                errors.add(key, message % {"ids": ", ".join(map(str, missing[:10]))}, "not_found_target")
            else:
                todo[model_name] = ids
    return todo


def _save_bulletin(bulletin: Bulletin, todo: dict, user) -> Bulletin:
    from broadcasting.audio_services import import_uploaded_audio

    if todo.get("upload") is not None:
        upload = todo["upload"]
        try:
            asset = import_uploaded_audio(upload=upload, user=user)
        except ValidationError as exc:
            errors = _Errors()
            errors.merge("upload", exc)
            raise ValidationError({"upload": [e for errs in errors.errors.values() for e in errs]}) from None
        bulletin.asset = asset
        bulletin.uploaded_audio = clean_text(getattr(upload, "name", "") or asset.key)[:300]
        bulletin.normalized_text = ""
    elif todo.get("speech"):
        bulletin.uploaded_audio = ""
        _request_speech(bulletin, user)
    bulletin.full_clean(exclude=["villages", "clusters", "asset", "created_by", "decided_by", "normalized_text"])
    bulletin.save()
    if "villages" in todo:
        bulletin.villages.set(todo["villages"])
    if "clusters" in todo:
        bulletin.clusters.set(todo["clusters"])
    return bulletin


def create_bulletin(*, user, data: dict) -> Bulletin:
    """A new bulletin (draft), from text — its speech is requested at once — or an uploaded recording."""
    permissions.require(user, "bulletin.write")
    bulletin = Bulletin(created_by=user, state=BulletinState.DRAFT)
    errors = _Errors()
    todo = _apply_bulletin_data(bulletin, data, creating=True, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        return _save_bulletin(bulletin, todo, user)


def update_bulletin(*, bulletin: Bulletin, user, data: dict) -> Bulletin:
    """Change a draft or a bulletin sent back (which becomes a draft again)."""
    permissions.require(user, "bulletin.write")
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if bulletin.state not in EDITABLE_STATES:
            raise _wrong_state(bulletin)
        errors = _Errors()
        todo = _apply_bulletin_data(bulletin, data, creating=False, errors=errors)
        errors.raise_if_any()
        bulletin.state = BulletinState.DRAFT
        return _save_bulletin(bulletin, todo, user)


def _wrong_state(bulletin: Bulletin) -> ValidationError:
    return _error(_("This is not possible while the bulletin is “%(state)s”.") % {
        "state": bulletin.get_state_display()}, "wrong_state")


def _locked(bulletin: Bulletin) -> Bulletin:
    return Bulletin.objects.select_for_update().get(pk=bulletin.pk)


def submit_bulletin(*, bulletin: Bulletin, user) -> Bulletin:
    """Send a draft to the leaders for approval."""
    permissions.require(user, "bulletin.write")
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.state not in EDITABLE_STATES:
            raise _wrong_state(bulletin)
        if not bulletin.asset_id:
            raise _error(_("The bulletin has no text and no recording."), "empty_text", "text")
        if bulletin.valid_until < timezone.localdate():
            raise _error(_("The last day has passed: the bulletin would never air."), "in_past", "valid_until")
        bulletin.state = BulletinState.SUBMITTED
        bulletin.submitted_at = timezone.now()
        bulletin.save(update_fields=["state", "submitted_at"])
    return bulletin


def approve_bulletin(*, bulletin: Bulletin, user, note: str = "") -> Bulletin:
    """The leader's approval: the bulletin airs from its first day."""
    permissions.require(user, "bulletin.approve")
    note = clean_text(note)[:MAX_NOTE] if isinstance(note, str) else ""
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.state != BulletinState.SUBMITTED:
            raise _wrong_state(bulletin)
        _approve(bulletin, user, note)
        _invalidate(bulletin=bulletin)
    return bulletin


def _approve(bulletin: Bulletin, user, note: str) -> None:
    bulletin.state = BulletinState.APPROVED
    bulletin.decided_by = user
    bulletin.decided_at = timezone.now()
    bulletin.decision_note = note
    bulletin.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])


def reject_bulletin(*, bulletin: Bulletin, user, note: str) -> Bulletin:
    """Send the bulletin back to its writer, saying why."""
    permissions.require(user, "bulletin.approve")
    note = clean_text(note) if isinstance(note, str) else ""
    if not note:
        raise _error(_("Say why the bulletin is sent back."), "required", "note")
    if len(note) > MAX_NOTE:
        raise _error(_("The note is too long: at most %(limit)s characters.") % {"limit": MAX_NOTE}, "too_long", "note")
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.state != BulletinState.SUBMITTED:
            raise _wrong_state(bulletin)
        bulletin.state = BulletinState.REJECTED
        bulletin.decided_by = user
        bulletin.decided_at = timezone.now()
        bulletin.decision_note = note
        bulletin.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    return bulletin


def withdraw_bulletin(*, bulletin: Bulletin, user) -> Bulletin:
    """Take a bulletin off the air (its writer or a leader); playlists from now on lose it."""
    if not (permissions.can(user, "bulletin.write") or permissions.can(user, "bulletin.approve")):
        raise PermissionDenied
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.state == BulletinState.WITHDRAWN:
            raise _wrong_state(bulletin)
        was_approved = bulletin.state == BulletinState.APPROVED
        bulletin.state = BulletinState.WITHDRAWN
        bulletin.save(update_fields=["state"])
        Emergency.objects.filter(bulletin=bulletin, cancelled_at__isnull=True, until__gt=timezone.now()).update(
            cancelled_at=timezone.now())
        if was_approved:
            _invalidate(bulletin=bulletin)
    return bulletin


# --- clusters and device tokens --------------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token(cluster: Cluster) -> str:
    token = secrets.token_urlsafe(32)
    cluster.token_hash = hash_token(token)
    cluster.token_hint = token[:6]
    cluster.token_issued_at = timezone.now()
    cluster.token_revoked_at = None
    return token


def _apply_cluster_data(cluster: Cluster, data: dict, *, creating: bool, errors: _Errors) -> None:
    if not isinstance(data, dict):
        errors.add("__all__", _("The data sent are not valid."))
        return
    present = (lambda key: True) if creating else (lambda key: key in data)
    if present("name"):
        name = _text(data.get("name"))
        if not name:
            errors.add("name", _("Give the cluster a name."), "required")
        elif len(name) > 100:
            errors.add("name", _("The name is too long: at most %(limit)s characters.") % {"limit": 100}, "too_long")
        cluster.name = name[:100]
    if present("village_id") or (creating and "village" in data):
        from population.models import Village

        raw = data.get("village_id", data.get("village"))
        raw = getattr(raw, "pk", raw)  # a Village itself is fine too
        pk = parse_int(raw, "village_id", _Errors(), low=1, high=MAX_DB_ID) if raw not in (None, "") else None
        village = Village.objects.filter(pk=pk).first() if pk else None
        if village is None:
            errors.add("village_id", _("Choose the village of the cluster."), "required")
        else:
            cluster.village = village
    for key, limit in (("latitude", 90), ("longitude", 180)):
        if present(key):
            raw = data.get(key)
            if raw in (None, ""):
                setattr(cluster, key, None)
                continue
            try:
                value = Decimal(str(raw).replace(",", ".")).quantize(Decimal("0.000001"))
            except (InvalidOperation, ValueError):
                value = None
            if value is None or not value.is_finite() or abs(value) > limit:
                errors.add(key, _("Enter a number from -%(limit)s to %(limit)s.") % {"limit": limit}, "out_of_range")
            else:
                setattr(cluster, key, value)
    if present("speakers") and data.get("speakers") not in (None, ""):
        speakers = parse_int(data.get("speakers"), "speakers", errors, low=1, high=100)
        if speakers is not None:
            cluster.speakers = speakers
    if "active" in data:
        cluster.active = _truthy(data.get("active"))


def _save_cluster(cluster: Cluster) -> None:
    try:
        with transaction.atomic():
            cluster.save()
    except IntegrityError:
        raise _error(_("This village already has a cluster with this name."), "duplicate", "name") from None


def create_cluster(*, user, data: dict) -> tuple[Cluster, str]:
    """A new cluster and its device token (shown once: only its hash is kept)."""
    permissions.require(user, "cluster.manage")
    cluster = Cluster()
    errors = _Errors()
    _apply_cluster_data(cluster, data, creating=True, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        token = _new_token(cluster)
        _save_cluster(cluster)
        ensure_default_slots()
    logger.debug("Radio cluster %s created by user %s", cluster.pk, getattr(user, "pk", None))
    return cluster, token


def update_cluster(*, cluster: Cluster, user, data: dict) -> Cluster:
    permissions.require(user, "cluster.manage")
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
        village_before = cluster.village_id
        errors = _Errors()
        _apply_cluster_data(cluster, data, creating=False, errors=errors)
        errors.raise_if_any()
        _save_cluster(cluster)
        if cluster.village_id != village_before or not cluster.active:
            _invalidate(clusters=[cluster.pk])
    return cluster


def rotate_token(*, cluster: Cluster, user) -> str:
    """A new token for the device; the old one stops working at once."""
    permissions.require(user, "cluster.manage")
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
        token = _new_token(cluster)
        cluster.save(update_fields=["token_hash", "token_hint", "token_issued_at", "token_revoked_at"])
    logger.info("Device token of radio cluster %s rotated by user %s", cluster.pk, getattr(user, "pk", None))
    return token


def revoke_token(*, cluster: Cluster, user) -> Cluster:
    """The device's token stops working (a stolen or retired receiver); rotate to issue a new one."""
    permissions.require(user, "cluster.manage")
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if cluster.token_revoked_at is not None:
            raise _error(_("The token of this cluster is already revoked."), "revoked")
        cluster.token_revoked_at = timezone.now()
        cluster.save(update_fields=["token_revoked_at"])
    logger.info("Device token of radio cluster %s revoked by user %s", cluster.pk, getattr(user, "pk", None))
    return cluster


def device_for_token(token: str) -> Cluster | None:
    """The active cluster whose current token this is; None for a wrong, revoked or empty token."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    digest = hash_token(token)
    cluster = Cluster.objects.filter(token_hash=digest, token_revoked_at__isnull=True, active=True) \
        .select_related("village").first()
    if cluster is None or not hmac.compare_digest(cluster.token_hash, digest):
        return None
    return cluster


# --- heartbeats and the as-run log -----------------------------------------------------------------

def heartbeat_min_seconds() -> int:
    return int(settings.XASO_RADIO_HEARTBEAT_MIN_SECONDS)


def record_heartbeat(*, cluster: Cluster, data: dict) -> Heartbeat:
    """The device is alive: status, volume (0–100 %), signal (dBm), firmware. Heartbeats closer
    together than XASO_RADIO_HEARTBEAT_MIN_SECONDS are refused (code ``throttled``)."""
    errors = _Errors()
    if not isinstance(data, dict):
        raise _error(_("The data sent are not valid."))
    status = data.get("status", "")
    if not isinstance(status, str) or len(status.strip()) > 30:
        errors.add("status", _("The status is at most 30 characters."), "invalid")
        status = ""
    firmware = data.get("firmware", "")
    if not isinstance(firmware, str) or len(firmware.strip()) > 60:
        errors.add("firmware", _("The firmware version is at most 60 characters."), "invalid")
        firmware = ""
    volume = data.get("volume")
    if volume not in (None, ""):
        volume = parse_int(volume, "volume", errors, low=0, high=100, message=_("The volume is from 0 to 100."))
    else:
        volume = None
    signal = data.get("signal")
    if signal not in (None, ""):
        signal = parse_int(signal, "signal", errors, low=-200, high=0,
                           message=_("The signal is in dBm, from -200 to 0."))
    else:
        signal = None
    errors.raise_if_any()
    now = timezone.now()
    wait = heartbeat_min_seconds()
    status, firmware = clean_text(status), clean_text(firmware)
    try:  # kept in Redis, written by the beat task (``write_heartbeats``): the device is not kept waiting
        left = device_cache.queue_heartbeat(cluster.pk, {
            "at": now.isoformat(), "status": status, "volume": volume, "signal": signal, "firmware": firmware,
        }, wait)
    except device_cache.Unavailable:
        pass  # without Redis: written now, as below
    else:
        if left is not None:
            raise _throttled(wait, wait - left)
        return Heartbeat(cluster_id=cluster.pk, at=now, status=status, volume=volume, signal=signal,
                         firmware=firmware)
    with transaction.atomic():
        locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
        last = locked.last_heartbeat_at
        if last is not None and (now - last).total_seconds() < wait:
            raise _throttled(wait, (now - last).total_seconds())
        beat = Heartbeat.objects.create(cluster=locked, at=now, status=clean_text(status), volume=volume,
                                        signal=signal, firmware=clean_text(firmware))
        locked.last_heartbeat_at = now
        locked.last_status = {"status": beat.status, "volume": volume, "signal": signal, "firmware": beat.firmware,
                              "at": now.isoformat()}
        locked.skip_history_when_saving = True  # the history keeps changes of the cluster, not its pulse
        locked.save(update_fields=["last_heartbeat_at", "last_status"])
    cluster.last_heartbeat_at, cluster.last_status = locked.last_heartbeat_at, locked.last_status
    return beat


def _throttled(wait: int, elapsed: float) -> ValidationError:
    exc = _error(_("Too many heartbeats: send one every %(seconds)s seconds at most.") % {"seconds": wait},
                 "throttled")
    exc.retry_after = max(1, int(wait - elapsed + 0.999))
    return exc


def write_heartbeats(records: list[dict]) -> int:
    """Write heartbeats kept in Redis (``device_cache.queue_heartbeat``) into the current
    commune: their rows, and each cluster's last heartbeat and status when it is newer than
    the one stored. Returns how many were written."""
    rows, latest = [], {}
    known = set(Cluster.objects.filter(pk__in={r.get("cluster") for r in records}).values_list("pk", flat=True))
    for record in records:
        if record.get("cluster") not in known:
            continue  # a cluster deleted since
        at = datetime.datetime.fromisoformat(record["at"])
        rows.append(Heartbeat(cluster_id=record["cluster"], at=at, status=record.get("status") or "",
                              volume=record.get("volume"), signal=record.get("signal"),
                              firmware=record.get("firmware") or ""))
        if record["cluster"] not in latest or latest[record["cluster"]][0] < at:
            latest[record["cluster"]] = (at, record)
    with transaction.atomic():
        Heartbeat.objects.bulk_create(rows)
        for cluster_id, (at, record) in latest.items():
            status = {"status": record.get("status") or "", "volume": record.get("volume"),
                      "signal": record.get("signal"), "firmware": record.get("firmware") or "", "at": at.isoformat()}
            Cluster.objects.filter(pk=cluster_id).filter(
                models.Q(last_heartbeat_at__isnull=True) | models.Q(last_heartbeat_at__lt=at),
            ).update(last_heartbeat_at=at, last_status=status)
    return len(rows)


def record_as_run(*, cluster: Cluster, entries: list[dict]) -> int:
    """Store what the device played. Idempotent per (cluster, audio key, start): a replayed
    report stores nothing twice. Returns how many entries were new. All or nothing."""
    if not isinstance(entries, list):
        raise _error(_("Send a list of entries."), "invalid", "entries")
    if len(entries) > MAX_AS_RUN_ENTRIES:
        raise _error(_("Send at most %(limit)s entries at once.") % {"limit": MAX_AS_RUN_ENTRIES}, "too_many",
                     "entries")
    now = timezone.now()
    rows: dict[tuple, AsRunEntry] = {}
    bulletin_ids = set()
    for index, entry in enumerate(entries):
        errors = _Errors()
        if not isinstance(entry, dict):
            raise _error(_("Entry %(n)s: not valid.") % {"n": index + 1}, "invalid", "entries")
        started = parse_datetime(entry.get("started_at"), "started_at", errors)
        ended = parse_datetime(entry.get("ended_at"), "ended_at", errors)
        key = entry.get("asset_key") or ""
        if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{0,64}", key):
            errors.add("asset_key", _("The audio key is not valid."), "invalid")
            key = ""
        bulletin_id = entry.get("bulletin_id")
        if bulletin_id not in (None, ""):
            bulletin_id = parse_int(bulletin_id, "bulletin_id", errors, low=1, high=MAX_DB_ID)
        else:
            bulletin_id = None
        if started and ended:
            if ended < started:
                errors.add("ended_at", _("The end is before the start."), "invalid_range")
            elif (ended - started).total_seconds() > MAX_AS_RUN_SECONDS:
                errors.add("ended_at", _("One entry lasts at most six hours."), "invalid_range")
            elif ended > now + CLOCK_SKEW:
                errors.add("ended_at", _("This time is in the future."), "in_future")
        if not key and bulletin_id is None and not errors:
            errors.add("asset_key", _("Name the audio (its key) or the bulletin."), "required")
        if errors:
            detail = "; ".join(f"{field}: {e.messages[0]}" for field, errs in errors.errors.items() for e in errs[:1])
            raise _error(_("Entry %(n)s: %(errors)s") % {"n": index + 1, "errors": detail}, "invalid", "entries")
        bulletin_ids.add(bulletin_id)
        rows[(key, started, bulletin_id)] = AsRunEntry(cluster=cluster, bulletin_id=bulletin_id, asset_key=key,
                                                       started_at=started, ended_at=ended)
    bulletins = {b.pk: b for b in Bulletin.objects.filter(pk__in=[pk for pk in bulletin_ids if pk])
                 .select_related("asset")}
    keys = {row.asset_key for row in rows.values() if row.asset_key}
    asset_bulletins = {}
    if keys:
        for key, pk in Bulletin.objects.filter(asset__key__in=keys).order_by("pk").values_list("asset__key", "pk"):
            asset_bulletins.setdefault(key, pk)
    starts = [row.started_at for row in rows.values()]
    emergencies = list(Emergency.objects.filter(
        clusters=cluster, sent_at__lte=max(starts, default=now) + CLOCK_SKEW,
        until__gte=min(starts, default=now)).values_list("bulletin_id", "sent_at", "until")) if starts else []
    unique: dict[tuple, AsRunEntry] = {}
    for row in rows.values():
        bulletin = bulletins.get(row.bulletin_id)
        if row.bulletin_id and bulletin is None:
            row.bulletin_id = None  # a bulletin deleted since: the key still says what aired
        if not row.asset_key and bulletin is not None and bulletin.asset_id:
            row.asset_key = bulletin.asset.key
        if row.bulletin_id is None and row.asset_key in asset_bulletins:
            row.bulletin_id = asset_bulletins[row.asset_key]
        row.emergency = any(b == row.bulletin_id and sent - CLOCK_SKEW <= row.started_at <= until
                            for b, sent, until in emergencies)
        unique.setdefault((row.asset_key, row.started_at), row)
    with transaction.atomic():
        existing = set()
        if unique:
            for key, started in AsRunEntry.objects.filter(
                    cluster=cluster, started_at__in=[k[1] for k in unique]).values_list("asset_key", "started_at"):
                existing.add((key, started))
        new = [row for k, row in unique.items() if k not in existing]
        AsRunEntry.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# --- slots -------------------------------------------------------------------------------------------

def _check_slot_times(start, end, errors: _Errors) -> None:
    if start and end and end <= start:
        errors.add("end", _("The end must be after the start (a slot cannot cross midnight)."), "invalid_range")


def _apply_slot_data(slot: Slot, data: dict, *, creating: bool, errors: _Errors) -> None:
    if not isinstance(data, dict):
        errors.add("__all__", _("The data sent are not valid."))
        return
    present = (lambda key: True) if creating else (lambda key: key in data)
    if present("name"):
        name = _text(data.get("name"))
        if not name:
            errors.add("name", _("Give the slot a name."), "required")
        elif len(name) > 60:
            errors.add("name", _("The name is too long: at most %(limit)s characters.") % {"limit": 60}, "too_long")
        slot.name = name[:60]
    if present("start"):
        slot.start = parse_time(data.get("start"), "start", errors)
    if present("end"):
        slot.end = parse_time(data.get("end"), "end", errors)
    if "active" in data:
        slot.active = _truthy(data.get("active"))
    _check_slot_times(slot.start, slot.end, errors)
    if not errors and slot.active:
        overlapping = Slot.objects.filter(active=True, start__lt=slot.end, end__gt=slot.start).exclude(pk=slot.pk)
        if overlapping.exists():
            errors.add("start", _("This slot overlaps “%(slot)s”.") % {"slot": overlapping.first()}, "overlap")


def create_slot(*, user, data: dict) -> Slot:
    permissions.require(user, "slot.manage")
    slot = Slot()
    errors = _Errors()
    _apply_slot_data(slot, data, creating=True, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        slot.save()
        _invalidate()
    return slot


def update_slot(*, slot: Slot, user, data: dict) -> Slot:
    permissions.require(user, "slot.manage")
    with transaction.atomic():
        slot = Slot.objects.select_for_update().get(pk=slot.pk)
        errors = _Errors()
        _apply_slot_data(slot, data, creating=False, errors=errors)
        errors.raise_if_any()
        slot.save()
        _invalidate()
    return slot


def delete_slot(*, slot: Slot, user) -> None:
    permissions.require(user, "slot.manage")
    with transaction.atomic():
        slot.delete()
        _invalidate()


def add_slot_exception(*, user, data: dict) -> SlotException:
    """A change of one day: ``kind`` "cancel" (no broadcast in the slot), "move" (the slot at other
    times) or "extra" (an additional window). A second change of the same slot and day replaces the first."""
    permissions.require(user, "slot.manage")
    errors = _Errors()
    if not isinstance(data, dict):
        raise _error(_("The data sent are not valid."))
    day = parse_date(data.get("date"), "date", errors)
    kind = data.get("kind")
    if kind not in EXCEPTION_KINDS:
        errors.add("kind", _("Choose: cancel, move or extra."), "invalid_choice")
    slot = None
    if kind in ("cancel", "move"):
        pk = parse_int(data.get("slot_id", data.get("slot")), "slot_id", _Errors(), low=1, high=MAX_DB_ID)
        slot = Slot.objects.filter(pk=pk).first() if pk else None
        if slot is None:
            errors.add("slot_id", _("Choose the slot."), "required")
    start = end = None
    if kind in ("move", "extra"):
        start = parse_time(data.get("start"), "start", errors)
        end = parse_time(data.get("end"), "end", errors)
        _check_slot_times(start, end, errors)
    note = clean_text(data.get("note")) if isinstance(data.get("note"), str) else ""
    if len(note) > 200:
        errors.add("note", _("The note is too long: at most %(limit)s characters.") % {"limit": 200}, "too_long")
    if day and day < timezone.localdate():
        errors.add("date", _("This day has passed."), "in_past")
    errors.raise_if_any()
    if start and end:
        for other_start, other_end, other in slots_for_day(day):
            if other is not None and slot is not None and other.pk == slot.pk:
                continue
            if other_start.time() < end and other_end.time() > start:
                raise _error(_("On this day the window overlaps another one (%(start)s–%(end)s).") % {
                    "start": f"{other_start:%H:%M}", "end": f"{other_end:%H:%M}"}, "overlap", "start")
    with transaction.atomic():
        if slot is not None:
            exception, _created = SlotException.objects.update_or_create(
                date=day, slot=slot, defaults={"cancelled": kind == "cancel", "start": start, "end": end, "note": note})
        else:
            exception = SlotException.objects.create(date=day, slot=None, cancelled=False, start=start, end=end,
                                                     note=note)
        _invalidate(day=day)
    return exception


def delete_slot_exception(*, exception: SlotException, user) -> None:
    permissions.require(user, "slot.manage")
    with transaction.atomic():
        day = exception.date
        exception.delete()
        _invalidate(day=day)


def slots_for_days(first: datetime.date, last: datetime.date) -> dict[datetime.date, list]:
    """``slots_for_day`` of every day from ``first`` to ``last``, in two queries."""
    slots = list(Slot.objects.filter(active=True))
    exceptions: dict[datetime.date, list] = {}
    for change in SlotException.objects.filter(date__gte=first, date__lte=last):
        exceptions.setdefault(change.date, []).append(change)
    days, day = {}, first
    while day <= last:
        days[day] = _day_windows(day, slots, exceptions.get(day, []))
        day += datetime.timedelta(days=1)
    return days


def slots_for_day(day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime, Slot | None]]:
    """The broadcast windows of one day, in order: (starts_at, ends_at, slot or None for an extra
    window), aware datetimes of Vietnam time. Cancelled slots are left out, moved ones moved."""
    return slots_for_days(day, day)[day]


def _day_windows(day: datetime.date, slots: list, exceptions: list) -> list:
    by_slot = {e.slot_id: e for e in exceptions if e.slot_id}
    windows = []
    for slot in slots:
        change = by_slot.get(slot.pk)
        if change is not None and change.cancelled:
            continue
        start = (change.start if change is not None and change.start else None) or slot.start
        end = (change.end if change is not None and change.end else None) or slot.end
        if end > start:
            windows.append((local_datetime(day, start), local_datetime(day, end), slot))
    for change in exceptions:
        if change.slot_id is None and not change.cancelled and change.start and change.end \
                and change.end > change.start:
            windows.append((local_datetime(day, change.start), local_datetime(day, change.end), None))
    windows.sort(key=lambda w: (w[0], w[1]))
    return windows


def ensure_default_slots() -> int:
    """The default windows (settings.XASO_RADIO_DEFAULT_SLOTS) when the commune has no slot yet."""
    if Slot.objects.exists():
        return 0
    created = 0
    for spec in settings.XASO_RADIO_DEFAULT_SLOTS:
        parts = spec.strip().split("-")
        if len(parts) != 2:
            continue
        errors = _Errors()
        start, end = parse_time(parts[0], "start", errors), parse_time(parts[1], "end", errors)
        if errors or end <= start:
            logger.warning("Ignoring the default radio slot %r", spec)
            continue
        name = _("Morning") if start.hour < 11 else (_("Noon") if start.hour < 14 else _("Afternoon"))
        Slot.objects.create(name=name, start=start, end=end)
        created += 1
    return created


# --- emergency broadcasts --------------------------------------------------------------------------

def emergency_minutes() -> int:
    return int(getattr(settings, "XASO_RADIO_EMERGENCY_MINUTES", 30))


def send_emergency(*, user, bulletin_data: dict | None = None, bulletin: Bulletin | None = None,
                   cluster_ids: list | None = None, repeats=1) -> Emergency:
    """A leader sends a bulletin now, to all clusters (``cluster_ids`` None or empty) or some:
    devices interrupt what plays at their next poll. A new bulletin from ``bulletin_data`` is
    approved by the sending itself; the sending is logged."""
    permissions.require(user, "emergency.send")
    errors = _Errors()
    count = parse_int(repeats if repeats not in (None, "") else 1, "repeats", errors, low=1, high=10,
                      message=_("Times: a whole number from 1 to 10."))
    ids = parse_ids(cluster_ids, "cluster_ids", errors) if cluster_ids not in (None, "", []) else []
    if bulletin is None and bulletin_data is None:
        errors.add("text", _("Write the text of the bulletin (or upload a recording)."), "empty_text")
    if bulletin is not None and bulletin.state == BulletinState.WITHDRAWN:
        errors.add("bulletin", _("This bulletin has been withdrawn."), "wrong_state")
    errors.raise_if_any()
    clusters = Cluster.objects.filter(active=True)
    if ids:
        clusters = clusters.filter(pk__in=ids)
        found = set(clusters.values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise _error(_("There is no cluster with the id %(ids)s.") % {"ids": ", ".join(map(str, missing[:10]))},
                         "not_found_target", "cluster_ids")
    cluster_pks = list(clusters.values_list("pk", flat=True))
    if not cluster_pks:
        raise _error(_("There is no active cluster to send to."), "no_cluster", "cluster_ids")
    now = timezone.now()
    with transaction.atomic():
        if bulletin is None:
            data = dict(bulletin_data)
            data.setdefault("category", Category.EMERGENCY)
            data.setdefault("priority", CATEGORY_PRIORITY[Category.EMERGENCY])
            data.setdefault("valid_from", timezone.localdate())
            data.setdefault("title", _("Emergency broadcast"))
            data.setdefault("cluster_ids", cluster_pks if ids else [])
            bulletin = Bulletin(created_by=user, state=BulletinState.DRAFT)
            errors = _Errors()
            todo = _apply_bulletin_data(bulletin, data, creating=True, errors=errors)
            errors.raise_if_any()
            bulletin.submitted_at = now
            _save_bulletin(bulletin, todo, user)
            _approve(bulletin, user, _("Sent as an emergency broadcast."))
        else:
            bulletin = _locked(bulletin)
            if not bulletin.asset_id:
                raise _error(_("The bulletin has no text and no recording."), "empty_text", "bulletin")
            if bulletin.state != BulletinState.APPROVED:
                bulletin.submitted_at = bulletin.submitted_at or now
                bulletin.save(update_fields=["submitted_at"])
                _approve(bulletin, user, _("Sent as an emergency broadcast."))
        asset = bulletin.asset
        seconds = float(asset.duration_seconds or 0) * count if asset is not None else 0
        until = now + max(datetime.timedelta(minutes=emergency_minutes()), datetime.timedelta(seconds=seconds + 60))
        emergency = Emergency.objects.create(bulletin=bulletin, sent_by=user, sent_at=now, until=until, repeats=count)
        emergency.clusters.set(cluster_pks)
        _invalidate(bulletin=bulletin)
    logger.warning("Emergency broadcast %s (bulletin %s “%s”) sent by user %s to %s cluster(s), until %s",
                   emergency.pk, bulletin.pk, bulletin.title, getattr(user, "pk", None), len(cluster_pks),
                   until.isoformat())
    return emergency


def cancel_emergency(*, emergency: Emergency, user) -> Emergency:
    """Stop an emergency broadcast: devices stop interrupting at their next poll."""
    permissions.require(user, "emergency.send")
    with transaction.atomic():
        emergency = Emergency.objects.select_for_update().get(pk=emergency.pk)
        if emergency.cancelled_at is not None:
            raise _error(_("This emergency broadcast has already been cancelled."), "already_cancelled")
        emergency.cancelled_at = timezone.now()
        emergency.save(update_fields=["cancelled_at"])
    logger.warning("Emergency broadcast %s cancelled by user %s", emergency.pk, getattr(user, "pk", None))
    return emergency


# --- pronunciations -----------------------------------------------------------------------------------

def save_pronunciation(*, user, data: dict, pronunciation: Pronunciation | None = None) -> Pronunciation:
    """Add or change how a word is read (data of the commune)."""
    from broadcasting.speech.normalize import unsayable

    permissions.require(user, "pronunciation.manage")
    if not isinstance(data, dict):
        raise _error(_("The data sent are not valid."))
    item = pronunciation or Pronunciation()
    errors = _Errors()
    creating = pronunciation is None
    if creating or "written" in data:
        written = _text(data.get("written"))
        if not written or len(written) > 60:
            errors.add("written", _("Write the word (at most 60 characters)."), "required")
        item.written = written[:60]
    if creating or "spoken" in data:
        spoken = _text(data.get("spoken"))
        if not spoken or len(spoken) > 200:
            errors.add("spoken", _("Write how it is read (at most 200 characters)."), "required")
        elif unsayable(spoken):
            errors.add("spoken", _("The voice cannot read these characters: %(chars)s. Remove them or write them in "
                                   "words.") % {"chars": ", ".join(f"“{c}”" for c in unsayable(spoken))}, "unsayable")
        item.spoken = spoken[:200]
    if "case_sensitive" in data:
        item.case_sensitive = _truthy(data.get("case_sensitive"))
    if "note" in data:
        item.note = _text(data.get("note"))[:200]
    errors.raise_if_any()
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise _error(_("This word already has a reading."), "duplicate", "written") from None
    return item


def delete_pronunciation(*, pronunciation: Pronunciation, user) -> None:
    permissions.require(user, "pronunciation.manage")
    pronunciation.delete()
