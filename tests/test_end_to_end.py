"""The main job on the bundled synthetic surveys, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from harmonise.pipeline import RunResult, run
from harmonise.report import OUTPUTS, write_report


@pytest.fixture(scope="module")
def result(root: Path) -> RunResult:
    return run(root / "surveys/manifest.yaml", root=root)


@pytest.fixture(scope="module")
def outputs(result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    write_report(result, out)
    return out


def test_every_output_is_written(outputs: Path) -> None:
    assert sorted(p.name for p in outputs.iterdir()) == sorted(OUTPUTS)


def test_all_four_surveys_are_estimated(result: RunResult) -> None:
    est = result.estimates.rows
    assert est["crosswalk"].nunique() == 4
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
    assert pd.notna(adults["p_holm"].iloc[0])
    refused = dark[~dark["compared"].astype(bool)]
    assert len(refused) == 2
    assert refused["reason"].str.contains("different populations").all()
    assert refused["reason"].str.contains("proxy").all()


def test_report_says_synthetic_and_shows_provenance(outputs: Path, result: RunResult) -> None:
    html = (outputs / "index.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in html
    # a 'close' comparison carries its crosswalk note as a caveat
    assert "Read with care:</strong> Bedford Borough Community Safety Partnership: close — " \
        "As Q1A" in html
    assert html.count("data:image/png;base64,") >= 4
    for c in result.provenance["crosswalks"]:  # type: ignore[attr-defined]
        assert c["sha256"] in html
    for i in result.provenance["inputs"]:  # type: ignore[attr-defined]
        assert i["sha256"] in html
    prov = json.loads((outputs / "provenance.json").read_text(encoding="utf-8"))
    assert prov["schema"]["ref"] == "perception-v1"
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


def test_no_identifying_value_leaves_the_tool(outputs: Path, root: Path) -> None:
    secrets = _identifying_values(root)
    assert len(secrets) > 100, "the samples should carry identifying columns to test with"
    for path in outputs.iterdir():
        text = path.read_text(encoding="utf-8")
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{path.name} contains identifying values, e.g. {leaked[:3]}"


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
