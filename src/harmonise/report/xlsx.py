"""``tables.xlsx`` following the Analysis Function guidance on releasing statistics in
spreadsheets: a Cover sheet, a Contents sheet, a Notes sheet, then one table per sheet.

Each table sheet has its title in A1, a line saying what the sheet holds in A2, and the
table from A4 as an Excel table (header row, filter buttons, banded rows) with readable
headers, surveys by name rather than by crosswalk id, percentages as numbers to one
decimal place (the CSV files keep full precision), set column widths and no merged cells.
Suppressed figures are written as ``[c]`` (the GSS shorthand for confidential), never as a
blank that could be read as 0; the Cover and Notes sheets say what ``[c]`` means, why
cells were suppressed, what every column holds, and — first of all — when the data are
synthetic. Written with openpyxl's write-only mode (fast, and cells are plain values).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import warnings
import zipfile
from collections import Counter
from typing import Any

import pandas as pd

from harmonise._util.cells import needs_escape
from harmonise.report import words
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
    "target": "target population count (margins) or harmonised category (audit)",
    "achieved": "weighted total achieved (to compare with the target)",
    "sample_n": "respondents in the category",
    "unweighted_share": "unweighted share in the category",
    "item": "crosswalk item id", "source": "source variable in the export",
    "value": "source value seen", "value_label": "its label in the export",
    "count": "how many respondents had it", "target_kind": "scale code or missing type",
}


#: Readable headers (and units) per column; others get their name in words.
HEADERS: dict[str, str] = {
    "indicator": "Indicator id", "concept": "Concept id", "option": "Option id",
    "label": "Measure", "csp": "Partnership id", "csp_name": "Partnership",
    "crosswalk": "Survey", "wave": "Wave", "population": "Population",
    "group_var": "Breakdown", "group": "Group", "n": "Base (answers)",
    "n_success": "Answers counted", "estimate": "Percentage",
    "se": "Standard error (percentage points)", "ci_low": "Lower 95% limit (%)",
    "ci_high": "Upper 95% limit (%)", "ci_method": "Interval method",
    "df": "Degrees of freedom", "deff": "Design effect", "weighted": "Weighted",
    "comparability": "Comparability grade", "suppressed": "Suppressed",
    "suppression_reason": "Why suppressed", "suppression_kind": "Kind of suppression",
    "synthetic": "Synthetic data", "illustrative_targets": "Illustrative targets",
    "n_out_of_base": "Answers left out of the base",
    "out_of_base_share": "Left out of the base (%)",
    "a": "Survey A", "b": "Survey B", "a_name": "Partnership A", "b_name": "Partnership B",
    "a_estimate": "Survey A (%)", "b_estimate": "Survey B (%)", "a_grade": "Grade A",
    "b_grade": "Grade B", "a_population": "Population A", "b_population": "Population B",
    "compared": "Compared", "reason": "Why not compared",
    "difference": "Difference (percentage points)", "p_value": "p-value",
    "p_adjusted": "Adjusted p-value", "significant": "Significant after correction",
    "correction": "Multiple-comparison correction", "restricted_to": "Compared on ages",
    "a_mode": "Mode A", "b_mode": "Mode B", "a_note": "Note A", "b_note": "Note B",
    "caveats": "Caveats", "reason_codes": "Reason codes", "caveat_codes": "Caveat codes",
    "common_age": "Ages both cover", "a_scale": "Scale A", "b_scale": "Scale B",
    "series": "Series", "from_wave": "From wave", "to_wave": "To wave",
    "from_crosswalk": "From survey", "to_crosswalk": "To survey",
    "from_estimate": "From (%)", "to_estimate": "To (%)", "from_grade": "From grade",
    "to_grade": "To grade", "computed": "Change computed",
    "change": "Change (percentage points)", "crosswalk_changed": "Crosswalk changed",
    "item_changed": "Question changed", "flag": "What changed", "changelog": "Changelog",
    "change_codes": "Change codes", "from_scale": "From scale", "to_scale": "To scale",
    "versus": "Compared with", "versus_estimate": "Compared group (%)",
    "method": "Weighting method", "margins": "Weighted by", "targets_file": "Targets file",
    "iterations": "Iterations", "converged": "Converged", "max_gap": "Largest gap (weighted count)",
    "total": "Sum of weights", "min_weight": "Smallest weight", "max_weight": "Largest weight",
    "cv": "Coefficient of variation", "kish_deff": "Design effect from weighting",
    "effective_n": "Effective sample size", "share_top1pct": "Weight held by top 1% (%)",
    "margin": "Margin", "category": "Category", "target": "Target",
    "achieved": "Achieved (weighted total)", "sample_n": "Respondents", "unweighted_share":
    "Unweighted share (%)", "item": "Item", "source": "Source variable", "value": "Value",
    "value_label": "Value label", "count": "Count", "target_kind": "Kind of target",
}

#: Proportions shown as percentages (or percentage points) to one decimal place.
PERCENT_COLUMNS = frozenset({
    "estimate", "se", "ci_low", "ci_high", "a_estimate", "b_estimate", "difference",
    "from_estimate", "to_estimate", "change", "versus_estimate", "out_of_base_share",
    "unweighted_share", "share_top1pct",
})

#: Columns naming a survey by its crosswalk ref: written as the survey's display name.
SURVEY_COLUMNS = frozenset({"crosswalk", "a", "b", "from_crosswalk", "to_crosswalk"})

#: Each table: sheet name, title, what it holds.
TABLES: dict[str, tuple[str, str]] = {
    "estimates": ("Table 1", "Weighted estimates by survey and subgroup"),
    "estimates_unweighted": ("Table 2", "Unweighted estimates (to see what weighting did)"),
    "comparisons": ("Table 3", "Comparisons between surveys, and why pairs were not compared"),
    "subgroup_differences": ("Table 4", "Differences between groups within each survey"),
    "trends": ("Table 5", "Change between waves of a survey"),
    "weighting": ("Table 6", "Weighting of each survey"),
    "margins": ("Table 7", "Weighting margins: targets and achieved shares"),
    "audit": ("Table 8", "Recoding audit: every source value and where it went"),
}


def header(column: str) -> str:
    return HEADERS.get(column, column.replace("_", " ").capitalize())


def _plain(value: Any) -> Any:
    """A cell value openpyxl can write: Python scalars, None for missing."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value


