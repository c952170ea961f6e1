"""Benchmark: loudspeaker clusters polling their playlist on a real server, and the speed of speech.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso python bench/broadcast.py --seconds 15 --clients 4

Creates a scratch database (``xaso_bench_broadcast``) with one commune, ``--clusters`` loudspeaker
clusters (1,000 by default) in its nine villages, each with its device token, the default slots
and a few approved bulletins whose audio eSpeak NG renders in this process; builds every
cluster's playlists for the coming day (what the beat task does); starts gunicorn on it
(``--workers`` sync workers, as the portal is deployed) and drives it over HTTP from
``--clients`` threads for ``--seconds`` each (cut into ``--rounds`` rounds that run every load in
turn, so that a machine whose load changes meanwhile slows every load alike), every request as
the next of the clusters in turn:

* baseline: ``GET /bench/minimal/``, a Django view that returns "ok" through the whole
  middleware stack (host routing to the commune's schema, sessions, language);
* poll: ``GET /api/v1/radio/device/playlist/`` with the cluster's ``Authorization: Device``
  token (token hashed and looked up, the current and next windows' stored playlists, the
  emergency state, the ETag) and no ``If-None-Match``: the JSON playlist (200);
* poll with ``If-None-Match``: the same with the ETag the cluster received before: 304 and no
  body (a share of 200s is counted when a window starts or ends during the run).

Prints requests per second, median and 95th-percentile latency, and each figure's ratio to the
baseline measured in the same run (the goals: a 304 at 0.7× the minimal view or more, a 200 at
0.5× or more).

Then the radio's week page (``/radio/week/``) of a second commune of the demo's size (12
clusters in 9 villages, 7 approved bulletins with their audio, the playlists of the week's past
days stored as beat built them then), for its radio operator logged in through the login and
code pages: the time of each of ``--week-runs`` requests over HTTP, and in this process the
former way of that page (every day's playlists built on the GET, ``selectors.day_schedule``,
after a change deleted the coming ones) beside the page's reading now
(``selectors.week_schedule``, nothing written).

Then the real-time factor of speech synthesis for a typical
bulletin (about one minute of speech): seconds of audio made per second of computing, for the
reading (normaliser), eSpeak NG, and the loudness normalisation with the MP3 encoding and its
check — what a speech job does.
"""
from __future__ import annotations

import argparse
import datetime
import itertools
import os
import statistics
import tempfile
import threading
import time

import requests
from _scratch import free_port, scratch_database, start_gunicorn, summary

SCRATCH = "xaso_bench_broadcast"
HOST = "tule.bench.test"
DEMO_HOST = "yenhoa.bench.test"
OPERATOR_PASSWORD = "Bench-mat-khau-2026!"
VILLAGES = ("Bản Lướt", "Bản Phạ", "Bản Chao", "Khau Thán", "Nà Lóng", "Tà Chơ", "Sài Lương", "Nậm Lành", "Bản Đồng")

BULLETINS = [
    ("weather", "Dự báo thời tiết", "Ngày mai trời nhiều mây, có mưa rào, nhiệt độ từ 18 đến 26 độ."),
    ("health", "Tiêm chủng", "Từ ngày 12/3, Trạm Y tế xã tiêm chủng cho trẻ dưới 5 tuổi, từ 7h30 đến 11h."),
    ("policy", "BHYT", "Mức đóng BHYT hộ gia đình năm nay là 1.263.600 đồng một người."),
    ("news", "Họp bản", "Các bản họp dân vào 19h thứ 6 để bàn kế hoạch làm đường bê tông dài 1.200 m."),
]
# three more for the demo-sized commune (seven bulletins, as the demo's pilot commune)
MORE_BULLETINS = [
    ("policy", "Quyết định hỗ trợ", "Theo Quyết định số 12/QĐ-UBND, hộ nghèo được hỗ trợ 500.000 đồng."),
    ("news", "Giao thông", "Sạt lở tại Km15+300 QL32, bà con đi lại cẩn thận."),
    ("weather", "Rét đậm", "Đêm nay rét đậm, nhiệt độ thấp nhất -2°C ở vùng núi cao."),
]

