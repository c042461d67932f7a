"""harmonise estimate: the design file, the tidy table, and agreement with cached R numbers."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from harmonise._util.yamlio import load_yaml_model
from harmonise.cli import main
from harmonise.cli.estimate import estimate
from harmonise.errors import EstimationError
from harmonise.estimate.spec import TABLE_COLUMNS, DesignFileSpec, build_design, estimate_table
from rreference import API_DIR, REF_DIR, read_reference
from rsurvey import relative_difference

APICLUS1 = API_DIR / "apiclus1.csv"
RAKE_YAML = """
ids: [dnum]
weights: pw
calibrate:
  method: rake
  margins:
    stype: {E: 4421, H: 755, M: 1018}
    sch.wide: {"No": 1072, "Yes": 5122}
"""


def run(tmp_path: Path, design: str, *args: str) -> tuple[int, str]:
    path = tmp_path / "design.yaml"
    path.write_text(design, encoding="utf-8")
    result = CliRunner().invoke(main, ["estimate", str(APICLUS1), "--design", str(path), *args])
    return result.exit_code, result.output


def test_apiclus1_with_fpc_matches_r(tmp_path: Path) -> None:
    code, out = run(
        tmp_path,
        "ids: [dnum]\nweights: pw\nfpc: [fpc]\n",
        "--mean",
        "api00",
        "--total",
        "enroll",
        "--deff",
    )
    assert code == 0, out
    table = pd.read_csv(io.StringIO(out))
    assert tuple(table.columns) == TABLE_COLUMNS
    ref = read_reference(REF_DIR / "reference.csv")
    for stat, var in (("mean", "api00"), ("total", "enroll")):
        row = table[(table["statistic"] == stat) & (table["group"] == "all")].iloc[0]
        for key in ("estimate", "se", "ci_low", "ci_high", "df", "deff"):
            theirs = ref[("apiclus1_fpc", stat, var, "", key)]
            assert relative_difference(float(row[key]), theirs) <= 1e-6, (stat, key)


def test_raked_design_file_matches_r(tmp_path: Path) -> None:
    code, out = run(
        tmp_path, RAKE_YAML, "--mean", "api00", "--by", "stype", "--out", str(tmp_path / "t.csv")
    )
    assert code == 0, out
    table = pd.read_csv(tmp_path / "t.csv")
    assert list(table["group"]) == ["all", "stype=E", "stype=H", "stype=M"]
    ref = read_reference(REF_DIR / "reference.csv")
    # apiclus1_rake in the cache has an fpc; the SE here differs, the estimate does not.
    assert (
        relative_difference(
            float(table.loc[0, "estimate"]), ref[("apiclus1_rake", "mean", "api00", "", "estimate")]
        )
        <= 1e-9
    )


@pytest.mark.parametrize(
    ("design", "args", "message"),
    [
        (
            "ids: [dnum]\nweight: pw\n",
            ["--mean", "api00"],
            "weight: Extra inputs are not permitted",
        ),
        (
            "weights: pw\ncalibrate: {method: rakes}\n",
            ["--mean", "api00"],
            "calibrate.method: Value error, unknown weighting method 'rakes'",
        ),
        ("ids: [dnum\n", ["--mean", "api00"], "not valid YAML"),
        ("ids: [district]\nweights: pw\n", ["--mean", "api00"], "'district' is not in the data"),
        ("weights: pw\n", ["--mean", "nosuch"], "variable 'nosuch' is not in the data"),
        ("weights: pw\n", [], "nothing to estimate"),
        (
            "weights: pw\ncalibrate:\n  method: rake\n  margins: {stype: {E: 1, H: 2}}\n",
            ["--mean", "api00"],
            "categories ['M'] occur in the data",
        ),
        (
            "strata: stype\nids: [dnum]\nweights: pw\nnest: false\n",
            ["--mean", "api00"],
            "not nested in strata",
        ),
    ],
    ids=[
        "extra-key",
        "unknown-method",
        "yaml-syntax",
        "unknown-id",
        "unknown-variable",
        "no-statistic",
        "margin-category",
        "not-nested",
    ],
)
def test_errors_say_what_and_where(
    tmp_path: Path, design: str, args: list[str], message: str
) -> None:
    code, out = run(tmp_path, design, *args)
    assert code == 2
    assert message in out


def test_weights_from_fpc_when_no_weight_column() -> None:
    data = pd.read_csv(API_DIR / "apiclus2.csv")
    spec = DesignFileSpec(ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    design, _ = build_design(spec, data)
    assert design.weights == pytest.approx(data["pw"].to_numpy(), rel=1e-3)  # pw is rounded


def test_missing_values_leave_the_domain_not_the_design() -> None:
    data = pd.read_csv(API_DIR / "apiclus2.csv")  # enroll has 6 missing values
    design, _ = build_design(DesignFileSpec(ids=["dnum", "snum"], weights="pw"), data)
    table = estimate_table(design, data, means=["enroll"], proportions=["stype"])
    assert int(table.loc[table["statistic"] == "mean", "n"].iloc[0]) == len(data) - 6
    shares = table.loc[table["statistic"] == "proportion", "estimate"]
    assert shares.sum() == pytest.approx(1.0)


def test_text_in_a_mean_variable_is_an_error_not_missing() -> None:
    data = pd.read_csv(API_DIR / "apiclus2.csv")
    data["enroll"] = data["enroll"].astype(object)
    data.loc[3, "enroll"] = "10+"
    design, _ = build_design(DesignFileSpec(ids=["dnum", "snum"], weights="pw"), data)
    with pytest.raises(EstimationError, match=r"'enroll' has 1 non-numeric value\(s\), first "
                                              r"'10\+' at data row 4"):
        estimate_table(design, data, means=["enroll"])


def test_missing_design_value_is_an_error() -> None:
    data = pd.read_csv(API_DIR / "apiclus2.csv")
    with pytest.raises(EstimationError, match=r"'enroll' is missing for 6 row"):
        build_design(DesignFileSpec(weights="enroll"), data)


def test_unquoted_yes_no_keys_are_labels_not_booleans(tmp_path: Path) -> None:
    quoted = run(tmp_path, RAKE_YAML, "--mean", "api00")
    bare = run(tmp_path, RAKE_YAML.replace('"No"', "No").replace('"Yes"', "Yes"), "--mean", "api00")
    assert "{No: 1072, Yes: 5122}" in RAKE_YAML.replace('"No"', "No").replace('"Yes"', "Yes")
    assert bare[0] == 0, bare[1]
    assert bare == quoted


def test_numeric_category_keys_match_the_data_labels(tmp_path: Path) -> None:
    # a 0/1 column: a margin keyed 0/1 in YAML (integers) is matched on the labels "0"/"1"
    data = pd.read_csv(APICLUS1).assign(wide=lambda d: (d["sch.wide"] == "Yes").astype(int))
    path = tmp_path / "d.yaml"
    path.write_text(
        "ids: [dnum]\nweights: pw\ncalibrate:\n  method: rake\n"
        "  margins: {wide: {0: 1072, 1: 5122}}\n",
        encoding="utf-8",
    )
    spec = load_yaml_model(path, DesignFileSpec, error=EstimationError, what="design file")
    assert spec.calibrate is not None and spec.calibrate.margins == {
        "wide": {"0": 1072.0, "1": 5122.0}
    }
    design, result = build_design(spec, data)
    assert result is not None
    assert design.weights.sum() == pytest.approx(1072 + 5122)


def test_bad_design_file_is_an_estimation_error_naming_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "DESIGN.yaml"
    path.write_text("ids: [dnum]\ncalibrate:\n  method: rake\n  margins: {stype: {E: many}}\n",
                    encoding="utf-8")
    with pytest.raises(EstimationError) as info:
        load_yaml_model(path, DesignFileSpec, error=EstimationError, what="design file")
    message = str(info.value)
    assert message.startswith(f"{path}: not a valid design file:")
    assert "calibrate.margins.stype.E: Input should be a valid number" in message
    assert "'many'" in message
    with pytest.raises(EstimationError, match="file not found"):
        load_yaml_model(tmp_path / "nope.yaml", DesignFileSpec, error=EstimationError)


def test_trimmed_design_file_matches_r(tmp_path: Path) -> None:
    """calibrate → trimWeights(strict) → calibrate, as R's apiclus1_rake_trim_rerake."""
    path = tmp_path / "d.yaml"
    path.write_text(
        RAKE_YAML + "  epsilon: 1.0e-12\n  max_iterations: 5000\n"
        "  trim: {upper: 40, strict: true}\n",
        encoding="utf-8",
    )
    spec = load_yaml_model(path, DesignFileSpec, error=EstimationError)
    data = pd.read_csv(APICLUS1)
    design, result = build_design(spec, data)
    assert result is not None and result.method == "rake+trim"
    assert [name for name, _ in result.history] == [
        "base", "calibrated", "trimmed_1", "recalibrated_1"
    ]
    assert len(design.calibration) == 2  # both rakes' adjustments, as R keeps them
    table = estimate_table(design, data, means=["api00"], totals=["enroll"])
    ref = read_reference(REF_DIR / "reference.csv")
    for stat, var in (("mean", "api00"), ("total", "enroll")):
        row = table[table["statistic"] == stat].iloc[0]
        for key in ("estimate", "se", "ci_low", "ci_high", "deff"):
            theirs = ref[("apiclus1_rake_trim_rerake", stat, var, "", key)]
            assert relative_difference(float(row[key]), theirs) <= 1e-6, (stat, key)


def _help_example() -> list[str]:
    """The command line in ``harmonise estimate --help``'s Example block."""
    doc = estimate.help or ""
    block = doc.split("Example:", 1)[1]
    lines = [part.strip().rstrip("\\") for part in block.splitlines()]
    line = " ".join(part for part in lines if part and part != "\b")
    words = shlex.split(line)
    assert words[:2] == ["harmonise", "estimate"], words
    return words[1:]


def test_help_example_runs_as_documented(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = _help_example()
    design = Path(args[args.index("--design") + 1])
    assert (root / design).is_file(), f"the --help example names {design}, not in the repo"
    assert " ".join(args) in " ".join(
        (root / "docs/estimation.md").read_text(encoding="utf-8").replace("\\\n", " ").split()
    ), "docs/estimation.md shows another command than --help"
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.output))
    ref = read_reference(REF_DIR / "reference.csv")
    row = table[(table["statistic"] == "mean") & (table["group"] == "all")].iloc[0]
    for key in ("estimate", "se", "deff"):
        theirs = ref[("apiclus1_fpc", "mean", "api00", "", key)]
        assert relative_difference(float(row[key]), theirs) <= 1e-6, key
    assert set(table["group"]) == {"all", "sch.wide=No", "sch.wide=Yes"}
