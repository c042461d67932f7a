"""Luton secondary pupils' survey, Years 7-11 (synthetic): a Stata .dta export.

Population: every Year 7-11 pupil in 15 illustrative schools ("School A" .. "School O"),
by sex and year group. Answers carry school-level random effects (latent intra-class
correlation about 0.04-0.05), so schools are clusters.

Design: 10 schools drawn by systematic probability-proportional-to-size sampling (size =
Year 7-11 roll), each with inclusion probability 10 x roll / total roll (all below 1);
``DESWT`` is the inverse of that probability. Within a selected school pupils take part
with a propensity log-linear in sex and year group (classes chosen by the school, absence,
consent), scaled to give about 2,000 pupils. Item non-response is coded 99 "Not answered".
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from harmonise.synthetic.common import (
    SYNTHETIC_NOTICE,
    FloatArray,
    IntArray,
    Question,
    SurveyBuild,
    TargetsMeta,
    TruthSpec,
    answers,
    assemble,
    effect,
    expand_cells,
    ordinal_item,
    overlay,
    poisson_sample,
    rng_for,
    truth_spec,
    write_build_tables,
)

CROSSWALK_ID = "luton-pupils-2024"
STREAM = 3
EXPORT = Path("surveys/luton/pupils-2024.dta")
TARGETS_NAME = "luton-pupils-2024"
EXPECTED_N = 2000
SCHOOLS_SAMPLED = 10

SCHOOL_NAMES = tuple(f"School {letter}" for letter in string.ascii_uppercase[:15])
# Year 7 cohort per school and its female share (illustrative).
COHORT = (150, 180, 210, 240, 270, 160, 200, 230, 190, 260, 170, 220, 250, 140, 280)
FEMALE = (0.49, 0.50, 0.47, 0.51, 0.48, 0.53, 0.49, 0.46, 0.50, 0.48, 0.52, 0.49, 0.47, 0.51, 0.50)
YEARS = (7, 8, 9, 10, 11)
YEAR_SIZE = (1.04, 1.02, 1.00, 0.98, 0.96)  # later year groups slightly smaller
YEAR_GROUPS = tuple(f"y{y}" for y in YEARS)

NOT_ANSWERED = (99, "Not answered", "no_answer")
SCHOOL = Question(
    "SCHOOL",
    "School (illustrative)",
    answers(*((i + 1, name, f"school_{name[-1].lower()}") for i, name in enumerate(SCHOOL_NAMES))),
)
YEAR = Question(
    "YEAR", "What year are you in at school?", answers(*((y, f"Year {y}", f"y{y}") for y in YEARS))
)
SEX = Question(
    "SEX", "Are you female or male?", answers((1, "Female", "female"), (2, "Male", "male"))
)
TRUSTAD = Question(
    "TRUSTAD",
    "How many adults do you know that you can trust and talk to if you have a problem?",
    answers(
        (1, "None", "none"), (2, "One or two", "one_or_two"), (3, "Three or more", "three_or_more"),
        NOT_ANSWERED,
    ),
)  # fmt: skip
LIFESAT = Question(
    "LIFESAT",
    "How satisfied are you with your life at the moment?",
    answers(
        (1, "Very satisfied", "very_satisfied"),
        (2, "Fairly satisfied", "fairly_satisfied"),
        (3, "Not very satisfied", "not_very_satisfied"),
        (4, "Not at all satisfied", "not_at_all_satisfied"),
        NOT_ANSWERED,
    ),
)
SAFEDARK = Question(
    "SAFEDARK",
    "How would you rate your safety when you go out after dark in the area where you live?",
    answers(
        (1, "Very good", "very_good"),
        (2, "Good", "good"),
        (3, "Poor", "poor"),
        (4, "Very poor", "very_poor"),
        (9, "Don't know", "dont_know"),
        NOT_ANSWERED,
    ),
)
WEAPON = Question(
    "WEAPON",
    "Do you or your friends carry weapons or other items for protection?",
    answers(
        (1, "Certain", "certain"),
        (2, "Fairly sure", "fairly_sure"),
        (3, "Not sure", "not_sure"),
        (4, "No", "no"),
        NOT_ANSWERED,
    ),
)
QUESTIONS = (SCHOOL, YEAR, SEX, TRUSTAD, LIFESAT, SAFEDARK, WEAPON)
ITEMS = (TRUSTAD, LIFESAT, SAFEDARK, WEAPON)

# ----------------------------------------------------------------- the known truth model
# Latent scores (higher = better rating / more trusted adults / more satisfied / more sure
# that weapons are carried) with a school random effect of SD SCHOOL_SD.
SCHOOL_SD = {"SAFEDARK": 0.45, "TRUSTAD": 0.40, "LIFESAT": 0.40, "WEAPON": 0.50}
SAFEDARK_SHARES = (0.25, 0.42, 0.22, 0.11)
SAFEDARK_SEX = {"female": -1.1}
SAFEDARK_YEAR = {"y7": -1.1, "y8": -0.8, "y9": -0.5, "y10": -0.25}
TRUST_SHARES = (0.53, 0.35, 0.12)  # three or more, one or two, none
TRUST_SEX = {"male": -0.3}
TRUST_YEAR = {"y9": -0.2, "y10": -0.35, "y11": -0.5}
LIFESAT_SHARES = (0.30, 0.45, 0.17, 0.08)
LIFESAT_SEX = {"female": -0.6}
LIFESAT_YEAR = {"y8": -0.15, "y9": -0.3, "y10": -0.45, "y11": -0.6}
WEAPON_SHARES = (0.03, 0.05, 0.17, 0.75)
WEAPON_SEX = {"male": 0.7}
WEAPON_YEAR = {"y8": 0.15, "y9": 0.3, "y10": 0.45, "y11": 0.6}
DONT_KNOW = 0.06
ITEM_NONRESPONSE = 0.02
RESPONSE_SEX = {"male": -0.7}
RESPONSE_YEAR = {"y8": -0.2, "y9": -0.5, "y10": -0.9, "y11": -1.4}


def population_cells() -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for name, cohort, female in zip(SCHOOL_NAMES, COHORT, FEMALE, strict=True):
        for year, size in zip(YEARS, YEAR_SIZE, strict=True):
            pupils = round(cohort * size)
            girls = round(pupils * female)
            for sex, count in (("female", girls), ("male", pupils - girls)):
                rows.append({"school": name, "sex": sex, "year_group": f"y{year}", "count": count})
    return pd.DataFrame(rows)


def simulate_population(rng: np.random.Generator) -> pd.DataFrame:
    pop = expand_cells(
        population_cells(),
        {"school": list(SCHOOL_NAMES), "sex": ["female", "male"], "year_group": list(YEAR_GROUPS)},
    )
    n = len(pop)
    pop["SCHOOL"] = pop["school"].cat.codes.to_numpy(dtype=np.int64) + 1
    pop["YEAR"] = pop["year_group"].cat.codes.to_numpy(dtype=np.int64) + 7
    pop["SEX"] = np.where(pop["sex"] == "female", 1, 2)
    school = pop["SCHOOL"].to_numpy(dtype=np.int64) - 1

    def school_effect(item: str) -> FloatArray:
        u: FloatArray = rng.normal(0.0, SCHOOL_SD[item], len(SCHOOL_NAMES))
        out: FloatArray = u[school]
        return out

    wellbeing = rng.normal(0.0, 1.0, n)
    eta = effect(pop, "sex", SAFEDARK_SEX) + effect(pop, "year_group", SAFEDARK_YEAR)
    eta += school_effect("SAFEDARK")
    codes = ordinal_item(rng, eta, 0.7 * wellbeing, SAFEDARK_SHARES, (1, 2, 3, 4))
    pop["SAFEDARK"] = overlay(rng, codes, DONT_KNOW, 9)
    eta = effect(pop, "sex", TRUST_SEX) + effect(pop, "year_group", TRUST_YEAR)
    eta += school_effect("TRUSTAD")
    pop["TRUSTAD"] = ordinal_item(rng, eta, 0.5 * wellbeing, TRUST_SHARES, (3, 2, 1))
    eta = effect(pop, "sex", LIFESAT_SEX) + effect(pop, "year_group", LIFESAT_YEAR)
    eta += school_effect("LIFESAT")
    pop["LIFESAT"] = ordinal_item(rng, eta, wellbeing, LIFESAT_SHARES, (1, 2, 3, 4))
    eta = effect(pop, "sex", WEAPON_SEX) + effect(pop, "year_group", WEAPON_YEAR)
    eta += school_effect("WEAPON")
    pop["WEAPON"] = ordinal_item(rng, eta, rng.normal(0.0, 1.0, n), WEAPON_SHARES, (1, 2, 3, 4))
    return pop


def select_schools(rng: np.random.Generator, pop: pd.DataFrame) -> tuple[IntArray, FloatArray]:
    """Systematic PPS: the selected school codes and every school's inclusion probability."""
    sizes = np.bincount(pop["SCHOOL"].to_numpy(dtype=np.int64) - 1, minlength=len(SCHOOL_NAMES))
    prob = SCHOOLS_SAMPLED * sizes / sizes.sum()
    if prob.max() >= 1.0:
        raise ValueError("a school is large enough to be certain of selection; use strata")
    order = rng.permutation(len(SCHOOL_NAMES))
    cumulative = np.cumsum(sizes[order])
    step = sizes.sum() / SCHOOLS_SAMPLED
    points = rng.uniform(0.0, step) + step * np.arange(SCHOOLS_SAMPLED)
    chosen: IntArray = np.sort(order[np.searchsorted(cumulative, points, side="right")]) + 1
    if len(set(chosen.tolist())) != SCHOOLS_SAMPLED:
        raise AssertionError("systematic PPS picked a school twice")
    return chosen, prob.astype(np.float64)


