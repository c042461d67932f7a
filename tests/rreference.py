"""Cached reference values from R's ``survey`` (4.1.1) for designs, calibration and statistics.

Run ``python tests/rreference.py`` (needs ``Rscript`` with the ``survey`` package) to
regenerate ``tests/data/r_reference/``: it exports R's ``api`` data (only the columns
used; the data ship with the GPL-2|3 ``survey`` package, see ``tests/data/api/README.md``),
writes a SYNTHETIC two-stage stratified sample, runs every case of :data:`CASES` in one R
session and writes ``reference.csv`` (``case, stat, variable, category, key, value``,
numbers as ``%.17g``). ``tests/estimate/test_r_reference.py`` compares harmonise to the
cached file (no R needed) and, once, to a live R run.

Importable as ``from rreference import ...`` (``tests/`` is on pytest's pythonpath).
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

API_COLUMNS = {
    "apisrs": ["stype", "dnum", "pw", "fpc", "api00", "api99", "enroll", "sch.wide", "awards"],
    "apistrat": ["stype", "dnum", "pw", "fpc", "api00", "api99", "enroll", "sch.wide", "awards"],
    "apiclus1": ["stype", "dnum", "pw", "fpc", "api00", "api99", "enroll", "sch.wide", "awards"],
    "apiclus2": [
        "stype",
        "dnum",
        "snum",
        "pw",
        "fpc1",
        "fpc2",
        "api00",
        "api99",
        "enroll",
        "sch.wide",
        "awards",
    ],
}
STYPE = (4421.0, 755.0, 1018.0)  # E, H, M in the population (apipop)
SCHWIDE = (1072.0, 5122.0)  # No, Yes
CROSS = ((472.0, 3949.0), (334.0, 421.0), (266.0, 752.0))  # stype × sch_wide (apipop)
API99_TOTAL = 3914069.0  # sum(apipop$api99)


def prep(df: pd.DataFrame) -> pd.DataFrame:
    """Derived columns, computed identically in R (``prep`` in the R prelude)."""
    out = df.copy()
    if "api00" in out:
        out["grade"] = np.where(out["api00"] < 600, 0, np.where(out["api00"] < 750, 1, 2))
    if "awards" in out:
        out["dom"] = (out["awards"] == "Yes").astype(int)
    return out


R_PREP = r"""
prep <- function(df) {
  if (!is.null(df$api00)) df$grade <- ifelse(df$api00 < 600, 0L, ifelse(df$api00 < 750, 1L, 2L))
  if (!is.null(df$awards)) df$dom <- as.integer(df$awards == "Yes")
  df
}
"""


@dataclass(frozen=True)
class Step:
    """One weighting step: ``kind`` is rake, poststratify, linear, raking or trim.

    ``margins`` name categorical columns with population counts per sorted category;
    poststratify uses ``cross`` (a table over ``margins``); ``numeric`` adds numeric
    totals (linear/raking); ``bounds`` bound ``g``; trim uses ``upper``/``lower``/``strict``.
    """

    kind: str
    margins: tuple[tuple[str, tuple[float, ...]], ...] = ()
    cross: tuple[tuple[float, ...], ...] = ()
    numeric: tuple[tuple[str, float], ...] = ()
    bounds: tuple[float, float] = (-math.inf, math.inf)
    upper: float = math.inf
    lower: float = -math.inf
    strict: bool = False

    def r_code(self) -> str:
        if self.kind == "trim":
            return (
                f"d <- trimWeights(d, upper = {_r(self.upper)}, lower = {_r(self.lower)}, "
                f"strict = {str(self.strict).upper()})"
            )
        if self.kind == "rake":
            forms = ", ".join(f"~{v}" for v, _ in self.margins)
            pops = ", ".join(
                f"data.frame({v} = sort(unique(df${v})), Freq = c({_rs(t)}))"
                for v, t in self.margins
            )
            return (
                f"d <- rake(d, list({forms}), list({pops}), "
                "control = list(epsilon = 1e-11, maxit = 1000))"
            )
        if self.kind == "poststratify":
            a, b = (v for v, _ in self.margins)
            freq = _rs(tuple(x for row in zip(*self.cross, strict=True) for x in row))
            return (
                f"d <- postStratify(d, ~{a} + {b}, expand.grid({a} = sort(unique(df${a})), "
                f"{b} = sort(unique(df${b}))) |> transform(Freq = c({freq})))"
            )
        terms = [f"factor({v})" for v, _ in self.margins] + [v for v, _ in self.numeric]
        pop = [sum(self.margins[0][1])]
        for _, t in self.margins:
            pop += list(t[1:])
        pop += [t for _, t in self.numeric]
        return (
            f"d <- calibrate(d, ~{' + '.join(terms)}, c({_rs(tuple(pop))}), calfun = "
            f"'{self.kind}', bounds = c({_r(self.bounds[0])}, {_r(self.bounds[1])}), "
            "epsilon = 1e-11, maxit = 100)"
        )


def _r(x: float) -> str:
    return ("Inf" if x > 0 else "-Inf") if math.isinf(x) else repr(float(x))


def _rs(xs: tuple[float, ...]) -> str:
    return ", ".join(_r(x) for x in xs)


@dataclass(frozen=True)
class Case:
    """A design, its weighting steps, a domain and the statistics R computes for it."""

    id: str
    data: str
    weights: str = "pw"
    ids: tuple[str, ...] = ()
    strata: str | None = None
    fpc: tuple[str, ...] = ()
    lonely: str = "fail"
    steps: tuple[Step, ...] = ()
    domain: str | None = None
    means: tuple[str, ...] = ("api00",)
    totals: tuple[str, ...] = ("enroll",)
    proportion: str = "grade"
    by: str = "stype"

    def r_code(self) -> str:
        ids = " + ".join(self.ids) if self.ids else "1"
        fpc = "~" + " + ".join(self.fpc) if self.fpc else "NULL"
        steps = "\n    ".join(s.r_code() for s in self.steps)
        return f"""
