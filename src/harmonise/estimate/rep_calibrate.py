"""Calibrating a replicate design: the full sample and every replicate, as R does.

R's ``rake()``, ``postStratify()`` and ``calibrate()`` on a ``svyrep.design`` adjust the
full-sample weights *and each replicate's weights* to the same population totals, so
the replicate variance reflects the calibration::

    rd <- as.svrepdesign(d0, type = "JK1")
    rake(rd, list(~m1, ~m2), list(pop1, pop2), control = list(epsilon =, maxit =))
    postStratify(rd, ~cell, pop)
    calibrate(rd, list(~m1, ~m2), list(pop1, pop2), calfun = "linear" | "raking", bounds =)

``rake`` follows R step by step: every sweep post-stratifies the full sample and every
replicate to each margin in turn, and stops when the full sample's cross-table of the
margins changes by less than ``epsilon`` (× the sum of the starting weights when
``epsilon < 1``) — replicates take as many sweeps as the full sample. ``linear`` and
``raking`` calibrate each column on its own (R's ``regcalibrate`` / ``grake`` per
replicate) with :func:`harmonise.weight.calibrate`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import EstimationError, WeightingError
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.weight import Margin, NumericTotal, calibrate
from harmonise.weight.rake import _check_cells, _check_margin, _check_totals

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Methods :func:`calibrate_replicates` supports (names of harmonise.weight.METHODS).
REPLICATE_METHODS: tuple[str, ...] = ("rake", "poststratify", "linear", "raking")


def _post_stratify(
    columns: FloatArray, codes: IntArray, targets: FloatArray, margin: Margin
) -> FloatArray:
    """Every column scaled to ``targets`` within each category (R's postStratify)."""
    k = targets.size
    sums = np.zeros((k, columns.shape[1]))
    np.add.at(sums, codes, columns)
    empty = (sums <= 0) & (targets[:, None] > 0)
    if empty.any():
        cat, col = (int(i) for i in np.argwhere(empty)[0])
        where = "the full sample" if col == 0 else f"replicate {col}"
        raise EstimationError(
            f"calibration margin {margin.name!r}: category {margin.labels[cat]!r} has no "
            f"weight in {where} (every respondent in it is in dropped PSUs), so it cannot "
            "be scaled to its population count; collapse it with a neighbouring category"
        )
    factor = np.divide(targets[:, None], sums, out=np.zeros_like(sums), where=sums > 0)
    out: FloatArray = columns * factor[codes]
    return out


def _codes(margin: Margin, n: int) -> tuple[IntArray, FloatArray]:
    """Codes and targets of ``margin``, checked as the Taylor path's ``rake`` checks them
    (finite non-negative targets, codes 0..k-1, no sampled category with a target of 0
    and no target without respondents), so a bad targets file gets the same message here
    instead of a complaint about zero or missing weights after the calibration."""
    codes, targets = _check_margin(margin, n)
    _check_cells(margin, codes, targets)
    return codes, targets


def _rake(
    columns: FloatArray, margins: Sequence[Margin], epsilon: float, max_iterations: int
) -> FloatArray:
    n = columns.shape[0]
    coded = [_codes(m, n) for m in margins]
    _check_totals(margins, [targets for _, targets in coded])
    cross = np.zeros(n, dtype=np.int64)
    for codes, targets in coded:
        cross = cross * targets.size + codes
    _, cell = np.unique(cross, return_inverse=True)
    tolerance = epsilon * float(columns[:, 0].sum()) if epsilon < 1 else epsilon
    old = np.bincount(cell, weights=columns[:, 0])
    for _ in range(max_iterations):
        for m, (codes, targets) in zip(margins, coded, strict=True):
            columns = _post_stratify(columns, codes, targets, m)
        new = np.bincount(cell, weights=columns[:, 0])
        if float(np.max(np.abs(old - new))) < tolerance:
            return columns
        old = new
    raise EstimationError(
        f"raking the replicate design did not converge in {max_iterations} sweeps "
        f"(epsilon {epsilon:g}); raise max_iterations or collapse sparse categories"
    )


def _calibrate_each(
    columns: FloatArray,
    margins: Sequence[Margin],
    method: str,
    numeric: Sequence[NumericTotal],
    bounds: tuple[float, float],
    epsilon: float,
    max_iterations: int,
) -> FloatArray:
    out = np.zeros_like(columns)
    for r in range(columns.shape[1]):
        keep = columns[:, r] > 0
        sub_margins = [Margin(m.name, np.asarray(m.codes)[keep], m.targets, m.labels)
                       for m in margins]  # fmt: skip
        sub_numeric = [NumericTotal(t.name, np.asarray(t.values)[keep], t.total) for t in numeric]
        try:
            result = calibrate(
                columns[keep, r],
                sub_margins,
                method=method,  # type: ignore[arg-type]
                numeric=sub_numeric,
                bounds=bounds,
                epsilon=epsilon,
                max_iterations=max_iterations,
            )
        except WeightingError as exc:
            where = "the full sample" if r == 0 else f"replicate {r}"
            raise EstimationError(f"calibrating {where} failed: {exc}") from exc
        out[keep, r] = result.weights
    return out


def calibrate_replicates(
    design: ReplicateDesign,
    margins: Sequence[Margin],
    *,
    method: str = "rake",
    numeric: Sequence[NumericTotal] = (),
    bounds: tuple[float, float] = (-math.inf, math.inf),
    epsilon: float = 1e-10,
    max_iterations: int = 1000,
) -> ReplicateDesign:
    """``design`` with the full-sample weights and every replicate calibrated to the
    margins (and ``numeric`` totals for ``linear`` / ``raking``).

    ``method``: ``"rake"`` (R ``rake()``, ``epsilon`` as R's ``control$epsilon``),
    ``"poststratify"`` (one cross-classified margin, R ``postStratify()``),
    ``"linear"`` or ``"raking"`` (R ``calibrate(calfun =, bounds =)``). The result keeps
    ``type``, ``scale``, ``rscales`` and ``mse``.
    """
    if method not in REPLICATE_METHODS:
        raise EstimationError(
            f"calibration method {method!r} is not available for replicate designs; use one "
            f"of {', '.join(REPLICATE_METHODS)}"
        )
    if method in ("rake", "poststratify") and (numeric or bounds != (-math.inf, math.inf)):
        raise EstimationError(
            f"method {method!r} takes no numeric totals or bounds; use 'linear' or 'raking'"
        )
    if not margins:
        raise EstimationError("calibration needs at least one margin")
    columns = np.column_stack([design.weights, design.replicates])
    if method == "poststratify":
        if len(margins) != 1:
            raise EstimationError(
                "poststratify takes one cross-classified margin; combine the variables into "
                "cells first, or use method 'rake'"
            )
        codes, targets = _codes(margins[0], design.n)
        columns = _post_stratify(columns, codes, targets, margins[0])
    elif method == "rake":
        columns = _rake(columns, margins, epsilon, max_iterations)
    else:
        columns = _calibrate_each(
            columns, margins, method, numeric, bounds, epsilon, max_iterations
        )
    return ReplicateDesign(
        weights=columns[:, 0],
        replicates=columns[:, 1:],
        scale=design.scale,
        rscales=design.rscales,
        type=design.type,
        mse=design.mse,
        rho=design.rho,
        calibrated=True,
        history=(*design.history, method),
        census=design.census,
    )


__all__ = ["REPLICATE_METHODS", "calibrate_replicates"]
