"""Replicate designs: ``degf`` (R's ``qr(weights, tol = 1e-5)$rank - 1``) without an ``n × R``
QR when the Gram matrix settles it, and checks on sizes, seeds, columns and targets
(synthetic weights)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from harmonise.errors import EstimationError, HarmoniseError
from harmonise.estimate import Design, replicate_design
from harmonise.estimate import replicates as replicates_module
from harmonise.estimate.rep_calibrate import calibrate_replicates
from harmonise.estimate.rep_spec import DesignReplicatesSpec, replicate_columns
from harmonise.estimate.replicates import ReplicateDesign, replicate_weights_design, weight_rank
from harmonise.estimate.spec import DesignFileSpec, build_design
from harmonise.weight import Margin
from rsurvey import RSCRIPT, SKIP_REASON


def _matrices() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(30, 4))
    scale = np.linalg.norm(a[:, 0]) / np.sqrt(30)
    c = rng.normal(size=(40, 3))
    return {
        "dependent": np.column_stack([a, a[:, 0] + a[:, 1]]),
        # a near-copy of column 1: 3e-6 of its length is left (out), 2e-5 (in)
        "inside_tolerance": np.column_stack([a, a[:, 0] + 3e-6 * scale * rng.normal(size=30)]),
        "outside_tolerance": np.column_stack([a, a[:, 0] + 2e-5 * scale * rng.normal(size=30)]),
        "lengths_differ": np.array([[1.0, 1e6], [0.0, 5.0], [0.0, 0.0]]),
        "more_columns_than_rows": rng.normal(size=(5, 9)),
        "zero_column": np.column_stack([np.zeros(8), rng.normal(size=8)]),
        "small_first": np.column_stack([c[:, 0] * 1e-3 + c[:, 1] * 1e-9, c[:, 1], c[:, 0]]),
        "jackknife": np.where(np.eye(12, 6, dtype=bool), 0.0, 1.2) * rng.uniform(1, 9, (12, 1)),
    }


def _no_qr(*args: object, **kwargs: object) -> None:
    raise AssertionError("weight_rank ran a QR of the n × R replicate weights")


@pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON)
def test_weight_rank_is_r_qr_rank(tmp_path: Path) -> None:
    mats = _matrices()
    for name, m in mats.items():
        np.savetxt(tmp_path / f"{name}.csv", m, delimiter=",", fmt="%.17g")
    script = "; ".join(
        f'cat("{name}", qr(as.matrix(read.csv("{name}.csv", header = FALSE)), tol = 1e-5)$rank, '
        '"\\n")'
        for name in mats
    )
    out = subprocess.run([str(RSCRIPT), "-e", script], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    r_rank = {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.strip()}
    assert {name: weight_rank(m) for name, m in mats.items()} == r_rank


def test_df_of_a_clearly_full_rank_design_needs_no_qr(monkeypatch: pytest.MonkeyPatch) -> None:
    """A QR of the n × R replicate weights took ~10 s at 200,000 rows × 200 replicates,
    once for the design and once per domain; the Gram matrix decides these at once."""

    rng = np.random.default_rng(2)
    n = 2000
    design = Design(weights=rng.uniform(1, 50, n), strata=np.repeat(np.arange(20), n // 20),
                    clusters=np.arange(n) // 20)
    rd = replicate_design(design, "JKn")
    boot = replicate_design(design, "bootstrap", replicates=60, seed=3)
    # more replicates than PSUs - strata: every replicate draws 5 PSUs per stratum, so
    # 39 of the 120 columns depend on the others (left out at ~1e-14, not near 1e-10)
    boot_dependent = replicate_design(design, "bootstrap", replicates=120, seed=4)
    domain = np.zeros(n, dtype=bool)
    domain[: n // 2] = True  # the first 10 strata
    qr_rank = replicates_module._rank_pivoted_qr
    expected = [qr_rank(rd.replicates) - 1, qr_rank(rd.replicates[domain]) - 1,
                qr_rank(boot.replicates) - 1, qr_rank(boot_dependent.replicates) - 1]
    assert expected == [100 - 20, 41 - 1, 60 - 1, 81 - 1]
    monkeypatch.setattr(replicates_module.linalg, "qr", _no_qr)
    assert [rd.df, rd.domain_df(domain), boot.df, boot_dependent.df] == expected


def test_rank_falls_back_to_qr_near_the_tolerance() -> None:
    m = _matrices()["inside_tolerance"]
    assert weight_rank(m) == 4
    assert weight_rank(_matrices()["outside_tolerance"]) == 5


def test_jackknife_without_clusters_that_would_not_fit_in_memory_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """JK1 without clusters has one replicate per respondent: n × n weights (30,000
    respondents: 7.2 GB per copy). The limit is lowered here so the test stays small."""
    monkeypatch.setattr(replicates_module, "MAX_REPLICATE_CELLS", 100 * 99)
    design = Design(weights=np.ones(100))
    with pytest.raises(EstimationError, match=r"100 replicates \(one per PSU\) of 100 rows.*"
                       r"give the cluster ids"):
        replicate_design(design, "JK1")
    with pytest.raises(EstimationError, match=r"200 replicates of 100 rows.*fewer replicates"):
        replicate_design(design, "bootstrap", replicates=200)
    clustered = Design(weights=np.ones(100), clusters=np.arange(100) // 10)
    assert replicate_design(clustered, "JK1").n_replicates == 10
    assert replicate_design(design, "bootstrap", replicates=99).n_replicates == 99


def test_replicate_calibration_names_a_bad_target_not_the_weights() -> None:
    """A sampled category with a population target of 0 used to zero its respondents'
    weights and fail as 'full-sample weights must be positive ... fix the weight column';
    a missing target made NaN weights. Both now fail as the Taylor path's rake does."""
    n = 40
    design = Design(weights=np.full(n, 5.0), clusters=np.arange(n) // 4)
    rd = replicate_design(design, "JK1")
    codes = np.arange(n) % 2
    for targets, message in (([200.0, 0.0], "'b' .* population target of 0"),
                             ([200.0, float("nan")], "targets must be finite")):
        margin = Margin("sex", codes, np.array(targets), ("a", "b"))
        for method in ("rake", "poststratify"):
            with pytest.raises(HarmoniseError, match=message):
                calibrate_replicates(rd, [margin], method=method)
    uneven = [Margin("sex", codes, np.array([100.0, 100.0]), ("a", "b")),
              Margin("old", np.arange(n) // 20, np.array([50.0, 60.0]), ("no", "yes"))]
    with pytest.raises(HarmoniseError, match="margins add to different totals"):
        calibrate_replicates(rd, uneven, method="rake")


def test_dependent_bootstrap_columns_of_a_large_design_need_no_qr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bootstrap replicates draw n_h PSUs per stratum, so with more replicates than PSUs
    minus strata the columns span PSUs − strata + 1 dimensions and the rest depend on
    them. At 40,000 rows their Gram residuals round to ~1e-13 (far under R's 1e-10), which
    the first version took for 'too close to call' and sent every domain to a QR."""
    monkeypatch.setattr(replicates_module.linalg, "qr", _no_qr)
    rng = np.random.default_rng(1)  # seeds 1, 2, 3 and 5 took the QR; 0 and 4 did not
    n = 40_000
    strata = rng.integers(0, 50, n)
    design = Design(weights=rng.uniform(1, 5, n), strata=strata,
                    clusters=strata * 100 + rng.integers(0, 4, n))
    boot = replicate_design(design, "bootstrap", replicates=200, seed=1)
    assert boot.df == 200 - 50 + 1 - 1


def test_bootstrap_from_a_design_file_needs_a_seed() -> None:
    """Without a seed ``harmonise estimate`` drew new replicates on every run, so the same
    command on the same file printed different SEs, with nothing recording the draw."""
    with pytest.raises(ValidationError, match="give 'seed'"):
        DesignReplicatesSpec(type="bootstrap", replicates=20)
    spec = DesignFileSpec(strata="s", weights="w",
                          replicates=DesignReplicatesSpec(type="bootstrap", replicates=20, seed=5))
    data = pd.DataFrame({"s": np.repeat([1, 2], 10), "w": np.linspace(1, 3, 20)})
    first, second = (build_design(spec, data)[0] for _ in range(2))
    assert isinstance(first, ReplicateDesign) and isinstance(second, ReplicateDesign)
    assert np.array_equal(first.replicates, second.replicates)
    assert DesignReplicatesSpec(type="bootstrap", columns="r").seed is None  # columns: no draw


def test_replicate_columns_never_take_in_the_full_sample_weight() -> None:
    """``weights: wt`` with ``columns: "wt.*"`` made the full-sample weight one more
    replicate: a replicate equal to the full sample adds nothing to the variance, so the
    SEs came out too small without a word (spec.py has to pass ``weights=``)."""
    data = pd.DataFrame({"wt": [1.0, 2.0], "wt1": [0.0, 4.0], "wt2": [2.0, 0.0]})
    assert replicate_columns(data, "wt.*") == ["wt", "wt1", "wt2"]  # no weights named
    assert replicate_columns(data, "wt[0-9]+", weights="wt") == ["wt1", "wt2"]
    for columns in ("wt.*", ["wt1", "wt"]):
        with pytest.raises(EstimationError, match="'wt', the full-sample weight column"):
            replicate_columns(data, columns, weights="wt")


def test_replicate_weight_errors_show_plain_numbers() -> None:
    """numpy 2 prints a scalar's repr as ``np.float64(nan)``; messages show ``nan``."""
    bad = [
        lambda: ReplicateDesign(np.array([1.0, 0.0]), np.ones((2, 2)), 1.0, np.ones(2), "JK1"),
        lambda: ReplicateDesign(np.ones(2), np.array([[1.0, np.nan], [1, 1]]), 1.0,
                                np.ones(2), "JK1"),
        lambda: replicate_weights_design(np.ones(2), np.array([[1.0, -1], [1, 1]]), kind="JK1"),
    ]
    for make, shown in zip(bad, ["(0.0)", "has nan", "has -1.0 at data row 1"], strict=True):
        with pytest.raises(EstimationError) as info:
            make()
        assert shown in str(info.value) and "np.float64" not in str(info.value)
