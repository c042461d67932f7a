"""The weighting methods, registered once each as a record.

A record says everything the rest of harmonise needs to know about a method: its fit on one
weight column (:class:`~harmonise.weight.rake.RakeResult`, with the adjustment the Taylor
variance needs), its fit on many columns at once (the full sample and every replicate of a
replicate design), which options it takes, and the R call it matches. The crosswalk's
``weighting:`` block, the weight stage, the design file of ``harmonise estimate`` and the
replicate calibration all look methods up here; adding a method is adding a record
(see CONTRIBUTING.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import WeightingError
from harmonise.weight.adjustments import Adjustment
from harmonise.weight.calibrate import NumericTotal, calibrate, poststratify, trim_weights
from harmonise.weight.columns import calibrate_columns, poststratify_columns, rake_columns
from harmonise.weight.rake import Margin, RakeResult, rake

ColumnFit = Callable[..., NDArray[np.float64]]


@dataclass(frozen=True)
class WeightingMethod:
    """One weighting method and what it takes."""

    name: str
    #: ``fit(base_weights, margins, **options) -> RakeResult``
    fit: Callable[..., RakeResult]
    #: ``fit_columns(columns, margins, **options) -> columns`` (column 0: full sample)
    fit_columns: ColumnFit
    #: numeric totals and bounds on the adjustment ratios g = w/d (calibration)
    takes_totals: bool
    #: one margin only, the cross-classification of the weighting variables
    one_margin: bool
    #: iterates to a tolerance (``epsilon``, ``max_iterations``)
    iterative: bool
    #: the R call it matches, for docs and messages
    r_call: str

    def options(
        self,
        *,
        epsilon: float,
        max_iterations: int,
        numeric: Sequence[NumericTotal] = (),
        bounds: tuple[float, float] | None = None,
    ) -> dict[str, object]:
        """The keyword options ``fit`` and ``fit_columns`` take; refuses totals or bounds
        for a method that takes none."""
        if not self.takes_totals and (numeric or bounds is not None):
            raise WeightingError(
                f"weighting method {self.name!r} takes no numeric totals or bounds; use "
                f"one of {', '.join(n for n, m in METHODS.items() if m.takes_totals)}"
            )
        out: dict[str, object] = {}
        if self.iterative:
            out |= {"epsilon": epsilon, "max_iterations": max_iterations}
        if self.takes_totals:
            out |= {"numeric": list(numeric), "bounds": bounds or (-math.inf, math.inf)}
        return out


def registered(name: str) -> WeightingMethod:
    """The registered method called ``name``; an error listing the names otherwise."""
    found = METHODS.get(name)
    if found is None:
        raise WeightingError(
            f"weighting method {name!r} unknown; use one of {', '.join(sorted(METHODS))}"
        )
    return found


_BUILT_IN = (
    WeightingMethod(
        name="rake", fit=rake, fit_columns=rake_columns, takes_totals=False,
        one_margin=False, iterative=True,
        r_call="rake(d, list(~m1, ~m2), list(pop1, pop2), control = list(epsilon =, maxit =))",
    ),
    WeightingMethod(
        name="poststratify", fit=poststratify, fit_columns=poststratify_columns,
        takes_totals=False, one_margin=True, iterative=False,
        r_call="postStratify(d, ~cell, pop)",
    ),
    WeightingMethod(
        name="linear", fit=partial(calibrate, method="linear"),
        fit_columns=partial(calibrate_columns, method="linear"), takes_totals=True,
        one_margin=False, iterative=True,
        r_call='calibrate(d, formula, population, calfun = "linear", bounds =)',
    ),
    WeightingMethod(
        name="raking", fit=partial(calibrate, method="raking"),
        fit_columns=partial(calibrate_columns, method="raking"), takes_totals=True,
        one_margin=False, iterative=True,
        r_call='calibrate(d, formula, population, calfun = "raking", bounds =)',
    ),
)

#: name -> method; built-ins are registered exactly as an extension would be
METHODS: Mapping[str, WeightingMethod] = {m.name: m for m in _BUILT_IN}


def trim_and_recalibrate(
    base_weights: np.ndarray,
    margins: Sequence[Margin],
    *,
    method: str = "rake",
    upper: float = math.inf,
    lower: float = -math.inf,
    strict: bool = False,
    rounds: int = 1,
    **options: object,
) -> tuple[RakeResult, tuple[Adjustment, ...]]:
    """Calibrate, then ``rounds`` times trim and calibrate again from the trimmed weights.

    Returns the last result, whose ``history`` is ``base → calibrated → trimmed_1 →
    recalibrated_1 → …`` per respondent, and every calibration's adjustment in order —
    pass them all to ``Design(calibration=...)``, as R keeps each in ``postStrata``.
    ``method`` is a name in :data:`harmonise.weight.methods.METHODS`.
    """
    fit = registered(method).fit
    result = fit(base_weights, margins, **options)
    history: list[tuple[str, np.ndarray]] = [
        ("base", np.array(base_weights, dtype=np.float64)),
        ("calibrated", result.weights),
    ]
    adjustments = [result.adjustment]
    for k in range(1, rounds + 1):
        trimmed = trim_weights(result.weights, upper=upper, lower=lower, strict=strict)
        history.append((f"trimmed_{k}", trimmed))
        result = fit(trimmed, margins, **options)
        history.append((f"recalibrated_{k}", result.weights))
        adjustments.append(result.adjustment)
    final = RakeResult(
        weights=result.weights,
        iterations=result.iterations,
        converged=result.converged,
        max_gap=result.max_gap,
        method=f"{method}+trim",
        adjustment=result.adjustment,
        history=tuple(history),
    )
    return final, tuple(a for a in adjustments if a is not None)


def trim_calibrated(
    base_weights: np.ndarray,
    margins: Sequence[Margin],
    *,
    method: str = "rake",
    upper: float = math.inf,
    lower: float = -math.inf,
    strict: bool = False,
    **options: object,
) -> tuple[RakeResult, tuple[Adjustment, ...]]:
    """Calibrate, then trim once and keep the trimmed weights (R's
    ``trimWeights(calibrate(d, ...))``): the variance keeps the calibration's adjustment
    (R keeps its ``postStrata``), applied to scores on the trimmed weights. The result's
    ``history`` is ``base → calibrated → trimmed``; its ``max_gap`` is the calibration's
    (the trimmed weights miss the targets by what trimming moved).
    """
    result = registered(method).fit(base_weights, margins, **options)
    trimmed = trim_weights(result.weights, upper=upper, lower=lower, strict=strict)
    final = RakeResult(
        weights=trimmed,
        iterations=result.iterations,
        converged=result.converged,
        max_gap=result.max_gap,
        method=f"{method}+trim(keep)",
        adjustment=result.adjustment,
        history=(
            ("base", np.array(base_weights, dtype=np.float64)),
            ("calibrated", result.weights),
            ("trimmed", trimmed),
        ),
    )
    return final, (() if result.adjustment is None else (result.adjustment,))
