"""The estimate stage: WeightedSurvey + Schema -> EstimateTable of schema indicators.

For each indicator whose concept the crosswalk maps, the share of valid answers in the
indicator's success categories, overall and by each subgroup variable, as a domain of the
full design (rows are never dropped before the design is built).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design, PPSMethod
from harmonise.estimate.domains import proportions_by
from harmonise.estimate.results import CIMethod, ProportionEstimate
from harmonise.estimate.statistics import proportion
from harmonise.models.harmonised import ESTIMATE_COLUMNS, EstimateTable, WeightedSurvey
from harmonise.models.schema import MISSING_TYPES, Schema


def survey_design(ws: WeightedSurvey, weighted: bool = True) -> Design:
    """The design of a weighted survey (unit weights when ``weighted`` is False). With the
    crosswalk's ``design.pps: brewer`` the clusters' inclusion probabilities are
    ``1 / base weight`` and the variance is Brewer's (R's ``pps = "brewer"``)."""
    data = ws.data
    cw = ws.survey.crosswalk
    strata = data["_strata"].to_numpy(dtype=np.int64) if cw.design.strata else None
    clusters = data["_cluster"].to_numpy(dtype=np.int64) if cw.design.cluster else None
    pps: PPSMethod | None = cw.design.pps
    fpc = None if pps is None else (1.0 / data["_base_weight"].to_numpy(dtype=float),)
    if not weighted:
        return Design(
            weights=np.ones(len(data)), strata=strata, clusters=clusters, fpc=fpc, pps=pps
        )
    if ws.adjustments:  # what each calibration step needs for calibration-aware SEs
        return Design(
            weights=data["_weight"].to_numpy(dtype=float),
            strata=strata,
            clusters=clusters,
            calibration=ws.adjustments,
            fpc=fpc,
            pps=pps,
        )
    raking = tuple(
        pd.factorize(data[m].astype("object"), sort=True)[0].astype(np.int64)
        for m in ws.raking_margins
    )
    return Design(
        weights=data["_weight"].to_numpy(dtype=float),
        strata=strata,
        clusters=clusters,
        raking=raking,
        fpc=fpc,
        pps=pps,
    )


def estimate_indicators(
    ws: WeightedSurvey,
    schema: Schema,
    *,
    by: Sequence[str] | None = None,
    weighted: bool = True,
    level: float = 0.95,
    ci: CIMethod = "logit",
) -> EstimateTable:
    """Estimate every schema indicator the survey's crosswalk can answer.

    ``by`` lists subgroup variables (harmonised concept columns); by default the raking
    margins. Each row is one indicator (× option for multi-select) × subgroup.
    """
    hs = ws.survey
    cw = hs.crosswalk
    data = ws.data
    groups = list(ws.raking_margins if by is None else by)
    for g in groups:
        if g not in data.columns:
            raise EstimationError(
                f"subgroup variable {g!r} is not a harmonised column of {cw.ref}; "
                f"choose from {[c for c in hs.scales]}"
            )
    design = survey_design(ws, weighted)
    illustrative = bool(ws.diagnostics and ws.diagnostics.illustrative_targets)
    comparability: dict[int, object] = {}
    columns: list[IndicatorColumn] = []
    asked: list[np.ndarray] = []
    for ind in schema.indicators:
        concept = schema.concept(ind.concept)
        for item in (i for i in cw.items if i.concept == ind.concept):
            scale_id = hs.scales[item.column]
            values = data[item.column].astype("object")
            valid = ~values.isin(MISSING_TYPES).to_numpy()
            success = values.isin(ind.success[scale_id]).to_numpy()
            option_label = ""
            if item.option:
                option_label = next(o.label for o in concept.options if o.code == item.option)
            label = f"{ind.label}: {option_label}" if option_label else ind.label
            columns.append(IndicatorColumn(ind.id, ind.concept, item.option or "", label,
                                           success, valid))
            comparability[len(columns) - 1] = item.comparability
            asked.append(~values.isin(("not_asked",)).to_numpy())
    partitions: list[Partition] = [
        Partition("all", ["all"], np.zeros(len(data), dtype=np.int64))
    ]
    for g in groups:
        gv = data[g].astype("object")
        levels = sorted(set(gv) - set(MISSING_TYPES))
        codes = pd.Index(levels, dtype=object).get_indexer(gv).astype(np.int64)
        partitions.append(Partition(g, [str(v) for v in levels], codes))
    cell = _cells(design, columns, partitions, level, ci)
    out_of_base = [_out_of_base(design.weights, asked[k], columns[k].valid, partitions)
                   for k in range(len(columns))]
    rows: list[dict[str, object]] = []
    for k, col in enumerate(columns):
        for p, part in enumerate(partitions):
            for j, group in enumerate(part.names):
                base = {
                    "indicator": col.indicator,
                    "concept": col.concept,
                    "option": col.option,
                    "label": col.label,
                    "csp": cw.csp,
                    "csp_name": cw.csp_name,
                    "crosswalk": cw.ref,
                    "wave": cw.wave,
                    "population": cw.population,
                    "group_var": part.variable,
                    "group": group,
                    "weighted": weighted,
                    "comparability": comparability[k],
                    "synthetic": cw.synthetic,
                    "illustrative_targets": illustrative and weighted,
                    "suppressed": False,
                    "suppression_reason": "",
                    "n_out_of_base": int(out_of_base[k][p][0][j]),
                    "out_of_base_share": float(out_of_base[k][p][1][j]),
                }
                est = cell(k, p, j)
                if est is None:
                    rows.append(base | _empty(0))
                    continue
                rows.append(
                    base
                    | {
                        "n": est.n,
                        "n_success": est.n_success,
                        "estimate": est.estimate,
                        "se": est.se,
                        "ci_low": est.ci_low,
                        "ci_high": est.ci_high,
                        "ci_method": est.ci_method,
                        "df": est.df,
                        "deff": est.deff if est.deff is not None else np.nan,
                    }
                )
    frame = pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))
    return EstimateTable(rows=frame, meta={"crosswalk": cw.ref, "level": level})


Cell = Callable[[int, int, int], ProportionEstimate | None]


@dataclass(frozen=True)
class IndicatorColumn:
    """One indicator (× option) of one crosswalk item, as 0/1 columns over respondents."""

    indicator: str
    concept: str
    option: str
    label: str
    success: np.ndarray  # counts towards the indicator
    valid: np.ndarray  # in the base (a scale answer, not a missing type)


@dataclass(frozen=True)
class Partition:
    """A subgroup variable: its group names and each respondent's group (-1: none)."""

    variable: str
    names: list[str]
    codes: np.ndarray


