"""Reads of the commune radio for pages and the API (no writes here, except that a schedule of
today or later builds the playlists it shows when they are missing, as a device's poll would)."""
from __future__ import annotations

import datetime

from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from broadcasting import scheduler
from broadcasting.models import Bulletin, BulletinState, Cluster, Emergency, Playlist, PlaylistEntry


def clusters_with_status(now: datetime.datetime | None = None):
    """Every cluster with ``online`` (a heartbeat within XASO_RADIO_OFFLINE_SECONDS)."""
    since = scheduler.online_since(now)
    return Cluster.objects.select_related("village").annotate(
        online=Case(When(last_heartbeat_at__gte=since, then=Value(True)), default=Value(False),
                    output_field=BooleanField()),
    )


def cluster_counts(now: datetime.datetime | None = None) -> dict:
    """Active clusters online and offline."""
    since = scheduler.online_since(now)
    active = Cluster.objects.filter(active=True)
    total = active.count()
    online = active.filter(last_heartbeat_at__gte=since).count()
    return {"total": total, "online": online, "offline": total - online}


def bulletins(*, state: str | None = None, category: str | None = None, search: str | None = None):
    queryset = Bulletin.objects.select_related("asset").prefetch_related("villages", "clusters")
    if state:
        queryset = queryset.filter(state=state)
    if category:
        queryset = queryset.filter(category=category)
    if search:
        queryset = queryset.filter(Q(title__icontains=search) | Q(text__icontains=search))
    return queryset


def waiting_for_approval():
    return Bulletin.objects.filter(state=BulletinState.SUBMITTED).select_related("asset").order_by("submitted_at", "pk")


def active_emergencies(now: datetime.datetime | None = None):
    now = now or timezone.now()
    return (Emergency.objects.filter(cancelled_at__isnull=True, sent_at__lte=now, until__gt=now)
            .select_related("bulletin").prefetch_related("clusters"))


def overflow_warnings(days: int = 7, now: datetime.datetime | None = None) -> list[dict]:
    """What did not fit in the stored playlists of the coming ``days`` (one line per cluster,
    window and bulletin)."""
    now = now or timezone.now()
    playlists = (Playlist.objects.filter(ends_at__gt=now, starts_at__lt=now + datetime.timedelta(days=days))
                 .exclude(overflow=[]).select_related("cluster").order_by("starts_at", "cluster__name"))
    warnings = []
    for playlist in playlists:
        for item in playlist.overflow:
            warnings.append({"cluster": playlist.cluster, "starts_at": playlist.starts_at, "ends_at": playlist.ends_at,
                             **item})
    return warnings


def day_schedule(day: datetime.date, *, clusters=None, build: bool = True) -> list[dict]:
    """The windows of ``day``, each with its playlist per cluster and a merged summary (every
    bulletin with its plays over all clusters). Playlists of today or later are built when
    missing (``build``); past days show what was stored."""
    from broadcasting.services import slots_for_day

    windows = slots_for_day(day)
    clusters = list(clusters if clusters is not None else Cluster.objects.filter(active=True).select_related("village"))
    build = build and day >= timezone.localdate()
    stored = {(p.cluster_id, p.starts_at): p for p in
              Playlist.objects.filter(date=day, cluster__in=clusters)}
    result = []
    candidates = None  # the day's bulletins, loaded once when a playlist has to be built
    for starts_at, ends_at, slot in windows:
        playlists = []
        for cluster in clusters:
            playlist = stored.get((cluster.pk, starts_at))
            if build and (playlist is None or playlist.ends_at != ends_at):
                candidates = candidates or scheduler.DayBulletins(day)
                playlist = scheduler.build_playlist(cluster, starts_at, ends_at, windows, candidates)
            if playlist is not None and playlist.ends_at == ends_at:
                playlists.append(playlist)
        merged: dict[int, dict] = {}
        entries = PlaylistEntry.objects.filter(playlist__in=playlists).select_related("bulletin", "playlist")
        for entry in entries:
            item = merged.setdefault(entry.bulletin_id, {
                "bulletin": entry.bulletin, "plays": 0, "clusters": set(), "duration": entry.duration_seconds})
            item["plays"] += 1
            item["clusters"].add(entry.playlist.cluster_id)
        summary = sorted(merged.values(), key=lambda i: (-i["bulletin"].priority, i["bulletin"].pk))
        for item in summary:
            item["clusters"] = len(item["clusters"])
        result.append({
            "starts_at": starts_at, "ends_at": ends_at, "slot": slot, "playlists": playlists, "items": summary,
            "overflow": [dict(o, cluster=p.cluster_id) for p in playlists for o in p.overflow],
            "missing_audio": [dict(m, cluster=p.cluster_id) for p in playlists for m in p.missing_audio],
        })
    return result


def week_schedule(monday: datetime.date, **kwargs) -> list[tuple[datetime.date, list[dict]]]:
    """Monday to Sunday: (day, ``day_schedule(day)``)."""
    monday = monday - datetime.timedelta(days=monday.weekday())
    return [(monday + datetime.timedelta(days=i), day_schedule(monday + datetime.timedelta(days=i), **kwargs))
            for i in range(7)]
