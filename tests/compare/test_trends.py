"""Change between waves: series, the independent-samples SE, the gate and the flags."""

from __future__ import annotations

import pandas as pd
import pytest

from harmonise.compare.trends import changelog_between, item_differences, series_id, trends
from harmonise.models.harmonised import ESTIMATE_COLUMNS, EstimateTable
from helpers import crosswalk, safe_item


def _row(cw: str, wave: str, est: float, se: float, *, grade: str = "identical",
         population: str = "adults_18plus", suppressed: bool = False,
         indicator: str = "safe_area_dark_safe") -> dict[str, object]:
    row: dict[str, object] = {c: "" for c in ESTIMATE_COLUMNS}
    row |= {"indicator": indicator, "concept": "safe_area_dark", "option": "", "label": "L",
            "csp": "x", "csp_name": "X", "crosswalk": cw, "wave": wave,
            "population": population, "group_var": "all", "group": "all", "weighted": True,
            "comparability": grade, "estimate": est, "se": se, "suppressed": suppressed,
            "suppression_reason": "small" if suppressed else ""}
    return row


def _trends(rows: list[dict[str, object]], **kw: object) -> pd.DataFrame:
    return trends(EstimateTable(rows=pd.DataFrame(rows)), **kw).rows  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cid", "wave", "expected"),
    [("luton-residents-2024", "2024", "luton-residents"), ("luton-residents-2024@v1", "2024",
     "luton-residents"), ("bedford-residents", "2024", "bedford-residents"),
     ("survey-2024", "2025", "survey-2024")],
)
def test_series_id(cid: str, wave: str, expected: str) -> None:
    assert series_id(cid, wave) == expected


def test_change_between_consecutive_waves_with_independent_se() -> None:
    out = _trends([_row("s-2024@v1", "2024", 0.60, 0.03), _row("s-2025@v1", "2025", 0.52, 0.04),
                   _row("s-2026@v1", "2026", 0.55, 0.03), _row("other-2025@v1", "2025", 0.1, 0.01)])
    assert list(zip(out["from_wave"], out["to_wave"], strict=True)) == [("2024", "2025"),
                                                                         ("2025", "2026")]
    first = out.iloc[0]
    assert first["change"] == pytest.approx(-0.08)
    assert first["se"] == pytest.approx(0.05)
    assert first["ci_low"] == pytest.approx(-0.08 - 1.959963985 * 0.05)
    assert first["p_value"] == pytest.approx(0.10959858339911224)  # z = 1.6
    low, high = sorted(out["p_value"])
    holm = sorted(out["p_adjusted"])
    assert holm == pytest.approx([min(1.0, 2 * low), min(1.0, max(2 * low, high))])
    assert not out["crosswalk_changed"].any() and (out["flag"] == "").all()


def test_gate_refuses_a_change_with_every_reason() -> None:
    out = _trends([_row("s-2024@v1", "2024", 0.6, 0.03, grade="proxy"),
                   _row("s-2025@v1", "2025", 0.5, 0.03, population="adults_16plus",
                        suppressed=True)])
    r = out.iloc[0]
    assert not bool(r["computed"]) and pd.isna(r["change"])
    assert "wave 2024 (s-2024@v1) item is graded 'proxy'" in r["reason"]
    assert "different populations" in r["reason"] and "estimate suppressed" in r["reason"]


def _pair():  # type: ignore[no-untyped-def]
    v1 = crosswalk([safe_item(comparability="identical", note="v1")], crosswalk="s-2024",
                   changelog=["v1: first release."])
    v2 = crosswalk([safe_item(comparability="close", note="v2",
                              missing={98: "dont_know", 99: "refused", "(blank)": "no_answer"})],
                   crosswalk="s-2025", version=2, wave="2025",
                   changelog=["v1: first release.", "v2:  2025 wave, 99 is now 'refused'.",
                              "note without a version"])
    return v1, v2


def test_flag_names_what_changed_in_the_item_and_quotes_the_changelog() -> None:
    v1, v2 = _pair()
    out = _trends([_row(v1.ref, "2024", 0.6, 0.03), _row(v2.ref, "2025", 0.5, 0.03,
                                                         grade="close")], crosswalks=[v1, v2])
    r = out.iloc[0]
    assert bool(r["crosswalk_changed"]) and bool(r["item_changed"]) and bool(r["computed"])
    assert r["flag"] == ("crosswalk changed between waves (s-2024@v1 → s-2025@v2): this item's "
                         "missing codes changed; grade identical → close")
    assert r["changelog"] == "v2: 2025 wave, 99 is now 'refused'."


def test_without_crosswalks_a_version_or_grade_change_is_still_flagged() -> None:
    out = _trends([_row("s-2024@v1", "2024", 0.6, 0.03), _row("s-2025@v2", "2025", 0.5, 0.03)])
    r = out.iloc[0]
    assert bool(r["crosswalk_changed"]) and not bool(r["item_changed"])
    assert "mapping is unchanged" in r["flag"]


def test_item_differences_and_changelog_helpers() -> None:
    v1, v2 = _pair()
    assert item_differences(v1.items[0], v1.items[0]) == []
    assert item_differences(v1.items[0], None) == ["item added or removed"]
    # keys are compared as values are matched (crosswalk diff does the same): 1 == 1.0,
    # "Very Safe" == "very  safe"; only a changed target or key set is a change
    base = safe_item(recode={1: "very_safe", "Fairly safe": "fairly_safe"},
                     missing={98: "dont_know"})
    same = safe_item(recode={1.0: "very_safe", "fairly  SAFE": "fairly_safe"},
                     missing={"98": "dont_know"})
    moved = safe_item(recode={1: "fairly_safe", "Fairly safe": "fairly_safe"},
                      missing={99: "dont_know"})
    a, b, c = (crosswalk([i]).items[0] for i in (base, same, moved))
    assert item_differences(a, b) == []
    assert item_differences(a, c) == ["recode table changed", "missing codes changed"]
    assert changelog_between(v2, None) == ["v1: first release.",
                                           "v2: 2025 wave, 99 is now 'refused'."]


def test_a_change_of_response_scale_is_shown_but_not_computed() -> None:
    four = {1: "very_safe", 2: "fairly_safe", 3: "a_bit_unsafe", 4: "very_unsafe"}
    v1 = crosswalk([safe_item(scale="safety4", recode=four, comparability="identical")],
                   crosswalk="s-2024")
    v2 = crosswalk([safe_item()], crosswalk="s-2025", version=2, wave="2025")  # safety5
    out = _trends([_row(v1.ref, "2024", 0.6, 0.03), _row(v2.ref, "2025", 0.5, 0.03,
                                                         grade="close")], crosswalks=[v1, v2])
    r = out.iloc[0]
    assert not bool(r["computed"]) and pd.isna(r["change"]) and pd.isna(r["p_adjusted"])
    assert "response scale changed between waves (safety4 → safety5)" in r["reason"]
    assert r["from_estimate"] == 0.6 and r["to_estimate"] == 0.5  # both figures still shown
