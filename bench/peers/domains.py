"""Prototype: every indicator × every domain of a partition in one call (for issue 6).

``harmonise.estimate.proportion`` answers one (indicator, domain) pair per call and makes
several full passes over the N rows each time (a ``np.unique`` sort for the degrees of
freedom; 10 × 3 backfitting sweeps for a raked design). The peer job asks for
20 indicators × 9 domains, i.e. 180 calls. This module computes the same numbers — the
estimate, the Taylor SE (R ``svyby(svymean)`` on a fixed-weight or ``rake()``d design),
n, df and the logit interval — for a whole matrix of indicators over a partition of the
rows into domains, with a few ``np.bincount`` passes per indicator.

How the raking is credited without N × domains matrices: R backfits each domain's score
vector ``x`` 10 times over the raking margins (``x ← x − w · mean_c(x / w)`` per margin).
Every step subtracts ``w`` times a per-category constant, so after any number of steps
``x = x₀ − w · Σ_m α_m[code_m]`` with small coefficient tables ``α_m`` (categories ×
domains). The category means the sweeps need are then
``(S₀_m − Σ_m' C_mm' α_m') / count_m``, where ``S₀_m`` sums ``x₀ / w`` by category and
domain (one pass over the rows per indicator) and ``C_mm'`` counts respondents by pairs
of categories (once per design). The PSU totals follow the same way:
``T = T₀ − Σ_m W_m α_m`` with ``W_m`` the PSU × category weight sums (once per design).
So the 10 sweeps run on tables of a few hundred numbers, not on the N rows.

Not part of the package: a prototype for the estimation engineer; the benchmark checks
it against R (and against ``proportion()`` itself) before timing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

RAKING_SWEEPS = 10  # R's svyrecvar backfits exactly 10 sweeps


@dataclass(frozen=True, eq=False)
class DesignTables:
    """Per-design quantities shared by every indicator and every domain partition."""

    weights: FloatArray
    psu: IntArray  # 0..P-1, nested in strata
    psu_stratum: IntArray  # stratum 0..H-1 of each PSU
    n_h: FloatArray  # PSUs per stratum (whole sample)
    stratum_of_psu: FloatArray  # H × P one-hot (for per-stratum sums of PSU tables)
    cell: IntArray | None  # joint raking cell of each row (None: weights fixed)
    cell_to_code: tuple[IntArray, ...]  # each margin's category of each joint cell
    counts: tuple[FloatArray, ...]  # respondents per category of each margin
    cross: tuple[tuple[FloatArray, ...], ...]  # C[m][m'] category × category counts
    psu_weight: tuple[FloatArray, ...]  # W[m]: P × categories weight sums


def _dense(codes: IntArray) -> IntArray:
    """Codes as 0..k-1 in sorted order of the values: a bincount remap (O(N)) when the
    values are small non-negative integers, else ``np.unique`` (a sort)."""
    c = np.asarray(codes, dtype=np.int64)
    lo, hi = int(c.min()), int(c.max())
    if lo >= 0 and hi <= 4 * c.size:
        present = np.bincount(c, minlength=hi + 1) > 0
        remap = np.cumsum(present) - 1
        return remap[c].astype(np.int64)
    return np.unique(c, return_inverse=True)[1].reshape(-1).astype(np.int64)


def design_tables(
    weights: FloatArray,
    strata: IntArray,
    clusters: IntArray,
    raking: tuple[IntArray, ...] = (),
) -> DesignTables:
    """Tables for a stratified cluster design; ``raking`` as ``Design(raking=...)``."""
    st = _dense(strata)
    cl = _dense(clusters)
    psu = _dense(st * (int(cl.max()) + 1) + cl)
    n_psu = int(psu.max()) + 1
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu] = st
    n_strata = int(psu_stratum.max()) + 1
    n_h = np.bincount(psu_stratum, minlength=n_strata).astype(np.float64)
    onehot = np.zeros((n_strata, n_psu))
    onehot[psu_stratum, np.arange(n_psu)] = 1.0
    if not raking:
        return DesignTables(weights, psu, psu_stratum, n_h, onehot, None, (), (), (), ())
    dense = [_dense(c) for c in raking]
    sizes = [int(c.max()) + 1 for c in dense]
    flat = np.ravel_multi_index(tuple(dense), tuple(sizes))
    cell = _dense(flat)
    cells = np.zeros(int(cell.max()) + 1, dtype=np.int64)
    cells[cell] = flat
    cell_to_code = tuple(np.asarray(a, dtype=np.int64) for a in np.unravel_index(cells, sizes))
    n_cell = np.bincount(cell, minlength=cells.size).astype(np.float64)
    counts = tuple(
        np.bincount(c, weights=n_cell, minlength=k)
        for c, k in zip(cell_to_code, sizes, strict=True)
    )
    cross = tuple(
        tuple(
            np.bincount(a * kb + b, weights=n_cell, minlength=ka * kb).reshape(ka, kb)
            for b, kb in zip(cell_to_code, sizes, strict=True)
        )
        for a, ka in zip(cell_to_code, sizes, strict=True)
    )
    psu_weight = tuple(
        np.bincount(psu * k + c, weights=weights, minlength=n_psu * k).reshape(n_psu, k)
        for c, k in zip(dense, sizes, strict=True)
    )
    return DesignTables(
        weights,
        psu,
        psu_stratum,
        n_h,
        onehot,
        cell.astype(np.int64),
        cell_to_code,
        counts,
        cross,
        psu_weight,
    )


@dataclass(frozen=True, eq=False)
class ProportionTable:
    """Indicators × domains arrays (rows: the columns of ``Y``; columns: domain codes)."""

    estimate: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    df: IntArray
    n: IntArray
    weighted_base: FloatArray


def _backfit_alpha(t: DesignTables, s0: FloatArray) -> list[FloatArray]:
    """Coefficient tables α_m (categories × domains) of R's 10 backfitting sweeps."""
    s0_m = [
        np.stack([np.bincount(c, weights=col, minlength=k.size) for col in s0.T], axis=1)
        for c, k in zip(t.cell_to_code, t.counts, strict=True)
    ]
    alpha = [np.zeros_like(s) for s in s0_m]
    for _ in range(RAKING_SWEEPS):
        for m in range(len(alpha)):
            resid = s0_m[m] - sum(
                (t.cross[m][j] @ alpha[j] for j in range(len(alpha))), np.zeros_like(s0_m[m])
            )
            alpha[m] = alpha[m] + resid / t.counts[m][:, None]
    return alpha


