"""The release-wide leak search per overlap component against the old brute force.

The old search enumerated every maximal collection of disjoint groups inside each group
(Bron-Kerbosch over all of them), which is exponential in independent nested breakdowns
(15 areas and their wards: 2^15 collections for 'all'). It is kept here as the oracle:
the component search must find the same first leak, so the same cells are suppressed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import harmonise.disclosure.linked as dl
from harmonise.disclosure.cells import DisclosureRules, apply_disclosure
from harmonise.errors import DisclosureError
from harmonise.models.harmonised import EstimateTable
from helpers import linked_release

Key = tuple[str, str]
Found = tuple[str, Key, tuple[Key, ...], str] | None


# ---- the old search (before components), as the oracle ---------------------------------

def _old_maximal_disjoint(items: list[Key], disjoint: dict[Key, set[Key]]
                          ) -> list[tuple[Key, ...]]:
    found: list[tuple[Key, ...]] = []

    def expand(r: list[Key], p: list[Key], x: list[Key]) -> None:
        if not p and not x:
            found.append(tuple(r))
            if len(found) > dl.MAX_PACKINGS:
                raise DisclosureError("too many packings")
            return
        pivot = max(p + x, key=lambda u: (len(disjoint[u] & set(p)), u))
        for v in [v for v in p if v not in disjoint[pivot]]:
            expand([*r, v], [u for u in p if u in disjoint[v]], [u for u in x if u in disjoint[v]])
            p = [u for u in p if u != v]
            x = [*x, v]

    if items:
        expand([], sorted(items), [])
    return sorted(found)


def _old_packings(masks: Mapping[Key, np.ndarray]) -> dict[Key, list[tuple[Key, ...]]]:
    keys = sorted(k for k, m in masks.items() if m.any())
    out: dict[Key, list[tuple[Key, ...]]] = {}
    for a in keys:
        inside = [b for b in keys if b != a and not (masks[b] & ~masks[a]).any()]
        disjoint = {b: {c for c in inside if c != b and not (masks[b] & masks[c]).any()}
                    for b in inside}
        out[a] = _old_maximal_disjoint(inside, disjoint)
    return out


def _order(masks: Mapping[Key, np.ndarray], a: Key, inside: list[Key]
           ) -> dict[Key, int]:
    """Component number of each group inside ``a`` (components by their smallest group),
    worked out independently of the code under test (union-find over overlaps)."""
    parent = {b: b for b in inside}

    def root(b: Key) -> Key:
        while parent[b] != b:
            b = parent[b]
        return b

    for i, b in enumerate(inside):
        for c in inside[i + 1:]:
            if (masks[b] & masks[c]).any():
                rb, rc = root(b), root(c)
                parent[max(rb, rc)] = min(rb, rc)
    roots = sorted({root(b) for b in inside})
    return {b: roots.index(root(b)) for b in inside}


def _old_find_leak(u: dl._Unit, masks: Mapping[Key, np.ndarray], _: object,
                   rules: DisclosureRules) -> Found:
    """Every collection of the old enumeration, in the order the new search defines (by the
    choice in each component, components by their smallest group)."""
    packs = _old_packings(masks)
    for a in u.keys:
        ranked = []
        for full in packs.get(a, []):
            comp = _order(masks, a, sorted({b for f in packs[a] for b in f}))
            key = tuple(tuple(sorted(b for b in full if comp[b] == i))
                        for i in range(len(set(comp.values()))))
            ranked.append((key, tuple(sorted(full))))
        for _, full in sorted(ranked):
            hit = dl.check_packing(u, masks, a, full, rules)
            if hit is not None:
                return hit
    return None


# ---- random releases with nested and overlapping groupings -----------------------------

def _release(people: pd.DataFrame, groups: dict[Key, np.ndarray]
             ) -> tuple[list[EstimateTable], dict[str, dict[Key, np.ndarray]]]:
    """Weighted and unweighted tables of one indicator from respondent-level columns
    ``valid``/``success``/``oob`` and group masks (keys in row order)."""
    return linked_release(people, groups)


@st.composite
def _random_release(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[Key, np.ndarray]]:
    n_areas = draw(st.integers(1, 4))
    wards = [draw(st.integers(1, 3)) for _ in range(n_areas)]
    n_bands = draw(st.integers(0, 3))
    recs = []
    for a, nw in enumerate(wards):
        for w in range(nw):
            for _ in range(draw(st.integers(0, 25))):
                recs.append({"area": f"a{a}", "ward": f"a{a}w{w}",
                             "band": draw(st.integers(0, max(n_bands - 1, 0))),
                             "valid": draw(st.booleans()) or draw(st.booleans()),
                             "success": draw(st.booleans()), "oob": draw(st.booleans())})
    people = pd.DataFrame(recs, columns=["area", "ward", "band", "valid", "success", "oob"])
    people["oob"] = people["oob"] & ~people["valid"].astype(bool)
    people["success"] = people["success"] & people["valid"].astype(bool)
    groups: dict[Key, np.ndarray] = {("all", "all"): np.ones(len(people), dtype=bool)}
    for a in range(n_areas):
        if draw(st.booleans()):
            groups[("area", f"a{a}")] = (people["area"] == f"a{a}").to_numpy()
        for w in range(wards[a]):
            if draw(st.integers(0, 3)) > 0:
                groups[("ward", f"a{a}w{w}")] = (people["ward"] == f"a{a}w{w}").to_numpy()
    if n_bands:  # bands cross the areas; ranges of bands overlap each other
        for b in range(n_bands):
            if draw(st.booleans()):
                groups[("band", str(b))] = (people["band"] == b).to_numpy()
        for lo in range(n_bands):
            for hi in range(lo + 1, n_bands):
                if draw(st.integers(0, 2)) == 0:
                    groups[("range", f"{lo}_{hi}")] = people["band"].between(lo, hi).to_numpy()
    return people, groups


RULES = st.sampled_from([DisclosureRules(), DisclosureRules(min_base=5, min_count=3,
                                                            min_base_for_extremes=10)])


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(_random_release(), RULES)
def test_component_search_finds_the_leaks_the_brute_force_finds(
    release: tuple[pd.DataFrame, dict[Key, np.ndarray]], rules: DisclosureRules,
) -> None:
    people, groups = release
    tables, masks = _release(people, groups)
    raw = [t.rows for t in tables]
    primary = [apply_disclosure(t, rules).rows for t in tables]
    units = dl._units(dl._with_raw(primary, raw))
    bd = dl.breakdowns(masks["cw@v1"], "cw@v1")
    old_packs = _old_packings(masks["cw@v1"])
    for a, (_, comps) in bd.items():  # the same collections, one choice per component
        product: list[tuple[Key, ...]] = [()]
        for comp in comps:
            product = [p + c for p in product for c in comp.choices]
        assert sorted(tuple(sorted(p)) for p in product if p) == \
            sorted(tuple(sorted(p)) for p in old_packs[a])
    for u in units.values():  # the first leak, before any linked suppression
        new_hit = dl._find_leak(u, masks["cw@v1"], bd, rules)
        assert new_hit == _old_find_leak(u, masks["cw@v1"], None, rules)
        # in the old enumeration's own order: a leak of the same group A, or none
        today = next((hit for a in u.keys for full in old_packs.get(a, [])
                      if (hit := dl.check_packing(u, masks["cw@v1"], a, full, rules))), None)
        assert (today is None) == (new_hit is None)
        assert today is None or new_hit is None or today[1] == new_hit[1]
    new = dl.apply_release_disclosure(tables, masks, rules)
    with pytest.MonkeyPatch.context() as mp:  # the whole repair, leak by leak
        mp.setattr(dl, "_find_leak", _old_find_leak)
        old = dl.apply_release_disclosure(tables, masks, rules)
    for n, o in zip(new, old, strict=True):
        cols = ["group_var", "group", "suppressed", "suppression_kind", "suppression_reason",
                "n_out_of_base"]
        pd.testing.assert_frame_equal(n.rows[cols], o.rows[cols])
    assert dl.linked_leaks([t.rows for t in new], masks, rules, raw=raw) == []


def _areas_and_wards(n_areas: int) -> tuple[pd.DataFrame, dict[Key, np.ndarray]]:
    """SYNTHETIC: ``n_areas`` areas of 3 wards of 40 respondents (20 say yes), except ward
    w2 of area a7, which has 4 respondents (so is suppressed, and a7 minus its other two
    wards would give it back)."""
    recs = []
    for a in range(n_areas):
        for w in range(3):
            size = 4 if (a, w) == (7, 2) else 40
            recs += [{"area": f"a{a}", "ward": f"a{a}w{w}", "valid": True,
                      "success": i < size // 2, "oob": False} for i in range(size)]
    people = pd.DataFrame(recs)
    groups: dict[Key, np.ndarray] = {("all", "all"): np.ones(len(people), dtype=bool)}
    for a in range(n_areas):
        groups[("area", f"a{a}")] = (people["area"] == f"a{a}").to_numpy()
        for w in range(3):
            groups[("ward", f"a{a}w{w}")] = (people["ward"] == f"a{a}w{w}").to_numpy()
    return people, groups


def test_twenty_areas_with_their_wards_are_searched_fast_and_the_planted_leak_found() -> None:
    people, groups = _areas_and_wards(20)
    tables, masks = _release(people, groups)
    bd = dl.breakdowns(masks["cw@v1"])
    rest, comps = bd[("all", "all")]
    # the old search would have to try 2^20 collections for 'all' (it refused above 20,000)
    assert np.prod([len(c.choices) for c in comps]) == 2 ** 20 and not rest.any()
    start = time.perf_counter()
    published = dl.apply_release_disclosure(tables, masks)
    took = time.perf_counter() - start
    assert took < 2.0
    rows = published[0].rows.set_index(["group_var", "group"])
    assert rows.loc[("ward", "a7w2"), "suppression_kind"] == "primary"
    reasons = rows.loc[rows["suppression_kind"] == "linked", "suppression_reason"]
    # a7 minus its two other wards would give the 4 respondents of a7w2: the smaller of
    # them (by name) is blanked; the family rule's a0w0 is protected from 'all' the same way
    assert sorted(reasons.index) == [("ward", "a0w1"), ("ward", "a7w0")]
    assert "+ ward a7w0 + ward a7w1 in the published estimates would give a difference " \
        "where fewer than 10 respondents" in reasons[("ward", "a7w0")]
    assert dl.linked_leaks([t.rows for t in published], masks,
                           raw=[t.rows for t in tables]) == []


def test_the_planted_leak_is_the_one_the_brute_force_finds_on_a_small_release() -> None:
    people, groups = _areas_and_wards(9)
    tables, masks = _release(people, groups)
    new = dl.apply_release_disclosure(tables, masks)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dl, "_find_leak", _old_find_leak)
        old = dl.apply_release_disclosure(tables, masks)
    pd.testing.assert_frame_equal(new[0].rows, old[0].rows)
    rows = new[0].rows.set_index(["group_var", "group"])
    assert rows.loc[("ward", "a7w0"), "suppression_kind"] == "linked"


def test_many_overlapping_groups_in_one_component_are_refused_with_advice() -> None:
    """Ranges over the same bands overlap each other: one component, and its maximal
    collections grow exponentially; the guard names the problem and the fix."""
    bands = np.repeat(np.arange(40), 3)
    groups: dict[Key, np.ndarray] = {("all", "all"): np.ones(len(bands), dtype=bool)}
    for lo in range(0, 40):
        groups[("range", f"{lo}_{lo + 1}")] = (bands >= lo) & (bands <= lo + 1)
        groups[("range", f"{lo}_{lo + 2}")] = (bands >= lo) & (bands <= lo + 2)
    with pytest.raises(DisclosureError, match=r"overlap each other.*publish fewer"):
        dl.breakdowns(groups, "cw@v1")
