"""Privacy at the door, judged on what a column holds: closed questions that mention a phone
or a postcode stay; timestamps, geolocation, IP addresses, platform usernames and name
questions go even when their values repeat; no message echoes an identifying value or the
start of a file that is not the expected kind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.crosswalk.io import load_crosswalk
from harmonise.errors import CrosswalkError, UnmappedValueError
from harmonise.ingest import read_survey
from harmonise.ingest.codebook import codebook_report
from harmonise.privacy import cap, classify
from harmonise.recode import apply_crosswalk
from helpers import crosswalk, ref, safe_item, survey_file


def _csv(tmp: Path, frame: pd.DataFrame, name: str = "s.csv") -> Path:
    path = tmp / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("question", [
    "How worried are you about phone theft?",
    "Have you had an e-mail scam in the last year?",
    "How safe do you feel in your postcode area?",
    "Does your street name appear on the council's list?",
    "How satisfied are you with the police response time?",
])
def test_closed_question_mentioning_an_identifier_is_kept(question: str) -> None:
    # three respondents, every answer given once: not "repeated", still a closed question
    series = pd.Series(["Very worried", "Not very worried", "Fairly worried"])
    assert classify(question, series) is None


@pytest.mark.parametrize(("header", "values", "kind"), [
    ("StartDate", ["2024-05-01 10:00:00"] * 6, "timestamp"),
    ("Completion time", ["01/05/2024 10:00"] * 6, "timestamp"),
    ("q7", ["2024-05-01T10:00:00.000+01:00"] * 6, "timestamp"),  # on content alone
    ("LocationLatitude", ["51.8787"] * 6, "location"),
    ("where", ["51.878700 -0.420000 0 0"] * 6, "location"),
    ("IP Address", ["203.0.113.9"] * 6, "ip_address"),
    ("Enter your name", ["Mia", "Mia", "Noah", "Noah", "Mia", "Noah"], "name"),
    ("What is your name?", ["mia", "mia", "noah", "noah", "mia", "noah"], "name"),
])
def test_identifying_columns_dropped_even_when_values_repeat(header: str, values: list[str],
                                                             kind: str) -> None:
    found = classify(header, pd.Series(values))
    assert found is not None and found[0] == kind


@pytest.mark.parametrize("question", ["May we use your name in the report?",
                                      "Do you use GPS or location sharing on your phone?",
                                      "Do you know your IP address?"])
def test_yes_no_question_mentioning_an_identifier_is_kept(question: str) -> None:
    assert classify(question, pd.Series(["Yes", "No", "No", "Yes"])) is None


def test_kobo_username_dropped_and_codebook_says_why(tmp_path: Path) -> None:
    frame = pd.DataFrame({"_submitted_by": ["amy", "amy", "amy"], "q1": [1, 2, 3],
                          "_uuid": ["a-1", "a-2", "a-3"], "_index": [1, 2, 3]})
    sf = read_survey(_csv(tmp_path, frame))
    report = codebook_report(sf)
    flagged = {f["name"]: f for f in report["flagged"]}
    assert flagged["_submitted_by"]["kind"] == "username"
    assert "KoboToolbox" in flagged["_submitted_by"]["reason"]
    assert all(f["reason"] for f in report["flagged"])
    assert "amy" not in str(report)


def test_unlisted_long_answer_is_capped_in_the_message() -> None:
    long = "x" * 500
    sf = survey_file(pd.DataFrame({"Q1": [1, long]}), name="t.csv")
    cw = crosswalk([safe_item()])
    with pytest.raises(UnmappedValueError) as info:
        apply_crosswalk(sf, cw, _schema(), ref(cw))
    message = str(info.value)
    assert "x" * 60 not in message and "…" in message


def _schema():  # type: ignore[no-untyped-def]
    from harmonise.crosswalk.io import load_schema

    return load_schema(Path(__file__).resolve().parents[2]
                       / "crosswalks/schema/perception-v1.yaml")


def test_cap() -> None:
    assert cap("short") == "short"
    assert cap("a\nb") == "a b"
    assert cap("y" * 100).endswith("…") and len(cap("y" * 100)) == 60


def test_yaml_error_does_not_print_the_file(tmp_path: Path) -> None:
    export = tmp_path / "export.v1.yaml"
    export.write_text("id,name,email\n1,Amy Patel,amy@example.org\n2,[Tom,tom@example.org\n",
                      encoding="utf-8")
    with pytest.raises(CrosswalkError) as info:
        load_crosswalk(export)
    assert "Amy" not in str(info.value) and "example.org" not in str(info.value)
    broken = tmp_path / "broken.v1.yaml"
    broken.write_text("crosswalk: [Amy Patel\nname: amy@example.org\n", encoding="utf-8")
    with pytest.raises(CrosswalkError) as info:
        load_crosswalk(broken)
    text = str(info.value)
    assert "line" in text and "Amy" not in text and "example.org" not in text


def test_inspect_never_prints_a_timestamp_or_username(tmp_path: Path) -> None:
    frame = pd.DataFrame({"start": ["2024-05-01T10:00:00"] * 4,
                          "_submitted_by": ["officer_amy"] * 4,
                          "_uuid": ["u1", "u2", "u3", "u4"], "q": ["Yes", "No", "Yes", "No"]})
    result = CliRunner().invoke(main, ["inspect", str(_csv(tmp_path, frame))])
    assert result.exit_code == 0, result.output
    assert "2024-05-01" not in result.output and "officer_amy" not in result.output