def _out_of_base(
    weights: np.ndarray,
    asked: np.ndarray,
    valid: np.ndarray,
    partitions: Sequence[Partition],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per partition: unweighted count and weighted share, among those asked, of answers
    left out of the base (don't know, refused, not applicable, no answer) — reported as
    their own share, as the headline rule says, so a rise in 'never walks alone' cannot
    silently lift '% safe'."""
    excluded = asked & ~valid
    out = []
    for part in partitions:
        codes = part.codes
        inside = codes >= 0
        size = len(part.names)
        n_ex = np.bincount(codes[inside & excluded], minlength=size)
        w_ex = np.bincount(codes[inside & excluded], weights=weights[inside & excluded],
                           minlength=size)
        w_asked = np.bincount(codes[inside & asked], weights=weights[inside & asked],
                              minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(w_asked > 0, w_ex / np.where(w_asked > 0, w_asked, 1), np.nan)
        out.append((n_ex, share))
    return out


def _cells(
    design: Design,
    columns: Sequence[IndicatorColumn],
    partitions: Sequence[Partition],
    level: float,
    ci: CIMethod,
) -> Cell:
    """``cell(column, partition, domain)``: every partition's domains in one vectorised call
    per partition; if that raises, ``proportion()`` cell by cell in row order, so the
    error is the one for the first failing row."""
    if not columns:
        return lambda k, p, j: None
    success = np.column_stack([c.success for c in columns])
    valid = np.column_stack([c.valid for c in columns])
    try:
        tables = [
            proportions_by(
                design,
                success,
                part.codes,
                answered=valid,
                n_domains=len(part.names),
                level=level,
                ci=ci,
            )
            for part in partitions
        ]
    except EstimationError:

        def scalar(k: int, p: int, j: int) -> ProportionEstimate | None:
            domain = valid[:, k] & (partitions[p].codes == j)
            if not domain.any():
                return None
            return proportion(design, success[:, k], domain, level=level, ci=ci)

        return scalar
    return lambda k, p, j: tables[p].cell(k, j)


def _empty(n_success: int) -> dict[str, object]:
    return {
        "n": 0,
        "n_success": n_success,
        "estimate": np.nan,
        "se": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "ci_method": "",
        "df": 0,
        "deff": np.nan,
    }


def concat_tables(tables: Sequence[EstimateTable]) -> EstimateTable:
    frames = [t.rows for t in tables if not t.rows.empty]
    rows = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=list(ESTIMATE_COLUMNS))
    )
    return EstimateTable(rows=rows)
