"""Post-stratification, calibration (linear / raking, bounds), trimming: properties and cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmonise.errors import WeightingError
from harmonise.estimate import Design, mean, proportion
from harmonise.weight import (
    METHODS,
    Margin,
    calibrate,
    cross_classify,
    poststratify,
    rake,
    trim_and_recalibrate,
    trim_weights,
)

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw: Any) -> tuple[np.ndarray, list[Margin]]:
    """Base weights and 1-3 margins whose targets some positive weights meet exactly."""
    n = draw(st.integers(12, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    truth = rng.uniform(0.5, 20.0, n)
    margins = []
    for j in range(draw(st.integers(1, 3))):
        k = draw(st.integers(2, 4))
        codes = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
        rng.shuffle(codes)
        targets = np.bincount(codes, weights=truth, minlength=k)
        margins.append(Margin(f"m{j}", codes, targets, tuple(f"c{i}" for i in range(k))))
    return rng.uniform(0.5, 10.0, n), margins


def achieved(w: np.ndarray, m: Margin) -> np.ndarray:
    return np.bincount(m.codes, weights=w, minlength=len(m.labels))


@PROPERTY
@given(problems(), st.sampled_from(["raking", "linear"]))
def test_calibration_reproduces_every_margin(
    problem: tuple[np.ndarray, list[Margin]], method: str
) -> None:
    base, margins = problem
    try:
        result = calibrate(base, margins, method=method)  # type: ignore[arg-type]
    except WeightingError as exc:  # linear calibration may give negative weights: it says so
        assert method == "linear" and "negative weight" in str(exc)
        return
    assert np.all(result.weights > 0)
    for m in margins:
        np.testing.assert_allclose(achieved(result.weights, m), m.targets, rtol=1e-8)


@PROPERTY
@given(problems())
def test_raking_calibration_equals_ipf_raking(problem: tuple[np.ndarray, list[Margin]]) -> None:
    base, margins = problem
    ipf = rake(base, margins, epsilon=1e-13, max_iterations=20000).weights
    cal = calibrate(base, margins, method="raking", epsilon=1e-13).weights
    np.testing.assert_allclose(cal, ipf, rtol=1e-6)


@PROPERTY
@given(problems(), st.integers(0, 2**32 - 1))
def test_estimates_invariant_to_row_order(
    problem: tuple[np.ndarray, list[Margin]], seed: int
) -> None:
    base, margins = problem
    n = base.size
    rng = np.random.default_rng(seed)
    strata = np.arange(n) % 2
    clusters = np.arange(n) // 2 % max(2, n // 6)
    fpc = np.where(strata == 0, 1000.0, 2000.0)
    y = rng.normal(size=n)
    dom = rng.random(n) < 0.6
    dom[:2] = True

    def estimates(order: np.ndarray) -> tuple[float, ...]:
        ms = [Margin(m.name, m.codes[order], m.targets, m.labels) for m in margins]
        fit = calibrate(base[order], ms, method="raking")
        design = Design(
            weights=fit.weights,
            strata=strata[order],
            clusters=clusters[order],
            fpc=(fpc[order],),
            calibration=(fit.adjustment,),
            lonely_psu="adjust",
        )  # type: ignore[arg-type]
        est = mean(design, y[order], dom[order])
        p = proportion(design, (y > 0)[order], dom[order])
        return est.estimate, est.se, p.estimate, p.se

    first = estimates(np.arange(n))
    second = estimates(rng.permutation(n))
    np.testing.assert_allclose(second, first, rtol=1e-9, atol=1e-12)


def test_poststratify_meets_every_cell_and_says_which_is_empty() -> None:
    a = Margin("sex", np.array([0, 0, 1, 1, 1, 0]), np.zeros(2), ("f", "m"))
    b = Margin("age", np.array([0, 1, 0, 1, 1, 0]), np.zeros(2), ("young", "old"))
    cells = cross_classify([a, b], np.array([[10.0, 20.0], [30.0, 40.0]]))
    result = METHODS["poststratify"].fit(np.ones(6), [cells])
    np.testing.assert_allclose(achieved(result.weights, cells), [10, 20, 30, 40])
    b_empty = Margin("age", np.array([0, 1, 0, 0, 0, 0]), np.zeros(2), ("young", "old"))
    with pytest.raises(WeightingError, match=r"'m × old' \(target 40\) has a population target"):
        poststratify(np.ones(6), [cross_classify([a, b_empty], np.array([[10.0, 20.0], [30, 40]]))])


def test_trim_weights_as_r_trimweights() -> None:
    w = np.array([1.0, 2.0, 3.0, 10.0])
    out = trim_weights(w, upper=5.0)
    np.testing.assert_allclose(out, [1 + 5 / 3, 2 + 5 / 3, 3 + 5 / 3, 5.0])  # shared equally
    assert out.sum() == pytest.approx(w.sum())
    strict = trim_weights(np.array([1.0, 2.0, 3.0, 4.0, 20.0]), upper=8.0, strict=True)
    assert strict.max() <= 8.0 + 1e-12 and strict.sum() == pytest.approx(30.0)
    with pytest.raises(WeightingError, match="did not settle; widen them"):
        trim_weights(np.array([1.0, 4.0, 4.5, 20.0]), upper=5.0, strict=True)  # mean > 5


def test_trim_and_recalibrate_keeps_the_weight_history() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 3, 200)
    margin = Margin("m", codes, np.array([500.0, 300.0, 200.0]), ("a", "b", "c"))
    result, adjustments = trim_and_recalibrate(
        rng.uniform(1, 10, 200), [margin], upper=8.0, strict=True
    )
    assert [name for name, _ in result.history] == [
        "base",
        "calibrated",
        "trimmed_1",
        "recalibrated_1",
    ]
    assert len(adjustments) == 2
    assert dict(result.history)["trimmed_1"].max() <= 8.0
    np.testing.assert_allclose(achieved(result.weights, margin), margin.targets)


def test_bounds_too_tight_fail_with_advice() -> None:
    codes = np.array([0] * 9 + [1])
    margin = Margin("m", codes, np.array([10.0, 10.0]), ("a", "b"))
    with pytest.raises(WeightingError, match=r"did not converge.*Widen the bounds"):
        calibrate(np.ones(10), [margin], method="raking", bounds=(0.5, 2.0))
    bounded = calibrate(np.ones(10), [margin], method="linear", bounds=(0.5, math.inf))
    assert bounded.weights.min() >= 0.5 - 1e-9
