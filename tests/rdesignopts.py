"""R reference numbers for the design-file options ``probs``, ``trim``, ``calibrate.trim.then:
keep`` and ``pps`` (brewer, HR, HR(psum)), from R's ``survey`` (4.1.1).

Run ``python tests/rdesignopts.py`` (needs ``Rscript`` with ``survey``) to regenerate
``tests/data/r_reference/design_options.csv`` (``case, stat, variable, category, group,
key, value``; numbers as ``%.17g``) and, with ``--data``, the SYNTHETIC PPS school sample
``tests/data/r_reference/pps_schools.csv`` it uses. Each case is a design file (as
``harmonise estimate`` reads it) and the R calls an R user would write for it;
``tests/estimate/test_design_options_against_r.py`` compares harmonise with the cache
(no R needed) and, once, reruns R and compares R with the cache.

Importable as ``from rdesignopts import ...`` (``tests/`` is on pytest's pythonpath).
"""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
API_DIR = HERE / "data" / "api"
REF_DIR = HERE / "data" / "r_reference"
REFERENCE = REF_DIR / "design_options.csv"
SCHOOLS = REF_DIR / "pps_schools.csv"

STYPE = {"E": 4421.0, "H": 755.0, "M": 1018.0}
SCHWIDE = {"No": 1072.0, "Yes": 5122.0}
API99_TOTAL = 3914069.0
SEX = {"F": 10400.0, "M": 10900.0}  # the synthetic pupils' population by sex
KIND = {"academy": 7000.0, "maintained": 14300.0}  # ... and by kind of school


@dataclass(frozen=True)
class Case:
    """A design file (``spec``), the R code that builds the same design ``d`` from a data
    frame ``df``, and the statistics: means, totals, proportions, overall and by ``by``."""

    id: str
    data: str  # "apistrat" | "apiclus1" | "schools"
    spec: dict[str, object]
    r_design: str
    means: tuple[str, ...]
    totals: tuple[str, ...]
    proportions: tuple[str, ...]
    by: str
    #: "subset": R's ``d[rows, ]`` per group; "pps_subset": R's ``[.pps`` called directly
    #: (a HR design whose PSUs are its rows; no deff per group, see the R code);
    #: "totals": R cannot subset a clustered
    #: ``pps = HR()`` design (``[.pps`` is not registered and indexes its PSU matrix by
    #: rows), so the group's mean, total and proportions come from ``svytotal`` of the
    #: group's indicator and values on the whole design and ``svycontrast`` (estimate
    #: and SE only: the same linearisation, without a subset to take degf from)
    r_groups: str = "subset"


def _api(case_id: str, data: str, spec: dict[str, object], r_design: str) -> Case:
    return Case(case_id, data, spec, r_design, ("api00",), ("api99",), ("grade",), "awards")


def _schools(case_id: str, spec: dict[str, object], r_design: str) -> Case:
    groups = "totals" if "HR" in r_design else "subset"
    return Case(
        case_id, "schools", spec, r_design, ("score",), ("score",), ("cat",), "sex", r_groups=groups
    )


RAKE = {
    "method": "rake",
    "margins": {"stype": STYPE, "sch.wide": SCHWIDE},
    "epsilon": 1e-12,
    "max_iterations": 5000,
}
R_RAKE = (
    "d <- rake(d, list(~stype, ~sch.wide), list(data.frame(stype = c('E', 'H', 'M'), "
    "Freq = c(4421, 755, 1018)), data.frame(sch.wide = c('No', 'Yes'), Freq = c(1072, 5122))), "
    "control = list(epsilon = 1e-11, maxit = 1000))"
)
LINEAR = {
    "method": "linear",
    "margins": {"stype": STYPE, "sch.wide": SCHWIDE},
    "totals": {"api99": API99_TOTAL},
}
R_LINEAR = "d <- calibrate(d, ~stype + sch.wide + api99, c(6194, 755, 1018, 5122, 3914069))"

