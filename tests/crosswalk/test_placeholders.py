"""Draft placeholders: validate lists them by line, release refuses them and says which."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harmonise.crosswalk.lock import read_lock
from harmonise.crosswalk.placeholders import find_placeholders
from harmonise.crosswalk.release import release
from harmonise.crosswalk.validate import validate_paths
from harmonise.errors import CrosswalkError

V1 = "bedford/residents-2024.v1.yaml"


@pytest.fixture
def draft(tmp_path: Path, root: Path) -> Path:
    """A complete Bedford v2 draft (releasable as it is) in a copy of crosswalks/."""
    cws = tmp_path / "crosswalks"
    (cws / "bedford").mkdir(parents=True)
    shutil.copytree(root / "crosswalks/schema", cws / "schema")
    lock = read_lock(root / "crosswalks/lock.json")
    entry = lock.get("bedford-residents-2024", 1)
    assert entry is not None
    shutil.copy(root / "crosswalks" / V1, cws / "bedford")
    (cws / "lock.json").write_text(type(lock)((entry,)).to_json(), encoding="utf-8")
    text = (root / "crosswalks" / V1).read_text(encoding="utf-8")
    text = text.replace("version: 1", "version: 2").replace("status: released",
                                                          "status: draft")
    text = text.replace("changelog:\n", 'changelog:\n  - "v2: notes checked."\n')
    path = cws / "bedford/residents-2024.v2.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("old", "new", "what"), [
    ("sampling: >-", 'sampling: "TODO: how were people selected"\nold_sampling: >-',
     "TODO marker (sampling)"),
    ("fieldwork_end: 2024-10-27", "fieldwork_end: 2024-10-27  # TODO: check the date",
     "TODO marker (fieldwork_end)"),
    ("    note: Census 2021 wording and categories, stored as codes; a lossless recode.",
     '    note: "draft: pre-filled from the file; check every line"',
     "note still says it was pre-filled"),
])
def test_release_refuses_each_placeholder_and_names_its_line(
        draft: Path, old: str, new: str, what: str) -> None:
    text = draft.read_text(encoding="utf-8")
    assert old in text
    edited = text.replace(old, new, 1)
    if "old_sampling" in edited:  # keep the file valid: drop the folded old value
        lines = edited.splitlines(keepends=True)
        i = next(k for k, line in enumerate(lines) if line.startswith("old_sampling"))
        j = i + 1
        while lines[j].startswith("  "):
            j += 1
        edited = "".join(lines[:i] + lines[j:])
    draft.write_text(edited, encoding="utf-8")
    line = _line(edited, new.splitlines()[0])
    report = validate_paths([draft])
    codes = [(i.code, i.value) for i in report.issues]
    assert codes == [("draft-placeholder", f"line {line}")], report.to_table()
    with pytest.raises(CrosswalkError, match=rf"line {line}: {re.escape(what)}"):
        release(draft)
    assert draft.read_text(encoding="utf-8") == edited  # still a draft
    lock = read_lock(draft.parent.parent / "lock.json")
    assert lock.get("bedford-residents-2024", 2) is None


def test_unassessed_grades_are_located_by_line(draft: Path) -> None:
    text = draft.read_text(encoding="utf-8").replace("comparability: equivalent",
                                                     "comparability: unassessed", 1)
    draft.write_text(text, encoding="utf-8")
    with pytest.raises(CrosswalkError) as err:
        release(draft)
    line = _line(text, "comparability: unassessed")
    assert f"line {line}: grade unassessed" in str(err.value)
    assert "(item sex)" in str(err.value)


def test_a_complete_crosswalk_has_no_placeholders_and_releases(draft: Path) -> None:
    assert find_placeholders(draft.read_text(encoding="utf-8"), None) == []
    plan = release(draft)
    assert plan.crosswalk.status == "released"


def test_every_bundled_crosswalk_is_free_of_placeholders(root: Path) -> None:
    for path in sorted((root / "crosswalks").rglob("*.v*.yaml")):
        assert find_placeholders(path.read_text(encoding="utf-8"), None) == [], path
