"""Multi-select questions spread over one column per option, as each platform lays them out.

Run by the CSV and Excel readers after the values are typed, with the layout's
``grouping`` rules (:mod:`harmonise.ingest.platforms`) tried in order; a column joins at
most one group.

* ``import_id`` (Qualtrics): columns whose ImportId is ``QIDn-k`` / ``QIDn_k`` (not
  ``…_TEXT``), or, in a legacy export without ImportIds, export tags ``Qn_k``, holding
  only 1 or blank. A column nobody ticked is still a member. Ticked -> 1; blank -> 0 when
  the respondent ticked another option of the question, else blank (not answered).
* ``slash`` (KoboToolbox, ODK): ``question/option`` columns holding 0/1, beside the
  ``question`` column that holds the ticked options joined by spaces. The joined column
  says the same thing again: when it agrees with the 0/1 columns on every row it is
  marked ``role: metadata`` (kept, since crosswalks may name it; not offered as a
  question), with a note.
* ``two_rows``: an option in header row 2 under one question in row 1
  (:func:`harmonise.ingest.common.question_groups`).
* ``suffix``: one header row, ``question (option)``, ``question: option``, ``question -
  option`` or ``question | option`` sharing one question, each column holding only its
  option text or ticks (1/0, Yes, x …).
* ``dichotomies``: numbered 0/1 columns ``Q3_1``, ``Q3_2`` … (Snap, SPSS-style).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from harmonise.ingest.common import (
    ColumnHeader,
    dichotomy_groups,
    question_groups,
    tick_like,
)
from harmonise.models.survey import VariableInfo

TICK_LABELS = {0.0: "Not selected", 1.0: "Selected"}


@dataclass
class Grouping:
    """What the grouping rules found: groups (name -> members, how) and column changes."""

    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


_QID = re.compile(r"^(?P<qid>QID\d+)[-_](?P<k>\d+)$", re.IGNORECASE)
_TAG = re.compile(r"^(?P<stem>.+?)_(?P<k>\d+)$")


def _values(series: pd.Series) -> set[float] | None:
    """The distinct non-blank values as numbers, or None when one is not a number."""
    out: set[float] = set()
    for v in series.dropna().unique().tolist():
        try:
            out.add(float(v))
        except (TypeError, ValueError):
            return None
    return out


def _common_prefix(texts: Sequence[str]) -> str:
    """The longest text every one of ``texts`` starts with."""
    if not texts:
        return ""
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def _common_question(texts: Sequence[str]) -> tuple[str | None, list[str | None]]:
    """The question text shared by ``texts`` ("question-option", "question - option") and
    each option: the common prefix cut back to a separator."""
    if len(texts) < 2 or not all(texts):
        return None, [None] * len(texts)
    prefix = _common_prefix(texts)
    cut = max(prefix.rfind(" - "), prefix.rfind("-"), prefix.rfind(": "))
    if cut <= 0:
        return None, [None] * len(texts)
    question = prefix[:cut].strip()
    options: list[str | None] = [t[cut:].lstrip(" -:").strip() or None for t in texts]
    return question, options


def _ticked_as_01(members: Sequence[str], data: pd.DataFrame) -> dict[str, pd.Series]:
    """1/blank columns -> 1/0, blank where no member of the question was ticked."""
    ticked = {m: data[m].notna() for m in members}
    answered = np.logical_or.reduce([t.to_numpy() for t in ticked.values()])
    return {m: pd.Series(np.where(answered, t.to_numpy().astype(float), np.nan),
                         index=data.index, dtype="float64") for m, t in ticked.items()}


def _import_id_groups(headers: Sequence[ColumnHeader], data: pd.DataFrame,
                      variables: dict[str, VariableInfo], taken: set[str],
                      out: Grouping) -> None:
    buckets: dict[str, list[ColumnHeader]] = {}
    for h in headers:
        if h.name in taken or h.name not in data.columns:
            continue
        m = _QID.match(h.key or "") if h.key else None
        stem = m.group("qid") if m else None
        if h.key is None and (t := _TAG.match(h.name)) and t.group("stem").upper().startswith(
                "Q"):
            stem = t.group("stem")
        if stem is not None:
            buckets.setdefault(stem, []).append(h)
    for cols in buckets.values():
        names = [h.name for h in cols]
        if len(names) < 2 or any(_values(data[n]) is None or not (_values(data[n]) or set())
                                 <= {1.0} for n in names):
            continue  # a matrix of ratings, not ticks
        tags = [_TAG.match(n) for n in names]
        stems = {t.group("stem") for t in tags if t is not None}
        group = stems.pop() if len(stems) == 1 and all(tags) else _common_prefix(
            names).rstrip("_-") or names[0]
        question, options = _common_question([h.question or "" for h in cols])
        for n, opt, new in zip(names, options, _ticked_as_01(names, data).values(), strict=True):
            data[n] = new
            variables[n] = replace(variables[n], dtype="float64", value_labels=dict(TICK_LABELS),
                                   question=question or variables[n].question,
                                   option=opt or variables[n].option,
                                   label=question or variables[n].label)
        out.groups[group] = tuple(names)
        out.how[group] = "option_columns"
        taken.update(names)


def _joined_agrees(joined: pd.Series, options: Sequence[str], frame: pd.DataFrame) -> bool:
    """Whether the space-joined column says what the 0/1 columns say, on every row."""
    for i in range(len(frame)):
        row = frame.iloc[i]
        cell = joined.iloc[i]
        if row.isna().all():
            if not (pd.isna(cell) or str(cell).strip() == ""):
                return False
            continue
        ticked = sorted(" ".join(o for o, v in zip(options, row.tolist(), strict=True)
                                 if v == 1).split())
        if sorted(("" if pd.isna(cell) else str(cell)).split()) != ticked:
            return False
    return True


def _slash_groups(headers: Sequence[ColumnHeader], data: pd.DataFrame,
                  variables: dict[str, VariableInfo], taken: set[str],
                  out: Grouping) -> None:
    buckets: dict[str, list[str]] = {}
    for h in headers:
        if h.name in taken or "/" not in h.name:
            continue
        stem, _, _opt = h.name.rpartition("/")
        buckets.setdefault(stem, []).append(h.name)
    for stem, names in buckets.items():
        if stem not in data.columns or len(names) < 2:
            continue  # a group path (group_x/question), not a question's options
        values = [_values(data[n]) for n in names]
        if any(v is None or not v <= {0.0, 1.0} for v in values):
            continue  # a rank or a group of ordinary questions
        options = [n.rpartition("/")[2] for n in names]
        question = variables[stem].label or stem
        for n, opt in zip(names, options, strict=True):
            data[n] = pd.to_numeric(data[n]).astype("float64")
            variables[n] = replace(variables[n], dtype="float64", value_labels=dict(TICK_LABELS),
                                   question=question, option=opt, label=question)
        out.groups[stem] = tuple(names)
        out.how[stem] = "option_columns"
        taken.update(names)
        if _joined_agrees(data[stem], options, data[names]):
            variables[stem] = replace(variables[stem], role="metadata")
            taken.add(stem)
            out.notes.append(
                f"column {stem!r} holds the ticked options joined by spaces: the same answers "
                f"as its option columns {stem!r}/…, which are the question's group; kept as "
                "metadata (not a question of its own)")
        else:
            out.notes.append(
                f"column {stem!r} kept beside its option columns: on some row it does not "
                "agree with them (check the export)")


_SUFFIX = (re.compile(r"^(?P<q>.*\S)\s*\((?P<o>[^()]+)\)$"),
           re.compile(r"^(?P<q>.*\S)\s*\[(?P<o>[^\[\]]+)\]$"),
           re.compile(r"^(?P<q>.*\S)\s+[|–-]\s+(?P<o>.+)$"),
           re.compile(r"^(?P<q>.*\S):\s+(?P<o>.+)$"))


def _suffix_groups(headers: Sequence[ColumnHeader], data: pd.DataFrame,
                   variables: dict[str, VariableInfo], taken: set[str],
                   out: Grouping) -> None:
    for pattern in _SUFFIX:
        buckets: dict[str, list[tuple[str, str]]] = {}
        for h in headers:
            if h.name in taken or h.name not in data.columns:
                continue
            m = pattern.match(h.name)
            if m:
                buckets.setdefault(m.group("q"), []).append((h.name, m.group("o").strip()))
        for question, cols in buckets.items():
            if len(cols) < 2 or not all(tick_like(data[n], o) for n, o in cols):
                continue
            if all(data[n].isna().all() for n, _ in cols):
                continue
            for n, opt in cols:
                variables[n] = replace(variables[n], question=question, option=opt,
                                       label=question)
            out.groups[question] = tuple(n for n, _ in cols)
            out.how[question] = "option_columns"
            taken.update(n for n, _ in cols)


def _two_row_groups(headers: Sequence[ColumnHeader], data: pd.DataFrame,
                    variables: dict[str, VariableInfo], taken: set[str],
                    out: Grouping) -> None:
    for question, names in question_groups(
            [h for h in headers if h.name not in taken], data).items():
        out.groups[question] = names
        out.how[question] = "option_columns"
        taken.update(names)


def _dichotomy_groups(headers: Sequence[ColumnHeader], data: pd.DataFrame,
                      variables: dict[str, VariableInfo], taken: set[str],
                      out: Grouping) -> None:
    free = [h.name for h in headers if h.name not in taken and h.name in data.columns]
    for stem, names in dichotomy_groups(data[free], variables).items():
        question, options = _common_question([variables[n].label or "" for n in names])
        if question is not None:
            for n, opt in zip(names, options, strict=True):
                variables[n] = replace(variables[n], question=question, option=opt)
        out.groups[stem] = names
        out.how[stem] = "dichotomies"
        taken.update(names)


RULES = {"import_id": _import_id_groups, "slash": _slash_groups, "suffix": _suffix_groups,
         "two_rows": _two_row_groups, "dichotomies": _dichotomy_groups}


def group_option_columns(rules: Sequence[str], headers: Sequence[ColumnHeader],
                         data: pd.DataFrame, variables: Mapping[str, VariableInfo]
                         ) -> tuple[pd.DataFrame, dict[str, VariableInfo], Grouping]:
    """Apply ``rules`` in order; returns the (possibly re-typed) data, variables, groups."""
    frame = data.copy()
    infos = dict(variables)
    out = Grouping()
    taken: set[str] = set()
    for rule in rules:
        RULES[rule](headers, frame, infos, taken, out)
    return frame, infos, out


def shorten_group_paths(data: pd.DataFrame, variables: Mapping[str, VariableInfo],
                        keep: set[str]) -> tuple[pd.DataFrame, dict[str, VariableInfo],
                                                 list[str]]:
    """XLSForm group paths (``group_x/question``): names stay the file's own (crosswalks
    name them), and a label that is only the path becomes the question's own name."""
    infos = dict(variables)
    changed = []
    for name, info in variables.items():
        if "/" not in name or name in keep:
            continue
        short = name.rpartition("/")[2]
        if short and not short.startswith("_") and info.label in (None, name):
            infos[name] = replace(info, label=short, question=info.question or name)
            changed.append(name)
    if not changed:
        return data, infos, []
    shown = ", ".join(repr(n) for n in changed[:5])
    more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
    return data, infos, [f"group paths in column names (kept as names; the label is the "
                         f"question's own name): {shown}{more}"]
