"""Central Bedfordshire young people's survey (synthetic): a SurveyMonkey-style .xlsx export.

Population: young people aged 11-18 in six illustrative areas named after towns, by sex and
single year of age. Answers are text labels: safety after dark (4-point + don't know), four
"how much of a problem" items (3-point + don't know), five online-harm yes/no items with
"Prefer not to say", and one multi-select question (one column per option, holding the
option text when ticked, blank otherwise) with a free-text "Other (please specify)".

Layout: row 1 question text (blank over the later columns of a multi-select question),
row 2 "Response" / "Open-Ended Response" / the option text, data from row 3. A reader names
columns by forward-filling row 1 and appending " | <row 2>" when row 2 is an option text.
The questionnaire was edited during fieldwork, so later rows spell "Don’t know" with a
curly apostrophe.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from harmonise.synthetic.common import (
    SYNTHETIC_NOTICE,
    Question,
    SurveyBuild,
    TargetsMeta,
    TruthSpec,
    answers,
    assemble,
    bernoulli,
    effect,
    expand_cells,
    fake_text,
    logit,
    ordinal_item,
    overlay,
    poisson_sample,
    rng_for,
    truth_spec,
    write_build_tables,
)

CROSSWALK_ID = "central-beds-young-people-2024"
STREAM = 2
EXPORT = Path("surveys/central-beds/young-people-2024.xlsx")
TARGETS_NAME = "central-beds-young-people-2024"
EXPECTED_N = 900
BLANK_CODE = -9

# (slug, label, young people aged 11-18): illustrative areas named after towns.
TOWNS = (
    ("dunstable", "Dunstable", 5_600),
    ("leighton_buzzard", "Leighton Buzzard", 6_200),
    ("houghton_regis", "Houghton Regis", 3_300),
    ("biggleswade", "Biggleswade", 4_700),
    ("flitwick", "Flitwick", 4_600),
    ("sandy", "Sandy", 3_900),
)
AGES = tuple(range(11, 19))
AGE_SHARE = (0.129, 0.128, 0.127, 0.126, 0.124, 0.123, 0.122, 0.121)
FEMALE_SHARE = 0.49
BANDS = ("11_13", "14_15", "16_18")


def band_of(age: int) -> str:
    return "11_13" if age <= 13 else "14_15" if age <= 15 else "16_18"


SCHOOL_Q = "What school or college do you go to?"
SAFER_Q = "What would make you feel safer in your area?"
AGE = Question(
    "How old are you?", "How old are you?", answers(*((a, str(a), band_of(a)) for a in AGES))
)
SEX = Question(
    "What is your sex?", "What is your sex?", answers((1, "Female", "female"), (2, "Male", "male"))
)
AREA = Question(
    "Which area do you live in?",
    "Which area do you live in?",
    answers(*((i + 1, label, slug) for i, (slug, label, _) in enumerate(TOWNS))),
)
SAFE = Question(
    "How safe do you feel when you are out in your area after dark?",
    "How safe do you feel when you are out in your area after dark?",
    answers(
        (1, "Very safe", "very_safe"),
        (2, "Fairly safe", "fairly_safe"),
        (3, "A bit unsafe", "a_bit_unsafe"),
        (4, "Very unsafe", "very_unsafe"),
        (8, "Don't know", "dont_know"),
        (BLANK_CODE, "", "no_answer"),
    ),
)
PROBLEM3 = answers(
    (1, "Big problem", "big_problem"),
    (2, "Small problem", "small_problem"),
    (3, "Not a problem", "not_a_problem"),
    (8, "Don't know", "dont_know"),
    (BLANK_CODE, "", "no_answer"),
)
# (concept, question text, population shares big/small/not, don't-know rate)
PROBLEMS = (
    (
        "prob_drugs",
        "How much of a problem is drug use or dealing in your area?",
        (0.30, 0.40, 0.30),
        0.12,
    ),
    (
        "prob_violent",
        "How much of a problem is violent crime in your area?",
        (0.20, 0.40, 0.40),
        0.12,
    ),
    (
        "prob_sexual",
        "How much of a problem are sexual offences in your area?",
        (0.12, 0.33, 0.55),
        0.15,
    ),
    (
        "prob_domestic",
        "How much of a problem is domestic abuse in your area?",
        (0.10, 0.30, 0.60),
        0.20,
    ),
)
PROBLEM_QUESTIONS = {c: Question(text, text, PROBLEM3) for c, text, _, _ in PROBLEMS}
YN = answers(
    (1, "Yes", "yes"),
    (2, "No", "no"),
    (7, "Prefer not to say", "refused"),
    (BLANK_CODE, "", "no_answer"),
)
# (concept, question text, base probability, sex effects, age-band effects)
ONLINE: tuple[tuple[str, str, float, dict[str, float], dict[str, float]], ...] = (
    (
        "online_trolled",
        "Have you been trolled online?",
        0.17,
        {"male": 0.3},
        {"14_15": 0.3, "16_18": 0.4},
    ),
    ("online_bullied", "Have you been bullied online?", 0.13, {"female": 0.4}, {"11_13": 0.2}),
    (
        "online_unwanted_images",
        "Has anyone sent you photos or videos you did not want to see?",
        0.18,
        {"female": 0.5},
        {"14_15": 0.4, "16_18": 0.6},
    ),
    (
        "online_asked_nudes",
        "Has anyone asked you to send nude or semi-nude images?",
        0.07,
        {"female": 0.9},
        {"11_13": -0.8, "16_18": 0.9},
    ),
    (
        "online_adult_contact",
        "Has an adult contacted you online in a way that made you uncomfortable?",
        0.07,
        {"female": 0.6},
        {"14_15": 0.2, "16_18": 0.1},
    ),
)
ONLINE_QUESTIONS = {c: Question(text, text, YN) for c, text, _, _, _ in ONLINE}
# (option code, option text, base probability, sex effects, age-band effects)
SAFER: tuple[tuple[str, str, float, dict[str, float], dict[str, float]], ...] = (
    ("more_police", "More police on the streets", 0.38, {"female": 0.2}, {"11_13": 0.3}),
    ("better_lighting", "Better street lighting", 0.28, {"female": 0.5}, {"16_18": 0.3}),
    ("cctv", "More CCTV", 0.28, {}, {"11_13": 0.2}),
    ("youth_activities", "More activities for young people", 0.42, {}, {"16_18": -0.4}),
    ("safe_spaces", "Safe places to go", 0.33, {"female": 0.4}, {}),
)
SAFER_QUESTIONS = {
    code: Question(
        f"{SAFER_Q} | {text}",
        f"{SAFER_Q} {text}",
        answers((1, text, "selected"), (0, "", "not_selected")),
    )
    for code, text, _, _, _ in SAFER
}
OTHER_COLUMN = f"{SAFER_Q} | Other (please specify)"
QUESTIONS = (
    AGE,
    SEX,
    AREA,
    SAFE,
    *PROBLEM_QUESTIONS.values(),
    *ONLINE_QUESTIONS.values(),
    *SAFER_QUESTIONS.values(),
)

# ----------------------------------------------------------------- the known truth model
SAFE_SHARES = (0.18, 0.36, 0.30, 0.16)
SAFE_SEX = {"female": -1.2}
SAFE_AGE = {"11_13": -0.9, "14_15": -0.4}
SAFE_AREA = {"houghton_regis": -0.3, "dunstable": -0.2, "sandy": 0.2, "flitwick": 0.2}
PROBLEM_SEX = {"female": 0.2}
PROBLEM_AGE = {"14_15": 0.3, "16_18": 0.6}
PROBLEM_AREA = {"dunstable": 0.4, "houghton_regis": 0.4, "flitwick": -0.2}
NO_ANSWER = 0.02
PREFER_NOT = 0.03
RESPONSE_SEX = {"male": -0.7}
RESPONSE_AGE = {"14_15": -0.5, "16_18": -1.2}


def population_cells() -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for slug, _, total in TOWNS:
        for sex in ("female", "male"):
            sex_share = FEMALE_SHARE if sex == "female" else 1.0 - FEMALE_SHARE
            for age, share in zip(AGES, AGE_SHARE, strict=True):
                count = round(total * sex_share * share / sum(AGE_SHARE))
                rows.append(
                    {"area": slug, "sex": sex, "age": age, "age_band": band_of(age), "count": count}
                )
    return pd.DataFrame(rows)


def simulate_population(rng: np.random.Generator) -> pd.DataFrame:
    pop = expand_cells(
        population_cells(),
        {"area": [t[0] for t in TOWNS], "sex": ["female", "male"], "age_band": list(BANDS)},
    )
    n = len(pop)
    pop["AGE"] = pop["age"].to_numpy(dtype=np.int64)
    pop["SEX"] = np.where(pop["sex"] == "female", 1, 2)
    pop["AREA"] = pop["area"].cat.codes.to_numpy(dtype=np.int64) + 1
    person = rng.normal(0.0, 1.0, n)
    eta = effect(pop, "sex", SAFE_SEX) + effect(pop, "age_band", SAFE_AGE)
    eta += effect(pop, "area", SAFE_AREA)
    codes = ordinal_item(rng, eta, person, SAFE_SHARES, (1, 2, 3, 4))
    pop["safe_area_dark"] = overlay(rng, codes, 0.06, 8)
    concern = rng.normal(0.0, 1.0, n)
    eta = effect(pop, "sex", PROBLEM_SEX) + effect(pop, "age_band", PROBLEM_AGE)
    eta += effect(pop, "area", PROBLEM_AREA)
    for concept, _, shares, dk in PROBLEMS:
        codes = ordinal_item(rng, eta, concern, shares, (1, 2, 3))
        pop[concept] = overlay(rng, codes, dk, 8)
    for concept, _, base, sex_eff, age_eff in ONLINE:
        linear = logit(base) + effect(pop, "sex", sex_eff) + effect(pop, "age_band", age_eff)
        codes = np.where(bernoulli(rng, linear), 1, 2).astype(np.int64)
        pop[concept] = overlay(rng, codes, PREFER_NOT, 7)
    for code, _, base, sex_eff, age_eff in SAFER:
        linear = logit(base) + effect(pop, "sex", sex_eff) + effect(pop, "age_band", age_eff)
        pop[f"safer_measures__{code}"] = bernoulli(rng, linear).astype(np.int64)
    return pop


def draw_respondents(rng: np.random.Generator, pop: pd.DataFrame) -> pd.DataFrame:
    log_p = effect(pop, "sex", RESPONSE_SEX) + effect(pop, "age_band", RESPONSE_AGE)
    rows = poisson_sample(rng, log_p, EXPECTED_N)
    resp = pop.iloc[rows].reset_index(drop=True)
    for col in ("safe_area_dark", *PROBLEM_QUESTIONS, *ONLINE_QUESTIONS):
        resp[col] = overlay(rng, resp[col].to_numpy(dtype=np.int64), NO_ANSWER, BLANK_CODE)
    return resp


# Invented school names (no real school is meant), typed the way young people type them.
SCHOOLS = (
    ("Larkspur Academy", "larkspur", "Larkspur Acad.", "LARKSPUR ACADEMY"),
    ("Kestrelmoor Upper School", "kestrelmoor upper", "Kestrelmoor"),
    ("Brambleford Academy", "brambleford", "Brambleford Academy "),
    ("Thornwick Upper School", "Thornwick", "thornwick upper school"),
    ("Hollowmere College", "hollowmere college", "Hollowmere 6th form"),
    ("Fernleigh Middle School", "fernleigh", "Fernleigh middle"),
)
OTHER_TEMPLATES = (
    "More youth clubs near {place}",
    "Stop people selling vapes to kids",
    "more buses at night",
    "Get rid of the people who hang around {place}",
    "Make the park by my house safer",
    "nothing",
    "idk",
    "Teachers who actually listen",
)
PLACES = ("the skate park", "the shops", "the station", "the rec", "Wrenfold Street")
FIELDWORK = (dt.datetime(2024, 6, 3, 8, 0), dt.datetime(2024, 7, 19, 22, 0))
CURLY_FROM = dt.datetime(2024, 6, 24)  # questionnaire edited: "Don’t know" from here on


def _start_dates(rng: np.random.Generator, n: int) -> list[dt.datetime]:
    span = (FIELDWORK[1] - FIELDWORK[0]).total_seconds()
    secs = np.sort(rng.random(n) * span)
    out = []
    for s in secs:
        t = FIELDWORK[0] + dt.timedelta(seconds=float(s))
        if t.hour < 8:  # nobody answers between midnight and 8am: move to the evening
            t += dt.timedelta(hours=14)
        out.append(t.replace(second=0, microsecond=0))
    return out


def export_frame(rng: np.random.Generator, resp: pd.DataFrame) -> pd.DataFrame:
    """Columns named as the reader will name them; text labels; None for empty cells."""
    n = len(resp)
    starts = _start_dates(rng, n)
    ids = 114_520_000_000 + np.cumsum(rng.integers(1_000, 90_000, n))
    frame = pd.DataFrame({"Respondent ID": ids.astype(np.int64)})
    frame["Start Date"] = [t.strftime("%d/%m/%Y %H:%M") for t in starts]
    schools = []
    for _ in range(n):
        variants = SCHOOLS[int(rng.integers(len(SCHOOLS)))]
        schools.append(variants[int(rng.integers(len(variants)))])
    frame[SCHOOL_Q] = overlay_text(rng, schools, 0.03)
    curly = np.array([t >= CURLY_FROM for t in starts])
    for q, col in ((AGE, "AGE"), (SEX, "SEX"), (AREA, "AREA"), (SAFE, "safe_area_dark")):
        frame[q.name] = _labels(q, resp[col].to_numpy(dtype=np.int64), curly)
    for concept, q in (PROBLEM_QUESTIONS | ONLINE_QUESTIONS).items():
        frame[q.name] = _labels(q, resp[concept].to_numpy(dtype=np.int64), curly)
    for code, q in SAFER_QUESTIONS.items():
        frame[q.name] = q.label_array(resp[f"safer_measures__{code}"].to_numpy(dtype=np.int64))
    frame[OTHER_COLUMN] = [
        t or None for t in fake_text(rng, n, 0.06, OTHER_TEMPLATES, {"place": PLACES})
    ]
    return frame


def overlay_text(rng: np.random.Generator, values: list[str], blank: float) -> list[str | None]:
    return [None if r < blank else v for v, r in zip(values, rng.random(len(values)), strict=True)]


def _labels(q: Question, codes: np.ndarray, curly: np.ndarray) -> list[str | None]:
    labels = q.label_array(codes)
    return [
        lab.replace("'", "’") if lab is not None and c else lab
        for lab, c in zip(labels, curly, strict=True)
    ]


def header_rows() -> tuple[list[str | None], list[str | None]]:
    """SurveyMonkey's two header rows for the export columns."""
    row1: list[str | None] = ["Respondent ID", "Start Date", SCHOOL_Q]
    row2: list[str | None] = [None, None, "Open-Ended Response"]
    for q in (AGE, SEX, AREA, SAFE, *PROBLEM_QUESTIONS.values(), *ONLINE_QUESTIONS.values()):
        row1.append(q.name)
        row2.append("Response")
    for i, (_, text, _, _, _) in enumerate(SAFER):
        row1.append(SAFER_Q if i == 0 else None)
        row2.append(text)
    row1.append(None)
    row2.append("Other (please specify)")
    return row1, row2


