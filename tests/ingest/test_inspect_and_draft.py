"""harmonise inspect: the codebook, its files, and the draft crosswalk it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.crosswalk.draft import draft_crosswalk, slug
from harmonise.crosswalk.io import load_crosswalk
from harmonise.crosswalk.release import release
from harmonise.errors import CrosswalkError
from harmonise.ingest import read_survey
from harmonise.ingest.codebook import codebook_report
from harmonise.suggest.rank import Question, Suggester
from harmonise.suggest.scales import missing_type

SAMPLES = ["surveys/bedford/bedford-residents-2024.sav",
           "surveys/central-beds/young-people-2024.xlsx",
           "surveys/luton/pupils-2024.dta", "surveys/luton/residents-2024.csv"]


def _private_csv(tmp: Path) -> Path:
    path = tmp / "private.csv"
    path.write_text(
        "ID,Email address,Postcode,Sex,How safe do you feel walking alone in this area after "
        "dark?\n1,jo.bloggs@example.org,LU1 1AA,Female,Very safe\n"
        "2,sam.smith@example.org,LU2 7BB,Male,A bit unsafe\n3,,LU3 2CC,Female,Don't know\n",
        encoding="utf-8")
    return path


def test_codebook_lists_labels_missing_and_counts(root: Path) -> None:
    report = codebook_report(read_survey(root / SAMPLES[0]))
    q1a = next(v for v in report["variables"] if v["name"] == "Q1A")
    assert q1a["label"].startswith("How safe")
    assert q1a["user_missing"] == [98, 99]
    counts = {c["value"]: c for c in q1a["counts"]}
    assert counts[98]["user_missing"] and counts[98]["label"]
    assert sum(c["count"] for c in q1a["counts"]) + q1a["n_blank"] == report["rows"]
    assert next(v for v in report["variables"] if v["name"] == "RESPID")["counts"] is None
    assert {f["name"] for f in report["flagged"]} == {"EMAIL", "POSTCODE", "COMMENT"}
    assert report["multi_select"][0]["name"] == "Q3"


def test_inspect_writes_codebook_files_and_never_identifying_values(tmp_path: Path) -> None:
    path = _private_csv(tmp_path)
    out = tmp_path / "cb"
    result = CliRunner().invoke(main, ["inspect", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Email address: email, removed" in result.output
    texts = [result.output] + [(out / f).read_text() for f in
                                ("codebook.json", "codebook.md", "codebook.csv")]
    for text in texts:
        for secret in ("jo.bloggs", "example.org", "LU1 1AA", "LU2"):
            assert secret not in text
    report = json.loads((out / "codebook.json").read_text())
    sex = next(v for v in report["variables"] if v["name"] == "Sex")
    assert {c["value"]: c["count"] for c in sex["counts"]} == {"Female": 2, "Male": 1}


def test_kept_identifying_column_shows_no_values(tmp_path: Path) -> None:
    sf = read_survey(_private_csv(tmp_path), postcode_district={"Postcode": "area lookup"})
    report = codebook_report(sf)
    postcode = next(v for v in report["variables"] if v["name"] == "Postcode")
    assert postcode["counts"] is None and postcode["identifying"] == "postcode"
    assert "LU1" not in json.dumps(report)


def test_inspect_json_and_ingest_alias(root: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", str(root / SAMPLES[3]), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["encoding"] == "cp1252"
    alias = CliRunner().invoke(main, ["ingest", str(root / SAMPLES[3]), "--json"])
    assert alias.exit_code == 0 and json.loads(alias.output)["rows"] == 810


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: Path(s).suffix)
def test_draft_crosswalk_loads_as_draft_and_cannot_be_released(
        sample: str, root: Path, schema: Any, tmp_path: Path) -> None:
    survey = read_survey(root / sample)
    text = draft_crosswalk(survey, schema)
    path = tmp_path / "draft.v1.yaml"
    path.write_text(text, encoding="utf-8")
    cw = load_crosswalk(path)
    assert cw.status == "draft" and cw.schema_ref == schema.ref
    listed = {i.source for i in cw.items} | set(cw.unmapped) | {cw.respondent_id}
    assert listed >= set(survey.codebook.variables)
    assert set(cw.unmapped) >= {f.name for f in survey.flagged}
    # each item is either left to a person (unassessed, a TODO note) or has a grade the
    # file supports, with a note saying what was checked
    for item in cw.items:
        if item.comparability == "unassessed":
            assert item.note.startswith("TODO:")
        else:
            assert item.comparability in ("close", "equivalent")
            assert "TODO" not in item.note and not item.note.startswith("draft:")
    assert text.count("# proposed from the file: check") == sum(
        i.comparability != "unassessed" for i in cw.items)
    # the header decisions the file cannot show stay marked, so it cannot be released
    assert 'mode: "TODO:' in text and 'sampling: "TODO:' in text
    lock = tmp_path / "lock.json"
    with pytest.raises(CrosswalkError, match=r"line \d+: TODO marker \(mode\)"):
        release(path, schema_path=root / "crosswalks/schema/perception-v1.yaml",
                lock_path=lock)
    assert not lock.exists() and path.read_text(encoding="utf-8") == text


def test_draft_prefills_recode_from_labels_and_suggests_concepts(root: Path,
                                                                 schema: Any) -> None:
    survey = read_survey(root / SAMPLES[0])
    raw = yaml.safe_load(draft_crosswalk(survey, schema, method="lexical"))
    items = {i["source"]: i for i in raw["items"]}
    assert raw["respondent_id"] == "RESPID"
    assert items["SEX"]["concept"] == "sex"
    assert items["SEX"]["recode"] == {1: "female", 2: "male"}  # matched to scale codes
    assert items["Q1A"]["missing"].get(98) == "dont_know"
    assert items["WARD"]["concept"] == "area"  # place-name options, "ward" read as area
    assert items["Q3_1"]["concept"] == "unsafe_reasons"  # the tick-box group as one question
    assert items["Q3_1"]["option"] and items["Q3_1"]["scale"] == "multi"
    assert set(raw["unmapped"]) == {"EMAIL", "POSTCODE", "COMMENT"}


def test_draft_crosswalk_from_the_cli(tmp_path: Path, root: Path) -> None:
    out = tmp_path / "luton-new.v1.yaml"
    result = CliRunner().invoke(main, ["inspect", str(_private_csv(tmp_path)),
                                       "--draft-crosswalk", str(out),
                                       "--schema", str(root / "crosswalks/schema/"
                                                       "perception-v1.yaml")])
    assert result.exit_code == 0, result.output
    cw = load_crosswalk(out)
    assert cw.crosswalk == "luton-new"
    dark = next(i for i in cw.items if i.source.startswith("How safe"))
    assert dark.concept == "safe_area_dark"
    assert dark.missing == {"Don't know": "dont_know"}
    assert "score" in out.read_text()
    assert "jo.bloggs" not in out.read_text() and "LU1 1AA" not in out.read_text()
    again = CliRunner().invoke(main, ["inspect", str(_private_csv(tmp_path)),
                                      "--draft-crosswalk", str(out), "--schema",
                                      str(root / "crosswalks/schema/perception-v1.yaml")])
    assert again.exit_code != 0 and "already exists" in again.output
    assert load_crosswalk(out) == cw  # a draft being edited is never replaced


def test_suggestions_are_explained(schema: Any) -> None:
    suggester = Suggester(schema, "lexical")
    door, dark = suggester.suggest([
        Question("Colour of your front door?"),
        Question("How safe do you feel in the town centre after dark?")])
    assert door.suggestion == "none"
    assert dark.suggestion == "safe_towncentre_dark"
    assert dark.best is not None and any("time matches" in r for r in dark.best.reasons)


@pytest.mark.parametrize(("label", "kind"), [
    ("Don't know", "dont_know"), ("Prefer not to say", "refused"), ("N/A", "not_applicable"),
    ("No answer", "no_answer"), ("Very safe", None), ("No", None)])
def test_missing_type_table(label: str, kind: str | None) -> None:
    assert missing_type(label) == kind


@pytest.mark.parametrize(("text", "expected"), [
    ("Very safe", "very_safe"), ("18-34", "18_34"), ("65+", "65_plus"), ("Don’t know", "dont_know"),
    ("  ", "value")])
def test_slug_table(text: str, expected: str) -> None:
    assert slug(text) == expected
