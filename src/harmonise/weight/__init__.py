"""Weighting: methods registered by name, trimming, and weight diagnostics.

``METHODS`` (:mod:`harmonise.weight.methods`) maps a method name to its record; built-ins
are registered exactly as an extension would be. Every method is fitted as
``METHODS[name].fit(base_weights, margins, **options)`` and returns a :class:`RakeResult`
(weights, convergence, the ``adjustment`` the variance needs, and the weight ``history``);
``fit_columns`` does the same to the full sample and every replicate of a replicate design:

* ``"rake"`` — iterative proportional fitting to several margins (R ``rake()``);
* ``"poststratify"`` — one cross-classified table (R ``postStratify()``; build the
  margin with :func:`cross_classify`);
* ``"linear"`` — GREG calibration to totals (R ``calibrate(calfun="linear")``, with
  ``bounds``);
* ``"raking"`` — raking-ratio calibration to totals (R ``calibrate(calfun="raking")``).
"""

from __future__ import annotations

from harmonise.weight.adjustments import (
    Adjustment,
    GregAdjustment,
    PostStratAdjustment,
    RakingAdjustment,
)
from harmonise.weight.calibrate import (
    NumericTotal,
    calibrate,
    cross_classify,
    poststratify,
    trim_weights,
)
from harmonise.weight.diagnostics import WeightSummary, summarise_weights
from harmonise.weight.methods import (
    METHODS,
    WeightingMethod,
    trim_and_recalibrate,
    trim_calibrated,
)
from harmonise.weight.rake import Margin, RakeResult, rake

__all__ = [
    "METHODS",
    "Adjustment",
    "GregAdjustment",
    "Margin",
    "NumericTotal",
    "PostStratAdjustment",
    "RakeResult",
    "RakingAdjustment",
    "WeightSummary",
    "WeightingMethod",
    "calibrate",
    "cross_classify",
    "poststratify",
    "rake",
    "summarise_weights",
    "trim_and_recalibrate",
    "trim_calibrated",
    "trim_weights",
]
