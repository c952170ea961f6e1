"""Charts drawn on the server (``core.charts``): valid SVG that an XML parser reads, bars
proportional to their values, labels and figures written the Vietnamese way, a title and a
description for screen readers; and the reporting periods (``core.periods``)."""
from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest

from core import charts, periods

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))


def bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("data-value") is not None]


def texts(root: ET.Element) -> list[str]:
    return [text.text for text in root.iter(f"{SVG}text")]


def test_vietnamese_numbers():
    assert charts.number(1234) == "1.234"
    assert charts.number(1234567) == "1.234.567"
    assert charts.number(12.5) == "12,5"
    assert charts.number(1234.56, 1) == "1.234,6"
    assert charts.number(0.333333) == "0,33"
    assert charts.number(None) == "–"
    assert charts.percent(0.9612) == "96,1 %"
    assert charts.percent(1.0) == "100 %"
    assert charts.percent(2 / 3) == "66,7 %"
    assert charts.percent(None) == "–"


def test_bar_chart_is_accessible_svg_with_proportional_bars():
    svg = charts.bar_chart([("Hộ tịch", 40), ("Chứng thực", 10), ("Đất đai <&>", 0), ("Tư pháp", 1234)],
                           title="Hồ sơ theo lĩnh vực")
    root = parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("viewBox", "").startswith("0 0 640 ") and root.get("width") == "100%"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title.text == "Hồ sơ theo lĩnh vực"
    assert set(root.get("aria-labelledby").split()) == {title.get("id"), desc.get("id")}
    assert "Hộ tịch: 40" in desc.text and "Tư pháp: 1.234" in desc.text
    widths = {float(rect.get("data-value")): float(rect.get("width")) for rect in bars(root)}
    assert widths[0] == 0
    assert widths[40] == pytest.approx(widths[1234] * 40 / 1234, rel=1e-3)
    assert widths[10] == pytest.approx(widths[40] / 4, rel=1e-3)
    labels = texts(root)
    assert {"Hộ tịch", "Chứng thực", "Đất đai <&>", "Tư pháp"} <= set(labels)  # escaped, then read back
    assert {"40", "10", "0", "1.234"} <= set(labels)
    assert "<&>" not in str(svg).replace("&lt;&amp;&gt;", "")  # no raw markup from a label


def test_bar_chart_with_a_fixed_maximum_unit_and_no_data():
    root = parse(charts.bar_chart([("Cụm A", 50.0), ("Cụm B", 100.0), ("Cụm C", None)], title="Thời gian hoạt động",
                                  maximum=100, unit="%", fmt=lambda v: charts.number(v, 1)))
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert widths[0] == pytest.approx(widths[1] / 2) and widths[2] == 0
    assert "50,0 %" in texts(root) and "–" in texts(root)
    empty = parse(charts.bar_chart([], title="Không có gì"))
    assert empty.find(f"{SVG}title").text == "Không có gì" and not bars(empty)


def test_stacked_bar_chart_parts_and_legend():
    root = parse(charts.stacked_bar_chart(
        [("Tổng", [6, 3, 3]), ("HT-02", [2, 1, 1])], series=["trước hạn", "đúng hạn", "trễ hạn"],
        title="Kết quả giải quyết"))
    rects = bars(root)
    total_row = [r for r in rects if float(r.get("y")) == min(float(x.get("y")) for x in rects)]
    assert [r.get("data-series") for r in total_row] == ["trước hạn", "đúng hạn", "trễ hạn"]
    widths = [float(r.get("width")) for r in total_row]
    assert widths[0] == pytest.approx(2 * widths[1], rel=1e-3) and widths[1] == pytest.approx(widths[2], rel=1e-3)
    # Parts follow each other, and the second bar is on the same scale (total 4 against 12).
    assert float(total_row[1].get("x")) == pytest.approx(float(total_row[0].get("x")) + widths[0], abs=0.02)
    second = [r for r in rects if r not in total_row]
    assert sum(float(r.get("width")) for r in second) == pytest.approx(sum(widths) * 4 / 12, rel=1e-3)
    legend = root.find(f"{SVG}g[@class='legend']")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["trước hạn", "đúng hạn", "trễ hạn"]
    assert "12" in texts(root) and "4" in texts(root)


