"""The questions of a read export, ready for the suggester.

Each variable becomes one :class:`~harmonise.suggest.rank.Question`: its wording is the
question text of a platform export's header, else the variable label, else the column
name; its options are the value labels in code order, else the distinct values seen in
the column (at most :data:`MAX_OPTIONS`; a value that looks identifying is never used).
A multi-select group found by ingest (SPSS multiple-response set, numbered 0/1 columns,
one column per option, or a split cell) becomes **one** question whose options are the
group's items, so tick-box questions are matched as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from harmonise.models.survey import MultiSelectGroup, SurveyFile, VariableInfo
from harmonise.privacy import looks_identifying
from harmonise.suggest.rank import Question

MAX_OPTIONS = 30
_ID = re.compile(r"^(resp(ondent)?|response|pupil|case|record|unique|participant|serial)?"
                 r"[ _]?(id|no|number|serial)$|^respid$|^id$|^serial$|^uuid$", re.IGNORECASE)


@dataclass(frozen=True)
class SurveyQuestion:
    """A question and the columns it came from (several for a tick-box group)."""

    question: Question
    columns: tuple[str, ...]


def _options_of(info: VariableInfo, series: pd.Series) -> tuple[str, ...]:
    if info.value_labels:
        keys = sorted(info.value_labels, key=lambda k: (isinstance(k, str), str(k)) if not
                      isinstance(k, int | float) else (False, f"{float(k):020.6f}"))
        return tuple(str(info.value_labels[k]) for k in keys)
    values = series.dropna()
    if values.empty or (pd.api.types.is_numeric_dtype(values) and values.nunique() > 11):
        return ()
    seen = [str(v) for v in dict.fromkeys(values.tolist())]
    if len(seen) > MAX_OPTIONS:
        return ()
    return tuple(v for v in sorted(seen, key=_natural) if looks_identifying(v) is None)


def _natural(text: str) -> tuple[object, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def _common_prefix(texts: list[str]) -> str:
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def group_question(group: MultiSelectGroup, variables: dict[str, VariableInfo]
                   ) -> Question:
    """One question for a tick-box group: the shared wording and every item's label."""
    infos = [variables[m] for m in group.members if m in variables]
    options = [i.option for i in infos if i.option]
    labels = [i.label or i.name for i in infos]
    text = group.question or ""
    if not options and len(labels) > 1:
        prefix = _common_prefix(labels)
        cut = max(prefix.rfind(":"), prefix.rfind(" - "), prefix.rfind("?"))
        stem = prefix[: cut + 1] if cut > 0 else prefix
        options = [lab[len(stem):].strip(" :-") or lab for lab in labels]
        text = stem.strip(" :-") or text
    elif text and options:
        for opt in options:
            if text.endswith(opt):
                text = text[: -len(opt)].rstrip(" :-|")
                break
    return Question(text=text or group.name, options=tuple(options or group.options),
                    multi=True, source=group.name)


def survey_questions(survey: SurveyFile) -> list[SurveyQuestion]:
    """Every non-identifying, non-id variable of ``survey`` as a question, in file order;
    a tick-box group once, at its first member."""
    variables = dict(survey.codebook.variables)
    member_of = {m: g for g in survey.codebook.groups.values() for m in g.members}
    flagged = {f.name for f in survey.flagged}
    done: set[str] = set()
    out: list[SurveyQuestion] = []
    for col, info in variables.items():
        if col in flagged:
            continue
        group = member_of.get(col)
        if group is not None:
            if group.name in done:
                continue
            done.add(group.name)
            out.append(SurveyQuestion(group_question(group, variables), group.members))
            continue
        series = survey.data[col]
        if _ID.match(col.strip()) and series.notna().all() and series.is_unique:
            continue
        text = info.question or info.label or col
        out.append(SurveyQuestion(Question(text=text, options=_options_of(info, series),
                                           source=col), (col,)))
    return out
