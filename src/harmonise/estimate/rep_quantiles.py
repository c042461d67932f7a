"""Quantiles of a domain of a :class:`ReplicateDesign`: R's ``svyquantile`` on a
``svyrep.design`` (survey 4.1.1).

Every number agrees with R's ``survey`` package (4.1.1)::

    svyquantile(~y, subset(rd, domain), quantiles = probs, ci = TRUE, se = TRUE,
                qrule = rule, interval.type = interval, alpha = 1 - level, na.rm = TRUE)

``tests/estimate/test_rep_quantiles_against_r.py`` checks this to 1e-6 relative. How R
computes it (``survey:::svyquantile.svyrep.design``), on the domain's rows only (R's
``subset`` of a replicate design drops the other rows, calibrated or not):

* The estimate is ``qrule(y, w, p)`` with the full-sample weights, the same rule
  functions as a Taylor design (:data:`harmonise.estimate.quantiles.QRULES`).
* ``"mean"``, ``"beta"``, ``"xlogit"``, ``"asin"`` (R's ``woodruffCI``): the proportion
  ``m`` of the domain with ``y ≤ q̂`` and its *replicate* variance (``svymean`` on the
  replicate design: ``m`` recomputed with every replicate's weights, R's ``svrVar``),
  then exactly the Taylor design's interval for ``m`` on ``df = degf(domain)`` and each
  limit turned back into a value by the rule
  (:func:`~harmonise.estimate.quantiles.woodruff_limits`). ``beta`` uses the number of
  domain rows as R's ``nrow(design)``.
* ``"quantile"`` (R's ``repCI``): the quantile re-estimated with every replicate's
  weights, their ``svrVar`` variance ``v`` (about the replicates' mean, or about ``q̂``
  with ``mse``), and ``q̂ ± t_{1−α/2, df} √v``.
* ``se = (ci_high − ci_low) / (2 · t_{1−α/2, df})``, as R (``√v`` for ``"quantile"``).

Where harmonise departs from R: R 4.1.1's ``svyquantile.svyrep.design`` never passes
``interval.type`` on to ``woodruffCI``, so on a replicate design R returns the
``"mean"`` interval for ``"beta"``, ``"xlogit"`` and ``"asin"`` too. harmonise computes
the interval asked for, which is R's own ``survey:::woodruffCI(..., method =
interval)`` on the replicate design (the test checks both: ``"mean"`` against
``svyquantile`` and each other type against ``woodruffCI``).

R has no ``"score"`` interval for replicate designs (an error here too). R warns that
jackknife replicates (JK1, JKn) "may not give valid standard errors for quantiles" with
``"quantile"``: deleting one PSU moves a sample quantile too little for the jackknife
variance to be consistent. :func:`quantile_caveat` returns that warning (R's message for
type ``other``), the CLI prints it, and the estimate is computed as R computes it.

Replicates in which the domain has no weight give no quantile (and no proportion) and
are left out of the variance with their ``rscales``, as R's ``na.omit`` in ``svrVar``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design
from harmonise.estimate.quantiles import (
    QRule,
    QuantileEstimate,
    QuantileInterval,
    Sample,
    apply_rule,
    check_quantile_arguments,
    exact_sum,
    limits_to_values,
    woodruff_limits,
)
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.estimate.results import (
    CIDf,
    as_mask,
    domain_values,
    group_of,
    interval_df,
    interval_t,
)

FloatArray = NDArray[np.float64]

RepIntervalType = Literal["mean", "beta", "xlogit", "asin", "quantile"]
#: R's ``interval.type`` choices for ``svyquantile`` on a replicate design.
REP_INTERVAL_TYPES: tuple[str, ...] = ("mean", "beta", "xlogit", "asin", "quantile")
#: Replicate types R warns about with ``interval.type = "quantile"``.
JACKKNIFE_TYPES: tuple[str, ...] = ("JK1", "JKn")


def quantile_caveat(design: Design | ReplicateDesign, interval: str) -> str | None:
    """R's warning (JK1, JKn) or message (``other``) for ``interval = "quantile"`` on a
    replicate design, with what to do about it; ``None`` when R says nothing (a Taylor
    design has no such interval: asking for it is an error of its own)."""
    if interval != "quantile" or not isinstance(design, ReplicateDesign):
        return None
    if design.type in JACKKNIFE_TYPES:
        return (
            f"{design.type} jackknife replicate weights may not give valid standard errors "
            "for quantiles (R warns the same): deleting one PSU barely moves a sample "
            "quantile. Prefer --quantile-ci mean (Woodruff) or bootstrap replicates."
        )
    if design.type == "other":
        return (
            "Not all replicate weight designs give valid standard errors for quantiles "
            "(R's message for type 'other'); prefer --quantile-ci mean (Woodruff)."
        )
    return None


def _column_sums(a: FloatArray) -> FloatArray:
    """R's ``colSums``/``sum`` of doubles: accumulated in long double."""
    out: FloatArray = a.astype(np.longdouble).sum(axis=0).astype(np.float64)
    return out


