"""Device polls answered from Redis: an unchanged answer reads no table; every change of what a
device is told (bulletins, audio, slots, clusters, tokens, emergencies, time) gives a new answer
at the next poll; heartbeats are written later by beat; without Redis everything is answered from
PostgreSQL, and nothing stale is served when Redis comes back."""
from __future__ import annotations

import copy
import datetime
import socket

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from broadcasting import device_cache, services
from broadcasting.models import Cluster, Heartbeat, Slot
from broadcasting.tasks import flush_heartbeats

from .helpers import (  # noqa: F401 - fixtures
    JSON, StayIn, approved_bulletin, at, clock, device_headers, make_cluster, make_mp3, pending_asset,
)

DAY = "03/12/2026"
PLAYLIST = "/api/v1/radio/device/playlist/"
HEARTBEAT = "/api/v1/radio/device/heartbeat/"


@pytest.fixture
def radio(in_tule, villages, people, clock, client_for, settings):
    settings.XASO_RADIO_HEARTBEAT_MIN_SECONDS = 20
    settings.XASO_RADIO_OFFLINE_SECONDS = 600
    operator = people["radio_operator"]
    cluster, token = make_cluster(operator, villages[0], "Cụm loa trung tâm")
    other, other_token = make_cluster(operator, villages[1], "Cụm loa Bản Phạ")
    return {"cluster": cluster, "token": token, "other": other, "other_token": other_token, "clock": clock,
            "device": StayIn(client_for("tule.localhost"), in_tule), "operator": operator,
            "chairman": people["chairman"], "villages": villages, "settings": settings}


def poll(radio, token=None, etag=None):
    headers = device_headers(token or radio["token"])
    if etag:
        headers["HTTP_IF_NONE_MATCH"] = etag
    return radio["device"].get(PLAYLIST, **headers)


def radio_queries(queries) -> list[str]:
    """The statements that read or write the radio's tables (or the user's, the token's …)."""
    return [q["sql"] for q in queries.captured_queries
            if not q["sql"].startswith("SET search_path") and "communes_domain" not in q["sql"]]


