"""How a design computes a variance: the one interface Taylor and replicate designs share.

Every estimator (:mod:`harmonise.estimate.statistics`) computes its point estimate from the
full-sample weights and asks the design, through these generic functions, for the rest:

==================================  ==============================  =============================
generic                             :class:`Design` (Taylor)         :class:`ReplicateDesign`
==================================  ==============================  =============================
:func:`degf` (R's ``degf``)          PSUs − strata among the rows     rank of the rows' replicate
                                                                     weights − 1
:func:`nrow` (R's ``nrow``)          all rows if calibrated, else     the group's rows
                                     the group's
:func:`total_variance`               ``svyrecvar`` of ``w·y``         replicate totals (census
                                                                     strata at full weight)
:func:`mean_variance`                ``svyrecvar`` of the ratio's     the mean recomputed with
                                     influence ``w(y − ȳ)/Σw``        every replicate's weights
:func:`logit_interval`               ``logit p``, ``v / (p(1−p))²``   R's ``svyglm`` intercept in
                                                                     the full sample and every
                                                                     replicate
:func:`deff_guard`                   NA when Σw < n                   no guard (as R)
==================================  ==============================  =============================

Each is a :func:`functools.singledispatch` function: a new kind of design registers its
own implementation, and no caller asks which kind of design it holds.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np
from numpy.typing import NDArray
from scipy import special

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design
from harmonise.estimate.logit_fits import logit_fits
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.estimate.variance import degrees_of_freedom, variance_matrix

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _unknown(design: object) -> EstimationError:
    return EstimationError(
        f"no variance estimator for a {type(design).__name__}; build the design with "
        "harmonise.estimate.Design (Taylor linearisation) or a replicate design"
    )


@singledispatch
def degf(design: object, rows: BoolArray) -> int:
    """R's ``degf(subset(design, rows))``: the degrees of freedom of an interval."""
    raise _unknown(design)


@degf.register
def _(design: Design, rows: BoolArray) -> int:
    return degrees_of_freedom(design, rows)


@degf.register
def _(design: ReplicateDesign, rows: BoolArray) -> int:
    return design.domain_df(rows)


@singledispatch
def nrow(design: object, group: BoolArray) -> int:
    """R's ``nrow(subset(design, group))``, which the Korn–Graubard interval uses."""
    raise _unknown(design)


@nrow.register
def _(design: Design, group: BoolArray) -> int:
    # R's subset of a calibrated or PPS design keeps every row (weights 0 outside)
    return design.n if design.keeps_rows else int(group.sum())


@nrow.register
def _(design: ReplicateDesign, group: BoolArray) -> int:
    return int(group.sum())


@singledispatch
def total_variance(design: object, y: FloatArray, d: BoolArray, estimate: float) -> float:
    """Variance of the domain total ``Σ_d w y`` (``y`` 0 outside the domain ``d``)."""
    raise _unknown(design)


@total_variance.register
def _(design: Design, y: FloatArray, d: BoolArray, estimate: float) -> float:
    wd = np.where(d, design.weights, 0.0)
    return float(variance_matrix(design, wd * y, d)[0, 0])


@total_variance.register
def _(design: ReplicateDesign, y: FloatArray, d: BoolArray, estimate: float) -> float:
    # Rows of census strata (R's selfrep) count at their full-sample weight in every
    # replicate total: the same variance as R's whenever their replicate weights are
    # equal, and R's too where they are not (a constant added to every replicate).
    if design.census is None:
        thetas = design.replicates[d].T @ y[d]
    else:
        fixed = d & design.census
        varying = d & ~design.census
        thetas = design.replicates[varying].T @ y[varying] + float(
            np.dot(design.weights[fixed], y[fixed])
        )
    return float(design.variance(thetas, np.array([estimate]))[0])


@singledispatch
def mean_variance(design: object, y: FloatArray, d: BoolArray, estimate: float) -> float:
    """Variance of the domain mean ``Σ_d w y / Σ_d w`` (``y`` 0 outside ``d``)."""
    raise _unknown(design)


@mean_variance.register
def _(design: Design, y: FloatArray, d: BoolArray, estimate: float) -> float:
    wd = np.where(d, design.weights, 0.0)
    scores = wd * np.where(d, y - estimate, 0.0) / float(wd.sum())
    return float(variance_matrix(design, scores, d)[0, 0])


@mean_variance.register
def _(design: ReplicateDesign, y: FloatArray, d: BoolArray, estimate: float) -> float:
    return float(design.variance(replicate_means(design, y, d), np.array([estimate]))[0])


def replicate_means(design: ReplicateDesign, y: FloatArray, d: BoolArray) -> FloatArray:
    """The domain mean of ``y`` with every replicate's weights (NaN where a replicate
    gives the domain no weight)."""
    rep = design.replicates[d]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = (rep.T @ y[d]) / rep.sum(axis=0)
    return out


@singledispatch
def logit_interval(
    design: object, y: FloatArray, d: BoolArray, p: float, variance: float
) -> tuple[float, float]:
    """``(centre, variance)`` on the logit scale of a proportion ``p`` (0 < p < 1) whose
    variance is ``variance``: R's ``svyciprop(method = "logit")``."""
    raise _unknown(design)


@logit_interval.register
def _(design: Design, y: FloatArray, d: BoolArray, p: float, variance: float
      ) -> tuple[float, float]:
    return float(special.logit(p)), variance / (p * (1 - p)) ** 2


@logit_interval.register
def _(design: ReplicateDesign, y: FloatArray, d: BoolArray, p: float, variance: float
      ) -> tuple[float, float]:
    beta0, betas = logit_fits(y[d], design.weights[d], design.replicates[d])
    return beta0, float(design.variance(betas, np.array([beta0]))[0])


@singledispatch
def deff_guard(design: object) -> bool:
    """Whether the design effect is NA when the weights add to less than n (R's Taylor
    designs: "are weights correctly scaled?"; its replicate designs compute it anyway)."""
    raise _unknown(design)


@deff_guard.register
def _(design: Design) -> bool:
    return True


@deff_guard.register
def _(design: ReplicateDesign) -> bool:
    return False


__all__ = [
    "deff_guard",
    "degf",
    "logit_interval",
    "mean_variance",
    "nrow",
    "replicate_means",
    "total_variance",
]
