"""The design-file options ``probs``, ``trim``, ``calibrate.trim.then: keep`` and ``pps``
(brewer, HR, HR(psum)) agree with R's survey (4.1.1) to 1e-6 relative.

Each case of :data:`rdesignopts.CASES` is a design file, built by :func:`build_design` and
estimated by :func:`estimate_table` (means, totals and proportions, overall and per group
of a ``by`` variable, with deff), exactly as ``harmonise estimate`` does; the numbers are
compared with R's, cached in ``tests/data/r_reference/design_options.csv`` by
``python tests/rdesignopts.py``. These tests need no R, except
``test_live_r_agrees_with_cache``, which reruns R and compares R with the cache.

Documented departures, all R quirks: R cannot subset a clustered ``pps = HR()`` design,
so its groups are checked on estimate and SE from ``svytotal``/``svycontrast`` on the
whole design (a HR design whose PSUs are its rows is checked in full, bar the groups'
deff); R's Brewer SE depends on the row order (the synthetic rows are sorted by school,
and a test shows harmonise's does not); and R's ``svytotal`` on a HR design divides by
an SRS variance without the ``(N − n)/(N n)`` factor every other design uses, so the HR
total's deff is compared after putting that factor back.
"""

from __future__ import annotations

import io
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design
from harmonise.estimate.spec import DesignFileSpec, build_design, estimate_table
from rdesignopts import CASES, REFERENCE, Case, frame, read_reference, run_r
from rsurvey import RSCRIPT, SKIP_REASON, relative_difference

TOL = 1e-6
WEIGHT_TOL = 1e-9
SEEN: dict[str, float] = {}
KEYS = ("estimate", "se", "ci_low", "ci_high", "df", "deff", "beta_low", "beta_high")


@cache
def reference() -> dict[tuple[str, str, str, str, str, str], float | None]:
    return read_reference(REFERENCE)


@cache
def built(case_id: str) -> tuple[pd.DataFrame, Design, pd.DataFrame]:
    """The case's data, design and table; proportions have their Korn–Graubard ("beta")
    interval in ``beta_low``/``beta_high`` beside the default logit one."""
    case = next(c for c in CASES if c.id == case_id)
    df = frame(case.data)
    design, _ = build_design(DesignFileSpec.model_validate(case.spec), df)
    assert isinstance(design, Design)
    table = estimate_table(
        design,
        df,
        means=case.means,
        totals=case.totals,
        proportions=case.proportions,
        by=case.by,
        deff=True,
    )
    beta = estimate_table(design, df, proportions=case.proportions, by=case.by, ci="beta")
    keys = ["variable", "category", "group"]
    beta = beta.rename(columns={"ci_low": "beta_low", "ci_high": "beta_high"})
    table = table.merge(beta[[*keys, "beta_low", "beta_high"]], on=keys, how="left")
    return df, design, table


def test_cache_is_survey_4_1_1() -> None:
    assert reference()[("session", "session", "", "", "", "survey_version")] == 411


def _ours(case: Case, row: pd.Series, key: str, design: Design) -> float | None:
    value = row[key]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    number = float(value)
    if key == "deff" and row["statistic"] == "total" and design.pps == "HR":
        # R's svytotal.pps: deff against svyvar · W² (no (N − n)/(N n)); see module doc
        n, big_n = float(row["n"]), float(np.sum(design.weights))
        number *= (big_n - n) / (big_n * n)
    return number


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_statistics_match_r(case: Case) -> None:
    _, design, table = built(case.id)
    ref = reference()
    expected = {k: v for k, v in ref.items() if k[0] == case.id and k[1] != "weight"}
    compared = set()
    for _, row in table.iterrows():
        stat, var, cat, group = row["statistic"], row["variable"], row["category"], row["group"]
        base = (case.id, stat, var, cat, group)
        assert (*base, "estimate") in ref, f"R has no {base}"
        for key in KEYS:
            full = (*base, key)
            if full not in ref:
                continue
            ours, theirs = _ours(case, row, key, design), ref[full]
            diff = relative_difference(ours, theirs)
            SEEN[f"{case.id.split('_')[0]}:{stat}:{key}"] = max(
                SEEN.get(f"{case.id.split('_')[0]}:{stat}:{key}", 0.0), diff
            )
            assert diff <= TOL, f"{full}: ours {ours!r}, R {theirs!r} ({diff:.3g})"
            compared.add(full)
    missing = set(expected) - compared
    assert not missing, f"R numbers not compared: {sorted(missing)[:5]}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_weights_match_r(case: Case) -> None:
    _, design, _ = built(case.id)
    ref = reference()
    theirs = np.array(
        [ref[(case.id, "weight", "", str(i + 1), "", "weight")] for i in range(design.n)],
        dtype=float,
    )
    worst = float(np.max(np.abs(design.weights - theirs) / theirs))
    SEEN["weights"] = max(SEEN.get("weights", 0.0), worst)
    assert worst <= WEIGHT_TOL


