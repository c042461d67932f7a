"""Exports of the platforms English councils use most, built here because no public sample
file was found (see /work/shared/peer-data/platforms/SOURCES.md): SmartSurvey, Snap
Surveys, Citizen Space, Jisc Online Surveys, and Microsoft Forms.

These files are BUILT BY THESE TESTS from the platforms' documented export layouts (their
help pages describe the columns; where a detail is not documented the choice is stated
beside the builder), not downloaded from the platforms. Each holds the identifying columns
its platform adds, "Prefer not to say" answers, a ward column and a multi-select question
in that platform's layout; each is read with no flags.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.ingest import read_survey
from harmonise.models.survey import SurveyFile

N = 12
SAFE = ["Very safe", "Fairly safe", "A bit unsafe", "Very unsafe", "Prefer not to say"]
AGES = ["16-24", "25-34", "35-44", "45-54", "55-64", "65+", "Prefer not to say"]
WARDS = ["Biscot", "Dallow", "High Town", "Round Green"]
OPTIONS = ["CCTV", "Better street lighting", "More police patrols"]
NAMES = ["Amy Patel", "John Smith", "Sarah Oneil", "Tom Brown", "Priya Shah", "Mark Jones",
         "Zoe Clarke", "Adam Khan", "Ruth Green", "Liam Walsh", "Nina Ahmed", "Owen Price"]
EMAILS = [f"resident{i}@example.org" for i in range(N)]
IPS = [f"203.0.113.{10 + i}" for i in range(N)]
POSTCODES = ["LU1 1AA", "LU2 7PQ", "LU3 2BD", "LU4 9XY", "LU1 3JU", "LU2 0HE",
             "LU3 1QT", "LU4 8AR", "LU1 5PL", "LU2 6EE", "LU3 3LR", "LU4 2SA"]
STARTS = [f"0{1 + i % 9}/11/2024 1{i % 10}:0{i % 6}:1{i % 10}" for i in range(N)]
ENDS = [f"0{1 + i % 9}/11/2024 1{i % 10}:2{i % 6}:4{i % 10}" for i in range(N)]


def _ticked(i: int) -> list[bool]:
    return [(i + k) % 3 != 0 for k in range(len(OPTIONS))]


def _csv(path: Path, rows: list[list[object]]) -> Path:
    pd.DataFrame(rows).to_csv(path, header=False, index=False)
    return path


def smartsurvey(tmp: Path) -> Path:
    """SmartSurvey "raw data" export (Excel/CSV): metadata first (Response ID, Started,
    Ended, IP Address, then the contact fields collected), the question in row 1 and, for
    tick-box questions, each option in row 2 over a column holding that option's text when
    ticked. Dates dd/mm/yyyy hh:mm:ss (UK account)."""
    q_multi = "Which of these would make you feel safer? (tick all that apply)"
    top = ["Response ID", "Started", "Ended", "IP Address", "Email Address", "Name",
           "How safe do you feel walking alone in your area after dark?", q_multi, "", "",
           "How worried are you about phone theft?", "What is your age?",
           "Which ward do you live in?", "What is your postcode?"]
    second = ["", "", "", "", "", "", "", *OPTIONS, "", "", "", ""]
    rows: list[list[object]] = [top, second]
    for i in range(N):
        rows.append([1000 + i, STARTS[i], ENDS[i], IPS[i], EMAILS[i], NAMES[i],
                     SAFE[i % 5], *[o if t else "" for o, t in zip(OPTIONS, _ticked(i),
                                                                 strict=True)],
                     ["Very worried", "Not worried"][i % 2], AGES[i % 7], WARDS[i % 4],
                     POSTCODES[i]])
    return _csv(tmp / "smartsurvey-export.csv", rows)


def snap(tmp: Path) -> Path:
    """Snap XMP "CSV with variable names and labels": row 1 the variable names, row 2 the
    labels; Respondent, Time started and Time completed first; a multiple-response
    question as one 0/1 variable per code (Q2_1…Q2_3), as Snap's SPSS-style export writes
    it (the CSV's multiple-response layout is not documented; this is the assumption)."""
    names = ["Respondent", "Time started", "Time completed", "Q1", "Q2_1", "Q2_2", "Q2_3",
             "Q3", "Q4", "IP address"]
    labels = ["Respondent", "Time started", "Time completed",
              "How safe do you feel walking alone in your area after dark?",
              *[f"Which of these would make you feel safer?: {o}" for o in OPTIONS],
              "What is your age?", "Which ward do you live in?", "IP address"]
    rows: list[list[object]] = [names, labels]
    for i in range(N):
        rows.append([i + 1, STARTS[i], ENDS[i], 1 + i % 5, *[int(t) for t in _ticked(i)],
                     AGES[i % 7], WARDS[i % 4], IPS[i]])
    return _csv(tmp / "snap-export.csv", rows)


def citizen_space(tmp: Path) -> Path:
    """Citizen Space "Download all responses" (.xlsx): Response ID and Submitted on first,
    one header row with the question text, the respondent's "About you" answers (name,
    e-mail, postcode) as questions, and a checkbox question as one column per option headed
    "question: option" holding "Yes" when ticked."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Responses"
    q_multi = "Which of these would make you feel safer?"
    ws.append(["Response ID", "Submitted on", "What is your name?",
               "What is your email address?", "What is your postcode?",
               "How safe do you feel walking alone in your area after dark?",
               *[f"{q_multi}: {o}" for o in OPTIONS], "What is your age?",
               "Which ward do you live in?"])
    for i in range(N):
        ws.append([f"ANON-{4000 + i}", pd.Timestamp(2024, 11, 1 + i, 9, i, 30).to_pydatetime(),
                   NAMES[i], EMAILS[i], POSTCODES[i], SAFE[i % 5],
                   *["Yes" if t else None for t in _ticked(i)], AGES[i % 7], WARDS[i % 4]])
    path = tmp / "citizen-space-responses.xlsx"
    wb.save(path)
    return path


def jisc(tmp: Path) -> Path:
    """Jisc Online Surveys responses CSV: Response ID, Timestamp (started), Timestamp
    (completed), then numbered questions ("1. …"); a multiple-choice question as one column
    per option headed "n. question (option)" holding the option when ticked."""
    q_multi = "2. Which of these would make you feel safer?"
    top = ["Response ID", "Timestamp (started)", "Timestamp (completed)",
           "1. How safe do you feel walking alone in your area after dark?",
           *[f"{q_multi} ({o})" for o in OPTIONS], "3. What is your age?",
           "4. Which ward do you live in?", "5. Your email address (optional)"]
    rows: list[list[object]] = [top]
    for i in range(N):
        rows.append([f"{8800 + i}", STARTS[i], ENDS[i], SAFE[i % 5],
                     *[o if t else "" for o, t in zip(OPTIONS, _ticked(i), strict=True)],
                     AGES[i % 7], WARDS[i % 4], EMAILS[i] if i % 3 else ""])
    return _csv(tmp / "jisc-online-surveys.csv", rows)


def ms_forms(tmp: Path) -> Path:
    """Microsoft Forms responses (.xlsx downloaded as CSV): ID, Start time, Completion
    time, Email, Name, then the questions; a multi-choice answer as the ticked options
    joined by ';' with a trailing ';'."""
    rows: list[list[object]] = [["ID", "Start time", "Completion time", "Email", "Name",
                                 "How safe do you feel walking alone in your area after dark?",
                                 "Which of these would make you feel safer?",
                                 "Which ward do you live in?"]]
    for i in range(N):
        ticked = "".join(f"{o};" for o, t in zip(OPTIONS, _ticked(i), strict=True) if t)
        rows.append([i + 1, STARTS[i], ENDS[i], EMAILS[i], NAMES[i], SAFE[i % 5], ticked,
                     WARDS[i % 4]])
    return _csv(tmp / "ms-forms.csv", rows)


BUILDERS = {"SmartSurvey": smartsurvey, "Snap Surveys": snap, "Citizen Space": citizen_space,
            "Jisc Online Surveys": jisc, "Microsoft Forms": ms_forms}


def _group(sf: SurveyFile) -> tuple[str, ...]:
    groups = list(sf.codebook.groups.values())
    assert len(groups) == 1, [g.name for g in groups]
    return groups[0].options or tuple(sf.codebook.variables[m].option or m
                                      for m in groups[0].members)


@pytest.mark.parametrize("platform", list(BUILDERS))
def test_built_export_read_as_its_platform_means(platform: str, tmp_path: Path) -> None:
    sf = read_survey(BUILDERS[platform](tmp_path))
    assert sf.codebook.platform == platform
    assert len(sf.data) == N  # no header or label row read as a respondent
    assert set(_group(sf)) == set(OPTIONS)
    flagged = {f.name: f.kind for f in sf.flagged}
    assert "timestamp" in flagged.values()
    assert {"email", "name", "ip_address", "postcode"} & set(flagged.values())
    ward = next(c for c, v in sf.codebook.variables.items()
                if "ward" in f"{c} {v.label}".casefold())
    assert set(sf.data[ward]) == set(WARDS)  # an area column is not identifying
    ids = [k for k, v in sf.codebook.variables.items() if v.role == "respondent_id"]
    assert len(ids) == 1


def test_smartsurvey_details(tmp_path: Path) -> None:
    sf = read_survey(smartsurvey(tmp_path))
    flagged = {f.name: f.kind for f in sf.flagged}
    assert flagged["Started"] == flagged["Ended"] == "timestamp"
    assert flagged["IP Address"] == "ip_address" and flagged["Name"] == "name"
    assert flagged["What is your postcode?"] == "postcode"
    # a closed question that mentions a phone is a question, not a phone number
    assert "How worried are you about phone theft?" in sf.data.columns
    age = sf.data["What is your age?"]
    assert "Prefer not to say" in set(age)
    assert pd.api.types.is_integer_dtype(sf.data["Response ID"])


def test_snap_numbers_and_dichotomies(tmp_path: Path) -> None:
    sf = read_survey(snap(tmp_path))
    assert pd.api.types.is_integer_dtype(sf.data["Q1"])
    assert sf.codebook.variables["Q1"].label.startswith("How safe")
    assert sf.codebook.groups["Q2"].members == ("Q2_1", "Q2_2", "Q2_3")
    assert {f.name for f in sf.flagged} >= {"Time started", "Time completed", "IP address"}


@pytest.mark.parametrize("platform", list(BUILDERS))
def test_inspect_shows_no_identifying_value_of_a_built_export(platform: str,
                                                              tmp_path: Path) -> None:
    path = BUILDERS[platform](tmp_path)
    result = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    shown = [v for v in [*NAMES, *EMAILS, *IPS, *POSTCODES, *STARTS, *ENDS]
             if v in result.output]
    assert not shown
