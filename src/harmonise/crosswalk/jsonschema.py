"""JSON Schema for crosswalk files, generated from the pydantic model.

Committed as ``crosswalks/crosswalk.schema.json`` (a test checks it is current) so editors
validate crosswalks as people type: with the YAML extension for VS Code, put
``# yaml-language-server: $schema=../crosswalk.schema.json`` on a crosswalk's first line.
Regenerate with ``harmonise crosswalk schema > crosswalks/crosswalk.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from harmonise.models.crosswalk import Crosswalk

SCHEMA_ID = "https://harmonise.invalid/crosswalk.schema.json"


def crosswalk_json_schema() -> dict[str, Any]:
    schema = Crosswalk.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "harmonise crosswalk",
        "description": (
            "One survey instrument mapped item by item to the perception schema "
            "(crosswalks/<csp>/<instrument>.vN.yaml). Generated from "
            "harmonise.models.crosswalk.Crosswalk; do not edit by hand."
        ),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def render_json_schema() -> str:
    return json.dumps(crosswalk_json_schema(), indent=2, ensure_ascii=False) + "\n"
