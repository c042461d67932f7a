"""Every indicator × every domain of a partition in one call: :func:`proportions_by`.

:func:`harmonise.estimate.proportion` answers one (indicator, domain) pair and makes
several passes over the N rows each time. :func:`proportions_by` gives the same numbers
(to rounding; ``tests/estimate/test_domains.py`` checks 1e-10 relative) for a matrix of
K indicators over a partition of the rows into G domains, with a few ``np.bincount``
passes per indicator, as R's ``svyby(~y, ~g, design, svyciprop)`` would:

* Per indicator and sampling stage, sums by (unit, domain) of ``w``, ``w·y`` and the
  respondents give each domain's base, estimate, n, df and the units' score totals
  ``(Σwy − p Σw) / Σw_domain`` (the scores ``w (y − p) / Σw_domain`` of
  :func:`harmonise.estimate.statistics.proportion`).
* A ``rake()``d design (one raking adjustment) credits the raking through small tables:
  R's 10 backfitting sweeps leave ``x − w · Σ_m α_m[code_m]`` with tables ``α_m``
  (categories × domains) computed from sums by (raking cell, domain)
  (:meth:`harmonise.weight.adjustments.RakingAdjustment.backfit`), so the units' totals
  are ``T₀ − Σ_m W_m α_m`` with ``W_m`` the unit × category weight sums (per design).
* Any other calibration (post-stratification, GREG, several steps), or raking with a
  stage whose units are single respondents, builds the N × G score matrix and applies
  the same adjustments as the scalar path.
* The multistage variance, fpc and lonely-PSU rules then run on the units × domains
  tables exactly as :mod:`harmonise.estimate.variance` does per domain. When a rule
  raises (lonely PSU with ``fail``, …) the scalar path is run cell by cell, so the error
  is the one ``proportion()`` gives for the first failing cell.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import special

from harmonise._util.arrays import bincount as _count
from harmonise._util.arrays import sum_rows as _sum_rows
from harmonise.errors import EstimationError
from harmonise.estimate.design import Design, Stage
from harmonise.estimate.results import (
    CI_METHODS,
    CIMethod,
    ProportionEstimate,
    beta_interval,
    check_level,
)
from harmonise.estimate.statistics import proportion
from harmonise.estimate.variance import CERTAINTY
from harmonise.weight.adjustments import RakingAdjustment

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class _Scalar(Exception):
    """A variance rule raised for some cell: rerun the scalar path for its error."""


def domain_tables(design: Design) -> DomainTables:
    """The design's :class:`DomainTables`, built at first use and kept with the design."""
    return design.memo("domain_tables", DomainTables)


class DomainTables:
    """What :func:`proportions_by` shares across calls on one design (:func:`domain_tables`).

    ``stages``: the stages that add variance (all with an fpc, else the first);
    ``row_group[s]``: each row's stratum at stage ``s``; ``rows_are_units[s]``: whether
    stage ``s`` has one unit per respondent; ``route``: ``plain`` (fixed weights),
    ``raking`` (one raking adjustment credited through tables) or ``dense``.
    """

    def __init__(self, design: Design) -> None:
        # A weak reference: the design caches these tables, so a strong one would make a
        # cycle, and the N-sized arrays of both would wait for the garbage collector
        # instead of being freed when the caller drops the design.
        self._design = weakref.ref(design)
        self.stages: tuple[Stage, ...] = (
            design.stages if design.fpc is not None else design.stages[:1]
        )

    @property
    def design(self) -> Design:
        design = self._design()
        if design is None:
            raise EstimationError(
                "these domain tables belong to a design that no longer exists; use "
                "domain_tables(design) on a live design"
            )
        return design

    @cached_property
    def row_group(self) -> tuple[IntArray, ...]:
        return tuple(st.group[st.unit] for st in self.stages)

    @cached_property
    def rows_are_units(self) -> tuple[bool, ...]:
        return tuple(st.group.size == self.design.n for st in self.stages)

    @cached_property
    def route(self) -> str:
        adjustments = self.design.adjustments
        if not adjustments:
            return "plain"
        if (
            len(adjustments) == 1
            and isinstance(adjustments[0], RakingAdjustment)
            and not any(self.rows_are_units)
        ):
            return "raking"
        return "dense"

    @cached_property
    def raking(self) -> RakingAdjustment:
        adjustment = self.design.adjustments[0]
        assert isinstance(adjustment, RakingAdjustment)
        return adjustment

    @cached_property
    def raking_ratio(self) -> FloatArray | None:
        """``w / w_raked`` (None when the design's weights are the raked weights)."""
        wa = self.raking.weights
        w = self.design.weights
        return None if np.array_equal(w, wa) else np.asarray(w / wa, dtype=np.float64)

    @cached_property
    def unit_category_weights(self) -> tuple[tuple[FloatArray, ...], ...]:
        """Per stage and raking margin: units × categories sums of the raked weights."""
        adj = self.raking
        out = []
        for st in self.stages:
            units = st.group.size
            per_margin = []
            for c, n in zip(adj.codes, adj.cells.counts, strict=True):
                k = n.size
                key = st.unit * k + c
                per_margin.append(_count(key, adj.weights, units * k).reshape(units, k))
            out.append(tuple(per_margin))
        return tuple(out)


