"""harmonise run: the main job."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("surveys/manifest.yaml"), show_default=True,
              help="Which exports to harmonise with which crosswalks.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Project root that paths in the manifest are relative to "
                   "[default: the manifest's grandparent folder].")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              default=Path("reports"), show_default=True, help="Folder for the report.")
@click.option("--min-count", type=click.IntRange(1), default=10, show_default=True,
              help="Suppress estimates resting on fewer respondents than this.")
@click.option("--no-charts", is_flag=True, help="Skip the charts (faster).")
def run(manifest: Path, root: Path | None, out: Path, min_count: int, no_charts: bool) -> None:
    """Run the main job: ingest, harmonise, weight, estimate, compare, report.

    Writes index.html, tidy CSV tables (estimates, comparisons, weighting, margins,
    audit) and provenance.json into --out; nothing is written unless every stage succeeds.

    Example:

        harmonise run --manifest surveys/manifest.yaml --out reports
    """
    from harmonise.disclosure import DisclosureRules
    from harmonise.pipeline import run as run_pipeline
    from harmonise.report import write_report

    rules = DisclosureRules(min_base=min_count, min_count=min_count)
    steps: list[str] = []

    def progress(message: str) -> None:
        steps.append(message)
        click.echo(f"[{len(steps):2d}] {message}", err=True)

    result = run_pipeline(manifest.resolve(), root=root.resolve() if root else None,
                          rules=rules, progress=progress)
    progress("write report")
    paths = write_report(result, out, charts=not no_charts)
    comp = result.comparisons.rows
    click.echo(f"Wrote {len(paths)} files to {out}/ (open {out / 'index.html'})")
    click.echo(
        f"{int(comp['compared'].astype(bool).sum())} comparisons made, "
        f"{int((~comp['compared'].astype(bool)).sum())} refused with reasons."
    )
    if result.provenance.get("synthetic"):
        click.echo("Note: the inputs are SYNTHETIC sample data; the figures are not real findings.")


COMMANDS = [run]
