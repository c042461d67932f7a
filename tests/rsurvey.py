"""Run R's ``survey`` package once and read back reference numbers (test helper).

A test module describes its cases as :class:`RCase` rows, writes its data files as CSV
into a work directory, and calls :func:`run_reference`, which writes one R script,
runs ``Rscript`` once and returns ``{case id: {key: value}}``. Numbers travel as
``%.17g`` text, so nothing is lost on the way; R's ``NA`` becomes ``None``.

Importable as ``from rsurvey import ...`` (``tests/`` is on pytest's pythonpath).
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RSCRIPT = shutil.which("Rscript")
if RSCRIPT is None and os.environ.get("HARMONISE_REQUIRE_R"):
    # make test / CI set this: there a missing R is a broken setup, not a reason to skip.
    raise RuntimeError(
        "HARMONISE_REQUIRE_R is set but Rscript is not on PATH; run 'make r-deps' "
        "(apt-get install r-base-core r-cran-survey)"
    )
SKIP_REASON = (
    "Rscript not found on PATH: install R and the survey package "
    "(e.g. apt-get install r-cran-survey) to run the cross-checks against R"
)

#: R code run before the cases: exports the ``api`` data with integer codes.
PRELUDE = r"""
suppressPackageStartupMessages(library(survey))
options(warn = 1)
data(api)
code <- function(x) as.integer(factor(x)) - 1L
prep <- function(df) {
  df$stype_code <- code(df$stype)
  df$schwide_code <- code(df$sch.wide)
  df$succ <- as.integer(df$api00 > 700)
  df$yc <- df$api00
  df$dom <- as.integer(df$awards == "Yes")
  df$dnum_code <- as.integer(df$dnum)
  df
}
apistrat <- prep(apistrat)
apiclus1 <- prep(apiclus1)
cols <- c("stype_code", "schwide_code", "succ", "yc", "dom", "dnum_code", "pw")
write.csv(apistrat[, cols], "apistrat.csv", row.names = FALSE)
write.csv(apiclus1[, cols], "apiclus1.csv", row.names = FALSE)

out <- file("reference.csv", open = "w")
writeLines("case,key,value", out)
put <- function(case, key, value) {
  writeLines(sprintf("%s,%s,%s", case, key, sprintf("%.17g", as.numeric(value))), out)
}
put("session", "survey_version", as.numeric(gsub("\\.", "", packageVersion("survey"))))

reference <- function(case, d, sub, level) {
  m <- svymean(~I(succ * 1), sub, deff = TRUE)
  put(case, "estimate", coef(m)); put(case, "se", SE(m)); put(case, "deff", deff(m))
  put(case, "df", degf(sub))
  for (method in c("logit", "mean", "beta")) {
    p <- suppressWarnings(svyciprop(~I(succ == 1), sub, method = method, level = level))
    put(case, paste0(method, "_estimate"), coef(p))
    put(case, paste0(method, "_low"), attr(p, "ci")[1])
    put(case, paste0(method, "_high"), attr(p, "ci")[2])
  }
  y <- svymean(~yc, sub, deff = TRUE)
  ci <- confint(y, df = degf(sub), level = level)
  put(case, "y_estimate", coef(y)); put(case, "y_se", SE(y))
  put(case, "y_deff", deff(y)); put(case, "y_low", ci[1]); put(case, "y_high", ci[2])
  writeLines(sprintf("%.17g", weights(d)), sprintf("weights_%s.txt", case))
}
"""

RUN_CASE = r"""
local({{
  options(survey.lonely.psu = "{lonely}")
  df <- read.csv("{data}")
  res <- tryCatch({{
    d <- svydesign(ids = {ids}, strata = {strata}, weights = ~{weight}, data = df, nest = TRUE)
    {rake}
    sub <- {subset}
    reference("{id}", d, sub, {level})
    NULL
  }}, error = function(e) conditionMessage(e))
  if (!is.null(res)) writeLines(sprintf("%s,error,%s", "{id}", gsub("[,\n]", " ", res)), out)
}})
"""


@dataclass(frozen=True)
class RCase:
    """One reference computation: a design over a CSV file, maybe raked, maybe a domain.

    Columns ``succ`` (0/1), ``yc`` (numeric) and, when ``domain`` is set, that 0/1 column
    must be in the file. ``margins`` are integer-coded columns with targets per code.
    """

    id: str
    data: str
    weight: str
    strata: str | None = None
    cluster: str | None = None
    margins: tuple[tuple[str, tuple[float, ...]], ...] = ()
    domain: str | None = None
    lonely: str = "fail"
    level: float = 0.95

    def r_code(self) -> str:
        rake = ""
        if self.margins:
            formulas = ", ".join(f"~{name}" for name, _ in self.margins)
            pops = ", ".join(
                f"data.frame({name} = 0:{len(t) - 1}, Freq = c({', '.join(repr(x) for x in t)}))"
                for name, t in self.margins
            )
            rake = (
                f"d <- rake(d, list({formulas}), list({pops}), "
                "control = list(epsilon = 1e-10, maxit = 1000))"
            )
        return RUN_CASE.format(
            id=self.id,
            lonely=self.lonely,
            data=self.data,
            ids=f"~{self.cluster}" if self.cluster else "~1",
            strata=f"~{self.strata}" if self.strata else "NULL",
            weight=self.weight,
            rake=rake,
            subset=f"subset(d, {self.domain} == 1)" if self.domain else "d",
            level=repr(self.level),
        )


def _number(text: str) -> float | None:
    return None if text == "NA" else float(text)


@dataclass(frozen=True)
class Reference:
    """R's numbers by case and key, R's error message by case, weights by case."""

    values: dict[str, dict[str, float | None]]
    errors: dict[str, str]
    workdir: Path

    def weights(self, case: str) -> list[float]:
        text = (self.workdir / f"weights_{case}.txt").read_text(encoding="utf-8")
        return [float(x) for x in text.split()]


def run_reference(cases: Sequence[RCase], workdir: Path, timeout: float = 120) -> Reference:
    """Write one R script for ``cases`` into ``workdir``, run it once, parse its output."""
    if RSCRIPT is None:
        raise RuntimeError(SKIP_REASON)
    script = PRELUDE + "".join(c.r_code() for c in cases) + "close(out)\n"
    path = workdir / "reference.R"
    path.write_text(script, encoding="utf-8")
    proc = subprocess.run(
        [RSCRIPT, "--vanilla", path.name],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    values: dict[str, dict[str, float | None]] = {}
    errors: dict[str, str] = {}
    with (workdir / "reference.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["key"] == "error":
                errors[row["case"]] = row["value"]
            else:
                values.setdefault(row["case"], {})[row["key"]] = _number(row["value"])
    return Reference(values=values, errors=errors, workdir=workdir)


def relative_difference(ours: float | None, theirs: float | None) -> float:
    """``|a − b| / max(|b|, 1e-12)``; 0 when both are the same infinity or both missing
    (None or NaN, R's NA/NaN), ``inf`` when only one is."""
    missing_a = ours is None or math.isnan(ours)
    missing_b = theirs is None or math.isnan(theirs)
    if missing_a or missing_b:
        return 0.0 if missing_a and missing_b else math.inf
    assert ours is not None and theirs is not None
    if math.isinf(ours) or math.isinf(theirs):
        return 0.0 if ours == theirs else math.inf
    return abs(ours - theirs) / max(abs(theirs), 1e-12)


__all__ = [
    "RSCRIPT",
    "SKIP_REASON",
    "RCase",
    "Reference",
    "relative_difference",
    "run_reference",
]
