"""Weights and SEs after a missing-margin treatment agree with R's survey (4.1.1).

Respondents of two bundled SYNTHETIC surveys (Bedford: three margins, no clusters;
Luton pupils: schools as clusters, base weights) lose some of their sex / age / area
values ("refused", "no_answer"), then go through the weight stage with each treatment
and method. R is given what the treatment means, not our numbers:

* ``exclude``: the respondents form a ``(missing)`` level whose population total R
  computes itself as their total of the starting weights (base weights scaled to the
  population), the population's categories scaled to the rest; then R ``rake()`` or
  ``calibrate(calfun = "linear" | "raking")``;
* ``impute``: R rakes on the hot-deck's values (the draws themselves are checked by the
  simulation in ``test_missing_simulation.py``; here, that the variance treats the
  imputed values as R's design does).

R's numbers are cached in ``tests/data/r_reference/missing_margins.csv`` (regenerate with
``python tests/weight/test_missing_against_r.py``); ``test_cached_r`` needs no R and
``test_live_r`` reruns R and checks it against both.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # rsurvey when run as a script

from harmonise.crosswalk.io import content_hash, load_crosswalk, load_schema  # noqa: E402
from harmonise.estimate.indicators import estimate_indicators  # noqa: E402
from harmonise.ingest import read_survey  # noqa: E402
from harmonise.models.crosswalk import WeightingSpec  # noqa: E402
from harmonise.models.harmonised import CrosswalkRef, HarmonisedSurvey, WeightedSurvey  # noqa: E402
from harmonise.models.schema import Schema  # noqa: E402
from harmonise.weight.stage import weight_survey  # noqa: E402
from harmonise.weight.targets import Targets, read_targets_table, select_targets  # noqa: E402
from rsurvey import RSCRIPT, SKIP_REASON, relative_difference  # noqa: E402

ROOT = HERE.parent.parent
CACHE = ROOT / "tests/data/r_reference/missing_margins.csv"
TOL = 1e-6
WEIGHT_TOL = 1e-8
INDICATORS = {
    "bedford": ("safe_area_dark_safe", "safe_towncentre_day_safe"),
    "pupils": ("pupil_safety_dark_good", "trusted_adult_none"),
}
SURVEYS = {
    "bedford": ("crosswalks/bedford/residents-2024.v1.yaml",
                "surveys/bedford/bedford-residents-2024.sav", "area", "castle"),
    "pupils": ("crosswalks/luton/pupils-2024.v1.yaml",
               "surveys/luton/pupils-2024.dta", "sex", "female"),
}
#: Share of respondents whose value is made missing, per margin and survey.
HOLES = {
    "bedford": {"sex": 0.08, "age_band": 0.05, "area": 0.04},
    "pupils": {"sex": 0.06, "year_group": 0.04},
}


@dataclass(frozen=True)
class MCase:
    id: str
    survey: str
    method: str
    missing: Mapping[str, str]


CASES = (
    MCase("rake_exclude_all", "bedford", "rake",
          {"sex": "exclude", "age_band": "exclude", "area": "exclude"}),
    MCase("rake_impute_exclude", "bedford", "rake",
          {"sex": "impute", "age_band": "exclude", "area": "impute"}),
    MCase("linear_exclude_impute", "bedford", "linear",
          {"sex": "exclude", "age_band": "impute", "area": "exclude"}),
    MCase("raking_exclude_all", "bedford", "raking",
          {"sex": "exclude", "age_band": "exclude", "area": "exclude"}),
    MCase("pupils_rake_exclude_impute", "pupils", "rake",
          {"sex": "exclude", "year_group": "impute"}),
)


@cache
def _schema() -> Schema:
    return load_schema(ROOT / "crosswalks/schema/perception-v1.yaml")


@cache
def _harmonised(survey: str) -> HarmonisedSurvey:
    from harmonise.recode import apply_crosswalk

    cw_path, data_path, _, _ = SURVEYS[survey]
    cw = load_crosswalk(ROOT / cw_path)
    ref = CrosswalkRef(cw.crosswalk, cw.version, content_hash(ROOT / cw_path), cw_path)
    hs = apply_crosswalk(read_survey(ROOT / data_path), cw, _schema(), ref)
    data = hs.data.copy()
    rng = np.random.default_rng(20261206)
    for margin, share in HOLES[survey].items():
        hole = rng.random(len(data)) < share
        data.loc[hole, margin] = np.where(rng.random(int(hole.sum())) < 0.5,
                                          "refused", "no_answer")
    return HarmonisedSurvey(crosswalk=cw, ref=hs.ref, data=data, scales=hs.scales,
                            audit=hs.audit, source=hs.source)


def _weighted(case: MCase) -> tuple[WeightedSurvey, Targets]:
    hs = _harmonised(case.survey)
    assert hs.crosswalk.weighting is not None
    spec = WeightingSpec.model_validate(
        hs.crosswalk.weighting.model_dump()
        | {"method": case.method, "missing": dict(case.missing), "epsilon": 1e-13})
    cw = hs.crosswalk.model_copy(update={"weighting": spec})
    table, sha = read_targets_table(ROOT / spec.targets)
    targets = select_targets(table, file=spec.targets, sha256=sha, area_code=spec.area_code,
                             population=spec.population, variables=spec.margins)
    hs2 = HarmonisedSurvey(crosswalk=cw, ref=hs.ref, data=hs.data, scales=hs.scales,
                           audit=hs.audit, source=hs.source)
    return weight_survey(hs2, targets), targets


def ours(case: MCase) -> dict[str, float]:
    """Our weights (as w_<row>) and estimates for the case, keyed as R writes them."""
    ws, _ = _weighted(case)
    _, _, group_var, group = SURVEYS[case.survey]
    rows = estimate_indicators(ws, _schema(), by=[group_var]).rows
    out: dict[str, float] = {}
    for ind in INDICATORS[case.survey]:
        for where, sel in (("all", rows["group_var"] == "all"),
                           ("dom", (rows["group_var"] == group_var) & (rows["group"] == group))):
            r = rows[(rows["indicator"] == ind) & sel].iloc[0]
            for col in ("estimate", "se", "ci_low", "ci_high", "deff"):
                out[f"{ind}:{where}:{col}"] = float(r[col])
    w = ws.data["_weight"].to_numpy()
    for i in range(0, len(w), 37):  # a spread of respondents
        out[f"w_{i}"] = float(w[i])
    return out


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
out <- file("r.csv", open = "w")
put <- function(case, key, value)
  writeLines(sprintf("%s,%s,%.17g", case, key, as.numeric(value)), out)
args <- read.csv("cases.csv", stringsAsFactors = FALSE)
for (k in seq_len(nrow(args))) {
  a <- args[k, ]
  df <- read.csv(paste0(a$case, ".csv"), stringsAsFactors = FALSE)
  margins <- strsplit(a$margins, " ")[[1]]
  pops <- lapply(margins, function(v) read.csv(paste0(a$case, "_pop_", v, ".csv"),
                                             stringsAsFactors = FALSE))
  names(pops) <- margins
  N <- sum(pops[[1]]$Freq)
  df$w0s <- df$w0 * N / sum(df$w0)            # base weights scaled to the population
  tabs <- list()
  for (v in margins) {
    p <- pops[[v]]
    miss <- df[[v]] == "(missing)"
    if (any(miss)) {                            # exclude: its own level, held at its total
      held <- sum(df$w0s[miss])
      p <- rbind(data.frame(level = p$level, Freq = p$Freq * (N - held) / N),
                 data.frame(level = "(missing)", Freq = held))
    }
    df[[v]] <- factor(df[[v]], levels = p$level)
    names(p) <- c(v, "Freq")
    tabs[[v]] <- p
  }
  ids <- if (a$cluster) ~cluster else ~1
  d <- svydesign(ids = ids, weights = ~w0s, data = df)
  if (a$method == "rake") {
    d <- rake(d, lapply(margins, function(v) as.formula(paste0("~", v))), tabs,
              control = list(epsilon = 1e-13, maxit = 2000))
  } else {
    f <- as.formula(paste("~", paste(margins, collapse = " + ")))
    pop <- c(N, unlist(lapply(tabs, function(t) t$Freq[-1])))
    d <- calibrate(d, f, population = pop, calfun = a$method, epsilon = 1e-13, maxit = 200)
  }
  w <- weights(d)
  for (i in seq(1, length(w), by = 37)) put(a$case, paste0("w_", i - 1), w[i])
  for (ind in strsplit(a$indicators, " ")[[1]]) {
    for (where in c("all", "dom")) {
      keep <- df[[paste0(ind, "_valid")]] == 1
      if (where == "dom") keep <- keep & df$domain == 1
      sub <- subset(d, keep)
      m <- svymean(as.formula(paste0("~", ind)), sub, deff = TRUE)
      ci <- svyciprop(as.formula(paste0("~I(", ind, " == 1)")), sub, method = "logit")
      key <- paste0(ind, ":", where, ":")
      put(a$case, paste0(key, "estimate"), coef(m)[[1]])
      put(a$case, paste0(key, "se"), SE(m)[[1]])
      put(a$case, paste0(key, "deff"), deff(m)[[1]])
      put(a$case, paste0(key, "ci_low"), attr(ci, "ci")[[1]])
      put(a$case, paste0(key, "ci_high"), attr(ci, "ci")[[2]])
    }
  }
}
close(out)
"""


