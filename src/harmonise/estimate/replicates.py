"""Replicate-weight designs, with R ``survey`` (4.1.1) semantics.

A :class:`ReplicateDesign` holds full-sample weights, an ``n × R`` matrix of replicate
weights (always *combined*: each column is a complete set of analysis weights), and
the constants of R's ``svrVar``::

    v = scale · Σ_r rscales_r (θ_r − θ̄)²      θ̄ = mean of θ_r (rscales_r > 0), or θ̂ if mse

It is built either from a Taylor :class:`~harmonise.estimate.design.Design`, exactly as
``as.svrepdesign(design, type = "JK1" | "JKn" | "bootstrap")`` does (:func:`replicate_design`),
or from replicate weight columns published with a file, as
``svrepdesign(repweights =, type =, scale =, rscales =, rho =, mse =, combined.weights = TRUE)``
(:func:`replicate_weights_design`). Calibrating every replicate (R's ``rake()``,
``postStratify()`` and ``calibrate()`` on a replicate design) lives in
:mod:`harmonise.estimate.rep_calibrate`; its variances in :mod:`harmonise.estimate.variances`.

As in R, replicates come from the first sampling stage only (later stages and their
fpc are ignored), and ``df`` is R's ``degf``: the rank of the replicate weights minus 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import linalg

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

ReplicateType = Literal["JK1", "JKn", "bootstrap"]
#: Types :func:`replicate_design` builds from a design (R's as.svrepdesign).
BUILD_TYPES: tuple[str, ...] = ("JK1", "JKn", "bootstrap")
#: Types of existing replicate weights (R's svrepdesign ``type=``).
COLUMN_TYPES: tuple[str, ...] = (
    "JK1", "JKn", "bootstrap", "BRR", "Fay", "successive-difference", "ACS", "JK2", "other",
)  # fmt: skip
#: R's ``qr(weights, tol = 1e-5)`` tolerance in ``degf``.
RANK_TOLERANCE = 1e-5
#: Most replicate weights (rows × replicates) :func:`replicate_design` builds: 2 GB per
#: copy of the matrix (a few copies exist while it is built). JK1 without clusters has
#: one replicate per respondent, so 30,000 respondents would need 7.2 GB per copy.
MAX_REPLICATE_CELLS = 250_000_000


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


def _frozen_bool(a: np.ndarray) -> np.ndarray:
    out = np.array(a, dtype=bool, copy=True)
    out.flags.writeable = False
    return out


#: The test is ``residual² / length² >= 1e-10`` (R's tol²). On the Gram matrix the
#: rounding of that ratio is ~1e-13 (R·eps; dependent columns of real designs come out at
#: 1e-15 to 1e-13), but it grows with 1 / the smallest accepted pivot. So a column counts
#: from the Gram matrix only at ``>= 1e-6`` (then no pivot is below 1e-3 of its column)
#: and is left out only at ``< 1e-11`` (10× under the tolerance, far above the rounding);
#: between them :func:`weight_rank` decides by pivoted QR.
_GRAM_PIVOT_SAFE = 1e-6
_GRAM_ZERO = 1e-11
#: Above this many replicates the Gram test's ``R³`` loop costs more than the QR.
_GRAM_MAX_COLUMNS = 1000


def _rank_from_gram(gram: FloatArray, rows: int) -> int | None:
    """LINPACK ``dqrdc2``'s test (R's ``qr``) on the Gram matrix: columns in order, a
    column counts when the part of it not explained by the columns counted before keeps
    at least ``RANK_TOLERANCE`` of its length; at most ``rows`` count. ``None`` when a
    decision is too close to the tolerance for the Gram matrix's rounding."""
    s = np.array(gram, dtype=np.float64, copy=True)
    length2 = np.diag(s).copy()
    length2[length2 == 0] = 1.0  # dqrdc2: a zero column is compared with 1
    rank = 0
    for j in range(s.shape[0]):
        if rank == rows:
            break
        rel = s[j, j] / length2[j]
        if rel >= _GRAM_PIVOT_SAFE:
            rank += 1
            col = s[j + 1 :, j] / math.sqrt(s[j, j])
            s[j + 1 :, j + 1 :] -= np.outer(col, col)
        elif rel > _GRAM_ZERO:
            return None
    return rank


