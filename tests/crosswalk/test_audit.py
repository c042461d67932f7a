"""The audit: every source value seen per item, with its count and where it went."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonise.crosswalk.io import content_hash, load_crosswalk
from harmonise.ingest import read_survey
from harmonise.models.crosswalk import normalise_value
from harmonise.models.harmonised import CrosswalkRef
from harmonise.recode import apply_crosswalk
from helpers import crosswalk, ref, safe_item, survey_file


def _check_audit_is_complete(data: pd.DataFrame, hs, items) -> None:  # type: ignore[no-untyped-def]
    for item in items:
        rows = hs.audit[hs.audit["item"] == item.id]
        source = rows["source"].iloc[0]
        seen = data[source].astype("object").map(normalise_value).value_counts()
        # each distinct spelling is its own audit row; by matching key they add up
        audited = rows.groupby(rows["value"].map(normalise_value))["count"].sum()
        assert sorted(audited.index) == sorted(seen.index), item.id  # every value seen
        assert (audited.reindex(seen.index) == seen).all(), item.id
        # the target in the audit is what the harmonised column holds, count for count
        went = hs.data[item.column].value_counts()
        assert (rows.groupby("target")["count"].sum().reindex(went.index) == went).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 3, 4, 5, 98, None]), min_size=1, max_size=30),
       st.lists(st.sampled_from(["Very safe", "fairly safe", " VERY SAFE", "Don't know"]),
                min_size=1, max_size=30))
def test_audit_lists_every_value_with_count_and_target(schema, codes, labels) -> None:  # type: ignore[no-untyped-def]
    n = min(len(codes), len(labels))
    data = pd.DataFrame({"Q1": pd.array(codes[:n], dtype="Float64"), "Q2": labels[:n]})
    cw = crosswalk([
        safe_item(),
        safe_item(id="q2", source="Q2", concept="safe_area_day", scale="safety4",
                  recode={"Very safe": "very_safe", "Fairly safe": "fairly_safe"},
                  missing={"Don't know": "dont_know"}),
    ])
    hs = apply_crosswalk(survey_file(data), cw, schema, ref(cw))
    _check_audit_is_complete(data, hs, cw.items)


def test_audit_of_a_bundled_export(root: Path, schema) -> None:  # type: ignore[no-untyped-def]
    path = root / "crosswalks/bedford/residents-2024.v1.yaml"
    cw = load_crosswalk(path)
    survey = read_survey(root / "surveys/bedford/bedford-residents-2024.sav")
    r = CrosswalkRef(cw.crosswalk, cw.version, content_hash(path), str(path))
    hs = apply_crosswalk(survey, cw, schema, r)
    _check_audit_is_complete(survey.data, hs, cw.items)
    assert set(hs.audit["crosswalk"]) == {"bedford-residents-2024@v1"}
    assert set(hs.audit["target_kind"]) == {"category", "missing"}
