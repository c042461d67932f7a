"""The main job: the stages composed, nothing else.

    manifest ─▶ ingest ─▶ recode (crosswalk) ─▶ weight (targets) ─▶ estimate ─▶ disclosure
                                                                        └──▶ compare ─▶ RunResult

File reading happens through the stage loaders (ingest, crosswalk and targets readers);
writing is left to ``harmonise.report`` and storing to ``harmonise.store``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import harmonise
from harmonise._util.yamlio import validate_yaml
from harmonise.compare.pairs import compare, restricted_estimates
from harmonise.compare.subgroups import subgroup_differences
from harmonise.compare.trends import trends
from harmonise.crosswalk.io import load_crosswalk_hashed, load_schema_hashed, read_yaml
from harmonise.crosswalk.validate import check_locked
from harmonise.disclosure.counts import protect_counts
from harmonise.disclosure.linked import apply_release_disclosure, release_masks
from harmonise.errors import CrosswalkError, HarmoniseError
from harmonise.estimate.indicators import concat_tables, estimate_indicators
from harmonise.ingest import read_survey
from harmonise.ingest.common import resolve_read
from harmonise.models.crosswalk import Crosswalk, WeightingSpec
from harmonise.models.harmonised import CrosswalkRef, EstimateTable, WeightedSurvey
from harmonise.models.run import (
    Correction,
    CrosswalkUse,
    DisclosureRules,
    InputFile,
    Manifest,
    RunProvenance,
    RunResult,
    SchemaUse,
    SurveyEntry,
    TargetsUse,
)
from harmonise.recode import apply_crosswalk
from harmonise.weight.diagnostics import weighting_tables
from harmonise.weight.stage import weight_survey
from harmonise.weight.targets import Targets, read_targets_table, select_targets


def load_manifest(path: Path) -> Manifest:
    """Read a manifest file (``schema:`` is the schema file's path)."""
    raw = read_yaml(path)
    if isinstance(raw, dict) and "schema" in raw:
        raw = dict(raw)
        raw["schema_path"] = raw.pop("schema")
    return validate_yaml(raw, Manifest, path, error=CrosswalkError, what="manifest")


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


def _check_once(entry: SurveyEntry, ref: str, done: list[str]) -> None:
    """One crosswalk version per manifest: its estimates are keyed by ``crosswalk@vN``."""
    for other in done:
        if other == ref:
            raise CrosswalkError(
                f"manifest: {entry.file} and an earlier entry both use crosswalk {ref} "
                f"({entry.crosswalk}); their estimates would be mixed up. A crosswalk maps one "
                "export: give each wave or export its own crosswalk (a new crosswalk id or "
                "version)."
            )


def _check_distinct_bytes(entry: SurveyEntry, sha256: str,
                          inputs: list[InputFile]) -> None:
    """The same export under two names would be compared with itself."""
    for other in inputs:
        if other.sha256 == sha256:
            raise CrosswalkError(
                f"manifest: {entry.file} has the same content (sha256 {sha256[:12]}…) as "
                f"{other.file}, listed earlier: a survey would be compared with itself. "
                "Remove the copy from the manifest, or check that the right export was saved "
                "under each name."
            )


def _run_time() -> dt.datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (the reproducible-builds convention), so two
    runs of the same inputs can be compared byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except ValueError as exc:
            raise HarmoniseError(
                f"SOURCE_DATE_EPOCH={epoch[:20]!r} is not a whole number of seconds since "
                "1970-01-01 UTC; set it to one (e.g. 1767225600) or unset it"
            ) from exc
    return dt.datetime.now(dt.UTC)


def run(
    manifest_path: Path,
    *,
    root: Path | None = None,
    rules: DisclosureRules | None = None,
    progress: Progress | None = None,
    correction: Correction = "holm",
) -> RunResult:
    """Run every stage on the manifest's surveys; raise HarmoniseError on the first failure."""
    say = progress or (lambda _msg: None)
    root = root or manifest_path.parent.parent
    rules = rules or DisclosureRules()
    manifest = load_manifest(manifest_path)
    schema_path = root / manifest.schema_path
    schema, schema_sha = load_schema_hashed(schema_path)
    weighted_surveys: list[WeightedSurvey] = []
    tables: list[EstimateTable] = []
    raw_tables: list[EstimateTable] = []
    inputs: list[InputFile] = []
    crosswalks: list[CrosswalkUse] = []
    targets_used: dict[str, tuple[Targets, list[str]]] = {}
    # Every crosswalk is loaded and checked against the release lock before any export is
    # read: an edited release stops the run at once, not after the surveys before it.
    say("check the crosswalks against their releases")
    loaded: list[tuple[Crosswalk, str]] = []
    for entry in manifest.surveys:
        cw_path = root / entry.crosswalk
        cw, cw_sha = load_crosswalk_hashed(cw_path)  # the hash of the bytes parsed
        check_locked(cw, cw_sha, cw_path)  # an edited release is refused, never run
        _check_once(entry, cw.ref, [c.ref for c, _ in loaded])
        loaded.append((cw, cw_sha))
    for entry, (cw, cw_sha) in zip(manifest.surveys, loaded, strict=True):
        say(f"ingest {entry.file}")
        how = resolve_read(entry.file, cw.read.model_dump(),
                           {"encoding": entry.encoding, "sheet": entry.sheet,
                            "header_rows": entry.header_rows})
        survey = read_survey(root / entry.file, **how, keep=cw.privacy.keep or None,
                             postcode_district=cw.privacy.postcode_district or None)
        _check_distinct_bytes(entry, survey.provenance.sha256, inputs)
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
        inputs.append(InputFile(file=entry.file, sha256=p.sha256, format=p.format,
                                reader=p.reader, encoding=p.encoding, rows=p.n_rows))
        crosswalks.append(CrosswalkUse(crosswalk=cw.crosswalk, version=cw.version,
                                       status=cw.status, sha256=ref.sha256, path=ref.path))
        if targets is not None:  # one entry per file, naming every survey weighted to it
            targets_used.setdefault(targets.file, (targets, []))[1].append(cw.ref)
    say("disclosure control, comparisons and trends")
    cws = [ws.survey.crosswalk for ws in weighted_surveys]
    tables.append(restricted_estimates(weighted_surveys, schema))
    # both estimate tables of the release together: a cell hidden in one is hidden in the
    # other, and no breakdown minus another that contains it gives a suppressed cell away
    release = [concat_tables(tables), concat_tables(raw_tables)]
    estimates, unweighted = apply_release_disclosure(
        release, release_masks(weighted_surveys, release), rules)
    comparisons = compare(estimates, crosswalks=cws, correction=correction)
    weighting, margins = weighting_tables(weighted_surveys, min_count=rules.min_count)
    audit, margins = protect_counts(
        pd.concat([ws.survey.audit for ws in weighted_surveys], ignore_index=True),
        margins, estimates.rows, schema, weighted_surveys, rules.min_count)
    trend_table = trends(estimates, crosswalks=cws, correction=correction)
    subgroups = subgroup_differences(weighted_surveys, schema, estimates, correction=correction)
    provenance = RunProvenance(
        tool_version=harmonise.__version__,
        run_at=_run_time().isoformat(timespec="seconds"),
        schema_=SchemaUse(ref=schema.ref, path=manifest.schema_path, sha256=schema_sha),
        crosswalks=tuple(crosswalks),
        inputs=tuple(inputs),
        targets=tuple(
            TargetsUse(file=t.file, sha256=t.sha256, illustrative=t.illustrative,
                       used_by=tuple(used_by))
            for t, used_by in targets_used.values()
        ),
        synthetic=any(ws.survey.crosswalk.synthetic for ws in weighted_surveys),
    )
    return RunResult(
        schema=schema,
        surveys=tuple(weighted_surveys),
        estimates=estimates,
        unweighted=unweighted,
        comparisons=comparisons,
        weighting=weighting,
        margins=margins,
        audit=audit,
        provenance=provenance,
        rules=rules,
        trends=trend_table,
        subgroups=subgroups,
    )
