"""The Luton pupils' school sample with ``design.pps: brewer`` through the pipeline's own
weight and estimate stages, against R's ``svydesign(pps = "brewer")`` computed live.

The released v1 crosswalk keeps the with-replacement variance (a release is immutable);
this test states the schools' PPS draw on a copy of it, as a v2 would, and checks the
headline figures and that Brewer's SE is below the with-replacement one (10 of 15 schools
were drawn, so the finite-population correction is large). R gets the rows sorted by
school: its Brewer SE depends on the row order otherwise (see the R script).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from harmonise.crosswalk.io import content_hash, load_crosswalk
from harmonise.estimate.indicators import estimate_indicators
from harmonise.ingest import read_survey
from harmonise.models.harmonised import CrosswalkRef
from harmonise.recode import apply_crosswalk
from harmonise.weight.stage import weight_survey
from harmonise.weight.targets import read_targets_table, select_targets
from rsurvey import RSCRIPT, SKIP_REASON

pytestmark = [
    pytest.mark.needs_r,
    pytest.mark.slow,
    pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON),
]

INDICATORS = ("pupil_safety_dark_good", "weapon_self_friends_sure", "trusted_adult_none")

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
df <- read.csv("data.csv")
df$p <- 1 / df$w0
# survey 4.1.1's onestrat pairs each cluster's f (in order of first appearance) with the
# cluster totals (sorted by id): with f varying by cluster (Brewer) R's SE depends on the
# row order unless the rows are sorted by cluster. harmonise's does not.
df <- df[order(df$cluster), ]
sex_pop <- read.csv("sex.csv"); year_pop <- read.csv("year.csv")
d <- svydesign(ids = ~cluster, weights = ~w0, fpc = ~p, data = df, pps = "brewer")
d <- rake(d, list(~sex, ~year_group), list(sex_pop, year_pop),
          control = list(epsilon = 1e-12, maxit = 1000))
out <- data.frame()
for (ind in c("pupil_safety_dark_good", "weapon_self_friends_sure", "trusted_adult_none")) {
  sub <- subset(d, get(paste0(ind, "_valid")) == 1)
  ci <- svyciprop(as.formula(paste0("~I(", ind, " == 1)")), sub, method = "logit")
  m <- svymean(as.formula(paste0("~", ind)), sub, deff = TRUE)
  out <- rbind(out, data.frame(indicator = ind, estimate = coef(m)[[1]], se = SE(m)[[1]],
                               ci_low = attr(ci, "ci")[[1]], ci_high = attr(ci, "ci")[[2]],
                               df = degf(sub), deff = deff(m)[[1]]))
}
write.csv(out, "r.csv", row.names = FALSE)
"""


def test_luton_pupils_brewer_matches_r(root: Path, schema, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cw_path = root / "crosswalks/luton/pupils-2024.v1.yaml"
    released = load_crosswalk(cw_path)
    cw = released.model_copy(
        update={"design": released.design.model_copy(update={"pps": "brewer"})}
    )
    survey = read_survey(root / "surveys/luton/pupils-2024.dta")
    ref = CrosswalkRef(cw.crosswalk, cw.version, content_hash(cw_path), str(cw_path))
    hs = apply_crosswalk(survey, cw, schema, ref)
    assert cw.weighting is not None
    table, sha = read_targets_table(root / cw.weighting.targets)
    targets = select_targets(
        table,
        file=cw.weighting.targets,
        sha256=sha,
        area_code=cw.weighting.area_code,
        population=cw.weighting.population,
        variables=cw.weighting.margins,
    )
    ws = weight_survey(hs, targets)
    ours = estimate_indicators(ws, schema, by=[]).rows.set_index("indicator")
    hs_wr = apply_crosswalk(survey, released, schema, ref)
    with_replacement = estimate_indicators(weight_survey(hs_wr, targets), schema, by=[])
    wr = with_replacement.rows.set_index("indicator")

    data = hs.data
    frame = pd.DataFrame(
        {
            "cluster": data["_cluster"],
            "w0": data["_base_weight"],
            "sex": data["sex"].astype(str),
            "year_group": data["year_group"].astype(str),
        }
    )
    for ind in schema.indicators:
        if ind.id not in INDICATORS:
            continue
        item = next(i for i in cw.items if i.concept == ind.concept)
        scale = item.scale or schema.concept(ind.concept).scale
        values = data[item.column].astype(str)
        frame[ind.id] = values.isin(ind.success[scale]).astype(int)
        codes = [c for s in schema.scales if s.id == scale for c in s.codes]
        frame[f"{ind.id}_valid"] = values.isin(codes).astype(int)
    frame.to_csv(tmp_path / "data.csv", index=False)
    for var, name in (("sex", "sex.csv"), ("year_group", "year.csv")):
        mt = targets.margins[var]
        pd.DataFrame({var: mt.categories, "Freq": mt.counts}).to_csv(tmp_path / name, index=False)
    (tmp_path / "run.R").write_text(R_SCRIPT, encoding="utf-8")
    subprocess.run(
        [str(RSCRIPT), "run.R"], cwd=tmp_path, check=True, capture_output=True, timeout=120
    )
    theirs = pd.read_csv(tmp_path / "r.csv").set_index("indicator")
    assert len(theirs) == 3
    for ind, r in theirs.iterrows():
        o = ours.loc[ind]
        for col in ("estimate", "se", "ci_low", "ci_high", "deff"):
            assert float(o[col]) == pytest.approx(float(r[col]), rel=1e-6), (ind, col)
        assert int(o["df"]) == int(r["df"])
        assert float(o["estimate"]) == pytest.approx(float(wr.loc[ind, "estimate"]), rel=1e-12)
        assert float(o["se"]) < float(wr.loc[ind, "se"])
