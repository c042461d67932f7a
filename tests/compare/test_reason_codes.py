"""Stable codes for every refusal and caveat (compare, trends), the p-value adjustment
without pingouin at run time, and the within-survey subgroup tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harmonise.compare.pairs import CAVEAT_CODES, REASON_CODES, adjust_pvalues, compare
from harmonise.compare.subgroups import compare_domains, subgroup_differences
from harmonise.compare.trends import ITEM_CHANGE_CODES, TREND_REASON_CODES
from harmonise.models.harmonised import ESTIMATE_COLUMNS, EstimateTable


def _row(cw: str, grade: str, population: str, est: float, se: float,
         suppressed: bool = False) -> dict[str, object]:
    row: dict[str, object] = {c: "" for c in ESTIMATE_COLUMNS}
    row |= {"indicator": "ind", "option": "", "label": "L", "crosswalk": cw,
            "csp_name": cw.upper(), "population": population, "group_var": "all",
            "group": "all", "weighted": True, "comparability": grade, "estimate": est,
            "se": se, "suppressed": suppressed,
            "suppression_reason": "small" if suppressed else ""}
    return row


@pytest.mark.parametrize(
    ("b", "codes"),
    [
        (_row("b", "proxy", "adults_18plus", 0.3, 0.04), "b_grade_below_floor"),
        (_row("b", "close", "somebody", 0.3, 0.04), "populations_age_unknown"),
        (_row("b", "close", "pupils_y7_y11", 0.3, 0.04), "populations_no_common_age"),
        (_row("b", "close", "adults_18plus", math.nan, math.nan, True), "b_suppressed"),
        (_row("b", "not comparable", "adults_18plus", math.nan, math.nan, True),
         "b_grade_below_floor;b_suppressed"),
    ],
    ids=["grade", "unknown-ages", "no-common-age", "suppressed", "two-reasons"],
)
def test_every_refusal_has_its_codes(b: dict[str, object], codes: str) -> None:
    out = compare(EstimateTable(rows=pd.DataFrame(
        [_row("a", "identical", "adults_18plus", 0.4, 0.03), b]))).rows
    r = out.iloc[0]
    assert not bool(r["compared"]) and r["reason"]
    assert r["reason_codes"] == codes
    assert set(codes.split(";")) <= set(REASON_CODES)
    assert r["caveat_codes"] == ""


def test_the_bundled_run_codes_every_refusal_and_caveat(bundled_run) -> None:  # type: ignore[no-untyped-def]
    comp = bundled_run.comparisons.rows
    refused = comp[~comp["compared"].astype(bool)]
    assert len(refused) and (refused["reason_codes"] != "").all()
    for codes in refused["reason_codes"]:
        assert set(codes.split(";")) <= set(REASON_CODES)
    made = comp[comp["compared"].astype(bool)]
    assert (made["reason_codes"] == "").all()
    caveats = set(";".join(made["caveat_codes"]).split(";")) - {""}
    assert caveats == {"modes_differ", "scales_differ", "a_opt_in"}
    assert caveats <= set(CAVEAT_CODES)
    assert set(made["a_scale"]) == {"safety5"} and set(made["b_scale"]) == {""}
    trends = bundled_run.trends.rows
    not_computed = trends[~trends["computed"].astype(bool)]
    assert set(not_computed["reason_codes"]) == {"scale_changed"}
    changes = set(";".join(trends["change_codes"]).split(";")) - {""}
    assert changes and changes <= set(ITEM_CHANGE_CODES)
    assert set(TREND_REASON_CODES) >= {"scale_changed"}


@pytest.mark.parametrize("correction", ["holm", "bh", "bonferroni", "none"])
def test_adjustment_matches_pingouin(correction: str) -> None:
    pingouin = pytest.importorskip("pingouin")
    names = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonf", "none": "none"}
    rng = np.random.default_rng(7)
    for size in (1, 2, 7, 40):
        p = rng.uniform(0, 0.2, size)
        p[: size // 3] = p[0]  # ties
        _, expected = pingouin.multicomp(p.copy(), alpha=0.05, method=names[correction])
        np.testing.assert_allclose(adjust_pvalues(p, correction, 0.05), expected,
                                   rtol=0, atol=1e-15)


def test_subgroup_differences_match_the_pairwise_domain_test(bundled_run) -> None:  # type: ignore[no-untyped-def]
    sub = subgroup_differences(bundled_run.surveys, bundled_run.schema,
                               bundled_run.estimates, correction="none")
    bedford = next(ws for ws in bundled_run.surveys
                   if ws.survey.crosswalk.ref == "bedford-residents-2024@v1")
    pairs = compare_domains(bedford, bundled_run.schema, "sex", correction="none")
    ours = sub[(sub["crosswalk"] == "bedford-residents-2024@v1") & (sub["group_var"] == "sex")]
    merged = ours.merge(pairs, on=["indicator", "option"], suffixes=("", "_pair"))
    assert len(merged) >= 4
    np.testing.assert_allclose(merged["difference"], merged["difference_pair"], atol=1e-12)
    np.testing.assert_allclose(merged["se"], merged["se_pair"], rtol=1e-9)
    np.testing.assert_allclose(merged["p_value"], merged["p_value_pair"], rtol=1e-7)
    # a published, unsuppressed category's estimate is the published one
    est = bundled_run.estimates.rows
    row = ours.iloc[0]
    pub = est[(est["crosswalk"] == row["crosswalk"]) & (est["indicator"] == row["indicator"])
              & (est["group_var"] == "sex") & (est["group"] == row["group"])
              & est["weighted"].astype(bool)]
    assert row["estimate"] == pytest.approx(float(pub["estimate"].iloc[0]), abs=1e-12)


def test_subgroup_tests_are_one_family_with_the_comparisons_correction(bundled_run) -> None:  # type: ignore[no-untyped-def]
    sub = bundled_run.subgroups
    assert (sub["correction"] == "holm").all() and len(sub) > 100
    tested = sub.dropna(subset=["p_value"])
    expected = adjust_pvalues(tested["p_value"].to_numpy(), "holm", 0.05)
    np.testing.assert_allclose(tested["p_adjusted"], expected)
    # categories whose estimate is suppressed are never tested
    est = bundled_run.estimates.rows
    hidden = est[est["suppressed"].astype(bool) & (est["group_var"] != "all")]
    keys = set(zip(hidden["crosswalk"], hidden["indicator"], hidden["group_var"],
                   hidden["group"], strict=True))
    assert not keys & set(zip(sub["crosswalk"], sub["indicator"], sub["group_var"],
                              sub["group"], strict=True))
