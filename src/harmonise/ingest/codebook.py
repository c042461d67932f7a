"""A codebook of one read export, for people (Markdown, CSV) and machines (JSON).

:func:`codebook_report` is pure: a :class:`SurveyFile` in, a JSON-ready dict out. It lists
every variable with its type, label/question text, value labels, user-missing codes and
ranges, and counts per value for categorical-looking columns (value labels, or at most
``MAX_CATEGORIES`` distinct values); multi-select groups and how they were found; file-wide
notes; and every flagged column with its reason. Flagged columns (identifying, even when
kept with a reason) never show values or counts. A value or value label that looks
identifying (:func:`harmonise.privacy.looks_identifying`: an e-mail address, phone
number, full postcode or IP address) is never written either: such values of a column are
counted together under a placeholder, ``<e-mail-like value ×2>`` for two distinct values.
Nor is a typed answer (:func:`harmonise.privacy.looks_free_text`) given by fewer than 2
respondents: it is shown as ``a typed answer of N characters (row R)``.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pandas as pd

from harmonise.models.survey import SurveyFile, VariableInfo
from harmonise.privacy import (
    first_rows,
    looks_free_text,
    looks_identifying,
    placeholder,
    typed_answer,
)

MAX_CATEGORIES = 20
"""Columns without value labels get counts when they have at most this many values."""


def plain(value: object) -> Any:
    """A cell value as plain JSON: 1.0 -> 1, numpy scalars -> Python, dates -> ISO text."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _is_missing_code(value: object, info: VariableInfo) -> bool:
    if value in info.user_missing:
        return True
    return isinstance(value, int | float) and any(lo <= value <= hi
                                                  for lo, hi in info.missing_ranges)


def value_counts(series: pd.Series, info: VariableInfo) -> list[dict[str, Any]] | None:
    """Counts per value (file order of codes), or None when the column is not categorical."""
    counts = series.value_counts(dropna=True, sort=False)
    labelled = bool(info.value_labels)
    if not labelled and len(counts) > MAX_CATEGORIES:
        return None
    keys = list(info.value_labels) + [v for v in counts.index if v not in info.value_labels]
    try:
        keys = sorted(set(keys), key=lambda v: (isinstance(v, str), v))
    except TypeError:
        keys = list(dict.fromkeys(keys))
    if len(keys) > max(MAX_CATEGORIES, len(info.value_labels)):
        return None
    rows = [{"value": plain(k), "label": info.value_labels.get(k),
             "count": int(counts.get(k, 0)), "user_missing": _is_missing_code(k, info)}
            for k in keys]
    return _hide_typed(_hide_identifying(rows), series, info)


def _hide_typed(rows: list[dict[str, Any]], series: pd.Series,
                info: VariableInfo) -> list[dict[str, Any]]:
    """Unlabelled text values that read as typed free text and that fewer than 2
    respondents gave (:func:`harmonise.privacy.looks_free_text`) shown as ``a typed answer
    of N characters (row R)``, never their text."""
    typed = [r for r in rows if r["count"] < 2 and r["label"] is None
             and looks_free_text(r["value"]) and r["value"] not in info.value_labels]
    if not typed:
        return rows
    first = first_rows(series)
    for r in typed:
        r["value"] = typed_answer(r["value"], first.get(r["value"]))
    return rows


