"""Demo data of the commune radio: loudspeaker clusters in the commune's villages, the default
slots, a week of approved bulletins read by the real speech engine, heartbeats (a few clusters
silent, so offline) and the as-run log of the past days.

Tú Lệ gets the pilot's figures: 12 clusters (24 speakers) in its 9 villages. Other communes get
fewer clusters and bulletins. The bulletins are short, so that seeding stays fast; the same text
and voice are never rendered twice (the audio is reused). Everything goes through the services
(clusters, bulletins, approval, as-run), except the heartbeat history, which is written as the
records a device would have left.

Idempotent: a commune that already has clusters is left alone.
"""
from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from communes.models import Role

# Tú Lệ (Văn Chấn, Yên Bái): 12 clusters in 9 villages, 24 speakers (DOMAIN.md, facts from the pilots).
PILOT = {"04630": {"clusters": 12, "bulletins": 7, "offline": 3, "centre": (21.7985, 104.2960)}}
DEFAULT = {"clusters": 5, "bulletins": 4, "offline": 1, "centre": None}
# Yên Hòa's loudspeakers played at 05:30 and 17:30 (DOMAIN.md); the others keep the default windows.
SLOTS = {"14701": [("Buổi sáng", "05:30", "07:00"), ("Buổi chiều", "17:30", "19:00")]}
CENTRES = {"14701": (20.1450, 105.9890), "16144": (19.9600, 105.9400), "15316": (20.0300, 105.8200),
           "16264": (19.8700, 105.6500)}
HEARTBEAT_MINUTES = 10
HISTORY_DAYS = 6

# Short bulletins of a commune radio: dates, times, numbers, money and abbreviations on purpose.
BULLETINS = [
    ("weather", "Dự báo thời tiết", "Dự báo ngày mai trời nhiều mây, có mưa rào, nhiệt độ từ 18 đến 26 độ. "
                                   "Bà con chú ý che chắn lúa đang phơi."),
    ("health", "Tiêm chủng mở rộng", "Từ ngày 12/3, Trạm Y tế xã tiêm chủng cho trẻ dưới 5 tuổi, từ 7h30 đến 11h. "
                                     "Đề nghị các gia đình mang theo sổ tiêm chủng."),
    ("policy", "Thu BHYT hộ gia đình", "UBND xã thông báo: mức đóng BHYT hộ gia đình năm nay là 1.263.600 đồng "
                                       "một người. Liên hệ bộ phận một cửa, số điện thoại 0912 345 678."),
    ("news", "Lễ hội cốm Tú Lệ", "Lễ hội văn hóa, thể thao và du lịch mùa lúa chín diễn ra ngày 25/9 tại sân "
                                 "vận động xã. Mời bà con đến dự."),
    ("policy", "Cấp đổi CCCD", "Công an xã làm thủ tục cấp đổi CCCD vào sáng thứ 7 hằng tuần, tại nhà văn hóa "
                               "bản Lướt."),
    ("health", "Phòng sốt xuất huyết", "Trạm Y tế khuyến cáo bà con diệt lăng quăng, ngủ màn. Có 2,5% số hộ "
                                       "được kiểm tra còn dụng cụ chứa nước có lăng quăng."),
    ("news", "Họp bản tháng này", "Các bản họp dân vào 19h thứ 6 để bàn kế hoạch làm đường bê tông dài 1.200 m."),
]
PENDING = ("news", "Vệ sinh môi trường", "Sáng chủ nhật, đoàn thanh niên ra quân dọn vệ sinh đường làng, "
                                          "bắt đầu lúc 6h30.")
DRAFT = ("news", "Giải bóng chuyền", "Giải bóng chuyền hơi các bản khai mạc ngày 2/10.")


def _role(officials: dict, role):
    return officials.get(role) or officials.get(getattr(role, "value", role))


def _villages(commune):
    """The villages of the demo commune (made when the registry lacks them), else the registry's."""
    from communes.demo import DEMO_COMMUNES
    from population.models import Village

    names = next((spec.villages for spec in DEMO_COMMUNES if spec.code == commune.code), None)
    if names:
        return [Village.objects.get_or_create(name=name, defaults={
            "kind": Village.Kind.BAN if name.startswith(("Bản", "Khau", "Nà", "Tà", "Sài", "Nậm")) else Village.Kind.THON,
        })[0] for name in names]
    villages = list(Village.objects.order_by("pk"))
    return villages or [Village.objects.get_or_create(name=f"Thôn {n}")[0] for n in range(1, 6)]


def _run_speech_jobs(commune, wait_seconds: float = 120) -> int:
    """Render the queued speech in this process, as a worker would (the demo needs the audio now);
    jobs a running worker took first are waited for (a while)."""
    import time

    from broadcasting.models import SpeechJob
    from jobs.models import JobState
    from jobs.services import execute

    done = 0
    for pk in SpeechJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True):
        if execute(SpeechJob, pk, commune.schema_name) == "succeeded":
            done += 1
    deadline = time.monotonic() + wait_seconds
    while SpeechJob.objects.filter(state=JobState.RUNNING).exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    return done


