"""Benchmark: loudspeaker clusters polling their playlist on a real server, and the speed of speech.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso python bench/broadcast.py --seconds 15 --clients 4

Creates a scratch database (``xaso_bench_broadcast``) with one commune, ``--clusters`` loudspeaker
clusters (1,000 by default) in its nine villages, each with its device token, the default slots
and a few approved bulletins whose audio eSpeak NG renders in this process; builds every
cluster's playlists for the coming day (what the beat task does); starts gunicorn on it
(``--workers`` sync workers, as the portal is deployed) and drives it over HTTP from
``--clients`` threads for ``--seconds`` each, every request as the next of the clusters in turn:

* baseline: ``GET /bench/minimal/``, a Django view that returns "ok" through the whole
  middleware stack (host routing to the commune's schema, sessions, language);
* poll: ``GET /api/v1/radio/device/playlist/`` with the cluster's ``Authorization: Device``
  token (token hashed and looked up, the current and next windows' stored playlists, the
  emergency state, the ETag) and no ``If-None-Match``: the JSON playlist (200);
* poll with ``If-None-Match``: the same with the ETag the cluster received before: 304 and no
  body (a share of 200s is counted when a window starts or ends during the run).

Prints requests per second, median and 95th-percentile latency, and each figure's ratio to the
baseline measured in the same run; then the real-time factor of speech synthesis for a typical
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
VILLAGES = ("Bản Lướt", "Bản Phạ", "Bản Chao", "Khau Thán", "Nà Lóng", "Tà Chơ", "Sài Lương", "Nậm Lành", "Bản Đồng")

BULLETINS = [
    ("weather", "Dự báo thời tiết", "Ngày mai trời nhiều mây, có mưa rào, nhiệt độ từ 18 đến 26 độ."),
    ("health", "Tiêm chủng", "Từ ngày 12/3, Trạm Y tế xã tiêm chủng cho trẻ dưới 5 tuổi, từ 7h30 đến 11h."),
    ("policy", "BHYT", "Mức đóng BHYT hộ gia đình năm nay là 1.263.600 đồng một người."),
    ("news", "Họp bản", "Các bản họp dân vào 19h thứ 6 để bàn kế hoạch làm đường bê tông dài 1.200 m."),
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
            "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--speech-runs", type=int, default=3)
    options = parser.parse_args()
    # Job messages go nowhere: the speech jobs of the setup run in this process.
    os.environ["CELERY_BROKER_URL"] = "memory://"
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


def run(url: str, options, media: str) -> None:
    print(f"Setting up {options.clusters} clusters …", flush=True)
    _commune, tokens, took = setup_commune(options)
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
        results = [drive("baseline (minimal view)", baseline, clients=options.clients, seconds=options.seconds)]
        results.append(drive("poll (200, JSON)", poll, clients=options.clients, seconds=options.seconds))
        results.append(drive("poll If-None-Match (304)", poll_if_none_match, clients=options.clients,
                             seconds=options.seconds, accept=(200, 304)))
        results.append(drive("baseline again", baseline, clients=options.clients, seconds=options.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    reference = (results[0]["rate"] + results[-1]["rate"]) / 2
    print(f"\n{options.clusters} clusters polling in turn; {options.clients} clients, {options.workers} gunicorn "
          f"workers, {options.seconds:.0f} s per load")
    print(f"{'load':<28}{'requests':>9}{'per s':>9}{'median ms':>11}{'p95 ms':>9}{'vs baseline':>13}  statuses")
    for row in results:
        statuses = ", ".join(f"{code}: {count}" for code, count in sorted(row["statuses"].items()))
        print(f"{row['name']:<28}{row['count']:>9}{row['rate']:>9.1f}{row['median'] * 1000:>11.1f}"
              f"{row['p95'] * 1000:>9.1f}{row['rate'] / reference:>12.3f}×  {statuses}")
    from broadcasting.scheduler import POLL_SECONDS

    poll_rate = results[2]["rate"]
    print(f"At {poll_rate:.0f} conditional polls per second, {options.clusters} clusters polling every "
          f"{POLL_SECONDS} s use {options.clusters / POLL_SECONDS / poll_rate * 100:.1f} % of this server.")
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