def test_column_chart_heights_categories_and_axis():
    root = parse(charts.column_chart(["10/2026", "11/2026", "12/2026"], [[30, 15, 0], [10, 20, 5]],
                                     series=["đến", "đi"], title="Văn bản theo tháng"))
    rects = bars(root)
    heights = {(r.get("data-series"), float(r.get("data-value"))): float(r.get("height")) for r in rects}
    assert heights[("đến", 30.0)] == pytest.approx(2 * heights[("đến", 15.0)], rel=1e-3)
    assert heights[("đi", 5.0)] == pytest.approx(heights[("đi", 10.0)] / 2, rel=1e-3)
    assert heights[("đến", 0.0)] == 0
    bottoms = {round(float(r.get("y")) + float(r.get("height")), 2) for r in rects}
    assert len(bottoms) == 1  # every column stands on the same axis
    assert {"10/2026", "11/2026", "12/2026"} <= set(texts(root))
    assert {"0", "10", "20", "30"} <= set(texts(root))  # an axis at round steps


def test_periods_and_their_names():
    assert periods.parse("2026-12") == periods.Period("month", datetime.date(2026, 12, 1), datetime.date(2026, 12, 31),
                                                      "2026-12")
    q1 = periods.parse("2026-Q1")
    assert (q1.date_from, q1.date_to) == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    assert periods.parse("2026").date_to == datetime.date(2026, 12, 31)
    assert periods.parse("2026-13") is None and periods.parse("26-1") is None and periods.parse("") is None
    assert [m.month for m in q1.months()] == [1, 2, 3]
    choices = periods.choices(datetime.date(2026, 2, 10))
    tokens = [token for token, _label in choices]
    assert tokens[:3] == ["2026-02", "2026-01", "2025-12"] and "2026-Q1" in tokens and "2025-Q4" in tokens
    assert tokens[-3:] == ["2026", "2025", "2024"]

    class Commune:
        name = "Tú Lệ"

    assert periods.file_name("thong-ke", Commune(), q1, "xlsx") == "thong-ke-tu-le-quy-1-2026.xlsx"
    custom = periods.custom(datetime.date(2026, 3, 2), datetime.date(2026, 3, 20))
    assert periods.file_name("thong-ke", Commune(), custom, "xlsx") == "thong-ke-tu-le-20260302-20260320.xlsx"


def test_period_form_reads_dates_day_first():
    form = periods.PeriodForm({"date_from": "03/04/2026", "date_to": "05/04/2026"}, today=datetime.date(2026, 5, 1))
    assert form.is_valid()
    assert (form.get_period().date_from, form.get_period().date_to) == (datetime.date(2026, 4, 3), datetime.date(2026, 4, 5))
    assert form.query() == "date_from=03%2F04%2F2026&date_to=05%2F04%2F2026"
    chosen = periods.PeriodForm({"period": "2026-Q2", "date_from": "03/04/2026"}, today=datetime.date(2026, 5, 1))
    assert chosen.is_valid() and chosen.get_period().kind == "quarter" and chosen.query() == "period=2026-Q2"
    empty = periods.PeriodForm(None, today=datetime.date(2026, 5, 17))
    assert empty.get_period().token == "2026-05"
    assert not periods.PeriodForm({"period": "2026-Q9"}).is_valid()
    reversed_dates = periods.PeriodForm({"date_from": "05/04/2026", "date_to": "03/04/2026"})
    assert not reversed_dates.is_valid() and "date_to" in reversed_dates.errors


def test_month_labels_shorten_when_many():
    quarter = [datetime.date(2026, m, 1) for m in (1, 2, 3)]
    assert charts.month_labels(quarter) == ["01/2026", "02/2026", "03/2026"]
    year = [datetime.date(2026, m, 1) for m in range(1, 13)]
    assert charts.month_labels(year)[:2] == ["01/26", "02/26"] and len(charts.month_labels(year)) == 12
