"""harmonise questionnaire build: writes every output; a bad spec exits 2 naming the line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from harmonise.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
SPEC = ROOT / "questionnaire" / "joint-v1.yaml"


def test_build_writes_every_output(tmp_path: Path) -> None:
    (tmp_path / "bridge.xlsx").write_bytes(b"another builder's file")
    result = CliRunner().invoke(main, ["questionnaire", "build", str(SPEC), "--out",
                                       str(tmp_path), "--validate", "no"])
    assert result.exit_code == 0, result.output
    assert "adults (23 questions), young_people (20 questions)" in result.output
    names = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    for stem in ("joint-v1-adults", "joint-v1-young-people"):
        for ext in ("xlsx", "xml", "html", "docx"):
            assert f"{stem}.{ext}" in names
    assert {"joint-v1-codebook.csv", "joint-v1-codebook.xlsx", "index.html",
            "crosswalks/joint/luton-adults.v1.yaml", "bridge.xlsx"} <= names
    assert not [n for n in names if ".staging" in n]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="joint-v1-adults.docx"' in index and 'href="bridge.xlsx"' in index


def test_bad_spec_exits_2_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "questionnaire" / "bad-v1.yaml"
    bad.parent.mkdir()
    text = SPEC.read_text(encoding="utf-8").replace("concept: police_rating",
                                                    "concept: police_ratings")
    bad.write_text(text, encoding="utf-8")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "police_ratings" in s)
    result = CliRunner().invoke(main, ["questionnaire", "build", str(bad), "--schema",
                                       str(ROOT / "crosswalks/schema/perception-v2.yaml"),
                                       "--out", str(tmp_path / "out"), "--validate", "no"])
    assert result.exit_code == 2
    assert f"bad-v1.yaml:{line}: concept 'police_ratings' is not in perception-v2" in result.output
    assert not (tmp_path / "out").exists()


def test_schema_command_prints_the_json_schema() -> None:
    result = CliRunner().invoke(main, ["questionnaire", "schema"])
    assert result.exit_code == 0
    committed = (ROOT / "questionnaire/questionnaire.schema.json").read_text(encoding="utf-8")
    assert result.output == committed


def test_simulate_writes_a_kobo_csv(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["questionnaire", "build", str(SPEC), "--out", str(tmp_path),
                                "--validate", "no"]).exit_code == 0
    out = tmp_path / "dry" / "young.csv"
    result = runner.invoke(main, ["questionnaire", "simulate",
                                  str(tmp_path / "joint-v1-young-people.xlsx"), "--out",
                                  str(out), "--n", "50", "--cluster", "school_code"])
    assert result.exit_code == 0, result.output
    assert "50 SYNTHETIC submissions" in result.output
    head = out.read_text(encoding="utf-8-sig").splitlines()[0].split(";")
    assert head[0] == "about_you_first/age" and "safety/unsafe_reasons/drugs" in head
    assert head[-1] == "_index"
    # the released crosswalk fits the export with no issue (every column mapped or listed)
    check = runner.invoke(main, ["crosswalk", "validate",
                                 str(ROOT / "crosswalks/joint/luton-young-people.v1.yaml"),
                                 "--data", str(out)])
    assert check.exit_code == 0 and "no issues" in check.output, check.output
    bad = runner.invoke(main, ["questionnaire", "simulate", str(SPEC), "--out", str(out)])
    assert bad.exit_code == 2 and "not an XLSForm workbook" in bad.output
