"""Differences between groups within one survey (who and where).

The groups of one survey share one design, so a difference's SE uses the covariance of
the two domain estimates (se² = v_aa + v_bb − 2 v_ab; R's ``svyby(covmat=TRUE)`` +
``svycontrast``), with a t interval and p on the design's degrees of freedom.

- :func:`compare_domains` — every pair of categories of one subgroup variable;
- :func:`subgroup_differences` — what the report shows: each published category against
  the rest of its survey (or the other group of a two-way split), every survey's tests
  adjusted as one family with the comparisons' correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import special

from harmonise.compare.pairs import adjust_family, adjust_pvalues
from harmonise.errors import EstimationError
from harmonise.estimate import difference as domain_difference
from harmonise.estimate.indicators import survey_design
from harmonise.models.age_ranges import AGE_RANGE_GROUP
from harmonise.models.harmonised import EstimateTable, WeightedSurvey
from harmonise.models.run import Correction
from harmonise.models.schema import MISSING_TYPES, Schema

DOMAIN_COLUMNS = (
    "indicator", "option", "label", "crosswalk", "csp_name", "group_var", "a", "b",
    "a_estimate", "b_estimate", "difference", "se", "ci_low", "ci_high", "df", "p_value",
    "p_adjusted", "significant", "correction",
)


def compare_domains(
    ws: WeightedSurvey,
    schema: Schema,
    group_var: str,
    *,
    level: float = 0.95,
    correction: Correction = "holm",
) -> pd.DataFrame:
    """Differences between every pair of ``group_var`` categories of one survey.

    The two domains share one design, so the SE uses their covariance
    (se² = v_aa + v_bb − 2 v_ab; t interval and p on the design's df). p-values are adjusted
    across all pairs and indicators in the result. These are unpublished figures: apply
    disclosure control (both domains' estimates published) before showing them.
    """
    if group_var not in ws.data.columns:
        raise EstimationError(
            f"subgroup variable {group_var!r} is not a column of {ws.survey.crosswalk.ref}"
        )
    cw = ws.survey.crosswalk
    design = survey_design(ws)
    groups = ws.data[group_var].astype("object")
    levels = sorted(set(groups) - set(MISSING_TYPES))
    out: list[dict[str, object]] = []
    for ind in schema.indicators:
        for item in (i for i in cw.items if i.concept == ind.concept):
            values = ws.data[item.column].astype("object")
            valid = ~values.isin(MISSING_TYPES).to_numpy()
            y = values.isin(ind.success[ws.survey.scales[item.column]]).to_numpy(dtype=float)
            for ga, gb in combinations(levels, 2):
                da = valid & (groups == ga).to_numpy()
                db = valid & (groups == gb).to_numpy()
                if not da.any() or not db.any():
                    continue
                d = domain_difference(design, y, da, db, level=level)
                t = d.estimate / d.se if d.se > 0 else float("nan")
                out.append({
                    "indicator": ind.id, "option": item.option or "", "label": ind.label,
                    "crosswalk": cw.ref, "csp_name": cw.csp_name, "group_var": group_var,
                    "a": str(ga), "b": str(gb), "a_estimate": d.mean_a, "b_estimate": d.mean_b,
                    "difference": d.estimate, "se": d.se, "ci_low": d.ci_low,
                    "ci_high": d.ci_high, "df": d.df,
                    "p_value": float(2 * special.stdtr(d.df, -abs(t))),
                    "correction": correction,
                })
    frame = pd.DataFrame(out, columns=list(DOMAIN_COLUMNS))
    return adjust_family(frame, np.ones(len(frame), dtype=bool), correction, level)


SUBGROUP_COLUMNS = (
    "indicator", "option", "label", "crosswalk", "csp_name", "group_var", "group", "versus",
    "estimate", "versus_estimate", "difference", "se", "ci_low", "ci_high", "df", "p_value",
    "p_adjusted", "significant", "correction",
)

#: ``versus`` of a category tested against everyone else in its survey with an answer.
REST = "rest"


def subgroup_differences(
    surveys: Sequence[WeightedSurvey],
    schema: Schema,
    published: EstimateTable,
    *,
    level: float = 0.95,
    correction: Correction = "holm",
) -> pd.DataFrame:
    """Within each survey, does a subgroup differ from the rest of its respondents?

    For every breakdown a survey publishes (its ``group_var`` rows other than ``all`` and
    ``age_range``) and every indicator: with two categories, the first minus the second;
    with more, each category minus everyone else who answered (``versus = 'rest'``). Only
    categories whose published estimate is not suppressed are tested (the rest's figure
    then follows from two published ones). One design per survey: the SE uses the two
    domains' covariance (as :func:`compare_domains`; every domain of a survey in one
    :func:`~harmonise.estimate.variance.variance_matrix` call), a t interval and p on the
    design's df. The p-values of the whole table are one family adjusted by ``correction``
    — the same control as :func:`compare` applies to the comparisons.
    """
    from harmonise.estimate import degrees_of_freedom
    from harmonise.estimate.variance import variance_matrix

    adjust_pvalues(np.array([]), correction, 1 - level)
    pub = published.rows
    pub = pub[pub["weighted"].astype(bool) & ~pub["group_var"].isin(["all", AGE_RANGE_GROUP])]
    shown = {
        (str(r.crosswalk), str(r.indicator), str(r.option), str(r.group_var), str(r.group))
        for r in pub.itertuples(index=False) if not bool(r.suppressed)
    }
    breakdowns = pub.groupby("crosswalk")["group_var"].unique().to_dict()
    out: list[dict[str, object]] = []
    for ws in surveys:
        cw = ws.survey.crosswalk
        design = survey_design(ws)
        group_vars = [str(g) for g in breakdowns.get(cw.ref, ()) if g in ws.data.columns]
        meta: list[dict[str, object]] = []
        columns: list[np.ndarray] = []
        means: list[float] = []
        for ind in schema.indicators:
            for item in (i for i in cw.items if i.concept == ind.concept):
                values = ws.data[item.column].astype("object")
                valid = ~values.isin(MISSING_TYPES).to_numpy()
                y = values.isin(ind.success[ws.survey.scales[item.column]]).to_numpy(float)
                option = item.option or ""
                for gv in group_vars:
                    groups = ws.data[gv].astype("object").to_numpy()
                    levels = sorted(set(groups) - set(MISSING_TYPES))
                    pairs = ([(levels[0], levels[1])] if len(levels) == 2
                             else [(g, REST) for g in levels])
                    for ga, gb in pairs:
                        keys = [(cw.ref, ind.id, option, gv, str(g)) for g in (ga, gb)
                                if g != REST]
                        if not all(k in shown for k in keys):
                            continue
                        da = valid & (groups == ga)
                        db = valid & ((groups != ga) if gb == REST else (groups == gb))
                        if not da.any() or not db.any():
                            continue
                        for d in (da, db):
                            wd = np.where(d, design.weights, 0.0)
                            total = float(wd.sum())
                            mean = float(np.dot(wd, y)) / total
                            means.append(mean)
                            columns.append(wd * np.where(d, y - mean, 0.0) / total)
                        meta.append({
                            "indicator": ind.id, "option": option, "label": ind.label,
                            "crosswalk": cw.ref, "csp_name": cw.csp_name, "group_var": gv,
                            "group": str(ga), "versus": str(gb),
                        })
        if not meta:
            continue
        cov = variance_matrix(design, np.column_stack(columns), np.ones(design.n, bool))
        df = float(degrees_of_freedom(design, np.ones(design.n, dtype=bool)))
        q = float(special.stdtrit(df, 0.5 + level / 2)) if df > 0 else float("nan")
        for j, rec in enumerate(meta):
            a, b = 2 * j, 2 * j + 1
            diff = means[a] - means[b]
            se = float(np.sqrt(max(cov[a, a] + cov[b, b] - 2 * cov[a, b], 0.0)))
            p = float(2 * special.stdtr(df, -abs(diff) / se)) if se > 0 and df > 0 else np.nan
            out.append(rec | {
                "estimate": means[a], "versus_estimate": means[b], "difference": diff,
                "se": se, "ci_low": diff - q * se, "ci_high": diff + q * se, "df": df,
                "p_value": p, "correction": correction,
            })
    frame = pd.DataFrame(out, columns=list(SUBGROUP_COLUMNS))
    for col in ("estimate", "versus_estimate", "difference", "se", "ci_low", "ci_high", "df"):
        frame[col] = frame[col].astype(float)
    return adjust_family(frame, np.ones(len(frame), dtype=bool), correction, level)
