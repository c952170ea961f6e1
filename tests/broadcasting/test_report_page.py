"""The radio's report page for a quarter and its workbook, on a fixed as-run log and heartbeat
history of the fourth quarter of 2026 read on 01/01/2027: hours aired, plays, bulletins
broadcast and device uptime, recomputed here from the rows themselves; charts and the .xlsx
give the same figures. Then who may open them, and that another commune's clusters never appear."""
from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from broadcasting.models import AsRunEntry, Heartbeat
from communes.models import Role

from .helpers import Clock, approved_bulletin, at, d, make_cluster

HOST = "tule.localhost"
SVG = "{http://www.w3.org/2000/svg}"
NOW = at("01/01/2027", "00:00")
START = at("01/10/2026", "00:00")
WINDOW = 600  # XASO_RADIO_OFFLINE_SECONDS in these tests
# (cluster, bulletin, start, minutes, emergency)
AIRED = [
    ("A", "news", "02/10/2026 05:00", 10, False),
    ("A", "news", "02/10/2026 17:00", 10, False),
    ("A", "weather", "03/11/2026 05:00", 30, False),
    ("A", "storm", "05/12/2026 21:13", 20, True),
    ("B", "news", "04/11/2026 05:30", 60, False),
    ("A", "news", "30/09/2026 05:00", 10, False),  # the quarter before: not counted
]
BEATS_A = [START + datetime.timedelta(seconds=300 * i) for i in range(2880)]  # ten days, every five minutes


@pytest.fixture
def fourth_quarter(in_tule, villages, people, monkeypatch, settings):
    settings.XASO_RADIO_OFFLINE_SECONDS = WINDOW
    clock = Clock(monkeypatch, START)
    operator = people["radio_operator"]
    clusters = {"A": make_cluster(operator, villages[0], "Cụm A")[0], "B": make_cluster(operator, villages[1], "Cụm B")[0]}
    bulletins = {
        "news": approved_bulletin(title="Tin", category="news", valid_from=d("01/10/2026"), valid_until=d("05/10/2026")),
        "weather": approved_bulletin(title="Mưa", category="weather", valid_from=d("01/11/2026"),
                                     valid_until=d("05/11/2026")),
        "storm": approved_bulletin(title="Bão", category="emergency", valid_from=d("05/12/2026"),
                                   valid_until=d("06/12/2026")),
    }
    for cluster, bulletin, start, minutes, emergency in AIRED:
        began = at(*start.split())
        AsRunEntry.objects.create(cluster=clusters[cluster], bulletin=bulletins[bulletin],
                                  asset_key=bulletins[bulletin].asset.key, started_at=began,
                                  ended_at=began + datetime.timedelta(minutes=minutes), emergency=emergency)
    Heartbeat.objects.bulk_create([Heartbeat(cluster=clusters["A"], at=moment, status="idle") for moment in BEATS_A])
    clock.set(NOW)
    return clusters


def expected() -> dict:
    start, end = START, NOW
    minutes = {"A": 0, "B": 0}
    plays = {"A": 0, "B": 0}
    emergency = 0
    played = set()
    for cluster, bulletin, began, length, urgent in AIRED:
        moment = at(*began.split())
        if start <= moment < end:
            minutes[cluster] += length
            plays[cluster] += 1
            emergency += urgent
            played.add(bulletin)
    covered = sum(min(following - beat, datetime.timedelta(seconds=WINDOW)).total_seconds()
                  for beat, following in zip(BEATS_A, BEATS_A[1:] + [end]))
    span = (end - start).total_seconds()
    return {"hours": {name: round(value / 60, 2) for name, value in minutes.items()},
            "total_hours": round(sum(minutes.values()) / 60, 2), "plays": plays, "emergency": emergency,
            "played": len(played), "uptime": {"A": round(covered / span, 4), "B": 0.0}}


def svgs(html: str) -> dict[str, ET.Element]:
    charts = [ET.fromstring(chunk) for chunk in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]
    return {chart.find(f"{SVG}title").text: chart for chart in charts}


