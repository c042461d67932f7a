"""Identifying columns are found by header and by content, dropped, and never leak."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from harmonise.errors import IngestError
from harmonise.ingest import read_survey
from harmonise.models.survey import VariableInfo
from harmonise.privacy import classify, detect_identifying, words

N = 12
EMAILS = [f"person{i}@example.org" for i in range(N)]
POSTCODES = ["MK40 1AA", "LU1 3JU", "SG19 2BD", "MK42 9XY", "LU4 0HE", "MK41 7QT",
             "SG18 8AR", "LU2 9PL", "MK45 1EE", "LU6 3LR", "MK44 2SA", "SG17 5TQ"]
PHONES = ["07700 900123", "01234 567890", "+44 7700 900456", "0207-946-0018", "(01582) 400100",
          "07700900789", "01525 123456", "07911 123456", "01767 600700", "07700 900999",
          "01234 700800", "0044 7700 900321"]
IPS = ["192.0.2.1", "198.51.100.7", "203.0.113.9", "2001:db8::1", "10.0.0.12", "172.16.5.4",
       "192.0.2.55", "198.51.100.200", "203.0.113.77", "10.1.2.3", "172.31.0.9", "::1"]
DOBS = [dt.date(1950 + 4 * i, 1 + i % 12, 1 + i) for i in range(N)]
NAMES = ["Amy Patel", "John Smith", "Sarah O'Neil", "Tom Brown", "Priya Shah", "Mark Jones",
         "Zoe Clarke", "Adam Khan", "Ruth Green", "Liam Walsh", "Nina Ahmed", "Owen Price"]
COMMENTS = [f"I feel unsafe near the station because of {w}" for w in
            ["groups", "drugs", "lighting", "traffic", "dogs", "noise", "litter", "fights",
             "cars", "gangs", "bikes", "shouting"]]
SCHOOLS = ["Bedford Academy", "Sharnbrook Academy", "Luton Sixth Form College",
           "Stopsley High School"] * 3


def _identifying_frame(neutral_names: bool) -> pd.DataFrame:
    """Identifying columns (named neutrally to test content rules) and coded ones."""
    names = (["c1", "c2", "c3", "c4", "c5", "c6", "c7"] if neutral_names else
             ["Email address", "Postcode", "Telephone", "IP Address", "Date of birth",
              "Comments", "Full name"])
    return pd.DataFrame({
        names[0]: EMAILS, names[1]: POSTCODES, names[2]: PHONES, names[3]: IPS,
        names[4]: DOBS, names[5]: COMMENTS, names[6]: NAMES,
        # coded and id columns that must never be flagged
        "respondent_id": [f"R{i:04d}" for i in range(N)],
        "serial": list(range(1000, 1000 + N)),
        "age": [15, 16, 34, 51, 67, 22, 45, 38, 71, 29, 19, 56],
        "sex": ["Female", "Male"] * 6,
        "ward": ["E05000001", "E05000002", "E05000003"] * 4,
        "ward_name": ["Kingsbrook", "Castle", "De Parys"] * 4,
        "q1_safe_dark": [1, 2, 3, 4, 2, 1, 2, 3, 1, 2, 4, 3],
        "q2_problem": ["Not a very big problem", "Fairly big problem", "Very big problem",
                       "Not a problem at all"] * 3,
        "postcode_district": ["MK40", "LU1", "SG19"] * 4,
        "May we email you the results?": ["Yes", "No"] * 6,
        "How safe is your school?": ["Very safe", "Fairly safe", "A bit unsafe"] * 4,
    })


EXPECTED = {"email", "postcode", "phone", "ip_address", "date_of_birth", "free_text", "name"}
CODED = ["respondent_id", "serial", "age", "sex", "ward", "ward_name", "q1_safe_dark",
         "q2_problem", "postcode_district", "May we email you the results?",
         "How safe is your school?"]


@pytest.mark.parametrize("neutral_names", [True, False], ids=["by-content", "by-header"])
def test_identifying_columns_flagged_and_coded_not(neutral_names: bool) -> None:
    frame = _identifying_frame(neutral_names)
    flagged = detect_identifying(frame)
    assert sorted(f.kind for f in flagged) == sorted(EXPECTED)
    assert not {f.name for f in flagged} & set(CODED)
    for f in flagged:
        assert ("content" in f.reason) == neutral_names, f
        for value in [*EMAILS, *POSTCODES, *NAMES, *PHONES, *IPS]:
            assert value not in f.reason


def test_labels_and_question_text_are_read() -> None:
    info = VariableInfo(name="q9", dtype="str", label="What is your date of birth?")
    assert classify("q9", pd.Series(["01/02/2009", "15/07/2010"]), info) is not None
    opt = VariableInfo(name="Q7", dtype="str", question="What would help?",
                       option="Open-Ended Response")
    found = classify("Q7", pd.Series(["no", "more police please"]), opt)
    assert found is not None and found[0] == "free_text" and "option text" in found[1]


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("Timestamp", [dt.datetime(2024, 3, 1, 9, i) for i in range(5)], "timestamp"),
        ("StartDate", ["2024-03-01 09:15:00", "2024-03-01 09:20:00"], "timestamp"),
        ("Which school do you go to?", ["Bedford Academy", "Bedford Academy"], "school"),
        ("q4", SCHOOLS, "school"),
        ("school_code", [101, 102, 101, 103], None),  # a coded school: not identifying
        ("RecipientFirstName", ["Amy", "John", "Sarah"], "name"),
        ("LocationLatitude", [52.13, 52.14, 51.88], "location"),
        ("Q3_4_TEXT", ["skate park", "no"], "free_text"),
        ("What is your age? | Open-Ended Response", [15, 16, 14, 15], None),
        ("postcode", ["MK40", "LU1 3"], None),  # partial postcodes: area-level
        ("postcode", ["MK40 1AA", "LU1"], "postcode"),
        ("Were you born in the UK?", ["Yes", "No", "Yes", "Yes"], None),
        ("Mobile phone number", [7700900123, 7700900456], "phone"),
        ("Do you have a mobile phone?", ["Yes", "No", "Yes", "No"], None),
        ("Name", [], "name"),  # nobody answered: still dropped, nothing is lost
        ("ResponseId", ["R_0001xAxQxIo2PVH", "R_000FDoYPxMzjq4Z"], None),
        ("mydate", [dt.date(2018, 5, 6), dt.date(1880, 5, 6), dt.date(1960, 1, 1),
                    dt.date(1583, 1, 1)], None),  # dates, but not of birth
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_rules_table(name: str, values: list[object], expected: str | None) -> None:
    found = classify(name, pd.Series(values, dtype=object if values else "str"))
    assert (found[0] if found else None) == expected, found


def test_labelled_codes_are_answers_whatever_the_label_says() -> None:
    info = VariableInfo(name="q20", dtype="float64", label="May we e-mail you the results?",
                        value_labels={1.0: "Yes", 2.0: "No"})
    assert classify("q20", pd.Series([1.0, 2.0]), info) is None
    assert classify("q20", pd.Series([1.0, 2.0])) is None  # no header hint, no content hint


def test_empty_open_question_still_dropped() -> None:
    found = classify("Any other comments?", pd.Series([None, None], dtype="str"))
    assert found is not None and found[0] == "free_text"


def test_words_splits_camel_case_and_punctuation() -> None:
    assert words("RecipientEmail") == "recipient email"
    assert words("IPAddress") == "ip address"
    assert words("Date-of-Birth") == "date of birth"


def _write_csv(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    return path


def test_read_survey_drops_flagged_columns_and_never_leaks(tmp_path: Path) -> None:
    frame = _identifying_frame(neutral_names=True)
    sf = read_survey(_write_csv(tmp_path, frame))
    assert sorted(f.kind for f in sf.flagged) == sorted(EXPECTED)
    dropped = {f.name for f in sf.flagged}
    assert not dropped & set(sf.data.columns)
    assert not dropped & set(sf.codebook.variables)
    assert list(sf.data.columns) == CODED
    assert sf.provenance.n_columns == len(CODED)
    everything = " ".join([repr(sf), sf.data.to_csv(), repr(sf.codebook), repr(sf.flagged),
                           repr(sf.provenance)])
    for value in [*EMAILS, *POSTCODES, *NAMES, *PHONES, *IPS]:
        assert value not in everything
    assert "@" not in everything


def test_spss_identifying_column_dropped_from_codebook(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": [1.0, 2.0, 3.0], "email": ["a@b.org", "c@d.org", "e@f.org"],
                       "q1": [1.0, 2.0, 1.0]})
    path = tmp_path / "s.sav"
    pyreadstat.write_sav(df, str(path), column_labels={"email": "Your e-mail"},
                         variable_value_labels={"q1": {1.0: "Yes", 2.0: "No"}})
    sf = read_survey(path)
    assert [f.name for f in sf.flagged] == ["email"]
    assert "email" not in sf.codebook.variables and "email" not in sf.data.columns
    assert "@" not in repr(sf)


def test_keep_overrides_a_flag_with_the_reason(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3, 4],
                          "School": ["Bedford Academy", "Sharnbrook Academy"] * 2,
                          "q1": [1, 2, 1, 2]})
    path = _write_csv(tmp_path, frame)
    assert "School" not in read_survey(path).data.columns
    sf = read_survey(path, keep={"School": "cluster (PSU) of the pupil design"})
    assert "School" in sf.data.columns and "School" in sf.codebook.variables
    (flag,) = sf.flagged
    assert flag.kind == "school"
    assert flag.reason.startswith("kept: cluster (PSU) of the pupil design")


@pytest.mark.parametrize(
    ("keep", "fragment"),
    [({"Shcool": "cluster"}, "not in the file"), ({"School": "  "}, "no reason")],
    ids=["unknown-column", "blank-reason"],
)
def test_keep_must_name_a_column_and_give_a_reason(tmp_path: Path, keep: dict[str, str],
                                                   fragment: str) -> None:
    frame = pd.DataFrame({"id": [1, 2], "School": ["Bedford Academy", "Sharnbrook Academy"]})
    with pytest.raises(IngestError, match=fragment):
        read_survey(_write_csv(tmp_path, frame), keep=keep)