def draw_respondents(rng: np.random.Generator, pop: pd.DataFrame) -> pd.DataFrame:
    chosen, prob = select_schools(rng, pop)
    in_sample = pop[pop["SCHOOL"].isin(chosen.tolist())].reset_index(drop=True)
    log_p = effect(in_sample, "sex", RESPONSE_SEX) + effect(in_sample, "year_group", RESPONSE_YEAR)
    rows = poisson_sample(rng, log_p, EXPECTED_N)
    resp = in_sample.iloc[rows].reset_index(drop=True)
    resp["DESWT"] = 1.0 / prob[resp["SCHOOL"].to_numpy(dtype=np.int64) - 1]
    for q in ITEMS:
        resp[q.name] = overlay(rng, resp[q.name].to_numpy(dtype=np.int64), ITEM_NONRESPONSE, 99)
    # exports are sorted by school, year group and form: not in completion order
    order = np.lexsort((rng.random(len(resp)), resp["YEAR"].to_numpy(), resp["SCHOOL"].to_numpy()))
    return resp.iloc[order].reset_index(drop=True)


def export_frame(resp: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"PUPILID": np.arange(1, len(resp) + 1, dtype=np.int32)})
    for col in ("SCHOOL", "YEAR", "SEX"):
        frame[col] = resp[col].to_numpy(dtype=np.int32)
    frame["DESWT"] = resp["DESWT"].to_numpy(dtype=np.float64)
    for q in ITEMS:
        frame[q.name] = resp[q.name].to_numpy(dtype=np.int32)
    return frame


