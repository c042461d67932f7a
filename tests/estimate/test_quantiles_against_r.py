"""Quantiles, their intervals and SEs agree with R's ``svyquantile`` (survey 4.1.1).

R runs once for the module: every case builds the same design from the same CSV (R's
``api`` data plus derived columns written here) and calls ``svyquantile(..., ci = TRUE,
se = TRUE, na.rm = TRUE)`` on ``subset(d, domain)``. Estimates, interval limits and SEs
are compared to 1e-6 relative (NaN must match NaN); ``test_max_relative_difference``
prints the largest difference seen (``pytest -rP``).
"""

from __future__ import annotations

import csv
import math
import subprocess
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from harmonise.errors import EstimationError
from harmonise.estimate import QuantileEstimate, quantile
from harmonise.estimate.spec import DesignCalibrateSpec, DesignFileSpec, build_design
from rreference import API_DIR
from rsurvey import RSCRIPT, SKIP_REASON, relative_difference

pytestmark = [
    pytest.mark.needs_r,
    pytest.mark.slow,  # one R run of ~6 s for the module
    pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON),
]

TOL = 1e-6
SEEN: dict[str, float] = {}
EXTREME = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
STYPE = {"E": 4421.0, "H": 755.0, "M": 1018.0}
SCHWIDE = {"No": 1072.0, "Yes": 5122.0}


@dataclass(frozen=True)
class QCase:
    """One svyquantile call: data set, design (ours and R's), variable, domain, options."""

    id: str
    data: str
    spec: DesignFileSpec
    r_design: str
    variable: str = "api00"
    domain: tuple[str, str] | None = None  # (column, value): subset(d, column == value)
    probs: tuple[float, ...] = (0.25, 0.5, 0.75)
    rule: str = "math"
    interval: str = "mean"
    level: float = 0.95
    r_after: str = field(default="")  # calibration step in R

    def r_code(self) -> str:
        sub = f'subset(d, {self.domain[0]} == "{self.domain[1]}")' if self.domain else "d"
        probs = ", ".join(repr(p) for p in self.probs)
        return f"""
local({{
  df <- read.csv("{self.data}.csv", stringsAsFactors = FALSE)
  res <- tryCatch({{
    d <- {self.r_design}
    {self.r_after}
    sub <- {sub}
    q <- svyquantile(~{self.variable}, sub, quantiles = c({probs}), ci = TRUE, se = TRUE,
                     qrule = "{self.rule}", interval.type = "{self.interval}",
                     alpha = {1 - self.level!r}, na.rm = TRUE)[[1]]
    for (i in seq_len(nrow(q))) {{
      put("{self.id}", paste0(i, "_estimate"), q[i, 1])
      put("{self.id}", paste0(i, "_ci_low"), q[i, 2])
      put("{self.id}", paste0(i, "_ci_high"), q[i, 3])
      put("{self.id}", paste0(i, "_se"), q[i, 4])
    }}
    NULL
  }}, error = function(e) conditionMessage(e))
  if (!is.null(res)) writeLines(sprintf("%s,error,%s", "{self.id}", gsub("[,\\n]", " ", res)), out)
}})
"""


PRELUDE = r"""
suppressPackageStartupMessages(library(survey))
options(warn = 1, survey.lonely.psu = "fail")
out <- file("reference.csv", open = "w")
writeLines("case,key,value", out)
put <- function(case, key, value) {
  writeLines(sprintf("%s,%s,%s", case, key, sprintf("%.17g", as.numeric(value))), out)
}
put("session", "survey_version", as.numeric(gsub("\\.", "", packageVersion("survey"))))
"""

