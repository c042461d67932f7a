"""Schema and crosswalk files: structure, cross-references, and the YAML loader's quirks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from harmonise.crosswalk.io import load_crosswalk, load_schema
from harmonise.errors import CrosswalkError
from harmonise.models.schema import grade_at_least
from helpers import crosswalk, safe_item


def test_schema_loads_and_cross_references(schema) -> None:  # type: ignore[no-untyped-def]
    assert schema.ref == "perception-v1"
    for ind in schema.indicators:
        assert schema.concept(ind.concept)
    assert schema.concept("safe_area_dark").wording.startswith("How safe do you feel walking")


def test_every_bundled_crosswalk_loads(root: Path) -> None:
    paths = sorted((root / "crosswalks").glob("*/*.v*.yaml"))
    assert paths, "no crosswalks found"
    for path in paths:
        if path.parent.name == "schema":
            continue
        cw = load_crosswalk(path)
        assert cw.synthetic, f"{path}: bundled sample crosswalks must say synthetic: true"


def test_yes_no_keys_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "cw.yaml"
    path.write_text(
        """
crosswalk: t
version: 1
status: draft
schema: perception-v1
csp: t
csp_name: T
instrument: T
wave: '2024'
fieldwork_start: 2024-01-01
fieldwork_end: 2024-02-01
population: adults_18plus
mode: online
sampling: open
items:
  - id: q
    concept: online_trolled
    source: Q
    recode: {Yes: "yes", No: "no"}
    missing: {Prefer not to say: refused}
    comparability: identical
    note: same question
""",
        encoding="utf-8",
    )
    cw = load_crosswalk(path)
    assert set(cw.items[0].recode) == {"Yes", "No"}


def test_yaml_booleans_are_rejected_with_advice() -> None:
    with pytest.raises(ValidationError, match="quote it"):
        crosswalk([safe_item(recode={True: "very_safe"})])


def test_unknown_keys_are_errors() -> None:
    with pytest.raises(ValidationError, match=r"Extra inputs are not permitted"):
        crosswalk([safe_item(comparabilty="close")])


def test_value_listed_twice_is_an_error() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        crosswalk([safe_item(missing={1: "dont_know"})])


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("items: [unclosed", encoding="utf-8")
    with pytest.raises(CrosswalkError, match=r"broken\.yaml: not valid YAML"):
        load_crosswalk(path)


def test_structure_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("crosswalk: t\nversion: 0\n", encoding="utf-8")
    with pytest.raises(CrosswalkError, match=r"(?s)bad.yaml.*version: Input should be greater"):
        load_crosswalk(path)


def test_schema_rejects_indicator_with_unknown_category(tmp_path: Path, root: Path) -> None:
    text = (root / "crosswalks/schema/perception-v1.yaml").read_text(encoding="utf-8")
    path = tmp_path / "schema.yaml"
    path.write_text(text.replace("safety4: [very_safe, fairly_safe], safety5",
                                 "safety4: [very_safe, quite_safe], safety5", 1),
                    encoding="utf-8")
    with pytest.raises(CrosswalkError, match="quite_safe"):
        load_schema(path)


@pytest.mark.parametrize(
    ("grade", "floor", "expected"),
    [("identical", "close", True), ("close", "close", True), ("proxy", "close", False),
     ("not comparable", "proxy", False), ("equivalent", "identical", False)],
)
def test_grade_order(grade: str, floor: str, expected: bool) -> None:
    assert grade_at_least(grade, floor) is expected
