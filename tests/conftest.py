from __future__ import annotations

from pathlib import Path

import pytest

from harmonise.crosswalk.io import load_schema

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def schema():  # type: ignore[no-untyped-def]
    return load_schema(ROOT / "crosswalks/schema/perception-v1.yaml")