R_FIX_PPSVAR = (
    "fixed <- survey:::ppsvar\n"
    "code <- deparse(body(fixed))\n"
    "stopifnot(sum(grepl('y <- qr.resid', code, fixed = TRUE)) == 1)\n"
    "body(fixed) <- parse(text = sub('y <- qr.resid', 'x <- qr.resid', code, "
    "fixed = TRUE))[[1]]\n"
    "assignInNamespace('ppsvar', fixed, ns = 'survey')\n"
)

CASES: tuple[Case, ...] = (
    _api(
        "probs_strat",
        "apistrat",
        {"strata": "stype", "probs": "p", "fpc": ["fpc"]},
        "d <- svydesign(ids = ~1, strata = ~stype, probs = ~p, fpc = ~fpc, data = df)",
    ),
    _api(
        "probs_clus1",
        "apiclus1",
        {"ids": ["dnum"], "probs": "p"},
        "d <- svydesign(ids = ~dnum, probs = ~p, data = df)",
    ),
    _api(
        "trim_design_strat",
        "apistrat",
        {"strata": "stype", "weights": "pw", "fpc": ["fpc"], "trim": {"upper": 40}},
        "d <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = df)\n"
        "d <- trimWeights(d, upper = 40)",
    ),
    _api(
        "trim_design_then_rake",
        "apistrat",
        {
            "strata": "stype",
            "weights": "pw",
            "fpc": ["fpc"],
            "trim": {"upper": 40},
            "calibrate": RAKE,
        },
        "d <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = df)\n"
        "d <- trimWeights(d, upper = 40)\n" + R_RAKE,
    ),
    _api(
        "rake_trim_keep",
        "apiclus1",
        {
            "ids": ["dnum"],
            "weights": "pw",
            "fpc": ["fpc"],
            "calibrate": {**RAKE, "trim": {"upper": 45, "lower": 30, "then": "keep"}},
        },
        "d <- svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = df)\n"
        + R_RAKE
        + "\nd <- trimWeights(d, upper = 45, lower = 30)",
    ),
    _api(
        "linear_trim_keep_strict",
        "apiclus1",
        {
            "ids": ["dnum"],
            "weights": "pw",
            "calibrate": {**LINEAR, "trim": {"upper": 40, "strict": True, "then": "keep"}},
        },
        "d <- svydesign(ids = ~dnum, weights = ~pw, data = df)\n"
        + R_LINEAR
        + "\nd <- trimWeights(d, upper = 40, strict = TRUE)",
    ),
    _schools(
        "brewer_strat",
        {"ids": ["school"], "strata": "area", "fpc": ["p"], "pps": "brewer"},
        "d <- svydesign(ids = ~school, strata = ~area, fpc = ~p, data = df, pps = 'brewer')",
    ),
    Case(
        "brewer_strat_kind",  # groups that reach only some schools of a stratum
        "schools",
        {"ids": ["school"], "strata": "area", "fpc": ["p"], "pps": "brewer"},
        "d <- svydesign(ids = ~school, strata = ~area, fpc = ~p, data = df, pps = 'brewer')",
        ("score",),
        ("score",),
        ("cat",),
        "kind",
    ),
    _schools(
        "brewer_two_stage",
        {"ids": ["school", "form"], "strata": "area", "fpc": ["p", "p2"], "pps": "brewer"},
        "d <- svydesign(ids = ~school + form, strata = ~area, fpc = ~p + p2, data = df, "
        "pps = 'brewer')",
    ),
    _schools(
        "brewer_rake",
        {"ids": ["school"], "fpc": ["p"], "pps": "brewer",
         "calibrate": {"method": "rake", "margins": {"sex": SEX, "kind": KIND},
                       "epsilon": 1e-12, "max_iterations": 5000}},
        "d <- svydesign(ids = ~school, fpc = ~p, data = df, pps = 'brewer')\n"
        "d <- rake(d, list(~sex, ~kind), list(data.frame(sex = c('F', 'M'), "
        "Freq = c(10400, 10900)), data.frame(kind = c('academy', 'maintained'), "
        "Freq = c(7000, 14300))), control = list(epsilon = 1e-11, maxit = 1000))",
    ),
    _schools(
        "brewer_probs_linear",
        {
            "ids": ["school"],
            "probs": "p",
            "fpc": ["p"],
            "pps": "brewer",
            "calibrate": {"method": "linear", "margins": {"sex": SEX}},
        },
        "d <- svydesign(ids = ~school, probs = ~p, fpc = ~p, data = df, pps = 'brewer')\n"
        "d <- calibrate(d, ~sex, c(21300, 10900))",
    ),
    _schools(
        "hr_strat",
        {"ids": ["school"], "strata": "area", "probs": "p", "pps": "HR"},
        # R's HRDcheck needs numeric strata (ave() of a character column fails)
        "d <- svydesign(ids = ~school, strata = ~area_code, probs = ~p, data = df, pps = HR())",
    ),
    Case(
        "hr_elements",  # every pupil its own PSU: R can subset this HR design
        "schools",
        {"strata": "area", "probs": "p", "pps": "HR"},
        "d <- svydesign(ids = ~1, strata = ~area_code, probs = ~p, data = df, pps = HR())",
        ("score",),
        ("score",),
        ("cat",),
        "sex",
        r_groups="pps_subset",
    ),
    _schools(
        "hr_psum_weights",
        {"ids": ["school"], "weights": "w", "pps": {"method": "HR", "psum": 0.06}},
        # R's pps_design.HR drops weights= (it reads probs= only): R gets the same design
        # from probs, harmonise takes the weights as 1 / probs
        "d <- svydesign(ids = ~school, probs = ~p, data = df, pps = HR(0.06))",
    ),
    _schools(
        "hr_linear",
        {
            "ids": ["school"],
            "probs": "p",
            "pps": "HR",
            "calibrate": {"method": "linear", "margins": {"sex": SEX}},
        },
        # survey 4.1.1's ppsvar computes the calibration residuals into 'y' and then
        # uses the unadjusted 'x' (so R's SE ignores the calibration); this case runs
        # R's ppsvar with that one letter fixed. It stays last: the fix stays in place.
        R_FIX_PPSVAR + "d <- svydesign(ids = ~school, probs = ~p, data = df, pps = HR())\n"
        "d <- calibrate(d, ~sex, c(21300, 10900))",
    ),
)