@dataclass(frozen=True, eq=False)
class DomainProportions:
    """Indicators × domains (K × G) arrays of :func:`proportions_by`.

    The fields mean what :class:`harmonise.estimate.ProportionEstimate`'s do; a domain
    with no respondent answering an indicator has ``n = 0``, NaN numbers, ``df = 0`` and
    ``ci_method = ""``; ``deff`` is NaN where ``proportion()`` gives None.
    """

    estimate: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    ci_method: NDArray[np.object_]
    df: IntArray
    deff: FloatArray
    n: IntArray
    n_success: IntArray
    weighted_base: FloatArray

    def cell(self, k: int, g: int) -> ProportionEstimate | None:
        """Indicator ``k`` in domain ``g`` as ``proportion()`` returns it (None if empty)."""
        if self.n[k, g] == 0:
            return None
        deff = float(self.deff[k, g])
        return ProportionEstimate(
            estimate=float(self.estimate[k, g]),
            se=float(self.se[k, g]),
            ci_low=float(self.ci_low[k, g]),
            ci_high=float(self.ci_high[k, g]),
            ci_method=str(self.ci_method[k, g]),
            df=int(self.df[k, g]),
            deff=None if math.isnan(deff) else deff,
            n=int(self.n[k, g]),
            n_success=int(self.n_success[k, g]),
            weighted_base=float(self.weighted_base[k, g]),
        )


Columns = tuple[np.ndarray, ...]


def _as_columns(name: str, values: np.ndarray | Sequence[np.ndarray], n: int) -> Columns:
    """An N × K matrix, one N-vector, or a sequence of K N-vectors as K column views."""
    if isinstance(values, np.ndarray) or not isinstance(values, Sequence):
        m = np.asarray(values)
        if m.ndim == 1:
            m = m[:, None]
        cols: Columns = tuple(m[:, k] for k in range(m.shape[1])) if m.ndim == 2 else (m,)
        shape = m.shape
    else:
        cols = tuple(np.asarray(c) for c in values)
        shape = (n, len(cols))
    if not cols or any(c.shape != (n,) for c in cols):
        raise EstimationError(
            f"{name}: shape {shape} for a design of {n} respondents; give an N × K matrix "
            "(one row per respondent, one column per indicator) or a list of K columns"
        )
    return cols


def _inputs(
    design: Design,
    success: np.ndarray | Sequence[np.ndarray],
    answered: np.ndarray | Sequence[np.ndarray] | None,
    domains: np.ndarray,
) -> tuple[Columns, Columns | None, IntArray]:
    n = design.n
    s = _as_columns("success", success, n)
    for k, col in enumerate(s):
        if not (col.dtype == np.bool_ or np.issubdtype(col.dtype, np.number)):
            raise EstimationError(
                f"success column {k + 1} must be boolean or numeric 0/1, got dtype {col.dtype}"
            )
    a = None
    if answered is not None:
        a = _as_columns("answered", answered, n)
        if len(a) == 1 and len(s) > 1:
            a = a * len(s)  # one mask for every indicator (no copy)
        if len(a) != len(s) or any(c.dtype != np.bool_ for c in a):
            raise EstimationError(
                f"answered: {len(a)} column(s) of dtype {a[0].dtype}; give a boolean mask "
                f"per indicator ({len(s)}), or one for all"
            )
    d = np.asarray(domains)
    if d.shape != (n,) or not np.issubdtype(d.dtype, np.integer):
        raise EstimationError(
            f"domains: shape {d.shape}, dtype {d.dtype}; give one integer domain code per "
            f"respondent (0..G-1, -1 = in no domain) for a design of {n}"
        )
    if d.size and int(d.min()) < -1:
        raise EstimationError(
            f"domains: code {int(d.min())} is below -1; use 0..G-1, and -1 for rows in no domain"
        )
    return s, a, d.astype(np.int64, copy=False)


