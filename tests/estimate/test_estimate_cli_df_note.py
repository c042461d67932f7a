"""harmonise estimate says when a row has no degrees of freedom (its SE cannot be trusted)."""

from __future__ import annotations

from click.testing import CliRunner

from harmonise.cli import main
from rreference import API_DIR

DATA = str(API_DIR / "apiclus1.csv")
DESIGN = str(API_DIR / "apiclus1.design.yaml")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["estimate", DATA, "--design", DESIGN, *args])
    return result.exit_code, result.stdout, result.stderr


def test_groups_inside_one_cluster_get_a_note() -> None:
    # apiclus1 samples whole districts: a group of one district has one PSU, df 0
    code, out, err = _run("--mean", "api00", "--by", "dnum")
    assert code == 0, err
    groups = out.count("dnum=")
    assert groups == 15
    assert f"note: {groups} row(s) have no degrees of freedom" in err
    assert "mean api00 (dnum=" in err and f"and {groups - 5} more" in err


def test_no_note_when_every_row_has_degrees_of_freedom() -> None:
    code, _, err = _run("--mean", "api00", "--by", "sch.wide")
    assert code == 0, err
    assert "degrees of freedom" not in err