# A typical bulletin: about one minute read aloud.
TYPICAL = (
    "Ủy ban nhân dân xã Tú Lệ thông báo. Thực hiện kế hoạch số 125/KH-UBND ngày 12/3/2026 về tiêm chủng mở rộng, "
    "từ ngày 15/3 đến ngày 20/3, Trạm Y tế xã tổ chức tiêm vắc xin cho trẻ em dưới 5 tuổi và phụ nữ có thai, "
    "buổi sáng từ 7h30 đến 11h, buổi chiều từ 13h30 đến 16h30. Đề nghị các gia đình mang theo sổ tiêm chủng và "
    "thẻ BHYT của trẻ. Năm nay xã có 1.340 hộ với 6.373 nhân khẩu; tỷ lệ tiêm chủng đầy đủ năm trước đạt 96,5%. "
    "Mức đóng BHYT hộ gia đình là 1.263.600 đồng một người một năm; người thứ hai đóng bằng 70% người thứ nhất. "
    "Mọi thắc mắc xin liên hệ Trạm Y tế, số điện thoại 0912 345 678, hoặc bộ phận một cửa của UBND xã. "
    "Đài truyền thanh xã xin thông báo để bà con được biết và thực hiện."
)


def drive(name: str, make_request, *, clients: int, seconds: float, accept=(200,)) -> dict:
    """Run ``make_request(session)`` from ``clients`` threads for ``seconds``; every answer must
    have a status in ``accept`` (counted per status)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker():
        session = requests.Session()
        mine, seen = [], {}
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = make_request(session)
            mine.append(time.perf_counter() - started)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code not in accept:
                with lock:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                break
        with lock:
            latencies.extend(mine)
            for code, count in seen.items():
                statuses[code] = statuses.get(code, 0) + count

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{name}: {errors[0]}")
    _mean, median, p95 = summary(latencies)
    return {"name": name, "count": len(latencies), "rate": len(latencies) / elapsed, "median": median, "p95": p95,
            "statuses": statuses, "latencies": latencies, "elapsed": elapsed}


def merged(rows: list[dict]) -> dict:
    """The rounds of one load as one row."""
    latencies = [value for row in rows for value in row["latencies"]]
    elapsed = sum(row["elapsed"] for row in rows)
    statuses: dict[int, int] = {}
    for row in rows:
        for code, count in row["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    _mean, median, p95 = summary(latencies)
    return {"name": rows[0]["name"], "count": len(latencies), "rate": len(latencies) / elapsed, "median": median,
            "p95": p95, "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--speech-runs", type=int, default=3)
    parser.add_argument("--week-runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    # Job messages go nowhere: the speech jobs of the setup run in this process.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    # The devices' answers and heartbeats kept in Redis stay apart from anything else's.
    os.environ["XASO_CACHE_PREFIX"] = f"bench-broadcast-{os.getpid()}"
    with tempfile.TemporaryDirectory() as media:
        os.environ["XASO_MEDIA_ROOT"] = media
        with scratch_database(SCRATCH) as url:
            run(url, options, media)


def setup_commune(options) -> tuple[object, list[str], dict]:
    """The commune, its clusters' tokens, and what the setup took."""
    import logging

    logging.getLogger("broadcasting").setLevel(logging.WARNING)  # one line per cluster otherwise
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from broadcasting import scheduler, services
    from broadcasting.models import SpeechJob
    from communes.models import Membership, Role, User
    from communes.services import create_commune, load_administrative_units
    from jobs.models import JobState
    from jobs.services import execute
    from population.models import Village

    load_administrative_units(with_legacy=False)
    commune, _seconds = create_commune(code="04630", name="Tú Lệ", domain=HOST, province_code="15")
    operator = User.objects.create_user("bench_operator", password="x", full_name="Hà Văn Dũng")
    chairman = User.objects.create_user("bench_chairman", password="x", full_name="Lò Văn Thành")
    Membership.objects.create(user=operator, commune=commune, role=Role.RADIO_OPERATOR)
    Membership.objects.create(user=chairman, commune=commune, role=Role.CHAIRMAN)
    took = {}
    with tenant_context(commune):
        villages = [Village.objects.create(name=name) for name in VILLAGES]
        started = time.perf_counter()
        tokens = []
        for number in range(options.clusters):
            village = villages[number % len(villages)]
            _cluster, token = services.create_cluster(user=operator, data={
                "name": f"Cụm loa {number + 1:04d}", "village_id": village.pk, "speakers": 2,
                "latitude": f"{21.78 + (number % 40) * 0.001:.6f}", "longitude": f"{104.28 + (number // 40) * 0.001:.6f}"})
            tokens.append(token)
        took["clusters"] = time.perf_counter() - started
        started = time.perf_counter()
        today = timezone.localdate()
        bulletins = [services.create_bulletin(user=operator, data={
            "title": title, "category": category, "text": text, "valid_from": today,
            "valid_until": today + datetime.timedelta(days=7), "repeats_per_day": 2,
        }) for category, title, text in BULLETINS]
        for pk in SpeechJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True):
            outcome = execute(SpeechJob, pk, commune.schema_name)
            if outcome != "succeeded":
                raise SystemExit(f"A speech job ended {outcome}: is espeak-ng installed?")
        for bulletin in bulletins:
            services.submit_bulletin(bulletin=bulletin, user=operator)
            services.approve_bulletin(bulletin=bulletin, user=chairman)
        took["bulletins"] = time.perf_counter() - started
        started = time.perf_counter()
        prepared = scheduler.prepare_upcoming(hours=24)
        took["playlists"] = time.perf_counter() - started
        took["prepared"] = prepared
    connection.close()
    return commune, tokens, took


