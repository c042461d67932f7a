"""Taylor-linearised estimates of proportions and means for a domain of a :class:`Design`.

Every number agrees with R's ``survey`` package (4.1.1)::

    sub <- subset(d, domain)
    svyciprop(~I(success), sub, method = ci, level = level)   # estimate and interval
    svymean(~I(success * 1), sub, deff = TRUE)                  # se and deff
    degf(sub)                                                   # df of the interval

``tests/estimate/test_against_r.py`` checks this to 1e-6 relative. How R computes it:

* Linearisation: scores ``z_i = w_i (y_i − ȳ) / Σ_domain w`` in the domain, 0 outside;
  rows outside the domain are never dropped.
* Variance of the scores' total: :func:`harmonise.estimate.variance.variance_matrix`
  (R's ``svyrecvar``: calibration adjustments — raking backfit, post-stratification,
  GREG residuals — then the multistage variance with fpc and lonely-PSU options). As
  in R, a domain of an uncalibrated design looks only at strata with respondents in the
  domain; a calibrated design's domains keep every row.
* ``df = `` distinct PSUs − distinct strata among the domain's respondents (R ``degf``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.estimate.variance import degrees_of_freedom as _degf
from harmonise.estimate.variance import variance_matrix

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


def _mask(name: str, values: np.ndarray, n: int) -> BoolArray:
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


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise EstimationError(f"level must be between 0 and 1 (e.g. 0.95), got {level}")


def linearised_variance(design: Design, scores: np.ndarray, domain: np.ndarray) -> float:
    """Variance of the total of ``scores`` (0 outside ``domain``) under ``design``."""
    d = _mask("domain", domain, design.n)
    return float(variance_matrix(design, np.asarray(scores, dtype=np.float64), d)[0, 0])


def degrees_of_freedom(design: Design | ReplicateDesign, domain: np.ndarray) -> int:
    """R's ``degf(subset(design, domain))``: PSUs minus strata among the domain's rows
    (for a replicate design: the rank of the domain's replicate weights minus 1)."""
    d = _mask("domain", domain, design.n)
    if isinstance(design, ReplicateDesign):
        return design.domain_df(d)
    return _degf(design, d)


def group_of(design: Design | ReplicateDesign, d: BoolArray, group: np.ndarray | None
             ) -> BoolArray:
    """The rows the caller subset the design to (R's design before ``na.rm`` drops rows
    missing the variable); the domain ``d`` must lie inside it. Default: ``d`` itself."""
    if group is None:
        return d
    g = _mask("group", group, design.n)
    if (d & ~g).any():
        raise EstimationError(
            "the domain has respondents outside its group; the group must contain the "
            "domain (it is the subgroup before respondents missing the variable are left out)"
        )
    return g


def _t(p: float, df: float) -> float:
    return float(special.stdtrit(df, p)) if df >= 1 else math.nan  # = stats.t.ppf


def interval_df(df: int, ci_df: CIDf) -> float:
    """The degrees of freedom an interval uses: the design's, or infinity (normal)."""
    if ci_df not in ("design", "inf"):
        raise EstimationError(f"ci_df={ci_df!r}: use 'design' or 'inf'")
    return math.inf if ci_df == "inf" else float(df)


def _deff(variance: float, wd: FloatArray, dev: FloatArray, n: int, base: float,
          kind: Deff = True) -> float | None:
    """R's svymean deff: variance / (s² (Σw − n) / (Σw n)), s² with divisor n − 1;
    ``kind="replace"``: variance / (s² / n)."""
    if not kind:
        return None
    if n < 2 or (kind != "replace" and base < n):
        return None  # R: NA ("are weights correctly scaled?") or 0/0
    s2 = n / (n - 1) * float(np.dot(wd, dev * dev)) / base
    vsrs = s2 / n if kind == "replace" else s2 * (base - n) / (base * n)
    if vsrs == 0:
        return math.inf if variance > 0 else None
    return variance / vsrs


def _beta_ci(
    p: float, variance: float, n: int, rows: int, df: float, level: float
) -> tuple[float, float]:
    """R's svyciprop(method="beta"); with no variance information (p at 0 or 1) the
    effective n is the unweighted domain size, so an interval still results."""
    alpha = 1 - level
    ratio = _t(alpha / 2, rows - 1) / _t(alpha / 2, df)
    n_eff = (p * (1 - p) / variance if variance > 0 else float(n)) * ratio**2
    if math.isnan(n_eff):
        return math.nan, math.nan
    from scipy import stats  # only for Korn–Graubard: scipy.stats takes ~0.5 s to import

    low = 0.0 if p == 0 else float(stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1))
    high = 1.0 if p == 1 else float(stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)))
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


def _domain_weights(design: Design, d: BoolArray) -> tuple[FloatArray, int, float]:
    n = int(d.sum())
    if n == 0:
        raise EstimationError(
            "the domain has no respondents, so nothing can be estimated for it; check the "
            "subgroup definition or leave the cell out of the table"
        )
    wd = np.where(d, design.weights, 0.0)
    return wd, n, float(wd.sum())


