"""Excel ``.xlsx`` exports, read with openpyxl in read-only mode (cached values of formulas).

The first worksheet is read unless ``sheet=`` names one (by name, or 0-based index); the
other sheets are named in the codebook notes (a KoboToolbox repeat group with why it is not
read). The layout (header rows, platform columns, option groups) is the platform's, as for
CSV (:mod:`harmonise.ingest.platforms`). A zip bomb is refused from the sizes its headers
state, before anything is decompressed, and a workbook missing a worksheet part it lists is
refused. Cells keep their Excel type: text stays text, numbers stay numbers,
TRUE/FALSE stay booleans, dates stay dates; blank cells are NaN. Rows that are blank in
every column (formatting left below the data) are not respondents and are skipped.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harmonise.errors import IngestError
from harmonise.ingest.common import (
    RawTable,
    ReadOptions,
    check_has_rows,
    check_unique_names,
)
from harmonise.ingest.platforms import apply_layout, plan_headers
from harmonise.models.survey import VariableInfo
from harmonise.privacy import cap

_REEXPORT = "Open it in Excel and save it again as .xlsx (Excel Workbook), or export it again."


MAX_EXPANDED_BYTES = 256 * 1024 * 1024
"""The most a workbook's parts may expand to, together, as their zip headers state it."""
MAX_RATIO = 200
"""The most one part larger than 8 MiB may expand relative to its compressed size."""
MAX_SHARED_STRINGS = 64 * 1024 * 1024
"""The most the shared-strings part (read whole into memory by openpyxl) may expand to."""
MAX_CELLS = 20_000_000
"""The most cells (rows × columns) read from one worksheet."""
_CHUNK = 1 << 20


def _check_sizes(file: str, zf: zipfile.ZipFile) -> None:
    """Refuse a zip bomb from the sizes its headers state, before decompressing anything."""
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    worst = max(infos, key=lambda i: i.file_size / max(i.compress_size, 1), default=None)
    advice = "Export only the survey responses as .xlsx or .csv."
    if total > MAX_EXPANDED_BYTES:
        raise IngestError(
            f"{file}: would expand to {total:,} bytes when opened, over the limit of "
            f"{MAX_EXPANDED_BYTES:,} bytes for a workbook (a 'zip bomb', a damaged file, or far "
            f"more than survey responses); it was not opened. {advice}"
        )
    shared = next((i for i in infos if i.filename == "xl/sharedStrings.xml"), None)
    if shared is not None and shared.file_size > MAX_SHARED_STRINGS:
        raise IngestError(
            f"{file}: its shared text part would expand to {shared.file_size:,} bytes, over "
            f"the limit of {MAX_SHARED_STRINGS:,} (it is read whole into memory: a 'zip "
            f"bomb', or far more text than survey responses); it was not opened. {advice}"
        )
    if worst is not None and worst.file_size > 8 * _CHUNK and (
            worst.file_size / max(worst.compress_size, 1) > MAX_RATIO):
        raise IngestError(
            f"{file}: part {cap(worst.filename)!r} would expand from "
            f"{worst.compress_size:,} to {worst.file_size:,} bytes (more than {MAX_RATIO} "
            f"times: a 'zip bomb' or a damaged file); it was not opened. {advice}"
        )


def _first_broken_member(zf: zipfile.ZipFile) -> str | None:
    """The first part that fails to decompress or fails its checksum, else None. zipfile
    never yields more than a part's stated size, which :func:`_check_sizes` has bounded."""
    for info in zf.infolist():
        try:
            with zf.open(info) as fh:
                while fh.read(_CHUNK):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError):
            return info.filename
    return None


_SHEET_REL = re.compile(rb'<Relationship\b[^>]*>', re.IGNORECASE)
_ATTR = re.compile(rb'(\w+)="([^"]*)"')


