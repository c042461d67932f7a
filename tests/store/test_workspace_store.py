"""The workspace store: tables read back exactly; runs listed, chosen and saved whole."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import harmonise.store.db as db
from harmonise.models.run import DisclosureRules
from harmonise.models.schema import Schema
from harmonise.report.data import ItemMeta, ReportData, SurveyMeta
from harmonise.report.write import csv_bytes
from harmonise.store import Store, StoreError, store_url
from harmonise.store.codec import read_table, table_columns, table_rows

#: every dtype the pipeline's tables use, with the awkward values each can hold
AWKWARD = pd.DataFrame({
    "text": pd.Series(["a", "é ü “quoted”", "", None], dtype="str"),
    "obj": pd.Series(["", "reason", None, 1.5], dtype="object"),
    "f": [0.1 + 0.2, math.nan, 1e-300, math.inf],
    "i": pd.Series([0, -1, 2**53, 7], dtype="int64"),
    "b": [True, False, True, False],
    "nb": pd.array([True, None, False, None], dtype="boolean"),
    "ni": pd.array([1, None, 3, None], dtype="Int64"),
})


REVERSED = AWKWARD[["f"]].iloc[::-1].reset_index(drop=True)


@pytest.mark.parametrize("frame", [AWKWARD, AWKWARD.iloc[:0], REVERSED],
                         ids=["awkward", "empty", "reversed"])
def test_a_table_reads_back_exactly(frame: pd.DataFrame) -> None:
    back = read_table(table_columns(frame), list(table_rows(frame)))
    pd.testing.assert_frame_equal(back, frame)
    assert csv_bytes(back) == csv_bytes(frame)


def _data(schema: Schema, estimate: float = 0.25) -> ReportData:
    est = pd.DataFrame({"indicator": ["safe_area_dark_safe"], "estimate": [estimate],
                        "suppressed": [False], "suppression_reason": [""]})
    survey = SurveyMeta(
        ref="test-survey@v1", crosswalk="test-survey", version=1, csp="test",
        csp_name="Test CSP", instrument="Test", wave="2024", population="adults_18plus",
        mode="online", sampling="open link", fieldwork_start="2024-01-01",
        fieldwork_end="2024-02-01", n=100, synthetic=True, raking_margins=("sex",),
        flagged=(("EMAIL", "email"),),
        items=(ItemMeta(id="q1", concept="safe_area_dark", option="",
                        comparability="close", note="5-point"),),
    )
    tables = {name: est if name.startswith("estimates") else AWKWARD
              for name in ("estimates", "estimates_unweighted", "comparisons", "weighting",
                           "margins", "audit")}
    return ReportData(schema=schema, surveys=(survey,), tables=tables,
                      provenance={"run_at": "2026-01-01T00:00:00+00:00", "synthetic": True,
                                  "schema": {"ref": schema.ref}, "tool_version": "0.1.0"},
                      rules=DisclosureRules(min_base=20, min_count=15))


def test_runs_are_saved_listed_and_loaded(schema: Schema, tmp_path: Path) -> None:
    path = tmp_path / "ws/harmonise.sqlite"
    with Store(path) as store:
        first = store.save(_data(schema, 0.25))
        second = store.save(_data(schema, 0.5))
        assert [r.id for r in store.runs()] == [first, second]
        assert store.runs()[0].surveys == ("test-survey@v1",)
        latest_id, latest = store.load("latest")
        old_id, old = store.load(str(first))
    assert latest_id == second and latest.estimates["estimate"].iloc[0] == 0.5
    assert old_id == first and old.estimates["estimate"].iloc[0] == 0.25
    original = _data(schema, 0.25)
    assert old.surveys == original.surveys
    assert old.schema == original.schema
    assert old.rules == original.rules
    assert dict(old.provenance) == dict(original.provenance)
    for name, frame in original.tables.items():
        pd.testing.assert_frame_equal(old.tables[name], frame)
    assert store_url(path) == f"sqlite:///{path.resolve()}"


@pytest.mark.parametrize(
    ("run", "message"),
    [("9", "has no run 9; stored runs: 1"), ("newest", "not a run id or 'latest'")],
    ids=["unknown-id", "not-an-id"],
)
def test_choosing_a_run_that_is_not_there_says_which_are(
    schema: Schema, tmp_path: Path, run: str, message: str
) -> None:
    with Store(tmp_path / "h.sqlite") as store:
        store.save(_data(schema))
        with pytest.raises(StoreError, match=message):
            store.load(run)


def test_an_empty_or_missing_store_says_run_first(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no workspace store at .*run 'harmonise run' first"):
        Store(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()
    with Store(tmp_path / "empty.sqlite") as store, \
            pytest.raises(StoreError, match="has no runs yet"):
        store.load()


def test_a_failed_save_leaves_no_half_run(
    schema: Schema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = db.table_rows

    def failing(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise db.sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(frame)

    with Store(tmp_path / "h.sqlite") as store:
        monkeypatch.setattr(db, "table_rows", failing)
        with pytest.raises(StoreError, match="nothing was saved"):
            store.save(_data(schema))
        assert store.runs() == []


def test_a_store_from_a_newer_harmonise_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    Store(path).close()
    engine = db.sa.create_engine(store_url(path))
    with engine.begin() as conn:
        conn.execute(db.STORE_INFO.update().values(value="99"))
    engine.dispose()
    with pytest.raises(StoreError, match="format 99, newer than this harmonise"):
        Store(path)


@pytest.mark.parametrize(
    ("location", "message"),
    [("postgresql+nosuchdriver://u@h/db", "cannot open store"),
     ("not a url://x", "neither a file path nor a database URL")],
    ids=["unknown-driver", "bad-url"],
)
def test_bad_store_urls_are_explained(location: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store(location)


def test_a_save_refused_inside_its_transaction_keeps_nothing_and_runs_can_be_deleted(
    schema: Schema, tmp_path: Path
) -> None:
    seen: list[int] = []

    def refuse(conn: db.sa.Connection, run_id: int) -> None:
        seen.append(run_id)
        raise StoreError("the upload was withdrawn")

    with Store(tmp_path / "h.sqlite") as store:
        with pytest.raises(StoreError, match="withdrawn"):
            store.save(_data(schema), within=refuse)
        assert seen and store.runs() == []
        kept = store.save(_data(schema, 0.25))
        gone = store.save(_data(schema, 0.5))
        assert store.delete([gone, 999]) == 1
        assert [r.id for r in store.runs()] == [kept]
        with store.engine.connect() as conn:
            for table in (db.RUN_TABLES, db.RUN_ROWS):
                ids = set(conn.execute(db.sa.select(table.c.run_id)).scalars())
                assert ids == {kept}
        assert store.load()[0] == kept
