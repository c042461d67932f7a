"""Bad inputs a real officer could produce, refused with a message saying what to do.

Duplicate keys in any YAML read (crosswalk, manifest, schema, design file); an edited or
unrecorded release used by ``harmonise run``; a manifest listing one export twice (by
name or by content) or one crosswalk for two exports; ``estimate --out`` into a missing
folder. Nothing is written when a run is refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.crosswalk.io import load_crosswalk, load_schema
from harmonise.crosswalk.validate import check_crosswalk
from harmonise.errors import CrosswalkError, EstimationError
from harmonise.pipeline import run

CROSSWALK = "crosswalks/luton/residents-2024.v1.yaml"
CSV = "surveys/luton/residents-2024.csv"


def _project(root: Path, where: Path, extra: str = "") -> Path:
    shutil.copytree(root / "crosswalks", where / "crosswalks")
    (where / "surveys/luton").mkdir(parents=True)
    shutil.copy(root / CSV, where / "surveys/luton")
    shutil.copytree(root / "surveys/targets", where / "surveys/targets")
    (where / "surveys/manifest.yaml").write_text(
        "schema: crosswalks/schema/perception-v1.yaml\nsurveys:\n"
        f"  - file: {CSV}\n    crosswalk: {CROSSWALK}\n    encoding: cp1252\n" + extra,
        encoding="utf-8")
    return where


def _run_cli(project: Path) -> tuple[int, str]:
    out = project / "reports"
    result = CliRunner().invoke(main, ["run", "--root", str(project), "--out", str(out),
                                       "--no-charts"])
    assert not out.exists() or not any(out.iterdir()), "a refused run wrote outputs"
    return result.exit_code, result.output


# --- duplicate YAML keys -------------------------------------------------------------

def test_a_second_items_block_is_a_duplicate_key_error(root: Path) -> None:
    text = (root / CROSSWALK).read_text(encoding="utf-8")
    doubled = text + "items:\n  - id: x\n"
    report = check_crosswalk(doubled, "cw.v1.yaml", schema=None)
    (issue,) = report.issues
    assert issue.code == "key-repeated"
    first = text.splitlines().index("items:") + 1
    last = len(text.splitlines()) + 1
    assert f"cw.v1.yaml, line {last}: key 'items' is written twice at the top level " \
           f"(first at line {first})" in issue.message
    assert "keep one of them" in issue.message


def test_a_recode_key_listed_twice_names_its_line(root: Path, tmp_path: Path) -> None:
    text = (root / CROSSWALK).read_text(encoding="utf-8")
    bad = text.replace('      "Fairly safe": fairly_safe\n',
                       '      "Fairly safe": fairly_safe\n      "Fairly safe": very_safe\n', 1)
    path = tmp_path / "residents-2024.v1.yaml"
    path.write_text(bad, encoding="utf-8")
    line = bad.splitlines().index('      "Fairly safe": very_safe') + 1
    with pytest.raises(CrosswalkError, match=rf"line {line}: key 'Fairly safe' is written "
                                             rf"twice in the mapping that starts at line "
                                             rf"{line - 2} \(first at line {line - 1}\)"):
        load_crosswalk(path)


def test_an_identifying_duplicate_key_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text('a:\n  "jo@example.org": 1\n  "jo@example.org": 2\n', encoding="utf-8")
    with pytest.raises(CrosswalkError) as err:
        load_schema(path)
    assert "jo@example" not in str(err.value) and "e-mail-like value" in str(err.value)


def test_duplicate_keys_in_a_manifest_and_a_design_file(root: Path, tmp_path: Path) -> None:
    project = _project(root, tmp_path / "p")
    manifest = project / "surveys/manifest.yaml"
    manifest.write_text(manifest.read_text() + "schema: other.yaml\n", encoding="utf-8")
    with pytest.raises(CrosswalkError, match="key 'schema' is written twice"):
        run(manifest, root=project)
    design = tmp_path / "d.yaml"
    design.write_text("ids: [dnum]\nweights: pw\nweights: pw2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["estimate", str(root / "tests/data/api/apiclus1.csv"),
                                       "--design", str(design), "--mean", "api00"])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit | EstimationError)
    assert "line 3: key 'weights' is written twice" in result.output


# --- run checks the lock of every crosswalk it uses ------------------------------------

def test_run_refuses_an_edited_release(root: Path, tmp_path: Path) -> None:
    project = _project(root, tmp_path / "p")
    cw = project / CROSSWALK
    text = cw.read_text(encoding="utf-8")
    edited = text.replace("'Sex' only.", "'Sex' only (checked).")
    assert edited != text
    cw.write_text(edited, encoding="utf-8")
    code, out = _run_cli(project)
    assert code != 0
    assert "was released as luton-residents-2024@v1" in out and "has been edited" in out
    assert "git checkout --" in out and ".v2.yaml" in out


def test_every_crosswalk_is_checked_before_any_export_is_read(root: Path,
                                                             tmp_path: Path) -> None:
    """An edited release second in the manifest stops the run before the first survey is
    ingested (it used to fail after every stage of the surveys listed before it)."""
    second = "crosswalks/luton/residents-2025.v2.yaml"
    project = _project(root, tmp_path / "p", extra=(
        f"  - file: surveys/luton/residents-2025.csv\n    crosswalk: {second}\n"
        "    encoding: cp1252\n"))
    shutil.copy(root / "surveys/luton/residents-2025.csv", project / "surveys/luton")
    cw = project / second
    cw.write_text(cw.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    steps: list[str] = []
    with pytest.raises(CrosswalkError, match="has been edited"):
        run(project / "surveys/manifest.yaml", root=project, progress=steps.append)
    assert not [s for s in steps if s.startswith("ingest")], steps


def test_run_refuses_a_release_set_by_hand(root: Path, tmp_path: Path) -> None:
    project = _project(root, tmp_path / "p")
    (project / "crosswalks/lock.json").write_text(
        '{"releases": {}}\n', encoding="utf-8")
    code, out = _run_cli(project)
    assert code != 0 and "the lock file has no entry for luton-residents-2024@v1" in out
    assert "harmonise crosswalk release" in out


def test_a_draft_still_runs_and_says_so(root: Path, tmp_path: Path) -> None:
    project = _project(root, tmp_path / "p")
    cw = project / "crosswalks/luton/new.v1.yaml"
    text = (project / CROSSWALK).read_text(encoding="utf-8")
    cw.write_text(text.replace("status: released", "status: draft").replace(
        "crosswalk: luton-residents-2024", "crosswalk: luton-new"), encoding="utf-8")
    manifest = project / "surveys/manifest.yaml"
    manifest.write_text(manifest.read_text().replace(CROSSWALK, "crosswalks/luton/new.v1.yaml"),
                        encoding="utf-8")
    result = run(manifest, root=project)
    assert result.provenance.crosswalks[0].status == "draft"


# --- the same export twice -------------------------------------------------------------

def test_a_manifest_listing_one_file_twice_is_refused(root: Path, tmp_path: Path) -> None:
    project = _project(root, tmp_path / "p", extra=(
        f"  - file: {CSV}\n    crosswalk: crosswalks/luton/residents-2025.v2.yaml\n"))
    code, out = _run_cli(project)
    assert code != 0
    assert f"surveys entry 2 lists file '{CSV}' again (first in entry 1)" in out
    assert "compared with itself" in out


def test_the_same_bytes_under_two_names_are_refused(root: Path, tmp_path: Path) -> None:
    project = _project(root, tmp_path / "p", extra=(
        "  - file: surveys/luton/copy.csv\n    crosswalk: "
        "crosswalks/luton/residents-2025.v2.yaml\n    encoding: cp1252\n"))
    shutil.copy(project / CSV, project / "surveys/luton/copy.csv")
    with pytest.raises(CrosswalkError, match=r"copy.csv has the same content .* as "
                                             r"surveys/luton/residents-2024.csv"):
        run(project / "surveys/manifest.yaml", root=project)


def test_one_crosswalk_for_two_exports_is_refused(root: Path, tmp_path: Path) -> None:
    project = _project(root, tmp_path / "p", extra=(
        f"  - file: surveys/luton/other.csv\n    crosswalk: {CROSSWALK}\n"))
    with pytest.raises(CrosswalkError, match="both use crosswalk luton-residents-2024@v1"):
        run(project / "surveys/manifest.yaml", root=project)


# --- estimate --out ----------------------------------------------------------------------

def test_estimate_out_into_a_missing_folder_is_a_clear_error(root: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "no/such/folder/est.csv"
    result = CliRunner().invoke(main, [
        "estimate", str(root / "tests/data/api/apiclus1.csv"),
        "--design", str(root / "tests/data/api/apiclus1.design.yaml"),
        "--mean", "api00", "--out", str(out)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert f"the folder {out.parent} does not exist" in result.output
    assert "mkdir -p" in result.output and not out.parent.exists()


def test_estimate_out_writes_the_whole_table(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "est.csv"
    result = CliRunner().invoke(main, [
        "estimate", str(root / "tests/data/api/apiclus1.csv"),
        "--design", str(root / "tests/data/api/apiclus1.design.yaml"),
        "--mean", "api00", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("statistic,") or "api00" in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["est.csv"]  # no temporary file left
