"""One rule for the project root (harmonise.cli.root), used by every command.

--root when given; else the nearest folder holding crosswalks/ at or above the start
(the current directory; for run --manifest FILE the manifest's grandparent); else the
start itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.cli.root import find_root, project_root

CROSSWALK = "crosswalks/luton/residents-2024.v1.yaml"


def _project(root: Path, where: Path) -> Path:
    """A copy of the bundled project with one survey (Luton residents 2024)."""
    shutil.copytree(root / "crosswalks", where / "crosswalks")
    (where / "surveys/luton").mkdir(parents=True)
    shutil.copy(root / "surveys/luton/residents-2024.csv", where / "surveys/luton")
    shutil.copytree(root / "surveys/targets", where / "surveys/targets")
    (where / "surveys/manifest.yaml").write_text(
        "schema: crosswalks/schema/perception-v1.yaml\nsurveys:\n"
        f"  - file: surveys/luton/residents-2024.csv\n    crosswalk: {CROSSWALK}\n"
        "    encoding: cp1252\n", encoding="utf-8")
    return where


@pytest.fixture(scope="module")
def project(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project that has been run once: reports/ and its store exist."""
    where = _project(root, tmp_path_factory.mktemp("proj") / "project")
    (where / "docs/notes").mkdir(parents=True)
    result = CliRunner().invoke(main, ["run", "--manifest", str(where / "surveys/manifest.yaml"),
                                       "--no-charts"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return where


def test_explicit_root_wins_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "crosswalks").mkdir()
    monkeypatch.chdir(tmp_path)
    assert project_root(Path("elsewhere")) == Path("elsewhere")


@pytest.mark.parametrize(
    ("markers", "start", "expected"),
    [
        ([""], "", "."),
        ([""], "a/b/c", "."),
        (["", "a"], "a/b", "a"),  # the nearest, not the outermost
        ([], "a/b", "a/b"),  # no project: the start itself
    ],
    ids=["at-root", "deep-below", "nearest-wins", "no-marker"],
)
def test_the_nearest_folder_holding_crosswalks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, markers: list[str], start: str,
    expected: str,
) -> None:
    base = tmp_path / "p"
    (base / start).mkdir(parents=True, exist_ok=True)
    for m in markers:
        (base / m / "crosswalks").mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(base / start)
    assert (Path.cwd() / project_root()).resolve() == (base / expected).resolve()


def test_a_root_at_the_cwd_reads_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "crosswalks").mkdir()
    monkeypatch.chdir(tmp_path)
    assert project_root() == Path()  # so 'crosswalks/…', 'reports/' print as they did
    assert str(project_root() / "reports") == "reports"


def test_a_file_named_crosswalks_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "crosswalks").write_text("not a folder", encoding="utf-8")
    assert find_root(tmp_path) != tmp_path.resolve()
    (tmp_path / "sub/crosswalks").mkdir(parents=True)
    assert find_root(tmp_path / "sub") == (tmp_path / "sub").resolve()


def test_a_root_outside_the_cwd_is_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "crosswalks").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert project_root(start=tmp_path) == tmp_path.resolve()


def test_run_from_a_subdirectory_uses_the_project(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = project / "reports/index.html"
    stamp = report.stat().st_mtime_ns
    monkeypatch.chdir(project / "docs/notes")
    result = CliRunner().invoke(main, ["run", "--no-charts"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert report.stat().st_mtime_ns != stamp  # ROOT/reports rewritten …
    assert not (project / "docs/notes/reports").exists()  # … and nothing left in the cwd
    assert f" files to {project.resolve() / 'reports'}/ " in result.output


def test_run_with_a_manifest_elsewhere_keeps_its_grandparent(
    project: Path, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # run from inside another project: the manifest's project is still the one used
    monkeypatch.chdir(root)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "--manifest", str(project / "surveys/manifest.yaml"),
                                       "--out", str(out), "--no-charts"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert [c["path"] for c in prov["crosswalks"]] == [CROSSWALK]


def test_provenance_verify_from_a_subdirectory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "docs/notes")
    result = CliRunner().invoke(main, ["provenance", str(project / "reports"), "--verify"])
    assert result.exit_code == 0, result.output
    assert f"OK       {CROSSWALK}" in result.output and "MISSING" not in result.output


def test_report_and_validate_from_a_subdirectory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "docs/notes")
    listed = CliRunner().invoke(main, ["report", "--list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) >= 1  # found ROOT/reports/harmonise.sqlite
    checked = CliRunner().invoke(main, ["crosswalk", "validate", "--json"])
    assert checked.exit_code == 0, checked.output
    files = json.loads(checked.output)["files"]
    assert any(f.endswith(CROSSWALK) for f in files)
