"""Pieces every reader shares: what a reader returns, provenance and codebook helpers.

A reader turns the bytes of one export into a :class:`RawTable`: the data exactly as the
file holds it and a :class:`~harmonise.models.survey.VariableInfo` per column. The
identifying-column screen, the checks every format shares and the provenance are added by
:func:`harmonise.ingest.read_survey`, so a new reader only has to get the values right.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from harmonise._util.files import sha256_bytes
from harmonise.errors import IngestError
from harmonise.models.survey import Provenance, VariableInfo
from harmonise.privacy import cap, describe, looks_free_text, looks_identifying, typed_answer


@dataclass(frozen=True)
class ReadOptions:
    """The caller's overrides; ``None`` means "detect it"."""

    encoding: str | None = None
    sheet: str | int | None = None
    header_rows: int | None = None


def resolve_read(file: str, stated: Mapping[str, object], given: Mapping[str, object],
                 stated_in: str = "the crosswalk's read: block") -> dict[str, Any]:
    """Read options from what a crosswalk states and what a command was given: a value
    given on one side only is used; both given and different is an error (the file must be
    read one way every time)."""
    out: dict[str, Any] = {}
    for key in ("header_rows", "sheet", "encoding"):
        a, b = stated.get(key), given.get(key)
        if a is not None and b is not None and str(a) != str(b):
            raise IngestError(
                f"{file}: {stated_in} says {key}: {a!r} but {b!r} was given. Read the file "
                f"one way every time: drop the option given, or change {stated_in}."
            )
        out[key] = a if a is not None else b
    return out