def _r_inputs(case: MCase, workdir: Path) -> dict[str, object]:
    """The case's harmonised data and raw population tables as R reads them."""
    ws, targets = _weighted(case)
    hs = ws.survey
    data = ws.data
    cw = hs.crosswalk
    assert cw.weighting is not None
    margins = list(cw.weighting.margins)
    _, _, group_var, group = SURVEYS[case.survey]
    frame = pd.DataFrame({"w0": data["_base_weight"].to_numpy()})
    frame["cluster"] = data["_cluster"].to_numpy() if cw.design.cluster else 1
    for m in margins:
        # what R is told: the hot-deck's value where imputed, "(missing)" where excluded
        frame[m] = (data[f"_weighting_{m}"] if f"_weighting_{m}" in data else data[m]).to_numpy()
    frame["domain"] = (data[group_var] == group).astype(int).to_numpy()
    schema = _schema()
    for ind_id in INDICATORS[case.survey]:
        ind = next(i for i in schema.indicators if i.id == ind_id)
        item = next(i for i in cw.items if i.concept == ind.concept)
        scale = item.scale or schema.concept(ind.concept).scale
        values = data[item.column].astype(str)
        frame[ind_id] = values.isin(ind.success[scale]).astype(int).to_numpy()
        codes = next(s for s in schema.scales if s.id == scale).codes
        frame[f"{ind_id}_valid"] = values.isin(codes).astype(int).to_numpy()
    frame.to_csv(workdir / f"{case.id}.csv", index=False)
    for m in margins:
        mt = targets.margins[m]
        pd.DataFrame({"level": mt.categories, "Freq": mt.counts}).to_csv(
            workdir / f"{case.id}_pop_{m}.csv", index=False)
    return {"case": case.id, "method": case.method, "margins": " ".join(margins),
            "cluster": bool(cw.design.cluster),
            "indicators": " ".join(INDICATORS[case.survey])}


