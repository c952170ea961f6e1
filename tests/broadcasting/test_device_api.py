"""The device API through HTTP, as a receiver calls it: the playlist with its ETag (304 when
unchanged), an emergency that interrupts, audio with byte ranges (206, 416), heartbeats
(throttled: 429), the as-run log (idempotent), and tokens: wrong, missing, revoked, rotated."""
from __future__ import annotations

import datetime
import logging

import pytest
from django.utils import translation

from broadcasting import scheduler, services
from broadcasting.models import AsRunEntry, Cluster, Heartbeat
from broadcasting.tasks import flush_heartbeats

from .helpers import (  # noqa: F401 - fixtures
    JSON, StayIn, approved_bulletin, at, clock, device_headers, make_cluster, make_mp3, pending_asset, ready_asset,
)

DAY = "03/12/2026"
PLAYLIST = "/api/v1/radio/device/playlist/"
HEARTBEAT = "/api/v1/radio/device/heartbeat/"
AS_RUN = "/api/v1/radio/device/as-run/"


@pytest.fixture
def radio(in_tule, villages, people, clock, client_for, settings):
    def client(host, user=None):
        return StayIn(client_for(host, user), in_tule)

    settings.XASO_RADIO_HEARTBEAT_MIN_SECONDS = 20
    settings.XASO_RADIO_OFFLINE_SECONDS = 600
    operator = people["radio_operator"]
    cluster, token = make_cluster(operator, villages[0], "Cụm loa trung tâm")
    other, other_token = make_cluster(operator, villages[1], "Cụm loa Bản Phạ")
    return {"cluster": cluster, "token": token, "other": other, "other_token": other_token, "clock": clock,
            "device": client("tule.localhost"), "client": client, "operator": operator, "chairman": people["chairman"]}


def poll(radio, token=None, **headers):
    return radio["device"].get(PLAYLIST, **device_headers(token or radio["token"]), **headers)


