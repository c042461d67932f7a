"""harmonise estimate: the design file, the tidy table, and agreement with cached R numbers."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.errors import EstimationError
from harmonise.estimate.spec import TABLE_COLUMNS, DesignSpec, build_design, estimate_table
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
        ("ids: [dnum]\nweight: pw\n", ["--mean", "api00"], "Extra inputs are not permitted"),
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
    spec = DesignSpec(ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    design, _ = build_design(spec, data)
    assert design.weights == pytest.approx(data["pw"].to_numpy(), rel=1e-3)  # pw is rounded


def test_missing_values_leave_the_domain_not_the_design() -> None:
    data = pd.read_csv(API_DIR / "apiclus2.csv")  # enroll has 6 missing values
    design, _ = build_design(DesignSpec(ids=["dnum", "snum"], weights="pw"), data)
    table = estimate_table(design, data, means=["enroll"], proportions=["stype"])
    assert int(table.loc[table["statistic"] == "mean", "n"].iloc[0]) == len(data) - 6
    shares = table.loc[table["statistic"] == "proportion", "estimate"]
    assert shares.sum() == pytest.approx(1.0)


def test_missing_design_value_is_an_error() -> None:
    data = pd.read_csv(API_DIR / "apiclus2.csv")
    with pytest.raises(EstimationError, match=r"'enroll' is missing for 6 row"):
        build_design(DesignSpec(weights="enroll"), data)
