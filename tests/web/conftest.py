from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from webkit import BACKENDS, Site, database, make_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The workspace on SQLite with the seeded users (no worker thread)."""
    with database("sqlite", tmp_path) as url:
        made = make_site(tmp_path, url)
        try:
            yield made
        finally:
            made.state.ws.close()


@pytest.fixture(params=BACKENDS)
def any_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """The same on SQLite and on PostgreSQL."""
    with database(request.param, tmp_path) as url:
        made = make_site(tmp_path, url)
        try:
            yield made
        finally:
            made.state.ws.close()