def truth_specs() -> tuple[TruthSpec, ...]:
    return (
        truth_spec("pupil_safety_dark_good", SAFEDARK, "SAFEDARK", ("very_good", "good")),
        truth_spec("trusted_adult_none", TRUSTAD, "TRUSTAD", ("none",)),
        truth_spec("life_sat_high", LIFESAT, "LIFESAT", ("very_satisfied", "fairly_satisfied")),
        truth_spec("weapon_self_friends_sure", WEAPON, "WEAPON", ("certain", "fairly_sure")),
    )


TARGETS_META = TargetsMeta(
    area_code="E06000032",
    area_name="Luton",
    population="pupils_y7_y11",
    reference_date="2024-01-18",
    source="harmonise synthetic generator (invented rolls of 15 illustrative schools)",
    table_id="none (illustrative)",
    year=2024,
    licence="CC0-1.0 (invented figures)",
    notes={
        "sex": "illustrative: Year 7-11 roll of 15 invented schools, girls 46-53% per school; "
        "replace with DfE Schools, pupils and their characteristics by LA, sex and year group",
        "year_group": "illustrative: invented cohorts, later year groups slightly smaller; "
        "replace with DfE Schools, pupils and their characteristics by LA and year group",
    },
)


def build(seed: int) -> SurveyBuild:
    rng = rng_for(seed, STREAM)
    pop = simulate_population(rng)
    resp = draw_respondents(rng, pop)
    return assemble(CROSSWALK_ID, pop, resp, export_frame(resp), truth_specs(),
                    ("sex", "year_group"), TARGETS_META)


STATA_LABEL_MAX = 80  # Stata variable labels hold at most 80 characters


def variable_labels() -> dict[str, str]:
    labels = {
        "PUPILID": "Pupil ID",
        "DESWT": "Base design weight: 1 / school selection probability (PPS)",
    }
    for q in QUESTIONS:
        labels[q.name] = q.text[:STATA_LABEL_MAX].rstrip()  # long texts get cut, as in Stata
    return labels


def write(result: SurveyBuild, root: Path) -> list[Path]:
    path = root / EXPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = result.export
    labels = variable_labels()
    pyreadstat.write_dta(
        frame,
        path,
        file_label=SYNTHETIC_NOTICE,
        column_labels=[labels[c] for c in frame.columns],
        variable_value_labels={q.name: q.labels() for q in QUESTIONS},
        variable_format={"DESWT": "%9.4f"},
    )
    return [path, *write_build_tables(result, root, TARGETS_NAME)]


def expected_recodes() -> dict[str, dict[int | str, str]]:
    """What the crosswalk must say for each source variable (codes as keys)."""
    table = {q.name: q.recode_table(by_label=False) for q in QUESTIONS if q is not SCHOOL}
    return table
