"""The line chart of ``core.charts`` (a person's readings over time): valid SVG with a title and a
description for screen readers, points placed by their date, missing values left out, dashed
target lines, and figures written the Vietnamese way."""
from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest

from core import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_line_chart_is_accessible_svg_with_points_by_date_and_target_lines():
    jan, feb, apr = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 4, 1)
    svg = charts.line_chart(
        [("Tâm thu", [(jan, 150), (feb, 138), (apr, 142)]), ("Tâm trương <&>", [(jan, 95), (feb, None), (apr, 88)])],
        title="Huyết áp của Lò Văn Ông", unit="mmHg", targets=[("Mục tiêu 140", 140), ("Mục tiêu 90", 90)])
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("width") == "100%"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Huyết áp của Lò Văn Ông"
    assert set(root.get("aria-labelledby").split()) == {title.get("id"), desc.get("id")}
    assert "Tâm thu: 01/01/2026 150 mmHg, 01/02/2026 138 mmHg, 01/04/2026 142 mmHg" in desc.text
    assert "Mục tiêu 140: 140 mmHg" in desc.text
    series = {g.get("data-series"): g for g in root.iter(f"{SVG}g") if g.get("data-series")}
    assert set(series) == {"Tâm thu", "Tâm trương <&>"}
    systolic = [(float(c.get("cx")), float(c.get("cy")), float(c.get("data-value")))
                for c in series["Tâm thu"].iter(f"{SVG}circle")]
    assert [v for _x, _y, v in systolic] == [150, 138, 142]
    # Placed by date: January to February is 31 days, February to April 59.
    (x1, y1, _), (x2, y2, _), (x3, _y3, _) = systolic
    assert (x3 - x2) / (x2 - x1) == pytest.approx(59 / 31, rel=1e-3)
    assert y2 > y1  # lower value, lower on the chart (larger y)
    assert len(list(series["Tâm trương <&>"].iter(f"{SVG}circle"))) == 2  # the missing value is left out
    targets = {float(line.get("data-target")): float(line.get("y1")) for line in root.iter(f"{SVG}line")
               if line.get("data-target")}
    assert set(targets) == {140.0, 90.0}
    # 150 is above the 140 line (smaller y), 138 under it.
    assert y1 < targets[140.0] < y2
    assert all(line.get("stroke-dasharray") for line in root.iter(f"{SVG}line") if line.get("data-target"))


def test_line_chart_writes_decimals_the_vietnamese_way_and_copes_with_one_point_or_none():
    day = datetime.date(2026, 3, 5)
    svg = charts.line_chart([("Đường huyết", [(day, 7.4)])], title="Đường huyết", unit="mmol/l",
                            targets=[("Lúc đói 7,0", 7.0)])
    root = ET.fromstring(str(svg))
    assert "05/03/2026 7,4 mmol/l" in root.find(f"{SVG}desc").text
    assert [float(c.get("data-value")) for c in root.iter(f"{SVG}circle")] == [7.4]
    empty = ET.fromstring(str(charts.line_chart([("Đường huyết", [])], title="Trống")))
    assert list(empty.iter(f"{SVG}circle")) == []
