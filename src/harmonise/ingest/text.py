"""CSV exports: encoding and delimiter detection, everything read as text first.

Encoding: a byte-order mark decides (UTF-8 -> ``utf-8-sig``, UTF-16); otherwise strict
UTF-8; otherwise Windows-1252 (Excel's "CSV" on UK Windows). ``encoding=`` overrides
detection, and a byte it cannot decode is an error naming the offset and line.

Delimiter: ``csv.Sniffer`` over the first 64 KiB among ``, ; TAB |``, checked against how
consistently each candidate splits the sample; Excel's ``sep=;`` first line is honoured.

Values: every cell is read as text (``"NA"``, ``"None"`` and ``"0012"`` survive); a
column becomes numeric only when every non-blank cell is a plain number (no leading zeros,
thousands separators, ``+`` signs or more than 15 digits, so codes and ids keep their
text). Blank cells are NaN; nothing else is. Every record must have as many fields as the
header: a shorter or longer one is an error naming its row and line (never padded or cut),
and a quoted field still open at the end of the file (which would swallow every later
line into one cell) is an error naming its row, line and field.
The header rows, platform columns and option groups follow the layout of the platform that
wrote the file (:mod:`harmonise.ingest.platforms`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace as dc_replace
from pathlib import Path

import pandas as pd

from harmonise.errors import IngestError
from harmonise.ingest.common import (
    ColumnHeader,
    RawTable,
    ReadOptions,
    check_has_rows,
    check_unique_names,
)
from harmonise.ingest.platforms import apply_layout, plan_headers
from harmonise.models.survey import VariableInfo

DELIMITERS = (",", ";", "\t", "|")
SNIFF_CHARS = 64 * 1024
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_NUMBER = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$|^-?0?\.\d+$")
_LINE_END = re.compile(r"\r\n|\r|\n")
_SEP_LINE = re.compile(r"^sep=(.)\r?\n")


def _position(content: bytes, offset: int) -> str:
    line = content.count(b"\n", 0, offset) + 1
    column = offset - (content.rfind(b"\n", 0, offset) + 1) + 1
    return f"byte offset {offset} (line {line}, column {column})"


def _decode_error(file: str, content: bytes, encoding: str, exc: UnicodeDecodeError,
                  detected: bool) -> IngestError:
    bad = content[exc.start:exc.end].hex(" ")
    how = "was detected" if detected else "was given"
    other = "encoding='utf-8'" if encoding.replace("-", "").lower() != "utf8" else (
        "encoding='cp1252' (Windows/Excel 'CSV')")
    return IngestError(
        f"{file}: cannot be decoded as {encoding} ({how}): byte(s) 0x{bad} at "
        f"{_position(content, exc.start)} are not valid {encoding}. Pass another encoding, "
        f"e.g. {other} or encoding='latin-1', or re-save the file from Excel as "
        "'CSV UTF-8 (Comma delimited)'."
    )


def decode(file: str, content: bytes, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding used (BOM, else strict UTF-8, else cp1252)."""
    if encoding is not None:
        try:
            text = content.decode(encoding)
        except LookupError:
            raise IngestError(
                f"{file}: encoding {encoding!r} is not a known encoding; use a Python codec "
                "name such as 'utf-8', 'utf-8-sig', 'cp1252' or 'latin-1'."
            ) from None
        except UnicodeDecodeError as exc:
            raise _decode_error(file, content, encoding, exc, detected=False) from None
        return text.removeprefix("\ufeff"), encoding
    if content.startswith(b"\xef\xbb\xbf"):
        chosen = "utf-8-sig"
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        chosen = "utf-16"
    else:
        try:
            return content.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            chosen = "cp1252"
    try:
        return content.decode(chosen).removeprefix("\ufeff"), chosen
    except UnicodeDecodeError as exc:
        raise _decode_error(file, content, chosen, exc, detected=True) from None


def _consistency(sample: str, delimiter: str) -> tuple[float, int]:
    """(share of rows as wide as the header, header width) when split on ``delimiter``."""
    lines = sample if sample.endswith("\n") or "\n" not in sample else (
        sample[: sample.rfind("\n") + 1])
    try:
        rows = [r for r in csv.reader(io.StringIO(lines), delimiter=delimiter) if r]
    except csv.Error:
        return 0.0, 0
    if not rows:
        return 0.0, 0
    width = len(rows[0])
    return sum(1 for r in rows if len(r) == width) / len(rows), width


def sniff_delimiter(text: str) -> str:
    """The delimiter of ``text`` among ``, ; TAB |`` (comma for a one-column file)."""
    sample = text[:SNIFF_CHARS]
    scores = {d: _consistency(sample, d) for d in DELIMITERS}
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    best = max(DELIMITERS, key=lambda d: (scores[d][1] > 1, scores[d][0], scores[d][1]))
    if sniffed in scores and scores[sniffed][1] > 1 and scores[sniffed][0] >= scores[best][0]:
        return sniffed
    return best if scores[best][1] > 1 else ","


def _is_number(text: str) -> bool:
    t = text.strip()
    return bool(_NUMBER.match(t)) and sum(ch.isdigit() for ch in t.split("e")[0].split("E")[0]
                                          ) <= 15


def typed_column(cells: pd.Series) -> pd.Series:
    """Text cells -> numbers when every non-blank cell is a number, else text; blank -> NaN.
    A column with no value at all is numeric (all NaN), as an empty Excel column is."""
    blank = cells == ""
    filled = cells[~blank]
    if not len(filled):
        return pd.Series(float("nan"), index=cells.index, dtype="float64")  # as Excel's
    if all(_is_number(v) for v in filled.unique()):
        return pd.to_numeric(cells.mask(blank).str.strip())
    return cells.mask(blank).astype("str")


