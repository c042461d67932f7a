"""The bundled Luton pupils' survey (schools as clusters, base weights, raking) against R.

The generic R cases live in test_against_r.py / test_r_reference.py; this one runs the
pipeline's own weight and estimate stages on a real bundled export and checks the
headline figures against R ``survey`` computed live from the same harmonised data.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
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

pytestmark = [pytest.mark.needs_r, pytest.mark.slow,
              pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON)]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
df <- read.csv("data.csv")
sex_pop <- read.csv("sex.csv"); year_pop <- read.csv("year.csv")
d <- svydesign(ids = ~cluster, weights = ~w0, data = df)
d <- rake(d, list(~sex, ~year_group), list(sex_pop, year_pop),
          control = list(epsilon = 1e-12, maxit = 1000))
out <- data.frame()
for (ind in c("pupil_safety_dark_good", "weapon_self_friends_sure", "trusted_adult_none")) {
  df_sub <- subset(d, get(paste0(ind, "_valid")) == 1)
  f <- as.formula(paste0("~I(", ind, " == 1)"))
  ci <- svyciprop(f, df_sub, method = "logit")
  m <- svymean(as.formula(paste0("~", ind)), df_sub, deff = TRUE)
  out <- rbind(out, data.frame(indicator = ind, estimate = coef(m)[[1]],
                               se = SE(m)[[1]], ci_low = attr(ci, "ci")[[1]],
                               ci_high = attr(ci, "ci")[[2]], df = degf(df_sub),
                               deff = deff(m)[[1]]))
}
write.csv(out, "r.csv", row.names = FALSE)
"""


def test_luton_pupils_headlines_match_r(root: Path, schema, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cw_path = root / "crosswalks/luton/pupils-2024.v1.yaml"
    cw = load_crosswalk(cw_path)
    survey = read_survey(root / "surveys/luton/pupils-2024.dta")
    ref = CrosswalkRef(cw.crosswalk, cw.version, content_hash(cw_path), str(cw_path))
    hs = apply_crosswalk(survey, cw, schema, ref)
    assert cw.weighting is not None
    table, sha = read_targets_table(root / cw.weighting.targets)
    targets = select_targets(table, file=cw.weighting.targets, sha256=sha,
                             area_code=cw.weighting.area_code,
                             population=cw.weighting.population,
                             variables=cw.weighting.margins)
    ws = weight_survey(hs, targets)
    ours = estimate_indicators(ws, schema, by=[]).rows.set_index("indicator")

    data = hs.data
    frame = pd.DataFrame({
        "cluster": data["_cluster"],
        "w0": data["_base_weight"],
        "sex": data["sex"].astype(str),
        "year_group": data["year_group"].astype(str),
    })
    for ind in schema.indicators:
        if ind.id not in ours.index:
            continue
        item = next(i for i in cw.items if i.concept == ind.concept)
        values = data[item.column].astype(str)
        success = ind.success[item.scale or schema.concept(ind.concept).scale]
        frame[ind.id] = values.isin(success).astype(int)
        frame[f"{ind.id}_valid"] = values.isin(
            [c for s in schema.scales if s.id == (item.scale or schema.concept(ind.concept).scale)
             for c in s.codes]
        ).astype(int)
    frame.to_csv(tmp_path / "data.csv", index=False)
    for var, name in (("sex", "sex.csv"), ("year_group", "year.csv")):
        mt = targets.margins[var]
        pd.DataFrame({var: mt.categories, "Freq": mt.counts}).to_csv(tmp_path / name, index=False)
    (tmp_path / "run.R").write_text(R_SCRIPT, encoding="utf-8")
    subprocess.run([str(RSCRIPT), "run.R"], cwd=tmp_path, check=True, capture_output=True,
                   timeout=120)
    theirs = pd.read_csv(tmp_path / "r.csv").set_index("indicator")
    assert len(theirs) == 3
    for ind, r in theirs.iterrows():
        o = ours.loc[ind]
        for col in ("estimate", "se", "ci_low", "ci_high", "deff"):
            assert float(o[col]) == pytest.approx(float(r[col]), rel=1e-6), (ind, col)
        assert int(o["df"]) == int(r["df"])
    assert np.isfinite(theirs["se"]).all()
