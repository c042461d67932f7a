"""What the main job reads and returns: the manifest, the run's provenance and its result.

The report and the store are handed a :class:`RunResult` and never import the pipeline;
:class:`RunProvenance` is the typed record written to ``provenance.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from harmonise.models.harmonised import EstimateTable, WeightedSurvey
from harmonise.models.schema import Schema

#: Multiple-comparison corrections across comparisons and trends (``fdr_bh`` = ``bh``).
Correction = Literal["holm", "bh", "fdr_bh", "bonferroni", "none"]


class SurveyEntry(BaseModel):
    """One export of the manifest and the crosswalk that maps it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    file: str
    crosswalk: str
    encoding: str | None = None
    sheet: str | int | None = None
    header_rows: int | None = None  # 1, 2 or 3; see the crosswalk's read: block


class Manifest(BaseModel):
    """Which exports the main job harmonises, with which crosswalks (surveys/manifest.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_path: str = ""
    surveys: tuple[SurveyEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_export_once(self) -> Manifest:
        """A survey listed twice would be compared with itself."""
        seen: dict[str, int] = {}
        for n, entry in enumerate(self.surveys, start=1):
            key = PurePath(entry.file).as_posix().casefold()
            if key in seen:
                raise ValueError(
                    f"surveys entry {n} lists file {entry.file!r} again (first in entry "
                    f"{seen[key]}): a survey would be compared with itself. List each export "
                    "once (two waves are two different files)."
                )
            seen[key] = n
        return self


@dataclass(frozen=True)
class DisclosureRules:
    """Thresholds of disclosure control (see docs/disclosure.md)."""

    min_base: int = 10
    min_count: int = 10
    min_base_for_extremes: int = 50
    secondary: bool = True
    round_to: int = 5
    weighted_count_columns: tuple[str, ...] = ("weighted_n", "weighted_count")


@dataclass(frozen=True)
class ComparisonTable:
    """Every same-wave pair of surveys per indicator: compared or not, and why."""

    rows: pd.DataFrame
    level: float
    correction: Correction


@dataclass(frozen=True)
class TrendTable:
    """Change between waves of one survey series."""

    rows: pd.DataFrame
    level: float
    correction: Correction


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchemaUse(_Record):
    ref: str
    path: str
    sha256: str


class CrosswalkUse(_Record):
    crosswalk: str
    version: int
    status: str
    sha256: str
    path: str


class InputFile(_Record):
    file: str
    sha256: str
    format: str
    reader: str
    encoding: str | None
    rows: int


class TargetsUse(_Record):
    file: str
    sha256: str
    illustrative: bool
    used_by: tuple[str, ...]


class RunProvenance(_Record):
    """What produced a run: tool, time, schema, crosswalks, inputs and targets, with hashes."""

    tool: str = "harmonise"
    tool_version: str
    run_at: str
    schema_: SchemaUse = Field(alias="schema")
    crosswalks: tuple[CrosswalkUse, ...]
    inputs: tuple[InputFile, ...]
    targets: tuple[TargetsUse, ...]
    synthetic: bool

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def as_record(self) -> dict[str, Any]:
        """The JSON-ready record (``provenance.json`` keys)."""
        return self.model_dump(mode="json", by_alias=True)


@dataclass(frozen=True)
class RunResult:
    """The main job's result: what the report renders and the store keeps."""

    schema: Schema
    surveys: tuple[WeightedSurvey, ...]
    estimates: EstimateTable  # weighted, disclosure applied
    unweighted: EstimateTable  # unweighted, disclosure applied (for the weighting check)
    comparisons: ComparisonTable
    #: weighting diagnostics, achieved vs target margins and the recode audit, their
    #: unweighted counts already disclosure-controlled (see harmonise.disclosure.counts)
    weighting: pd.DataFrame
    margins: pd.DataFrame
    audit: pd.DataFrame
    provenance: RunProvenance
    rules: DisclosureRules = field(default_factory=DisclosureRules)
    #: change between waves per CSP, when a CSP has several waves
    trends: TrendTable | None = None
    #: within-survey subgroup differences (harmonise.compare.subgroups.subgroup_differences)
    subgroups: pd.DataFrame | None = None
