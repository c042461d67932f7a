"""harmonise provenance: what produced an output."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harmonise.cli.root import project_root, root_option


@click.command()
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the provenance record as JSON.")
@click.option("--verify", is_flag=True,
              help="Also re-hash the report's own files (listed in provenance.json) and the "
                   "schema, crosswalks, inputs and targets under --root, and say whether each "
                   "still matches; exit 1 when any changed or is missing.")
@root_option("Project root the recorded input paths are relative to")
def provenance(output: Path, as_json: bool, verify: bool, root: Path | None) -> None:
    """Print what produced OUTPUT: schema version, crosswalks (id, version, sha256), input
    file hashes, targets, tool version and run time.

    OUTPUT is a report file (index.html, estimates.csv, audit.csv …), its folder, or
    provenance.json itself; the record is read from the provenance.json beside it (or
    from the page, when the HTML embeds it). With --verify, every report file the record
    lists is re-hashed in that folder, so a table edited after the run is caught.

    Example:

    \b
        harmonise provenance reports/estimates.csv --verify
    """
    from harmonise.crosswalk.provenance import (
        find_provenance,
        format_provenance,
        verify_outputs,
        verify_provenance,
    )

    record, source = find_provenance(output)
    folder = output if output.is_dir() else output.parent
    outputs = verify_outputs(record, folder) if verify else []
    inputs = verify_provenance(record, project_root(root)) if verify else []
    if as_json:
        payload = dict(record)
        if verify:
            payload["verify"] = [
                {"path": p, "status": s, "kind": kind}
                for kind, checks in (("output", outputs), ("input", inputs))
                for p, s in checks
            ]
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True))
    else:
        click.echo(f"{output} (provenance from {source})")
        click.echo(format_provenance(record), nl=False)
        if verify:
            click.echo("verify report files against the hashes recorded at the run:")
            if not outputs:
                click.echo("  (none recorded: the report predates output hashes; re-run it)")
            for path, status in outputs:
                click.echo(f"  {status.upper():<8} {path}")
            click.echo("verify inputs (current files against recorded hashes):")
            for path, status in inputs:
                click.echo(f"  {status.upper():<8} {path}")
    bad = [f"{path} ({status})" for path, status in (*outputs, *inputs) if status != "ok"]
    if bad:
        if not as_json:  # the JSON says it per file; keep stdout+stderr parseable
            click.echo(f"verify failed: {len(bad)} file(s) differ from the record: "
                       f"{', '.join(bad)}", err=True)
        click.get_current_context().exit(1)


COMMANDS = [provenance]
