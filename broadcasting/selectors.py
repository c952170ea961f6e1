"""Reads of the commune radio for pages and the API (no writes here, except that ``day_schedule``
of today or later, for the API, builds the playlists it shows when they are missing, as a device's
poll would; the week's calendar, ``week_schedule``, only reads)."""
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


def week_schedule(monday: datetime.date, *, cluster: Cluster | None = None,
                  clusters: list | None = None) -> list[tuple[datetime.date, list[dict]]]:
    """Monday to Sunday: (day, windows), for one ``cluster`` or merged over ``clusters`` (the
    active ones by default). Reads only, in a number of queries that does not grow with the
    clusters or the bulletins:

    * today and later: what the approved bulletins and the slots give now, worked out in memory
      (``scheduler.plan_playlist``) once per group of clusters that the same bulletins target —
      what a device gets on its next poll; nothing is stored;
    * past days: the playlists stored then (``built``), or nothing (the page then shows the as-run
      log).

    Each window: ``starts_at``, ``ends_at``, ``slot``, ``built``, ``items`` (each bulletin with its
    ``plays`` and the number of ``clusters`` that play it), ``overflow`` and ``missing_audio``.
    """
    from django.db.models import Count

    from broadcasting.services import slots_for_days

    monday = monday - datetime.timedelta(days=monday.weekday())
    sunday = monday + datetime.timedelta(days=6)
    today = timezone.localdate()
    if cluster is not None:
        clusters = [cluster]
    elif clusters is None:
        clusters = list(Cluster.objects.filter(active=True).select_related("village"))
    days = slots_for_days(monday, sunday)
    result: list[tuple[datetime.date, list[dict]]] = []

    # past days: the stored playlists, summed per window and bulletin by the database
    past = [day for day in days if day < today]
    stored: dict[tuple, dict] = {}
    if past and clusters:
        playlists = Playlist.objects.filter(date__gte=past[0], date__lte=past[-1])
        playlists = playlists.filter(cluster=cluster) if cluster is not None else playlists.filter(
            cluster_id__in=[c.pk for c in clusters])
        for row in playlists.values("starts_at", "ends_at").annotate(count=Count("pk")):
            stored[(row["starts_at"], row["ends_at"])] = {"items": {}, "overflow": [], "missing_audio": []}
        for row in playlists.exclude(overflow=[], missing_audio=[]).values("starts_at", "ends_at", "cluster_id",
                                                                           "overflow", "missing_audio"):
            window = stored.get((row["starts_at"], row["ends_at"]))
            if window is not None:
                window["overflow"] += [dict(o, cluster=row["cluster_id"]) for o in row["overflow"]]
                window["missing_audio"] += [dict(m, cluster=row["cluster_id"]) for m in row["missing_audio"]]
        sums = (PlaylistEntry.objects.filter(playlist__in=playlists)
                .values("playlist__starts_at", "playlist__ends_at", "bulletin_id")
                .annotate(plays=Count("pk"), clusters=Count("playlist__cluster_id", distinct=True)))
        rows = list(sums)
        bulletins_by_pk = Bulletin.objects.in_bulk({row["bulletin_id"] for row in rows})
        for row in rows:
            window = stored.get((row["playlist__starts_at"], row["playlist__ends_at"]))
            bulletin = bulletins_by_pk.get(row["bulletin_id"])
            if window is not None and bulletin is not None:
                window["items"][bulletin.pk] = {"bulletin": bulletin, "plays": row["plays"],
                                                "clusters": row["clusters"]}

    # today and later: worked out from the bulletins approved now, loaded once for the week
    coming = [day for day in days if day >= today]
    loaded, targets = [], {}
    if coming and clusters:
        loaded = list(
            Bulletin.objects.filter(state=BulletinState.APPROVED, valid_from__lte=coming[-1],
                                    valid_until__gte=coming[0])
            .select_related("asset").prefetch_related("clusters", "villages")
            .order_by("-priority", "decided_at", "pk")
        )
        targets = {b.pk: ({c.pk for c in b.clusters.all()}, {v.pk for v in b.villages.all()}) for b in loaded}

    for day, windows in days.items():
        out = []
        if day >= today and clusters:
            day_bulletins = scheduler.DayBulletins.loaded(day, loaded, targets)
            groups: dict[tuple, list] = {}
            for member in clusters:  # clusters the same bulletins target get the same playlist
                key = tuple(b.pk for b in day_bulletins.for_cluster(member))
                groups.setdefault(key, []).append(member)
        for starts_at, ends_at, slot in windows:
            if day < today:
                window = stored.get((starts_at, ends_at))
                built = window is not None
                window = window or {"items": {}, "overflow": [], "missing_audio": []}
                items = list(window["items"].values())
                overflow, missing = window["overflow"], window["missing_audio"]
            else:
                built = bool(clusters)
                merged: dict[int, dict] = {}
                overflow, missing = [], []
                for members in (groups.values() if clusters else []):
                    plan = scheduler.plan_playlist(members[0], starts_at, ends_at, windows, day_bulletins)
                    counted = set()
                    for bulletin, _asset, _offset, _duration in plan.entries:
                        item = merged.setdefault(bulletin.pk, {"bulletin": bulletin, "plays": 0, "clusters": 0})
                        item["plays"] += len(members)
                        if bulletin.pk not in counted:
                            item["clusters"] += len(members)
                            counted.add(bulletin.pk)
                    overflow += [dict(o, cluster=members[0].pk) for o in plan.overflow]
                    missing += [dict(m, cluster=members[0].pk) for m in plan.missing_audio]
                items = list(merged.values())
            items.sort(key=lambda i: (-i["bulletin"].priority, i["bulletin"].pk))
            out.append({"starts_at": starts_at, "ends_at": ends_at, "slot": slot, "built": built, "items": items,
                        "overflow": overflow, "missing_audio": missing})
        result.append((day, out))
    return result