def _column(s: Columns, a: Columns | None, k: int) -> tuple[BoolArray, BoolArray | None]:
    """Indicator ``k``: success (True/False) and the answered mask (None: every row)."""
    col = s[k]
    if col.dtype == np.bool_:
        return col, (None if a is None else a[k])
    one = col == 1
    missing = np.isnan(col) if np.issubdtype(col.dtype, np.floating) else np.zeros_like(one)
    zero = col == 0
    valid = np.count_nonzero(one) + np.count_nonzero(zero) + np.count_nonzero(missing)
    if valid != col.size:
        bad = ~(one | zero | missing)
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:10])
        raise EstimationError(
            f"success column {k + 1} has values other than 0/1 (rows {rows}, 1-based); "
            "give 1 for success, 0 for failure and NaN where the answer is not in the base"
        )
    if a is not None:
        return one, a[k] & ~missing
    return one, (~missing if missing.any() else None)


def proportions_by(
    design: Design,
    success: np.ndarray | Sequence[np.ndarray],
    domains: np.ndarray,
    *,
    answered: np.ndarray | Sequence[np.ndarray] | None = None,
    n_domains: int | None = None,
    level: float = 0.95,
    ci: CIMethod = "logit",
) -> DomainProportions:
    """The proportion of each indicator (column of ``success``) in each domain.

    ``success``: N × K (or N) booleans, or 0/1 numbers with NaN where the answer is not
    in the indicator's base — or a list of K such N-vectors (e.g. a data frame's columns:
    no N × K copy is made); ``answered`` (optional, N × K or N booleans, or a list)
    narrows the base further. ``domains``: an integer code ``0..G-1`` per respondent,
    ``-1`` for rows in no domain; ``G = n_domains`` (default: largest code + 1). Cell ``(k, g)`` is
    ``proportion(design, success[:, k], answered[:, k] & (domains == g), level=level,
    ci=ci)`` — same estimate, SE, interval, df and deff to rounding.
    """
    if ci not in CI_METHODS:
        raise EstimationError(f"ci={ci!r} is not a method; use one of {', '.join(CI_METHODS)}")
    check_level(level)
    s, a, dom = _inputs(design, success, answered, domains)
    g = int(dom.max()) + 1 if n_domains is None else int(n_domains)
    if dom.size and int(dom.max()) >= g:
        raise EstimationError(f"domains: code {int(dom.max())} for n_domains={g}; use 0..G-1")
    try:
        if design.pps is not None:  # PPS variances: the scalar path (variance_matrix)
            raise _Scalar
        return _vectorised(design, s, a, dom, g, level, ci)
    except _Scalar:
        return _scalar(design, s, a, dom, g, level, ci)


def _scalar(
    design: Design,
    s: Columns,
    a: Columns | None,
    dom: IntArray,
    g: int,
    level: float,
    ci: CIMethod,
) -> DomainProportions:
    """Cell by cell through ``proportion()`` (raises its error for the first bad cell)."""
    cells: list[list[ProportionEstimate | None]] = []
    for k in range(len(s)):
        one, ans = _column(s, a, k)
        row: list[ProportionEstimate | None] = []
        for j in range(g):
            d = dom == j if ans is None else ans & (dom == j)
            row.append(proportion(design, one, d, level=level, ci=ci) if d.any() else None)
        cells.append(row)
    return _from_cells(cells, len(s), g)


