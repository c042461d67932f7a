"""The report's charts: readable when printed, honest, and stable against baselines.

Image regression: charts drawn from fixed hand-built specs are compared with baseline PNGs
in tests/baseline_images/ by mean absolute pixel difference. After an intended change to
a chart, look at the new images and accept them with:

    .venv/bin/python tests/report/update_baselines.py
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harmonise.report.charts import (
    DIFF_STYLE,
    GRADE_STYLE,
    MUTED,
    TEXT,
    Dot,
    DotChart,
    Panel,
    SlopeChart,
    SlopeLine,
    render,
)

BASELINES = Path(__file__).resolve().parent.parent / "baseline_images"
#: Mean absolute difference allowed, in 0-255 levels averaged over every RGB pixel.
#: Identical drawing scores 0; a point moved by 2 percentage points scores about 0.1.
TOLERANCE = 0.03
#: Printable width of A4 with the report's 11 mm margins, in millimetres.
A4_TEXT_WIDTH_MM = 210 - 2 * 11

SAFETY = DotChart(
    id="theme-safety", title="Feeling safe", legend="grade",
    alt="Dot-and-interval chart, feeling safe.",
    panels=(
        Panel(title="Feeling very or fairly safe walking alone in the area after dark", dots=(
            Dot("Bedford Borough", .32, .29, .35, "close"),
            Dot("Central Bedfordshire", .53, .49, .57, "proxy"),
            Dot("Luton residents 2024", .62, .58, .66, "identical"),
            Dot("Luton residents 2025", math.nan, math.nan, math.nan, "close"),
        )),
        Panel(title="Giving each reason for feeling unsafe: Poor street lighting",
              note="Bedford Borough: Asked of those who felt unsafe, n = 928",
              dots=(Dot("Bedford Borough", .42, .38, .46, "equivalent"),)),
    ))
WHO = DotChart(
    id="who-bedford-sex", title="Bedford Borough: by sex", legend="difference",
    alt="Dot-and-interval chart, by sex.",
    panels=(Panel(title="Feeling very or fairly safe walking alone in the area after dark",
                  reference=.32, reference_label="Dashed line: Bedford Borough as a whole, 32%",
                  dots=(Dot("Female", .25, .21, .29, "lower"),
                        Dot("Male", .39, .34, .44, "higher"),
                        Dot("Other", .30, .10, .60, "same"))),))
TREND = SlopeChart(
    id="trend-luton-residents", title="Luton residents: 2024 to 2025", before_label="2024",
    after_label="2025", alt="Slope chart.",
    lines=(SlopeLine("Very or fairly concerned about serious violence", .55, .47, False,
                     "Fell by 8 points (-13 to -2), a real change"),
           SlopeLine("Feeling very or fairly safe walking alone after dark", .62, .56, True,
                     "Not compared: the answer scale changed")))

CASES: dict[str, Callable[[], DotChart | SlopeChart]] = {
    "dot_chart_grades": lambda: SAFETY,
    "dot_chart_breakdown": lambda: WHO,
    "slope_chart_trend": lambda: TREND,
}


def render_png(name: str) -> Image.Image:
    return Image.open(io.BytesIO(render(CASES[name]()).png)).convert("RGB")


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two same-size RGB images (inf when sizes differ)."""
    if a.size != b.size:
        return float("inf")
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def _luminance(colour: str) -> float:
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(colour: str, background: str = "#ffffff") -> float:
    hi, lo = sorted((_luminance(colour), _luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_is_at_least_8pt_when_printed_on_a4(name: str) -> None:
    svg = render(CASES[name]()).svg
    width = float(re.search(r'<svg[^>]* width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
    assert sizes
    smallest_pt = min(sizes) * A4_TEXT_WIDTH_MM / width / 25.4 * 72
    assert smallest_pt >= 8, f"{name}: smallest text {smallest_pt:.1f} pt on A4"


def test_every_point_has_its_value_written_beside_it() -> None:
    svg = render(SAFETY).svg
    for value in ("32%", "53%", "62%", "42%"):
        assert f">{value}</text>" in svg
    assert "[c] too few answers" in svg  # a suppressed figure is marked, not dropped
    assert "Asked of those who felt unsafe, n = 928" in svg  # routed base on the chart


def test_grade_is_shown_by_shape_and_legend_words_not_colour_alone() -> None:
    shapes = [(shape, filled) for shape, filled, _ in GRADE_STYLE.values()]
    assert len(set(shapes)) == len(shapes), "two grades share a marker"
    svg = render(SAFETY).svg
    for words in ("same question", "equivalent question", "close question",
                  "proxy (not compared)"):
        assert f">{words}</text>" in svg
    assert "<polygon" in svg and "<circle" in svg and "<rect x=" in svg


def test_palette_is_colour_blind_safe_with_readable_contrast() -> None:
    colours = [c for _, _, c in (*GRADE_STYLE.values(), *DIFF_STYLE.values())]
    for colour in (*colours, TEXT, MUTED):
        assert contrast(colour) >= 4.5, colour
    # Okabe–Ito hues (blue, bluish green, vermillion/orange, reddish purple), darkened
    assert {"#0072B2", "#007A5E", "#B35900", "#A6457F"} <= set(colours)


def test_svg_and_png_are_one_layout() -> None:
    chart = render(WHO)
    png = Image.open(io.BytesIO(chart.png))
    width = int(re.search(r'<svg[^>]* width="(\d+)"', chart.svg).group(1))  # type: ignore[union-attr]
    height = int(re.search(r'<svg[^>]* height="(\d+)"', chart.svg).group(1))  # type: ignore[union-attr]
    assert png.size == (2 * width, 2 * height)
    assert "<title id=\"t\">Bedford Borough: by sex</title>" in chart.svg


def test_the_comparison_detects_a_moved_point() -> None:
    base = render_png("dot_chart_grades")
    moved = DotChart(id=SAFETY.id, title=SAFETY.title, legend="grade", alt=SAFETY.alt,
                     panels=(Panel(title=SAFETY.panels[0].title, dots=(
                         Dot("Bedford Borough", .34, .31, .37, "close"),
                         *SAFETY.panels[0].dots[1:])), SAFETY.panels[1]))
    other = Image.open(io.BytesIO(render(moved).png)).convert("RGB")
    assert mean_abs_diff(base, base) == 0
    assert mean_abs_diff(base, other) > TOLERANCE


@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_matches_baseline(name: str, tmp_path: Path) -> None:
    baseline = BASELINES / f"{name}.png"
    assert baseline.exists(), (f"no baseline {baseline}; create it with "
                               "'.venv/bin/python tests/report/update_baselines.py'")
    actual = render_png(name)
    diff = mean_abs_diff(actual, Image.open(baseline).convert("RGB"))
    if diff > TOLERANCE:
        actual.save(tmp_path / f"{name}.png")
        pytest.fail(f"{name}: mean absolute difference {diff:.2f} > {TOLERANCE} from "
                    f"{baseline} (new image: {tmp_path / f'{name}.png'}); if the change is "
                    "intended, run '.venv/bin/python tests/report/update_baselines.py'")
