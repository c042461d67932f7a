"""Quantiles: properties (monotone in p, row order, numpy's methods under equal weights),
defined edge cases and errors, the tidy table and the CLI. Agreement with R's
``svyquantile`` is in ``test_quantiles_against_r.py``. Data here are SYNTHETIC."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonise.cli import main
from harmonise.cli.estimate import QRULE_CHOICES, QUANTILE_CI_CHOICES
from harmonise.errors import EstimationError
from harmonise.estimate import Design, quantile
from harmonise.estimate.quantiles import INTERVAL_TYPES, QRULES
from harmonise.estimate.rep_quantiles import REP_INTERVAL_TYPES
from harmonise.estimate.spec import DesignFileSpec, build_design, estimate_table
from rreference import API_DIR

#: Rules whose value does not depend on the order of tied values (R's ``qs`` rules).
ORDER_FREE_WITH_TIES = ("math", "school", "hf1", "hf2", "hf3", "hf4")
#: R's qrule -> numpy's method of the same Hyndman & Fan type. survey's hf3 is left out:
#: it is not R's quantile(type = 3) (of 0..7, p = 0.3 gives the 3rd value, type 3 the
#: 2nd); test_quantiles_against_r.py checks it against R itself.
NUMPY_METHOD = {
    "math": "inverted_cdf",
    "hf1": "inverted_cdf",
    "school": "averaged_inverted_cdf",
    "hf2": "averaged_inverted_cdf",
    "hf4": "interpolated_inverted_cdf",
    "hf5": "hazen",
    "hf6": "weibull",
    "hf7": "linear",
    "hf8": "median_unbiased",
    "hf9": "normal_unbiased",
}


@st.composite
def samples(draw: st.DrawFn, *, ties: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values (with or without ties), integer weights (exact sums) and 2-4 strata."""
    n = draw(st.integers(8, 40))
    if ties:
        y = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    else:
        y = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n, unique=True))
    w = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    strata = np.arange(n) % draw(st.integers(2, 4))
    return np.array(y, dtype=float), np.array(w, dtype=float), strata


PROBS = (0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(samples(ties=True), st.sampled_from([r for r in QRULES if r != "shahvaish"]))
def test_quantiles_are_monotone_in_p(
    sample: tuple[np.ndarray, np.ndarray, np.ndarray], rule: str
) -> None:
    # shahvaish is left out: R's plotting positions there need not increase with the
    # values (it adds 0.5 - w/2 to cumulative *scaled* weights), so neither do its quantiles.
    y, w, strata = sample
    design = Design(weights=w, strata=strata)
    est = [q.estimate for q in quantile(design, y, np.ones(y.size, bool), PROBS, rule=rule)]  # type: ignore[arg-type]
    assert est == sorted(est)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.booleans().flatmap(lambda t: st.tuples(st.just(t), samples(ties=t))),
    st.sampled_from(list(QRULES)),
    st.sampled_from(["mean", "beta", "xlogit", "asin"]),
    st.data(),
)
def test_quantiles_do_not_depend_on_row_order(
    drawn: tuple[bool, tuple[np.ndarray, np.ndarray, np.ndarray]],
    rule: str,
    interval: str,
    data: st.DataObject,
) -> None:
    ties, (y, w, strata) = drawn
    if ties and rule not in ORDER_FREE_WITH_TIES:
        rule = "math"  # other rules interpolate between plotting positions of tied rows
    perm = np.array(data.draw(st.permutations(range(y.size))))
    dom = y > np.median(y) - 1
    args = {"rule": rule, "interval": interval}
    one = quantile(Design(weights=w, strata=strata), y, dom, PROBS, **args)  # type: ignore[arg-type]
    two = quantile(
        Design(weights=w[perm], strata=strata[perm]), y[perm], dom[perm], PROBS, **args  # type: ignore[arg-type]
    )
    for a, b in zip(one, two, strict=True):
        for key in ("estimate", "ci_low", "ci_high", "se"):
            assert _same(getattr(a, key), getattr(b, key)), (key, a, b)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.booleans().flatmap(lambda t: samples(ties=t)),
    st.sampled_from(sorted(NUMPY_METHOD)),
    st.floats(0.0, 1.0, exclude_max=True),
)
def test_equal_weights_give_numpys_quantile(
    sample: tuple[np.ndarray, np.ndarray, np.ndarray], rule: str, u: float
) -> None:
    y, _, _ = sample
    n = y.size
    p = 1 / n + u * (1 - 1 / n)  # R's qs rules differ below 1/n: see quantiles.py
    design = Design(weights=np.ones(n))
    (q,) = quantile(design, y, np.ones(n, bool), (p,), rule=rule)  # type: ignore[arg-type]
    expected = float(np.quantile(y, p, method=NUMPY_METHOD[rule]))  # type: ignore[call-overload]
    assert q.estimate == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_below_the_first_weight_share_follows_r() -> None:
    """R's qs: no cumulative weight ≤ p·Σw means position 1, and wlow < 0 picks the
    second value (math) — R returns 403 for apistrat's 0.001 quantile the same way."""
    y = np.array([10.0, 20.0, 30.0, 40.0])
    design = Design(weights=np.ones(4))
    (q,) = quantile(design, y, np.ones(4, bool), (0.1,))
    assert q.estimate == 20.0


