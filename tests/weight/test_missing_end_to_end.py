"""A run on an export with "Prefer not to say" and blank sex, age and ward answers.

The export ``tests/data/missing/residents.csv`` is SYNTHETIC (built by
``tests/data/missing/make_fixture.py``); its crosswalk declares ``sex: impute``,
``age_band: exclude`` and leaves ``area`` to the default (impute), seed 7.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonise.errors import WeightingError
from harmonise.models.crosswalk import WeightingSpec
from harmonise.models.harmonised import HarmonisedSurvey, WeightedSurvey
from harmonise.pipeline import RunResult, run
from harmonise.report import write_report
from harmonise.weight.stage import weight_survey
from harmonise.weight.targets import read_targets_table, select_targets

MANIFEST = "tests/data/missing/manifest.yaml"


@pytest.fixture(scope="module")
def result(root: Path) -> RunResult:
    return run(root / MANIFEST, root=root)


@pytest.fixture(scope="module")
def outputs(result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    write_report(result, out, charts=False)
    return out


def _raw(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "tests/data/missing/residents.csv", dtype=str,
                       keep_default_na=False)


def test_missing_values_no_longer_stop_the_run(result: RunResult, root: Path) -> None:
    raw = _raw(root)
    ws = result.surveys[0]
    assert ws.diagnostics is not None
    done = {r.margin: r for r in ws.diagnostics.missing}
    assert set(done) == {"sex", "age_band", "area"}
    n_sex = int(raw["What is your sex?"].isin(["Prefer not to say", ""]).sum())
    assert done["sex"].treatment == "impute" and done["sex"].n_missing == n_sex > 10
    assert dict(done["sex"].kinds) == {
        "refused": int((raw["What is your sex?"] == "Prefer not to say").sum()),
        "no_answer": int((raw["What is your sex?"] == "").sum())}
    assert done["sex"].cells == ("age_band", "area") and done["sex"].seed == 7
    assert done["age_band"].treatment == "exclude"
    assert done["age_band"].n_missing == int((raw["What is your age?"] == "Prefer not to say")
                                             .sum())
    assert done["area"].treatment == "impute"  # the default, not declared
    assert done["area"].n_missing == int((raw["Which ward do you live in?"] == "").sum())


def test_flags_in_the_harmonised_data(result: RunResult) -> None:
    ws = result.surveys[0]
    data = ws.data
    refused = data["sex"].isin(["refused", "no_answer"])
    assert data["_imputed_sex"].tolist() == refused.tolist()
    assert set(data.loc[refused, "_weighting_sex"]) <= {"female", "male"}
    assert (data.loc[~refused, "_weighting_sex"] == data.loc[~refused, "sex"]).all()
    assert not data["_imputed_age_band"].any()  # excluded, not imputed
    no_age = data["age_band"] == "refused"
    assert set(data.loc[no_age, "_weighting_age_band"]) == {"(missing)"}
    # the answer itself is kept: by-sex estimates still leave refusals out
    est = result.estimates.rows
    by_sex = est[(est["group_var"] == "sex") & (est["indicator"] == "safe_area_dark_safe")]
    assert set(by_sex["group"]) == {"female", "male"}


def test_weights_meet_the_margins_and_the_excluded_group_keeps_its_share(
    result: RunResult,
) -> None:
    ws = result.surveys[0]
    d = ws.diagnostics
    assert d is not None
    for m in d.margins:
        assert m.achieved == pytest.approx(m.target, rel=1e-6)
    held = [m for m in d.margins if m.category == "(missing)"]
    assert [m.margin for m in held] == ["age_band"]
    start = ws.history[0][1]
    no_age = (ws.data["age_band"] == "refused").to_numpy()
    assert held[0].target == pytest.approx(start[no_age].sum() * d.total / start.sum())
    share = next(r.share for r in d.missing if r.margin == "age_band")
    assert share == pytest.approx(held[0].target / d.total)


def test_the_report_says_how_many_were_treated(outputs: Path, result: RunResult) -> None:
    weighting = pd.read_csv(outputs / "weighting.csv")
    text = str(weighting["missing"].iloc[0])
    n_sex = next(r.n_missing for r in result.surveys[0].diagnostics.missing  # type: ignore[union-attr]
                 if r.margin == "sex")
    assert f"sex: {n_sex} imputed (hot-deck within age_band × area, seed 7)" in text
    assert "age_band: " in text and "kept out of the age_band adjustment" in text
    margins = pd.read_csv(outputs / "margins.csv")
    assert "(missing)" in set(margins.loc[margins["margin"] == "age_band", "category"])
    html = (outputs / "index.html").read_text(encoding="utf-8")
    assert 'id="weighting-missing"' in html and f"sex: {n_sex} imputed" in html


def test_a_rerun_gives_the_same_weights_and_another_seed_does_not(
    result: RunResult, root: Path
) -> None:
    again = run(root / MANIFEST, root=root)
    w = result.surveys[0].data["_weight"].to_numpy()
    assert np.array_equal(w, again.surveys[0].data["_weight"].to_numpy())
    other = _reweight(result.surveys[0], root, impute_seed=8)
    assert not np.allclose(w, other.data["_weight"].to_numpy())


def _reweight(ws: WeightedSurvey, root: Path, **changes: object) -> WeightedSurvey:
    hs = ws.survey
    assert hs.crosswalk.weighting is not None
    spec = WeightingSpec.model_validate(hs.crosswalk.weighting.model_dump() | changes)
    cw = hs.crosswalk.model_copy(update={"weighting": spec})
    table, sha = read_targets_table(root / spec.targets)
    targets = select_targets(table, file=spec.targets, sha256=sha, area_code=spec.area_code,
                             population=spec.population, variables=spec.margins)
    return weight_survey(HarmonisedSurvey(crosswalk=cw, ref=hs.ref, data=hs.data,
                                          scales=hs.scales, audit=hs.audit,
                                          source=hs.source), targets)


def test_refuse_stops_with_what_to_do(result: RunResult, root: Path) -> None:
    with pytest.raises(WeightingError) as err:
        _reweight(result.surveys[0], root, missing={"sex": "refuse"})
    message = str(err.value)
    assert "residents.csv" in message and "no usable 'sex'" in message
    assert "first at data row" in message and "'impute'" in message and "'exclude'" in message


def test_small_counts_are_not_published(result: RunResult) -> None:
    from harmonise.models.harmonised import MissingMarginRecord
    from harmonise.weight.diagnostics import missing_summary

    text = missing_summary((MissingMarginRecord("sex", "impute", 3, cells=("area",), seed=1),
                            MissingMarginRecord("area", "exclude", 25, share=0.04)), 10)
    assert text.startswith("sex: fewer than 10 imputed") and "area: 25 kept out" in text


def test_the_store_keeps_the_treatment_and_the_report_is_rebuilt_alike(
    result: RunResult, outputs: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from harmonise.cli import main
    from harmonise.report import report_data
    from harmonise.store import Store

    path = tmp_path / "harmonise.sqlite"
    with Store(path) as store:
        store.save(report_data(result))
    again = tmp_path / "again"
    cli = CliRunner().invoke(main, ["report", "--store", str(path), "--run", "latest",
                                    "--out", str(again), "--no-charts"])
    assert cli.exit_code == 0, cli.output
    for name in ("weighting.csv", "margins.csv"):
        assert (again / name).read_bytes() == (outputs / name).read_bytes(), name
    assert 'id="weighting-missing"' in (again / "index.html").read_text(encoding="utf-8")
