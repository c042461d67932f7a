"""Write a draft crosswalk for one read export: nearly right, with the decisions marked.

:func:`draft_crosswalk` is pure: a :class:`SurveyFile`, the schema and a
:class:`~harmonise.crosswalk.draft_inputs.DraftContext` (targets files present, fieldwork
dates from the file's own date column) in, YAML text out (``harmonise inspect FILE
--draft-crosswalk OUT.yaml`` writes it). The draft:

* leaves out what is not an answer (:mod:`harmonise.crosswalk.draft_rules`): the
  respondent id (detected, written as ``respondent_id``), timestamps, platform metadata
  and columns with a different text in almost every row go to ``unmapped:`` with the
  reason, as do identifying columns (the flag's reason) and the options of a multi-select
  question that are not options of its concept ("Other");
* pre-fills each recode table from the value labels or the values seen (at most
  ``MAX_VALUES``): a label matching a category of the concept's scale gets its code, an
  answer such as "Don't know" or "Prefer not to say" goes to ``missing``, any other label
  gets a clean code (``"Very safe"`` -> ``very_safe``, ``"18-24"`` -> ``18_24``);
* takes the concept :mod:`harmonise.suggest` ranks first (its score, method and reasons
  in a comment; tick-box groups as one question), or, for sex, age and area, the one whose
  answers fit a targets file's categories; age bands are placed inside the targets' bands
  when they nest;
* drafts a ``weighting:`` block (rake to the targets file whose categories the sex, age
  and area answers fit), and fills CSP, population, wave and fieldwork dates from that
  targets file and the file's own date column, each with a comment saying where from;
* proposes a grade only where the file shows it: ``close`` for a question worded as the
  schema concept (every word, bar punctuation and case) whose answers are the scale's
  labels (online self-completion versus the interview of the concept's source caps it at
  close; a person raises it), and ``equivalent`` for a weighting variable whose every
  answer maps onto the targets' categories. The note says what was checked;
* marks every other decision with ``TODO`` (header fields the file cannot show, items
  without a concept or a grade). ``crosswalk validate`` lists them and ``crosswalk
  release`` refuses the file until none is left
  (:mod:`harmonise.crosswalk.placeholders`);
* never writes a value or label that looks identifying
  (:func:`harmonise.privacy.looks_identifying`): the item's note counts them under a
  placeholder (``<e-mail-like value ×2>``) for a person to deal with from the file;
  nor a typed answer one respondent gave (:func:`harmonise.privacy.looks_free_text`): a
  ``# TODO: a typed answer of N characters (row R) …`` comment under the recode table
  stands for it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harmonise.crosswalk.draft_inputs import DraftContext
from harmonise.crosswalk.draft_rules import (
    TargetsChoice,
    code_for,
    csp_slug,
    fit_margin,
    is_respondent_id,
    metadata_reason,
    option_code,
    split_label,
    words_of,
)
from harmonise.models.crosswalk import BLANK, normalise_value
from harmonise.models.schema import Concept, Scale, Schema
from harmonise.models.survey import SurveyFile, VariableInfo
from harmonise.privacy import (
    first_rows,
    looks_free_text,
    looks_identifying,
    placeholder,
    typed_answer,
)
from harmonise.suggest.rank import Suggester
from harmonise.suggest.scales import match_category, missing_type
from harmonise.suggest.survey import survey_questions

MAX_VALUES = 60
"""A column without value labels gets a recode table from its values up to this many."""

MARGINS = ("sex", "age_band", "area")
"""Weighting variables a draft looks for, in the order a weighting block lists them."""

_TICKED = {"1", "yes", "true", "y", "x", "checked", "selected", "ticked", "✓", "✔"}
_UNTICKED = {"0", "no", "false", "n", "unchecked", "not selected"}

__all__ = ["MAX_VALUES", "draft_crosswalk", "draft_summary", "is_respondent_id", "slug"]


def slug(text: object, limit: int = 48) -> str:
    """``"Very safe"`` -> ``very_safe``; ``"18-34"`` -> ``18_34``; ``"65+"`` -> ``65_plus``."""
    return code_for(text, limit)


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


@dataclass
class _Entries:
    """An item's pre-filled tables and what the draft could check about them."""

    recode: dict[object, str] = field(default_factory=dict)
    missing: dict[object, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # non-missing answer labels
    unmatched: int = 0  # labels that are not a category of the concept's scale
    hidden: int = 0  # values not written because they look identifying
    typed: list[str] = field(default_factory=list)  # typed answers left out, described
    too_many: bool = False


def _entries(info: VariableInfo, series: pd.Series, scale: Scale | None,
             schema: Schema, multi: bool, fixed: dict[str, str] | None = None) -> _Entries:
    """Recode and missing tables pre-filled from labels or observed values.

    ``fixed`` (label -> code) overrides the codes, e.g. a weighting variable mapped onto
    the targets' categories.
    """
    out = _Entries()
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
            out.missing[key] = mtype
            return
        out.labels.append(label)
        if multi and normalise_value(label) in _TICKED | {normalise_value(info.option or "")}:
            out.recode[key] = "selected"
        elif multi and normalise_value(label) in _UNTICKED:
            out.recode[key] = "not_selected"
        elif fixed is not None and label in fixed:
            out.recode[key] = fixed[label]
        else:
            code = match_category(label, scale) if scale is not None \
                and scale.kind != "open" else None
            if code is None and scale is not None and scale.kind != "open":
                out.unmatched += 1
            out.recode[key] = code or code_for(label)

    for code, label in info.value_labels.items():
        add(_key(code), str(label))
    observed = [_key(v) for v in series.dropna().unique().tolist()]
    unlabelled = [v for v in observed if normalise_value(v) not in seen]
    if info.value_labels and unlabelled:
        out.notes.append(f"{len(unlabelled)} value(s) in the data have no label")
    if len(unlabelled) > MAX_VALUES and fixed is None:
        out.too_many = True
        out.notes.append(f"{len(unlabelled)} distinct unlabelled values, too many to list: "
                         "bin them into the concept's categories or move the column to "
                         "unmapped")
    else:
        counts = series.value_counts(dropna=True)
        first = first_rows(series)
        for value in sorted(unlabelled, key=lambda v: (isinstance(v, str), str(v))):
            if looks_free_text(value) and int(counts.get(value, 0)) < 2:
                out.typed.append(typed_answer(str(value), first.get(value)))
                continue
            add(value, str(value))
    for code in info.user_missing:
        key = _key(code)
        if key in out.recode:
            out.notes.append(f"{key!r} is declared user-missing: choose its missing type")
    if hidden:
        out.hidden = sum(hidden.values())
        out.notes.append("not written because they look identifying: " + ", ".join(
            placeholder(k, n) for k, n in hidden.items()) + "; map them by hand from the "
            "file, or move the column to unmapped (it may hold typed details)")
    if series.isna().any():
        if multi and "not_selected" not in out.recode.values():
            out.recode[BLANK] = "not_selected"
            out.notes.append("a blank cell is read as not ticked (the export marks no "
                             "unticked value)")
        else:
            out.missing[BLANK] = "no_answer"
    return out


@dataclass(frozen=True)
class _Suggested:
    """A concept proposed for a column by the suggester, and the comment saying why."""

    concept: Concept
    comment: str
    scale: str | None = None  # the scale the suggester's recode proposal uses, if any
    why: str = ""  # "suggested <concept> (score S by METHOD): reasons", for the note


def _suggest(survey: SurveyFile, schema: Schema, columns: Sequence[str],
             method: str) -> dict[str, _Suggested | None]:
    """The suggester's concept per column (the one call into :mod:`harmonise.suggest`;
    a tick-box question is one question, its columns share the suggestion)."""
    wanted = set(columns)
    suggester = Suggester(schema, method)
    asked = [sq for sq in survey_questions(survey) if wanted & set(sq.columns)]
    ranked = suggester.suggest([sq.question for sq in asked], top=1) if asked else []
    out: dict[str, _Suggested | None] = dict.fromkeys(columns)
    for sq, result in zip(asked, ranked, strict=True):
        best = result.best
        if best is None:
            continue
        why = "; ".join((*best.reasons, *best.flags))
        hit = _Suggested(schema.concept(best.concept),
                         _comment(f"suggested: score {best.score:.2f} by {suggester.method}"
                                  + (f" ({why})" if why else "")),
                         best.recode.scale if best.recode is not None else None,
                         f"suggested {best.concept} (score {best.score:.2f} by "
                         f"{suggester.method})" + (f": {why}" if why else ""))
        for col in sq.columns:
            if col in wanted:
                out[col] = hit
    return out


def _too_many(info: VariableInfo, series: pd.Series) -> str | None:
    """A text column with more distinct answers than a closed question has (typed text,
    places, job titles): not proposed as an item. Numbers (an age in years) stay items."""
    if info.value_labels or pd.api.types.is_numeric_dtype(series.dtype):
        return None
    n = int(series.dropna().nunique())
    if n <= MAX_VALUES:
        return None
    return (f"{n} distinct answers, too many for a closed question (typed text?): map it "
            "by hand, binning its values, if it is one")


def _answer_labels(info: VariableInfo, series: pd.Series) -> list[str]:
    """The non-missing answers of a column as text (labels where the file has them)."""
    labels = {normalise_value(k): str(v) for k, v in info.value_labels.items()}
    out: list[str] = []
    for value in series.dropna().unique().tolist():
        label = labels.get(normalise_value(value), str(_key(value)))
        if missing_type(label) is None and looks_identifying(label) is None:
            out.append(label)
    return out


@dataclass(frozen=True)
class _Demographic:
    """A column found to hold a weighting variable, and how its answers map."""

    column: str
    variable: str
    mapping: dict[str, str] | None  # label -> targets category; None without targets
    how: str  # why the concept is proposed (a comment)


def _demographics(survey: SurveyFile, columns: Sequence[str],
                  suggestions: dict[str, _Suggested | None],
                  choices: Sequence[TargetsChoice]
                  ) -> tuple[TargetsChoice | None, dict[str, _Demographic]]:
    """The targets choice the most weighting variables fit, and the columns fitting it;
    none when two areas' targets fit equally well."""
    answers = {c: _answer_labels(survey.codebook.variables[c], survey.data[c])
               for c in columns}
    best: tuple[int, TargetsChoice | None, dict[str, _Demographic]] = (0, None, {})
    tied = False
    for choice in choices:
        found: dict[str, _Demographic] = {}
        for variable in MARGINS:
            named = [c for c in columns if (s := suggestions.get(c)) is not None
                     and s.concept.id == variable]
            for col in named + [c for c in columns if c not in named]:
                if any(d.column == col for d in found.values()):
                    continue
                by_name = col in named
                if not by_name and suggestions.get(col) is not None:
                    continue  # suggested as another concept: leave it to that
                if not by_name and len(set(answers[col])) < 2:
                    continue
                mapping = fit_margin(variable, answers[col], choice)
                if mapping is not None:
                    how = ("its answers fit" if by_name else
                           "proposed because its answers fit") + (
                        f" the {variable} categories of {choice.path} ({choice.area_name}, "
                        f"{choice.population})")
                    found[variable] = _Demographic(col, variable, mapping, how)
                    break
        if len(found) > best[0]:
            best, tied = (len(found), choice, found), False
        elif found and len(found) == best[0] and best[1] is not None \
                and choice.area_code != best[1].area_code:
            tied = True
    if tied:
        # Several partnerships' targets fit equally (sex and age bands are the same
        # everywhere; the area answers fit none): guessing would publish one partnership's
        # survey under another's name. The person chooses (csp and targets stay to-do marks).
        return None, {}
    return best[1], best[2]


def _proposal(question: str | None, concept: Concept, entries: _Entries, *,
              option_label: str | None = None) -> tuple[str, str] | None:
    """(grade, note) the file supports for a substantive item, or None for a person."""
    if not question or words_of(question) != words_of(concept.wording):
        return None
    if (entries.unmatched or entries.hidden or entries.typed or entries.too_many
            or not entries.recode):
        return None
    what = (f"the option is the schema's '{option_label}'" if option_label else
            "every answer label is a category of the scale")
    return ("close",
            f"Worded as the schema's {concept.id}, word for word, and {what}. Graded close, "
            "not identical: the file cannot show whether the mode and population match the "
            "concept's source; raise it to identical when they do (docs/comparability.md)")


def _scale_for(labels: Sequence[str], schema: Schema) -> Scale | None:
    """The one schema scale (not open, not multi) whose categories every answer label
    matches, when there is exactly one; its codes then recode the answers."""
    if len(set(labels)) < 2:
        return None
    fits = [sc for sc in schema.scales if sc.kind not in ("open", "multi")
            and all(match_category(label, sc) is not None for label in labels)]
    return fits[0] if len(fits) == 1 else None


def _header(survey: SurveyFile, schema: Schema, name: str | None, today: dt.date,
            context: DraftContext, choice: TargetsChoice | None, respondent: str | None
            ) -> list[str]:
    prov = survey.provenance
    stem = prov.file_name.rsplit(".", 1)[0]
    cw_name = code_for(name or stem).replace("_", "-")
    lines = [
        f"# DRAFT crosswalk written by `harmonise inspect` from {prov.file_name}",
        f"# (sha256 {prov.sha256}) on {today.isoformat()}, against schema {schema.ref}.",
        "# Read it through: proposals say where they come from in a comment. The decisions",
        "# left to a person are marked to-do; `harmonise crosswalk validate` lists them and",
        "# `harmonise crosswalk release` refuses the file until none is left. Delete the",
        "# first line above once you have checked every suggested concept and proposed grade.",
        f"crosswalk: {_q(cw_name)}",
        "version: 1",
        "status: draft",
        f"schema: {schema.ref}",
        "synthetic: false",
    ]
    if choice is not None:
        src = f"from {choice.path} ({choice.area_name})"
        lines += [f"csp: {_q(csp_slug(choice.area_name))}  # {src}",
                  f"csp_name: {_q(choice.area_name + ' Community Safety Partnership')}"
                  f"  # {src}"]
    else:
        lines += ['csp: "TODO: csp slug, e.g. luton"',
                  'csp_name: "TODO: Community Safety Partnership name"']
    words = " ".join(w for w in re.split(r"[^A-Za-z0-9]+", stem) if w)
    lines.append(f"instrument: {_q(words[:1].upper() + words[1:])}  # from the file name")
    if context.fieldwork is not None:
        start, end = context.fieldwork
        wave = str(start.year) if start.year == end.year else f"{start.year}-{end.year % 100:02d}"
        src = f"first and last date in column {context.date_column!r}"
        lines += [f'wave: "{wave}"  # year of fieldwork', f"fieldwork_start: {start}  # {src}",
                  f"fieldwork_end: {end}  # {src}"]
    else:
        lines += [f'wave: "{today.year}"  # TODO: the wave (no date column in the file)',
                  f"fieldwork_start: {today.isoformat()}  # TODO: first day of fieldwork",
                  f"fieldwork_end: {today.isoformat()}  # TODO: last day of fieldwork"]
    if choice is not None:
        lines.append(f"population: {choice.population}  # the population of {choice.path}")
    else:
        lines.append('population: "TODO: one of ' + ", ".join(
            p.id for p in schema.populations) + '"')
    lines += [
        f'mode: "TODO: how the survey was completed, e.g. online self-completion '
        f'({survey.codebook.platform or "platform"})"',
        'sampling: "TODO: how respondents were selected, e.g. open link promoted by the '
        'council"',
        f"respondent_id: {_q(respondent) if respondent else 'null'}"
        + ("  # unique in every row" if respondent else "  # none found: rows are numbered"),
        "design: {strata: null, cluster: null, base_weight: null}  # none in the file",
        "privacy:",
        "  keep: {}  # column: reason, to keep a flagged column",
        "  postcode_district: {}  # column: reason, to keep a postcode's district (LU1) only",
    ]
    return lines


def _weighting(choice: TargetsChoice | None, found: dict[str, _Demographic],
               context: DraftContext, unusable: dict[str, int]) -> list[str]:
    if choice is None or not found:
        why = ("no targets file under surveys/targets/ fits its sex, age or area answers"
               if context.targets else "no targets file under surveys/targets/")
        extra = f"; could not read {', '.join(context.skipped)}" if context.skipped else ""
        return [f"# weighting: none drafted ({why}{extra}). Add a targets file "
                "(docs/targets.md) and a weighting: block to weight."]
    margins = [v for v in MARGINS if v in found]
    lines = [
        "weighting:  # drafted from the targets file the answers fit",
        "  method: rake",
        f"  targets: {choice.path}",
        f"  area_code: {choice.area_code}",
        f"  population: {choice.population}",
        f"  margins: [{', '.join(margins)}]",
    ]
    gaps = [(n, v) for v in margins if (n := unusable.get(v, 0))]
    if gaps:
        said = ", ".join(f"{n} respondents have no usable {v}" if i == 0 else
                         f"{n} no usable {v}" for i, (n, v) in enumerate(gaps))
        lines.append(f"  # {said} ('Prefer not to say', blank): the default missing "
                     "treatment applies unless a missing: block says otherwise "
                     "(docs/weighting.md)")
    return lines


def _unusable(info: VariableInfo, series: pd.Series) -> int:
    """Rows whose answer is blank or a non-answer ("Prefer not to say")."""
    labels = {normalise_value(k): str(v) for k, v in info.value_labels.items()}
    n = int(series.isna().sum())
    for value, count in series.dropna().value_counts().items():
        label = labels.get(normalise_value(value), str(value))
        if missing_type(label) is not None or normalise_value(value) == BLANK:
            n += int(count)
    return n


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


def _short_id(text: str, limit: int = 40) -> str:
    """A readable id: the code of ``text`` cut at a word boundary."""
    code = code_for(text, 80)
    if len(code) <= limit:
        return code
    cut = code[:limit]
    return cut.rsplit("_", 1)[0] if "_" in cut else cut


def _demographic_proposal(demo: _Demographic, entries: _Entries,
                          choice: TargetsChoice | None) -> tuple[str, str] | None:
    """(grade, note) for a weighting variable whose answers map onto the targets."""
    if demo.mapping is None or entries.hidden or entries.typed:
        return None
    grouped = len(set(demo.mapping.values())) < len(demo.mapping)
    return ("close" if grouped else "equivalent",
            f"Answers recoded onto the {demo.variable} categories of the weighting targets "
            f"({choice.path if choice else ''})"
            + ("; the survey's bands are grouped into the targets' wider bands" if grouped
               else ", one to one")
            + ("; 'Prefer not to say' and other non-answers are missing"
               if entries.missing else "") + ".")


def _item(survey: SurveyFile, schema: Schema, col: str, question: str | None,
          option_label: str | None, suggestion: _Suggested | None,
          demo: _Demographic | None, choice: TargetsChoice | None, multi: bool,
          used: set[str]) -> list[str] | str:
    """The item's YAML lines, or the reason it goes to ``unmapped:`` instead."""
    info, series = survey.codebook.variables[col], survey.data[col]
    concept = schema.concept(demo.variable) if demo is not None else (
        suggestion.concept if suggestion is not None else None)
    option = None
    if multi and concept is not None:
        option = option_code(option_label, concept)
        if option is None:
            return (f"option {option_label or col!r} is not one of {concept.id}'s options "
                    f"in {schema.ref}")
    own_scale = (suggestion.scale if demo is None and suggestion is not None else None) \
        or (concept.scale if concept is not None else None)
    scale_of = None if multi else (schema.scale(own_scale) if own_scale is not None
                                   else _scale_for(_answer_labels(info, series), schema))
    entries = _entries(info, series, scale_of, schema, multi,
                       demo.mapping if demo is not None else None)
    if concept is None:
        group = next((g for g in survey.codebook.groups.values() if col in g.members), None)
        base = _short_id(group.name if group else col)
        if multi and option_label:
            base += "_" + _short_id(option_label, 20)
    else:
        base = concept.id + (f"_{option}" if option else "")
    lines = [f"  - id: {_q(_unique_id(base, used))}"]
    if demo is not None:
        lines.append(f"    concept: {demo.variable}  # " + _comment(demo.how))
    elif suggestion is not None:
        lines.append(f"    concept: {suggestion.concept.id}  # {suggestion.comment}")
    else:
        lines.append("    concept: null  # TODO: choose a concept from the schema, or move "
                     "this column to unmapped: with the reason")
    if option:
        lines.append(f"    option: {_q(option)}")
    lines.append(f"    source: {_q(col)}")
    if question:
        lines.append(f"    question: {_q(question)}")
    scale = "multi" if multi else own_scale
    if scale is None and scale_of is not None:
        lines.append(f"    scale: {_q(scale_of.id)}  # every answer label is one of this "
                     "scale's")
    else:
        lines.append(f"    scale: {_q(scale) if scale else 'null'}")
    _emit_table(lines, "recode", entries.recode)
    if entries.typed:
        n = len(entries.typed)
        listed = "; ".join(entries.typed[:5]) + (f"; and {n - 5} more" if n > 5 else "")
        lines.append(f"      # TODO: not written, free text one respondent typed each: {listed}"
                     f". Look {'them' if n > 1 else 'it'} up in the file and map "
                     f"{'them' if n > 1 else 'it'} here or under missing")
    _emit_table(lines, "missing", entries.missing)
    proposal = (_demographic_proposal(demo, entries, choice) if demo is not None else
                _proposal(question, concept, entries,
                          option_label=option_label if multi else None)
                if concept is not None else None)
    if proposal is not None:
        extra = "".join(f"; {n}" for n in entries.notes if "identifying" not in n)
        lines.append(f"    comparability: {proposal[0]}  # proposed from the file: check")
        lines.append(f"    note: {_q(proposal[1].rstrip('.') + extra + '.')}")
    else:
        lines.append("    comparability: unassessed")
        note = ("TODO: grade it and say how it compares with the concept (wording, scale, "
                "place, time, population, mode)") + "".join(f"; {n}" for n in entries.notes)
        if suggestion is not None and suggestion.why:
            note += f"; {suggestion.why}"
        lines.append(f"    note: {_q(note)}")
    return lines


def draft_crosswalk(survey: SurveyFile, schema: Schema, *, name: str | None = None,
                    today: dt.date | None = None, context: DraftContext | None = None,
                    method: str = "auto") -> str:
    """The draft crosswalk YAML for ``survey`` (see the module docstring)."""
    context = context or DraftContext()
    today = today or dt.date.today()
    variables = survey.codebook.variables
    flagged = {f.name: f for f in survey.flagged}
    respondent = next((c for c in variables if c not in flagged
                       and variables[c].role == "respondent_id"
                       and survey.data[c].notna().all() and survey.data[c].is_unique), None) \
        or next((c for c in variables if c not in flagged
                 and is_respondent_id(c, survey.data[c])), None)
    platform = survey.codebook.platform
    member_of = {m: g for g in survey.codebook.groups.values() for m in g.members}
    meta: dict[str, str] = {}
    columns: list[str] = []
    for col in variables:
        if col == respondent or col in flagged:
            continue
        if variables[col].role in ("metadata", "respondent_id"):
            meta[col] = (f"not a question to map: the {platform or 'export'} layout marks it "
                         "as the platform's own column")
            continue
        reason = None if col in member_of else (metadata_reason(col, survey.data[col])
                                                 or _too_many(variables[col],
                                                              survey.data[col]))
        if reason is not None:
            meta[col] = reason
        else:
            columns.append(col)
    questions: dict[str, str | None] = {}
    options: dict[str, str | None] = {}
    for col in columns:
        info, group = variables[col], member_of.get(col)
        questions[col] = (group.question if group and group.question else None) \
            or info.question or info.label
        options[col] = info.option
        if group is not None and info.option is None:
            questions[col], options[col] = split_label(col, group.members, variables)
    suggestions = _suggest(survey, schema, columns, method)
    singles = [c for c in columns if c not in member_of]
    choice, found = _demographics(survey, singles, suggestions, context.targets)
    by_column = {d.column: d for d in found.values()}

    lines = _header(survey, schema, name, today, context, choice, respondent)
    unmapped: list[tuple[str, str]] = [(f.name, f.reason) for f in survey.flagged]
    unmapped += list(meta.items())
    items: list[str] = []
    used: set[str] = set()
    for col in columns:
        out = _item(survey, schema, col, questions[col], options[col], suggestions[col],
                    by_column.get(col), choice, member_of.get(col) is not None, used)
        if isinstance(out, str):
            unmapped.append((col, out))
        else:
            items += out
    if unmapped:
        lines.append("unmapped:  # identifying, metadata or not in the schema: never mapped")
        lines += [f"  {_q(col)}: {_q(reason)}" for col, reason in unmapped]
    else:
        lines.append("unmapped: {}")
    unusable = {v: _unusable(variables[d.column], survey.data[d.column])
                for v, d in found.items()}
    lines += _weighting(choice, found, context, unusable)
    lines.append("changelog:")
    lines.append(f"  - {_q('v1: first release, mapping ' + survey.provenance.file_name)}")
    lines.append("items:")
    if not items:
        items = ["  []  # TODO: no question column was found to map"]
    return "\n".join(lines + items) + "\n"


def draft_summary(text: str) -> dict[str, Any]:
    """Counts of a draft for the command's message: items, concepts, unmapped, to-dos."""
    return {"items": text.count("\n  - id: "),
            "suggested": len(re.findall(r"\n    concept: (?!null)", text)),
            "proposed": text.count("# proposed from the file"),
            "todo": len(re.findall(r"\bTODO\b", text)),
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
