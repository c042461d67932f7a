"""Apply a crosswalk to a SurveyFile: SurveyFile -> HarmonisedSurvey, with an audit.

("harmonise" the verb; the module is named apart from the package.)

Nothing identifying is echoed. A source value that looks identifying
(:func:`harmonise.privacy.looks_identifying`: an e-mail address, phone number, full
postcode or IP address) is named in messages only by what it looks like and its row ("an
e-mail-like value … first at data row 7") and written to the audit as a placeholder
(``<e-mail-like value>``). A column flagged as identifying at ingest but kept with a reason
(``privacy.keep``, e.g. a school used as the design's cluster) may be mapped, but none of its
values is ever shown: messages give rows only, and the audit has one row per target with
the value ``<kept identifying column: N distinct values>`` and the summed count. A column
kept as postcode districts only ("LU1") is area-level and shown as usual.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Number
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harmonise.errors import CrosswalkError, UnmappedValueError
from harmonise.models.crosswalk import BLANK, normalise_value
from harmonise.models.harmonised import AUDIT_COLUMNS, CrosswalkRef, HarmonisedSurvey
from harmonise.models.report import Issue
from harmonise.privacy import (
    DISTRICT_ONLY,
    cap,
    describe,
    looks_free_text,
    looks_identifying,
    placeholder,
    typed_answer,
)

if TYPE_CHECKING:
    from harmonise.models.crosswalk import Crosswalk, Item
    from harmonise.models.schema import Schema
    from harmonise.models.survey import SurveyFile

def _find_column(columns: list[str], wanted: str) -> str | None:
    """Exact match, else a unique case-insensitive one (SPSS .por upper-cases names)."""
    if wanted in columns:
        return wanted
    folded = [c for c in columns if c.casefold() == wanted.casefold()]
    return folded[0] if len(folded) == 1 else None


def _missing_column_message(file: str, crosswalk: str, what: str, wanted: str,
                            columns: list[str]) -> str:
    folded = {c.casefold(): c for c in columns}
    close = [folded[c] for c in difflib.get_close_matches(wanted.casefold(), list(folded),
                                                           n=3, cutoff=0.6)]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"{file}: crosswalk {crosswalk} {what} names column {wanted!r}, which is not in the "
        f"file.{hint} Fix the crosswalk's 'source' (a new crosswalk version if it is released) "
        "or check that this is the right export."
    )


def schema_issues(crosswalk: Crosswalk, schema: Schema, file: str = "") -> list[Issue]:
    """Every way the crosswalk does not fit the schema, as issues (empty when it fits)."""
    issues: list[Issue] = []
    cw = crosswalk.ref

    def add(code: str, message: str, item: str = "", value: str = "") -> None:
        issues.append(Issue(code=code, message=message, file=file, item=item, value=value))

    if crosswalk.schema_ref != schema.ref:
        add("schema-version-mismatch",
            f"{cw} targets {crosswalk.schema_ref} but the schema is {schema.ref}",
            value=crosswalk.schema_ref)
    try:
        schema.population(crosswalk.population)
    except KeyError:
        add("population-not-in-schema",
            f"{cw}: population {crosswalk.population!r} is not in the schema",
            value=crosswalk.population)
    concepts = {c.id: c for c in schema.concepts}
    scale_ids = {s.id for s in schema.scales}
    indicators_by_concept: dict[str, list[str]] = {}
    for ind in schema.indicators:
        indicators_by_concept.setdefault(ind.concept, []).append(ind.id)
    for item in crosswalk.items:
        where = f"{cw} item {item.id!r}"
        if item.concept is None or item.comparability == "unassessed":
            # one row per item a person must decide, naming everything it lacks
            what = [w for w, lacking in (("concept", item.concept is None),
                                         ("comparability grade",
                                          item.comparability == "unassessed")) if lacking]
            add("concept-missing" if item.concept is None else "grade-missing",
                f"{where}: not assessed yet ({' and '.join(what)} missing); complete the "
                "draft before harmonising with it",
                item=item.id)
            continue
        concept = concepts.get(item.concept)
        if concept is None:
            add("concept-not-in-schema",
                f"{where}: concept {item.concept!r} is not in {schema.ref}",
                item=item.id, value=item.concept)
            continue
        scale_id = item.scale or concept.scale
        if scale_id not in scale_ids:
            add("scale-not-in-schema", f"{where}: scale {scale_id!r} is not in {schema.ref}",
                item=item.id, value=scale_id)
            continue
        scale = schema.scale(scale_id)
        option_codes = [o.code for o in concept.options]
        if scale.kind == "multi":
            if item.option not in option_codes:
                add("option-invalid",
                    f"{where}: multi-select concept {concept.id!r} needs 'option' set to one "
                    f"of {option_codes}, got {item.option!r}",
                    item=item.id, value=item.option or "")
        elif item.option is not None:
            add("option-not-allowed", f"{where}: 'option' is only for multi-select concepts",
                item=item.id, value=item.option)
        if scale.kind != "open":
            bad = sorted({t for t in item.recode.values() if t not in scale.codes})
            if bad:
                add("target-not-in-scale",
                    f"{where}: recode targets {bad} are not categories of scale {scale_id!r} "
                    f"({', '.join(scale.codes)})",
                    item=item.id, value=", ".join(bad))
        else:
            bad = sorted({t for t in item.recode.values() if not _SLUG.match(t)})
            if bad:
                add("target-not-slug",
                    f"{where}: codes {bad} for open scale must be lower-case slugs "
                    "(letters, digits, underscores)",
                    item=item.id, value=", ".join(bad))
        for ind_id in indicators_by_concept.get(concept.id, []):
            ind = next(i for i in schema.indicators if i.id == ind_id)
            if scale_id not in ind.success:
                add("indicator-lacks-scale",
                    f"{where}: indicator {ind_id!r} does not say which categories of scale "
                    f"{scale_id!r} count; add {scale_id} to its 'success' in the schema or "
                    "recode to a scale it knows",
                    item=item.id, value=ind_id)
    return issues


def check_against_schema(crosswalk: Crosswalk, schema: Schema) -> list[str]:
    """Every way the crosswalk does not fit the schema, as messages (empty when it fits)."""
    return [i.message for i in schema_issues(crosswalk, schema)]


_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def _labels_for(survey: SurveyFile, column: str) -> Mapping[Any, str]:
    info = survey.codebook.variables.get(column)
    return info.value_labels if info is not None else {}


def _design_roles(crosswalk: Crosswalk) -> list[tuple[str, str]]:
    design = crosswalk.design
    return [
        (role, col)
        for role, col in (
            ("respondent_id", crosswalk.respondent_id),
            ("design.strata", design.strata),
            ("design.cluster", design.cluster),
            ("design.base_weight", design.base_weight),
        )
        if col is not None
    ]


def _resolve_columns(
    survey: SurveyFile, crosswalk: Crosswalk, file: str
) -> tuple[dict[str, str], list[Issue]]:
    """Source column name as written in the crosswalk -> column in the data, and problems."""
    data_file = survey.provenance.file_name
    columns = [str(c) for c in survey.data.columns]
    flagged = {f.name: f for f in survey.flagged}
    resolved: dict[str, str] = {}
    issues: list[Issue] = []

    def resolve(what: str, item: str, wanted: str) -> None:
        found = _find_column(columns, wanted)
        if found is not None:
            resolved[wanted] = found
        elif wanted in flagged:
            f = flagged[wanted]
            issues.append(Issue(
                code="column-identifying", file=file, item=item, variable=wanted,
                message=(
                    f"{data_file}: crosswalk {crosswalk.ref} {what} uses column {wanted!r}, "
                    f"which was removed at ingest as identifying ({f.kind}: {f.reason}). Map a "
                    "coded column instead, or keep it with a stated reason."
                ),
            ))
        else:
            issues.append(Issue(
                code="column-missing", file=file, item=item, variable=wanted,
                message=_missing_column_message(data_file, crosswalk.ref, what, wanted, columns),
            ))

    for item in crosswalk.items:
        resolve(f"item {item.id!r}", item.id, item.source)
    for role, col in _design_roles(crosswalk):
        resolve(role, "", col)
    return resolved, issues


def _value_table(item: Item) -> dict[str, tuple[str, str]]:
    """Normalised source value -> (target, 'category' | 'missing')."""
    table: dict[str, tuple[str, str]] = {}
    for key, target in item.recode.items():
        table[normalise_value(key)] = (target, "category")
    for key, mtype in item.missing.items():
        table[normalise_value(key)] = (mtype, "missing")
    return table


@dataclass(frozen=True)
class _Seen:
    """One distinct source value of an item's column: its count and where it goes (or not)."""

    value: object
    norm: str
    count: int
    label: str
    hit: tuple[str, str] | None


