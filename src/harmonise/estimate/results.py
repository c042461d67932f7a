"""What an estimate is, and the checks and intervals every estimator shares.

The frozen results (:class:`MeanEstimate`, :class:`TotalEstimate`,
:class:`ProportionEstimate`, :class:`DifferenceEstimate`), the argument types
(:data:`CIMethod`, :data:`CIDf`, :data:`Deff`), and the pieces every estimator uses
whatever the design: masks and values checked against the design's rows, the
t quantile, R's Korn–Graubard interval and R's design effect against simple random
sampling. Nothing here knows how a variance is computed: that is the design's
(:mod:`harmonise.estimate.variances`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

from harmonise.errors import EstimationError

CIMethod = Literal["logit", "wald", "beta"]
#: Degrees of freedom of an interval: the design's (``"design"``) or the normal (``"inf"``).
CIDf = Literal["design", "inf"]
#: R's ``deff=``: ``True`` against simple random sampling without replacement (with the
#: finite population correction Σw), ``"replace"`` against sampling with replacement.
Deff = bool | Literal["replace"]
CI_METHODS: tuple[str, ...] = ("logit", "wald", "beta")

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class ProportionEstimate:
    """A weighted proportion of a domain, with its design-based SE and interval.

    ``n`` and ``n_success`` are unweighted counts in the domain; ``weighted_base`` is the
    domain's sum of weights; ``deff`` is R's ``svymean(deff=TRUE)`` design effect (None
    when not asked for or undefined, e.g. weights summing to less than ``n``).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci_method: str
    df: int
    deff: float | None
    n: int
    n_success: int
    weighted_base: float


@dataclass(frozen=True)
class MeanEstimate:
    """A weighted mean of a domain, with its SE and a Wald interval on ``df``."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci_method: str
    df: int
    deff: float | None
    n: int
    weighted_base: float


@dataclass(frozen=True)
class TotalEstimate:
    """A weighted total of a domain, its SE, a Wald interval on ``df`` and R's deff."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci_method: str
    df: int
    deff: float | None
    n: int
    weighted_base: float


@dataclass(frozen=True)
class DifferenceEstimate:
    """Mean in domain A minus mean in domain B of one design, with their covariance.

    ``covariance`` is the 2 × 2 matrix of the two means (R's ``svyby(covmat=TRUE)``);
    ``se = √(v_AA + v_BB − 2 v_AB)``; the interval uses ``df`` of the whole design.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: int
    mean_a: float
    mean_b: float
    covariance: tuple[tuple[float, float], tuple[float, float]]


def as_mask(name: str, values: np.ndarray, n: int) -> BoolArray:
    raw = np.asarray(values)
    if raw.ndim != 1 or raw.size != n:
        raise EstimationError(
            f"{name}: {raw.size} value(s) for a design of {n} respondents; give one per "
            "respondent, in the design's row order"
        )
    if raw.dtype != np.bool_:
        if not (np.issubdtype(raw.dtype, np.number) and np.isin(raw, (0, 1)).all()):
            raise EstimationError(
                f"{name} must be boolean (True/False or 0/1), got dtype {raw.dtype}; "
                "missing answers belong outside the domain, not in it"
            )
        raw = raw.astype(np.bool_)
    return raw


def check_level(level: float) -> None:
    if not 0 < level < 1:
        raise EstimationError(f"level must be between 0 and 1 (e.g. 0.95), got {level}")


def group_of(n: int, d: BoolArray, group: np.ndarray | None) -> BoolArray:
    """The rows the caller subset the design to (R's design before ``na.rm`` drops rows
    missing the variable); the domain ``d`` must lie inside it. Default: ``d`` itself."""
    if group is None:
        return d
    g = as_mask("group", group, n)
    if (d & ~g).any():
        raise EstimationError(
            "the domain has respondents outside its group; the group must contain the "
            "domain (it is the subgroup before respondents missing the variable are left out)"
        )
    return g


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile (the normal one at ``df = inf``); NaN below 1 df, as R."""
    return float(special.stdtrit(df, p)) if df >= 1 else math.nan


