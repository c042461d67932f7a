"""harmonise report: regenerate the report from a stored run (no raw file is read)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from harmonise.cli.root import project_root, root_option
from harmonise.store import DEFAULT_STORE


@click.command()
@click.option("--store", default=None, metavar="PATH|URL",
              help=f"Workspace store: a SQLite file or a database URL "
                   f"[default: ROOT/{DEFAULT_STORE.as_posix()}].")
@click.option("--run", "run_ref", default="latest", show_default=True, metavar="ID|latest",
              help="Which stored run to report.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for the report [default: ROOT/reports].")
@root_option("Project root the default --store and --out are under")
@click.option("--no-charts", is_flag=True, help="Skip the charts (faster).")
@click.option("--list", "list_runs", is_flag=True, help="List the stored runs and stop.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON.")
def report(store: str | None, run_ref: str, out: Path | None, root: Path | None,
           no_charts: bool, list_runs: bool, as_json: bool) -> None:
    """Regenerate the report of a stored run from the workspace store.

    Writes the same files as 'harmonise run' (index.html, tables.xlsx, CSV tables,
    provenance.json) from the estimates saved in the store, without re-reading any
    survey export; the tables are byte-identical to the run's. Replaces the files in
    --out only when all of them are complete.

    Example:

    \b
        harmonise report --list
        harmonise report --run latest --out reports
        harmonise report --store reports/harmonise.sqlite --run 3 --out /tmp/run3
    """
    from harmonise.report import write_report
    from harmonise.store import Store

    base = project_root(root)
    store = store if store is not None else str(base / DEFAULT_STORE)
    out = out if out is not None else base / "reports"
    with Store(store, create=False) as workspace:
        if list_runs:
            runs = workspace.runs()
            if as_json:
                click.echo(json.dumps([asdict(r) for r in runs], indent=2))
                return
            for r in runs:
                flag = " SYNTHETIC" if r.synthetic else ""
                click.echo(f"{r.id:4d}  {r.run_at}  harmonise {r.tool_version}  "
                           f"{r.schema_ref}  {', '.join(r.surveys)}{flag}")
            if not runs:
                click.echo(f"No runs stored in {store} yet.")
            return
        run_id, data = workspace.load(run_ref)
    paths = write_report(data, out, charts=not no_charts, run_id=run_id)
    click.echo(f"Wrote {len(paths)} files for run {run_id} to {out}/ "
               f"(open {out / 'index.html'})")
    if data.synthetic:
        click.echo("Note: the inputs were SYNTHETIC sample data; the figures are not real "
                   "findings.")


COMMANDS = [report]