@dataclass(frozen=True)
class RawTable:
    """One export as a reader sees it, before the privacy screen."""

    data: pd.DataFrame
    variables: Mapping[str, VariableInfo]
    format: str
    reader: str
    encoding: str | None = None
    multi_select: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    group_how: str = "option_columns"  # how multi_select was found: see MultiSelectGroup
    group_hows: Mapping[str, str] = field(default_factory=dict)  # per group, when they differ
    header_rows: int | None = None  # header rows read (CSV and Excel)
    platform: str | None = None  # the platform layout recognised (harmonise.ingest.platforms)
    forced: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Columns the layout says are identifying whatever they hold: name -> (kind, reason)."""
    notes: tuple[str, ...] = ()  # what the reader decided, for the codebook


Reader = Callable[[Path, bytes, ReadOptions], RawTable]
"""A reader gets the file's path (for messages), its bytes and the caller's options."""


def utc_now_iso() -> str:
    """Now, as ISO 8601 in UTC to the second (``2026-11-25T12:00:00+00:00``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def make_provenance(path: Path, content: bytes, raw: RawTable, data: pd.DataFrame) -> Provenance:
    """Provenance of ``data`` (already screened) read from ``path``; the file name only."""
    return Provenance(
        file_name=path.name,
        sha256=sha256_bytes(content),
        format=raw.format,
        reader=raw.reader,
        encoding=raw.encoding,
        read_at=utc_now_iso(),
        n_rows=len(data),
        n_columns=data.shape[1],
    )


def _shown_name(name: str) -> str:
    """A column name for a message: capped, or what it looks like when it holds an
    identifying value (a data row read as a header)."""
    from harmonise.privacy import header_value_kind

    kind = header_value_kind(name)
    return f"a header holding {describe(kind)}" if kind is not None else repr(cap(name))


def check_unique_names(
    file: str, names: Sequence[str], position: Callable[[int], str] | None = None,
    *, header_rows: int | None = None, next_row: Sequence[object] | None = None,
) -> None:
    """Fail naming every repeated column name and where each copy is (1-based).

    With ``header_rows`` 1 and the ``next_row`` of cells, say when the repeats look like
    one question over its options with the options in row 2 (two header rows).
    """
    where = position or (lambda i: f"column {i + 1}")
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        seen.setdefault(name, []).append(i)
    repeated = {n: idx for n, idx in seen.items() if len(idx) > 1}
    if repeated:
        parts = "; ".join(
            f"{_shown_name(n)} at {', '.join(where(i) for i in idx[:6])}"
            + (f" and {len(idx) - 6} more" if len(idx) > 6 else "")
            for n, idx in list(repeated.items())[:10]
        )
        hint = ""
        if header_rows in (None, 1) and next_row is not None and _options_below(
                repeated.values(), next_row):
            hint = (" The repeats look like one question over its options, with the options "
                    "in the next row: read the file with two header rows (--header-rows 2, or "
                    "'read: {header_rows: 2}' in the crosswalk).")
        raise IngestError(
            f"{file}: duplicate column names: {parts}.{hint} Every column needs its own name: "
            "rename the copies in the export (or delete the duplicated columns) and upload again."
        )


def _options_below(groups: Iterable[list[int]], next_row: Sequence[object]) -> bool:
    cells = list(next_row)
    for idx in groups:
        below = [header_text(cells[i]) if i < len(cells) else None for i in idx]
        if any(b is None or _NUMERIC.match(b) for b in below) or len(set(below)) < len(below):
            return False
    return True




def check_has_rows(file: str, data: pd.DataFrame, what: str = "rows") -> None:
    """Fail when the export has columns but no respondents."""
    if len(data) == 0:
        raise IngestError(
            f"{file}: has {data.shape[1]} column(s) but no data {what}. Check that the export "
            "includes the responses (not only the questionnaire) and upload it again."
        )


def blank_text_to_nan(data: pd.DataFrame) -> pd.DataFrame:
    """Empty strings become NaN in text columns (blank in the file, as for CSV and Excel)."""
    out = data.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
            blank = s.map(lambda v: isinstance(v, str) and v == "").astype(bool)
            if bool(blank.any()):
                out[col] = s.mask(blank)
    return out


# --- pyreadstat metadata -> codebook -------------------------------------------------------


def _missing_from_ranges(ranges: Sequence[Mapping[str, Any]]) -> tuple[
    tuple[Any, ...], tuple[tuple[float, float], ...]
]:
    """SPSS declares discrete missing codes as ranges with lo == hi; split the two kinds."""
    discrete: list[Any] = []
    spans: list[tuple[float, float]] = []
    for r in ranges:
        lo, hi = r.get("lo"), r.get("hi")
        if lo == hi:
            discrete.append(lo)
        elif isinstance(lo, int | float) and isinstance(hi, int | float):
            spans.append((float(lo), float(hi)))
    return tuple(discrete), tuple(spans)


def variables_from_meta(data: pd.DataFrame, meta: Any) -> dict[str, VariableInfo]:
    """VariableInfo per column from pyreadstat metadata (labels, value labels, missing)."""
    labels: Mapping[str, str | None] = meta.column_names_to_labels or {}
    value_labels: Mapping[str, Mapping[Any, str]] = meta.variable_value_labels or {}
    ranges: Mapping[str, Sequence[Mapping[str, Any]]] = meta.missing_ranges or {}
    user_values: Mapping[str, Sequence[Any]] = meta.missing_user_values or {}
    out: dict[str, VariableInfo] = {}
    for col in data.columns:
        name = str(col)
        discrete, spans = _missing_from_ranges(ranges.get(name, ()))
        extra = tuple(v for v in user_values.get(name, ()) if v not in discrete)
        out[name] = VariableInfo(
            name=name,
            dtype=str(data[col].dtype),
            label=labels.get(name) or None,
            value_labels=dict(value_labels.get(name, {})),
            user_missing=discrete + extra,
            missing_ranges=spans,
        )
    return out


def mr_set_groups(meta: Any, columns: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """SPSS multiple-response sets (set name -> member columns present in the data)."""
    sets: Mapping[str, Mapping[str, Any]] = getattr(meta, "mr_sets", None) or {}
    present = set(columns)
    out: dict[str, tuple[str, ...]] = {}
    for name, spec in sets.items():
        members = tuple(str(v) for v in spec.get("variable_list", ()) if str(v) in present)
        if members:
            out[str(name)] = members
    return out


_NUMBERED = re.compile(r"^(?P<stem>.+?)[_.]?(?P<n>\d+)$")


def dichotomy_groups(data: pd.DataFrame, variables: Mapping[str, VariableInfo]) -> dict[
    str, tuple[str, ...]
]:
    """Fallback when a file declares no multiple-response sets (ReadStat misses some).

    Adjacent columns named ``<stem>_<n>`` that all hold only 0/1 (user-missing codes aside)
    form one group named after the stem. Conservative: a matrix of rating items sharing a
    stem holds other values and is not grouped.
    """
    groups: dict[str, list[str]] = {}
    order: list[str] = []
    previous_stem: str | None = None
    for col in data.columns:
        name = str(col)
        m = _NUMBERED.match(name)
        stem = m.group("stem") if m and _is_dichotomy(data[col], variables.get(name)) else None
        if stem is not None and stem == previous_stem:
            groups[stem].append(name)
        elif stem is not None and stem not in groups:
            groups[stem] = [name]
            order.append(stem)
        previous_stem = stem
    return {s: tuple(groups[s]) for s in order if len(groups[s]) >= 2}


def _is_dichotomy(series: pd.Series, info: VariableInfo | None) -> bool:
    if not pd.api.types.is_numeric_dtype(series.dtype):
        return False
    missing = set(info.user_missing) if info else set()
    values = {float(v) for v in series.dropna().unique() if v not in missing}
    return bool(values) and values <= {0.0, 1.0}


READSTAT_ERRORS: tuple[type[BaseException], ...] = (
    pyreadstat.ReadstatError, pyreadstat.PyreadstatError, ValueError, UnicodeError, OSError,
    OverflowError, IndexError, KeyError,
)
"""What pyreadstat raises on damaged input (OverflowError: a date out of range; IndexError
and KeyError: inconsistent metadata, both found by fuzzing)."""

_DUPLICATED = re.compile(r"column '(?P<name>.*)' is duplicated, renamed to")


@contextlib.contextmanager
def renamed_duplicates(file: str) -> Iterator[None]:
    """pyreadstat renames a repeated column (with a warning): make that an IngestError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    names = [m.group("name") for w in caught
             if (m := _DUPLICATED.search(str(w.message))) is not None]
    if names:
        raise IngestError(
            f"{file}: duplicate variable names: {sorted(set(names))} appear more than once. "
            "Every variable needs its own name: rename the copies in SPSS/Stata (or drop them), "
            "save and upload again."
        )
    for w in caught:  # anything else is passed on as it came
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def readstat_failure(file: str, what: str, exc: BaseException, how_to_export: str) -> IngestError:
    """An IngestError for a file pyreadstat could not read, saying what to do."""
    reason = str(exc).strip() or type(exc).__name__
    lowered = reason.casefold()
    if "character set" in lowered:
        advice = ("The encoding= given is not one the reader knows: use a name such as "
                  "'cp1252', 'latin1' or 'utf-8', or leave it out to use the file's own.")
    elif "encoding" in lowered or "convert string" in lowered or isinstance(exc, UnicodeError):
        advice = ("Its text is not in the encoding it declares: pass encoding= (e.g. "
                  "'cp1252' or 'latin1') or re-save it from the program with Unicode on.")
    elif "version" in lowered or "unsupported" in lowered:
        advice = (f"It is not {what} this reader understands, or it is damaged. "
                  f"{how_to_export}")
    else:
        advice = (f"It is probably truncated (an interrupted download or copy) or corrupt. "
                  f"{how_to_export}")
    return IngestError(f"{file}: could not be read as {what} ({reason}). {advice}")


def as_frame(df: Any) -> pd.DataFrame:
    """The DataFrame pyreadstat returned (it can be asked for other output formats)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"pyreadstat returned {type(df).__name__}, expected a DataFrame")
    return df


def safe_repr(value: object, show: Callable[[object], str] = repr) -> str:
    """``show(value)``, unless it looks identifying (an e-mail, phone, postcode, IP address):
    then only what it looks like (``an e-mail-like value``); typed free text is shown as
    ``a typed answer of N characters``. For messages."""
    kind = looks_identifying(value)
    if kind is not None:
        return describe(kind)
    return typed_answer(value) if isinstance(value, str) and looks_free_text(value) else cap(
        show(value))


def _is_date(value: object) -> bool:
    return isinstance(value, dt.date | dt.datetime | dt.time | pd.Timestamp)


def check_labels_fit_types(file: str, data: pd.DataFrame, variables: Mapping[str, VariableInfo],
                           meta: Any) -> None:
    """Value labels must label values of the variable's type (codes, or text for strings).

    A date/time display format on a labelled code variable turns its codes into dates
    (1 -> 1582-10-15): the labels then label nothing, and reading on would silently lose
    the answers. Labels with text keys on a numeric variable are the same mistake.
    """
    formats: Mapping[str, str] = getattr(meta, "original_variable_types", None) or {}
    for name, info in variables.items():
        if not info.value_labels:
            continue
        column = data[name]
        filled = column.dropna()
        dated = pd.api.types.is_datetime64_any_dtype(column.dtype) or (
            len(filled) > 0 and _is_date(filled.iloc[0]))
        text_keys = [k for k in info.value_labels if isinstance(k, str)]
        numeric = pd.api.types.is_numeric_dtype(column.dtype)
        if not dated and not (numeric and text_keys):
            continue
        fmt = formats.get(name, "?")
        row = int(column.notna().to_numpy().argmax()) + 1 if len(filled) else 0
        value = filled.iloc[0] if len(filled) else None
        first = list(info.value_labels.items())[:3]
        shown = ", ".join(f"{safe_repr(k)} = {safe_repr(v)}" for k, v in first)
        kind = "dates" if dated else "numbers"
        raise IngestError(
            f"{file}: variable {name!r} has display format {fmt}, so its values read as "
            f"{kind} (e.g. {safe_repr(value, str)} at row {row}), but its value labels are for "
            f"{'codes' if dated else 'text'} ({shown}, …): the format or the labels are "
            "wrong. In SPSS/Stata give the variable a plain numeric format (e.g. F8.0 or "
            "%8.0g) or remove the labels that do not belong to it, save and upload again."
        )


def finish_readstat(file: str, df: pd.DataFrame, meta: Any, *, fmt: str, reader: str,
                    encoding: str | None) -> RawTable:
    """Checks and codebook shared by the pyreadstat readers (SPSS and Stata)."""
    names = [str(c) for c in df.columns]
    check_unique_names(file, names)
    data = blank_text_to_nan(df)
    check_has_rows(file, data, "cases")
    variables = variables_from_meta(data, meta)
    check_labels_fit_types(file, data, variables, meta)
    declared = mr_set_groups(meta, names)
    groups = declared or dichotomy_groups(data, variables)
    return RawTable(data=data, variables=variables, format=fmt, reader=reader,
                    encoding=encoding, multi_select=groups,
                    group_how="mr_set" if declared else "dichotomies")


# --- header rows of CSV and Excel exports ---------------------------------------------------

RESPONSE_MARKERS = ("response", "open-ended response")
"""Row-2 texts that mean "this column is the whole answer", not an option (SurveyMonkey)."""

QUALTRICS_IMPORT_ID = '{"importid"'
_NUMERIC = re.compile(r"^\s*-?\d+(?:[.,]\d+)?\s*$")


@dataclass(frozen=True)
class ColumnHeader:
    """What the header rows say about one column."""

    name: str
    label: str | None
    question: str | None = None
    option: str | None = None
    key: str | None = None  # a platform's own id for the column (Qualtrics ImportId)


_HTML_BREAK = re.compile(r"<br\s*/?>|</?(p|b|i|u|em|strong|span|div)(\s[^>]*)?>", re.IGNORECASE)


def header_text(cell: object) -> str | None:
    """A header cell as text; blank (None, "", whitespace) is None."""
    if cell is None:
        return None
    if isinstance(cell, float) and math.isnan(cell):
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, dt.datetime | dt.date):
        return cell.isoformat()
    raw = str(cell)
    text = (re.sub(r" {2,}", " ", _HTML_BREAK.sub(" ", raw)) if "<" in raw else raw).strip()
    return text or None