def _from_cells(
    cells: list[list[ProportionEstimate | None]], k_ind: int, g: int
) -> DomainProportions:
    def grid(field: str, fill: object, dtype: type) -> np.ndarray:
        out: np.ndarray = np.full((k_ind, g), fill, dtype=dtype)
        for k, row in enumerate(cells):
            for j, e in enumerate(row):
                if e is not None:
                    value = getattr(e, field)
                    out[k, j] = np.nan if value is None else value
        return out

    return DomainProportions(
        estimate=grid("estimate", np.nan, np.float64),
        se=grid("se", np.nan, np.float64),
        ci_low=grid("ci_low", np.nan, np.float64),
        ci_high=grid("ci_high", np.nan, np.float64),
        ci_method=grid("ci_method", "", object),
        df=grid("df", 0, np.int64),
        deff=grid("deff", np.nan, np.float64),
        n=grid("n", 0, np.int64),
        n_success=grid("n_success", 0, np.int64),
        weighted_base=grid("weighted_base", np.nan, np.float64),
    )


@dataclass(frozen=True)
class _Sums:
    """One indicator's sums by domain (G,) and by (stage unit, domain) (U_s × G)."""

    base: FloatArray
    wy: FloatArray
    n: FloatArray
    n_success: FloatArray
    unit_w: tuple[FloatArray, ...]
    unit_wy: tuple[FloatArray, ...]
    unit_n: tuple[FloatArray, ...]


@dataclass(frozen=True)
class _Keys:
    """Per call: ``2 · (unit · G + domain)`` per row and stage (``2 · (cell · G + domain)``
    for the raking cells), ``trash`` for rows in no domain; adding the success (0/1)
    splits every sum by outcome, so one weighted and one plain bincount per stage give
    ``Σw``, ``Σwy``, ``n`` and ``n_success``."""

    units: tuple[IntArray, ...]
    cells: IntArray | None
    trash: tuple[int, ...]
    cell_trash: int


def _key(code: IntArray, dom: IntArray, g: int, outside: BoolArray | None, trash: int) -> IntArray:
    """``2 · (code · G + dom)``, rows in no domain at ``trash`` (built in place: one
    N-sized array, no temporaries)."""
    key: IntArray = code * g
    key += dom
    key *= 2
    if outside is not None:
        key[outside] = trash
    return key


def _keys(tab: DomainTables, dom: IntArray, g: int) -> _Keys:
    outside = dom < 0
    out = outside if outside.any() else None
    units, trash = [], []
    for st in tab.stages:
        t = 2 * st.group.size * g
        units.append(_key(st.unit, dom, g, out, t))
        trash.append(t)
    cells, cell_trash = None, 0
    if tab.route == "raking":
        c = tab.raking.cells
        cell_trash = 2 * c.count.size * g
        cells = _key(c.cell, dom, g, out, cell_trash)
    return _Keys(tuple(units), cells, tuple(trash), cell_trash)


def _outcome_key(key: IntArray, ans: BoolArray | None, one: BoolArray, trash: int) -> IntArray:
    """``key + success``, unanswered rows to ``trash``."""
    if ans is None:
        out: IntArray = key + one
        return out
    k: IntArray = np.where(ans, key, trash)
    k += one  # in place: one N-sized temporary per call, not two
    return k


def _split(key: IntArray, trash: int, w: FloatArray | None) -> FloatArray:
    """Sums of ``w`` (counts when None) by ``key`` as (key // 2, outcome), trash dropped."""
    return _count(key, w, trash + 2)[:trash].reshape(-1, 2)


def _sums(tab: DomainTables, one: BoolArray, ans: BoolArray | None, keys: _Keys, g: int) -> _Sums:
    w = tab.design.weights
    unit_w: list[FloatArray] = []
    unit_wy: list[FloatArray] = []
    unit_n: list[FloatArray] = []
    n_success = np.zeros(g)
    for s, st in enumerate(tab.stages):
        units = st.group.size
        key = _outcome_key(keys.units[s], ans, one, keys.trash[s])
        sw = _split(key, keys.trash[s], w).reshape(units, g, 2)
        cnt = _split(key, keys.trash[s], None).reshape(units, g, 2)
        unit_w.append(sw[:, :, 0] + sw[:, :, 1])
        unit_wy.append(sw[:, :, 1])
        unit_n.append(cnt[:, :, 0] + cnt[:, :, 1])
        if s == 0:
            n_success = cnt[:, :, 1].sum(axis=0)
    return _Sums(
        base=unit_w[0].sum(axis=0),
        wy=unit_wy[0].sum(axis=0),
        n=unit_n[0].sum(axis=0),
        n_success=n_success,
        unit_w=tuple(unit_w),
        unit_wy=tuple(unit_wy),
        unit_n=tuple(unit_n),
    )


