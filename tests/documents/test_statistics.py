"""The statistics page of official documents and its workbook, on documents of the third
quarter of 2026 written with fixed dates: received and issued per month and by type, and
incoming documents handled by their deadline, recomputed here from the rows themselves. Then who
may open them, and that another commune's documents never appear."""
from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from communes.models import Role

HOST = "tule.localhost"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SVG = "{http://www.w3.org/2000/svg}"
FUTURE = "01/01/2099 17:00"


def at(text: str | None):
    return datetime.datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=TZ) if text else None


# Incoming: (arrived, type code or typed name, registered, state, deadline, completed)
INCOMING = [
    ("03/07/2026 08:00", "cong-van", True, "completed", "10/07/2026 17:00", "09/07/2026 10:00"),  # by the deadline
    ("06/07/2026 08:00", "quyet-dinh", True, "completed", "08/07/2026 17:00", "09/07/2026 10:00"),  # after it
    ("07/07/2026 08:00", "cong-van", False, "received", None, None),  # not registered: not counted
    ("04/08/2026 08:00", "Giấy mời họp", True, "in_progress", "10/08/2026 17:00", None),  # open, overdue
    ("05/08/2026 08:00", "cong-van", True, "assigned", FUTURE, None),  # open, not yet due
    ("06/08/2026 08:00", "cong-van", True, "registered", None, None),  # no deadline
    # Completed exactly at its deadline: on time.
    ("01/09/2026 23:30", "thong-bao", True, "completed", "03/09/2026 17:00", "03/09/2026 17:00"),
    ("01/10/2026 08:00", "cong-van", True, "registered", None, None),  # the next quarter
]
# Outgoing: (issued on, type code, numbered, state)
OUTGOING = [
    ("02/07/2026", "quyet-dinh", True, "issued"),
    ("15/07/2026", "cong-van", True, "dispatched"),
    ("20/08/2026", "quyet-dinh", True, "withdrawn"),  # its number was used: counted
    ("21/08/2026", "thong-bao", False, "approved"),  # not numbered: not counted
    ("30/09/2026", "cong-van", True, "filed"),
    ("01/10/2026", "cong-van", True, "issued"),  # the next quarter
]
TYPE_NAMES = {"cong-van": "Công văn", "quyet-dinh": "Quyết định", "thong-bao": "Thông báo"}


def expected() -> dict:
    """The figures of the third quarter, from the rows above."""
    start, end = datetime.date(2026, 7, 1), datetime.date(2026, 9, 30)
    months = {datetime.date(2026, m, 1): {"received": 0, "issued": 0} for m in (7, 8, 9)}
    types: dict[str, dict] = {}
    deadlines = {"on_time": 0, "late": 0, "overdue": 0, "pending": 0}
    for arrived, kind, registered, state, deadline, completed in INCOMING:
        day = at(arrived).date()
        if not registered or not start <= day <= end:
            continue
        months[day.replace(day=1)]["received"] += 1
        name = TYPE_NAMES.get(kind, kind)
        types.setdefault(name, {"received": 0, "issued": 0})["received"] += 1
        if deadline:
            if completed:
                deadlines["on_time" if at(completed) <= at(deadline) else "late"] += 1
            else:
                deadlines["overdue" if at(deadline) < datetime.datetime.now(TZ) else "pending"] += 1
    for issued, kind, numbered, _state in OUTGOING:
        day = datetime.datetime.strptime(issued, "%d/%m/%Y").date()
        if numbered and start <= day <= end:
            months[day.replace(day=1)]["issued"] += 1
            types.setdefault(TYPE_NAMES[kind], {"received": 0, "issued": 0})["issued"] += 1
    judged = deadlines["on_time"] + deadlines["late"] + deadlines["overdue"]
    return {"months": months, "types": types, "deadlines": deadlines, "share": deadlines["on_time"] / judged,
            "received": sum(m["received"] for m in months.values()),
            "issued": sum(m["issued"] for m in months.values())}


