"""The project root: one rule for every command (no commands here).

Paths a project writes down — a manifest's ``file:``/``crosswalk:``/``schema:``, the
default ``surveys/manifest.yaml``, ``crosswalks/``, ``reports/``, the inputs a provenance
record lists — are relative to the **project root**, found as follows:

1. ``--root DIR``, when given;
2. else the nearest folder, from the starting folder upwards, that holds a
   ``crosswalks/`` folder (every harmonise project has one);
3. else the starting folder itself.

The starting folder is the current directory, except for ``harmonise run --manifest
FILE``, where it is the folder above the manifest's folder (the root in the usual
``ROOT/surveys/manifest.yaml`` layout), so a manifest is read the same from anywhere.
So a command run from the root or any folder below it finds the same project, and one
run elsewhere behaves as it always did. Paths typed on the command line stay relative
to the current directory, as a shell user expects; only the defaults follow the root.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

#: The folder whose presence marks a project root.
MARKER = "crosswalks"

F = TypeVar("F", bound=Callable[..., object])

RULE = "the nearest folder holding crosswalks/ at or above {start}, else that folder itself"


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds a ``crosswalks/`` folder."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / MARKER).is_dir():
            return folder
    return None


def project_root(explicit: Path | None = None, *, start: Path | None = None) -> Path:
    """The project root by the rule in this module's docstring.

    ``explicit`` (``--root``) is returned as given. Otherwise the root found from
    ``start`` (default: the current directory), or ``start`` itself when no folder at or
    above it holds ``crosswalks/``. A root inside the current directory is returned
    relative to it (``.`` for the current directory), so messages and printed paths read
    as they did when every command assumed it was run from the root.
    """
    if explicit is not None:
        return explicit
    cwd = Path.cwd()
    here = cwd if start is None else start
    found = find_root(here) or here.resolve()
    return found.relative_to(cwd.resolve()) if found.is_relative_to(cwd.resolve()) else found


def root_option(meaning: str, *, start: str = "the current directory") -> Callable[[F], F]:
    """The ``--root`` option, with the same default rule on every command.

    ``meaning`` says what the root is for in this command (first words of the help).
    """
    return click.option(
        "--root", type=click.Path(path_type=Path, file_okay=False), default=None,
        help=f"{meaning} [default: {RULE.format(start=start)}].",
    )


__all__ = ["MARKER", "find_root", "project_root", "root_option"]