local({{
  options(survey.lonely.psu = "{self.lonely}")
  df <- prep(read.csv("{self.data}.csv"))
  res <- tryCatch({{
    d <- svydesign(ids = ~{ids}, strata = {"~" + self.strata if self.strata else "NULL"},
                   weights = ~{self.weights}, fpc = {fpc}, data = df, nest = TRUE)
    {steps}
    sub <- {f"subset(d, {self.domain} == 1)" if self.domain else "d"}
    run_case("{self.id}", d, sub, c({", ".join(repr(m) for m in self.means)}),
             c({", ".join(repr(t) for t in self.totals)}), "{self.proportion}", "{self.by}")
    NULL
  }}, error = function(e) conditionMessage(e))
  if (!is.null(res)) stop("case {self.id}: ", res)
}})
"""


R_PRELUDE = r"""
suppressPackageStartupMessages(library(survey))
options(warn = 1)
out <- file("reference.csv", open = "w")
writeLines("case,stat,variable,category,key,value", out)
put <- function(case, stat, var, cat, key, value) {
  writeLines(sprintf("%s,%s,%s,%s,%s,%s", case, stat, var, cat, key,
                     sprintf("%.17g", as.numeric(value))), out)
}
put("session", "session", "", "", "survey_version",
    as.numeric(gsub("\\.", "", packageVersion("survey"))))
