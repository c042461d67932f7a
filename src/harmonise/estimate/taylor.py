"""Taylor-linearised estimates of proportions and means for a domain of a :class:`Design`.

Every number agrees with R's ``survey`` package (4.1.1)::

    sub <- subset(d, domain)
    svyciprop(~I(success), sub, method = ci, level = level)   # estimate and interval
    svymean(~I(success * 1), sub, deff = TRUE)                  # se and deff
    degf(sub)                                                   # df of the interval

``tests/estimate/test_against_r.py`` checks this to 1e-6 relative. How R computes it:

* Linearisation: scores ``z_i = w_i (y_i − ȳ) / Σ_domain w`` in the domain, 0 outside;
  rows outside the domain are never dropped.
* Raked designs: before the variance, 10 backfitting sweeps (exactly 10, as R) over the
  raking margins replace ``z`` by ``z − w · mean_c(z / w)``, the unweighted mean over all
  respondents in each margin category ``c`` (R's ``svyrecvar`` for ``rake()``d designs).
* One-stage variance: ``Σ_h n_h/(n_h − 1) Σ_j (t_hj − t̄_h)²`` over PSU totals ``t_hj``
  of stratum ``h``, ``n_h`` counting every PSU of the stratum in the whole sample.
* A stratum with one PSU follows ``Design.lonely_psu`` as R's ``survey.lonely.psu``:
  ``fail`` raises, ``remove`` and ``certainty`` add 0, ``adjust`` adds the squared PSU
  total (centred at 0, the population mean of the scores), ``average`` scales the
  other strata's sum by ``strata / strata with ≥ 2 PSUs``. As in R, the strata looked at
  are those with respondents in the domain — or all strata for a raked design, whose
  domains keep every row.
* ``df = `` distinct PSUs − distinct strata among the domain's respondents (R ``degf``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

from harmonise.errors import EstimationError
from harmonise.estimate.design import LONELY_PSU_OPTIONS, Design

CIMethod = Literal["logit", "wald", "beta"]
CI_METHODS: tuple[str, ...] = ("logit", "wald", "beta")
#: R's svyrecvar backfits raking margins with exactly this many sweeps.
RAKING_SWEEPS = 10

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


def _backfit(design: Design, x: FloatArray) -> FloatArray:
    """R's calibration adjustment of scores for a rake()d design (10 sweeps)."""
    w = design.weights
    for _ in range(RAKING_SWEEPS):
        for codes in design.raking_codes:
            k = int(codes.max()) + 1
            means = np.bincount(codes, weights=x / w, minlength=k) / np.bincount(codes, minlength=k)
            x = x - w * means[codes]
    return x


def _lonely_message(design: Design, lonely: NDArray[np.int64]) -> str:
    names = ", ".join(str(int(design.stratum_values[h])) for h in lonely)
    which = f"strata {names} have" if lonely.size > 1 else f"stratum {names} has"
    return (
        f"{which} only one PSU (cluster), so the variance within it cannot be estimated; "
        "set Design(lonely_psu=...) to one of "
        f"{', '.join(o for o in LONELY_PSU_OPTIONS if o != 'fail')} "
        "(as R's options(survey.lonely.psu=...)), or collapse the stratum with a similar one"
    )


def linearised_variance(design: Design, scores: np.ndarray, domain: np.ndarray) -> float:
    """Variance of the total of ``scores`` (0 outside ``domain``) under ``design``."""
    x = np.asarray(scores, dtype=np.float64)
    d = _mask("domain", domain, design.n)
    if design.raking:
        x = _backfit(design, x)
    n_h = design.psus_per_stratum
    psu_h = design.psu_stratum
    totals = np.bincount(design.psu_index, weights=x, minlength=psu_h.size)
    centre = np.bincount(psu_h, weights=totals, minlength=n_h.size) / n_h
    ss = np.bincount(psu_h, weights=(totals - centre[psu_h]) ** 2, minlength=n_h.size)
    active = design.stratum_index if design.calibrated else design.stratum_index[d]
    strata = np.unique(active)
    ok = strata[n_h[strata] > 1]
    lonely = strata[n_h[strata] == 1]
    variance = float(np.sum(ss[ok] * n_h[ok] / (n_h[ok] - 1)))
    if lonely.size == 0:
        return variance
    option = design.lonely_psu
    if option == "fail":
        raise EstimationError(_lonely_message(design, lonely))
    if option == "adjust":
        on_own = np.isin(psu_h, lonely)
        variance += float(np.sum(totals[on_own] ** 2))
    elif option == "average":
        if ok.size == 0:
            raise EstimationError(
                "lonely_psu='average' needs at least one stratum with two or more PSUs, but "
                "every stratum has one; use 'adjust' or 'remove', or collapse strata"
            )
        variance *= strata.size / ok.size
    return variance


