"""Disclosure across the tables of one release: differencing between nested breakdowns."""

from __future__ import annotations

import dataclasses
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmonise.disclosure.cells import (
    DisclosureRules,
    apply_disclosure,
    footnotes,
    suppression_reason,
)
from harmonise.disclosure.counts import CountFamily, suppress_counts
from harmonise.disclosure.linked import (
    apply_release_disclosure,
    group_mask,
    linked_leaks,
    release_masks,
)
from harmonise.models.harmonised import EstimateTable
from harmonise.models.run import RunResult
from harmonise.report import report_data
from helpers import linked_release

Key = tuple[str, str]


def _release(people: pd.DataFrame, groups: dict[Key, np.ndarray]
             ) -> tuple[list[EstimateTable], dict[str, dict[Key, np.ndarray]]]:
    """Weighted and unweighted tables of one indicator from respondent-level columns
    ``valid``/``success``/``oob`` and group masks (keys in row order)."""
    return linked_release(people, groups)


def _people(sizes: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Respondents per band: (base, successes); everybody answered."""
    band = [b for b, (n, _) in sizes.items() for _ in range(n)]
    success = [i < k for b, (n, k) in sizes.items() for i in range(n)]
    return pd.DataFrame({"band": band, "valid": True, "success": success, "oob": False})


def _groups(people: pd.DataFrame, ranges: dict[str, tuple[str, ...]]) -> dict[Key, np.ndarray]:
    out: dict[Key, np.ndarray] = {("all", "all"): np.ones(len(people), dtype=bool)}
    for b in dict.fromkeys(people["band"]):
        out[("age_band", str(b))] = (people["band"] == b).to_numpy()
    for code, bands in ranges.items():
        out[("age_range", code)] = people["band"].isin(bands).to_numpy()
    return out


def _row(table: EstimateTable, gv: str, g: str) -> pd.Series:
    rows = table.rows
    hit: pd.Series = rows[(rows["group_var"] == gv) & (rows["group"] == g)].iloc[0]
    return hit


BANDS = {"16": (6, 3), "17_18": (40, 20), "19_34": (30, 15), "35_plus": (100, 50)}


def test_age_range_minus_a_band_leaks_without_the_release_check_and_not_with_it() -> None:
    people = _people(BANDS)
    tables, masks = _release(people, _groups(people, {"16_18": ("16", "17_18")}))
    alone = [apply_disclosure(t) for t in tables]
    # the family rule hides band 16 (5 < 10) and 19_34 (smallest other band) ...
    assert _row(alone[0], "age_band", "16")["suppression_kind"] == "primary"
    assert _row(alone[0], "age_band", "19_34")["suppression_kind"] == "secondary"
    # ... but 16-18 (46) minus the published 17-18 band (40) gives the six 16-year-olds
    leaks = linked_leaks([t.rows for t in alone], masks, raw=[t.rows for t in tables])
    assert [(lk.whole, lk.parts) for lk in leaks] == [
        (("age_range", "16_18"), (("age_band", "17_18"),))]
    assert "fewer than 10 respondents in the base" in leaks[0].reveals
    published = apply_release_disclosure(tables, masks)
    for t in published:
        row = _row(t, "age_band", "17_18")
        assert row["suppression_kind"] == "linked" and bool(row["suppressed"])
        assert "age_range 16_18 minus age_band 17_18" in row["suppression_reason"]
        assert row[["estimate", "n", "n_success", "n_out_of_base"]].isna().all()
    assert linked_leaks([t.rows for t in published], masks,
                        raw=[t.rows for t in tables]) == []
    notes = footnotes(published[0])
    assert any("subtracting one published breakdown from another" in n for n in notes)


def test_overlapping_ranges_leak_through_the_band_they_share() -> None:
    bands = {"16_17": (5, 2), "18_20": (60, 30), "21_24": (45, 20), "25_plus": (200, 90)}
    people = _people(bands)
    groups = _groups(people, {"16_20": ("16_17", "18_20"), "18_24": ("18_20", "21_24")})
    tables, masks = _release(people, groups)
    raw = [t.rows for t in tables]
    alone = [apply_disclosure(t) for t in tables]
    assert linked_leaks([t.rows for t in alone], masks, raw=raw)  # 16-20 minus 18-20 = 5
    published = apply_release_disclosure(tables, masks)
    assert linked_leaks([t.rows for t in published], masks, raw=raw) == []
    kinds = published[0].rows.set_index(["group_var", "group"])["suppression_kind"]
    assert kinds[("age_band", "16_17")] == "primary"
    assert (kinds == "linked").sum() >= 1


def test_a_range_equal_to_a_suppressed_band_is_suppressed_with_it() -> None:
    # an 11-18 survey: age range 16-18 is exactly band 16_18, which the family rule hides
    people = _people({"11_13": (200, 100), "14_15": (8, 4), "16_18": (30, 15)})
    tables, masks = _release(people, _groups(people, {"16_18": ("16_18",)}))
    published = apply_release_disclosure(tables, masks)
    row = _row(published[0], "age_range", "16_18")
    assert row["suppression_kind"] == "linked"
    assert "suppressed age_band 16_18 as their sum" in row["suppression_reason"]


def test_out_of_base_counts_are_differenced_too() -> None:
    people = _people({"16": (40, 20), "17_18": (80, 40), "19_plus": (300, 150)})
    people.loc[people.index[:3], ["valid", "success", "oob"]] = [False, False, True]
    people.loc[people.index[80:92], "oob"] = True  # 12 of band 17_18, not successes
    people.loc[people.index[80:92], "valid"] = False
    tables, masks = _release(people, _groups(people, {"16_18": ("16", "17_18")}))
    published = apply_release_disclosure(tables, masks)
    shown = published[0].rows.set_index(["group_var", "group"])["n_out_of_base"]
    assert pd.isna(shown[("age_band", "16")])  # 3: primary
    assert pd.isna(shown[("age_band", "17_18")])  # 16-18's 15 minus it would give the 3
    assert not bool(_row(published[0], "age_band", "17_18")["suppressed"])


def test_nothing_more_is_suppressed_when_no_difference_is_small() -> None:
    people = _people({"16_17": (60, 30), "18_24": (80, 40), "25_plus": (200, 90)})
    tables, masks = _release(people, _groups(people, {"16_24": ("16_17", "18_24")}))
    published = apply_release_disclosure(tables, masks)
    for t, p in zip(tables, published, strict=True):
        assert p.rows["suppressed"].tolist() == apply_disclosure(t).rows["suppressed"].tolist()
        assert not p.rows["suppressed"].any()


@st.composite
def _random_release(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    n_bands = draw(st.integers(2, 5))
    sizes = {f"b{i}": (n, draw(st.integers(0, n)))
             for i, n in enumerate(draw(st.lists(st.integers(1, 40), min_size=n_bands,
                                                 max_size=n_bands)))}
    names = list(sizes)
    ranges: dict[str, tuple[str, ...]] = {}
    for _ in range(draw(st.integers(0, 3))):
        lo = draw(st.integers(0, n_bands - 1))
        hi = draw(st.integers(lo, n_bands - 1))
        ranges[f"r{lo}_{hi}"] = tuple(names[lo:hi + 1])
    return _people(sizes), ranges


@pytest.mark.slow
@given(_random_release())
def test_property_no_published_group_minus_published_subgroups_is_small(
    case: tuple[pd.DataFrame, dict[str, tuple[str, ...]]],
) -> None:
    """For every published group A and every collection P of published groups, pairwise
    disjoint and each inside A (by respondents), the published n(A) - sum n(P) is 0 or at
    least min_base and the matching counts pass the primary rules; and no suppressed
    group's true base is the sum of such a P. Checked by brute force over all subsets,
    independently of the maximal-collection search the module uses."""
    people, ranges = case
    groups = _groups(people, ranges)
    tables, masks = _release(people, groups)
    rules = DisclosureRules()
    published = apply_release_disclosure(tables, masks, rules)
    raw = tables[0].rows.set_index(["group_var", "group"])
    for t in published:
        rows = t.rows.set_index(["group_var", "group"])
        shown = [k for k in groups if not bool(rows.loc[k, "suppressed"])]
        for a in groups:
            inside = [b for b in shown if b != a and not (groups[b] & ~groups[a]).any()]
            for size in range(1, len(inside) + 1):
                for parts in combinations(inside, size):
                    if any((groups[x] & groups[y]).any() for x, y in combinations(parts, 2)):
                        continue
                    if bool(rows.loc[a, "suppressed"]):
                        assert raw.loc[a, "n"] != sum(rows.loc[b, "n"] for b in parts)
                        continue
                    n_d = int(rows.loc[a, "n"] - sum(rows.loc[b, "n"] for b in parts))
                    k_d = int(rows.loc[a, "n_success"]
                              - sum(rows.loc[b, "n_success"] for b in parts))
                    assert n_d == 0 or not suppression_reason(n_d, k_d, rules), (a, parts)


def test_count_tables_blank_a_second_count_when_the_total_gives_one_back() -> None:
    frame = pd.DataFrame({"count": [300, 120, 4, 0, 30]})
    out = suppress_counts(frame, "count", [CountFamily("sample size", (0, 1, 2, 3, 4))], 10)
    assert out["count_suppressed"].tolist() == [False, False, True, False, True]
    assert out["count"].isna().tolist() == [False, False, True, False, True]


@pytest.fixture(scope="module")
def bundled(bundled_run: RunResult) -> RunResult:
    return bundled_run


def test_bundled_release_passes_the_release_wide_check(bundled: RunResult) -> None:
    tables = [bundled.estimates, bundled.unweighted]
    masks = release_masks(bundled.surveys, tables)
    assert linked_leaks([t.rows for t in tables], masks) == []
    # the weighted and unweighted tables hide the same cells
    key = ["crosswalk", "indicator", "option", "group_var", "group"]
    w = bundled.estimates.rows.set_index(key)["suppressed"].sort_index()
    u = bundled.unweighted.rows.set_index(key)["suppressed"].sort_index()
    assert w.tolist() == u.tolist()
    # no single blank in an audit item: the sample size would give it back
    audit = report_data(bundled).tables["audit"]
    per_item = audit.groupby(["crosswalk", "item"])["count_suppressed"].sum()
    assert not (per_item == 1).any()
    assert audit["count_suppressed"].sum() >= 8


def test_age_range_membership_comes_from_clipped_bands(bundled: RunResult) -> None:
    ws = next(s for s in bundled.surveys if s.survey.crosswalk.population.startswith("young"))
    band = ws.data["age_band"].astype(str)
    assert np.array_equal(group_mask(ws, ("age_range", "16_18")), (band == "16_18").to_numpy())
    assert np.array_equal(group_mask(ws, ("age_range", "14_18")),
                          band.isin(["14_15", "16_18"]).to_numpy())
    assert group_mask(ws, ("all", "all")).all()
    broken = dataclasses.replace(ws, data=ws.data.drop(columns=["age_band"]))
    from harmonise.errors import DisclosureError
    with pytest.raises(DisclosureError, match="age range '16_18'"):
        group_mask(broken, ("age_range", "16_18"))



def test_twin_masks_are_compared_only_when_the_counts_match(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every difference compared every suppressed cell's membership mask with its own
    (N-sized arrays): ~20 s on a release with 16 bands and 60 age ranges. A suppressed cell
    can only be the difference when its counts are the difference's counts, so only those
    masks are compared; the twin of a suppressed cell is still found."""
    people = _people({"b0": (50, 25), "b1": (3, 1), "b2": (40, 20), "b3": (200, 100),
                      "b4": (60, 30), "b5": (70, 30)})
    ranges = {"r1_1": ("b1",), "r0_2": ("b0", "b1", "b2"), "r2_3": ("b2", "b3"),
              "r3_4": ("b3", "b4"), "r4_5": ("b4", "b5")}
    tables, masks = _release(people, _groups(people, ranges))
    raw = [t.rows for t in tables]
    # the family rule hides b1 and b2; range 2-3 minus band 3 gives b2 back whole
    leaks = linked_leaks([apply_disclosure(t).rows for t in tables], masks, raw=raw)
    assert [lk.reveals for lk in leaks] == ["suppressed age_band b2 as a difference"]
    calls = 0
    array_equal = np.array_equal

    def counting(a: np.ndarray, b: np.ndarray) -> bool:
        nonlocal calls
        calls += 1
        return bool(array_equal(a, b))

    monkeypatch.setattr(np, "array_equal", counting)
    published = apply_release_disclosure(tables, masks)
    assert calls <= 10  # 243 when every suppressed cell was compared
    reasons = published[0].rows.set_index(["group_var", "group"])["suppression_reason"]
    assert "age_range r2_3 minus age_band b3" in reasons[("age_band", "b3")]
    assert linked_leaks([t.rows for t in published], masks, raw=raw) == []
