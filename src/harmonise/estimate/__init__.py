"""Design-based estimation matching R's ``survey`` package (4.1.1).

One function per statistic, whatever the design: the design decides how the variance is
computed (Taylor linearisation for a :class:`Design`, replicate weights for a
:class:`ReplicateDesign`; :mod:`harmonise.estimate.variances`)::

    from harmonise.estimate import Design, mean, proportion, replicate_design
    d = Design(weights=w, strata=s, clusters=c)
    mean(d, y, domain)                                # svymean + confint(df = degf)
    proportion(replicate_design(d, "JK1"), x == 1, domain, ci="beta")   # svyciprop

The statistics: :func:`mean`, :func:`total`, :func:`proportion`, :func:`proportions`
(every category), :func:`proportions_by` (every indicator × every domain in one pass),
:func:`quantile`, :func:`difference` and :func:`domain_means_covariance` of domains, and
:func:`degrees_of_freedom`. The designs: :class:`Design`, :func:`replicate_design` (R's
``as.svrepdesign``), :func:`replicate_weights_design` (``svrepdesign``) and
:func:`calibrate_replicates`. What they return is in :mod:`harmonise.estimate.results`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harmonise._util.lazy import lazy_getattr

if TYPE_CHECKING:
    import numpy as np

    from harmonise.estimate.design import Design, LonelyPSU
    from harmonise.estimate.domains import DomainProportions, proportions_by
    from harmonise.estimate.quantiles import QRule, QuantileEstimate, QuantileInterval
    from harmonise.estimate.rep_calibrate import calibrate_replicates
    from harmonise.estimate.replicates import (
        ReplicateDesign,
        replicate_design,
        replicate_weights_design,
    )
    from harmonise.estimate.results import (
        CIDf,
        CIMethod,
        Deff,
        DifferenceEstimate,
        MeanEstimate,
        ProportionEstimate,
        TotalEstimate,
    )
    from harmonise.estimate.statistics import (
        difference,
        domain_means_covariance,
        mean,
        proportion,
        proportions,
        quantile,
        total,
    )

#: public name -> its module; loaded on first use, so a command that needs a few estimators
#: (``harmonise estimate``) does not import the vectorised indicator machinery as well
_WHERE = {
    "Design": "design", "LonelyPSU": "design",
    "DomainProportions": "domains", "proportions_by": "domains",
    "QRule": "quantiles", "QuantileEstimate": "quantiles", "QuantileInterval": "quantiles",
    "calibrate_replicates": "rep_calibrate",
    "ReplicateDesign": "replicates", "replicate_design": "replicates",
    "replicate_weights_design": "replicates",
    "CIDf": "results", "CIMethod": "results", "Deff": "results",
    "DifferenceEstimate": "results", "MeanEstimate": "results",
    "ProportionEstimate": "results", "TotalEstimate": "results",
    "difference": "statistics", "domain_means_covariance": "statistics", "mean": "statistics",
    "proportion": "statistics", "proportions": "statistics", "quantile": "statistics",
    "total": "statistics",
}


def degrees_of_freedom(design: Design | ReplicateDesign, domain: np.ndarray) -> int:
    """R's ``degf(subset(design, domain))``: PSUs minus strata among the domain's rows
    (for a replicate design: the rank of the domain's replicate weights minus 1)."""
    from harmonise.estimate.results import as_mask
    from harmonise.estimate.variances import degf

    return degf(design, as_mask("domain", domain, design.n))


__getattr__ = lazy_getattr(__name__, {n: f".{m}" for n, m in _WHERE.items()}, globals())


__all__ = [
    "CIDf",
    "CIMethod",
    "Deff",
    "Design",
    "DifferenceEstimate",
    "DomainProportions",
    "LonelyPSU",
    "MeanEstimate",
    "ProportionEstimate",
    "QRule",
    "QuantileEstimate",
    "QuantileInterval",
    "ReplicateDesign",
    "TotalEstimate",
    "calibrate_replicates",
    "degrees_of_freedom",
    "difference",
    "domain_means_covariance",
    "mean",
    "proportion",
    "proportions",
    "proportions_by",
    "quantile",
    "replicate_design",
    "replicate_weights_design",
    "total",
]
