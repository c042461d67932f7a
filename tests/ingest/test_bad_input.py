"""Every way an export can be unreadable gives an IngestError that says why and what to do.

Bad files are generated into tmp_path; a few start from the pyreadstat peer files.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from openpyxl.chart import BarChart, Reference

from harmonise.errors import IngestError
from harmonise.ingest import read_survey

PEER = Path("/work/shared/peer-data/pyreadstat")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
needs_peer = pytest.mark.skipif(not PEER.is_dir(), reason="peer data folder not present")


def _write(name: str, content: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content)
        return path
    return make


def _peer(source: str, name: str, cut: Callable[[bytes], bytes] = lambda b: b
          ) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(cut((PEER / source).read_bytes()))
        return path
    return make


def _xlsx(name: str, build: Callable[[openpyxl.Workbook], None]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        wb = openpyxl.Workbook()
        build(wb)
        path = tmp / name
        wb.save(path)
        return path
    return make


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


def _empty_sav(tmp: Path) -> Path:
    path = tmp / "nocases.sav"
    pyreadstat.write_sav(pd.DataFrame({"q1": pd.Series([], dtype=float)}), str(path))
    return path


def _zip(name: str, members: dict[str, str]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        with zipfile.ZipFile(path, "w") as zf:
            for member, text in members.items():
                zf.writestr(member, text)
        return path
    return make


def _truncated_xlsx(tmp: Path) -> Path:
    good = _xlsx("full.xlsx", _rows(["id", "q1"], [1, 2]))(tmp)
    path = tmp / "cut.xlsx"
    path.write_bytes(good.read_bytes()[:-200])  # loses the zip's central directory
    return path


def _directory(tmp: Path) -> Path:
    path = tmp / "folder.csv"
    path.mkdir()
    return path


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Path]
    fragments: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    peer: bool = False


CP1252 = "id,town\n1,Café\n".encode("cp1252")

CASES = [
    Case("missing-file", lambda tmp: tmp / "nope.sav", ("nope.sav", "file not found")),
    Case("directory", _directory, ("is not a file",)),
    Case("empty-0-bytes", _write("empty.csv", b""), ("empty.csv", "empty (0 bytes)",
                                                     "export the survey again")),
    Case("over-max-bytes", _write("big.csv", b"id,q1\n1,2\n" * 10),
         ("over the limit of 50 bytes", "max_bytes="), {"max_bytes": 50}),
    Case("unknown-extension", _write("s.json", b"{}"),
         ("unsupported file type '.json'", ".csv, .dta, .por, .sav, .xlsx, .zsav")),
    Case("old-xls-extension", _write("s.xls", OLE_MAGIC + b"\x00" * 100),
         ("unsupported file type '.xls'", "save it as .xlsx")),
    Case("no-extension", _write("export", b"id\n1\n"), ("'(no extension)'",)),
    Case("sav-renamed-dta", _peer("sample.sav", "s.dta"),
         ("looks like an SPSS file", "rename it to .sav"), peer=True),
    Case("dta-renamed-sav", _peer("sample.dta", "s.sav"),
         ("looks like a Stata file", "rename it to .dta"), peer=True),
    Case("por-renamed-sav", _peer("sample.por", "s.sav"),
         ("SPSS portable", "rename it to .por"), peer=True),
    Case("csv-renamed-sav", _write("s.sav", b"id,q1\n1,2\n"),
         ("looks like a text (CSV) file", "rename it to .csv")),
    Case("xlsx-renamed-csv", _xlsx("s.csv", _rows(["id"], [1])),
         ("looks like an Excel workbook", "rename it to .xlsx")),
    Case("garbage-sav", _write("s.sav", b"\x01\x02\x03\x04" * 50),
         ("does not start like an SPSS file", "corrupt", "export it again")),
    Case("truncated-sav-half", _peer("sample.sav", "t.sav", lambda b: b[: len(b) // 2]),
         ("t.sav", "could not be read as an SPSS .sav file", "truncated",
          "Save it again from SPSS"), peer=True),
    Case("truncated-sav-tail", _peer("sample.sav", "t.sav", lambda b: b[:-20]),
         ("expected number of rows", "truncated"), peer=True),
    Case("truncated-zsav", _peer("sample.zsav", "t.zsav", lambda b: b[:-40]),
         ("SPSS .zsav file", "truncated"), peer=True),
    Case("truncated-dta", _peer("sample.dta", "t.dta", lambda b: b[:-20]),
         ("t.dta", "is truncated", "</stata_dta>", "Save it again from Stata"), peer=True),
    Case("truncated-dta-header", _peer("sample.dta", "t.dta", lambda b: b[:100]),
         ("truncated",), peer=True),
    Case("truncated-por", _peer("sample.por", "t.por", lambda b: b[:600]),
         ("could not be read as an SPSS portable .por file", "Export it again"), peer=True),
    Case("encoding-with-por", _peer("sample.por", "s.por"),
         ("encoding= cannot be used with .por",), {"encoding": "cp1252"}, peer=True),
    Case("sav-unknown-encoding", _peer("sample.sav", "s.sav"),
         ("unsupported character set", "use a name such as 'cp1252'"),
         {"encoding": "klingon"}, peer=True),
    Case("sav-zero-cases", _empty_sav, ("no data cases",)),
    Case("truncated-xlsx", _truncated_xlsx,
         ("cut.xlsx", "not a readable .xlsx", "truncated", "save it again as .xlsx")),
    Case("zip-not-workbook", _zip("s.xlsx", {"word/document.xml": "<w/>"}),
         ("is a Word document, not an Excel workbook",)),
    Case("ods-renamed-xlsx", _zip("s.xlsx", {"content.xml": "<x/>", "mimetype": "ods"}),
         ("OpenDocument spreadsheet",)),
    Case("damaged-workbook-xml", _zip("s.xlsx", {"[Content_Types].xml": "<bad",
                                                 "xl/workbook.xml": "<bad"}),
         ("could not be read as an Excel workbook", "save it again as .xlsx")),
    Case("password-protected-xlsx",
         _write("locked.xlsx", OLE_MAGIC + b"\x00" * 64 + "EncryptionInfo".encode("utf-16-le")),
         ("locked.xlsx", "password-protected", "save it without a password")),
    Case("html-saved-as-xlsx", _write("s.xlsx", b"<!DOCTYPE html><html><table></table>"),
         ("is a web page (HTML), not an Excel workbook",)),
    Case("pdf-saved-as-csv", _write("s.csv", b"%PDF-1.7\n..."), ("is a PDF document",)),
    Case("xlsx-no-data-sheet", _xlsx("chart.xlsx", _chart_only),
         ("has no worksheet with data", "Chart")),
    Case("xlsx-empty-sheet", _xlsx("blank.xlsx", lambda wb: None),
         ("sheet 'Sheet' is empty", "Pass sheet=")),
    Case("xlsx-sheet-not-found", _xlsx("s.xlsx", _rows(["id"], [1])),
         ("no sheet named 'Data'", "['Sheet']"), {"sheet": "Data"}),
    Case("xlsx-sheet-index-out-of-range", _xlsx("s.xlsx", _rows(["id"], [1])),
         ("no sheet number 3",), {"sheet": 3}),
    Case("xlsx-zero-rows", _xlsx("s.xlsx", _rows(["id", "q1"])), ("no data rows",)),
    Case("xlsx-two-header-zero-rows",
         _xlsx("s.xlsx", _rows(["id", "Q1"], [None, "Response"])), ("no data rows",)),
    Case("xlsx-duplicate-names", _xlsx("s.xlsx", _rows(["id", "q1", "q2", "q1"], [1, 2, 3, 4])),
         ("duplicate column names", "'q1' at column B, column D")),
    Case("csv-zero-rows", _write("s.csv", b"id,q1\n"), ("s.csv", "no data rows")),
    Case("csv-only-blank-lines", _write("s.csv", b"\n\n\n"), ("no header and no data",)),
    Case("csv-duplicate-names", _write("s.csv", b"id,q1,q2,q1\n1,2,3,4\n"),
         ("duplicate column names", "'q1' at column 2, column 4", "rename")),
    Case("csv-ragged-row", _write("s.csv", b"id,q1\n1,2\n3,4,5\n"),
         ("more fields than the header", "line 3")),
    Case("csv-not-utf8-as-declared", _write("s.csv", CP1252),
         ("cannot be decoded as utf-8 (was given)", "0xe9", "byte offset 13", "line 2",
          "encoding='cp1252'"), {"encoding": "utf-8"}),
    Case("csv-undecodable-detected", _write("s.csv", b"id,q1\n1,\x81\x8d\n"),
         ("cannot be decoded as cp1252 (was detected)", "line 2", "Pass another encoding")),
    Case("csv-unknown-encoding", _write("s.csv", b"id\n1\n"),
         ("'klingon' is not a known encoding",), {"encoding": "klingon"}),
    Case("csv-binary", _write("s.csv", b"id,q1\n\x00\x01\x02" + b"\x00" * 200),
         ("NUL bytes",)),
    Case("sheet-on-csv", _write("s.csv", b"id\n1\n"), ("sheet= is only for .xlsx",),
         {"sheet": 0}),
    Case("bad-header-rows", _write("s.csv", b"id\n1\n"), ("header_rows= must be 1, 2",),
         {"header_rows": 4}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_raises_clear_ingest_error(case: Case, tmp_path: Path) -> None:
    if case.peer and not PEER.is_dir():
        pytest.skip("peer data folder not present")
    path = case.make(tmp_path)
    with pytest.raises(IngestError) as info:
        read_survey(path, **case.kwargs)
    message = str(info.value)
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert message.startswith(path.name) or message.startswith(str(path))
    assert "Traceback" not in message


@needs_peer
def test_every_error_message_says_what_to_do(tmp_path: Path) -> None:
    """Spot check: messages end with advice, not only a library's words."""
    verbs = ("export", "save", "rename", "pass", "check", "fix", "upload", "remove", "use",
             "leave", "raise", "open", "re-", "download", "state", "choose", "give")
    for case in CASES:
        case_dir = tmp_path / case.name
        case_dir.mkdir()
        try:
            read_survey(case.make(case_dir), **case.kwargs)
        except IngestError as exc:
            assert any(v in str(exc).lower() for v in verbs), (case.name, str(exc))
