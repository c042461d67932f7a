"""harmonise questionnaire: build the joint survey's forms (other modules add subcommands).

The ``questionnaire`` group lives here; a module adding a subcommand imports the group and
registers on it (``@questionnaire.command()``), then is listed in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from harmonise.cli.root import project_root, root_option

DEFAULT_SPEC = "questionnaire/joint-v1.yaml"
_FILE = click.Path(path_type=Path, dir_okay=False)


@click.group()
def questionnaire() -> None:
    """Design the joint survey: forms, printable versions, codebook and crosswalks.

    Example:

    \b
        harmonise questionnaire build questionnaire/joint-v1.yaml \\
            --out reports/questionnaire
    """


@questionnaire.command()
@click.argument("spec", type=_FILE, required=False)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Folder to write into [default: ROOT/reports/questionnaire].")
@click.option("--schema", "schema_path", type=_FILE, default=None,
              help="Schema file [default: crosswalks/schema/<schema named in the spec>.yaml].")
@click.option("--validate", type=click.Choice(["auto", "yes", "no"]), default="auto",
              show_default=True,
              help="Run ODK Validate (Java) on each form: auto = when java is on the PATH.")
@root_option("Project root for the default SPEC and --out")
def build(spec: Path | None, out_dir: Path | None, schema_path: Path | None, validate: str,
          root: Path | None) -> None:
    """Build the XLSForms (and XForms), printable HTML and DOCX, codebook (CSV, XLSX) and the
    joint survey's draft crosswalks from a questionnaire spec.

    SPEC defaults to ROOT/questionnaire/joint-v1.yaml. A spec problem (unknown concept,
    routing naming a missing question, population mismatch) is reported with its line.

    Example:

    \b
        harmonise questionnaire build questionnaire/joint-v1.yaml \\
            --out reports/questionnaire
    """
    from harmonise.errors import QuestionnaireError
    from harmonise.questionnaire.build import build_outputs, write_outputs
    from harmonise.questionnaire.spec import load_spec

    base = project_root(root)
    spec_path = spec or base / DEFAULT_SPEC
    out = out_dir or base / "reports" / "questionnaire"
    have_java = shutil.which("java") is not None
    if validate == "yes" and not have_java:
        raise QuestionnaireError("--validate yes needs a Java runtime for ODK Validate and "
                                 "none is on the PATH; run `make java-deps` or use "
                                 "--validate auto")
    run_validate = validate == "yes" or (validate == "auto" and have_java)
    parsed, schema = load_spec(spec_path, schema_path, project=base)
    built = build_outputs(parsed, schema, validate=run_validate)
    written = write_outputs(built.files, out)
    forms = ", ".join(f"{lay.form.id} ({len(lay.questions)} questions)"
                      for lay in built.layouts)
    check = "ODK Validate accepted every form" if run_validate else "ODK Validate not run"
    click.echo(f"{parsed.ref}: {forms}; {check}")
    click.echo(f"wrote {len(written)} files to {out}")


@questionnaire.command("schema")
def json_schema() -> None:
    """Print the JSON Schema of questionnaire spec files (for editors and CI).

    Example:

    \b
        harmonise questionnaire schema > questionnaire/questionnaire.schema.json
    """
    from harmonise.questionnaire.spec import spec_json_schema

    click.echo(spec_json_schema(), nl=False)


@questionnaire.command()
@click.argument("xlsform", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--out", "out_file", type=_FILE, required=True,
              help="CSV to write (Kobo layout: ';'-separated, group paths, 1/0 option columns).")
@click.option("--n", "n", type=click.IntRange(1, 100_000), default=400, show_default=True,
              help="Number of simulated submissions.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed (the same seed gives the same file).")
@click.option("--cluster", default=None,
              help="Calculated field holding the cluster code (e.g. school_code), filled with "
                   "simulated codes S01, S02, ...")
def simulate(xlsform: Path, out_file: Path, n: int, seed: int, cluster: str | None) -> None:
    """Write SYNTHETIC submissions of a built XLSForm as a KoboToolbox CSV export, for a dry
    run of `harmonise run` with the joint crosswalks before fieldwork.

    Routing (relevant), constraints and calculations are honoured; answers are random.

    Example:

    \b
        harmonise questionnaire simulate reports/questionnaire/joint-v1-adults.xlsx \\
            --out dry-run/luton-adults.csv --n 500
    """
    from harmonise.errors import QuestionnaireError
    from harmonise.questionnaire.simulate import SimOptions, kobo_csv
    from harmonise.questionnaire.simulate import simulate as simulate_rows
    from harmonise.questionnaire.xlsform import read_xlsform

    rows = read_xlsform(xlsform.read_bytes())
    frame = simulate_rows(rows, SimOptions(n=n, seed=seed, cluster=cluster))
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_file.with_name(f".{out_file.name}.tmp")
        tmp.write_bytes(kobo_csv(frame))
        tmp.replace(out_file)
    except OSError as exc:
        raise QuestionnaireError(f"cannot write {out_file}: {exc}") from exc
    click.echo(f"wrote {n} SYNTHETIC submissions ({frame.shape[1]} columns) to {out_file}")


COMMANDS = [questionnaire]