def _match_values(survey: SurveyFile, item: Item, source: str) -> list[_Seen]:
    series = survey.data[source]
    table = _value_table(item)
    labels = _labels_for(survey, source)
    counts = series.value_counts(dropna=False, sort=False)
    seen: list[_Seen] = []
    for value, count in counts.items():
        norm = normalise_value(value)
        hit = table.get(norm)
        if hit is None and norm != BLANK:
            label = labels.get(value)
            if label is not None:  # a code whose label is listed, e.g. SPSS 1 = "Very safe"
                hit = table.get(normalise_value(label))
        seen.append(_Seen(value, norm, int(count), labels.get(value, ""), hit))
    return seen


def kept_identifying(survey: SurveyFile) -> dict[str, str]:
    """Columns flagged as identifying but kept with a reason -> their kind.

    Columns kept as postcode districts only are area-level, not identifying, and left out.
    """
    return {f.name: f.kind for f in survey.flagged
            if f.kept and not (f.kept_reason or "").startswith(DISTRICT_ONLY)}


def _kept_placeholder(n: int) -> str:
    return f"<kept identifying column: {n} distinct value{'' if n == 1 else 's'}>"


def _unlisted_issue(survey: SurveyFile, crosswalk: Crosswalk, item: Item, source: str,
                    seen: _Seen, file: str) -> Issue:
    series = survey.data[source]
    row = int(np.flatnonzero(_equal_mask(series, seen.value))[0]) + 1
    data_file = survey.provenance.file_name
    after = (f"which crosswalk {crosswalk.ref} does not list. Add it to the item's 'recode' "
             "or 'missing' table (in a new crosswalk version if this one is released).")
    kept = kept_identifying(survey)
    if source in kept and seen.norm != BLANK:
        return Issue(
            code="value-not-in-recode", file=file, item=item.id, variable=source,
            value=_kept_placeholder(1), row=row,
            message=(
                f"{data_file}: variable {source!r} (item {item.id!r}) is identifying "
                f"({kept[source]}), kept with a reason, so its values are never shown: one of "
                f"them, in {seen.count} row(s), first at data row {row} (look it up in the "
                f"file), is a value {after}"
            ),
        )
    kind = looks_identifying(seen.value) or looks_identifying(seen.label)
    if kind is not None:
        shown, value, label_txt = f"{describe(kind)} (not shown)", placeholder(kind), ""
    elif _typed(seen):
        shown = value = typed_answer(str(seen.value))
        label_txt = ""
    else:
        shown = "(blank)" if seen.norm == BLANK else cap(repr(seen.value))
        value = cap(_display(seen.value, seen.norm))
        label_txt = f" (labelled {cap(repr(seen.label))})" if seen.label else ""
    return Issue(
        code="value-not-in-recode", file=file, item=item.id, variable=source,
        value=value, row=row,
        message=(
            f"{data_file}: variable {source!r} (item {item.id!r}) has value "
            f"{shown}{label_txt} in {seen.count} row(s), first at data row {row}, {after}"
        ),
    )


