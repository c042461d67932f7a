"""Canonical YAML dump round-trips; the committed JSON Schema is current and accepts the
bundled crosswalks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harmonise.crosswalk.dump import dump_crosswalk
from harmonise.crosswalk.io import load_crosswalk, parse_yaml
from harmonise.crosswalk.jsonschema import render_json_schema
from harmonise.models.crosswalk import Crosswalk, normalise_value
from harmonise.models.schema import GRADES, MISSING_TYPES

_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\n"),
                min_size=1, max_size=30)
_KEYS = st.one_of(st.integers(-5, 200), st.floats(-10, 10, allow_nan=False).filter(
    lambda f: not f.is_integer()), _TEXT)
_SLUG = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@st.composite
def crosswalks(draw: st.DrawFn) -> Crosswalk:
    n = draw(st.integers(1, 4))
    items: list[dict[str, Any]] = []
    for i in range(n):
        keys = draw(st.lists(_KEYS, min_size=1, max_size=6, unique_by=normalise_value))
        split = draw(st.integers(0, len(keys)))
        items.append({
            "id": f"q{i}",
            "concept": draw(st.none() | st.just(f"concept_{i}")),
            "option": draw(st.none() | _SLUG),
            "source": draw(_TEXT),
            "question": draw(st.none() | _TEXT),
            "recode": {k: draw(_SLUG) for k in keys[:split]},
            "missing": {k: draw(st.sampled_from(MISSING_TYPES)) for k in keys[split:]},
            "comparability": draw(st.sampled_from(GRADES)),
            "note": draw(_TEXT),
        })
    start = draw(st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)))
    return Crosswalk.model_validate({
        "crosswalk": "x-" + draw(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)),
        "version": draw(st.integers(1, 99)), "status": "draft", "schema": "perception-v1",
        "synthetic": draw(st.booleans()), "csp": draw(_TEXT), "csp_name": draw(_TEXT),
        "instrument": draw(_TEXT), "wave": draw(st.sampled_from(["2024", "2024/25", "1"])),
        "fieldwork_start": start, "fieldwork_end": start + dt.timedelta(days=draw(
            st.integers(0, 90))),
        "population": "adults_18plus", "mode": draw(_TEXT), "sampling": draw(_TEXT),
        "unmapped": draw(st.dictionaries(_TEXT, _TEXT, max_size=2)),
        "changelog": draw(st.lists(_TEXT, max_size=2)),
        "items": items,
    })


@settings(max_examples=80, deadline=None)
@given(crosswalks())
def test_dump_then_load_gives_an_equal_model(cw: Crosswalk) -> None:
    text = dump_crosswalk(cw)
    again = Crosswalk.model_validate(parse_yaml(text, "dumped"))
    assert again == cw
    assert dump_crosswalk(again) == text  # canonical: a fixed point


def test_bundled_crosswalks_round_trip(root: Path) -> None:
    for path in sorted((root / "crosswalks").glob("*/*.v*.yaml")):
        if path.parent.name != "schema":
            cw = load_crosswalk(path)
            assert Crosswalk.model_validate(parse_yaml(dump_crosswalk(cw), str(path))) == cw


def test_committed_json_schema_is_current(root: Path) -> None:
    committed = (root / "crosswalks/crosswalk.schema.json").read_text(encoding="utf-8")
    assert committed == render_json_schema(), (
        "crosswalks/crosswalk.schema.json is stale: run "
        "harmonise crosswalk schema > crosswalks/crosswalk.schema.json"
    )


def test_json_schema_describes_the_format() -> None:
    schema = json.loads(render_json_schema())
    item = schema["$defs"]["Item"]
    assert schema["additionalProperties"] is False and item["additionalProperties"] is False
    assert "comparability" in item["required"] and "schema" in schema["properties"]
    assert set(item["properties"]["missing"]["additionalProperties"]["enum"]) == set(
        MISSING_TYPES)
