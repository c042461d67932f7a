"""The bridge: every old item appears, grades and changes follow the rules, directions follow
the documented effects; on the bundled crosswalks and on small made-up ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harmonise.crosswalk.io import load_crosswalk
from harmonise.errors import PlanningError
from harmonise.models.crosswalk import Crosswalk
from harmonise.models.schema import Schema
from harmonise.questionnaire.bridge import (
    JointItem,
    build_bridge,
    default_joint_items,
    facets,
    latest_crosswalks,
    population_family,
)


def bundled(root: Path) -> list[Crosswalk]:
    return [load_crosswalk(p) for p in sorted((root / "crosswalks").glob("*/*.yaml"))
            if p.parent.name not in ("schema", "joint")]


def make_cw(items: list[dict[str, Any]], **header: Any) -> Crosswalk:
    base: dict[str, Any] = {
        "crosswalk": "test-survey", "version": 1, "status": "released",
        "schema": "perception-v1", "csp": "testshire", "csp_name": "Testshire CSP",
        "instrument": "Test survey", "wave": "2024", "fieldwork_start": "2024-01-01",
        "fieldwork_end": "2024-02-01", "population": "adults_18plus",
        "mode": "Online self-completion", "sampling": "address sample", "items": items,
    }
    base.update(header)
    return Crosswalk.model_validate(base)


SAFE5 = {"id": "q1", "concept": "safe_area_dark", "source": "Q1",
         "question": "How safe do you feel walking alone in this area after dark?",
         "scale": "safety5", "comparability": "close", "note": "5-point",
         "recode": {1: "very_safe", 2: "fairly_safe", 3: "neither", 4: "fairly_unsafe",
                    5: "very_unsafe"}}
SAFE4 = {"id": "q1", "concept": "safe_area_dark", "source": "Q1",
         "question": "How safe do you feel walking alone in this area after dark?",
         "comparability": "identical", "note": "CSEW",
         "recode": {1: "very_safe", 2: "fairly_safe", 3: "a_bit_unsafe", 4: "very_unsafe"}}
ADULT_DARK = [JointItem("safe_area_dark", "adults_16plus", question="A2")]


def row_for(bridge: Any, concept: str) -> Any:
    return next(r for r in bridge.rows if r.concept == concept and r.status == "bridged")


def test_every_bundled_item_appears(root: Path, schema: Schema) -> None:
    cws = bundled(root)
    bridge = build_bridge(default_joint_items(schema), schema, cws)
    latest, earlier = latest_crosswalks(cws)
    assert [c.ref for c in earlier] == ["luton-residents-2024@v1"]
    assert bridge.earlier == ("luton-residents-2024@v1",)
    for cw in latest:
        listed = {i.strip() for r in bridge.rows if r.legacy_crosswalk == cw.ref
                  for i in r.legacy_items.split(",")}
        assert {i.id for i in cw.items} <= listed, cw.ref
    assert {csp for csp, _ in bridge.partnerships()} == {"bedford", "central-beds", "luton"}


def test_items_not_in_the_joint_survey_are_dropped(root: Path, schema: Schema) -> None:
    joint = [j for j in default_joint_items(schema) if j.concept != "sv_concern"]
    bridge = build_bridge(joint, schema, bundled(root))
    dropped = [r for r in bridge.rows if r.status == "dropped"]
    assert [(r.csp, r.concept, r.legacy_items) for r in dropped] == [
        ("luton", "sv_concern", "sv_concern")]
    assert dropped[0].direction == "series ends"


def test_new_questions_are_listed_per_partnership(schema: Schema) -> None:
    bridge = build_bridge([*ADULT_DARK, JointItem("prob_drugs", "adults_16plus")], schema,
                          [make_cw([SAFE4])])
    new = [r for r in bridge.rows if r.status == "new"]
    assert [(r.concept, r.direction) for r in new] == [("prob_drugs", "series starts")]


def test_unknown_concept_is_an_error(schema: Schema) -> None:
    with pytest.raises(PlanningError, match="no_such_concept"):
        build_bridge([JointItem("no_such_concept", "adults_16plus")], schema,
                     [make_cw([SAFE4])])


def test_unmapped_columns_are_not_carried(schema: Schema) -> None:
    cw = make_cw([SAFE4], unmapped={"COMMENT": "free text"})
    rows = build_bridge(ADULT_DARK, schema, [cw]).rows
    carried = [r for r in rows if r.status == "not carried"]
    assert [(r.legacy_items, r.note) for r in carried] == [
        ("COMMENT", "unmapped in the crosswalk: free text")]


# --- rules -----------------------------------------------------------------------------


def test_identical_item_same_mode_has_no_change(schema: Schema) -> None:
    row = row_for(build_bridge(ADULT_DARK, schema, [make_cw([SAFE4],
                                                            population="adults_16plus")]),
                  "safe_area_dark")
    assert row.changes == () and row.grade == "identical" and row.direction == "none expected"


def test_midpoint_removed_raises_the_share(schema: Schema) -> None:
    row = row_for(build_bridge(ADULT_DARK, schema, [make_cw([SAFE5])]), "safe_area_dark")
    scale = next(c for c in row.changes if c.dimension == "scale")
    assert scale.effect == 1 and "midpoint" in scale.why
    assert row.direction.startswith("higher % feeling very or fairly safe")
    assert row.grade == "close"


def test_interviewer_to_self_completion_lowers_feeling_safe(schema: Schema) -> None:
    cw = make_cw([SAFE4], mode="Telephone interviews (CATI)")
    row = row_for(build_bridge(ADULT_DARK, schema, [cw]), "safe_area_dark")
    mode = next(c for c in row.changes if c.dimension == "mode")
    assert (mode.old, mode.new, mode.effect) == ("interviewer", "self-completion", -1)
    assert row.grade_before == "identical" and row.grade == "close"  # capped by the mode
    assert row.direction.startswith("lower")


def test_mixed_effects_say_measure_the_break(schema: Schema) -> None:
    cw = make_cw([SAFE5], mode="Telephone (CATI)")
    row = row_for(build_bridge(ADULT_DARK, schema, [cw]), "safe_area_dark")
    assert row.direction.startswith("mixed") and "scale ↑" in row.direction
    assert "mode ↓" in row.direction


def test_three_to_four_point_problem_scale_raises_the_share(schema: Schema) -> None:
    item = {"id": "p1", "concept": "prob_drugs", "source": "P1", "scale": "problem3",
            "question": "How much of a problem are people using or dealing drugs in your area?",
            "recode": {1: "big_problem", 2: "small_problem", 3: "not_a_problem"},
            "comparability": "proxy", "note": "3-point"}
    row = row_for(build_bridge([JointItem("prob_drugs", "adults_16plus")], schema,
                               [make_cw([item])]), "prob_drugs")
    assert [c.dimension for c in row.changes] == ["scale", "population"]
    assert row.changes[0].effect == 1 and "2 of 4 instead of 1 of 3" in row.changes[0].why


def test_population_change_caps_at_proxy_and_explicit_period_lowers(schema: Schema) -> None:
    item = {"id": "o1", "concept": "online_bullied", "source": "Have you been bullied online?",
            "recode": {"Yes": "yes", "No": "no"}, "comparability": "close", "note": "local"}
    cw = make_cw([item], population="pupils_y7_y11", mode="Self-completion in class")
    row = row_for(build_bridge([JointItem("online_bullied", "young_people_11_18")], schema,
                               [cw]), "online_bullied")
    dims = {c.dimension: c for c in row.changes}
    assert row.grade == "proxy"  # 11-16 pupils against 11-18 young people
    assert dims["reference period"].effect == -1
    assert dims["population"].old == "pupils_y7_y11"
    assert row.direction.startswith("lower")


def test_legacy_item_follows_the_form_of_its_population(schema: Schema) -> None:
    joint = [JointItem("safe_area_dark", "adults_16plus", question="A2"),
             JointItem("safe_area_dark", "young_people_11_18", question="Y2")]
    cw = make_cw([SAFE4], population="young_people_11_18")
    bridge = build_bridge(joint, schema, [cw])
    row = row_for(bridge, "safe_area_dark")
    assert row.new_question == "Y2" and row.joint_population == "young_people_11_18"
    # the adult form's question is new for this partnership
    assert [r.new_question for r in bridge.rows if r.status == "new"] == ["A2"]


def test_routing_and_options_are_changes(schema: Schema) -> None:
    items = [{"id": f"r{k}", "concept": "unsafe_reasons", "option": code,
              "source": f"What makes you feel unsafe? | {code}",
              "recode": {0: "not_selected", 1: "selected"},
              "missing": {"(blank)": "not_asked"}, "comparability": "close", "note": "routed"}
             for k, code in enumerate(("drugs", "groups"))]
    joint = [JointItem("unsafe_reasons", "adults_16plus", routed=False)]
    row = row_for(build_bridge(joint, schema, [make_cw(items)]), "unsafe_reasons")
    dims = {c.dimension: c for c in row.changes}
    assert dims["routing"].old == "routed" and dims["routing"].new == "asked of all"
    assert "new: lack_of_police" in dims["options"].new
    assert row.legacy_items == "r0, r1"


@pytest.mark.parametrize(("text", "expected"), [
    ("How safe do you feel walking alone in this area after dark?",
     {"place": "area", "time": "dark", "period": "", "alone": "alone"}),
    ("How safe or unsafe do you feel in Bedford town centre during the day?",
     {"place": "town_centre", "time": "day", "period": "", "alone": ""}),
    ("How would you rate your safety when you go out at night where you live?",
     {"place": "where_you_live", "time": "dark", "period": "", "alone": ""}),
    ("In the last 12 months, have you been trolled online?",
     {"place": "", "time": "", "period": "last_12_months", "alone": ""}),
    ("How satisfied are you with your life at the moment?",
     {"place": "", "time": "", "period": "at_the_moment", "alone": ""}),
], ids=["csew", "town-centre", "night-where-you-live", "12-months", "at-the-moment"])
def test_facets(text: str, expected: dict[str, str]) -> None:
    assert facets(text) == expected


@pytest.mark.parametrize(("population", "family"), [
    ("adults_16plus", "adults"), ("adults_18plus", "adults"),
    ("young_people_11_18", "young_people"), ("pupils_y7_y11", "young_people"), ("all", "all")])
def test_population_family(population: str, family: str) -> None:
    assert population_family(population) == family
