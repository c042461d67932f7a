"""The weight stage: HarmonisedSurvey + Targets -> WeightedSurvey (pure; no file I/O)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmonise.errors import WeightingError
from harmonise.models.crosswalk import WeightingSpec
from harmonise.models.harmonised import (
    HarmonisedSurvey,
    MarginCheck,
    WeightedSurvey,
    WeightingDiagnostics,
)
from harmonise.models.schema import MISSING_TYPES
from harmonise.weight import Adjustment, cross_classify, trim_and_recalibrate
from harmonise.weight.diagnostics import summarise_weights
from harmonise.weight.methods import registered
from harmonise.weight.rake import Margin, RakeResult
from harmonise.weight.targets import Targets


def _margin(hs: HarmonisedSurvey, variable: str, targets: Targets) -> Margin:
    file = hs.source.file_name
    if variable not in hs.data.columns:
        raise WeightingError(
            f"{hs.ref.path}: weighting margin {variable!r} has no crosswalk item; map the "
            f"source column holding {variable} to concept {variable!r}"
        )
    values = hs.data[variable].astype("object")
    mt = targets.margins[variable]
    missing = values[values.isin(MISSING_TYPES)]
    if len(missing):
        kinds = missing.value_counts().to_dict()
        first = int(np.flatnonzero(values.isin(MISSING_TYPES).to_numpy())[0]) + 1
        raise WeightingError(
            f"{file}: {len(missing)} respondent(s) have no usable {variable!r} ({kinds}), "
            f"first at data row {first}; raking needs every respondent in a category. "
            f"Impute the value before weighting or drop {variable!r} from the margins."
        )
    unknown = sorted(set(values) - set(mt.categories))
    if unknown:
        raise WeightingError(
            f"{file}: {variable!r} categories {unknown} occur in the data but not in targets "
            f"file {targets.file} (which has {list(mt.categories)}); make the crosswalk "
            "recode and the targets use the same category codes"
        )
    codes = pd.Categorical(values, categories=list(mt.categories)).codes.astype(np.int64)
    return Margin(name=variable, codes=codes, targets=mt.counts, labels=mt.categories)


def weight_survey(hs: HarmonisedSurvey, targets: Targets | None) -> WeightedSurvey:
    """Calibrate base weights to the crosswalk's margins; without weighting, keep base weights."""
    spec = hs.crosswalk.weighting
    base = hs.data["_base_weight"].to_numpy(dtype=float)
    if spec is None or targets is None:
        return WeightedSurvey(
            survey=hs,
            data=hs.data.assign(_weight=base),
            raking_margins=(),
            diagnostics=None,
        )
    margins = [_margin(hs, v, targets) for v in spec.margins]
    # Start from base weights scaled to the population total, as design weights would be
    # (calibrated weights do not depend on the scale; bounds on g = w / d then mean what
    # an analyst expects).
    start = base * (targets.total / base.sum())
    result, adjustments = _calibrate(spec, start, margins)
    w = result.weights
    summary = summarise_weights(w)
    checks = []
    for m in margins:
        achieved = np.bincount(m.codes, weights=w, minlength=len(m.labels))
        sample_n = np.bincount(m.codes, minlength=len(m.labels))
        for k, label in enumerate(m.labels):
            checks.append(
                MarginCheck(
                    margin=m.name,
                    category=label,
                    target=float(m.targets[k]),
                    achieved=float(achieved[k]),
                    sample_n=int(sample_n[k]),
                    unweighted_share=float(sample_n[k] / len(w)),
                )
            )
    diagnostics = WeightingDiagnostics(
        method=spec.method,
        targets_file=targets.file,
        targets_sha256=targets.sha256,
        illustrative_targets=targets.illustrative,
        iterations=result.iterations,
        converged=result.converged,
        max_gap=result.max_gap,
        n=summary.n,
        total=summary.total,
        min_weight=summary.min,
        max_weight=summary.max,
        cv=summary.cv,
        kish_deff=summary.kish_deff,
        effective_n=summary.effective_n,
        share_top1pct=summary.share_top1pct,
        margins=tuple(checks),
    )
    return WeightedSurvey(
        survey=hs,
        data=hs.data.assign(_weight=w),
        raking_margins=tuple(spec.margins),
        diagnostics=diagnostics,
        adjustments=adjustments,
        history=result.history,
    )


def _calibrate(
    spec: WeightingSpec, start: np.ndarray, margins: list[Margin]
) -> tuple[RakeResult, tuple[Adjustment, ...]]:
    """Run the crosswalk's weighting method (and trimming), returning every adjustment."""
    fitted = registered(spec.method)
    options = fitted.options(epsilon=spec.epsilon, max_iterations=spec.max_iterations,
                             bounds=spec.bounds)
    if fitted.one_margin:
        margins = [cross_classify(margins, margins[0].targets)]
    if spec.trim is None:
        result = fitted.fit(start, margins, **options)
        return result, (() if result.adjustment is None else (result.adjustment,))
    mean = float(start.sum() / len(start))
    return trim_and_recalibrate(
        start,
        margins,
        method=spec.method,
        upper=spec.trim.upper * mean,
        lower=spec.trim.lower * mean,
        strict=spec.trim.strict,
        rounds=spec.trim.rounds,
        **options,
    )
