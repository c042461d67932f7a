"""The weight stage: HarmonisedSurvey + Targets -> WeightedSurvey (pure; no file I/O).

Respondents without a usable value of a margin are treated as the crosswalk's
``weighting.missing`` declares (:mod:`harmonise.weight.missing`); the harmonised data then
gain ``_imputed_<margin>`` (True where the hot-deck filled the value) and
``_weighting_<margin>`` (the category each respondent was weighted in) for that margin,
while the concept column keeps what the respondent said.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmonise.errors import WeightingError
from harmonise.models.crosswalk import WeightingSpec
from harmonise.models.harmonised import (
    HarmonisedSurvey,
    MarginCheck,
    MissingMarginRecord,
    WeightedSurvey,
    WeightingDiagnostics,
)
from harmonise.models.schema import MISSING_TYPES
from harmonise.weight import Adjustment, cross_classify, trim_and_recalibrate
from harmonise.weight.diagnostics import summarise_weights
from harmonise.weight.methods import registered
from harmonise.weight.missing import MISSING_CATEGORY, exclude_missing, hot_deck
from harmonise.weight.rake import Margin, RakeResult
from harmonise.weight.targets import Targets, check_categories


def _codes(hs: HarmonisedSurvey, variable: str, targets: Targets) -> tuple[np.ndarray, pd.Series]:
    """A margin's category codes in the targets' order, ``-1`` for a missing type."""
    file = hs.source.file_name
    if variable not in hs.data.columns:
        raise WeightingError(
            f"{hs.ref.path}: weighting margin {variable!r} has no crosswalk item; map the "
            f"source column holding {variable} to concept {variable!r}"
        )
    values = hs.data[variable].astype("object")
    mt = targets.margins[variable]
    present = values[~values.isin(MISSING_TYPES)]
    unknown = sorted(set(present) - set(mt.categories))
    if unknown:
        shown = ", ".join(repr(str(u)[:40]) for u in unknown[:10])
        noun = "categories" if len(unknown) > 1 else "category"
        raise WeightingError(
            f"{file}: weighting margin {variable!r} has {noun} {shown} in the data (from "
            f"crosswalk {hs.ref.path}) but not in targets file {targets.file}, which has "
            f"{list(mt.categories)}; recode the item to the targets' categories (or add "
            "the category to the targets, with its count), or list the value under the "
            "item's 'missing' so the weighting's missing treatment handles it"
        )
    index = {c: k for k, c in enumerate(mt.categories)}
    codes = np.fromiter((index.get(v, -1) for v in values), dtype=np.int64, count=len(values))
    return codes, values


def _refuse(hs: HarmonisedSurvey, variable: str, values: pd.Series, codes: np.ndarray) -> None:
    missing = codes < 0
    kinds = values[missing].value_counts().to_dict()
    first = int(np.flatnonzero(missing)[0]) + 1
    raise WeightingError(
        f"{hs.source.file_name}: {int(missing.sum())} respondent(s) have no usable "
        f"{variable!r} ({kinds}), first at data row {first}, and the crosswalk's "
        f"weighting.missing says 'refuse' for {variable!r}. Declare 'impute' (hot-deck "
        "within cells of the other margins) or 'exclude' (keep them out of this margin's "
        f"adjustment) for {variable!r} in weighting.missing, or drop {variable!r} from "
        "the margins (see docs/weighting.md)"
    )


def _margins(
    hs: HarmonisedSurvey, spec: WeightingSpec, targets: Targets, start: np.ndarray
) -> tuple[list[Margin], tuple[MissingMarginRecord, ...], dict[str, pd.Series]]:
    """The margins to calibrate to, after each margin's missing treatment.

    Returns the margins, a record per margin with missing values and the flag columns
    for the harmonised data (``_imputed_<margin>``, ``_weighting_<margin>``).
    """
    names = list(spec.margins)
    coded = [_codes(hs, v, targets) for v in names]
    raw = [c for c, _ in coded]
    records: list[MissingMarginRecord] = []
    flags: dict[str, pd.Series] = {}
    margins: list[Margin] = []
    for i, v in enumerate(names):
        codes, values = coded[i]
        mt = targets.margins[v]
        missing = codes < 0
        treatment = spec.treatment(v)
        labels = mt.categories
        counts = mt.counts
        if missing.any():
            kinds = tuple(sorted((str(k), int(n)) for k, n in
                                 values[missing].value_counts().items()))
            if treatment == "refuse":
                _refuse(hs, v, values, codes)
            if treatment == "impute":
                imp = hot_deck(i, raw, start, names=names, seed=spec.impute_seed)
                codes = imp.codes
                records.append(MissingMarginRecord(
                    margin=v, treatment="impute", n_missing=int(missing.sum()), kinds=kinds,
                    cells=tuple(n for n in names if n != v), collapsed=imp.collapsed,
                    seed=spec.impute_seed))
            else:
                codes, counts, share = exclude_missing(codes, counts, start)
                labels = (*labels, MISSING_CATEGORY)
                records.append(MissingMarginRecord(
                    margin=v, treatment="exclude", n_missing=int(missing.sum()), kinds=kinds,
                    share=share))
            index = hs.data.index
            flags[f"_imputed_{v}"] = pd.Series(missing & (treatment == "impute"), index=index)
            flags[f"_weighting_{v}"] = pd.Series(
                np.asarray(labels, dtype=object)[codes], index=index)
        margins.append(Margin(name=v, codes=codes, targets=counts, labels=labels))
    return margins, tuple(records), flags


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
    check_categories(targets, hs.crosswalk, hs.ref.path)
    # Start from base weights scaled to the population total, as design weights would be
    # (calibrated weights do not depend on the scale; bounds on g = w / d then mean what
    # an analyst expects).
    start = base * (targets.total / base.sum())
    margins, missing, flags = _margins(hs, spec, targets, start)
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
        missing=missing,
    )
    return WeightedSurvey(
        survey=hs,
        data=hs.data.assign(_weight=w, **flags),
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
