"""Excel ``.xlsx`` exports, read with openpyxl in read-only mode (cached values of formulas).

The first worksheet is read unless ``sheet=`` names one (by name, or 0-based index). Header
rows are detected as for CSV (:func:`harmonise.ingest.common.detect_header_rows`): one row,
two (SurveyMonkey: question text, then "Response" / "Open-Ended Response" / option text) or
three (Qualtrics). Cells keep their Excel type: text stays text, numbers stay numbers,
TRUE/FALSE stay booleans, dates stay dates; blank cells are NaN. Rows that are blank in
every column (formatting left below the data) are not respondents and are skipped.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from harmonise.errors import IngestError
from harmonise.ingest.common import (
    RawTable,
    ReadOptions,
    build_headers,
    check_has_rows,
    check_unique_names,
    detect_header_rows,
    question_groups,
)
from harmonise.models.survey import VariableInfo

_REEXPORT = "Open it in Excel and save it again as .xlsx (Excel Workbook), or export it again."
#: a workbook may expand to at most this much, and past 64 MiB at most this ratio: a zip
#: bomb (a few KiB that inflate to gigabytes) is refused before anything is decompressed
MAX_EXPANDED = 1 << 30
MAX_RATIO = 200


def _first_broken_member(zf: zipfile.ZipFile) -> str | None:
    """The first part that fails to decompress or fails its checksum, else None."""
    for info in zf.infolist():
        try:
            with zf.open(info) as fh:
                while fh.read(1 << 20):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError):
            return info.filename
    return None


def _check_expansion(file: str, zf: zipfile.ZipFile, packed: int) -> None:
    """Refuse a zip whose parts declare more than MAX_EXPANDED bytes in all, or, past
    64 MiB, more than MAX_RATIO times the file (zipfile never inflates a part past its
    declared size, so the declared sizes bound the work)."""
    expanded = sum(info.file_size for info in zf.infolist())
    if expanded > MAX_EXPANDED or (expanded > 64 << 20 and expanded > MAX_RATIO * packed):
        raise IngestError(
            f"{file}: would expand from {packed:,} bytes to {expanded:,} bytes when opened "
            "(a 'zip bomb', or a workbook far too large to be a survey export); it was not "
            "opened. Export only the survey responses as .xlsx or .csv."
        )


def _check_container(file: str, content: bytes) -> None:
    """A readable zip holding an Excel workbook (not a Word file or an OpenDocument sheet)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            names = set(zf.namelist())
            _check_expansion(file, zf, len(content))
            broken = _first_broken_member(zf)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error,
            NotImplementedError) as exc:
        raise IngestError(
            f"{file}: is not a readable .xlsx workbook: the zip container is damaged "
            f"({exc}). The file is probably truncated (an interrupted download or copy). "
            + _REEXPORT
        ) from None
    if broken is not None:
        raise IngestError(
            f"{file}: is corrupt: part {broken!r} of the workbook cannot be decompressed or "
            "fails its checksum (a damaged download or copy). "
            + _REEXPORT
        )
    if "xl/workbook.xml" not in names:
        what = ("an OpenDocument spreadsheet (.ods)" if "content.xml" in names else
                "a Word document" if "word/document.xml" in names else "a zip file")
        raise IngestError(
            f"{file}: is {what}, not an Excel workbook (it has no xl/workbook.xml). "
            "Open it in its program and save it as .xlsx (Excel Workbook)."
        )


def _select_sheet(file: str, wb: Any, sheet: str | int | None) -> Any:
    worksheets = list(wb.worksheets)
    names = [ws.title for ws in worksheets]
    if not worksheets:
        raise IngestError(
            f"{file}: has no worksheet with data (only chart sheets: {wb.sheetnames}). Export "
            "the responses as a data sheet."
        )
    if sheet is None:
        return worksheets[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(worksheets):
            return worksheets[sheet]
        raise IngestError(
            f"{file}: has no sheet number {sheet}; sheet numbers start at 0 and there are "
            f"{len(worksheets)} worksheet(s): {names}. Pass sheet= one of them."
        )
    if sheet in names:
        return worksheets[names.index(sheet)]
    raise IngestError(
        f"{file}: has no sheet named {sheet!r}; its worksheets are {names}. Pass sheet= one "
        "of these names (or its 0-based number)."
    )


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and cell == "")


def _grid(ws: Any) -> list[tuple[object, ...]]:
    ws.reset_dimensions()  # some writers store a wrong sheet size; read every row
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    return [r for r in rows if not all(_blank(c) for c in r)]


def column_from_cells(cells: Sequence[object]) -> pd.Series:
    """One column of cells as a Series that keeps their types; blank cells are NaN."""
    filled = [c for c in cells if not _blank(c)]
    values = [np.nan if _blank(c) else c for c in cells]
    if filled and all(isinstance(c, str) for c in filled):
        return pd.Series([None if _blank(c) else c for c in cells], dtype="str")
    if filled and all(isinstance(c, int | float) and not isinstance(c, bool) for c in filled):
        return pd.Series(values, dtype="float64" if any(_blank(c) for c in cells) or any(
            isinstance(c, float) for c in filled) else "int64")
    if filled and all(isinstance(c, dt.datetime) for c in filled):
        stamps = [c if isinstance(c, dt.datetime) else pd.NaT for c in cells]
        return pd.Series(stamps, dtype="datetime64[us]")
    if not filled:
        return pd.Series(values, dtype="float64")
    return pd.Series(values, dtype=object)


def read_xlsx(path: Path, content: bytes, options: ReadOptions) -> RawTable:
    """Read one worksheet of an ``.xlsx`` export: see the module docstring."""
    file = path.name
    _check_container(file, content)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not read; values are unaffected
            warnings.simplefilter("ignore", UserWarning)
            wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                ws = _select_sheet(file, wb, options.sheet)
                title = str(ws.title)
                rows = _grid(ws)
            finally:
                wb.close()
    except IngestError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged XML inside the zip
        raise IngestError(
            f"{file}: could not be read as an Excel workbook ({type(exc).__name__}: {exc}). "
            "It may be damaged or use features openpyxl cannot read. " + _REEXPORT
        ) from None
    if not rows:
        raise IngestError(
            f"{file}: sheet {title!r} is empty. Pass sheet= the sheet that holds the "
            "responses (by name or 0-based number), or export the responses again."
        )
    width = max(max((j + 1 for j, c in enumerate(r) if not _blank(c)), default=0) for r in rows)
    n_header = options.header_rows or detect_header_rows(rows, width)
    headers = build_headers(rows, width, n_header)
    check_unique_names(file, [h.name for h in headers],
                       lambda i: f"column {get_column_letter(i + 1)}")
    body = [tuple(r) + (None,) * (width - len(r)) for r in rows[n_header:]]
    data = pd.DataFrame({h.name: column_from_cells([r[j] for r in body])
                         for j, h in enumerate(headers)}, index=pd.RangeIndex(len(body)))
    check_has_rows(file, data)
    variables = {
        h.name: VariableInfo(name=h.name, dtype=str(data[h.name].dtype), label=h.label,
                             question=h.question, option=h.option)
        for h in headers
    }
    layout = {1: "1 header row", 2: "2 header rows", 3: "3 header rows (Qualtrics)"}[n_header]
    return RawTable(
        data=data,
        variables=variables,
        format="xlsx",
        reader=f"openpyxl {openpyxl.__version__} read-only (sheet {title!r}, {layout})",
        encoding=None,
        multi_select=question_groups(headers, data) if n_header == 2 else {},
    )
