"""The statistics page of the one-stop desk and its workbook, on dossiers of the first quarter of
2026 whose appointments are written here by hand (one working day for HT-02; a supplement
pause stops the clock; a form-4 extension moves no appointment) and whose results are classified
here again, without the portal's code: the page, its charts and the .xlsx must give the same
figures. Then who may open them, and that another commune's dossiers never appear."""
from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from communes.models import Role

from .helpers import at, dossier_row

HOST = "tule.localhost"
SVG = "{http://www.w3.org/2000/svg}"

# (received, completed, appointment written by hand, extension, pauses)
ROWS = {
    # HT-02 received Monday 02/02 09:00 is due Tuesday 03/02 17:00; done the same Monday: early.
    "feb_early": ("02/02/2026 09:00", "02/02/2026 15:00", "03/02/2026 17:00", None, []),
    "early": ("02/03/2026 09:00", "02/03/2026 15:00", "03/03/2026 17:00", None, []),
    "on_time": ("02/03/2026 09:00", "03/03/2026 16:00", "03/03/2026 17:00", None, []),
    "late": ("02/03/2026 09:00", "04/03/2026 10:00", "03/03/2026 17:00", None, []),
    # Form 4 promised Friday 06/03; done on Thursday, before that date, the result is still late.
    "extended_but_late": ("02/03/2026 09:00", "05/03/2026 10:00", "03/03/2026 17:00", "06/03/2026 17:00", []),
    # Two working days waiting for a supplement (Monday 10:00 to Wednesday 10:00) move the
    # appointment to Thursday 17:00: done Thursday 11:00, on time.
    "on_time_by_pause": ("02/03/2026 09:00", "05/03/2026 11:00", "05/03/2026 17:00", None,
                         [("02/03/2026 10:00", "04/03/2026 10:00")]),
    "open": ("03/03/2026 09:00", None, "04/03/2026 17:00", None, []),
}


def moment(text: str | None):
    return at(*text.split()) if text else None


def expected_class(completed, due) -> str:
    """Early: finished on a day before the appointment's day; on time: by the appointment on its
    day; late: after it (DOMAIN.md)."""
    if completed > due:
        return "late"
    return "early" if completed.date() < due.date() else "on_time"


def expected(rows=ROWS) -> dict:
    counts = {"received": 0, "early": 0, "on_time": 0, "late": 0}
    for received, completed, due, _extension, _pauses in rows.values():
        counts["received"] += 1
        if completed:
            counts[expected_class(moment(completed), moment(due))] += 1
    resolved = counts["early"] + counts["on_time"] + counts["late"]
    counts["share"] = (counts["early"] + counts["on_time"]) / resolved
    return counts


@pytest.fixture
def quarter(in_tule, procedures, people):
    officer = people["onestop_officer"]
    made = {}
    for key, (received, completed, due, extension, pauses) in ROWS.items():
        dossier = dossier_row(procedures["HT-02"], officer, received=moment(received), completed=moment(completed),
                              extended_to=moment(extension),
                              pauses=[(moment(a), moment(b)) for a, b in pauses])
        assert dossier.due_at == moment(due), key  # the portal's appointment is the one written here
        made[key] = dossier
    return made


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(chunk) for chunk in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def test_page_shows_the_figures_the_share_on_time_and_charts(quarter, people, client_for):
    want = expected()
    assert (want["early"], want["on_time"], want["late"]) == (2, 2, 2)
    response = client_for(HOST, people["chairman"]).get("/onestop/statistics/", {"period": "2026-Q1"})
    assert response.status_code == 200
    figures = response.context["figures"]
    assert {key: figures[key] for key in ("received", "early", "on_time", "late")} == {
        key: want[key] for key in ("received", "early", "on_time", "late")}
    html = response.content.decode()
    assert re.search(r'id="on-time-percent">66,7 %<', html)  # 4 of 6 resolved by the appointment
    charts = svgs(html)
    titles = [chart.find(f"{SVG}title").text for chart in charts]
    assert "Hồ sơ giải quyết trước hạn, đúng hạn và quá hạn" in titles
    assert "Hồ sơ theo tháng" in titles  # a quarter: one column group per month
    results = charts[titles.index("Hồ sơ giải quyết trước hạn, đúng hạn và quá hạn")]
    first_row = [r for r in results.iter(f"{SVG}rect") if r.get("data-series")][:3]
    assert [float(r.get("data-value")) for r in first_row] == [want["early"], want["on_time"], want["late"]]
    months = charts[titles.index("Hồ sơ theo tháng")]
    assert {t.text for t in months.iter(f"{SVG}text")} >= {"01/2026", "02/2026", "03/2026"}
    assert all(chart.get("role") == "img" for chart in charts)
    # The same figures in a table beside the chart.
    table = html[html.index('id="per-month"'):]
    assert "<td>03/2026</td><td>6</td><td>1</td><td>2</td><td>2</td><td>60 %</td>" in table

    typed = client_for(HOST, people["chairman"]).get("/onestop/statistics/", {"date_from": "01/03/2026",
                                                                               "date_to": "31/03/2026"})
    march = {k: v for k, v in ROWS.items() if not k.startswith("feb")}
    assert typed.context["figures"]["received"] == expected(march)["received"] == 6
    assert typed.context["period"].date_from == datetime.date(2026, 3, 1)  # 01/03 is 1 March, not 3 January
    bad = client_for(HOST, people["chairman"]).get("/onestop/statistics/", {"period": "2026-Q7"})
    assert bad.status_code == 400 and "errorlist" in bad.content.decode()


