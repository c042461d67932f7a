"""Recoding through a crosswalk: totality, the audit, and loud failures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonise.errors import CrosswalkError, UnmappedValueError
from harmonise.models.crosswalk import normalise_value
from harmonise.recode import apply_crosswalk, check_against_schema
from helpers import SAFE5, crosswalk, ref, safe_item, survey_file


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "1"),
        (1.0, "1"),
        (np.int8(1), "1"),
        (2.5, "2.5"),
        (float("nan"), "(blank)"),
        (None, "(blank)"),
        ("  ", "(blank)"),
        ("Don’t  know ", "don't know"),
        ("VERY SAFE", "very safe"),
        ("NA", "na"),
        (True, "true"),
    ],
    ids=repr,
)
def test_normalise_value(value: object, expected: str) -> None:
    assert normalise_value(value) == expected


def test_apply_maps_codes_missing_and_blank_and_audits(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1": [1, 2, 3, 98, np.nan, 5, 1]})
    cw = crosswalk([safe_item()])
    hs = apply_crosswalk(survey_file(data, {"Q1": {1: "Very safe"}}), cw, schema, ref(cw))
    assert list(hs.data["safe_area_dark"]) == [
        "very_safe", "fairly_safe", "neither", "dont_know", "no_answer", "very_unsafe",
        "very_safe",
    ]
    assert hs.scales["safe_area_dark"] == "safety5"
    audit = hs.audit.set_index("value")
    assert audit.loc["1", "count"] == 2
    assert audit.loc["1", "value_label"] == "Very safe"
    assert audit.loc["98", "target_kind"] == "missing"
    assert audit.loc["(blank)", "target"] == "no_answer"
    assert audit["count"].sum() == len(data)


def test_labels_in_data_match_label_keys(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1": ["Very safe", "fairly SAFE", "Don’t know"]})
    item = safe_item(
        scale="safety4",
        recode={"Very safe": "very_safe", "Fairly safe": "fairly_safe"},
        missing={"Don't know": "dont_know"},
    )
    cw = crosswalk([item])
    hs = apply_crosswalk(survey_file(data), cw, schema, ref(cw))
    assert list(hs.data["safe_area_dark"]) == ["very_safe", "fairly_safe", "dont_know"]


def test_codes_match_keys_written_as_their_value_labels(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1": [1.0, 2.0]})
    item = safe_item(scale="safety4", recode={"Very safe": "very_safe",
                                              "Fairly safe": "fairly_safe"}, missing={})
    cw = crosswalk([item])
    sf = survey_file(data, {"Q1": {1.0: "Very safe", 2.0: "Fairly safe"}})
    hs = apply_crosswalk(sf, cw, schema, ref(cw))
    assert list(hs.data["safe_area_dark"]) == ["very_safe", "fairly_safe"]


def test_unlisted_value_names_file_variable_value_and_row(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1": [1, 2, 7, 7, 99]})
    cw = crosswalk([safe_item()])
    with pytest.raises(UnmappedValueError) as err:
        apply_crosswalk(survey_file(data, name="bedford.sav"), cw, schema, ref(cw))
    msg = str(err.value)
    assert "bedford.sav" in msg and "'Q1'" in msg
    assert "value 7" in msg and "2 row(s)" in msg and "data row 3" in msg
    assert "value 99" in msg  # every problem at once, not only the first
    assert "recode" in msg and "missing" in msg


def test_blank_cells_are_an_error_unless_listed(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1": [1, np.nan]})
    cw = crosswalk([safe_item(missing={98: "dont_know"})])
    with pytest.raises(UnmappedValueError, match=r"value \(blank\)"):
        apply_crosswalk(survey_file(data), cw, schema, ref(cw))


def test_missing_column_suggests_close_names(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1A": [1]})
    cw = crosswalk([safe_item(source="Q1a_")])
    with pytest.raises(CrosswalkError, match=r"'Q1a_'.*Did you mean 'Q1A'"):
        apply_crosswalk(survey_file(data), cw, schema, ref(cw))


def test_case_insensitive_column_match_for_por_files(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1": [1, 2]})
    cw = crosswalk([safe_item(source="q1")])
    hs = apply_crosswalk(survey_file(data), cw, schema, ref(cw))
    assert list(hs.data["safe_area_dark"]) == ["very_safe", "fairly_safe"]


def test_duplicate_respondent_ids_fail(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"ID": [1, 2, 2], "Q1": [1, 2, 3]})
    cw = crosswalk([safe_item()], respondent_id="ID")
    with pytest.raises(CrosswalkError, match=r"duplicated id.*'2'.*\[2, 3\]"):
        apply_crosswalk(survey_file(data), cw, schema, ref(cw))


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        (safe_item(concept="nope"), "concept 'nope' is not in perception-v1"),
        (safe_item(scale="safety4"), "not categories of scale 'safety4'"),
        (safe_item(scale="yn", recode={1: "yes", 2: "no"}),
         "indicator 'safe_area_dark_safe' does not say which categories of scale 'yn'"),
        (safe_item(concept="unsafe_reasons", scale=None, recode={1: "selected"}),
         "needs 'option' set to one of"),
        (safe_item(concept="area", scale=None, recode={1: "Castle Ward"}),
         "must be lower-case slugs"),
    ],
    ids=["unknown-concept", "target-not-in-scale", "indicator-lacks-scale", "multi-no-option",
         "open-scale-slug"],
)
def test_schema_check_messages(schema, item, fragment) -> None:  # type: ignore[no-untyped-def]
    problems = check_against_schema(crosswalk([item]), schema)
    assert any(fragment in p for p in problems), problems


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 3, 4, 5, 98, None]), min_size=1, max_size=40))
def test_recode_is_total_over_declared_values(schema, values) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1": pd.array(values, dtype="Float64")})
    cw = crosswalk([safe_item()])
    hs = apply_crosswalk(survey_file(data), cw, schema, ref(cw))
    expected = [SAFE5.get(v, "dont_know" if v == 98 else "no_answer")
                for v in values]  # type: ignore[call-overload]
    assert list(hs.data["safe_area_dark"]) == expected
    assert int(hs.audit["count"].sum()) == len(values)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=20),
    st.integers(min_value=6, max_value=97),
)
def test_an_unlisted_value_always_errors(schema, values, stray) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q1": [*values, stray]})
    cw = crosswalk([safe_item()])
    with pytest.raises(UnmappedValueError, match=f"value {stray}"):
        apply_crosswalk(survey_file(data), cw, schema, ref(cw))
