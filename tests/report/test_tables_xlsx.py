"""tables.xlsx follows the Analysis Function spreadsheet guidance (checked with openpyxl)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from harmonise.report.xlsx import HEADERS, TABLES


@pytest.fixture(scope="module")
def book(bundled_report: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(bundled_report / "tables.xlsx")


def test_cover_contents_and_notes_come_first(book: openpyxl.Workbook) -> None:
    assert book.sheetnames[:4] == ["Cover", "Contents", "Notes", "Columns"]
    cover = book["Cover"]
    assert str(cover["A1"].value).startswith("Community safety perceptions: Bedford Borough")
    assert str(cover["A2"].value).startswith("SYNTHETIC DATA")
    ws = book["Contents"]
    top = ws[next(iter(ws.tables.values())).ref.split(":")[0]].row
    listed = [r[0] for r in ws.iter_rows(min_row=top + 1, values_only=True)]
    tables = [s for s in book.sheetnames if s.startswith("Table ")]
    assert listed[: len(tables)] == tables and {"Notes", "Columns"} <= set(listed)
    ws = book["Notes"]
    top = ws[next(iter(ws.tables.values())).ref.split(":")[0]].row
    notes = [r for r in ws.iter_rows(min_row=top + 1, values_only=True)]
    assert all(str(r[0]).startswith("[note ") for r in notes)
    assert any("[c] means suppressed" in str(r[1]) for r in notes)


def test_one_excel_table_per_sheet_with_header_and_filters(book: openpyxl.Workbook) -> None:
    names = set()
    for ws in book.worksheets:
        assert not ws.merged_cells.ranges, f"{ws.title} has merged cells"
        assert len(ws.tables) == 1, f"{ws.title} holds {len(ws.tables)} tables"
        table = next(iter(ws.tables.values()))
        names.add(table.displayName)
        assert table.headerRowCount in (None, 1) and table.autoFilter is not None
        first = ws[table.ref.split(":")[0]]
        header = [c.value for c in ws[first.row]]
        assert [c.name for c in table.tableColumns] == header
        assert all(isinstance(h, str) and h for h in header)
        assert all("_" not in h for h in header), f"{ws.title}: code-like header {header}"
        assert ws["A1"].font.bold and ws["A1"].value
        for col in ("A", "B"):
            assert ws.column_dimensions[col].width and ws.column_dimensions[col].width >= 9
    assert len(names) == len(book.worksheets)
    assert {f"{t[0]}" for t in TABLES.values()} >= {s for s in book.sheetnames
                                                     if s.startswith("Table ")}


def test_percentages_to_one_decimal_with_full_precision_in_the_csv(
    book: openpyxl.Workbook, bundled_report: Path
) -> None:
    ws = book["Table 1"]
    header = [c.value for c in ws[4]]
    col = header.index(HEADERS["estimate"]) + 1
    csv = pd.read_csv(bundled_report / "estimates.csv", keep_default_na=False)
    shown = []
    for row in range(5, 5 + len(csv)):
        cell = ws.cell(row=row, column=col)
        if isinstance(cell.value, int | float):  # 19.0 reads back as 19
            assert cell.number_format == "0.0"
            assert cell.value == round(cell.value, 1)
            shown.append(float(cell.value))
        else:
            assert cell.value == "[c]"
    full = pd.to_numeric(csv["estimate"], errors="coerce").dropna()
    assert len(shown) == len(full)
    assert [round(100 * v, 1) for v in full] == shown
    assert any(len(str(v).split(".")[-1]) > 4 for v in full), "CSV keeps full precision"


def test_surveys_by_name_and_suppressed_cells_marked(book: openpyxl.Workbook) -> None:
    ws = book["Table 3"]
    header = [c.value for c in ws[4]]
    a = header.index("Survey A")
    values = {r[a] for r in ws.iter_rows(min_row=5, values_only=True)}
    assert "Bedford Borough: Community safety residents' survey, 2024" in values
    assert not any("@v" in str(v) for v in values)


def test_margins_show_weighted_totals_beside_their_targets(book: openpyxl.Workbook,
                                                           bundled_report: Path) -> None:
    """Achieved is a weighted total, not a share: it read 7,228,700.0% beside a target of
    72,287 when it was formatted as a percentage."""
    ws = book["Table 7"]
    header = [c.value for c in ws[4]]
    target, achieved = header.index("Target"), header.index(HEADERS["achieved"])
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True)
            if isinstance(r[achieved], int | float)]
    assert rows
    for r in rows:
        assert abs(float(r[achieved]) - float(r[target])) <= 1e-3 * float(r[target]) + 1


def test_the_suppression_mark_points_at_its_own_note(book: openpyxl.Workbook) -> None:
    notes = {r[0]: r[1] for r in book["Notes"].iter_rows(min_row=5, values_only=True)}
    line = str(book["Table 1"]["A2"].value)
    number = line.split("[note ")[1].split("]")[0]
    assert str(notes[f"[note {number}]"]).startswith("[c] means suppressed")


def test_reasons_and_scales_are_in_words_not_codes(book: openpyxl.Workbook) -> None:
    """The workbook is read by people: no crosswalk ids, scale or population ids, or Python
    list syntax in Table 3 and Table 5 (the CSVs keep the codes for machines)."""
    import re

    for name in ("Table 3", "Table 5"):
        ws = book[name]
        header = [c.value for c in ws[4]]
        assert "Reason codes" not in header and "Caveat codes" not in header
        for row in ws.iter_rows(min_row=5, values_only=True):
            for column, value in zip(header, row, strict=True):
                if column == "Changelog" or not isinstance(value, str):
                    continue  # the crosswalk author's own words
                assert not re.search(r"@v\d|\bsafety[45]\b|_18plus|\['", value), (name, value)


def test_other_measured_numbers_have_a_stated_precision(book: openpyxl.Workbook) -> None:
    """Design effects, weights and p-values were written in General format at full
    precision (1.449334115191716)."""
    ws = book["Table 6"]
    cells = [c for row in ws.iter_rows(min_row=5) for c in row
             if isinstance(c.value, float) and not float(c.value).is_integer()]
    assert cells
    assert all(c.number_format in ("0.0", "0.000", "#,##0.0") for c in cells)
