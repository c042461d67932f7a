"""Replicate designs: the structure of the replicate weights, properties, and errors.

(Agreement with R is in test_replicates_against_r.py.) The api data are R's example
data (real public school data, not survey respondents).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from harmonise.cli import main
from harmonise.errors import EstimationError
from harmonise.estimate import Design, degrees_of_freedom, mean, proportion, total
from harmonise.estimate.rep_calibrate import calibrate_replicates
from harmonise.estimate.replicates import (
    ReplicateDesign,
    replicate_design,
    replicate_weights_design,
    weight_rank,
)
from harmonise.estimate.spec import DesignFileSpec, build_design, estimate_table
from harmonise.weight import Margin, rake
from rreference import API_DIR

APISTRAT = pd.read_csv(API_DIR / "apistrat.csv")
APICLUS1 = pd.read_csv(API_DIR / "apiclus1.csv")


def _codes(values: pd.Series) -> np.ndarray:
    return np.asarray(pd.factorize(values, sort=True)[0], dtype=np.int64)


def _clus1(fpc: bool = True) -> Design:
    return Design(
        weights=APICLUS1["pw"].to_numpy(),
        clusters=_codes(APICLUS1["dnum"]),
        fpc=(APICLUS1["fpc"].to_numpy(),) if fpc else None,
    )


def _strat(fpc: bool = True) -> Design:
    return Design(
        weights=APISTRAT["pw"].to_numpy(),
        strata=_codes(APISTRAT["stype"]),
        fpc=(APISTRAT["fpc"].to_numpy(),) if fpc else None,
    )


def test_jk1_drops_exactly_one_psu_per_replicate() -> None:
    design = _clus1()
    rd = replicate_design(design, "JK1")
    psu = _codes(APICLUS1["dnum"])
    n = 15
    assert rd.n_replicates == n
    factors = rd.replicates / design.weights[:, None]
    dropped = []
    for r in range(n):
        zero = factors[:, r] == 0
        (psus,) = np.unique(psu[zero]).reshape(1, -1)
        assert psus.size == 1 and np.array_equal(zero, psu == psus[0])
        assert np.allclose(factors[~zero, r], n / (n - 1))
        dropped.append(int(psus[0]))
    assert sorted(dropped) == list(range(n))
    assert rd.scale == pytest.approx((1 - 15 / 757) * (n - 1) / n)
    assert rd.df == n - 1


def test_jkn_drops_one_unit_and_rescales_its_stratum() -> None:
    rd = replicate_design(_strat(), "JKn")
    strata = APISTRAT["stype"].to_numpy()
    factors = rd.replicates / APISTRAT["pw"].to_numpy()[:, None]
    assert rd.n_replicates == len(APISTRAT)
    for r in range(rd.n_replicates):
        (row,) = np.flatnonzero(factors[:, r] == 0)
        same = strata == strata[row]
        n_h = int(same.sum())
        assert np.allclose(factors[same & (factors[:, r] > 0), r], n_h / (n_h - 1))
        assert np.allclose(factors[~same, r], 1.0)
        big_n = float(APISTRAT["fpc"].to_numpy()[row])
        assert rd.rscales[r] == pytest.approx((1 - n_h / big_n) * (n_h - 1) / n_h)
    assert rd.df == len(APISTRAT) - 3


@pytest.mark.parametrize("fpc", [False, True], ids=["with-replacement", "fpc"])
def test_bootstrap_weights_are_draw_counts(fpc: bool) -> None:
    design = _clus1(fpc=fpc)
    rd = replicate_design(design, "bootstrap", replicates=40, seed=7)
    factors = rd.replicates / design.weights[:, None]
    assert np.all(factors >= 0) and np.allclose(factors, np.round(factors))
    psu = _codes(APICLUS1["dnum"])
    first = np.unique(psu, return_index=True)[1]
    per_psu = factors[first]  # one row per PSU: how often it was drawn
    assert np.allclose(per_psu.sum(axis=0), 15)  # n_h draws per replicate
    if fpc:  # without replacement from 757 districts: a PSU's pool holds 50 or 51 copies
        assert per_psu.max() <= math.ceil(757 / 15)
    again = replicate_design(design, "bootstrap", replicates=40, seed=7)
    other = replicate_design(design, "bootstrap", replicates=40, seed=8)
    assert np.array_equal(rd.replicates, again.replicates)
    assert not np.array_equal(rd.replicates, other.replicates)
    assert rd.rscales.tolist() == [1.0] * 40


def test_bootstrap_variance_is_close_to_taylor() -> None:
    """The rescaled bootstrap is unbiased for the with-replacement variance: with many
    replicates its SE is within a few percent of the Taylor SE."""
    design = _strat(fpc=False)
    y = APISTRAT["api00"].to_numpy(dtype=float)
    everyone = np.ones(design.n, dtype=bool)
    taylor = mean(design, y, everyone).se
    boot = mean(replicate_design(design, "bootstrap", replicates=3000, seed=1), y, everyone)
    assert boot.se == pytest.approx(taylor, rel=0.05)
    jkn = mean(replicate_design(design, "JKn"), y, everyone)
    assert jkn.se == pytest.approx(taylor, rel=1e-9)  # JKn of a linear statistic: exact


@settings(max_examples=15, deadline=None)
@given(st.permutations(list(range(len(APICLUS1)))))
def test_replicate_estimates_do_not_depend_on_row_order(order: list[int]) -> None:
    spec = DesignFileSpec.model_validate(
        {"ids": ["dnum"], "weights": "pw", "fpc": ["fpc"], "replicates": {"type": "JK1"}}
    )
    shuffled = APICLUS1.iloc[order].reset_index(drop=True)
    a = estimate_table(build_design(spec, APICLUS1)[0], APICLUS1, means=["api00"], by="stype")
    b = estimate_table(build_design(spec, shuffled)[0], shuffled, means=["api00"], by="stype")
    for col in ("estimate", "se", "ci_low", "ci_high", "df", "deff"):
        assert np.allclose(a[col], b[col], rtol=1e-10, equal_nan=True), col


def test_domain_equals_zero_weights_outside() -> None:
    """R's subset(): a domain estimate equals the estimate on the domain's rows alone."""
    rd = replicate_design(_clus1(), "JK1", mse=True)
    dom = (APICLUS1["awards"] == "Yes").to_numpy()
    y = APICLUS1["enroll"].to_numpy(dtype=float)
    sub = ReplicateDesign(
        rd.weights[dom], rd.replicates[dom], rd.scale, rd.rscales, rd.type, mse=True
    )
    a = total(rd, y, dom)
    b = total(sub, y[dom], np.ones(int(dom.sum()), dtype=bool))
    assert (a.estimate, a.se, a.df) == pytest.approx((b.estimate, b.se, b.df), rel=1e-12)


def test_raked_replicates_meet_every_margin() -> None:
    rd = replicate_design(_clus1(), "JK1")
    stype = Margin("stype", _codes(APICLUS1["stype"]), np.array([4421.0, 755, 1018]),
                   ("E", "H", "M"))  # fmt: skip
    wide = Margin("sch.wide", _codes(APICLUS1["sch.wide"]), np.array([1072.0, 5122]),
                  ("No", "Yes"))  # fmt: skip
    raked = calibrate_replicates(rd, [stype, wide], method="rake")
    for m in (stype, wide):
        for col in np.column_stack([raked.weights, raked.replicates]).T:
            assert np.allclose(np.bincount(m.codes, weights=col), m.targets, rtol=1e-8)
    # the full sample is raked as harmonise.weight.rake does
    assert np.allclose(raked.weights, rake(rd.weights, [stype, wide]).weights, rtol=1e-8)
    assert raked.calibrated and raked.scale == rd.scale


def test_proportion_logit_interval_is_inside_zero_one() -> None:
    rd = replicate_design(_clus1(), "JK1")
    est = proportion(rd, (APICLUS1["api00"] > 800).to_numpy(), np.ones(183, dtype=bool))
    assert 0 < est.ci_low < est.estimate < est.ci_high < 1
    assert est.ci_method == "logit"


def test_weight_rank_of_dependent_columns() -> None:
    a = np.random.default_rng(0).random((30, 4))
    assert weight_rank(np.column_stack([a, a[:, 0] + a[:, 1]])) == 4
    assert weight_rank(np.zeros((5, 2))) == 0


def test_fay_and_brr_scales() -> None:
    w = np.ones(8)
    reps = np.ones((8, 4))
    assert replicate_weights_design(w, reps, kind="Fay", rho=0.5).scale == pytest.approx(1.0)
    assert replicate_weights_design(w, reps, kind="BRR").scale == pytest.approx(0.25)
    assert replicate_weights_design(w, reps, kind="JK1").scale == pytest.approx(0.75)
    assert replicate_weights_design(w, reps, kind="bootstrap").scale == pytest.approx(1 / 3)


def _spec(**kwargs: object) -> DesignFileSpec:
    return DesignFileSpec.model_validate(kwargs)


ERRORS = [
    ("jk1-with-strata", APISTRAT, {"strata": "stype", "weights": "pw",
                                   "replicates": {"type": "JK1"}}, "Can't use JK1"),
    ("jkn-without-strata", APICLUS1, {"ids": ["dnum"], "weights": "pw",
                                      "replicates": {"type": "JKn"}}, "JKn needs strata"),
    ("regex-matches-nothing", APICLUS1, {"weights": "pw",
                                         "replicates": {"columns": "repw[0-9]+", "type": "JK1"}},
     "matches no column"),
    ("listed-column-missing", APICLUS1, {"weights": "pw",
                                         "replicates": {"columns": ["r1"], "type": "JK1"}},
     "'r1'"),
    ("negative-weight", APICLUS1.assign(r1=APICLUS1["pw"], r2=-1.0),
     {"weights": "pw", "replicates": {"columns": "r[0-9]", "type": "JK1"}},
     "column 'r2' has -1.0 at data row 1"),
    ("text-weight", APICLUS1.assign(r1=APICLUS1["pw"].astype(object).where(
        APICLUS1.index != 4, "n/a")),
     {"weights": "pw", "replicates": {"columns": ["r1"], "type": "JK1"}},
     "column 'r1' has 'n/a' at data row 5"),
    ("columns-with-ids", APICLUS1.assign(r1=1.0),
     {"ids": ["dnum"], "weights": "pw", "replicates": {"columns": ["r1"], "type": "JK1"}},
     "no ids, strata or fpc"),
    ("jkn-columns-without-rscales", APICLUS1.assign(r1=1.0),
     {"weights": "pw", "replicates": {"columns": ["r1"], "type": "JKn"}}, "needs rscales"),
    ("fay-without-rho", APICLUS1.assign(r1=1.0),
     {"weights": "pw", "replicates": {"columns": ["r1"], "type": "Fay"}}, "needs its rho"),
    ("lonely-psu-fail", pd.concat([APISTRAT[APISTRAT["stype"] != "H"],
                                   APISTRAT[APISTRAT["stype"] == "H"].iloc[:1]]),
     {"strata": "stype", "weights": "pw", "replicates": {"type": "JKn"}}, "only one PSU"),
    ("pattern-takes-in-the-weight", APICLUS1.assign(pw2=APICLUS1["pw"]),
     {"weights": "pw", "replicates": {"columns": "pw.*", "type": "JK1"}},
     "the full-sample weight"),
    ("trim-with-replicates", APICLUS1,
     {"ids": ["dnum"], "weights": "pw", "replicates": {"type": "JK1"},
      "calibrate": {"method": "rake", "margins": {"stype": {"E": 4421, "H": 755, "M": 1018}},
                    "trim": {"upper": 40}}}, "trim is not available"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "spec", "message"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])  # fmt: skip
def test_replicate_errors(data: pd.DataFrame, spec: dict[str, object], message: str) -> None:
    with pytest.raises(EstimationError, match=message.replace("(", r"\(").replace("[", r"\[")):
        build_design(_spec(**spec), data)


@pytest.mark.parametrize(
    ("replicates", "message"),
    [
        ({"type": "JK3"}, "cannot be built from the design"),
        ({"type": "JK3", "columns": "r"}, "unknown replicate type 'JK3'"),
        ({"type": "JK1", "scale": 1.0}, "only go with existing replicate 'columns'"),
        ({"type": "JK1", "replicates": 100}, "for type bootstrap only"),
        ({"type": "JK1", "columns": "r", "seed": 3}, "used as they are"),
    ],
)
def test_replicates_block_validation(replicates: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _spec(weights="pw", replicates=replicates)


def test_calibrated_design_is_refused() -> None:
    stype = Margin("stype", _codes(APICLUS1["stype"]), np.array([4421.0, 755, 1018]),
                   ("E", "H", "M"))  # fmt: skip
    result = rake(APICLUS1["pw"].to_numpy(), [stype])
    assert result.adjustment is not None
    design = Design(result.weights, clusters=_codes(APICLUS1["dnum"]),
                    calibration=(result.adjustment,))  # fmt: skip
    with pytest.raises(EstimationError, match="calibrate every replicate"):
        replicate_design(design, "JK1")


def test_cli_estimate_with_replicates(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(
        "ids: [dnum]\nweights: pw\nfpc: [fpc]\nreplicates: {type: JK1, mse: true}\n",
        encoding="utf-8",
    )
    out = tmp_path / "table.csv"
    result = CliRunner().invoke(
        main,
        ["estimate", str(API_DIR / "apiclus1.csv"), "--design", str(path), "--mean", "api00",
         "--proportion", "sch.wide", "--by", "awards", "--deff", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    row = table[(table["statistic"] == "mean") & (table["group"] == "all")].iloc[0]
    expected = mean(replicate_design(_clus1(), "JK1", mse=True),
                        APICLUS1["api00"].to_numpy(float), np.ones(183, dtype=bool))  # fmt: skip
    assert row["se"] == pytest.approx(expected.se, rel=1e-12)
    assert row["df"] == 14 and np.isfinite(row["deff"])
    assert set(table["group"]) == {"all", "awards=No", "awards=Yes"}


def test_cli_reports_replicate_errors_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text("weights: pw\nreplicates: {columns: 'rw[0-9]+', type: JK1}\n", "utf-8")
    result = CliRunner().invoke(
        main, ["estimate", str(API_DIR / "apiclus1.csv"), "--design", str(path), "--mean", "api00"]
    )
    assert result.exit_code == 2
    assert "matches no column" in result.output


def test_degrees_of_freedom_takes_a_replicate_design_too() -> None:
    spec = _spec(ids=["dnum"], weights="pw", replicates={"type": "JK1"})
    rd = build_design(spec, APICLUS1)[0]
    assert isinstance(rd, ReplicateDesign)
    everyone = np.ones(rd.n, dtype=bool)
    assert degrees_of_freedom(rd, everyone) == rd.df == 14  # R: degf() of 15 JK1 replicates
    some = (APICLUS1["sch.wide"] == "No").to_numpy()
    assert degrees_of_freedom(rd, some) == rd.domain_df(some)