def _unit_totals(
    tab: DomainTables,
    one: BoolArray,
    ans: BoolArray | None,
    dom: IntArray,
    keys: _Keys,
    sums: _Sums,
    p: FloatArray,
    den: FloatArray,
) -> list[FloatArray]:
    """Per stage: the units' totals (U_s × G) of the calibration-adjusted scores."""
    g = p.size
    if tab.route == "dense":
        w = tab.design.weights
        scores = np.zeros((tab.design.n, g))
        inside = dom >= 0 if ans is None else ans & (dom >= 0)
        rows = np.flatnonzero(inside)
        d = dom[rows]
        scores[rows, d] = w[rows] * (one[rows] - p[d]) / den[d]
        for adjustment in tab.design.adjustments:
            scores = adjustment.apply(scores)
        return [_sum_rows(st.unit, scores, st.group.size) for st in tab.stages]
    totals = [(wy - p * sw) / den for sw, wy in zip(sums.unit_w, sums.unit_wy, strict=True)]
    if tab.route == "plain":
        return totals
    assert keys.cells is not None
    n_cells = tab.raking.cells.count.size
    key = _outcome_key(keys.cells, ans, one, keys.cell_trash)
    split = _split(key, keys.cell_trash, tab.raking_ratio).reshape(n_cells, g, 2)
    cy, cn = split[:, :, 1], split[:, :, 0] + split[:, :, 1]
    alpha = tab.raking.backfit((cy - p * cn) / den)
    out: list[FloatArray] = []
    for t, weights in zip(totals, tab.unit_category_weights, strict=True):
        for wm, am in zip(weights, alpha, strict=True):
            t = t - wm @ am
        out.append(t)
    return out


def _variance(tab: DomainTables, totals: list[FloatArray], sums: _Sums) -> FloatArray:
    """R's svyrecvar on units × domains tables (the rules of ``variance._stage_variance``)."""
    design = tab.design
    option = design.lonely_psu
    g = totals[0].shape[1]
    v = np.zeros(g)
    mult = np.ones(tab.stages[0].n.size)
    for s, (st, t) in enumerate(zip(tab.stages, totals, strict=True)):
        size_g = st.n.size
        if design.calibrated:
            here = np.ones((size_g, g), dtype=bool)
        else:
            here = _sum_rows(st.group, sums.unit_n[s], size_g) > 0
        f = 1.0 - st.fraction
        certain = f < CERTAINTY
        single = st.n == 1
        lonely = here & (single & ~certain)[:, None]
        if lonely.any() and (option == "fail" or (option == "average" and s > 0)):
            raise _Scalar
        centre = _sum_rows(st.group, t, size_g) / st.n[:, None]
        if option == "adjust":
            centre[single] = 0.0
        dev = t - centre[st.group]
        scale = np.where(single, f, f * st.n / np.maximum(st.n - 1, 1))
        include = here & (~certain & (~single | (option == "adjust")))[:, None]
        unit_scale = np.where(include, (scale * mult)[:, None], 0.0)[st.group]
        vs = np.einsum("ug,ug->g", unit_scale * dev, dev)
        if option == "average" and s == 0:
            n_lonely = lonely.any(axis=0)
            ok = (here & ~lonely).sum(axis=0)
            if np.any(n_lonely & (ok == 0)):
                raise _Scalar
            vs = np.where(n_lonely, vs * here.sum(axis=0) / np.maximum(ok, 1), vs)
        v = v + vs
        mult = (mult * st.fraction)[st.group]
    return v