def prep(df: pd.DataFrame) -> pd.DataFrame:
    """Derived columns, computed identically in R (``prep`` in :data:`R_PRELUDE`)."""
    out = df.copy()
    if "api00" in out:
        out["grade"] = np.where(
            out["api00"] < 600, "low", np.where(out["api00"] < 750, "mid", "top")
        )
        out["p"] = 1.0 / out["pw"]
    return out


def frame(name: str) -> pd.DataFrame:
    path = SCHOOLS if name == "schools" else API_DIR / f"{name}.csv"
    return prep(pd.read_csv(path))


def make_schools(seed: int = 20261206) -> pd.DataFrame:
    """A SYNTHETIC one-stage cluster sample of pupils in schools drawn with probability
    proportional to size in three areas (the shape of a pupils' survey). Two schools of
    area A get probabilities 0.25 and 0.75 exactly, so Hartley–Rao's ``π_i + π_j = 1``
    rule is exercised; ``kind`` is a school-level variable (a group that reaches only
    some schools of a stratum); ``form``/``p2`` a second stage (two forms per school,
    each in the sample with probability 0.4 or 0.6)."""
    rng = np.random.default_rng(seed)
    rows = []
    school = 0
    for area, n_pop, n_sample in (("A", 40, 6), ("B", 30, 5), ("C", 25, 4)):
        size = np.maximum(40, rng.lognormal(5.3, 0.6, n_pop).round())
        pi = n_sample * size / size.sum()
        pi = np.minimum(pi, 0.9)
        chosen = rng.choice(n_pop, size=n_sample, replace=False, p=size / size.sum())
        for k, i in enumerate(chosen):
            school += 1
            p = float(pi[i])
            if area == "A" and k < 2:
                p = (0.25, 0.75)[k]
            effect = rng.normal(0, 6)
            for _ in range(int(rng.integers(8, 21))):
                sex = "F" if rng.random() < 0.5 else "M"
                score = round(55 + effect + (3 if sex == "F" else 0) + rng.normal(0, 10), 1)
                u = rng.random() + 0.01 * effect
                cat = "a" if u < 0.3 else ("b" if u < 0.75 else "c")
                rows.append(
                    {
                        "area": area,
                        "area_code": "ABC".index(area) + 1,
                        "school": school,
                        "kind": "academy" if school % 3 == 0 else "maintained",
                        "p": p,
                        "w": 1.0 / p,
                        "sex": sex,
                        "score": score,
                        "cat": cat,
                    }
                )
    out = pd.DataFrame(rows)
    # a second stage: two forms per school, each taking part with probability p2
    out["form"] = out.groupby("school").cumcount() % 2 + 1
    out["p2"] = np.where(out["school"] % 2 == 1, 0.4, 0.6)
    return out


