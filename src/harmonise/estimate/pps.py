"""Hartley–Rao variance for sampling with probability proportional to size without
replacement: R ``survey``'s ``svydesign(pps = HR(), probs = ~p)`` (and ``HR(psum)``).

R (``survey:::ppsvar`` with ``HRDcheck``) computes ``V = x̌ᵀ Ď x̌`` over the stage-1 units
(PSUs), ``x̌`` their score totals, with the "check" matrix

* ``Ď_ii = 1 − π_i``;
* ``Ď_ij = 1 − (n_h − π_i − π_j + p̄_h) / (n_h − 1)`` for two units of stratum ``h``
  (``n_h`` units in the whole sample), 0 when ``π_i + π_j = 1`` or across strata,

where ``p̄_h`` is the mean of the units' ``π`` in the stratum (``HR()``) or the given
``psum`` (``HR(psum)``, unstratified designs). The matrix is never built: per stratum,
``Σ_{i≠j} (a_h + c_h(π_i + π_j)) x̌_i x̌_jᵀ`` with ``a_h = 1 − (n_h + p̄_h)/(n_h − 1)`` and
``c_h = 1/(n_h − 1)`` reduces to sums over the stratum, then the (rare) pairs with
``π_i + π_j`` exactly 1 are taken out again. Cost is linear in the rows.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _sums(index: IntArray, x: FloatArray, size: int) -> FloatArray:
    return np.column_stack(
        [np.bincount(index, weights=x[:, j], minlength=size) for j in range(x.shape[1])]
    )


def unit_probabilities(design: Design) -> FloatArray:
    """Each stage-1 unit's inclusion probability (its first row's ``pps_probs``)."""
    if design.pps_probs is None:
        raise EstimationError("the design has no pps_probs (it is not a pps='HR' design)")
    psu = design.stages[0].unit
    out = np.empty(int(psu.max()) + 1)
    out[psu[::-1]] = np.asarray(design.pps_probs, dtype=np.float64)[::-1]
    return out


def _exact_pair_correction(
    t: FloatArray, stratum: IntArray, pi: FloatArray, a: FloatArray, c: FloatArray
) -> FloatArray | None:
    """``Σ Ď_ij x̌_i x̌_jᵀ`` over the pairs ``i ≠ j`` of a stratum with ``π_i + π_j == 1``
    exactly (R zeroes them; the sums over the stratum counted them), or None."""
    groups = np.unique(np.column_stack([stratum.astype(np.float64), pi]), axis=0)
    g_stratum = groups[:, 0].astype(np.int64)
    g_pi = groups[:, 1]
    key = g_stratum.astype(np.float64) * 4.0 + g_pi  # π ∈ (0, 1]: strata stay apart
    start = np.searchsorted(key, g_stratum * 4.0 + (1.0 - g_pi), side="left")
    found: list[tuple[int, int]] = []
    for offset in (-2, -1, 0, 1, 2):
        k = np.clip(start + offset, 0, g_pi.size - 1)
        hit = (g_stratum[k] == g_stratum) & (g_pi + g_pi[k] == 1.0) & (k >= np.arange(k.size))
        found += [(int(i), int(j)) for i, j in zip(np.flatnonzero(hit), k[hit], strict=True)]
    if not found:
        return None
    row = np.searchsorted(key, stratum * 4.0 + pi)
    totals = _sums(row, t, g_pi.size)
    out = np.zeros((t.shape[1], t.shape[1]))
    for i, j in sorted(set(found)):
        d = a[g_stratum[i]] + c[g_stratum[i]]  # π_i + π_j = 1
        if i == j:  # π = 1/2: every pair within the group
            members = t[row == i]
            out += d * (np.outer(totals[i], totals[i]) - members.T @ members)
        else:
            out += d * (np.outer(totals[i], totals[j]) + np.outer(totals[j], totals[i]))
    return out


def hartley_rao_variance(design: Design, scores: FloatArray) -> FloatArray:
    """Covariance matrix of the totals of ``scores`` (``n × k``, already calibration-
    adjusted and 0 outside the domain) under the design's Hartley–Rao approximation."""
    x = np.asarray(scores, dtype=np.float64)
    st = design.stages[0]
    units = st.group.size
    t = _sums(st.unit, x, units)
    pi = unit_probabilities(design)
    stratum = st.group
    n_h = st.n.astype(np.float64)
    if design.pps_psum is not None:
        pbar = np.full(n_h.size, float(design.pps_psum))
    else:
        pbar = np.bincount(stratum, weights=pi, minlength=n_h.size) / n_h
    pairs = n_h > 1
    a = np.where(pairs, 1.0 - (n_h + pbar) / np.maximum(n_h - 1.0, 1.0), 0.0)
    c = np.where(pairs, 1.0 / np.maximum(n_h - 1.0, 1.0), 0.0)
    s_h = _sums(stratum, t, n_h.size)
    p_h = _sums(stratum, t * pi[:, None], n_h.size)
    tt = t * (a[stratum] + 2.0 * c[stratum] * pi)[:, None]
    # Σ_{i≠j} over each stratum, then the diagonal 1 − π_i
    v: FloatArray = (
        (s_h * a[:, None]).T @ s_h
        + (p_h * c[:, None]).T @ s_h
        + (s_h * c[:, None]).T @ p_h
        - tt.T @ t
        + (t * (1.0 - pi)[:, None]).T @ t
    )
    correction = _exact_pair_correction(t, stratum, pi, a, c)
    return v if correction is None else v - correction


__all__ = ["hartley_rao_variance", "unit_probabilities"]
