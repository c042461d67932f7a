"""harmonise estimate: design-based estimates from any survey file and a design file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from harmonise.cli.readopts import header_rows_option, sheet_option, sheet_value

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from harmonise.estimate.quantiles import QRule, QuantileInterval
    from harmonise.estimate.results import CIDf, CIMethod
    from harmonise.models.survey import FlaggedColumn

# harmonise.estimate.quantiles's QRULES and INTERVAL_TYPES + rep_quantiles's
# REP_INTERVAL_TYPES, spelt out so that the CLI starts without importing scipy
# (tests/estimate/test_quantiles.py checks they agree).
QRULE_CHOICES = (
    "math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9",
)  # fmt: skip
QUANTILE_CI_CHOICES = ("mean", "beta", "xlogit", "asin", "score", "quantile")


def parse_probs(text: str) -> tuple[float, ...]:
    """``"0.25,0.5,0.75"`` as probabilities, each strictly between 0 and 1."""
    from harmonise.errors import EstimationError

    out = []
    for part in text.split(","):
        try:
            p = float(part)
        except ValueError:
            raise EstimationError(
                f"--probs: {part.strip()!r} is not a number; give probabilities separated "
                "by commas, e.g. --probs 0.25,0.5,0.75"
            ) from None
        if not 0 < p < 1:
            raise EstimationError(
                f"--probs: {p:g} is outside (0, 1); each probability must be strictly "
                "between 0 and 1 (0.5 is the median)"
            )
        out.append(p)
    return tuple(out)


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
@click.option(
    "--quantile",
    "quantiles",
    multiple=True,
    metavar="VAR",
    help="Quantiles of a numeric column (R's svyquantile), one row per --probs value.",
)
@click.option(
    "--probs",
    default="0.25,0.5,0.75",
    show_default=True,
    metavar="P,P,...",
    help="Probabilities for --quantile, each strictly between 0 and 1.",
)
@click.option(
    "--qrule",
    type=click.Choice(QRULE_CHOICES),
    default="math",
    show_default=True,
    metavar="RULE",
    help="R's qrule for --quantile: math, school, shahvaish, hf1..hf9 (Hyndman-Fan types).",
)
@click.option(
    "--quantile-ci",
    "quantile_ci",
    type=click.Choice(QUANTILE_CI_CHOICES),
    default="mean",
    show_default=True,
    metavar="TYPE",
    help=(
        "R's interval.type for --quantile: mean (Woodruff), beta, xlogit, asin; score "
        "(Taylor designs only); quantile (replicate designs only: the quantile in every "
        "replicate)."
    ),
)
@click.option(
    "--by",
    multiple=True,
    metavar="VAR",
    help="Also estimate within each group of VAR; repeat for the cross of several variables "
    "(R's svyby(~y, ~a + b)).",
)
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
@click.option(
    "--deff",
    type=click.Choice(["srs", "replace"]),
    is_flag=False,
    flag_value="srs",
    default=None,
    help="Fill the deff column: against simple random sampling without replacement "
    "(--deff, R's deff=TRUE) or with replacement (--deff replace, R's deff=\"replace\").",
)
@click.option(
    "--df",
    "ci_df",
    type=click.Choice(["design", "inf"]),
    default="design",
    show_default=True,
    help="Degrees of freedom of the intervals: the design's (R's svyciprop and "
    "confint(df=degf(design))) or inf, the normal quantile (R's confint() default).",
)
@click.option("--encoding", default=None, help="Text encoding of a CSV (default: detect).")
@sheet_option("an Excel DATA file")
@header_rows_option("a CSV/Excel DATA file")
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
    quantiles: tuple[str, ...],
    probs: str,
    qrule: QRule,
    quantile_ci: QuantileInterval,
    by: tuple[str, ...],
    ci: CIMethod,
    level: float,
    deff: Literal["srs", "replace"] | None,
    ci_df: CIDf,
    encoding: str | None,
    sheet: str | None,
    header_rows: int | None,
    out: Path | None,
) -> None:
    """Estimate means, proportions, totals and quantiles with design-based SEs (R survey's
    numbers).

    DATA is any file harmonise can read (.sav .zsav .por .dta .csv .xlsx); columns are
    used as read. DESIGN.yaml names the design columns as R's svydesign does, and may
    calibrate the weights (rake, poststratify, linear, raking; bounds; trimming); the SEs
    then account for the calibration. A 'replicates' block switches to replicate-weight
    SEs: JK1, JKn or bootstrap replicates built from the design (R's as.svrepdesign), or
    replicate weight columns shipped with the file (R's svrepdesign); calibration is then
    applied to every replicate. Output columns: statistic, variable, category, group,
    estimate, se, ci_low, ci_high, df, deff, n; a quantile row
    (--quantile VAR --probs 0.1,0.5,0.9) has the probability as its category, and a
    --total of a text column one estimated count per category (R's svytotal(~factor)).
    Rows missing a variable are left out of its estimates while the design keeps them (R's
    na.rm=TRUE: intervals on the design's or the group's degrees of freedom). See
    docs/estimation.md.

    Example:

    \b
        harmonise estimate tests/data/api/apiclus1.csv \\
            --design tests/data/api/apiclus1.design.yaml \\
            --mean api00 --total enroll --proportion stype --by sch.wide --deff
    """
    import pandas as pd

    from harmonise._util.yamlio import load_yaml_model
    from harmonise.errors import EstimationError
    from harmonise.estimate.rep_quantiles import quantile_caveat
    from harmonise.estimate.spec import DesignFileSpec, build_design, estimate_table
    from harmonise.ingest import read_survey

    if out is not None:
        _check_out(out)  # before any work: a missing folder is not found after the sums
    if not (means or proportions or totals or quantiles):
        raise EstimationError(
            "nothing to estimate: give at least one --mean, --proportion, --total or "
            "--quantile VAR"
        )
    probabilities = parse_probs(probs)
    spec = load_yaml_model(
        design_file, DesignFileSpec, error=EstimationError, what="design file"
    )
    survey = read_survey(data, encoding=encoding, sheet=sheet_value(sheet),
                         header_rows=header_rows)
    _check_not_removed(survey.flagged, [*means, *proportions, *totals, *quantiles, *by])
    design, _ = build_design(spec, survey.data, source=str(data))
    if quantiles:
        caveat = quantile_caveat(design, quantile_ci)
        if caveat is not None:
            click.echo(f"note: {caveat}", err=True)
    table = estimate_table(
        design,
        survey.data,
        means=means,
        proportions=proportions,
        totals=totals,
        by=by,
        ci=ci,
        level=level,
        deff="replace" if deff == "replace" else deff is not None,
        ci_df=ci_df,
        quantiles=quantiles,
        probs=probabilities,
        quantile_rule=qrule,
        quantile_interval=quantile_ci,
    )
    thin = table[pd.to_numeric(table["df"], errors="coerce").fillna(0) < 1]
    if not thin.empty:
        shown = "; ".join(
            f"{r.statistic} {r.variable}{' ' + str(r.category) if r.category else ''} "
            f"({r.group})"
            for r in thin.head(5).itertuples()
        )
        more = f" and {len(thin) - 5} more" if len(thin) > 5 else ""
        click.echo(
            f"note: {len(thin)} row(s) have no degrees of freedom (df 0: the group's "
            f"respondents lie in one PSU per stratum, or in one replicate's PSU), so their "
            f"SE and interval cannot be trusted: {shown}{more}. Widen the group or merge "
            "strata (R gives the same numbers with a warning).",
            err=True,
        )
    from harmonise._util.cells import escape_frame

    table = escape_frame(table)  # category labels come from the export: never a formula
    if out is not None:
        _write_csv(table, out)
        click.echo(f"wrote {len(table)} row(s) to {out}", err=True)
    else:
        click.echo(table.to_csv(index=False), nl=False)


def _check_out(out: Path) -> None:
    """``--out`` must name a file in an existing folder (checked before any work)."""
    from harmonise.errors import ReportError

    folder = out.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ReportError(
            f"--out {out}: the folder {folder} {what}. Create the folder first "
            f"(mkdir -p {folder}) or give a path in an existing folder."
        )
    if out.is_dir():
        raise ReportError(f"--out {out}: is a folder; give a file name, e.g. "
                          f"{out / 'estimates.csv'}")


def _write_csv(table: pd.DataFrame, out: Path) -> None:
    """Write the table to ``out`` whole (a temporary file moved into place) or not at all."""
    import os
    import tempfile

    from harmonise.errors import ReportError

    _check_out(out)
    fd, tmp = tempfile.mkstemp(prefix=".estimate-", suffix=".csv", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            table.to_csv(fh, index=False)
        Path(tmp).replace(out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(f"--out {out}: cannot write the table ({exc.strerror or exc}); "
                          "choose a folder you can write to") from None


COMMANDS = [estimate]


def _check_not_removed(flagged: Sequence[FlaggedColumn], names: Sequence[str]) -> None:
    """A variable asked for that was removed at the door as identifying: say so (and its
    kind), not that it "is not in the data"."""
    from harmonise.errors import EstimationError

    removed = {f.name: f for f in flagged if not f.kept}
    for name in names:
        f = removed.get(name)
        if f is not None:
            why = f.reason if f.reason.startswith(f"{f.kind}:") else f"{f.kind}: {f.reason}"
            raise EstimationError(
                f"variable {name!r} was removed when the file was read because it looks "
                f"identifying ({why}), so it cannot be estimated. Identifying "
                "columns never leave the door: estimate another variable (`harmonise inspect "
                "FILE` lists what was removed and why)."
            )
