"""Bedford Borough adult residents' survey (synthetic): an SPSS .sav export.

Population: adults 18+ in six illustrative areas named after Bedford wards, by sex and age
band. Answers: four 5-point safety items (local area and town centre, day and after dark)
with 98 "Don't know" and 99 "Not answered" declared user-missing, and six reasons for
feeling unsafe (0/1, asked only of people who felt unsafe on at least one item; otherwise
system-missing). Identifying columns a real export has: e-mail, postcode, comment.

The true probabilities are invented (near, but not equal to, the needs assessment's
headline figures) and are not real results.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from harmonise.synthetic.common import (
    SYNTHETIC_NOTICE,
    SYNTHETIC_NOTICE_SHORT,
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

CROSSWALK_ID = "bedford-residents-2024"
STREAM = 1
EXPORT = Path("surveys/bedford/bedford-residents-2024.sav")
TARGETS_NAME = "bedford-adults-2024"
EXPECTED_N = 1200

# (slug, code, label, adults 18+): illustrative areas named after wards, covering all adults.
WARDS = (
    ("castle", 1, "Castle", 24_500),
    ("kingsbrook", 2, "Kingsbrook", 23_800),
    ("brickhill", 3, "Brickhill", 21_600),
    ("putnoe", 4, "Putnoe", 20_900),
    ("kempston_central", 5, "Kempston Central", 26_300),
    ("wootton", 6, "Wootton", 25_200),
)
AGE_BANDS = (
    ("18_34", 1, "18-34"),
    ("35_49", 2, "35-49"),
    ("50_64", 3, "50-64"),
    ("65_plus", 4, "65+"),
)
SEXES = (("female", 1, "Female"), ("male", 2, "Male"))
FEMALE_SHARE = 0.508
AGE_SHARE = {"female": (0.27, 0.25, 0.24, 0.24), "male": (0.29, 0.26, 0.24, 0.21)}
WARD_AGE_TILT = {
    "castle": (1.40, 1.05, 0.80, 0.70),
    "kingsbrook": (1.10, 1.05, 0.95, 0.90),
    "kempston_central": (1.15, 1.05, 0.95, 0.85),
    "putnoe": (0.85, 0.95, 1.05, 1.20),
    "wootton": (0.90, 1.05, 1.05, 1.00),
}
POSTCODE_DISTRICTS = {
    "castle": ("MK40 1", "MK40 2", "MK40 3"),
    "kingsbrook": ("MK42 0", "MK40 4"),
    "brickhill": ("MK41 7", "MK40 4"),
    "putnoe": ("MK41 8", "MK41 9"),
    "kempston_central": ("MK42 7", "MK42 8"),
    "wootton": ("MK42 9", "MK42 6"),
}
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

SEX = Question("SEX", "What is your sex?", answers(*((c, lab, s) for s, c, lab in SEXES)))
AGEBAND = Question(
    "AGEBAND", "What is your age?", answers(*((c, lab, s) for s, c, lab in AGE_BANDS))
)
WARD = Question(
    "WARD",
    "Which ward do you live in? (illustrative ward names)",
    answers(*((c, lab, s) for s, c, lab, _ in WARDS)),
)
SAFETY5 = answers(
    (1, "Very safe", "very_safe"),
    (2, "Safe", "fairly_safe"),
    (3, "Neither safe nor unsafe", "neither"),
    (4, "Unsafe", "fairly_unsafe"),
    (5, "Very unsafe", "very_unsafe"),
    (98, "Don't know", "dont_know"),
    (99, "Not answered", "no_answer"),
)
_SAFE_TEXT = "How safe or unsafe do you feel in {place} {time}?"
Q1A = Question("Q1A", _SAFE_TEXT.format(place="your local area", time="during the day"), SAFETY5)
Q1B = Question("Q1B", _SAFE_TEXT.format(place="your local area", time="after dark"), SAFETY5)
Q2A = Question(
    "Q2A", _SAFE_TEXT.format(place="Bedford town centre", time="during the day"), SAFETY5
)
Q2B = Question("Q2B", _SAFE_TEXT.format(place="Bedford town centre", time="after dark"), SAFETY5)
SAFETY_ITEMS = (Q1A, Q1B, Q2A, Q2B)

REASON_TICK = answers(
    (0, "Not selected", "not_selected"), (1, "Selected", "selected"), (-1, "", "not_asked")
)
# (variable, schema option code, option text)
REASONS = (
    ("Q3_1", "drugs", "Drug use or dealing"),
    ("Q3_2", "groups", "Groups of people hanging around"),
    ("Q3_3", "lack_of_police", "Lack of police presence"),
    ("Q3_4", "street_drinking", "Street drinking"),
    ("Q3_5", "harassment", "Harassment of women and girls"),
    ("Q3_6", "poor_lighting", "Poor street lighting"),
)
REASON_QUESTIONS = tuple(
    Question(var, f"What makes you feel unsafe? (tick all that apply): {text}", REASON_TICK)
    for var, _, text in REASONS
)
QUESTIONS = (WARD, AGEBAND, SEX, *SAFETY_ITEMS, *REASON_QUESTIONS)

# ----------------------------------------------------------------- the known truth model
# Latent "feeling safe" score: higher is safer. Population shares of the five categories
# (very safe .. very unsafe) are fixed; sex, age and area shift people between them.
SHARES = {
    "Q1A": (0.34, 0.43, 0.12, 0.08, 0.03),
    "Q1B": (0.10, 0.23, 0.22, 0.28, 0.17),
    "Q2A": (0.22, 0.40, 0.18, 0.14, 0.06),
    "Q2B": (0.04, 0.12, 0.20, 0.32, 0.32),
}
DARK_SEX = {"female": -1.1}
DARK_AGE = {"35_49": -0.4, "50_64": -0.9, "65_plus": -1.5}
WARD_EFFECT = {"castle": -0.3, "kempston_central": -0.3, "putnoe": 0.3, "wootton": 0.4}
DONT_KNOW = {"Q1A": 0.015, "Q1B": 0.025, "Q2A": 0.03, "Q2B": 0.05}
NOT_ANSWERED = 0.015
# Reasons for feeling unsafe: base log-odds and effects, among people who felt unsafe.
REASON_MODEL: dict[str, tuple[float, dict[str, float], dict[str, float]]] = {
    "drugs": (logit(0.45), {}, {"50_64": 0.2, "65_plus": 0.3}),
    "groups": (logit(0.35), {}, {"50_64": 0.3, "65_plus": 0.6}),
    "lack_of_police": (logit(0.45), {}, {"35_49": 0.2, "50_64": 0.4, "65_plus": 0.7}),
    "street_drinking": (logit(0.28), {"male": 0.2}, {"65_plus": 0.2}),
    "harassment": (logit(0.12), {"female": 1.6}, {"18_34": 0.6, "65_plus": -0.6}),
    "poor_lighting": (logit(0.30), {"female": 0.6}, {"65_plus": 0.4}),
}
# Response propensity: multiplicative in sex and age only (no interaction, no area effect).
RESPONSE_SEX = {"male": -0.75}
RESPONSE_AGE = {"18_34": -1.2, "35_49": -0.6, "50_64": -0.15}


def population_cells() -> pd.DataFrame:
    """Cell counts (area x sex x age band) of the illustrative adult population."""
    rows: list[dict[str, object]] = []
    for slug, _, _, total in WARDS:
        tilt = np.asarray(WARD_AGE_TILT.get(slug, (1.0, 1.0, 1.0, 1.0)))
        for sex, _, _ in SEXES:
            sex_share = FEMALE_SHARE if sex == "female" else 1.0 - FEMALE_SHARE
            age = np.asarray(AGE_SHARE[sex]) * tilt
            age /= age.sum()
            for (band, _, _), share in zip(AGE_BANDS, age, strict=True):
                count = round(total * sex_share * share)
                rows.append({"area": slug, "sex": sex, "age_band": band, "count": count})
    return pd.DataFrame(rows)


def simulate_population(rng: np.random.Generator) -> pd.DataFrame:
    """One row per adult with demographics (harmonised codes) and answer codes."""
    pop = expand_cells(
        population_cells(),
        {
            "area": [w[0] for w in WARDS],
            "sex": [s[0] for s in SEXES],
            "age_band": [a[0] for a in AGE_BANDS],
        },
    )
    n = len(pop)
    person = rng.normal(0.0, 1.2, n)
    ward = effect(pop, "area", WARD_EFFECT)
    dark = effect(pop, "sex", DARK_SEX) + effect(pop, "age_band", DARK_AGE)
    etas = {"Q1A": 0.45 * dark + 0.6 * ward, "Q1B": dark + ward, "Q2A": 0.5 * dark, "Q2B": dark}
    older = (pop["age_band"] == "65_plus").to_numpy()
    for q in SAFETY_ITEMS:
        codes = ordinal_item(rng, etas[q.name], person, SHARES[q.name], (1, 2, 3, 4, 5))
        dk = np.where(older, 1.6, 0.8) * DONT_KNOW[q.name]
        pop[q.name] = overlay(rng, codes, dk, 98)
    routed = np.isin(pop[[q.name for q in SAFETY_ITEMS]].to_numpy(), (4, 5)).any(axis=1)
    for var, option, _ in REASONS:
        base, sex_eff, age_eff = REASON_MODEL[option]
        linear = base + effect(pop, "sex", sex_eff) + effect(pop, "age_band", age_eff)
        ticked = bernoulli(rng, linear).astype(np.int64)
        pop[var] = np.where(routed, ticked, -1)
    return pop


def draw_respondents(rng: np.random.Generator, pop: pd.DataFrame) -> pd.DataFrame:
    """The biased sample, with item non-response and routing as observed."""
    log_p = effect(pop, "sex", RESPONSE_SEX) + effect(pop, "age_band", RESPONSE_AGE)
    rows = poisson_sample(rng, log_p, EXPECTED_N)
    resp = pop.iloc[rows].reset_index(drop=True)
    for q in SAFETY_ITEMS:
        resp[q.name] = overlay(rng, resp[q.name].to_numpy(dtype=np.int64), NOT_ANSWERED, 99)
    routed = np.isin(resp[[q.name for q in SAFETY_ITEMS]].to_numpy(), (4, 5)).any(axis=1)
    for var, _, _ in REASONS:
        resp[var] = np.where(routed, resp[var].to_numpy(dtype=np.int64), -1)
    return resp


def _postcodes(rng: np.random.Generator, areas: Sequence[int]) -> list[str]:
    out: list[str] = []
    for i in areas:
        districts = POSTCODE_DISTRICTS[WARDS[int(i)][0]]
        sector = districts[int(rng.integers(len(districts)))]
        letters = "".join(INWARD_LETTERS[int(k)] for k in rng.integers(len(INWARD_LETTERS), size=2))
        out.append(f"{sector}{letters}")
    return out


COMMENT_TEMPLATES = (
    "Too many people dealing drugs near {street}.",
    "The lighting on {street} is terrible after dark.",
    "I never see police on {street} any more.",
    "Feel fine in the day but not at night near the station.",
    "Groups of teenagers hang around {street} in the evenings.",
    "The town centre has improved a lot this year.",
    "Please do something about the e-scooters on {street}.",
    "Street drinking by the river is getting worse.",
    "My daughter gets shouted at walking home along {street}.",
)
# Made-up street names: none is meant to be a real Bedford street.
STREETS = ("Wrenfold Street", "Harrowmere Road", "Bellcote Lane", "Quillan Avenue", "Ottery Close")


def export_frame(rng: np.random.Generator, resp: pd.DataFrame) -> pd.DataFrame:
    """The .sav columns: codes for the answers, text for the identifying columns."""
    n = len(resp)
    frame = pd.DataFrame({"RESPID": np.arange(100_001, 100_001 + n, dtype=np.int64)})
    for q, var in ((WARD, "area"), (AGEBAND, "age_band"), (SEX, "sex")):
        lookup = {a.harmonised: a.code for a in q.answers}
        frame[q.name] = np.array([lookup[str(v)] for v in resp[var]], dtype=np.int64)
    for q in SAFETY_ITEMS:
        frame[q.name] = resp[q.name].to_numpy(dtype=np.int64)
    for var, _, _ in REASONS:
        codes = resp[var].to_numpy(dtype=np.int64)
        frame[var] = np.where(codes < 0, np.nan, codes.astype(np.float64))
    frame["COMMENT"] = fake_text(rng, n, 0.25, COMMENT_TEMPLATES, {"street": STREETS})
    frame["EMAIL"] = fake_emails(rng, n, 0.4)
    frame["POSTCODE"] = _postcodes(rng, resp["area"].cat.codes.tolist())
    return frame


def truth_specs() -> tuple[TruthSpec, ...]:
    safe = ("very_safe", "fairly_safe")
    specs = [
        truth_spec("safe_area_day_safe", Q1A, "Q1A", safe),
        truth_spec("safe_area_dark_safe", Q1B, "Q1B", safe),
        truth_spec("safe_towncentre_day_safe", Q2A, "Q2A", safe),
        truth_spec("safe_towncentre_dark_safe", Q2B, "Q2B", safe),
    ]
    for q, (var, option, _) in zip(REASON_QUESTIONS, REASONS, strict=True):
        specs.append(truth_spec("unsafe_reasons_selected", q, var, ("selected",), option))
    return tuple(specs)


TARGETS_META = TargetsMeta(
    area_code="E06000055",
    area_name="Bedford",
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
        "proportions; replace with TS007A 18+ counts in these bands",
        "area": "illustrative: six areas named after Bedford wards that together stand for the "
        "whole borough; not real ward populations; replace with ward-level 18+ counts",
    },
)


def build(seed: int) -> SurveyBuild:
    rng = rng_for(seed, STREAM)
    pop = simulate_population(rng)
    resp = draw_respondents(rng, pop)
    return assemble(CROSSWALK_ID, pop, resp, export_frame(rng, resp), truth_specs(),
                    ("sex", "age_band", "area"), TARGETS_META)


VARIABLE_LABELS = {
    "RESPID": "Respondent ID",
    "COMMENT": "Is there anything else you would like to tell us about community safety?",
    "EMAIL": "Email address (optional, for the prize draw)",
    "POSTCODE": "What is your full postcode?",
} | {q.name: q.text for q in QUESTIONS}


def write(result: SurveyBuild, root: Path) -> list[Path]:
    path = root / EXPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = result.export
    pyreadstat.write_sav(
        frame,
        path,
        file_label=SYNTHETIC_NOTICE_SHORT,
        column_labels={c: VARIABLE_LABELS[c] for c in frame.columns},
        note=[
            SYNTHETIC_NOTICE,
            "Ward names are illustrative; e-mails, postcodes and comments are fake.",
        ],
        variable_value_labels={
            q.name: {k: v for k, v in q.labels().items() if k >= 0} for q in QUESTIONS
        },
        missing_ranges={q.name: [98, 99] for q in SAFETY_ITEMS},
        variable_measure={c: "ordinal" for c in ("AGEBAND", "Q1A", "Q1B", "Q2A", "Q2B")},
    )
    return [path, *write_build_tables(result, root, TARGETS_NAME)]


def expected_recodes() -> dict[str, dict[int | str, str]]:
    """What the crosswalk must say for each source variable (codes as keys)."""
    return {q.name: q.recode_table(by_label=False) for q in QUESTIONS}
