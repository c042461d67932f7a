"""proportions_by (every indicator × every domain at once) equals proportion() cell by cell.

Random designs cover strata, one- and two-stage clusters with and without fpc, every
lonely-PSU option, raking (design shorthand and a RakeResult adjustment), post-
stratification, GREG and chains of them; domains include empty ones and p = 0 / 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harmonise.errors import EstimationError, WeightingError
from harmonise.estimate import Design, DomainProportions, proportion, proportions_by
from harmonise.weight import Margin, rake
from harmonise.weight.calibrate import calibrate, poststratify

REL = 1e-10
FIELDS = ("estimate", "se", "ci_low", "ci_high", "deff", "weighted_base")


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    # absolute 1e-13: an SE that is 0 in exact arithmetic comes out as ~1e-17 either way
    return abs(a - b) <= REL * max(abs(a), abs(b)) + 1e-13


def assert_matches_scalar(
    design: Design,
    table: DomainProportions,
    success: np.ndarray,
    answered: np.ndarray,
    domains: np.ndarray,
    **kw: Any,
) -> int:
    """Every cell of ``table`` against proportion(); returns how many cells were filled."""
    filled = 0
    for k in range(success.shape[1]):
        for g in range(table.n.shape[1]):
            d = answered[:, k] & (domains == g)
            cell = table.cell(k, g)
            if not d.any():
                assert cell is None and table.n[k, g] == 0 and table.ci_method[k, g] == ""
                continue
            filled += 1
            ref = proportion(design, success[:, k], d, **kw)
            assert cell is not None
            assert (cell.n, cell.n_success, cell.df, cell.ci_method) == (
                ref.n,
                ref.n_success,
                ref.df,
                ref.ci_method,
            ), (k, g)
            for f in FIELDS:
                assert _close(getattr(cell, f), getattr(ref, f)), (k, g, f, cell, ref)
    return filled


def _margin(name: str, codes: np.ndarray, w: np.ndarray) -> Margin:
    k = int(codes.max()) + 1
    totals = np.bincount(codes, minlength=k) * np.linspace(0.95, 1.05, k)
    return Margin(name, codes, totals * w.sum() / totals.sum(), tuple(map(str, range(k))))


def random_case(seed: int, kind: str, lonely: str = "adjust") -> dict[str, Any]:
    """A stratified (multistage) cluster sample with a weighting of ``kind``."""
    rng = np.random.default_rng(seed)
    strata, psu, ssu = [], [], []
    n_strata = int(rng.integers(1, 5))
    for h in range(n_strata):
        for j in range(int(rng.integers(1, 6)) if lonely != "fail" else int(rng.integers(2, 6))):
            for m in range(int(rng.integers(1, 4))):
                size = int(rng.integers(1, 7)) + (3 if h == j == m == 0 else 0)
                strata += [h] * size
                psu += [j] * size
                ssu += [m] * size
    n = len(strata)
    s_arr, p_arr, q_arr = np.array(strata), np.array(psu), np.array(ssu)
    w0 = rng.uniform(1, 20, n)
    a = rng.integers(0, 3, n)
    b = rng.integers(0, 2, n)
    a[:3], b[:2] = [0, 1, 2], [0, 1]  # every category occupied
    design_kw: dict[str, Any] = {"strata": s_arr, "lonely_psu": lonely}
    cluster_kind = seed % 4
    if cluster_kind == 1:
        design_kw["clusters"] = p_arr
    elif cluster_kind == 2:
        design_kw["clusters"] = [p_arr, q_arr]
        pop1 = np.full(n, 40.0)  # PSUs in the population of each stratum
        psu_key = s_arr * 100 + p_arr
        ssus = {key: len(set(q_arr[psu_key == key])) for key in set(psu_key.tolist())}
        pop2 = np.array([ssus[key] * 3.0 for key in psu_key.tolist()])  # SSUs per PSU
        design_kw["fpc"] = [pop1, pop2]
    elif cluster_kind == 3:
        design_kw["clusters"] = p_arr
        design_kw["fpc"] = np.full(n, 0.3)
    margins = [_margin("a", a, w0), _margin("b", b, w0)]
    if kind == "fixed":
        design = Design(weights=w0, **design_kw)
    elif kind == "raking":
        design = Design(
            weights=rake(w0, margins, max_iterations=200, fail_on_no_convergence=False).weights,
            raking=(a, b),
            **design_kw,
        )
    elif kind == "rake_adjustment":
        res = rake(w0, margins, max_iterations=200, fail_on_no_convergence=False)
        design = Design(weights=res.weights, calibration=(res.adjustment,), **design_kw)  # type: ignore[arg-type]
    elif kind == "poststratify":
        cell = a * 2 + b
        counts = np.bincount(cell, minlength=6).astype(float)
        res = poststratify(w0, [Margin("ab", cell, counts * 9.0, tuple(map(str, range(6))))])
        design = Design(weights=res.weights, calibration=(res.adjustment,), **design_kw)  # type: ignore[arg-type]
    elif kind == "greg":
        res = calibrate(w0, margins, method="linear")
        design = Design(weights=res.weights, calibration=(res.adjustment,), **design_kw)  # type: ignore[arg-type]
    elif kind == "rake_then_poststratify":
        first = rake(w0, margins, max_iterations=200, fail_on_no_convergence=False)
        cell = a * 2 + b
        total = first.weights.sum()
        counts = np.bincount(cell, weights=first.weights, minlength=6) * 1.01
        counts *= total / counts.sum()
        second = poststratify(first.weights, [Margin("ab", cell, counts, tuple("abcdef"))])
        design = Design(
            weights=second.weights,
            calibration=(first.adjustment, second.adjustment),  # type: ignore[arg-type]
            **design_kw,
        )
    else:
        raise AssertionError(kind)
    k_ind = 3
    success = rng.random((n, k_ind)) < rng.uniform(0.1, 0.9, k_ind)
    success[:, 2] = b == 1  # p = 0 and p = 1 in the domains split by b
    answered = rng.random((n, k_ind)) < 0.9
    domains = np.where(rng.random(n) < 0.15, -1, b * 3 + rng.integers(0, 2, n))
    return {
        "design": design,
        "success": success,
        "answered": answered,
        "domains": domains,
        "n_domains": 7,  # codes 2 and 5 are never used: empty domains; 6 also empty
    }


KINDS = [
    "fixed",
    "raking",
    "rake_adjustment",
    "poststratify",
    "greg",
    "rake_then_poststratify",
]


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    seed=st.integers(0, 10_000),
    kind=st.sampled_from(KINDS),
    lonely=st.sampled_from(["adjust", "remove", "certainty", "average"]),
    ci=st.sampled_from(["logit", "wald", "beta"]),
    level=st.sampled_from([0.9, 0.95]),
)
def test_vectorised_equals_scalar_on_random_designs(
    seed: int, kind: str, lonely: str, ci: str, level: float
) -> None:
    try:
        case = random_case(seed, kind, lonely)
    except WeightingError:  # e.g. linear calibration giving a negative weight: no design
        assume(False)
    kw = {"level": level, "ci": ci}
    try:
        table = proportions_by(
            case["design"],
            case["success"],
            case["domains"],
            answered=case["answered"],
            n_domains=case["n_domains"],
            **kw,  # type: ignore[arg-type]
        )
    except EstimationError as exc:  # e.g. 'average' with every stratum lonely
        with pytest.raises(EstimationError, match=str(exc)[:40].replace("(", r"\(")):
            for k in range(3):
                for g in range(7):
                    d = case["answered"][:, k] & (case["domains"] == g)
                    if d.any():
                        proportion(case["design"], case["success"][:, k], d, **kw)  # type: ignore[arg-type]
        return
    filled = assert_matches_scalar(
        case["design"], table, case["success"], case["answered"], case["domains"], **kw
    )
    assert filled > 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_weighting_and_stage_layout(kind: str, seed: int) -> None:
    case = random_case(seed, kind)
    table = proportions_by(
        case["design"],
        case["success"],
        case["domains"],
        answered=case["answered"],
        n_domains=case["n_domains"],
    )
    assert assert_matches_scalar(
        case["design"], table, case["success"], case["answered"], case["domains"]
    )
    # p = 0 and p = 1 (indicator 2 is b == 1; domains 0, 1 have b = 0, 3, 4 have b = 1)
    assert set(table.estimate[2, [0, 1, 3, 4]]) <= {0.0, 1.0}
    assert table.ci_method[2, 0] == "beta (logit fallback: p = 0 or 1)"
    assert (table.n[:, [2, 5, 6]] == 0).all()


def test_nan_marks_answers_outside_the_base() -> None:
    case = random_case(7, "raking")
    y = np.where(case["answered"], case["success"].astype(float), np.nan)
    a = proportions_by(case["design"], y, case["domains"], n_domains=7)
    b = proportions_by(
        case["design"], case["success"], case["domains"], answered=case["answered"], n_domains=7
    )
    np.testing.assert_array_equal(a.n, b.n)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-14)
    # a list of columns (a data frame's, float32 here) needs no N × K matrix
    columns = [y[:, k].astype(np.float32) for k in range(y.shape[1])]
    c = proportions_by(case["design"], columns, case["domains"], n_domains=7)
    np.testing.assert_array_equal(c.n, a.n)
    np.testing.assert_array_equal(c.se, a.se)


def test_lonely_psu_fail_raises_the_scalar_error() -> None:
    w = np.ones(6)
    design = Design(
        weights=w, strata=np.array([0, 0, 0, 1, 1, 1]), clusters=np.array([0, 0, 1, 2, 2, 2])
    )
    success = np.array([1, 0, 1, 0, 1, 1], dtype=bool)[:, None]
    with pytest.raises(EstimationError, match="stratum 1 has only one PSU") as vec:
        proportions_by(design, success, np.zeros(6, dtype=np.int64))
    with pytest.raises(EstimationError) as scalar:
        proportion(design, success[:, 0], np.ones(6, dtype=bool))
    assert str(vec.value) == str(scalar.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"success": np.ones((5, 1))}, "shape"),
        ({"success": np.full((6, 1), 2.0)}, "other than 0/1"),
        ({"domains": np.full(6, -2)}, "below -1"),
        ({"domains": np.zeros(6)}, "integer domain code"),
        ({"answered": np.ones((6, 2), dtype=bool)}, "answered"),
        ({"n_domains": 0}, "n_domains=0"),
        ({"ci": "exact"}, "not a method"),
        ({"level": 95}, "between 0 and 1"),
    ],
)
def test_bad_inputs_say_what_to_do(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "success": np.ones((6, 1), dtype=bool),
        "domains": np.zeros(6, dtype=np.int64),
    }
    args.update(kwargs)
    with pytest.raises(EstimationError, match=message):
        proportions_by(Design(weights=np.ones(6)), **args)
