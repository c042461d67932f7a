"""Build the census-table fixtures of tests/weight/test_census_targets.py.

``python tests/data/census/make_fixtures.py`` writes small tables in the CSV layouts ONS
and Nomis publish Census 2021 in (column headings as documented on ons.gov.uk "Create a
custom dataset" downloads and nomisweb.co.uk bulk / API CSVs). The layouts are real; the
COUNTS ARE INVENTED (and the ward codes E05999991-6 do not exist): not census figures.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LTLA = (("E06000055", "Bedford"), ("E06000056", "Central Bedfordshire"))
WARDS = tuple((f"E0599999{i + 1}", name) for i, name in enumerate(
    ("Castle", "Kingsbrook", "Brickhill", "Putnoe", "Kempston Central", "Wootton")))
TS007A = ("Aged 4 years and under", *(f"Aged {a} to {a + 4} years" for a in range(5, 85, 5)),
          "Aged 85 years and over")


def age_label(a: int) -> str:
    if a == 0:
        return "Aged under 1 year"
    if a == 100:
        return "Aged 100 years and over"
    return f"Aged {a} year" + ("" if a == 1 else "s")


def by_age(rng: np.random.Generator, scale: float) -> np.ndarray:
    """Invented single-year counts 0..100 (a plausible shape, not census figures)."""
    ages = np.arange(101)
    shape = np.where(ages < 75, 1.0, np.exp(-(ages - 75) / 8.0))
    return np.round(scale * shape * rng.uniform(0.85, 1.15, ages.size)).astype(int)


def write(name: str, header: list[str], rows: list[list[object]]) -> None:
    with (HERE / name).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    rng = np.random.default_rng(20261206)
    counts = {(code, sex): by_age(rng, 1000 if code == "E06000055" else 1500)
              for code, _ in LTLA for sex in ("Female", "Male")}
    # ONS custom dataset: TS009-like, Age (101 categories) x Sex (2 categories), long
    rows: list[list[object]] = []
    for code, name in LTLA:
        for a in range(101):
            for s_code, sex in ((1, "Female"), (2, "Male")):
                rows.append([code, name, a, age_label(a), s_code, sex, counts[(code, sex)][a]])
    write("ons_custom_age101_sex_ltla.csv",
          ["Lower tier local authorities Code", "Lower tier local authorities",
           "Age (101 categories) Code", "Age (101 categories)", "Sex (2 categories) Code",
           "Sex (2 categories)", "Observation"], rows)
    # Nomis bulk: TS008 (sex, all ages) and TS007A (age in 18 bands), wide, with a Total
    rows = []
    for code, name in LTLA:
        f, m = counts[(code, "Female")].sum(), counts[(code, "Male")].sum()
        rows.append([2021, name, code, f + m, f, m])
    write("census2021-ts008-ltla.csv",
          ["date", "geography", "geography code", "Sex: All persons; measures: Value",
           "Sex: Female; measures: Value", "Sex: Male; measures: Value"], rows)
    rows = []
    for code, name in LTLA:
        total = counts[(code, "Female")] + counts[(code, "Male")]
        bands = [total[0:5].sum(), *(total[a:a + 5].sum() for a in range(5, 85, 5)),
                 total[85:].sum()]
        rows.append([2021, name, code, int(total.sum()), *(int(b) for b in bands)])
    write("census2021-ts007a-ltla.csv",
          ["date", "geography", "geography code", "Age: Total; measures: Value",
           *(f"Age: {b}; measures: Value" for b in TS007A)], rows)
    # ONS custom dataset at ward level: Electoral wards x Age (101 categories)
    # Bedford's people split across six invented wards (so the wards add up to it)
    bedford = counts[("E06000055", "Female")] + counts[("E06000055", "Male")]
    shares = rng.dirichlet(np.full(len(WARDS), 40.0))
    split = np.array([rng.multinomial(int(n), shares) for n in bedford])  # ages x wards
    rows = []
    for w, (code, name) in enumerate(WARDS):
        rows.extend([code, name, a, age_label(a), int(split[a, w])] for a in range(101))
    write("ons_custom_age101_wards.csv",
          ["Electoral wards and divisions Code", "Electoral wards and divisions",
           "Age (101 categories) Code", "Age (101 categories)", "Observation"], rows)
    # Nomis API CSV: TS008 with a Percent measure beside the Value
    rows = []
    for code, name in LTLA:
        f, m = counts[(code, "Female")].sum(), counts[(code, "Male")].sum()
        for s_code, sex, value in ((0, "All persons", f + m), (1, "Female", f), (2, "Male", m)):
            rows.append([2021, code, name, s_code, sex, "Value", value])
            rows.append([2021, code, name, s_code, sex, "Percent", round(100 * value / (f + m), 1)])
    write("nomis_api_ts008_ltla.csv",
          ["DATE", "GEOGRAPHY_CODE", "GEOGRAPHY_NAME", "C2021_SEX_3", "C2021_SEX_3_NAME",
           "MEASURES_NAME", "OBS_VALUE"], rows)


if __name__ == "__main__":
    main()
