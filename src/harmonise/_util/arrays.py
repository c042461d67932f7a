"""Small numpy helpers the weight/ and estimate/ stages share (internal; pure).

Dense codes, grouped sums by ``np.bincount``, read-only copies and row lists for
messages. Each was written two or three times across ``estimate/design.py``,
``estimate/domains.py``, ``weight/adjustments.py`` and ``weight/rake.py``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def row_numbers(mask: NDArray[np.bool_], limit: int = 10) -> str:
    """1-based row numbers where ``mask`` is true, at most ``limit`` of them listed
    (``"3, 7 and 12 more"``), for messages that say which rows are wrong."""
    idx = np.flatnonzero(mask) + 1
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return f"{shown}{more}"


def frozen_copy(a: np.ndarray, dtype: DTypeLike | None = None) -> np.ndarray:
    """A read-only copy of ``a`` (as ``dtype`` when given): never aliases the caller's array."""
    out: np.ndarray = np.array(a, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


def frozen(a: np.ndarray, dtype: DTypeLike) -> np.ndarray:
    """``a`` as a read-only ``dtype`` array: ``a`` itself when it already is one that owns
    its data (e.g. another frozen object's), else a :func:`frozen_copy`."""
    if isinstance(a, np.ndarray) and a.dtype == dtype and not a.flags.writeable and a.base is None:
        return a
    return frozen_copy(a, dtype)


def dense_codes(key: np.ndarray) -> IntArray:
    """``key`` as ``0..k-1`` in sorted order of its values: a bincount remap (no sort)
    when the values are non-negative integers below ~4N, else ``np.unique``."""
    raw = np.asarray(key)
    if raw.size and np.issubdtype(raw.dtype, np.integer):
        lo, hi = int(raw.min()), int(raw.max())
        if lo >= 0 and hi <= 4 * raw.size + 64:
            present = np.bincount(raw, minlength=hi + 1) > 0
            remap = np.cumsum(present) - 1
            out: IntArray = remap[raw].astype(np.int64, copy=False)
            return out
    _, inverse = np.unique(raw, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def bincount(key: IntArray, weights: FloatArray | None, size: int) -> FloatArray:
    """``np.bincount(key, weights, minlength=size)`` as float64."""
    out: FloatArray = np.bincount(key, weights=weights, minlength=size).astype(np.float64)
    return out


def sum_rows(index: IntArray, x: FloatArray, size: int) -> FloatArray:
    """Column sums of ``x`` (rows × columns) grouped by ``index`` (``size`` × columns), in
    one bincount over the flattened matrix."""
    k = x.shape[1]
    key = (index[:, None] * k + np.arange(k)).ravel()
    return bincount(key, x.ravel(), size * k).reshape(size, k)


__all__ = ["bincount", "dense_codes", "frozen", "frozen_copy", "row_numbers", "sum_rows"]
