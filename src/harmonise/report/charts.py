"""The report's charts: dot-and-interval charts and slope charts, laid out by hand.

Each chart is a small frozen spec (:class:`DotChart`, :class:`SlopeChart`) made from
published figures; :func:`render` lays it out once on a :class:`~harmonise.report.draw.
Canvas` and returns a :class:`Chart` holding the SVG text and the PNG bytes of that one
layout, with its alt text — the HTML embeds the SVG, and the same bytes are written to
``charts/`` beside the report. Readability rules are built in: every point has its value
written beside it; text is at least 12 px on a 720 px wide chart (at least 8 pt when the
chart is printed across A4); the comparability grade is a marker shape as well as a colour
from a colour-blind-safe palette (Okabe–Ito hues, darkened so each has at least 4.5:1
contrast on white); a routed question's base is written under its title.

Why not plotnine here (the design card's plotting library): one plotnine chart takes
about 0.25 s to draw and 0.5 s to import, and the report now has some twenty charts; the
whole run must take under 3 s. These are simple shapes; see ARCHITECTURE.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from harmonise.report.draw import (
    Anchor,
    Canvas,
    Line,
    Marker,
    Shape,
    Text,
    to_png,
    to_svg,
    wrap,
)

#: Grade -> (marker shape, filled, colour). Shape and fill carry the grade without colour.
GRADE_STYLE: dict[str, tuple[Shape, bool, str]] = {
    "identical": ("circle", True, "#0072B2"),
    "equivalent": ("square", True, "#007A5E"),
    "close": ("triangle", True, "#B35900"),
    "proxy": ("diamond", False, "#A6457F"),
    "not comparable": ("cross", True, "#555555"),
}

#: Breakdown markers: a category that differs from the rest of its survey (after the
#: multiplicity correction) is filled, one that does not is hollow.
DIFF_STYLE: dict[str, tuple[Shape, bool, str]] = {
    "higher": ("circle", True, "#0072B2"),
    "lower": ("circle", True, "#B35900"),
    "same": ("circle", False, "#555555"),
}

TEXT = "#222222"
MUTED = "#595959"  # 7:1 on white
GRID = "#d9d9d9"

WIDTH = 720
LABEL_W = 230  # left column for row labels
PLOT_X0, PLOT_X1 = 245, 625
VALUE_X = 715  # right edge of value labels
ROW_H = 24
FONT = 13
SMALL = 12


@dataclass(frozen=True)
class Dot:
    """One row: a label and a share with its interval (NaN value = suppressed)."""

    label: str
    value: float
    low: float
    high: float
    style: str  # a key of GRADE_STYLE or DIFF_STYLE
    missing_text: str = "[c] too few answers"


@dataclass(frozen=True)
class Panel:
    title: str
    dots: tuple[Dot, ...]
    note: str = ""  # e.g. "Asked of those who felt unsafe, n = 928"
    reference: float | None = None  # a vertical tick (the survey as a whole)
    reference_label: str = ""


@dataclass(frozen=True)
class DotChart:
    id: str
    title: str
    panels: tuple[Panel, ...]
    legend: Literal["grade", "difference"]
    alt: str


@dataclass(frozen=True)
class SlopeLine:
    label: str
    before: float
    after: float
    changed: bool  # the question changed between the waves (dashed, labelled)
    note: str = ""  # e.g. "fell, a real change" or "not computed: ..."


@dataclass(frozen=True)
class SlopeChart:
    id: str
    title: str
    before_label: str
    after_label: str
    lines: tuple[SlopeLine, ...]
    alt: str


@dataclass(frozen=True)
class Chart:
    """A rendered chart: one layout as SVG text and PNG bytes, with its alt text.

    The PNG is drawn from the same canvas the first time it is asked for (the writer asks
    from worker threads, so Pillow's encoding overlaps the workbook's)."""

    id: str
    title: str
    alt: str
    svg: str
    canvas: Canvas = field(repr=False, compare=False)

    @functools.cached_property
    def png(self) -> bytes:
        return to_png(self.canvas)


@dataclass(frozen=True)
class ChartKind:
    """One kind of chart: its spec type and the layout that draws it (registry record)."""

    name: str
    spec: type
    layout: Callable[[Any], Canvas]
    description: str


def render(spec: DotChart | SlopeChart) -> Chart:
    """Lay ``spec`` out once (by its kind in :data:`CHART_KINDS`); SVG now, PNG on demand."""
    kind = next((k for k in CHART_KINDS.values() if isinstance(spec, k.spec)), None)
    if kind is None:
        raise TypeError(f"no chart kind draws {type(spec).__name__}; see CHART_KINDS")
    canvas = kind.layout(spec)
    return Chart(id=spec.id, title=spec.title, alt=spec.alt,
                 svg=to_svg(canvas, spec.title, spec.alt), canvas=canvas)


def _x(value: float) -> float:
    return PLOT_X0 + (PLOT_X1 - PLOT_X0) * min(max(value, 0.0), 1.0)


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _title(canvas: Canvas, text: str, y: float) -> float:
    for line in wrap(text, 15, WIDTH - 20, bold=True):
        y += 20
        canvas.add(Text(10, y, line, size=15, bold=True))
    return y + 6


def _axis(canvas: Canvas, y: float) -> float:
    for tick in (0, .25, .5, .75, 1):
        canvas.add(Text(_x(tick), y + 16, _pct(tick), size=SMALL, anchor="middle",
                        colour=MUTED))
    canvas.add(Text((PLOT_X0 + PLOT_X1) / 2, y + 34, "Percentage, with 95% confidence "
                    "interval", size=SMALL, anchor="middle", colour=MUTED))
    return y + 42


def _dots(chart: DotChart) -> Canvas:
    canvas = Canvas(WIDTH)
    y = _title(canvas, chart.title, 0)
    for panel in chart.panels:
        y += 8
        for line in wrap(panel.title, FONT, WIDTH - 20, bold=True):
            y += 18
            canvas.add(Text(10, y, line, size=FONT, bold=True))
        if panel.note:
            for line in wrap(panel.note, SMALL, WIDTH - 20):
                y += 16
                canvas.add(Text(10, y, line, size=SMALL, colour=MUTED))
        top = y + 6
        bottom = top + ROW_H * len(panel.dots)
        for tick in (0, .25, .5, .75, 1):
            canvas.add(Line(_x(tick), top, _x(tick), bottom, GRID, 1))
        if panel.reference is not None and not math.isnan(panel.reference):
            x = _x(panel.reference)
            canvas.add(Line(x, top, x, bottom, MUTED, 1.5, dash=True))
        for i, dot in enumerate(panel.dots):
            cy = top + ROW_H * i + ROW_H / 2
            label = wrap(dot.label, FONT, LABEL_W - 10)[0]
            if label != dot.label:
                label = label.rstrip(",;: ") + "…"
            canvas.add(Text(LABEL_W, cy + 4.5, label, size=FONT, anchor="end"))
            if math.isnan(dot.value):
                canvas.add(Text(PLOT_X0 + 4, cy + 4.5, dot.missing_text, size=SMALL,
                                colour=MUTED))
                continue
            shape, filled, colour = (GRADE_STYLE | DIFF_STYLE).get(
                dot.style, ("circle", True, TEXT))
            if not math.isnan(dot.low) and not math.isnan(dot.high):
                canvas.add(Line(_x(dot.low), cy, _x(dot.high), cy, colour, 2.2))
                for end in (dot.low, dot.high):
                    canvas.add(Line(_x(end), cy - 4, _x(end), cy + 4, colour, 1.6))
            canvas.add(Marker(_x(dot.value), cy, shape, colour, filled))
            canvas.add(Text(VALUE_X, cy + 4.5, _pct(dot.value), size=FONT, anchor="end",
                            bold=True))
        y = bottom
        if panel.reference is not None and panel.reference_label:
            y += 16
            canvas.add(Text(PLOT_X0, y, panel.reference_label, size=SMALL, colour=MUTED))
    y = _axis(canvas, y)
    y = _legend(canvas, chart, y)
    canvas.height = math.ceil(y + 10)
    return canvas


def _legend(canvas: Canvas, chart: DotChart, y: float) -> float:
    styles = {d.style for p in chart.panels for d in p.dots if not math.isnan(d.value)}
    if chart.legend == "grade":
        words = {"identical": "same question", "equivalent": "equivalent question",
                 "close": "close question", "proxy": "proxy (not compared)",
                 "not comparable": "not comparable"}
        items = [(GRADE_STYLE[g], words[g]) for g in GRADE_STYLE if g in styles]
        head = "Marker shows how close each survey's question is to the common measure:"
    else:
        words = {"higher": "higher than the rest (or the other group)",
                 "lower": "lower than the rest (or the other group)",
                 "same": "no clear difference"}
        items = [(DIFF_STYLE[g], words[g]) for g in DIFF_STYLE if g in styles]
        head = "Filled marker: differs from the rest of the survey after correcting for " \
               "the number of tests. Dashed line: the survey as a whole."
    for line in wrap(head, SMALL, WIDTH - 20):
        y += 16
        canvas.add(Text(10, y, line, size=SMALL, colour=MUTED))
    x = 18.0
    y += 20
    for (shape, filled, colour), text in items:
        width = 30 + 7.2 * len(text)
        if x + width > WIDTH - 10:
            x, y = 18.0, y + 20
        canvas.add(Marker(x, y - 4, shape, colour, filled, size=5.5))
        canvas.add(Text(x + 12, y, text, size=SMALL))
        x += width
    return y


def _slopes(chart: SlopeChart) -> Canvas:
    canvas = Canvas(WIDTH)
    y = _title(canvas, chart.title, 0)
    left, right = 300.0, 520.0
    y += 22
    canvas.add(Text(left, y, chart.before_label, size=FONT, anchor="middle", bold=True))
    canvas.add(Text(right, y, chart.after_label, size=FONT, anchor="middle", bold=True))
    row = 70
    for line in chart.lines:
        top = y + 10
        label_lines = wrap(line.label, SMALL, left - 70)[:3]
        for j, text in enumerate(label_lines):
            canvas.add(Text(10, top + 14 + 15 * j, text, size=SMALL))
        mid = top + row / 2
        span = 26.0  # 0% to 100% spans 52 px: a slope shows its direction honestly
        ya = mid + span * (0.5 - line.before) * 2 if not math.isnan(line.before) else mid
        yb = mid + span * (0.5 - line.after) * 2 if not math.isnan(line.after) else mid
        colour = "#B35900" if line.changed else "#0072B2"
        if not (math.isnan(line.before) or math.isnan(line.after)):
            canvas.add(Line(left, ya, right, yb, colour, 2.2, dash=line.changed))
        ends: tuple[tuple[float, float, float, Anchor, float], ...] = (
            (left, ya, line.before, "end", -10), (right, yb, line.after, "start", 10))
        for x, yy, v, anchor, dx in ends:
            if math.isnan(v):
                canvas.add(Text(x + dx, yy + 4.5, "[c]", size=SMALL, anchor=anchor,
                                colour=MUTED))
                continue
            canvas.add(Marker(x, yy, "square" if line.changed else "circle", colour, True,
                              size=5))
            canvas.add(Text(x + dx, yy + 4.5, _pct(v), size=FONT, anchor=anchor, bold=True))
        note_lines = wrap(line.note, SMALL, WIDTH - right - 70)
        for j, text in enumerate(note_lines):
            canvas.add(Text(right + 60, top + 14 + 15 * j, text, size=SMALL, colour=MUTED))
        y = top + max(row, 15 * max(len(label_lines), len(note_lines)) + 10)
    y += 8
    for text in wrap("Solid blue line with circles: the same question in both waves. Dashed "
                     "orange line with squares: the question changed, so part of any "
                     "change may come from the question.", SMALL, WIDTH - 20):
        y += 16
        canvas.add(Text(10, y, text, size=SMALL, colour=MUTED))
    canvas.height = math.ceil(y + 12)
    return canvas


#: Every chart kind the report draws, one record each (CONTRIBUTING.md: "Add a chart").
CHART_KINDS: dict[str, ChartKind] = {
    "dot-interval": ChartKind(
        "dot-interval", DotChart, _dots,
        "shares with 95% intervals, one row per survey or subgroup, panels per measure; "
        "the marker's shape carries the grade or the subgroup test"),
    "slope": ChartKind(
        "slope", SlopeChart, _slopes,
        "one measure per row from the earlier to the later wave; a changed question dashed"),
}

