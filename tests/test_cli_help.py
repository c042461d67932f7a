"""--help text of the command modules: examples keep their lines, options say what they do."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.cli.ingest import ingest, inspect
from harmonise.cli.run import plural


def _all(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, hidden ones included (``ingest``)."""
    out: list[tuple[str, ...]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out.extend(_all(command, (*prefix, name)))
    return out


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


COMMANDS = _all(main)


def _example_lines(command: click.Command) -> list[str]:
    """The docstring's lines after ``Example:`` (the ``\\b`` marker left out)."""
    block = (command.help or "").split("Example:", 1)[1]
    return [line.strip() for line in block.splitlines() if line.strip() not in ("", "\b")]


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_example_blocks_keep_their_lines(path: tuple[str, ...]) -> None:
    command = _command(path)
    block = (command.help or "").split("Example:", 1)[1]
    assert block.lstrip("\n ").startswith("\b"), f"{path}: no \\b before the example block"
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=60)
    assert result.exit_code == 0, result.output
    shown = [line.strip() for line in result.output.splitlines()]
    for line in _example_lines(command):
        assert line in shown, f"{path}: example line {line!r} was rewrapped"


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_option_has_help(path: tuple[str, ...]) -> None:
    for param in _command(path).params:
        if isinstance(param, click.Option):
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help text"


def test_ingest_is_a_hidden_alias_of_inspect() -> None:
    assert ingest.hidden and not inspect.hidden
    assert ingest.callback is inspect.callback
    assert [p.name for p in ingest.params] == [p.name for p in inspect.params]
    listed = [line.split()[0] for line in CliRunner().invoke(main, ["--help"]).output
              .split("Commands:")[1].splitlines() if line.strip()]
    assert "inspect" in listed and "ingest" not in listed


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 comparisons"), (1, "1 comparison"), (2, "2 comparisons")]
)
def test_run_summary_pluralises(count: int, text: str) -> None:
    assert plural(count, "comparison") == text