def proportion(
    design: Design,
    success: np.ndarray,
    domain: np.ndarray,
    *,
    level: float = 0.95,
    ci: CIMethod = "logit",
    deff: Deff = True,
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> ProportionEstimate:
    """Weighted proportion of ``success`` among respondents in ``domain``.

    ``ci``: ``"logit"`` (R's default: ``expit(logit p ± t·se/(p(1−p)))``), ``"wald"``
    (``p ± t·se``) or ``"beta"`` (Korn–Graubard with R's effective-n rule). At ``p = 0``
    or ``1`` the SE is 0 and the logit interval is undefined: it falls back to ``beta``
    with the unweighted domain size as effective n (``ci_method`` records the fallback).
    With ``df = 0`` the interval is NaN, as in R.
    ``ci_df``: ``"design"`` (the interval on the design's degrees of freedom, R's
    ``confint(..., df = degf(design))`` and ``svyciprop``'s default) or ``"inf"`` (the
    normal quantile, R's ``confint()`` default). The Korn–Graubard interval keeps the
    design's df either way, as R's ``svyciprop(method = "beta")`` does.
    ``group`` is the subgroup the caller subset the design to, before leaving out the
    respondents missing ``y`` (R's ``na.rm=TRUE`` keeps the whole design): the interval's
    degrees of freedom and R's row count come from it (default: the domain itself).
    """
    if ci not in CI_METHODS:
        raise EstimationError(f"ci={ci!r} is not a method; use one of {', '.join(CI_METHODS)}")
    _check_level(level)
    s = _mask("success", success, design.n)
    d = _mask("domain", domain, design.n)
    wd, n, base = _domain_weights(design, d)
    n_success = int(np.count_nonzero(s & d))
    if n_success == 0:
        p = 0.0
    elif n_success == n:
        p = 1.0
    else:
        p = min(max(float(np.dot(wd, s)) / base, 0.0), 1.0)
    dev = s.astype(np.float64) - p
    variance = linearised_variance(design, wd * dev / base, d)
    se = math.sqrt(variance)
    g = group_of(design, d, group)
    df = degrees_of_freedom(design, g)
    tq = _t(1 - (1 - level) / 2, interval_df(df, ci_df))
    method: str = ci
    if ci == "logit" and 0 < p < 1:
        half = tq * se / (p * (1 - p))
        low, high = (float(special.expit(special.logit(p) + h)) for h in (-half, half))
    elif ci == "wald":
        low, high = p - tq * se, p + tq * se
    else:
        if ci == "logit":
            method = "beta (logit fallback: p = 0 or 1)"
        rows = design.n if design.calibrated else int(g.sum())  # R's nrow(subset design)
        low, high = _beta_ci(p, variance, n, rows, df, level)  # R: degf, whatever df=
    return ProportionEstimate(
        estimate=p,
        se=se,
        ci_low=low,
        ci_high=high,
        ci_method=method,
        df=df,
        deff=_deff(variance, wd, dev, n, base, deff),
        n=n,
        n_success=n_success,
        weighted_base=base,
    )


def mean(
    design: Design,
    y: np.ndarray,
    domain: np.ndarray,
    *,
    level: float = 0.95,
    deff: Deff = True,
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> MeanEstimate:
    """Weighted mean of ``y`` in ``domain`` with a Wald interval on ``df`` (R's
    ``confint(svymean(~y, subset(d, domain)), df = degf(...))``). ``y`` may be NaN
    outside the domain, not inside it.
    ``ci_df``: ``"design"`` (the interval on the design's degrees of freedom, R's
    ``confint(..., df = degf(design))`` and ``svyciprop``'s default) or ``"inf"`` (the
    normal quantile, R's ``confint()`` default).

    ``group`` is the subgroup the caller subset the design to, before leaving out the
    respondents missing ``y`` (R's ``na.rm=TRUE`` keeps the whole design): the interval's
    degrees of freedom and R's row count come from it (default: the domain itself).
    """
    _check_level(level)
    d = _mask("domain", domain, design.n)
    yd = domain_values("y", y, d, design.n)
    wd, n, base = _domain_weights(design, d)
    estimate = float(np.dot(wd, yd)) / base
    dev = np.where(d, yd - estimate, 0.0)
    variance = linearised_variance(design, wd * dev / base, d)
    se = math.sqrt(variance)
    df = degrees_of_freedom(design, group_of(design, d, group))
    tq = _t(1 - (1 - level) / 2, interval_df(df, ci_df))
    return MeanEstimate(
        estimate=estimate,
        se=se,
        ci_low=estimate - tq * se,
        ci_high=estimate + tq * se,
        ci_method="wald",
        df=df,
        deff=_deff(variance, wd, dev, n, base, deff),
        n=n,
        weighted_base=base,
    )


__all__ = [
    "CI_METHODS",
    "CIDf",
    "CIMethod",
    "Deff",
    "MeanEstimate",
    "ProportionEstimate",
    "degrees_of_freedom",
    "interval_df",
    "linearised_variance",
    "mean",
    "proportion",
]