MAX_VALUE_ISSUES = 10
"""Unlisted values reported one by one per item; the rest are counted in one more issue."""


def _typed_issue(survey: SurveyFile, item: Item, source: str, typed: list[_Seen],
                 file: str) -> Issue:
    """One issue for an item's unlisted typed answers (free text one respondent gave each):
    their lengths and rows, never their text."""
    series = survey.data[source]
    rows = [int(np.flatnonzero(_equal_mask(series, s.value))[0]) + 1 for s in typed]
    shown = ", ".join(typed_answer(str(s.value), r) for s, r in zip(typed, rows, strict=True)
                      if r in rows[:5])
    more = f" and {len(typed) - 5} more" if len(typed) > 5 else ""
    return Issue(
        code="typed-answer-not-in-recode", file=file, item=item.id, variable=source,
        value=f"{len(typed)} typed answer(s)", row=rows[0],
        message=(
            f"{survey.provenance.file_name}: variable {source!r} (item {item.id!r}) has "
            f"{len(typed)} typed answer(s) given by one respondent each ({shown}{more}; "
            "their text is free text, never shown), which the crosswalk does not list. "
            "Look each up in the file and map it in the item's 'recode' or 'missing' "
            "table, or list the column under 'unmapped:' if it is an open question."
        ),
    )