R_PRELUDE = r"""
suppressPackageStartupMessages(library(survey))
options(warn = 1)
prep <- function(df) {
  if (!is.null(df$api00)) {
    df$grade <- ifelse(df$api00 < 600, "low", ifelse(df$api00 < 750, "mid", "top"))
    df$p <- 1 / df$pw
  }
  df
}
out <- file("design_options.csv", open = "w")
writeLines("case,stat,variable,category,group,key,value", out)
put <- function(case, stat, v, cat, g, key, value) {
  writeLines(sprintf("%s,%s,%s,%s,%s,%s,%s", case, stat, v, cat, g, key,
                     sprintf("%.17g", as.numeric(value))), out)
}
put("session", "session", "", "", "", "survey_version",
    as.numeric(gsub("\\.", "", packageVersion("survey"))))
keep_deff <- TRUE
wald <- function(case, stat, v, g, m, sub) {
  ci <- confint(m, df = degf(sub))
  put(case, stat, v, "", g, "estimate", coef(m)); put(case, stat, v, "", g, "se", SE(m))
  if (keep_deff) put(case, stat, v, "", g, "deff", deff(m))
  put(case, stat, v, "", g, "df", degf(sub))
  put(case, stat, v, "", g, "ci_low", ci[1]); put(case, stat, v, "", g, "ci_high", ci[2])
}
ratio <- function(case, stat, v, cat, g, d, num, den) {
  d$variables$num_ <- num
  d$variables$den_ <- den
  tt <- svytotal(~num_ + den_, d)
  r <- if (stat == "total") svytotal(~num_, d) else svycontrast(tt, quote(num_ / den_))
  put(case, stat, v, cat, g, "estimate", coef(r)); put(case, stat, v, cat, g, "se", SE(r))
}
run_groups_by_totals <- function(case, d, means, totals, props, by) {
  byvals <- d$variables[[by]]
  for (L in sort(unique(byvals))) {
    g <- paste0(by, "=", L)
    inside <- as.numeric(byvals == L)
    for (v in means) ratio(case, "mean", v, "", g, d, d$variables[[v]] * inside, inside)
    for (v in totals) ratio(case, "total", v, "", g, d, d$variables[[v]] * inside, inside)
    for (v in props) {
      for (C in sort(unique(d$variables[[v]]))) {
        ratio(case, "proportion", v, C, g, d, as.numeric(d$variables[[v]] == C) * inside, inside)
      }
    }
  }
}
run_case <- function(case, d, means, totals, props, by, groups) {
  f <- function(v) as.formula(paste0("~", v))
  byvals <- d$variables[[by]]
  levs <- sort(unique(byvals))
  if (groups == "totals") {
    run_groups_by_totals(case, d, means, totals, props, by)
    levs <- character(0)
  }
  for (g in c("all", if (length(levs)) paste0(by, "=", levs))) {
    inside <- byvals == sub("^[^=]*=", "", g)
    # [.pps is not registered as a method, so R's d[i, ] fails on a HR design; called
    # directly it works when every row is its own PSU. svymean.pps's deff then divides by
    # the whole design's row count, not the group's (a quirk): no deff for its groups.
    sub <- if (g == "all") d else if (groups == "pps_subset") survey:::`[.pps`(d, inside, )
           else d[inside, ]
    keep_deff <<- g == "all" || groups != "pps_subset"
    for (v in means) wald(case, "mean", v, g, svymean(f(v), sub, deff = TRUE), sub)
    for (v in totals) wald(case, "total", v, g, svytotal(f(v), sub, deff = TRUE), sub)
    for (v in props) {
      for (L in sort(unique(d$variables[[v]]))) {
        ind <- as.formula(sprintf("~I(as.numeric(%s == '%s'))", v, L))
        m <- svymean(ind, sub, deff = TRUE)
        cp <- svyciprop(as.formula(sprintf("~I(%s == '%s')", v, L)), sub, method = "logit")
        put(case, "proportion", v, L, g, "estimate", coef(m))
        put(case, "proportion", v, L, g, "se", SE(m))
        if (keep_deff) put(case, "proportion", v, L, g, "deff", deff(m))
        put(case, "proportion", v, L, g, "df", degf(sub))
        put(case, "proportion", v, L, g, "ci_low", attr(cp, "ci")[1])
        put(case, "proportion", v, L, g, "ci_high", attr(cp, "ci")[2])
        kg <- svyciprop(as.formula(sprintf("~I(%s == '%s')", v, L)), sub, method = "beta")
        put(case, "proportion", v, L, g, "beta_low", attr(kg, "ci")[1])
        put(case, "proportion", v, L, g, "beta_high", attr(kg, "ci")[2])
      }
    }
  }
  w <- weights(d)
  for (i in seq_along(w)) put(case, "weight", "", i, "", "weight", w[i])
}
"""


