"""Comparability gating and the comparison statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harmonise.compare.pairs import adjust_family, compare, difference
from harmonise.errors import EstimationError
from harmonise.models.harmonised import ESTIMATE_COLUMNS, EstimateTable


def _row(cw: str, grade: str, population: str, est: float, se: float,
         suppressed: bool = False, indicator: str = "ind") -> dict[str, object]:
    row: dict[str, object] = {c: "" for c in ESTIMATE_COLUMNS}
    row |= {"indicator": indicator, "option": "", "label": "L", "crosswalk": cw,
            "csp_name": cw.upper(), "population": population, "group_var": "all",
            "group": "all", "weighted": True, "comparability": grade, "estimate": est,
            "se": se, "suppressed": suppressed,
            "suppression_reason": "small" if suppressed else ""}
    return row


def _compare(rows: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    return compare(EstimateTable(rows=pd.DataFrame(rows))).rows


def test_comparable_pair_gets_difference_se_ci_and_p() -> None:
    out = _compare([_row("a", "identical", "adults", 0.40, 0.03),
                    _row("b", "close", "adults", 0.30, 0.04)])
    r = out.iloc[0]
    assert bool(r["compared"]) and r["reason"] == ""
    assert r["difference"] == pytest.approx(0.10)
    assert r["se"] == pytest.approx(0.05)
    assert r["ci_low"] == pytest.approx(0.10 - 1.959963985 * 0.05)
    assert r["p_value"] == pytest.approx(2 * (1 - 0.9772498680518208))  # z = 2


@pytest.mark.parametrize(
    ("b", "fragment"),
    [
        (_row("b", "proxy", "adults", 0.3, 0.04), "graded 'proxy', below 'close'"),
        (_row("b", "close", "pupils", 0.3, 0.04), "different populations (adults vs pupils)"),
        (_row("b", "close", "adults", math.nan, math.nan, suppressed=True), "suppressed"),
    ],
    ids=["proxy", "population", "suppressed"],
)
def test_gate_refuses_with_reason(b: dict[str, object], fragment: str) -> None:
    out = _compare([_row("a", "identical", "adults", 0.4, 0.03), b])
    r = out.iloc[0]
    assert not bool(r["compared"])
    assert fragment in str(r["reason"])
    assert pd.isna(r["difference"])


def test_holm_adjustment_across_the_family() -> None:
    rows = [
        _row("a", "identical", "adults", 0.40, 0.03, indicator="i1"),
        _row("b", "identical", "adults", 0.30, 0.04, indicator="i1"),
        _row("a", "identical", "adults", 0.50, 0.03, indicator="i2"),
        _row("b", "identical", "adults", 0.45, 0.04, indicator="i2"),
    ]
    out = _compare(rows).sort_values("p_value")
    p = out["p_value"].to_numpy()
    assert out["p_adjusted"].tolist() == pytest.approx([min(1, 2 * p[0]), max(2 * p[0], p[1])])
    assert set(out["correction"]) == {"holm"} and "p_holm" not in out.columns


def test_independent_difference_at_any_level() -> None:
    d = difference(0.40, 0.30, 0.03, 0.04, level=0.90)
    assert (d.estimate, d.se) == (pytest.approx(0.10), pytest.approx(0.05))
    assert d.ci_high == pytest.approx(0.10 + 1.6448536269514722 * 0.05)
    assert d.p_value == pytest.approx(0.04550026389635842)  # z = 2
    flat = difference(0.5, 0.5, 0.0, 0.0)
    assert flat.estimate == 0.0 and math.isnan(flat.p_value)


def test_adjust_family_adjusts_only_the_tested_rows() -> None:
    frame = pd.DataFrame({"p_value": [0.01, 0.04, 0.03, np.nan], "tag": list("wxyz")})
    out = adjust_family(frame, np.array([True, True, False, True]), "bonferroni", 0.95)
    assert "p_adjusted" not in frame.columns  # a copy; the input is left alone
    assert out["p_adjusted"].iloc[:2].tolist() == pytest.approx([0.02, 0.08])
    assert out["p_adjusted"].iloc[2:].isna().all()
    assert out["significant"].tolist()[:2] == [True, False]
    assert out["significant"].iloc[2:].isna().all() and list(out["tag"]) == list("wxyz")
    with pytest.raises(EstimationError, match="unknown multiplicity correction 'tukey'"):
        adjust_family(frame.iloc[:0], np.array([], dtype=bool), "tukey", 0.95)


def test_difference_uses_t_on_the_smaller_design_df() -> None:
    from scipy import stats

    from harmonise.compare.pairs import difference

    d = difference(0.40, 0.30, 0.03, 0.04, df=9)  # e.g. ten schools, one stratum
    q = stats.t.ppf(0.975, 9)
    assert d.ci_low == pytest.approx(0.10 - q * 0.05)
    assert d.p_value == pytest.approx(2 * stats.t.sf(2.0, 9))
    assert d.p_value > difference(0.40, 0.30, 0.03, 0.04).p_value  # wider than normal