def _missing_sheet_parts(zf: zipfile.ZipFile, names: set[str]) -> list[str]:
    """Worksheet parts the workbook's relationships name but the zip does not hold."""
    try:
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return []  # no relationships: openpyxl says the workbook cannot be read
    missing = []
    for tag in _SHEET_REL.findall(rels):
        attrs = {k.decode().casefold(): v.decode() for k, v in _ATTR.findall(tag)}
        if not attrs.get("type", "").endswith("/worksheet") or attrs.get(
                "targetmode", "").casefold() == "external":
            continue
        target = attrs.get("target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        if part not in names:
            missing.append(part)
    return missing


def _check_container(file: str, content: bytes) -> None:
    """A readable zip holding an Excel workbook (not a Word file or an OpenDocument sheet),
    whose parts are all there and expand to a sane size."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            names = set(zf.namelist())
            _check_sizes(file, zf)
            broken = _first_broken_member(zf)
            missing = _missing_sheet_parts(zf, names) if "xl/workbook.xml" in names else []
    except IngestError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error,
            NotImplementedError) as exc:
        raise IngestError(
            f"{file}: is not a readable .xlsx workbook: the zip container is damaged "
            f"({cap(exc)}). The file is probably truncated (an interrupted download or copy). "
            + _REEXPORT
        ) from None
    if broken is not None:
        raise IngestError(
            f"{file}: is corrupt: part {cap(broken)!r} of the workbook cannot be decompressed or "
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
    if missing:
        raise IngestError(
            f"{file}: is incomplete: the workbook lists worksheet part(s) "
            f"{[cap(m) for m in missing[:5]]} that the file does not hold (a damaged or "
            "hand-edited file), so no sheet can be trusted to be the one meant. " + _REEXPORT
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


def _grid(file: str, ws: Any) -> list[tuple[object, ...]]:
    ws.reset_dimensions()  # some writers store a wrong sheet size; read every row
    rows: list[tuple[object, ...]] = []
    cells = 0
    for r in ws.iter_rows(values_only=True):
        cells += len(r) or 1
        if cells > MAX_CELLS:
            raise IngestError(
                f"{file}: sheet {cap(ws.title)!r} holds more than {MAX_CELLS:,} cells (with "
                "blank rows and columns), far more than survey responses. Delete the unused "
                "rows and columns, or export only the responses, and upload again."
            )
        if not all(_blank(c) for c in r):
            rows.append(tuple(r))
    return rows


def _other_sheets(wb: Any, chosen: Any) -> list[str]:
    """Notes for worksheets not read: a repeat group (``_parent_index``) says why."""
    notes = []
    for ws in wb.worksheets:
        if ws is chosen:
            continue
        first = next(ws.iter_rows(max_row=1, values_only=True), ())
        names = {str(c).strip().casefold() for c in first if c is not None}
        if "_parent_index" in names:
            notes.append(
                f"sheet {cap(ws.title)!r} not read: it is a repeat group (one row per repeat, "
                "linked to a respondent by _parent_index); harmonise reads one row per "
                "respondent. Summarise it per respondent (e.g. a count) in a column of the "
                "main sheet if it is needed")
        else:
            notes.append(f"sheet {cap(ws.title)!r} not read (pass --sheet to read it instead)")
    return notes


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
    import openpyxl  # here, not at import: reading a CSV should not load it
    from openpyxl.utils import get_column_letter

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
                rows = _grid(file, ws)
                sheet_notes = _other_sheets(wb, ws)
            finally:
                wb.close()
    except IngestError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged XML inside the zip
        raise IngestError(
            f"{file}: could not be read as an Excel workbook ({type(exc).__name__}: "
            f"{cap(exc)}). "
            "It may be damaged or use features openpyxl cannot read. " + _REEXPORT
        ) from None
    if not rows:
        raise IngestError(
            f"{file}: sheet {title!r} is empty. Pass sheet= the sheet that holds the "
            "responses (by name or 0-based number), or export the responses again."
        )
    width = max(max((j + 1 for j, c in enumerate(r) if not _blank(c)), default=0) for r in rows)
    plan = plan_headers(rows[:4], width, options.header_rows)
    headers = plan.headers
    check_unique_names(file, [h.name for h in headers],
                       lambda i: f"column {get_column_letter(i + 1)}",
                       header_rows=plan.layout.header_rows,
                       next_row=rows[1] if len(rows) > 1 else None)
    body = [tuple(r) + (None,) * (width - len(r)) for r in rows[plan.skip:]]
    data = pd.DataFrame({h.name: column_from_cells([r[j] for r in body])
                         for j, h in enumerate(headers)}, index=pd.RangeIndex(len(body)))
    check_has_rows(file, data)
    variables = {
        h.name: VariableInfo(name=h.name, dtype=str(data[h.name].dtype), label=h.label,
                             question=h.question, option=h.option)
        for h in headers
    }
    applied = apply_layout(plan, data, variables)
    n = plan.layout.header_rows
    return RawTable(
        data=applied.data,
        variables=applied.variables,
        format="xlsx",
        reader=f"openpyxl {openpyxl.__version__} read-only (sheet {cap(title)!r}, {n} header "
               f"row{'s' if n > 1 else ''})",
        encoding=None,
        multi_select=applied.groups,
        group_hows=applied.how,
        platform=plan.layout.platform or None,
        forced=applied.forced,
        header_rows=plan.layout.header_rows,
        notes=applied.notes + tuple(sheet_notes),
    )
