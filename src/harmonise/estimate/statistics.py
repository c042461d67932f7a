"""One estimator per statistic, whatever the design: mean, total, proportion, quantile and
the difference between two domains of one design.

Each computes its point estimate from the full-sample weights and asks the design how to
compute the variance (:mod:`harmonise.estimate.variances`: Taylor linearisation for a
:class:`~harmonise.estimate.design.Design`, replicate weights for a
:class:`~harmonise.estimate.replicates.ReplicateDesign`). Every number agrees with R's
``survey`` (4.1.1)::

    sub <- subset(d, group)
    svymean(~y, sub, na.rm = TRUE, deff = TRUE); confint(., df = degf(sub))   # mean()
    svytotal(~y, sub, na.rm = TRUE, deff = TRUE)                               # total()
    svyciprop(~I(x == "a"), sub, method = ci, na.rm = TRUE)                    # proportion()
    svyquantile(~y, sub, p, ci = TRUE, qrule =, interval.type =)               # quantile()
    b <- svyby(~y, ~g, d, svymean, covmat = TRUE); svycontrast(b, c(1, -1))   # difference()

``quantile``, ``difference`` and ``domain_means_covariance`` are generic functions with
one implementation per kind of design (:mod:`.quantiles` / :mod:`.rep_quantiles`, the
influence functions below / :mod:`.rep_differences`), since their intervals differ in
kind (R's score interval is Taylor-only, its replicate-quantile interval replicate-only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import singledispatch

import numpy as np
from numpy.typing import NDArray
from scipy import special

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design
from harmonise.estimate.quantiles import (
    QRule,
    QuantileEstimate,
    QuantileInterval,
    linearised_quantile,
)
from harmonise.estimate.rep_differences import (
    replicate_difference,
    replicate_domain_means_covariance,
)
from harmonise.estimate.rep_quantiles import replicate_quantile
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.estimate.results import (
    CI_METHODS,
    CIDf,
    CIMethod,
    Deff,
    DifferenceEstimate,
    MeanEstimate,
    ProportionEstimate,
    TotalEstimate,
    as_mask,
    beta_interval,
    check_level,
    domain_values,
    group_of,
    interval_df,
    interval_t,
    mean_deff,
)
from harmonise.estimate.variance import variance_matrix
from harmonise.estimate.variances import (
    deff_guard,
    degf,
    logit_interval,
    mean_variance,
    nrow,
    total_variance,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
AnyDesign = Design | ReplicateDesign

_GROUP_DOC = """
    ``group`` is the subgroup the caller subset the design to, before leaving out the
    respondents missing ``y`` (R's ``na.rm=TRUE`` keeps the whole design): the interval's
    degrees of freedom and R's row count come from it (default: the domain itself).
    ``ci_df``: ``"design"`` (R's ``confint(..., df = degf(design))``, ``svyciprop``'s
    default) or ``"inf"`` (the normal quantile, R's ``confint()`` default)."""


def _domain(design: AnyDesign, domain: np.ndarray) -> tuple[BoolArray, int]:
    d = as_mask("domain", domain, design.n)
    n = int(d.sum())
    if n == 0:
        raise EstimationError(
            "the domain has no respondents, so nothing can be estimated for it; check the "
            "subgroup definition or leave the cell out of the table"
        )
    return d, n


def mean(
    design: AnyDesign,
    y: np.ndarray,
    domain: np.ndarray,
    *,
    level: float = 0.95,
    deff: Deff = True,
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> MeanEstimate:
    """Weighted mean of ``y`` in ``domain`` with a Wald interval on ``df`` (R's
    ``confint(svymean(~y, subset(d, domain)), df = degf(...))``). ``y`` may be NaN outside
    the domain, not inside it."""
    check_level(level)
    d, n = _domain(design, domain)
    yd = domain_values("y", y, d, design.n)
    w = design.weights[d]
    estimate = float(np.dot(w, yd[d])) / float(w.sum())
    variance = mean_variance(design, yd, d, estimate)
    se = math.sqrt(variance)
    df = degf(design, group_of(design.n, d, group))
    tq = interval_t(level, interval_df(df, ci_df))
    return MeanEstimate(
        estimate=estimate,
        se=se,
        ci_low=estimate - tq * se,
        ci_high=estimate + tq * se,
        ci_method="wald",
        df=df,
        deff=mean_deff(variance, w, yd[d] - estimate, deff, guard=deff_guard(design)),
        n=n,
        weighted_base=float(w.sum()),
    )


mean.__doc__ = (mean.__doc__ or "") + _GROUP_DOC


def total(
    design: AnyDesign,
    y: np.ndarray,
    domain: np.ndarray,
    *,
    level: float = 0.95,
    deff: Deff = True,
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> TotalEstimate:
    """Weighted total of ``y`` over ``domain`` (R ``svytotal`` on the domain subset)."""
    d = as_mask("domain", domain, design.n)
    if not d.any():
        raise EstimationError("the domain has no respondents, so its total cannot be estimated")
    yd = domain_values("y", y, d, design.n)
    w = design.weights[d]
    estimate = float(np.dot(w, yd[d]))
    variance = total_variance(design, yd, d, estimate)
    df = degf(design, group_of(design.n, d, group))
    return total_result(estimate, variance, df, w, yd[d], level=level, deff=deff, ci_df=ci_df)


total.__doc__ = (total.__doc__ or "") + _GROUP_DOC


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
    """A domain total's :class:`TotalEstimate` from its variance: a Wald interval on
    ``df`` and R's ``svytotal`` deff against simple random sampling (without replacement,
    or with it for ``deff="replace"``). ``w`` and ``y`` are the domain's weights and
    values (its rows only)."""
    n = int(w.size)
    se = math.sqrt(variance)
    tq = interval_t(level, interval_df(df, ci_df))
    base = float(w.sum())
    design_effect = None
    if deff and n > 1:
        average = estimate / base
        s2 = n / (n - 1) * float(np.dot(w, (y - average) ** 2)) / base
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


def proportion(
    design: AnyDesign,
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

    ``ci``: ``"logit"`` (R's default: ``expit(logit p ± t·se/(p(1−p)))`` for a Taylor
    design, R's ``svyglm`` fits for a replicate design), ``"wald"`` (``p ± t·se``, R's
    ``method = "mean"``) or ``"beta"`` (Korn–Graubard with R's effective-n rule; it keeps
    the design's df whatever ``ci_df`` says, as R's). At ``p = 0`` or ``1`` the SE is 0
    and the logit interval is undefined: it falls back to ``beta`` with the unweighted
    domain size as effective n (``ci_method`` records the fallback). With ``df = 0`` the
    interval is NaN, as in R.
    """
    if ci not in CI_METHODS:
        raise EstimationError(f"ci={ci!r} is not a method; use one of {', '.join(CI_METHODS)}")
    check_level(level)
    s = as_mask("success", success, design.n)
    d, n = _domain(design, domain)
    w = design.weights[d]
    base = float(w.sum())
    n_success = int(np.count_nonzero(s & d))
    if n_success == 0:
        p = 0.0
    elif n_success == n:
        p = 1.0
    else:
        p = min(max(float(np.dot(w, s[d])) / base, 0.0), 1.0)
    y = s.astype(np.float64)
    variance = mean_variance(design, y, d, p)
    se = math.sqrt(variance)
    g = group_of(design.n, d, group)
    df = degf(design, g)
    tq = interval_t(level, interval_df(df, ci_df))
    method: str = ci
    if ci == "logit" and 0 < p < 1:
        centre, v_logit = logit_interval(design, y, d, p, variance)
        half = tq * math.sqrt(v_logit)
        low, high = (float(special.expit(centre + h)) for h in (-half, half))
    elif ci == "wald":
        low, high = p - tq * se, p + tq * se
    else:
        if ci == "logit":
            method = "beta (logit fallback: p = 0 or 1)"
        low, high = beta_interval(p, variance, n, nrow(design, g), df, level)
    return ProportionEstimate(
        estimate=p,
        se=se,
        ci_low=low,
        ci_high=high,
        ci_method=method,
        df=df,
        deff=mean_deff(variance, w, y[d] - p, deff, guard=deff_guard(design)),
        n=n,
        n_success=n_success,
        weighted_base=base,
    )


proportion.__doc__ = (proportion.__doc__ or "") + _GROUP_DOC


def proportions(
    design: AnyDesign,
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
    d = as_mask("domain", domain, design.n)
    values = np.asarray(codes)
    if values.shape != (design.n,):
        raise EstimationError(
            f"codes: {values.size} value(s) for a design of {design.n} respondents"
        )
    cats = sorted({int(c) for c in values[d]}) if categories is None else list(categories)
    return [(c, proportion(design, values == c, d, level=level, ci=ci, deff=deff)) for c in cats]


@singledispatch
def quantile(
    design: object,
    y: np.ndarray,
    domain: np.ndarray,
    probs: Sequence[float] = (0.25, 0.5, 0.75),
    *,
    level: float = 0.95,
    interval: QuantileInterval = "mean",
    rule: QRule = "math",
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> tuple[QuantileEstimate, ...]:
    """Quantiles of ``y`` among respondents in ``domain``, one result per probability
    (R's ``svyquantile``; see :mod:`harmonise.estimate.quantiles`)."""
    raise EstimationError(f"no quantile estimator for a {type(design).__name__}")


quantile.register(Design, linearised_quantile)
quantile.register(ReplicateDesign, replicate_quantile)


@singledispatch
def domain_means_covariance(
    design: object, y: np.ndarray, domains: Sequence[np.ndarray]
) -> tuple[FloatArray, FloatArray]:
    """Means of ``y`` in each domain and their covariance matrix (R's
    ``svyby(~y, ~g, d, svymean, covmat = TRUE)``)."""
    raise EstimationError(f"no covariance estimator for a {type(design).__name__}")


@singledispatch
def difference(
    design: object,
    y: np.ndarray,
    domain_a: np.ndarray,
    domain_b: np.ndarray,
    *,
    level: float = 0.95,
) -> DifferenceEstimate:
    """Mean of ``y`` in ``domain_a`` minus in ``domain_b``, accounting for their
    covariance within the one design (use a 0/1 ``y`` for a difference of proportions)."""
    raise EstimationError(f"no difference estimator for a {type(design).__name__}")


def _linearised_means_covariance(
    design: Design, y: np.ndarray, domains: Sequence[np.ndarray]
) -> tuple[FloatArray, FloatArray]:
    """Means of ``y`` in each domain and their covariance matrix (R's
    ``svyby(~y, ~g, d, svymean, covmat = TRUE)``: influence functions, whole design)."""
    masks = [as_mask(f"domain {i + 1}", m, design.n) for i, m in enumerate(domains)]
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


def _linearised_difference(
    design: Design,
    y: np.ndarray,
    domain_a: np.ndarray,
    domain_b: np.ndarray,
    *,
    level: float = 0.95,
) -> DifferenceEstimate:
    """Mean of ``y`` in ``domain_a`` minus in ``domain_b``, accounting for their
    covariance within the one design (use a 0/1 ``y`` for a difference of proportions)."""
    means, cov = _linearised_means_covariance(design, y, [domain_a, domain_b])
    variance = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(max(variance, 0.0))
    estimate = float(means[0] - means[1])
    df = degf(design, np.ones(design.n, dtype=bool))
    tq = interval_t(level, df)
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


domain_means_covariance.register(Design, _linearised_means_covariance)
domain_means_covariance.register(ReplicateDesign, replicate_domain_means_covariance)
difference.register(Design, _linearised_difference)
difference.register(ReplicateDesign, replicate_difference)


__all__ = [
    "DifferenceEstimate",
    "MeanEstimate",
    "ProportionEstimate",
    "TotalEstimate",
    "difference",
    "domain_means_covariance",
    "mean",
    "proportion",
    "proportions",
    "quantile",
    "total",
    "total_result",
]
