"""Quantiles and domain differences on replicate designs agree with R's survey (4.1.1).

R runs once for the module. It builds each replicate design (``as.svrepdesign`` JK1 /
JKn / bootstrap, ``mse = TRUE``, ``rake`` / ``calibrate`` on the replicate design, and
``svrepdesign`` over exported JK1 weights), writes R's own bootstrap replicate weights
for Python to read back as columns, and for every case calls
``svyquantile(~y, subset(rd, domain), ci = TRUE, se = TRUE, qrule =, interval.type =,
alpha =, na.rm = TRUE)``; for the differences ``svyby(~y, ~g, rd, svymean, covmat =
TRUE)``, ``vcov`` and ``svycontrast`` with ``confint(df = degf(rd))``. Python builds the
same designs from a ``DesignFileSpec`` (the same path as ``harmonise estimate``) and
compares every number to 1e-6 relative (NaN must match NaN).
``test_max_relative_difference`` runs last and prints the largest difference.
"""

from __future__ import annotations

import csv
import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonise.estimate import difference, domain_means_covariance, quantile
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.estimate.spec import DesignFileSpec, build_design, estimate_table
from rreference import API_DIR
from rsurvey import RSCRIPT, SKIP_REASON, relative_difference

pytestmark = [
    pytest.mark.needs_r,
    pytest.mark.slow,  # one R run of a few seconds for the module
    pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON),
]

TOL = 1e-6
SEEN: dict[str, float] = {}
EXTREME = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
RULES = (
    "math",
    "school",
    "shahvaish",
    "hf1",
    "hf2",
    "hf3",
    "hf4",
    "hf5",
    "hf6",
    "hf7",
    "hf8",
    "hf9",
)

PRELUDE = r"""
suppressPackageStartupMessages(library(survey))
options(warn = 1, survey.lonely.psu = "fail")
out <- file("reference.csv", open = "w")
writeLines("case,key,value", out)
put <- function(case, key, value) {
  writeLines(sprintf("%s,%s,%s", case, key, sprintf("%.17g", as.numeric(value))), out)
}
num <- function(df) {
  df[] <- lapply(df, function(x) if (is.numeric(x)) sprintf("%.17g", x) else x)
  df
}
put("session", "survey_version", as.numeric(gsub("\\.", "", packageVersion("survey"))))
strat <- read.csv("apistrat.csv", stringsAsFactors = FALSE)
clus1 <- read.csv("apiclus1.csv", stringsAsFactors = FALSE)
clus2 <- read.csv("apiclus2.csv", stringsAsFactors = FALSE)
dstrat <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
dclus1 <- svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1)
dclus2 <- svydesign(ids = ~dnum + snum, weights = ~pw, fpc = ~fpc1 + fpc2, data = clus2)
pops <- list(data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)),
             data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122)))
ctl <- list(epsilon = 1e-10, maxit = 1000)
D <- list()
D$strat_jkn <- as.svrepdesign(dstrat, type = "JKn")
D$clus1_jk1 <- as.svrepdesign(dclus1, type = "JK1")
D$clus1_mse <- as.svrepdesign(dclus1, type = "JK1", mse = TRUE)
D$clus2_jk1 <- suppressWarnings(as.svrepdesign(dclus2, type = "JK1"))
D$clus1_rake <- rake(D$clus1_jk1, list(~stype, ~sch.wide), pops, control = ctl)
D$strat_rake <- rake(D$strat_jkn, list(~stype, ~sch.wide), pops, control = ctl)
D$clus1_linear <- calibrate(D$clus1_jk1, list(~stype, ~sch.wide), pops, calfun = "linear")
set.seed(20261125)
D$strat_boot <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)
bw <- weights(D$strat_boot, "analysis"); colnames(bw) <- sprintf("bw%02d", seq_len(ncol(bw)))
write.csv(num(cbind(strat, as.data.frame(bw))), "boot.csv", row.names = FALSE)
put("strat_boot", "scale", D$strat_boot$scale)
rw <- weights(D$clus1_jk1, "analysis"); colnames(rw) <- sprintf("repw%02d", seq_len(ncol(rw)))
write.csv(num(cbind(clus1, as.data.frame(rw))), "repw.csv", row.names = FALSE)
put("clus1_columns", "scale", D$clus1_jk1$scale)
D$clus1_columns <- svrepdesign(data = read.csv("repw.csv", stringsAsFactors = FALSE),
                               repweights = "repw[0-9]+", weights = ~pw, type = "JK1",
                               scale = D$clus1_jk1$scale, combined.weights = TRUE, mse = TRUE)
"""

