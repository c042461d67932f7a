"""Export quirks: one-cell multi-select, UK/US dates, postcode districts, SPSS dictionaries."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from harmonise.errors import IngestError
from harmonise.ingest import read_survey
from harmonise.ingest.multiselect import infer_options, split_cells
from harmonise.ingest.savcheck import check_sav_dictionary
from harmonise.privacy import postcode_district

PEER = Path("/work/shared/peer-data/pyreadstat")


def _csv(tmp: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_microsoft_forms_semicolons_with_trailing_semicolon(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,What would help?\n1,CCTV;Better lighting;\n2,CCTV;\n3,\n"
                          "4,More police;Better lighting;\n")
    sf = read_survey(path)
    group = sf.codebook.groups["What would help?"]
    assert group.how == "split_cell" and group.separator == ";"
    assert group.options == ("CCTV", "Better lighting", "More police")
    assert "What would help?" not in sf.data.columns
    assert list(sf.codebook.multi_select["What would help?"]) == [
        "What would help? | CCTV", "What would help? | Better lighting",
        "What would help? | More police"]
    cctv = sf.data["What would help? | CCTV"]
    assert cctv.iloc[:2].tolist() == [1.0, 1.0] and cctv.iloc[3] == 0.0
    assert pd.isna(cctv.iloc[2])  # blank cell: question not answered, not "unticked"
    info = sf.codebook.variables["What would help? | Better lighting"]
    assert (info.question, info.option) == ("What would help?", "Better lighting")


def test_google_forms_commas_split_against_options_longest_first(tmp_path: Path) -> None:
    rows = ["Drugs, alcohol", "Poor lighting", "Drugs, alcohol, Poor lighting", "Gangs",
            "Gangs, Drugs, alcohol", "Poor lighting, Gangs"]
    text = "id,Why unsafe\n" + "".join(f'{i},"{r}"\n' for i, r in enumerate(rows, 1))
    sf = read_survey(_csv(tmp_path, text))
    group = sf.codebook.groups["Why unsafe"]
    assert group.separator == ", "
    assert set(group.options) == {"Drugs, alcohol", "Poor lighting", "Gangs"}
    assert sf.data["Why unsafe | Drugs, alcohol"].tolist() == [1, 0, 1, 0, 1, 0]
    assert sf.data["Why unsafe | Gangs"].tolist() == [0, 0, 0, 1, 1, 1]


def test_single_choice_with_commas_in_labels_is_not_split(tmp_path: Path) -> None:
    text = 'id,Q\n1,"Yes, a lot"\n2,"Yes, a little"\n3,No\n4,"Yes, a lot"\n'
    sf = read_survey(_csv(tmp_path, text))
    assert "Q" in sf.data.columns and not sf.codebook.groups


@pytest.mark.parametrize(("cells", "options", "expected"), [
    (["A, B", "A", "B"], None, [("A", "B"), ("A",), ("B",)]),
    (["A, B, C"], ["A, B", "C"], [("A, B", "C")]),
    (["A, B, C"], ["A", "B", "C", "A, B"], [("A, B", "C")]),  # longest match first
    (["A, X"], ["A", "B"], None),  # does not split into known options
], ids=["inferred", "given", "longest-first", "unknown-option"])
def test_split_cells_table(cells: list[str], options: list[str] | None,
                           expected: list[tuple[str, ...]] | None) -> None:
    assert split_cells(cells, ", ", options)[1] == expected


def test_infer_options_keeps_options_seen_alone() -> None:
    assert set(infer_options(["Yes, a lot", "No", "Yes, a lot, No"])) == {"Yes, a lot", "No"}


@pytest.mark.parametrize(("dates", "day_first", "evidence"), [
    (["25/11/2024", "01/02/2024"], True, "day first"),
    (["11/25/2024", "01/02/2024"], False, "month first"),
    (["03/04/24", "01/02/2024"], True, "assumed (UK)"),
], ids=["uk", "us", "ambiguous-assumes-uk"])
def test_dates_order_decided_per_file(tmp_path: Path, dates: list[str], day_first: bool,
                                      evidence: str) -> None:
    text = "id,when\n" + "".join(f"{i},{d}\n" for i, d in enumerate(dates, 1))
    sf = read_survey(_csv(tmp_path, text))
    assert str(sf.data["when"].dtype).startswith("datetime64")
    second = sf.data["when"].iloc[1]
    assert (second.day, second.month) == ((1, 2) if day_first else (2, 1))
    assert any(evidence in n for n in sf.codebook.notes)


def test_dates_decided_across_columns_not_per_row(tmp_path: Path) -> None:
    # column a alone is ambiguous; column b proves day first for the whole file
    text = "id,a,b\n1,01/02/2024,13/01/2024\n2,03/04/2024,01/01/2024\n"
    sf = read_survey(_csv(tmp_path, text))
    assert (sf.data["a"].iloc[0].day, sf.data["a"].iloc[0].month) == (1, 2)


def test_postcode_reduced_to_district_only_when_asked(tmp_path: Path) -> None:
    text = "id,Postcode\n1,LU1 1AA\n2,lu2 7bb\n3,MK45 2DD\n4,not given\n"
    path = _csv(tmp_path, text)
    assert "Postcode" not in read_survey(path).data.columns  # dropped by default
    sf = read_survey(path, postcode_district={"Postcode": "ward lookup for weighting"})
    assert sf.data["Postcode"].tolist()[:3] == ["LU1", "LU2", "MK45"]
    assert pd.isna(sf.data["Postcode"].iloc[3])
    flag = next(f for f in sf.flagged if f.name == "Postcode")
    assert flag.kept and flag.kept_reason == "district only: ward lookup for weighting"
    assert "1 value(s) that are not postcodes blanked" in flag.reason
    assert "1AA" not in flag.reason and "not given" not in flag.reason


@pytest.mark.parametrize(("keep", "district", "fragment"), [
    (None, {"Nope": "x"}, "postcode_district names column(s) ['Nope']"),
    (None, {"Postcode": " "}, "postcode_district gives no reason"),
    ({"Postcode": "a"}, {"Postcode": "b"}, "in both keep and postcode_district"),
], ids=["unknown-column", "no-reason", "both"])
def test_postcode_district_option_checked(tmp_path: Path, keep: dict[str, str] | None,
                                          district: dict[str, str], fragment: str) -> None:
    path = _csv(tmp_path, "id,Postcode\n1,LU1 1AA\n2,LU2 7BB\n")
    with pytest.raises(IngestError, match=re.escape(fragment)):
        read_survey(path, keep=keep, postcode_district=district)


@pytest.mark.parametrize(("value", "district"), [
    ("LU1 1AA", "LU1"), ("lu11aa", "LU1"), ("SW1A 1AA", "SW1A"), ("LU1", "LU1"),
    ("LU1 1", "LU1"), ("hello", None), (12345, None)])
def test_postcode_district_table(value: object, district: str | None) -> None:
    assert postcode_district(value) == district


@pytest.mark.skipif(not PEER.is_dir(), reason="peer data folder not present")
def test_sav_dictionary_check_accepts_every_peer_file() -> None:
    for path in sorted(PEER.glob("*.*sav")):
        check_sav_dictionary(path.name, path.read_bytes())


def test_bundled_sav_multi_select_group_is_declared_or_dichotomies(root: Path) -> None:
    sf = read_survey(root / "surveys/bedford/bedford-residents-2024.sav")
    group = sf.codebook.groups["Q3"]
    assert group.how in ("mr_set", "dichotomies") and len(group.members) == 6
