"""Monthly reports on a fixed as-run log and heartbeat history (December 2026, read on the
11th at midnight): hours aired per cluster, bulletins by category, device uptime; the same
through the staff API and, per commune, through the supervising unit's API (its own communes only)."""
from __future__ import annotations

import datetime

import pytest

from broadcasting import reports
from broadcasting.models import AsRunEntry, Heartbeat
from communes.models import SupervisingUnit

from .helpers import StayIn, approved_bulletin, at, d, make_cluster, token_headers

NOW = at("11/12/2026", "00:00")


@pytest.fixture
def december(in_tule, villages, people, monkeypatch):
    from .helpers import Clock

    clock = Clock(monkeypatch, NOW)
    operator = people["radio_operator"]
    a, _ = make_cluster(operator, villages[0], "Cụm A")
    b, _ = make_cluster(operator, villages[1], "Cụm B")
    c, _ = make_cluster(operator, villages[2], "Cụm C")
    news = approved_bulletin(title="Tin", category="news", valid_from=d("01/12/2026"), valid_until=d("05/12/2026"))
    weather = approved_bulletin(title="Mưa", category="weather", valid_from=d("20/11/2026"),
                                valid_until=d("25/11/2026"))
    storm = approved_bulletin(title="Bão", category="emergency", valid_from=d("02/12/2026"))
    approved_bulletin(title="Tiêm chủng", category="health", valid_from=d("20/12/2026"), valid_until=d("25/12/2026"))
    approved_bulletin(title="Nháp", category="news", state="draft", valid_from=d("01/12/2026"))
    approved_bulletin(title="Đã rút", category="policy", state="withdrawn", valid_from=d("01/12/2026"))

    def aired(cluster, bulletin, start, minutes, emergency=False):
        AsRunEntry.objects.create(cluster=cluster, bulletin=bulletin, asset_key=bulletin.asset.key, started_at=start,
                                  ended_at=start + datetime.timedelta(minutes=minutes), emergency=emergency)

    aired(a, news, at("02/12/2026", "05:00"), 10)
    aired(a, news, at("02/12/2026", "17:00"), 10)
    aired(a, storm, at("02/12/2026", "21:13"), 10, emergency=True)
    aired(a, news, at("30/11/2026", "05:00"), 10)  # November: not in the report
    aired(b, weather, at("03/12/2026", "05:00"), 60)

    start = at("01/12/2026", "00:00")
    beats = [Heartbeat(cluster=a, at=start + datetime.timedelta(seconds=300 * i), status="idle") for i in range(1440)]
    beats += [Heartbeat(cluster=b, at=start + datetime.timedelta(seconds=900 * i), status="idle") for i in range(960)]
    beats.append(Heartbeat(cluster=b, at=start - datetime.timedelta(seconds=60), status="idle"))
    beats.append(Heartbeat(cluster=c, at=start - datetime.timedelta(seconds=300), status="idle"))
    beats.append(Heartbeat(cluster=a, at=NOW + datetime.timedelta(days=30), status="idle"))  # a wrong clock: ignored
    Heartbeat.objects.bulk_create(beats)
    return {"a": a, "b": b, "c": c, "clock": clock, "operator": operator}


def by_name(rows):
    return {row["name"]: row for row in rows}


def test_hours_aired_uptime_and_categories(december, settings):
    settings.XASO_RADIO_OFFLINE_SECONDS = 600
    report = reports.monthly_report(reports.parse_month("2026-12"))
    assert report["month"] == "2026-12" and report["date_from"] == d("01/12/2026")
    assert report["date_to"] == d("31/12/2026")
    clusters = by_name(report["clusters"])
    assert {name: (row["hours_aired"], row["plays"], row["emergency_plays"]) for name, row in clusters.items()} == {
        "Cụm A": (0.5, 3, 1), "Cụm B": (1.0, 1, 0), "Cụm C": (0.0, 0, 0)}
    assert clusters["Cụm A"]["seconds_aired"] == 1800.0
    # Uptime over 10 days (864,000 s): A beat every 5 minutes for 5 days (1439 × 300 s + the last
    # one's 600 s); B every 15 minutes, each covering 600 s; C once, just before the month.
    assert clusters["Cụm A"]["uptime"] == round(432300 / 864000, 4)
    assert clusters["Cụm B"]["uptime"] == round(960 * 600 / 864000, 4)
    assert clusters["Cụm C"]["uptime"] == round(300 / 864000, 4)
    assert all(row["online"] is False for row in report["clusters"])  # nothing heard for days
    categories = {row["category"]: (row["bulletins"], row["plays"], row["seconds_aired"])
                  for row in report["categories"]}
    assert categories == {"news": (1, 2, 1200.0), "weather": (1, 1, 3600.0), "emergency": (1, 1, 600.0),
                          "health": (1, 0, 0.0), "policy": (0, 0, 0.0)}
    totals = report["totals"]
    assert totals["hours_aired"] == 1.5 and totals["plays"] == 4 and totals["clusters"] == 3
    assert totals["bulletins"] == 4 and totals["online"] == 0
    assert totals["uptime"] == round((clusters["Cụm A"]["uptime"] + clusters["Cụm B"]["uptime"]
                                      + clusters["Cụm C"]["uptime"]) / 3, 4)


