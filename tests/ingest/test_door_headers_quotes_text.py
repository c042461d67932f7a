"""Review findings at the door (issue 12): an unterminated quoted field, header texts that
hold an identifying value (a data row read as a header), typed free text echoed by
``inspect``, the codebook, the draft and messages, and ``estimate`` on a removed column."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.errors import IngestError
from harmonise.ingest import read_survey


def _write(tmp: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_unterminated_quote_is_refused_with_file_line_and_what_to_do(tmp_path: Path,
                                                                     eol: str) -> None:
    text = eol.join(["a,b", '1,"unterminated answer', "2,3", "4,5", ""])
    path = _write(tmp_path, text)
    with pytest.raises(IngestError) as err:
        read_survey(path)
    msg = str(err.value)
    assert "s.csv" in msg and "line 2" in msg and "field 2" in msg
    assert "never closed" in msg and "upload" in msg
    assert "unterminated answer" not in msg  # the cell is not echoed
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 2 and "never closed" in result.output


def test_closed_quotes_over_lines_still_read(tmp_path: Path) -> None:
    path = _write(tmp_path, 'a,b\n1,"two\nlines"\n2,"x ""q"" y"\n3,4')
    sf = read_survey(path)
    assert len(sf.data) == 3


def test_estimate_on_a_column_removed_at_the_door_says_so(tmp_path: Path) -> None:
    rows = ["Email,w,y"] + [f"person{i}@example.org,1,{i % 3}" for i in range(8)]
    data = _write(tmp_path, "\n".join(rows) + "\n")
    design = tmp_path / "d.yaml"
    design.write_text("ids: []\nweights: w\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["estimate", str(data), "--design", str(design),
                                       "--proportion", "Email"])
    assert result.exit_code == 2
    assert "'Email' was removed" in result.output and "identifying (email:" in result.output
    assert "cannot be estimated" in result.output and "not in the data" not in result.output
    assert "@example.org" not in result.output
    ok = CliRunner().invoke(main, ["estimate", str(data), "--design", str(design),
                                   "--proportion", "y"])
    assert ok.exit_code == 0, ok.output
