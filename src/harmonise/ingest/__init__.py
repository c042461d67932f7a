"""Ingest: read one survey export into a :class:`~harmonise.models.survey.SurveyFile`.

    read_survey(path) -> SurveyFile      the one entry point
    READERS[".sav"] -> Reader            one reader per extension, registered like a plug-in
    detect_format(head) -> ".sav" | …     what the first bytes say the file is

Order of work: the file is checked (exists, not empty, not over ``max_bytes``, a supported
extension whose magic bytes agree), its bytes are read once and hashed, the reader for
its extension turns them into data and codebook (for CSV and Excel, in the layout of the
survey platform that wrote it: :mod:`harmonise.ingest.platforms`, which also names the
platform's own id, metadata and identifying columns), then identifying columns are detected
(:mod:`harmonise.privacy`) and dropped from the data and the codebook unless
``keep`` states why one is needed (or ``postcode_district`` asks for a postcode's district
only). Then, for CSV and Excel, text dates are read in one day/month order for the file
(:mod:`harmonise.ingest.dates`) and multi-select answers held in one cell are split into
one column per option (:mod:`harmonise.ingest.multiselect`). Values are the file's own:
codes stay codes, user-missing codes stay codes, only blank cells are NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import replace
from pathlib import Path

import pandas as pd

from harmonise.errors import IngestError
from harmonise.ingest.common import RawTable, Reader, ReadOptions, make_provenance
from harmonise.ingest.dates import apply_dates
from harmonise.ingest.excel import read_xlsx
from harmonise.ingest.multiselect import OTHER, apply_splits, typed_other
from harmonise.ingest.spss import read_por, read_sav
from harmonise.ingest.stata import read_dta
from harmonise.ingest.text import read_csv
from harmonise.models.survey import Codebook, FlaggedColumn, MultiSelectGroup, SurveyFile
from harmonise.privacy import (
    HEADER_VALUE_REASON,
    describe,
    detect_identifying,
    header_value_kind,
    screen,
)

READERS: dict[str, Reader] = {
    ".sav": read_sav,
    ".zsav": read_sav,
    ".por": read_por,
    ".dta": read_dta,
    ".csv": read_csv,
    ".xlsx": read_xlsx,
}
"""Extension (lower case, with the dot) -> reader. Add a format by registering a reader."""

DEFAULT_MAX_BYTES = 200 * 1024 * 1024

DESCRIPTIONS: dict[str, str] = {
    ".sav": "an SPSS file",
    ".zsav": "a compressed SPSS file",
    ".por": "an SPSS portable file",
    ".dta": "a Stata file",
    ".xlsx": "an Excel workbook (or another zip file)",
    ".csv": "a text (CSV) file",
    "ole2": "a Microsoft Office compound file (a password-protected .xlsx or an old .xls)",
    "html": "a web page (HTML)",
    "pdf": "a PDF document",
    "gzip": "a gzip-compressed file",
}
"""What :func:`detect_format` results mean, for messages."""

_SAME_FAMILY = {".sav": {".sav", ".zsav"}, ".zsav": {".sav", ".zsav"}}
_HEAD = 4096
_HINTS = {
    ".xls": "Open it in Excel and save it as .xlsx (Excel Workbook).",
    ".ods": "Save it as .xlsx (Excel Workbook) from LibreOffice.",
    ".tsv": "Rename it to .csv: tab-separated text is read by the CSV reader.",
    ".txt": "If it is delimited text, rename it to .csv.",
}


def _is_old_dta(head: bytes) -> bool:
    """Stata 7-13 (formats 104-115): version byte, byte order 1|2, file type 1, padding 0."""
    return (len(head) >= 4 and 104 <= head[0] <= 115 and head[1] in (1, 2) and head[2] == 1
            and head[3] == 0)


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    return controls <= len(head) // 100


def detect_format(source: bytes | Path) -> str | None:
    """What the first bytes of a file (or the bytes given) say it is.

    Returns an extension (``".sav"``, ``".zsav"``, ``".por"``, ``".dta"``, ``".xlsx"`` for
    any zip, ``".csv"`` for text), ``"ole2"`` (password-protected .xlsx or old .xls),
    ``"html"``, ``"pdf"``, ``"gzip"``, or None when nothing is recognised.
    """
    if isinstance(source, Path):
        with source.open("rb") as fh:
            head = fh.read(_HEAD)
    else:
        head = source[:_HEAD]
    if head.startswith(b"$FL2"):
        return ".sav"
    if head.startswith(b"$FL3"):
        return ".zsav"
    if b"SPSSPORT" in head[:1024]:
        return ".por"
    if head.startswith(b"<stata_dta>") or _is_old_dta(head):
        return ".dta"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ".xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole2"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    if head and _looks_like_text(head):
        return ".csv"
    return None


def _supported() -> str:
    return ", ".join(sorted(READERS))


def _check_file(path: Path, max_bytes: int) -> int:
    if not path.exists():
        raise IngestError(f"{path}: file not found. Check the path and the file name.")
    if not path.is_file():
        raise IngestError(f"{path}: is not a file (a folder?). Pass the path of one export.")
    size = path.stat().st_size
    if size == 0:
        raise IngestError(
            f"{path.name}: is empty (0 bytes). The export or upload did not finish: export "
            "the survey again and upload the new file."
        )
    if size > max_bytes:
        raise IngestError(
            f"{path.name}: is {size:,} bytes, over the limit of {max_bytes:,} bytes"
            + (f" ({max_bytes / 1024 / 1024:.0f} MiB)" if max_bytes >= 1024 * 1024 else "")
            + ". If the file is right, raise the limit (read_survey(..., max_bytes=<bytes>), "
            "or --max-bytes on the command line); otherwise export only the survey responses."
        )
    return size


def _check_magic(file: str, ext: str, content: bytes) -> None:
    found = detect_format(content)
    expected = _SAME_FAMILY.get(ext, {ext})
    if found in expected or (ext == ".csv" and found is None):
        return  # binary bytes in a .csv: the CSV reader says what it found
    if ext == ".xlsx" and found == "ole2":
        encrypted = "EncryptionInfo".encode("utf-16-le") in content
        raise IngestError(
            f"{file}: is "
            + ("a password-protected (encrypted) Excel workbook" if encrypted else
               "an encrypted workbook or an old-format .xls file renamed .xlsx")
            + ", which cannot be read. Open it in Excel and save it without a password "
            "(File > Info > Protect Workbook > Encrypt with Password: clear it) as .xlsx "
            "(Excel Workbook), then upload that copy."
        )
    if found in READERS:
        raise IngestError(
            f"{file}: has the extension {ext} but looks like {DESCRIPTIONS[found]} (from its "
            f"first bytes); rename it to {found} and upload it again."
        )
    if found is not None:
        raise IngestError(
            f"{file}: has the extension {ext} but is {DESCRIPTIONS[found]}, not "
            f"{DESCRIPTIONS[ext]}. Download or export the survey data again in one of the "
            f"supported formats ({_supported()})."
        )
    raise IngestError(
        f"{file}: does not start like {DESCRIPTIONS[ext]}; its first bytes match no supported "
        f"format. It may be corrupt or truncated: export it again ({_supported()})."
    )


def _check_options(file: str, ext: str, options: ReadOptions) -> None:
    problems = []
    if options.sheet is not None and ext != ".xlsx":
        problems.append("sheet= is only for .xlsx files")
    if options.header_rows is not None:
        if ext not in (".csv", ".xlsx"):
            problems.append("header_rows= is only for .csv and .xlsx files")
        elif options.header_rows not in (1, 2, 3):
            problems.append(f"header_rows= must be 1, 2 (SurveyMonkey) or 3 (Qualtrics), got "
                            f"{options.header_rows!r}")
    if options.encoding is not None and ext == ".xlsx":
        problems.append("encoding= does not apply to .xlsx files (their text is Unicode)")
    if problems:
        raise IngestError(f"{file}: " + "; ".join(problems) + ". Remove or fix the option.")


def read_survey(
    path: Path,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_rows: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    keep: Mapping[str, str] | None = None,
    postcode_district: Mapping[str, str] | None = None,
) -> SurveyFile:
    """Read one export faithfully, with identifying columns already removed.

    ``encoding`` overrides detection (CSV; also passed to pyreadstat for .sav/.zsav/.dta).
    ``sheet`` picks an .xlsx worksheet by name or 0-based number (default: the first).
    ``header_rows`` (1, 2 or 3; CSV and .xlsx) overrides header-row detection.
    ``keep`` maps a flagged column to the reason it is needed; it stays in the data and its
    flag's reason starts ``"kept: "``. ``postcode_district`` maps a postcode column to the
    reason its district (``LU1 1AA`` -> ``LU1``) is needed; only the district is kept.
    Raises :class:`IngestError` on anything unreadable.
    """
    path = Path(path)
    ext = path.suffix.lower()
    _check_file(path, max_bytes)
    reader = READERS.get(ext)
    if reader is None:
        hint = _HINTS.get(ext, "Export it again in one of these formats.")
        raise IngestError(
            f"{path.name}: unsupported file type {ext or '(no extension)'!r}; supported: "
            f"{_supported()}. {hint}"
        )
    options = ReadOptions(encoding=encoding, sheet=sheet, header_rows=header_rows)
    _check_options(path.name, ext, options)
    content = path.read_bytes()
    _check_magic(path.name, ext, content)
    raw = reader(path, content, options)
    return _assemble(path, content, raw, keep, postcode_district)


def _assemble(path: Path, content: bytes, raw: RawTable, keep: Mapping[str, str] | None,
              postcode_district: Mapping[str, str] | None) -> SurveyFile:
    raw, header_flags = _screen_headers(path.name, raw)
    screened = screen(path.name, raw.data, raw.variables, keep, postcode_district,
                      forced=raw.forced)
    screened = replace(screened, flagged=header_flags + screened.flagged)
    gone = set(screened.dropped)
    data = raw.data.drop(columns=list(screened.dropped))
    for col, reduced in screened.replaced.items():
        data[col] = reduced
    variables = {k: v for k, v in raw.variables.items() if k not in gone}
    for col in screened.replaced:
        variables[col] = replace(variables[col], dtype=str(data[col].dtype), value_labels={})
    groups: dict[str, MultiSelectGroup] = {}
    for group, members in raw.multi_select.items():
        left = tuple(m for m in members if m not in gone)
        if left:
            first = variables[left[0]]
            groups[group] = MultiSelectGroup(name=group, members=left,
                                             how=raw.group_hows.get(group, raw.group_how),
                                             question=first.question or first.label,
                                             options=tuple(variables[m].option or m
                                                           for m in left))
    notes: tuple[str, ...] = raw.notes
    if raw.format in ("csv", "xlsx"):
        hidden = frozenset(f.name for f in screened.flagged) | frozenset(
            name for name, info in variables.items() if info.role is not None)
        data, variables, date_notes = apply_dates(path.name, data, variables, hidden)
        data, variables, split, split_notes = apply_splits(path.name, data, variables,
                                                           skip=hidden | set(groups_members(
                                                               groups)))
        groups.update(split)
        notes += date_notes + split_notes
        if raw.platform == "Google Forms":
            data, other_notes = _typed_other(data, hidden | set(groups_members(groups)))
            notes += other_notes
    codebook = Codebook(variables=variables,
                        multi_select={k: g.members for k, g in groups.items()},
                        groups=groups, notes=notes, platform=raw.platform)
    return SurveyFile(data=data, codebook=codebook,
                      provenance=make_provenance(path, content, raw, data),
                      flagged=screened.flagged)


_MAX_DATA_HEADERS = 1
"""More header cells than this holding what answers hold: a data row was read as a header."""


def _screen_headers(file: str, raw: RawTable) -> tuple[RawTable, tuple[FlaggedColumn, ...]]:
    """Columns whose header text (name, label, question or option) holds an identifying
    value or a timestamp (:func:`harmonise.privacy.header_value_kind`): a column whose
    name holds it is removed here under a placeholder name (its name is never shown); one
    whose label or question text holds it is flagged for the screen (dropped unless kept)
    and that text blanked. Several such columns, or one in a header row under the first
    (platforms put option texts there, never answers), mean a data row was read as a
    header: an error suggesting fewer header rows."""
    hits: list[tuple[int, str, str, bool]] = []  # (position, column, kind, in the name)
    below = False  # a hit in a header row under the first (an option text)
    for pos, col in enumerate(map(str, raw.data.columns), start=1):
        info = raw.variables.get(col)
        texts = [col] + ([t for t in (info.label, info.question, info.option) if t]
                         if info is not None else [])
        kinds = [header_value_kind(t) for t in texts]
        kind = next((k for k in kinds if k is not None), None)
        if kind is not None:
            hits.append((pos, col, kind, kinds[0] is not None))
            below = below or (info is not None and header_value_kind(info.option) is not None
                              and header_value_kind(info.question) is None)
    if not hits:
        return raw, ()
    if len(hits) > _MAX_DATA_HEADERS or (below and (raw.header_rows or 1) > 1):
        shown = ", ".join(f"{describe(k)} in column {pos}" for pos, _, k, _ in hits[:5])
        more = f" and {len(hits) - 5} more" if len(hits) > 5 else ""
        n = raw.header_rows or 1
        fix = (f"Read it with fewer header rows (--header-rows {n - 1}, or header_rows: "
               f"{n - 1} in the crosswalk's read: block), or without --header-rows to let "
               "the layout be detected." if n > 1 else
               "The file seems to have no row of questions: export it again with the column "
               "headings (question texts) in its first row.")
        raise IngestError(
            f"{file}: {len(hits)} header cell{'s' if len(hits) > 1 else ''} "
            f"hold{'' if len(hits) > 1 else 's'} what respondents' answers hold, not "
            f"question or option texts ({shown}{more}; values not shown): a data row was read as a "
            f"header ({n} header row{'s' if n > 1 else ''} read). {fix}"
        )
    flags: list[FlaggedColumn] = []
    drop: list[str] = []
    forced = dict(raw.forced)
    variables = dict(raw.variables)
    for pos, col, kind, in_name in hits:
        reason = f"{kind}: {HEADER_VALUE_REASON}"
        if in_name:
            drop.append(col)
            variables.pop(col, None)
            forced.pop(col, None)
            flags.append(FlaggedColumn(name=f"(column {pos}: header not shown, "
                                            f"{describe(kind)})", kind=kind, reason=reason))
        else:
            forced[col] = (kind, reason)
            info = variables[col]
            variables[col] = replace(
                info, label=None if header_value_kind(info.label) else info.label,
                question=None if header_value_kind(info.question) else info.question,
                option=None if header_value_kind(info.option) else info.option)
    if drop:
        gone = set(drop)
        multi = {g: tuple(m for m in ms if m not in gone) for g, ms in raw.multi_select.items()}
        raw = replace(raw, data=raw.data.drop(columns=drop), variables=variables,
                      forced=forced, multi_select={g: ms for g, ms in multi.items() if ms})
    else:
        raw = replace(raw, variables=variables, forced=forced)
    return raw, tuple(flags)


def _typed_other(data: pd.DataFrame, skip: Set[str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Google Forms single-choice columns: typed "Other" answers replaced (see
    :func:`harmonise.ingest.multiselect.typed_other`), a note per column."""
    out = data
    notes = []
    for col in data.columns:
        if str(col) in skip:
            continue
        found = typed_other(data[col])
        if found is None:
            continue
        if out is data:
            out = data.copy()
        out[col] = found[0]
        notes.append(f"column {col!r}: {found[1]} answer(s) given by one respondent only, "
                     f"read as typed 'Other' text: replaced by {OTHER!r} (free text)")
    return out, tuple(notes)


def groups_members(groups: Mapping[str, MultiSelectGroup]) -> list[str]:
    """Every member column of ``groups``."""
    return [m for g in groups.values() for m in g.members]


__all__ = [
    "DEFAULT_MAX_BYTES",
    "READERS",
    "ReadOptions",
    "Reader",
    "detect_format",
    "detect_identifying",
    "read_survey",
]