def dead_redis(settings) -> None:
    """Point the shared cache at a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caches = copy.deepcopy(settings.CACHES)
    caches["shared"]["LOCATION"] = f"redis://127.0.0.1:{port}/0"
    settings.CACHES = caches


def test_an_unchanged_answer_reads_no_table(radio):
    approved_bulletin(title="Tin sáng", duration=90)
    first = poll(radio)
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = poll(radio, etag=first["ETag"])
        full = poll(radio)
    assert again.status_code == 304 and again["ETag"] == first["ETag"] and again.content == b""
    assert full.status_code == 200 and full["ETag"] == first["ETag"] and full.json() == first.json()
    assert full["Content-Type"] == "application/json"
    assert radio_queries(queries) == []
    assert sorted(full.headers) == sorted(first.headers)  # the same answer as the REST framework's
    assert {k: full[k] for k in ("Allow", "Vary", "Cache-Control")} == {k: first[k] for k in ("Allow", "Vary",
                                                                                              "Cache-Control")}
    # the other cluster has its own answer
    other = poll(radio, radio["other_token"])
    assert other.status_code == 200 and other.json()["cluster"]["id"] == radio["other"].pk


def _approve_new(radio):
    bulletin = approved_bulletin(title="Mới", state="submitted")
    services.approve_bulletin(bulletin=bulletin, user=radio["chairman"])


def _withdraw(radio):
    services.withdraw_bulletin(bulletin=radio["bulletin"], user=radio["chairman"])


def _slot_moved(radio):
    slot = Slot.objects.get(start=datetime.time(5, 0))
    services.update_slot(slot=slot, user=radio["operator"], data={"end": "08:00"})


def _slot_cancelled_today(radio):
    slot = Slot.objects.get(start=datetime.time(5, 0))
    services.add_slot_exception(user=radio["operator"], data={"date": DAY, "kind": "cancel", "slot_id": slot.pk})


def _cluster_moved(radio):
    radio["bulletin"].villages.set([radio["villages"][0]])
    poll(radio)  # answer kept for the first village
    services.update_cluster(cluster=radio["cluster"], user=radio["operator"],
                            data={"village_id": radio["villages"][2].pk})


def _emergency(radio):
    storm = approved_bulletin(title="Bão", category="emergency", duration=30)
    radio["emergency"] = services.send_emergency(user=radio["chairman"], bulletin=storm)


def _emergency_cancelled(radio):
    _emergency(radio)
    poll(radio)
    services.cancel_emergency(emergency=radio["emergency"], user=radio["chairman"])


def _audio_ready(radio):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    asset = pending_asset("tin đang đọc")
    waiting = approved_bulletin(title="Chờ tiếng", asset=asset, state="submitted")
    services.approve_bulletin(bulletin=waiting, user=radio["chairman"])
    poll(radio)  # kept while the audio is missing
    asset.file = default_storage.save_final(f"radio/audio/{asset.key}.mp3", ContentFile(make_mp3()))
    asset.duration_seconds = 20
    asset.save()


def _window_ends(radio):
    radio["clock"].set(at(DAY, "07:31"))  # the morning window ended: no write at all


def _extra_window(radio):
    services.add_slot_exception(user=radio["operator"], data={"date": DAY, "kind": "extra", "start": "11:00",
                                                              "end": "11:30"})  # the next window is another


CHANGES = [_approve_new, _withdraw, _slot_moved, _slot_cancelled_today, _extra_window, _cluster_moved, _emergency,
           _emergency_cancelled, _audio_ready, _window_ends]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_every_change_gives_a_new_etag_at_the_next_poll(radio, change):
    approved_bulletin(title="Tin khác", duration=40)
    radio["bulletin"] = approved_bulletin(title="Tin sáng", duration=90)
    before = poll(radio)
    assert poll(radio, etag=before["ETag"]).status_code == 304  # kept
    change(radio)
    after = poll(radio, etag=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"], change.__name__
    assert after.json() != before.json()
    assert poll(radio, etag=after["ETag"]).status_code == 304


def test_a_renamed_cluster_is_told_its_name(radio):
    first = poll(radio).json()
    services.update_cluster(cluster=radio["cluster"], user=radio["operator"], data={"name": "Cụm loa chợ"})
    assert first["cluster"]["name"] == "Cụm loa trung tâm"
    assert poll(radio).json()["cluster"]["name"] == "Cụm loa chợ"


def test_a_revoked_or_rotated_token_is_refused_at_once(radio):
    assert poll(radio).status_code == 200 and poll(radio).status_code == 200  # kept in Redis
    cluster = Cluster.objects.get(pk=radio["cluster"].pk)
    services.revoke_token(cluster=cluster, user=radio["operator"])
    assert poll(radio).status_code == 401
    assert radio["device"].post(HEARTBEAT, {}, **JSON, **device_headers(radio["token"])).status_code == 401
    new = services.rotate_token(cluster=cluster, user=radio["operator"])
    assert poll(radio, new).status_code == 200 and poll(radio, new).status_code == 200
    newer = services.rotate_token(cluster=cluster, user=radio["operator"])
    assert poll(radio, new).status_code == 401 and poll(radio, newer).status_code == 200
    assert poll(radio, radio["other_token"]).status_code == 200  # the others keep working


def test_heartbeats_are_written_by_beat_and_offline_still_holds(radio):
    headers = device_headers(radio["token"])
    with CaptureQueriesContext(connection) as queries:
        answer = radio["device"].post(HEARTBEAT, {"status": "playing", "volume": 70}, **JSON, **headers)
    assert answer.status_code == 201 and answer.json()["received_at"]
    assert not [q for q in radio_queries(queries) if "broadcasting_heartbeat" in q or "UPDATE" in q]
    assert not Heartbeat.objects.exists()  # not yet: kept in Redis
    radio["clock"].advance(5)
    throttled = radio["device"].post(HEARTBEAT, {"status": "playing"}, **JSON, **headers)
    assert throttled.status_code == 429 and throttled["Retry-After"] == "15"

    assert flush_heartbeats() == {connection.schema_name: 1}
    beat = Heartbeat.objects.get()
    assert beat.cluster_id == radio["cluster"].pk and beat.volume == 70 and beat.status == "playing"
    cluster = Cluster.objects.get(pk=radio["cluster"].pk)
    assert cluster.last_heartbeat_at == radio["clock"].now - datetime.timedelta(seconds=5)
    assert cluster.last_status["volume"] == 70 and cluster.history.count() == 1
    from broadcasting import scheduler

    assert not scheduler.is_offline(cluster)
    assert scheduler.is_offline(cluster, radio["clock"].now + datetime.timedelta(seconds=600))
    assert flush_heartbeats() == {}  # nothing left
    # an older heartbeat written late does not move the last one back
    services.write_heartbeats([{"cluster": radio["cluster"].pk, "at": at(DAY, "05:00").isoformat(),
                                "status": "old"}])
    assert Cluster.objects.get(pk=radio["cluster"].pk).last_status["status"] == "playing"


def test_without_redis_polls_and_heartbeats_go_to_postgresql(radio):
    radio["bulletin"] = approved_bulletin(title="Tin sáng", duration=90)
    kept = poll(radio)  # kept in Redis
    dead_redis(radio["settings"])
    first = poll(radio)
    assert first.status_code == 200 and first.json() == kept.json() and first["ETag"] == kept["ETag"]
    assert poll(radio, etag=first["ETag"]).status_code == 304
    _approve_new(radio)  # Redis cannot be told
    changed = poll(radio, etag=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    cluster = Cluster.objects.get(pk=radio["cluster"].pk)
    services.revoke_token(cluster=cluster, user=radio["operator"])
    assert poll(radio).status_code == 401
    beat = radio["device"].post(HEARTBEAT, {"status": "idle"}, **JSON, **device_headers(radio["other_token"]))
    assert beat.status_code == 201 and Heartbeat.objects.filter(cluster=radio["other"]).count() == 1  # at once
    assert radio["device"].post(HEARTBEAT, {}, **JSON, **device_headers(radio["other_token"])).status_code == 429


def test_redis_back_or_emptied_serves_nothing_stale_for_long(radio):
    from django.core.cache import caches

    radio["bulletin"] = approved_bulletin(title="Tin sáng", duration=90)
    kept = poll(radio)
    live = copy.deepcopy(radio["settings"].CACHES)
    dead_redis(radio["settings"])
    _withdraw(radio)  # while Redis is down: it cannot be told
    radio["settings"].CACHES = live  # Redis is back with the version and the answer it kept
    key = caches["shared"].make_and_validate_key(device_cache.version_key(connection.schema_name))
    ttl = caches["shared"]._cache.get_client(key).ttl(key)
    assert 0 < ttl <= device_cache.VERSION_SECONDS  # the kept version is forgotten within seconds …
    caches["shared"].delete(device_cache.version_key(connection.schema_name))  # … as it is then
    back = poll(radio, etag=kept["ETag"])
    assert back.status_code == 200 and back["ETag"] != kept["ETag"]
    # Redis emptied (restarted without its data): answers come from PostgreSQL, then kept again
    from django.core.cache import caches

    caches["shared"].clear()
    assert poll(radio, etag=back["ETag"]).status_code == 304
    with CaptureQueriesContext(connection) as queries:
        assert poll(radio, etag=back["ETag"]).status_code == 304
    assert radio_queries(queries) == []


def test_the_version_is_durable_and_raised_by_changes(radio):
    before = device_cache.stored_version()
    services.update_cluster(cluster=radio["cluster"], user=radio["operator"], data={"speakers": 3})
    assert device_cache.stored_version() == before + 1
    # a heartbeat written into a cluster is not a change of what devices are told
    services.write_heartbeats([{"cluster": radio["cluster"].pk, "at": at(DAY, "06:00").isoformat()}])
    assert device_cache.stored_version() == before + 1