@pytest.fixture
def quarter(in_tule, people, doc_types):
    from documents.models import IncomingDocument, OutgoingDocument

    handler = people["specialist"]
    for number, (arrived, kind, registered, state, deadline, completed) in enumerate(INCOMING, start=1):
        typed = doc_types.get(kind)
        IncomingDocument.objects.create(
            state=state, arrived_at=at(arrived), incoming_number=number if registered else None,
            incoming_year=2026 if registered else None, sender_org="UBND tỉnh", subject=f"Văn bản đến {number}",
            doc_type=typed, type_name="" if typed else kind, deadline=at(deadline), completed_at=at(completed),
            lead_handler=handler if deadline else None)
    for number, (issued, kind, numbered, state) in enumerate(OUTGOING, start=1):
        day = datetime.datetime.strptime(issued, "%d/%m/%Y").date()
        OutgoingDocument.objects.create(
            doc_type=doc_types[kind], subject=f"Văn bản đi {number}", state=state,
            number=number if numbered else None, number_year=2026 if numbered else None,
            sequence_key="shared" if numbered else "", number_symbol=f"{number:02d}/X-UBND" if numbered else "",
            issued_on=day if numbered else None)


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(chunk) for chunk in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def test_page_figures_share_and_charts(quarter, people, client_for):
    want = expected()
    assert want["deadlines"] == {"on_time": 2, "late": 1, "overdue": 1, "pending": 1}
    response = client_for(HOST, people["clerk"]).get("/documents/statistics/", {"period": "2026-Q3"})
    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures["received"], figures["issued"]) == (want["received"], want["issued"]) == (6, 4)
    assert {row["month"]: {"received": row["received"], "issued": row["issued"]}
            for row in figures["by_month"]} == want["months"]
    assert {row["type"]: {"received": row["received"], "issued": row["issued"]}
            for row in figures["by_type"]} == want["types"]
    deadlines = figures["deadlines"]
    assert {key: deadlines[key] for key in want["deadlines"]} == want["deadlines"]
    assert deadlines["on_time_share"] == pytest.approx(want["share"])
    html = response.content.decode()
    assert re.search(r'id="on-time-percent">50 %<', html)  # 2 of 4 judged
    charts = {chart.find(f"{SVG}title").text: chart for chart in svgs(html)}
    months = charts["Văn bản đến và đi theo tháng"]
    assert {t.text for t in months.iter(f"{SVG}text")} >= {"07/2026", "08/2026", "09/2026"}
    values = [(r.get("data-series"), float(r.get("data-value"))) for r in months.iter(f"{SVG}rect") if r.get("data-series")]
    assert values == [("văn bản đến", 2.0), ("văn bản đi", 2.0), ("văn bản đến", 3.0), ("văn bản đi", 1.0),
                      ("văn bản đến", 1.0), ("văn bản đi", 1.0)]
    assert "Văn bản theo loại" in charts and "Văn bản đến có hạn xử lý" in charts
    assert all(chart.get("role") == "img" for chart in charts.values())
    assert 'href="/documents/statistics/"' in html  # the menu leads here

    typed = client_for(HOST, people["clerk"]).get("/documents/statistics/", {"date_from": "01/08/2026",
                                                                               "date_to": "31/08/2026"})
    assert (typed.context["figures"]["received"], typed.context["figures"]["issued"]) == (
        want["months"][datetime.date(2026, 8, 1)]["received"], want["months"][datetime.date(2026, 8, 1)]["issued"])
    bad = client_for(HOST, people["clerk"]).get("/documents/statistics/", {"date_from": "31/02/2026"})
    assert bad.status_code == 400 and "dd/mm/yyyy" in bad.content.decode()


def test_workbook_holds_the_same_figures(quarter, people, client_for):
    want = expected()
    response = client_for(HOST, people["chairman"]).get("/documents/statistics.xlsx", {"period": "2026-Q3"})
    assert response.status_code == 200
    assert 'filename="thong-ke-van-ban-tu-le-quy-3-2026.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Tổng hợp", "Theo tháng", "Theo loại văn bản", "Theo người xử lý"]
    summary = book["Tổng hợp"]
    assert summary["A2"].value == "THỐNG KÊ VĂN BẢN"
    lines = {row[0].value: row[1] for row in summary.iter_rows(min_row=3) if row[0].value}
    assert lines["Kỳ báo cáo"].value == "Quý III/2026"
    assert lines["Từ ngày"].is_date and lines["Từ ngày"].value == datetime.datetime(2026, 7, 1)
    assert lines["Đến ngày"].value == datetime.datetime(2026, 9, 30)
    assert lines["Văn bản đến đã vào sổ"].value == want["received"] and lines["Văn bản đến đã vào sổ"].data_type == "n"
    assert lines["Văn bản đi đã ban hành"].value == want["issued"]
    assert lines["Xử lý đúng hạn"].value == 2 and lines["Xử lý quá hạn"].value == 1
    assert lines["Tỷ lệ xử lý đúng hạn"].value == pytest.approx(want["share"])
    assert lines["Tỷ lệ xử lý đúng hạn"].number_format == "0.0%"
    month_rows = list(book["Theo tháng"].iter_rows(values_only=True))
    assert month_rows[0] == ("Tháng", "Đã nhận", "Đã ban hành")
    assert month_rows[1:] == [(datetime.datetime(2026, m, 1), want["months"][datetime.date(2026, m, 1)]["received"],
                               want["months"][datetime.date(2026, m, 1)]["issued"]) for m in (7, 8, 9)]
    types = {row[0].value: (row[0].data_type, row[1].value, row[2].value)
             for row in book["Theo loại văn bản"].iter_rows(min_row=2)}
    assert types == {name: ("s", counts["received"], counts["issued"]) for name, counts in want["types"].items()}


def test_who_may_see_the_statistics(quarter, people, client_for, make_user, yenhoa):
    allowed = {Role.CLERK.value, Role.CHAIRMAN.value, Role.VICE_CHAIRMAN.value}
    for role in Role:
        client = client_for(HOST, people[role.value])
        for path in ("/documents/statistics/", "/documents/statistics.xlsx"):
            status = client.get(path, {"period": "2026-Q3"}).status_code
            assert status == (200 if role.value in allowed else 403), (role.value, path, status)
        menu = client.get("/documents/").content.decode()
        assert ('href="/documents/statistics/"' in menu) == (role.value in allowed), role.value
    assert client_for(HOST).get("/documents/statistics.xlsx").status_code == 302

    other = make_user("yh_clerk_stats", roles={yenhoa: [Role.CLERK]}, full_name="Phạm Thị Yến")
    assert client_for(HOST, other).get("/documents/statistics/", {"period": "2026-Q3"}).status_code == 403
    own = client_for("yenhoa.localhost", other).get("/documents/statistics/", {"period": "2026-Q3"})
    assert own.status_code == 200
    assert (own.context["figures"]["received"], own.context["figures"]["issued"]) == (0, 0)
    book = load_workbook(io.BytesIO(client_for("yenhoa.localhost", other).get(
        "/documents/statistics.xlsx", {"period": "2026-Q3"}).content))
    assert book["Theo loại văn bản"].max_row == 1
