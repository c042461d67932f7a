"""The pipeline recovers the generator's known truth; unweighted estimates do not."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harmonise.compare.trends import trends
from harmonise.models.run import RunResult

#: Indicators whose answers the generator ties strongly to age and sex (headline bias).
HEADLINE = {
    "bedford-residents-2024": "safe_area_dark_safe",
    "central-beds-young-people-2024": "safe_area_dark_safe",
    "luton-pupils-2024": "pupil_safety_dark_good",
    "luton-residents-2024": "safe_area_dark_safe",
    "luton-residents-2025": "safe_area_dark_safe",
}


@pytest.fixture(scope="module")
def result(bundled_run: RunResult) -> RunResult:
    return bundled_run


def _joined(result: RunResult, root: Path, weighted: bool) -> pd.DataFrame:
    table = result.estimates if weighted else result.unweighted
    est = table.rows[table.rows["group_var"] == "all"].copy()
    est["cw"] = est["crosswalk"].str.split("@").str[0]
    truth = pd.concat(
        [pd.read_csv(p, dtype={"option": str}, keep_default_na=False)
         for p in sorted((root / "surveys/truth").glob("*.csv"))],
        ignore_index=True,
    )
    truth = truth[truth["group_var"] == "all"]
    joined = est.merge(truth, left_on=["cw", "indicator", "option"],
                       right_on=["crosswalk", "indicator", "option"], suffixes=("", "_t"))
    return joined.dropna(subset=["estimate"])


def test_truth_is_available_for_every_estimate(result: RunResult, root: Path) -> None:
    joined = _joined(result, root, weighted=True)
    overall = result.estimates.rows
    n_est = overall[(overall["group_var"] == "all") & overall["estimate"].notna()].shape[0]
    assert len(joined) == n_est


@pytest.mark.parametrize(("crosswalk", "indicator"), sorted(HEADLINE.items()))
def test_weighted_ci_covers_truth_where_unweighted_does_not(
    result: RunResult, root: Path, crosswalk: str, indicator: str
) -> None:
    w = _joined(result, root, weighted=True)
    u = _joined(result, root, weighted=False)
    pick = lambda df: df[(df["cw"] == crosswalk) & (df["indicator"] == indicator)].iloc[0]  # noqa: E731
    wr, ur = pick(w), pick(u)
    truth = wr["true_value"]
    assert wr["ci_low"] <= truth <= wr["ci_high"], (wr["estimate"], truth)
    assert not (ur["ci_low"] <= truth <= ur["ci_high"]), (ur["estimate"], truth)
    assert abs(wr["estimate"] - truth) < abs(ur["estimate"] - truth)


def test_weighted_estimates_are_calibrated_to_truth_overall(
    result: RunResult, root: Path
) -> None:
    w = _joined(result, root, weighted=True)
    z = (w["estimate"] - w["true_value"]) / w["se"]
    assert (z.abs() < 4).all(), w.loc[z.abs() >= 4, ["cw", "indicator", "option"]]
    assert (z.abs() < 1.96).mean() >= 0.85


def test_trend_between_waves_recovers_the_true_change(result: RunResult, root: Path) -> None:
    """Luton residents 2024 -> 2025: a like-for-like change's CI covers the true change;
    the after-dark item, whose scale changed (4 -> 5 points), is shown but not computed."""
    truth = pd.concat(
        [pd.read_csv(root / f"surveys/truth/luton-residents-{w}.csv", keep_default_na=False)
         .assign(wave=w) for w in ("2024", "2025")], ignore_index=True)
    truth = truth[truth["group_var"] == "all"].pivot_table(
        index="indicator", columns="wave", values="true_value", aggfunc="first")
    cws = [ws.survey.crosswalk for ws in result.surveys]
    table = trends(result.estimates, crosswalks=cws).rows.set_index("indicator")
    assert set(table.index) == {"safe_area_dark_safe", "sv_concern_concerned"}
    dark, concern = table.loc["safe_area_dark_safe"], table.loc["sv_concern_concerned"]
    true_change = truth.loc["sv_concern_concerned", "2025"] - truth.loc["sv_concern_concerned",
                                                                        "2024"]
    assert bool(concern["computed"]) and concern["series"] == "luton-residents"
    assert concern["ci_low"] <= true_change <= concern["ci_high"], true_change
    assert abs(concern["change"] - true_change) < 2 * concern["se"]
    assert not bool(dark["computed"]) and pd.isna(dark["change"])
    assert "response scale changed between waves" in dark["reason"]
    assert bool(dark["crosswalk_changed"]) and bool(concern["crosswalk_changed"])
    assert bool(dark["item_changed"]) and "grade identical → close" in dark["flag"]
    assert dark["changelog"].startswith("v2: 2025 wave.")
    assert not bool(concern["item_changed"]) and "mapping is unchanged" in concern["flag"]
    assert bool(concern["significant"])  # a real fall of 8 points, detected after Holm
