"""Weighting: methods registered by name, trimming, and weight diagnostics.

``METHODS`` maps a method name to its function; built-ins are registered exactly as an
extension would be. Every method is called as ``METHODS[name](base_weights, margins,
**options)`` and returns a :class:`RakeResult` (weights, convergence, the ``adjustment``
the variance needs, and the weight ``history``):

* ``"rake"`` — iterative proportional fitting to several margins (R ``rake()``);
* ``"poststratify"`` — one cross-classified table (R ``postStratify()``; build the
  margin with :func:`cross_classify`);
* ``"linear"`` — GREG calibration to totals (R ``calibrate(calfun="linear")``, with
  ``bounds``);
* ``"raking"`` — raking-ratio calibration to totals (R ``calibrate(calfun="raking")``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

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
    trim_and_recalibrate,
    trim_weights,
)
from harmonise.weight.diagnostics import WeightSummary, summarise_weights
from harmonise.weight.rake import Margin, RakeResult, rake

METHODS: dict[str, Callable[..., RakeResult]] = {
    "rake": rake,
    "poststratify": poststratify,
    "linear": partial(calibrate, method="linear"),
    "raking": partial(calibrate, method="raking"),
}

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
    "calibrate",
    "cross_classify",
    "poststratify",
    "rake",
    "summarise_weights",
    "trim_and_recalibrate",
    "trim_weights",
]
