"""Weighting many weight columns at once: the full sample and every replicate.

R's ``rake()``, ``postStratify()`` and ``calibrate()`` on a replicate design adjust the
full-sample weights *and each replicate's weights* to the same population totals, so the
replicate variance reflects the calibration. Column 0 is the full sample; the functions
take and return an ``n × (1 + R)`` array. The registry (:mod:`harmonise.weight.methods`)
names the one each weighting method uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import WeightingError
from harmonise.weight.calibrate import CalFun, NumericTotal, calibrate
from harmonise.weight.rake import Margin, check_cells, check_margin, check_totals

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _scale_to(
    columns: FloatArray, codes: IntArray, targets: FloatArray, margin: Margin
) -> FloatArray:
    """Every column scaled to ``targets`` within each category of one margin."""
    k = targets.size
    sums = np.zeros((k, columns.shape[1]))
    np.add.at(sums, codes, columns)
    empty = (sums <= 0) & (targets[:, None] > 0)
    if empty.any():
        cat, col = (int(i) for i in np.argwhere(empty)[0])
        where = "the full sample" if col == 0 else f"replicate {col}"
        raise WeightingError(
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
    codes, targets = check_margin(margin, n)
    check_cells(margin, codes, targets)
    return codes, targets


def rake_columns(
    columns: FloatArray, margins: Sequence[Margin], *, epsilon: float = 1e-10,
    max_iterations: int = 1000, **_options: object,
) -> FloatArray:
    """Every column raked to the margins, R's ``rake()`` on a replicate design: each sweep
    post-stratifies every column to each margin in turn; the sweeps stop when the first
    column's cross-table of the margins changes by less than ``epsilon`` (× its total when
    ``epsilon < 1``)."""
    n = columns.shape[0]
    coded = [_codes(m, n) for m in margins]
    check_totals(margins, [targets for _, targets in coded])
    cross = np.zeros(n, dtype=np.int64)
    for codes, targets in coded:
        cross = cross * targets.size + codes
    _, cell = np.unique(cross, return_inverse=True)
    tolerance = epsilon * float(columns[:, 0].sum()) if epsilon < 1 else epsilon
    old = np.bincount(cell, weights=columns[:, 0])
    for _ in range(max_iterations):
        for m, (codes, targets) in zip(margins, coded, strict=True):
            columns = _scale_to(columns, codes, targets, m)
        new = np.bincount(cell, weights=columns[:, 0])
        if float(np.max(np.abs(old - new))) < tolerance:
            return columns
        old = new
    raise WeightingError(
        f"raking the replicate design did not converge in {max_iterations} sweeps "
        f"(epsilon {epsilon:g}); raise max_iterations or collapse sparse categories"
    )


def calibrate_columns(
    columns: FloatArray,
    margins: Sequence[Margin],
    *,
    method: CalFun,
    numeric: Sequence[NumericTotal] = (),
    bounds: tuple[float, float] = (-math.inf, math.inf),
    epsilon: float = 1e-10,
    max_iterations: int = 1000,
) -> FloatArray:
    """Each column calibrated on its own (R's ``regcalibrate`` / ``grake`` per replicate),
    over the rows where it is positive."""
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
                method=method,
                numeric=sub_numeric,
                bounds=bounds,
                epsilon=epsilon,
                max_iterations=max_iterations,
            )
        except WeightingError as exc:
            where = "the full sample" if r == 0 else f"replicate {r}"
            raise WeightingError(f"calibrating {where} failed: {exc}") from exc
        out[keep, r] = result.weights
    return out


def poststratify_columns(
    columns: FloatArray, margins: Sequence[Margin], **_options: object
) -> FloatArray:
    """Every column post-stratified to one cross-classified margin (R's ``postStratify()``)."""
    if len(margins) != 1:
        raise WeightingError(
            "poststratify takes one cross-classified margin; combine the variables into "
            "cells first, or use method 'rake'"
        )
    codes, targets = _codes(margins[0], columns.shape[0])
    return _scale_to(columns, codes, targets, margins[0])