MARGINS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}
STRAT = {"strata": "stype", "weights": "pw", "fpc": ["fpc"]}
CLUS1 = {"ids": ["dnum"], "weights": "pw", "fpc": ["fpc"]}
RAKE = {"calibrate": {"method": "rake", "margins": MARGINS}}


def designs(scale: dict[str, float]) -> dict[str, tuple[str, dict[str, object]]]:
    """Our design file (and data file) for each of R's designs in ``D``."""
    jk1 = {"replicates": {"type": "JK1"}}
    jkn = {"replicates": {"type": "JKn"}}
    return {
        "strat_jkn": ("apistrat", {**STRAT, **jkn}),
        "clus1_jk1": ("apiclus1", {**CLUS1, **jk1}),
        "clus1_mse": ("apiclus1", {**CLUS1, "replicates": {"type": "JK1", "mse": True}}),
        "clus2_jk1": (
            "apiclus2",
            {"ids": ["dnum", "snum"], "weights": "pw", "fpc": ["fpc1", "fpc2"], **jk1},
        ),
        "clus1_rake": ("apiclus1", {**CLUS1, **jk1, **RAKE}),
        "strat_rake": ("apistrat", {**STRAT, **jkn, **RAKE}),
        "clus1_linear": (
            "apiclus1",
            {**CLUS1, **jk1, "calibrate": {"method": "linear", "margins": MARGINS}},
        ),
        "strat_boot": (
            "boot",
            {
                "weights": "pw",
                "replicates": {
                    "columns": "bw[0-9]+",
                    "type": "bootstrap",
                    "scale": scale["strat_boot"],
                },
            },
        ),
        "clus1_columns": (
            "repw",
            {
                "weights": "pw",
                "replicates": {
                    "columns": "repw[0-9]+",
                    "type": "JK1",
                    "scale": scale["clus1_columns"],
                    "mse": True,
                },
            },
        ),
    }


@dataclass(frozen=True)
class RepQCase:
    """One svyquantile call on the replicate design ``D[[design]]``."""

    id: str
    design: str
    variable: str = "api00"
    domain: tuple[str, str] | None = None  # (column, value): subset(rd, column == value)
    probs: tuple[float, ...] = (0.25, 0.5, 0.75)
    rule: str = "math"
    interval: str = "mean"
    level: float = 0.95

    def r_code(self) -> str:
        rd = f'D[["{self.design}"]]'
        sub = f'subset({rd}, {self.domain[0]} == "{self.domain[1]}")' if self.domain else rd
        probs = ", ".join(repr(p) for p in self.probs)
        code = f"""
local({{
  q <- suppressWarnings(svyquantile(~{self.variable}, {sub}, quantiles = c({probs}),
                   ci = TRUE, se = TRUE, qrule = "{self.rule}",
                   interval.type = "{self.interval}", alpha = {1 - self.level!r},
                   na.rm = TRUE))[[1]]
  s <- subset({sub}, !is.na({self.variable}))  # what na.rm = TRUE leaves
  put("{self.id}", "df", degf(s))
  for (i in seq_len(nrow(q))) {{
    put("{self.id}", paste0(i, "_svyq_estimate"), q[i, 1])
    put("{self.id}", paste0(i, "_svyq_ci_low"), q[i, 2])
    put("{self.id}", paste0(i, "_svyq_ci_high"), q[i, 3])
    put("{self.id}", paste0(i, "_svyq_se"), q[i, 4])
  }}
"""
        if self.interval not in ("mean", "quantile"):
            # svyquantile.svyrep.design never passes interval.type on to woodruffCI, so
            # R 4.1.1 returns the "mean" interval for these; R's woodruffCI with the
            # method is the interval asked for.
            code += f"""
  x <- s$variables${self.variable}; w <- weights(s, "sampling")
  rule <- get("qrule_{self.rule}", envir = asNamespace("survey"))
  alpha <- {1 - self.level!r}
  for (i in seq_along(c({probs}))) {{
    p <- c({probs})[i]; qhat <- rule(x, w, p)
    ci <- survey:::woodruffCI(x, qhat, p, s, rule, alpha, degf(s), method = "{self.interval}")
    put("{self.id}", paste0(i, "_estimate"), qhat)
    put("{self.id}", paste0(i, "_ci_low"), ci[1]); put("{self.id}", paste0(i, "_ci_high"), ci[2])
    put("{self.id}", paste0(i, "_se"), diff(ci) / (2 * qt(1 - alpha / 2, degf(s))))
  }}
"""
        return code + "})\n"


