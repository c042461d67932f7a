"""Missing-margin treatments recover a known truth when their assumption holds.

A superpopulation of sex × age band × area cells (Bedford's categories, shares chosen so
that sex varies strongly with area) answers a yes/no question whose rate depends on all
three. Response to the survey depends on age band and area, so the raw sample is biased
and raking to the three margins removes that bias. Then some respondents' sex is made
missing ("refused"), and the weight stage (the real one, :func:`weight_survey`) treats it
as declared. Over many simulated samples (fixed seeds: the test is deterministic), the
weighted estimate's mean error is compared with its Monte Carlo standard error:

* ``impute`` (hot-deck within cells of age band × area) is unbiased when sex is missing
  at random *within those cells*, even when the missing rate varies strongly by area;
* ``exclude`` is unbiased when sex is missing completely at random, but **biased** under
  the cell-dependent mechanism (the respondents who gave their sex are then not like the
  population in sex, yet they are calibrated to its shares) — why ``impute`` is the
  default;
* a negative control (every refusal filled in as "female", the sort of fix done by hand)
  is biased, so the test can tell;
* when answering the survey depends on sex itself, both treatments keep the documented
  bias (share missing × sex-mix error × difference between the sexes).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonise.crosswalk.io import content_hash, load_crosswalk, load_schema
from harmonise.ingest import read_survey
from harmonise.models.crosswalk import WeightingSpec
from harmonise.models.harmonised import CrosswalkRef, HarmonisedSurvey
from harmonise.recode import apply_crosswalk
from harmonise.weight.stage import weight_survey
from harmonise.weight.targets import MarginTargets, Targets

ROOT = Path(__file__).resolve().parent.parent.parent
SEX = ("female", "male")
AGE = ("18_34", "35_49", "50_64", "65_plus")
AREA = ("castle", "kingsbrook", "brickhill", "putnoe", "kempston_central", "wootton")
N_POP = 100_000.0
N_SAMPLE = 1500
REPS = 160


@cache
def population() -> tuple[np.ndarray, np.ndarray]:
    """Cell shares P[s, a, r] and yes-rates p[s, a, r] of the superpopulation."""
    male_by_area = np.linspace(0.2, 0.8, len(AREA))  # sex varies strongly with area
    age = np.array([0.3, 0.25, 0.25, 0.2])
    area = np.full(len(AREA), 1 / len(AREA))
    share = np.zeros((2, len(AGE), len(AREA)))
    share[1] = age[:, None] * (area * male_by_area)[None, :]
    share[0] = age[:, None] * (area * (1 - male_by_area))[None, :]
    logit = (-1.0 + 1.6 * np.arange(2)[:, None, None] + 0.35 * np.arange(len(AGE))[None, :, None]
             - 0.15 * np.arange(len(AREA))[None, None, :])
    return share, 1 / (1 + np.exp(-logit))


def truth() -> float:
    share, rate = population()
    return float((share * rate).sum())


def targets() -> Targets:
    share, _ = population()

    def margin(name: str, cats: tuple[str, ...], axis: tuple[int, ...]) -> MarginTargets:
        counts = share.sum(axis=axis) * N_POP
        return MarginTargets(name, cats, counts, float(counts.sum()), False)

    return Targets(file="simulated", sha256="", area_code="E06000055", area_name="Bedford",
                   population="adults_18plus", total=N_POP,
                   margins={"sex": margin("sex", SEX, (1, 2)),
                            "age_band": margin("age_band", AGE, (0, 2)),
                            "area": margin("area", AREA, (0, 1))},
                   illustrative=True, sources=())


@cache
def _bedford() -> HarmonisedSurvey:
    path = ROOT / "crosswalks/bedford/residents-2024.v1.yaml"
    cw = load_crosswalk(path)
    schema = load_schema(ROOT / "crosswalks/schema/perception-v1.yaml")
    survey = read_survey(ROOT / "surveys/bedford/bedford-residents-2024.sav")
    return apply_crosswalk(survey, cw, schema,
                           CrosswalkRef(cw.crosswalk, 1, content_hash(path), str(path)))


def sample(rng: np.random.Generator, male_response: float = 1.0) -> pd.DataFrame:
    """Respondents drawn with response depending on age band and area, and on sex only
    when ``male_response`` (men's response relative to women's) is not 1."""
    share, rate = population()
    response = (0.3 + 0.5 * np.arange(len(AGE))[:, None] / 3
                + 0.4 * np.arange(len(AREA))[None, :] / 5)[None, :, :] * np.array(
                    [1.0, male_response])[:, None, None]
    p = (share * response).ravel()
    cells = rng.choice(p.size, size=N_SAMPLE, p=p / p.sum())
    s, a, r = np.unravel_index(cells, share.shape)
    y = rng.random(N_SAMPLE) < rate.ravel()[cells]
    return pd.DataFrame({"sex": np.array(SEX, dtype=object)[s],
                         "age_band": np.array(AGE, dtype=object)[a],
                         "area": np.array(AREA, dtype=object)[r], "y": y})


def mar_within_cells(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Sex missing at a rate set by area (3% to 45%), not by sex itself."""
    rate = dict(zip(AREA, np.linspace(0.45, 0.03, len(AREA)), strict=True))
    return rng.random(len(frame)) < frame["area"].map(rate).to_numpy(dtype=float)


