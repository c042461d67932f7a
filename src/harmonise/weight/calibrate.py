"""Post-stratification, calibration to totals (GREG / raking with bounds) and trimming.

Each function mirrors one R ``survey`` (4.1.1) function on a design object, returns a
:class:`RakeResult` (the common result of every weighting method) and, in its
``adjustment``, what the variance needs to account for the step:

=====================================  ==============================================
``poststratify(w, [cells])``           ``postStratify(d, ~cell, pop)``
``calibrate(w, margins, "linear")``    ``calibrate(d, ~m1 + m2, pop)`` (closed form)
``calibrate(..., bounds=(L, U))``      ``calibrate(..., bounds = c(L, U))`` (Newton, ginv)
``calibrate(w, margins, "raking")``    ``calibrate(..., calfun = "raking")``
``trim_weights(w, upper, lower)``      ``trimWeights(d, upper, lower, strict)``
``methods.trim_and_recalibrate(...)`` ``calibrate(trimWeights(calibrate(d, ...)), ...)``
``methods.trim_calibrated(...)``       ``trimWeights(calibrate(d, ...))`` (adjustment kept)
=====================================  ==============================================

The calibration model is R's ``model.matrix``: an intercept, treatment dummies for each
categorical margin (first category is the reference) and numeric columns as given.
``bounds`` apply to the ratio ``g = w / w₀``; as in R, when every population total is
more than 20 times its sample total the base weights are first rescaled by the mean of
those ratios and the bounds then refer to the rescaled weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import WeightingError
from harmonise.weight.adjustments import Adjustment, PostStratAdjustment, greg_adjustment
from harmonise.weight.rake import (
    TOTAL_TOLERANCE,
    Margin,
    RakeResult,
    check_base,
    check_cells,
    check_margin,
)

FloatArray = NDArray[np.float64]
CalFun = Literal["linear", "raking"]
CALFUNS: tuple[str, ...] = ("linear", "raking")
#: R's grake rescales the weights when every population/sample ratio exceeds this.
RESCALE_THRESHOLD = 20.0


@dataclass(frozen=True, eq=False)
class NumericTotal:
    """A numeric calibration variable and its population total (R: ``~ ... + x``)."""

    name: str
    values: np.ndarray
    total: float


def cross_classify(margins: Sequence[Margin], cell_targets: np.ndarray) -> Margin:
    """One :class:`Margin` over the cells of several categorical variables.

    ``cell_targets`` is the population table with one axis per margin (in order, sized
    by each margin's labels); cell ``(a, b, …)`` gets code ``np.ravel_multi_index``.
    """
    if not margins:
        raise WeightingError("cross_classify() needs at least one variable")
    table = np.asarray(cell_targets, dtype=np.float64)
    shape = tuple(len(m.labels) for m in margins)
    if table.shape != shape:
        raise WeightingError(
            f"population table has shape {table.shape} but the variables "
            f"({', '.join(m.name for m in margins)}) have {shape} categories; give one "
            "count per combination of categories"
        )
    codes = np.ravel_multi_index(tuple(np.asarray(m.codes, dtype=np.int64) for m in margins), shape)
    labels = tuple(
        " × ".join(m.labels[i] for m, i in zip(margins, idx, strict=True))
        for idx in np.ndindex(*shape)
    )
    name = " × ".join(m.name for m in margins)
    return Margin(name=name, codes=codes.astype(np.int64), targets=table.reshape(-1), labels=labels)


def poststratify(
    base_weights: np.ndarray, margins: Sequence[Margin], *, partial: bool = False
) -> RakeResult:
    """Post-stratify to one cross-classified table: ``w ← w · N_c / Σ_c w`` per cell.

    ``margins`` holds exactly one margin whose codes are the cells (build it with
    :func:`cross_classify`). A cell with a population count but no respondent fails
    unless ``partial=True`` (R's ``partial``), which leaves it out.
    """
    w0 = check_base(base_weights)
    if len(margins) != 1:
        raise WeightingError(
            f"poststratify takes one cross-classified margin, got {len(margins)}; combine "
            "the variables with cross_classify(), or use method 'rake' for separate margins"
        )
    m = margins[0]
    codes, targets = check_margin(m, w0.size)
    if partial:
        counts = np.bincount(codes, minlength=targets.size)
        targets = np.where(counts == 0, 0.0, targets)
    check_cells(m, codes, targets)
    sums = np.bincount(codes, weights=w0, minlength=targets.size)
    factor = np.divide(targets, sums, out=np.ones_like(targets), where=sums > 0)
    w = w0 * factor[codes]
    return RakeResult(
        weights=w,
        iterations=1,
        converged=True,
        max_gap=_max_gap(w, [(codes, targets)]),
        method="poststratify",
        adjustment=PostStratAdjustment(cells=codes, old_weights=w0, weights=w),
        history=(("base", w0), ("calibrated", w)),
    )


def _max_gap(w: FloatArray, coded: Sequence[tuple[np.ndarray, FloatArray]]) -> float:
    total = float(coded[0][1].sum()) if coded else float(w.sum())
    gaps = [
        float(np.max(np.abs(np.bincount(c, weights=w, minlength=t.size) - t))) for c, t in coded
    ]
    return max(gaps, default=0.0) / total


def _model(
    margins: Sequence[Margin], numeric: Sequence[NumericTotal], n: int
) -> tuple[FloatArray, FloatArray]:
    """R's model.matrix(~ m1 + m2 + x) and the matching population totals."""
    coded = [check_margin(m, n) for m in margins]
    for m, (codes, targets) in zip(margins, coded, strict=True):
        check_cells(m, codes, targets)
    totals = [float(t.sum()) for _, t in coded]
    if totals and any(abs(t - totals[0]) > TOTAL_TOLERANCE * totals[0] for t in totals):
        listing = ", ".join(f"{m.name} = {t:,.6f}" for m, t in zip(margins, totals, strict=True))
        raise WeightingError(
            f"calibration margins add to different totals ({listing}); rescale every "
            "margin's targets to one population total first"
        )
    if not totals:
        raise WeightingError(
            "calibration needs at least one categorical margin (it sets the population "
            "total); add one, e.g. a single-category margin holding the total"
        )
    columns: list[FloatArray] = [np.ones(n)]
    population = [totals[0]]
    for codes, targets in coded:
        for c in range(1, targets.size):
            column = (codes == c).astype(np.float64)
            if targets[c] == 0 and not column.any():
                continue  # R drops an all-zero column with a zero total
            columns.append(column)
            population.append(float(targets[c]))
    for t in numeric:
        values = np.asarray(t.values, dtype=np.float64)
        if values.shape != (n,) or not np.all(np.isfinite(values)):
            raise WeightingError(
                f"numeric calibration variable {t.name!r}: need {n} finite values, one per "
                "respondent; impute missing values before calibrating"
            )
        columns.append(values)
        population.append(float(t.total))
    return np.column_stack(columns), np.array(population)


def _calfun(
    method: str, u: FloatArray, lower: float, upper: float
) -> tuple[FloatArray, FloatArray]:
    """R's cal.linear / cal.raking: ``Fm1(u)`` and ``dF(u)`` (including R's bound test
    on ``u`` against ``bound − 1`` for the derivative of the raking function)."""
    inside = (u < upper - 1) & (u > lower - 1)
    if method == "linear":
        return np.clip(u + 1, lower, upper) - 1, inside.astype(np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(u)
    return np.clip(e, lower, upper) - 1, np.where(inside, e, 0.0)


def calibrate(
    base_weights: np.ndarray,
    margins: Sequence[Margin],
    *,
    method: CalFun = "linear",
    numeric: Sequence[NumericTotal] = (),
    bounds: tuple[float, float] = (-math.inf, math.inf),
    epsilon: float = 1e-10,
    max_iterations: int = 50,
) -> RakeResult:
    """Calibrate ``base_weights`` to the margins' totals (and numeric totals).

    ``method="linear"`` is GREG (R's ``calfun="linear"``), ``"raking"`` the exponential
    distance (R's ``calfun="raking"``; without bounds it gives raking's weights).
    Convergence as R: every ``|misfit| / (1 + |total|) < epsilon``. Raises
    :class:`WeightingError` when the totals cannot be met within ``max_iterations``
    (for example bounds too tight).
    """
    if method not in CALFUNS:
        raise WeightingError(f"calibration method {method!r} unknown; use one of {CALFUNS}")
    lower, upper = (float(b) for b in bounds)
    if not lower < upper or lower > 1 or upper < 1:
        raise WeightingError(
            f"bounds {bounds} must satisfy lower < 1 < upper (they bound w / w0); widen them"
        )
    w0 = check_base(base_weights)
    mm, population = _model(margins, numeric, w0.size)
    sample_total = mm.T @ w0
    iterations = 1
    if method == "linear" and math.isinf(lower) and math.isinf(upper):
        tmat = (mm * w0[:, None]).T @ mm
        g = 1 + mm @ np.linalg.solve(tmat, population - sample_total)
    else:
        g, iterations = _newton(mm, w0, population, method, lower, upper, epsilon, max_iterations)
    w = w0 * g
    misfit = mm.T @ w - population
    if np.any(w <= 0):
        bad = int(np.sum(w <= 0))
        raise WeightingError(
            f"linear calibration gave {bad} zero or negative weight(s); set bounds, e.g. "
            "bounds=(0.1, 10), or use method 'raking', which keeps weights positive"
        )
    adjustment: Adjustment = greg_adjustment(mm, w0, w)
    return RakeResult(
        weights=w,
        iterations=iterations,
        converged=True,
        max_gap=float(np.max(np.abs(misfit) / (1 + np.abs(population)))),
        method=method,
        adjustment=adjustment,
        history=(("base", w0), ("calibrated", w)),
    )


def _newton(
    mm: FloatArray,
    w0: FloatArray,
    population: FloatArray,
    method: str,
    lower: float,
    upper: float,
    epsilon: float,
    max_iterations: int,
) -> tuple[FloatArray, int]:
    """R's grake(): Newton steps with a generalised inverse and step halving."""
    ww = w0
    sample_total = mm.T @ ww
    scales = population / sample_total
    scale = 1.0
    if np.min(scales) > RESCALE_THRESHOLD:
        scale = float(np.mean(scales))
        ww = ww * scale
        sample_total = sample_total * scale
    eta = np.zeros(mm.shape[1])
    xeta = mm @ eta
    fm1, deriv = _calfun(method, xeta, lower, upper)
    iteration = 1
    while True:
        tmat = (mm * (ww * deriv)[:, None]).T @ mm
        misfit = population - sample_total - mm.T @ (ww * fm1)
        deta = np.linalg.pinv(tmat, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + deta
        xeta = mm @ eta
        fm1, deriv = _calfun(method, xeta, lower, upper)
        while iteration < max_iterations and not (
            np.all(np.isfinite(fm1)) and np.all(np.isfinite(deriv))
        ):
            iteration += 1
            deta = deta / 2
            eta = eta - deta
            xeta = mm @ eta
            fm1, deriv = _calfun(method, xeta, lower, upper)
        misfit = population - sample_total - mm.T @ (ww * fm1)
        achieved = float(np.max(np.abs(misfit) / (1 + np.abs(population))))
        if achieved < epsilon:
            break
        iteration += 1
        if iteration > max_iterations:
            raise WeightingError(
                f"calibration ({method}, bounds ({lower:g}, {upper:g})) did not converge "
                f"in {max_iterations} iterations: the largest misfit is {achieved:.3g} of "
                "its total. Widen the bounds, collapse sparse categories, or raise "
                "max_iterations"
            )
    return (1 + fm1) * scale, iteration


def trim_weights(
    weights: np.ndarray,
    *,
    upper: float = math.inf,
    lower: float = -math.inf,
    strict: bool = False,
) -> FloatArray:
    """R's ``trimWeights``: cap weights to ``[lower, upper]`` and share the amount cut
    equally among the untrimmed weights (so the total is kept); ``strict=True`` repeats
    until no weight is outside the bounds."""
    w = np.array(weights, dtype=np.float64)
    for _ in range(10_000):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            return w
        if outside.all():
            raise WeightingError(
                f"every weight is outside [{lower:g}, {upper:g}]; the bounds leave nothing "
                "to spread the trimmed weight over — widen them"
            )
        new = np.clip(w, lower, upper)
        new[~outside] += float(np.sum(w - new)) / int(np.sum(~outside))
        w = new
        if not strict:
            return w
    raise WeightingError(f"strict trimming to [{lower:g}, {upper:g}] did not settle; widen them")


__all__ = [
    "CALFUNS",
    "CalFun",
    "NumericTotal",
    "calibrate",
    "cross_classify",
    "poststratify",
    "trim_weights",
]