def error_body(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and body["detail"]
    return body


def test_playlist_of_the_current_and_next_window(radio):
    news = approved_bulletin(title="Tin sáng", duration=90)
    weather = approved_bulletin(title="Thời tiết", category="weather", duration=30, repeats=2)
    response = poll(radio)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["ETag"].startswith('"') and len(response["ETag"]) == 66
    body = response.json()
    assert body["interrupt"] is False and body["emergencies"] == []
    assert body["cluster"] == {"id": radio["cluster"].pk, "name": "Cụm loa trung tâm"}
    current, upcoming = body["slots"]
    assert current["current"] is True and current["starts_at"] == at(DAY, "05:00").isoformat()
    assert upcoming["current"] is False and upcoming["starts_at"] == at(DAY, "17:00").isoformat()
    assert [(i["bulletin_id"], i["offset"], i["duration"]) for i in current["items"]] == [
        (weather.pk, 0.0, 30.0), (news.pk, 30.0, 90.0)]
    assert [i["bulletin_id"] for i in upcoming["items"]] == [weather.pk]
    item = current["items"][1]
    assert item["url"] == f"http://tule.localhost/api/v1/radio/device/audio/{news.asset.key}.mp3"
    assert item["starts_at"] == (at(DAY, "05:00") + datetime.timedelta(seconds=30)).isoformat()
    assert body["items"] == current["items"]  # no emergency: what plays now is the current window


def test_etag_and_if_none_match(radio):
    approved_bulletin(title="Tin")
    first = poll(radio)
    etag = first["ETag"]
    again = poll(radio, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert poll(radio, HTTP_IF_NONE_MATCH=f'W/{etag}, "other"').status_code == 304
    assert poll(radio, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    assert poll(radio).json() == first.json()  # the same ETag, the same body
    # A newly approved bulletin changes what plays: a new ETag, and the old one gets the body.
    fresh = approved_bulletin(title="Mới", state="submitted")
    services.approve_bulletin(bulletin=fresh, user=radio["chairman"])
    changed = poll(radio, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert fresh.pk in [i["bulletin_id"] for i in changed.json()["items"]]
    # Another cluster has its own ETag.
    assert poll(radio, radio["other_token"])["ETag"] != changed["ETag"]


def test_an_emergency_interrupts_and_is_logged(radio, caplog):
    approved_bulletin(title="Tin thường")
    before = poll(radio)
    storm = approved_bulletin(title="Cảnh báo bão số 5", category="emergency", duration=45, state="submitted")
    with caplog.at_level(logging.WARNING, logger="broadcasting.services"):
        emergency = services.send_emergency(user=radio["chairman"], bulletin=storm,
                                            cluster_ids=[radio["cluster"].pk], repeats=3)
    assert "Emergency broadcast" in caplog.text and "Cảnh báo bão số 5" in caplog.text
    emergency.refresh_from_db()
    assert emergency.sent_by_id == radio["chairman"].pk and emergency.sent_at == radio["clock"].now
    assert list(emergency.clusters.all()) == [radio["cluster"]]
    storm.refresh_from_db()
    assert storm.state == "approved" and storm.decided_by_id == radio["chairman"].pk

    response = poll(radio, HTTP_IF_NONE_MATCH=before["ETag"])
    assert response.status_code == 200 and response["ETag"] != before["ETag"]
    body = response.json()
    assert body["interrupt"] is True
    first = body["items"][0]
    assert first["kind"] == "emergency" and first["bulletin_id"] == storm.pk and first["repeats"] == 3
    assert first["url"].endswith(f"/audio/{storm.asset.key}.mp3") and first["duration"] == 45.0
    assert [i["kind"] for i in body["items"][1:]] == ["bulletin"] * (len(body["items"]) - 1)
    # The other cluster was not targeted.
    assert poll(radio, radio["other_token"]).json()["interrupt"] is False

    # The device reports it played it: the as-run entry is marked as an emergency.
    started = radio["clock"].now + datetime.timedelta(seconds=5)
    radio["clock"].advance(60)
    stored = radio["device"].post(AS_RUN, [{"asset_key": storm.asset.key, "started_at": started.isoformat(),
                                            "ended_at": (started + datetime.timedelta(seconds=45)).isoformat()}],
                                  **JSON, **device_headers(radio["token"]))
    assert stored.status_code == 200 and stored.json()["stored"] == 1
    entry = AsRunEntry.objects.get(cluster=radio["cluster"])
    assert entry.emergency is True and entry.bulletin_id == storm.pk

    # Cancelled: no interrupt any more.
    services.cancel_emergency(emergency=emergency, user=radio["chairman"])
    assert poll(radio).json()["interrupt"] is False
    with pytest.raises(services.ValidationError) as twice:
        services.cancel_emergency(emergency=emergency, user=radio["chairman"])
    assert services.error_code(twice.value) == "already_cancelled"


def test_an_emergency_ends_by_itself(radio, settings):
    settings.XASO_RADIO_EMERGENCY_MINUTES = 30
    storm = approved_bulletin(title="Lũ quét", category="emergency", duration=60)
    emergency = services.send_emergency(user=radio["chairman"], bulletin=storm)  # every cluster
    assert set(emergency.clusters.all()) == {radio["cluster"], radio["other"]}
    assert emergency.until == radio["clock"].now + datetime.timedelta(minutes=30)
    assert poll(radio, radio["other_token"]).json()["interrupt"] is True
    radio["clock"].advance(30 * 60)
    assert poll(radio).json()["interrupt"] is False


def test_an_emergency_waits_for_its_audio(radio):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    asset = pending_asset("lũ quét đang đến")
    storm = approved_bulletin(title="Lũ quét", category="emergency", asset=asset)
    services.send_emergency(user=radio["chairman"], bulletin=storm)
    body = poll(radio).json()
    assert body["interrupt"] is False and body["emergencies"][0]["ready"] is False
    assert body["emergencies"][0]["url"] is None
    asset.file = default_storage.save_final(f"radio/audio/{asset.key}.mp3", ContentFile(make_mp3()))
    asset.duration_seconds = 20
    asset.save()
    body = poll(radio).json()
    assert body["interrupt"] is True and body["items"][0]["kind"] == "emergency"


def test_wrong_missing_and_revoked_tokens_are_refused(radio, client_for, people, yenhoa):
    with translation.override("en"):
        wrong = poll(radio, "not-a-token")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"] == 'Device realm="radio"'
    assert error_body(wrong)["code"] == "authentication_failed"
    missing = radio["device"].get(PLAYLIST)
    assert missing.status_code == 401 and error_body(missing)["code"] == "not_authenticated"
    # A person's session or API token is not a device's.
    staff = radio["client"]("tule.localhost", people["radio_operator"])
    assert staff.get(PLAYLIST).status_code == 401
    assert radio["device"].get(PLAYLIST, HTTP_AUTHORIZATION="Device a b").status_code == 401
    # Another commune's host does not know this cluster.
    assert radio["client"]("yenhoa.localhost").get(PLAYLIST, **device_headers(radio["token"])).status_code == 401
    # Not on the national host.
    national = radio["client"]("localhost").get(f"/api/v1/communes/04630{PLAYLIST}", **device_headers(radio["token"]))
    assert national.status_code == 404

    services.revoke_token(cluster=radio["cluster"], user=radio["operator"])
    for call in (lambda h: radio["device"].get(PLAYLIST, **h),
                 lambda h: radio["device"].post(HEARTBEAT, {}, **JSON, **h),
                 lambda h: radio["device"].post(AS_RUN, [], **JSON, **h)):
        refused = call(device_headers(radio["token"]))
        assert refused.status_code == 401 and error_body(refused)["code"] == "authentication_failed"
    assert poll(radio, radio["other_token"]).status_code == 200  # the others keep working
    with pytest.raises(services.ValidationError):
        services.revoke_token(cluster=radio["cluster"], user=radio["operator"])

    # An inactive cluster's token is refused too.
    services.update_cluster(cluster=radio["other"], user=radio["operator"], data={"active": False})
    assert poll(radio, radio["other_token"]).status_code == 401


def test_rotated_token_old_refused_new_works(radio):
    assert poll(radio).status_code == 200
    cluster = Cluster.objects.get(pk=radio["cluster"].pk)
    new = services.rotate_token(cluster=cluster, user=radio["operator"])
    assert new != radio["token"]
    assert poll(radio).status_code == 401
    assert poll(radio, new).status_code == 200
    cluster.refresh_from_db()
    assert cluster.token_hint == new[:6] and cluster.token_hash == services.hash_token(new)
    assert new not in str(Cluster.objects.filter(pk=cluster.pk).values().first())  # only the hash is kept
    # A revoked token is brought back by rotating.
    services.revoke_token(cluster=cluster, user=radio["operator"])
    newer = services.rotate_token(cluster=cluster, user=radio["operator"])
    assert poll(radio, new).status_code == 401 and poll(radio, newer).status_code == 200
    assert services.device_for_token(newer) == cluster and services.device_for_token("") is None


def test_heartbeats_and_the_flood(radio):
    headers = device_headers(radio["token"])
    beat = {"status": "playing", "volume": 80, "signal": -71, "firmware": "1.4.2"}
    first = radio["device"].post(HEARTBEAT, beat, **JSON, **headers)
    assert first.status_code == 201 and first.json()["next_after_seconds"] == 20
    flush_heartbeats()  # as beat does: the heartbeat kept in Redis is written
    cluster = Cluster.objects.get(pk=radio["cluster"].pk)
    assert cluster.last_heartbeat_at == radio["clock"].now
    assert cluster.last_status["volume"] == 80 and cluster.last_status["firmware"] == "1.4.2"
    assert cluster.history.count() == 1  # heartbeats are not changes of the cluster

    radio["clock"].advance(5)
    flood = [radio["device"].post(HEARTBEAT, beat, **JSON, **headers) for _ in range(5)]
    assert {r.status_code for r in flood} == {429}
    assert error_body(flood[0])["code"] == "throttled" and flood[0]["Retry-After"] == "15"
    assert Heartbeat.objects.filter(cluster=radio["cluster"]).count() == 1
    # The other cluster has its own pace.
    assert radio["device"].post(HEARTBEAT, beat, **JSON, **device_headers(radio["other_token"])).status_code == 201
    radio["clock"].advance(15)
    assert radio["device"].post(HEARTBEAT, beat, **JSON, **headers).status_code == 201
    flush_heartbeats()
    assert Heartbeat.objects.filter(cluster=radio["cluster"]).count() == 2


@pytest.mark.parametrize("data,field", [
    ({"volume": 101}, "volume"), ({"volume": -1}, "volume"), ({"volume": "loud"}, "volume"),
    ({"signal": 20}, "signal"), ({"signal": "weak"}, "signal"), ({"status": "x" * 31}, "status"),
    ({"firmware": "v" * 61}, "firmware"), ({"firmware": ["1"]}, "firmware"), ({"volume": True}, "volume"),
])
def test_bad_heartbeats(radio, data, field):
    with translation.override("en"):
        response = radio["device"].post(HEARTBEAT, data, **JSON, **device_headers(radio["token"]))
    assert response.status_code == 400
    assert field in error_body(response)["fields"]
    assert not Heartbeat.objects.exists()


def test_not_json_is_a_400(radio):
    response = radio["device"].post(HEARTBEAT, "{not json", content_type="application/json",
                                    **device_headers(radio["token"]))
    assert response.status_code == 400 and error_body(response)["code"] == "parse_error"
    response = radio["device"].post(HEARTBEAT, "[1, 2]", content_type="application/json",
                                    **device_headers(radio["token"]))
    assert response.status_code == 400


def test_a_silent_cluster_turns_offline_in_the_api(radio, client_for, people):
    headers = device_headers(radio["token"])
    assert radio["device"].post(HEARTBEAT, {"status": "idle"}, **JSON, **headers).status_code == 201
    flush_heartbeats()
    staff = radio["client"]("tule.localhost", people["radio_operator"])

    def online() -> dict:
        return {c["name"]: c["online"] for c in staff.get("/api/v1/radio/clusters/").json()["results"]}

    assert online() == {"Cụm loa trung tâm": True, "Cụm loa Bản Phạ": False}
    radio["clock"].advance(599)
    assert online()["Cụm loa trung tâm"] is True
    radio["clock"].advance(2)
    assert online()["Cụm loa trung tâm"] is False
    assert scheduler.is_offline(Cluster.objects.get(pk=radio["cluster"].pk))


def test_the_as_run_log_is_stored_once(radio):
    headers = device_headers(radio["token"])
    news = approved_bulletin(title="Tin")
    start = at(DAY, "05:00")
    entries = [
        {"asset_key": news.asset.key, "bulletin_id": news.pk, "started_at": start.isoformat(),
         "ended_at": (start + datetime.timedelta(seconds=60)).isoformat()},
        {"bulletin_id": news.pk, "started_at": "2026-12-03T05:01:00+07:00", "ended_at": "2026-12-03T05:02:00+07:00"},
        {"asset_key": news.asset.key, "started_at": "2026-12-02T22:02:00Z", "ended_at": "2026-12-02T22:03:00Z"},
    ]
    first = radio["device"].post(AS_RUN, entries, **JSON, **headers)
    assert first.status_code == 200 and first.json()["stored"] == 3 and first.json()["received"] == 3
    replay = radio["device"].post(AS_RUN, {"entries": entries}, **JSON, **headers)
    assert replay.status_code == 200 and replay.json()["stored"] == 0
    rows = list(AsRunEntry.objects.filter(cluster=radio["cluster"]).order_by("started_at"))
    assert len(rows) == 3
    assert all(r.bulletin_id == news.pk and r.asset_key == news.asset.key and not r.emergency for r in rows)
    assert rows[2].started_at == at(DAY, "05:02")
    # The same report from another cluster is its own.
    other = radio["device"].post(AS_RUN, entries[:1], **JSON, **device_headers(radio["other_token"]))
    assert other.json()["stored"] == 1
    # Duplicates inside one report count once.
    later = {"asset_key": news.asset.key, "started_at": "2026-12-03T05:10:00+07:00",
             "ended_at": "2026-12-03T05:11:00+07:00"}
    assert radio["device"].post(AS_RUN, [later, later], **JSON, **headers).json()["stored"] == 1


@pytest.mark.parametrize("entry,message", [
    ({"asset_key": "a" * 64, "started_at": "hôm qua", "ended_at": "2026-12-03T05:01:00+07:00"},
     "Entry 2: started_at: Enter a valid date and time"),
    ({"asset_key": "a" * 64, "started_at": "2026-12-03T05:01:00+07:00", "ended_at": "2026-12-03T05:00:00+07:00"},
     "Entry 2: ended_at: The end is before the start."),
    ({"asset_key": "a" * 64, "started_at": "2026-12-03T05:00:00+07:00", "ended_at": "2026-12-04T05:00:00+07:00"},
     "Entry 2: ended_at: One entry lasts at most six hours."),
    ({"asset_key": "a" * 64, "started_at": "2026-12-03T09:00:00+07:00", "ended_at": "2026-12-03T09:01:00+07:00"},
     "Entry 2: ended_at: This time is in the future."),
    ({"asset_key": "../../etc/passwd", "started_at": "2026-12-03T05:00:00+07:00",
      "ended_at": "2026-12-03T05:01:00+07:00"}, "Entry 2: asset_key: The audio key is not valid."),
    ({"started_at": "2026-12-03T05:00:00+07:00", "ended_at": "2026-12-03T05:01:00+07:00"},
     "Entry 2: asset_key: Name the audio (its key) or the bulletin."),
    ({"bulletin_id": "abc", "started_at": "2026-12-03T05:00:00+07:00", "ended_at": "2026-12-03T05:01:00+07:00"},
     "Entry 2: bulletin_id: Enter a whole number"),
    ("not an object", "Entry 2: not valid."),
])
def test_bad_as_run_reports_store_nothing(radio, entry, message, settings):
    good = {"asset_key": "b" * 64, "started_at": "2026-12-03T05:00:00+07:00", "ended_at": "2026-12-03T05:01:00+07:00"}
    radio["device"].cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the English source of the messages
    response = radio["device"].post(AS_RUN, [good, entry], **JSON, **device_headers(radio["token"]))
    assert response.status_code == 400
    body = error_body(response)
    assert body["fields"]["entries"][0].startswith(message)
    assert not AsRunEntry.objects.exists()


def test_as_run_shape_and_size(radio, settings):
    headers = device_headers(radio["token"])
    assert radio["device"].post(AS_RUN, {"entries": "x"}, **JSON, **headers).status_code == 400
    assert radio["device"].post(AS_RUN, {"other": []}, **JSON, **headers).status_code == 400
    many = [{"asset_key": "c" * 64, "started_at": f"2026-12-03T05:00:{i % 60:02d}+07:00",
             "ended_at": "2026-12-03T05:01:00+07:00"} for i in range(501)]
    response = radio["device"].post(AS_RUN, many, **JSON, **headers)
    assert response.status_code == 400 and error_body(response)["code"] == "too_many"


def test_audio_download_whole_and_ranges(radio):
    data = make_mp3(2.0)
    asset = ready_asset(2.0, data=data)
    approved_bulletin(title="Tin có tệp", asset=asset)  # in the cluster's playlist: it may fetch it
    url = f"/api/v1/radio/device/audio/{asset.key}.mp3"
    headers = device_headers(radio["token"])
    assert poll(radio).status_code == 200
    size = len(data)
    whole = radio["device"].get(url, **headers)
    assert whole.status_code == 200 and whole["Content-Type"] == "audio/mpeg"
    assert whole["Accept-Ranges"] == "bytes" and int(whole["Content-Length"]) == size
    assert b"".join(whole.streaming_content) == data

    part = radio["device"].get(url, HTTP_RANGE="bytes=0-99", **headers)
    assert part.status_code == 206 and part.content == data[:100]
    assert part["Content-Range"] == f"bytes 0-99/{size}" and part["Content-Length"] == "100"
    middle = radio["device"].get(url, HTTP_RANGE="bytes=100-", **headers)
    assert middle.status_code == 206 and middle.content == data[100:]
    assert middle["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    tail = radio["device"].get(url, HTTP_RANGE="bytes=-50", **headers)
    assert tail.status_code == 206 and tail.content == data[-50:]
    beyond_end = radio["device"].get(url, HTTP_RANGE=f"bytes={size - 10}-{size + 500}", **headers)
    assert beyond_end.status_code == 206 and beyond_end.content == data[-10:]

    for bad in (f"bytes={size}-", f"bytes={size + 100}-{size + 200}", "bytes=50-10", "bytes=abc", "bytes=-0",
                "bytes=-"):
        refused = radio["device"].get(url, HTTP_RANGE=bad, **headers)
        assert refused.status_code == 416, bad
        assert refused["Content-Range"] == f"bytes */{size}" and error_body(refused)["code"] == "range_not_satisfiable"
    # Several ranges or another unit: the whole file.
    assert radio["device"].get(url, HTTP_RANGE="bytes=0-1,5-6", **headers).status_code == 200
    assert radio["device"].get(url, HTTP_RANGE="items=0-1", **headers).status_code == 200
    # If-Range with another version: the whole file.
    assert radio["device"].get(url, HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE='"old"', **headers).status_code == 200
    same = radio["device"].get(url, HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE=f'"{asset.key}"', **headers)
    assert same.status_code == 206


def test_audio_not_ready_unknown_or_without_token(radio):
    headers = device_headers(radio["token"])
    waiting = pending_asset()
    assert radio["device"].get(f"/api/v1/radio/device/audio/{waiting.key}.mp3", **headers).status_code == 404
    assert radio["device"].get(f"/api/v1/radio/device/audio/{'0' * 64}.mp3", **headers).status_code == 404
    assert radio["device"].get("/api/v1/radio/device/audio/short.mp3", **headers).status_code == 404
    asset = ready_asset()
    assert radio["device"].get(f"/api/v1/radio/device/audio/{asset.key}.mp3").status_code == 401
