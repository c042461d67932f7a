"""Comparison gate details: waves, modes, every reason, age ranges, corrections, the matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonise.compare.pairs import (
    NOT_ASKED,
    comparability_matrix,
    compare,
    mode_family,
    restricted_estimates,
)
from harmonise.compare.subgroups import compare_domains
from harmonise.crosswalk.io import load_crosswalk
from harmonise.errors import EstimationError
from harmonise.estimate import Design, difference
from harmonise.estimate.indicators import concat_tables, estimate_indicators
from harmonise.models.age_ranges import POPULATION_AGES, AgeRange, band_range, common_range, cover
from harmonise.models.harmonised import ESTIMATE_COLUMNS, EstimateTable, WeightedSurvey
from harmonise.recode import apply_crosswalk
from harmonise.weight.stage import weight_survey
from helpers import crosswalk, ref, safe_item, survey_file


def _row(cw: str, *, grade: str = "identical", population: str = "adults", est: float = 0.4,
         se: float = 0.03, wave: str = "2024", group_var: str = "all", group: str = "all",
         suppressed: bool = False, indicator: str = "ind") -> dict[str, object]:
    row: dict[str, object] = {c: "" for c in ESTIMATE_COLUMNS}
    row |= {"indicator": indicator, "concept": "safe_area_dark", "option": "", "label": "L",
            "crosswalk": cw, "csp_name": cw.upper(), "population": population, "wave": wave,
            "group_var": group_var, "group": group, "weighted": True, "comparability": grade,
            "estimate": est, "se": se, "suppressed": suppressed,
            "suppression_reason": "small" if suppressed else ""}
    return row


def _compare(rows: list[dict[str, object]], **kw: object) -> pd.DataFrame:
    return compare(EstimateTable(rows=pd.DataFrame(rows)), **kw).rows  # type: ignore[arg-type]


def test_only_surveys_of_the_same_wave_are_paired() -> None:
    out = _compare([_row("a@v1"), _row("b@v1"), _row("c@v1", wave="2025")])
    assert list(zip(out["a"], out["b"], out["wave"], strict=True)) == [("a@v1", "b@v1", "2024")]


def test_a_refused_pair_lists_every_reason() -> None:
    out = _compare([_row("a@v1", grade="proxy", population="adults_18plus"),
                    _row("b@v1", population="pupils_y7_y11", suppressed=True)])
    reason = out.loc[0, "reason"]
    assert "graded 'proxy', below 'close'" in reason
    assert "different populations (adults_18plus vs pupils_y7_y11)" in reason
    assert "B@V1 estimate suppressed (small)" in reason
    assert "no age in common (18+ vs 11-16)" in reason
    out = _compare([_row("a@v1", population="adults_18plus"), _row("b@v1", population="all")])
    reason = out.loc[0, "reason"]
    assert "different populations (adults_18plus vs all), no known age range" in reason


@pytest.mark.parametrize(
    ("mode", "family"),
    [("Telephone interviews (CATI); interviewers code spontaneous answers", "interviewer"),
     ("Online self-completion (SurveyMonkey)", "self-completion"),
     ("Self-completion online questionnaire in class", "self-completion"),
     ("Postal questionnaire", "self-completion"), ("Carrier pigeon", "unknown")],
)
def test_mode_family(mode: str, family: str) -> None:
    assert mode_family(mode) == family


def _cw(cid: str, mode: str, population: str = "adults_18plus", grade: str = "close"):  # type: ignore[no-untyped-def]
    return crosswalk([safe_item(comparability=grade, note=f"note of {cid}")], crosswalk=cid,
                     mode=mode, population=population)


def test_mode_difference_is_a_caveat_when_compared_and_a_reason_when_refused() -> None:
    a, b = _cw("a", "Online self-completion"), _cw("b", "Telephone (CATI)")
    out = _compare([_row(a.ref, population="adults_18plus"),
                    _row(b.ref, population="adults_18plus")], crosswalks=[a, b])
    assert bool(out.loc[0, "compared"])
    caveats = out.loc[0, "caveats"].split("; ")
    assert caveats[0] == "different modes (self-completion vs interviewer)"
    # the test crosswalks' sampling is 'open link': each side is flagged as opt-in
    assert sum("is an opt-in sample" in c for c in caveats) == 2
    assert (out.loc[0, "a_note"], out.loc[0, "b_note"]) == ("note of a", "note of b")
    out = _compare([_row(a.ref, grade="proxy", population="adults_18plus"),
                    _row(b.ref, population="adults_18plus")], crosswalks=[a, b])
    assert out.loc[0, "reason"].endswith("; different modes (self-completion vs interviewer)")


def test_benjamini_hochberg_is_an_option() -> None:
    rows = []
    for i, (ea, eb) in enumerate([(0.40, 0.30), (0.50, 0.45), (0.50, 0.42)]):
        rows += [_row("a@v1", est=ea, indicator=f"i{i}"), _row("b@v1", est=eb, indicator=f"i{i}")]
    holm = _compare(rows)
    bh = _compare(rows, correction="bh")
    p = bh["p_value"].to_numpy()
    order = np.argsort(p)
    ranked = p[order] * 3 / np.arange(1, 4)
    expected = np.minimum.accumulate(ranked[::-1])[::-1]
    assert bh["p_adjusted"].to_numpy()[order] == pytest.approx(expected)
    assert bh["p_adjusted"].to_numpy() != pytest.approx(holm["p_adjusted"].to_numpy())
    assert set(holm["correction"]) == {"holm"} and "p_holm" not in bh.columns
    assert set(bh["correction"]) == {"bh"}
    with pytest.raises(EstimationError, match="unknown multiplicity correction 'tukey'"):
        _compare(rows, correction="tukey")


# ----------------------------------------------------------------------------- age ranges


@pytest.mark.parametrize(
    ("code", "expected"),
    [("18_34", AgeRange(18, 34)), ("65_plus", AgeRange(65)), ("16", AgeRange(16, 16)),
     ("y7", None), ("34_18", None)],
)
def test_band_range(code: str, expected: AgeRange | None) -> None:
    assert band_range(code) == expected


def test_common_ranges_of_the_schema_populations() -> None:
    assert common_range("adults_16plus", "young_people_11_18", POPULATION_AGES) == AgeRange(16, 18)
    assert common_range("adults_18plus", "pupils_y7_y11", POPULATION_AGES) is None
    assert common_range("adults_18plus", "all", POPULATION_AGES) is None
    assert str(AgeRange(16, 18)) == "16-18" and AgeRange(16, 18).code == "16_18"


@pytest.mark.parametrize(
    ("bands", "population", "expected"),
    [
        (["11_13", "14_15", "16_18"], AgeRange(11, 18), ("16_18",)),
        (["16_17", "18", "19_64", "65_plus"], AgeRange(16), ("16_17", "18")),
        (["16_24", "25_64", "65_plus"], AgeRange(16), None),  # straddles 18
        (["16_17", "19_64"], AgeRange(16), None),  # no band for 18
        (["11_13", "14_15", "16_18"], None, ("16_18",)),
    ],
)
def test_cover(bands: list[str], population: AgeRange | None,
               expected: tuple[str, ...] | None) -> None:
    assert cover(bands, AgeRange(16, 18), population) == expected


def test_adults_18_plus_and_young_people_cannot_be_separated_on_the_bundled_bands() -> None:
    rows = [_row("adults@v1", population="adults_18plus"),
            _row("adults@v1", population="adults_18plus", group_var="age_band", group="18_34"),
            _row("yp@v1", population="young_people_11_18"),
            _row("yp@v1", population="young_people_11_18", group_var="age_band", group="16_18")]
    out = _compare(rows)
    assert not bool(out.loc[0, "compared"])
    assert "common age range 18 cannot be separated (ADULTS@V1 has age bands ['18_34']; " \
        "YP@V1 has age bands ['16_18'])" in out.loc[0, "reason"]


def _survey(cid: str, population: str, ages: dict[int, str], seed: int) -> WeightedSurvey:
    rng = np.random.default_rng(seed)
    n = 400
    data = pd.DataFrame({"RID": np.arange(n), "Q1": rng.integers(1, 6, n).astype(float),
                         "AGE": rng.integers(1, len(ages) + 1, n)})
    data.loc[rng.random(n) < 0.05, "Q1"] = 98
    age_item = {"id": "age", "concept": "age_band", "source": "AGE", "recode": ages,
                "comparability": "equivalent", "note": "bands"}
    cw = crosswalk([safe_item(), age_item], crosswalk=cid, population=population,
                   respondent_id="RID")
    return weight_survey(apply_crosswalk(survey_file(data), cw, _schema(), ref(cw)), None)


def _schema():  # type: ignore[no-untyped-def]
    from harmonise.crosswalk.io import load_schema

    return load_schema(Path(__file__).resolve().parents[2] / "crosswalks/schema/perception-v1.yaml")


def test_restricted_estimates_make_a_pair_comparable_on_the_common_ages() -> None:
    schema = _schema()
    adults = _survey("adults", "adults_16plus", {1: "16_17", 2: "18", 3: "19_64", 4: "65_plus"}, 1)
    young = _survey("young", "young_people_11_18", {1: "11_15", 2: "16_18"}, 2)
    extra = restricted_estimates([adults, young], schema)
    got = extra.rows.set_index("crosswalk")
    assert set(got["group"]) == {"16_18"} and set(got["group_var"]) == {"age_range"}
    # the adults' 16-18 is the union of two bands: the plain share among those respondents
    d = adults.data
    inside = d["age_band"].isin(["16_17", "18"]) & ~d["safe_area_dark"].isin(["dont_know"])
    share = d.loc[inside, "safe_area_dark"].isin(["very_safe", "fairly_safe"]).mean()
    assert got.loc["adults@v1", "estimate"] == pytest.approx(share, rel=1e-12)
    assert got.loc["adults@v1", "n"] == inside.sum()
    # the young people's 16-18 is one band: identical to that subgroup row
    band = estimate_indicators(young, schema, by=["age_band"]).rows
    band = band[band["group"] == "16_18"].iloc[0]
    for col in ("estimate", "se", "ci_low", "ci_high", "n"):
        assert got.loc["young@v1", col] == pytest.approx(band[col], rel=1e-12)
    table = concat_tables([estimate_indicators(adults, schema, by=["age_band"]),
                           estimate_indicators(young, schema, by=["age_band"]), extra])
    out = compare(table).rows
    r = out[out["indicator"] == "safe_area_dark_safe"].iloc[0]
    assert bool(r["compared"]) and r["restricted_to"] == "16-18"
    assert "common age range 16-18 only (adults_16plus vs young_people_11_18)" in r["caveats"]
    assert r["a_estimate"] == pytest.approx(share)
    se = np.hypot(got.loc["adults@v1", "se"], got.loc["young@v1", "se"])
    assert r["se"] == pytest.approx(se)


# ----------------------------------------------------------------------------- the matrix


def test_comparability_matrix_has_a_cell_per_concept_and_instrument(root: Path, schema) -> None:  # type: ignore[no-untyped-def]
    cws = [load_crosswalk(root / p) for p in ("crosswalks/bedford/residents-2024.v1.yaml",
                                              "crosswalks/luton/residents-2024.v1.yaml")]
    m = comparability_matrix(schema, cws)
    concepts = [c.id for c in schema.concepts if c.theme != "demographics"]
    assert len(m) == len(concepts) * 2 and "sex" not in set(m["concept"])
    grid = m.pivot_table(index="concept", columns="crosswalk", values="grade", aggfunc="first")
    assert grid.loc["safe_area_dark"].tolist() == ["close", "identical"]
    assert grid.loc["unsafe_reasons", "luton-residents-2024@v1"] == NOT_ASKED
    cell = m[(m["concept"] == "unsafe_reasons") & (m["crosswalk"] == "bedford-residents-2024@v1")]
    assert cell["items"].iloc[0].count("q3_") == 6 and cell["note"].iloc[0]
    assert set(m["mode"]) == {"self-completion", "interviewer"}


def test_matrix_cell_takes_the_weakest_grade_of_its_items(schema) -> None:  # type: ignore[no-untyped-def]
    items = [{"id": f"o{k}", "concept": "unsafe_reasons", "option": opt, "source": f"R{k}",
              "recode": {1: "selected", 0: "not_selected"}, "comparability": grade,
              "note": f"n{k}"}
             for k, (opt, grade) in enumerate([("drugs", "identical"), ("groups", "proxy")])]
    m = comparability_matrix(schema, [crosswalk(items)])
    cell = m[m["concept"] == "unsafe_reasons"].iloc[0]
    assert (cell["grade"], cell["note"]) == ("proxy", "n0 / n1")


# ----------------------------------------------------------------------------- one survey


def test_compare_domains_uses_the_difference_of_one_design() -> None:
    schema = _schema()
    ws = _survey("adults", "adults_16plus", {1: "16_17", 2: "18", 3: "19_64", 4: "65_plus"}, 3)
    out = compare_domains(ws, schema, "age_band", correction="bh")
    dark = out[out["indicator"] == "safe_area_dark_safe"]
    assert len(dark) == 6 and set(dark["correction"]) == {"bh"}
    r = dark[(dark["a"] == "16_17") & (dark["b"] == "65_plus")].iloc[0]
    d = ws.data
    valid = ~d["safe_area_dark"].isin(["dont_know", "no_answer"]).to_numpy()
    y = d["safe_area_dark"].isin(["very_safe", "fairly_safe"]).to_numpy(dtype=float)
    young = valid & (d["age_band"] == "16_17").to_numpy()
    ref_ = difference(Design(weights=np.ones(len(d))), y, young,
                      valid & (d["age_band"] == "65_plus").to_numpy())
    assert (r["difference"], r["se"], r["ci_low"]) == pytest.approx(
        (ref_.estimate, ref_.se, ref_.ci_low), rel=1e-12)
    share = d.loc[young, "safe_area_dark"]
    assert r["a_estimate"] == pytest.approx(share.isin(["very_safe", "fairly_safe"]).mean())
    assert 0 <= r["p_value"] <= r["p_adjusted"] <= 1
    with pytest.raises(EstimationError, match="'ward' is not a column"):
        compare_domains(ws, schema, "ward")