def truth_specs() -> tuple[TruthSpec, ...]:
    specs = [
        truth_spec("safe_area_dark_safe", SAFE, "safe_area_dark", ("very_safe", "fairly_safe"))
    ]
    for concept, q in PROBLEM_QUESTIONS.items():
        specs.append(truth_spec(f"{concept}_big", q, concept, ("big_problem",)))
    for concept, q in ONLINE_QUESTIONS.items():
        specs.append(truth_spec(f"{concept}_yes", q, concept, ("yes",)))
    for code, q in SAFER_QUESTIONS.items():
        specs.append(
            truth_spec("safer_measures_selected", q, f"safer_measures__{code}", ("selected",), code)
        )
    return tuple(specs)


TARGETS_META = TargetsMeta(
    area_code="E06000056",
    area_name="Central Bedfordshire",
    population="young_people_11_18",
    reference_date="2021-03-21",
    source="harmonise synthetic generator (invented counts; no official source)",
    table_id="none (illustrative)",
    year=2021,
    licence="CC0-1.0 (invented figures)",
    notes={
        "sex": "illustrative: 11-18 total invented (about eight single-year cohorts) and split "
        "49% female; replace with Census 2021 TS007A or mid-year estimates by sex",
        "age_band": "illustrative: single years of age 11-18 invented with a slight decline by "
        "age, summed to bands; replace with single-year-of-age counts",
        "area": "illustrative: six areas named after towns, each standing for the town and "
        "nearby villages, together covering the authority; not real counts",
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
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    row1, row2 = header_rows()
    ws.append(row1)
    ws.append(row2)
    for record in result.export.itertuples(index=False):
        ws.append(
            [None if pd.isna(v) else (int(v) if isinstance(v, np.integer) else v) for v in record]
        )
    about = wb.create_sheet("About")
    about.append([SYNTHETIC_NOTICE])
    about.append(["Schools, towns, comments and all answers are invented by the generator."])
    about.append(["Generator: harmonise.synthetic (fixed seed); truth in surveys/truth/."])
    wb.properties.title = SYNTHETIC_NOTICE
    wb.properties.description = SYNTHETIC_NOTICE
    wb.properties.creator = "harmonise synthetic generator"
    wb.properties.created = dt.datetime(2024, 7, 22, 9, 0)
    wb.save(path)
    return [path, *write_build_tables(result, root, TARGETS_NAME)]


def expected_recodes() -> dict[str, dict[int | str, str]]:
    """What the crosswalk must say for each source column (labels as keys)."""
    return {q.name: q.recode_table(by_label=True) for q in QUESTIONS}
