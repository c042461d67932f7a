"""The main job on the bundled synthetic surveys, end to end."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.models.run import RunResult
from harmonise.pipeline import load_manifest, run
from harmonise.report import OPTIONAL_OUTPUTS, OUTPUTS, report_data, write_report
from harmonise.store import Store


@pytest.fixture(scope="module")
def result(bundled_run: RunResult) -> RunResult:
    return bundled_run


@pytest.fixture(scope="module")
def outputs(result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    write_report(result, out)
    return out


def test_every_output_is_written(outputs: Path) -> None:
    # the bundled samples have two Luton residents' waves, so trends.csv is written too,
    # and subgroups to test, so subgroup_differences.csv; charts/ holds every chart
    assert sorted(p.name for p in outputs.iterdir()) == sorted(
        (*OUTPUTS, *OPTIONAL_OUTPUTS, "charts"))
    charts = sorted(p.name for p in (outputs / "charts").iterdir())
    assert len(charts) > 10 and "alt-text.txt" in charts
    assert {p.rsplit(".", 1)[0] for p in charts if p.endswith(".png")} == {
        p.rsplit(".", 1)[0] for p in charts if p.endswith(".svg")}


def test_every_manifest_survey_is_estimated(result: RunResult, root: Path) -> None:
    est = result.estimates.rows
    manifest = load_manifest(root / "surveys/manifest.yaml")
    assert est["crosswalk"].nunique() == len(manifest.surveys) >= 4
    overall = est[est["group_var"] == "all"]
    assert overall["estimate"].notna().sum() > 30
    ok = overall.dropna(subset=["estimate"])
    assert ((ok["ci_low"] <= ok["estimate"]) & (ok["estimate"] <= ok["ci_high"])).all()
    assert (ok["se"] > 0).all()


def test_bedford_and_luton_adults_are_compared_after_dark(result: RunResult) -> None:
    comp = result.comparisons.rows
    dark = comp[comp["indicator"] == "safe_area_dark_safe"]
    adults = dark[dark["a"].str.startswith("bedford") & dark["b"].str.startswith("luton-res")]
    assert len(adults) == 1 and bool(adults["compared"].iloc[0])
    caveats = adults["caveats"].iloc[0]
    assert "different response scales (safety5 vs" in caveats  # Bedford's 5-point item
    assert "Bedford Borough Community Safety Partnership is an opt-in sample" in caveats
    assert pd.notna(adults["p_adjusted"].iloc[0]) and adults["correction"].iloc[0] == "holm"
    refused = dark[~dark["compared"].astype(bool)]
    assert len(refused) == 2
    assert refused["reason"].str.contains("different populations").all()
    assert refused["reason"].str.contains("proxy").all()


def test_report_says_synthetic_and_shows_provenance(outputs: Path, result: RunResult) -> None:
    html = (outputs / "index.html").read_text(encoding="utf-8")
    assert "Synthetic data: every figure in this report" in html
    # a comparison made carries its caveats in words
    assert "Read with care: " in html and "Bedford Borough is an opt-in sample" in html
    assert html.count("data:image/svg+xml;base64,") >= 4
    for c in result.provenance.crosswalks:
        assert c.sha256 in html
    for i in result.provenance.inputs:
        assert i.sha256 in html
    prov = json.loads((outputs / "provenance.json").read_text(encoding="utf-8"))
    assert prov["schema"]["ref"] == "perception-v1"
    for name, digest in prov["outputs"].items():  # the record names the bytes it belongs to
        assert hashlib.sha256((outputs / name).read_bytes()).hexdigest() == digest, name
    assert '<script type="application/json" id="harmonise-provenance">' in html
    assert prov["synthetic"] is True


def _identifying_values(root: Path) -> set[str]:
    """Emails, postcodes and free text in the raw sample exports, read without harmonise."""
    values: set[str] = set()
    sav, _ = pyreadstat.read_sav(str(root / "surveys/bedford/bedford-residents-2024.sav"))
    for col in ("EMAIL", "POSTCODE", "COMMENT"):
        values |= {str(v) for v in sav[col].dropna() if len(str(v)) >= 6}
    csv = pd.read_csv(root / "surveys/luton/residents-2024.csv", encoding="cp1252", dtype=str)
    for col in csv.columns:
        if "mail" in col.lower() or "comment" in col.lower():
            values |= {str(v) for v in csv[col].dropna() if len(str(v)) >= 6}
    xlsx = pd.read_excel(root / "surveys/central-beds/young-people-2024.xlsx", header=None,
                         dtype=str)
    header = xlsx.iloc[1].fillna("")
    for j, h in enumerate(header):
        if h == "Open-Ended Response":
            values |= {str(v) for v in xlsx.iloc[2:, j].dropna() if len(str(v)) >= 6}
    return values


def _text_of(path: Path) -> str:
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
        text = "\n".join(str(v) for ws in book.worksheets
                         for row in ws.iter_rows(values_only=True) for v in row)
        book.close()
        return text
    if path.suffix == ".png":  # pixels only; the same chart's words are in its .svg
        return ""
    if path.suffix == ".sqlite":  # every byte of the database, as text
        return path.read_bytes().decode("utf-8", errors="replace")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def stored(result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "harmonise.sqlite"
    with Store(path) as store:
        store.save(report_data(result))
    return path


def test_no_identifying_value_leaves_the_tool(outputs: Path, stored: Path, root: Path) -> None:
    secrets = _identifying_values(root)
    assert len(secrets) > 100, "the samples should carry identifying columns to test with"
    for path in [*(p for p in outputs.rglob("*") if p.is_file()), stored]:
        text = _text_of(path)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{path.name} contains identifying values, e.g. {leaked[:3]}"


def test_harmonise_report_regenerates_the_run_byte_for_byte(
    outputs: Path, stored: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    cli = CliRunner().invoke(main, ["report", "--store", str(stored), "--run", "latest",
                                    "--out", str(again)])
    assert cli.exit_code == 0, cli.output
    assert "run 1" in cli.output and "SYNTHETIC" in cli.output
    # the run's own files were written without a run id; the stored run's say "run 1"
    html = (again / "index.html").read_text(encoding="utf-8")
    assert "workspace run 1" in html
    for name in OUTPUTS:
        if name not in ("index.html", "provenance.json"):
            assert (again / name).read_bytes() == (outputs / name).read_bytes(), name
    # provenance is the same but for the hash of index.html, which names the stored run
    prov_again = json.loads((again / "provenance.json").read_text(encoding="utf-8"))
    prov_run = json.loads((outputs / "provenance.json").read_text(encoding="utf-8"))
    assert prov_again["outputs"].pop("index.html") != prov_run["outputs"].pop("index.html")
    assert prov_again == prov_run
    assert html.replace("; workspace run 1", "").replace(" (workspace run 1)", "") == \
        (outputs / "index.html").read_text(encoding="utf-8")


def test_tables_xlsx_has_notes_and_marks_suppressed_cells(outputs: Path) -> None:
    # the workbook's structure is tested in tests/report/test_tables_xlsx.py
    book = openpyxl.load_workbook(outputs / "tables.xlsx", read_only=True)
    assert book.sheetnames[:4] == ["Cover", "Contents", "Notes", "Columns"]
    notes = [str(r[1]) for r in book["Notes"].iter_rows(values_only=True)
             if len(r) > 1 and r[1]]
    assert any(n.startswith("SYNTHETIC DATA") for n in notes)
    assert any(n.startswith("[c] means suppressed") for n in notes)
    rows = list(book["Table 1"].iter_rows(min_row=5, values_only=True))
    header = next(book["Table 1"].iter_rows(min_row=4, max_row=4, values_only=True))
    col = {name: i for i, name in enumerate(header)}
    suppressed = [r for r in rows if r[col["Suppressed"]] == "Yes"]
    assert suppressed, "the sample run should have suppressed cells"
    assert all(r[col["Percentage"]] == "[c]" and r[col["Why suppressed"]]
               for r in suppressed)
    assert not any(r[col["Percentage"]] == 0 for r in suppressed)
    book.close()


def test_same_inputs_give_byte_identical_tables(
    result: RunResult, outputs: Path, root: Path, tmp_path: Path
) -> None:
    again = run(root / "surveys/manifest.yaml", root=root)
    write_report(again, tmp_path, charts=False)
    for name in OUTPUTS:
        if name.endswith(".csv"):
            assert (tmp_path / name).read_bytes() == (outputs / name).read_bytes(), name


def test_weighting_converged_and_hit_targets(result: RunResult) -> None:
    for ws in result.surveys:
        d = ws.diagnostics
        assert d is not None and d.converged
        for m in d.margins:
            assert m.achieved == pytest.approx(m.target, rel=1e-8)
        assert 1 <= d.kish_deff < 5


def test_complete_margins_leave_the_outputs_as_they_were(result: RunResult,
                                                         outputs: Path) -> None:
    """The bundled exports have every sex/age/area: no missing treatment is applied, and
    the weighting table, margins and report have no trace of one (same bytes as before)."""
    assert all(ws.diagnostics is not None and not ws.diagnostics.missing
               for ws in result.surveys)
    assert not any(c.startswith(("_imputed_", "_weighting_"))
                   for ws in result.surveys for c in ws.data.columns)
    assert "missing" not in pd.read_csv(outputs / "weighting.csv").columns
    assert "(missing)" not in set(pd.read_csv(outputs / "margins.csv")["category"])
    assert "weighting-missing" not in (outputs / "index.html").read_text(encoding="utf-8")