def _spec(**changes: object) -> DesignFileSpec:
    base: dict[str, object] = {"ids": ["school"], "probs": "p"}
    return DesignFileSpec.model_validate(base | changes)


def test_probs_outside_zero_one_are_refused_with_row_and_value() -> None:
    df = frame("schools")
    df.loc[4, "p"] = 1.5
    with pytest.raises(EstimationError, match=r"pupils\.csv.*'p'.*1\.5 at data row 5.*weights"):
        build_design(_spec(), df, source="pupils.csv")
    df.loc[4, "p"] = 0.0
    with pytest.raises(EstimationError, match=r"outside \(0, 1\], first 0 at data row 5"):
        build_design(_spec(), df)


def test_weights_and_probs_together_are_refused() -> None:
    with pytest.raises(ValueError, match="'weights' or 'probs', not both"):
        _spec(weights="w")


def test_pps_refusals_say_what_to_do() -> None:
    df = frame("schools")
    with pytest.raises(EstimationError, match="brewer reads each unit's inclusion probability"):
        build_design(_spec(pps="brewer"), df)
    with pytest.raises(EstimationError, match="HR takes the inclusion probabilities"):
        build_design(_spec(pps="HR", fpc=["p"]), df)
    with pytest.raises(EstimationError, match="not available for a pps: HR design"):
        build_design(
            _spec(pps="HR", calibrate={"method": "rake", "margins": {"sex": {"F": 1, "M": 1}}}), df
        )
    with pytest.raises(EstimationError, match=r"HR.*unstratified"):
        build_design(_spec(pps={"method": "HR", "psum": 0.1}, strata="area"), df)
    with pytest.raises(EstimationError, match="pps is not available with replicates"):
        build_design(_spec(pps="HR", replicates={"type": "JK1"}), df)
    varying = df.copy()
    varying.loc[0, "p"] = 0.3  # school 1 has 0.25 elsewhere
    with pytest.raises(EstimationError, match="varies within a sampled unit"):
        build_design(_spec(pps="brewer", fpc=["p"]), varying)
    with pytest.raises(EstimationError, match="vary within a stage-1 cluster"):
        build_design(_spec(pps="HR"), varying)


def test_crosswalk_pps_needs_cluster_and_base_weight() -> None:
    from pydantic import ValidationError

    from harmonise.models.crosswalk import DesignSpec

    assert DesignSpec(cluster="SCHOOL", base_weight="DESWT", pps="brewer").pps == "brewer"
    with pytest.raises(ValidationError, match="needs 'cluster'") as caught:
        DesignSpec(cluster="SCHOOL", pps="brewer")
    assert caught.value.errors()[0]["type"] == "design-pps-incomplete"


def test_trim_keep_refuses_rounds() -> None:
    with pytest.raises(ValueError, match="'then: keep' trims once"):
        DesignFileSpec.model_validate(
            {
                "weights": "pw",
                "calibrate": {
                    "method": "rake",
                    "margins": {"stype": {"E": 1}},
                    "trim": {"upper": 40, "then": "keep", "rounds": 2},
                },
            }
        )


def test_trim_keep_keeps_one_calibration_and_the_steps() -> None:
    """``then: keep``: the design carries the calibration's one adjustment, the result the
    base → calibrated → trimmed weights; the trimmed total equals the calibrated one."""
    case = next(c for c in CASES if c.id == "rake_trim_keep")
    design, result = build_design(DesignFileSpec.model_validate(case.spec), frame(case.data))
    assert isinstance(design, Design) and result is not None
    assert len(design.calibration) == 1
    assert [name for name, _ in result.history] == ["base", "calibrated", "trimmed"]
    calibrated, trimmed = result.history[1][1], result.history[2][1]
    assert trimmed.max() <= 45 and trimmed.min() >= 30 and calibrated.max() > 45
    np.testing.assert_allclose(trimmed.sum(), calibrated.sum(), rtol=1e-12)
    with pytest.raises(EstimationError, match="trim is not available with replicates"):
        build_design(
            DesignFileSpec.model_validate(
                {"weights": "pw", "trim": {"upper": 40}, "replicates": {"type": "JK1"}}
            ),
            frame("apiclus1"),
        )


