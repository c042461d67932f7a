"""The command line: help everywhere, clean errors, the main job, a generated reference."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import harmonise
from harmonise.cli import main
from harmonise.errors import IngestError


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, sub-groups walked (``crosswalk validate`` …), hidden ones left out."""
    out: list[tuple[str, ...]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        if command.hidden:
            continue
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out.extend(_paths(command, (*prefix, name)))
    return out


COMMANDS = _paths(main)


def reference() -> str:
    """The CLI reference in docs/cli.md, generated from --help."""
    parts = ["# Command-line reference\n\nGenerated from `--help` by `tests/test_cli.py` "
             "(`UPDATE_DOCS=1 pytest tests/test_cli.py` rewrites it).\n"]
    runner = CliRunner()
    for args in ((), *COMMANDS):
        out = runner.invoke(main, [*args, "--help"], terminal_width=100,
                            prog_name="harmonise").output
        parts.append(f"\n## harmonise {' '.join(args)}\n\n```\n{out.rstrip()}\n```\n")
    return "".join(parts)


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    assert ("crosswalk", "validate") in COMMANDS
    for path in COMMANDS:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, path


def test_docs_reference_is_up_to_date(root: Path) -> None:
    path = root / "docs/cli.md"
    if os.environ.get("UPDATE_DOCS"):
        path.write_text(reference(), encoding="utf-8")
    assert path.read_text(encoding="utf-8") == reference(), (
        "docs/cli.md is stale: run UPDATE_DOCS=1 pytest tests/test_cli.py"
    )


def test_errors_are_clean_and_exit_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "empty.sav"
    bad.write_bytes(b"")
    result = CliRunner().invoke(main, ["ingest", str(bad)])
    assert result.exit_code == 2
    assert "Error:" in result.output and "empty.sav" in result.output
    assert "Traceback" not in result.output


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    bad = tmp_path / "empty.sav"
    bad.write_bytes(b"")
    result = CliRunner().invoke(main, ["--debug", "ingest", str(bad)])
    # without --debug the CLI turns the error into a message and SystemExit(2); with it
    # the error itself propagates, traceback and all
    assert isinstance(result.exception, IngestError), result.exception


def test_ingest_lists_flagged_columns_without_values(root: Path) -> None:
    sav = root / "surveys/bedford/bedford-residents-2024.sav"
    result = CliRunner().invoke(main, ["ingest", str(sav)])
    assert result.exit_code == 0, result.output
    assert "EMAIL" in result.output and "@" not in result.output


def test_run_writes_the_report(root: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["run", "--manifest", str(root / "surveys/manifest.yaml"), "--out",
               str(tmp_path / "out"), "--no-charts"],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out/index.html").exists()
    assert "SYNTHETIC" in result.output


def test_version_names_the_installed_build() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"harmonise, version {harmonise.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "data.csv", "--design", "d.yaml", "--mean", "y", "--level", "0.9",
         "--level", "0.95"],
        ["run", "--out", "a", "--out", "b"],
        ["crosswalk", "validate", "--json", "--json"],
        ["inspect", "x.sav", "--draft-crosswalk", "a.yaml", "--draft-crosswalk", "b.yaml"],
    ],
    ids=["estimate-level", "run-out", "crosswalk-validate-flag", "inspect-draft"],
)
def test_an_option_that_takes_one_value_may_not_repeat(args: list[str]) -> None:
    """click keeps the last of a repeated option silently; harmonise refuses it."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert f"{args[-2]} is given more than once" in result.output


def test_options_that_may_repeat_still_do(root: Path) -> None:
    data = root / "tests/data/api/apiclus1.csv"
    design = root / "tests/data/api/apiclus1.design.yaml"
    result = CliRunner().invoke(main, ["estimate", str(data), "--design", str(design), "--mean",
                                       "api00", "--mean", "api99", "--by", "stype", "--by",
                                       "sch.wide"])
    assert result.exit_code == 0, result.output
    assert "stype=E, sch.wide=Yes" in result.output and ",api99," in result.output
