"""Releases are immutable: the lock, ``harmonise crosswalk release`` and the changelog."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from harmonise.crosswalk.io import content_hash, load_crosswalk
from harmonise.crosswalk.lock import read_lock
from harmonise.crosswalk.release import release
from harmonise.crosswalk.validate import validate_paths
from harmonise.errors import CrosswalkError

SAMPLES = ("bedford/residents-2024.v1.yaml", "central-beds/young-people-2024.v1.yaml",
           "luton/pupils-2024.v1.yaml", "luton/residents-2024.v1.yaml")


def test_sample_crosswalks_are_locked_released_v1(root: Path) -> None:
    lock = read_lock(root / "crosswalks/lock.json")
    for rel in SAMPLES:
        path = root / "crosswalks" / rel
        cw = load_crosswalk(path)
        entry = lock.get(cw.crosswalk, cw.version)
        assert cw.status == "released" and cw.version == 1
        assert entry is not None and entry.path == rel
        assert entry.sha256 == content_hash(path), f"{rel} was edited after release"
    changelog = (root / "crosswalks/CHANGELOG.md").read_text(encoding="utf-8")
    assert all(f"## {e.key} (" in changelog for e in lock.entries)


def test_every_locked_release_validates(root: Path) -> None:
    lock = read_lock(root / "crosswalks/lock.json")
    report = validate_paths([root / "crosswalks" / e.path for e in lock.entries])
    assert report.valid, report.to_table()


@pytest.fixture
def tree(tmp_path: Path, root: Path) -> Path:
    """A crosswalks/ folder with the schema, the Bedford v1 release and its lock."""
    cws = tmp_path / "crosswalks"
    (cws / "bedford").mkdir(parents=True)
    shutil.copytree(root / "crosswalks/schema", cws / "schema")
    shutil.copy(root / "crosswalks/bedford/residents-2024.v1.yaml", cws / "bedford")
    lock = read_lock(root / "crosswalks/lock.json")
    entry = lock.get("bedford-residents-2024", 1)
    assert entry is not None
    (cws / "lock.json").write_text(type(lock)((entry,)).to_json(), encoding="utf-8")
    return cws


def _draft_v2(tree: Path, *, changelog: bool = True, grade: str = "proxy") -> Path:
    v1 = (tree / "bedford/residents-2024.v1.yaml").read_text(encoding="utf-8")
    text = v1.replace("version: 1", "version: 2").replace("status: released", "status: draft")
    if changelog:
        text = text.replace("changelog:\n", "changelog:\n  - \"v2: Q1A graded proxy.\"\n")
    text = text.replace("    comparability: close\n", f"    comparability: {grade}\n", 1)
    path = tree / "bedford/residents-2024.v2.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_release_freezes_a_draft(tree: Path) -> None:
    path = _draft_v2(tree)
    before = path.read_text(encoding="utf-8")
    plan = release(path, today=dt.date(2026, 1, 5))
    after = path.read_text(encoding="utf-8")
    assert after == before.replace("status: draft", "status: released")  # comments kept
    lock = read_lock(tree / "lock.json")
    assert lock.get("bedford-residents-2024", 2) == plan.entry
    assert plan.entry.path == "bedford/residents-2024.v2.yaml"
    assert plan.entry.sha256 == content_hash(path)
    log = (tree / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## bedford-residents-2024@v2 (2026-01-05)" in log
    assert "- v2: Q1A graded proxy." in log
    assert "item q1a: grade lowered from close to proxy" in log
    assert validate_paths([tree]).valid
    # and it is now immutable
    path.write_text(after.replace("Q1A graded proxy", "Q1A graded as proxy"), encoding="utf-8")
    report = validate_paths([path])
    assert [i.code for i in report.issues] == ["release-edited"]
    with pytest.raises(CrosswalkError, match="already released"):
        release(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"changelog": False}, r"no changelog entry for this version.*v2: what changed"),
     ({"grade": "unassessed"}, r"cannot be released until.*grade-missing.*item=q1a")],
    ids=["no-changelog-entry", "unassessed-grade"],
)
def test_release_refuses_incomplete_drafts(tree: Path, kwargs: dict[str, bool | str],
                                           message: str) -> None:
    path = _draft_v2(tree, **kwargs)  # type: ignore[arg-type]
    before = path.read_bytes()
    with pytest.raises(CrosswalkError, match=f"(?s){message}"):
        release(path)
    assert path.read_bytes() == before
    assert read_lock(tree / "lock.json").get("bedford-residents-2024", 2) is None


def test_release_refuses_a_version_already_locked(tree: Path) -> None:
    v1 = tree / "bedford/residents-2024.v1.yaml"
    copy = tree / "bedford/copy.v1.yaml"
    copy.write_text(v1.read_text(encoding="utf-8").replace("status: released", "status: draft"),
                    encoding="utf-8")
    with pytest.raises(CrosswalkError, match="already in the lock file"):
        release(copy)
