"""harmonise ingest: read one export, show its codebook and what was removed."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click


@click.command()
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


COMMANDS = [ingest]