def data_issues(survey: SurveyFile, crosswalk: Crosswalk, file: str = "") -> list[Issue]:
    """Every way the crosswalk does not fit this export, as issues (empty when it fits).

    Errors: source or design columns missing or removed at ingest as identifying, values in
    the data listed in neither ``recode`` nor ``missing``. Warning: data columns that are
    neither used by the crosswalk nor listed under ``unmapped:`` (a question may have been
    forgotten).
    """
    resolved, issues = _resolve_columns(survey, crosswalk, file)
    for item in crosswalk.items:
        source = resolved.get(item.source)
        if source is None:
            continue
        unlisted = [s for s in _match_values(survey, item, source) if s.hit is None]
        typed = [s for s in unlisted if _typed(s) and source not in kept_identifying(survey)]
        if typed:
            issues.append(_typed_issue(survey, item, source, typed, file))
            unlisted = [s for s in unlisted if not any(s is t for t in typed)]
        for seen in unlisted[:MAX_VALUE_ISSUES]:
            issues.append(_unlisted_issue(survey, crosswalk, item, source, seen, file))
        if len(unlisted) > MAX_VALUE_ISSUES:
            more = unlisted[MAX_VALUE_ISSUES:]
            issues.append(Issue(
                code="value-not-in-recode", file=file, item=item.id, variable=source,
                value=f"{len(more)} more",
                message=(
                    f"{survey.provenance.file_name}: variable {source!r} (item {item.id!r}) "
                    f"has {len(more)} more unlisted value(s) in {sum(s.count for s in more)} "
                    f"row(s), {len(unlisted)} in all: if the column holds ids, times or typed "
                    "text, list it under 'unmapped:' instead of mapping it; otherwise bin "
                    "its values in the item's 'recode'."
                ),
            ))
    used = set(resolved.values())
    columns = [str(c) for c in survey.data.columns]
    listed = {c for name in crosswalk.unmapped if (c := _find_column(columns, name))}
    for col in columns:
        if col not in used and col not in listed:
            issues.append(Issue(
                code="column-unmapped", file=file, variable=col, severity="warning",
                message=(
                    f"{survey.provenance.file_name}: column {col!r} is not used by crosswalk "
                    f"{crosswalk.ref}. Map it in an item, or list it under 'unmapped:' with "
                    "the reason it is left out."
                ),
            ))
    return issues