def _replicate_quantiles(rule: str, x: FloatArray, replicates: FloatArray, p: float) -> FloatArray:
    """R's ``apply(wrep, 2, function(wi) qrule(x, wi, p))``; NaN for a replicate with
    no weight in the domain."""
    out = np.full(replicates.shape[1], np.nan)
    for r in range(replicates.shape[1]):
        wr = replicates[:, r]
        if np.any(wr != 0):
            out[r] = apply_rule(rule, Sample.of(x, wr), p)
    return out


def replicate_quantile(
    design: ReplicateDesign,
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
    """Quantiles of ``y`` among respondents in ``domain`` with replicate-weight
    intervals, one result per probability (see the module doc).

    R's ``svyquantile(~y, subset(design, domain), probs, ci = TRUE, se = TRUE, qrule =
    rule, interval.type = interval, alpha = 1 − level)`` on a replicate design. ``y``
    may be NaN outside the domain (R's ``na.rm = TRUE``), not inside it; ``group`` as in
    :func:`harmonise.estimate.statistics.mean`.
    """
    if interval == "score":
        raise EstimationError(
            "quantile interval 'score' is for Taylor designs only (R's svyquantile has no "
            "score interval for replicate designs); use one of "
            f"{', '.join(REP_INTERVAL_TYPES)}, or drop the 'replicates:' block"
        )
    ps = check_quantile_arguments(rule, interval, REP_INTERVAL_TYPES, level, probs)
    d = as_mask("domain", domain, design.n)
    n = int(d.sum())
    if n == 0:
        raise EstimationError(
            "the domain has no respondents, so it has no quantiles; check the subgroup "
            "definition or leave the cell out of the table"
        )
    x = domain_values("y", y, d, design.n)[d]
    w = design.weights[d]
    replicates = design.replicates[d]
    totals = _column_sums(replicates)
    total = exact_sum(w)
    sample = Sample.of(x, w)
    g = group_of(design.n, d, group)
    df = design.domain_df(g)
    t_df = interval_df(df, ci_df)
    t_half = interval_t(level, t_df)
    out = []
    for p in ps:
        qhat = apply_rule(rule, sample, p)
        if interval == "quantile":
            thetas = _replicate_quantiles(rule, x, replicates, p)
            v = float(design.variance(thetas, np.array([qhat]))[0])
            half = math.sqrt(v) * t_half
            low, high = qhat - half, qhat + half
        else:
            below = (x <= qhat).astype(np.float64)
            m = exact_sum(w * below) / total
            with np.errstate(invalid="ignore", divide="ignore"):
                thetas = _column_sums(replicates * below[:, None]) / totals
            v = float(design.variance(thetas, np.array([m]))[0])
            limits = woodruff_limits(m, v, interval, level, t_df, int(g.sum()))
            low, high = limits_to_values(rule, sample, *limits)
        out.append(
            QuantileEstimate(
                probability=p,
                estimate=qhat,
                se=(high - low) / (2 * t_half),
                ci_low=low,
                ci_high=high,
                df=df,
                n=n,
                weighted_base=total,
                rule=rule,
                interval=interval,
            )
        )
    return tuple(out)


__all__ = [
    "JACKKNIFE_TYPES",
    "REP_INTERVAL_TYPES",
    "RepIntervalType",
    "quantile_caveat",
    "replicate_quantile",
]
