"""Round trip: simulate Kobo exports from the built XLSForms, run the whole pipeline, no edits.

The simulator reads only the workbook (types, choice lists, relevant, constraint,
calculation), so the exports are what the form collects; they go through ingest -> recode
(the released joint crosswalks) -> weight (the illustrative joint targets) -> estimate ->
disclosure -> compare -> report exactly as `harmonise run` would take them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from harmonise.errors import QuestionnaireError
from harmonise.questionnaire.build import Built, form_stem
from harmonise.questionnaire.crosswalks import KOBO_METADATA, crosswalk_path
from harmonise.questionnaire.simulate import SimOptions, evaluate, kobo_csv, simulate
from harmonise.questionnaire.xlsform import read_xlsform

ROOT = Path(__file__).resolve().parent.parent.parent


def test_expressions_follow_xlsform_rules() -> None:
    answers = {"age": 15.0, "safe": "very_unsafe", "multi": "drugs groups", "blank": None}
    assert evaluate("${age} >= 16", answers) is False
    assert evaluate("${age} >= 13 and ${safe} = 'very_unsafe'", answers) is True
    assert evaluate("selected(${multi}, 'groups') or ${age} > 90", answers) is True
    assert evaluate("(selected(${safe}, 'fairly_safe')) or (selected(${blank}, 'x'))",
                    answers) is False
    assert evaluate("if(${age} <= 13, '11_13', if(${age} <= 15, '14_15', '16_18'))",
                    answers) == "14_15"
    assert evaluate(". >= 11 and . <= 18", answers, here=19.0) is False
    with pytest.raises(QuestionnaireError, match="cannot simulate"):
        evaluate("count-selected(${multi}) > 1", answers)


def _exports(built: Built, tmp: Path, n: int) -> list[dict[str, str]]:
    entries = []
    for k, lay in enumerate(built.layouts):
        rows = read_xlsform(built.files[f"{form_stem(lay)}.xlsx"])
        for j, p in enumerate(lay.spec.partnerships):
            frame = simulate(rows, SimOptions(n=n, seed=100 * k + j, cluster=lay.form.cluster))
            path = tmp / f"{p.csp}-{lay.form.id}.csv"
            path.write_bytes(kobo_csv(frame))
            entries.append({"file": str(path), "crosswalk": f"crosswalks/{crosswalk_path(p, lay)}"})
    return entries


def test_simulated_exports_honour_routing(built: Built) -> None:
    lay = next(lay for lay in built.layouts if lay.form.id == "young_people")
    frame = simulate(read_xlsform(built.files[f"{form_stem(lay)}.xlsx"]),
                     SimOptions(n=400, seed=3, cluster="school_code"))
    assert list(frame.columns[-len(KOBO_METADATA):]) == list(KOBO_METADATA)
    age = frame["about_you_first/age"].astype(int)
    assert age.between(11, 18).all()
    blank = frame == ""
    assert (blank["wellbeing/anxious_yesterday"] == (age < 16)).all()
    assert (blank["about_you/long_condition"] == (age < 16)).all()
    limit_asked = frame["about_you/long_condition"] == "yes"
    assert (~blank["about_you/activity_limit"] == limit_asked).all()
    unsafe = (frame["safety/safe_area_day"].isin(["a_bit_unsafe", "very_unsafe"])
              | frame["safety/safe_area_dark"].isin(["a_bit_unsafe", "very_unsafe"]))
    assert (~blank["safety/unsafe_reasons"] == unsafe).all()
    assert 0 < unsafe.sum() < len(frame)
    ticked = frame.loc[unsafe, "safety/unsafe_reasons/drugs"].astype(int)
    joined = frame.loc[unsafe, "safety/unsafe_reasons"].str.split().map(lambda s: "drugs" in s)
    assert (ticked.astype(bool) == joined).all()
    bands = {"11_13": (11, 13), "14_15": (14, 15), "16_18": (16, 18)}
    for code, (lo, hi) in bands.items():
        assert frame.loc[age.between(lo, hi), "about_you_first/age_band"].eq(code).all()
    assert frame["school_code"].str.match(r"^S\d\d$").all()
    # no answer is blank unless routing skipped it: every question is required
    assert not blank["wellbeing/life_sat"].any() and not blank["about_you_first/sex"].any()


def test_round_trip_through_the_pipeline(built: Built, tmp_path: Path) -> None:
    from harmonise.pipeline import run
    from harmonise.report.write import write_report

    entries = _exports(built, tmp_path, n=250)
    manifest = tmp_path / "surveys" / "manifest.yaml"
    manifest.parent.mkdir()
    manifest.write_text(yaml.safe_dump({"schema": "crosswalks/schema/perception-v2.yaml",
                                        "surveys": entries}), encoding="utf-8")
    result = run(manifest, root=ROOT)
    written = write_report(result, tmp_path / "report", charts=False)
    assert (tmp_path / "report" / "index.html") in written
    est = result.estimates.rows
    overall = est[(est["group_var"] == "all")]
    assert set(overall["crosswalk"]) == {f"joint-{p}-{f}@v1" for p in
                                         ("bedford", "central-beds", "luton")
                                         for f in ("adults", "young-people")}
    assert overall["synthetic"].all() and overall["illustrative_targets"].all()
    # every question with a headline indicator is estimated for every adult survey
    adults = overall[overall["crosswalk"] == "joint-luton-adults@v1"]
    for ind in ("safe_area_dark_safe", "police_rating_good", "worry_burglary_high",
                "prob_drunk_big", "victim_violence_12m_yes", "life_sat_high",
                "anxious_yesterday_high", "unsafe_reasons_selected"):
        rows = adults[adults["indicator"] == ind]
        assert len(rows) and rows["estimate"].notna().all(), ind
    # don't know is out of the base and reported as its own share
    dark = adults[adults["indicator"] == "safe_area_dark_safe"].iloc[0]
    assert dark["n"] + dark["n_out_of_base"] == 250
    # weighting met the targets: weighted sex shares equal the illustrative targets
    ws = next(w for w in result.surveys if w.survey.crosswalk.crosswalk == "joint-luton-adults")
    share = ws.data.groupby("sex")["_weight"].sum() / ws.data["_weight"].sum()
    targets = pd.read_csv(ROOT / "surveys/targets/joint-v1-illustrative.csv")
    t = targets[(targets["area_code"] == "E06000032") & (targets["population"] == "adults_16plus")
                & (targets["variable"] == "sex")].set_index("category")["count"]
    assert share["female"] == pytest.approx(t["female"] / t.sum(), abs=1e-8)
    # same population, identical items: the three partnerships are compared with each other
    comp = result.comparisons.rows
    pairs = comp[(comp["indicator"] == "safe_area_dark_safe") & comp["compared"]]
    assert len(pairs) >= 3
    # the young people's anxiety item was asked of 16-18s only
    young = next(w for w in result.surveys
                 if w.survey.crosswalk.crosswalk == "joint-bedford-young-people")
    asked = young.data["anxious_yesterday"] != "not_asked"
    assert (young.data.loc[asked, "age_band"] == "16_18").all()
    assert (young.data.loc[~asked, "age_band"] != "16_18").all()


def test_ingest_keeps_kobo_columns_and_drops_metadata(built: Built, tmp_path: Path) -> None:
    """Kobo's space-joined select-multiple column is coded answers, not free text; its
    submission time and user are dropped at the door, its uuid is the respondent id."""
    from harmonise.ingest import read_survey

    lay = next(lay for lay in built.layouts if lay.form.id == "adults")
    frame = simulate(read_xlsform(built.files[f"{form_stem(lay)}.xlsx"]),
                     SimOptions(n=300, seed=5))
    path = tmp_path / "kobo.csv"
    path.write_bytes(kobo_csv(frame))
    survey = read_survey(path)
    assert {f.name for f in survey.flagged} == {"_submission_time", "_submitted_by"}
    assert survey.codebook.variables["_uuid"].role == "respondent_id"
    assert survey.codebook.platform == "KoboToolbox" and "sep=';'" in survey.provenance.reader
    assert "safety/unsafe_reasons" in survey.data.columns
    # the rule needs a 1/0 column for every name: typed text beside them is still flagged
    from harmonise.privacy import detect_identifying

    places = ["park", "station", "shops", "bus stop", "school", "river"]
    typed = [f"i felt unsafe near the {p} after {h} because of the people there"
             for p in places for h in ("six", "seven", "eight", "nine", "ten")]
    sub = pd.DataFrame({"q": ["drugs groups", "groups", "drugs"] * 10, "q/drugs": [1, 0, 1] * 10,
                        "q/groups": [1, 1, 0] * 10, "why": typed,
                        "why/i": [1] * 30})
    flagged = {f.name: f.kind for f in detect_identifying(sub)}
    assert flagged == {"why": "free_text"}
