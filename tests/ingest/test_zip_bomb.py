"""A zip bomb named .xlsx is refused before it is decompressed (the web upload relies on
this: uploads are checked by the ingest readers)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from harmonise.errors import IngestError
from harmonise.ingest import read_survey


def zip_bomb(megabytes: int) -> bytes:
    """A valid-looking workbook whose sheet inflates to ``megabytes`` MiB of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            block = b"0" * (1 << 20)
            for _ in range(megabytes):
                fh.write(block)
    return buf.getvalue()


def test_a_zip_bomb_is_refused_unopened(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(zip_bomb(80))
    assert path.stat().st_size < 200_000
    with pytest.raises(IngestError, match=r"zip bomb.*it was not opened"):
        read_survey(path)