def test_one_respondent_has_its_value_and_no_interval() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    dom = np.array([False, False, True, False, False])
    for rule in QRULES:
        (q,) = quantile(Design(weights=np.full(5, 2.0)), y, dom, (0.3,), rule=rule)  # type: ignore[arg-type]
        assert (q.estimate, q.n, q.df) == (3.0, 1, 0)
        assert math.isnan(q.ci_low) and math.isnan(q.ci_high) and math.isnan(q.se)


def test_missing_outside_the_domain_is_fine_inside_is_an_error() -> None:
    y = np.array([1.0, np.nan, 3.0, 4.0, 5.0, 6.0])
    design = Design(weights=np.ones(6))
    (q,) = quantile(design, y, np.isfinite(y), (0.5,))
    assert q.n == 5 and q.estimate == 4.0
    with pytest.raises(EstimationError, match=r"missing or infinite for 1 respondent.*rows 2"):
        quantile(design, y, np.ones(6, bool), (0.5,))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probs": (0.0,)}, r"probability 0 is outside \(0, 1\)"),
        ({"probs": (0.5, 1.0)}, r"probability 1 is outside \(0, 1\)"),
        ({"probs": (-0.1,)}, r"probability -0.1 is outside"),
        ({"probs": ()}, "at least one probability"),
        ({"rule": "hf10"}, "'hf10' is not one of R's qrules; use one of math, school"),
        ({"interval": "wald"}, "interval 'wald' is not supported; use one of mean, beta"),
        ({"level": 1.0}, "level must be between 0 and 1"),
        ({"domain": np.zeros(6, bool)}, "the domain has no respondents"),
    ],
    ids=["p0", "p1", "negative", "no-probs", "rule", "interval", "level", "empty-domain"],
)
def test_errors_say_what_and_what_to_do(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"domain": np.ones(6, bool), "probs": (0.5,)} | kwargs
    with pytest.raises(EstimationError, match=message):
        quantile(Design(weights=np.ones(6)), np.arange(6.0), **args)  # type: ignore[arg-type]


def test_score_without_a_sign_change_is_an_error() -> None:
    # Every value but one is equal: the score test cannot bracket a root (R's uniroot
    # stops with "f() values at end points not of opposite sign").
    y = np.array([1.0] * 9 + [2.0])
    message = r"score interval for p=0\.5: the score test does not change sign"
    with pytest.raises(EstimationError, match=message):
        quantile(Design(weights=np.ones(10)), y, np.ones(10, bool), (0.5,), interval="score")


def test_cli_choices_are_the_library_names() -> None:
    assert tuple(QRULES) == QRULE_CHOICES
    assert set(QUANTILE_CI_CHOICES) == {*INTERVAL_TYPES, *REP_INTERVAL_TYPES}
    assert len(QUANTILE_CI_CHOICES) == len(set(QUANTILE_CI_CHOICES))


def test_table_rows_have_the_probability_as_category() -> None:
    data = pd.read_csv(API_DIR / "apiclus2.csv")  # enroll has 6 missing values
    design, _ = build_design(DesignFileSpec(ids=["dnum", "snum"], weights="pw"), data)
    table = estimate_table(
        design, data, quantiles=["enroll"], probs=(0.1, 0.5), by="stype", quantile_rule="hf7"
    )
    assert list(table["category"][:2]) == ["0.1", "0.5"]
    assert set(table["statistic"]) == {"quantile"}
    assert table["deff"].isna().all()
    assert int(table["n"].iloc[0]) == len(data) - 6
    y = data["enroll"].to_numpy(dtype=float)
    group = (data["stype"] == "E").to_numpy()
    e = group & np.isfinite(y)  # the table's interval df is the group's (R's na.rm=TRUE)
    (lib,) = quantile(design, y, e, (0.5,), rule="hf7", group=group)
    row = table[(table["group"] == "stype=E") & (table["category"] == "0.5")].iloc[0]
    assert (row["estimate"], row["se"], row["ci_low"]) == (lib.estimate, lib.se, lib.ci_low)


def test_cli_quantiles_match_the_library(tmp_path: Path) -> None:
    args = [
        "estimate", str(API_DIR / "apiclus1.csv"),
        "--design", str(API_DIR / "apiclus1.design.yaml"),
        "--quantile", "api00", "--probs", "0.1,0.5,0.9", "--qrule", "school",
        "--quantile-ci", "beta", "--level", "0.9",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.output))
    assert list(table["category"]) == [0.1, 0.5, 0.9]
    data = pd.read_csv(API_DIR / "apiclus1.csv")
    design, _ = build_design(DesignFileSpec(ids=["dnum"], weights="pw", fpc=["fpc"]), data)
    y = data["api00"].to_numpy(dtype=float)
    lib = quantile(
        design, y, np.ones(y.size, bool), (0.1, 0.5, 0.9), level=0.9, rule="school", interval="beta"
    )
    for (_, row), q in zip(table.iterrows(), lib, strict=True):
        for key in ("estimate", "se", "ci_low", "ci_high", "df", "n"):
            assert row[key] == pytest.approx(getattr(q, key), rel=1e-12, nan_ok=True), key


@pytest.mark.parametrize(
    ("probs", "message"),
    [("0.5,abc", "--probs: 'abc' is not a number"), ("0.5,1", "--probs: 1 is outside")],
    ids=["text", "one"],
)
def test_cli_bad_probs_are_clean_errors(probs: str, message: str) -> None:
    args = [
        "estimate", str(API_DIR / "apiclus1.csv"),
        "--design", str(API_DIR / "apiclus1.design.yaml"),
        "--quantile", "api00", "--probs", probs,
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output
