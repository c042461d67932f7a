"""harmonise run: the main job."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from harmonise.cli.root import project_root, root_option

if TYPE_CHECKING:
    from harmonise.models.run import Correction


@click.command()
@click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Which exports to harmonise with which crosswalks "
                   "[default: ROOT/surveys/manifest.yaml].")
@root_option("Project root that paths in the manifest are relative to",
             start="the manifest's grandparent folder (without --manifest: the current "
                   "directory)")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for the report [default: ROOT/reports].")
@click.option("--min-count", type=click.IntRange(1), default=10, show_default=True,
              help="Suppress estimates resting on fewer respondents than this.")
@click.option("--no-charts", is_flag=True, help="Skip the charts (faster).")
@click.option("--correction", type=click.Choice(["holm", "bh", "bonferroni", "none"]),
              default="holm", show_default=True,
              help="Multiple-comparison correction across the comparisons and trends.")
@click.option("--store", default=None, metavar="PATH|URL",
              help="Workspace store the run is saved in: a SQLite file or a database URL "
                   "(postgresql+psycopg://user@host/db) [default: OUT/harmonise.sqlite].")
def run(manifest: Path | None, root: Path | None, out: Path | None, min_count: int,
        no_charts: bool,
        correction: Correction, store: str | None) -> None:
    """Run the main job: ingest, harmonise, weight, estimate, compare, report.

    Writes index.html (a plain-English summary, who and where, trends), charts/ (every
    chart as PNG and SVG), tables.xlsx, tidy CSV tables (estimates, comparisons, subgroup
    differences, trends, weighting, margins, audit) and provenance.json into --out as one
    set (nothing is replaced unless every file is complete), and saves the run's tables
    and metadata (no respondent data) in the workspace store, from which 'harmonise
    report' can regenerate them.

    Example:

    \b
        harmonise run --manifest surveys/manifest.yaml --out reports
        harmonise run --store postgresql+psycopg://analyst@db.example/harmonise
    """
    from harmonise.models.run import DisclosureRules
    from harmonise.pipeline import run as run_pipeline
    from harmonise.report import report_data, write_report
    from harmonise.store import Store

    rules = DisclosureRules(min_base=min_count, min_count=min_count)
    steps: list[str] = []

    def progress(message: str) -> None:
        steps.append(message)
        click.echo(f"[{len(steps):2d}] {message}", err=True)

    if manifest is None:
        root = project_root(root)
        manifest = root / "surveys/manifest.yaml"
    else:
        root = project_root(root, start=manifest.resolve().parent.parent)
    out = out if out is not None else root / "reports"
    result = run_pipeline(manifest.resolve(), root=root.resolve(),
                          rules=rules, progress=progress, correction=correction)
    data = report_data(result)
    location = store if store is not None else out / "harmonise.sqlite"
    progress(f"save to store {location}")
    with Store(location) as workspace:
        run_id = workspace.save(data)
    progress("write report")
    paths = write_report(data, out, charts=not no_charts, run_id=run_id)
    comp = result.comparisons.rows
    click.echo(f"Wrote {len(paths)} files to {out}/ (open {out / 'index.html'})")
    click.echo(f"Saved as run {run_id} in {location}")
    made = int(comp["compared"].astype(bool).sum())
    click.echo(f"{plural(made, 'comparison')} made, {len(comp) - made} refused with reasons.")
    from harmonise.weight.diagnostics import missing_summary

    for ws in result.surveys:
        if ws.diagnostics is not None and ws.diagnostics.missing:
            click.echo(f"Weighting values missing in {ws.survey.crosswalk.ref}: "
                       f"{missing_summary(ws.diagnostics.missing, rules.min_count)}.")
    if result.provenance.synthetic:
        click.echo("Note: the inputs are SYNTHETIC sample data; the figures are not real findings.")


def plural(count: int, noun: str) -> str:
    """``1 comparison``, ``2 comparisons``, ``0 comparisons``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


COMMANDS = [run]
