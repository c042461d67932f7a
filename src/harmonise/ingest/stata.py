"""Stata ``.dta`` exports.

Read with ``user_missing=True``: extended missing values ``.a``–``.z`` stay in the data
as their letters (distinct from each other and from system missing ``.``, which is NaN),
and are listed per variable in ``VariableInfo.user_missing``. A column holding letters and
numbers is an object column. Value labels (named sets in Stata, possibly shared) are
attached to each variable that uses them, keyed by code or by missing letter.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from harmonise.errors import IngestError
from harmonise.ingest.common import (
    READSTAT_ERRORS,
    RawTable,
    ReadOptions,
    as_frame,
    finish_readstat,
    readstat_failure,
    renamed_duplicates,
)

_XML_START, _XML_END = b"<stata_dta>", b"</stata_dta>"
_HOW = "Save it again from Stata (save, or saveold for an older version) and upload it."


def read_dta(path: Path, content: bytes, options: ReadOptions) -> RawTable:
    """Read a ``.dta`` file (Stata 8 to 18), keeping extended missing letters."""
    file = path.name
    if content.startswith(_XML_START) and not content.rstrip(b"\x00\r\n ").endswith(_XML_END):
        raise IngestError(
            f"{file}: is truncated: a Stata file of this version must end with "
            f"'{_XML_END.decode()}' and this one does not (an interrupted download or copy). "
            + _HOW
        )
    try:
        with renamed_duplicates(file):
            _, head = pyreadstat.read_dta(io.BytesIO(content), metadataonly=True,
                                          encoding=options.encoding)
            stamps = datetime_formats(head)
            df, meta = pyreadstat.read_dta(io.BytesIO(content), user_missing=True,
                                           encoding=options.encoding,
                                           extra_datetime_formats=stamps or None)
    except READSTAT_ERRORS as exc:
        raise readstat_failure(file, "a Stata .dta file", exc, _HOW) from None
    encoding = options.encoding or getattr(meta, "file_encoding", None)
    frame, notes = numeric_missing_only(as_frame(df), meta)
    raw = finish_readstat(file, frame, meta, fmt="dta", encoding=encoding,
                          reader=f"pyreadstat {pyreadstat.__version__} read_dta "
                                 "(user_missing=True)")
    variables = dict(raw.variables)
    for name in notes:
        variables[name] = replace(variables[name], dtype=_NUMERIC_ONLY_MISSING)
    note = () if not notes else (
        f"numeric variable(s) {notes[:10]} hold only missing values (Stata .a-.z): kept as "
        "their missing letters; they are numeric, not text",)
    return replace(raw, variables=variables, notes=raw.notes + note)


_NUMERIC_ONLY_MISSING = "float64 (only missing)"
_NUMERIC_STORAGE = ("double", "float", "int8", "int16", "int32", "int64", "byte", "int",
                    "long")


def datetime_formats(meta: Any) -> list[str]:
    """Stata ``%tc``/``%tC`` formats with a custom display (``%tcHH:MM:SS``): pyreadstat
    reads them as times of day, dropping the date; they are date-times."""
    formats: Mapping[str, str] = getattr(meta, "original_variable_types", None) or {}
    return sorted({f for f in formats.values()
                   if f.lower().startswith("%tc") and f.lower() not in ("%tc",)})


def numeric_missing_only(df: pd.DataFrame, meta: Any) -> tuple[pd.DataFrame, list[str]]:
    """Numeric variables holding only extended missing letters: pyreadstat makes them text
    columns; make them object columns (as a column mixing codes and letters is) and name
    them, so the codebook says they are numeric."""
    storage: Mapping[str, str] = getattr(meta, "readstat_variable_types", None) or {}
    names = []
    out = df
    for col in df.columns:
        name = str(col)
        series = df[col]
        if (storage.get(name, "") in _NUMERIC_STORAGE
                and not pd.api.types.is_numeric_dtype(series.dtype)
                and series.notna().any()
                and all(isinstance(v, str) and len(v) == 1 for v in series.dropna())):
            if out is df:
                out = df.copy()
            out[col] = series.astype(object)
            names.append(name)
    return out, names