def test_workbook_holds_the_same_figures_as_numbers_dates_and_text(quarter, people, client_for):
    want = expected()
    response = client_for(HOST, people["onestop_officer"]).get("/onestop/statistics.xlsx", {"period": "2026-Q1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="thong-ke-mot-cua-tu-le-quy-1-2026.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Tổng hợp", "Theo thủ tục", "Theo cán bộ", "Theo tháng"]
    summary = book["Tổng hợp"]
    assert "Tú Lệ" in summary["A1"].value
    assert summary["A2"].value == "THỐNG KÊ BỘ PHẬN MỘT CỬA"
    lines = {row[0].value: row[1] for row in summary.iter_rows(min_row=3) if row[0].value}
    assert lines["Kỳ báo cáo"].value == "Quý I/2026"
    assert lines["Từ ngày"].is_date and lines["Từ ngày"].value == datetime.datetime(2026, 1, 1)
    assert lines["Đến ngày"].value == datetime.datetime(2026, 3, 31) and lines["Đến ngày"].number_format == "DD/MM/YYYY"
    assert lines["Hồ sơ tiếp nhận"].value == want["received"] and lines["Hồ sơ tiếp nhận"].data_type == "n"
    assert lines["Giải quyết trước hạn"].value == want["early"]
    assert lines["Giải quyết đúng hạn"].value == want["on_time"]
    assert lines["Giải quyết quá hạn"].value == want["late"]
    share = lines["Tỷ lệ giải quyết đúng hạn (trước hạn hoặc đúng hạn)"]
    assert share.value == pytest.approx(want["share"]) and share.number_format == "0.0%"

    procedures = book["Theo thủ tục"]
    headings = [cell.value for cell in procedures[1]]
    assert headings[:3] == ["Mã thủ tục", "Thủ tục", "Đã nhận"]
    ht = next(row for row in procedures.iter_rows(min_row=2) if row[0].value == "HT-02")
    assert ht[0].data_type == "s" and ht[2].value == want["received"]
    assert [ht[headings.index(h)].value for h in ("Trước hạn", "Đúng hạn", "Quá hạn")] == [2, 2, 2]

    months = book["Theo tháng"]
    month_rows = list(months.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in month_rows] == [datetime.datetime(2026, m, 1) for m in (1, 2, 3)]
    month_headings = [cell.value for cell in months[1]]
    received_col = month_headings.index("Đã nhận")
    assert [row[received_col] for row in month_rows] == [0, 1, 6]


def test_who_may_see_the_statistics(quarter, people, client_for, make_user, yenhoa, tule):
    allowed = {Role.ONESTOP_OFFICER.value, Role.COMMUNE_ADMIN.value, Role.CHAIRMAN.value, Role.VICE_CHAIRMAN.value}
    for role in Role:
        client = client_for(HOST, people[role.value])
        for path in ("/onestop/statistics/", "/onestop/statistics.xlsx"):
            status = client.get(path, {"period": "2026-Q1"}).status_code
            assert status == (200 if role.value in allowed else 403), (role.value, path, status)
    assert client_for(HOST, people["citizen"]).get("/onestop/statistics.xlsx").status_code == 403
    anonymous = client_for(HOST).get("/onestop/statistics.xlsx")
    assert anonymous.status_code == 302

    # The chairman of another commune: nothing here, and his own commune shows none of these dossiers.
    other = make_user("yh_chairman_stats", roles={yenhoa: [Role.CHAIRMAN]}, full_name="Đinh Văn Yên")
    assert client_for(HOST, other).get("/onestop/statistics/", {"period": "2026-Q1"}).status_code == 403
    assert client_for(HOST, other).get("/onestop/statistics.xlsx", {"period": "2026-Q1"}).status_code == 403
    own = client_for("yenhoa.localhost", other).get("/onestop/statistics/", {"period": "2026-Q1"})
    assert own.status_code == 200 and own.context["figures"]["received"] == 0
    book = load_workbook(io.BytesIO(client_for("yenhoa.localhost", other).get(
        "/onestop/statistics.xlsx", {"period": "2026-Q1"}).content))
    assert "Tú Lệ" not in str(book["Tổng hợp"]["A1"].value)
    lines = {row[0].value: row[1].value for row in book["Tổng hợp"].iter_rows(min_row=3) if row[0].value}
    assert lines["Hồ sơ tiếp nhận"] == 0
    assert book["Theo thủ tục"].max_row == 1  # headings only
