"""Cells that a spreadsheet would run as formulas: escape them before CSV and XLSX output.

A value that came from an export ("=HYPERLINK(…)", "+44…", "@SUM(…)", "-1+1") must never
reach a spreadsheet as a live formula (CSV/formula injection). Following the OWASP "CSV
Injection" guidance, a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is written

* to CSV with a single quote in front (``'=1+1``), which spreadsheets show as text;
* to XLSX as a text cell with Excel's own "quote prefix" flag (shown as ``=1+1``, never
  evaluated, and still text when a person edits the cell).

Numbers are never touched: a number column stays numeric, and a text cell that is a plain
number (``-2``, ``+1.5e3``) is left as it is, since a spreadsheet reads it as that number
and nothing else. Tables without such cells come out byte for byte as before.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def needs_escape(value: object) -> bool:
    """True for text a spreadsheet could run as a formula (see the module docstring)."""
    return (isinstance(value, str) and value.startswith(FORMULA_START)
            and not _NUMBER.match(value))


def escape_csv_cell(value: object) -> object:
    """``"=1+1"`` -> ``"'=1+1"``; anything else unchanged."""
    return f"'{value}" if needs_escape(value) else value


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every formula-like text cell (and column name) escaped for CSV.

    Returns ``frame`` itself when nothing needs escaping, so the common case costs one scan
    of the text columns.
    """
    columns = [c for c in frame.columns
               if not pd.api.types.is_numeric_dtype(frame[c].dtype)
               or pd.api.types.is_bool_dtype(frame[c].dtype)]
    changed: dict[object, pd.Series] = {}
    for col in columns:
        series = frame[col]
        mask = series.map(needs_escape).astype(bool)
        if mask.any():
            changed[col] = series.astype("object").where(
                ~mask, series.map(escape_csv_cell))
    renamed = {c: escape_csv_cell(c) for c in frame.columns if needs_escape(c)}
    if not changed and not renamed:
        return frame
    out = frame.assign(**{str(c): s for c, s in changed.items()}) if changed else frame
    return out.rename(columns=renamed) if renamed else out


__all__ = ["FORMULA_START", "escape_csv_cell", "escape_frame", "needs_escape"]