def run_r(workdir: Path) -> dict[str, dict[str, float]]:
    """Run R on every case once; ``{case: {key: value}}``."""
    if RSCRIPT is None:
        raise RuntimeError(SKIP_REASON)
    pd.DataFrame([_r_inputs(c, workdir) for c in CASES]).to_csv(workdir / "cases.csv",
                                                               index=False)
    (workdir / "run.R").write_text(R_SCRIPT, encoding="utf-8")
    proc = subprocess.run([RSCRIPT, "--vanilla", "run.R"], cwd=workdir, capture_output=True,
                          text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return _read(workdir / "r.csv")


def _read(path: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for case, key, value in csv.reader(fh):
            out.setdefault(case, {})[key] = float(value)
    return out


def _compare(case: MCase, theirs: dict[str, float]) -> float:
    mine = ours(case)
    assert set(mine) == set(theirs), sorted(set(mine) ^ set(theirs))[:5]
    worst = 0.0
    for key, value in theirs.items():
        diff = relative_difference(mine[key], value)
        tol = WEIGHT_TOL if key.startswith("w_") else TOL
        assert diff <= tol, f"{case.id} {key}: ours {mine[key]!r}, R {value!r} ({diff:.3g})"
        worst = max(worst, diff)
    return worst


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cached_r(case: MCase) -> None:
    cached = _read(CACHE)
    assert case.id in cached, f"regenerate {CACHE} (python {Path(__file__).name})"
    _compare(case, cached[case.id])


def test_treatments_did_something() -> None:
    """Every case really treated missing values, both ways where it declares both."""
    for case in CASES:
        ws, _ = _weighted(case)
        assert ws.diagnostics is not None
        done = {r.margin: r.treatment for r in ws.diagnostics.missing}
        assert done == dict(case.missing)
        assert all(r.n_missing > 0 for r in ws.diagnostics.missing)


@pytest.mark.needs_r
@pytest.mark.slow  # one R run of a few seconds
@pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON)
def test_live_r(tmp_path: Path) -> None:
    live = run_r(tmp_path)
    cached = _read(CACHE)
    for case in CASES:
        _compare(case, live[case.id])
        for key, value in live[case.id].items():
            assert relative_difference(cached[case.id][key], value) <= 1e-9, (case.id, key)


if __name__ == "__main__":  # regenerate the cache
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fresh = run_r(Path(tmp))
        worst = max(_compare(c, fresh[c.id]) for c in CASES)
        with CACHE.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            for case_id, values in fresh.items():
                for key, value in values.items():
                    writer.writerow([case_id, key, f"{value:.17g}"])
    print(f"wrote {CACHE}; largest relative difference {worst:.3g}")