def setup_demo_commune() -> tuple[object, object]:
    """A commune of the demo's size for the week page: 12 clusters in 9 villages, 7 approved
    bulletins with audio valid all week, the playlists of the week's past days stored (built by
    beat on those days); returns the commune and its radio operator (password set as the
    server hashes it, MD5)."""
    from django.contrib.auth.hashers import MD5PasswordHasher
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from broadcasting import scheduler, services
    from broadcasting.models import Bulletin, SpeechJob
    from communes.models import Membership, Role, User
    from communes.services import create_commune
    from jobs.models import JobState
    from jobs.services import execute
    from population.models import Village

    commune, _seconds = create_commune(code="04636", name="Yên Hòa", domain=DEMO_HOST, province_code="15")
    operator = User.objects.create_user("bench_demo_operator", password="x", full_name="Vì Thị Hoa")
    chairman = User.objects.create_user("bench_demo_chairman", password="x", full_name="Sa Văn Minh")
    hasher = MD5PasswordHasher()
    operator.password = hasher.encode(OPERATOR_PASSWORD, hasher.salt())
    operator.save(update_fields=["password"])
    Membership.objects.create(user=operator, commune=commune, role=Role.RADIO_OPERATOR)
    Membership.objects.create(user=chairman, commune=commune, role=Role.CHAIRMAN)
    with tenant_context(commune):
        villages = [Village.objects.create(name=name) for name in VILLAGES]
        for number in range(12):
            services.create_cluster(user=operator, data={
                "name": f"Cụm loa {number + 1:02d}", "village_id": villages[number % len(villages)].pk, "speakers": 2})
        today = timezone.localdate()
        monday = today - datetime.timedelta(days=today.weekday())
        made = []
        for index, (category, title, text) in enumerate(BULLETINS + MORE_BULLETINS):
            data = {"title": title, "category": category, "text": text, "valid_from": today,
                    "valid_until": monday + datetime.timedelta(days=6), "repeats_per_day": 2}
            if index % 3 == 2:
                data["village_ids"] = [villages[index % len(villages)].pk]
            made.append(services.create_bulletin(user=operator, data=data))
        for pk in SpeechJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True):
            if execute(SpeechJob, pk, commune.schema_name) != "succeeded":
                raise SystemExit("A speech job failed: is espeak-ng installed?")
        for bulletin in made:
            services.submit_bulletin(bulletin=bulletin, user=operator)
            services.approve_bulletin(bulletin=bulletin, user=chairman)
        Bulletin.objects.filter(pk__in=[b.pk for b in made]).update(valid_from=monday)
        # the past days of the week: their playlists, built by beat on those days
        windows = services.slots_for_days(monday, today - datetime.timedelta(days=1))
        from broadcasting.models import Cluster

        for day, day_windows in windows.items():
            candidates = scheduler.DayBulletins(day)
            for cluster in Cluster.objects.all():
                for starts_at, ends_at, _slot in day_windows:
                    scheduler.build_playlist(cluster, starts_at, ends_at, day_windows, candidates)
    connection.close()
    return commune, operator


