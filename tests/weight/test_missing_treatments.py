"""The missing-margin treatments: hot-deck within cells, exclusion, refusal, the model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from harmonise.errors import WeightingError
from harmonise.models.crosswalk import DEFAULT_MISSING_TREATMENT, WeightingSpec
from harmonise.weight.missing import exclude_missing, hot_deck

SPEC = {"targets": "t.csv", "area_code": "E1", "population": "adults_18plus",
        "margins": ["sex", "age_band", "area"]}


def test_default_treatment_is_impute_and_keys_must_be_margins() -> None:
    spec = WeightingSpec.model_validate(SPEC)
    assert DEFAULT_MISSING_TREATMENT == "impute"
    assert spec.treatment("sex") == "impute" and spec.missing == {}
    spec = WeightingSpec.model_validate(SPEC | {"missing": {"area": "exclude"}})
    assert spec.treatment("area") == "exclude" and spec.treatment("sex") == "impute"
    with pytest.raises(ValidationError, match=r"'ethnicity'.* are not weighting margins"):
        WeightingSpec.model_validate(SPEC | {"missing": {"ethnicity": "impute"}})
    with pytest.raises(ValidationError, match="impute"):
        WeightingSpec.model_validate(SPEC | {"missing": {"sex": "drop"}})


def test_donor_comes_from_the_recipients_cell() -> None:
    # area 0 holds only sex 0 donors, area 1 only sex 1: each recipient must copy its area
    sex = np.array([0, 0, 0, 1, 1, 1, -1, -1, -1, -1])
    area = np.array([0, 0, 0, 1, 1, 1, 0, 1, 0, 1])
    imp = hot_deck(0, [sex, area], np.ones(10), names=["sex", "area"], seed=3)
    assert imp.codes[6:].tolist() == [0, 1, 0, 1]
    assert imp.imputed.tolist() == [False] * 6 + [True] * 4
    assert imp.collapsed == 0
    assert imp.codes[:6].tolist() == sex[:6].tolist()  # donors keep their values


def test_empty_cell_collapses_to_coarser_cells() -> None:
    # the recipient in area 2 has no donor there: it takes one from everyone
    sex = np.array([0, 0, 1, -1])
    age = np.array([0, 1, 1, 1])
    area = np.array([0, 1, 1, 2])
    imp = hot_deck(0, [sex, age, area], np.ones(4), names=["sex", "age", "area"], seed=1)
    assert imp.collapsed == 1  # dropped area, matched on age 1: donors rows 1 and 2
    assert imp.codes[3] in (0, 1)
    # a recipient missing the other margin too matches on what it has (nothing here)
    both = hot_deck(0, [np.array([0, 1, -1]), np.array([0, 1, -1])], np.ones(3),
                    names=["sex", "age"], seed=1)
    assert both.codes[2] in (0, 1) and both.collapsed == 0


def test_donors_are_drawn_in_proportion_to_weight() -> None:
    n = 4000
    sex = np.r_[np.zeros(50), np.ones(50), -np.ones(n)].astype(np.int64)
    w = np.r_[np.full(50, 3.0), np.full(50, 1.0), np.ones(n)]
    imp = hot_deck(0, [sex], w, names=["sex"], seed=11)
    share = float(np.mean(imp.codes[100:] == 0))
    assert share == pytest.approx(0.75, abs=0.03)


@given(st.lists(st.tuples(st.integers(-1, 2), st.integers(-1, 3)), min_size=2, max_size=60),
       st.integers(0, 2**32))
def test_hot_deck_is_reproducible_and_only_fills_holes(rows: list[tuple[int, int]],
                                                      seed: int) -> None:
    sex = np.array([r[0] for r in rows], dtype=np.int64)
    age = np.array([r[1] for r in rows], dtype=np.int64)
    if not (sex >= 0).any():
        with pytest.raises(WeightingError, match="no respondent has a usable value"):
            hot_deck(0, [sex, age], np.ones(sex.size), names=["sex", "age"], seed=seed)
        return
    a = hot_deck(0, [sex, age], np.ones(sex.size), names=["sex", "age"], seed=seed)
    b = hot_deck(0, [sex, age], np.ones(sex.size), names=["sex", "age"], seed=seed)
    assert a.codes.tolist() == b.codes.tolist()
    assert (a.codes >= 0).all()
    assert a.codes[sex >= 0].tolist() == sex[sex >= 0].tolist()
    assert a.imputed.tolist() == (sex < 0).tolist()
    # every imputed value is one some donor of a matching (possibly coarser) cell has
    assert set(a.codes[sex < 0].tolist()) <= set(sex[sex >= 0].tolist())
    # the margins' order does not change a margin's draws
    c = hot_deck(1, [age, sex], np.ones(sex.size), names=["age", "sex"], seed=seed)
    assert c.codes.tolist() == a.codes.tolist()


def test_exclude_adds_a_category_held_at_its_starting_total() -> None:
    codes = np.array([0, 1, -1, 1, -1])
    w = np.array([10.0, 20.0, 30.0, 20.0, 20.0])  # total 100, missing 50
    out, targets, share = exclude_missing(codes, np.array([60.0, 40.0]), w)
    assert out.tolist() == [0, 1, 2, 1, 2]
    assert targets.tolist() == pytest.approx([30.0, 20.0, 50.0])
    assert share == pytest.approx(0.5) and targets.sum() == pytest.approx(100.0)
    with pytest.raises(WeightingError, match="every respondent lacks"):
        exclude_missing(np.array([-1, -1]), np.array([1.0, 1.0]), np.ones(2))
