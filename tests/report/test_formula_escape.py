"""Text from an export never reaches a CSV or XLSX output as a live formula (OWASP)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from harmonise._util.cells import escape_frame, needs_escape
from harmonise.report.data import ReportData
from harmonise.report.write import csv_bytes
from harmonise.report.xlsx import xlsx_bytes

ATTACKS = ["=HYPERLINK(\"http://x.example\",\"click\")", "+44 1582 000000 call",
           "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_text_needs_escaping(text: str) -> None:
    assert needs_escape(text)


@pytest.mark.parametrize("value", ["-2", "+1.5", "-0.25e3", -2, -0.5, "Very safe", "",
                                   "a=b", None, float("nan")])
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert not needs_escape(value)


def _audit() -> pd.DataFrame:
    return pd.DataFrame({
        "item": ["q1"] * (len(ATTACKS) + 2),
        "value": [*ATTACKS, "-2", "Very safe"],
        "count": [1, 2, 3, 4, 5, 6, 7, 8],
        "difference": [-0.5, 0.25, -1.0, 0.0, 1.0, -2.0, 3.0, -4.0],
    })


def test_csv_output_escapes_text_and_keeps_negative_numbers() -> None:
    text = csv_bytes(_audit()).decode()
    lines = text.splitlines()
    assert lines[1].startswith("q1,\"'=HYPERLINK(") and lines[1].endswith(",1,-0.5")
    assert "q1,'+44 1582 000000 call,2,0.25" in lines
    assert "q1,'-2+3,3,-1" in lines and "q1,'@SUM(A1:A9),4,0" in lines
    assert "q1,-2,7,3" in lines  # a number written as text stays as it is
    for line in lines[1:]:
        cell = line.split(",")[1].strip('"')
        assert not cell.startswith(("=", "+", "@", "\t", "\r")) and cell != "-2+3"


def test_tables_without_formula_text_are_unchanged() -> None:
    frame = pd.DataFrame({"value": ["Very safe", "-2"], "n": [-1, 2]})
    assert escape_frame(frame) is frame
    assert csv_bytes(frame) == frame.to_csv(index=False, float_format="%.10g",
                                            lineterminator="\n").encode()


def _report(audit: pd.DataFrame, schema: Any) -> ReportData:
    estimates = pd.DataFrame({"indicator": ["x"], "estimate": [-0.1], "suppressed": [False],
                              "suppression_reason": [""]})
    tables = {"estimates": estimates, "estimates_unweighted": estimates,
              "comparisons": pd.DataFrame({"indicator": []}),
              "weighting": pd.DataFrame({"illustrative_targets": [False]}),
              "margins": pd.DataFrame({"margin": []}), "audit": audit}
    return ReportData(schema=schema, surveys=(), tables=tables,
                      provenance={"run_at": "2025-01-01T00:00:00+00:00"})


def test_xlsx_output_holds_text_cells_never_formulas(schema: Any) -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes(_report(_audit(), schema))))
    sheet = book["Table 8"]  # the audit table
    top = sheet[next(iter(sheet.tables.values())).ref.split(":")[0]].row  # its header row
    body = slice(top, top + len(_audit()))
    values = [c.value for c in sheet["B"][body]]
    kinds = [c.data_type for c in sheet["B"][body]]
    assert values[:len(ATTACKS)] == ATTACKS  # shown as typed, with Excel's quote prefix
    assert set(kinds) == {"s"}
    assert all(c.quotePrefix for c in sheet["B"][top:top + len(ATTACKS)])
    # a difference is shown in percentage points, to one decimal place, and stays a number
    assert [c.value for c in sheet["D"][body]] == [-50, 25, -100, 0, 100, -200, 300, -400]
    assert all(c.data_type == "n" for c in sheet["D"][body])


def test_the_bundled_run_needs_no_escaping_so_its_outputs_are_unchanged(root: Path) -> None:
    from harmonise.pipeline import run
    from harmonise.report import report_data
    from harmonise.report.xlsx import notes_rows

    data = report_data(run(root / "surveys/manifest.yaml", root=root))
    for name, frame in data.tables.items():
        assert escape_frame(frame) is frame, name  # same bytes as before escaping existed
    assert not any(needs_escape(v) for row in notes_rows(data) for v in row)
