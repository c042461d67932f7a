"""Population targets files: structure and consistency checks with clear messages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harmonise.errors import TargetsError
from harmonise.weight.targets import read_targets_table, select_targets

HEADER = (
    "area_code,area_name,population,variable,category,count,reference_date,source,"
    "table_id,year,licence,status,note\n"
)


def _row(variable: str, category: str, count: str, status: str = "illustrative") -> str:
    return f"E1,Town,adults,{variable},{category},{count},2021-03-21,test,T1,2021,OGL,{status},n\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "targets.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _select(path: Path, variables: tuple[str, ...] = ("sex", "age_band")):  # type: ignore[no-untyped-def]
    table, sha = read_targets_table(path)
    return select_targets(table, file=path.name, sha256=sha, area_code="E1",
                          population="adults", variables=variables)


def test_consistent_file_loads_and_rescales_within_tolerance(tmp_path: Path) -> None:
    body = (_row("sex", "female", "510") + _row("sex", "male", "490")
            + _row("age_band", "18_34", "401") + _row("age_band", "35_plus", "600"))
    t = _select(_write(tmp_path, body))
    assert t.total == 1000
    assert t.illustrative
    age = t.margins["age_band"]
    assert age.scaled and age.raw_total == 1001
    assert pytest.approx(age.counts.sum()) == 1000


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (_row("sex", "female", "500") + _row("sex", "male", "500")
         + _row("age_band", "18_34", "700"),
         "do not add up to the same total (sex = 1,000, age_band = 700)"),
        (_row("sex", "female", "-5") + _row("sex", "male", "500"), "row 2, column 'count': '-5'"),
        (_row("sex", "female", "x") + _row("sex", "male", "500"),
         "'x' is not a finite non-negative"),
        (_row("sex", "female", "inf") + _row("sex", "male", "500"), "'inf' is not a finite"),
        (_row("sex", "female", "5") + _row("sex", "female", "5"), "listed 2 times"),
        (_row("sex", "female", "500") + _row("sex", "male", "500"),
         "no targets for variable(s) ['age_band']"),
        (_row("sex", "female", "500", "made-up") + _row("sex", "male", "500", "made-up")
         + _row("age_band", "a", "1000", "made-up"), "use 'official' or 'illustrative'"),
    ],
    ids=["totals-differ", "negative", "not-a-number", "infinite", "duplicate", "variable-absent",
         "bad-status"],
)
def test_bad_targets_name_the_problem(tmp_path: Path, body: str, fragment: str) -> None:
    with pytest.raises(TargetsError) as err:
        _select(_write(tmp_path, body))
    assert fragment in str(err.value)
    assert "targets.csv" in str(err.value)


def test_wrong_area_lists_what_the_file_has(tmp_path: Path) -> None:
    path = _write(tmp_path, _row("sex", "female", "1"))
    table, sha = read_targets_table(path)
    with pytest.raises(TargetsError, match=r"no rows for area_code 'E9'.*\('E1', 'adults'\)"):
        select_targets(table, file="t.csv", sha256=sha, area_code="E9", population="adults",
                       variables=("sex",))


def test_missing_columns_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"area_code": ["E1"]}).to_csv(path, index=False)
    table, sha = read_targets_table(path)
    with pytest.raises(TargetsError, match="missing column"):
        select_targets(table, file="t.csv", sha256=sha, area_code="E1", population="a",
                       variables=("sex",))
    with pytest.raises(TargetsError, match="not found"):
        read_targets_table(tmp_path / "absent.csv")