CASES = [
    RepQCase("clus1_jk1", "clus1_jk1", probs=EXTREME),  # equal weights: ties of Σw
    RepQCase("clus1_jk1_quantile", "clus1_jk1", probs=EXTREME, interval="quantile"),
    RepQCase("clus1_jk1_dom_H", "clus1_jk1", domain=("stype", "H"), interval="quantile"),
    RepQCase("strat_jkn", "strat_jkn", probs=EXTREME),
    RepQCase(
        "strat_jkn_dom_hf7", "strat_jkn", domain=("awards", "Yes"), rule="hf7", interval="quantile"
    ),
    RepQCase("strat_jkn_enroll_90", "strat_jkn", "enroll", level=0.9),
    RepQCase("clus1_mse", "clus1_mse", probs=EXTREME),
    RepQCase("clus1_mse_quantile", "clus1_mse", probs=EXTREME, interval="quantile"),
    RepQCase("clus2_enroll_na", "clus2_jk1", "enroll", domain=("stype", "E")),
    RepQCase("clus2_enroll_quantile", "clus2_jk1", "enroll", interval="quantile", level=0.9),
    RepQCase("clus1_rake", "clus1_rake", probs=EXTREME),
    RepQCase("clus1_rake_quantile", "clus1_rake", interval="quantile", rule="hf8"),
    RepQCase("strat_rake_dom_beta", "strat_rake", domain=("sch.wide", "Yes"), interval="beta"),
    RepQCase("clus1_linear_quantile", "clus1_linear", interval="quantile", rule="hf5"),
    RepQCase("clus1_linear_dom", "clus1_linear", domain=("awards", "No"), probs=EXTREME),
    RepQCase("boot", "strat_boot", probs=EXTREME),
    RepQCase("boot_dom_quantile", "strat_boot", domain=("awards", "Yes"), interval="quantile"),
    RepQCase("columns_mse_quantile", "clus1_columns", probs=EXTREME, interval="quantile"),
    RepQCase("columns_mse_xlogit", "clus1_columns", interval="xlogit"),
]
for _interval in ("beta", "xlogit", "asin"):
    CASES += [
        RepQCase(f"strat_jkn_{_interval}", "strat_jkn", probs=EXTREME, interval=_interval),
        RepQCase(
            f"clus1_rake_dom_{_interval}", "clus1_rake", domain=("stype", "E"), interval=_interval
        ),
        RepQCase(f"boot_{_interval}", "strat_boot", interval=_interval),
        RepQCase(f"clus1_ties_{_interval}", "clus1_jk1", "band", interval=_interval),
    ]
for _rule in RULES:
    CASES += [
        RepQCase(
            f"boot_{_rule}_quantile", "strat_boot", probs=EXTREME, rule=_rule, interval="quantile"
        ),
        RepQCase(f"strat_jkn_{_rule}", "strat_jkn", probs=EXTREME, rule=_rule),
        RepQCase(
            f"clus1_ties_{_rule}_quantile",
            "clus1_jk1",
            "band",
            probs=EXTREME,
            rule=_rule,
            interval="quantile",
        ),
    ]