def log_in(base: str, host: str, user) -> requests.Session:
    """The operator logged in through the login page and the authenticator-app page (enrolling
    the app the first time, as an official does)."""
    import re

    import pyotp
    from django.db import connection

    from communes.second_factor import device_for, device_secret

    headers = {"Host": host}
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", headers=headers, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(f"{base}/accounts/login/", headers={**headers, "Referer": f"{base}/accounts/login/"},
                          timeout=30, allow_redirects=False,
                          data={"csrfmiddlewaretoken": token, "username": user.username, "password": OPERATOR_PASSWORD})
    if answer.status_code != 302 or "/accounts/2fa/" not in answer.headers.get("Location", ""):
        raise SystemExit(f"The operator's password was not taken: {answer.status_code} {answer.text[:300]}")
    page = session.get(f"{base}/accounts/2fa/", headers=headers, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    code = pyotp.TOTP(device_secret(device_for(user))).now()
    connection.close()
    answer = session.post(f"{base}/accounts/2fa/", headers={**headers, "Referer": f"{base}/accounts/2fa/"},
                          timeout=30, data={"csrfmiddlewaretoken": token, "code": code}, allow_redirects=False)
    if answer.status_code != 302 or "/accounts/" in answer.headers.get("Location", "/accounts/"):
        raise SystemExit(f"The operator could not log in: {answer.status_code} {answer.headers.get('Location')}")
    return session


def week_page(base: str, commune, operator, runs: int) -> dict:
    """The week page over HTTP, and in this process the former way (building on the GET) beside
    the reading now."""
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from broadcasting import scheduler, selectors
    from broadcasting.models import Cluster, Playlist

    session = log_in(base, DEMO_HOST, operator)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = session.get(f"{base}/radio/week/", headers={"Host": DEMO_HOST}, timeout=60)
        times.append(time.perf_counter() - started)
        if response.status_code != 200 or "Cụm loa" not in response.text:
            raise SystemExit(f"The week page answered {response.status_code}: {response.text[:300]}")
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    former, now = [], []
    with tenant_context(commune):
        clusters = list(Cluster.objects.filter(active=True).select_related("village"))
        for _ in range(max(3, runs // 4)):
            scheduler.invalidate()  # a change: the coming playlists are deleted, as an approval does
            started = time.perf_counter()
            [selectors.day_schedule(monday + datetime.timedelta(days=i), clusters=clusters) for i in range(7)]
            former.append(time.perf_counter() - started)
            started = time.perf_counter()
            selectors.week_schedule(monday, clusters=clusters)
            now.append(time.perf_counter() - started)
        stored = Playlist.objects.count()
    connection.close()
    _mean, median, p95 = summary(times)
    return {"median": median, "p95": p95, "runs": runs, "former": statistics.median(former),
            "now": statistics.median(now), "stored": stored, "clusters": len(clusters)}


def run(url: str, options, media: str) -> None:
    print(f"Setting up {options.clusters} clusters …", flush=True)
    _commune, tokens, took = setup_commune(options)
    demo_commune, demo_operator = setup_demo_commune()
    prepared = took["prepared"]
    print(f"  clusters and tokens {took['clusters']:.1f} s; bulletins with audio {took['bulletins']:.1f} s; "
          f"{prepared['playlists']} playlists ({prepared['entries']} entries) built in {took['playlists']:.1f} s",
          flush=True)

    port = free_port()
    server = start_gunicorn(url, port, workers=options.workers, media=media, settings_module="broadcast_server", host=HOST)
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Host": HOST}
        playlist_url = f"{base}/api/v1/radio/device/playlist/"
        device_headers = [{**headers, "Authorization": f"Device {token}"} for token in tokens]
        etags: list[str | None] = [None] * len(tokens)
        counter = itertools.count()
        lock = threading.Lock()

        def next_cluster() -> int:
            with lock:
                return next(counter) % len(tokens)

        def baseline(session):
            return session.get(f"{base}/bench/minimal/", headers=headers, timeout=30)

        def first_poll(session):  # every cluster once, to learn its ETag
            index = next_cluster()
            response = session.get(playlist_url, headers=device_headers[index], timeout=60)
            etags[index] = response.headers.get("ETag")
            return response

        def poll(session):
            return session.get(playlist_url, headers=device_headers[next_cluster()], timeout=60)

        def poll_if_none_match(session):
            index = next_cluster()
            response = session.get(playlist_url, timeout=60,
                                   headers={**device_headers[index], "If-None-Match": etags[index] or '"-"'})
            if response.status_code == 200:
                etags[index] = response.headers.get("ETag")
            return response

        drive("warm-up", baseline, clients=options.clients, seconds=2)
        started = time.perf_counter()
        while None in etags:
            drive("first polls", first_poll, clients=options.clients, seconds=1)
        print(f"  first poll of every cluster: {time.perf_counter() - started:.1f} s", flush=True)
        # the loads in turn, in rounds: a machine whose load changes meanwhile slows each load alike
        loads = [("baseline (minimal view)", baseline, (200,)), ("poll (200, JSON)", poll, (200,)),
                 ("poll If-None-Match (304)", poll_if_none_match, (200, 304))]
        rounds: dict[str, list] = {name: [] for name, _f, _a in loads}
        for _round in range(options.rounds):
            for name, make, accept in loads:
                rounds[name].append(drive(name, make, clients=options.clients,
                                          seconds=options.seconds / options.rounds, accept=accept))
        results = [merged(rows) for rows in rounds.values()]
        week = week_page(base, demo_commune, demo_operator, options.week_runs)
    finally:
        server.terminate()
        server.wait(timeout=30)
    reference = results[0]["rate"]
    print(f"\n{options.clusters} clusters polling in turn; {options.clients} clients, {options.workers} gunicorn "
          f"workers, {options.seconds:.0f} s per load in {options.rounds} rounds")
    print(f"{'load':<28}{'requests':>9}{'per s':>9}{'median ms':>11}{'p95 ms':>9}{'vs baseline':>13}  statuses")
    for row in results:
        statuses = ", ".join(f"{code}: {count}" for code, count in sorted(row["statuses"].items()))
        print(f"{row['name']:<28}{row['count']:>9}{row['rate']:>9.1f}{row['median'] * 1000:>11.1f}"
              f"{row['p95'] * 1000:>9.1f}{row['rate'] / reference:>12.3f}×  {statuses}")
    from broadcasting.scheduler import POLL_SECONDS

    poll_rate = results[2]["rate"]
    print(f"At {poll_rate:.0f} conditional polls per second, {options.clusters} clusters polling every "
          f"{POLL_SECONDS} s use {options.clusters / POLL_SECONDS / poll_rate * 100:.1f} % of this server.")
    print(f"Beside the minimal view ({reference:.0f} per s): poll answered 304 {results[2]['rate'] / reference:.2f}× "
          f"(goal ≥ 0.70×), poll answered 200 {results[1]['rate'] / reference:.2f}× (goal ≥ 0.50×).")
    print(f"\nWeek page of a commune of the demo's size ({week['clusters']} clusters, 7 bulletins), "
          f"{week['runs']} GETs over HTTP: median {week['median'] * 1000:.0f} ms, p95 {week['p95'] * 1000:.0f} ms "
          f"(goal ≤ 500 ms).")
    print(f"  in this process: the former way, every day's playlists built on the GET, "
          f"{week['former'] * 1000:.0f} ms; the page's reading now, nothing written, {week['now'] * 1000:.0f} ms "
          f"({week['former'] / week['now']:.0f}× faster)")
    speech(options.speech_runs)


def speech(runs: int) -> None:
    """Real-time factor of the speech path for a typical bulletin, stage by stage."""
    from django.conf import settings

    from broadcasting.pronunciations import default_pronunciations
    from broadcasting.speech import audio
    from broadcasting.speech.engines import get_engine
    from broadcasting.speech.normalize import normalize

    engine = get_engine("espeak")
    voice = settings.XASO_TTS_VOICE
    mapping, insensitive = default_pronunciations()
    rows = []
    for _ in range(runs):
        started = time.perf_counter()
        text = normalize(TYPICAL, pronunciations=mapping, case_insensitive=insensitive)
        normalized = time.perf_counter()
        samples, rate = engine.synthesize(text, voice)
        synthesized = time.perf_counter()
        data, lufs, duration = audio.render_mp3(samples, rate, float(settings.XASO_TTS_TARGET_LUFS))
        encoded = time.perf_counter()
        rows.append({"normalize": normalized - started, "synthesize": synthesized - normalized,
                     "mp3": encoded - synthesized, "total": encoded - started, "duration": duration, "lufs": lufs,
                     "bytes": len(data)})
    median = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    print(f"\nSpeech of a typical bulletin ({len(TYPICAL)} characters, {len(text)} as read; engine {engine.name}, "
          f"voice {voice}; median of {runs} runs)")
    print(f"  audio {median['duration']:.1f} s, MP3 {median['bytes'] / 1024:.0f} KiB, {median['lufs']:.2f} LUFS")
    print(f"  reading (normaliser) {median['normalize'] * 1000:.1f} ms; eSpeak NG {median['synthesize']:.2f} s; "
          f"loudness + MP3 + check {median['mp3']:.2f} s; total {median['total']:.2f} s")
    print(f"  real-time factor: {median['duration'] / median['total']:.1f} s of audio per second of computing "
          f"(eSpeak NG alone {median['duration'] / median['synthesize']:.1f})")


if __name__ == "__main__":
    main()