def _rank_pivoted_qr(a: FloatArray) -> int:
    norms = np.linalg.norm(a, axis=0)
    keep = norms > 0
    if not keep.any():
        return 0
    a = a[:, keep]
    r, piv = linalg.qr(a, mode="r", pivoting=True)
    diag = np.abs(np.diag(r))
    ok = diag > RANK_TOLERANCE * norms[keep][piv[: diag.size]]
    return int(np.argmin(ok)) if not ok.all() else int(ok.size)


def weight_rank(matrix: np.ndarray) -> int:
    """Numerical rank of the columns of ``matrix`` as R's ``qr(x, tol = 1e-5)$rank``:
    a column counts when its part not explained by the columns before it keeps more
    than ``1e-5`` of its own length.

    Decided on the ``R × R`` Gram matrix when every column is clearly in or out (one
    BLAS product: ~10× faster than a QR of the ``n × R`` weights, which took ~10 s at
    200,000 rows × 200 replicates); otherwise, or above ``_GRAM_MAX_COLUMNS`` replicates,
    by pivoted QR."""
    a = np.asarray(matrix, dtype=np.float64)
    if a.size == 0:
        return 0
    if a.shape[1] <= _GRAM_MAX_COLUMNS:
        rank = _rank_from_gram(a.T @ a, a.shape[0])
        if rank is not None:
            return rank
    return _rank_pivoted_qr(a)