def test_quarter_page_figures_and_charts(fourth_quarter, people, client_for):
    want = expected()
    response = client_for(HOST, people["radio_operator"]).get("/radio/reports/", {"period": "2026-Q4"})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report["date_from"], report["date_to"]) == (d("01/10/2026"), d("31/12/2026"))
    rows = {row["name"].removeprefix("Cụm "): row for row in report["clusters"]}
    assert {name: rows[name]["hours_aired"] for name in want["hours"]} == want["hours"]
    assert {name: rows[name]["plays"] for name in want["plays"]} == want["plays"]
    assert {name: rows[name]["uptime"] for name in want["uptime"]} == want["uptime"]
    totals = report["totals"]
    assert (totals["hours_aired"], totals["emergency_plays"], totals["bulletins_played"]) == (
        want["total_hours"], want["emergency"], want["played"])
    html = response.content.decode()
    assert "Báo cáo truyền thanh: Quý IV/2026" in html
    charts = svgs(html)
    hours = charts["Số giờ phát theo cụm loa"]
    bars = {float(r.get("data-value")): float(r.get("width")) for r in hours.iter(f"{SVG}rect") if r.get("data-value")}
    assert set(bars) == {want["hours"]["A"], want["hours"]["B"]}
    assert bars[want["hours"]["B"]] == pytest.approx(bars[want["hours"]["A"]] * want["hours"]["B"] / want["hours"]["A"],
                                                     rel=1e-3)
    assert "1,2 giờ" in {t.text for t in hours.iter(f"{SVG}text")}  # 1.17 hours, Vietnamese decimal comma
    uptime = charts["Thời gian hoạt động theo cụm loa"]
    values = sorted(float(r.get("data-value")) for r in uptime.iter(f"{SVG}rect") if r.get("data-value"))
    assert values == pytest.approx([0.0, want["uptime"]["A"] * 100])
    assert "Lượt phát theo loại tin" in charts
    # The month of the old links still works, and a month has arrows to the months around it.
    month = client_for(HOST, people["radio_operator"]).get("/radio/reports/", {"month": "11/2026"})
    assert month.status_code == 200 and month.context["period"].token == "2026-11"
    assert "?period=2026-10" in month.content.decode() and "?period=2026-12" in month.content.decode()


def test_workbook_holds_the_same_figures(fourth_quarter, people, client_for):
    want = expected()
    response = client_for(HOST, people["chairman"]).get("/radio/reports.xlsx", {"period": "2026-Q4"})
    assert response.status_code == 200
    assert 'filename="bao-cao-truyen-thanh-tu-le-quy-4-2026.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Tổng hợp", "Theo cụm loa", "Bản tin theo loại"]
    lines = {row[0].value: row[1] for row in book["Tổng hợp"].iter_rows(min_row=3) if row[0].value}
    assert lines["Từ ngày"].value == datetime.datetime(2026, 10, 1) and lines["Từ ngày"].is_date
    assert lines["Giờ đã phát"].value == pytest.approx(want["total_hours"]) and lines["Giờ đã phát"].data_type == "n"
    assert lines["Bản tin đã phát"].value == want["played"]
    assert lines["Lượt phát khẩn cấp"].value == want["emergency"]
    assert lines["Thời gian thiết bị hoạt động"].number_format == "0.0%"
    clusters = book["Theo cụm loa"]
    headings = [cell.value for cell in clusters[1]]
    assert headings == ["Cụm loa", "Thôn/bản", "Giờ đã phát", "Lượt phát", "Lượt phát khẩn cấp", "Thời gian hoạt động"]
    rows = {row[0].value: row for row in clusters.iter_rows(min_row=2)}
    assert rows["Cụm A"][0].data_type == "s" and rows["Cụm A"][1].value == "Bản Lướt"
    assert rows["Cụm A"][2].value == pytest.approx(want["hours"]["A"]) and rows["Cụm A"][3].value == want["plays"]["A"]
    assert rows["Cụm A"][5].value == pytest.approx(want["uptime"]["A"]) and rows["Cụm A"][5].number_format == "0.0%"


def test_who_may_see_the_report(fourth_quarter, people, client_for, make_user, yenhoa):
    allowed = {Role.RADIO_OPERATOR.value, Role.COMMUNE_ADMIN.value, Role.CHAIRMAN.value, Role.VICE_CHAIRMAN.value}
    for role in Role:
        client = client_for(HOST, people[role.value])
        for path in ("/radio/reports/", "/radio/reports.xlsx"):
            status = client.get(path, {"period": "2026-Q4"}).status_code
            assert status == (200 if role.value in allowed else 403), (role.value, path, status)
    assert client_for(HOST).get("/radio/reports.xlsx").status_code == 302
    other = make_user("yh_radio_stats", roles={yenhoa: [Role.RADIO_OPERATOR]}, full_name="Lê Văn Yên")
    assert client_for(HOST, other).get("/radio/reports.xlsx", {"period": "2026-Q4"}).status_code == 403
    own = client_for("yenhoa.localhost", other).get("/radio/reports/", {"period": "2026-Q4"})
    assert own.status_code == 200 and "Cụm A" not in own.content.decode()
    book = load_workbook(io.BytesIO(client_for("yenhoa.localhost", other).get(
        "/radio/reports.xlsx", {"period": "2026-Q4"}).content))
    assert book["Theo cụm loa"].max_row == 1
