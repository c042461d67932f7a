"""Means of several domains of a :class:`ReplicateDesign`, their covariance, and the
difference between two domains.

Every number agrees with R's ``survey`` (4.1.1) on a replicate design ``rd``::

    b <- svyby(~y, ~g, rd, svymean, covmat = TRUE)     # replicate_domain_means_covariance
    svycontrast(b, c(1, -1)); confint(., df = degf(rd))  # replicate_difference

The mean of each domain is recomputed with every replicate's weights; the covariance
matrix is R's ``svrVar`` of those replicate means taken together (deviations from the
replicates' mean, or from the full-sample means with ``mse``), so two domains that share
PSUs get the covariance the replicates show. As R's ``na.omit`` there, a replicate in
which *any* of the domains has no weight is left out of the whole matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import EstimationError
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.estimate.results import (
    DifferenceEstimate,
    as_mask,
    check_level,
    domain_values,
    interval_t,
)

FloatArray = NDArray[np.float64]


def replicate_domain_means_covariance(
    design: ReplicateDesign, y: np.ndarray, domains: Sequence[np.ndarray]
) -> tuple[FloatArray, FloatArray]:
    """Means of ``y`` in each domain and their covariance matrix from the replicates
    (R's ``svyby(~y, ~g, rd, svymean, covmat = TRUE)``). ``y`` may be NaN outside every
    domain, not inside one."""
    if not domains:
        raise EstimationError("give at least one domain to estimate means for")
    masks = [as_mask(f"domain {i + 1}", m, design.n) for i, m in enumerate(domains)]
    means = np.empty(len(masks))
    thetas = np.empty((design.n_replicates, len(masks)))
    for i, d in enumerate(masks):
        if not d.any():
            raise EstimationError(f"domain {i + 1} has no respondents; drop it from the comparison")
        yd = domain_values("y", y, d, design.n)[d]
        w = design.weights[d]
        rep = design.replicates[d]
        means[i] = float(np.dot(w, yd) / w.sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            thetas[:, i] = (rep.T @ yd) / rep.sum(axis=0)
    return means, _svrvar_matrix(design, thetas, means)


def _svrvar_matrix(design: ReplicateDesign, thetas: FloatArray, coef: FloatArray) -> FloatArray:
    """R's ``svrVar`` of an ``R × k`` matrix: the full ``k × k`` covariance
    (:meth:`ReplicateDesign.variance` gives its diagonal, with the same rules)."""
    ok = np.all(np.isfinite(thetas), axis=1)
    if not ok.any():
        raise EstimationError(
            "every replicate leaves one of the domains without weight (R: 'All replicates "
            "contained NAs'); the domains are too small for replicate variances"
        )
    kept, rscales = thetas[ok], design.rscales[ok]
    centre = coef if design.mse else kept[rscales > 0].mean(axis=0)
    dev = (kept - centre) * np.sqrt(rscales)[:, None]
    out: FloatArray = design.scale * (dev.T @ dev)
    return out


def replicate_difference(
    design: ReplicateDesign,
    y: np.ndarray,
    domain_a: np.ndarray,
    domain_b: np.ndarray,
    *,
    level: float = 0.95,
) -> DifferenceEstimate:
    """Mean of ``y`` in ``domain_a`` minus in ``domain_b`` with the replicate covariance
    of the two means (R's ``svycontrast(svyby(..., covmat = TRUE), c(1, -1))``); the
    interval is on ``degf`` of the whole design. Use a 0/1 ``y`` for a difference of
    proportions."""
    check_level(level)
    means, cov = replicate_domain_means_covariance(design, y, [domain_a, domain_b])
    variance = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(max(variance, 0.0))
    estimate = float(means[0] - means[1])
    df = design.df
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


__all__ = ["replicate_difference", "replicate_domain_means_covariance"]
