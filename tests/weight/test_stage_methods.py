"""The weight stage runs every method a crosswalk can name, on a bundled survey."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from harmonise.crosswalk.io import content_hash, load_crosswalk
from harmonise.estimate.indicators import estimate_indicators
from harmonise.ingest import read_survey
from harmonise.models.crosswalk import WeightingSpec
from harmonise.models.harmonised import CrosswalkRef, HarmonisedSurvey
from harmonise.recode import apply_crosswalk
from harmonise.weight.stage import weight_survey
from harmonise.weight.targets import Targets, read_targets_table, select_targets


@pytest.fixture(scope="module")
def bedford(root: Path, schema) -> tuple[HarmonisedSurvey, Any]:  # type: ignore[no-untyped-def]
    path = root / "crosswalks/bedford/residents-2024.v1.yaml"
    cw = load_crosswalk(path)
    survey = read_survey(root / "surveys/bedford/bedford-residents-2024.sav")
    hs = apply_crosswalk(survey, cw, schema, CrosswalkRef(cw.crosswalk, 1, content_hash(path),
                                                           str(path)))
    return hs, root


def _with(hs: HarmonisedSurvey, root: Path, **changes: Any) -> tuple[HarmonisedSurvey, Targets]:
    assert hs.crosswalk.weighting is not None
    spec = WeightingSpec.model_validate(hs.crosswalk.weighting.model_dump() | changes)
    cw = hs.crosswalk.model_copy(update={"weighting": spec})
    table, sha = read_targets_table(root / spec.targets)
    targets = select_targets(table, file=spec.targets, sha256=sha, area_code=spec.area_code,
                             population=spec.population, variables=spec.margins)
    return HarmonisedSurvey(crosswalk=cw, ref=hs.ref, data=hs.data, scales=hs.scales,
                            audit=hs.audit, source=hs.source), targets


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"method": "linear"},
        {"method": "raking"},
        {"method": "linear", "bounds": (0.3, 3.0)},
        {"method": "poststratify", "margins": ("age_band",)},
        {"trim": {"upper": 2.5, "rounds": 3}},
    ],
    ids=["rake", "linear", "raking", "linear-bounded", "poststratify", "rake-trim"],
)
def test_methods_meet_margins_and_give_calibration_aware_ses(  # type: ignore[no-untyped-def]
    bedford, schema, changes: dict[str, Any]
) -> None:
    hs, root = bedford
    hs2, targets = _with(hs, root, **changes)
    ws = weight_survey(hs2, targets)
    d = ws.diagnostics
    assert d is not None
    w = ws.data["_weight"].to_numpy()
    assert (w > 0).all()
    tol = 1e-2 if "trim" in changes else 1e-6  # trimming moves margins slightly
    for m in d.margins:
        assert m.achieved == pytest.approx(m.target, rel=tol)
    assert ws.adjustments, "calibration-aware SEs need the adjustment"
    assert ws.history[0][0] == "base" and len(ws.history) >= 2
    if "trim" in changes:
        assert any(name.startswith("trimmed") for name, _ in ws.history)
    if "bounds" in changes:
        g = w / (ws.history[0][1])
        assert g.min() >= 0.3 - 1e-9 and g.max() <= 3.0 + 1e-9
    est = estimate_indicators(ws, schema, by=[]).rows.set_index("indicator")
    se = float(est.loc["safe_area_dark_safe", "se"])
    assert 0.005 < se < 0.05 and np.isfinite(se)


def test_rake_and_raking_calibration_agree(bedford, schema) -> None:  # type: ignore[no-untyped-def]
    hs, root = bedford
    a = weight_survey(*_with(hs, root))
    b = weight_survey(*_with(hs, root, method="raking"))
    np.testing.assert_allclose(a.data["_weight"], b.data["_weight"], rtol=1e-7)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"method": "poststratify"}, "poststratify takes one margin"),
        ({"method": "rake", "bounds": (0.5, 2)}, "bounds apply to 'linear' and 'raking'"),
        ({"method": "linear", "bounds": (1.2, 2)}, "lower < 1 < upper"),
    ],
)
def test_inconsistent_weighting_specs_are_rejected(
    bedford, changes: dict[str, Any], fragment: str  # type: ignore[no-untyped-def]
) -> None:
    hs, _ = bedford
    assert hs.crosswalk.weighting is not None
    with pytest.raises(ValidationError, match=fragment):
        WeightingSpec.model_validate(hs.crosswalk.weighting.model_dump() | changes)
