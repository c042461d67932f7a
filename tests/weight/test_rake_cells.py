"""rake() and the raking adjustment work on the occupied cells of the margins' cross;
both must equal the textbook row-by-row algorithms they replace."""

from __future__ import annotations

import numpy as np
import pytest

from harmonise.weight import Margin, rake
from harmonise.weight.adjustments import RAKING_SWEEPS, RakingAdjustment, occupied_cells


def rowwise_rake(w: np.ndarray, margins: list[Margin], sweeps: int) -> np.ndarray:
    """Iterative proportional fitting over the respondents, ``sweeps`` full sweeps."""
    w = w.copy()
    for _ in range(sweeps):
        for m in margins:
            sums = np.bincount(m.codes, weights=w, minlength=len(m.labels))
            w = w * (m.targets / sums)[m.codes]
    return w


def rowwise_backfit(codes: tuple[np.ndarray, ...], w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """R's svyrecvar raking step: 10 sweeps of x ← x − w · mean_c(x / w) per margin."""
    for _ in range(RAKING_SWEEPS):
        for c in codes:
            n_c = np.bincount(c)
            means = np.column_stack(
                [np.bincount(c, weights=x[:, j] / w) / n_c for j in range(x.shape[1])]
            )
            x = x - w[:, None] * means[c]
    return x


def _margins(rng: np.random.Generator, n: int) -> list[Margin]:
    out = []
    for name, k in (("a", 3), ("b", 4), ("c", 2)):
        codes = rng.integers(0, k, n)
        codes[:k] = np.arange(k)
        targets = np.bincount(codes, minlength=k) * rng.uniform(0.9, 1.1, k)
        out.append(Margin(name, codes, targets * 1000 / targets.sum(), tuple("wxyz"[:k])))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rake_on_cells_equals_the_rowwise_fixed_point(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    w0 = rng.uniform(0.5, 3, n)
    margins = _margins(rng, n)
    res = rake(w0, margins, epsilon=1e-13)
    reference = rowwise_rake(w0, margins, res.iterations)
    np.testing.assert_allclose(res.weights, reference, rtol=1e-12)
    for m in margins:
        achieved = np.bincount(m.codes, weights=res.weights)
        np.testing.assert_allclose(achieved, m.targets, rtol=1e-12)


def test_rake_returns_base_weights_unchanged_when_margins_are_met() -> None:
    w0 = np.array([1.0, 2.0, 3.0, 4.0])
    codes = np.array([0, 1, 0, 1])
    res = rake(w0, [Margin("m", codes, np.array([4.0, 6.0]), ("x", "y"))])
    assert res.iterations == 0
    np.testing.assert_array_equal(res.weights, w0)


def test_occupied_cells_number_the_cross_in_sorted_order() -> None:
    a = np.array([2, 0, 2, 1, 0])
    b = np.array([1, 1, 1, 0, 1])
    cell, codes = occupied_cells((a, b))
    np.testing.assert_array_equal(cell, [2, 0, 2, 1, 0])
    np.testing.assert_array_equal(codes[0], [0, 1, 2])
    np.testing.assert_array_equal(codes[1], [1, 0, 1])


def test_occupied_cells_stay_small_with_many_margins() -> None:
    rng = np.random.default_rng(5)
    codes = tuple(rng.integers(0, 50, 300) for _ in range(6))  # 50**6 cells in the cross
    cell, per_margin = occupied_cells(codes)
    assert int(cell.max()) < 300
    for c, pm in zip(codes, per_margin, strict=True):
        np.testing.assert_array_equal(pm[cell], c)


@pytest.mark.parametrize("seed", [1, 2])
def test_backfit_through_tables_equals_rowwise_sweeps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    margins = _margins(rng, n)
    w = rng.uniform(0.5, 3, n)
    codes = tuple(m.codes for m in margins)
    x = rng.normal(size=(n, 3))
    ours = RakingAdjustment(codes=codes, weights=w).apply(x)
    np.testing.assert_allclose(ours, rowwise_backfit(codes, w, x), rtol=1e-10, atol=1e-12)