SRS = DesignFileSpec(weights="pw", fpc=["fpc"])
R_SRS = "svydesign(ids = ~1, weights = ~pw, fpc = ~fpc, data = df)"
STRAT = DesignFileSpec(strata="stype", weights="pw", fpc=["fpc"])
R_STRAT = "svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = df)"
CLUS1 = DesignFileSpec(ids=["dnum"], weights="pw", fpc=["fpc"])
R_CLUS1 = "svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = df)"
CLUS2 = DesignFileSpec(ids=["dnum", "snum"], weights="pw", fpc=["fpc1", "fpc2"])
R_CLUS2 = "svydesign(ids = ~dnum + snum, weights = ~pw, fpc = ~fpc1 + fpc2, data = df)"
RAKED = DesignFileSpec(
    ids=["dnum"],
    weights="pw",
    calibrate=DesignCalibrateSpec(method="rake", margins={"stype": STYPE, "sch.wide": SCHWIDE}),
)
R_RAKE = (
    'd <- rake(d, list(~stype, ~sch.wide), list(data.frame(stype = c("E", "H", "M"), '
    'Freq = c(4421, 755, 1018)), data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))), '
    "control = list(epsilon = 1e-11, maxit = 1000))"
)
POST = DesignFileSpec(
    weights="pw", calibrate=DesignCalibrateSpec(method="poststratify", margins={"stype": STYPE})
)
R_POST = (
    'd <- postStratify(d, ~stype, data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))'
)
GREG = DesignFileSpec(
    ids=["dnum"],
    weights="pw",
    calibrate=DesignCalibrateSpec(
        method="linear", margins={"stype": STYPE}, totals={"api99": 3914069.0}
    ),
)
R_GREG = (
    "d <- calibrate(d, ~stype + api99, c(6194, 755, 1018, 3914069), calfun = 'linear', "
    "epsilon = 1e-11)"
)
R_CLUS1_NOFPC = "svydesign(ids = ~dnum, weights = ~pw, data = df)"
R_SRS_NOFPC = "svydesign(ids = ~1, weights = ~pw, data = df)"

CASES = [
    QCase("srs", "apisrs", SRS, R_SRS),
    QCase("srs_extreme", "apisrs", SRS, R_SRS, probs=EXTREME),
    QCase("srs_school_ties", "apisrs", SRS, R_SRS, "band", probs=EXTREME, rule="school"),
    QCase("srs_ties_math", "apisrs", SRS, R_SRS, "band", probs=EXTREME),
    QCase("srs_one", "apisrs", SRS, R_SRS, domain=("one", "1")),
    QCase("strat", "apistrat", STRAT, R_STRAT),
    QCase("strat_extreme", "apistrat", STRAT, R_STRAT, probs=EXTREME),
    QCase("strat_dom", "apistrat", STRAT, R_STRAT, domain=("awards", "Yes"), probs=EXTREME),
    QCase("strat_enroll", "apistrat", STRAT, R_STRAT, "enroll", level=0.9),
    QCase("clus1", "apiclus1", CLUS1, R_CLUS1, probs=EXTREME),
    QCase("clus1_dom", "apiclus1", CLUS1, R_CLUS1, domain=("sch.wide", "Yes")),
    QCase("clus2", "apiclus2", CLUS2, R_CLUS2, probs=EXTREME),
    QCase("clus2_enroll_na", "apiclus2", CLUS2, R_CLUS2, "enroll", domain=("stype", "E")),
    QCase("raked", "apiclus1", RAKED, R_CLUS1_NOFPC, probs=EXTREME, r_after=R_RAKE),
    QCase("raked_dom", "apiclus1", RAKED, R_CLUS1_NOFPC, domain=("stype", "H"), r_after=R_RAKE),
    QCase("post", "apisrs", POST, R_SRS_NOFPC, probs=EXTREME, r_after=R_POST),
    QCase("post_dom", "apisrs", POST, R_SRS_NOFPC, domain=("awards", "No"), r_after=R_POST),
    QCase("greg", "apiclus1", GREG, R_CLUS1_NOFPC, r_after=R_GREG),
]
for _rule in ("school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8",
              "hf9"):  # fmt: skip
    CASES += [
        QCase(f"strat_{_rule}", "apistrat", STRAT, R_STRAT, probs=EXTREME, rule=_rule),
        QCase(f"clus1_ties_{_rule}", "apiclus1", CLUS1, R_CLUS1, "band", rule=_rule),
        QCase(f"srs_ties_{_rule}", "apisrs", SRS, R_SRS, "band", probs=EXTREME, rule=_rule),
    ]
