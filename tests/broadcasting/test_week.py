"""The week's calendar only reads: a GET writes nothing (no playlist is built), its queries do
not grow with the clusters and the bulletins, and what it shows for today and later is what the
stored playlists would hold once built."""
from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from broadcasting import scheduler, selectors
from broadcasting.models import Playlist

from .helpers import StayIn, approved_bulletin, at, clock, d, make_cluster  # noqa: F401 - fixtures

HOST = "tule.localhost"
WEEK = "/radio/week/"
MAX_QUERIES = 25  # statements, the schema switches of the tenant router aside


@pytest.fixture
def operator(tule, in_tule, people, client_for):
    return StayIn(client_for(HOST, people["radio_operator"]), in_tule)


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def reads(queries) -> int:
    return sum(1 for q in queries.captured_queries if not q["sql"].startswith("SET search_path"))


def summary(windows) -> dict:
    return {w["starts_at"]: sorted((i["bulletin"].pk, i["plays"], i["clusters"]) for i in w["items"])
            for w in windows}


def test_the_week_page_writes_nothing_and_its_queries_do_not_grow(operator, villages, people, clock):
    radio_operator = people["radio_operator"]
    first, _ = make_cluster(radio_operator, villages[0], "Cụm loa trung tâm")
    second, _ = make_cluster(radio_operator, villages[1], "Cụm loa Bản Phạ")
    today = clock.now.date()
    approved_bulletin(title="Tin toàn xã", repeats=2, valid_until=today + datetime.timedelta(days=5))
    approved_bulletin(title="Tin Bản Phạ", villages=[villages[1]], valid_until=today + datetime.timedelta(days=5))
    approved_bulletin(title="Quá dài", duration=4 * 3600, valid_until=today + datetime.timedelta(days=1))
    # Monday's playlist of the first cluster was stored then: a past day shows it
    monday = today - datetime.timedelta(days=today.weekday())
    clock.set(at(monday.strftime("%d/%m/%Y"), "04:00"))
    old = approved_bulletin(title="Tin thứ hai", valid_from=monday, valid_until=monday)
    scheduler.build_playlist(first, at(monday.strftime("%d/%m/%Y"), "05:00"),
                             at(monday.strftime("%d/%m/%Y"), "07:30"))
    clock.set(at(today.strftime("%d/%m/%Y"), "06:00"))
    stored = Playlist.objects.count()

    with CaptureQueriesContext(connection) as queries:
        response = operator.get(WEEK)
    html = response.content.decode()
    assert response.status_code == 200
    assert writes(queries.captured_queries) == []
    assert Playlist.objects.count() == stored  # nothing built on a GET
    assert reads(queries) <= MAX_QUERIES, reads(queries)
    assert "Tin toàn xã" in html and "Tin Bản Phạ" in html and "Tin thứ hai" in html
    assert "Quá dài" in html and "⚠" in html  # longer than the window: said, not dropped
    small = reads(queries)

    # more clusters and bulletins: the same number of queries
    for number in range(6):
        make_cluster(radio_operator, villages[number % len(villages)], f"Cụm loa thêm {number}")
    for number in range(4):
        approved_bulletin(title=f"Tin thêm {number}", villages=[villages[number % len(villages)]],
                          valid_until=today + datetime.timedelta(days=3))
    with CaptureQueriesContext(connection) as queries:
        response = operator.get(WEEK)
    assert response.status_code == 200 and "Tin thêm 3" in response.content.decode()
    assert writes(queries.captured_queries) == []
    assert reads(queries) == small

    # one cluster: the same reads
    with CaptureQueriesContext(connection) as queries:
        one = operator.get(WEEK, {"cluster": str(second.pk)})
    assert one.status_code == 200 and writes(queries.captured_queries) == [] and reads(queries) <= MAX_QUERIES
    assert "Tin Bản Phạ" in one.content.decode()
    assert old.pk  # (kept for the past day above)


def test_what_the_week_shows_is_what_the_playlists_hold_once_built(in_tule, villages, people, clock):
    radio_operator = people["radio_operator"]
    clusters = [make_cluster(radio_operator, villages[n % 3], f"Cụm {n}")[0] for n in range(5)]
    today = clock.now.date()
    until = today + datetime.timedelta(days=6)
    approved_bulletin(title="Chung", repeats=3, valid_until=until)
    approved_bulletin(title="Thôn một", villages=[villages[0]], category="weather", valid_until=until)
    approved_bulletin(title="Cụm ba", clusters=[clusters[3]], category="health", duration=7000, valid_until=until)
    approved_bulletin(title="Dài", duration=8000, repeats=2, valid_until=today + datetime.timedelta(days=2))
    monday = today - datetime.timedelta(days=today.weekday())

    shown = dict(selectors.week_schedule(monday))
    assert not Playlist.objects.exists()
    for day, windows in shown.items():
        if day < today:
            continue
        built = selectors.day_schedule(day)  # builds and stores every playlist, then reads them
        assert summary(windows) == summary(built), day
        assert {o["message"] for w in windows for o in w["overflow"]} == {
            o["message"] for w in built for o in w["overflow"]}, day  # the page shows each message once
    assert Playlist.objects.exists()
    one = dict(selectors.week_schedule(monday, cluster=clusters[3]))[today]
    assert summary(one) == summary(selectors.day_schedule(today, clusters=[clusters[3]]))
