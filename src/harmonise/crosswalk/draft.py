"""Write a draft crosswalk for one read export: every variable listed for a person to finish.

:func:`draft_crosswalk` is pure: a :class:`SurveyFile` and the schema in, YAML text out
(``harmonise inspect FILE --draft-crosswalk OUT.yaml`` writes it). The draft:

* has ``status: draft`` and placeholders (``TODO: …``) for what a file cannot say (CSP,
  population, mode, sampling, fieldwork dates);
* lists every non-identifying variable as an item, with ``comparability: unassessed``
  and a note starting ``draft:``; a respondent id column becomes ``respondent_id``;
* pre-fills each recode table from the value labels (code -> slug of the label, or the
  scale category whose label matches when a concept is suggested; labels such as "Don't
  know" or "Prefer not to say" go to ``missing``), or from the values seen in a column
  without labels (at most ``MAX_VALUES``); blank cells get ``"(blank)": no_answer``;
* suggests a concept where :mod:`harmonise.suggest` ranks one above its ``none`` floor
  (wording, answer options and facets; tick-box groups as one question), marked
  ``# suggested`` with its score and method, and the reasons in the item's note; the
  grade stays ``unassessed`` so a person must review it before any release;
* sends every column flagged as identifying to ``unmapped`` with the flag's reason;
* never writes a value or label that looks identifying
  (:func:`harmonise.privacy.looks_identifying`): the item's note counts them under a
  placeholder (``<e-mail-like value ×2>``) for a person to deal with from the file.

A draft loads with :func:`harmonise.crosswalk.io.load_crosswalk`; it cannot be released
until a person has given every item a concept and a comparability grade.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import pandas as pd

from harmonise.models.crosswalk import BLANK, normalise_value
from harmonise.models.schema import Schema
from harmonise.models.survey import SurveyFile, VariableInfo
from harmonise.privacy import looks_identifying, placeholder
from harmonise.suggest.rank import Candidate, Suggester
from harmonise.suggest.scales import match_category, missing_type
from harmonise.suggest.survey import survey_questions

MAX_VALUES = 60
"""A column without value labels gets a recode table from its values up to this many."""

_ID = re.compile(r"^(resp(ondent)?|response|pupil|case|record|unique|participant|serial)?"
                 r"[ _]?(id|no|number|serial)$|^respid$|^id$|^serial$|^uuid$")
_TICKED = {"1", "yes", "true", "y", "x", "checked", "selected", "ticked", "✓", "✔"}
_UNTICKED = {"0", "no", "false", "n", "unchecked", "not selected"}


def slug(text: object, limit: int = 48) -> str:
    """``"Very safe"`` -> ``very_safe``; a slug never starts with a digit (``v_1``)."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "_", folded.casefold().replace("'", "")).strip("_")[:limit]
    out = out.strip("_") or "value"
    return f"v_{out}" if out[0].isdigit() else out


