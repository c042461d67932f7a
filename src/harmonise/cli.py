"""Command line: thin click commands over the library. Errors are handled in one place."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

import harmonise
from harmonise.errors import HarmoniseError


class _Group(click.Group):
    """Turns a HarmoniseError into a clean message and exit code 2 (traceback with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarmoniseError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"Error: {exc}", fg="red", err=True)
            ctx.exit(2)


@click.group(cls=_Group)
@click.version_option(harmonise.__version__, prog_name="harmonise")
@click.option("--debug", is_flag=True, help="Show a full traceback on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """harmonise: make local community safety surveys comparable.

    Reads survey exports, maps them to a common schema through versioned crosswalks,
    weights them to their populations, estimates indicators with design-based
    confidence intervals and compares surveys only where the questions match.

    Example:

        harmonise run --manifest surveys/manifest.yaml --out reports
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command()
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


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--encoding", default=None, help="Text encoding of a CSV (default: detect).")
@click.option("--sheet", default=None, help="Excel sheet name (default: the first).")
@click.option("--json", "as_json", is_flag=True, help="Print the codebook as JSON.")
def ingest(file: Path, encoding: str | None, sheet: str | None, as_json: bool) -> None:
    """Read one export and print its codebook and the columns removed as identifying.

    Example:

        harmonise ingest surveys/bedford/bedford-residents-2024.sav
    """
    from harmonise.ingest import read_survey

    survey = read_survey(file, encoding=encoding, sheet=sheet)
    prov = survey.provenance
    if as_json:
        payload = {
            "provenance": asdict(prov),
            "flagged": [asdict(f) for f in survey.flagged],
            "variables": [
                {
                    "name": v.name, "dtype": v.dtype, "label": v.label,
                    "question": v.question, "option": v.option,
                    "value_labels": {str(k): lab for k, lab in v.value_labels.items()},
                    "user_missing": [str(m) for m in v.user_missing],
                    "missing_ranges": [list(r) for r in v.missing_ranges],
                }
                for v in survey.codebook.variables.values()
            ],
            "multi_select": {k: list(v) for k, v in survey.codebook.multi_select.items()},
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"{prov.file_name}: {prov.format}, {prov.n_rows} rows × {prov.n_columns} columns "
               f"(encoding {prov.encoding or 'n/a'}; sha256 {prov.sha256[:16]}…)")
    for v in survey.codebook.variables.values():
        labels = f" [{len(v.value_labels)} value labels]" if v.value_labels else ""
        missing = f" user-missing {list(v.user_missing)}" if v.user_missing else ""
        text = (v.label or "")[:70]
        click.echo(f"  {v.name:<28} {v.dtype:<8} {text}{labels}{missing}")
    for group, cols in survey.codebook.multi_select.items():
        click.echo(f"  multi-select: {group[:60]} ({len(cols)} options)")
    if survey.flagged:
        click.echo("Removed as identifying (values never kept):")
        for f in survey.flagged:
            click.echo(f"  {f.name}: {f.kind} — {f.reason}")


@main.command()
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path(),
              show_default=True, help="Project root to write surveys/ under.")
@click.option("--seed", type=int, default=20261125, show_default=True)
def samples(root: Path, seed: int) -> None:
    """Regenerate the SYNTHETIC sample surveys, targets and known truth under surveys/.

    Example:

        harmonise samples --root .
    """
    from harmonise.synthetic import generate_all

    for path in generate_all(root, seed=seed):
        click.echo(str(path))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
