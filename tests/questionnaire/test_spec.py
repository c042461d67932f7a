"""The questionnaire spec: the joint spec loads; bad specs fail naming the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonise.crosswalk.io import load_schema
from harmonise.errors import QuestionnaireError
from harmonise.questionnaire.spec import band_code, load_spec, parse_band, spec_json_schema

ROOT = Path(__file__).resolve().parent.parent.parent
SPEC = ROOT / "questionnaire" / "joint-v1.yaml"
SCHEMA_V2 = ROOT / "crosswalks/schema/perception-v2.yaml"
TEXT = SPEC.read_text(encoding="utf-8")


def _line(needle: str, text: str = TEXT) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _fails(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load_spec(path, SCHEMA_V2)
    return str(info.value)


def test_joint_spec_loads_and_names_schema_concepts(joint) -> None:  # type: ignore[no-untyped-def]
    spec, schema = joint
    assert spec.ref == "joint-v1" and schema.ref == "perception-v2"
    concepts = {c.id for c in schema.concepts}
    for module in spec.modules:
        for item in module.items:
            assert item.concept in concepts
    adults = [i.concept for _, i in spec.items_in("adults")]
    young = [i.concept for _, i in spec.items_in("young_people")]
    # GSS demographics and ONS4 are in; gender identity and orientation are adults only
    for c in ("sex", "age_band", "ethnic_group", "long_condition", "activity_limit",
              "gender_identity", "sexual_orientation", "life_sat", "worthwhile",
              "happy_yesterday", "anxious_yesterday", "police_rating", "worry_burglary",
              "victim_violence_12m", "prob_drunk"):
        assert c in adults, c
    assert "gender_identity" not in young and "sexual_orientation" not in young
    anxious = next(i for _, i in spec.items_in("young_people") if i.concept == "anxious_yesterday")
    assert anxious.min_age == 16


def test_unknown_concept_names_the_line(tmp_path: Path) -> None:
    text = TEXT.replace("concept: prob_drunk", "concept: prob_drunken")
    msg = _fails(tmp_path, text)
    assert f"bad.yaml:{_line('concept: prob_drunken', text)}:" in msg
    assert "'prob_drunken' is not in perception-v2" in msg and "check the spelling" in msg


def test_routing_naming_a_missing_question(tmp_path: Path) -> None:
    text = TEXT.replace("{item: long_condition, answers", "{item: long_conditions, answers")
    msg = _fails(tmp_path, text)
    assert f"bad.yaml:{_line('item: long_conditions', text)}:" in msg
    assert "'long_conditions'" in msg and "not a question in that form" in msg
    assert "route on a question asked earlier" in msg


def test_routing_on_a_later_question(tmp_path: Path) -> None:
    text = TEXT.replace("{item: safe_area_day, answers", "{item: police_rating, answers")
    msg = _fails(tmp_path, text)
    assert "'police_rating', which is asked later" in msg or "not a question in" in msg


def test_routing_answer_that_is_not_a_code(tmp_path: Path) -> None:
    text = TEXT.replace('answers: ["yes"]', 'answers: ["Yes"]')
    msg = _fails(tmp_path, text)
    assert "['Yes'] are not answers of 'long_condition'" in msg
    line = _line('answers: ["Yes"]', text)
    assert f"bad.yaml:{line}:" in msg


def test_population_mismatch_under_16s(tmp_path: Path) -> None:
    # the anxiety item without its age filter would be asked of 11-15s
    text = TEXT.replace("      - concept: anxious_yesterday\n        prefer_not_to_say: true\n"
                        "        min_age: 16\n",
                        "      - concept: anxious_yesterday\n        prefer_not_to_say: true\n")
    assert text != TEXT
    msg = _fails(tmp_path, text)
    assert "population mismatch: 'anxious_yesterday' (adults_16plus, ages 16+)" in msg
    assert "ages 11-18 in form 'young_people'" in msg and "min_age: 16" in msg
    assert f"bad.yaml:{_line('concept: anxious_yesterday', text)}:" in msg


def test_gender_identity_in_the_young_form_is_a_mismatch(tmp_path: Path) -> None:
    text = TEXT.replace("      - concept: gender_identity\n        forms: [adults]\n",
                        "      - concept: gender_identity\n")
    msg = _fails(tmp_path, text)
    assert "population mismatch: 'gender_identity'" in msg


def test_unknown_key_and_dont_know_on_tick_all(tmp_path: Path) -> None:
    msg = _fails(tmp_path, TEXT.replace("        forms: [adults]\n        dont_know: true\n",
                                        "        form: [adults]\n        dont_know: true\n", 1))
    assert "Extra inputs are not permitted" in msg and "bad.yaml:" in msg
    text = TEXT.replace("      - concept: safer_measures\n",
                        "      - concept: safer_measures\n        dont_know: true\n")
    msg = _fails(tmp_path, text)
    line = _line("concept: safer_measures", text) + 1
    assert "tick-all question" in msg and f"bad.yaml:{line}:" in msg


def test_age_bands_must_tile_the_form(tmp_path: Path) -> None:
    msg = _fails(tmp_path, TEXT.replace('"35-49", "50-64"', '"36-49", "50-64"'))
    assert "age band '36-49' should start at 35" in msg
    assert parse_band("65+") == (65, None) and band_code("16-34") == "16_34"
    assert band_code("65+") == "65_plus"


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = (TEXT.replace("concept: prob_drunk", "concept: prob_drunken")
            .replace("{item: long_condition, answers", "{item: nope, answers"))
    msg = _fails(tmp_path, text)
    # the routing problem once per form the item is in (adults, young people)
    assert "3 problem(s)" in msg and "prob_drunken" in msg
    assert "in form 'adults'" in msg and "in form 'young_people'" in msg


def test_committed_json_schema_is_current() -> None:
    committed = (ROOT / "questionnaire/questionnaire.schema.json").read_text(encoding="utf-8")
    assert committed == spec_json_schema(), (
        "questionnaire/questionnaire.schema.json is stale: run harmonise questionnaire schema "
        "> questionnaire/questionnaire.schema.json")


def test_schema_v2_keeps_v1_and_marks_every_wording() -> None:
    v1 = load_schema(ROOT / "crosswalks/schema/perception-v1.yaml")
    v2 = load_schema(SCHEMA_V2)
    for c in v1.concepts:  # version 1 concepts keep wording, scale and population
        c2 = v2.concept(c.id)
        assert (c2.wording, c2.scale, c2.population) == (c.wording, c.scale, c.population)
    for s in v1.scales:
        assert v2.scale(s.id).codes == s.codes
    assert all(c.wording_status is not None for c in v2.concepts)
    # an invented wording is never marked verified
    for c in v2.concepts:
        if c.wording_source.startswith(("Local", "No national", "No CSEW", "MOPAC PAS analogue")):
            assert c.wording_status == "unverified", c.id
    ethnic = v2.scale("ethnic19")
    assert len(ethnic.codes) == 19
    assert {code.split("_")[0] for code in ethnic.codes} == set(v2.scale("ethnic5").codes)


def test_a_spec_kept_outside_the_project_uses_the_projects_schema(root: Path,
                                                                  tmp_path: Path) -> None:
    """The README's root rule: a spec elsewhere is read against ROOT/crosswalks/schema."""
    spec = tmp_path / "drafts" / "spec.yaml"
    spec.parent.mkdir()
    spec.write_text((root / "questionnaire/joint-v1.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    parsed, schema = load_spec(spec, project=root)
    assert schema.ref == parsed.schema_ref