def apply_crosswalk(
    survey: SurveyFile, crosswalk: Crosswalk, schema: Schema, ref: CrosswalkRef
) -> HarmonisedSurvey:
    """Recode every crosswalk item; fail on any problem, listing all of them at once.

    Every source value must appear in the item's ``recode`` or ``missing`` table: an
    unlisted value raises :class:`UnmappedValueError` naming the file, variable, value,
    count and first row, never a silent missing.
    """
    problems = check_against_schema(crosswalk, schema)
    if problems:
        raise CrosswalkError(
            f"{ref.path}: does not fit schema {schema.ref}:\n  - " + "\n  - ".join(problems)
        )
    resolved, column_issues = _resolve_columns(survey, crosswalk, ref.path)
    if column_issues:
        raise CrosswalkError("\n".join(i.message for i in column_issues))

    data = survey.data
    design = crosswalk.design
    out = pd.DataFrame(index=pd.RangeIndex(len(data)))
    out["respondent_id"] = _respondent_ids(survey, crosswalk, resolved)
    out["_strata"] = _design_codes(data, resolved.get(design.strata or ""))
    out["_cluster"] = _design_codes(data, resolved.get(design.cluster or ""))
    out["_base_weight"] = _base_weights(survey, crosswalk, resolved)

    audit_rows: list[dict[str, object]] = []
    unmapped: list[str] = []
    scales: dict[str, str] = {}
    kept = kept_identifying(survey)
    for item in crosswalk.items:
        source = resolved[item.source]
        mapping: dict[object, str] = {}
        mapped: list[_Seen] = []
        for seen in _match_values(survey, item, source):
            if seen.hit is None:
                unmapped.append(
                    _unlisted_issue(survey, crosswalk, item, source, seen, ref.path).message
                )
                continue
            mapping[seen.value] = seen.hit[0]
            mapped.append(seen)
        rows = _kept_audit(mapped) if source in kept else [
            (_audit_value(s), "" if looks_identifying(s.label) else s.label, s.count,
             s.hit) for s in mapped if s.hit is not None]
        audit_rows += [
            {
                "crosswalk": crosswalk.ref,
                "item": item.id,
                "concept": item.concept,
                "option": item.option or "",
                "source": source,
                "value": value,
                "value_label": label,
                "count": count,
                "target": hit[0],
                "target_kind": hit[1],
            }
            for value, label, count, hit in rows
        ]
        if not unmapped:
            out[item.column] = _map_series(data[source], mapping)
        scales[item.column] = item.scale or schema.concept(str(item.concept)).scale
    if unmapped:
        raise UnmappedValueError("\n".join(unmapped))

    audit = pd.DataFrame(audit_rows, columns=list(AUDIT_COLUMNS))
    return HarmonisedSurvey(
        crosswalk=crosswalk,
        ref=ref,
        data=out,
        scales=scales,
        audit=audit,
        source=survey.provenance,
        flagged=survey.flagged,
    )


def _typed(seen: _Seen) -> bool:
    """A typed answer (free text) fewer than 2 respondents gave, with no value label: never
    shown (:func:`harmonise.privacy.looks_free_text`)."""
    return seen.count < 2 and not seen.label and looks_free_text(seen.value)


def _audit_value(seen: _Seen) -> str:
    """The audit's value: as :func:`_display`, or a placeholder when it looks identifying
    or is a typed answer one respondent gave."""
    kind = looks_identifying(seen.value)
    if kind is not None:
        return placeholder(kind)
    return typed_answer(str(seen.value)) if _typed(seen) else _display(seen.value, seen.norm)


def _kept_audit(mapped: list[_Seen]) -> list[tuple[str, str, int, tuple[str, str]]]:
    """Audit rows of a kept identifying column: one per target, values counted, not shown.

    Blank cells keep their own ``(blank)`` row (a blank identifies nobody).
    """
    groups: dict[tuple[str, str], list[_Seen]] = {}
    rows: list[tuple[str, str, int, tuple[str, str]]] = []
    for seen in mapped:
        if seen.hit is None:
            continue
        if seen.norm == BLANK:
            rows.append((BLANK, "", seen.count, seen.hit))
        else:
            groups.setdefault(seen.hit, []).append(seen)
    rows += [(_kept_placeholder(len(g)), "", sum(s.count for s in g), hit)
             for hit, g in groups.items()]
    return rows


