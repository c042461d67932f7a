"""``harmonise estimate`` reproduces what an R user states in one argument, to 1e-6 relative.

Cases (R's survey 4.1.1): ``na.rm=TRUE`` keeps the whole design (the interval's df and the
Korn–Graubard row count are the design's or the ``by`` group's, not the rows with the
variable), several ``by`` variables (``svyby(~y, ~a + b)``), ``deff = "replace"``,
``svytotal(~factor)``, and intervals on ``df = Inf`` (``confint()``'s default) — on a
stratified cluster design, a design with a finite population correction and a JK1
replicate design. The numbers R gave are cached in ``tests/data/r_reference/parity.csv``
(the comparison needs no R); ``test_live_r_agrees_with_the_cache`` reruns R where it is
installed. ``UPDATE_R_REFERENCE=1`` rewrites the cache from a live run.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonise.estimate.spec import DesignFileSpec, build_design, estimate_table
from rsurvey import RSCRIPT, SKIP_REASON, relative_difference

HERE = Path(__file__).resolve().parents[1]
API = HERE / "data" / "api"
CACHE = HERE / "data" / "r_reference" / "parity.csv"
TOL = 1e-6

#: R: every case writes estimate/se/ci_low/ci_high/df/deff keys per statistic and group.
SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
out <- file("parity.csv", open = "w")
writeLines("case,key,value", out)
put <- function(case, key, value) {
  writeLines(sprintf("%s,%s,%s", case, key, sprintf("%.17g", as.numeric(value))), out)
}
put("session", "survey_version", as.numeric(gsub("\\.", "", packageVersion("survey"))))
with_missing <- function(df) {
  df$y <- df$api00
  df$y[seq_len(nrow(df)) %% 7 == 3] <- NA
  df$high <- ifelse(df$api00 > 700, "Yes", "No")
  df$high[seq_len(nrow(df)) %% 5 == 1] <- NA
  df
}
strat <- with_missing(read.csv("apistrat.csv"))
clus1 <- with_missing(read.csv("apiclus1.csv"))
wald <- function(case, est, df) {
  ci <- confint(est, df = df)
  put(case, "estimate", coef(est)[1]); put(case, "se", SE(est)[1])
  put(case, "ci_low", ci[1, 1]); put(case, "ci_high", ci[1, 2]); put(case, "df", df)
  d <- attr(est, "deff"); if (!is.null(d)) put(case, "deff", d[1])
}
prop <- function(case, des, method, df = degf(des)) {
  p <- svyciprop(~I(high == "Yes"), des, method = method, na.rm = TRUE, df = df)
  put(case, "estimate", coef(p)); put(case, "ci_low", attr(p, "ci")[1])
  put(case, "ci_high", attr(p, "ci")[2])
}
# 1. na.rm on a stratified cluster design, overall and in a subgroup
des <- svydesign(ids = ~dnum, strata = ~stype, weights = ~pw, data = strat, nest = TRUE)
for (g in c("all", "Yes")) {
  d <- if (g == "all") des else subset(des, sch.wide == g)
  wald(paste0("narm_mean_", g), svymean(~y, d, na.rm = TRUE, deff = TRUE), degf(d))
  wald(paste0("narm_total_", g), svytotal(~y, d, na.rm = TRUE, deff = TRUE), degf(d))
  for (m in c("logit", "beta")) prop(paste0("narm_", m, "_", g), d, m)
  wald(paste0("inf_mean_", g), svymean(~y, d, na.rm = TRUE), Inf)
  for (m in c("logit", "beta")) prop(paste0("inf_", m, "_", g), d, m, df = Inf)
}
# 2. several by variables
by2 <- svyby(~api00, ~stype + sch.wide, des, svymean, deff = TRUE)
for (i in seq_len(nrow(by2))) {
  key <- paste0("by2_", by2$stype[i], "_", by2$sch.wide[i])
  d <- subset(des, stype == by2$stype[i] & sch.wide == by2$sch.wide[i])
  wald(key, svymean(~api00, d, deff = TRUE), degf(d))
  put(key, "svyby_estimate", by2$api00[i]); put(key, "svyby_se", by2$se[i])
}
# 3. deff = "replace" against TRUE, with a finite population correction
fpc <- svydesign(ids = ~1, strata = ~stype, fpc = ~fpc, data = strat)
wald("replace_mean", svymean(~api00, fpc, deff = "replace"), degf(fpc))
wald("replace_total", svytotal(~api00, fpc, deff = "replace"), degf(fpc))
wald("srs_mean", svymean(~api00, fpc, deff = TRUE), degf(fpc))
# 4. totals of a categorical variable
tot <- svytotal(~stype, des, deff = TRUE)
for (k in c("E", "H", "M")) {
  i <- which(names(coef(tot)) == paste0("stype", k))
  ci <- confint(tot, df = degf(des))
  put(paste0("factor_", k), "estimate", coef(tot)[i]); put(paste0("factor_", k), "se", SE(tot)[i])
  put(paste0("factor_", k), "ci_low", ci[i, 1]); put(paste0("factor_", k), "ci_high", ci[i, 2])
  put(paste0("factor_", k), "deff", attr(tot, "deff")[i, i])
}
# 5. a replicate design with missing values
rep <- as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = clus1), type = "JK1")
for (g in c("all", "Yes")) {
  d <- if (g == "all") rep else subset(rep, sch.wide == g)
  wald(paste0("rep_mean_", g), svymean(~y, d, na.rm = TRUE, deff = "replace"), degf(d))
  wald(paste0("rep_total_", g), svytotal(~y, d, na.rm = TRUE), degf(d))
  prop(paste0("rep_beta_", g), d, "beta")
}
close(out)
"""


