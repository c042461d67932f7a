"""Totals, proportions of every category, and differences between domains.

Each agrees with R's ``survey`` (4.1.1)::

    svytotal(~y, subset(d, domain), deff = TRUE)             # total()
    confint(., df = degf(subset(d, domain)))
    svymean(~factor(v), subset(d, domain))                    # proportions(): estimate, se
    b <- svyby(~y, ~g, d, svymean, covmat = TRUE)             # difference()
    svycontrast(b, c(1, -1)); confint(., df = degf(d))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design
from harmonise.estimate.taylor import (
    CIDf,
    CIMethod,
    Deff,
    ProportionEstimate,
    _mask,
    domain_values,
    group_of,
    interval_df,
    proportion,
)
from harmonise.estimate.variance import degrees_of_freedom, variance_matrix

FloatArray = NDArray[np.float64]


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


def _t(level: float, df: float) -> float:
    if not 0 < level < 1:
        raise EstimationError(f"level must be between 0 and 1 (e.g. 0.95), got {level}")
    return float(special.stdtrit(df, 1 - (1 - level) / 2)) if df >= 1 else math.nan


def total(
    design: Design, y: np.ndarray, domain: np.ndarray, *, level: float = 0.95,
    deff: Deff = True, group: np.ndarray | None = None, ci_df: CIDf = "design",
) -> TotalEstimate:
    """Weighted total of ``y`` over ``domain`` (R ``svytotal`` on the domain subset).

    ``group`` is the subgroup the caller subset the design to, before leaving out the
    respondents missing ``y`` (R's ``na.rm=TRUE`` keeps the whole design): the interval's
    degrees of freedom and R's row count come from it (default: the domain itself).
    """
    d = _mask("domain", domain, design.n)
    n = int(d.sum())
    if n == 0:
        raise EstimationError("the domain has no respondents, so its total cannot be estimated")
    yd = domain_values("y", y, d, design.n)
    wd = np.where(d, design.weights, 0.0)
    estimate = float(np.dot(wd, yd))
    variance = float(variance_matrix(design, wd * yd, d)[0, 0])
    df = degrees_of_freedom(design, group_of(design, d, group))
    return total_result(estimate, variance, df, wd[d], yd[d], level=level, deff=deff,
                        ci_df=ci_df)


def total_result(
    estimate: float,
    variance: float,
    df: int,
    w: FloatArray,
    y: FloatArray,
    *,
    level: float,
    deff: Deff,
    ci_df: CIDf = "design",
) -> TotalEstimate:
    """A domain total's :class:`TotalEstimate` from its variance (Taylor or replicate):
    a Wald interval on ``df`` and R's ``svytotal`` deff against simple random sampling
    (without replacement, or with it for ``deff="replace"``).
    ``w`` and ``y`` are the domain's weights and values (its rows only)."""
    n = int(w.size)
    se = math.sqrt(variance)
    tq = _t(level, interval_df(df, ci_df))
    base = float(w.sum())
    design_effect = None
    if deff and n > 1:
        mean = estimate / base
        s2 = n / (n - 1) * float(np.dot(w, (y - mean) ** 2)) / base
        vsrs = s2 * base * base / n if deff == "replace" else s2 * base * (base - n) / n
        design_effect = variance / vsrs if vsrs != 0 else None
    return TotalEstimate(
        estimate=estimate,
        se=se,
        ci_low=estimate - tq * se,
        ci_high=estimate + tq * se,
        ci_method="wald",
        df=df,
        deff=design_effect,
        n=n,
        weighted_base=base,
    )


def proportions(
    design: Design,
    codes: np.ndarray,
    domain: np.ndarray,
    *,
    categories: Sequence[int] | None = None,
    level: float = 0.95,
    ci: CIMethod = "logit",
    deff: Deff = True,
) -> list[tuple[int, ProportionEstimate]]:
    """The proportion of each category of ``codes`` among the domain's respondents.

    ``codes`` holds an integer category per respondent (any value outside the domain);
    ``categories`` lists which to report (default: every code seen in the domain).
    """
    d = _mask("domain", domain, design.n)
    values = np.asarray(codes)
    if values.shape != (design.n,):
        raise EstimationError(
            f"codes: {values.size} value(s) for a design of {design.n} respondents"
        )
    cats = sorted({int(c) for c in values[d]}) if categories is None else list(categories)
    return [(c, proportion(design, values == c, d, level=level, ci=ci, deff=deff)) for c in cats]


def domain_means_covariance(
    design: Design, y: np.ndarray, domains: Sequence[np.ndarray]
) -> tuple[FloatArray, FloatArray]:
    """Means of ``y`` in each domain and their covariance matrix (R's
    ``svyby(~y, ~g, d, svymean, covmat = TRUE)``: influence functions, whole design)."""
    masks = [_mask(f"domain {i + 1}", m, design.n) for i, m in enumerate(domains)]
    means = np.empty(len(masks))
    scores = np.zeros((design.n, len(masks)))
    for i, d in enumerate(masks):
        if not d.any():
            raise EstimationError(f"domain {i + 1} has no respondents; drop it from the comparison")
        yd = domain_values("y", y, d, design.n)
        wd = np.where(d, design.weights, 0.0)
        means[i] = float(np.dot(wd, yd)) / float(wd.sum())
        scores[:, i] = wd * np.where(d, yd - means[i], 0.0) / float(wd.sum())
    everyone = np.ones(design.n, dtype=bool)
    return means, variance_matrix(design, scores, everyone)


def difference(
    design: Design,
    y: np.ndarray,
    domain_a: np.ndarray,
    domain_b: np.ndarray,
    *,
    level: float = 0.95,
) -> DifferenceEstimate:
    """Mean of ``y`` in ``domain_a`` minus in ``domain_b``, accounting for their
    covariance within the one design (use a 0/1 ``y`` for a difference of proportions)."""
    means, cov = domain_means_covariance(design, y, [domain_a, domain_b])
    variance = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(max(variance, 0.0))
    estimate = float(means[0] - means[1])
    df = degrees_of_freedom(design, np.ones(design.n, dtype=bool))
    tq = _t(level, df)
    return DifferenceEstimate(
        estimate=estimate,
        se=se,
        ci_low=estimate - tq * se,
        ci_high=estimate + tq * se,
        df=df,
        mean_a=float(means[0]),
        mean_b=float(means[1]),
        covariance=((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
    )


__all__ = [
    "DifferenceEstimate",
    "TotalEstimate",
    "difference",
    "domain_means_covariance",
    "proportions",
    "total",
    "total_result",
]
