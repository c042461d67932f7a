"""Image regression for the report's charts: drawn from fixed hand-built rows, compared
with baseline PNGs in tests/baseline_images/ by mean absolute pixel difference.

After an intended change to a chart, look at the new images and accept them with:

    .venv/bin/python tests/report/update_baselines.py
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from harmonise.report.plots import indicator_chart, multiselect_chart

BASELINES = Path(__file__).resolve().parent.parent / "baseline_images"
DPI = 72
#: Mean absolute difference allowed, in 0-255 levels averaged over every RGB pixel. Charts
#: are mostly white, so a point moved by 1 percentage point scores about 0.12 and by 2
#: points about 0.15 (measured); identical drawing scores 0. Matplotlib wheels bundle their
#: own FreeType and DejaVu fonts, so the same versions draw the same pixels anywhere.
TOLERANCE = 0.05


def _rows(specs: list[tuple[str, str, str, str, float, float, str]]) -> pd.DataFrame:
    return pd.DataFrame([
        {"label": label, "option": option, "csp_name": csp, "population": population,
         "wave": "2024", "estimate": est, "ci_low": est - half, "ci_high": est + half,
         "comparability": grade, "concept": "c"}
        for label, option, csp, population, est, half, grade in specs
    ])


BED, CB, LUT = ("Bedford Borough Community Safety Partnership",
                "Central Bedfordshire Community Safety Partnership",
                "Luton Community Safety Partnership")

SAFETY = _rows([
    ("% feeling very or fairly safe after dark", "", BED, "adults_18plus", 0.32, 0.03, "close"),
    ("% feeling very or fairly safe after dark", "", LUT, "adults_18plus", 0.62, 0.04,
     "identical"),
    ("% feeling very or fairly safe after dark", "", CB, "young_people_11_18", 0.53, 0.04,
     "proxy"),
    ("% feeling very or fairly safe during the day", "", BED, "adults_18plus", 0.74, 0.03,
     "close"),
])
REASONS = _rows([
    ("% giving each reason: Drug use or dealing", "drugs", BED, "adults_18plus", 0.46, 0.04,
     "close"),
    ("% giving each reason: Poor street lighting", "lighting", BED, "adults_18plus", 0.42,
     0.04, "close"),
    ("% giving each reason: Poor street lighting", "lighting", LUT, "adults_18plus", 0.30,
     0.05, "close"),
])

#: name -> function drawing the chart (pure builders from harmonise.report.plots)
CASES: dict[str, Callable[[], object]] = {
    "indicator_chart_safety": lambda: indicator_chart(SAFETY, "Feeling safe"),
    "multiselect_chart_reasons": lambda: multiselect_chart(REASONS, "Reasons for feeling unsafe"),
}


def render(name: str) -> Image.Image:
    """Draw one case to an RGB image at the fixed DPI (fonts: DejaVu Sans, set by plots)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        CASES[name]().save(buf, format="png", dpi=DPI, verbose=False)  # type: ignore[attr-defined]
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two same-size RGB images (inf when sizes differ)."""
    if a.size != b.size:
        return float("inf")
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def test_the_comparison_detects_a_moved_point() -> None:
    base = render("indicator_chart_safety")
    moved = SAFETY.assign(estimate=SAFETY["estimate"] + 0.02,
                          ci_low=SAFETY["ci_low"] + 0.02, ci_high=SAFETY["ci_high"] + 0.02)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        indicator_chart(moved, "Feeling safe").save(buf, format="png", dpi=DPI, verbose=False)
    other = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    assert mean_abs_diff(base, base) == 0
    assert mean_abs_diff(base, other) > TOLERANCE


@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_matches_baseline(name: str, tmp_path: Path) -> None:
    baseline = BASELINES / f"{name}.png"
    assert baseline.exists(), (f"no baseline {baseline}; create it with "
                               "'.venv/bin/python tests/report/update_baselines.py'")
    actual = render(name)
    diff = mean_abs_diff(actual, Image.open(baseline).convert("RGB"))
    if diff > TOLERANCE:
        actual.save(tmp_path / f"{name}.png")
        pytest.fail(f"{name}: mean absolute difference {diff:.2f} > {TOLERANCE} from "
                    f"{baseline} (new image: {tmp_path / f'{name}.png'}); if the change is "
                    "intended, run '.venv/bin/python tests/report/update_baselines.py'")
