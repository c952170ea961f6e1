"""The scheduler: what each cluster plays in each broadcast window.

``build_playlist(cluster, starts_at, ends_at)`` takes the approved bulletins valid that day that
target the cluster (named among the bulletin's clusters, or its village among the bulletin's
villages, or a bulletin that names neither: every cluster), orders them by priority (highest
first) then by the oldest approval, and spreads each bulletin's ``repeats_per_day`` over the
day's windows (the earlier windows take the odd one: 3 repeats over 2 windows → 2 then 1). The
plays go in rounds — every bulletin's first play, then the second plays — one after another from
the start of the window, and never beyond its end: a play that does not fit is reported in
``Playlist.overflow`` (with the reason), never dropped silently. A bulletin whose audio is not
ready yet is listed in ``Playlist.missing_audio``.

The playlist's ETag is the SHA-256 of its window and entries; what a device receives adds the
emergency state (``DeviceState``). Playlists are kept: a device's poll reads them and only
builds what is missing. A write that changes what airs (approval, withdrawal, a slot, a cluster
moved) deletes the affected playlists that have not ended (``invalidate``); the next poll or the
beat task (``prepare_upcoming``, every 15 minutes) builds them again — an unchanged playlist
gets the same ETag, so devices keep their 304.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasting import device_cache
from broadcasting.models import (
    AudioAsset, Bulletin, BulletinState, Cluster, Emergency, Playlist, PlaylistEntry,
)

logger = logging.getLogger(__name__)

# How far ahead a device looks for its next window when today has none left.
LOOKAHEAD_DAYS = 7
# How often devices should poll (told in every playlist).
POLL_SECONDS = 60


def offline_seconds() -> int:
    return int(settings.XASO_RADIO_OFFLINE_SECONDS)


def is_offline(cluster: Cluster, now: datetime.datetime | None = None) -> bool:
    """No heartbeat for XASO_RADIO_OFFLINE_SECONDS (or never)."""
    now = now or timezone.now()
    last = cluster.last_heartbeat_at
    return last is None or (now - last).total_seconds() > offline_seconds()


def online_since(now: datetime.datetime | None = None) -> datetime.datetime:
    """Heartbeats at or after this moment mean online (for querysets)."""
    return (now or timezone.now()) - datetime.timedelta(seconds=offline_seconds())


def plays_in_window(repeats: int, index: int, count: int) -> int:
    """How many of a day's ``repeats`` fall in window ``index`` of ``count``: spread evenly, the
    earlier windows taking the odd ones (3 over 2 → 2, 1; 1 over 2 → 1, 0)."""
    if count <= 0 or repeats <= 0:
        return 0
    return math.ceil((index + 1) * repeats / count) - math.ceil(index * repeats / count)


class DayBulletins:
    """The approved bulletins valid on one day, loaded once (with their targets) for building
    the playlists of many clusters: ``for_cluster`` gives what ``bulletins_for`` would."""

    def __init__(self, day: datetime.date):
        self.day = day
        self.bulletins = list(
            Bulletin.objects.filter(state=BulletinState.APPROVED, valid_from__lte=day, valid_until__gte=day)
            .select_related("asset").prefetch_related("clusters", "villages")
            .order_by("-priority", "decided_at", "pk")
        )
        self.targets = {
            b.pk: ({c.pk for c in b.clusters.all()}, {v.pk for v in b.villages.all()}) for b in self.bulletins
        }

    @classmethod
    def loaded(cls, day: datetime.date, bulletins: list[Bulletin], targets: dict) -> "DayBulletins":
        """The day's share of bulletins already loaded for several days (no query): ``bulletins``
        approved, in play order, with ``targets`` as ``DayBulletins.targets``."""
        self = cls.__new__(cls)
        self.day = day
        self.bulletins = [b for b in bulletins if b.valid_from <= day <= b.valid_until]
        self.targets = targets
        return self

    def for_cluster(self, cluster: Cluster) -> list[Bulletin]:
        out = []
        for bulletin in self.bulletins:
            clusters, villages = self.targets[bulletin.pk]
            if cluster.pk in clusters or cluster.village_id in villages or not (clusters or villages):
                out.append(bulletin)
        return out


def bulletins_for(cluster: Cluster, day: datetime.date, candidates: DayBulletins | None = None):
    """Approved bulletins valid on ``day`` that target ``cluster``, in the order they play
    (picked from ``candidates`` when the day's bulletins are already loaded)."""
    if candidates is not None and candidates.day == day:
        return candidates.for_cluster(cluster)
    through_clusters = Bulletin.clusters.through.objects.filter(bulletin_id=OuterRef("pk"))
    through_villages = Bulletin.villages.through.objects.filter(bulletin_id=OuterRef("pk"))
    return (
        Bulletin.objects.filter(state=BulletinState.APPROVED, valid_from__lte=day, valid_until__gte=day)
        .annotate(
            to_cluster=Exists(through_clusters.filter(cluster_id=cluster.pk)),
            to_village=Exists(through_villages.filter(village_id=cluster.village_id)),
            named_clusters=Exists(through_clusters),
            named_villages=Exists(through_villages),
        )
        .filter(Q(to_cluster=True) | Q(to_village=True) | Q(named_clusters=False, named_villages=False))
        .select_related("asset")
        .order_by("-priority", "decided_at", "pk")
    )


@dataclass
class Plan:
    """A playlist computed, before it is stored."""

    starts_at: datetime.datetime
    ends_at: datetime.datetime
    entries: list = field(default_factory=list)  # (bulletin, asset, offset, duration)
    overflow: list = field(default_factory=list)
    missing_audio: list = field(default_factory=list)

    @property
    def etag(self) -> str:
        payload = {
            "window": [_iso(self.starts_at), _iso(self.ends_at)],
            "entries": [[b.pk, a.key, str(offset), str(duration)] for b, a, offset, duration in self.entries],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _iso(moment: datetime.datetime) -> str:
    """The moment in Vietnam time, ISO 8601 (the same text whether it came from the database or not)."""
    return timezone.localtime(moment).isoformat()


def _seconds(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def plan_playlist(cluster: Cluster, starts_at: datetime.datetime, ends_at: datetime.datetime,
                  windows: list | None = None, candidates: DayBulletins | None = None) -> Plan:
    """Compute (without storing) what ``cluster`` plays between ``starts_at`` and ``ends_at``
    (``candidates``: the day's bulletins already loaded, when building many clusters)."""
    from broadcasting.services import slots_for_day

    day = timezone.localtime(starts_at).date()
    windows = slots_for_day(day) if windows is None else windows
    spans = [(w[0], w[1]) for w in windows]
    if (starts_at, ends_at) in spans:
        index, count = spans.index((starts_at, ends_at)), len(spans)
    else:  # a window of its own (not one of the day's slots)
        index, count = 0, 1
    length = _seconds((ends_at - starts_at).total_seconds())
    plan = Plan(starts_at=starts_at, ends_at=ends_at)
    window_text = f"{timezone.localtime(starts_at):%H:%M}–{timezone.localtime(ends_at):%H:%M}"

    wanted = []  # [bulletin, asset, plays, duration]
    for bulletin in bulletins_for(cluster, day, candidates):
        plays = plays_in_window(bulletin.repeats_per_day, index, count)
        if plays == 0:
            continue
        asset = bulletin.asset
        if asset is None or not asset.ready or not asset.duration_seconds:
            plan.missing_audio.append({
                "bulletin": bulletin.pk, "title": bulletin.title, "plays": plays,
                "asset": asset.key if asset is not None else "",
                "message": _("“%(title)s” is waiting for its audio.") % {"title": bulletin.title},
            })
            continue
        wanted.append([bulletin, asset, plays, _seconds(asset.duration_seconds)])

    offset = Decimal("0.00")
    missed: dict[int, int] = {}
    rounds = max((item[2] for item in wanted), default=0)
    for round_number in range(rounds):
        for bulletin, asset, plays, duration in wanted:
            if plays <= round_number:
                continue
            if offset + duration <= length:
                plan.entries.append((bulletin, asset, offset, duration))
                offset += duration
            else:
                missed[bulletin.pk] = missed.get(bulletin.pk, 0) + 1
    free = length - offset
    for bulletin, asset, plays, duration in wanted:
        count_missed = missed.get(bulletin.pk, 0)
        if not count_missed:
            continue
        reason = "longer_than_slot" if duration > length else "slot_full"
        if reason == "longer_than_slot":
            message = _("“%(title)s” (%(duration)s s) is longer than the window %(window)s.") % {
                "title": bulletin.title, "duration": duration, "window": window_text}
        else:
            message = _("“%(title)s”: %(missed)s of %(plays)s plays do not fit in the window %(window)s "
                        "(%(duration)s s each, %(free)s s left).") % {
                "title": bulletin.title, "missed": count_missed, "plays": plays, "window": window_text,
                "duration": duration, "free": free}
        plan.overflow.append({
            "bulletin": bulletin.pk, "title": bulletin.title, "plays": plays, "missed": count_missed,
            "duration": float(duration), "reason": reason, "message": message,
        })
    return plan


def build_playlist(cluster: Cluster, starts_at: datetime.datetime, ends_at: datetime.datetime,
                   windows: list | None = None, candidates: DayBulletins | None = None) -> Playlist:
    """Compute and store the playlist of ``cluster`` for one window (idempotent: an unchanged
    playlist keeps its rows and ETag)."""
    plan = plan_playlist(cluster, starts_at, ends_at, windows, candidates)
    etag = plan.etag
    now = timezone.now()
    with transaction.atomic():
        playlist, created = Playlist.objects.select_for_update().get_or_create(
            cluster=cluster, starts_at=starts_at,
            defaults={"date": timezone.localtime(starts_at).date(), "ends_at": ends_at, "etag": etag, "built_at": now,
                      "overflow": plan.overflow, "missing_audio": plan.missing_audio},
        )
        if not created:
            if playlist.etag == etag and playlist.ends_at == ends_at:  # the ETag covers the entries
                playlist.built_at = now
                playlist.overflow, playlist.missing_audio = plan.overflow, plan.missing_audio
                playlist.save(update_fields=["built_at", "overflow", "missing_audio"])
                playlist.entry_count = len(plan.entries)
                return playlist
            playlist.entries.all().delete()
            playlist.ends_at, playlist.etag, playlist.built_at = ends_at, etag, now
            playlist.overflow, playlist.missing_audio = plan.overflow, plan.missing_audio
            playlist.save(update_fields=["ends_at", "etag", "built_at", "overflow", "missing_audio"])
        PlaylistEntry.objects.bulk_create([
            PlaylistEntry(playlist=playlist, order=order, bulletin=bulletin, asset=asset, offset_seconds=offset,
                          duration_seconds=duration)
            for order, (bulletin, asset, offset, duration) in enumerate(plan.entries, start=1)
        ])
    playlist.entry_count = len(plan.entries)
    return playlist


def windows_around(now: datetime.datetime, windows_of=None) -> tuple[tuple | None, tuple | None]:
    """The window playing at ``now`` (or None) and the next one to start (within a week)."""
    today = timezone.localtime(now).date()
    if windows_of is None:
        from broadcasting.services import slots_for_days

        windows_of = slots_for_days(today, today + datetime.timedelta(days=LOOKAHEAD_DAYS)).__getitem__
    current = upcoming = None
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = today + datetime.timedelta(days=offset)
        day_windows = windows_of(day)
        for window in day_windows:
            if current is None and window[0] <= now < window[1]:
                current = (window, day_windows)
            elif window[0] > now:
                upcoming = (window, day_windows)
                break
        if upcoming is not None:
            break
    return current, upcoming


def playlists_around(cluster: Cluster, now: datetime.datetime | None = None) -> tuple[Playlist | None, Playlist | None]:
    """The stored playlists of the current and next window, built when missing, when their
    window changed, or while they wait for audio."""
    now = now or timezone.now()
    current, upcoming = windows_around(now)
    wanted = [item for item in (current, upcoming) if item is not None]
    stored = {p.starts_at: p for p in Playlist.objects.filter(cluster=cluster, starts_at__in=[w[0][0] for w in wanted])}
    result = []
    for item in (current, upcoming):
        if item is None:
            result.append(None)
            continue
        (starts_at, ends_at, _slot), day_windows = item
        playlist = stored.get(starts_at)
        if playlist is None or playlist.ends_at != ends_at or (playlist.missing_audio and _audio_arrived(playlist)):
            playlist = build_playlist(cluster, starts_at, ends_at, day_windows)
        result.append(playlist)
    return result[0], result[1]


def _audio_arrived(playlist: Playlist) -> bool:
    """Has audio a playlist was waiting for become ready since it was built?"""
    keys = [item.get("asset") for item in playlist.missing_audio if item.get("asset")]
    without = [item.get("bulletin") for item in playlist.missing_audio if not item.get("asset")]
    if keys and AudioAsset.objects.filter(key__in=keys).exclude(file="").exclude(duration_seconds=None).exists():
        return True
    return bool(without) and Bulletin.objects.filter(pk__in=without, asset__isnull=False).exists()


def active_emergencies(cluster: Cluster, now: datetime.datetime | None = None) -> list[Emergency]:
    """Emergency broadcasts that interrupt this cluster now, the first sent first."""
    now = now or timezone.now()
    return list(
        Emergency.objects.filter(clusters=cluster, cancelled_at__isnull=True, sent_at__lte=now, until__gt=now)
        .select_related("bulletin__asset").order_by("sent_at", "pk")
    )


def _entry_item(entry: PlaylistEntry, playlist: Playlist) -> dict:
    return {
        "kind": "bulletin", "bulletin_id": entry.bulletin_id, "title": entry.bulletin.title,
        "category": entry.bulletin.category, "asset_key": entry.asset.key, "duration": float(entry.duration_seconds),
        "offset": float(entry.offset_seconds),
        "starts_at": _iso(playlist.starts_at + datetime.timedelta(seconds=float(entry.offset_seconds))),
    }


def _emergency_item(emergency: Emergency) -> dict:
    asset = emergency.bulletin.asset
    ready = bool(asset is not None and asset.ready)
    return {
        "kind": "emergency", "emergency_id": emergency.pk, "bulletin_id": emergency.bulletin_id,
        "title": emergency.bulletin.title, "category": emergency.bulletin.category,
        "asset_key": asset.key if asset is not None else "", "ready": ready,
        "duration": float(asset.duration_seconds) if ready and asset.duration_seconds else None,
        "repeats": emergency.repeats, "sent_at": _iso(emergency.sent_at), "until": _iso(emergency.until),
    }


class DeviceState:
    """What a device plays now: ``etag`` at once (cheap: what a 304 needs), ``body()`` when the
    device's copy is not current."""

    def __init__(self, cluster: Cluster, now: datetime.datetime | None = None):
        self.cluster = cluster
        self.now = now or timezone.now()
        self.current, self.upcoming = playlists_around(cluster, self.now)
        emergencies = active_emergencies(cluster, self.now)
        self.emergency_items = [_emergency_item(e) for e in emergencies]
        # the moment this answer stops being true by itself (a window ends or starts, an
        # emergency broadcast ends); changes of the data are told by ``device_cache.changed``
        self.until = device_cache.answer_until(self.now, [
            self.current.ends_at if self.current else None, self.upcoming.starts_at if self.upcoming else None,
            *[e.until for e in emergencies]])
        parts = [
            str(cluster.pk),
            self.current.etag if self.current else "-", _iso(self.current.starts_at) if self.current else "-",
            self.upcoming.etag if self.upcoming else "-", _iso(self.upcoming.starts_at) if self.upcoming else "-",
            json.dumps([[i["emergency_id"], i["asset_key"], i["ready"], i["repeats"], i["until"]]
                        for i in self.emergency_items]),
        ]
        self.etag = hashlib.sha256("|".join(parts).encode()).hexdigest()

    def body(self) -> dict:
        """The current and next windows with their items and, while an emergency broadcast is
        active for the cluster and its audio is ready, ``interrupt`` with the emergency items
        first in ``items``."""
        slots = []
        current_items: list = []
        playlists = [p for p in (self.current, self.upcoming) if p is not None]
        entries: dict[int, list] = {p.pk: [] for p in playlists}
        for entry in PlaylistEntry.objects.filter(playlist_id__in=list(entries)).select_related("bulletin", "asset"):
            entries[entry.playlist_id].append(entry)
        for playlist in playlists:
            items = [_entry_item(e, playlist) for e in sorted(entries[playlist.pk], key=lambda e: e.order)]
            is_current = playlist is self.current
            if is_current:
                current_items = items
            slots.append({"starts_at": _iso(playlist.starts_at), "ends_at": _iso(playlist.ends_at),
                          "current": is_current, "etag": playlist.etag, "items": items})
        ready = [dict(item) for item in self.emergency_items if item["ready"]]
        return {
            "cluster": {"id": self.cluster.pk, "name": self.cluster.name},
            "interrupt": bool(ready),
            "emergencies": [dict(item) for item in self.emergency_items],
            "items": ready + current_items,
            "slots": slots,
            "poll_seconds": POLL_SECONDS,
        }


def clusters_of(bulletin: Bulletin):
    """The clusters a bulletin targets."""
    cluster_ids = list(bulletin.clusters.values_list("pk", flat=True))
    village_ids = list(bulletin.villages.values_list("pk", flat=True))
    if not cluster_ids and not village_ids:
        return Cluster.objects.all()
    return Cluster.objects.filter(Q(pk__in=cluster_ids) | Q(village_id__in=village_ids))


def invalidate(*, clusters=None, bulletin: Bulletin | None = None, day: datetime.date | None = None) -> int:
    """Delete the stored playlists that have not ended and that a change may affect (all of them
    when nothing narrows it down): they are built again on the next poll."""
    playlists = Playlist.objects.filter(ends_at__gt=timezone.now())
    if day is not None:
        playlists = playlists.filter(date=day)
    if clusters is not None:
        playlists = playlists.filter(cluster_id__in=list(clusters))
    if bulletin is not None:
        playlists = playlists.filter(date__gte=bulletin.valid_from, date__lte=bulletin.valid_until,
                                     cluster__in=clusters_of(bulletin))
    deleted, _detail = playlists.delete()
    device_cache.changed()
    return deleted


def upcoming_windows(now: datetime.datetime, hours: float) -> list[tuple]:
    """Windows that have not ended and start within ``hours``, with their day's windows."""
    from broadcasting.services import slots_for_days

    horizon = now + datetime.timedelta(hours=hours)
    days = slots_for_days(timezone.localtime(now).date(), timezone.localtime(horizon).date())
    return [(w, day_windows) for day_windows in days.values() for w in day_windows if w[1] > now and w[0] < horizon]


def request_missing_audio(until: datetime.date) -> int:
    """Ask for the speech of approved text bulletins airing up to ``until`` that have no audio
    (or whose asset is not there any more). Returns how many were asked for."""
    from broadcasting.audio_services import request_speech

    today = timezone.localdate()
    asked = 0
    waiting = (Bulletin.objects.filter(state=BulletinState.APPROVED, valid_until__gte=today, valid_from__lte=until,
                                       uploaded_audio="")
               .exclude(text="").filter(Q(asset__isnull=True) | Q(asset__file="")).select_related("asset"))
    for bulletin in waiting:
        try:
            with transaction.atomic():
                asset = request_speech(text=bulletin.text, voice=bulletin.voice or None, user=None)
                if asset.pk != bulletin.asset_id:
                    Bulletin.objects.filter(pk=bulletin.pk).update(asset=asset, normalized_text=asset.text)
                    device_cache.changed()
            asked += 1
        except Exception:  # noqa: BLE001 - one bad bulletin must not stop the others
            logger.exception("Requesting the speech of bulletin %s failed", bulletin.pk)
    return asked


def prepare_upcoming(hours: float = 24) -> dict:
    """The beat task's body for one commune: build the playlists of every active cluster for the
    windows of the next ``hours`` and ask for the audio still missing."""
    from broadcasting.services import ensure_default_slots

    now = timezone.now()
    ensure_default_slots()
    windows = upcoming_windows(now, hours)
    summary = {"clusters": 0, "windows": len(windows), "playlists": 0, "entries": 0, "overflow": 0,
               "missing_audio": 0, "speech_requested": 0}
    horizon_day = timezone.localtime(now + datetime.timedelta(hours=hours)).date()
    summary["speech_requested"] = request_missing_audio(horizon_day)
    days: dict[datetime.date, DayBulletins] = {}
    for cluster in Cluster.objects.filter(active=True).select_related("village"):
        summary["clusters"] += 1
        for (starts_at, ends_at, _slot), day_windows in windows:
            day = timezone.localtime(starts_at).date()
            candidates = days.get(day) or days.setdefault(day, DayBulletins(day))
            playlist = build_playlist(cluster, starts_at, ends_at, day_windows, candidates)
            summary["playlists"] += 1
            summary["entries"] += playlist.entry_count
            summary["overflow"] += len(playlist.overflow)
            summary["missing_audio"] += len(playlist.missing_audio)
    return summary


def asset_for_device(cluster: Cluster, key: str, now: datetime.datetime | None = None) -> AudioAsset | None:
    """A ready asset that ``cluster`` may download: one its playlists have not finished playing
    (the current window and the coming ones, as the device was told), of a bulletin still
    approved, or the audio of an emergency broadcast interrupting it now. A device token opens
    nothing else of the commune: no bulletin waiting for approval, none of another cluster."""
    if not key or len(key) != 64:
        return None
    now = now or timezone.now()
    in_playlist = PlaylistEntry.objects.filter(
        asset_id=OuterRef("pk"), playlist__cluster=cluster, playlist__ends_at__gt=now,
        bulletin__state=BulletinState.APPROVED,
    )
    in_emergency = Emergency.objects.filter(
        bulletin__asset_id=OuterRef("pk"), clusters=cluster, cancelled_at__isnull=True, sent_at__lte=now,
        until__gt=now,
    )
    return (
        AudioAsset.objects.filter(key=key).exclude(file="")
        .filter(Q(Exists(in_playlist)) | Q(Exists(in_emergency))).first()
    )
