"""The rules a draft crosswalk applies by itself: ids, metadata, codes, age bands, targets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
import yaml

from harmonise.crosswalk.draft_inputs import date_range
from harmonise.crosswalk.draft_rules import (
    TargetsChoice,
    code_for,
    fit_margin,
    is_respondent_id,
    metadata_reason,
    nest_bands,
    parse_band,
    targets_choices,
)


@pytest.mark.parametrize("name", ["ID", "RespID", "Respondent ID", "UserNo", "Response ID",
                                  "_uuid", "_id", "Submission ID", "Unique ID", "serial"])
def test_respondent_id_names(name: str) -> None:
    assert is_respondent_id(name, pd.Series([3, 1, 2]))


def test_an_id_must_be_unique_and_present() -> None:
    assert not is_respondent_id("ID", pd.Series([1, 1, 2]))
    assert not is_respondent_id("ID", pd.Series([1, None, 2]))
    assert not is_respondent_id("Age", pd.Series([1, 2, 3]))


@pytest.mark.parametrize("name", ["Status", "Collector ID", "Duration (in seconds)",
                                  "Progress", "Finished", "UserLanguage", "Started", "End",
                                  "_submission_time", "_validation_status", "meta/instanceID",
                                  "Custom Data 1", "Response Type", "Distribution Channel"])
def test_platform_metadata_is_not_an_item(name: str) -> None:
    assert metadata_reason(name, pd.Series(["a", "b"])) == (
        "platform metadata (not a survey question)")


def test_timestamps_and_per_row_texts_are_not_items() -> None:
    stamps = pd.Series(pd.to_datetime(["2025-10-01 09:00", "2025-10-02 10:00"]))
    assert "timestamp" in str(metadata_reason("When", stamps))
    tokens = pd.Series([f"tok{i:04d}" for i in range(40)])
    assert "almost every row" in str(metadata_reason("Token", tokens))
    answers = pd.Series(["Very safe", "Fairly safe"] * 20)
    assert metadata_reason("How safe do you feel?", answers) is None
    assert metadata_reason("How old are you?", pd.Series(range(40))) is None  # numbers


@pytest.mark.parametrize(("label", "code"), [
    ("Very safe", "very_safe"), ("18-24", "18_24"), ("65+", "65_plus"),
    ("75 and over", "75_plus"), ("Under 18", "0_17"), ("Don't know", "dont_know"),
    ("High Town", "high_town"), ("Ëlla's café", "ellas_cafe"), ("", "value")])
def test_codes_are_clean_slugs(label: str, code: str) -> None:
    assert code_for(label) == code
    assert not code_for(label).startswith("v_")


@pytest.mark.parametrize(("text", "band"), [
    ("18-24", (18, 24)), ("18 to 24", (18, 24)), ("18–24", (18, 24)), ("65+", (65, None)),
    ("65 and over", (65, None)), ("Aged 16-17", (16, 17)), ("Under 16", (0, 15)),
    ("18_34", (18, 34)), ("65_plus", (65, None)), ("Prefer not to say", None),
    ("24-18", None)])
def test_age_bands_are_read(text: str, band: tuple[int, int | None] | None) -> None:
    assert parse_band(text) == band


def test_finer_bands_nest_into_the_targets_bands_or_not_at_all() -> None:
    census = ("18_34", "35_49", "50_64", "65_plus")
    assert nest_bands(["18-24", "25-34", "65-74", "75+"], census) == {
        "18-24": "18_34", "25-34": "18_34", "65-74": "65_plus", "75+": "65_plus"}
    assert nest_bands(["16-24"], census) is None  # straddles the 18 edge
    assert nest_bands(["30-39"], census) is None  # straddles 34/35
    assert nest_bands(["20", "36", "90"], census) == {"20": "18_34", "36": "35_49",
                                                      "90": "65_plus"}


def test_targets_choices_and_fitting_answers() -> None:
    table = pd.DataFrame({
        "area_code": ["E1"] * 6, "area_name": ["Luton"] * 6,
        "population": ["adults_18plus"] * 6,
        "variable": ["sex", "sex", "area", "area", "age_band", "age_band"],
        "category": ["female", "male", "biscot", "high_town", "18_44", "45_plus"]})
    (choice,) = targets_choices("surveys/targets/t.csv", table)
    assert choice == TargetsChoice("surveys/targets/t.csv", "E1", "Luton", "adults_18plus",
                                   {"sex": ("female", "male"),
                                    "area": ("biscot", "high_town"),
                                    "age_band": ("18_44", "45_plus")})
    assert fit_margin("area", ["Biscot", "High Town"], choice) == {
        "Biscot": "biscot", "High Town": "high_town"}
    assert fit_margin("area", ["Biscot", "Dunstable"], choice) is None
    assert fit_margin("sex", ["Female", "Male"], choice) == {"Female": "female",
                                                              "Male": "male"}
    assert fit_margin("age_band", ["18-24", "75+"], choice) == {"18-24": "18_44",
                                                                "75+": "45_plus"}


def test_fieldwork_dates_from_text_or_datetimes() -> None:
    text = pd.Series(["03/11/2025 09:14:05", "30/11/2025 21:00:00", None])
    assert date_range(text) == (dt.date(2025, 11, 3), dt.date(2025, 11, 30))
    google = pd.Series(["2025/11/03 9:14:05 am GMT", "2025/11/20 1:00:00 pm GMT"])
    assert date_range(google) == (dt.date(2025, 11, 3), dt.date(2025, 11, 20))
    assert date_range(pd.Series(["Very safe", "Fairly safe"])) is None


def test_answers_matching_a_scale_get_its_codes_without_a_concept(schema: Any) -> None:
    from harmonise.crosswalk.draft import draft_crosswalk
    from helpers import survey_file

    answers = ["A very big problem", "A fairly big problem", "Not a very big problem",
               "Not a problem at all", "Don't know"] * 4
    data = pd.DataFrame({"ID": range(1, 21), "Litter round here?": answers})
    raw = yaml.safe_load(draft_crosswalk(survey_file(data, name="x.csv"), schema))
    (item,) = raw["items"]
    assert item["concept"] is None and item["scale"] == "problem4"
    assert item["recode"] == {"A very big problem": "very_big",
                              "A fairly big problem": "fairly_big",
                              "Not a very big problem": "not_very_big",
                              "Not a problem at all": "not_a_problem"}
    assert item["missing"] == {"Don't know": "dont_know"}
    assert raw["respondent_id"] == "ID" and item["comparability"] == "unassessed"


def test_columns_the_platform_layout_marks_are_not_items(schema: Any) -> None:
    from dataclasses import replace

    from harmonise.crosswalk.draft import draft_crosswalk
    from helpers import survey_file

    data = pd.DataFrame({"Response ID": [f"R_{i}" for i in range(20)],
                         "Progress": [100] * 20,
                         "How safe do you feel walking alone in this area after dark?":
                             ["Very safe", "Fairly safe"] * 10})
    sf = survey_file(data, name="q.csv")
    variables = dict(sf.codebook.variables)
    variables["Response ID"] = replace(variables["Response ID"], role="respondent_id")
    variables["Progress"] = replace(variables["Progress"], role="metadata")
    sf = replace(sf, codebook=replace(sf.codebook, variables=variables,
                                      platform="Qualtrics"))
    raw = yaml.safe_load(draft_crosswalk(sf, schema))
    assert raw["respondent_id"] == "Response ID"
    assert "Qualtrics layout" in raw["unmapped"]["Progress"]
    assert [i["source"] for i in raw["items"]] == [
        "How safe do you feel walking alone in this area after dark?"]
    assert "online self-completion (Qualtrics)" in raw["mode"]
