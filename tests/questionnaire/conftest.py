"""Shared fixtures: the joint spec, its schema and one build (without ODK Validate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonise.models.schema import Schema
from harmonise.questionnaire.build import Built, build_outputs
from harmonise.questionnaire.spec import QuestionnaireSpec, load_spec

ROOT = Path(__file__).resolve().parent.parent.parent
SPEC = ROOT / "questionnaire" / "joint-v1.yaml"


@pytest.fixture(scope="session")
def joint() -> tuple[QuestionnaireSpec, Schema]:
    return load_spec(SPEC)


@pytest.fixture(scope="session")
def built(joint: tuple[QuestionnaireSpec, Schema]) -> Built:
    return build_outputs(*joint)