def _display(value: object, norm: str) -> str:
    """How a source value appears in the audit: codes canonical (1 not 1.0), text as is."""
    if norm == BLANK:
        return BLANK
    if isinstance(value, Number) and not isinstance(value, bool):
        return norm
    return str(value)


def _equal_mask(series: pd.Series, value: object) -> np.ndarray:
    """Rows whose value normalises like ``value`` (used to point at the first bad row)."""
    target = normalise_value(value)
    keys = series.astype("object").map(normalise_value)
    mask: np.ndarray = np.asarray(keys == target, dtype=bool)
    return mask


def _map_series(series: pd.Series, mapping: Mapping[object, str]) -> pd.Series:
    """Map each source value through ``mapping``; NaN-like keys map blank cells."""
    blank_target = next(
        (t for v, t in mapping.items() if normalise_value(v) == BLANK), None
    )
    obj = series.astype("object")
    mapped = obj.map(lambda v: mapping.get(v) if normalise_value(v) != BLANK else blank_target)
    if mapped.isna().any():  # cannot happen after the unmapped check; guard the invariant
        raise CrosswalkError(f"internal error: unmapped values remain in {series.name!r}")
    return mapped.astype("string")


def _respondent_ids(
    survey: SurveyFile, crosswalk: Crosswalk, resolved: Mapping[str, str]
) -> pd.Series:
    n = len(survey.data)
    if crosswalk.respondent_id is None:
        return pd.Series(np.arange(1, n + 1), dtype="int64").astype("string")
    col = resolved[crosswalk.respondent_id]
    ids = survey.data[col].map(lambda v: normalise_value(v) if v == v else BLANK)
    problems = []
    blank = np.flatnonzero(np.asarray(ids == BLANK))
    if len(blank):
        problems.append(f"{len(blank)} blank id(s), first at data row {blank[0] + 1}")
    dupes = ids[ids.duplicated(keep=False) & (ids != BLANK)]
    if len(dupes):
        first = dupes.iloc[0]
        rows = [int(i) + 1 for i in np.flatnonzero(np.asarray(ids == first))[:5]]
        problems.append(
            f"{dupes.nunique()} duplicated id(s), e.g. {_safe_repr(first)} at data rows {rows}"
        )
    if problems:
        raise CrosswalkError(
            f"{survey.provenance.file_name}: respondent id column {col!r} has "
            + "; ".join(problems)
            + ". Each respondent needs a unique id: remove duplicate submissions or set "
            "'respondent_id: null' in the crosswalk to number rows."
        )
    return ids.astype("string")


def _safe_repr(value: object) -> str:
    kind = looks_identifying(value)
    if kind is not None:
        return describe(kind)
    return typed_answer(value) if isinstance(value, str) and looks_free_text(value) else cap(
        repr(value))


def _design_codes(data: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(np.zeros(len(data), dtype="int64"))
    codes, _ = pd.factorize(data[column].astype("object").map(normalise_value), sort=True)
    return pd.Series(codes.astype("int64"))


def _base_weights(
    survey: SurveyFile, crosswalk: Crosswalk, resolved: Mapping[str, str]
) -> pd.Series:
    n = len(survey.data)
    col = crosswalk.design.base_weight
    if col is None:
        return pd.Series(np.ones(n))
    raw = pd.to_numeric(survey.data[resolved[col]], errors="coerce")
    bad = np.flatnonzero(~(np.asarray(raw, dtype=float) > 0))
    if len(bad):
        value = survey.data[resolved[col]].iloc[bad[0]]
        raise CrosswalkError(
            f"{survey.provenance.file_name}: base weight column {resolved[col]!r} has "
            f"{len(bad)} missing, zero or non-numeric value(s), first {_safe_repr(value)} at "
            "data row "
            f"{bad[0] + 1}. Base weights must be positive numbers; fix the export or set "
            "design.base_weight to null."
        )
    return pd.Series(np.asarray(raw, dtype=float))
