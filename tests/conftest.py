from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from harmonise.crosswalk.io import load_schema
from harmonise.models.run import RunResult

# Property tests explore the same examples on every run (CI and laptops alike), so a red
# run is reproducible; set HYPOTHESIS_PROFILE=explore to search fresh examples locally.
settings.register_profile("deterministic", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def schema():  # type: ignore[no-untyped-def]
    return load_schema(ROOT / "crosswalks/schema/perception-v1.yaml")


@pytest.fixture(scope="session")
def bundled_run(root: Path) -> RunResult:
    """The main job on the bundled manifest, run once per test session (results are
    frozen objects: tests read them and never change them)."""
    from harmonise.pipeline import run

    return run(root / "surveys/manifest.yaml", root=root)
