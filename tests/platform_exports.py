"""Platform-style exports built by code for the draft-to-report tests (no file is committed).

No public sample export of SmartSurvey or of a council's Google Form was found, so these
follow the platforms' documented export layouts, with invented respondents:

* **SmartSurvey-like** (CSV "raw data" export): two header rows — the question text over
  the first column of each question, and "Response" or the option text in the second row;
  system columns first (UserNo, Name, Email, IP Address, Unique ID, Started, Ended); a
  tick-box question with one column per option holding the option text when ticked and
  blank otherwise, plus an "Other (please specify)" option and its typed text; a ward
  column; a postcode question and free-text comments; "Prefer not to say" on sex and age;
  age bands (18-24, 25-34, 35-49, 50-64, 65-74, 75+) finer than the census bands of the
  targets file (18_34, 35_49, 50_64, 65_plus).
* **Google-Forms-like** (the CSV Google Sheets gives for a form's responses): one header
  row of question titles; "Timestamp" (dd/mm/yyyy hh:mm:ss) and "Email address" first;
  checkbox answers joined by ", " in one cell; "Prefer not to say" on sex; free text.

Both include a question the schema has no concept for (council satisfaction / local
priorities), which a person must decide about.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

WARDS = ("Biscot", "High Town", "Round Green", "Stopsley", "Wigmore", "Farley")
SAFETY = ("Very safe", "Fairly safe", "A bit unsafe", "Very unsafe", "Don't know")
REASONS = ("Drug use or dealing", "Groups of people hanging around", "Poor street lighting",
           "Other (please specify)")
SAFER = ("More police on the streets", "Better street lighting", "More CCTV",
         "More activities for young people", "Safe places to go")
AGES = ("18-24", "25-34", "35-49", "50-64", "65-74", "75+")
FIRST = ("Amy", "Ben", "Chloe", "Dev", "Ella", "Farid", "Grace", "Harry", "Isla", "Jack")
LAST = ("Patel", "Smith", "Khan", "Jones", "Brown", "Ali", "Taylor", "Wilson")

#: Identifying values the exports hold; none may appear in a draft, message or output.
SECRETS = ("@example.org", "81.2.", "LU1 ", "LU2 ", "LU3 ", "Patel", "Comment number",
           "underpass by house")


def _sex(rng: random.Random) -> str:
    return "Prefer not to say" if rng.random() < 0.03 else rng.choice(("Female", "Male"))


def _age(rng: random.Random) -> str:
    return "Prefer not to say" if rng.random() < 0.04 else rng.choice(AGES)


def smartsurvey_csv(path: Path, n: int = 640, seed: int = 12) -> Path:
    """A SmartSurvey-style raw data export (two header rows) with ``n`` respondents."""
    rng = random.Random(seed)
    top = ["UserNo", "Name", "Email", "IP Address", "Unique ID", "Started", "Ended",
           "How safe do you feel walking alone in this area after dark?",
           "How safe do you feel walking alone in this area during the day?",
           "What makes you feel unsafe? (tick all that apply)", "", "", "",
           "Other (please specify)",
           "How satisfied are you with your local council?",
           "What is your sex?", "What is your age?", "Which ward do you live in?",
           "What is your postcode?", "Any other comments?"]
    second = ["", "", "", "", "", "", "", "Response", "Response", *REASONS, "Response",
              "Response", "Response", "Response", "Response", "Response", "Response"]
    rows = []
    for i in range(1, n + 1):
        day, minute = rng.randint(1, 28), rng.randint(10, 49)
        ticks = [r if rng.random() < 0.3 else "" for r in REASONS]
        rows.append([
            str(10000 + i), f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            f"person{i}@example.org", f"81.2.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"{rng.getrandbits(48):012x}", f"{day:02d}/10/2025 09:{minute}",
            f"{day:02d}/10/2025 09:{minute + 9}", rng.choice(SAFETY), rng.choice(SAFETY),
            *ticks, f"the underpass by house {i} is dark" if ticks[-1] else "",
            rng.choice(("Very satisfied", "Fairly satisfied", "Not very satisfied",
                        "Not at all satisfied")),
            _sex(rng), _age(rng), rng.choice(WARDS),
            f"LU{rng.randint(1, 3)} {rng.randint(1, 9)}{rng.choice('ABDEFG')}"
            f"{rng.choice('HJLNPQ')}",
            "" if rng.random() < 0.6 else f"Comment number {i}: the park near my road is "
                                          "scary at night",
        ])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(top)
        writer.writerow(second)
        writer.writerows(rows)
    return path


def google_forms_csv(path: Path, n: int = 420, seed: int = 7) -> Path:
    """A Google-Forms-style responses CSV with ``n`` respondents."""
    rng = random.Random(seed)
    header = ["Timestamp", "Email address",
              "How safe do you feel walking alone in this area after dark?",
              "What would make you feel safer in your area? (tick all that apply)",
              "What should be the top priority for your local police?",
              "What is your sex?", "What is your age?", "Which ward do you live in?",
              "Any other comments?"]
    rows = []
    for i in range(1, n + 1):
        day = rng.randint(3, 30)
        picked = [s for s in SAFER if rng.random() < 0.35]
        rows.append([
            f"{day:02d}/11/2025 {rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}:"
            f"{rng.randint(0, 59):02d}",
            f"resident{i}@example.org", rng.choice(SAFETY), ", ".join(picked),
            rng.choice(("Burglary", "Anti-social behaviour", "Drugs", "Speeding")),
            _sex(rng), _age(rng), rng.choice(WARDS),
            "" if rng.random() < 0.7 else f"Comment number {i}: more patrols near the shops "
                                          "in the evening",
        ])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path