#: svyby(~y, ~by, D[[design]], svymean, covmat = TRUE), contrast of levels a − b.
DIFFERENCES = [
    ("strat_jkn_stype", "strat_jkn", "api00", "stype", ("E", "H", "M"), ("E", "H")),
    ("clus1_rake_stype", "clus1_rake", "api00", "stype", ("E", "H", "M"), ("E", "M")),
    ("boot_schwide", "strat_boot", "high", "sch.wide", ("No", "Yes"), ("Yes", "No")),
    ("clus1_mse_awards", "clus1_mse", "api00", "awards", ("No", "Yes"), ("Yes", "No")),
]

DIFFERENCE_R = """
local({{
  b <- svyby(~{y}, ~{by}, D[["{design}"]], svymean, covmat = TRUE)
  v <- vcov(b)
  for (i in seq_len(nrow(v))) for (j in seq_len(ncol(v))) put("{id}", paste0("cov_", i, j), v[i, j])
  for (i in seq_len(nrow(v))) put("{id}", paste0("mean_", i), coef(b)[i])
  k <- setNames(rep(0, nrow(v)), rownames(v)); k["{a}"] <- 1; k["{b}"] <- -1
  con <- svycontrast(b, k)
  ci <- confint(con, df = degf(D[["{design}"]]))
  put("{id}", "estimate", coef(con)); put("{id}", "se", SE(con))
  put("{id}", "ci_low", ci[1]); put("{id}", "ci_high", ci[2])
  put("{id}", "df", degf(D[["{design}"]]))
}})
"""


