"""Census strata (fpc = PSUs sampled) in replicate totals: R's ``selfrep`` (synthetic data).

R's ``svytotal`` on a replicate design leaves rows of completely sampled strata out of
the replicate totals. That changes the variance when those rows' replicate weights
differ between replicates: the ``lonely_psu: adjust`` replicate rescales every stratum
but the lonely one, the census stratum too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonise.estimate import Design, replicate_design, total
from rsurvey import RSCRIPT, SKIP_REASON

LONELY = ("adjust", "average", "remove", "certainty")


def _data() -> pd.DataFrame:
    """Five strata: clusters of 3 rows; stratum 2 is a census (3 of 3 PSUs), stratum 3 a
    single PSU. Synthetic."""
    rng = np.random.default_rng(3)
    h = np.repeat([1, 2, 3, 4, 5], [12, 9, 1, 15, 8])
    within = np.concatenate([np.arange(k) for k in (12, 9, 1, 15, 8)])
    return pd.DataFrame({
        "h": h, "cl": h * 100 + within // 3,
        "N": np.array([0, 40, 3, 10, 50, 30], dtype=float)[h],
        "w": rng.uniform(1, 4, h.size), "y": rng.normal(10, 1, h.size),
        "dom": (rng.random(h.size) < 0.6).astype(int),
    })


def _total_se(data: pd.DataFrame, lonely: str, mse: bool, domain: np.ndarray) -> float:
    design = Design(weights=data["w"].to_numpy(), strata=data["h"].to_numpy(),
                    clusters=(data["cl"].to_numpy(),), fpc=(data["N"].to_numpy(),),
                    lonely_psu=lonely)  # type: ignore[arg-type]
    rd = replicate_design(design, "JKn", mse=mse)
    return total(rd, data["y"].to_numpy(), domain).se


@pytest.mark.skipif(RSCRIPT is None, reason=SKIP_REASON)
def test_domain_total_se_with_a_census_stratum_is_rs(tmp_path: Path) -> None:
    data = _data()
    data.to_csv(tmp_path / "census.csv", index=False)
    levels = ", ".join(f'"{lp}"' for lp in LONELY)
    script = f"""
suppressPackageStartupMessages(library(survey))
df <- read.csv("census.csv")
for (lp in c({levels})) {{
  options(survey.lonely.psu = lp)
  d <- svydesign(ids = ~cl, strata = ~h, fpc = ~N, weights = ~w, data = df)
  rd <- suppressWarnings(as.svrepdesign(d, type = "JKn"))
  s <- subset(rd, dom == 1)
  cat(lp, sprintf("%.17g", SE(svytotal(~y, s))), sprintf("%.17g", SE(svytotal(~y, rd))), "\\n")
}}"""
    out = subprocess.run([str(RSCRIPT), "-e", script], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    r = {line.split()[0]: [float(v) for v in line.split()[1:]]
         for line in out.splitlines() if line.strip()}
    dom = data["dom"].to_numpy() == 1
    everyone = np.ones(len(data), dtype=bool)
    for lp in LONELY:
        mine = [_total_se(data, lp, False, dom), _total_se(data, lp, False, everyone)]
        assert mine == pytest.approx(r[lp], rel=1e-6), lp  # adjust: 159.08 vs R 136.76 before


def test_census_rows_add_no_variance_with_mse() -> None:
    """With ``mse`` R's way (census rows out of the replicate totals, in the full-sample
    total) adds the census stratum's total squared; at full weight they add nothing."""
    data = _data()
    dom = data["dom"].to_numpy() == 1
    for lp in LONELY:
        plain, mse = _total_se(data, lp, False, dom), _total_se(data, lp, True, dom)
        assert mse == pytest.approx(plain, rel=0.2), lp