def mcar(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    return rng.random(len(frame)) < 0.2


def estimate(frame: pd.DataFrame, hole: np.ndarray, treatment: str, seed: int) -> float:
    hs = _bedford()
    data = pd.DataFrame({"respondent_id": np.arange(len(frame)), "_strata": 0, "_cluster": 0,
                         "_base_weight": 1.0, "sex": frame["sex"], "age_band": frame["age_band"],
                         "area": frame["area"]})
    if treatment == "fill_female":  # negative control: a hand fix, not a treatment
        data.loc[hole, "sex"] = "female"
    else:
        data.loc[hole, "sex"] = "refused"
    assert hs.crosswalk.weighting is not None
    missing = {} if treatment == "fill_female" else {"sex": treatment}
    spec = WeightingSpec.model_validate(hs.crosswalk.weighting.model_dump()
                                        | {"missing": missing, "impute_seed": seed})
    cw = hs.crosswalk.model_copy(update={"weighting": spec})
    ws = weight_survey(HarmonisedSurvey(crosswalk=cw, ref=hs.ref, data=data, scales=hs.scales,
                                        audit=hs.audit, source=hs.source), targets())
    w = ws.data["_weight"].to_numpy()
    return float(np.sum(w * frame["y"].to_numpy()) / w.sum())


Mechanism = Callable[[pd.DataFrame, np.random.Generator], np.ndarray]


def simulate(treatment: str, mechanism: Mechanism,
             male_response: float = 1.0) -> tuple[float, float]:
    """Mean error over ``REPS`` samples and its Monte Carlo standard error."""
    errors = []
    for rep in range(REPS):
        rng = np.random.default_rng([20261206, rep])
        frame = sample(rng, male_response)
        errors.append(estimate(frame, mechanism(frame, rng), treatment, seed=rep) - truth())
    e = np.array(errors)
    return float(e.mean()), float(e.std(ddof=1) / np.sqrt(e.size))


def test_raw_sample_is_biased_and_full_raking_is_not() -> None:
    """The set-up needs weighting (so the treatments have something to keep right)."""
    raw, full = [], []
    for rep in range(40):
        frame = sample(np.random.default_rng([20261206, rep]))
        raw.append(frame["y"].mean() - truth())
        full.append(estimate(frame, np.zeros(len(frame), dtype=bool), "impute", rep) - truth())
    assert abs(np.mean(raw)) > 0.02
    assert abs(np.mean(full)) < 4 * np.std(full, ddof=1) / np.sqrt(len(full))


@pytest.mark.slow  # 160 simulated samples per case
@pytest.mark.parametrize(
    ("treatment", "mechanism", "unbiased"),
    [
        ("impute", mar_within_cells, True),
        ("impute", mcar, True),
        ("exclude", mcar, True),
        ("exclude", mar_within_cells, False),
        ("fill_female", mar_within_cells, False),
    ],
    ids=["impute-mar-cells", "impute-mcar", "exclude-mcar", "exclude-mar-cells-biased",
         "fill-by-hand-biased"],
)
def test_treatment_bias(treatment: str, mechanism: Mechanism, unbiased: bool) -> None:
    bias, mc_se = simulate(treatment, mechanism)
    if unbiased:
        assert abs(bias) < 3.5 * mc_se, (bias, mc_se)
        assert mc_se < 0.002  # precise enough that 3.5 MC SEs is a meaningful bound
    else:
        assert abs(bias) > 6 * mc_se, (bias, mc_se)


@pytest.mark.slow
@pytest.mark.parametrize("treatment", ["impute", "exclude"])
def test_response_depending_on_the_missing_margin_leaves_the_documented_bias(
    treatment: str,
) -> None:
    """docs/weighting.md: when answering the survey itself depends on sex within cells, no
    treatment can fix the sex mix of those who did not give it; the bias is about (share
    missing) × (sample minus population share of men) × (men's minus women's rate)."""
    share, rate = population()
    male = float(share[1].sum())
    sample_male = male * 0.6 / (male * 0.6 + (1 - male))
    gap = float((share[1] * rate[1]).sum() / share[1].sum()
                - (share[0] * rate[0]).sum() / share[0].sum())
    predicted = 0.2 * (sample_male - male) * gap  # mcar: 20% missing
    bias, mc_se = simulate(treatment, mcar, male_response=0.6)
    assert abs(bias - predicted) < max(0.3 * abs(predicted), 3.5 * mc_se), (bias, predicted)
    assert abs(bias) > 4 * mc_se  # a real bias, not noise