def sheet_rows(frame: pd.DataFrame, names: dict[str, str] | None = None) -> list[list[Any]]:
    """Header + rows: readable headers, percentages to 1 dp, ``[c]`` for suppressed
    figures, surveys by name (``names``: crosswalk ref -> display name)."""
    names = names or {}
    columns = [str(c) for c in frame.columns]
    rows: list[list[Any]] = [[header(c) for c in columns]]
    hide = (frame["suppressed"].astype(bool).tolist() if "suppressed" in frame.columns
            else [False] * len(frame))
    figures = [i for i, c in enumerate(columns) if c in FIGURE_COLUMNS]
    percent = [i for i, c in enumerate(columns) if c in PERCENT_COLUMNS
               and pd.api.types.is_numeric_dtype(frame[c].dtype)
               and not pd.api.types.is_bool_dtype(frame[c].dtype)]
    survey = [i for i, c in enumerate(columns) if c in SURVEY_COLUMNS]
    for suppressed, values in zip(hide, frame.itertuples(index=False), strict=True):
        row = [_plain(v) for v in values]
        for i in percent:
            if isinstance(row[i], int | float):
                row[i] = round(100 * float(row[i]), 1)
        for i in survey:
            if row[i] is not None:
                row[i] = names.get(str(row[i]), row[i])
        if suppressed:
            for i in figures:
                if row[i] is None:
                    row[i] = SUPPRESSED
        rows.append(row)
    return rows


def suppression_note(data: ReportData) -> int:
    """The number of the note explaining ``[c]`` (the synthetic-data note comes first)."""
    return 2 if data.synthetic else 1


def notes_rows(data: ReportData) -> list[list[Any]]:
    """The Notes sheet: one note per row (number, text), then what every column holds."""
    rules = data.rules
    rows: list[list[Any]] = [["Notes"], ["This worksheet contains one table of notes."],
                             [], ["Note number", "Note text"]]
    notes = [
        f"{SUPPRESSED} means suppressed for disclosure control (confidential); never a zero. "
        f"Estimates are suppressed when fewer than {rules.min_base} people answered, when "
        f"fewer than {rules.min_count} gave (or did not give) the answer, or when a group of "
        f"under {rules.min_base_for_extremes} all answered alike; further cells are "
        "suppressed where they would let a suppressed one be worked out.",
        "Percentages are weighted unless the table says otherwise, shown to one decimal "
        "place; the CSV files beside this workbook keep full precision.",
        "Confidence intervals are 95%, design-based (Taylor linearisation), allowing for "
        "weighting and clustering.",
        f"p-values are adjusted for the number of comparisons ({data.correction}).",
        "A blank cell means not applicable (for example no difference for a pair of surveys "
        "that was not compared).",
    ]
    if data.synthetic:
        notes.insert(0, "SYNTHETIC DATA: every figure comes from simulated survey files. "
                        "They are not real survey results and must not be quoted as findings.")
    weighting = data.tables["weighting"]
    if len(weighting) and bool(weighting["illustrative_targets"].any()):
        notes.append("Weighting targets are illustrative, not official population counts.")
    for name in ("estimates", "estimates_unweighted"):
        frame = data.tables[name]
        counts = Counter(str(r) for r in frame.loc[frame["suppressed"].astype(bool),
                                                   "suppression_reason"])
        notes.extend(f"{TABLES[name][0]}: {count} rows suppressed because {reason}."
                     for reason, count in sorted(counts.items()))
    rows += [[f"[note {i}]", text] for i, text in enumerate(notes, start=1)]
    return rows


