"""The eleven real platform exports in /work/shared/peer-data/platforms/ (see its SOURCES.md),
read with no flags as each platform means: respondent rows, question columns, multi-select
groups with their options, numbers as numbers, platform metadata kept (with a role) or
dropped as identifying, and `inspect` printing no value of a dropped column.

The files are read from the shared folder by absolute path (never copied here); the tests
skip when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.ingest import read_survey
from harmonise.ingest.multiselect import OTHER
from harmonise.models.survey import SurveyFile

SHARED = Path("/work/shared/peer-data/platforms")
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="shared platform exports absent")


def _read(name: str) -> SurveyFile:
    return read_survey(SHARED / name)


def _flagged(sf: SurveyFile) -> dict[str, str]:
    return {f.name: f.kind for f in sf.flagged if not f.kept}


def _roles(sf: SurveyFile) -> dict[str, str]:
    return {k: v.role for k, v in sf.codebook.variables.items() if v.role}


def test_qualtrics_2017_export_three_header_rows() -> None:
    sf = _read("qualtrics_sample.csv")
    assert sf.codebook.platform == "Qualtrics" and len(sf.data) == 1
    assert _roles(sf)["ResponseId"] == "respondent_id"
    flagged = _flagged(sf)
    assert {flagged[c] for c in ("StartDate", "EndDate", "RecordedDate")} == {"timestamp"}
    assert flagged["IPAddress"] == "ip_address"
    assert flagged["LocationLatitude"] == flagged["LocationLongitude"] == "location"
    assert flagged["RecipientEmail"] == "email" and flagged["RecipientFirstName"] == "name"
    assert sf.data["Q1"].tolist() == [2] and pd.api.types.is_integer_dtype(sf.data["Q1"])


def test_qualtrics_legacy_export_v_row_and_trailing_commas() -> None:
    sf = _read("qualtrics_legacy_sample.csv")
    assert sf.codebook.platform == "Qualtrics" and len(sf.data) == 1  # not the names row
    columns = list(sf.data.columns)
    assert not [c for c in columns if c.startswith(("V", "column_"))]
    assert {"ResponseID", "Status", "Finished", "Q1"} <= set(columns)
    assert sf.codebook.variables["Q1"].label == "This is a multiple choice question."
    assert sf.data["Q1"].tolist() == [2]
    flagged = _flagged(sf)
    assert flagged["IPAddress"] == "ip_address" and flagged["StartDate"] == "timestamp"
    assert flagged["LocationLatitude"] == "location" and flagged["Q2"] == "free_text"


def test_qualtrics_2016_single_quoted_import_ids_group_multi_answer_questions() -> None:
    sf = _read("qualtrics_2017_multianswer.csv")
    assert sf.codebook.platform == "Qualtrics" and len(sf.data) == 5
    groups = sf.codebook.groups
    assert {k: len(g.members) for k, g in groups.items()} == {
        "Q2": 3, "Q4": 3, "Q3": 5, "Q5": 7, "mc_question_five": 3}
    # Q3_1 was never ticked: still an option of its question
    assert "Q3_1" in groups["Q3"].members and sf.data["Q3_1"].tolist() == [0.0] * 5
    assert sf.data["Q2_1"].tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    info = sf.codebook.variables["Q2_1"]
    assert (info.question, info.option) == ("Click to write the question text",
                                            "Click to write Statement 1")
    assert pd.api.types.is_integer_dtype(sf.data["Finished"])
    flagged = _flagged(sf)
    assert flagged["StartDate"] == "timestamp" and flagged["LocationLongitude"] == "location"
    assert flagged["mc_question_five_2_TEXT"] == "free_text"


@pytest.mark.parametrize("name", ["googleforms_rcommunity2019_first650.csv",
                                  "googleforms_rcommunity2019.xlsx"])
def test_google_forms_checkboxes_split_into_options_and_other(name: str) -> None:
    sf = _read(name)
    assert sf.codebook.platform == "Google Forms"
    assert len(sf.data) == (650 if name.endswith(".csv") else 1838)
    assert _flagged(sf)["Timestamp"] == "timestamp"
    groups = {g.name: g for g in sf.codebook.groups.values()}
    ethnicity = groups["I identify my ethnicity as (select all that apply):"]
    assert set(ethnicity.options) == {"White", "Hispanic/Latinx", "Asian", "Black/African",
                                      "Prefer not to answer", OTHER}
    events = groups["Which of the following events have you attended, if any? Check all "
                    "that apply."]
    assert "R Ladies meetups (local, regional, national, or international)" in events.options
    assert not [o for o in events.options if ", " in o and "R Ladies" not in o]
    typed = sf.data[f"{ethnicity.name} | {OTHER}"]
    assert typed.sum() >= 20  # typed "Other" answers flagged, their words not kept
    assert not any("Wookie" in str(c) for c in sf.data.columns)
    learned = sf.data["How did you learn R? If you used multiple methods, please select the "
                      "one you used the most."]
    counts = learned.value_counts()
    assert OTHER in counts and counts.min() >= 2  # one-off typed answers: "Other (typed)"
    likely = "How likely are you to recommend R to a colleague, friend, or family member?"
    assert pd.api.types.is_numeric_dtype(sf.data[likely])


def test_kobo_csv_hxl_row_option_columns_and_metadata() -> None:
    sf = _read("kobo_default_csv_export.csv")
    assert sf.codebook.platform == "KoboToolbox" and len(sf.data) == 3  # HXL row skipped
    q = "What kind of symmetry do you have?"
    group = sf.codebook.groups[q]
    assert group.options == ("Spherical", "Radial", "Bilateral")
    assert sf.codebook.variables[q].role == "metadata"  # the space-joined copy
    assert sf.data[f"{q}/Radial"].tolist() == [1.0, 1.0, 0.0]
    assert sf.data["How many segments does your body have?"].tolist() == [6, 3, 2]
    flagged = _flagged(sf)
    assert flagged["_submitted_by"] == "username"
    assert {flagged[c] for c in ("start", "end", "_submission_time")} == {"timestamp"}
    assert _roles(sf)["_uuid"] == "respondent_id" and _roles(sf)["_index"] == "metadata"


def test_kobo_xlsx_group_paths_rank_and_name() -> None:
    sf = _read("kobo_xls_rank_groups.xlsx")
    assert sf.codebook.platform == "KoboToolbox" and len(sf.data) == 7
    path = "group_ta7dy01/group_question_2_number"
    assert sf.codebook.variables[path].label == "group_question_2_number"  # names unchanged
    assert "rank_them/_1st_choice" in sf.data.columns and not sf.codebook.groups
    flagged = _flagged(sf)
    assert flagged["Type_your_name"] == "name" and flagged["start"] == "timestamp"
    assert flagged["What_about_time"] == "timestamp"  # date-times: dropped on content


def test_kobo_xlsx_repeat_group_sheet_reported_not_read() -> None:
    sf = _read("kobo_xls_repeat_group.xlsx")
    assert len(sf.data) == 5
    assert any("family_members" in n and "repeat group" in n for n in sf.codebook.notes)
    flagged = _flagged(sf)
    assert flagged["Enter_name"] == "name" and flagged["Upload_an_image"] == "attachment"
    assert flagged["_submitted_by"] == "username"


def test_odk_briefcase_choice_columns() -> None:
    sf = _read("odk_briefcase_choice_lists.csv")
    assert sf.codebook.platform == "ODK Briefcase" and len(sf.data) == 1
    assert sf.codebook.groups["some_string"].options == ("CHOICE_1", "CHOICE_2")
    assert sf.data["some_string/CHOICE_1"].tolist() == [1.0]
    assert sf.codebook.variables["some_string"].role == "metadata"
    assert _flagged(sf)["SubmissionDate"] == "timestamp"
    assert _roles(sf)["KEY"] == "respondent_id"


def test_surveymonkey_two_header_rows() -> None:
    sf = _read("surveymonkey_starwars.csv")
    assert sf.codebook.platform == "SurveyMonkey" and len(sf.data) == 1186
    assert [len(g.members) for g in sf.codebook.groups.values()] == [6]  # not the grids
    assert _roles(sf)["RespondentID"] == "respondent_id"
    steak = _read("surveymonkey_steak.csv")
    assert len(steak.data) == 550 and not [c for c in steak.data.columns if "<br>" in c]


IDENTIFYING_VALUES = ("130.92.34.66", "73.112.5.59", "47.115097045898", "42.401901245117",
                      "7.2315979003906", "-71.119300842285", "anotheruser", "dyaqub",
                      "isabelle", "stella", "Noah", "2017-07-18 08:28", "2017-10-23T05:4",
                      "2024-01-02 13:5", "Apr 26, 2018", "2023-02-27 17:00", "blueberries")


@pytest.mark.parametrize("name", sorted(p.name for p in SHARED.glob("*.*")
                                        if p.suffix in (".csv", ".xlsx")) if SHARED.is_dir()
                         else ["none"])
def test_inspect_prints_no_identifying_value(name: str) -> None:
    result = CliRunner().invoke(main, ["inspect", str(SHARED / name), "--json"])
    assert result.exit_code == 0, result.output
    leaked = [v for v in IDENTIFYING_VALUES if v in result.output]
    assert not leaked
