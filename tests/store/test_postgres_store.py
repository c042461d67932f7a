"""The same workspace store on PostgreSQL (a shared deployment), through the same code.

Runs against the server named by HARMONISE_TEST_POSTGRES_URL (``make test`` installs
Debian's postgresql, starts it on 127.0.0.1 and sets the URL); each test gets a fresh
database that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest

from harmonise.models.run import RunResult
from harmonise.report import report_data
from harmonise.report.write import csv_bytes
from harmonise.store import Store

URL = os.environ.get("HARMONISE_TEST_POSTGRES_URL")
if URL is None and os.environ.get("HARMONISE_REQUIRE_POSTGRES"):
    raise RuntimeError("HARMONISE_REQUIRE_POSTGRES is set but HARMONISE_TEST_POSTGRES_URL is "
                       "not; run 'make postgres-deps'")

pytestmark = pytest.mark.skipif(URL is None, reason="no PostgreSQL server configured "
                                "(HARMONISE_TEST_POSTGRES_URL)")


@pytest.fixture
def database() -> Iterator[str]:
    import sqlalchemy as sa

    assert URL is not None
    name = f"harmonise_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_run_round_trips_through_postgresql(bundled_run: RunResult, database: str) -> None:
    data = report_data(bundled_run)
    with Store(database) as store:
        first = store.save(data)
        second = store.save(data)
        assert [r.id for r in store.runs()] == [first, second]
        run_id, back = store.load("latest")
    assert run_id == second
    assert back.surveys == data.surveys
    assert back.schema == data.schema
    for name, frame in data.tables.items():
        pd.testing.assert_frame_equal(back.tables[name], frame)
        assert csv_bytes(back.tables[name]) == csv_bytes(frame), name
