"""``harmonise.estimate``'s public API is small and listed here (as httpx lists its
exports): a name added or removed is a decision, not an accident."""

from __future__ import annotations

from types import ModuleType

import harmonise.estimate as estimate

EXPECTED = {
    "CIDf", "CIMethod", "Deff", "Design", "DifferenceEstimate", "DomainProportions",
    "LonelyPSU", "MeanEstimate", "ProportionEstimate", "QRule", "QuantileEstimate",
    "QuantileInterval", "ReplicateDesign", "TotalEstimate", "calibrate_replicates",
    "degrees_of_freedom", "difference", "domain_means_covariance", "mean", "proportion",
    "proportions", "proportions_by", "quantile", "replicate_design",
    "replicate_weights_design", "total",
}


def test_the_public_api_is_what_is_listed() -> None:
    assert set(estimate.__all__) == EXPECTED
    assert len(estimate.__all__) == len(set(estimate.__all__))
    for name in estimate.__all__:
        assert getattr(estimate, name) is not None, name


def test_no_rep_family_is_exported() -> None:
    """One function per statistic: the design decides the variance, not the caller."""
    functions = [n for n in dir(estimate)
                 if n.startswith("rep_") and not isinstance(getattr(estimate, n), ModuleType)]
    assert not functions
