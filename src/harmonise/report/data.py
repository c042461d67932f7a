"""What a report is made from: a run's published tables and metadata, no respondent data.

:class:`ReportData` is the boundary between the pipeline and its outputs. It holds the
disclosure-controlled estimate tables, comparisons, weighting diagnostics, the recode
audit, provenance and the survey/crosswalk/schema metadata the report shows — and nothing
at respondent level, so it can be stored in the workspace (``harmonise.store``) and a
report regenerated from it without re-reading a raw export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmonise.models.run import DisclosureRules
from harmonise.models.schema import Schema

if TYPE_CHECKING:
    from harmonise.models.run import RunResult

#: Tidy tables of a run, in the order they are written (CSV file stem = key).
TABLE_NAMES = (
    "estimates",
    "estimates_unweighted",
    "comparisons",
    "weighting",
    "margins",
    "audit",
)

#: Tables a run may have (written when present): change between waves, subgroup tests.
OPTIONAL_TABLES = ("trends", "subgroup_differences")


@dataclass(frozen=True)
class ItemMeta:
    """One crosswalk item as the report shows it: which concept, how comparable, why."""

    id: str
    concept: str
    option: str
    comparability: str
    note: str
    #: asked of some respondents only (its crosswalk maps a value to ``not_asked``); runs
    #: stored before this field existed read back as False
    routed: bool = False


@dataclass(frozen=True)
class SurveyMeta:
    """One harmonised survey as the report describes it (crosswalk header + sample size)."""

    ref: str
    crosswalk: str
    version: int
    csp: str
    csp_name: str
    instrument: str
    wave: str
    population: str
    mode: str
    sampling: str
    fieldwork_start: str  # ISO date
    fieldwork_end: str  # ISO date
    n: int
    synthetic: bool
    raking_margins: tuple[str, ...]
    flagged: tuple[tuple[str, str], ...]  # (column name, kind) removed at the door
    items: tuple[ItemMeta, ...]


@dataclass(frozen=True)
class ReportData:
    """Everything a report needs, without respondent-level data (see module docstring)."""

    schema: Schema
    surveys: tuple[SurveyMeta, ...]
    #: TABLE_NAMES (+ OPTIONAL_TABLES when the run has them; older stored runs may not)
    tables: Mapping[str, pd.DataFrame]
    provenance: Mapping[str, Any]
    rules: DisclosureRules = field(default_factory=DisclosureRules)
    comparison_level: float = 0.95
    correction: str = "holm"

    def __post_init__(self) -> None:
        missing = [t for t in TABLE_NAMES if t not in self.tables]
        if missing:
            raise ValueError(f"ReportData lacks tables {missing}")

    @property
    def estimates(self) -> pd.DataFrame:
        return self.tables["estimates"]

    @property
    def unweighted(self) -> pd.DataFrame:
        return self.tables["estimates_unweighted"]

    @property
    def comparisons(self) -> pd.DataFrame:
        return self.tables["comparisons"]

    @property
    def trends(self) -> pd.DataFrame | None:
        return self.tables.get("trends")

    @property
    def subgroups(self) -> pd.DataFrame | None:
        return self.tables.get("subgroup_differences")

    @property
    def synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic"))


def _survey_meta(result: RunResult) -> tuple[SurveyMeta, ...]:
    out = []
    for ws in result.surveys:
        cw = ws.survey.crosswalk
        out.append(SurveyMeta(
            ref=cw.ref, crosswalk=cw.crosswalk, version=cw.version, csp=cw.csp,
            csp_name=cw.csp_name, instrument=cw.instrument, wave=cw.wave,
            population=cw.population, mode=cw.mode, sampling=cw.sampling,
            fieldwork_start=cw.fieldwork_start.isoformat(),
            fieldwork_end=cw.fieldwork_end.isoformat(),
            n=len(ws.data), synthetic=cw.synthetic,
            raking_margins=tuple(ws.raking_margins),
            flagged=tuple((f.name, f.kind) for f in ws.survey.flagged),
            items=tuple(
                ItemMeta(id=i.id, concept=i.concept or "", option=i.option or "",
                         comparability=i.comparability, note=i.note,
                         routed="not_asked" in i.missing.values())
                for i in cw.items
            ),
        ))
    return tuple(out)


def _marked(frame: pd.DataFrame, synthetic: bool, illustrative: bool | None) -> pd.DataFrame:
    """Every published table says whether its figures are synthetic / rest on illustrative
    targets, so a table read on its own cannot pass for a finding."""
    if frame.empty:
        return frame
    out = frame
    if "synthetic" not in out.columns:
        out = out.assign(synthetic=synthetic)
    if illustrative is not None and "illustrative_targets" not in out.columns:
        out = out.assign(illustrative_targets=illustrative)
    return out


def report_data(result: RunResult) -> ReportData:
    """The publishable part of a run: tables, metadata, provenance (no respondents).

    Unweighted counts under the disclosure threshold in the audit and the weighting
    margins are blanked (a count of 3 'Yes' answers there would undo the suppression of
    that estimate), and more where a published sum would give a blank back
    (:mod:`harmonise.disclosure.counts`).
    """
    synthetic = result.provenance.synthetic
    illustrative = any(ws.diagnostics is not None and ws.diagnostics.illustrative_targets
                       for ws in result.surveys)
    tables: dict[str, pd.DataFrame] = {
        "estimates": result.estimates.rows,
        "estimates_unweighted": result.unweighted.rows,
        "comparisons": _marked(result.comparisons.rows, synthetic, illustrative),
        "weighting": _marked(result.weighting, synthetic, None),
        "margins": _marked(result.margins, synthetic, None),
        "audit": _marked(result.audit, synthetic, None),
    }
    if result.trends is not None:
        tables["trends"] = _marked(result.trends.rows, synthetic, illustrative)
    if result.subgroups is not None:
        tables["subgroup_differences"] = _marked(result.subgroups, synthetic, illustrative)
    return ReportData(
        schema=result.schema,
        surveys=_survey_meta(result),
        tables=tables,
        provenance=result.provenance.as_record(),
        rules=result.rules,
        comparison_level=result.comparisons.level,
        correction=result.comparisons.correction,
    )


def as_report_data(source: RunResult | ReportData) -> ReportData:
    """Accept either a fresh run or stored report data."""
    return source if isinstance(source, ReportData) else report_data(source)
