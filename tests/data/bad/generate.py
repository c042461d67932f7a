"""Write the bad-input corpus: one small file per way an export can be unreadable.

Run ``python tests/data/bad/generate.py`` to (re)write every file next to this script;
``tests/ingest/test_bad_input.py`` reads the files and checks each fails with the error,
and the message fragments, listed in ``CASES``. Everything is generated from code (SPSS and
Stata files with pyreadstat, workbooks with openpyxl); nothing comes from a real survey.
The password-protected workbook is an OLE2 compound-file header with the
``EncryptionInfo`` stream name that Excel writes when a workbook is encrypted (real
encryption needs Excel or msoffcrypto-tool, which is not installed).
"""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyreadstat
from openpyxl.chart import BarChart, Reference

HERE = Path(__file__).resolve().parent
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _sav(**kwargs: Any) -> bytes:
    df = kwargs.pop("df", None)
    if df is None:
        df = pd.DataFrame({"id": [1.0, 2.0, 3.0], "q1": [1.0, 2.0, 98.0]})
        kwargs.setdefault("variable_value_labels", {"q1": {1.0: "Very safe",
                                                           2.0: "Fairly safe",
                                                           98.0: "Don't know"}})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.sav"
        pyreadstat.write_sav(df, str(path), **kwargs)
        return path.read_bytes()


def _dta(**kwargs: Any) -> bytes:
    df = kwargs.pop("df", pd.DataFrame({"id": [1, 2, 3], "q1": [1, 2, 3]}))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.dta"
        pyreadstat.write_dta(df, str(path), **kwargs)
        return path.read_bytes()


def _xlsx(build: Callable[[openpyxl.Workbook], None]) -> bytes:
    wb = openpyxl.Workbook()
    build(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rows(*rows: list[Any]) -> Callable[[openpyxl.Workbook], None]:
    def build(wb: openpyxl.Workbook) -> None:
        ws = wb.active
        assert ws is not None
        for r in rows:
            ws.append(r)
    return build


def _chart_only(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    assert ws is not None
    ws.append([1])
    ws.append([2])
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=1, min_row=1, max_row=2))
    wb.create_chartsheet("Chart").add_chart(chart)
    wb.remove(ws)


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for member, text in members.items():
            zf.writestr(member, text)
    return out.getvalue()


def _corrupt_member(content: bytes) -> bytes:
    """Flip bytes inside the compressed sheet so its checksum fails (a damaged download)."""
    data = bytearray(content)
    at = content.index(b"xl/worksheets/sheet1.xml") + 60
    for i in range(at, at + 8):
        data[i] ^= 0xFF
    return bytes(data)


def _value_labels_on_dates() -> bytes:
    # a labelled code variable given a date display format: codes read as dates
    return _sav(df=pd.DataFrame({"q1": [13850179200.0, 13852857600.0]}),
                variable_value_labels={"q1": {1.0: "Very safe", 2.0: "Fairly safe"}},
                variable_format={"q1": "DATE11"})


def _dta_value_labels_on_dates() -> bytes:
    return _dta(df=pd.DataFrame({"q1": [23000.0, 23001.0]}),
                variable_value_labels={"q1": {1: "Yes", 2: "No"}},
                variable_format={"q1": "%td"})


def _sav_duplicate_names() -> bytes:
    # SPSS names are case-insensitive: Q1 and q1 are one name to SPSS and to pyreadstat
    content = _sav(df=pd.DataFrame({"Q1": [1.0, 2.0], "Q2": [1.0, 2.0]}))
    at = content.index(b"Q2      ")
    return content[:at] + b"Q1      " + content[at + 8:]


def _sav_label_index_out_of_range() -> bytes:
    """The fuzzing find: a value-label record pointing past the last variable crashed
    ReadStat (segmentation fault) before the dictionary check."""
    content = bytearray(_sav())
    at = content.index(b"\x04\x00\x00\x00\x01\x00\x00\x00", 176)  # type 4, one variable
    content[at + 8:at + 12] = (8_388_609).to_bytes(4, "little")
    return bytes(content)


SAV = _sav()
DTA = _dta()
XLSX = _xlsx(_rows(["id", "q1"], [1, 2], [2, 3]))
CP1252 = "id,town\n1,Café\n".encode("cp1252")


@dataclass(frozen=True)
class Case:
    """One bad file: how to make it, what read_survey is given, what the error must say."""

    name: str
    file: str
    make: Callable[[], bytes]
    fragments: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    error: str = "IngestError"
    crosswalk: dict[str, Any] | None = None  # the error is raised applying this crosswalk


