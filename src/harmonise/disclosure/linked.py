"""Disclosure control across the breakdowns of one release: differencing between groupings.

:mod:`harmonise.disclosure` protects each *subgroup family* (all ``age_band`` rows of one
indicator) against its own total. A release publishes more groupings than that: an
``age_range`` row (16-18) is a union of ``age_band`` cells, a one-level breakdown is the
same respondents as the total, and the weighted and unweighted tables repeat every cell.
Anyone can subtract one published group from another that contains it, so this module
checks the whole release at once.

**Which groups contain which** is read from the respondents, not from group names: for
every survey, each published ``(group_var, group)`` gets a membership mask over its
respondents (:func:`group_masks`: a harmonised column equal to the group, every respondent
for ``all``, and for ``age_range`` the respondents whose age band, clipped to the survey's
population ages, lies inside the range, as :func:`harmonise.compare.restricted_estimates`
builds it). Containment and disjointness over all respondents hold inside every
indicator's base too, so the counts of a difference are exact arithmetic on published
``n``/``n_success``/``n_out_of_base``. A name-based rule (parse ``16_18`` and ``18_34``) would
miss groups that nest by accident of the data (every respondent of one area in one age
band) and would break on the next kind of grouping; masks cannot.

**What an intruder is assumed to do** (first-order differencing), per survey × indicator ×
option, both tables together: take a published group A and a collection P of published
groups, pairwise disjoint and each inside A, and compute ``A - sum(P)``. That is the count
of the set ``D = A \\ union(P)``. It is a leak when

* ``D`` is non-empty and fails the primary rules (:func:`harmonise.disclosure
  .suppression_reason`), e.g. 16-18 minus the published 17-18 band gives the 16-year-olds;
* or ``D`` is exactly the respondents of one suppressed cell (it is then worked out whole);
* or a suppressed group equals the sum of published groups inside it (an ``age_range``
  suppressed while the bands that make it up are published, or a suppressed cell whose
  twin in another breakdown is published).

Only *maximal* collections P need checking: the primary rules are monotone under adding a
published cell to D (published cells have a base of at least ``min_base`` and counts of 0
or at least ``min_count`` on each side, and are not all-alike under
``min_base_for_extremes``), so a smaller P can only give a safe D if the maximal one does.
The maximal collections are not enumerated (with nested breakdowns, 15 areas and their
wards, 'all' has 2^15 of them): the groups inside A fall into **overlap components**
(groups that overlap, transitively; :func:`breakdowns`), and a maximal collection is one
maximal choice per component (Bron-Kerbosch inside the component). The search keeps, per
component, the counts each choice adds, and the sets of sums the remaining components can
reach, and picks the first leaking collection choice by choice (:func:`_find_leak`). That
is exact for every rule, without relying on monotonicity across components: the base and
count rules and the out-of-base rule depend on the sums only, and D equals a suppressed
cell exactly when every component leaves that cell's part of it uncovered (compared per
component) and the sums match. The cost is polynomial in the groups and the bases; only a
component of many mutually overlapping groups (dozens of overlapping age ranges) can still
have more than :data:`MAX_PACKINGS` choices, and is refused.

**Repair** is greedy like the family rule: for each leak, in a fixed order (survey,
indicator, option, A, then P by its choice in each component, components by their smallest
group), the published cell of P with the smallest base (then count,
then name) is suppressed (``suppression_kind = 'linked'``, reason naming the rows whose
difference made it necessary), and the search restarts until no leak remains. The
out-of-base counts are checked the same way on their own (only the out-of-base figure of
the chosen cell is blanked).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmonise.disclosure.cells import FIGURES, apply_disclosure, suppression_reason
from harmonise.errors import DisclosureError
from harmonise.models.age_ranges import (
    AGE_RANGE_GROUP,
    POPULATION_AGES,
    AgeRange,
    age_range_members,
    band_range,
)
from harmonise.models.harmonised import EstimateTable, WeightedSurvey
from harmonise.models.run import DisclosureRules

#: A published grouping cell: (group_var, group).
Key = tuple[str, str]
#: Rows that count the same respondents' answers to one question (both tables together).
UNIT = ("crosswalk", "indicator", "option")
#: Prefix of the reason of a linked suppression (footnotes use it to pick the note).
LINKED_PREFIX = "linked suppression"
#: Above this many maximal choices within one overlap component, the check refuses.
MAX_PACKINGS = 20_000


@dataclass(frozen=True)
class Leak:
    """One way to work out a suppressed or small set from published rows."""

    crosswalk: str
    indicator: str
    option: str
    measure: str  # 'estimate' (base and count) or 'out_of_base'
    whole: Key  # A
    parts: tuple[Key, ...]  # P, published, disjoint, inside A
    reveals: str  # what the arithmetic gives away

    def describe(self) -> str:
        parts = " + ".join(_label(k) for k in self.parts)
        return (f"{self.crosswalk} {self.indicator}{'/' + self.option if self.option else ''}"
                f" ({self.measure}): {_label(self.whole)} vs {parts} gives {self.reveals}")


@dataclass
class _Unit:
    keys: list[Key]
    n: dict[Key, int]
    k: dict[Key, int]
    oob: dict[Key, int]
    hidden: dict[Key, bool]
    oob_shown: dict[Key, bool]
    victims: dict[Key, str] = field(default_factory=dict)  # estimate suppressed here
    routed: dict[Key, str] = field(default_factory=dict)  # suppressed: small not-asked
    oob_victims: set[Key] = field(default_factory=set)


def _label(key: Key) -> str:
    return "all respondents" if key[0] == "all" else f"{key[0]} {key[1]}"


def _age_range_mask(ws: WeightedSurvey, code: str, ages: Mapping[str, AgeRange | None]
                    ) -> np.ndarray:
    target = band_range(code)
    if target is None or "age_band" not in ws.data.columns:
        raise DisclosureError(
            f"{ws.survey.crosswalk.ref}: cannot tell which respondents are in age range "
            f"{code!r} (needs a range code like 16_18 and an age_band column); fix the "
            "age_range rows or leave them out of the release"
        )
    return age_range_members(ws.data["age_band"], target,
                             ages.get(ws.survey.crosswalk.population))


def group_mask(ws: WeightedSurvey, key: Key,
               ages: Mapping[str, AgeRange | None] = POPULATION_AGES) -> np.ndarray:
    """Which respondents of ``ws`` are in the published group ``key``."""
    group_var, group = key
    if group_var == "all":
        return np.ones(len(ws.data), dtype=bool)
    if group_var == AGE_RANGE_GROUP:
        return _age_range_mask(ws, group, ages)
    if group_var not in ws.data.columns:
        raise DisclosureError(
            f"{ws.survey.crosswalk.ref}: published rows are broken down by {group_var!r}, "
            "which is not a harmonised column of the survey, so the release-wide disclosure "
            "check cannot tell who is in each group; estimate only by harmonised columns"
        )
    return (ws.data[group_var].astype("object").astype(str) == group).to_numpy()


def group_masks(
    surveys: Sequence[WeightedSurvey],
    rows: pd.DataFrame,
    ages: Mapping[str, AgeRange | None] = POPULATION_AGES,
) -> dict[str, dict[Key, np.ndarray]]:
    """Membership masks of every (group_var, group) ``rows`` publish, per crosswalk ref."""
    by_ref = {ws.survey.crosswalk.ref: ws for ws in surveys}
    out: dict[str, dict[Key, np.ndarray]] = {}
    pairs = rows[["crosswalk", "group_var", "group"]].astype(str).drop_duplicates()
    for ref, gv, g in pairs.itertuples(index=False):
        ws = by_ref.get(ref)
        if ws is None:
            raise DisclosureError(f"estimate rows name crosswalk {ref!r} but the release has "
                                  f"no such survey (it has {sorted(by_ref)})")
        out.setdefault(ref, {})[(gv, g)] = group_mask(ws, (gv, g), ages)
    return out


def _maximal_disjoint(items: list[Key], disjoint: dict[Key, set[Key]], where: str
                      ) -> list[tuple[Key, ...]]:
    """Maximal collections of pairwise disjoint ``items`` (Bron-Kerbosch with pivot), each
    sorted, in sorted order. Called per overlap component, so it only grows exponentially
    with groups that overlap each other, not with independent breakdowns."""
    found: list[tuple[Key, ...]] = []

    def expand(r: list[Key], p: list[Key], x: list[Key]) -> None:
        if not p and not x:
            found.append(tuple(sorted(r)))
            if len(found) > MAX_PACKINGS:
                raise DisclosureError(
                    f"{where}: more than {MAX_PACKINGS} ways to choose among published groups "
                    f"that overlap each other ({len(items)} groups from {_label(items[0])} on, "
                    "e.g. many age ranges over the same bands); the release-wide check cannot "
                    "search them all: publish fewer overlapping ranges or groupings")
            return
        pivot = max(p + x, key=lambda u: (len(disjoint[u] & set(p)), u))
        for v in [v for v in p if v not in disjoint[pivot]]:
            expand([*r, v], [u for u in p if u in disjoint[v]], [u for u in x if u in disjoint[v]])
            p = [u for u in p if u != v]
            x = [*x, v]

    if items:
        expand([], sorted(items), [])
    return sorted(found)


@dataclass(frozen=True, eq=False)
class Component:
    """Groups inside some A that overlap one another (transitively), and the maximal
    collections of pairwise disjoint ones among them (``choices``, sorted)."""

    region: np.ndarray  # respondents in any group of the component
    choices: tuple[tuple[Key, ...], ...]


def breakdowns(masks: Mapping[Key, np.ndarray], where: str = ""
               ) -> dict[Key, tuple[np.ndarray, tuple[Component, ...]]]:
    """For each group A: the respondents of A in no other group inside A, and the overlap
    components of the groups inside A (an equal group counts as inside), in order of their
    smallest group. A maximal collection of disjoint groups inside A is one choice per
    component, so the components stand for their product without enumerating it."""
    keys = sorted(k for k, m in masks.items() if m.any())
    out: dict[Key, tuple[np.ndarray, tuple[Component, ...]]] = {}
    for a in keys:
        inside = [b for b in keys if b != a and not (masks[b] & ~masks[a]).any()]
        overlap = {b: {c for c in inside if c != b and (masks[b] & masks[c]).any()}
                   for b in inside}
        seen: set[Key] = set()
        comps = []
        for b in inside:
            if b in seen:
                continue
            group, todo = [], [b]
            seen.add(b)
            while todo:
                c = todo.pop()
                group.append(c)
                for d in sorted(overlap[c] - seen):
                    seen.add(d)
                    todo.append(d)
            group.sort()
            disjoint = {c: {d for d in group if d != c and d not in overlap[c]} for c in group}
            region = np.logical_or.reduce([masks[c] for c in group])
            comps.append(Component(region, tuple(_maximal_disjoint(
                group, disjoint, f"{where} {_label(a)}"))))
        covered = np.logical_or.reduce([c.region for c in comps]) if comps else None
        rest = masks[a] & ~covered if covered is not None else masks[a].copy()
        out[a] = (rest, tuple(comps))
    return out


Breakdowns = Mapping[Key, tuple[np.ndarray, tuple[Component, ...]]]


def _units(tables: Sequence[pd.DataFrame]) -> dict[tuple[str, str, str], _Unit]:
    units: dict[tuple[str, str, str], _Unit] = {}
    for rows in tables:
        names = rows[[*UNIT, "group_var", "group"]].astype(str).to_numpy().tolist()
        counts = rows[["n_raw", "k_raw", "oob_raw"]].to_numpy(dtype=float).astype(int).tolist()
        hidden = rows["suppressed"].astype(bool).tolist()
        oob_shown = pd.to_numeric(rows["n_out_of_base"], errors="coerce").notna().tolist()
        for (ref, ind, opt, gv, g), (n, k, oob), hid, shown in zip(
                names, counts, hidden, oob_shown, strict=True):
            key = (gv, g)
            u = units.setdefault((ref, ind, opt), _Unit([], {}, {}, {}, {}, {}))
            if key not in u.n:
                u.keys.append(key)
                u.n[key], u.k[key], u.oob[key] = n, k, oob
                u.hidden[key], u.oob_shown[key] = False, True
            u.hidden[key] = u.hidden[key] or hid
            u.oob_shown[key] = u.oob_shown[key] and shown
    for u in units.values():
        u.keys.sort()
    return units


def _twin(u: _Unit, masks: Mapping[Key, np.ndarray], a: Key, parts: tuple[Key, ...],
          n_d: int, k_d: int) -> Key | None:
    """The suppressed cell whose respondents are exactly ``a`` minus ``parts``, if any.
    Only cells with the difference's counts can be it, so the masks are compared only for
    those (comparing every suppressed cell's mask for every difference was most of the
    check's time on large releases)."""
    same = [h for h in u.keys if u.hidden[h] and h in masks and u.n[h] == n_d
            and u.k[h] == k_d]
    if not same:
        return None
    rest = masks[a] & ~np.logical_or.reduce([masks[b] for b in parts])
    return next((h for h in same if np.array_equal(masks[h], rest)), None)


def check_packing(u: _Unit, masks: Mapping[Key, np.ndarray], a: Key, full: tuple[Key, ...],
                  rules: DisclosureRules) -> tuple[str, Key, tuple[Key, ...], str] | None:
    """The leak of ``a`` minus the published groups of the collection ``full``, if any."""
    parts = tuple(b for b in full if b in u.n and not u.hidden[b])
    if parts:
        n_d = u.n[a] - sum(u.n[b] for b in parts)
        k_d = u.k[a] - sum(u.k[b] for b in parts)
        if u.hidden[a] and n_d == 0:
            return "estimate", a, parts, f"suppressed {_label(a)} as their sum"
        if not u.hidden[a] and n_d > 0:
            why = suppression_reason(n_d, k_d, rules)
            if why:
                return "estimate", a, parts, f"a difference where {why}"
            twin = _twin(u, masks, a, parts, n_d, k_d)
            if twin is not None:
                return "estimate", a, parts, f"suppressed {_label(twin)} as a difference"
    shown = tuple(b for b in full if b in u.n and u.oob_shown[b])
    if shown and u.oob_shown[a]:
        o_d = u.oob[a] - sum(u.oob[b] for b in shown)
        if 0 < o_d < rules.min_count:
            return ("out_of_base", a, shown,
                    f"fewer than {rules.min_count} answers left out of the base")
    return None


#: Achievable (sum of n, sum of successes, any published part) over some components.
_Sums = set[tuple[int, int, bool]]


def _suffix_sums(options: list[list[tuple[int, int, bool]]]) -> list[_Sums]:
    """``out[j]``: every total the components ``j..`` can add (one option each)."""
    out: list[_Sums] = [{(0, 0, False)}]
    for opts in reversed(options):
        out.append({(n + dn, k + dk, f or df) for n, k, f in out[-1] for dn, dk, df in opts})
    return out[::-1]


@dataclass(frozen=True)
class _Search:
    """What one group A's components can add up to, for one unit (see :func:`_find_leak`)."""

    est: list[list[tuple[int, int, bool]]]  # per component, per choice
    oob: list[list[tuple[int, int, bool]]]  # (out-of-base sum, 0, any shown part)
    fits: dict[Key, list[list[bool]]]  # per suppressed h: choice leaves exactly h uncovered
    est_sums: list[_Sums]
    oob_sums: list[_Sums]
    twin_sums: dict[Key, list[_Sums]]


def _search(u: _Unit, masks: Mapping[Key, np.ndarray], a: Key, rest: np.ndarray,
            comps: tuple[Component, ...]) -> _Search:
    est, oob = [], []
    for comp in comps:
        e, o = [], []
        for full in comp.choices:
            parts = [b for b in full if b in u.n and not u.hidden[b]]
            shown = [b for b in full if b in u.n and u.oob_shown[b]]
            e.append((sum(u.n[b] for b in parts), sum(u.k[b] for b in parts), bool(parts)))
            o.append((sum(u.oob[b] for b in shown), 0, bool(shown)))
        est.append(e)
        oob.append(o)
    fits: dict[Key, list[list[bool]]] = {}
    twin_sums: dict[Key, list[_Sums]] = {}
    est_sums = _suffix_sums(est)
    # a suppressed cell can only be the difference when the counts can match (so masks are
    # compared for a few cells only, as in _twin)
    reach = {(u.n[a] - n, u.k[a] - k) for n, k, f in est_sums[0] if f}
    left: list[list[bytes]] = []  # per component and choice: who it leaves uncovered
    if not u.hidden[a] and any(u.hidden[h] and (u.n[h], u.k[h]) in reach for h in u.keys):
        for comp in comps:
            none = np.zeros_like(comp.region)
            left.append([(comp.region & ~np.logical_or.reduce(
                [none] + [masks[b] for b in full if b in u.n and not u.hidden[b]])).tobytes()
                for full in comp.choices])
    if left:
        for h in u.keys:
            if not (u.hidden[h] and h in masks) or (u.n[h], u.k[h]) not in reach \
                    or (masks[h] & ~masks[a]).any() or (rest & ~masks[h]).any():
                continue
            wants = [(masks[h] & comp.region).tobytes() for comp in comps]
            fit = [[x == want for x in lefts] for lefts, want in zip(left, wants, strict=True)]
            if all(any(f) for f in fit):
                fits[h] = fit
                twin_sums[h] = _suffix_sums([[x for x, ok in zip(e, f, strict=True) if ok]
                                             for e, f in zip(est, fit, strict=True)])
    return _Search(est, oob, fits, est_sums, _suffix_sums(oob), twin_sums)


def _feasible(u: _Unit, a: Key, s: _Search, j: int, pre: tuple[int, int, bool],
              pre_oob: tuple[int, int, bool], twins: list[Key], rules: DisclosureRules) -> bool:
    """Whether some choice for components ``j..`` after the choices summed in ``pre`` /
    ``pre_oob`` (which leave exactly ``twins`` possible) gives a leak of ``a``."""
    n0, k0, f0 = u.n[a] - pre[0], u.k[a] - pre[1], pre[2]
    for n, k, f in s.est_sums[j]:
        if f or f0:
            n_d, k_d = n0 - n, k0 - k
            if (n_d == 0) if u.hidden[a] else (n_d > 0 and suppression_reason(n_d, k_d, rules)):
                return True
    for h in twins:
        if any((f or f0) and n0 - n == u.n[h] > 0 and k0 - k == u.k[h]
               for n, k, f in s.twin_sums[h][j]):
            return True
    if u.oob_shown[a]:
        o0 = u.oob[a] - pre_oob[0]
        if any((f or pre_oob[2]) and 0 < o0 - o < rules.min_count for o, _, f in s.oob_sums[j]):
            return True
    return False


def _find_leak(
    u: _Unit, masks: Mapping[Key, np.ndarray], bd: Breakdowns, rules: DisclosureRules,
) -> tuple[str, Key, tuple[Key, ...], str] | None:
    """The first leak of unit ``u`` as (measure, A, P, what it reveals), or None.

    Collections are searched per A in order of their choice in each component (components
    in order of their smallest group, choices sorted): the achievable sums of the
    components still to choose (a set of counts, polynomial in the base) say whether any
    completion leaks, so the first leaking collection is found choice by choice without
    enumerating the product. Exact for every rule (no monotonicity is assumed): the base
    and count rules and the out-of-base rule depend only on the sums, and "equals one
    suppressed cell" holds exactly when every component leaves that cell's part of it
    uncovered and the sums match.
    """
    for a in u.keys:
        if a not in bd:
            continue
        rest, comps = bd[a]
        s = _search(u, masks, a, rest, comps)
        pre, pre_oob, twins = (0, 0, False), (0, 0, False), sorted(s.fits)
        if not _feasible(u, a, s, 0, pre, pre_oob, twins, rules):
            continue
        chosen: list[Key] = []
        for j, comp in enumerate(comps):
            for c, full in enumerate(comp.choices):
                e, o = s.est[j][c], s.oob[j][c]
                nxt = (pre[0] + e[0], pre[1] + e[1], pre[2] or e[2])
                nxt_oob = (pre_oob[0] + o[0], 0, pre_oob[2] or o[2])
                ok = [h for h in twins if s.fits[h][j][c]]
                if _feasible(u, a, s, j + 1, nxt, nxt_oob, ok, rules):
                    chosen.extend(full)
                    pre, pre_oob, twins = nxt, nxt_oob, ok
                    break
        hit = check_packing(u, masks, a, tuple(sorted(chosen)), rules)
        if hit is None:  # pragma: no cover - the sums said a completion leaks
            raise AssertionError(f"leak search lost its way at {_label(a)}")
        return hit
    return None


def linked_leaks(
    tables: Sequence[pd.DataFrame],
    masks: Mapping[str, Mapping[Key, np.ndarray]],
    rules: DisclosureRules | None = None,
    *,
    raw: Sequence[pd.DataFrame] | None = None,
) -> list[Leak]:
    """Every unit's first remaining leak in published ``tables`` (empty list: none).

    ``raw`` are the same tables before disclosure control (true counts); without them the
    published counts are used, so a suppressed cell counts as unknown-but-zero and only
    leaks among published cells (and twins of suppressed ones) are found.
    """
    rules = rules or DisclosureRules()
    units = _units(_with_raw(tables, raw))
    packs = {ref: breakdowns(m, ref) for ref, m in masks.items()}
    out: list[Leak] = []
    for (ref, ind, opt), u in sorted(units.items()):
        hit = _find_leak(u, masks.get(ref, {}), packs.get(ref, {}), rules)
        if hit is not None:
            out.append(Leak(ref, ind, opt, hit[0], hit[1], hit[2], hit[3]))
    return out


def _with_raw(tables: Sequence[pd.DataFrame], raw: Sequence[pd.DataFrame] | None
              ) -> list[pd.DataFrame]:
    out = []
    for i, rows in enumerate(tables):
        source = raw[i] if raw is not None else rows
        if len(source) != len(rows):
            raise ValueError("raw and published tables differ in length")
        out.append(rows.assign(
            n_raw=pd.to_numeric(source["n"], errors="coerce").fillna(0).to_numpy(),
            k_raw=pd.to_numeric(source["n_success"], errors="coerce").fillna(0).to_numpy(),
            oob_raw=pd.to_numeric(source.get("n_out_of_base", pd.Series(0, index=source.index)),
                                  errors="coerce").fillna(0).to_numpy(),
        ))
    return out


def _repair(u: _Unit, masks: Mapping[Key, np.ndarray], packs: Breakdowns,
            rules: DisclosureRules) -> None:
    while (hit := _find_leak(u, masks, packs, rules)) is not None:
        measure, a, parts, reveals = hit
        diff = f"{_label(a)} minus {' + '.join(_label(b) for b in parts)}"
        if measure == "out_of_base":
            victim = min(parts, key=lambda b: (u.oob[b], b))
            u.oob_shown[victim] = False
            u.oob_victims.add(victim)
            continue
        victim = min(parts, key=lambda b: (u.n[b], u.k[b], b))
        u.hidden[victim] = True
        u.victims[victim] = (f"{LINKED_PREFIX}: {diff} in the published estimates would "
                             f"give {reveals}")


def apply_release_disclosure(
    tables: Sequence[EstimateTable],
    masks: Mapping[str, Mapping[Key, np.ndarray]],
    rules: DisclosureRules | None = None,
) -> list[EstimateTable]:
    """Disclosure control for every estimate table of one release, together.

    Each table goes through :func:`harmonise.disclosure.apply_disclosure`; then the
    release-wide differencing check (module docstring) suppresses further cells, in every
    table that shows them (the weighted and unweighted tables share their pattern).
    """
    rules = rules or DisclosureRules()
    raw = [t.rows.reset_index(drop=True) for t in tables]
    done = [apply_disclosure(EstimateTable(rows=r, meta=dict(t.meta)), rules)
            for r, t in zip(raw, tables, strict=True)]
    if not rules.secondary:
        return done
    units = _units(_with_raw([d.rows for d in done], raw))
    for (ref, _, _), u in sorted(units.items()):
        ref_masks = masks.get(ref, {})
        missing = [k for k in u.keys if k not in ref_masks]
        if missing:
            raise DisclosureError(f"{ref}: no membership for published groups {missing}; "
                                  "build the masks with group_masks() from the same rows")
    for (ref, _, _), u in sorted(units.items()):
        protect_not_asked(u, {k: int(masks[ref][k].sum()) for k in u.keys}, rules)
    packs = {ref: breakdowns(m, ref) for ref, m in masks.items()}
    for (ref, _, _), u in sorted(units.items()):
        _repair(u, masks[ref], packs[ref], rules)
    return [_blank(d, units, rules) for d in done]


def protect_not_asked(u: _Unit, sizes: Mapping[Key, int], rules: DisclosureRules) -> None:
    """Withhold what would give a small *not asked* count away (docs/disclosure.md).

    A group's size is published (the sample size, a margin's ``sample_n``) or follows from
    any unrouted item (``n + n_out_of_base``), so ``size - n - n_out_of_base`` is the
    number routed past the question, which follows an earlier answer. When it is 1 to
    ``min_count - 1`` in any group of the unit, ``n_out_of_base`` is withheld on every row
    of the unit with anyone not asked (so no group's not-asked count, nor a difference of
    two, can be worked out; ``size - n`` gives only not asked plus out of base). When
    ``size - n`` is itself 1 to ``min_count - 1`` on such a row, the row is suppressed:
    withholding ``n`` alone would not do, as ``n_success`` over the unweighted estimate (or
    the SE) gives it back. Rows so suppressed then take part in the linked repair.
    """
    routed = {key: sizes[key] - u.n[key] - u.oob[key] for key in u.keys}
    if not any(0 < na < rules.min_count for na in routed.values()):
        return
    for key, na in routed.items():
        if na <= 0:
            continue
        u.oob_shown[key] = False
        u.oob_victims.add(key)
        rest = sizes[key] - u.n[key]
        if 0 < na < rules.min_count and rest < rules.min_count and not u.hidden[key]:
            u.hidden[key] = True
            u.routed[key] = (f"fewer than {rules.min_count} respondents were not asked this "
                             f"question or left out of its base ({_label(key)})")


def _blank(table: EstimateTable, units: Mapping[tuple[str, str, str], _Unit],
           rules: DisclosureRules) -> EstimateTable:
    rows = table.rows.copy()
    kinds = rows["suppression_kind"].astype("object").tolist()
    reasons = rows["suppression_reason"].astype("object").tolist()
    hide = np.zeros(len(rows), dtype=bool)
    hide_oob = np.zeros(len(rows), dtype=bool)
    for i, r in enumerate(rows[["crosswalk", "indicator", "option", "group_var", "group"]]
                          .astype(str).itertuples(index=False)):
        u = units[(r[0], r[1], r[2])]
        key = (r[3], r[4])
        if key in u.routed and not kinds[i]:
            kinds[i], reasons[i], hide[i] = "primary", u.routed[key], True
        if key in u.victims and not kinds[i]:
            kinds[i], reasons[i], hide[i] = "linked", u.victims[key], True
        hide_oob[i] = key in u.oob_victims
    rows["suppression_kind"] = pd.Series(kinds, index=rows.index, dtype="object")
    rows["suppression_reason"] = pd.Series(reasons, index=rows.index, dtype="object")
    rows["suppressed"] = rows["suppressed"].astype(bool) | hide
    for col in (*FIGURES, "n", "df"):  # df gives the base away (n − strata without clusters)
        if col in rows.columns:
            rows[col] = pd.to_numeric(rows[col], errors="coerce")
            rows.loc[hide, col] = np.nan
    for col in ("n_out_of_base", "out_of_base_share"):
        if col in rows.columns:
            rows.loc[hide | hide_oob, col] = np.nan
    present = [c for c in rules.weighted_count_columns if c in rows.columns]
    if present:
        rows.loc[hide, present] = np.nan
    return EstimateTable(rows=rows, meta=dict(table.meta))


def release_masks(surveys: Iterable[WeightedSurvey], tables: Sequence[EstimateTable],
                  ages: Mapping[str, AgeRange | None] = POPULATION_AGES
                  ) -> dict[str, dict[Key, np.ndarray]]:
    """:func:`group_masks` for every group published in any of ``tables``."""
    rows = pd.concat([t.rows[["crosswalk", "group_var", "group"]] for t in tables],
                     ignore_index=True)
    return group_masks(list(surveys), rows, ages)
