"""Luton adult residents' survey (synthetic): a Windows-1252 CSV export with text labels.

Population: adults 18+ in six illustrative areas named after Luton wards, by sex and age
band. Telephone interviews (CATI): the after-dark item uses the Crime Survey wording and
scale, with the interviewer codes "Don’t know" and "Never walk alone after dark"; a concern
item about serious violence; free-text comments and an optional e-mail address.

The file is cp1252-encoded (no BOM): "Don’t know" holds byte 0x92, and comments hold
"café" (0xE9) and "£" (0xA3), so a strict UTF-8 reader fails on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harmonise.synthetic.common import (
    Question,
    SurveyBuild,
    TargetsMeta,
    TruthSpec,
    answers,
    assemble,
    bernoulli,
    effect,
    expand_cells,
    fake_emails,
    fake_text,
    logit,
    ordinal_item,
    overlay,
    poisson_sample,
    rng_for,
    truth_spec,
    write_build_tables,
)

CROSSWALK_ID = "luton-residents-2024"
STREAM = 4
EXPORT = Path("surveys/luton/residents-2024.csv")
TARGETS_NAME = "luton-adults-2024"
EXPECTED_N = 800
ENCODING = "cp1252"
BLANK_CODE = -9

# (slug, label, adults 18+): illustrative areas named after wards, covering all adults.
WARDS = (
    ("biscot", "Biscot", 29_800),
    ("high_town", "High Town", 24_600),
    ("round_green", "Round Green", 27_400),
    ("stopsley", "Stopsley", 26_800),
    ("wigmore", "Wigmore", 28_300),
    ("farley", "Farley", 27_900),
)
AGE_BANDS = (("18_34", "18-34"), ("35_49", "35-49"), ("50_64", "50-64"), ("65_plus", "65+"))
FEMALE_SHARE = 0.497
AGE_SHARE = {"female": (0.32, 0.28, 0.22, 0.18), "male": (0.34, 0.29, 0.22, 0.15)}
WARD_AGE_TILT = {
    "high_town": (1.40, 1.10, 0.80, 0.60),
    "biscot": (1.15, 1.10, 0.90, 0.80),
    "stopsley": (0.85, 0.95, 1.05, 1.25),
    "wigmore": (0.90, 1.00, 1.05, 1.10),
}

AGE = Question(
    "Age group",
    "Age group",
    answers(*((i + 1, label, slug) for i, (slug, label) in enumerate(AGE_BANDS))),
)
SEX = Question("Sex", "Sex", answers((1, "Female", "female"), (2, "Male", "male")))
WARD = Question(
    "Ward", "Ward", answers(*((i + 1, label, slug) for i, (slug, label, _) in enumerate(WARDS)))
)
SAFE_TEXT = "How safe do you feel walking alone in this area after dark?"
SAFE = Question(
    SAFE_TEXT,
    SAFE_TEXT,
    answers(
        (1, "Very safe", "very_safe"),
        (2, "Fairly safe", "fairly_safe"),
        (3, "A bit unsafe", "a_bit_unsafe"),
        (4, "Very unsafe", "very_unsafe"),
        (8, "Don’t know", "dont_know"),
        (7, "Never walk alone after dark", "not_applicable"),
        (BLANK_CODE, "", "no_answer"),
    ),
)
CONCERN_TEXT = "How concerned are you about serious violence in your local area?"
CONCERN = Question(
    CONCERN_TEXT,
    CONCERN_TEXT,
    answers(
        (1, "Very concerned", "very_concerned"),
        (2, "Fairly concerned", "fairly_concerned"),
        (3, "Not very concerned", "not_very_concerned"),
        (4, "Not at all concerned", "not_at_all_concerned"),
        (BLANK_CODE, "", "no_answer"),
    ),
)
COMMENTS = "Any other comments?"
EMAIL = "Email address (optional)"
QUESTIONS = (AGE, SEX, WARD, SAFE, CONCERN)

# ----------------------------------------------------------------- the known truth model
SAFE_SHARES = (0.20, 0.38, 0.27, 0.15)
SAFE_SEX = {"female": -1.2}
SAFE_AGE = {"35_49": -0.4, "50_64": -0.9, "65_plus": -1.5}
SAFE_WARD = {"biscot": -0.2, "high_town": -0.4, "stopsley": 0.4, "wigmore": 0.3}
NEVER_BASE = logit(0.015)
NEVER_SEX = {"female": 0.5}
NEVER_AGE = {"50_64": 0.5, "65_plus": 1.5}
CONCERN_SHARES = (0.24, 0.33, 0.28, 0.15)
CONCERN_SEX = {"female": 0.4}
CONCERN_AGE = {"35_49": 0.2, "50_64": 0.4, "65_plus": 0.5}
CONCERN_WARD = {"high_town": 0.4, "biscot": 0.2, "stopsley": -0.3}
RESPONSE_SEX = {"male": -0.8}
RESPONSE_AGE = {"18_34": -1.3, "35_49": -0.7, "50_64": -0.2}


def population_cells() -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for slug, _, total in WARDS:
        tilt = np.asarray(WARD_AGE_TILT.get(slug, (1.0, 1.0, 1.0, 1.0)))
        for sex in ("female", "male"):
            sex_share = FEMALE_SHARE if sex == "female" else 1.0 - FEMALE_SHARE
            age = np.asarray(AGE_SHARE[sex]) * tilt
            age /= age.sum()
            for (band, _), share in zip(AGE_BANDS, age, strict=True):
                count = round(total * sex_share * share)
                rows.append({"area": slug, "sex": sex, "age_band": band, "count": count})
    return pd.DataFrame(rows)


def simulate_population(rng: np.random.Generator) -> pd.DataFrame:
    pop = expand_cells(
        population_cells(),
        {
            "area": [w[0] for w in WARDS],
            "sex": ["female", "male"],
            "age_band": [a[0] for a in AGE_BANDS],
        },
    )
    n = len(pop)
    pop["AGE"] = pop["age_band"].cat.codes.to_numpy(dtype=np.int64) + 1
    pop["SEX"] = np.where(pop["sex"] == "female", 1, 2)
    pop["WARD"] = pop["area"].cat.codes.to_numpy(dtype=np.int64) + 1
    eta = effect(pop, "sex", SAFE_SEX) + effect(pop, "age_band", SAFE_AGE)
    eta += effect(pop, "area", SAFE_WARD)
    codes = ordinal_item(rng, eta, rng.normal(0.0, 1.0, n), SAFE_SHARES, (1, 2, 3, 4))
    never = NEVER_BASE + effect(pop, "sex", NEVER_SEX) + effect(pop, "age_band", NEVER_AGE)
    never += np.where(codes >= 3, 1.0, 0.0)  # those who would feel unsafe stay in more
    codes = np.where(bernoulli(rng, never), 7, codes).astype(np.int64)
    pop["safe_area_dark"] = overlay(rng, codes, 0.02, 8)
    eta = effect(pop, "sex", CONCERN_SEX) + effect(pop, "age_band", CONCERN_AGE)
    eta += effect(pop, "area", CONCERN_WARD)
    pop["sv_concern"] = ordinal_item(
        rng, eta, rng.normal(0.0, 1.0, n), CONCERN_SHARES, (1, 2, 3, 4)
    )
    return pop


def draw_respondents(rng: np.random.Generator, pop: pd.DataFrame) -> pd.DataFrame:
    log_p = effect(pop, "sex", RESPONSE_SEX) + effect(pop, "age_band", RESPONSE_AGE)
    rows = poisson_sample(rng, log_p, EXPECTED_N)
    resp = pop.iloc[rows].reset_index(drop=True)
    resp["safe_area_dark"] = overlay(
        rng, resp["safe_area_dark"].to_numpy(dtype=np.int64), 0.01, BLANK_CODE
    )
    resp["sv_concern"] = overlay(rng, resp["sv_concern"].to_numpy(dtype=np.int64), 0.02, BLANK_CODE)
    return resp


COMMENT_TEMPLATES = (
    "The café on {street} has had its windows smashed twice this year.",
    "Spent £200 on a doorbell camera because of the break-ins on {street}.",
    "Knife crime near the bus station worries me.",
    "More police please, especially around {street}.",
    "Feel safe where I live but not in the town centre at night.",
    "Youth services were cut – bring them back.",
    "Cars racing up {street} every night.",
    "Good to be asked. Thank you.",
)
# Made-up street names: none is meant to be a real Luton street.
STREETS = ("Calloway Road", "Pennant Street", "Dunmere Lane", "Ashcombe Rise")


def export_frame(rng: np.random.Generator, resp: pd.DataFrame) -> pd.DataFrame:
    n = len(resp)
    frame = pd.DataFrame({"ID": np.arange(1, n + 1, dtype=np.int64)})
    for q, col in ((AGE, "AGE"), (SEX, "SEX"), (WARD, "WARD")):
        frame[q.name] = q.label_array(resp[col].to_numpy(dtype=np.int64))
    frame[SAFE.name] = SAFE.label_array(resp["safe_area_dark"].to_numpy(dtype=np.int64))
    frame[CONCERN.name] = CONCERN.label_array(resp["sv_concern"].to_numpy(dtype=np.int64))
    frame[COMMENTS] = fake_text(rng, n, 0.22, COMMENT_TEMPLATES, {"street": STREETS})
    frame[EMAIL] = fake_emails(rng, n, 0.3)
    return frame


def truth_specs() -> tuple[TruthSpec, ...]:
    return (
        truth_spec("safe_area_dark_safe", SAFE, "safe_area_dark", ("very_safe", "fairly_safe")),
        truth_spec(
            "sv_concern_concerned", CONCERN, "sv_concern", ("very_concerned", "fairly_concerned")
        ),
    )


TARGETS_META = TargetsMeta(
    area_code="E06000032",
    area_name="Luton",
    population="adults_18plus",
    reference_date="2021-03-21",
    source="harmonise synthetic generator (invented counts shaped on ONS Census 2021 TS009)",
    table_id="none (illustrative)",
    year=2021,
    licence="CC0-1.0 (invented figures)",
    notes={
        "sex": "illustrative: adult total invented and split by the Census 2021 TS009 female "
        "share; replace with TS007A/TS009 18+ counts by sex",
        "age_band": "illustrative: adult total and age split invented from Census 2021 TS009 "
        "proportions (younger than Bedford); replace with TS007A 18+ counts in these bands",
        "area": "illustrative: six areas named after Luton wards that together stand for the "
        "whole borough; not real ward populations; replace with ward-level 18+ counts",
    },
)


def build(seed: int) -> SurveyBuild:
    rng = rng_for(seed, STREAM)
    pop = simulate_population(rng)
    resp = draw_respondents(rng, pop)
    return assemble(CROSSWALK_ID, pop, resp, export_frame(rng, resp), truth_specs(),
                    ("sex", "age_band", "area"), TARGETS_META)


def write(result: SurveyBuild, root: Path) -> list[Path]:
    path = root / EXPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    result.export.to_csv(path, index=False, encoding=ENCODING, lineterminator="\r\n")
    return [path, *write_build_tables(result, root, TARGETS_NAME)]


def expected_recodes() -> dict[str, dict[int | str, str]]:
    """What the crosswalk must say for each source column (labels as keys)."""
    return {q.name: q.recode_table(by_label=True) for q in QUESTIONS}