CASES: list[Case] = [
    Case("empty-0-bytes", "empty.csv", lambda: b"",
         ("empty (0 bytes)", "export the survey again")),
    Case("over-max-bytes", "big.csv", lambda: b"id,q1\n1,2\n" * 10,
         ("is 100 bytes", "over the limit of 50 bytes", "max_bytes="), {"max_bytes": 50}),
    Case("unknown-extension", "survey.json", lambda: b"{}",
         ("unsupported file type '.json'", ".csv, .dta, .por, .sav, .xlsx, .zsav")),
    Case("old-xls-extension", "survey.xls", lambda: OLE_MAGIC + b"\x00" * 100,
         ("unsupported file type '.xls'", "save it as .xlsx")),
    Case("no-extension", "export", lambda: b"id\n1\n", ("'(no extension)'",)),
    Case("sav-renamed-dta", "sav-renamed.dta", lambda: SAV,
         ("looks like an SPSS file", "rename it to .sav")),
    Case("dta-renamed-sav", "dta-renamed.sav", lambda: DTA,
         ("looks like a Stata file", "rename it to .dta")),
    Case("csv-renamed-sav", "csv-renamed.sav", lambda: b"id,q1\n1,2\n",
         ("looks like a text (CSV) file", "rename it to .csv")),
    Case("xlsx-renamed-csv", "xlsx-renamed.csv", lambda: XLSX,
         ("looks like an Excel workbook", "rename it to .xlsx")),
    Case("garbage-sav", "garbage.sav", lambda: b"\x01\x02\x03\x04" * 50,
         ("does not start like an SPSS file", "corrupt", "export it again")),
    Case("truncated-sav-header", "truncated-header.sav", lambda: SAV[:120],
         ("120 bytes", "176-byte SPSS file header", "truncated", "Save it again")),
    Case("truncated-sav-dictionary", "truncated-dictionary.sav", lambda: SAV[:300],
         ("could not be read as an SPSS .sav file", "byte offset", "truncated",
          "Save it again from SPSS")),
    Case("truncated-sav-data", "truncated-data.sav", lambda: SAV[:-20],
         ("could not be read as an SPSS .sav file", "truncated", "Save it again from SPSS")),
    Case("sav-value-label-index-out-of-range", "label-index.sav",
         _sav_label_index_out_of_range,
         ("byte offset", "variable number 8388609", "does not exist", "Save it again")),
    Case("sav-duplicate-names", "duplicate-names.sav", _sav_duplicate_names,
         ("duplicate variable names", "'Q1'", "rename the copies")),
    Case("sav-value-labels-on-dates", "labels-on-dates.sav", _value_labels_on_dates,
         ("variable 'q1'", "DATE11", "read as dates", "2021-09-05 at row 1",
          "1.0 = 'Very safe'", "plain numeric format")),
    Case("dta-value-labels-on-dates", "labels-on-dates.dta", _dta_value_labels_on_dates,
         ("variable 'q1'", "%td", "read as dates", "at row 1", "1 = 'Yes'")),
    Case("truncated-dta", "truncated.dta", lambda: DTA[:-20],
         ("is truncated", "</stata_dta>", "Save it again from Stata")),
    Case("truncated-dta-header", "truncated-header.dta", lambda: DTA[:100],
         ("truncated",)),
    Case("sav-zero-cases", "zero-cases.sav",
         lambda: _sav(df=pd.DataFrame({"q1": pd.Series([], dtype=float)})),
         ("has 1 column(s) but no data cases",)),
    Case("dta-zero-rows", "zero-rows.dta",
         lambda: _dta(df=pd.DataFrame({"q1": pd.Series([], dtype=float)})),
         ("no data cases",)),
    Case("sav-unknown-encoding", "encoding.sav", lambda: SAV,
         ("unsupported character set", "use a name such as 'cp1252'"),
         {"encoding": "klingon"}),
    Case("truncated-xlsx", "truncated.xlsx", lambda: XLSX[:-200],
         ("not a readable .xlsx", "truncated", "save it again as .xlsx")),
    Case("corrupt-xlsx", "corrupt.xlsx", lambda: _corrupt_member(XLSX),
         ("is corrupt", "'xl/worksheets/sheet1.xml'", "save it again as .xlsx")),
    Case("zip-not-workbook", "word.xlsx", lambda: _zip({"word/document.xml": "<w/>"}),
         ("is a Word document, not an Excel workbook",)),
    Case("ods-renamed-xlsx", "calc.xlsx", lambda: _zip({"content.xml": "<x/>",
                                                        "mimetype": "ods"}),
         ("OpenDocument spreadsheet",)),
    Case("damaged-workbook-xml", "damaged.xlsx",
         lambda: _zip({"[Content_Types].xml": "<bad", "xl/workbook.xml": "<bad"}),
         ("could not be read as an Excel workbook", "save it again as .xlsx")),
    Case("password-protected-xlsx", "locked.xlsx",
         lambda: OLE_MAGIC + b"\x00" * 64 + "EncryptionInfo".encode("utf-16-le"),
         ("password-protected", "save it without a password")),
    Case("html-saved-as-xlsx", "page.xlsx",
         lambda: b"<!DOCTYPE html><html><table></table>",
         ("is a web page (HTML), not an Excel workbook",)),
    Case("pdf-saved-as-csv", "report.csv", lambda: b"%PDF-1.7\n...", ("is a PDF document",)),
    Case("xlsx-no-data-sheet", "chart-only.xlsx", lambda: _xlsx(_chart_only),
         ("has no worksheet with data", "'Chart'")),
    Case("xlsx-empty-sheet", "blank.xlsx", lambda: _xlsx(lambda wb: None),
         ("sheet 'Sheet' is empty", "Pass sheet=")),
    Case("xlsx-sheet-not-found", "sheets.xlsx", lambda: XLSX,
         ("no sheet named 'Data'", "['Sheet']"), {"sheet": "Data"}),
    Case("xlsx-sheet-index-out-of-range", "sheet-index.xlsx", lambda: XLSX,
         ("no sheet number 3",), {"sheet": 3}),
    Case("xlsx-zero-rows", "zero-rows.xlsx", lambda: _xlsx(_rows(["id", "q1"])),
         ("no data rows",)),
    Case("xlsx-two-header-zero-rows", "two-header-zero-rows.xlsx",
         lambda: _xlsx(_rows(["id", "Q1"], [None, "Response"])), ("no data rows",)),
    Case("xlsx-duplicate-names", "duplicate-names.xlsx",
         lambda: _xlsx(_rows(["id", "q1", "q2", "q1"], [1, 2, 3, 4])),
         ("duplicate column names", "'q1' at column B, column D")),
    Case("csv-zero-rows", "zero-rows.csv", lambda: b"id,q1\n", ("no data rows",)),
    Case("csv-only-blank-lines", "blank-lines.csv", lambda: b"\n\n\n",
         ("no header and no data",)),
    Case("csv-duplicate-names", "duplicate-names.csv", lambda: b"id,q1,q2,q1\n1,2,3,4\n",
         ("duplicate column names", "'q1' at column 2, column 4", "rename")),
    Case("csv-ragged-row", "ragged.csv", lambda: b"id,q1\n1,2\n3,4,5\n",
         ("more fields than the header", "line 3")),
    Case("csv-not-utf8-as-declared", "declared-utf8.csv", lambda: CP1252,
         ("cannot be decoded as utf-8 (was given)", "0xe9", "byte offset 13", "line 2",
          "encoding='cp1252'"), {"encoding": "utf-8"}),
    Case("csv-undecodable-detected", "undecodable.csv", lambda: b"id,q1\n1,\x81\x8d\n",
         ("cannot be decoded as cp1252 (was detected)", "line 2", "Pass another encoding")),
    Case("csv-unknown-encoding", "klingon.csv", lambda: b"id\n1\n",
         ("'klingon' is not a known encoding",), {"encoding": "klingon"}),
    Case("csv-binary", "binary.csv", lambda: b"id,q1\n\x00\x01\x02" + b"\x00" * 200,
         ("NUL bytes",)),
    Case("csv-dates-mixed-uk-us", "mixed-dates.csv",
         lambda: b"id,incident_date\n1,25/11/2024\n2,11/26/2024\n",
         ("column 'incident_date' row 1", "'25/11/2024'", "row 2", "'11/26/2024'",
          "one convention")),
    Case("csv-impossible-date", "impossible-date.csv",
         lambda: b"id,incident_date\n1,25/11/2024\n2,31/02/2024\n",
         ("column 'incident_date' row 2", "'31/02/2024'", "not a date when read dd/mm")),
    Case("sheet-on-csv", "sheet-option.csv", lambda: b"id\n1\n", ("sheet= is only for .xlsx",),
         {"sheet": 0}),
    Case("bad-header-rows", "header-rows.csv", lambda: b"id\n1\n",
         ("header_rows= must be 1, 2",), {"header_rows": 4}),
    Case("duplicated-respondent-ids", "duplicate-ids.csv",
         lambda: b"ID,Q1\n1,1\n2,2\n2,1\n3,2\n",
         ("respondent id column 'ID'", "1 duplicated id(s)", "'2' at data rows [2, 3]",
          "remove duplicate submissions"),
         error="CrosswalkError",
         crosswalk={"respondent_id": "ID"}),
]


def write_all(folder: Path = HERE) -> list[Path]:
    """Write every case's file into ``folder``; returns the paths."""
    out = []
    for case in CASES:
        path = folder / case.file
        path.write_bytes(case.make())
        out.append(path)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for p in write_all(target):
        print(p)
