"""harmonise crosswalk: validate, diff, release, schema."""

from __future__ import annotations

from pathlib import Path

import click

from harmonise.cli.readopts import (
    encoding_option,
    header_rows_option,
    sheet_option,
    sheet_value,
)
from harmonise.cli.root import project_root, root_option

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.group()
def crosswalk() -> None:
    """Check, compare and release crosswalk files.

    Example:

    \b
        harmonise crosswalk validate crosswalks/
    """


@crosswalk.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--data", type=_FILE, default=None,
              help="An export to check the crosswalk against (columns, values in the data "
                   "not in the recode table, unmapped columns).")
@encoding_option("a CSV --data")
@sheet_option("an Excel --data")
@header_rows_option("a CSV/Excel --data")
@click.option("--schema", "schema_path", type=_FILE, default=None,
              help="Schema file [default: crosswalks/schema/<schema named in the crosswalk>.yaml].")
@click.option("--lock", "lock_path", type=_FILE, default=None,
              help="Lock file [default: lock.json in the folder above the CSP folder].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@root_option("Project root whose crosswalks/ is checked when no PATHS are given")
def validate(paths: tuple[Path, ...], data: Path | None, encoding: str | None,
             sheet: str | None, header_rows: int | None, schema_path: Path | None,
             lock_path: Path | None, as_json: bool, root: Path | None) -> None:
    """Check crosswalks and report every problem at once (exit 1 when any is an error).

    PATHS are crosswalk files or folders (default: ROOT/crosswalks/). Checks structure, that
    releases match their lock entry, fit with the schema and, with --data, with an export.
    Each problem has a stable code (concept-not-in-schema, value-not-in-recode, …).

    Example:

    \b
        harmonise crosswalk validate crosswalks/luton/residents-2024.v1.yaml \\
            --data surveys/luton/residents-2024.csv
    """
    from harmonise.crosswalk.validate import crosswalk_files, validate_paths

    project = project_root(root)
    targets = list(paths) or [project / "crosswalks"]
    if data is not None and len(crosswalk_files(targets)) != 1:
        raise click.UsageError("--data checks one export against one crosswalk: name one file")
    report = validate_paths(targets, schema_path=schema_path, lock_path=lock_path,
                            data=data, encoding=encoding, sheet=sheet_value(sheet),
                            header_rows=header_rows, project=project)
    click.echo(report.to_json() if as_json else report.to_table(), nl=False)
    click.get_current_context().exit(int(not report.valid))


@crosswalk.command()
@click.argument("a", type=_FILE)
@click.argument("b", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def diff(a: Path, b: Path, as_json: bool) -> None:
    """Say what changed from crosswalk A (older) to B (newer): items added and removed,
    recodes, missing codes, grades, notes and header fields changed.

    Example:

    \b
        harmonise crosswalk diff crosswalks/luton/residents-2024.v1.yaml \\
            crosswalks/luton/residents-2025.v2.yaml
    """
    from harmonise.crosswalk.diff import diff_crosswalks
    from harmonise.crosswalk.io import load_crosswalk

    result = diff_crosswalks(load_crosswalk(a), load_crosswalk(b))
    click.echo(result.to_json() if as_json else result.to_text(), nl=False)


@crosswalk.command()
@click.argument("path", type=_FILE)
@click.option("--schema", "schema_path", type=_FILE, default=None,
              help="Schema file [default: crosswalks/schema/<schema named in the crosswalk>.yaml].")
@click.option("--lock", "lock_path", type=_FILE, default=None,
              help="Lock file [default: lock.json in the folder above the CSP folder].")
@click.option("--changelog", "changelog_path", type=_FILE, default=None,
              help="Changelog [default: CHANGELOG.md beside the lock file].")
def release(path: Path, schema_path: Path | None, lock_path: Path | None,
            changelog_path: Path | None) -> None:
    """Freeze a complete draft into a release.

    Checks the draft validates with no error (every item has a concept and a grade, none
    'unassessed'), that its version is new and that its changelog has a 'vN: …' entry;
    then sets status: released, records its hash in lock.json and adds a CHANGELOG.md
    entry (with the changes from the previous version). The file must not change after.

    Example:

    \b
        harmonise crosswalk release crosswalks/bedford/residents-2025.v2.yaml
    """
    from harmonise.crosswalk.lock import LOCK_NAME
    from harmonise.crosswalk.release import CHANGELOG_NAME
    from harmonise.crosswalk.release import release as do_release

    if lock_path is not None and changelog_path is None:
        changelog_path = lock_path.parent / CHANGELOG_NAME
    plan = do_release(path, schema_path=schema_path, lock_path=lock_path,
                      changelog_path=changelog_path)
    where = lock_path or path.parent.parent / LOCK_NAME
    click.echo(f"Released {plan.crosswalk.ref}: {path} is now immutable "
               f"(sha256 {plan.entry.sha256}, recorded in {where}).")


@crosswalk.command(name="schema")
def schema_cmd() -> None:
    """Print the JSON Schema of crosswalk files (generated from the model).

    Editors use it to check crosswalks as people type; the committed copy is
    crosswalks/crosswalk.schema.json.

    Example:

    \b
        harmonise crosswalk schema > crosswalks/crosswalk.schema.json
    """
    from harmonise.crosswalk.jsonschema import render_json_schema

    click.echo(render_json_schema(), nl=False)


COMMANDS = [crosswalk]
