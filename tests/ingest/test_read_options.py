"""How a file is read is remembered: --header-rows, --sheet and --encoding on every command
that reads an export, and a crosswalk's read: block so every command reads it the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.crosswalk.validate import validate_paths
from harmonise.errors import IngestError
from harmonise.ingest.common import resolve_read
from harmonise.models.run import SurveyEntry

DATA = Path(__file__).resolve().parent.parent / "data" / "crosswalks"
# Row 2 holds a year under each question: header text that looks like data, so detection
# reads one header row and the crosswalk's Q1 column is not found.
EXPORT = "Q1,Q2\n2024 wave,2024 wave\n1,2\n2,1\n98,\n"


def _crosswalk(tmp: Path, read: str = "") -> Path:
    text = (DATA / "valid.v1.yaml").read_text(encoding="utf-8").replace(
        "items:\n", f"{read}unmapped: {{'Q2 | 2024 wave': not used}}\nitems:\n", 1)
    text = text.replace("source: Q1", "source: Q1 | 2024 wave")
    folder = tmp / "crosswalks" / "test"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "valid.v1.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _export(tmp: Path) -> Path:
    path = tmp / "export.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


def _codes(tmp: Path, cw: Path, **options: object) -> list[str]:
    report = validate_paths([cw], schema_path=Path(__file__).resolve().parents[2]
                            / "crosswalks/schema/perception-v1.yaml",
                            lock_path=DATA / "lock.json", data=_export(tmp), **options)
    return sorted({i.code for i in report.issues})


def test_read_block_makes_validate_read_the_file_the_stated_way(tmp_path: Path) -> None:
    without = _codes(tmp_path, _crosswalk(tmp_path))
    assert "column-missing" in without  # detected as one header row: Q1 | 2024 not found
    stated = _crosswalk(tmp_path, "read:\n  header_rows: 2\n")
    assert _codes(tmp_path, stated) == []
    assert _codes(tmp_path, _crosswalk(tmp_path), header_rows=2) == []  # --header-rows


def test_read_block_and_option_must_agree() -> None:
    with pytest.raises(IngestError, match="header_rows: 2 but 1 was given"):
        resolve_read("x.csv", {"header_rows": 2}, {"header_rows": 1})
    assert resolve_read("x.csv", {"sheet": "Responses"}, {"sheet": None, "encoding": "cp1252"}
                        ) == {"header_rows": None, "sheet": "Responses", "encoding": "cp1252"}


def test_manifest_entry_takes_header_rows() -> None:
    assert SurveyEntry(file="a.csv", crosswalk="c.yaml", header_rows=2, sheet=1).header_rows == 2


def test_validate_cli_accepts_header_rows(tmp_path: Path) -> None:
    cw = _crosswalk(tmp_path)
    args = ["crosswalk", "validate", str(cw), "--data", str(_export(tmp_path)),
            "--schema", str(Path(__file__).resolve().parents[2]
                            / "crosswalks/schema/perception-v1.yaml"),
            "--lock", str(DATA / "lock.json")]
    assert CliRunner().invoke(main, args).exit_code == 1
    assert CliRunner().invoke(main, [*args, "--header-rows", "2"]).exit_code == 0


def test_estimate_cli_accepts_header_rows_and_sheet(tmp_path: Path) -> None:
    design = tmp_path / "design.yaml"
    design.write_text("weights: w\n", encoding="utf-8")
    export = tmp_path / "e.csv"
    export.write_text("score,w\nScore out of 10,\n4,1\n6,1\n8,2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["estimate", str(export), "--design", str(design),
                                       "--mean", "score", "--header-rows", "1"])
    assert result.exit_code != 0  # the label row read as a respondent: not numbers
    result = CliRunner().invoke(main, ["estimate", str(export), "--design", str(design),
                                       "--mean", "score | Score out of 10",
                                       "--header-rows", "2"])
    assert result.exit_code == 0, result.output
    assert "mean,score | Score out of 10" in result.output


def test_inspect_draft_records_the_read_block(tmp_path: Path, root: Path) -> None:
    out = tmp_path / "draft.v1.yaml"
    result = CliRunner().invoke(main, ["inspect", str(_export(tmp_path)), "--header-rows", "2",
                                       "--draft-crosswalk", str(out), "--root", str(root)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "read:\n  header_rows: 2\n" in text
