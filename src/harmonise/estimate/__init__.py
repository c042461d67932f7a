"""Design-based estimation (Taylor linearisation or replicate weights) matching R's
``survey`` package."""

from __future__ import annotations

from harmonise.estimate.design import LONELY_PSU_OPTIONS, Design, LonelyPSU
from harmonise.estimate.domains import DomainProportions, proportions_by
from harmonise.estimate.quantiles import (
    INTERVAL_TYPES,
    QRULES,
    IntervalType,
    QRule,
    QuantileEstimate,
    QuantileInterval,
    quantile,
)
from harmonise.estimate.rep_calibrate import calibrate_replicates
from harmonise.estimate.rep_differences import rep_difference, rep_domain_means_covariance
from harmonise.estimate.rep_estimate import rep_mean, rep_proportion, rep_total
from harmonise.estimate.rep_quantiles import REP_INTERVAL_TYPES, quantile_caveat, rep_quantile
from harmonise.estimate.replicates import (
    ReplicateDesign,
    replicate_design,
    replicate_weights_design,
)
from harmonise.estimate.statistics import (
    DifferenceEstimate,
    TotalEstimate,
    difference,
    domain_means_covariance,
    proportions,
    total,
)
from harmonise.estimate.taylor import (
    CI_METHODS,
    CIMethod,
    MeanEstimate,
    ProportionEstimate,
    degrees_of_freedom,
    linearised_variance,
    mean,
    proportion,
)
from harmonise.estimate.variance import variance_matrix

__all__ = [
    "CI_METHODS",
    "INTERVAL_TYPES",
    "LONELY_PSU_OPTIONS",
    "QRULES",
    "REP_INTERVAL_TYPES",
    "CIMethod",
    "Design",
    "DifferenceEstimate",
    "DomainProportions",
    "IntervalType",
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
    "linearised_variance",
    "mean",
    "proportion",
    "proportions",
    "proportions_by",
    "quantile",
    "quantile_caveat",
    "rep_difference",
    "rep_domain_means_covariance",
    "rep_mean",
    "rep_proportion",
    "rep_quantile",
    "rep_total",
    "replicate_design",
    "replicate_weights_design",
    "total",
    "variance_matrix",
]
