"""The ``harmonise crosswalk`` and ``harmonise provenance`` commands (thin: parse, call, print)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.models.run import RunResult
from harmonise.report import write_report

DATA = Path(__file__).resolve().parent.parent / "data" / "crosswalks"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_validate_exit_code_and_json(root: Path) -> None:
    schema = str(root / "crosswalks/schema/perception-v1.yaml")
    lock = str(DATA / "lock.json")
    code, out = _run("crosswalk", "validate", str(DATA / "valid.v1.yaml"), "--schema", schema,
                     "--lock", lock)
    assert code == 0 and "valid: 1 file checked, no issues" in out
    code, out = _run("crosswalk", "validate", str(DATA / "value-not-in-recode.v1.yaml"),
                     "--data", str(DATA / "value-not-in-recode.csv"), "--schema", schema,
                     "--lock", lock, "--json")
    payload = json.loads(out)
    assert code == 1 and payload["valid"] is False
    assert payload["counts"] == {"value-not-in-recode": 2}
    assert payload["issues"][0]["value"] == "7" and payload["issues"][0]["row"] == 2
    code, out = _run("crosswalk", "validate", str(DATA / "column-unmapped.v1.yaml"),
                     "--data", str(DATA / "column-unmapped.csv"), "--schema", schema,
                     "--lock", lock)
    assert code == 0 and "WARNING column-unmapped" in out  # warnings do not fail


def test_validate_data_needs_one_crosswalk(root: Path) -> None:
    code, out = _run("crosswalk", "validate", str(DATA), "--data", str(DATA / "valid.v1.yaml"))
    assert code == 2 and "one crosswalk" in out


def test_diff_and_schema_commands(root: Path) -> None:
    a = str(root / "crosswalks/bedford/residents-2024.v1.yaml")
    code, out = _run("crosswalk", "diff", a, a)
    assert code == 0 and out.endswith("no changes\n")
    code, out = _run("crosswalk", "diff", a, str(root / "crosswalks/luton/residents-2024.v1.yaml"),
                     "--json")
    assert code == 0 and json.loads(out)["counts"]["item-removed"] > 0
    code, out = _run("crosswalk", "schema")
    assert code == 0
    assert out == (root / "crosswalks/crosswalk.schema.json").read_text(encoding="utf-8")


def test_release_error_is_clean(tmp_path: Path) -> None:
    code, out = _run("crosswalk", "release", str(tmp_path / "nope.v1.yaml"))
    assert code == 2 and "file not found" in out and "Traceback" not in out


def test_provenance_prints_and_verifies(tmp_path: Path) -> None:
    (tmp_path / "cw.yaml").write_text("x", encoding="utf-8")
    (tmp_path / "data.csv").write_text("a\n1\n", encoding="utf-8")
    sha = {n: hashlib.sha256((tmp_path / n).read_bytes()).hexdigest()
           for n in ("cw.yaml", "data.csv")}
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "estimates.csv").write_text("x\n", encoding="utf-8")
    prov = {"tool": "harmonise", "tool_version": "9.9", "run_at": "2026-01-01T00:00:00+00:00",
            "schema": {"ref": "perception-v1", "path": "schema.yaml", "sha256": "0" * 64},
            "crosswalks": [{"crosswalk": "c", "version": 3, "status": "released",
                            "sha256": sha["cw.yaml"], "path": "cw.yaml"}],
            "inputs": [{"file": "data.csv", "sha256": sha["data.csv"], "rows": 1,
                        "format": "csv"}],
            "targets": [], "synthetic": True}
    (reports / "provenance.json").write_text(json.dumps(prov), encoding="utf-8")
    code, out = _run("provenance", str(reports / "estimates.csv"))
    assert code == 0
    assert "harmonise 9.9" in out and "perception-v1" in out
    assert f"c@v3 (released)  cw.yaml  sha256 {sha['cw.yaml']}" in out
    assert f"data.csv  sha256 {sha['data.csv']}" in out and "SYNTHETIC" in out
    code, out = _run("provenance", str(reports), "--verify", "--root", str(tmp_path))
    assert code == 1 and "MISSING  schema.yaml" in out and "OK       cw.yaml" in out
    (tmp_path / "data.csv").write_text("a\n2\n", encoding="utf-8")
    code, out = _run("provenance", str(reports / "provenance.json"), "--json", "--verify",
                     "--root", str(tmp_path))
    checks = {c["path"]: c["status"] for c in json.loads(out)["verify"]}
    assert code == 1 and checks == {"schema.yaml": "missing", "cw.yaml": "ok",
                                    "data.csv": "changed"}


def test_provenance_reads_a_record_embedded_in_html(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text('<html><script type="application/json" id="harmonise-provenance">'
                    '{"tool_version": "1.2", "schema": {"ref": "perception-v7"}}'
                    "</script></html>", encoding="utf-8")
    code, out = _run("provenance", str(page))
    assert code == 0 and "perception-v7" in out and "harmonise 1.2" in out
    code, out = _run("provenance", str(tmp_path / "other.csv"))
    assert code == 2 and "no such file" in out


@pytest.fixture(scope="module")
def report_folder(bundled_run: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report written by the main job on the bundled samples (no charts: faster)."""
    out = tmp_path_factory.mktemp("report")
    write_report(bundled_run, out, charts=False)
    return out