def populate(commune, officials: dict, *, seed: int | None = None) -> dict:
    """Demo radio data in ``commune``; an empty dict when it already has clusters (or when the
    operator or the chairman is missing)."""
    from broadcasting.models import Cluster

    operator = _role(officials, Role.RADIO_OPERATOR)
    chairman = _role(officials, Role.CHAIRMAN)
    if operator is None or chairman is None:
        return {}
    rng = random.Random(seed if seed is not None else int(commune.code))
    spec = PILOT.get(commune.code, DEFAULT)
    with tenant_context(commune):
        if Cluster.objects.exists():
            return {}
        villages = _villages(commune)
        _slots(commune, operator)
        clusters = _clusters(rng, commune, spec, villages, operator)
        bulletins = _bulletins(commune, spec, operator, chairman)
        offline = _heartbeats(rng, spec, clusters)
        as_run = _as_run(rng, clusters, offline)
        from broadcasting import scheduler

        prepared = scheduler.prepare_upcoming(hours=24)
    return {
        "clusters": len(clusters), "villages": len({c.village_id for c in clusters}),
        "speakers": sum(c.speakers for c in clusters), "bulletins": bulletins, "offline": len(offline),
        "as_run": as_run, "playlists": prepared.get("playlists", 0),
    }


def _slots(commune, operator) -> None:
    """The commune's own windows where the pilots had them (before the first cluster sets the defaults)."""
    from broadcasting import services
    from broadcasting.models import Slot

    if commune.code in SLOTS and not Slot.objects.exists():
        for name, start, end in SLOTS[commune.code]:
            services.create_slot(user=operator, data={"name": name, "start": start, "end": end})


def _clusters(rng, commune, spec, villages, operator) -> list:
    """``spec["clusters"]`` clusters: one per village, the first villages a second one (the pilot's
    12 in 9 villages), two speakers each, placed a few kilometres around the commune's centre."""
    from broadcasting import services

    count = spec["clusters"] if commune.code in PILOT else min(spec["clusters"], len(villages))
    centre = spec["centre"] or CENTRES.get(commune.code) or (21.0, 105.8)
    places = []
    for index in range(count):
        village = villages[index % len(villages)]
        number = index // len(villages) + 1
        places.append((village, number))
    clusters = []
    village_spots = {}
    for village, number in places:
        spot = village_spots.setdefault(village.pk, (centre[0] + rng.uniform(-0.025, 0.025),
                                                     centre[1] + rng.uniform(-0.03, 0.03)))
        lat = spot[0] + (number - 1) * rng.uniform(0.002, 0.004)
        lon = spot[1] + (number - 1) * rng.uniform(0.002, 0.004)
        name = f"Cụm loa {village.name}" + (f" {number}" if number > 1 else "")
        cluster, _token = services.create_cluster(user=operator, data={
            "name": name, "village_id": village.pk, "latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}",
            "speakers": 2, "active": True,
        })
        clusters.append(cluster)
    return clusters


def _bulletins(commune, spec, operator, chairman) -> dict:
    """A week of approved bulletins (valid from six days ago), one waiting for approval, one draft."""
    from broadcasting import services
    from broadcasting.models import Bulletin

    today = timezone.localdate()
    made = []
    for index, (category, title, text) in enumerate(BULLETINS[:spec["bulletins"]]):
        start = today - datetime.timedelta(days=HISTORY_DAYS - index % 3)
        made.append(services.create_bulletin(user=operator, data={
            "title": title, "category": category, "text": text, "valid_from": start,
            "valid_until": today + datetime.timedelta(days=7 - index % 4), "repeats_per_day": 2 if index % 3 else 1,
        }))
    pending = services.create_bulletin(user=operator, data={
        "title": PENDING[1], "category": PENDING[0], "text": PENDING[2], "valid_from": today,
        "valid_until": today + datetime.timedelta(days=3), "repeats_per_day": 2,
    })
    services.create_bulletin(user=operator, data={
        "title": DRAFT[1], "category": DRAFT[0], "text": DRAFT[2], "valid_from": today + datetime.timedelta(days=1),
        "valid_until": today + datetime.timedelta(days=5), "repeats_per_day": 1,
    })
    rendered = _run_speech_jobs(commune)
    for bulletin in made:
        services.submit_bulletin(bulletin=bulletin, user=operator)
        services.approve_bulletin(bulletin=bulletin, user=chairman, note="Đồng ý phát.")
    services.submit_bulletin(bulletin=pending, user=operator)
    # Their approval happened on their first day (as the as-run log of the past days says).
    for bulletin in made:
        first = datetime.datetime.combine(bulletin.valid_from, datetime.time(4, 30), timezone.get_current_timezone())
        Bulletin.objects.filter(pk=bulletin.pk).update(
            created_at=first - datetime.timedelta(hours=16), submitted_at=first - datetime.timedelta(hours=15),
            decided_at=first)
    ready = Bulletin.objects.filter(pk__in=[b.pk for b in made]).exclude(asset__file="").count()
    return {"approved": len(made), "with_audio": ready, "waiting": 1, "drafts": 1, "rendered": rendered}