def r_script(cases: tuple[Case, ...], paths: dict[str, Path]) -> str:
    parts = [R_PRELUDE]
    for case in cases:
        quoted = ", ".join(f"'{v}'" for v in case.means)
        parts.append(f"""
local({{
  df <- prep(read.csv("{paths[case.data].as_posix()}"))
  res <- tryCatch({{
    {case.r_design}
    run_case("{case.id}", d, c({quoted}), c({", ".join(f"'{v}'" for v in case.totals)}),
             c({", ".join(f"'{v}'" for v in case.proportions)}), "{case.by}",
             "{case.r_groups}")
    NULL
  }}, error = function(e) conditionMessage(e))
  if (!is.null(res)) stop("case {case.id}: ", res)
}})
""")
    parts.append("close(out)\n")
    return "".join(parts)


def data_paths() -> dict[str, Path]:
    return {
        "apistrat": API_DIR / "apistrat.csv",
        "apiclus1": API_DIR / "apiclus1.csv",
        "schools": SCHOOLS,
    }


def run_r(work: Path, cases: tuple[Case, ...] = CASES) -> Path:
    """Run the cases in one R session in ``work``; returns the CSV R wrote."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise RuntimeError("Rscript not found; install R and the survey package")
    script = work / "design_options.R"
    script.write_text(r_script(cases, data_paths()), encoding="utf-8")
    done = subprocess.run(
        [rscript, "--vanilla", str(script)],
        cwd=work,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"R failed:\n{done.stderr[-3000:]}")
    return work / "design_options.csv"


Key = tuple[str, str, str, str, str, str]


def read_reference(path: Path) -> dict[Key, float | None]:
    """``{(case, stat, variable, category, group, key): value}``; R's NA is None."""
    out: dict[Key, float | None] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            value = row["value"]
            number = None if value in ("NA", "NaN") else float(value)
            if number is not None and math.isnan(number):
                number = None
            out[
                (
                    row["case"],
                    row["stat"],
                    row["variable"],
                    row["category"],
                    row["group"],
                    row["key"],
                )
            ] = number
    return out


def main(argv: list[str]) -> None:
    if "--data" in argv:
        make_schools().to_csv(SCHOOLS, index=False)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        written = run_r(Path(tmp))
        shutil.copyfile(written, REFERENCE)
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main(sys.argv[1:])