@pytest.mark.parametrize("case_id", ["brewer_strat", "brewer_rake", "hr_strat"])
def test_pps_results_do_not_depend_on_row_order(case_id: str) -> None:
    """R's Brewer SE does on unsorted rows (survey 4.1.1's onestrat pairs each unit's f,
    in order of first appearance, with the unit totals sorted by id); harmonise's not."""
    case = next(c for c in CASES if c.id == case_id)
    spec = DesignFileSpec.model_validate(case.spec)
    _, _, table = built(case_id)
    shuffled = frame(case.data).sample(frac=1.0, random_state=7).reset_index(drop=True)
    design, _ = build_design(spec, shuffled)
    again = estimate_table(design, shuffled, means=case.means, totals=case.totals,
                           proportions=case.proportions, by=case.by)
    cols = ["estimate", "se", "ci_low", "ci_high", "df"]
    np.testing.assert_allclose(again[cols].to_numpy(float), table[cols].to_numpy(float),
                               rtol=1e-9)


def test_hartley_rao_sums_equal_the_dense_matrix() -> None:
    """The stratum sums equal R's HRDcheck matrix written out (with the π_i + π_j = 1
    pairs, which the school sample has, zeroed)."""
    _, design, _ = built("hr_strat")
    from harmonise.estimate.pps import hartley_rao_variance, unit_probabilities

    st = design.stages[0]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(design.n, 2))
    t = np.column_stack([np.bincount(st.unit, weights=x[:, j]) for j in range(2)])
    pi = unit_probabilities(design)
    strat = st.group
    n = st.n[strat].astype(float)
    pbar = (np.bincount(strat, weights=pi) / st.n)[strat]
    fbar = pi[:, None] + pi[None, :]
    d = 1 - (n[:, None] - fbar + pbar[:, None]) / (n[:, None] - 1)
    d[(strat[:, None] != strat[None, :]) | (fbar == 1)] = 0
    np.fill_diagonal(d, 1 - pi)
    assert np.any(fbar[strat[:, None] == strat[None, :]] == 1)
    np.testing.assert_allclose(hartley_rao_variance(design, x), t.T @ d @ t, rtol=1e-12)


def test_cli_reads_pps_and_names_the_file_of_a_bad_probability(tmp_path: Path) -> None:
    """``harmonise estimate`` with a Hartley–Rao design file gives R's numbers; a
    probability outside (0, 1] is an error naming the data file, row and value."""
    from click.testing import CliRunner

    from harmonise.cli import main

    design = tmp_path / "design.yaml"
    design.write_text("ids: [school]\nstrata: area\nprobs: p\npps: HR\n", encoding="utf-8")
    data = tmp_path / "pupils.csv"
    frame("schools").to_csv(data, index=False)
    args = ["estimate", str(data), "--design", str(design), "--mean", "score"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    row = pd.read_csv(io.StringIO(result.output)).iloc[0]
    theirs = reference()[("hr_strat", "mean", "score", "", "all", "se")]
    assert relative_difference(float(row["se"]), theirs) <= TOL
    bad = frame("schools")
    bad.loc[9, "p"] = 4.0  # a weight where a probability belongs
    bad.to_csv(data, index=False)
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "pupils.csv" in result.output and "first 4 at data row 10" in result.output


LIVE = tuple(
    c for c in CASES if c.id in {"probs_strat", "rake_trim_keep", "brewer_strat", "hr_strat"}
)


@pytest.mark.needs_r
@pytest.mark.slow
@pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON)
def test_live_r_agrees_with_cache(tmp_path: Path) -> None:
    """R run now gives the cached numbers (so the cache is R's, not stale)."""
    live = read_reference(run_r(tmp_path, LIVE))
    cached = reference()
    assert len(live) > 400
    for key, value in live.items():
        if key[0] != "session":
            assert relative_difference(value, cached[key]) <= 1e-12, key


def test_max_relative_difference_cached() -> None:
    """Runs last: prints the largest relative difference to R per design kind and key."""
    if not SEEN:
        pytest.skip("no comparison ran")
    for key, value in sorted(SEEN.items()):
        print(f"max relative difference to R, {key}: {value:.3g}")
    overall = max(v for k, v in SEEN.items() if k != "weights")
    print(f"overall (statistics): {overall:.3g}; weights: {SEEN.get('weights', math.nan):.3g}")
    assert overall <= TOL
