"""Stata ``.dta`` exports.

Read with ``user_missing=True``: extended missing values ``.a``–``.z`` stay in the data
as their letters (distinct from each other and from system missing ``.``, which is NaN),
and are listed per variable in ``VariableInfo.user_missing``. A column holding letters and
numbers is an object column. Value labels (named sets in Stata, possibly shared) are
attached to each variable that uses them, keyed by code or by missing letter.
"""

from __future__ import annotations

import io
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
            df, meta = pyreadstat.read_dta(io.BytesIO(content), user_missing=True,
                                           encoding=options.encoding)
    except READSTAT_ERRORS as exc:
        raise readstat_failure(file, "a Stata .dta file", exc, _HOW) from None
    encoding = options.encoding or getattr(meta, "file_encoding", None)
    return finish_readstat(file, as_frame(df), meta, fmt="dta", encoding=encoding,
                   reader=f"pyreadstat {pyreadstat.__version__} read_dta (user_missing=True)")
