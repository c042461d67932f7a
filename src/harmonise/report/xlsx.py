"""``tables.xlsx``: one sheet per published table plus a Notes sheet (openpyxl).

Suppressed figures are written as ``[c]`` (the GSS shorthand for confidential), never as a
blank that could be read as 0; the Notes sheet says what ``[c]`` means, why each cell was
suppressed, what every column holds, and — first of all — when the data are synthetic.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections import Counter
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from harmonise._util.cells import needs_escape
from harmonise.report.data import ReportData

SUPPRESSED = "[c]"

#: Figures blanked by disclosure control, shown as ``[c]`` in suppressed rows.
FIGURE_COLUMNS = ("n", "n_success", "estimate", "se", "ci_low", "ci_high", "deff")

#: What each column means (any table). Columns not listed are described generically.
COLUMN_NOTES: dict[str, str] = {
    "indicator": "indicator id in the schema (e.g. safe_area_dark_safe)",
    "concept": "schema concept the indicator is built from",
    "option": "option of a multi-select concept (blank for single-answer items)",
    "label": "indicator wording",
    "csp": "Community Safety Partnership id",
    "csp_name": "Community Safety Partnership",
    "crosswalk": "crosswalk id@version that mapped the survey",
    "wave": "survey wave",
    "population": "population the survey covers",
    "group_var": "subgroup variable ('all' for the whole sample)",
    "group": "subgroup category",
    "n": "unweighted base (valid answers); [c] when under the disclosure threshold",
    "n_success": "unweighted respondents giving the indicator's answers",
    "estimate": "proportion (0-1), weighted unless 'weighted' is False",
    "se": "design-based standard error (Taylor linearisation)",
    "ci_low": "lower bound of the 95% confidence interval",
    "ci_high": "upper bound of the 95% confidence interval",
    "ci_method": "confidence interval method (R survey svyciprop naming)",
    "df": "design degrees of freedom used by the interval",
    "deff": "design effect (weighting and clustering)",
    "weighted": "True when weights were used",
    "comparability": "crosswalk grade of the item against the schema concept",
    "suppressed": "True when disclosure control removed the figures",
    "suppression_reason": "why the figures were suppressed",
    "synthetic": "True when the survey is synthetic sample data",
    "illustrative_targets": "True when weighting targets are illustrative, not official",
    "a": "first survey (crosswalk)", "b": "second survey (crosswalk)",
    "a_name": "first survey's partnership", "b_name": "second survey's partnership",
    "a_estimate": "first survey's estimate", "b_estimate": "second survey's estimate",
    "a_grade": "first survey's comparability grade", "b_grade": "second survey's grade",
    "a_population": "first survey's population", "b_population": "second survey's population",
    "compared": "True when the pair passed the comparability gate",
    "reason": "why the pair was not compared",
    "difference": "estimate A minus estimate B",
    "p_value": "unadjusted two-sided p-value",
    "p_adjusted": "p-value adjusted for multiple comparisons (method in 'correction')",
    "correction": "the multiple-comparison correction applied across the family",
    "caveats": "what to keep in mind about a comparison made (scales, opt-in samples, modes)",
    "n_out_of_base": "unweighted answers left out of the base (don't know, not applicable, …)",
    "out_of_base_share": "weighted share of those asked whose answer is out of the base",
    "significant": "True when the adjusted p-value is under 0.05",
    "method": "weighting method",
    "margins": "raking margins",
    "targets_file": "population targets file",
    "iterations": "raking iterations",
    "converged": "True when raking met its tolerance",
    "max_gap": "largest gap between achieved and target margin at the end",
    "total": "sum of weights",
    "min_weight": "smallest weight", "max_weight": "largest weight",
    "cv": "coefficient of variation of the weights",
    "kish_deff": "Kish design effect from weighting, 1 + CV²",
    "effective_n": "effective sample size, (Σw)² / Σw²",
    "share_top1pct": "share of the weight total held by the top 1% of weights",
    "missing": "respondents without a usable value of a margin and how each margin treated "
               "them (imputed by hot-deck, or kept out of that margin's adjustment)",
    "margin": "raking margin", "category": "margin category",
    "target": "target share (margins) or harmonised category (audit)",
    "achieved": "weighted share achieved", "sample_n": "respondents in the category",
    "unweighted_share": "unweighted share in the category",
    "item": "crosswalk item id", "source": "source variable in the export",
    "value": "source value seen", "value_label": "its label in the export",
    "count": "how many respondents had it", "target_kind": "scale code or missing type",
}


def _plain(value: Any) -> Any:
    """A cell value openpyxl can write: Python scalars, None for missing."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def sheet_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """Header + rows, with ``[c]`` for the figures of suppressed rows."""
    rows: list[list[Any]] = [[str(c) for c in frame.columns]]
    hide = (frame["suppressed"].astype(bool).tolist() if "suppressed" in frame.columns
            else [False] * len(frame))
    figures = [i for i, c in enumerate(frame.columns) if c in FIGURE_COLUMNS]
    for suppressed, values in zip(hide, frame.itertuples(index=False), strict=True):
        row = [_plain(v) for v in values]
        if suppressed:
            for i in figures:
                if row[i] is None:
                    row[i] = SUPPRESSED
        rows.append(row)
    return rows


def notes_rows(data: ReportData) -> list[list[Any]]:
    """The Notes sheet: warnings, symbols, suppression footnotes, column meanings."""
    prov = data.provenance
    rows: list[list[Any]] = [["Community safety perception tables (harmonise)"], []]
    if data.synthetic:
        rows.append(["SYNTHETIC DATA: every figure comes from simulated survey files. "
                     "They are not real survey results and must not be quoted as findings."])
    weighting = data.tables["weighting"]
    if len(weighting) and bool(weighting["illustrative_targets"].any()):
        rows.append(["Weighting targets are illustrative, not official population counts."])
    schema = prov.get("schema", {})
    rows += [
        [f"Run {prov.get('run_at', '')}, harmonise {prov.get('tool_version', '')}, schema "
         f"{schema.get('ref', '') if isinstance(schema, dict) else ''}."],
        [],
        ["Symbols"],
        [SUPPRESSED, "suppressed for disclosure control (confidential); never a zero"],
        ["(blank)", "not applicable (e.g. no difference for a pair that was not compared)"],
        [],
        ["Suppression footnotes"],
        [f"Estimates are suppressed when the unweighted base is under {data.rules.min_base}, "
         f"when fewer than {data.rules.min_count} respondents gave (or did not give) the "
         f"answer, or when a group under {data.rules.min_base_for_extremes} all answered "
         "alike. The suppression_reason column gives the reason for each row."],
    ]
    for name in ("estimates", "estimates_unweighted"):
        frame = data.tables[name]
        counts = Counter(str(r) for r in frame.loc[frame["suppressed"].astype(bool),
                                                   "suppression_reason"])
        rows.extend([name, f"{reason}: {count} rows"] for reason, count in
                    sorted(counts.items()))
    rows += [[], ["Sheet", "Column", "Meaning"]]
    for name, frame in data.tables.items():
        for col in frame.columns:
            rows.append([name, str(col), COLUMN_NOTES.get(str(col), "see docs/report.md")])
    return rows


def _stamp(data: ReportData) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(data.provenance.get("run_at", ""))).replace(
            tzinfo=None, microsecond=0)
    except ValueError:
        return dt.datetime(1980, 1, 1)


def _normalised(content: bytes, stamp: dt.datetime) -> bytes:
    """The same workbook with every timestamp set to the run's: same run, same bytes."""
    when = stamp.isoformat() + "Z"
    zip_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute,
                stamp.second - stamp.second % 2)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                              rb"\g<1>" + when.encode() + rb"\g<2>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=zip_time), body,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _safe_row(ws: Worksheet, row: list[Any]) -> list[Any]:
    """The row with every formula-like text as a text cell with Excel's quote prefix, so
    openpyxl never writes it as a formula (:mod:`harmonise._util.cells`)."""
    out: list[Any] = []
    for value in row:
        if needs_escape(value):
            cell = Cell(ws, value=value)
            cell.data_type = "s"  # openpyxl makes "=…" a formula; keep it text
            cell.quotePrefix = True
            out.append(cell)
        else:
            out.append(value)
    return out


def xlsx_bytes(data: ReportData) -> bytes:
    """The workbook (Notes sheet first, then one sheet per table) as bytes."""
    wb = Workbook()
    notes = wb.active
    assert notes is not None
    notes.title = "Notes"
    for row in notes_rows(data):
        notes.append(_safe_row(notes, row))
    notes["A1"].font = Font(bold=True, size=14)
    if data.synthetic:
        notes["A3"].font = Font(bold=True, color="C51B7D")
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 28
    notes.column_dimensions["C"].width = 70
    for name, frame in data.tables.items():
        ws = wb.create_sheet(name[:31])
        for row in sheet_rows(frame):
            ws.append(_safe_row(ws, row))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    stamp = _stamp(data)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.title = "Community safety perception tables"
    buf = io.BytesIO()
    wb.save(buf)
    return _normalised(buf.getvalue(), stamp)
