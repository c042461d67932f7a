"""The bad-input corpus: every file in tests/data/bad/ fails with one clear HarmoniseError.

The files are written by ``tests/data/bad/generate.py`` (its ``CASES`` table says what each
must raise and which fragments its message holds). Each case is checked twice: through
``read_survey`` (or the crosswalk, for duplicated respondent ids), and through the CLI,
which must exit non-zero with the message and no traceback, and raise with ``--debug``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from harmonise import errors
from harmonise.cli import main
from harmonise.errors import HarmoniseError, IngestError
from harmonise.ingest import read_survey
from harmonise.recode import apply_crosswalk
from helpers import crosswalk, ref

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bad_corpus", BAD / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bad_corpus"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


CORPUS = _load_generator()
CASES = CORPUS.CASES
ADVICE = ("export", "save", "rename", "pass", "check", "fix", "upload", "remove", "use",
          "leave", "raise", "open", "download", "state", "give")
CLI_OPTIONS = {"encoding": "--encoding", "sheet": "--sheet", "header_rows": "--header-rows",
               "max_bytes": "--max-bytes"}
ITEM = {"id": "q1", "concept": "safe_area_dark", "source": "Q1", "scale": "safety4",
        "recode": {1: "very_safe", 2: "fairly_safe"}, "comparability": "close",
        "note": "test item"}


def _read(case: object, path: Path, schema: object) -> None:
    kwargs = case.kwargs  # type: ignore[attr-defined]
    survey = read_survey(path, **kwargs)
    if case.crosswalk is not None:  # type: ignore[attr-defined]
        cw = crosswalk([ITEM], **case.crosswalk)  # type: ignore[attr-defined]
        apply_crosswalk(survey, cw, schema, ref(cw))  # type: ignore[arg-type]


def test_corpus_files_match_the_generator() -> None:
    on_disk = {p.name for p in BAD.iterdir() if p.is_file() and p.name != "generate.py"}
    assert on_disk == {c.file for c in CASES}, "run python tests/data/bad/generate.py"
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_fails_with_one_clear_error(case: object, schema: object,
                                              tmp_path: Path) -> None:
    path = BAD / case.file  # type: ignore[attr-defined]
    expected = getattr(errors, case.error)  # type: ignore[attr-defined]
    with pytest.raises(HarmoniseError) as info:
        _read(case, path, schema)
    assert type(info.value) is expected
    message = str(info.value)
    for fragment in case.fragments:  # type: ignore[attr-defined]
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert message.startswith(path.name), message  # names the file first
    assert any(verb in message.lower() for verb in ADVICE), message  # says what to do
    assert "Traceback" not in message

    if case.crosswalk is not None:  # type: ignore[attr-defined]
        return  # the CLI reads files; a crosswalk is applied by `harmonise run`
    args = ["inspect", str(path)]
    for key, value in case.kwargs.items():  # type: ignore[attr-defined]
        args += [CLI_OPTIONS[key], str(value)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert path.name in result.output and "Error:" in result.output
    assert "Traceback" not in result.output
    debug = CliRunner().invoke(main, ["--debug", *args])
    assert debug.exit_code != 0 and isinstance(debug.exception, expected)


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda tmp: tmp / "nope.sav", "file not found"),
    (lambda tmp: (tmp / "folder.csv").mkdir() or tmp / "folder.csv", "is not a file"),
], ids=["missing-file", "directory"])
def test_paths_that_are_not_files(make: object, fragment: str, tmp_path: Path) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(IngestError, match=fragment):
        read_survey(path)
