"""Luton adult residents' survey, second wave 2025 (synthetic): the same CSV export layout.

The same population cells and telephone mode as the 2024 wave (``luton_residents``), with
two deliberate differences that the trend analysis must handle:

- **the after-dark question changed scale**: 2025 asks it on a 5-point scale with a
  "Neither safe nor unsafe" midpoint (so the crosswalk moves to ``safety5`` and the item is
  graded ``close``, no longer ``identical``: crosswalk ``luton-residents-2025`` v2);
- **concern about serious violence really fell** in the simulated population (fewer people
  very or fairly concerned), with the question unchanged.

The true 2025 values come from a fresh simulated population, so the true change between
waves is known (``surveys/truth/luton-residents-2025.csv`` minus the 2024 file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harmonise.synthetic import luton_residents as w2024
from harmonise.synthetic.common import (
    Question,
    SurveyBuild,
    TruthSpec,
    answers,
    assemble,
    bernoulli,
    effect,
    expand_cells,
    fake_emails,
    fake_text,
    ordinal_item,
    overlay,
    poisson_sample,
    rng_for,
    truth_spec,
    write_build_tables,
)

CROSSWALK_ID = "luton-residents-2025"
STREAM = 5
EXPORT = Path("surveys/luton/residents-2025.csv")
#: Both waves are raked to the same (illustrative, Census 2021 shaped) adult margins.
TARGETS_NAME = w2024.TARGETS_NAME
EXPECTED_N = 820
ENCODING = w2024.ENCODING
BLANK_CODE = w2024.BLANK_CODE

SAFE = Question(
    w2024.SAFE_TEXT,
    w2024.SAFE_TEXT,
    answers(
        (1, "Very safe", "very_safe"),
        (2, "Fairly safe", "fairly_safe"),
        (3, "Neither safe nor unsafe", "neither"),
        (4, "Fairly unsafe", "fairly_unsafe"),
        (5, "Very unsafe", "very_unsafe"),
        (8, "Don’t know", "dont_know"),
        (7, "Never walk alone after dark", "not_applicable"),
        (BLANK_CODE, "", "no_answer"),
    ),
)
QUESTIONS = (w2024.AGE, w2024.SEX, w2024.WARD, SAFE, w2024.CONCERN)

# ----------------------------------------------------------------- the known truth model
# 5-point shares: the midpoint takes people who would have said "fairly safe" or "a bit
# unsafe" on the 4-point scale, so the true "% very or fairly safe" is lower by design.
SAFE_SHARES = (0.17, 0.37, 0.17, 0.18, 0.11)
CONCERN_SHARES = (0.19, 0.30, 0.32, 0.19)  # 2024: (0.24, 0.33, 0.28, 0.15)


def simulate_population(rng: np.random.Generator) -> pd.DataFrame:
    pop = expand_cells(
        w2024.population_cells(),
        {
            "area": [w[0] for w in w2024.WARDS],
            "sex": ["female", "male"],
            "age_band": [a[0] for a in w2024.AGE_BANDS],
        },
    )
    n = len(pop)
    pop["AGE"] = pop["age_band"].cat.codes.to_numpy(dtype=np.int64) + 1
    pop["SEX"] = np.where(pop["sex"] == "female", 1, 2)
    pop["WARD"] = pop["area"].cat.codes.to_numpy(dtype=np.int64) + 1
    eta = effect(pop, "sex", w2024.SAFE_SEX) + effect(pop, "age_band", w2024.SAFE_AGE)
    eta += effect(pop, "area", w2024.SAFE_WARD)
    codes = ordinal_item(rng, eta, rng.normal(0.0, 1.0, n), SAFE_SHARES, (1, 2, 3, 4, 5))
    never = w2024.NEVER_BASE + effect(pop, "sex", w2024.NEVER_SEX)
    never += effect(pop, "age_band", w2024.NEVER_AGE)
    never += np.where(codes >= 4, 1.0, 0.0)  # those who would feel unsafe stay in more
    codes = np.where(bernoulli(rng, never), 7, codes).astype(np.int64)
    pop["safe_area_dark"] = overlay(rng, codes, 0.02, 8)
    eta = effect(pop, "sex", w2024.CONCERN_SEX) + effect(pop, "age_band", w2024.CONCERN_AGE)
    eta += effect(pop, "area", w2024.CONCERN_WARD)
    pop["sv_concern"] = ordinal_item(
        rng, eta, rng.normal(0.0, 1.0, n), CONCERN_SHARES, (1, 2, 3, 4)
    )
    return pop


def draw_respondents(rng: np.random.Generator, pop: pd.DataFrame) -> pd.DataFrame:
    log_p = effect(pop, "sex", w2024.RESPONSE_SEX) + effect(pop, "age_band", w2024.RESPONSE_AGE)
    rows = poisson_sample(rng, log_p, EXPECTED_N)
    resp = pop.iloc[rows].reset_index(drop=True)
    resp["safe_area_dark"] = overlay(
        rng, resp["safe_area_dark"].to_numpy(dtype=np.int64), 0.01, BLANK_CODE
    )
    resp["sv_concern"] = overlay(rng, resp["sv_concern"].to_numpy(dtype=np.int64), 0.02, BLANK_CODE)
    return resp


def export_frame(rng: np.random.Generator, resp: pd.DataFrame) -> pd.DataFrame:
    n = len(resp)
    frame = pd.DataFrame({"ID": np.arange(1, n + 1, dtype=np.int64)})
    for q, col in ((w2024.AGE, "AGE"), (w2024.SEX, "SEX"), (w2024.WARD, "WARD")):
        frame[q.name] = q.label_array(resp[col].to_numpy(dtype=np.int64))
    frame[SAFE.name] = SAFE.label_array(resp["safe_area_dark"].to_numpy(dtype=np.int64))
    concern = w2024.CONCERN
    frame[concern.name] = concern.label_array(resp["sv_concern"].to_numpy(dtype=np.int64))
    frame[w2024.COMMENTS] = fake_text(
        rng, n, 0.22, w2024.COMMENT_TEMPLATES, {"street": w2024.STREETS}
    )
    frame[w2024.EMAIL] = fake_emails(rng, n, 0.3)
    return frame


def truth_specs() -> tuple[TruthSpec, ...]:
    return (
        truth_spec("safe_area_dark_safe", SAFE, "safe_area_dark", ("very_safe", "fairly_safe")),
        truth_spec(
            "sv_concern_concerned",
            w2024.CONCERN,
            "sv_concern",
            ("very_concerned", "fairly_concerned"),
        ),
    )


def build(seed: int) -> SurveyBuild:
    rng = rng_for(seed, STREAM)
    pop = simulate_population(rng)
    resp = draw_respondents(rng, pop)
    return assemble(CROSSWALK_ID, pop, resp, export_frame(rng, resp), truth_specs(),
                    ("sex", "age_band", "area"), w2024.TARGETS_META)


def write(result: SurveyBuild, root: Path) -> list[Path]:
    path = root / EXPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    result.export.to_csv(path, index=False, encoding=ENCODING, lineterminator="\r\n")
    return [path, *write_build_tables(result, root, TARGETS_NAME)]


def expected_recodes() -> dict[str, dict[int | str, str]]:
    """What the crosswalk must say for each source column (labels as keys)."""
    return {q.name: q.recode_table(by_label=True) for q in QUESTIONS}
