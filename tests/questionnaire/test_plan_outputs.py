"""Design effects measured on the bundled surveys, planning design effects, and the two
commands with their outputs (Markdown, HTML, XLSX with Excel tables)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from harmonise.cli import main
from harmonise.questionnaire.measure import (
    SurveyDesignEffect,
    measure_manifest,
    planning_deffs,
)
from harmonise.questionnaire.samplesize import clustering_deff


@pytest.fixture(scope="module")
def effects(root: Path) -> tuple[SurveyDesignEffect, ...]:
    return measure_manifest(root / "surveys/manifest.yaml", root=root)


def test_measured_design_effects_of_the_bundled_surveys(effects) -> None:  # type: ignore[no-untyped-def]
    by = {e.survey: e for e in effects}
    assert len(by) == 5
    pupils = by["luton-pupils-2024@v1"]
    assert pupils.clusters == 10 and pupils.icc is not None and pupils.mean_cluster_size
    assert pupils.clustering == pytest.approx(
        clustering_deff(pupils.mean_cluster_size, pupils.icc, pupils.cv_cluster_size or 0))
    for e in effects:
        assert 1.0 < e.kish < 3.0 and e.measured is not None and e.synthetic
        if e is not pupils:
            assert e.clusters is None and e.clustering == 1.0
        assert e.planning >= e.kish * e.clustering


def test_planning_design_effects(effects) -> None:  # type: ignore[no-untyped-def]
    names = {"bedford": "Bedford", "central-beds": "Central Beds", "luton": "Luton"}
    got = {(d.csp, d.form): d for d in planning_deffs(effects, names, pupils_per_school=30)}
    assert len(got) == 6
    assert "borrowed" in got[("central-beds", "adults")].source  # no adult survey there
    assert "borrowed" in got[("bedford", "young_people")].source
    luton = got[("luton", "young_people")]
    pupils = next(e for e in effects if e.survey == "luton-pupils-2024@v1")
    assert pupils.icc is not None
    assert luton.deff == pytest.approx(pupils.kish * clustering_deff(30, pupils.icc))
    assert luton.break_deff == pytest.approx(pupils.kish)
    assert luton.cluster_size == 30 and luton.icc == pupils.icc
    assert luton.with_cluster_size(200) == pytest.approx(
        pupils.kish * clustering_deff(200, pupils.icc))
    adults = got[("bedford", "adults")]
    assert adults.icc is None and adults.with_cluster_size(200) == adults.deff
    # the later Luton residents' wave is the one planned with
    assert "luton-residents-2025@v2" in got[("luton", "adults")].source


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_sample_size_json_with_a_given_deff(root: Path) -> None:
    out = json.loads(run("questionnaire", "sample-size", "--deff", "1.5", "--json",
                         "--response-rate", "0.25", "--total", "3000", "--root", str(root)))
    adults = next(f for f in out["forms"] if f["form"] == "adults")
    assert {p["respondents"] for p in adults["plans"]} == {2348}
    assert {p["invited"] for p in adults["plans"]} == {9392}
    assert [a["method"] for a in adults["allocations"]] == [
        "equal", "proportional", "neyman", "power", "kish"]
    assert all(sum(a["n"]) == 3000 for a in adults["allocations"])
    assert out["transition"]["arms"] and out["transition"]["items"]


def test_sample_size_writes_the_plan(root: Path, tmp_path: Path) -> None:
    text = run("questionnaire", "sample-size", "--allocation", "proportional",
               "--allocation", "power", "--pupils-per-school", "30", "--out", str(tmp_path),
               "--root", str(root))
    assert "n per group under simple random sampling: 1,564.7" in text
    assert {p.name for p in tmp_path.iterdir()} == {"plan.md", "plan.html", "plan.xlsx"}
    md = (tmp_path / "plan.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in md and "luton-pupils-2024@v1" in md and "six months" in md
    assert "| proportional |" in md and "| neyman |" not in md
    assert "pupils per school" in md and "| 30 |" in md
    html = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html
    wb = load_workbook(tmp_path / "plan.xlsx")
    assert wb.sheetnames[0] == "Notes" and "Overlap arms" in wb.sheetnames
    assert all(ws.tables for ws in wb.worksheets[1:])


def test_bridge_writes_one_sheet_per_partnership(root: Path, tmp_path: Path) -> None:
    text = run("questionnaire", "bridge", "--out", str(tmp_path), "--root", str(root))
    assert "Luton Community Safety Partnership:" in text
    wb = load_workbook(tmp_path / "bridge.xlsx")
    partnerships = [n for n in wb.sheetnames if n != "Notes"]
    assert len(partnerships) == 3
    for name in partnerships:
        ws = wb[name]
        (table,) = ws.tables.values()
        headers = [c.value for c in ws[1]]
        assert headers[:3] == ["Status", "New question", "Concept"]
        assert "Expected effect on the series" in headers
        assert table.ref.startswith("A1:")
    rows = json.loads(run("questionnaire", "bridge", "--json", "--root", str(root)))["rows"]
    assert {r["status"] for r in rows} >= {"bridged", "new"}


def test_bridge_reads_the_questionnaire_spec(root: Path) -> None:
    from harmonise.questionnaire.bridge import joint_items_from_spec
    from harmonise.questionnaire.spec import load_spec

    spec, schema = load_spec(root / "questionnaire/joint-v1.yaml")
    items = joint_items_from_spec(spec, schema)
    forms = {(i.population, i.concept): i for i in items}
    assert ("adults_16plus", "safe_area_dark") in forms
    assert ("young_people_11_18", "safe_area_dark") in forms
    reasons = forms[("adults_16plus", "unsafe_reasons")]
    assert reasons.routed and reasons.question.startswith("adults Q")
    assert "Self-completion" in reasons.mode
    rows = json.loads(run("questionnaire", "bridge", "--json", "--root", str(root)))["rows"]
    # the joint survey's own crosswalks (crosswalks/joint/) are not old items
    assert not any(r["legacy_crosswalk"].startswith("joint-") for r in rows)
    cb_dark = next(r for r in rows if r["csp"] == "central-beds"
                   and r["concept"] == "safe_area_dark" and r["status"] == "bridged")
    assert cb_dark["joint_population"] == "young_people_11_18"
    assert cb_dark["new_question"].startswith("young_people Q")


def test_bridge_page_shows_the_short_columns_and_lists_changes(root: Path) -> None:
    from harmonise.questionnaire.plan import BRIDGE_HEADERS, BRIDGE_PAGE, Document, Section, Table
    from harmonise.questionnaire.plan_write import render_html, render_markdown

    row = tuple(f"v{k}" for k in range(len(BRIDGE_HEADERS)))
    changes = BRIDGE_HEADERS.index("What changes")
    row = (*row[:changes], "scale: a → b (↑ x); mode: c → d (↓ y)", *row[changes + 1:])
    page = tuple(BRIDGE_HEADERS.index(h) for h in BRIDGE_PAGE)
    doc = Document("t", (Section("s", (), (Table("s", BRIDGE_HEADERS, (row,), page_columns=page,
                                                 list_columns=(BRIDGE_PAGE.index(
                                                     "What changes"),)),)),))
    html = render_html(doc)
    assert "scale: a → b (↑ x)<br>mode: c → d (↓ y)" in html
    assert "New wording" not in html and "Old survey" in html
    assert "<br>" in render_markdown(doc)


@pytest.mark.parametrize(("args", "message"), [
    (("sample-size", "--deff", "1.5", "--population", "luton"), "PARTNERSHIP=N"),
    (("sample-size", "--deff", "1.5", "--population", "luton=many"), "PARTNERSHIP=N"),
    (("sample-size", "--difference", "0.6"), "0.6"),
    (("bridge", "--spec", "no-such-spec.yaml"), "does not exist"),
    (("sample-size", "--deff", "1.5", "--total", "2", "--minimum", "1000"), "at least 1000"),
], ids=["population-no-equals", "population-not-a-number", "difference-too-big",
        "missing-spec", "total-below-minimums"])
def test_bad_options_fail_cleanly(root: Path, args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(main, ["questionnaire", *args, "--root", str(root)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
