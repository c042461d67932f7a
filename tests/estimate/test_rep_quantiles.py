"""Quantiles and domain differences on replicate designs: properties (monotone in p, row
order), defined edge cases, errors, R's jackknife caveat, the table and the CLI.

Agreement with R is in test_rep_quantiles_against_r.py. Samples drawn by hypothesis are
SYNTHETIC; the api data are R's example data (public school data, not respondents).
"""

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
from harmonise.errors import EstimationError
from harmonise.estimate import (
    Design,
    difference,
    domain_means_covariance,
    mean,
    quantile,
)
from harmonise.estimate.quantiles import QRULES
from harmonise.estimate.rep_quantiles import quantile_caveat
from harmonise.estimate.replicates import (
    ReplicateDesign,
    replicate_design,
    replicate_weights_design,
)
from harmonise.estimate.spec import DesignFileSpec, build_design
from rreference import API_DIR

ORDER_FREE_WITH_TIES = ("math", "school", "hf1", "hf2", "hf3", "hf4")
PROBS = (0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95)
APICLUS1 = pd.read_csv(API_DIR / "apiclus1.csv")


@st.composite
def rep_samples(draw: st.DrawFn, *, ties: bool) -> tuple[np.ndarray, ReplicateDesign]:
    """SYNTHETIC values and a JKn or bootstrap design over 2-4 strata of 2+ PSUs each."""
    n = draw(st.integers(8, 40))
    if ties:
        y = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    else:
        y = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n, unique=True))
    w = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    strata = np.arange(n) % draw(st.integers(2, 4))
    kind = draw(st.sampled_from(["JKn", "bootstrap"]))
    base = Design(weights=np.array(w, dtype=float), strata=strata)
    design = replicate_design(base, kind, replicates=20, seed=draw(st.integers(0, 99)))
    return np.array(y, dtype=float), design


def _permuted(design: ReplicateDesign, perm: np.ndarray) -> ReplicateDesign:
    return ReplicateDesign(
        weights=design.weights[perm],
        replicates=design.replicates[perm],
        scale=design.scale,
        rscales=design.rscales,
        type=design.type,
        mse=design.mse,
    )


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    rep_samples(ties=True),
    st.sampled_from([r for r in QRULES if r != "shahvaish"]),
    st.sampled_from(["mean", "quantile"]),
)
def test_rep_quantiles_are_monotone_in_p(
    sample: tuple[np.ndarray, ReplicateDesign], rule: str, interval: str
) -> None:
    # shahvaish is left out as for Taylor designs: R's plotting positions there need
    # not increase with the values.
    y, design = sample
    res = quantile(design, y, np.ones(y.size, bool), PROBS, rule=rule, interval=interval)  # type: ignore[arg-type]
    est = [q.estimate for q in res]
    assert est == sorted(est)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.booleans().flatmap(lambda t: st.tuples(st.just(t), rep_samples(ties=t))),
    st.sampled_from(list(QRULES)),
    st.sampled_from(["mean", "beta", "xlogit", "asin", "quantile"]),
    st.data(),
)
def test_rep_quantiles_do_not_depend_on_row_order(
    drawn: tuple[bool, tuple[np.ndarray, ReplicateDesign]],
    rule: str,
    interval: str,
    data: st.DataObject,
) -> None:
    ties, (y, design) = drawn
    if ties and rule not in ORDER_FREE_WITH_TIES:
        rule = "math"  # other rules interpolate between plotting positions of tied rows
    perm = np.array(data.draw(st.permutations(range(y.size))))
    dom = y > np.median(y) - 1
    args = {"rule": rule, "interval": interval}
    one = quantile(design, y, dom, PROBS, **args)  # type: ignore[arg-type]
    two = quantile(_permuted(design, perm), y[perm], dom[perm], PROBS, **args)  # type: ignore[arg-type]
    for a, b in zip(one, two, strict=True):
        for key in ("estimate", "ci_low", "ci_high", "se"):
            assert _same(getattr(a, key), getattr(b, key)), (key, a, b)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(rep_samples(ties=False), st.data())
