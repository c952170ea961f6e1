"""Charts drawn on the server as SVG, for pages of figures (no script, no library).

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that screen readers
announce, a ``viewBox`` so that it scales to the width of its container, and the figure of each
bar written beside the bar; pages put the same figures in a table next to the chart. Numbers are
written the Vietnamese way (``1.234``, ``12,5``).

* ``bar_chart``: one horizontal bar per item (long labels fit on the left).
* ``stacked_bar_chart``: one horizontal bar per row, cut into the parts of several series, with
  a legend (e.g. early / on time / late per procedure).
* ``column_chart``: vertical columns side by side per category (e.g. received and issued per
  month), with a legend.
* ``line_chart``: values over time, one line per series with a dot per point, placed by date,
  and dashed horizontal target lines (e.g. a person's blood pressure against 140/90 mmHg).
"""
from __future__ import annotations

import itertools
import math
from decimal import Decimal
from typing import Callable, Iterable, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colours with a contrast of at least 3:1 against white (WCAG 1.4.11 for graphics).
PALETTE = ("#1d70b8", "#00703c", "#d4351c", "#f47738", "#4c2c92", "#505a5f", "#912b88", "#28a197")
TEXT = "#0b0c0c"
MUTED = "#505a5f"
GRID = "#b1b4b6"
FONT = "font-family=\"inherit\" font-size=\"13\""

_ids = itertools.count(1)


def number(value, places: int | None = None) -> str:
    """Vietnamese notation: 1234 → '1.234', 12.5 → '12,5', 1234.56 (places=1) → '1.234,6'.

    With ``places`` None, a whole number is written without decimals and another with up to
    two (trailing zeros dropped)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        value = int(value)
    value = float(value) if isinstance(value, Decimal) else value
    if places is None:
        if float(value).is_integer():
            places = 0
        else:
            text = f"{value:,.2f}".rstrip("0").rstrip(".")
            return text.replace(",", " ").replace(".", ",").replace(" ", ".")
    text = f"{value:,.{places}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(share, places: int = 1) -> str:
    """A share (0.9612) in per cent, Vietnamese notation: '96,1 %'; '–' when there is none."""
    if share is None:
        return "–"
    text = number(share * 100, places)
    if places and text.endswith("," + "0" * places):
        text = text[: -(places + 1)]
    return f"{text} %"


def _attr(value) -> str:
    return escape(str(value))


def _width_of(text: str) -> float:
    """An estimate of the width of ``text`` at 13 px (no font metrics on the server)."""
    return 7.2 * len(text)


def _short(text: str, limit: float) -> str:
    if _width_of(text) <= limit:
        return text
    keep = max(1, int(limit / 7.2) - 1)
    return text[:keep].rstrip() + "…"


def _axis(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round step (1, 2, 2.5 or 5 × a power of ten, at least 1) and the top of an axis that
    holds ``value`` in about ``ticks`` steps."""
    if value <= 0:
        return 1.0, 1.0
    rough = value / ticks
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if rough <= m * power)
    step = max(1.0, step)
    return step, step * math.ceil(value / step)


def _open(width: float, height: float, title: str, description: str) -> tuple[list[str], str]:
    chart_id = f"chart-{next(_ids)}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width:g} {height:g}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ], chart_id


def _legend(series: Sequence[str], colours: Sequence[str], y: float, width: float) -> tuple[list[str], float]:
    """Legend entries laid out left to right, wrapping; the parts and the height used."""
    parts, x, row = [], 0.0, 0
    for name, colour in zip(series, colours):
        entry = 18 + _width_of(name) + 16
        if x and x + entry > width:
            x, row = 0.0, row + 1
        top = y + row * 20
        parts.append(f'<rect x="{x:g}" y="{top + 2:g}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 17:g}" y="{top + 13:g}" fill="{TEXT}" {FONT}>{escape(name)}</text>')
        x += entry
    return parts, (row + 1) * 20 + 6


def _describe(items: Iterable[tuple[str, str]]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in items)