wald <- function(case, stat, v, m, sub) {
  ci <- confint(m, df = degf(sub))
  put(case, stat, v, "", "estimate", coef(m)); put(case, stat, v, "", "se", SE(m))
  put(case, stat, v, "", "deff", deff(m)); put(case, stat, v, "", "df", degf(sub))
  put(case, stat, v, "", "ci_low", ci[1]); put(case, stat, v, "", "ci_high", ci[2])
}
run_case <- function(case, d, sub, means, totals, prop, by) {
  f <- function(v) as.formula(paste0("~", v))
  for (v in means) wald(case, "mean", v, svymean(f(v), sub, deff = TRUE), sub)
  for (v in totals) wald(case, "total", v, svytotal(f(v), sub, deff = TRUE), sub)
  levs <- sort(unique(d$variables[[prop]]))
  fac <- sprintf("~factor(%s, levels = c(%s))", prop, paste(levs, collapse = ","))
  m <- svymean(as.formula(fac), sub, deff = TRUE)
  for (i in seq_along(levs)) {
    L <- levs[i]
    put(case, "proportion", prop, L, "estimate", coef(m)[i])
    put(case, "proportion", prop, L, "se", SE(m)[i])
    put(case, "proportion", prop, L, "deff", deff(m)[i])
    for (method in c("logit", "beta")) {
      one <- as.formula(sprintf("~I(%s == %s)", prop, L))
      p <- suppressWarnings(svyciprop(one, sub, method = method))
      put(case, "proportion", prop, L, paste0(method, "_low"), attr(p, "ci")[1])
      put(case, "proportion", prop, L, paste0(method, "_high"), attr(p, "ci")[2])
    }
  }
  # svyby(covmat = TRUE) fails on calibrated designs in survey 4.1.1, so the domain
  # means and their covariance come from the same linearisation via svycontrast.
  g <- d$variables[[by]]; y <- d$variables[[means[1]]]
  levs <- sort(unique(g))
  d2 <- update(d, ya_ = y * (g == levs[1]), na_ = 1 * (g == levs[1]),
               yb_ = y * (g == levs[2]), nb_ = 1 * (g == levs[2]))
  tt <- svytotal(~ya_ + na_ + yb_ + nb_, d2)
  both <- svycontrast(tt, list(a = quote(ya_ / na_), b = quote(yb_ / nb_)))
  con <- svycontrast(tt, quote(ya_ / na_ - yb_ / nb_))
  ci <- confint(con, df = degf(d))
  put(case, "difference", means[1], "", "estimate", coef(con))
  put(case, "difference", means[1], "", "se", SE(con))
  put(case, "difference", means[1], "", "cov_ab", vcov(both)[1, 2])
  put(case, "difference", means[1], "", "ci_low", ci[1])
  put(case, "difference", means[1], "", "ci_high", ci[2])
  w <- weights(d)
  for (i in seq_along(w)) put(case, "weight", "", i, "weight", w[i])
}
"""

RAKE_API = Step("rake", margins=(("stype", STYPE), ("sch.wide", SCHWIDE)))
LINEAR = Step("linear", margins=RAKE_API.margins)
RAKING_CAL = Step("raking", margins=RAKE_API.margins)
SC_RAKE = Step("rake", margins=(("m1", (20000.0, 18000.0, 12000.0)), ("m2", (24000.0, 26000.0))))


def _sc(case_id: str, **options: object) -> Case:
    """A case on the SYNTHETIC stratified two-stage sample."""
    return Case(
        case_id,
        "stratclus2",
        weights="w0",
        means=("y",),
        totals=("y",),
        proportion="cat",
        by="m2",
        **options,  # type: ignore[arg-type]
    )


CASES: tuple[Case, ...] = (
    Case("apisrs_fpc", "apisrs", fpc=("fpc",)),
    Case("apisrs_fpc_dom", "apisrs", fpc=("fpc",), domain="dom"),
    Case("apisrs_nofpc", "apisrs"),
    Case("apistrat_fpc", "apistrat", strata="stype", fpc=("fpc",), by="sch.wide"),
    Case("apistrat_fpc_dom", "apistrat", strata="stype", fpc=("fpc",), domain="dom"),
    Case("apistrat_nofpc", "apistrat", strata="stype"),
    Case("apiclus1_fpc", "apiclus1", ids=("dnum",), fpc=("fpc",)),
    Case("apiclus1_fpc_dom", "apiclus1", ids=("dnum",), fpc=("fpc",), domain="dom"),
    Case("apiclus2_fpc", "apiclus2", ids=("dnum", "snum"), fpc=("fpc1", "fpc2"), totals=("api99",)),
    Case(
        "apiclus2_fpc_dom",
        "apiclus2",
        ids=("dnum", "snum"),
        fpc=("fpc1", "fpc2"),
        totals=("api99",),
        domain="dom",
    ),
    Case("apiclus2_nofpc", "apiclus2", ids=("dnum", "snum"), totals=("api99",)),
    Case(
        "apistrat_post",
        "apistrat",
        strata="stype",
        fpc=("fpc",),
        steps=(
            Step("poststratify", margins=(("stype", STYPE), ("sch.wide", SCHWIDE)), cross=CROSS),
        ),
        by="awards",
    ),
    Case(
        "apiclus1_post_dom",
        "apiclus1",
        ids=("dnum",),
        domain="dom",
        steps=(
            Step("poststratify", margins=(("stype", STYPE), ("sch.wide", SCHWIDE)), cross=CROSS),
        ),
    ),
    Case("apiclus1_rake", "apiclus1", ids=("dnum",), fpc=("fpc",), steps=(RAKE_API,)),
    Case("apiclus1_linear", "apiclus1", ids=("dnum",), steps=(LINEAR,)),
    Case("apiclus1_linear_dom", "apiclus1", ids=("dnum",), steps=(LINEAR,), domain="dom"),
    Case(
        "apiclus1_linear_bounds",
        "apiclus1",
        ids=("dnum",),
        steps=(Step("linear", margins=LINEAR.margins, bounds=(0.5, 1.6)),),
    ),
    Case("apiclus1_raking", "apiclus1", ids=("dnum",), steps=(RAKING_CAL,)),
    Case(
        "apiclus1_raking_bounds",
        "apiclus1",
        ids=("dnum",),
        steps=(Step("raking", margins=LINEAR.margins, bounds=(0.5, 1.6)),),
        domain="dom",
    ),
    Case(
        "apistrat_linear_numeric",
        "apistrat",
        strata="stype",
        steps=(
            Step("linear", margins=(("sch.wide", SCHWIDE),), numeric=(("api99", API99_TOTAL),)),
        ),
    ),
    Case(
        "apiclus2_fpc_rake",
        "apiclus2",
        ids=("dnum", "snum"),
        fpc=("fpc1", "fpc2"),
        totals=("api99",),
        steps=(RAKE_API,),
    ),
    Case(
        "apiclus1_rake_trim", "apiclus1", ids=("dnum",), steps=(RAKE_API, Step("trim", upper=40.0))
    ),
    Case(
        "apiclus1_rake_trim_rerake",
        "apiclus1",
        ids=("dnum",),
        steps=(RAKE_API, Step("trim", upper=40.0, strict=True), RAKE_API),
    ),
    Case(
        "apiclus1_linear_trim_relinear",
        "apiclus1",
        ids=("dnum",),
        domain="dom",
        steps=(LINEAR, Step("trim", upper=40.0, lower=25.0), LINEAR),
    ),
    _sc("stratclus2_fpc", ids=("psu", "ssu"), strata="h", fpc=("N1", "N2")),
    _sc("stratclus2_fpc_dom", ids=("psu", "ssu"), strata="h", fpc=("N1", "N2"), domain="dom"),
    _sc("stratclus2_fpc_rake", ids=("psu", "ssu"), strata="h", fpc=("N1", "N2"), steps=(SC_RAKE,)),
    _sc("stratclus2_lonely_adjust", ids=("psu",), strata="h2", lonely="adjust"),
)


def synthetic_stratclus2(seed: int = 20240612) -> pd.DataFrame:
    """SYNTHETIC stratified two-stage sample with population sizes at both stages."""
    rng = np.random.default_rng(seed)
    rows = []
    for h, (n_psu, big_n) in enumerate([(4, 30), (5, 12), (3, 40), (6, 25)]):
        for j in range(n_psu):
            size = int(rng.integers(3, 9))
            m_pop = size + int(rng.integers(0, 40))
            effect = rng.normal(0, 4)
            for i in range(size):
                rows.append((h, 10 * h + j, i, big_n, m_pop, big_n / n_psu * m_pop / size, effect))
    df = pd.DataFrame(rows, columns=["h", "psu", "ssu", "N1", "N2", "w0", "effect"])
    n = len(df)
    df["m1"] = rng.choice(3, n, p=[0.35, 0.4, 0.25])
    df["m2"] = rng.choice(2, n, p=[0.55, 0.45])
    df["y"] = np.round(50 + df["effect"] + 3 * df["m1"] + rng.normal(0, 8, n), 3)
    df["cat"] = rng.choice(3, n, p=[0.2, 0.5, 0.3])
    df["dom"] = (rng.random(n) < 0.45).astype(int)
    # A stratum with one PSU for the lonely-PSU case: PSU 30 alone in stratum 9.
    df["h2"] = np.where(df["psu"] == 30, 9, df["h"])
    return df.drop(columns="effect")


def export_r_data(workdir: Path) -> None:
    """Export the api data (columns used only) with R, into ``workdir``."""
    lines = ["suppressPackageStartupMessages(library(survey))", "data(api)"]
    for name, cols in API_COLUMNS.items():
        quoted = ", ".join(f'"{c}"' for c in cols)
        lines.append(f'write.csv({name}[, c({quoted})], "{name}.csv", row.names = FALSE)')
    _rscript("\n".join(lines), workdir, "export.R")


def _rscript(code: str, workdir: Path, name: str, timeout: float = 300) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise RuntimeError("Rscript not found: install r-base-core and r-cran-survey")
    (workdir / name).write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [rscript, "--vanilla", name],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed ({proc.returncode}):\n{proc.stderr[-4000:]}")


def run_cases(cases: tuple[Case, ...], workdir: Path) -> Path:
    """Copy the data into ``workdir``, run ``cases`` in one R session there and return
    the path of the reference.csv it writes."""
    for name, path in data_dir_files().items():
        shutil.copy(path, workdir / f"{name}.csv")
    code = R_PRELUDE + R_PREP + "".join(c.r_code() for c in cases) + "close(out)\n"
    _rscript(code, workdir, "reference.R")
    return workdir / "reference.csv"


Key = tuple[str, str, str, str, str]


def read_reference(path: Path) -> dict[Key, float | None]:
    """``{(case, stat, variable, category, key): value}``; R's NA becomes None."""
    out: dict[Key, float | None] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["case"], row["stat"], row["variable"], row["category"], row["key"])
            out[key] = None if row["value"] in ("NA", "NaN") else float(row["value"])
    return out


def data_dir_files() -> dict[str, Path]:
    """Every data file a case reads, by name."""
    files = {name: API_DIR / f"{name}.csv" for name in API_COLUMNS}
    files["stratclus2"] = REF_DIR / "stratclus2.csv"
    return files


def main() -> int:
    """Regenerate tests/data/api/*.csv and tests/data/r_reference/ with R."""
    import tempfile

    API_DIR.mkdir(parents=True, exist_ok=True)
    REF_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export_r_data(work)
        for name in API_COLUMNS:
            shutil.copy(work / f"{name}.csv", API_DIR / f"{name}.csv")
    synthetic_stratclus2().to_csv(REF_DIR / "stratclus2.csv", index=False)
    with tempfile.TemporaryDirectory() as tmp:
        result = run_cases(CASES, Path(tmp))
        shutil.copy(result, REF_DIR / "reference.csv")
    print(f"wrote {REF_DIR / 'reference.csv'} ({len(CASES)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
