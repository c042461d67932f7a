"""What a weighting step leaves behind for the variance: R ``survey``'s ``postStrata`` items.

Each calibration of a design object in R appends one item to ``design$postStrata``;
``survey:::svyrecvar`` then adjusts the linearisation scores ``x`` (an ``n × k`` matrix)
item by item, in order, before the multistage variance:

* :class:`RakingAdjustment` (``rake()``): 10 backfitting sweeps over the margins,
  ``x ← x − w · mean_c(x / w)`` (unweighted mean within each margin category ``c``);
* :class:`PostStratAdjustment` (``postStratify()``):
  ``x ← x − w · Σ_c(x · w₀ / w) / Σ_c w₀`` per cell ``c``;
* :class:`GregAdjustment` (``calibrate()``): ``x ← qr.resid(Q, x / w) · w`` — the
  residual of a least-squares fit on the calibration model matrix scaled by the square
  root of the weights before calibration.

Pure numpy; the objects are frozen and never alias caller arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import linalg

from harmonise._util.arrays import bincount as _counts
from harmonise._util.arrays import dense_codes as _dense_small
from harmonise._util.arrays import frozen as _frozen
from harmonise._util.arrays import sum_rows as _sum_rows

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: R's raking adjustment in svyrecvar runs exactly this many backfitting sweeps.
RAKING_SWEEPS = 10


def _dense(codes: np.ndarray) -> IntArray:
    """Codes as non-negative integers (kept as given when they already are)."""
    raw = np.asarray(codes)
    if np.issubdtype(raw.dtype, np.integer) and raw.size and int(raw.min()) >= 0:
        return raw.astype(np.int64, copy=False)  # the callers freeze a copy
    _, inverse = np.unique(raw, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def _category_means(codes: IntArray, x: FloatArray, denominator: np.ndarray) -> FloatArray:
    """Per category: column sums of ``x`` divided by ``denominator`` (0 where empty)."""
    k = denominator.size
    sums = np.column_stack(
        [np.bincount(codes, weights=x[:, j], minlength=k) for j in range(x.shape[1])]
    ).astype(np.float64)
    out: FloatArray = np.zeros(sums.shape)
    np.divide(sums, denominator[:, None], out=out, where=denominator[:, None] > 0)
    return out


@dataclass(frozen=True, eq=False)
class RakingCells:
    """Respondents collapsed to the occupied cells of the raking margins' cross.

    ``cell``: each row's cell ``0..C-1``; ``cell_code[m]``: margin ``m``'s category of each
    cell; ``count``: respondents per cell; ``counts[m]``: respondents per category of
    margin ``m``; ``cross[m][m']``: respondents by (category of ``m``, category of ``m'``).
    """

    cell: IntArray
    cell_code: tuple[IntArray, ...]
    count: FloatArray
    counts: tuple[FloatArray, ...]
    cross: tuple[tuple[FloatArray, ...], ...]

    @cached_property
    def inverse_counts(self) -> tuple[FloatArray, ...]:
        """``1 / counts[m]``, 0 for a category no respondent has (its mean is 0)."""
        return tuple(np.divide(1.0, n, out=np.zeros_like(n), where=n > 0) for n in self.counts)


def occupied_cells(codes: tuple[IntArray, ...]) -> tuple[IntArray, tuple[IntArray, ...]]:
    """Each row's occupied cell of the cross of ``codes`` (non-negative integers) and each
    cell's code per margin. Cells are numbered in sorted order of the code tuples."""
    n = codes[0].size
    sizes = [int(c.max()) + 1 if c.size else 1 for c in codes]
    cell = np.zeros(n, dtype=np.int64)
    size = 1
    for c, k in zip(codes, sizes, strict=True):
        if size * k > 4 * n + 64:  # keep keys small: renumber the occupied cells so far
            cell = _dense_small(cell)
            size = int(cell.max()) + 1 if n else 1
        cell = cell * k + c
        size *= k
    cell = _dense_small(cell)
    first = np.zeros(int(cell.max()) + 1 if n else 0, dtype=np.int64)
    first[cell[::-1]] = np.arange(n - 1, -1, -1)
    return cell, tuple(c[first] for c in codes)


def raking_cells(codes: tuple[IntArray, ...]) -> RakingCells:
    """The :class:`RakingCells` of margins' category codes (dense per margin)."""
    cell, cell_code = occupied_cells(codes)
    count = np.bincount(cell).astype(np.float64)
    sizes = [int(c.max()) + 1 for c in codes]
    counts = tuple(_counts(c, count, k) for c, k in zip(cell_code, sizes, strict=True))
    cross = tuple(
        tuple(
            _counts(a * kb + b, count, ka * kb).reshape(ka, kb)
            for b, kb in zip(cell_code, sizes, strict=True)
        )
        for a, ka in zip(cell_code, sizes, strict=True)
    )
    return RakingCells(cell, cell_code, count, counts, cross)