def test_uptime_of_a_cluster_added_in_the_month(december, villages, people):
    clock = december["clock"]
    clock.set(at("06/12/2026", "00:00"))
    late, _ = make_cluster(people["radio_operator"], villages[0], "Cụm mới")
    start = clock.now
    Heartbeat.objects.bulk_create([Heartbeat(cluster=late, at=start + datetime.timedelta(seconds=300 * i))
                                   for i in range(288 * 5)])  # five days, every five minutes
    clock.set(NOW)
    row = by_name(reports.monthly_report(d("01/12/2026"))["clusters"])["Cụm mới"]
    assert row["uptime"] == 1.0  # its month began when it was added; the last beat covers up to now


def test_another_month_and_a_future_one(december):
    november = reports.monthly_report(d("01/11/2026"))
    assert by_name(november["clusters"])["Cụm A"]["plays"] == 1
    assert november["totals"]["hours_aired"] == round(600 / 3600, 2)
    january = reports.monthly_report(d("01/01/2027"))
    assert january["totals"]["plays"] == 0 and january["totals"]["uptime"] is None


@pytest.mark.parametrize("value", ["2026-13", "13/2026", "abc", "1999-01", "2026-0", "2026/12", "12-2026",
                                   "2026-12-01"])
def test_bad_months(value):
    with pytest.raises(reports.ValidationError) as refused:
        reports.parse_month(value)
    assert "month" in refused.value.message_dict


def test_reports_through_the_api(december, client_for, in_tule, people):
    api = StayIn(client_for("tule.localhost", people["chairman"]), in_tule)
    body = api.get("/api/v1/radio/reports/?month=2026-12").json()
    assert body["totals"]["hours_aired"] == 1.5 and by_name(body["clusters"])["Cụm B"]["hours_aired"] == 1.0
    assert api.get("/api/v1/radio/reports/?month=12/2026").json() == body
    assert api.get("/api/v1/radio/reports/").json()["month"] == "2026-12"  # this month
    for value in ("2026-13", "tháng 12", "1999-01"):
        bad = api.get(f"/api/v1/radio/reports/?month={value}")
        assert bad.status_code == 400 and set(bad.json()) == {"code", "detail", "fields"}
        assert "month" in bad.json()["fields"]
    other = StayIn(client_for("tule.localhost", people["clerk"]), in_tule)
    assert other.get("/api/v1/radio/reports/?month=2026-12").status_code == 403


def test_the_supervising_unit_sees_its_communes_only(december, client_for, in_tule, make_user):
    lao_cai = make_user("radio_unit_15", units=[SupervisingUnit.objects.get(code="15")])
    thanh_hoa = make_user("radio_unit_38", units=[SupervisingUnit.objects.get(code="38")])
    national = StayIn(client_for("localhost"), in_tule)

    body = national.get("/api/v1/radio/reports/?month=2026-12", **token_headers(lao_cai)).json()
    assert [row["commune_code"] for row in body["rows"]] == ["04630"]
    row = body["rows"][0]
    assert row["commune_name"] and row["totals"]["hours_aired"] == 1.5
    assert by_name(row["clusters"])["Cụm A"]["hours_aired"] == 0.5
    assert {c["category"]: c["bulletins"] for c in row["categories"]}["news"] == 1
    assert body["totals"]["communes"] == 1 and body["totals"]["hours_aired"] == 1.5
    assert body["totals"]["clusters"] == 3 and body["totals"]["uptime"] == row["totals"]["uptime"]
    one = national.get("/api/v1/communes/04630/radio/reports/?month=2026-12", **token_headers(lao_cai))
    assert one.status_code == 200 and one.json()["totals"] == row["totals"]
    clusters = national.get("/api/v1/communes/04630/radio/clusters/", **token_headers(lao_cai))
    assert clusters.status_code == 200 and len(clusters.json()["results"]) == 3
    # Reads only: no writes through the national host.
    write = national.post("/api/v1/communes/04630/radio/bulletins/", {"title": "x", "text": "Chào"},
                          content_type="application/json", **token_headers(lao_cai))
    assert write.status_code == 403
    assert national.get("/api/v1/communes/04630/radio/reports/?month=2026-13",
                        **token_headers(lao_cai)).status_code == 400

    other = national.get("/api/v1/radio/reports/?month=2026-12", **token_headers(thanh_hoa)).json()
    assert [row["commune_code"] for row in other["rows"]] == ["16144"]
    assert other["totals"]["hours_aired"] == 0 and other["totals"]["clusters"] == 0
    outside = national.get("/api/v1/communes/04630/radio/reports/?month=2026-12", **token_headers(thanh_hoa))
    unknown = national.get("/api/v1/communes/99999/radio/reports/?month=2026-12", **token_headers(thanh_hoa))
    assert outside.status_code == unknown.status_code == 404 and outside.json() == unknown.json()
    assert national.get("/api/v1/radio/reports/?month=2026-12").status_code == 401
    assert national.get("/api/v1/radio/reports/?month=2026-13", **token_headers(lao_cai)).status_code == 400
