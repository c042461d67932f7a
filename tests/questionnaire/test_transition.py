"""The transition plan: which items go in the overlap wave, arm sizes against hand-worked
numbers, and the precedents it cites."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harmonise.crosswalk.io import load_crosswalk
from harmonise.errors import PlanningError
from harmonise.models.schema import Schema
from harmonise.questionnaire.bridge import JointItem, build_bridge, default_joint_items
from harmonise.questionnaire.measure import PlanningDeff
from harmonise.questionnaire.samplesize import n_two_proportions
from harmonise.questionnaire.transition import (
    PRACTICE,
    overlap_items,
    plan_transition,
    total_for_precision,
)

Z = 1.959963984540054


@pytest.fixture(scope="module")
def bridge(root: Path, schema: Schema):  # type: ignore[no-untyped-def]
    cws = [load_crosswalk(p) for p in sorted((root / "crosswalks").glob("*/*.yaml"))
           if p.parent.name not in ("schema", "joint")]
    joint = list(default_joint_items(schema))
    # the joint young people's form shares the adult safety and problem questions
    joint += [JointItem(c, "young_people_11_18") for c in
              ("safe_area_dark", "prob_drugs", "prob_violent", "life_sat")]
    return build_bridge(joint, schema, cws)


def themes(schema: Schema) -> dict[str, str]:
    return {c.id: c.theme for c in schema.concepts}


def deffs(value: float = 1.5) -> list[PlanningDeff]:
    return [PlanningDeff(csp, csp, form, value * 2, value, "test")
            for csp in ("bedford", "central-beds", "luton")
            for form in ("adults", "young_people")]


def test_total_for_precision_hand_worked() -> None:
    # 50/50 split, p = .5, deff 1, ± 5 points: z² .25 × 4 / .0025 = 1536.6 (768.3 per arm)
    assert total_for_precision(0.05) == pytest.approx(Z**2 * 0.25 * 4 / 0.0025, rel=1e-12)
    # a 20% benchmark arm costs 1/.2 + 1/.8 = 6.25 instead of 4
    assert total_for_precision(0.05, legacy_share=0.2, deff=1.5) == pytest.approx(
        total_for_precision(0.05) * 6.25 / 4 * 1.5, rel=1e-12)
    with pytest.raises(PlanningError):
        total_for_precision(0.05, legacy_share=1.0)


def test_overlap_items_are_headline_items_that_change(bridge, schema: Schema) -> None:  # type: ignore[no-untyped-def]
    items = overlap_items(bridge, themes(schema), max_items=3)
    keys = [(i.csp, i.form) for i in items]
    assert all(keys.count(k) <= 3 for k in keys)
    assert not any(i.concept in ("sex", "age_band", "area", "year_group", "unsafe_reasons",
                                 "safer_measures") for i in items)
    assert all(i.changes for i in items)
    # safety first: Bedford's first items are its safety questions
    bedford = [i.concept for i in items if i.csp == "bedford"]
    assert bedford[0].startswith("safe_")
    # Central Bedfordshire's old survey is of young people: its overlap is in that form
    # (the bridged young people's questions), never in the adult form
    cb = {(i.form, i.concept) for i in items if i.csp == "central-beds"}
    assert cb and all(form == "young_people" for form, _ in cb)
    assert ("young_people", "safe_area_dark") in cb


def test_arm_sizes(bridge, schema: Schema) -> None:  # type: ignore[no-untyped-def]
    plan = plan_transition(bridge, themes(schema), deffs(1.5), precision=0.05, detect=0.05)
    assert plan.arms
    total = Z**2 * 1.5 * 0.25 * 4 / 0.0025
    for arm in plan.arms:
        assert arm.deff == 1.5  # the break uses the weighting effect, not clustering
        assert arm.legacy_arm_precision == arm.joint_arm_precision == math.ceil(total / 2)
        assert arm.legacy_arm_power == math.ceil(n_two_proportions(0.05, 0.5) * 1.5)
        assert arm.items >= 1
    unequal = plan_transition(bridge, themes(schema), deffs(1.0), legacy_share=0.2)
    arm = unequal.arms[0]
    assert arm.joint_arm_precision == pytest.approx(4 * arm.legacy_arm_precision, abs=4)
    assert arm.joint_arm_power == pytest.approx(4 * arm.legacy_arm_power, abs=4)


def test_missing_design_effect_is_an_error(bridge, schema: Schema) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PlanningError, match="design effect"):
        plan_transition(bridge, themes(schema), [d for d in deffs() if d.csp != "luton"])


def test_practice_is_cited() -> None:
    text = " ".join(f"{p.name} {p.what} {p.source} {p.followed}" for p in PRACTICE)
    assert "six months" in text and "Crime Survey for England and Wales" in text
    assert "ring-fenced" in text and "Understanding Society" in text
    assert "randomised" in text
