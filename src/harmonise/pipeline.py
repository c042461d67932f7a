"""The main job: the stages composed, nothing else.

    manifest ─▶ ingest ─▶ recode (crosswalk) ─▶ weight (targets) ─▶ estimate ─▶ disclosure
                                                                        └──▶ compare ─▶ RunResult

File reading happens through the stage loaders (ingest, crosswalk and targets readers);
writing is left to ``harmonise.report`` and storing to ``harmonise.store``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

import harmonise
from harmonise.compare import (
    ComparisonTable,
    compare,
    restricted_estimates,
    subgroup_differences,
)
from harmonise.crosswalk.io import load_crosswalk_hashed, load_schema_hashed, read_yaml
from harmonise.disclosure import DisclosureRules
from harmonise.disclosure_linked import apply_release_disclosure, release_masks
from harmonise.errors import CrosswalkError, HarmoniseError
from harmonise.estimate.indicators import concat_tables, estimate_indicators
from harmonise.ingest import read_survey
from harmonise.models.crosswalk import WeightingSpec
from harmonise.models.harmonised import CrosswalkRef, EstimateTable, WeightedSurvey
from harmonise.models.schema import Schema
from harmonise.recode import apply_crosswalk
from harmonise.trends import trends
from harmonise.weight.stage import weight_survey
from harmonise.weight.targets import Targets, read_targets_table, select_targets
from harmonise.yamlio import validate_yaml


class SurveyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    file: str
    crosswalk: str
    encoding: str | None = None
    sheet: str | None = None


class Manifest(BaseModel):
    """Which exports the main job harmonises, with which crosswalks (surveys/manifest.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_path: str = ""
    surveys: tuple[SurveyEntry, ...] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        raw = read_yaml(path)
        if isinstance(raw, dict) and "schema" in raw:
            raw = dict(raw)
            raw["schema_path"] = raw.pop("schema")
        return validate_yaml(raw, cls, path, error=CrosswalkError, what="manifest")


@dataclass(frozen=True)
class RunResult:
    schema: Schema
    surveys: tuple[WeightedSurvey, ...]
    estimates: EstimateTable  # weighted, disclosure applied
    unweighted: EstimateTable  # unweighted, disclosure applied (for the weighting check)
    comparisons: ComparisonTable
    provenance: dict[str, object]
    rules: DisclosureRules = field(default_factory=DisclosureRules)
    #: change between waves per CSP (harmonise.trends), when a CSP has several waves
    trends: pd.DataFrame | None = None
    #: within-survey subgroup differences (harmonise.compare.subgroup_differences)
    subgroups: pd.DataFrame | None = None


Progress = Callable[[str], None]


def _targets_for(root: Path, spec: WeightingSpec | None) -> Targets | None:
    if spec is None:
        return None
    table, sha = read_targets_table(root / spec.targets)
    return select_targets(
        table,
        file=spec.targets,
        sha256=sha,
        area_code=spec.area_code,
        population=spec.population,
        variables=spec.margins,
    )


def run(
    manifest_path: Path,
    *,
    root: Path | None = None,
    rules: DisclosureRules | None = None,
    progress: Progress | None = None,
    correction: str = "holm",
) -> RunResult:
    """Run every stage on the manifest's surveys; raise HarmoniseError on the first failure."""
    say = progress or (lambda _msg: None)
    root = root or manifest_path.parent.parent
    rules = rules or DisclosureRules()
    manifest = Manifest.load(manifest_path)
    schema_path = root / manifest.schema_path
    schema, schema_sha = load_schema_hashed(schema_path)
    weighted_surveys: list[WeightedSurvey] = []
    tables: list[EstimateTable] = []
    raw_tables: list[EstimateTable] = []
    inputs: list[dict[str, object]] = []
    crosswalks: list[dict[str, object]] = []
    targets_used: list[dict[str, object]] = []
    for entry in manifest.surveys:
        say(f"ingest {entry.file}")
        cw_path = root / entry.crosswalk
        cw, cw_sha = load_crosswalk_hashed(cw_path)  # the hash of the bytes parsed
        survey = read_survey(root / entry.file, encoding=entry.encoding, sheet=entry.sheet,
                             keep=cw.privacy.keep or None,
                             postcode_district=cw.privacy.postcode_district or None)
        ref = CrosswalkRef(
            crosswalk=cw.crosswalk, version=cw.version, sha256=cw_sha,
            path=entry.crosswalk,
        )
        say(f"harmonise with {cw.ref}")
        hs = apply_crosswalk(survey, cw, schema, ref)
        targets = _targets_for(root, cw.weighting)
        say(f"weight {cw.ref}")
        try:
            ws = weight_survey(hs, targets)
        except HarmoniseError as exc:
            raise type(exc)(f"{entry.file} ({cw.ref}): {exc}") from exc
        say(f"estimate {cw.ref}")
        tables.append(estimate_indicators(ws, schema))
        raw_tables.append(estimate_indicators(ws, schema, weighted=False))
        weighted_surveys.append(ws)
        p = survey.provenance
        inputs.append({"file": entry.file, "sha256": p.sha256, "format": p.format,
                       "reader": p.reader, "encoding": p.encoding, "rows": p.n_rows})
        crosswalks.append({"crosswalk": cw.crosswalk, "version": cw.version,
                           "status": cw.status, "sha256": ref.sha256, "path": ref.path})
        if targets is not None:
            used = next((t for t in targets_used if t["file"] == targets.file), None)
            if used is None:  # one entry per file, naming every survey weighted to it
                used = {"file": targets.file, "sha256": targets.sha256,
                        "illustrative": targets.illustrative, "used_by": []}
                targets_used.append(used)
            cast(list[str], used["used_by"]).append(cw.ref)
    say("disclosure control, comparisons and trends")
    cws = [ws.survey.crosswalk for ws in weighted_surveys]
    tables.append(restricted_estimates(weighted_surveys, schema))
    # both estimate tables of the release together: a cell hidden in one is hidden in the
    # other, and no breakdown minus another that contains it gives a suppressed cell away
    release = [concat_tables(tables), concat_tables(raw_tables)]
    estimates, unweighted = apply_release_disclosure(
        release, release_masks(weighted_surveys, release), rules)
    comparisons = compare(estimates, crosswalks=cws, correction=correction)
    trend_table = trends(estimates, crosswalks=cws, correction=correction)
    subgroups = subgroup_differences(weighted_surveys, schema, estimates, correction=correction)
    provenance: dict[str, object] = {
        "tool": "harmonise",
        "tool_version": harmonise.__version__,
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "schema": {"ref": schema.ref, "path": manifest.schema_path,
                   "sha256": schema_sha},
        "crosswalks": crosswalks,
        "inputs": inputs,
        "targets": targets_used,
        "synthetic": any(ws.survey.crosswalk.synthetic for ws in weighted_surveys),
    }
    return RunResult(
        schema=schema,
        surveys=tuple(weighted_surveys),
        estimates=estimates,
        unweighted=unweighted,
        comparisons=comparisons,
        provenance=provenance,
        rules=rules,
        trends=trend_table.rows,
        subgroups=subgroups,
    )