def _heartbeats(rng, spec, clusters) -> list:
    """Heartbeats every ten minutes over the past days, with short outages; the last
    ``spec["offline"]`` clusters fell silent hours or days ago (offline)."""
    from broadcasting.models import Cluster, Heartbeat

    now = timezone.now()
    start = now - datetime.timedelta(days=HISTORY_DAYS + 1)
    offline = clusters[-spec["offline"]:] if spec["offline"] else []
    silent_since = {c.pk: now - datetime.timedelta(hours=rng.choice([3, 9, 20, 50])) for c in offline}
    rows = []
    last = {}
    for cluster in clusters:
        stop = silent_since.get(cluster.pk, now - datetime.timedelta(seconds=rng.randint(20, 240)))
        moment = start + datetime.timedelta(seconds=rng.randint(0, 600))
        volume = rng.choice([70, 75, 80, 85])
        outage_until = None
        while moment <= stop:
            if outage_until is None and rng.random() < 0.004:  # a power cut of one to three hours
                outage_until = moment + datetime.timedelta(hours=rng.randint(1, 3))
            if outage_until is not None and moment < outage_until:
                moment += datetime.timedelta(minutes=HEARTBEAT_MINUTES)
                continue
            outage_until = None
            rows.append(Heartbeat(cluster=cluster, at=moment, status="ok", volume=volume,
                                  signal=rng.randint(-95, -60), firmware="1.4.2"))
            last[cluster.pk] = rows[-1]
            moment += datetime.timedelta(minutes=HEARTBEAT_MINUTES, seconds=rng.randint(-20, 20))
        # The last beat is exactly where the cluster stopped (online ones: a few minutes ago).
        rows.append(Heartbeat(cluster=cluster, at=stop, status="ok", volume=volume, signal=rng.randint(-95, -60),
                              firmware="1.4.2"))
        last[cluster.pk] = rows[-1]
    with transaction.atomic():
        Heartbeat.objects.bulk_create(rows, batch_size=2000)
        for cluster in clusters:
            beat = last[cluster.pk]
            status = {"status": beat.status, "volume": beat.volume, "signal": beat.signal, "firmware": beat.firmware,
                      "at": beat.at.isoformat()}
            Cluster.objects.filter(pk=cluster.pk).update(last_heartbeat_at=beat.at, last_status=status)
            cluster.last_heartbeat_at, cluster.last_status = beat.at, status
    return offline


def _as_run(rng, clusters, offline) -> int:
    """What each cluster played in the windows of the past days (the scheduler's plan for that
    window, played from its start), reported through the as-run service."""
    from broadcasting import scheduler, services

    now = timezone.now()
    today = timezone.localdate()
    windows_by_day = {}
    for back in range(HISTORY_DAYS, -1, -1):
        day = today - datetime.timedelta(days=back)
        windows_by_day[day] = services.slots_for_day(day)
    candidates = {day: scheduler.DayBulletins(day) for day in windows_by_day}
    stored = 0
    for cluster in clusters:
        silent = cluster.last_heartbeat_at if cluster in offline else None
        entries = []
        for day, windows in windows_by_day.items():
            for starts_at, ends_at, _slot in windows:
                if ends_at > now or (silent is not None and starts_at > silent):
                    continue
                plan = scheduler.plan_playlist(cluster, starts_at, ends_at, windows, candidates[day])
                delay = datetime.timedelta(seconds=rng.randint(0, 4))
                for bulletin, asset, offset, duration in plan.entries:
                    started = starts_at + delay + datetime.timedelta(seconds=float(offset))
                    if silent is not None and started > silent:  # fell silent during the window
                        continue
                    entries.append({"asset_key": asset.key, "bulletin_id": bulletin.pk, "started_at": started.isoformat(),
                                    "ended_at": (started + datetime.timedelta(seconds=float(duration))).isoformat()})
        for chunk in range(0, len(entries), services.MAX_AS_RUN_ENTRIES):
            stored += services.record_as_run(cluster=cluster, entries=entries[chunk:chunk + services.MAX_AS_RUN_ENTRIES])
    return stored


def seed_demo(context) -> None:
    """The demo step (``communes.modules.DemoStep``): loudspeaker clusters in the villages, the
    daily slots, a week of bulletins read by the speech engine, heartbeats (some clusters
    offline) and the as-run log."""
    for _spec, commune in context.communes:
        made = populate(commune, context.officials(commune))
        if made:
            bulletins = made["bulletins"]
            context.out(
                f"  {commune}: {made['clusters']} loudspeaker clusters in {made['villages']} villages "
                f"({made['offline']} offline), {bulletins['approved']} approved bulletins "
                f"({bulletins['with_audio']} with audio), {made['as_run']} plays in the as-run log")
