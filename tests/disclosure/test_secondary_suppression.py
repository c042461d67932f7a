"""Secondary suppression: hand-built tables where primary suppression alone leaks a value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonise.disclosure.cells import (
    SUPPRESSED_MARK,
    DisclosureRules,
    apply_disclosure,
    footnotes,
    round_to_base,
    round_weighted_counts,
)
from harmonise.models.harmonised import ESTIMATE_COLUMNS, EstimateTable

PRIMARY_ONLY = DisclosureRules(secondary=False)


def _table(cells: list[tuple[str, str, int, int]], *, weighted: bool = True,
           crosswalk: str = "cw@v1", extra: dict[str, list[float]] | None = None) -> EstimateTable:
    """Rows (group_var, group, n, n_success) of one indicator of one survey."""
    rows = pd.DataFrame({c: [""] * len(cells) for c in ESTIMATE_COLUMNS})
    rows["indicator"] = "ind"
    rows["crosswalk"] = crosswalk
    rows["weighted"] = weighted
    rows["group_var"] = [c[0] for c in cells]
    rows["group"] = [c[1] for c in cells]
    rows["n"] = [c[2] for c in cells]
    rows["n_success"] = [c[3] for c in cells]
    for col in ("estimate", "se", "ci_low", "ci_high", "deff"):
        rows[col] = rows["n_success"] / rows["n"]
    for col, values in (extra or {}).items():
        rows[col] = values
    return EstimateTable(rows=rows)


def _derivable(published: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """What an intruder gets by subtraction: a family's single hidden cell from the total."""
    out: dict[tuple[str, str], tuple[float, float]] = {}
    total = published[published["group_var"] == "all"].iloc[0]
    if bool(total["suppressed"]):
        return out
    for var, fam in published[published["group_var"] != "all"].groupby("group_var"):
        hidden = fam[fam["suppressed"].astype(bool)]
        shown = fam[~fam["suppressed"].astype(bool)]
        if len(hidden) == 1:
            out[(str(var), str(hidden["group"].iloc[0]))] = (
                total["n"] - shown["n"].sum(),
                total["n_success"] - shown["n_success"].sum(),
            )
    return out


SEX = [("all", "all", 300, 160), ("sex", "female", 150, 145), ("sex", "male", 150, 15)]


def test_primary_alone_leaks_a_subgroup_and_its_complement_is_then_suppressed() -> None:
    leaky = apply_disclosure(_table(SEX), PRIMARY_ONLY).rows
    assert leaky["suppressed"].tolist() == [False, True, False]
    assert _derivable(leaky) == {("sex", "female"): (150, 145)}  # the suppressed value, exactly
    safe = apply_disclosure(_table(SEX)).rows
    assert safe["suppressed"].tolist() == [False, True, True]
    assert safe["suppression_kind"].tolist() == ["", "primary", "secondary"]
    assert "protects female in the same sex breakdown" in safe.loc[2, "suppression_reason"]
    assert safe.loc[2, ["estimate", "se", "n_success"]].isna().all()
    assert _derivable(safe) == {}


AGE = [
    ("all", "all", 400, 200),
    ("age_band", "18_34", 120, 60),
    ("age_band", "35_49", 40, 35),   # 5 gave another answer: primary
    ("age_band", "50_64", 90, 45),   # smallest published: the secondary
    ("age_band", "65_plus", 150, 60),
]


def test_the_next_smallest_cell_of_the_family_is_suppressed() -> None:
    leaky = apply_disclosure(_table(AGE), PRIMARY_ONLY).rows
    assert _derivable(leaky) == {("age_band", "35_49"): (40, 35)}
    out = apply_disclosure(_table(AGE)).rows
    assert out.loc[out["suppressed"].astype(bool), "group"].tolist() == ["35_49", "50_64"]
    assert _derivable(out) == {}


def test_two_small_cells_whose_sum_is_still_small_take_a_third() -> None:
    cells = [("all", "all", 400, 107), ("area", "a", 100, 3), ("area", "b", 100, 4),
             ("area", "c", 120, 60), ("area", "d", 80, 40)]
    out = apply_disclosure(_table(cells)).rows
    # a and b are primary (3 and 4 answers); together 7 < 10, so the smallest other (d) goes
    assert out["suppression_kind"].tolist() == ["", "primary", "primary", "", "secondary"]


def test_two_small_cells_whose_sum_is_safe_need_nothing_more() -> None:
    cells = [("all", "all", 400, 113), ("area", "a", 100, 6), ("area", "b", 100, 7),
             ("area", "c", 200, 100)]
    out = apply_disclosure(_table(cells)).rows
    assert out["suppression_kind"].tolist() == ["", "primary", "primary", ""]


def test_a_lone_restricted_group_is_suppressed_when_the_rest_is_small() -> None:
    # total minus the 16-18 row gives the 5 respondents outside the range
    cells = [("all", "all", 300, 150), ("age_range", "16_18", 295, 146)]
    out = apply_disclosure(_table(cells)).rows
    assert out["suppression_kind"].tolist() == ["", "secondary"]
    assert "respondents in no published age_range group" in out.loc[1, "suppression_reason"]


def test_no_secondary_suppression_without_a_published_total() -> None:
    cells = [("all", "all", 8, 4), ("sex", "female", 4, 2), ("sex", "male", 4, 2)]
    out = apply_disclosure(_table(cells)).rows
    assert out["suppression_kind"].tolist() == ["primary", "primary", "primary"]


def test_families_are_per_survey_and_weighting() -> None:
    a = _table(SEX, crosswalk="a@v1").rows
    b = _table([("all", "all", 300, 150), ("sex", "female", 150, 75), ("sex", "male", 150, 75)],
               crosswalk="b@v1").rows
    u = _table(SEX, crosswalk="a@v1", weighted=False).rows
    out = apply_disclosure(EstimateTable(rows=pd.concat([a, b, u], ignore_index=True))).rows
    assert out["suppressed"].tolist() == [False, True, True, False, False, False,
                                          False, True, True]


def test_weighted_counts_are_rounded_to_five_and_hidden_when_suppressed() -> None:
    table = _table(SEX, extra={"weighted_n": [1002.4, 512.5, 489.9]})
    out = apply_disclosure(table).rows
    assert out["weighted_n"].tolist()[0] == 1000.0
    assert out["weighted_n"].isna().tolist() == [False, True, True]
    assert round_to_base([2.5, 7.4, 7.5, 12.49, np.nan], 5)[:4].tolist() == [5, 5, 10, 10]
    frame = round_weighted_counts(pd.DataFrame({"w": [3.0, 1234.6]}), ["w"], base=5)
    assert frame["w"].tolist() == [5.0, 1235.0]
    with pytest.raises(KeyError, match="no column"):
        round_weighted_counts(pd.DataFrame({"w": [1.0]}), ["total"])


def test_footnotes_name_each_reason_with_the_mark() -> None:
    notes = footnotes(apply_disclosure(_table(SEX)))
    assert len(notes) == 2 and all(n.startswith(SUPPRESSED_MARK) for n in notes)
    assert "fewer than 10 respondents gave another answer" in notes[0]
    assert "cannot be worked out from the total" in notes[1]