def _row(rows: Sequence[Sequence[object]], i: int, width: int) -> list[str | None]:
    row = list(rows[i]) if i < len(rows) else []
    row += [None] * (width - len(row))
    return [header_text(c) for c in row[:width]]


def detect_header_rows(rows: Sequence[Sequence[object]], width: int) -> int:
    """How many header rows the grid starts with: 1, 2 (SurveyMonkey) or 3 (Qualtrics).

    * 3 when row 3 holds Qualtrics ImportId JSON (``{"ImportId":"QID1"}``) in every
      non-blank cell;
    * 2 when row 2 contains "Response" or "Open-Ended Response", or when row 1 has blank
      cells (after a filled one) that row 2 fills with text — the option columns of a
      multi-select question whose text sits only above its first column — unless row 2
      holds a number or a date, which header text does not;
    * else 1.
    """
    if len(rows) < 2:
        return 1
    r1, r2, r3 = _row(rows, 0, width), _row(rows, 1, width), _row(rows, 2, width)
    r3_text = [c for c in r3 if c is not None]
    if r3_text and all(c.casefold().startswith(QUALTRICS_IMPORT_ID) for c in r3_text):
        return 3
    if any(c is not None and c.casefold() in RESPONSE_MARKERS for c in r2):
        return 2
    raw2 = list(rows[1])
    if any(isinstance(c, int | float | dt.date) or (isinstance(c, str) and _NUMERIC.match(c))
           for c in raw2):
        return 1  # header text holds no numbers or dates: row 2 is a respondent
    seen_filled = False
    for j in range(width):
        if r1[j] is not None:
            seen_filled = True
        elif seen_filled and r2[j] is not None and isinstance(rows[1][j], str):
            return 2
    repeats: dict[str, list[int]] = {}
    for j, text in enumerate(r1):
        if text is not None:
            repeats.setdefault(text, []).append(j)
    groups = [idx for idx in repeats.values() if len(idx) > 1]
    if groups and _options_below(groups, rows[1]):
        return 2  # one question repeated over its options, the options in row 2
    return 1


