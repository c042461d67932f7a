"""Readers keep the file's own values: peer files from pyreadstat, and generated CSV/XLSX."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from harmonise.errors import IngestError
from harmonise.ingest import READERS, detect_format, read_survey
from harmonise.models.survey import SurveyFile

PEER = Path("/work/shared/peer-data/pyreadstat")
PEER_FILES = sorted(p for p in PEER.iterdir() if p.is_file()) if PEER.is_dir() else []

# Files in the peer folder that are expected to fail, and the fragment saying why.
EXPECTED_FAILURES = {
    # the licence text has no extension: not a survey export
    "LICENSE-pyreadstat": "unsupported file type",
}
# Columns a peer file loses at the door, and why (the privacy screen, not the reader).
EXPECTED_FLAGS = {
    "test_width.sav": {"StartDate": "timestamp"},  # Qualtrics start time: quasi-identifier
}


def _pyreadstat_raw(path: Path) -> pd.DataFrame:
    """The same file read directly with pyreadstat (user-missing kept where possible)."""
    if path.suffix in (".sav", ".zsav"):
        df, _ = pyreadstat.read_sav(str(path), user_missing=True)
    elif path.suffix == ".dta":
        df, _ = pyreadstat.read_dta(str(path), user_missing=True)
    else:
        df, _ = pyreadstat.read_por(str(path))
    assert isinstance(df, pd.DataFrame)
    return df


def _ids(paths: list[Path]) -> list[str]:
    return [
        f"{p.name}-fails:{EXPECTED_FAILURES[p.name]}" if p.name in EXPECTED_FAILURES
        else f"{p.name}-reads" for p in paths
    ]


@pytest.mark.skipif(not PEER_FILES, reason="peer data folder not present")
@pytest.mark.parametrize("path", PEER_FILES, ids=_ids(PEER_FILES))
def test_every_peer_file_reads_or_fails_with_a_reason(path: Path) -> None:
    if path.name in EXPECTED_FAILURES:
        with pytest.raises(IngestError, match=EXPECTED_FAILURES[path.name]) as info:
            read_survey(path)
        assert path.name in str(info.value)
        return
    kept = {c: "test: check the reader" for c in EXPECTED_FLAGS.get(path.name, {})}
    sf = read_survey(path, keep=kept)
    assert isinstance(sf, SurveyFile)
    assert sf.provenance.file_name == path.name
    assert sf.provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (sf.provenance.n_rows, sf.provenance.n_columns) == sf.data.shape
    assert list(sf.codebook.variables) == [str(c) for c in sf.data.columns]
    assert sf.provenance.format == path.suffix.lstrip(".")
    assert detect_format(path) in (path.suffix, ".sav" if path.suffix == ".zsav" else None)
    if path.suffix in (".sav", ".zsav", ".dta", ".por"):
        raw = _pyreadstat_raw(path)
        assert list(raw.columns) == list(sf.data.columns)
        for col in raw.columns:  # NaN only where pyreadstat saw a blank/system-missing
            was_blank = raw[col].isna() | raw[col].map(lambda v: v == "").astype(bool)
            assert (sf.data[col].isna() == was_blank).all(), col


@pytest.mark.skipif(not PEER_FILES, reason="peer data folder not present")
@pytest.mark.parametrize("name", sorted(EXPECTED_FLAGS))
def test_peer_identifying_columns_dropped_without_keep(name: str) -> None:
    sf = read_survey(PEER / name)
    assert {f.name: f.kind for f in sf.flagged} == EXPECTED_FLAGS[name]
    assert not set(EXPECTED_FLAGS[name]) & set(sf.data.columns)
    assert not set(EXPECTED_FLAGS[name]) & set(sf.codebook.variables)


def test_sample_missing_sav_keeps_user_missing_codes() -> None:
    sf = read_survey(PEER / "sample_missing.sav")
    mynum = sf.codebook.variables["mynum"]
    assert mynum.user_missing == (-1.0,)
    assert mynum.missing_ranges == ((2000.0, 3000.0),)
    assert -1.0 in sf.data["mynum"].tolist()  # kept as a code, not NaN
    assert sf.codebook.variables["myord"].user_missing == (-1.0, -2.0, -3.0)
    assert sf.codebook.variables["mylabl"].value_labels[-1.0] == "undetermined"
    assert -1.0 in sf.data["mylabl"].tolist()
    assert "Z" in sf.data["mychar"].tolist()
    default, _ = pyreadstat.read_sav(str(PEER / "sample_missing.sav"))  # what we avoid
    assert isinstance(default, pd.DataFrame)
    assert int(default["mynum"].isna().sum()) > int(sf.data["mynum"].isna().sum())


def test_value_labels_go_to_codebook_codes_stay_in_data() -> None:
    sf = read_survey(PEER / "sample.sav")
    assert sf.codebook.variables["mylabl"].value_labels == {1.0: "Male", 2.0: "Female"}
    assert sf.data["mylabl"].tolist() == [1.0, 2.0, 1.0, 2.0, 1.0]
    assert sf.codebook.variables["mylabl"].label == "labeled"


def test_missing_test_dta_keeps_extended_missing_letters_distinct() -> None:
    sf = read_survey(PEER / "missing_test.dta")
    letters = [sf.data[f"var{i}"].iloc[0] for i in range(1, 7)]
    assert letters == ["a", "b", "c", "x", "y", "z"]
    assert [sf.codebook.variables[f"var{i}"].user_missing for i in range(1, 7)] == [
        ("a",), ("b",), ("c",), ("x",), ("y",), ("z",)]
    assert sf.codebook.variables["var1"].value_labels == {"a": "missing"}
    assert sf.data[["var7", "var8"]].isna().all().all()  # system missing "." is blank
    assert sf.data["var9"].iloc[0] == 1.0


def test_por_names_stay_upper_case_and_reader_says_user_missing_is_lost() -> None:
    sf = read_survey(PEER / "sample.por")
    assert list(sf.data.columns) == ["MYCHAR", "MYNUM", "MYDATE", "DTIME", "MYLABL", "MYORD",
                                     "MYTIME"]
    assert sf.codebook.variables["MYLABL"].value_labels == {1.0: "Male", 2.0: "Female"}
    assert "read_por" in sf.provenance.reader
    assert "user-missing" in sf.provenance.reader


def test_zsav_reads_like_sav() -> None:
    sav, zsav = read_survey(PEER / "sample.sav"), read_survey(PEER / "sample.zsav")
    pd.testing.assert_frame_equal(sav.data, zsav.data)
    assert zsav.provenance.format == "zsav"


def test_non_latin_names_labels_and_values_preserved() -> None:
    hebrew = read_survey(PEER / "hebrews.sav")
    assert list(hebrew.data.columns) == ["ותק_ב"]
    assert hebrew.provenance.encoding == "UTF-8"
    # one open-ended answer: content alone cannot tell it from a label (see privacy.py)
    telugu = read_survey(PEER / "tegulu.sav")
    text = telugu.data["Q16br9oe_Q24br9oe"].iloc[0]
    assert text.startswith("నేను గతంలో")
    assert telugu.codebook.variables["record"].label == "record : Record number"


def test_spss_multiple_response_sets_become_groups() -> None:
    sf = read_survey(PEER / "simple_alltypes.sav")
    assert sf.codebook.multi_select["mymrset"] == ("bool1", "bool2", "bool3")
    z = sf.codebook.variables["z"]
    assert z.missing_ranges == ((-999.0, 0.0),) and z.user_missing == (999.0,)
    assert -9.0 in sf.data["z"].tolist()  # inside the missing range: kept as a code
    assert "NA" in sf.data["str"].tolist()


def test_dichotomy_groups_found_when_no_mr_sets(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": [1.0, 2.0, 3.0], "q5_1": [1.0, 0.0, 1.0], "q5_2": [0.0, 0.0, 1.0],
                       "q6_1": [1.0, 3.0, 2.0], "q6_2": [2.0, 2.0, 1.0]})
    pyreadstat.write_sav(df, str(tmp_path / "d.sav"))
    sf = read_survey(tmp_path / "d.sav")
    assert dict(sf.codebook.multi_select) == {"q5": ("q5_1", "q5_2")}


def test_sample_csv_reads() -> None:
    sf = read_survey(PEER / "sample.csv")
    assert sf.provenance.encoding == "utf-8-sig"
    assert sf.data.columns[0] == "mychar"
    assert sf.data["mynum"].tolist() == [1.1, 1.2, -1000.3, -1.4, 1000.3]
    assert sf.data["mylabl"].tolist() == [1, 2, 1, 2, 1]
    assert sf.data["mydate"].isna().tolist() == [False] * 4 + [True]
    assert sf.data["mychar"].tolist() == ["a", "b", "c", "d", "e"]


# --- generated CSV ------------------------------------------------------------------------


def _csv(tmp_path: Path, content: bytes, name: str = "s.csv", **kw: Any) -> SurveyFile:
    path = tmp_path / name
    path.write_bytes(content)
    return read_survey(path, **kw)


def test_cp1252_detected(tmp_path: Path) -> None:
    text = "id,town,cost\n1,Café ’round,£5\n2,Bedford,£10\n"
    sf = _csv(tmp_path, text.encode("cp1252"))
    assert sf.provenance.encoding == "cp1252"
    assert sf.data["town"].tolist() == ["Café ’round", "Bedford"]
    assert sf.data["cost"].tolist() == ["£5", "£10"]


def test_utf8_bom_detected_and_stripped(tmp_path: Path) -> None:
    sf = _csv(tmp_path, "\ufeffid,q1\n1,é\n".encode())
    assert sf.provenance.encoding == "utf-8-sig"
    assert list(sf.data.columns) == ["id", "q1"]
    plain = _csv(tmp_path, "id,q1\n1,é\n".encode(), name="p.csv")
    assert plain.provenance.encoding == "utf-8"


def test_explicit_encoding_overrides_detection(tmp_path: Path) -> None:
    sf = _csv(tmp_path, "id,q1\n1,é\n".encode(), encoding="latin-1")
    assert sf.provenance.encoding == "latin-1"
    assert sf.data["q1"].tolist() == ["Ã©"]  # what latin-1 makes of those bytes


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"),
                                                 ("|", "pipe"), (",", "comma")])
def test_delimiter_detected(tmp_path: Path, delimiter: str, name: str) -> None:
    rows = [["id", "q1", "note"], ["1", "2,5", "a"], ["2", "3", "b"]]
    if delimiter == ",":
        rows[1][1] = '"2,5"'
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    sf = _csv(tmp_path, text.encode())
    assert list(sf.data.columns) == ["id", "q1", "note"], name
    assert sf.data["q1"].tolist() == ["2,5", "3"]
    assert f"sep={delimiter!r}" in sf.provenance.reader


def test_trailing_delimiter_column_dropped_blank_header_named(tmp_path: Path) -> None:
    sf = _csv(tmp_path, b"id,,q1,\n1,x,2,\n2,,3,\n")
    assert list(sf.data.columns) == ["id", "column_2", "q1"]


def test_excel_sep_line_honoured(tmp_path: Path) -> None:
    sf = _csv(tmp_path, b"sep=;\nid;q1\n1;a,b\n")
    assert sf.data["q1"].tolist() == ["a,b"]


def test_quoted_newline(tmp_path: Path) -> None:
    sf = _csv(tmp_path, b'id,q1,q2\n1,"one\ntwo",3\n2,x,4\n')
    assert sf.data["q1"].tolist() == ["one\ntwo", "x"]
    assert sf.data["q2"].tolist() == [3, 4]


def test_text_values_survive_and_numbers_only_when_all_numeric(tmp_path: Path) -> None:
    text = ("id,na_text,code,num,blank_num,mixed,plus\n"
            "1,NA,0012,1.5,,1,+5\n"
            "2,None,0013,2,7,x,6\n"
            "3,,0,3e2,8,2,7\n")
    sf = _csv(tmp_path, text.encode())
    d = sf.data
    assert d["na_text"].tolist()[:2] == ["NA", "None"] and pd.isna(d["na_text"].iloc[2])
    assert d["code"].tolist() == ["0012", "0013", "0"]  # leading zeros: stays text
    assert d["num"].tolist() == [1.5, 2.0, 300.0]
    assert pd.isna(d["blank_num"].iloc[0]) and d["blank_num"].tolist()[1:] == [7.0, 8.0]
    assert d["mixed"].tolist() == ["1", "x", "2"]  # one non-number: the column stays text
    assert d["plus"].tolist() == ["+5", "6", "7"]
    assert int(d.isna().sum().sum()) == 2  # exactly the two blank cells


def test_surveymonkey_two_header_csv(tmp_path: Path) -> None:
    text = ("Respondent ID,How safe do you feel after dark?,Why unsafe?,\n"
            ",Response,Drugs,Groups\n"
            "101,Very safe,Drugs,\n102,Fairly safe,,Groups\n")
    sf = _csv(tmp_path, text.encode())
    assert list(sf.data.columns) == ["Respondent ID", "How safe do you feel after dark?",
                                     "Why unsafe? | Drugs", "Why unsafe? | Groups"]
    assert sf.codebook.multi_select == {"Why unsafe?": ("Why unsafe? | Drugs",
                                                        "Why unsafe? | Groups")}


def test_qualtrics_three_header_csv(tmp_path: Path) -> None:
    text = ('ResponseId,Q1\n'
            'Response ID,How safe do you feel?\n'
            '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}"\n'
            'R_1,1\nR_2,2\n')
    sf = _csv(tmp_path, text.encode())
    assert list(sf.data.columns) == ["ResponseId", "Q1"]
    assert sf.codebook.variables["Q1"].question == "How safe do you feel?"
    assert sf.data["Q1"].tolist() == [1, 2]


# --- generated XLSX -----------------------------------------------------------------------

SM_ROW1 = ["Respondent ID", "Start Date", "How safe do you feel walking alone after dark?",
           "Which of these would make you feel safer?", None, None, None,
           "How safe do you feel in the town centre?", None, "What is your age?",
           "Any other comments?"]
SM_ROW2 = [None, None, "Response", "Better street lighting", "More police", "CCTV",
           "Other (please specify)", "During the day", "After dark", "Open-Ended Response",
           "Open-Ended Response"]
SM_DATA = [
    [1001, dt.datetime(2024, 3, 1, 9, 15), "Very safe", "Better street lighting", 1, True,
     None, "Very safe", "Fairly safe", 34, "The park by the river has no lights at all"],
    [1002, dt.datetime(2024, 3, 1, 10, 2), "Fairly unsafe", None, 0, False,
     "Youth club open at weekends", "Fairly safe", "Very unsafe", 51, None],
    [1003, dt.datetime(2024, 3, 2, 18, 40), "A bit unsafe", "Better street lighting", 1,
     None, None, "Fairly safe", "A bit unsafe", 17, "More buses after nine in the evening"],
]


def _xlsx(path: Path, rows: list[list[Any]], title: str = "Sheet1",
          extra: dict[str, list[list[Any]]] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for r in rows:
        ws.append(r)
    for name, more in (extra or {}).items():
        other = wb.create_sheet(name)
        for r in more:
            other.append(r)
    wb.save(path)
    return path


def test_surveymonkey_two_header_xlsx(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "sm.xlsx", [SM_ROW1, SM_ROW2, *SM_DATA])
    sf = read_survey(path)
    q_safer = "Which of these would make you feel safer?"
    assert list(sf.data.columns) == [
        "Respondent ID",
        "How safe do you feel walking alone after dark?",
        f"{q_safer} | Better street lighting",
        f"{q_safer} | More police",
        f"{q_safer} | CCTV",
        "How safe do you feel in the town centre? | During the day",
        "How safe do you feel in the town centre? | After dark",
        "What is your age?",
    ]
    flagged = {f.name: f.kind for f in sf.flagged}
    assert flagged == {"Start Date": "timestamp", f"{q_safer} | Other (please specify)":
                       "free_text", "Any other comments?": "free_text"}
    v = sf.codebook.variables[f"{q_safer} | More police"]
    assert (v.question, v.option) == (q_safer, "More police")
    dark = sf.codebook.variables["How safe do you feel walking alone after dark?"]
    assert (dark.question, dark.option) == ("How safe do you feel walking alone after dark?",
                                            "Response")
    # the Other box was dropped, so the group holds the three tick columns; the town-centre
    # matrix holds answer labels, not ticks, so it is not a multi-select group
    assert dict(sf.codebook.multi_select) == {q_safer: (
        f"{q_safer} | Better street lighting", f"{q_safer} | More police", f"{q_safer} | CCTV")}
    d = sf.data
    assert d[f"{q_safer} | Better street lighting"].tolist()[0] == "Better street lighting"
    assert pd.isna(d[f"{q_safer} | Better street lighting"].iloc[1])
    assert d[f"{q_safer} | More police"].tolist() == [1, 0, 1]
    assert d[f"{q_safer} | CCTV"].tolist()[:2] == [True, False]
    assert pd.isna(d[f"{q_safer} | CCTV"].iloc[2])
    assert d["What is your age?"].tolist() == [34, 51, 17]  # numbers stay numbers
    assert d["Respondent ID"].dtype == np.int64
    assert "2 header rows" in sf.provenance.reader


def test_two_header_detected_from_blank_row1_cells(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["id", "Which apply?", None], [None, "Drugs", "Groups"],
                             [1, "Drugs", None], [2, None, "Groups"]]
    sf = read_survey(_xlsx(tmp_path / "b.xlsx", rows))
    assert list(sf.data.columns) == ["id", "Which apply? | Drugs", "Which apply? | Groups"]


def test_header_rows_override(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "sm.xlsx", [SM_ROW1[:3], SM_ROW2[:3], SM_DATA[0][:3]])
    sf = read_survey(path, header_rows=1, keep={"Start Date": "test"})
    assert list(sf.data.columns) == SM_ROW1[:3]
    assert sf.data["How safe do you feel walking alone after dark?"].tolist() == [
        "Response", "Very safe"]


def test_xlsx_types_blank_cells_and_sheet_choice(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["id", "q1", "q2", "when", "flag"], [1, "Yes", 2.5, dt.datetime(2024, 1, 2), True],
        [2, "", None, None, False], [3, "No", 4, dt.datetime(2024, 1, 3), None],
        [None, None, None, None, None],  # a formatted but empty row: not a respondent
    ]
    path = _xlsx(tmp_path / "t.xlsx", [["cover sheet"]], title="Cover",
                 extra={"Data": rows})
    sf = read_survey(path, sheet="Data")
    d = sf.data
    assert len(d) == 3
    assert d["q1"].tolist()[0] == "Yes" and pd.isna(d["q1"].iloc[1])
    assert d["q2"].dtype == np.float64 and pd.isna(d["q2"].iloc[1])
    assert d["when"].dtype.kind == "M" and pd.isna(d["when"].iloc[1])
    assert d["flag"].tolist()[:2] == [True, False]
    assert "'Data'" in sf.provenance.reader
    by_index = read_survey(path, sheet=1)
    pd.testing.assert_frame_equal(by_index.data, d)
    with pytest.raises(IngestError, match="no data rows"):
        read_survey(path)  # the first sheet (the default) is a cover sheet


def test_readers_registry_covers_the_brief() -> None:
    assert set(READERS) == {".sav", ".zsav", ".por", ".dta", ".csv", ".xlsx"}