for _interval in ("beta", "xlogit", "asin", "score"):
    CASES += [
        QCase(f"strat_{_interval}", "apistrat", STRAT, R_STRAT, probs=EXTREME, interval=_interval),
        QCase(f"clus2_{_interval}", "apiclus2", CLUS2, R_CLUS2, interval=_interval),
        QCase(
            f"raked_dom_{_interval}",
            "apiclus1",
            RAKED,
            R_CLUS1_NOFPC,
            domain=("stype", "E"),
            interval=_interval,
            r_after=R_RAKE,
        ),
        QCase(f"srs_ties_{_interval}", "apisrs", SRS, R_SRS, "band", interval=_interval),
    ]
CASES += [  # every value the same: the upper interval end sits at p = 1
    QCase(f"srs_constant_{r}_{i}", "apisrs", SRS, R_SRS, "const", rule=r, interval=i)
    for r in ("math", "hf4", "hf7", "shahvaish")
    for i in ("mean", "beta", "xlogit", "asin")
]
CASES += [
    QCase("strat_score_hf7", "apistrat", STRAT, R_STRAT, rule="hf7", interval="score"),
    QCase("clus1_beta_school", "apiclus1", CLUS1, R_CLUS1, rule="school", interval="beta"),
]


def prepared(name: str) -> pd.DataFrame:
    """R's api data set plus ``band`` (api00 in steps of 50: many ties), ``const`` (5
    for every school) and ``one`` (1 for a single school)."""
    data = pd.read_csv(API_DIR / f"{name}.csv")
    data["band"] = (data["api00"] // 50) * 50
    data["const"] = 5.0
    data["one"] = np.where(np.arange(len(data)) == 7, 1, 0)
    return data


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float | str]]:
    work = tmp_path_factory.mktemp("rquantile")
    for name in ("apisrs", "apistrat", "apiclus1", "apiclus2"):
        prepared(name).to_csv(work / f"{name}.csv", index=False)
    script = PRELUDE + "".join(c.r_code() for c in CASES) + "close(out)\n"
    (work / "quantiles.R").write_text(script, encoding="utf-8")
    assert RSCRIPT is not None
    proc = subprocess.run(
        [RSCRIPT, "--vanilla", "quantiles.R"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    values: dict[str, dict[str, float | str]] = {}
    with (work / "reference.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            value = row["value"] if row["key"] == "error" else float(row["value"])
            values.setdefault(row["case"], {})[row["key"]] = value
    return values


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_quantiles_match_r(case: QCase, reference: dict[str, dict[str, float | str]]) -> None:
    data = prepared(case.data)
    design, _ = build_design(case.spec, data)
    y = pd.to_numeric(data[case.variable]).to_numpy(dtype=float)
    domain = np.isfinite(y)
    if case.domain is not None:
        domain &= (data[case.domain[0]].astype(str) == case.domain[1]).to_numpy()
    ref = reference[case.id]

    def run() -> tuple[QuantileEstimate, ...]:
        return quantile(
            design, y, domain, case.probs, level=case.level,
            interval=case.interval, rule=case.rule,  # type: ignore[arg-type]
        )  # fmt: skip

    if "error" in ref:  # R fails: so must we, with a message that says why
        with pytest.raises(EstimationError, match="does not change sign"):
            run()
        assert "not of opposite sign" in str(ref["error"])
        return
    for i, res in enumerate(run(), start=1):
        for key in ("estimate", "ci_low", "ci_high", "se"):
            ours, theirs = float(getattr(res, key)), float(ref[f"{i}_{key}"])
            diff = relative_difference(ours, theirs)
            if math.isfinite(diff):
                SEEN[key] = max(SEEN.get(key, 0.0), diff)
            assert diff <= TOL, (case.id, res.probability, key, ours, theirs)


def test_r_is_survey_4_1_1(reference: dict[str, dict[str, float | str]]) -> None:
    assert reference["session"]["survey_version"] == 411.0


def test_max_relative_difference() -> None:
    assert SEEN, "no comparison ran"
    print("max relative difference to R:", {k: f"{v:.2e}" for k, v in sorted(SEEN.items())})
    assert max(SEEN.values()) <= TOL
