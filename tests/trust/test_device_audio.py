"""A loudspeaker's token opens only the audio its cluster plays: the playlists of the current
and coming windows (of bulletins still approved) and an emergency broadcast interrupting it.
A bulletin waiting for approval, one of another cluster, an orphan recording and the audio of
another commune answer 404, as an unknown key does; ranges keep working on what it may fetch."""
from __future__ import annotations

import pytest

from broadcasting import services
from tests.broadcasting.conftest import in_tule, people, villages  # noqa: F401 - fixtures
from tests.broadcasting.helpers import (  # noqa: F401 - fixtures
    StayIn, approved_bulletin, at, clock, device_headers, make_cluster, make_mp3, ready_asset,
)

PLAYLIST = "/api/v1/radio/device/playlist/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def radio(in_tule, villages, people, clock, client_for):  # noqa: F811
    operator = people["radio_operator"]
    cluster, token = make_cluster(operator, villages[0], "Cụm loa trung tâm")
    other, other_token = make_cluster(operator, villages[1], "Cụm loa Bản Phạ")
    return {"cluster": cluster, "token": token, "other": other, "other_token": other_token, "clock": clock,
            "device": StayIn(client_for("tule.localhost"), in_tule), "chairman": people["chairman"]}


def fetch(radio, asset_or_key, token=None, **headers):
    key = getattr(asset_or_key, "key", asset_or_key)
    return radio["device"].get(f"/api/v1/radio/device/audio/{key}.mp3", **device_headers(token or radio["token"]),
                               **headers)


def poll(radio, token=None):
    response = radio["device"].get(PLAYLIST, **device_headers(token or radio["token"]))
    assert response.status_code == 200
    return response.json()


def playlist_keys(body) -> set[str]:
    return {item["asset_key"] for slot in body["slots"] for item in slot["items"]} | {
        item["asset_key"] for item in body["emergencies"]}


def test_only_the_clusters_own_playlist_items(radio, in_commune, yenhoa):
    data = make_mp3(2.0)
    own = approved_bulletin(title="Tin của cụm", asset=ready_asset(2.0, data=data), clusters=[radio["cluster"]])
    waiting = approved_bulletin(title="Tin chờ duyệt", state="submitted", clusters=[radio["cluster"]])
    rejected = approved_bulletin(title="Tin bị trả lại", state="rejected", clusters=[radio["cluster"]])
    elsewhere = approved_bulletin(title="Tin cụm khác", clusters=[radio["other"]])
    orphan = ready_asset(text="bản ghi không thuộc bản tin nào")
    with in_commune(yenhoa):
        foreign = approved_bulletin(title="Tin của xã khác").asset

    keys = playlist_keys(poll(radio))
    assert keys == {own.asset.key}

    whole = fetch(radio, own.asset)
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == data
    part = fetch(radio, own.asset, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206 and part.content == data[10:20]
    assert part["Content-Range"] == f"bytes 10-19/{len(data)}"

    for refused in (waiting.asset, rejected.asset, elsewhere.asset, orphan, foreign):
        response = fetch(radio, refused)
        assert response.status_code == 404, refused.text
        assert response.json()["code"] == "not_found"
    # The other cluster fetches its own bulletin once it was told about it, never the first one's.
    assert elsewhere.asset.key in playlist_keys(poll(radio, radio["other_token"]))
    assert fetch(radio, elsewhere.asset, radio["other_token"]).status_code == 200
    assert fetch(radio, own.asset, radio["other_token"]).status_code == 404


def test_coming_window_yes_ended_window_and_withdrawn_no(radio):
    morning = approved_bulletin(title="Chỉ buổi sáng")  # one play a day: the 05:00 window
    evening = approved_bulletin(title="Hai lần", repeats=2)  # 05:00 and 17:00
    poll(radio)
    assert fetch(radio, morning.asset).status_code == 200
    radio["clock"].set(at("03/12/2026", "08:00"))  # the morning window has ended
    keys = playlist_keys(poll(radio))
    assert morning.asset.key not in keys and evening.asset.key in keys
    assert fetch(radio, morning.asset).status_code == 404
    assert fetch(radio, evening.asset).status_code == 200  # the coming window's item
    services.withdraw_bulletin(bulletin=evening, user=radio["chairman"])
    assert fetch(radio, evening.asset).status_code == 404


def test_emergency_audio_for_its_clusters_while_it_lasts(radio, villages):  # noqa: F811
    # Its regular airing targets a village without loudspeakers: only the emergency opens it.
    storm = approved_bulletin(title="Cảnh báo lũ", category="emergency", state="submitted", villages=[villages[2]])
    assert fetch(radio, storm.asset).status_code == 404
    emergency = services.send_emergency(user=radio["chairman"], bulletin=storm, cluster_ids=[radio["cluster"].pk])
    body = poll(radio)
    assert body["interrupt"] is True and body["items"][0]["asset_key"] == storm.asset.key
    assert fetch(radio, storm.asset).status_code == 200
    assert fetch(radio, storm.asset, radio["other_token"]).status_code == 404
    services.cancel_emergency(emergency=emergency, user=radio["chairman"])
    assert fetch(radio, storm.asset).status_code == 404
