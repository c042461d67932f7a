"""Summaries of a set of weights: spread, Kish design effect, effective sample size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from harmonise.errors import WeightingError

if TYPE_CHECKING:
    from harmonise.models.harmonised import MissingMarginRecord, WeightedSurvey


@dataclass(frozen=True)
class WeightSummary:
    """Descriptive statistics of final weights.

    ``cv`` uses divisor ``n``; ``kish_deff = n Σw² / (Σw)² = 1 + cv²`` (the design effect
    due to weighting alone, not the full design effect ``svymean(deff=TRUE)`` reports);
    ``effective_n = (Σw)² / Σw²``; ``share_top1pct`` is the share of the total weight held
    by the ``ceil(n / 100)`` largest weights (at least one respondent).
    """

    n: int
    total: float
    min: float
    max: float
    ratio_max_min: float
    cv: float
    kish_deff: float
    effective_n: float
    share_top1pct: float


def summarise_weights(w: np.ndarray) -> WeightSummary:
    """Summarise positive, finite weights; raises :class:`WeightingError` otherwise."""
    x = np.asarray(w, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise WeightingError(
            f"weights must be a non-empty 1-D array, got shape {x.shape}; pass one weight "
            "per respondent"
        )
    bad = ~np.isfinite(x) | (x <= 0)
    if bad.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:10])
        raise WeightingError(
            f"{int(bad.sum())} weight(s) are zero, negative or missing (rows {rows}, 1-based); "
            "summaries need positive weights — check the weighting step"
        )
    n = int(x.size)
    total = float(x.sum())
    sum_sq = float(np.dot(x, x))
    mean = total / n
    cv = float(np.sqrt(np.mean((x - mean) ** 2)) / mean)
    top = -(-n // 100)  # ceil(n / 100) in integer arithmetic
    largest = np.partition(x, n - top)[n - top :]
    lo, hi = float(x.min()), float(x.max())
    return WeightSummary(
        n=n,
        total=total,
        min=lo,
        max=hi,
        ratio_max_min=hi / lo,
        cv=cv,
        kish_deff=n * sum_sq / total**2,
        effective_n=total**2 / sum_sq,
        share_top1pct=float(largest.sum()) / total,
    )


__all__ = ["WeightSummary", "missing_summary", "summarise_weights", "weighting_tables"]


def _count(n: int, threshold: int) -> str:
    """A respondent count as published: under the disclosure threshold it is not given
    (the audit's count of the same answers is suppressed alike)."""
    return f"fewer than {threshold}" if 0 < n < threshold else f"{n:,}"


def missing_summary(records: Sequence[MissingMarginRecord], threshold: int) -> str:
    """One line per treated margin: how many respondents, which treatment, how."""
    parts = []
    for r in records:
        n = _count(r.n_missing, threshold)
        if r.treatment == "impute":
            cells = " × ".join(r.cells) or "all respondents"
            collapsed = (f", {_count(r.collapsed, threshold)} from a coarser cell"
                         if r.collapsed else "")
            parts.append(f"{r.margin}: {n} imputed (hot-deck within {cells}, seed "
                         f"{r.seed}{collapsed})")
        else:
            share = 100 * (r.share or 0.0)
            parts.append(f"{r.margin}: {n} kept out of the {r.margin} adjustment (held at "
                         f"their base-weighted {share:.1f}% of the total)")
    return "; ".join(parts)


def weighting_tables(
    surveys: Sequence[WeightedSurvey], *, min_count: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``weighting.csv`` (one row per weighted survey: method, convergence, weight range,
    CV, Kish design effect, effective n) and ``margins.csv`` (achieved vs target per margin
    category), before disclosure control of their counts.

    When some survey had respondents without a margin's value, ``weighting.csv`` gets a
    ``missing`` column saying how many and how each margin treated them (counts under
    ``min_count`` are not given); a run without any has no such column, so its bytes are
    as before the treatments existed."""
    weighting: list[dict[str, object]] = []
    margins: list[dict[str, object]] = []
    treated = any(ws.diagnostics is not None and ws.diagnostics.missing for ws in surveys)
    for ws in surveys:
        d = ws.diagnostics
        if d is None:
            continue
        ref = ws.survey.crosswalk.ref
        extra: dict[str, object] = (
            {"missing": missing_summary(d.missing, min_count)} if treated else {})
        weighting.append({
            "crosswalk": ref, "method": d.method, "margins": " ".join(ws.raking_margins),
            "targets_file": d.targets_file, "illustrative_targets": d.illustrative_targets,
            "iterations": d.iterations, "converged": d.converged, "max_gap": d.max_gap,
            "n": d.n, "total": d.total, "min_weight": d.min_weight,
            "max_weight": d.max_weight, "cv": d.cv, "kish_deff": d.kish_deff,
            "effective_n": d.effective_n, "share_top1pct": d.share_top1pct, **extra,
        })
        margins.extend(
            {"crosswalk": ref, "margin": m.margin, "category": m.category,
             "target": m.target, "achieved": m.achieved, "sample_n": m.sample_n,
             "unweighted_share": m.unweighted_share}
            for m in d.margins
        )
    return pd.DataFrame(weighting), pd.DataFrame(margins)
