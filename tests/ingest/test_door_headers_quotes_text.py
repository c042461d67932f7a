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


def test_header_holding_an_email_is_dropped_and_never_shown(tmp_path: Path) -> None:
    path = _write(tmp_path, "john.smith@gmail.com,b\n1,2\n3,4\n5,6\n")
    sf = read_survey(path)
    assert list(sf.data.columns) == ["b"]
    [flag] = sf.flagged
    assert flag.kind == "email" and "its header holds an identifying value" in flag.reason
    assert "--header-rows" in flag.reason and "john.smith" not in flag.name
    out = tmp_path / "cb"
    draft = tmp_path / "draft.yaml"
    result = CliRunner().invoke(main, ["inspect", str(path), "--out", str(out),
                                       "--draft-crosswalk", str(draft)])
    assert result.exit_code == 0, result.output
    assert "john.smith" not in result.output and "header not shown" in result.output
    for written in [*out.iterdir(), draft]:
        assert "john.smith" not in written.read_text(encoding="utf-8"), written


def test_phone_number_in_a_second_header_row_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "Q1,Q2\n07700 900123,How safe?\nYes,No\nNo,Yes\n")
    with pytest.raises(IngestError) as err:
        read_survey(path, header_rows=2)
    assert "--header-rows 1" in str(err.value) and "07700" not in str(err.value)


def test_variable_label_holding_a_phone_number_is_flagged_and_blanked(tmp_path: Path) -> None:
    import pandas as pd
    import pyreadstat

    path = tmp_path / "s.sav"
    frame = pd.DataFrame({"q1": [1.0, 2.0, 1.0], "q2": [1.0, 1.0, 2.0]})
    pyreadstat.write_sav(frame, str(path), column_labels={
        "q1": "Ring 07700 900123 back?", "q2": "How safe do you feel?"})
    sf = read_survey(path)
    assert list(sf.data.columns) == ["q2"]
    assert [(f.name, f.kind) for f in sf.flagged] == [("q1", "phone")]
    kept = read_survey(path, keep={"q1": "the helpline question is needed"})
    assert "q1" in kept.data.columns and kept.codebook.variables["q1"].label is None
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0 and "07700" not in result.output


def test_two_header_rows_on_a_forms_export_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "Timestamp,Email address,Q1\n"
                  "2019/03/04 10:11:12 AM GMT,resident1@example.org,Yes\n"
                  "2019/03/04 10:12:12 AM GMT,resident2@example.org,No\n"
                  "2019/03/04 10:13:12 AM GMT,resident3@example.org,No\n")
    assert len(read_survey(path).data.columns) == 1  # as exported: both dropped by layout
    with pytest.raises(IngestError) as err:
        read_survey(path, header_rows=2)
    msg = str(err.value)
    assert "--header-rows 1" in msg and "a data row was read as a header" in msg
    assert "resident1" not in msg and "2019/03/04" not in msg


def test_headerless_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "a@example.org,07700 900123,x\nb@example.org,07700 900124,y\n")
    with pytest.raises(IngestError) as err:
        read_survey(path)
    assert "no row of questions" in str(err.value) and "a@example" not in str(err.value)


def test_duplicate_identifying_headers_are_not_echoed(tmp_path: Path) -> None:
    path = _write(tmp_path, "a@example.org,a@example.org\n1,2\n")
    with pytest.raises(IngestError) as err:
        read_survey(path)
    assert "a@example" not in str(err.value)


SHARED_GF = Path("/work/shared/peer-data/platforms/googleforms_rcommunity2019_first650.csv")


@pytest.mark.skipif(not SHARED_GF.exists(), reason="shared platform exports absent")
@pytest.mark.parametrize("name", ["googleforms_rcommunity2019_first650.csv",
                                  "googleforms_rcommunity2019.xlsx"])
def test_google_forms_with_two_header_rows_is_refused_without_echo(name: str) -> None:
    with pytest.raises(IngestError) as err:
        read_survey(SHARED_GF.parent / name, header_rows=2)
    assert "--header-rows 1" in str(err.value) and "12/13/2019" not in str(err.value)


TYPED = "Not sure - ask Mrs Amy Patel of 14 Crawley Green Road who saw it all happen."


