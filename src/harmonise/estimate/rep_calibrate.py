"""Calibrating a replicate design: the full sample and every replicate, as R does.

R's ``rake()``, ``postStratify()`` and ``calibrate()`` on a ``svyrep.design`` adjust the
full-sample weights *and each replicate's weights* to the same population totals, so
the replicate variance reflects the calibration::

    rd <- as.svrepdesign(d0, type = "JK1")
    rake(rd, list(~m1, ~m2), list(pop1, pop2), control = list(epsilon =, maxit =))
    postStratify(rd, ~cell, pop)
    calibrate(rd, list(~m1, ~m2), list(pop1, pop2), calfun = "linear" | "raking", bounds =)

Each weighting method's ``fit_columns`` (:mod:`harmonise.weight.columns`) does the work:
``rake`` follows R step by step (every sweep post-stratifies the full sample and every
replicate to each margin in turn; replicates take as many sweeps as the full sample),
``linear`` and ``raking`` calibrate each column on its own (R's ``regcalibrate`` /
``grake`` per replicate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from harmonise.errors import EstimationError, WeightingError
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.weight.calibrate import NumericTotal
from harmonise.weight.methods import registered
from harmonise.weight.rake import Margin


def calibrate_replicates(
    design: ReplicateDesign,
    margins: Sequence[Margin],
    *,
    method: str = "rake",
    numeric: Sequence[NumericTotal] = (),
    bounds: tuple[float, float] | None = None,
    epsilon: float = 1e-10,
    max_iterations: int = 1000,
    options: Mapping[str, object] | None = None,
) -> ReplicateDesign:
    """``design`` with the full-sample weights and every replicate calibrated to the
    margins (and ``numeric`` totals for ``linear`` / ``raking``).

    ``method``: ``"rake"`` (R ``rake()``, ``epsilon`` as R's ``control$epsilon``),
    ``"poststratify"`` (one cross-classified margin, R ``postStratify()``),
    ``"linear"`` or ``"raking"`` (R ``calibrate(calfun =, bounds =)``): any method of
    :data:`harmonise.weight.METHODS`, through its ``fit_columns``. ``options``, when given,
    are the method's options as :meth:`~harmonise.weight.WeightingMethod.options` built
    them, in place of ``numeric`` ... ``max_iterations``. The result keeps ``type``,
    ``scale``, ``rscales`` and ``mse``.
    """
    if not margins:
        raise EstimationError("calibration needs at least one margin")
    try:
        fitted = registered(method)
        if options is None:
            options = fitted.options(epsilon=epsilon, max_iterations=max_iterations,
                                     numeric=numeric, bounds=bounds)
    except WeightingError as exc:
        raise EstimationError(f"{exc} (replicate design)") from exc
    columns = fitted.fit_columns(np.column_stack([design.weights, design.replicates]),
                                 margins, **options)
    return ReplicateDesign(
        weights=columns[:, 0],
        replicates=columns[:, 1:],
        scale=design.scale,
        rscales=design.rscales,
        type=design.type,
        mse=design.mse,
        rho=design.rho,
        calibrated=True,
        history=(*design.history, method),
        census=design.census,
    )


__all__ = ["calibrate_replicates"]