def test_differences_do_not_depend_on_row_order(
    sample: tuple[np.ndarray, ReplicateDesign], data: st.DataObject
) -> None:
    y, design = sample
    perm = np.array(data.draw(st.permutations(range(y.size))))
    a, b = y > np.median(y), np.arange(y.size) % 3 == 0
    one = difference(design, y, a, b)
    two = difference(_permuted(design, perm), y[perm], a[perm], b[perm])
    for key in ("estimate", "se", "ci_low", "ci_high", "mean_a", "mean_b"):
        assert _same(getattr(one, key), getattr(two, key)), key


def _jk1_apiclus1(mse: bool = False) -> ReplicateDesign:
    codes = np.asarray(pd.factorize(APICLUS1["dnum"])[0], dtype=np.int64)
    base = Design(
        weights=APICLUS1["pw"].to_numpy(dtype=float),
        clusters=(codes,),
        fpc=(APICLUS1["fpc"].to_numpy(dtype=float),),
    )
    return replicate_design(base, "JK1", mse=mse)


@pytest.mark.parametrize("mse", [False, True], ids=["mean-centred", "mse"])
def test_difference_parts_are_rep_means(mse: bool) -> None:
    design = _jk1_apiclus1(mse)
    y = APICLUS1["api00"].to_numpy(dtype=float)
    groups = [(APICLUS1["stype"] == s).to_numpy() for s in ("E", "H", "M")]
    means, cov = domain_means_covariance(design, y, groups)
    assert np.allclose(cov, cov.T, rtol=0, atol=1e-12 * cov.max())
    for i, g in enumerate(groups):
        one = mean(design, y, g)
        assert means[i] == pytest.approx(one.estimate, rel=1e-13)
        assert math.sqrt(cov[i, i]) == pytest.approx(one.se, rel=1e-12)
    diff = difference(design, y, groups[0], groups[1])
    assert diff.estimate == pytest.approx(means[0] - means[1], rel=1e-13)
    assert diff.se**2 == pytest.approx(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], rel=1e-12)
    assert diff.df == design.df
    same = difference(design, y, groups[0], groups[0])
    assert (same.estimate, same.se) == (0.0, 0.0)


def test_replicates_without_weight_in_the_domain_are_left_out() -> None:
    """A replicate with no weight in the domain has no quantile (R's qrule stops there);
    it is left out of the variance, as R's svrVar leaves out NA replicates."""
    jk1 = _jk1_apiclus1()
    dnum = APICLUS1["dnum"].to_numpy()
    dom = np.isin(dnum, np.unique(dnum)[:3])
    replicates = jk1.replicates.copy()
    replicates[dom, 5] = 0.0
    design = ReplicateDesign(
        weights=jk1.weights,
        replicates=replicates,
        scale=jk1.scale,
        rscales=jk1.rscales,
        type="JK1",
    )
    keep = np.arange(design.n_replicates) != 5
    kept = ReplicateDesign(
        weights=jk1.weights,
        replicates=replicates[:, keep],
        scale=jk1.scale,
        rscales=jk1.rscales[keep],
        type="JK1",
    )
    y = APICLUS1["api00"].to_numpy(dtype=float)
    for interval in ("mean", "quantile"):
        (q,) = quantile(design, y, dom, (0.5,), interval=interval)  # type: ignore[arg-type]
        (expected,) = quantile(kept, y, dom, (0.5,), interval=interval)  # type: ignore[arg-type]
        assert math.isfinite(q.se) and q.se > 0
        assert (q.estimate, q.se, q.df) == (expected.estimate, expected.se, expected.df)


