"""Bad inputs the readers refuse (ragged CSV rows, zip bombs, missing sheet parts), the
duplicate-column hint, and what the real SPSS/Stata files of other projects showed
(.por user-missing, Stata %tc date-times, all-missing numeric variables)."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from harmonise.errors import IngestError
from harmonise.ingest import excel, read_survey
from harmonise.ingest.porfile import strip_missing

PEER = Path("/work/shared/peer-data/pyreadstat")
needs_peer = pytest.mark.skipif(not PEER.is_dir(), reason="shared pyreadstat files absent")


def _write(tmp: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "fragment"), [
    ("id,q1,q2\n1,2,3\n2,3\n3,1,1\n", "row 3 (line 3) has 2 fields, fewer fields"),
    ("id,q1,q2\n1,2,3\n2,3,1,4\n", "row 3 (line 3) has 4 fields, more fields"),
    ('id,q1\n1,"multi\nline"\n2,3,4\n', "row 3 (line 4)"),
])
def test_csv_rows_with_another_number_of_fields_are_refused(tmp_path: Path, text: str,
                                                            fragment: str) -> None:
    with pytest.raises(IngestError, match=r"s\.csv") as info:
        read_survey(_write(tmp_path, text))
    assert fragment in str(info.value)


def test_trailing_delimiter_on_every_line_is_not_ragged(tmp_path: Path) -> None:
    sf = read_survey(_write(tmp_path, "id,q1,\n1,2,\n2,3,\n"))
    assert list(sf.data.columns) == ["id", "q1"]


def test_duplicate_columns_suggest_two_header_rows(tmp_path: Path) -> None:
    text = "id,Which help?,Which help?\n,CCTV,Lighting\n1,CCTV,\n2,,Lighting\n"
    sf = read_survey(_write(tmp_path, text))  # detected: the question over its options
    assert len(sf.data) == 2 and "Which help? | CCTV" in sf.data.columns
    with pytest.raises(IngestError, match="--header-rows 2"):
        read_survey(_write(tmp_path, text), header_rows=1)


def _workbook(tmp: Path) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "q1"])
    ws.append([1, 2])
    wb.create_sheet("Other").append(["x"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _bomb(tmp: Path, megabytes: int) -> Path:
    source = zipfile.ZipFile(io.BytesIO(_workbook(tmp)))
    path = tmp / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, tail = data.split(b"</sheetData>")
                blank = b"<row/>" * (megabytes * 1024 * 1024 // 6)
                data = head + blank + b"</sheetData>" + tail
            out.writestr(item, data)
    return path


def test_xlsx_zip_bomb_refused_from_its_stated_sizes(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = _bomb(tmp_path, 24)  # 24 MB of blank rows in a file of a few dozen KB
    assert path.stat().st_size < 200 * 1024
    calls: list[str] = []
    monkeypatch.setattr(excel, "_first_broken_member", lambda zf: calls.append("read"))
    with pytest.raises(IngestError, match="more than 200 times"):
        read_survey(path)
    monkeypatch.setattr(excel, "MAX_EXPANDED_BYTES", 16 * 1024 * 1024)
    monkeypatch.setattr(excel, "MAX_RATIO", 10**9)
    with pytest.raises(IngestError, match="over the limit"):
        read_survey(path)
    assert not calls  # refused before any part was decompressed


def test_workbook_missing_a_sheet_part_is_refused(tmp_path: Path) -> None:
    source = zipfile.ZipFile(io.BytesIO(_workbook(tmp_path)))
    path = tmp_path / "partial.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, source.read(item))
    with pytest.raises(IngestError, match=r"sheet1\.xml"):
        read_survey(path)


def _por_with_missing(tmp: Path, variable: bytes, record: bytes) -> Path:
    raw = (PEER / "sample.por").read_bytes()
    flat = b"".join(raw.split(b"\r\n"))
    key = b"/" + variable + b"5/8/2/5/8/2/"
    i = flat.index(key) + len(key)
    new = flat[:i] + record + flat[i:]
    path = tmp / "missing.por"
    path.write_bytes(b"\r\n".join(new[j:j + 80] for j in range(0, len(new), 80)))
    return path


@needs_peer
@pytest.mark.parametrize(("record", "codes", "ranges"), [
    (b"A1/", (), ((1.0, float("inf")),)),  # 1 THRU HI: pyreadstat blanks every value
    (b"81/", (1.0,), ()),
    (b"9-1/", (), ((float("-inf"), -1.0),)),
])
def test_por_user_missing_codes_are_kept_as_codes(tmp_path: Path, record: bytes,
                                                  codes: tuple[float, ...],
                                                  ranges: tuple[tuple[float, float], ...]
                                                  ) -> None:
    sf = read_survey(_por_with_missing(tmp_path, b"MYLABL", record))
    assert sf.data["MYLABL"].tolist() == [1.0, 2.0, 1.0, 2.0, 1.0]  # nothing blanked
    info = sf.codebook.variables["MYLABL"]
    assert info.user_missing == codes and info.missing_ranges == ranges
    assert "kept as codes" in sf.provenance.reader


@needs_peer
def test_por_without_missing_values_is_unchanged() -> None:
    content = (PEER / "sample.por").read_bytes()
    assert strip_missing(content) == (content, {})


@needs_peer
def test_stata_custom_tc_format_keeps_its_date(tmp_path: Path) -> None:
    sf = read_survey(PEER / "sample.dta", keep={"mytime": "test", "dtime": "test"})
    first = sf.data["mytime"].iloc[0]
    assert str(first.date()) == "1960-01-01" and str(first.time()) == "10:10:10"


@needs_peer
def test_all_missing_numeric_stata_variable_stays_numeric(tmp_path: Path) -> None:
    path = tmp_path / "m.dta"
    shutil.copy(PEER / "missing_test.dta", path)
    sf = read_survey(path)
    info = sf.codebook.variables["var1"]
    assert info.dtype.startswith("float64") and info.user_missing == ("a",)
    assert sf.data["var1"].dtype == object and sf.data["var1"].tolist() == ["a"]
    assert any("only missing values" in n for n in sf.codebook.notes)