def test_verify_checks_the_report_files_themselves(
    report_folder: Path, root: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copied"
    shutil.copytree(report_folder, copy)
    recorded = json.loads((copy / "provenance.json").read_text(encoding="utf-8"))["outputs"]
    assert {"index.html", "estimates.csv", "tables.xlsx"} <= set(recorded)
    code, out = _run("provenance", str(copy), "--verify", "--root", str(root))
    assert code == 0, out
    assert f"OK       {copy / 'estimates.csv'}" in out and f"OK       {copy / 'index.html'}" in out

    with (copy / "estimates.csv").open("a", encoding="utf-8") as f:
        f.write("tampered\n")
    (copy / "audit.csv").unlink()
    # index.html embeds a record without output hashes: those beside it are used
    code, out = _run("provenance", str(copy / "index.html"), "--verify", "--root", str(root))
    assert code == 1
    assert f"CHANGED  {copy / 'estimates.csv'}" in out
    assert f"MISSING  {copy / 'audit.csv'}" in out
    assert f"OK       {copy / 'comparisons.csv'}" in out
    assert "verify failed: 2 file(s) differ from the record" in out
    assert f"{copy / 'estimates.csv'} (changed)" in out
    code, out = _run("provenance", str(copy / "provenance.json"), "--json", "--verify",
                     "--root", str(root))
    checks = {c["path"]: (c["kind"], c["status"]) for c in json.loads(out)["verify"]}
    assert code == 1 and checks[str(copy / "estimates.csv")] == ("output", "changed")
    assert all(s == "ok" for kind, s in checks.values() if kind == "input")


def test_verify_says_when_a_report_has_no_output_hashes(tmp_path: Path) -> None:
    (tmp_path / "provenance.json").write_text('{"tool_version": "0.1"}', encoding="utf-8")
    code, out = _run("provenance", str(tmp_path), "--verify")
    assert code == 0 and "none recorded" in out
    (tmp_path / "provenance.json").write_text('{"outputs": ["a.csv"]}', encoding="utf-8")
    code, out = _run("provenance", str(tmp_path), "--verify")
    assert code == 2 and "'outputs' is not a mapping" in out


def test_a_crosswalk_outside_the_project_uses_the_projects_schema(root: Path,
                                                                  tmp_path: Path) -> None:
    """A draft kept elsewhere is checked against ROOT/crosswalks/schema (the README's root
    rule), not refused for a schema beside it that does not exist."""
    draft = tmp_path / "elsewhere" / "x.yaml"
    draft.parent.mkdir()
    text = (root / "crosswalks/luton/residents-2024.v1.yaml").read_text(encoding="utf-8")
    draft.write_text(text.replace("status: released", "status: draft"), encoding="utf-8")
    code, out = _run("crosswalk", "validate", str(draft), "--root", str(root), "--json")
    assert "schema-version-mismatch" not in out
    assert code == 0, out