def degrees_of_freedom(design: Design, domain: np.ndarray) -> int:
    """R's ``degf(subset(design, domain))``: PSUs minus strata among the domain's rows."""
    d = _mask("domain", domain, design.n)
    psus = np.unique(design.psu_index[d]).size
    strata = np.unique(design.stratum_index[d]).size
    return int(psus - strata)


def _t(p: float, df: float) -> float:
    return float(stats.t.ppf(p, df)) if df >= 1 else math.nan


def _deff(variance: float, wd: FloatArray, dev: FloatArray, n: int, base: float) -> float | None:
    """R's svymean deff: variance / (s² (Σw − n) / (Σw n)), s² with divisor n − 1."""
    if base < n or n < 2:
        return None  # R: NA ("are weights correctly scaled?") or 0/0
    s2 = n / (n - 1) * float(np.dot(wd, dev * dev)) / base
    vsrs = s2 * (base - n) / (base * n)
    if vsrs == 0:
        return math.inf if variance > 0 else None
    return variance / vsrs


def _beta_ci(
    p: float, variance: float, n: int, rows: int, df: int, level: float
) -> tuple[float, float]:
    """R's svyciprop(method="beta"); with no variance information (p at 0 or 1) the
    effective n is the unweighted domain size, so an interval still results."""
    alpha = 1 - level
    ratio = _t(alpha / 2, rows - 1) / _t(alpha / 2, df)
    n_eff = (p * (1 - p) / variance if variance > 0 else float(n)) * ratio**2
    if math.isnan(n_eff):
        return math.nan, math.nan
    low = 0.0 if p == 0 else float(stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1))
    high = 1.0 if p == 1 else float(stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)))
    return low, high


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
    deff: bool = True,
) -> ProportionEstimate:
    """Weighted proportion of ``success`` among respondents in ``domain``.

    ``ci``: ``"logit"`` (R's default: ``expit(logit p ± t·se/(p(1−p)))``), ``"wald"``
    (``p ± t·se``) or ``"beta"`` (Korn–Graubard with R's effective-n rule). At ``p = 0``
    or ``1`` the SE is 0 and the logit interval is undefined: it falls back to ``beta``
    with the unweighted domain size as effective n (``ci_method`` records the fallback).
    With ``df = 0`` the interval is NaN, as in R.
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
    df = degrees_of_freedom(design, d)
    tq = _t(1 - (1 - level) / 2, df)
    method: str = ci
    if ci == "logit" and 0 < p < 1:
        half = tq * se / (p * (1 - p))
        low, high = (float(special.expit(special.logit(p) + h)) for h in (-half, half))
    elif ci == "wald":
        low, high = p - tq * se, p + tq * se
    else:
        if ci == "logit":
            method = "beta (logit fallback: p = 0 or 1)"
        rows = design.n if design.calibrated else n  # R's nrow() of the subset design
        low, high = _beta_ci(p, variance, n, rows, df, level)
    return ProportionEstimate(
        estimate=p,
        se=se,
        ci_low=low,
        ci_high=high,
        ci_method=method,
        df=df,
        deff=_deff(variance, wd, dev, n, base) if deff else None,
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
    deff: bool = True,
) -> MeanEstimate:
    """Weighted mean of ``y`` in ``domain`` with a Wald interval on ``df`` (R's
    ``confint(svymean(~y, subset(d, domain)), df = degf(...))``). ``y`` may be NaN
    outside the domain, not inside it."""
    _check_level(level)
    d = _mask("domain", domain, design.n)
    values = np.asarray(y, dtype=np.float64)
    if values.ndim != 1 or values.size != design.n:
        raise EstimationError(
            f"y: {values.size} value(s) for a design of {design.n} respondents; give one per "
            "respondent"
        )
    bad = d & ~np.isfinite(values)
    if bad.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:10])
        raise EstimationError(
            f"y is missing or infinite for {int(bad.sum())} respondent(s) in the domain (rows "
            f"{rows}, 1-based); leave them out of the domain or impute"
        )
    wd, n, base = _domain_weights(design, d)
    yd = np.where(d, values, 0.0)
    estimate = float(np.dot(wd, yd)) / base
    dev = np.where(d, yd - estimate, 0.0)
    variance = linearised_variance(design, wd * dev / base, d)
    se = math.sqrt(variance)
    df = degrees_of_freedom(design, d)
    tq = _t(1 - (1 - level) / 2, df)
    return MeanEstimate(
        estimate=estimate,
        se=se,
        ci_low=estimate - tq * se,
        ci_high=estimate + tq * se,
        ci_method="wald",
        df=df,
        deff=_deff(variance, wd, dev, n, base) if deff else None,
        n=n,
        weighted_base=base,
    )


__all__ = [
    "CI_METHODS",
    "CIMethod",
    "MeanEstimate",
    "ProportionEstimate",
    "degrees_of_freedom",
    "linearised_variance",
    "mean",
    "proportion",
]