def _parse(file: str, text: str, delimiter: str) -> list[list[str]]:
    """Every record of ``text``; a record with another number of fields than the header is
    an error naming its row and line (never its values)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=False)
    rows: list[list[str]] = []
    width: int | None = None
    line = 1
    total = sum(1 for _ in _LINE_END.finditer(text)) + (not text.endswith(("\n", "\r")))
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not record or record == [""]:
                continue  # a blank line
            if _open_at_end(text, start, delimiter, reader.line_num, total):
                raise _unclosed(file, len(rows) + 1, start, len(record),
                                reader.line_num - start + 1)
            if width is None:
                width = len(record)
            elif len(record) != width:
                raise _ragged(file, delimiter, len(rows) + 1, start, len(record), width)
            rows.append(record)
    except csv.Error as exc:
        raise IngestError(
            f"{file}: cannot be split into fields on {_NAMES[delimiter]}s near line {line} "
            f"({exc}). A quote is probably not closed or a field is far too long: fix the "
            "export (quote text fields, close every quote) and upload again."
        ) from None
    if not rows:
        raise IngestError(
            f"{file}: holds no header and no data (only blank lines). Export the survey "
            "responses again."
        )
    return rows


def _open_at_end(text: str, start: int, delimiter: str, line_num: int, total: int) -> bool:
    """Whether the record starting on line ``start`` ran to the end of ``text`` inside a
    quoted field (the lenient reader closes it silently, swallowing every later line).
    Only the last record can; it is re-read strictly, which says "unexpected end of data"."""
    if line_num < total:
        return False  # lines are left after this record: it is not the last
    lines = io.StringIO(text, newline="").readlines()
    rest = "".join(lines[start - 1:])
    if '"' not in rest:
        return False
    try:
        for _ in csv.reader(io.StringIO(rest, newline=""), delimiter=delimiter, quotechar='"',
                            doublequote=True, strict=True):
            pass
    except csv.Error as exc:
        return "end of data" in str(exc)
    return False


def _unclosed(file: str, row: int, line: int, field: int, lines: int) -> IngestError:
    return IngestError(
        f"{file}: row {row} (line {line}), field {field}: a quoted field is opened but never "
        f"closed, so the {lines} line(s) from there to the end of the file would be read as "
        "that one cell and the rows in them lost. Close the quote in the export (quotes in a "
        'quoted field are written twice, "") or export the responses again, and upload the '
        "new file."
    )


def _ragged(file: str, delimiter: str, row: int, line: int, n: int, width: int) -> IngestError:
    if n < width:
        why = ("it is cut short (an interrupted export, or a line break typed into an "
               "unquoted answer)")
    else:
        why = (f"an answer probably holds an unquoted {_NAMES[delimiter]}, or the delimiter "
               "is wrong")
    return IngestError(
        f"{file}: row {row} (line {line}) has {n} fields, {'fewer' if n < width else 'more'} "
        f"fields than the header ({width}): {why}. "
        "Nothing is padded or cut: fix that row in the export (quote text fields) or export "
        "the responses again, and upload the new file."
    )


def read_csv(path: Path, content: bytes, options: ReadOptions) -> RawTable:
    """Read a CSV export: see the module docstring."""
    file = path.name
    if b"\x00" in content[:4096] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(
            f"{file}: contains NUL bytes, so it is not a text file. If it came from SPSS, "
            "Stata or Excel, give it that extension (.sav, .dta, .xlsx) instead of .csv."
        )
    text, encoding = decode(file, content, options.encoding)
    m = _SEP_LINE.match(text)
    if m:
        delimiter, text = m.group(1), text[m.end():]
    else:
        delimiter = sniff_delimiter(text)
    records = [r for r in _parse(file, text, delimiter) if any(c != "" for c in r)]
    if not records:
        raise IngestError(f"{file}: holds no header and no data. Export the responses again.")
    width = len(records[0])
    plan = plan_headers(records[:4], width, options.header_rows)
    grid = pd.DataFrame(records[plan.skip:], columns=range(width), dtype=str) if len(
        records) > plan.skip else pd.DataFrame({j: pd.Series([], dtype=str) for j in range(width)})
    body = grid.reset_index(drop=True)
    # a trailing delimiter on every line makes a column with no header and no values
    columns = [(j, h) for j, h in enumerate(plan.headers)
               if h.label is not None or not bool((body[j] == "").all())]
    headers = [h for _, h in columns]
    check_unique_names(file, [h.name for h in headers], lambda i: f"column {columns[i][0] + 1}",
                       header_rows=plan.layout.header_rows,
                       next_row=[records[1][j] for j, _ in columns] if len(records) > 1 else None)
    data = pd.DataFrame({h.name: typed_column(body[j]) for j, h in columns},
                        index=pd.RangeIndex(len(body)))
    check_has_rows(file, data)
    variables = {h.name: _info(h, data[h.name]) for h in headers}
    applied = apply_layout(dc_replace(plan, headers=headers), data, variables)
    layout = f"{plan.layout.header_rows} header row{'s' if plan.layout.header_rows > 1 else ''}"
    return RawTable(
        data=applied.data,
        variables=applied.variables,
        format="csv",
        reader=f"csv reader (sep={delimiter!r}, {layout}, all cells read as text, numeric "
               "where every non-blank cell is a number)",
        encoding=encoding,
        multi_select=applied.groups,
        group_hows=applied.how,
        platform=plan.layout.platform or None,
        forced=applied.forced,
        header_rows=plan.layout.header_rows,
        notes=applied.notes,
    )


def _info(h: ColumnHeader, column: pd.Series) -> VariableInfo:
    return VariableInfo(name=h.name, dtype=str(column.dtype), label=h.label,
                        question=h.question, option=h.option)