@pytest.mark.parametrize(("value", "typed"), [
    (TYPED, True),
    ("Pretty good.\nCould have been better.\rThanks", True),
    ("Pretty good.\\nCould have been better.\\rThanks", True),  # escaped line breaks
    ("Impatience - simply want to load my data set and have the R package analyse it!", True),
    ("Very safe", False),
    ("Prefer not to say", False),
    ("Through an online course (e.g., Coursera, edX, Datacamp)", False),
    ("1 - Not at all safe", False),
    (3, False),
])
def test_looks_free_text(value: object, typed: bool) -> None:
    from harmonise.privacy import looks_free_text

    assert looks_free_text(value) is typed


def _typed_csv(tmp: Path) -> Path:
    rows = ["Q1,Q2"] + [f"{1 + i % 5},{'Yes' if i % 2 else 'No'}" for i in range(10)]
    rows.append(f'9,"{TYPED}"')
    return _write(tmp, "\n".join(rows) + "\n")


def test_typed_answer_is_never_shown_by_inspect_codebook_or_draft(tmp_path: Path) -> None:
    path = _typed_csv(tmp_path)
    out, draft = tmp_path / "cb", tmp_path / "draft.yaml"
    result = CliRunner().invoke(main, ["inspect", str(path), "--out", str(out),
                                       "--draft-crosswalk", str(draft)])
    assert result.exit_code == 0, result.output
    assert "Amy Patel" not in result.output
    assert f"a typed answer of {len(TYPED)} characters (row 11): 1" in result.output
    assert "Yes: 5" in result.output  # short option labels stay visible
    for written in out.iterdir():
        assert "Amy Patel" not in written.read_text(encoding="utf-8"), written
    text = draft.read_text(encoding="utf-8")
    assert "Amy Patel" not in text
    assert "# TODO: not written, free text one respondent typed each: a typed answer of " \
        f"{len(TYPED)} characters (row 11)" in text
    assert '"Yes"' in text


def test_typed_answer_given_twice_is_an_answer(tmp_path: Path) -> None:
    from harmonise.ingest.codebook import codebook_report

    rows = ["Q1,Q2"] + [f"{i},{TYPED if i < 2 else 'No'}" for i in range(6)]
    report = codebook_report(read_survey(_write(tmp_path, "\n".join(rows) + "\n")))
    [q2] = [v for v in report["variables"] if v["name"] == "Q2"]
    assert {c["value"] for c in q2["counts"]} == {TYPED, "No"}


def test_unlisted_typed_answer_is_not_quoted_by_run_or_validate(tmp_path: Path) -> None:
    import pandas as pd

    from harmonise.crosswalk.io import load_schema
    from harmonise.errors import UnmappedValueError
    from harmonise.recode import apply_crosswalk, data_issues
    from helpers import crosswalk, ref, safe_item, survey_file

    schema = load_schema(Path(__file__).resolve().parents[2]
                         / "crosswalks/schema/perception-v1.yaml")
    sf = survey_file(pd.DataFrame({"Q1": [1, 2, TYPED]}), name="t.csv")
    cw = crosswalk([safe_item()])
    with pytest.raises(UnmappedValueError) as info:
        apply_crosswalk(sf, cw, schema, ref(cw))
    message = str(info.value)
    assert "Patel" not in message and "Crawley" not in message
    assert f"a typed answer of {len(TYPED)} characters" in message and "data row 3" in message
    issues = data_issues(sf, cw, "cw.yaml")
    [typed] = [i for i in issues if i.code == "typed-answer-not-in-recode"]
    assert typed.row == 3 and "(row 3)" in typed.message
    assert issues and all("Patel" not in i.message and "Patel" not in str(i.value)
                          for i in issues)


SHARED = Path("/work/shared/peer-data/platforms")


@pytest.mark.skipif(not SHARED.exists(), reason="shared platform exports absent")
@pytest.mark.parametrize(("name", "secret"), [
    ("googleforms_rcommunity2019_first650.csv", "Impatience - simply want"),
    ("kobo_default_csv_export.csv", "Could have been better"),
])
def test_shared_exports_typed_answers_not_printed(tmp_path: Path, name: str,
                                                  secret: str) -> None:
    draft = tmp_path / "d.yaml"
    result = CliRunner().invoke(main, ["inspect", str(SHARED / name),
                                       "--draft-crosswalk", str(draft)])
    assert result.exit_code == 0, result.output
    assert secret not in result.output and "a typed answer of" in result.output
    assert secret not in draft.read_text(encoding="utf-8")


def test_reader_messages_describe_typed_answers() -> None:
    from harmonise.ingest.common import safe_repr

    assert safe_repr(TYPED) == f"a typed answer of {len(TYPED)} characters"
    assert safe_repr("Very safe") == "'Very safe'"