@dataclass(frozen=True, eq=False)
class RakingAdjustment:
    """Margins a ``rake()`` met (category codes per margin) and the raked weights."""

    codes: tuple[np.ndarray, ...]
    weights: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(_frozen(_dense(c), np.int64) for c in self.codes))
        object.__setattr__(self, "weights", _frozen(self.weights, np.float64))

    @cached_property
    def cells(self) -> RakingCells:
        """The occupied cells of the margins' cross and their small tables."""
        return raking_cells(self.codes)

    def backfit(self, s0: FloatArray) -> tuple[FloatArray, ...]:
        """Coefficient tables ``α_m`` (categories × columns) of R's backfitting sweeps.

        ``s0`` holds per occupied cell (rows) the sums of ``x / w`` of each column. After
        the sweeps the adjusted scores are ``x − w · Σ_m α_m[code_m]``: every sweep
        subtracts ``w`` times a per-category constant, so the category means it needs are
        ``(S₀_m − Σ_m' C_mm' α_m') / count_m`` — tables, not passes over the rows.
        """
        t = self.cells
        s0_m = [_sum_rows(c, s0, n.size) for c, n in zip(t.cell_code, t.counts, strict=True)]
        alpha = [np.zeros_like(s) for s in s0_m]
        for _ in range(RAKING_SWEEPS):
            for m in range(len(alpha)):
                resid = s0_m[m].copy()
                for j, a in enumerate(alpha):
                    resid -= t.cross[m][j] @ a
                alpha[m] = alpha[m] + resid * t.inverse_counts[m][:, None]
        return tuple(alpha)

    def cell_shift(self, s0: FloatArray) -> FloatArray:
        """``Σ_m α_m[code_m]`` per occupied cell (cells × columns) for the sums ``s0``."""
        t = self.cells
        alpha = self.backfit(s0)
        shift = np.zeros((t.cell_code[0].size, s0.shape[1]))
        for c, a in zip(t.cell_code, alpha, strict=True):
            shift += a[c]
        return shift

    def apply(self, x: FloatArray) -> FloatArray:
        w = self.weights[:, None]
        t = self.cells
        s0 = _sum_rows(t.cell, x / w, t.cell_code[0].size)
        out: FloatArray = x - w * self.cell_shift(s0)[t.cell]
        return out


@dataclass(frozen=True, eq=False)
class PostStratAdjustment:
    """The cell of each respondent, weights before (``old_weights``) and after."""

    cells: np.ndarray
    old_weights: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "cells", _frozen(_dense(self.cells), np.int64))
        object.__setattr__(self, "old_weights", _frozen(self.old_weights, np.float64))
        object.__setattr__(self, "weights", _frozen(self.weights, np.float64))

    def apply(self, x: FloatArray) -> FloatArray:
        old = self.old_weights
        psw = np.where((self.weights == 0) & (old == 0), 1.0, self.weights)
        means = _category_means(self.cells, x * (old / psw)[:, None], np.bincount(self.cells, old))
        out: FloatArray = x - means[self.cells] * psw[:, None]
        return out


@dataclass(frozen=True, eq=False)
class GregAdjustment:
    """An orthonormal ``basis`` of the column space of ``X · √w₀`` and ``w = g · √w₀``.

    Built by :func:`greg_adjustment` from the calibration model matrix ``X`` and the
    weights before calibration ``w₀``; ``g`` is the calibration factor.
    """

    basis: np.ndarray
    w: np.ndarray

    def apply(self, x: FloatArray) -> FloatArray:
        w = self.w[:, None]
        y = x / w
        resid = y - self.basis @ (self.basis.T @ y)
        out: FloatArray = resid * w
        return out


def greg_adjustment(
    model_matrix: np.ndarray, old_weights: np.ndarray, new_weights: np.ndarray
) -> GregAdjustment:
    """R's ``greg_calibration`` item: ``qr(X · √w₀)`` and ``w = (w / w₀) · √w₀``.

    The rank follows R's ``qr`` (pivoted, tolerance 1e-7 relative to the largest
    diagonal element of R), so dependent columns are dropped as R drops them.
    """
    old = np.asarray(old_weights, dtype=np.float64)
    new = np.asarray(new_weights, dtype=np.float64)
    whalf = np.sqrt(old)
    a = np.asarray(model_matrix, dtype=np.float64) * whalf[:, None]
    q, r, _ = linalg.qr(a, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.sum(diag > 1e-7 * diag[0])) if diag.size else 0
    return GregAdjustment(
        basis=_frozen(q[:, :rank], np.float64), w=_frozen(new / old * whalf, np.float64)
    )


Adjustment = RakingAdjustment | PostStratAdjustment | GregAdjustment

__all__ = [
    "RAKING_SWEEPS",
    "Adjustment",
    "GregAdjustment",
    "PostStratAdjustment",
    "RakingAdjustment",
    "RakingCells",
    "greg_adjustment",
    "occupied_cells",
    "raking_cells",
]
