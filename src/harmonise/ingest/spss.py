"""SPSS exports: ``.sav`` and ``.zsav`` (``read_sav``) and portable ``.por`` (``read_por``).

Values stay the file's codes: value labels go to the codebook, never into the data.
``.sav``/``.zsav`` are read with ``user_missing=True`` so declared missing codes (e.g. -1,
or 2000-3000) stay in the data as codes and are listed in ``VariableInfo.user_missing`` /
``missing_ranges`` (SPSS stores a discrete code as a range with lo == hi; those are
listed as codes). System-missing values are NaN, as they are blank in SPSS; blank strings
are NaN too. ``.por``: pyreadstat cannot keep user-missing codes (it blanks them), so
harmonise reads the declarations itself and removes them before pyreadstat reads the file
(:mod:`harmonise.ingest.porfile`): codes stay codes, as for ``.sav``. Names stay upper-case.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

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
from harmonise.ingest.porfile import strip_missing
from harmonise.ingest.savcheck import check_sav_dictionary

POR_NOTE = ("user-missing codes, if the file declares any, are blank: its dictionary could "
            "not be followed to keep them")
POR_KEPT = ("user-missing codes kept as codes: declarations read from the file's dictionary "
            "by harmonise, pyreadstat cannot")


def read_sav(path: Path, content: bytes, options: ReadOptions) -> RawTable:
    """Read ``.sav`` or ``.zsav`` (the magic bytes say which), keeping user-missing codes."""
    file = path.name
    fmt = "zsav" if content.startswith(b"$FL3") else "sav"
    what = "an SPSS .zsav file" if fmt == "zsav" else "an SPSS .sav file"
    check_sav_dictionary(file, content)
    try:
        with renamed_duplicates(file):
            df, meta = pyreadstat.read_sav(io.BytesIO(content), user_missing=True,
                                           encoding=options.encoding)
    except READSTAT_ERRORS as exc:
        raise readstat_failure(file, what, exc, "Save it again from SPSS (File > Save As, "
                               "SPSS Statistics .sav) and upload the new file.") from None
    encoding = options.encoding or getattr(meta, "file_encoding", None)
    return finish_readstat(file, as_frame(df), meta, fmt=fmt, encoding=encoding,
                   reader=f"pyreadstat {pyreadstat.__version__} read_sav (user_missing=True)")


def read_por(path: Path, content: bytes, options: ReadOptions) -> RawTable:
    """Read an SPSS portable file; names stay upper-case, user-missing cannot be read."""
    file = path.name
    if options.encoding is not None:
        raise IngestError(
            f"{file}: encoding= cannot be used with .por files (pyreadstat's read_por has no "
            "encoding option). Leave it out, or save the data from SPSS as .sav."
        )
    stripped = strip_missing(content)
    body = stripped[0] if stripped is not None else content
    try:
        with renamed_duplicates(file):
            df, meta = pyreadstat.read_por(io.BytesIO(body))
    except READSTAT_ERRORS as exc:
        raise readstat_failure(file, "an SPSS portable .por file", exc,
                               "Export it again from SPSS, preferably as .sav.") from None
    if stripped is None:
        return finish_readstat(file, as_frame(df), meta, fmt="por", encoding=None,
                               reader=f"pyreadstat {pyreadstat.__version__} read_por "
                                      f"({POR_NOTE})")
    raw = finish_readstat(file, as_frame(df), meta, fmt="por", encoding=None,
                          reader=f"pyreadstat {pyreadstat.__version__} read_por ({POR_KEPT})")
    variables = dict(raw.variables)
    for name, declared in stripped[1].items():
        if name in variables:
            variables[name] = replace(variables[name], user_missing=tuple(declared.values),
                                      missing_ranges=tuple(declared.ranges))
    return replace(raw, variables=variables)
