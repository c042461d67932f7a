"""Typed details hiding among repeated answers are found, and never written anywhere.

A reviewer's cases: a few e-mails among "no" / "n/a", postcodes among "Prefer not to say",
one e-mail typed into a Yes/No column. Every text cell is checked, so one such cell flags
the column; codebooks and draft crosswalks never write such a value even when handed one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harmonise.crosswalk.draft import draft_crosswalk
from harmonise.ingest import read_survey
from harmonise.ingest.codebook import codebook_report, to_csv, to_markdown
from harmonise.privacy import classify, describe, looks_identifying, placeholder
from helpers import survey_file

N = 40
SECRETS = ["jane.doe@example.com", "person5.smith@example.org", "LU2 7QT", "mk40 3ab",
           "07700 900123", "+44 7700 900456", "John Smith", "call me on 01234 567890",
           "192.0.2.44"]


def _cycle(values: list[str], n: int = N) -> list[str]:
    return [values[i % len(values)] for i in range(n)]


def _with(base: list[str], at: dict[int, str]) -> list[str]:
    out = list(base)
    for i, value in at.items():
        out[i] = value
    return out


def adversarial_frame() -> pd.DataFrame:
    """Identifying answers hidden among repeated ones, and coded columns that must stay."""
    return pd.DataFrame({
        "id": list(range(1, N + 1)),
        "safe_dark": _cycle(["Very safe", "Fairly safe", "A bit unsafe", "Very unsafe"]),
        # header rules: coded-looking, but a few typed details among repeated answers
        "Email address for prize draw": _with(_cycle(["no", "n/a", "none"]),
                                              {5: SECRETS[0], 17: SECRETS[1]}),
        "Your postcode": _with(_cycle(["Prefer not to say", "don't want to"]),
                               {3: SECRETS[2], 9: SECRETS[3]}),
        "Your name": _with(_cycle(["Prefer not to say", "n/a"]), {11: SECRETS[6]}),
        # content only: neutral names, one identifying cell each
        "Q7": _with(_cycle(["Yes", "No"]), {20: SECRETS[0]}),
        "q8": _with(_cycle(["Yes", "No", "Don't know"]), {2: SECRETS[4]}),
        "q9": _with(_cycle(["Prefer not to say", "No"]), {6: SECRETS[5]}),
        "q10": _with(_cycle(["Bus", "Car", "Walk"]), {8: SECRETS[7]}),
        "q11": _with(_cycle(["Yes", "No"]), {30: SECRETS[8]}),
        "q12": _with(_cycle(["Yes", "No"]), {1: "my postcode is " + SECRETS[2]}),
        # coded: must never be flagged
        "district": _cycle(["LU1", "MK40", "LU1 3", "SG19"]),
        "May we email you the results?": _cycle(["Yes", "No"]),
        "Do you have a mobile phone?": _cycle(["Yes", "No", "Don't know"]),
        "When": _cycle(["2024-09-01 10:00", "10:30", "Year 10 2nd term"]),
    })


FLAGGED = {"Email address for prize draw": "email", "Your postcode": "postcode",
           "Your name": "name", "Q7": "email", "q8": "phone", "q9": "phone", "q10": "phone",
           "q11": "ip_address", "q12": "postcode"}
KEPT = ["id", "safe_dark", "district", "May we email you the results?",
        "Do you have a mobile phone?", "When"]


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret
        assert secret.casefold() not in text.casefold(), secret
    assert "@" not in text
    assert "smith" not in text.casefold()


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "adversarial.csv"
    adversarial_frame().to_csv(path, index=False)
    return path


def test_identifying_answers_among_repeated_ones_flag_their_column(tmp_path: Path) -> None:
    sf = read_survey(_csv(tmp_path))
    assert {f.name: f.kind for f in sf.flagged} == FLAGGED
    assert list(sf.data.columns) == KEPT
    for f in sf.flagged:
        _assert_clean(f.reason)
    q7 = next(f for f in sf.flagged if f.name == "Q7")
    assert "1 is e-mail-like" in q7.reason and "40 non-blank cells" in q7.reason
    everything = " ".join([repr(sf), sf.data.to_csv(), repr(sf.codebook), repr(sf.flagged)])
    _assert_clean(everything)


def test_codebook_and_draft_of_the_adversarial_file_hold_nothing_identifying(
        tmp_path: Path, schema) -> None:  # type: ignore[no-untyped-def]
    sf = read_survey(_csv(tmp_path))
    report = codebook_report(sf)
    _assert_clean(json.dumps(report) + to_markdown(report) + to_csv(report))
    _assert_clean(draft_crosswalk(sf, schema))


def test_kept_column_is_kept_but_its_values_are_written_nowhere(
        tmp_path: Path, schema) -> None:  # type: ignore[no-untyped-def]
    sf = read_survey(_csv(tmp_path), keep={"Q7": "the question we need", "q8": "same"})
    assert {"Q7", "q8"} <= set(sf.data.columns)
    report = codebook_report(sf)
    q7 = next(v for v in report["variables"] if v["name"] == "Q7")
    assert q7["counts"] is None and q7["identifying"] == "email"
    _assert_clean(json.dumps(report) + to_markdown(report) + to_csv(report))
    draft = draft_crosswalk(sf, schema)
    _assert_clean(draft)
    assert '"Q7": "kept: the question we need' in draft  # under unmapped, not an item


def test_codebook_and_draft_hide_identifying_values_they_are_handed(
        schema) -> None:  # type: ignore[no-untyped-def]
    """Defence in depth: a SurveyFile built by hand (no screen) still leaks nothing."""
    data = pd.DataFrame({"q1": ["Yes", "No", "a@b.org", "c@d.org", "c@d.org", "LU1 1AA",
                                "Yes"]})
    sf = survey_file(data, name="handmade.csv")
    counts = codebook_report(sf)["variables"][0]["counts"]
    assert {"value": "<e-mail-like value ×2>", "label": None, "count": 3,
            "user_missing": False} in counts
    assert {"value": "<postcode-like value ×1>", "label": None, "count": 1,
            "user_missing": False} in counts
    assert sum(c["count"] for c in counts) == len(data)
    draft = draft_crosswalk(sf, schema)
    assert "@" not in draft and "LU1 1AA" not in draft
    assert "<e-mail-like value ×2>" in draft and "<postcode-like value ×1>" in draft
    assert '"Yes": "yes"' in draft  # the answers are still pre-filled


def test_labelled_identifying_value_hidden_in_codebook() -> None:
    data = pd.DataFrame({"q1": [1.0, 2.0, 1.0]})
    sf = survey_file(data, {"q1": {1.0: "Yes", 2.0: "Write to help@council.gov.uk"}})
    report = codebook_report(sf)
    assert "@" not in json.dumps(report) + to_markdown(report) + to_csv(report)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jo@example.org", "email"), ("Email me: jo.b+x@mail.example.co.uk.", "email"),
        ("LU1 1AA", "postcode"), ("lu11aa", "postcode"), ("I live in MK40 3AB now", "postcode"),
        ("07700 900123", "phone"), ("(01582) 400100", "phone"), ("+44 7700 900456", "phone"),
        ("ring 0207-946-0018 please", "phone"), ("192.0.2.1", "ip_address"),
        ("2001:db8::1", "ip_address"), ("from 10.0.0.12", "ip_address"),
        # coded answers and other things that are none of these
        ("LU1", None), ("LU1 3", None), ("MK40", None), ("Very safe", None),
        ("Prefer not to say", None), ("n/a", None), ("R_0001xAxQxIo2PVH", None),
        ("ID0123456789", None), ("2024-09-01 10:00", None), ("10:30", None), ("0.5", None),
        ("Year 10 2nd term", None), ("@home", None), (7700900123, None), (None, None),
    ],
    ids=repr,
)
def test_looks_identifying(value: object, kind: str | None) -> None:
    assert looks_identifying(value) == kind


def test_long_texts_are_checked_in_linear_time() -> None:
    assert looks_identifying("a" * 50_000 + "@") is None
    assert looks_identifying("a@" + "." * 50_000 + "x y") is None
    assert looks_identifying("x" * 50_000 + " jo@example.org") == "email"


def test_placeholders_and_descriptions_name_the_kind_only() -> None:
    assert placeholder("email") == "<e-mail-like value>"
    assert placeholder("postcode", 3) == "<postcode-like value ×3>"
    assert describe("ip_address") == "an IP-address-like value"
    assert describe("phone") == "a phone-number-like value"


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("Your name", ["Prefer not to say"] * 9 + ["Amy Patel"], "name"),
        ("Your name", ["Prefer not to say"] * 9 + ["n/a"], None),  # every answer an answer
        ("Phone number", ["no"] * 9 + ["seven seven oh oh"], "phone"),
        ("Can we use your name?", ["Yes", "No"] * 5 + ["Don't know"], None),
        ("May we e-mail you?", ["Yes", "No"] * 5, None),
        ("Postcode", ["MK40", "LU1"] * 5, None),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_open_headers_need_closed_answers_to_be_held_back(name: str, values: list[str],
                                                          expected: str | None) -> None:
    found = classify(name, pd.Series(values, dtype=object))
    assert (found[0] if found else None) == expected, found