def build_headers(rows: Sequence[Sequence[object]], width: int, n: int) -> list[ColumnHeader]:
    """Column names from ``n`` header rows.

    One row: the text. Two rows: the forward-filled row-1 text (question) when row 2 is
    "Response", "Open-Ended Response" or blank, else ``"<question> | <option>"``. Three rows
    (Qualtrics): row 1 is the name (export tag), row 2 the question text. A blank header
    becomes ``column_<n>`` (1-based position).
    """
    r1 = _row(rows, 0, width)
    out: list[ColumnHeader] = []
    if n == 1:
        for j, text in enumerate(r1):
            out.append(ColumnHeader(name=text or f"column_{j + 1}", label=text))
        return out
    r2 = _row(rows, 1, width)
    if n == 3:
        for j, (tag, text) in enumerate(zip(r1, r2, strict=True)):
            name = tag or text or f"column_{j + 1}"
            out.append(ColumnHeader(name=name, label=text or tag, question=text))
        return out
    question: str | None = None
    for j, (top, option) in enumerate(zip(r1, r2, strict=True)):
        question = top if top is not None else question
        if question is None:
            name = option or f"column_{j + 1}"
        elif option is None or option.casefold() in RESPONSE_MARKERS:
            name = question
        else:
            name = f"{question} | {option}"
        out.append(ColumnHeader(name=name, label=question or option, question=question,
                                option=option))
    return out


