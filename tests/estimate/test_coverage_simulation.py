"""Coverage and bias of raked, stratified, clustered estimates over repeated samples.

A SYNTHETIC population with known parameters (8 strata × 80 clusters of 40–160 people;
a binary outcome depending on sex, age band and a cluster effect) is sampled 1,000 times
with a fixed seed: 6 clusters per stratum (SRS), 12 people per cluster. Each sample is
raked to the population's sex and age-band counts and the proportion and the mean are
estimated with SEs that account for raking, strata and clusters. 95% intervals must
cover the true values 93–97% of the time, and the bias must be negligible.
"""

from __future__ import annotations

import numpy as np
import pytest

from harmonise.estimate import Design, mean, proportion
from harmonise.weight import Margin, rake

REPS = 1000
STRATA, CLUSTERS, TAKE_C, TAKE_I = 8, 80, 6, 12


def population(rng: np.random.Generator) -> dict[str, np.ndarray]:
    sizes = rng.integers(40, 161, STRATA * CLUSTERS)
    cluster = np.repeat(np.arange(STRATA * CLUSTERS), sizes)
    stratum = cluster // CLUSTERS
    n = cluster.size
    sex = rng.integers(0, 2, n)
    age = rng.choice(3, n, p=[0.3, 0.45, 0.25])
    effect = rng.normal(0, 0.5, STRATA * CLUSTERS)[cluster] + 0.1 * stratum
    logit = -0.6 + 0.5 * sex - 0.4 * age + effect
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    score = 50 + 5 * sex + 3 * age + 4 * effect + rng.normal(0, 10, n)
    return {"cluster": cluster, "stratum": stratum, "sex": sex, "age": age, "y": y,
            "score": score, "sizes": sizes}  # fmt: skip


@pytest.mark.slow
def test_raked_intervals_cover_95_percent_without_bias() -> None:
    rng = np.random.default_rng(20240613)
    pop = population(rng)
    true_p, true_mean = float(pop["y"].mean()), float(pop["score"].mean())
    sex_totals = np.bincount(pop["sex"], minlength=2).astype(float)
    age_totals = np.bincount(pop["age"], minlength=3).astype(float)
    starts = np.concatenate([[0], np.cumsum(pop["sizes"])[:-1]])
    hits_p = hits_m = 0
    estimates_p, estimates_m = np.empty(REPS), np.empty(REPS)
    for r in range(REPS):
        # Clusters per stratum without replacement, then people per cluster (vectorised).
        chosen = np.argsort(rng.random((STRATA, CLUSTERS)), axis=1)[:, :TAKE_C]
        chosen = (chosen + CLUSTERS * np.arange(STRATA)[:, None]).ravel()
        sizes = pop["sizes"][chosen]
        offsets = np.argsort(rng.random((chosen.size, int(sizes.max()))), axis=1)
        offsets = np.stack([o[o < s][:TAKE_I] for o, s in zip(offsets, sizes, strict=True)])
        rows = (starts[chosen][:, None] + offsets).ravel()
        w0 = np.repeat(CLUSTERS / TAKE_C * sizes / TAKE_I, TAKE_I)
        margins = [
            Margin("sex", pop["sex"][rows], sex_totals, ("f", "m")),
            Margin("age", pop["age"][rows], age_totals, ("a", "b", "c")),
        ]
        w = rake(w0, margins, epsilon=1e-8).weights
        design = Design(
            weights=w, strata=pop["stratum"][rows], clusters=pop["cluster"][rows],
            raking=tuple(m.codes for m in margins),
        )  # fmt: skip
        everyone = np.ones(rows.size, dtype=bool)
        p = proportion(design, pop["y"][rows] == 1, everyone, deff=False)
        m = mean(design, pop["score"][rows], everyone, deff=False)
        hits_p += p.ci_low <= true_p <= p.ci_high
        hits_m += m.ci_low <= true_mean <= m.ci_high
        estimates_p[r], estimates_m[r] = p.estimate, m.estimate
    coverage_p, coverage_m = hits_p / REPS, hits_m / REPS
    print(f"coverage: proportion {coverage_p:.3f}, mean {coverage_m:.3f}")
    assert 0.93 <= coverage_p <= 0.97
    assert 0.93 <= coverage_m <= 0.97
    for est, truth in ((estimates_p, true_p), (estimates_m, true_mean)):
        bias = float(est.mean() - truth)
        monte_carlo_se = float(est.std(ddof=1)) / np.sqrt(REPS)
        print(f"bias {bias:.4g} (Monte Carlo SE {monte_carlo_se:.3g}, truth {truth:.4g})")
        assert abs(bias) < 3 * monte_carlo_se + 1e-3 * abs(truth)