def _with_missing(df: pd.DataFrame) -> pd.DataFrame:
    """The same missing values as the R script's ``with_missing``."""
    out = df.copy()
    row = np.arange(1, len(out) + 1)
    out["y"] = out["api00"].astype(float).where(row % 7 != 3)
    out["high"] = np.where(out["api00"] > 700, "Yes", "No")
    out["high"] = out["high"].where(row % 5 != 1)
    return out


def _run_r(workdir: Path) -> dict[tuple[str, str], float]:
    assert RSCRIPT is not None
    for name in ("apistrat.csv", "apiclus1.csv"):
        shutil.copy(API / name, workdir / name)
    (workdir / "parity.R").write_text(SCRIPT, encoding="utf-8")
    proc = subprocess.run([RSCRIPT, "--vanilla", "parity.R"], cwd=workdir, capture_output=True,
                          text=True, timeout=180, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed:\n{proc.stderr[-4000:]}")
    return _read(workdir / "parity.csv")


def _read(path: Path) -> dict[tuple[str, str], float]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {(r["case"], r["key"]): float(r["value"]) for r in csv.DictReader(fh)}


R = _read(CACHE) if CACHE.exists() else {}


def _table(data: pd.DataFrame, spec: dict[str, object], **options: object) -> pd.DataFrame:
    design, _ = build_design(DesignFileSpec.model_validate(spec), data)
    return estimate_table(design, data, **options)  # type: ignore[arg-type]


def _row(table: pd.DataFrame, stat: str, var: str, group: str, category: str = "") -> pd.Series:
    pick = ((table["statistic"] == stat) & (table["variable"] == var)
            & (table["group"] == group) & (table["category"].astype(str) == category))
    assert pick.sum() == 1, (stat, var, group, category)
    return table[pick].iloc[0]


def _check(case: str, row: pd.Series, keys: tuple[str, ...]) -> None:
    for key in keys:
        ours, theirs = float(row[key]), R[(case, key)]
        diff = relative_difference(ours, theirs)
        assert diff <= TOL, f"{case} {key}: ours {ours!r}, R {theirs!r} ({diff:.3g})"


STRAT = {"ids": ["dnum"], "strata": "stype", "weights": "pw", "nest": True}
ALL = ("estimate", "se", "ci_low", "ci_high", "df", "deff")
GROUPS = (("all", "all"), ("Yes", "sch.wide=Yes"))


@pytest.fixture(scope="module")
def strat() -> pd.DataFrame:
    return _with_missing(pd.read_csv(API / "apistrat.csv"))


def test_cache_is_survey_4_1_1() -> None:
    assert R[("session", "survey_version")] == 411


@pytest.mark.parametrize(("suffix", "group"), GROUPS)
def test_na_rm_keeps_the_design_degrees_of_freedom(strat: pd.DataFrame, suffix: str,
                                                   group: str) -> None:
    t = _table(strat, STRAT, means=["y"], totals=["y"], by="sch.wide", deff=True)
    _check(f"narm_mean_{suffix}", _row(t, "mean", "y", group), ALL)
    _check(f"narm_total_{suffix}", _row(t, "total", "y", group), ALL)
    for method in ("logit", "beta"):
        p = _table(strat, STRAT, proportions=["high"], by="sch.wide", ci=method)
        _check(f"narm_{method}_{suffix}", _row(p, "proportion", "high", group, "Yes"),
               ("estimate", "ci_low", "ci_high"))


@pytest.mark.parametrize(("suffix", "group"), GROUPS)
def test_df_inf_gives_the_normal_interval(strat: pd.DataFrame, suffix: str, group: str) -> None:
    t = _table(strat, STRAT, means=["y"], by="sch.wide", ci_df="inf")
    _check(f"inf_mean_{suffix}", _row(t, "mean", "y", group), ("estimate", "ci_low", "ci_high"))
    for method in ("logit", "beta"):
        p = _table(strat, STRAT, proportions=["high"], by="sch.wide", ci=method, ci_df="inf")
        _check(f"inf_{method}_{suffix}", _row(p, "proportion", "high", group, "Yes"),
               ("estimate", "ci_low", "ci_high"))


def test_several_by_variables_are_crossed(strat: pd.DataFrame) -> None:
    t = _table(strat, STRAT, means=["api00"], by=["stype", "sch.wide"], deff=True)
    groups = [g for g in t["group"] if g != "all"]
    assert groups == [f"stype={s}, sch.wide={w}" for s in "EHM" for w in ("No", "Yes")]
    for s in "EHM":
        for w in ("No", "Yes"):
            row = _row(t, "mean", "api00", f"stype={s}, sch.wide={w}")
            _check(f"by2_{s}_{w}", row, ALL)
            assert relative_difference(float(row["estimate"]),
                                       R[(f"by2_{s}_{w}", "svyby_estimate")]) <= TOL
            assert relative_difference(float(row["se"]), R[(f"by2_{s}_{w}", "svyby_se")]) <= TOL


def test_deff_replace_leaves_out_the_finite_population_correction(strat: pd.DataFrame) -> None:
    spec = {"strata": "stype", "fpc": ["fpc"]}
    replace = _table(strat, spec, means=["api00"], totals=["api00"], deff="replace")
    _check("replace_mean", _row(replace, "mean", "api00", "all"), ALL)
    _check("replace_total", _row(replace, "total", "api00", "all"), ALL)
    srs = _table(strat, spec, means=["api00"], deff=True)
    _check("srs_mean", _row(srs, "mean", "api00", "all"), ALL)
    assert float(_row(srs, "mean", "api00", "all")["deff"]) != pytest.approx(
        float(_row(replace, "mean", "api00", "all")["deff"]))


def test_total_of_a_categorical_variable_is_a_count_per_category(strat: pd.DataFrame) -> None:
    t = _table(strat, STRAT, totals=["stype"], deff=True)
    for k in "EHM":
        _check(f"factor_{k}", _row(t, "total", "stype", "all", k),
               ("estimate", "se", "ci_low", "ci_high", "deff"))


@pytest.mark.parametrize(("suffix", "group"), GROUPS)
def test_replicate_design_with_missing_values(suffix: str, group: str) -> None:
    clus1 = _with_missing(pd.read_csv(API / "apiclus1.csv"))
    spec = {"ids": ["dnum"], "weights": "pw", "replicates": {"type": "JK1"}}
    t = _table(clus1, spec, means=["y"], totals=["y"], by="sch.wide", deff="replace")
    _check(f"rep_mean_{suffix}", _row(t, "mean", "y", group), ALL)
    _check(f"rep_total_{suffix}", _row(t, "total", "y", group),
           ("estimate", "se", "ci_low", "ci_high", "df"))
    p = _table(clus1, spec, proportions=["high"], by="sch.wide", ci="beta")
    _check(f"rep_beta_{suffix}", _row(p, "proportion", "high", group, "Yes"),
           ("estimate", "ci_low", "ci_high"))


@pytest.mark.needs_r
@pytest.mark.slow
@pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON)
def test_live_r_agrees_with_the_cache(tmp_path: Path) -> None:
    live = _run_r(tmp_path)
    if os.environ.get("UPDATE_R_REFERENCE"):
        shutil.copy(tmp_path / "parity.csv", CACHE)
    assert set(live) == set(R)
    for key, value in live.items():
        assert relative_difference(value, R[key]) <= 1e-12, key