_TICKS = frozenset({"1", "0", "1.0", "0.0", "yes", "no", "y", "n", "true", "false", "x",
                    "✓", "✔", "checked", "unchecked", "selected", "not selected", "ticked"})


def tick_like(series: pd.Series, option: str) -> bool:
    """Every non-blank cell is the option text itself or a tick (1/0, Yes, TRUE, x …)."""
    allowed = _TICKS | {option.strip().casefold()}
    return all(str(v).strip().casefold() in allowed for v in series.dropna().unique())


def question_groups(headers: Sequence[ColumnHeader], data: pd.DataFrame) -> dict[
    str, tuple[str, ...]
]:
    """Multi-select groups of a two-header export: question -> its option columns.

    Columns sharing one question with a real option in row 2 form a group when each holds
    only its option text or ticks; a matrix (rows of one grid, each holding an answer
    label such as "Very safe") is therefore not taken for a multi-select question.
    """
    members: dict[str, list[ColumnHeader]] = {}
    for h in headers:
        if h.question is None or h.option is None or h.option.casefold() in RESPONSE_MARKERS:
            continue
        members.setdefault(h.question, []).append(h)
    out: dict[str, tuple[str, ...]] = {}
    for question, cols in members.items():
        ticks = [h for h in cols if h.name in data.columns and tick_like(data[h.name], h.option
                                                                          or "")]
        if len(cols) >= 2 and len(ticks) >= max(2, len(cols) - 1):
            # one non-tick member is allowed: the "Other (please specify)" text box
            out[question] = tuple(h.name for h in cols)
    return out