def interval_t(level: float, df: float) -> float:
    """The t quantile of a two-sided interval at ``level`` (checked) on ``df``."""
    check_level(level)
    return t_quantile(1 - (1 - level) / 2, df)


def interval_df(df: int, ci_df: CIDf) -> float:
    """The degrees of freedom an interval uses: the design's, or infinity (normal)."""
    if ci_df not in ("design", "inf"):
        raise EstimationError(f"ci_df={ci_df!r}: use 'design' or 'inf'")
    return math.inf if ci_df == "inf" else float(df)


def mean_deff(variance: float, w: FloatArray, dev: FloatArray, kind: Deff,
              *, guard: bool = True) -> float | None:
    """R's svymean deff of a domain (its rows' weights ``w`` and deviations from the mean
    ``dev``): variance / (s² (Σw − n) / (Σw n)), s² with divisor n − 1; ``kind="replace"``:
    variance / (s² / n). ``guard``: NA when the weights add to less than n (R's Taylor
    designs warn "are weights correctly scaled?"; its replicate designs do not)."""
    n = int(w.size)
    base = float(w.sum())
    if not kind:
        return None
    if n < 2 or (guard and kind != "replace" and base < n):
        return None  # R: NA or 0/0
    s2 = n / (n - 1) * float(np.dot(w, dev * dev)) / base
    vsrs = s2 / n if kind == "replace" else s2 * (base - n) / (base * n)
    if vsrs == 0:
        return math.inf if variance > 0 else None
    return variance / vsrs


def beta_interval(
    p: float, variance: float, n: int, rows: int, df: float, level: float
) -> tuple[float, float]:
    """R's svyciprop(method="beta"); with no variance information (p at 0 or 1) the
    effective n is the unweighted domain size, so an interval still results."""
    alpha = 1 - level
    ratio = t_quantile(alpha / 2, rows - 1) / t_quantile(alpha / 2, df)
    n_eff = (p * (1 - p) / variance if variance > 0 else float(n)) * ratio**2
    if math.isnan(n_eff):
        return math.nan, math.nan
    # scipy.special's inverses, as scipy.stats.beta.ppf uses them (no scipy.stats import)
    low = 0.0 if p == 0 else float(special.betaincinv(n_eff * p, n_eff * (1 - p) + 1,
                                                      alpha / 2))
    high = 1.0 if p == 1 else float(special.betaincinv(n_eff * p + 1, n_eff * (1 - p),
                                                       1 - alpha / 2))
    return low, high


def domain_values(name: str, y: np.ndarray, d: NDArray[np.bool_], n: int) -> FloatArray:
    """``y`` as floats, zero outside the domain ``d``; an error (naming rows) when it is
    missing or infinite inside the domain or has the wrong length."""
    values = np.asarray(y, dtype=np.float64)
    if values.shape != (n,):
        raise EstimationError(
            f"{name}: {values.size} value(s) for a design of {n} respondents; give one per "
            "respondent"
        )
    bad = d & ~np.isfinite(values)
    if bad.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:10])
        raise EstimationError(
            f"{name} is missing or infinite for {int(bad.sum())} respondent(s) in the domain "
            f"(rows {rows}, 1-based); leave them out of the domain or impute"
        )
    return np.where(d, values, 0.0)


__all__ = [
    "CI_METHODS",
    "CIDf",
    "CIMethod",
    "Deff",
    "DifferenceEstimate",
    "MeanEstimate",
    "ProportionEstimate",
    "TotalEstimate",
    "as_mask",
    "beta_interval",
    "check_level",
    "domain_values",
    "group_of",
    "interval_df",
    "interval_t",
    "mean_deff",
    "t_quantile",
]