def columns_rows(data: ReportData) -> list[list[Any]]:
    rows: list[list[Any]] = [["Column descriptions"],
                             ["This worksheet contains one table: what each column holds."],
                             [], ["Table", "Column", "Meaning"]]
    for name, frame in data.tables.items():
        for col in frame.columns:
            rows.append([TABLES.get(name, (name, ""))[0], header(str(col)),
                         COLUMN_NOTES.get(str(col), "see docs/report.md")])
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


def _width(values: list[Any]) -> float:
    longest = max((len(str(v)) for v in values if v is not None), default=8)
    return float(min(max(longest + 2, 9), 60))


def _text_cell(ws: Any, value: str) -> Any:
    """Formula-like text from an export as a text cell with Excel's quote prefix, never a
    live formula (:mod:`harmonise._util.cells`)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # openpyxl makes "=…" a formula; keep it text
    cell.quotePrefix = True
    return cell


def _unique(headers: list[str]) -> list[str]:
    """Excel table headers must differ: a repeat gets ' (2)'."""
    seen: Counter[str] = Counter()
    out = []
    for h in headers:
        seen[h] += 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def _table_sheet(wb: Any, sheet: str, title: str, lines: list[str],
                 rows: list[list[Any]], table_name: str, percent_cols: set[int]) -> None:
    """One sheet: title in A1, notes in A2.., the table below as an Excel table."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.filters import AutoFilter
    from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

    ws = wb.create_sheet(sheet)
    widths = [_width([r[j] for r in rows[:200]]) for j in range(len(rows[0]))]
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    head = WriteOnlyCell(ws, value=title)
    head.font = Font(bold=True, size=14)
    ws.append([head])
    for line in lines:
        ws.append([_text_cell(ws, line) if needs_escape(line) else line])
    start = len(lines) + 2
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    header_cells = []
    for value in _unique([str(v) for v in rows[0]]):
        cell = _text_cell(ws, value) if needs_escape(value) else WriteOnlyCell(ws, value=value)
        cell.font = bold
        cell.alignment = wrap
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows[1:]:
        out: list[Any] = []
        for j, value in enumerate(row):
            if j in percent_cols and isinstance(value, float):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "0.0"
                out.append(cell)
            elif isinstance(value, float) and not value.is_integer():
                # other measured numbers (design effects, weights, p-values) to a stated
                # precision, not 16 decimals in General format; the CSVs keep them whole
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "0.000" if abs(value) < 10 else "#,##0.0"
                out.append(cell)
            elif needs_escape(value):
                out.append(_text_cell(ws, value))
            else:
                out.append(value)
        ws.append(out)
    end = start + len(rows) - 1
    ref = f"A{start}:{get_column_letter(len(rows[0]))}{max(end, start + 1)}"
    table = Table(displayName=table_name, ref=ref)
    # write-only sheets cannot read the header back: name the columns and the filter here
    headers = _unique([str(v) for v in rows[0]])
    table.tableColumns = [TableColumn(id=j, name=h) for j, h in enumerate(headers, start=1)]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    with warnings.catch_warnings():  # openpyxl reminds write-only users to do the above
        warnings.simplefilter("ignore", UserWarning)
        ws.add_table(table)


#: Code columns the CSVs keep for machines; the workbook shows their words instead.
_CODE_COLUMNS = ("reason_codes", "caveat_codes", "change_codes")


