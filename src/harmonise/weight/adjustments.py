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

import numpy as np
from numpy.typing import NDArray
from scipy import linalg

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: R's raking adjustment in svyrecvar runs exactly this many backfitting sweeps.
RAKING_SWEEPS = 10


def _frozen(a: np.ndarray, dtype: type) -> np.ndarray:
    frozen: np.ndarray = np.array(a, dtype=dtype, copy=True)
    frozen.flags.writeable = False
    return frozen


def _dense(codes: np.ndarray) -> IntArray:
    """Codes as non-negative integers (kept as given when they already are)."""
    raw = np.asarray(codes)
    if np.issubdtype(raw.dtype, np.integer) and raw.size and int(raw.min()) >= 0:
        return raw.astype(np.int64)
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
class RakingAdjustment:
    """Margins a ``rake()`` met (category codes per margin) and the raked weights."""

    codes: tuple[np.ndarray, ...]
    weights: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(_frozen(_dense(c), np.int64) for c in self.codes))
        object.__setattr__(self, "weights", _frozen(self.weights, np.float64))

    def apply(self, x: FloatArray) -> FloatArray:
        w = self.weights[:, None]
        counts = [np.bincount(c).astype(np.float64) for c in self.codes]
        for _ in range(RAKING_SWEEPS):
            for codes, n_c in zip(self.codes, counts, strict=True):
                x = x - w * _category_means(codes, x / w, n_c)[codes]
        return x


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
    "greg_adjustment",
]