def prepared(name: str) -> pd.DataFrame:
    """R's api data set plus ``band`` (api00 in steps of 50: many ties) and ``high``
    (1 when api00 > 700)."""
    data = pd.read_csv(API_DIR / f"{name}.csv")
    data["band"] = (data["api00"] // 50) * 50
    data["high"] = (data["api00"] > 700).astype(float)
    return data


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, float]]]:
    work = tmp_path_factory.mktemp("rep_quantile")
    for name in ("apistrat", "apiclus1", "apiclus2"):
        prepared(name).to_csv(work / f"{name}.csv", index=False)
    script = PRELUDE + "".join(c.r_code() for c in CASES)
    script += "".join(
        DIFFERENCE_R.format(id=i, design=d, y=y, by=by, a=a, b=b)
        for i, d, y, by, _, (a, b) in DIFFERENCES
    )
    (work / "rep_quantiles.R").write_text(script + "close(out)\n", encoding="utf-8")
    assert RSCRIPT is not None
    proc = subprocess.run(
        [RSCRIPT, "--vanilla", "rep_quantiles.R"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    values: dict[str, dict[str, float]] = {}
    with (work / "reference.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            values.setdefault(row["case"], {})[row["key"]] = float(row["value"])
    return work, values


def _design(
    work: Path, values: dict[str, dict[str, float]], name: str
) -> tuple[ReplicateDesign, pd.DataFrame]:
    scale = {k: values[k]["scale"] for k in ("strat_boot", "clus1_columns")}
    file, spec = designs(scale)[name]
    data = pd.read_csv(work / f"{file}.csv")
    data["band"] = (data["api00"] // 50) * 50
    design, _ = build_design(DesignFileSpec.model_validate(spec), data)
    assert isinstance(design, ReplicateDesign)
    return design, data


def _check(case: str, key: str, ours: float, theirs: float) -> None:
    diff = relative_difference(ours, theirs)
    if math.isfinite(diff):
        SEEN[key] = max(SEEN.get(key, 0.0), diff)
    assert diff <= TOL, (case, key, ours, theirs)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rep_quantiles_match_r(
    case: RepQCase, reference: tuple[Path, dict[str, dict[str, float]]]
) -> None:
    work, values = reference
    design, data = _design(work, values, case.design)
    y = pd.to_numeric(data[case.variable]).to_numpy(dtype=float)
    domain = np.isfinite(y)
    if case.domain is not None:
        domain &= (data[case.domain[0]].astype(str) == case.domain[1]).to_numpy()
    ref = values[case.id]
    results = quantile(
        design,
        y,
        domain,
        case.probs,
        level=case.level,
        interval=case.interval,
        rule=case.rule,  # type: ignore[arg-type]
    )
    # R's svyquantile on a replicate design gives the "mean" interval whatever
    # interval.type says; harmonise gives the one asked for (R's woodruffCI(method =)).
    as_r = results
    if case.interval not in ("mean", "quantile"):
        as_r = quantile(
            design,
            y,
            domain,
            case.probs,
            level=case.level,
            rule=case.rule,  # type: ignore[arg-type]
            interval="mean",
        )
    for i, (res, res_r) in enumerate(zip(results, as_r, strict=True), start=1):
        assert res.df == ref["df"]
        for key in ("estimate", "ci_low", "ci_high", "se"):
            where = f"{case.id} p={res.probability}"
            _check(where, key, getattr(res_r, key), ref[f"{i}_svyq_{key}"])
            if case.interval not in ("mean", "quantile"):
                _check(where, key, getattr(res, key), ref[f"{i}_{key}"])


@pytest.mark.parametrize("diff", DIFFERENCES, ids=[d[0] for d in DIFFERENCES])
def test_rep_differences_match_r(
    diff: tuple[str, str, str, str, tuple[str, ...], tuple[str, str]],
    reference: tuple[Path, dict[str, dict[str, float]]],
) -> None:
    case, name, variable, by, levels, (a, b) = diff
    work, values = reference
    design, data = _design(work, values, name)
    data["high"] = (data["api00"] > 700).astype(float)
    y = data[variable].to_numpy(dtype=float)
    group = data[by].astype(str).to_numpy()
    ref = values[case]
    means, cov = domain_means_covariance(design, y, [group == g for g in levels])
    scale = max(abs(ref[f"cov_{i}{i}"]) for i in range(1, len(levels) + 1))
    for i in range(len(levels)):
        _check(case, "mean", means[i], ref[f"mean_{i + 1}"])
        for j in range(len(levels)):
            # relative to the variances' scale where a covariance is near 0
            theirs = ref[f"cov_{i + 1}{j + 1}"]
            gap = abs(cov[i, j] - theirs) / max(abs(theirs), 1e-3 * scale)
            SEEN["covariance"] = max(SEEN.get("covariance", 0.0), gap)
            assert gap <= TOL, (case, i, j, cov[i, j], theirs)
    res = difference(design, y, group == a, group == b)
    assert res.df == ref["df"]
    for key in ("estimate", "se", "ci_low", "ci_high"):
        _check(case, f"difference_{key}", getattr(res, key), ref[key])


def test_table_matches_the_library(reference: tuple[Path, dict[str, dict[str, float]]]) -> None:
    """estimate_table on a replicate design gives rep_quantile's numbers, per group."""
    work, values = reference
    design, data = _design(work, values, "clus1_rake")
    table = estimate_table(
        design,
        data,
        quantiles=["api00"],
        probs=(0.5,),
        by="stype",
        quantile_interval="quantile",
        quantile_rule="hf7",
    )
    y = data["api00"].to_numpy(dtype=float)
    for group, mask in (("all", np.ones(len(y), bool)), ("stype=E", data["stype"] == "E")):
        (lib,) = quantile(design, y, np.asarray(mask), (0.5,), interval="quantile", rule="hf7")
        row = table[table["group"] == group].iloc[0]
        assert (row["estimate"], row["se"], row["ci_low"], row["df"]) == (
            lib.estimate,
            lib.se,
            lib.ci_low,
            lib.df,
        )


def test_r_is_survey_4_1_1(reference: tuple[Path, dict[str, dict[str, float]]]) -> None:
    assert reference[1]["session"]["survey_version"] == 411.0


def test_max_relative_difference() -> None:
    """Runs last: the largest relative difference to R over every case, by quantity."""
    assert SEEN, "no comparison ran"
    print("max relative difference to R:", {k: f"{v:.2e}" for k, v in sorted(SEEN.items())})
    assert max(SEEN.values()) <= TOL