def _vectorised(
    design: Design,
    s: Columns,
    a: Columns | None,
    dom: IntArray,
    g: int,
    level: float,
    ci: CIMethod,
) -> DomainProportions:
    tab = domain_tables(design)
    k_ind = len(s)
    shape = (k_ind, g)
    est, se, var, base = (np.full(shape, np.nan) for _ in range(4))
    n, n_success, df = (np.zeros(shape, dtype=np.int64) for _ in range(3))
    deff = np.full(shape, np.nan)
    keys = _keys(tab, dom, g)
    st0 = tab.stages[0]
    for k in range(k_ind):
        one, ans = _column(s, a, k)
        sums = _sums(tab, one, ans, keys, g)
        nk = sums.n.astype(np.int64)
        sk = np.rint(sums.n_success).astype(np.int64)
        empty = nk == 0
        den = np.where(empty, 1.0, sums.base)
        p = np.clip(sums.wy / den, 0.0, 1.0)
        p = np.where(sk == 0, 0.0, np.where(sk == nk, 1.0, p))
        vk = _variance(tab, _unit_totals(tab, one, ans, dom, keys, sums, p, den), sums)
        present = sums.unit_n[0] > 0
        psus = nk if tab.rows_are_units[0] else present.sum(axis=0)
        strata = (_sum_rows(st0.group, present.astype(np.float64), st0.n.size) > 0).sum(axis=0)
        ssd = (1 - p) ** 2 * sums.wy + p**2 * np.maximum(sums.base - sums.wy, 0.0)
        deff[k] = _deff(vk, ssd, nk, sums.base)
        keep = ~empty
        est[k, keep], var[k, keep], base[k, keep] = p[keep], vk[keep], sums.base[keep]
        n[k], n_success[k], df[k] = nk, sk, np.where(keep, psus - strata, 0)
    deff[n == 0] = np.nan
    se = np.sqrt(var)
    low, high, method = _intervals(design, est, se, var, n, df, level, ci)
    return DomainProportions(est, se, low, high, method, df, deff, n, n_success, base)


def _deff(v: FloatArray, ssd: FloatArray, n: IntArray, base: FloatArray) -> FloatArray:
    """R's svymean deff per domain (NaN where ``proportion()`` gives None)."""
    ok = (base >= n) & (n >= 2)
    nf = np.where(ok, n, 2).astype(np.float64)
    b = np.where(ok, base, 1.0)
    s2 = nf / (nf - 1) * ssd / b
    vsrs = s2 * (b - nf) / (b * nf)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(vsrs == 0, np.where(v > 0, np.inf, np.nan), v / vsrs)
    return np.where(ok, out, np.nan)


def _intervals(
    design: Design,
    p: FloatArray,
    se: FloatArray,
    var: FloatArray,
    n: IntArray,
    df: IntArray,
    level: float,
    ci: CIMethod,
) -> tuple[FloatArray, FloatArray, NDArray[np.object_]]:
    """Logit / Wald / beta intervals and method names as ``proportion()`` makes them."""
    filled = n > 0
    tq = np.where(df >= 1, special.stdtrit(np.maximum(df, 1), 1 - (1 - level) / 2), np.nan)
    low, high = np.full(p.shape, np.nan), np.full(p.shape, np.nan)
    method = np.full(p.shape, "", dtype=object)
    if ci == "wald":
        low, high = np.where(filled, p - tq * se, np.nan), np.where(filled, p + tq * se, np.nan)
        method[filled] = "wald"
        return low, high, method
    interior = filled & (p > 0) & (p < 1)
    beta = filled & ~interior if ci == "logit" else filled
    if ci == "logit" and interior.any():
        pi = p[interior]
        half = tq[interior] * se[interior] / (pi * (1 - pi))
        centre = special.logit(pi)
        low[interior], high[interior] = special.expit(centre - half), special.expit(centre + half)
        method[interior] = "logit"
    name = "beta (logit fallback: p = 0 or 1)" if ci == "logit" else "beta"
    for k, j in zip(*np.nonzero(beta), strict=True):
        rows = design.n if design.calibrated else int(n[k, j])
        low[k, j], high[k, j] = beta_interval(
            float(p[k, j]), float(var[k, j]), int(n[k, j]), rows, int(df[k, j]), level
        )
        method[k, j] = name
    return low, high, method


__all__ = ["DomainProportions", "DomainTables", "proportions_by"]
