"""Build the SYNTHETIC export used by tests/weight/test_missing_end_to_end.py.

``python tests/data/missing/make_fixture.py`` writes ``residents.csv``: 600 invented
respondents of a SmartSurvey-style council survey (label answers, one header row) with
"Prefer not to say" and blank answers to sex, age band and ward. Nothing in it is real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SAFETY = ("Very safe", "Fairly safe", "Neither safe nor unsafe", "Fairly unsafe",
          "Very unsafe", "Don't know")
AGES = ("18-34", "35-49", "50-64", "65+")
WARDS = ("Castle", "Kingsbrook", "Brickhill", "Putnoe", "Kempston Central", "Wootton")


def build(n: int = 600, seed: int = 20261206) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n, p=[0.62, 0.38]).astype(object)
    age = rng.choice(AGES, n, p=[0.15, 0.25, 0.3, 0.3]).astype(object)
    ward = rng.choice(WARDS, n).astype(object)
    p_safe = 0.25 + 0.25 * (sex == "Male") + 0.05 * np.searchsorted(AGES, age)
    safe = np.where(rng.random(n) < p_safe, rng.choice(SAFETY[:2], n),
                    rng.choice(SAFETY[2:], n, p=[0.35, 0.3, 0.25, 0.1]))
    sex[rng.random(n) < 0.07] = "Prefer not to say"
    sex[rng.random(n) < 0.02] = ""
    age[rng.random(n) < 0.05] = "Prefer not to say"
    ward[rng.random(n) < 0.03] = ""
    return pd.DataFrame({"Respondent ID": np.arange(1001, 1001 + n),
                         "How safe do you feel in your local area after dark?": safe,
                         "What is your sex?": sex, "What is your age?": age,
                         "Which ward do you live in?": ward})


if __name__ == "__main__":
    build().to_csv(HERE / "residents.csv", index=False, lineterminator="\n")