@dataclass(frozen=True, eq=False)
class ReplicateDesign:
    """Full-sample weights and replicate weights, with R's variance constants.

    ``replicates`` is ``n × R``: column ``r`` is the analysis weight of every respondent
    in replicate ``r`` (R's ``weights(design, "analysis")``). ``scale`` and ``rscales``
    are R's; ``mse=True`` centres the squared deviations on the full-sample estimate
    instead of the replicates' mean. ``type`` names the method (``"JK1"``, ``"JKn"``,
    ``"bootstrap"``, ``"BRR"``, ``"Fay"``, …) and ``rho`` is Fay's coefficient.
    ``calibrated`` records that the full sample and every replicate were calibrated.
    ``census`` marks rows of stage-1 strata sampled completely (R's ``selfrep``): they
    have no sampling variance, so replicate totals count them at their full-sample
    weight (see :func:`harmonise.estimate.variances.total_variance`). Equality is identity.
    """

    weights: np.ndarray
    replicates: np.ndarray
    scale: float
    rscales: np.ndarray
    type: str
    mse: bool = False
    rho: float = 0.0
    calibrated: bool = False
    history: tuple[str, ...] = field(default=())
    census: np.ndarray | None = None

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float64)
        if self.census is not None:
            census = np.asarray(self.census, dtype=bool)
            if census.shape != w.shape:
                raise EstimationError(
                    f"census must mark each of the {w.size} rows, got shape {census.shape}"
                )
            object.__setattr__(self, "census", _frozen_bool(census) if census.any() else None)
        rep = np.asarray(self.replicates, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise EstimationError(
                f"replicate design weights must be a non-empty 1-D array, got shape {w.shape}"
            )
        if rep.ndim != 2 or rep.shape[0] != w.size or rep.shape[1] == 0:
            raise EstimationError(
                f"replicate weights must be an n × R matrix with n = {w.size} rows and at "
                f"least one replicate, got shape {rep.shape}"
            )
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise EstimationError(
                f"full-sample weights must be positive: {int(bad.sum())} row(s) are not, "
                f"first data row {first + 1} ({float(w[first])!r}); fix the weight column"
            )
        bad_rep = ~np.isfinite(rep) | (rep < 0)
        if bad_rep.any():
            row, col = (int(i) for i in np.argwhere(bad_rep)[0])
            raise EstimationError(
                f"replicate weights must be finite and non-negative: replicate {col + 1}, "
                f"data row {row + 1} has {float(rep[row, col])!r}"
            )
        rscales = np.asarray(self.rscales, dtype=np.float64).reshape(-1)
        if rscales.size == 1:
            rscales = np.full(rep.shape[1], float(rscales[0]))
        if rscales.size != rep.shape[1]:
            raise EstimationError(
                f"rscales has {rscales.size} value(s) for {rep.shape[1]} replicates; give one "
                "per replicate (or one for all)"
            )
        if not (np.isfinite(self.scale) and self.scale >= 0):
            raise EstimationError(f"replicate scale must be a number >= 0, got {self.scale!r}")
        object.__setattr__(self, "weights", _frozen(w))
        object.__setattr__(self, "replicates", _frozen(rep))
        object.__setattr__(self, "rscales", _frozen(rscales))
        object.__setattr__(self, "scale", float(self.scale))

    @property
    def n(self) -> int:
        """Number of respondents (rows)."""
        return int(self.weights.size)

    @property
    def n_replicates(self) -> int:
        """Number of replicates ``R``."""
        return int(self.replicates.shape[1])

    @cached_property
    def df(self) -> int:
        """R's ``degf``: rank of the replicate weights minus 1."""
        return weight_rank(self.replicates) - 1

    @cached_property
    def _df_by_domain(self) -> dict[bytes, int]:
        return {}

    def domain_df(self, domain: BoolArray) -> int:
        """R's ``degf(subset(design, domain))``: rank over the domain's rows minus 1
        (remembered per domain: every category of a proportion shares it)."""
        if domain.all():
            return self.df
        key = np.packbits(domain).tobytes()
        cache = self._df_by_domain
        if key not in cache:
            cache[key] = weight_rank(self.replicates[domain]) - 1
        return cache[key]

    def variance(self, thetas: np.ndarray, estimate: np.ndarray) -> FloatArray:
        """R's ``svrVar``: variance of each column of ``thetas`` (``R × k``).

        Replicates with a missing estimate (e.g. a domain with no weight in the
        replicate: 0/0) are dropped with their ``rscales``, as R's ``na.omit`` does.
        """
        t = np.asarray(thetas, dtype=np.float64)
        if t.ndim == 1:
            t = t[:, None]
        ok = np.all(np.isfinite(t), axis=1)
        if not ok.any():
            raise EstimationError(
                "every replicate gave a missing estimate (R: 'All replicates contained NAs'); "
                "the domain is probably too small for replicate variance"
            )
        t, rscales = t[ok], self.rscales[ok]
        if self.mse:
            centre = np.asarray(estimate, dtype=np.float64).reshape(-1)
        else:
            centre = t[rscales > 0].mean(axis=0)
        dev = t - centre
        out: FloatArray = self.scale * np.einsum("rk,r->k", dev * dev, rscales)
        return out


def _first_order(codes: IntArray) -> IntArray:
    """The distinct values of ``codes`` in order of first appearance (R's ``unique``)."""
    _, first = np.unique(codes, return_index=True)
    out: IntArray = codes[np.sort(first)]
    return out


def _stage_one(design: Design) -> tuple[IntArray, IntArray, FloatArray]:
    """PSU of each row, stratum of each PSU and sampling fraction of each stratum."""
    stage = design.stages[0]
    return stage.unit, stage.group, stage.fraction


def _jk1(design: Design) -> tuple[FloatArray, float, FloatArray]:
    psu, _, fraction = _stage_one(design)
    order = _first_order(psu)
    n = order.size
    if n < 2:
        raise EstimationError(
            "JK1 needs at least 2 PSUs (clusters, or respondents without clusters); the "
            f"design has {n}"
        )
    fpc = 1.0 - float(fraction[0])
    if fpc <= 0:
        raise EstimationError(
            "every PSU of the population was sampled (fpc equals the number of PSUs), so "
            "there is no sampling variance to replicate (R: 'you have the whole population')"
        )
    column = np.empty(int(psu.max()) + 1, dtype=np.int64)
    column[order] = np.arange(n)
    factors = np.full((design.n, n), n / (n - 1))
    factors[np.arange(design.n), column[psu]] = 0.0
    return factors, fpc * (n - 1) / n, np.ones(n)


def _jkn(design: Design) -> tuple[FloatArray, float, FloatArray]:
    psu, psu_stratum, fraction = _stage_one(design)
    order = _first_order(psu)  # PSUs in R's order
    strata_order = _first_order(psu_stratum[order])
    n_strata = strata_order.size
    lonely = design.lonely_psu
    psu_factors: list[FloatArray] = []  # one column (per-PSU factors) per replicate
    rscales: list[float] = []
    for h in strata_order:
        members = order[psu_stratum[order] == h]
        n_h = members.size
        fpc = 1.0 - float(fraction[h])
        if fpc <= 0:
            continue  # a census stratum adds no replicate (R's survey.drop.replicates)
        if n_h == 1:
            label = int(design.stratum_values[h])
            if lonely == "fail":
                raise EstimationError(
                    f"stratum {label} has only one PSU, so JKn cannot drop it (R: 'Stratum "
                    f"{label} has only one PSU'); set lonely_psu (remove, adjust, average, "
                    "certainty) or collapse strata"
                )
            if lonely == "adjust":
                col = np.where(psu_stratum == h, 0.0, n_strata / (n_strata - 1))
                psu_factors.append(col)
                rscales.append((n_strata - 1) / n_strata)
            continue
        for k in members:
            col = np.ones(psu_stratum.size)
            col[members] = n_h / (n_h - 1)
            col[k] = 0.0
            psu_factors.append(col)
            rscales.append(fpc * (n_h - 1) / n_h)
    if not psu_factors:
        raise EstimationError(
            "every stratum was sampled completely or has a single PSU that is left out, so "
            "there is no sampling variance to replicate (R: 'All strata were exhaustively "
            "sampled')"
        )
    scale = 1.0
    if len(psu_factors) < order.size and lonely == "average":
        scale = order.size / len(psu_factors)
    factors = np.column_stack(psu_factors)[psu]
    return factors, scale, np.array(rscales)


def _bootstrap(
    design: Design, replicates: int, rng: np.random.Generator
) -> tuple[FloatArray, float, FloatArray]:
    """R's ``bootweights``: in each stratum draw ``n_h`` PSUs with replacement (or, with
    an fpc, without replacement from the PSUs repeated to the population size); a PSU's
    factor is how often it was drawn."""
    if replicates < 2:
        raise EstimationError(f"bootstrap needs at least 2 replicates, got {replicates}")
    psu, psu_stratum, fraction = _stage_one(design)
    counts = np.zeros((psu_stratum.size, replicates))
    has_fpc = design.fpc is not None
    for h in _first_order(psu_stratum[_first_order(psu)]):
        members = np.flatnonzero(psu_stratum == h)
        n_h = members.size
        if not has_fpc or fraction[h] == 0:
            draws = rng.multinomial(n_h, np.full(n_h, 1.0 / n_h), size=replicates)
        else:
            popsize = int(n_h / fraction[h] + 1e-9)  # R: rep(upsu, length = popsize)
            pool = np.full(n_h, popsize // n_h, dtype=np.int64)
            pool[rng.permutation(n_h)[: popsize % n_h]] += 1
            draws = rng.multivariate_hypergeometric(pool, n_h, size=replicates)
        counts[members] = draws.T
    strata_sizes = np.bincount(psu_stratum).astype(np.float64)
    per_stratum = 1.0 / float(np.mean(1.0 / strata_sizes))  # harmonic mean
    if per_stratum <= 1:
        raise EstimationError(
            "the bootstrap needs at least 2 PSUs per stratum on average (R divides by "
            "PSUs per stratum − 1); collapse strata"
        )
    scale = per_stratum / ((per_stratum - 1) * (replicates - 1))
    return counts[psu], scale, np.ones(replicates)


def replicate_design(
    design: Design,
    kind: ReplicateType = "JK1",
    *,
    replicates: int = 50,
    seed: int | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """Replicate weights for ``design``, as R's ``as.svrepdesign(design, type = kind)``.

    * ``"JK1"``: unstratified delete-one-PSU jackknife, factor ``n/(n−1)`` on the other
      PSUs, ``scale = (1 − f)(n − 1)/n`` (``f`` the stage-1 sampling fraction).
    * ``"JKn"``: stratified jackknife, one replicate per PSU, ``rscales = (1 − f_h)(n_h −
      1)/n_h``; census strata add no replicate; single-PSU strata follow
      ``design.lonely_psu`` as R's ``jknweights``.
    * ``"bootstrap"``: R's ``bootweights`` (Canty–Davison rescaled bootstrap) with
      ``replicates`` replicates drawn from ``numpy.random.default_rng(seed)``.

    A stratified design cannot use JK1 and an unstratified one cannot use JKn (R stops
    too). A calibrated design is refused: build the replicates from the uncalibrated
    design and calibrate every replicate with
    :func:`harmonise.estimate.rep_calibrate.calibrate_replicates` (R's
    ``rake(as.svrepdesign(d0), ...)``), otherwise the replicates would ignore the
    calibration's variance reduction.
    """
    if kind not in BUILD_TYPES:
        raise EstimationError(
            f"replicate type {kind!r} cannot be built from a design; use one of "
            f"{', '.join(BUILD_TYPES)} (other types need existing replicate weight columns)"
        )
    if design.pps is not None:
        raise EstimationError(
            f"replicates cannot be built from a pps={design.pps!r} design (its variance is "
            "Brewer's or Hartley–Rao's, not a jackknife or bootstrap of the PSUs); use the "
            "Taylor design"
        )
    if design.calibrated:
        raise EstimationError(
            "the design is calibrated: build replicates from the uncalibrated design and "
            "calibrate every replicate (calibrate_replicates, or a DESIGN.yaml with both "
            "'calibrate' and 'replicates'), as R's rake(as.svrepdesign(d0), ...)"
        )
    n_rep = replicates if kind == "bootstrap" else int(design.stages[0].group.size)
    if design.n * n_rep > MAX_REPLICATE_CELLS:
        each = "replicates" if kind == "bootstrap" else "replicates (one per PSU)"
        raise EstimationError(
            f"{kind} would make {n_rep:,} {each} of {design.n:,} rows: "
            f"{design.n * n_rep:,} weights, {design.n * n_rep * 8 / 1e9:.1f} GB per copy, "
            f"more than the {MAX_REPLICATE_CELLS:,} allowed; "
            + ("use fewer replicates" if kind == "bootstrap" else
               "give the cluster ids (ids:) so replicates drop whole clusters, or use type "
               "bootstrap with a few hundred replicates")
        )
    stratified = design.strata is not None
    if kind == "JK1" and stratified:
        raise EstimationError(
            "JK1 is for unstratified designs and this design has strata (R: \"Can't use JK1 "
            "for a stratified design\"); use type JKn or bootstrap"
        )
    if kind == "JKn" and not stratified:
        raise EstimationError(
            "JKn needs strata and this design has none (R: 'Must use JK1 or bootstrap for an "
            "unstratified design'); use type JK1 or bootstrap"
        )
    if kind == "JK1":
        factors, scale, rscales = _jk1(design)
    elif kind == "JKn":
        factors, scale, rscales = _jkn(design)
    else:
        factors, scale, rscales = _bootstrap(design, replicates, np.random.default_rng(seed))
    w = design.weights
    stage = design.stages[0]
    census = None
    if design.fpc is not None:  # R: selfrep <- popsize == sampsize at stage 1
        census = stage.fraction[stage.group[stage.unit]] >= 1.0
    return ReplicateDesign(
        weights=w,
        replicates=factors * w[:, None],
        scale=scale,
        rscales=rscales,
        type=kind,
        mse=mse,
        history=(f"as.svrepdesign(type = {kind!r})",),
        census=census,
    )


def _column_constants(
    kind: str,
    n_rep: int,
    scale: float | None,
    rscales: Sequence[float] | None,
    rho: float | None,
) -> tuple[float, FloatArray, float]:
    """R's svrepdesign defaults for ``scale`` and ``rscales`` by type."""
    if kind not in COLUMN_TYPES:
        raise EstimationError(
            f"unknown replicate type {kind!r}; use one of {', '.join(COLUMN_TYPES)}"
        )
    if rscales is not None and len(rscales) not in (1, n_rep):
        raise EstimationError(
            f"rscales has {len(rscales)} values but there are {n_rep} replicate columns; "
            "give one per column (R: 'rscales has length ..., should be ncol(repweights)')"
        )
    rs = np.ones(n_rep) if rscales is None else np.broadcast_to(np.asarray(rscales, float), n_rep)
    rho_value = 0.0 if rho is None else float(rho)
    if kind == "Fay":
        if rho is None or not 0 <= rho < 1:
            raise EstimationError(
                f"type Fay needs its rho, a number in [0, 1) (e.g. 0.5), got {rho!r} (R: "
                "\"With type='Fay' you must supply the correct rho\")"
            )
        return 1 / (n_rep * (1 - rho_value) ** 2), rs, rho_value
    if rho is not None:
        raise EstimationError(f"rho is only for type Fay, not {kind!r}; remove it")
    if kind == "BRR":
        if scale is not None:
            raise EstimationError("type BRR fixes scale = 1/R; remove scale (or use 'other')")
        return 1 / n_rep, rs, 0.0
    if kind in ("successive-difference", "ACS", "JK2"):
        if scale is not None or rscales is not None:
            raise EstimationError(f"type {kind} fixes scale and rscales; remove them")
        return (4 / n_rep if kind != "JK2" else 1.0), np.ones(n_rep), 0.0
    if kind == "JKn" and rscales is None:
        raise EstimationError(
            "type JKn needs rscales, (n_h − 1)/n_h for each replicate's stratum (R: 'Must "
            "provide rscales for combined JKn weights')"
        )
    if scale is None:
        if kind == "bootstrap":
            return 1 / (n_rep - 1), rs, 0.0
        if kind == "JK1":
            return (n_rep - 1) / n_rep, rs, 0.0
        if kind == "other":
            raise EstimationError("type 'other' needs scale (and usually rscales); give them")
        return 1.0, rs, 0.0
    return float(scale), rs, 0.0


def replicate_weights_design(
    weights: np.ndarray,
    replicates: np.ndarray,
    *,
    kind: str,
    scale: float | None = None,
    rscales: Sequence[float] | None = None,
    rho: float | None = None,
    mse: bool = False,
    names: Sequence[str] | None = None,
) -> ReplicateDesign:
    """A design from existing replicate weights, as R's ``svrepdesign(repweights =,
    weights =, type =, scale =, rscales =, rho =, mse =, combined.weights = TRUE)``.

    Defaults as R: BRR ``scale = 1/R``; Fay ``1/(R (1 − rho)²)``; JK1 ``(R − 1)/R``;
    bootstrap ``1/(R − 1)``; successive-difference and ACS ``4/R``; JK2 1; JKn needs
    ``rscales``; ``other`` needs ``scale``. ``names`` label the columns in messages.
    """
    rep = np.asarray(replicates, dtype=np.float64)
    if rep.ndim != 2 or rep.shape[1] == 0:
        raise EstimationError("give at least one replicate weight column")
    labels = list(names) if names is not None else [str(i + 1) for i in range(rep.shape[1])]
    bad = ~np.isfinite(rep) | (rep < 0)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise EstimationError(
            f"replicate weight column {labels[col]!r} has {float(rep[row, col])!r} at data row "
            f"{row + 1}; replicate weights must be non-negative numbers "
            f"({int(bad.sum())} bad value(s) in all)"
        )
    s, rs, rho_value = _column_constants(kind, rep.shape[1], scale, rscales, rho)
    return ReplicateDesign(
        weights=weights,
        replicates=rep,
        scale=s,
        rscales=rs,
        type=kind,
        mse=mse,
        rho=rho_value,
        history=(f"svrepdesign(type = {kind!r}, {rep.shape[1]} columns)",),
    )


__all__ = [
    "BUILD_TYPES",
    "COLUMN_TYPES",
    "ReplicateDesign",
    "ReplicateType",
    "replicate_design",
    "replicate_weights_design",
    "weight_rank",
]