def _finish(
    t: DesignTables,
    sw: FloatArray,
    swy: FloatArray,
    cnt: FloatArray,
    cy: FloatArray | None,
    cn: FloatArray | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Estimate, SE, base, n, df per domain from the (PSU | cell) × domain sums."""
    den = sw.sum(axis=0)
    p = swy.sum(axis=0) / den
    tot = (swy - p * sw) / den  # PSU totals of the scores w (y − p) / Σw
    if cy is not None and cn is not None:
        s0 = (cy - p * cn) / den  # Σ x₀ / w by raking cell
        for wm, am in zip(t.psu_weight, _backfit_alpha(t, s0), strict=True):
            tot = tot - wm @ am
    sums = t.stratum_of_psu @ tot
    dev = tot - (sums / t.n_h[:, None])[t.psu_stratum]
    fac = np.where(t.n_h > 1, t.n_h / np.maximum(t.n_h - 1, 1.0), 0.0)
    var = fac @ (t.stratum_of_psu @ (dev * dev))
    present = cnt > 0
    strata = (t.stratum_of_psu @ present) > 0
    df = present.sum(axis=0) - strata.sum(axis=0)
    return p, np.sqrt(var), den, cnt.sum(axis=0), df


def proportions(
    t: DesignTables,
    y: FloatArray,
    domain: IntArray,
    n_domains: int,
    groupings: tuple[IntArray | None, ...] = (None,),
    *,
    level: float = 0.95,
) -> list[ProportionTable]:
    """Proportion of each column of ``y`` (1/0, NaN = missing) in each domain ``0..G-1``.

    A row is in domain ``g`` of column ``k`` when ``domain == g`` and ``y[:, k]`` is not
    missing (R's ``svyby(..., na.rm=TRUE)``); ``domain = -1`` keeps a row out of every
    domain. SEs credit the raking when ``t`` was built with ``raking``. ``y`` in Fortran
    order (columns contiguous) saves a strided read per indicator.

    ``groupings``: one table per entry — ``None`` for the domains themselves, or an array
    mapping each domain to a coarser one (``by=csp`` from ``by=csp×sex``): coarser
    partitions come from summing the fine tables, without another pass over the rows.

    Per indicator: three bincounts by (PSU, domain) give every domain's numerator,
    denominator, n and PSU score totals (``(Σwy − p Σw) / Σw_domain``), and two by
    (raking cell, domain) the backfitting sums; everything after is on small tables.
    """
    w, psu = t.weights, t.psu
    g1 = n_domains + 1  # last column collects rows outside every domain
    n_psu = t.psu_stratum.size
    n_cells = t.cell_to_code[0].size if t.cell_to_code else 0
    k_ind = y.shape[1]
    maps = [
        np.eye(n_domains) if g is None else np.eye(int(g.max()) + 1)[np.asarray(g)]
        for g in groupings
    ]
    parts: list[list[tuple[FloatArray, ...]]] = [[] for _ in maps]
    dom_all = np.where(domain >= 0, domain, n_domains)
    to_out = n_domains - dom_all  # added to a key, moves the row to the last column
    psu_key = psu * g1 + dom_all
    cell_key = t.cell * g1 + dom_all if t.cell is not None else None
    size = n_psu * g1
    for k in range(k_ind):
        col = y[:, k]
        missing = np.isnan(col)
        shift = np.where(missing, to_out, 0)
        pk = psu_key + shift
        yk = np.where(missing, 0.0, col)
        sw = np.bincount(pk, weights=w, minlength=size).reshape(n_psu, g1)[:, :n_domains]
        swy = np.bincount(pk, weights=w * yk, minlength=size).reshape(n_psu, g1)[:, :n_domains]
        cnt = np.bincount(pk, minlength=size).reshape(n_psu, g1)[:, :n_domains]
        cy = cn = None
        if cell_key is not None:
            ck = cell_key + shift
            cy = np.bincount(ck, weights=yk, minlength=n_cells * g1).reshape(n_cells, g1)
            cn = np.bincount(ck, minlength=n_cells * g1).reshape(n_cells, g1)
            cy, cn = cy[:, :n_domains], cn[:, :n_domains]
        for out, mp in zip(parts, maps, strict=True):
            out.append(
                _finish(
                    t,
                    sw @ mp,
                    swy @ mp,
                    cnt @ mp,
                    None if cy is None else cy @ mp,
                    None if cn is None else cn @ mp,
                )
            )
    tables = []
    for out in parts:
        est, se, base, n, df = (np.stack([o[i] for o in out]) for i in range(5))
        dfi = df.astype(np.int64)
        tq = stats.t.ppf(1 - (1 - level) / 2, np.maximum(dfi, 1))
        tq = np.where(dfi >= 1, tq, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = tq * se / (est * (1 - est))
            low = special.expit(special.logit(est) - half)
            high = special.expit(special.logit(est) + half)
        tables.append(ProportionTable(est, se, low, high, dfi, n.astype(np.int64), base))
    return tables


__all__ = ["DesignTables", "ProportionTable", "design_tables", "proportions"]