def bar_chart(items: Sequence[tuple[str, float | int | None]], *, title: str, unit: str = "",
              fmt: Callable[[float], str] | None = None, maximum: float | None = None, width: int = 640,
              colour: str = PALETTE[0]) -> SafeString:
    """Horizontal bars, one per ``(label, value)``, proportional to the value (0 to ``maximum``,
    by default the largest value), each with its figure (``fmt``, by default ``number``) and
    ``unit`` written after it."""
    fmt = fmt or number
    values = [float(v or 0) for _label, v in items]
    top = maximum if maximum is not None else (max(values) if values else 0)
    top = top if top > 0 else 1
    texts = [f"{fmt(v)}{(' ' + unit) if unit else ''}" if v is not None else "–" for (_l, v) in items]
    label_width = min(width * 0.42, max([_width_of(label) for label, _v in items] + [40]) + 8)
    value_width = max([_width_of(t) for t in texts] + [30]) + 8
    plot = max(40.0, width - label_width - value_width)
    bar, gap = 22, 8
    height = max(1, len(items)) * (bar + gap) + gap
    parts, _id = _open(width, height, title, _describe(zip([label for label, _v in items], texts)))
    parts.append(f'<line x1="{label_width:g}" y1="0" x2="{label_width:g}" y2="{height:g}" stroke="{GRID}"/>')
    for index, ((label, value), text) in enumerate(zip(items, texts)):
        y = gap + index * (bar + gap)
        length = plot * max(0.0, min(float(value or 0), top)) / top
        parts.append(f'<g class="bar"><title>{escape(label)}: {escape(text)}</title>')
        parts.append(f'<text x="{label_width - 6:g}" y="{y + 15:g}" text-anchor="end" fill="{TEXT}" {FONT}>'
                     f'{escape(_short(label, label_width - 8))}</text>')
        parts.append(f'<rect x="{label_width:g}" y="{y:g}" width="{length:.2f}" height="{bar}" fill="{colour}" '
                     f'data-value="{_attr(value if value is not None else "")}"/>')
        parts.append(f'<text x="{label_width + length + 5:.2f}" y="{y + 15:g}" fill="{TEXT}" {FONT}>{escape(text)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))


def stacked_bar_chart(rows: Sequence[tuple[str, Sequence[float | int]]], *, series: Sequence[str], title: str,
                      colours: Sequence[str] | None = None, fmt: Callable[[float], str] | None = None,
                      width: int = 640) -> SafeString:
    """Horizontal bars, one per ``(label, values)``, each cut into one part per series (in the
    order of ``series``), all on the scale of the longest total; each part wide enough carries
    its figure, the total is written after the bar, and a legend names the series."""
    fmt = fmt or number
    colours = list(colours or PALETTE)
    totals = [sum(float(v or 0) for v in values) for _label, values in rows]
    top = max(totals + [0]) or 1
    label_width = min(width * 0.42, max([_width_of(label) for label, _v in rows] + [40]) + 8)
    value_width = max([_width_of(fmt(t)) for t in totals] + [30]) + 8
    plot = max(40.0, width - label_width - value_width)
    bar, gap = 22, 8
    legend, legend_height = _legend(series, colours, 0, width)
    height = legend_height + max(1, len(rows)) * (bar + gap) + gap
    description = _describe(
        (label, ", ".join(f"{name} {fmt(float(v or 0))}" for name, v in zip(series, values)))
        for label, values in rows
    )
    parts, _id = _open(width, height, title, description)
    parts.append('<g class="legend">')
    parts += legend
    parts.append("</g>")
    parts.append(f'<line x1="{label_width:g}" y1="{legend_height:g}" x2="{label_width:g}" y2="{height:g}" stroke="{GRID}"/>')
    for index, ((label, values), total) in enumerate(zip(rows, totals)):
        y = legend_height + gap + index * (bar + gap)
        parts.append(f'<g class="bar"><title>{escape(label)}: '
                     f'{escape(", ".join(f"{n} {fmt(float(v or 0))}" for n, v in zip(series, values)))}</title>')
        parts.append(f'<text x="{label_width - 6:g}" y="{y + 15:g}" text-anchor="end" fill="{TEXT}" {FONT}>'
                     f'{escape(_short(label, label_width - 8))}</text>')
        x = label_width
        for part, (name, value) in enumerate(zip(series, values)):
            value = float(value or 0)
            length = plot * value / top
            if length <= 0:
                continue
            parts.append(f'<rect x="{x:.2f}" y="{y:g}" width="{length:.2f}" height="{bar}" '
                         f'fill="{colours[part % len(colours)]}" data-series="{_attr(name)}" data-value="{value:g}"/>')
            text = fmt(value)
            if _width_of(text) + 6 <= length:
                parts.append(f'<text x="{x + length / 2:.2f}" y="{y + 15:g}" text-anchor="middle" fill="#ffffff" '
                             f'{FONT}>{escape(text)}</text>')
            x += length
        parts.append(f'<text x="{x + 5:.2f}" y="{y + 15:g}" fill="{TEXT}" {FONT}>{escape(fmt(total))}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))


def column_chart(categories: Sequence[str], values: Sequence[Sequence[float | int]], *, series: Sequence[str],
                 title: str, colours: Sequence[str] | None = None, fmt: Callable[[float], str] | None = None,
                 width: int = 640, height: int = 260) -> SafeString:
    """Vertical columns: for each category (e.g. a month) one column per series side by side
    (``values[s][c]`` is series ``s`` in category ``c``), on a scale from 0 with grid lines at
    round steps, the figure on top of each column, the category under it, and a legend."""
    fmt = fmt or number
    colours = list(colours or PALETTE)
    flat = [float(v or 0) for row in values for v in row]
    step, top = _axis(max(flat + [0]))
    legend, legend_height = _legend(series, colours, 0, width)
    axis_width = max(_width_of(fmt(top)), 20) + 8
    plot_top, plot_bottom = legend_height + 16, height - 24
    plot_height = plot_bottom - plot_top
    plot_width = width - axis_width
    slot = plot_width / max(1, len(categories))
    column = max(2.0, min(28.0, (slot - 8) / max(1, len(series))))
    description = _describe(
        (category, ", ".join(f"{name} {fmt(float(values[s][c] or 0))}" for s, name in enumerate(series)))
        for c, category in enumerate(categories)
    )
    parts, _id = _open(width, height, title, description)
    parts.append('<g class="legend">')
    parts += legend
    parts.append("</g>")
    for tick in range(round(top / step) + 1):
        level = step * tick
        y = plot_bottom - plot_height * level / top
        parts.append(f'<line x1="{axis_width:g}" y1="{y:.2f}" x2="{width:g}" y2="{y:.2f}" stroke="{GRID}" '
                     f'stroke-width="{1 if tick == 0 else 0.5}"/>')
        parts.append(f'<text x="{axis_width - 6:g}" y="{y + 4:.2f}" text-anchor="end" fill="{MUTED}" {FONT}>'
                     f'{escape(fmt(level))}</text>')
    for c, category in enumerate(categories):
        left = axis_width + c * slot + (slot - column * len(series)) / 2
        parts.append(f'<g class="category"><title>{escape(category)}: '
                     f'{escape(", ".join(f"{n} {fmt(float(values[s][c] or 0))}" for s, n in enumerate(series)))}</title>')
        for s, name in enumerate(series):
            value = float(values[s][c] or 0)
            length = plot_height * value / top
            x = left + s * column
            parts.append(f'<rect x="{x:.2f}" y="{plot_bottom - length:.2f}" width="{column - 1:.2f}" height="{length:.2f}" '
                         f'fill="{colours[s % len(colours)]}" data-series="{_attr(name)}" data-value="{value:g}"/>')
            if value:
                parts.append(f'<text x="{x + column / 2:.2f}" y="{plot_bottom - length - 3:.2f}" text-anchor="middle" '
                             f'fill="{TEXT}" font-family="inherit" font-size="11">{escape(fmt(value))}</text>')
        parts.append(f'<text x="{axis_width + c * slot + slot / 2:.2f}" y="{height - 6:g}" text-anchor="middle" '
                     f'fill="{TEXT}" {FONT}>{escape(_short(category, slot))}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))


def month_labels(months: Sequence) -> list[str]:
    """Labels of months under columns: ``03/2026``, or ``03/26`` when more than six share the width."""
    return [f"{month:%m/%Y}" if len(months) <= 6 else f"{month:%m/%y}" for month in months]


def line_chart(series: Sequence[tuple[str, Sequence[tuple[object, float | int | None]]]], *, title: str,
               targets: Sequence[tuple[str, float]] = (), colours: Sequence[str] | None = None,
               fmt: Callable[[float], str] | None = None, x_label: Callable[[object], str] | None = None,
               unit: str = "", width: int = 640, height: int = 260) -> SafeString:
    """Lines of ``(x, value)`` points, one per series (``(name, points)``): ``x`` a date (placed
    by its day, so that irregular readings keep their spacing) or a number; a missing value
    (None) leaves the point out. Each point is a dot carrying its figure in a tooltip; ``targets``
    are dashed horizontal lines with their label (``(label, value)``). The scale starts at 0 and
    holds every value and target; the first and last x are written under the axis."""
    fmt = fmt or number
    colours = list(colours or PALETTE)
    x_label = x_label or (lambda x: f"{x:%d/%m/%Y}" if hasattr(x, "strftime") else fmt(x))

    def position(x) -> float:
        return float(x.toordinal()) if hasattr(x, "toordinal") else float(x)

    points = [(x, float(v)) for _name, pts in series for x, v in pts if v is not None]
    values = [v for _x, v in points] + [float(t) for _label, t in targets]
    step, top = _axis(max(values + [0]))
    xs = [position(x) for x, _v in points]
    x_min, x_max = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_max == x_min:
        x_min, x_max = x_min - 1, x_max + 1
    legend, legend_height = _legend([name for name, _pts in series], colours, 0, width)
    axis_width = max(_width_of(fmt(top)), 20) + 8
    plot_top, plot_bottom = legend_height + 12, height - 24
    plot_height = plot_bottom - plot_top
    left, right = axis_width + 8, width - 12

    def px(x) -> float:
        return left + (right - left) * (position(x) - x_min) / (x_max - x_min)

    def py(value: float) -> float:
        return plot_bottom - plot_height * value / top

    suffix = f" {unit}" if unit else ""
    description = _describe(
        (name, ", ".join(f"{x_label(x)} {fmt(float(v))}{suffix}" for x, v in pts if v is not None) or "–")
        for name, pts in series
    )
    if targets:
        description += "; " + _describe((label, f"{fmt(float(value))}{suffix}") for label, value in targets)
    parts, _id = _open(width, height, title, description)
    parts.append('<g class="legend">')
    parts += legend
    parts.append("</g>")
    for tick in range(round(top / step) + 1):
        level = step * tick
        y = py(level)
        parts.append(f'<line x1="{axis_width:g}" y1="{y:.2f}" x2="{width:g}" y2="{y:.2f}" stroke="{GRID}" '
                     f'stroke-width="{1 if tick == 0 else 0.5}"/>')
        parts.append(f'<text x="{axis_width - 6:g}" y="{y + 4:.2f}" text-anchor="end" fill="{MUTED}" {FONT}>'
                     f'{escape(fmt(level))}</text>')
    for label, value in targets:
        y = py(float(value))
        parts.append(f'<g class="target"><title>{escape(label)}: {escape(fmt(float(value)))}{escape(suffix)}</title>'
                     f'<line x1="{axis_width:g}" y1="{y:.2f}" x2="{width:g}" y2="{y:.2f}" stroke="{PALETTE[2]}" '
                     f'stroke-width="1.5" stroke-dasharray="6 4" data-target="{float(value):g}"/>'
                     f'<text x="{width - 4:g}" y="{y - 4:.2f}" text-anchor="end" fill="{PALETTE[2]}" {FONT}>'
                     f'{escape(label)}</text></g>')
    for index, (name, pts) in enumerate(series):
        colour = colours[index % len(colours)]
        kept = [(x, float(v)) for x, v in pts if v is not None]
        parts.append(f'<g class="series" data-series="{_attr(name)}">')
        if len(kept) > 1:
            path = " ".join(f"{px(x):.2f},{py(v):.2f}" for x, v in kept)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, v in kept:
            parts.append(f'<circle cx="{px(x):.2f}" cy="{py(v):.2f}" r="3.5" fill="{colour}" data-value="{v:g}">'
                         f'<title>{escape(name)}, {escape(x_label(x))}: {escape(fmt(v))}{escape(suffix)}</title></circle>')
        parts.append("</g>")
    if xs:
        first = min((x for x, _v in points), key=position)
        last = max((x for x, _v in points), key=position)
        parts.append(f'<text x="{left:g}" y="{height - 6:g}" fill="{TEXT}" {FONT}>{escape(x_label(first))}</text>')
        if position(last) != position(first):
            parts.append(f'<text x="{right:g}" y="{height - 6:g}" text-anchor="end" fill="{TEXT}" {FONT}>'
                         f'{escape(x_label(last))}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
