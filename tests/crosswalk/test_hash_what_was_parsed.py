"""The hashes a run records belong to the bytes it parsed (one read per file).

``pipeline.run`` used to parse each crosswalk and the schema, then read them again to
hash them; a file saved in between was recorded with a hash of text the run never used.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import harmonise.pipeline as pipeline
from harmonise._util.files import sha256_bytes, sha256_file
from harmonise._util.yamlio import read_yaml, read_yaml_hashed
from harmonise.crosswalk.io import load_crosswalk, load_crosswalk_hashed, load_schema_hashed
from harmonise.errors import CrosswalkError

CROSSWALK = "crosswalks/luton/residents-2024.v1.yaml"
SCHEMA = "crosswalks/schema/perception-v1.yaml"


def _project(root: Path, tmp_path: Path) -> Path:
    """A copy of the bundled project with a one-survey manifest."""
    project = tmp_path / "project"
    shutil.copytree(root / "crosswalks", project / "crosswalks")
    (project / "surveys/luton").mkdir(parents=True)
    shutil.copy(root / "surveys/luton/residents-2024.csv", project / "surveys/luton")
    shutil.copytree(root / "surveys/targets", project / "surveys/targets")
    (project / "surveys/manifest.yaml").write_text(
        f"schema: {SCHEMA}\nsurveys:\n  - file: surveys/luton/residents-2024.csv\n"
        f"    crosswalk: {CROSSWALK}\n    encoding: cp1252\n", encoding="utf-8")
    return project


def test_run_records_the_hash_of_the_files_it_parsed(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(root, tmp_path)
    before = {rel: sha256_file(project / rel) for rel in (CROSSWALK, SCHEMA)}
    real_read_survey = pipeline.read_survey

    def edit_then_read(*args: Any, **kwargs: Any) -> Any:
        # someone saves the crosswalk and the schema while the run is reading the export
        for rel in (CROSSWALK, SCHEMA):
            with (project / rel).open("a", encoding="utf-8") as f:
                f.write("# edited during the run\n")
        return real_read_survey(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_survey", edit_then_read)
    result = pipeline.run(project / "surveys/manifest.yaml", root=project)
    prov = result.provenance
    assert prov.crosswalks[0].sha256 == before[CROSSWALK] != sha256_file(project / CROSSWALK)
    assert result.surveys[0].survey.ref.sha256 == before[CROSSWALK]
    assert prov.schema_.sha256 == before[SCHEMA]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_read_yaml_hashed_parses_as_read_yaml_and_hashes_the_bytes(
    tmp_path: Path, newline: bytes
) -> None:
    content = newline.join([b"a: |", b"  two", b"  lines", b"b: Yes", b"c: 'caf\xc3\xa9'", b""])
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    raw, sha = read_yaml_hashed(path)
    assert raw == read_yaml(path) == {"a": "two\nlines\n", "b": "Yes", "c": "café"}
    assert sha == sha256_bytes(content)


def test_loaders_hash_the_bundled_files(root: Path) -> None:
    cw, sha = load_crosswalk_hashed(root / CROSSWALK)
    assert cw == load_crosswalk(root / CROSSWALK) and sha == sha256_file(root / CROSSWALK)
    _, schema_sha = load_schema_hashed(root / SCHEMA)
    assert schema_sha == sha256_file(root / SCHEMA)


def test_read_yaml_hashed_names_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: \xff\n")
    with pytest.raises(CrosswalkError, match=r"bad\.yaml: not UTF-8 text \(byte 3\)"):
        load_crosswalk_hashed(bad)
    with pytest.raises(CrosswalkError, match=r"missing\.yaml: file not found"):
        load_crosswalk_hashed(tmp_path / "missing.yaml")