def test_one_respondent_has_its_value() -> None:
    design = _jk1_apiclus1()
    dom = np.zeros(design.n, bool)
    dom[3] = True
    y = APICLUS1["api00"].to_numpy(dtype=float)
    for interval in ("mean", "quantile"):
        (q,) = quantile(design, y, dom, (0.3,), interval=interval)  # type: ignore[arg-type]
        assert q.estimate == y[3]
        assert q.n == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval": "score"}, "'score' is for Taylor designs only"),
        ({"interval": "wald"}, "interval 'wald' is not supported; use one of mean, beta"),
        ({"rule": "hf10"}, "'hf10' is not one of R's qrules"),
        ({"probs": (0.5, 1.0)}, "probability 1 is outside"),
        ({"level": 1.5}, "level must be between 0 and 1"),
        ({"domain": np.zeros(183, bool)}, "the domain has no respondents"),
    ],
    ids=["score", "unknown-interval", "rule", "p1", "level", "empty-domain"],
)
def test_errors_say_what_and_what_to_do(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"domain": np.ones(183, bool), "probs": (0.5,)} | kwargs
    y = APICLUS1["api00"].to_numpy(dtype=float)
    with pytest.raises(EstimationError, match=message):
        quantile(_jk1_apiclus1(), y, **args)  # type: ignore[arg-type]


def test_quantile_interval_on_a_taylor_design_is_an_error() -> None:
    with pytest.raises(EstimationError, match=r"needs replicate weights.*'replicates:' block"):
        quantile(Design(weights=np.ones(5)), np.arange(5.0), np.ones(5, bool), interval="quantile")


def test_jackknife_caveat_follows_r() -> None:
    jk1 = _jk1_apiclus1()
    caveat = quantile_caveat(jk1, "quantile")
    assert caveat is not None and "JK1 jackknife" in caveat and "may not give valid" in caveat
    assert quantile_caveat(jk1, "mean") is None
    other = replicate_weights_design(jk1.weights, jk1.replicates, kind="other", scale=1.0)
    assert "Not all replicate weight designs" in str(quantile_caveat(other, "quantile"))
    boot = replicate_weights_design(jk1.weights, jk1.replicates, kind="bootstrap")
    assert quantile_caveat(boot, "quantile") is None


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


def test_cli_quantiles_with_a_replicates_block(tmp_path: Path) -> None:
    design_file = tmp_path / "design.yaml"
    design_file.write_text(
        "ids: [dnum]\nweights: pw\nfpc: [fpc]\nreplicates: {type: JK1}\n", encoding="utf-8"
    )
    args = [
        "estimate",
        str(API_DIR / "apiclus1.csv"),
        "--design",
        str(design_file),
        "--quantile",
        "api00",
        "--probs",
        "0.25,0.5",
        "--qrule",
        "hf7",
        "--by",
        "sch.wide",
        "--quantile-ci",
        "quantile",
    ]
    code, out, err = _run(args)
    assert code == 0, err
    assert "note: JK1 jackknife replicate weights may not give valid standard errors" in err
    table = pd.read_csv(io.StringIO(out))
    spec = DesignFileSpec.model_validate(
        {"ids": ["dnum"], "weights": "pw", "fpc": ["fpc"], "replicates": {"type": "JK1"}}
    )
    design, _ = build_design(spec, APICLUS1)
    assert isinstance(design, ReplicateDesign)
    y = APICLUS1["api00"].to_numpy(dtype=float)
    yes = (APICLUS1["sch.wide"] == "Yes").to_numpy()
    lib = quantile(design, y, yes, (0.25, 0.5), rule="hf7", interval="quantile")
    rows = table[table["group"] == "sch.wide=Yes"]
    assert len(table) == 6
    for (_, row), q in zip(rows.iterrows(), lib, strict=True):
        for key in ("estimate", "se", "ci_low", "ci_high", "df", "n"):
            assert row[key] == pytest.approx(getattr(q, key), rel=1e-12), key
    code, _, err = _run([*args[:-2], "--quantile-ci", "beta"])
    assert code == 0 and "note:" not in err


def test_cli_quantile_interval_needs_replicates() -> None:
    code, out, err = _run(
        [
            "estimate",
            str(API_DIR / "apiclus1.csv"),
            "--design",
            str(API_DIR / "apiclus1.design.yaml"),
            "--quantile",
            "api00",
            "--quantile-ci",
            "quantile",
        ]
    )
    assert code == 2
    assert "needs replicate weights" in out + err
    assert "Traceback" not in out + err
