"""Recoding never echoes identifying values: not in errors, not in the audit.

Values that look like an e-mail, phone number, full postcode or IP address are named by
what they look like and their row; a column kept at ingest although identifying (a school
used as the cluster) is mapped, but its values appear nowhere: the audit has one row per
target with ``<kept identifying column: N distinct values>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonise.errors import CrosswalkError, UnmappedValueError
from harmonise.ingest import read_survey
from harmonise.recode import apply_crosswalk, data_issues, kept_identifying
from helpers import crosswalk, ref, survey_file

SCHOOLS = ["Oakwood Academy", "St Mary's School", "Hillside School"]


def _yes_no_item(**overrides: object) -> dict[str, object]:
    item: dict[str, object] = {
        "id": "q7", "concept": "online_trolled", "source": "Q7",
        "recode": {"Yes": "yes", "No": "no"}, "missing": {}, "comparability": "identical",
        "note": "t"}
    item.update(overrides)
    return item


def test_unlisted_identifying_value_is_described_with_its_row(
        schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q7": ["Yes", "No", "jane.doe@example.com", "Yes", "LU2 7QT",
                                "Maybe"]})
    cw = crosswalk([_yes_no_item()])
    sf = survey_file(data, name="adv.csv")
    with pytest.raises(UnmappedValueError) as err:
        apply_crosswalk(sf, cw, schema, ref(cw))
    msg = str(err.value)
    assert "jane" not in msg and "example" not in msg and "LU2" not in msg
    assert "an e-mail-like value (not shown) in 1 row(s), first at data row 3" in msg
    assert "a postcode-like value (not shown) in 1 row(s), first at data row 5" in msg
    assert "value 'Maybe'" in msg  # an ordinary answer is still shown
    issues = data_issues(sf, cw)
    values = sorted(i.value for i in issues if i.code == "value-not-in-recode")
    assert values == ["<e-mail-like value>", "<postcode-like value>", "Maybe"]
    assert not any("example" in i.message for i in issues)


def test_listed_identifying_value_is_a_placeholder_in_the_audit(
        schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"Q7": ["Yes", "No", "jane.doe@example.com", "Yes", np.nan]})
    cw = crosswalk([_yes_no_item(missing={"jane.doe@example.com": "no_answer",
                                          "(blank)": "no_answer"})])
    hs = apply_crosswalk(survey_file(data), cw, schema, ref(cw))
    assert list(hs.data["online_trolled"]) == ["yes", "no", "no_answer", "yes", "no_answer"]
    assert "example" not in hs.audit.to_csv()
    row = hs.audit.set_index("value").loc["<e-mail-like value>"]
    assert (row["count"], row["target"]) == (1, "no_answer")


def _school_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 30
    frame = pd.DataFrame({"id": range(1, n + 1),
                          "sex": rng.choice(["female", "male"], n),
                          "school": [SCHOOLS[i % 3] for i in range(n)]})
    path = tmp_path / "pupils.csv"
    frame.to_csv(path, index=False)
    return path


def _school_item(recode: dict[str, str]) -> dict[str, object]:
    return {"id": "school", "concept": "area", "source": "school", "recode": recode,
            "comparability": "equivalent", "note": "t"}


def test_kept_identifying_column_is_mapped_but_its_values_never_shown(
        tmp_path: Path, schema) -> None:  # type: ignore[no-untyped-def]
    sf = read_survey(_school_csv(tmp_path), keep={"school": "the cluster of the design"})
    assert kept_identifying(sf) == {"school": "school"}
    cw = crosswalk([_school_item({"Oakwood Academy": "north", "St Mary's School": "south",
                                  "Hillside School": "south"})],
                   respondent_id="id", unmapped={"sex": "not needed here"})
    hs = apply_crosswalk(sf, cw, schema, ref(cw))
    assert list(hs.data["area"][:3]) == ["north", "south", "south"]
    audit = hs.audit
    assert list(audit["value"]) == ["<kept identifying column: 1 distinct value>",
                                    "<kept identifying column: 2 distinct values>"]
    assert list(audit["target"]) == ["north", "south"]
    assert list(audit["count"]) == [10, 20]
    text = audit.to_csv()
    for school in SCHOOLS:
        assert school not in text


def test_unlisted_value_of_a_kept_identifying_column_gives_rows_only(
        tmp_path: Path, schema) -> None:  # type: ignore[no-untyped-def]
    sf = read_survey(_school_csv(tmp_path), keep={"school": "the cluster of the design"})
    cw = crosswalk([_school_item({"Oakwood Academy": "north"})], respondent_id="id")
    with pytest.raises(UnmappedValueError) as err:
        apply_crosswalk(sf, cw, schema, ref(cw))
    msg = str(err.value)
    for school in SCHOOLS:
        assert school not in msg
    assert "is identifying (school), kept with a reason" in msg
    assert "first at data row 2" in msg and "first at data row 3" in msg
    issues = [i for i in data_issues(sf, cw) if i.code == "value-not-in-recode"]
    assert {i.value for i in issues} == {"<kept identifying column: 1 distinct value>"}


def test_postcode_district_columns_are_area_level_and_shown(
        tmp_path: Path, schema) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pc.csv"
    pd.DataFrame({"id": [1, 2, 3], "Postcode": ["LU1 1AA", "LU2 7QT", "LU1 3JU"]}).to_csv(
        path, index=False)
    sf = read_survey(path, postcode_district={"Postcode": "ward lookup"})
    assert kept_identifying(sf) == {}
    cw = crosswalk([{"id": "area", "concept": "area", "source": "Postcode",
                     "recode": {"LU1": "lu1", "LU2": "lu2"}, "comparability": "equivalent",
                     "note": "t"}], respondent_id="id")
    hs = apply_crosswalk(sf, cw, schema, ref(cw))
    assert sorted(hs.audit["value"]) == ["LU1", "LU2"]


def test_duplicate_identifying_ids_are_not_echoed(schema) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"rid": ["a@example.org", "a@example.org", "b@example.org"],
                         "Q7": ["Yes", "No", "Yes"]})
    cw = crosswalk([_yes_no_item()], respondent_id="rid")
    with pytest.raises(CrosswalkError) as err:
        apply_crosswalk(survey_file(data), cw, schema, ref(cw))
    assert "example" not in str(err.value)
    assert "an e-mail-like value at data rows [1, 2]" in str(err.value)
