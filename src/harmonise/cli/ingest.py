"""harmonise inspect (hidden alias ingest): read an export, show its codebook, draft a crosswalk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from harmonise.cli.readopts import sheet_value
from harmonise.cli.root import project_root, root_option

DEFAULT_SCHEMA = Path("crosswalks/schema/perception-v1.yaml")


def _print_report(report: dict[str, Any]) -> None:
    click.echo(f"{report['file']}: {report['format']}, {report['rows']} rows × "
               f"{report['columns']} columns (encoding {report['encoding'] or 'n/a'}; "
               f"sha256 {report['sha256'][:16]}…)")
    if report.get("platform"):
        click.echo(f"  platform: {report['platform']}")
    for note in report["notes"]:
        click.echo(f"  note: {note}")
    for v in report["variables"]:
        labels = f" [{len(v['value_labels'])} value labels]" if v["value_labels"] else ""
        missing = [str(m) for m in v["user_missing"]] + [
            f"{lo:g}..{hi:g}" for lo, hi in v["missing_ranges"]]
        miss = f" user-missing {missing}" if missing else ""
        role = f" [{v['role'].replace('_', ' ')}]" if v.get("role") else ""
        click.echo(f"  {v['name']:<28} {v['dtype']:<8} {(v['label'] or '')[:70]}{labels}{miss}"
                   f"{role}")
        if v["counts"]:
            shown = ", ".join(
                f"{c['value']}{'=' + c['label'] if c['label'] else ''}: {c['count']}"
                for c in v["counts"][:12])
            more = " …" if len(v["counts"]) > 12 else ""
            click.echo(f"      {shown}{more}; blank: {v['n_blank']}")
    for g in report["multi_select"]:
        how = g["how"] + (f", split on {g['separator']!r}" if g["separator"] else "")
        click.echo(f"  multi-select: {str(g['name'])[:60]} ({len(g['members'])} options; {how})")
    if report["flagged"]:
        click.echo("Flagged as identifying (values never shown):")
        for f in report["flagged"]:
            state = "kept" if f["kept"] else "removed"
            click.echo(f"  {f['name']}: {f['kind']}, {state} — {f['reason']}")


def read_block(**given: object) -> str:
    """A crosswalk's ``read:`` block for the options given (empty when none was)."""
    import json as _json

    lines = [f"  {k}: {_json.dumps(v, ensure_ascii=False)}" for k, v in given.items()
             if v is not None]
    if not lines:
        return ""
    return ("\n# How the export was read: every command reads it this way again.\nread:\n"
            + "\n".join(lines) + "\n")


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also write codebook.json, codebook.md and codebook.csv into this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the codebook as JSON.")
@click.option("--encoding", default=None, help="Text encoding of a CSV (default: detect).")
@click.option("--sheet", default=None, help="Excel sheet name or 0-based number "
              "(default: the first).")
@click.option("--header-rows", type=int, default=None,
              help="Header rows of a CSV/Excel export: 1, 2 (SurveyMonkey) or 3 (Qualtrics) "
                   "[default: detect]. A draft crosswalk records these three options in its "
                   "read: block.")
@click.option("--max-bytes", type=click.IntRange(1), default=None,
              help="Refuse files larger than this [default: 200 MiB].")
@click.option("--draft-crosswalk", "draft", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write a draft crosswalk for this export to this YAML file.")
@click.option("--schema", "schema_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help=f"Schema the draft crosswalk targets "
                                 f"[default: ROOT/{DEFAULT_SCHEMA.as_posix()}].")
@root_option("Project root the default --schema is under")
def inspect(file: Path, out: Path | None, as_json: bool, encoding: str | None,
            sheet: str | None, header_rows: int | None, max_bytes: int | None,
            draft: Path | None, schema_path: Path | None, root: Path | None) -> None:
    """Read one export and show its codebook: every variable with its type, question text,
    value labels, user-missing codes and counts per value, the multi-select groups, and the
    columns flagged as identifying (with why; their values are never shown).
    'harmonise ingest' is an older name for this command and still works.

    Example:

    \b
        harmonise inspect surveys/bedford/bedford-residents-2024.sav --out codebook/
        harmonise inspect export.csv --draft-crosswalk crosswalks/luton/new-survey.v1.yaml
    """
    from harmonise.errors import ReportError
    from harmonise.ingest import DEFAULT_MAX_BYTES, read_survey
    from harmonise.ingest.codebook import codebook_report, to_csv, to_markdown

    chosen_sheet = sheet_value(sheet)
    survey = read_survey(file, encoding=encoding, sheet=chosen_sheet, header_rows=header_rows,
                         max_bytes=max_bytes or DEFAULT_MAX_BYTES)
    report = codebook_report(survey)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_report(report)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "codebook.json").write_text(json.dumps(report, indent=2, ensure_ascii=False)
                                               + "\n", encoding="utf-8")
            (out / "codebook.md").write_text(to_markdown(report), encoding="utf-8")
            (out / "codebook.csv").write_text(to_csv(report), encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"{out}: cannot write the codebook ({exc}). Choose a folder "
                              "you can write to with --out.") from None
        click.echo(f"Wrote codebook.json, codebook.md and codebook.csv to {out}/", err=True)
    if draft is not None:
        from harmonise.crosswalk.draft import draft_crosswalk, draft_summary
        from harmonise.crosswalk.draft_inputs import draft_context
        from harmonise.crosswalk.io import load_schema

        if draft.exists():
            raise ReportError(
                f"{draft}: already exists; writing the draft there would replace it (and "
                "the edits a person made). Give --draft-crosswalk a new path, or move the "
                "file away first.")
        project = project_root(root)
        schema_file = schema_path or project / DEFAULT_SCHEMA
        context = draft_context(file, survey, project, {
            "encoding": encoding, "sheet": chosen_sheet, "header_rows": header_rows,
            "max_bytes": max_bytes or DEFAULT_MAX_BYTES})
        text = draft_crosswalk(survey, load_schema(schema_file), name=draft.name.split(".")[0],
                               context=context)
        text += read_block(encoding=encoding, sheet=chosen_sheet, header_rows=header_rows)
        try:
            draft.parent.mkdir(parents=True, exist_ok=True)
            partial = draft.with_name(f".{draft.name}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(draft)  # whole or not at all
        except OSError as exc:
            raise ReportError(f"{draft}: cannot write the draft crosswalk ({exc}). Choose "
                              "another path for --draft-crosswalk.") from None
        n = draft_summary(text)
        click.echo(f"Wrote draft crosswalk {draft}: {n['items']} items ({n['suggested']} with a "
                   f"concept, {n['proposed']} with a proposed grade), {n['unmapped']} columns "
                   f"unmapped (identifying, metadata or not in the schema), {n['todo']} "
                   "decisions marked TODO. 'harmonise crosswalk validate' lists them; the "
                   "file cannot be released until none is left.", err=True)


#: ``harmonise ingest``: the earlier name of ``inspect``, kept (hidden from --help and the
#: CLI reference) so scripts that use it keep working; same options, same output.
ingest = click.Command(
    "ingest",
    callback=inspect.callback,
    params=inspect.params,
    help="Alias of 'harmonise inspect' (same options).\n\nExample:\n\n\b\n"
    "    harmonise ingest surveys/bedford/bedford-residents-2024.sav",
    hidden=True,
)


COMMANDS = [inspect, ingest]
