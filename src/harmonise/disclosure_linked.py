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
or at least ``min_count`` on each side), so a smaller P can only give a safe D if the
maximal one does. The maximal collections are the maximal cliques of the disjointness
graph of the groups inside A (Bron-Kerbosch, deterministic order), computed once per
survey from the masks.

**Repair** is greedy like the family rule: for each leak, in a fixed order (survey,
indicator, option, A, P), the published cell of P with the smallest base (then count,
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

from harmonise.age_ranges import POPULATION_AGES, AgeRange, band_range
from harmonise.disclosure import FIGURES, DisclosureRules, apply_disclosure, suppression_reason
from harmonise.errors import DisclosureError
from harmonise.models.harmonised import EstimateTable, WeightedSurvey

#: A published grouping cell: (group_var, group).
Key = tuple[str, str]
#: Rows that count the same respondents' answers to one question (both tables together).
UNIT = ("crosswalk", "indicator", "option")
#: The group_var of restricted-age rows (as :data:`harmonise.compare.AGE_RANGE_GROUP`).
AGE_RANGE = "age_range"
#: Prefix of the reason of a linked suppression (footnotes use it to pick the note).
LINKED_PREFIX = "linked suppression"
#: Above this many ways to tile one group with others, the check refuses (says so).
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
    population = ages.get(ws.survey.crosswalk.population)
    bands = ws.data["age_band"].astype("object").astype(str)
    inside: dict[str, bool] = {}
    for band in set(bands):
        rng = band_range(band)
        if rng is not None and population is not None:
            rng = rng.intersect(population)
        inside[band] = rng is not None and rng.within(target)
    return bands.map(inside).to_numpy(dtype=bool)


def group_mask(ws: WeightedSurvey, key: Key,
               ages: Mapping[str, AgeRange | None] = POPULATION_AGES) -> np.ndarray:
    """Which respondents of ``ws`` are in the published group ``key``."""
    group_var, group = key
    if group_var == "all":
        return np.ones(len(ws.data), dtype=bool)
    if group_var == AGE_RANGE:
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
    """Maximal collections of pairwise disjoint ``items`` (Bron-Kerbosch with pivot)."""
    found: list[tuple[Key, ...]] = []

    def expand(r: list[Key], p: list[Key], x: list[Key]) -> None:
        if not p and not x:
            found.append(tuple(r))
            if len(found) > MAX_PACKINGS:
                raise DisclosureError(
                    f"{where}: more than {MAX_PACKINGS} ways to add up published groups; the "
                    "breakdowns overlap too much for the release-wide check, publish fewer")
            return
        pivot = max(p + x, key=lambda u: (len(disjoint[u] & set(p)), u))
        for v in [v for v in p if v not in disjoint[pivot]]:
            expand([*r, v], [u for u in p if u in disjoint[v]], [u for u in x if u in disjoint[v]])
            p = [u for u in p if u != v]
            x = [*x, v]

    if items:
        expand([], sorted(items), [])
    return sorted(found)


def packings(masks: Mapping[Key, np.ndarray], where: str = "") -> dict[Key, list[tuple[Key, ...]]]:
    """For each group A: the maximal collections of other groups, pairwise disjoint and
    each inside A (an equal group counts as inside), from membership masks."""
    keys = sorted(k for k, m in masks.items() if m.any())
    out: dict[Key, list[tuple[Key, ...]]] = {}
    for a in keys:
        inside = [b for b in keys if b != a and not (masks[b] & ~masks[a]).any()]
        disjoint = {b: {c for c in inside if c != b and not (masks[b] & masks[c]).any()}
                    for b in inside}
        out[a] = _maximal_disjoint(inside, disjoint, f"{where} {_label(a)}")
    return out


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


def _find_leak(
    u: _Unit,
    masks: Mapping[Key, np.ndarray],
    packs: Mapping[Key, list[tuple[Key, ...]]],
    rules: DisclosureRules,
) -> tuple[str, Key, tuple[Key, ...], str] | None:
    """The first leak of unit ``u`` as (measure, A, P, what it reveals), or None."""
    for a in u.keys:
        for full in packs.get(a, []):
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
    packs = {ref: packings(m, ref) for ref, m in masks.items()}
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


def _repair(
    u: _Unit, masks: Mapping[Key, np.ndarray], packs: Mapping[Key, list[tuple[Key, ...]]],
    rules: DisclosureRules,
) -> None:
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
    packs = {ref: packings(m, ref) for ref, m in masks.items()}
    for (ref, _, _), u in sorted(units.items()):
        _repair(u, masks[ref], packs[ref], rules)
    return [_blank(d, units, rules) for d in done]


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
        if key in u.victims and not kinds[i]:
            kinds[i], reasons[i], hide[i] = "linked", u.victims[key], True
        hide_oob[i] = key in u.oob_victims
    rows["suppression_kind"] = pd.Series(kinds, index=rows.index, dtype="object")
    rows["suppression_reason"] = pd.Series(reasons, index=rows.index, dtype="object")
    rows["suppressed"] = rows["suppressed"].astype(bool) | hide
    for col in (*FIGURES, "n"):
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