def _q(value: object) -> str:
    """A YAML scalar: numbers as numbers, everything else double-quoted (JSON rules)."""
    if isinstance(value, bool):
        return json.dumps(str(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(text.split())


def _key(value: object) -> object:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_respondent_id(name: str, series: pd.Series) -> bool:
    """A column named like an id whose values are all present and unique."""
    words = " ".join(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).casefold().split())
    return (bool(_ID.match(words.replace(" ", "_")) or _ID.match(words))
            and bool(series.notna().all()) and bool(series.is_unique))


def _item_entries(info: VariableInfo, series: pd.Series, suggestion: Candidate | None,
                  schema: Schema, multi: bool
                  ) -> tuple[dict[object, str], dict[object, str], list[str]]:
    """(recode, missing, notes) pre-filled from labels or observed values."""
    scale = schema.scale(suggestion.recode.scale if suggestion and suggestion.recode else
                         schema.concept(suggestion.concept).scale) if suggestion else None
    recode: dict[object, str] = {}
    missing: dict[object, str] = {}
    notes: list[str] = []
    seen: set[str] = set()
    hidden: dict[str, int] = {}

    def add(key: object, label: str) -> None:
        norm = normalise_value(key)
        if norm in seen or norm == BLANK:
            return
        seen.add(norm)
        kind = looks_identifying(key) or looks_identifying(label)
        if kind is not None:
            hidden[kind] = hidden.get(kind, 0) + 1
            return
        mtype = missing_type(label)
        if mtype is not None:
            missing[key] = mtype
            return
        if multi and normalise_value(label) in _TICKED | {normalise_value(info.option or "")}:
            recode[key] = "selected"
        elif multi and normalise_value(label) in _UNTICKED:
            recode[key] = "not_selected"
        else:
            code = match_category(label, scale) if scale is not None else None
            recode[key] = code or slug(label)

    for code, label in info.value_labels.items():
        add(_key(code), str(label))
    observed = [_key(v) for v in series.dropna().unique().tolist()]
    unlabelled = [v for v in observed if normalise_value(v) not in seen]
    if info.value_labels and unlabelled:
        notes.append(f"{len(unlabelled)} value(s) in the data have no label")
    if len(unlabelled) > MAX_VALUES:
        notes.append(f"{len(unlabelled)} distinct unlabelled values, too many to list: bin "
                     "them into the concept's categories or move the column to unmapped")
    else:
        for value in sorted(unlabelled, key=lambda v: (isinstance(v, str), str(v))):
            add(value, str(value))
    for code in info.user_missing:
        key = _key(code)
        if key in recode:
            notes.append(f"{key!r} is declared user-missing: choose its missing type")
    if hidden:
        notes.append("not written because they look identifying: " + ", ".join(
            placeholder(k, n) for k, n in hidden.items()) + "; map them by hand from the "
            "file, or move the column to unmapped (it may hold typed details)")
    if series.isna().any():
        if multi and "not_selected" not in recode.values():
            recode[BLANK] = "not_selected"
            notes.append("blank read as not selected (no unticked value in the data): check "
                         "how the export marks an unticked option and a skipped question")
        else:
            missing[BLANK] = "no_answer"
    return recode, missing, notes


def _emit_table(lines: list[str], name: str, table: dict[object, str]) -> None:
    if not table:
        lines.append(f"    {name}: {{}}")
        return
    lines.append(f"    {name}:")
    for key, target in table.items():
        lines.append(f"      {_q(key)}: {_q(target)}")


def _unique_id(base: str, used: set[str]) -> str:
    out, n = base, 2
    while out in used:
        out, n = f"{base}_{n}", n + 1
    used.add(out)
    return out


def draft_crosswalk(survey: SurveyFile, schema: Schema, *, name: str | None = None,
                    today: dt.date | None = None, method: str = "auto") -> str:
    """The draft crosswalk YAML for ``survey`` (see the module docstring)."""
    prov = survey.provenance
    today = today or dt.date.today()
    cw_name = slug(name or prov.file_name.rsplit(".", 1)[0]).replace("_", "-")
    respondent = next((c for c in survey.codebook.variables
                       if is_respondent_id(c, survey.data[c])), None)
    member_of = {m: g for g in survey.codebook.groups.values() for m in g.members}
    lines = [
        f"# DRAFT crosswalk written by `harmonise inspect` from {prov.file_name}",
        f"# (sha256 {prov.sha256}) on {today.isoformat()}, against schema {schema.ref}.",
        "# A person must check every item: concept (suggested by harmonise suggest, see",
        "# docs/suggest.md), scale, recode, missing, comparability and note; fill in the TODOs,",
        "# then set status: released. Until then this file cannot be released.",
        f"crosswalk: {_q(cw_name)}",
        "version: 1",
        "status: draft",
        f"schema: {schema.ref}",
        "synthetic: false",
        'csp: "TODO: csp slug, e.g. luton"',
        'csp_name: "TODO: Community Safety Partnership name"',
        f"instrument: {_q('TODO: survey name (' + prov.file_name + ')')}",
        f'wave: "{today.year}"  # TODO: check',
        f"fieldwork_start: {today.isoformat()}  # TODO: first day of fieldwork",
        f"fieldwork_end: {today.isoformat()}  # TODO: last day of fieldwork",
        'population: "TODO: one of ' + ", ".join(p.id for p in schema.populations) + '"',
        'mode: "TODO: how the survey was completed"',
        'sampling: "TODO: how respondents were selected"',
        f"respondent_id: {_q(respondent) if respondent else 'null'}",
        "design: {strata: null, cluster: null, base_weight: null}  # TODO: check",
        "privacy:",
        "  keep: {}  # column: reason, to keep a flagged column",
        "  postcode_district: {}  # column: reason, to keep a postcode's district (LU1) only",
    ]
    flagged = list(survey.flagged)
    if flagged:
        lines.append("unmapped:  # identifying: removed at ingest, never mapped")
        for f in flagged:
            lines.append(f"  {_q(f.name)}: {_q(f.reason)}")
    else:
        lines.append("unmapped: {}")
    lines.append("changelog:")
    lines.append(f"  - {_q('v1: draft written by harmonise inspect from ' + prov.file_name)}")
    lines.append("items:")
    used: set[str] = set()
    kept = {f.name for f in survey.flagged}
    suggester = Suggester(schema, method)
    asked = survey_questions(survey)
    ranked = suggester.suggest([sq.question for sq in asked], top=1)
    suggested = {col: r.best for sq, r in zip(asked, ranked, strict=True) for col in sq.columns}
    for col, info in survey.codebook.variables.items():
        if col == respondent or col in kept:
            continue
        group = member_of.get(col)
        question = (group.question if group and group.question else None) or info.question \
            or info.label
        suggestion = suggested.get(col)
        multi = group is not None
        recode, missing, notes = _item_entries(info, survey.data[col], suggestion, schema,
                                               multi)
        base = slug(group.name if group else col, 40)
        item_id = _unique_id(base + (f"_{slug(info.option, 20)}" if multi and info.option
                                     else ""), used)
        lines.append(f"  - id: {_q(item_id)}")
        if suggestion is not None:
            lines.append(f"    concept: {suggestion.concept}  # suggested: score "
                         f"{suggestion.score:.2f} by {suggester.method}; a person must check")
        else:
            lines.append("    concept: null  # no close match in the schema: choose one")
        if multi:
            lines.append(f"    option: {_q(slug(info.option or col))}")
        lines.append(f"    source: {_q(col)}")
        if question:
            lines.append(f"    question: {_q(question)}")
        scale = "multi" if multi else ((suggestion.recode.scale if suggestion.recode else
                                        schema.concept(suggestion.concept).scale)
                                       if suggestion else None)
        lines.append(f"    scale: {_q(scale) if scale else 'null'}")
        _emit_table(lines, "recode", recode)
        _emit_table(lines, "missing", missing)
        lines.append("    comparability: unassessed")
        note = "draft: pre-filled from the file; check every line" + "".join(
            f"; {n}" for n in notes)
        if suggestion is not None:
            note += (f"; suggested {suggestion.concept} (score {suggestion.score:.2f}, "
                     f"{suggester.method}): " + "; ".join((*suggestion.reasons,
                                                          *suggestion.flags)))
        lines.append(f"    note: {_q(note)}")
    return "\n".join(lines) + "\n"


def draft_summary(text: str) -> dict[str, Any]:
    """Counts of a draft for the command's message: items, suggested concepts, unmapped."""
    return {"items": text.count("\n  - id: "),
            "suggested": text.count("  # suggested: score "),
            "unmapped": _count_unmapped(text.splitlines())}


def _count_unmapped(lines: Sequence[str]) -> int:
    inside, n = False, 0
    for line in lines:
        if line.startswith("unmapped:"):
            inside = True
            continue
        if inside:
            if line.startswith("  ") and not line.startswith("  -"):
                n += 1
            else:
                break
    return n
