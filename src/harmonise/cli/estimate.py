"""harmonise estimate: design-based estimates from any survey file and a design file."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("data", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--design",
    "design_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="DESIGN.yaml: ids, strata, weights, fpc, nest, lonely_psu, calibrate, replicates.",
)
@click.option("--mean", "means", multiple=True, metavar="VAR", help="Mean of a numeric column.")
@click.option(
    "--proportion",
    "proportions",
    multiple=True,
    metavar="VAR",
    help="Proportion of each category of a column.",
)
@click.option("--total", "totals", multiple=True, metavar="VAR", help="Total of a numeric column.")
@click.option("--by", default=None, metavar="VAR", help="Also estimate within each group of VAR.")
@click.option(
    "--ci",
    type=click.Choice(["logit", "beta", "wald"]),
    default="logit",
    show_default=True,
    help="Interval for proportions (means and totals: Wald).",
)
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level.",
)
@click.option("--deff", is_flag=True, help="Fill the deff column (R's deff=TRUE).")
@click.option("--encoding", default=None, help="Text encoding of a CSV (default: detect).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the table to this CSV instead of printing it.",
)
def estimate(
    data: Path,
    design_file: Path,
    means: tuple[str, ...],
    proportions: tuple[str, ...],
    totals: tuple[str, ...],
    by: str | None,
    ci: str,
    level: float,
    deff: bool,
    encoding: str | None,
    out: Path | None,
) -> None:
    """Estimate means, proportions and totals with design-based SEs (R survey's numbers).

    DATA is any file harmonise can read (.sav .zsav .por .dta .csv .xlsx); columns are
    used as read. DESIGN.yaml names the design columns as R's svydesign does, and may
    calibrate the weights (rake, poststratify, linear, raking; bounds; trimming); the SEs
    then account for the calibration. A 'replicates' block switches to replicate-weight
    SEs: JK1, JKn or bootstrap replicates built from the design (R's as.svrepdesign), or
    replicate weight columns shipped with the file (R's svrepdesign); calibration is then
    applied to every replicate. Output columns: statistic, variable, category, group,
    estimate, se, ci_low, ci_high, df, deff, n. See docs/estimation.md.

    Example:

    \b
        harmonise estimate tests/data/api/apiclus1.csv \\
            --design tests/data/api/apiclus1.design.yaml \\
            --mean api00 --total enroll --proportion stype --by sch.wide --deff
    """
    from harmonise.errors import EstimationError
    from harmonise.estimate.spec import DesignFileSpec, build_design, estimate_table
    from harmonise.ingest import read_survey
    from harmonise.yamlio import load_yaml_model

    if not (means or proportions or totals):
        raise EstimationError(
            "nothing to estimate: give at least one --mean, --proportion or --total VAR"
        )
    spec = load_yaml_model(
        design_file, DesignFileSpec, error=EstimationError, what="design file"
    )
    survey = read_survey(data, encoding=encoding)
    design, _ = build_design(spec, survey.data)
    table = estimate_table(
        design,
        survey.data,
        means=means,
        proportions=proportions,
        totals=totals,
        by=by,
        ci=ci,  # type: ignore[arg-type]
        level=level,
        deff=deff,
    )
    if out is not None:
        table.to_csv(out, index=False)
        click.echo(f"wrote {len(table)} row(s) to {out}", err=True)
    else:
        click.echo(table.to_csv(index=False), nl=False)


COMMANDS = [estimate]
