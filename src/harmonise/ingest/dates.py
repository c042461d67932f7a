"""Text dates in CSV and Excel exports: day/month or month/day, decided once per file.

``05/11/2024`` is 5 November in the UK and May 11 in the US. The order is decided for the
whole file from every row of every date column, never cell by cell:

* a first number over 12 somewhere (``25/11/2024``) means day first (UK);
* a second number over 12 somewhere (``11/25/2024``) means month first (US);
* both in one file is an error naming one cell of each kind: the file mixes conventions
  (two exports pasted together?) and no reading of it is safe;
* neither (every date ambiguous) reads day first, the UK convention of the surveys this
  tool serves, and the codebook notes says so.

A text column is a date column when every non-blank cell looks like ``d/m/y`` (separators
``/ . -``, 2- or 4-digit years, optionally ``hh:mm[:ss]``); it becomes ``datetime64``.
Two-digit years are 2000-2068 for 00-68 and 1969-1999 for 69-99 (as ``strptime``'s %y).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from harmonise.errors import IngestError
from harmonise.models.survey import VariableInfo

_DATE = (r"^\s*(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4}|\d{2})"
         r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?\s*$")
_DATE_RE = re.compile(_DATE)


@dataclass(frozen=True)
class DateDecision:
    """The order chosen for a file and the columns it applies to."""

    day_first: bool
    evidence: str
    columns: tuple[str, ...]


def date_columns(data: pd.DataFrame) -> list[str]:
    """Text columns whose every non-blank cell is shaped like a d/m/y (or m/d/y) date."""
    out = []
    for col in data.columns:
        s = data[col]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(
                s.dtype):
            continue
        filled = s.dropna()
        if len(filled) and all(isinstance(v, str) and _DATE_RE.match(v)
                               for v in filled.unique()):
            out.append(str(col))
    return out


def _parts(series: pd.Series) -> pd.DataFrame:
    return series.astype("object").where(series.notna(), "").astype(str).str.extract(_DATE)


def decide(file: str, data: pd.DataFrame, columns: list[str],
           hidden: frozenset[str] = frozenset()) -> DateDecision | None:
    """Day or month first for the whole file; IngestError if the rows disagree.

    Values of ``hidden`` columns (flagged as identifying) are never put in a message.
    """
    if not columns:
        return None
    day_cell: tuple[str, int, str] | None = None
    month_cell: tuple[str, int, str] | None = None
    for col in columns:
        parts = _parts(data[col])
        a = pd.to_numeric(parts["a"], errors="coerce")
        b = pd.to_numeric(parts["b"], errors="coerce")
        for mask, is_day in ((a > 12, True), (b > 12, False)):
            hits = mask.to_numpy().nonzero()[0]
            if len(hits) and (day_cell if is_day else month_cell) is None:
                row = int(hits[0])
                cell = (col, row + 1, "(hidden)" if col in hidden else str(data[col].iloc[row]))
                if is_day:
                    day_cell = cell
                else:
                    month_cell = cell
    if day_cell and month_cell:
        raise IngestError(
            f"{file}: dates disagree on their order: column {day_cell[0]!r} row {day_cell[1]} "
            f"holds {day_cell[2]!r} (day first, UK) but column {month_cell[0]!r} row "
            f"{month_cell[1]} holds {month_cell[2]!r} (month first, US). A file must use one "
            "convention: fix the dates (or export them as ISO yyyy-mm-dd) and upload again."
        )
    if day_cell:
        return DateDecision(True, f"day first: column {day_cell[0]!r} row {day_cell[1]} has a "
                            "first number over 12", tuple(columns))
    if month_cell:
        return DateDecision(False, f"month first: column {month_cell[0]!r} row "
                            f"{month_cell[1]} has a second number over 12", tuple(columns))
    return DateDecision(True, "day first assumed (UK): no date in the file has a number over "
                        "12 that would decide it", tuple(columns))


def to_datetimes(file: str, series: pd.Series, day_first: bool, hidden: bool = False
                 ) -> pd.Series:
    """The column as datetime64; an impossible date (31/02) is an error naming the cell."""
    parts = _parts(series)
    day, month = (parts["a"], parts["b"]) if day_first else (parts["b"], parts["a"])
    year = pd.to_numeric(parts["y"], errors="coerce")
    year = year.where(parts["y"].str.len() != 2, year + 2000 - 100 * (year >= 69))
    frame = pd.DataFrame({
        "year": year, "month": pd.to_numeric(month, errors="coerce"),
        "day": pd.to_numeric(day, errors="coerce"),
        "hour": pd.to_numeric(parts["H"], errors="coerce").fillna(0),
        "minute": pd.to_numeric(parts["M"], errors="coerce").fillna(0),
        "second": pd.to_numeric(parts["S"], errors="coerce").fillna(0),
    })
    filled = series.notna()
    out = pd.to_datetime(frame.where(filled), errors="coerce")
    bad = (filled & out.isna()).to_numpy().nonzero()[0]
    if len(bad):
        row = int(bad[0])
        value = "(hidden)" if hidden else str(series.iloc[row])
        order = "dd/mm" if day_first else "mm/dd"
        raise IngestError(
            f"{file}: column {series.name!r} row {row + 1} holds {value!r}, which is not a "
            f"date when read {order} (the order of the whole file). Fix the date in the "
            "export and upload again."
        )
    return out.astype("datetime64[us]")


def apply_dates(file: str, data: pd.DataFrame, variables: Mapping[str, VariableInfo],
                hidden: frozenset[str] = frozenset()
                ) -> tuple[pd.DataFrame, dict[str, VariableInfo], tuple[str, ...]]:
    """Text date columns -> datetime64 in one order for the file; notes for the codebook."""
    decision = decide(file, data, date_columns(data), hidden)
    if decision is None:
        return data, dict(variables), ()
    out = data.copy()
    infos = dict(variables)
    for col in decision.columns:
        out[col] = to_datetimes(file, data[col], decision.day_first, col in hidden)
        infos[col] = replace(variables[col], dtype=str(out[col].dtype))
    order = "dd/mm/yyyy" if decision.day_first else "mm/dd/yyyy"
    note = (f"dates read as {order} in column(s) {list(decision.columns)}: "
            f"{decision.evidence}")
    return out, infos, (note,)