def _hide_identifying(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose value or label looks identifying, merged into one placeholder row per kind."""
    shown: list[dict[str, Any]] = []
    hidden: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        kind = looks_identifying(row["value"]) or looks_identifying(row["label"])
        if kind is None:
            shown.append(row)
        else:
            hidden.setdefault(kind, []).append(row)
    for kind, group in hidden.items():
        shown.append({"value": placeholder(kind, len(group)), "label": None,
                      "count": sum(r["count"] for r in group),
                      "user_missing": all(r["user_missing"] for r in group)})
    return shown


def _value_labels(info: VariableInfo) -> dict[str, str]:
    """Value labels as text; identifying-looking codes or labels become placeholders."""
    out: dict[str, str] = {}
    for code, label in info.value_labels.items():
        kind = looks_identifying(plain(code)) or looks_identifying(label)
        if kind is None:
            out[str(plain(code))] = label
        else:
            out[placeholder(kind)] = placeholder(kind)
    return out


def codebook_report(survey: SurveyFile) -> dict[str, Any]:
    """Everything ``harmonise inspect`` shows, as a JSON-ready dict (see module docstring)."""
    flagged = {f.name: f for f in survey.flagged}
    variables = []
    for name, info in survey.codebook.variables.items():
        series = survey.data[name]
        hidden = name in flagged
        variables.append({
            "name": name, "dtype": info.dtype, "label": info.label,
            "question": info.question, "option": info.option,
            "value_labels": _value_labels(info),
            "user_missing": [placeholder(kind) if (kind := looks_identifying(plain(v)))
                             else plain(v) for v in info.user_missing],
            "missing_ranges": [list(r) for r in info.missing_ranges],
            "n_blank": int(series.isna().sum()),
            "counts": None if hidden or info.role == "respondent_id" else value_counts(
                series, info),
            "identifying": flagged[name].kind if hidden else None,
            "role": info.role,
        })
    groups = [{"name": g.name, "how": g.how, "question": g.question,
               "source_column": g.source_column, "separator": g.separator,
               "options": list(g.options), "members": list(g.members)}
              for g in survey.codebook.groups.values()]
    p = survey.provenance
    return {
        "file": p.file_name, "format": p.format, "platform": survey.codebook.platform,
        "reader": p.reader, "encoding": p.encoding,
        "sha256": p.sha256, "rows": p.n_rows, "columns": p.n_columns,
        "notes": list(survey.codebook.notes),
        "variables": variables,
        "multi_select": groups,
        "flagged": [{"name": f.name, "kind": f.kind, "reason": f.reason, "kept": f.kept,
                     "kept_reason": f.kept_reason} for f in survey.flagged],
    }


def _md(text: object) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict[str, Any]) -> str:
    """The codebook as Markdown: a table of variables, then values, groups and flags."""
    lines = [f"# Codebook: {report['file']}", "",
             f"{report['format']}, {report['rows']} rows × {report['columns']} columns; "
             f"encoding {report['encoding'] or 'n/a'}; sha256 `{report['sha256']}`", "",
             f"Read with {report['reader']}."
             + (f" Layout: {report['platform']} export." if report.get("platform") else ""),
             ""]
    lines += [f"- Note: {n}" for n in report["notes"]]
    lines += ["", "| variable | type | label / question | value labels | user-missing |",
              "| --- | --- | --- | --- | --- |"]
    for v in report["variables"]:
        missing = [str(m) for m in v["user_missing"]] + [
            f"{lo:g}–{hi:g}" for lo, hi in v["missing_ranges"]]
        role = f" ({v['role'].replace('_', ' ')})" if v.get("role") else ""
        lines.append(f"| `{_md(v['name'])}`{role} | {v['dtype']} | {_md(v['label'])} | "
                     f"{len(v['value_labels']) or ''} | {_md(', '.join(missing))} |")
    for v in report["variables"]:
        if v["counts"]:
            lines += ["", f"## `{_md(v['name'])}`", "", "| value | label | count |",
                      "| --- | --- | --- |"]
            for c in v["counts"]:
                flag = " (user-missing)" if c["user_missing"] else ""
                lines.append(f"| {_md(c['value'])} | {_md(c['label'])}{flag} | {c['count']} |")
            lines.append(f"| (blank) | | {v['n_blank']} |")
    if report["multi_select"]:
        lines += ["", "## Multi-select questions", ""]
        for g in report["multi_select"]:
            how = g["how"] + (f", split on {g['separator']!r} from `{g['source_column']}`"
                              if g["source_column"] else "")
            lines.append(f"- **{_md(g['name'])}** ({how}): {len(g['members'])} options: "
                         + ", ".join(f"`{_md(m)}`" for m in g["members"]))
    lines += ["", "## Flagged as identifying", ""]
    if not report["flagged"]:
        lines.append("None.")
    for f in report["flagged"]:
        state = "kept" if f["kept"] else "removed (values never kept)"
        lines.append(f"- `{_md(f['name'])}`: {f['kind']}, {state}: {_md(f['reason'])}")
    return "\n".join(lines) + "\n"


def to_csv(report: dict[str, Any]) -> str:
    """One row per variable × value (one row for a variable without counts)."""
    from harmonise._util.cells import escape_csv_cell

    out = io.StringIO()
    plain = csv.writer(out, lineterminator="\n")

    class _Safe:  # values come from the export: none may reach a spreadsheet as a formula
        @staticmethod
        def writerow(row: list[object]) -> None:
            plain.writerow([escape_csv_cell(v) for v in row])

    writer = _Safe()
    writer.writerow(["variable", "dtype", "label", "value", "value_label", "count",
                     "user_missing", "identifying"])
    for v in report["variables"]:
        base = [v["name"], v["dtype"], v["label"] or ""]
        if not v["counts"]:
            writer.writerow([*base, "", "", "", "", v["identifying"] or ""])
            continue
        for c in v["counts"]:
            writer.writerow([*base, c["value"], c["label"] or "", c["count"],
                             "yes" if c["user_missing"] else "", ""])
    return out.getvalue()
