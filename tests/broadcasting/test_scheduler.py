"""The scheduler: priority, repeats spread over the day's windows, never beyond a window's end
(what does not fit is reported, with its reason), audio not ready yet, targets and validity,
per-day slot changes (cancel, move, extra), stable ETags, the beat task, offline clusters."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from broadcasting import scheduler, services
from broadcasting.models import Bulletin, Playlist, PlaylistEntry, Slot, SlotException

from .helpers import (  # noqa: F401 - fixtures
    approved_bulletin, at, clock, d, make_cluster, pending_asset, set_slots,
)

DAY = "03/12/2026"


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def setup(in_tule, villages, people, clock):
    operator = people["radio_operator"]
    a1, _t = make_cluster(operator, villages[0], "Cụm loa trung tâm")
    a2, _t = make_cluster(operator, villages[0], "Cụm loa đầu bản")
    b1, _t = make_cluster(operator, villages[1], "Cụm loa Bản Phạ")
    return {"a1": a1, "a2": a2, "b1": b1, "operator": operator, "leader": people["chairman"],
            "villages": villages, "clock": clock}


def window(cluster, start="05:00", end="07:30", day=DAY):
    return scheduler.build_playlist(cluster, at(day, start), at(day, end))


def titles(playlist) -> list[str]:
    return [e.bulletin.title for e in playlist.entries.order_by("order").select_related("bulletin")]


def test_default_slots_come_with_the_first_cluster(setup):
    assert [(s.start.strftime("%H:%M"), s.end.strftime("%H:%M")) for s in Slot.objects.all()] == [
        ("05:00", "07:30"), ("17:00", "19:00")]
    assert services.ensure_default_slots() == 0  # never twice
    windows = services.slots_for_day(d(DAY))
    assert [(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e, _slot in windows] == [
        ("05:00", "07:30"), ("17:00", "19:00")]
    assert all(s.tzinfo is not None and s.utcoffset() == datetime.timedelta(hours=7) for s, _e, _slot in windows)


def test_priority_first_then_oldest_approval(setup):
    news = approved_bulletin(title="Tin tức", category="news", decided_at=at(DAY, "01:00"))
    weather = approved_bulletin(title="Thời tiết", category="weather", decided_at=at(DAY, "03:00"))
    older_weather = approved_bulletin(title="Thời tiết cũ", category="weather", decided_at=at(DAY, "02:00"))
    urgent = approved_bulletin(title="Khẩn", category="news", priority=95)
    playlist = window(setup["a1"])
    assert titles(playlist) == ["Khẩn", "Thời tiết cũ", "Thời tiết", "Tin tức"]
    entries = list(playlist.entries.order_by("order"))
    assert [e.offset_seconds for e in entries] == [Decimal("0"), Decimal("60"), Decimal("120"), Decimal("180")]
    assert playlist.overflow == [] and playlist.missing_audio == []
    assert {news.pk, weather.pk, older_weather.pk, urgent.pk} == {e.bulletin_id for e in entries}


@pytest.mark.parametrize("repeats,windows,expected", [
    (1, 2, [1, 0]), (2, 2, [1, 1]), (3, 2, [2, 1]), (4, 2, [2, 2]), (5, 3, [2, 2, 1]), (1, 1, [1]), (7, 1, [7]),
    (2, 3, [1, 1, 0]), (20, 2, [10, 10]),
])
def test_repeats_are_spread_over_the_windows(repeats, windows, expected):
    got = [scheduler.plays_in_window(repeats, i, windows) for i in range(windows)]
    assert got == expected and sum(got) == repeats


def test_repeats_per_day_over_morning_and_evening(setup):
    twice = approved_bulletin(title="Hai lần", repeats=2)
    thrice = approved_bulletin(title="Ba lần", repeats=3, priority=10)
    once = approved_bulletin(title="Một lần", priority=5)
    morning, evening = window(setup["a1"]), window(setup["a1"], "17:00", "19:00")
    # Rounds: each bulletin's first play, then the second plays.
    assert titles(morning) == ["Hai lần", "Ba lần", "Một lần", "Ba lần"]
    assert titles(evening) == ["Hai lần", "Ba lần"]
    total = {b.pk: PlaylistEntry.objects.filter(bulletin=b).count() for b in (twice, thrice, once)}
    assert total == {twice.pk: 2, thrice.pk: 3, once.pk: 1}


def test_never_beyond_the_window_and_what_does_not_fit_is_reported(setup, english):
    set_slots(("05:00", "05:10"))  # 600 seconds
    first = approved_bulletin(title="Dài 300", duration=300, priority=90)
    second = approved_bulletin(title="Dài 250", duration=250, priority=80)
    third = approved_bulletin(title="Dài 200", duration=200, priority=70)
    short = approved_bulletin(title="Ngắn 40", duration=40, priority=60)
    huge = approved_bulletin(title="Quá dài", duration=900, priority=50)
    playlist = window(setup["a1"], "05:00", "05:10")
    assert titles(playlist) == ["Dài 300", "Dài 250", "Ngắn 40"]  # the short one still fits after
    entries = list(playlist.entries.order_by("order"))
    end = entries[-1].offset_seconds + entries[-1].duration_seconds
    assert end == Decimal("590") and end <= 600
    overflow = {item["bulletin"]: item for item in playlist.overflow}
    assert set(overflow) == {third.pk, huge.pk}
    assert overflow[third.pk]["reason"] == "slot_full" and overflow[third.pk]["missed"] == 1
    assert overflow[third.pk]["message"] == (
        "“Dài 200”: 1 of 1 plays do not fit in the window 05:00–05:10 (200.00 s each, 10.00 s left).")
    assert overflow[huge.pk]["reason"] == "longer_than_slot"
    assert "longer than the window 05:00–05:10" in overflow[huge.pk]["message"]
    assert first.pk not in overflow and second.pk not in overflow


def test_repeats_that_do_not_fit_are_counted(setup):
    set_slots(("05:00", "05:05"))  # 300 seconds, one window: every repeat here
    many = approved_bulletin(title="Lặp", duration=100, repeats=5)
    playlist = window(setup["a1"], "05:00", "05:05")
    assert titles(playlist) == ["Lặp"] * 3
    assert playlist.overflow[0]["bulletin"] == many.pk and playlist.overflow[0]["missed"] == 2
    assert playlist.overflow[0]["plays"] == 5


def test_audio_not_ready_is_listed_not_played(setup):
    waiting = approved_bulletin(title="Chờ âm thanh", asset=pending_asset())
    no_asset = approved_bulletin(title="Không âm thanh")
    Bulletin.objects.filter(pk=no_asset.pk).update(asset=None)
    ready = approved_bulletin(title="Sẵn sàng")
    playlist = window(setup["a1"])
    assert titles(playlist) == ["Sẵn sàng"]
    assert {m["bulletin"] for m in playlist.missing_audio} == {waiting.pk, no_asset.pk}
    assert ready.pk not in {m["bulletin"] for m in playlist.missing_audio}


def test_targets_validity_and_state(setup):
    a1, a2, b1 = setup["a1"], setup["a2"], setup["b1"]
    village_a, village_b = setup["villages"][0], setup["villages"][1]
    approved_bulletin(title="Cả xã")
    approved_bulletin(title="Bản Lướt", villages=[village_a])
    approved_bulletin(title="Chỉ cụm trung tâm", clusters=[a1])
    approved_bulletin(title="Bản Phạ hoặc cụm đầu bản", villages=[village_b], clusters=[a2])
    approved_bulletin(title="Hết hạn", valid_from=d("01/12/2026"), valid_until=d("02/12/2026"))
    approved_bulletin(title="Chưa đến ngày", valid_from=d("04/12/2026"), valid_until=d("05/12/2026"))
    approved_bulletin(title="Nháp", state="draft")
    approved_bulletin(title="Đã rút", state="withdrawn")
    approved_bulletin(title="Chờ duyệt", state="submitted")
    got = {name: set(titles(window(c))) for name, c in (("a1", a1), ("a2", a2), ("b1", b1))}
    assert got == {
        "a1": {"Cả xã", "Bản Lướt", "Chỉ cụm trung tâm"},
        "a2": {"Cả xã", "Bản Lướt", "Bản Phạ hoặc cụm đầu bản"},
        "b1": {"Cả xã", "Bản Phạ hoặc cụm đầu bản"},
    }


def test_slot_exceptions_cancel_move_and_extra(setup, people):
    operator = setup["operator"]
    morning, evening = list(Slot.objects.order_by("start"))
    day = d("04/12/2026")
    services.add_slot_exception(user=operator, data={"date": "04/12/2026", "kind": "cancel", "slot_id": morning.pk})
    services.add_slot_exception(user=operator, data={"date": "04/12/2026", "kind": "move", "slot_id": evening.pk,
                                                     "start": "18:00", "end": "20:00", "note": "Lễ hội"})
    services.add_slot_exception(user=operator, data={"date": "04/12/2026", "kind": "extra", "start": "12:00",
                                                     "end": "12:30", "note": "Họp dân"})
    windows = [(s.strftime("%H:%M"), e.strftime("%H:%M"), slot.pk if slot else None)
               for s, e, slot in services.slots_for_day(day)]
    assert windows == [("12:00", "12:30", None), ("18:00", "20:00", evening.pk)]
    # Another day is untouched.
    assert len(services.slots_for_day(d("05/12/2026"))) == 2
    # A second change of the same slot and day replaces the first.
    services.add_slot_exception(user=operator, data={"date": "04/12/2026", "kind": "move", "slot_id": evening.pk,
                                                     "start": "18:30", "end": "19:30"})
    assert SlotException.objects.filter(date=day, slot=evening).count() == 1
    assert [(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e, _ in services.slots_for_day(day)][1] == (
        "18:30", "19:30")
    # Repeats spread over that day's windows: twice a day → one in each remaining window.
    approved_bulletin(title="Hai lần", repeats=2, valid_from=day, valid_until=day)
    plans = [scheduler.build_playlist(setup["a1"], s, e) for s, e, _ in services.slots_for_day(day)]
    assert [titles(p) for p in plans] == [["Hai lần"], ["Hai lần"]]
    # Removing the cancellation brings the morning back.
    services.delete_slot_exception(exception=SlotException.objects.get(date=day, slot=morning), user=operator)
    assert len(services.slots_for_day(day)) == 3


def test_slot_exception_bad_input(setup, english):
    operator = setup["operator"]
    morning = Slot.objects.order_by("start").first()
    cases = [
        ({"date": "31/02/2026", "kind": "cancel", "slot_id": morning.pk}, "date", "Enter a valid date (dd/mm/yyyy)."),
        ({"date": "01/12/2026", "kind": "cancel", "slot_id": morning.pk}, "date", "This day has passed."),
        ({"date": "05/12/2026", "kind": "skip", "slot_id": morning.pk}, "kind", "Choose: cancel, move or extra."),
        ({"date": "05/12/2026", "kind": "move", "slot_id": morning.pk, "start": "25:00", "end": "07:00"}, "start",
         "Enter a valid time (HH:MM)."),
        ({"date": "05/12/2026", "kind": "extra", "start": "09:00", "end": "08:00"}, "end",
         "The end must be after the start (a slot cannot cross midnight)."),
        ({"date": "05/12/2026", "kind": "extra", "start": "07:00", "end": "08:00"}, "start",
         "On this day the window overlaps another one (05:00–07:30)."),
        ({"date": "05/12/2026", "kind": "cancel"}, "slot_id", "Choose the slot."),
    ]
    for data, field, message in cases:
        with pytest.raises(services.ValidationError) as refused:
            services.add_slot_exception(user=operator, data=data)
        assert refused.value.message_dict[field][0] == message, data
    assert not SlotException.objects.exists()
    with pytest.raises(services.ValidationError) as overlap:
        services.create_slot(user=operator, data={"name": "Trưa", "start": "07:00", "end": "08:00"})
    assert overlap.value.message_dict["start"][0].startswith("This slot overlaps")
    with pytest.raises(services.PermissionDenied):
        services.create_slot(user=setup["leader"], data={"name": "Trưa", "start": "11:00", "end": "11:30"})


def test_etag_is_stable_and_follows_the_content(setup):
    approved_bulletin(title="Một")
    first = window(setup["a1"])
    rows = list(first.entries.values_list("pk", flat=True))
    again = window(setup["a1"])
    assert again.pk == first.pk and again.etag == first.etag
    assert list(again.entries.values_list("pk", flat=True)) == rows
    other_cluster = window(setup["a2"])
    assert other_cluster.etag == first.etag  # same window, same entries
    approved_bulletin(title="Hai")
    changed = window(setup["a1"])
    assert changed.pk == first.pk and changed.etag != first.etag and changed.entries.count() == 2
    assert Playlist.objects.filter(cluster=setup["a1"]).count() == 1


def test_approval_and_withdrawal_reach_the_next_poll(setup, people):
    operator, leader = setup["operator"], setup["leader"]
    bulletin = approved_bulletin(title="Cũ")
    current, _next = scheduler.playlists_around(setup["a1"])
    assert titles(current) == ["Cũ"]
    services.withdraw_bulletin(bulletin=bulletin, user=operator)
    assert not Playlist.objects.filter(cluster=setup["a1"], ends_at__gt=setup["clock"].now).exists()
    current, _next = scheduler.playlists_around(setup["a1"])
    assert titles(current) == []
    fresh = approved_bulletin(title="Mới", state="submitted")
    services.approve_bulletin(bulletin=fresh, user=leader)
    current, upcoming = scheduler.playlists_around(setup["a1"])
    assert titles(current) == ["Mới"] and titles(upcoming) == []  # once a day: the morning


def test_audio_that_arrives_is_played_at_the_next_poll(setup):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from .helpers import make_mp3

    asset = pending_asset()
    bulletin = approved_bulletin(title="Đang đọc", asset=asset)
    current, _ = scheduler.playlists_around(setup["a1"])
    assert titles(current) == [] and current.missing_audio[0]["bulletin"] == bulletin.pk
    asset.file = default_storage.save_final(f"radio/audio/{asset.key}.mp3", ContentFile(make_mp3()))
    asset.duration_seconds = 42
    asset.save()
    current, _ = scheduler.playlists_around(setup["a1"])
    assert titles(current) == ["Đang đọc"] and current.missing_audio == []


def test_current_and_next_windows(setup):
    clock = setup["clock"]
    current, upcoming = scheduler.windows_around(clock.set(at(DAY, "06:00")))
    assert current[0][0] == at(DAY, "05:00") and upcoming[0][0] == at(DAY, "17:00")
    current, upcoming = scheduler.windows_around(clock.set(at(DAY, "08:00")))
    assert current is None and upcoming[0][0] == at(DAY, "17:00")
    current, upcoming = scheduler.windows_around(clock.set(at(DAY, "20:00")))
    assert current is None and upcoming[0][0] == at("04/12/2026", "05:00")


def test_prepare_upcoming_builds_every_active_cluster(setup):
    from broadcasting.models import Cluster

    Cluster.objects.filter(pk=setup["b1"].pk).update(active=False)
    approved_bulletin(title="Tin sáng", repeats=2)
    approved_bulletin(title="Chờ âm thanh", asset=pending_asset())
    summary = scheduler.prepare_upcoming(hours=24)
    # 06:00: the morning window (playing), the evening one and tomorrow morning.
    assert summary["windows"] == 3 and summary["clusters"] == 2 and summary["playlists"] == 6
    assert summary["missing_audio"] == 2  # the pending bulletin (once a day: the morning), for two clusters
    assert Playlist.objects.filter(cluster=setup["b1"]).count() == 0
    starts = sorted({p.starts_at for p in Playlist.objects.all()})
    assert starts == [at(DAY, "05:00"), at(DAY, "17:00"), at("04/12/2026", "05:00")]
    again = scheduler.prepare_upcoming(hours=24)
    assert again["playlists"] == 6 and Playlist.objects.count() == 6


def test_beat_task_runs_every_commune(setup):
    from broadcasting.tasks import prepare_playlists

    approved_bulletin(title="Tin")
    done = prepare_playlists()
    assert done["c_04630"]["clusters"] == 3
    assert set(done) >= {"c_04630"}


def test_a_silent_cluster_turns_offline(setup, settings):
    settings.XASO_RADIO_OFFLINE_SECONDS = 600
    settings.XASO_RADIO_HEARTBEAT_MIN_SECONDS = 20
    clock, cluster = setup["clock"], setup["a1"]
    assert scheduler.is_offline(cluster)  # never heard from
    services.record_heartbeat(cluster=cluster, data={"status": "idle", "volume": 70})
    from broadcasting.tasks import flush_heartbeats

    flush_heartbeats()  # as beat does: the heartbeat kept in Redis is written
    cluster.refresh_from_db()
    assert not scheduler.is_offline(cluster)
    clock.advance(600)
    assert not scheduler.is_offline(cluster)
    clock.advance(1)
    assert scheduler.is_offline(cluster)
    from broadcasting import selectors

    status = {c.pk: c.online for c in selectors.clusters_with_status()}
    assert status[cluster.pk] is False
    assert selectors.cluster_counts() == {"total": 3, "online": 0, "offline": 3}


def test_the_beat_asks_for_missing_audio(setup):
    from broadcasting.models import SpeechJob

    lost = approved_bulletin(title="Mất âm thanh")
    Bulletin.objects.filter(pk=lost.pk).update(asset=None, text="Thông báo lịch tiêm chủng tháng mười hai.")
    later = approved_bulletin(title="Tuần sau", valid_from=d("20/12/2026"), valid_until=d("21/12/2026"))
    Bulletin.objects.filter(pk=later.pk).update(asset=None, text="Tin tuần sau.")
    summary = scheduler.prepare_upcoming(hours=24)
    assert summary["speech_requested"] == 1  # only what airs within the next 24 hours
    lost.refresh_from_db()
    assert lost.asset is not None and "tiêm chủng" in lost.normalized_text
    assert SpeechJob.objects.filter(asset=lost.asset).count() == 1
    assert Bulletin.objects.get(pk=later.pk).asset is None
    # Asked again while it renders: the same asset, no second job.
    Bulletin.objects.filter(pk=lost.pk).update(asset=None)
    scheduler.prepare_upcoming(hours=24)
    assert Bulletin.objects.get(pk=lost.pk).asset_id == lost.asset_id and SpeechJob.objects.count() == 1
