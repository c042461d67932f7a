"""Design-based estimation (Taylor linearisation) matching R's ``survey`` package."""

from __future__ import annotations

from harmonise.estimate.design import LONELY_PSU_OPTIONS, Design, LonelyPSU
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

__all__ = [
    "CI_METHODS",
    "LONELY_PSU_OPTIONS",
    "CIMethod",
    "Design",
    "LonelyPSU",
    "MeanEstimate",
    "ProportionEstimate",
    "degrees_of_freedom",
    "linearised_variance",
    "mean",
    "proportion",
]