def _in_words(name: str, frame: pd.DataFrame, data: ReportData) -> pd.DataFrame:
    """Table 3 and Table 5 with the reasons, caveats and question changes in the report's
    words (the CSV's ``reason`` prose names crosswalk ids and scale ids), and without the
    code columns."""
    if name not in ("comparisons", "trends") or frame.empty:
        return frame
    from harmonise.report.findings import Wording, comparison_words, trend_words

    w = Wording(data)
    out = frame.copy()
    if name == "comparisons" and "reason_codes" in out.columns:
        pairs = [comparison_words(w, row) for _, row in out.iterrows()]
        out["reason"] = [why for why, _ in pairs]
        if "caveats" in out.columns:
            out["caveats"] = [caveats for _, caveats in pairs]
    if name == "trends" and "reason_codes" in out.columns:
        pairs = [trend_words(w, row) for _, row in out.iterrows()]
        out["reason"] = [why for why, _ in pairs]
        if "flag" in out.columns:
            crosswalk_changed = out.get("crosswalk_changed", pd.Series(False, index=out.index))
            out["flag"] = [
                changed or ("The survey's crosswalk changed between waves; this question did "
                            "not." if bool(cw) else "")
                for (_, changed), cw in zip(pairs, crosswalk_changed.fillna(False), strict=True)]
    schema = data.schema
    for col in ("a_scale", "b_scale", "from_scale", "to_scale"):
        if col in out.columns:
            out[col] = [words.scale_short(schema, str(v)) if isinstance(v, str) and v else v
                        for v in out[col]]
    for col in ("a_population", "b_population"):
        if col in out.columns:
            out[col] = [words.population(schema, str(v)) if isinstance(v, str) and v else v
                        for v in out[col]]
    return out.drop(columns=[c for c in _CODE_COLUMNS if c in out.columns])


def xlsx_bytes(data: ReportData) -> bytes:
    """The workbook (Cover, Contents, Notes, Columns, then one sheet per table) as bytes."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    names = {ref: n.full for ref, n in words.survey_names(data.surveys, data.schema).items()}
    partnerships = [words.partnership(s.csp_name) for s in data.surveys]
    prov = data.provenance
    tables = [(name, _in_words(name, data.tables[name], data)) for name in TABLES
              if name in data.tables]
    cover: list[list[Any]] = [[words.title(partnerships)]]
    if data.synthetic:
        cover.append(["SYNTHETIC DATA: every figure comes from simulated survey files and "
                      "must not be quoted as a finding."])
    cover += [
        ["These tables hold the figures of the community safety perceptions report "
         "(index.html beside this workbook): weighted percentages with 95% confidence "
         "intervals per survey, breakdown, comparison and trend."],
        [f"Surveys: {'; '.join(names.values())}."],
        [f"Produced {str(prov.get('run_at', ''))[:10]} by harmonise "
         f"{prov.get('tool_version', '')}."],
        [f"{SUPPRESSED} marks a figure suppressed to protect respondents (see Notes); "
         "blank cells are not applicable."],
        ["Percentages are shown to one decimal place; the CSV files keep full precision."],
        ["The Contents sheet lists every table; the Notes sheet explains the notes; the "
         "Columns sheet says what each column holds."],
    ]
    _table_sheet(wb, "Cover", str(cover[0][0]), [str(r[0]) for r in cover[1:]],
                 [["Item", "Detail"], ["Number of tables", len(tables)],
                  ["Disclosure threshold (answers)", data.rules.min_base]],
                 "Cover_summary", set())
    contents = [["Sheet", "Table title"]]
    contents += [[TABLES[name][0], TABLES[name][1]] for name, _ in tables]
    contents += [["Notes", "Notes"], ["Columns", "Column descriptions"]]
    _table_sheet(wb, "Contents", "Contents", ["This worksheet contains one table."],
                 contents, "Contents", set())
    notes = notes_rows(data)
    _table_sheet(wb, "Notes", "Notes", [str(notes[1][0])], notes[3:], "Notes", set())
    cols = columns_rows(data)
    _table_sheet(wb, "Columns", "Column descriptions", [str(cols[1][0])], cols[3:],
                 "Columns", set())
    for name, frame in tables:
        sheet, title = TABLES[name]
        rows = sheet_rows(frame, names)
        percent_cols = {j for j, c in enumerate(frame.columns) if c in PERCENT_COLUMNS}
        lines = ["This worksheet contains one table. Some cells refer to notes on the Notes "
                 f"sheet; [c] marks a suppressed figure [note {suppression_note(data)}]."]
        if data.synthetic:
            lines.append("Synthetic data: not real survey results.")
        _table_sheet(wb, sheet, f"{sheet}: {title}", lines, rows,
                     sheet.replace(" ", "_"), percent_cols)
    stamp = _stamp(data)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.title = "Community safety perception tables"
    buf = io.BytesIO()
    wb.save(buf)
    return _normalised(buf.getvalue(), stamp)

