"""A survey design for Taylor-linearised estimation, with R ``survey`` semantics.

A :class:`Design` corresponds to::

    d <- svydesign(ids = ~c1 + c2 (or ~1), strata = ~strata (or NULL), weights = ~w0,
                   fpc = ~N1 + N2 (or NULL), data = df, nest = TRUE)
    d <- rake(d, ...) / postStratify(d, ...) / calibrate(d, ...)   # ``calibration``

with ``weights`` the final weights. Stage-1 units (PSUs) are nested in strata; a unit
at stage ``s > 1`` is nested in its stage ``s − 1`` unit, which is also its stratum (R's
``svydesign`` does the same). Without clusters every respondent is its own PSU; without
strata there is one stratum. As in R, stages after the first add variance only when
``fpc`` is given.

``fpc`` per stage holds either population sizes (all values > 1: units in the stratum
at that stage) or sampling fractions (all ≤ 1), constant within each stratum.

``pps`` is a design sampled with probability proportional to size without replacement:

* ``"brewer"`` — R's ``svydesign(pps = "brewer", fpc = ~p)``: ``fpc`` holds each unit's
  inclusion probability (a fraction, constant within the unit, free to vary within the
  stratum) and the variance is Brewer's approximation, stage ``s`` adding
  ``n_g/(n_g − 1) · Σ_j (1 − π_j)(t_j − t̄_g)²`` (:mod:`harmonise.estimate.variance`);
* ``"HR"`` — R's ``svydesign(pps = HR(), probs = ~p)`` (or ``HR(psum)``): the
  Hartley–Rao approximation to the joint inclusion probabilities of the stage-1 units
  from ``pps_probs`` (each row's stage-1 inclusion probability) and ``pps_psum``
  (:mod:`harmonise.estimate.pps`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from harmonise._util.arrays import dense_codes as _dense
from harmonise._util.arrays import frozen_copy as _frozen
from harmonise._util.arrays import row_numbers as _rows
from harmonise.errors import EstimationError
from harmonise.weight.adjustments import Adjustment, GregAdjustment, RakingAdjustment

T = TypeVar("T")

LonelyPSU = Literal["fail", "remove", "adjust", "average", "certainty"]
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "remove", "adjust", "average", "certainty")
PPSMethod = Literal["brewer", "HR"]
PPS_METHODS: tuple[str, ...] = ("brewer", "HR")

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def _codes(name: str, values: np.ndarray, n: int) -> IntArray:
    raw = np.asarray(values)
    if raw.ndim != 1 or raw.size != n:
        raise EstimationError(
            f"design {name}: {raw.size} value(s) for {n} weight(s); give one per respondent"
        )
    if not np.issubdtype(raw.dtype, np.integer):
        raise EstimationError(
            f"design {name} must be integer codes, got dtype {raw.dtype}; encode them first "
            "(e.g. pandas.factorize(column)[0])"
        )
    return raw.astype(np.int64, copy=False)  # the caller freezes a copy


def _combine(outer: IntArray, inner: IntArray) -> IntArray:
    """Dense codes of the pairs ``(outer, inner)``."""
    return _dense(outer * (int(inner.max()) + 1) + inner)


@dataclass(frozen=True)
class Stage:
    """One sampling stage, precomputed for the variance (all arrays dense ``0..K-1``).

    ``unit``: the unit of each row; ``group``: the stratum of each unit (stage 1: the
    design's stratum; later: the enclosing unit); ``n``: sampled units per stratum (in
    the whole sample); ``fraction``: sampling fraction per stratum (0 without fpc, so
    ``1 − fraction`` is R's ``f``; NaN under Brewer's PPS, where it varies within the
    stratum); ``group_label``: caller's stratum code per stratum; ``unit_fraction``: the
    sampling fraction of each unit (its stratum's, or under Brewer's PPS its own
    inclusion probability).
    """

    unit: IntArray
    group: IntArray
    n: IntArray
    fraction: FloatArray
    group_label: IntArray
    unit_fraction: FloatArray


@dataclass(frozen=True, eq=False)
class Design:
    """Final weights plus the design information variances need.

    ``clusters`` is one array (one-stage cluster sample) or a sequence of arrays, one
    per stage (``ids = ~c1 + c2``). ``fpc`` is ``None`` or one array per stage (one
    stage when ``clusters`` is ``None``). ``raking`` is shorthand for a ``rake()``d
    design: the category codes of each margin the final weights were raked to.
    ``calibration`` holds the adjustments of each weighting step in order (the
    ``adjustment`` of a :class:`harmonise.weight.RakeResult`); SEs then account for the
    calibration as R does. ``lonely_psu`` is R's ``options(survey.lonely.psu=)``.
    ``nest=False`` requires every PSU to lie in one stratum (R's check), ``True`` makes
    PSU ids unique within strata. ``pps``/``pps_probs``/``pps_psum``: sampling with
    probability proportional to size without replacement (see the module docstring).
    Equality is identity.
    """

    weights: np.ndarray
    strata: np.ndarray | None = None
    clusters: np.ndarray | Sequence[np.ndarray] | None = None
    raking: tuple[np.ndarray, ...] = ()
    lonely_psu: LonelyPSU = "fail"
    fpc: Sequence[np.ndarray] | np.ndarray | None = None
    calibration: tuple[Adjustment, ...] = ()
    nest: bool = True
    pps: PPSMethod | None = None
    pps_probs: np.ndarray | None = None
    pps_psum: float | None = None

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise EstimationError(
                f"design weights must be a non-empty 1-D array, got shape {w.shape}"
            )
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            raise EstimationError(
                f"design weights must be positive: {int(bad.sum())} respondent(s) have a zero, "
                f"negative or missing weight (rows {_rows(bad)}, 1-based); fix the weights, "
                "or keep those respondents out with a domain instead of a zero weight"
            )
        if self.lonely_psu not in LONELY_PSU_OPTIONS:
            raise EstimationError(
                f"lonely_psu={self.lonely_psu!r} is not an option; use one of "
                f"{', '.join(LONELY_PSU_OPTIONS)}"
            )
        n = w.size
        raking = []
        for i, codes in enumerate(self.raking):
            c = _codes(f"raking margin {i + 1}", codes, n)
            if c.min() < 0:
                raise EstimationError(
                    f"design raking margin {i + 1}: negative category codes at rows "
                    f"{_rows(c < 0)} (1-based); every respondent needs a category"
                )
            raking.append(_frozen(c))
        object.__setattr__(self, "weights", _frozen(w))
        object.__setattr__(self, "raking", tuple(raking))
        if self.strata is not None:
            object.__setattr__(self, "strata", _frozen(_codes("strata", self.strata, n)))
        clusters = self.clusters
        if clusters is not None:
            arrays = [clusters] if isinstance(clusters, np.ndarray) else list(clusters)
            if not arrays:
                raise EstimationError("design clusters: give at least one stage, or None")
            names = [f"clusters stage {i + 1}" for i in range(len(arrays))]
            frozen = tuple(_frozen(_codes(nm, a, n)) for nm, a in zip(names, arrays, strict=True))
            object.__setattr__(self, "clusters", frozen[0] if len(frozen) == 1 else frozen)
        if self.fpc is not None:
            fpcs = [self.fpc] if isinstance(self.fpc, np.ndarray) else list(self.fpc)
            fpc = tuple(_frozen(np.asarray(f, dtype=np.float64)) for f in fpcs)
            object.__setattr__(self, "fpc", fpc)
        for a in self.calibration:
            size = a.w.size if isinstance(a, GregAdjustment) else a.weights.size
            if size != n:
                raise EstimationError(
                    f"a calibration adjustment is for {size} respondents, the design has "
                    f"{n}; build both from the same rows"
                )
        if not self.nest and self.strata is not None and self.stage_ids:
            _check_nested(self.stratum_index, self.stage_ids[0])
        self._check_pps()
        _ = self.stages  # validate fpc now, not at the first estimate

    def _check_pps(self) -> None:
        if self.pps is None:
            if self.pps_probs is not None or self.pps_psum is not None:
                raise EstimationError(
                    "design pps_probs / pps_psum are for pps='HR'; set pps or leave them out"
                )
            return
        if self.pps not in PPS_METHODS:
            raise EstimationError(
                f"pps={self.pps!r} is not a method; use one of {', '.join(PPS_METHODS)}"
            )
        if self.pps == "brewer":
            if self.pps_probs is not None or self.pps_psum is not None:
                raise EstimationError(
                    "pps='brewer' takes the inclusion probabilities as fpc (R's "
                    "svydesign(pps = 'brewer', fpc = ~p)), not pps_probs / pps_psum"
                )
            return
        if len(self.stage_ids) > 1:
            raise EstimationError(
                "pps='HR' is for one-stage designs (R: 'Multistage PPS sampling not "
                "supported with this method'); give the stage-1 cluster ids only"
            )
        if self.fpc is not None:
            raise EstimationError(
                "pps='HR' takes the inclusion probabilities as pps_probs (R's probs=), "
                "not fpc; leave fpc out"
            )
        if any(not isinstance(a, GregAdjustment) for a in self.adjustments):
            raise EstimationError(
                "a pps='HR' design can only be calibrated by calibrate() (linear or "
                "raking): R has no rake() or postStratify() for these designs"
            )
        if self.pps_probs is None:
            raise EstimationError("pps='HR' needs pps_probs, each row's inclusion probability")
        p = np.asarray(self.pps_probs, dtype=np.float64)
        if p.shape != (self.n,):
            raise EstimationError(
                f"design pps_probs: {p.size} value(s) for {self.n} respondent(s); give one "
                "per respondent"
            )
        bad = ~(np.isfinite(p) & (p > 0) & (p <= 1))
        if bad.any():
            raise EstimationError(
                f"design pps_probs must lie in (0, 1]: rows {_rows(bad)} (1-based) do not"
            )
        psu = self.stages[0].unit
        first = np.full(int(psu.max()) + 1, np.nan)
        first[psu[::-1]] = p[::-1]
        varies = p != first[psu]
        if varies.any():
            raise EstimationError(
                f"design pps_probs vary within a stage-1 cluster (rows {_rows(varies)}, "
                "1-based); a cluster has one inclusion probability"
            )
        if self.pps_psum is not None:
            if self.strata is not None:
                raise EstimationError(
                    "HR(psum) with one psum is for an unstratified design (R's HR(psum)); "
                    "leave psum out to use each stratum's mean probability"
                )
            if not (math.isfinite(self.pps_psum) and self.pps_psum > 0):
                raise EstimationError(f"HR psum must be a positive number, got {self.pps_psum}")
        object.__setattr__(self, "pps_probs", _frozen(p))

    @property
    def n(self) -> int:
        """Number of respondents (rows)."""
        return int(self.weights.size)

    @property
    def calibrated(self) -> bool:
        """Whether the weights were calibrated (R then keeps all rows in a domain)."""
        return bool(self.raking or self.calibration)

    @property
    def keeps_rows(self) -> bool:
        """Whether R's subset of this design keeps every row (giving the others weight 0)
        rather than dropping them: calibrated and PPS designs (R's ``[.survey.design2``)."""
        return self.calibrated or self.pps is not None

    @cached_property
    def adjustments(self) -> tuple[Adjustment, ...]:
        """Every calibration adjustment, in the order svyrecvar applies them."""
        first: tuple[Adjustment, ...] = ()
        if self.raking:
            first = (RakingAdjustment(codes=self.raking, weights=self.weights),)
        return first + tuple(self.calibration)

    @cached_property
    def stage_ids(self) -> tuple[IntArray, ...]:
        """The caller's cluster codes per stage (empty without clusters)."""
        if self.clusters is None:
            return ()
        if isinstance(self.clusters, np.ndarray):
            return (self.clusters,)
        return tuple(self.clusters)

    @cached_property
    def stratum_index(self) -> IntArray:
        """Stratum of each respondent as ``0..H-1``."""
        if self.strata is None:
            return np.zeros(self.n, dtype=np.int64)
        return _dense(self.strata)

    @cached_property
    def stratum_values(self) -> IntArray:
        """The caller's stratum code of each stratum index (for messages)."""
        if self.strata is None:
            return np.zeros(1, dtype=np.int64)
        return np.unique(self.strata).astype(np.int64)

    @cached_property
    def stages(self) -> tuple[Stage, ...]:
        """Units, strata, sample sizes and sampling fractions per stage."""
        ids = self.stage_ids or (np.arange(self.n, dtype=np.int64),)
        fpcs = self.fpc if isinstance(self.fpc, tuple) else None
        if fpcs is not None and len(fpcs) != len(ids):
            raise EstimationError(
                f"design fpc has {len(fpcs)} stage(s) but the design has {len(ids)} "
                "sampling stage(s); give one fpc column per stage of ids"
            )
        stages: list[Stage] = []
        group_row = self.stratum_index
        labels = self.stratum_values
        unit = np.zeros(self.n, dtype=np.int64)
        for s, cluster in enumerate(ids):
            unit = _combine(group_row if s == 0 else unit, _dense(cluster))
            group = np.empty(int(unit.max()) + 1, dtype=np.int64)
            group[unit] = group_row
            n_g = np.bincount(group).astype(np.int64)
            fraction = np.zeros(n_g.size)
            if fpcs is not None and self.pps == "brewer":
                per_unit = _unit_fraction(fpcs[s], unit, s + 1)
                fraction = np.full(n_g.size, np.nan)  # varies within the stratum
            elif fpcs is not None:
                fraction = _fraction(fpcs[s], group_row, n_g, s + 1, fpcs)
                per_unit = fraction[group]
            else:
                per_unit = fraction[group]
            stages.append(Stage(unit, group, n_g, fraction, labels, per_unit))
            group_row = unit
            labels = np.arange(int(unit.max()) + 1, dtype=np.int64)
        return tuple(stages)

    @cached_property
    def psu_index(self) -> IntArray:
        """PSU of each respondent as ``0..P-1``, unique across strata."""
        return self.stages[0].unit

    @cached_property
    def psu_stratum(self) -> IntArray:
        """Stratum (``0..H-1``) of each PSU."""
        return self.stages[0].group

    @cached_property
    def psus_per_stratum(self) -> IntArray:
        """Number of PSUs in each stratum, over the whole sample."""
        return self.stages[0].n

    @cached_property
    def psu_count(self) -> int:
        """Number of PSUs in the whole sample."""
        return int(self.psu_stratum.size)

    def memo(self, key: str, build: Callable[[Design], T]) -> T:
        """``build(self)``, computed at first use and kept with the design (as
        ``cached_property`` keeps its values), so an estimator module can cache its own
        per-design tables without this module importing it."""
        cache: dict[str, object] = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = build(self)
        return cast(T, cache[key])

    @cached_property
    def raking_codes(self) -> tuple[IntArray, ...]:
        """Each raking margin's codes as ``0..k-1`` (dense)."""
        return tuple(_dense(codes) for codes in self.raking)


def _check_nested(stratum: IntArray, psu: IntArray) -> None:
    pairs = np.unique(np.column_stack([_dense(psu), stratum]), axis=0)
    crossing = np.flatnonzero(np.bincount(pairs[:, 0]) > 1)
    if crossing.size:
        raise EstimationError(
            f"{crossing.size} cluster(s) appear in more than one stratum at stage 1, so "
            "clusters are not nested in strata; set nest: true if cluster ids are reused "
            "across strata (R: 'Clusters not nested in strata at top level')"
        )


def _unit_fraction(fpc: FloatArray, unit: IntArray, stage: int) -> FloatArray:
    """Brewer's PPS: each unit's inclusion probability from its rows' fpc (R's
    ``as.fpc(pps = TRUE)``: sampling fractions only, one per unit)."""
    values = np.asarray(fpc, dtype=np.float64)
    if values.shape != unit.shape or not np.all(np.isfinite(values)):
        raise EstimationError(
            f"design fpc stage {stage}: need one finite value per respondent, got shape "
            f"{values.shape}; missing fpc values are not allowed"
        )
    outside = (values <= 0) | (values > 1)
    if outside.any():
        raise EstimationError(
            f"design fpc stage {stage}: pps='brewer' needs each unit's inclusion "
            f"probability in (0, 1], but rows {_rows(outside)} (1-based) are outside (R: "
            "'fpc must be specified as sampling fraction for PPS sampling')"
        )
    first = np.full(int(unit.max()) + 1, np.nan)
    first[unit[::-1]] = values[::-1]
    varies = values != first[unit]
    if varies.any():
        raise EstimationError(
            f"design fpc stage {stage} varies within a sampled unit (rows {_rows(varies)}, "
            "1-based); under pps='brewer' each unit has one inclusion probability"
        )
    return first


def _fraction(
    fpc: FloatArray, group_row: IntArray, n_g: IntArray, stage: int, every: Sequence[FloatArray]
) -> FloatArray:
    """Sampling fraction per stratum from population sizes or fractions (R's as.fpc)."""
    values = np.asarray(fpc, dtype=np.float64)
    if values.shape != group_row.shape or not np.all(np.isfinite(values) | (values == np.inf)):
        raise EstimationError(
            f"design fpc stage {stage}: need one finite value per respondent, got shape "
            f"{values.shape}; missing fpc values are not allowed"
        )
    all_values = np.concatenate([np.asarray(f, dtype=np.float64) for f in every])
    popsize = bool(np.any(all_values > 1))
    if popsize and np.any(all_values < 1):
        raise EstimationError(
            "design fpc mixes population sizes (> 1) and sampling fractions (< 1); give all "
            "stages as population sizes or all as fractions (R: 'Must have all fpc>=1 or all "
            "fpc<=1')"
        )
    first = np.full(n_g.size, np.nan)
    first[group_row[::-1]] = values[::-1]
    varies = values != first[group_row]
    if varies.any():
        raise EstimationError(
            f"design fpc stage {stage} varies within a stratum (rows {_rows(varies)}, "
            "1-based); the population size must be the same for every respondent of a stratum"
        )
    if popsize:
        if np.any(first < n_g):
            g = int(np.flatnonzero(first < n_g)[0])
            raise EstimationError(
                f"design fpc stage {stage}: a stratum has population size {first[g]:g} but "
                f"{n_g[g]} sampled units (R: 'FPC implies >100% sampling'); check the fpc column"
            )
        fraction: FloatArray = np.where(np.isinf(first), 0.0, n_g / first)
        return fraction
    if np.any(first <= 0):
        raise EstimationError(f"design fpc stage {stage}: sampling fractions must be > 0")
    return first.astype(np.float64)


__all__ = ["LONELY_PSU_OPTIONS", "PPS_METHODS", "Design", "LonelyPSU", "PPSMethod", "Stage"]
