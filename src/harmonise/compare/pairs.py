"""Compare surveys on an indicator, only where the questions really measure the same thing.

Pairs are formed per indicator (and option) among the surveys of the **same wave** (change
between waves of one survey is :mod:`harmonise.compare.trends`). The gate: both items graded at
least ``close``, neither estimate suppressed, AND the same population definition — or, when
the populations differ, a common age range both surveys' age bands tile exactly (adults 16+
and young people 11-18 on their 16-18 year-olds, see :mod:`harmonise.models.age_ranges`). A pair
that fails the gate is listed with **every** reason it fails (grade, population, mode where
the modes differ, suppression), so the report can show both figures side by side. Every
reason and caveat also has a stable code (:data:`REASON_CODES`, :data:`CAVEAT_CODES`) in
``reason_codes`` / ``caveat_codes``: the report words them; it never parses the prose.

A compared pair gets the difference, its SE (independent samples: se² = se_a² + se_b²), a
normal-theory CI and p-value (:func:`difference`), and p-values adjusted across the family
of all comparisons in the table (:func:`adjust_family`: Holm by default,
Benjamini–Hochberg or Bonferroni as options; :func:`adjust_pvalues`, checked against
pingouin.multicomp in the tests) in ``p_adjusted``, the method named in ``correction``.
:mod:`harmonise.compare.trends` uses the same two functions.
Within one survey, subgroup differences are not independent: see
:mod:`harmonise.compare.subgroups`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import special

from harmonise.errors import EstimationError
from harmonise.estimate.indicators import concat_tables, estimate_indicators
from harmonise.models.age_ranges import (
    AGE_RANGE_GROUP,
    POPULATION_AGES,
    AgeRange,
    age_range_members,
    band_range,
    common_range,
    cover,
)
from harmonise.models.crosswalk import Crosswalk
from harmonise.models.harmonised import EstimateTable, WeightedSurvey
from harmonise.models.run import ComparisonTable, Correction
from harmonise.models.schema import GRADES, MISSING_TYPES, Schema, grade_at_least

COMPARISON_COLUMNS = (
    "indicator",
    "option",
    "label",
    "a",
    "a_name",
    "b",
    "b_name",
    "a_estimate",
    "b_estimate",
    "a_grade",
    "b_grade",
    "a_population",
    "b_population",
    "compared",
    "reason",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "significant",
    # added with issue 7 (after the skeleton's columns, so readers by name keep working)
    "wave",
    "restricted_to",
    "a_mode",
    "b_mode",
    "a_note",
    "b_note",
    "caveats",
    "p_adjusted",
    "correction",
    # added with issue 13: codes the report words (never the prose above), and what it needs
    "reason_codes",
    "caveat_codes",
    "common_age",
    "a_scale",
    "b_scale",
)

#: Why a pair was not compared (``reason_codes``, joined by ``;``). ``a_``/``b_`` say which
#: side; the row's own columns (names, populations, grades, ``common_age``) fill the words.
REASON_CODES: Mapping[str, str] = {
    "a_grade_below_floor": "A's item is graded below the comparability floor",
    "b_grade_below_floor": "B's item is graded below the comparability floor",
    "populations_no_common_age": "different populations with no age in common",
    "populations_age_unknown": "different populations, one with no known age range",
    "common_age_not_separable": "different populations whose common age range cannot be "
                                "separated with the surveys' age bands",
    "a_suppressed": "A's estimate is suppressed",
    "b_suppressed": "B's estimate is suppressed",
    "modes_differ": "different modes (a reason only beside another reason)",
}

#: What to keep in mind about a pair that was compared (``caveat_codes``).
CAVEAT_CODES: Mapping[str, str] = {
    "common_age_range": "compared on the common age range (``common_age``) only",
    "modes_differ": "different modes (interviewer vs self-completion)",
    "scales_differ": "different response scales (``a_scale`` vs ``b_scale``)",
    "a_opt_in": "A is an opt-in sample",
    "b_opt_in": "B is an opt-in sample",
}

#: Multiplicity corrections by the names users pass -> the method (pingouin.multicomp's
#: names, which the tests check these against).
CORRECTIONS: Mapping[str, str] = {
    "holm": "holm",
    "bh": "fdr_bh",
    "fdr_bh": "fdr_bh",
    "bonferroni": "bonf",
    "none": "none",
}

_INTERVIEWER = ("telephone", "cati", "face-to-face", "face to face", "capi", "interview")
_SELF = ("self-completion", "self completion", "online", "postal", "paper", "web")


def mode_family(mode: str) -> str:
    """``interviewer``, ``self-completion`` or ``unknown`` from a crosswalk's mode text."""
    text = mode.lower()
    if any(k in text for k in _INTERVIEWER):
        return "interviewer"
    if any(k in text for k in _SELF):
        return "self-completion"
    return "unknown"


def adjust_pvalues(p: np.ndarray, correction: Correction, alpha: float) -> np.ndarray:
    """Adjusted p-values for one family of tests (``holm``, ``bh``, ``bonferroni``, ``none``)."""
    if correction not in CORRECTIONS:
        raise EstimationError(
            f"unknown multiplicity correction {correction!r}; choose one of {sorted(CORRECTIONS)}"
        )
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p
    return _ADJUST[CORRECTIONS[correction]](p)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down: sorted p times (m − i), running maximum, capped at 1."""
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg: sorted p times m / rank, running minimum from the top, capped."""
    order = np.argsort(p, kind="stable")
    m = p.size
    scaled = p[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _bonferroni(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.minimum(p * p.size, 1.0), dtype=float)


def _none(p: np.ndarray) -> np.ndarray:
    return p.copy()


_ADJUST: Mapping[str, Callable[[np.ndarray], np.ndarray]] = {
    "holm": _holm,
    "fdr_bh": _bh,
    "bonf": _bonferroni,
    "none": _none,
}


def _item_notes(crosswalks: Iterable[Crosswalk]) -> dict[tuple[str, str, str], str]:
    return {
        (cw.ref, str(i.concept), i.option or ""): i.note
        for cw in crosswalks
        for i in cw.items
    }


def _restricted(
    rows: pd.DataFrame, side: pd.Series, target: AgeRange, ages: Mapping[str, AgeRange | None]
) -> pd.Series | None:
    """The estimate of ``side``'s indicator restricted to ``target`` ages, if the table has it.

    Looks first for an ``age_range`` row (made by :func:`restricted_estimates`), then for a
    single ``age_band`` row that is exactly the target range.
    """
    same = rows[
        (rows["crosswalk"] == side["crosswalk"])
        & (rows["indicator"] == side["indicator"])
        & (rows["option"] == side["option"])
    ]
    hit = same[(same["group_var"] == AGE_RANGE_GROUP) & (same["group"] == target.code)]
    if not hit.empty:
        first: pd.Series = hit.iloc[0]
        return first
    population = ages.get(str(side["population"]))
    for _, r in same[same["group_var"] == "age_band"].iterrows():
        rng = band_range(str(r["group"]))
        if rng is not None and population is not None:
            rng = rng.intersect(population)
        if rng == target:
            found: pd.Series = r
            return found
    return None


def _bands(rows: pd.DataFrame, crosswalk: str) -> list[str]:
    mine = rows[(rows["crosswalk"] == crosswalk) & (rows["group_var"] == "age_band")]
    return sorted(set(mine["group"].astype(str)))


@dataclass(frozen=True)
class _Gate:
    """One pair's gate: reasons and caveats as (code, prose) pairs, the age range."""

    reasons: list[tuple[str, str]]
    caveats: list[tuple[str, str]]
    target: AgeRange | None
    common: AgeRange | None  # the pair's common age range, even when it is not usable
    a: pd.Series
    b: pd.Series


def _gate(
    a: pd.Series,
    b: pd.Series,
    rows: pd.DataFrame,
    floor: str,
    ages: Mapping[str, AgeRange | None],
    modes: Mapping[str, str],
) -> _Gate:
    """Reasons, caveats, restricted range and the rows to compare for one pair."""
    reasons: list[tuple[str, str]] = []
    caveats: list[tuple[str, str]] = []
    for side, tag in ((a, "a"), (b, "b")):
        if not grade_at_least(str(side["comparability"]), floor):
            reasons.append((f"{tag}_grade_below_floor",
                            f"{side['csp_name']} ({side['crosswalk']}) item is graded "
                            f"'{side['comparability']}', below '{floor}'"))
    target: AgeRange | None = None
    common: AgeRange | None = None
    if a["population"] != b["population"]:
        pops = f"{a['population']} vs {b['population']}"
        target = common = common_range(str(a["population"]), str(b["population"]), ages)
        if target is None:
            known = [ages.get(str(s["population"])) for s in (a, b)]
            if known[0] is not None and known[1] is not None:
                code, tail = "populations_no_common_age", (
                    f"no age in common ({known[0]} vs {known[1]})")
            else:
                code, tail = "populations_age_unknown", "no known age range to restrict to"
            reasons.append((code, f"different populations ({pops}), {tail}"))
        else:
            ra, rb = (_restricted(rows, s, target, ages) for s in (a, b))
            if ra is None or rb is None:
                missing = [s for s, r in ((a, ra), (b, rb)) if r is None]
                why = "; ".join(
                    f"{s['csp_name']} has age bands {_bands(rows, str(s['crosswalk']))}"
                    for s in missing
                )
                reasons.append(("common_age_not_separable",
                                f"different populations ({pops}); their common age range "
                                f"{target} cannot be separated ({why})"))
                target = None
            else:
                a, b = ra, rb
                caveats.append(("common_age_range",
                                f"compared on the common age range {target} only ({pops})"))
    for side, tag in ((a, "a"), (b, "b")):
        if bool(side["suppressed"]):
            reasons.append((f"{tag}_suppressed", f"{side['csp_name']} estimate suppressed "
                                                 f"({side['suppression_reason']})"))
    fam_a, fam_b = modes.get(str(a["crosswalk"]), ""), modes.get(str(b["crosswalk"]), "")
    if fam_a and fam_b and "unknown" not in (fam_a, fam_b) and fam_a != fam_b:
        # never a reason on its own (grades already say whether mode matters for an item)
        note = ("modes_differ", f"different modes ({fam_a} vs {fam_b})")
        (reasons if reasons else caveats).append(note)
    return _Gate(reasons, caveats, target, common, a, b)


_OPT_IN = ("opt-in", "opt in", "open link", "open-link", "volunteer", "self-select",
           "self select", "convenience")


def _design_caveats(
    a: pd.Series, b: pd.Series, concept: str, option: str,
    by_ref: Mapping[str, Crosswalk], scales: Mapping[tuple[str, str, str], str],
) -> list[tuple[str, str]]:
    """What a reader must know about a comparison that passes the gate: the two items are
    on different response scales, or a sample is opt-in (weighting fixes its make-up on
    the weighting margins, not self-selection)."""
    out: list[tuple[str, str]] = []
    sa = scales.get((str(a["crosswalk"]), concept, option))
    sb = scales.get((str(b["crosswalk"]), concept, option))
    if sa and sb and sa != sb:
        out.append(("scales_differ",
                    f"different response scales ({sa} vs {sb}): the shares are not the same "
                    "statistic, so part of the difference may come from the scales"))
    for side, tag in ((a, "a"), (b, "b")):
        cw = by_ref.get(str(side["crosswalk"]))
        if cw is not None and any(w in cw.sampling.casefold() for w in _OPT_IN):
            out.append((f"{tag}_opt_in",
                        f"{side['csp_name']} is an opt-in sample: weighting corrects its "
                        "make-up on the weighting margins, not self-selection"))
    return out


def compare(
    table: EstimateTable,
    *,
    floor: str = "close",
    level: float = 0.95,
    correction: Correction = "holm",
    crosswalks: Sequence[Crosswalk] = (),
    ages: Mapping[str, AgeRange | None] = POPULATION_AGES,
) -> ComparisonTable:
    """Every pair of same-wave surveys per indicator (and option), weighted estimates.

    ``crosswalks`` (optional) supply each item's note and each survey's mode; without them
    the notes are empty and modes are not checked. ``ages`` maps population ids to age
    ranges (default :data:`harmonise.models.age_ranges.POPULATION_AGES`).
    """
    adjust_pvalues(np.array([]), correction, 1 - level)  # an unknown correction fails early
    rows = table.rows[table.rows["weighted"].astype(bool)]
    overall = rows[rows["group_var"] == "all"]
    notes = _item_notes(crosswalks)
    modes = {cw.ref: mode_family(cw.mode) for cw in crosswalks}
    by_ref = {cw.ref: cw for cw in crosswalks}
    scales = {(cw.ref, str(i.concept), i.option or ""): i.scale or "the concept's scale"
              for cw in crosswalks for i in cw.items}
    item_scales = {(cw.ref, str(i.concept), i.option or ""): i.scale or ""
                   for cw in crosswalks for i in cw.items}
    out: list[dict[str, object]] = []
    for (indicator, option, wave), grp in overall.groupby(
        ["indicator", "option", "wave"], sort=True
    ):
        recs = [r for _, r in grp.sort_values("crosswalk").iterrows()]
        for a0, b0 in combinations(recs, 2):
            gate = _gate(a0, b0, rows, floor, ages, modes)
            reasons, caveats, target, a, b = gate.reasons, gate.caveats, gate.target, gate.a, gate.b
            concept = str(a0["concept"])
            if not reasons:
                caveats += _design_caveats(a0, b0, concept, str(option), by_ref, scales)
            rec: dict[str, object] = {
                "indicator": indicator,
                "option": option,
                "label": a0["label"],
                "a": a0["crosswalk"],
                "a_name": a0["csp_name"],
                "b": b0["crosswalk"],
                "b_name": b0["csp_name"],
                "a_estimate": a["estimate"],
                "b_estimate": b["estimate"],
                "a_grade": a0["comparability"],
                "b_grade": b0["comparability"],
                "a_population": a0["population"],
                "b_population": b0["population"],
                "compared": not reasons,
                "reason": "; ".join(text for _, text in reasons),
                "wave": wave,
                "restricted_to": str(target) if target is not None and not reasons else "",
                "a_mode": modes.get(str(a0["crosswalk"]), ""),
                "b_mode": modes.get(str(b0["crosswalk"]), ""),
                "a_note": notes.get((str(a0["crosswalk"]), concept, str(option)), ""),
                "b_note": notes.get((str(b0["crosswalk"]), concept, str(option)), ""),
                "caveats": "; ".join(text for _, text in caveats),
                "correction": correction,
                "reason_codes": ";".join(code for code, _ in reasons),
                "caveat_codes": ";".join(code for code, _ in caveats),
                "common_age": "" if gate.common is None else str(gate.common),
                # the item's own scale; blank = the concept's scale (or no crosswalk given)
                "a_scale": item_scales.get((str(a0["crosswalk"]), concept, str(option)), ""),
                "b_scale": item_scales.get((str(b0["crosswalk"]), concept, str(option)), ""),
            }
            if not reasons:
                d = difference(float(a["estimate"]), float(b["estimate"]),
                               float(a["se"]), float(b["se"]), level=level, df=pair_df(a, b))
                rec |= {"difference": d.estimate, "se": d.se, "ci_low": d.ci_low,
                        "ci_high": d.ci_high, "p_value": d.p_value}
            out.append(rec)
    frame = pd.DataFrame(out, columns=list(COMPARISON_COLUMNS))
    frame["correction"] = correction
    for col in ("difference", "se", "ci_low", "ci_high"):
        frame[col] = frame[col].astype(float)
    frame = adjust_family(frame, frame["compared"].astype(bool), correction, level)
    return ComparisonTable(rows=frame, level=level, correction=correction)


@dataclass(frozen=True)
class IndependentDifference:
    """``a − b`` of two independent samples' estimates, with a normal-theory CI and p."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float


def difference(
    est_a: float, est_b: float, se_a: float, se_b: float, *, level: float = 0.95,
    df: float | None = None,
) -> IndependentDifference:
    """a − b for independent samples: se = sqrt(se_a² + se_b²), CI and two-sided p.

    With ``df`` (the smaller of the two designs' degrees of freedom: conservative, and what
    matters when one survey has few clusters, e.g. ten schools) the reference distribution
    is t on ``df``; without it (or with a non-positive one) the normal.
    Used between surveys (:func:`compare`) and between waves (:func:`.trends.trends`).
    A zero SE gives a NaN p-value (nothing to test).
    """
    diff = est_a - est_b
    se = float(np.hypot(se_a, se_b))
    if df is not None and np.isfinite(df) and df > 0:
        q = float(special.stdtrit(df, 0.5 + level / 2))  # = scipy.stats.t.ppf
        p = float(2 * special.stdtr(df, -abs(diff) / se)) if se > 0 else float("nan")
    else:
        q = float(special.ndtri(0.5 + level / 2))  # = scipy.stats.norm.ppf
        p = float(2 * special.ndtr(-abs(diff) / se)) if se > 0 else float("nan")
    return IndependentDifference(diff, se, diff - q * se, diff + q * se, p)


def pair_df(a: pd.Series, b: pd.Series) -> float | None:
    """The smaller design degrees of freedom of two estimate rows (None if unknown)."""
    values = pd.to_numeric(pd.Series([a.get("df"), b.get("df")]), errors="coerce")
    return None if values.isna().any() else float(values.min())


def adjust_family(
    frame: pd.DataFrame, tested: np.ndarray | pd.Series, correction: Correction, level: float
) -> pd.DataFrame:
    """A copy of ``frame`` with ``p_adjusted`` and ``significant`` filled for one family.

    The family is the rows where ``tested`` is true and ``p_value`` is not missing; their
    p-values are adjusted together with ``correction`` (:data:`CORRECTIONS`) and
    ``significant`` is ``p_adjusted < 1 − level``. Other rows get NaN / ``<NA>``. An
    unknown ``correction`` raises :class:`EstimationError` even when nothing is tested.
    """
    out = frame.copy()
    out["p_value"] = out["p_value"].astype(float)
    out["p_adjusted"] = np.nan
    out["significant"] = pd.array([pd.NA] * len(out), dtype="boolean")
    mask = np.asarray(tested, dtype=bool) & out["p_value"].notna().to_numpy()
    adjusted = adjust_pvalues(out.loc[mask, "p_value"].to_numpy(dtype=float), correction,
                              1 - level)
    if mask.any():
        out.loc[mask, "p_adjusted"] = adjusted
        out.loc[mask, "significant"] = adjusted < (1 - level)
    return out


# ----------------------------------------------------------------- age-restricted estimates


def restricted_estimates(
    surveys: Sequence[WeightedSurvey],
    schema: Schema,
    *,
    ages: Mapping[str, AgeRange | None] = POPULATION_AGES,
    level: float = 0.95,
) -> EstimateTable:
    """Estimates restricted to the common age range of each same-wave pair of populations.

    For every pair of surveys of the same wave whose populations differ but share an age
    range that both surveys' ``age_band`` categories tile exactly, each survey gets extra
    rows with ``group_var='age_range'`` and ``group=<range code>`` (e.g. ``16_18``): a
    domain of the full design, so SEs keep the raking and clustering. Append them to the
    estimate table before disclosure control; :func:`compare` then uses them.
    """
    wanted: dict[int, set[tuple[AgeRange, tuple[str, ...]]]] = {}
    for (i, wa), (j, wb) in combinations(enumerate(surveys), 2):
        ca, cb = wa.survey.crosswalk, wb.survey.crosswalk
        if ca.wave != cb.wave or ca.population == cb.population:
            continue
        target = common_range(ca.population, cb.population, ages)
        if target is None:
            continue
        covers = [_survey_cover(ws, target, ages) for ws in (wa, wb)]
        if covers[0] is None or covers[1] is None:
            continue
        wanted.setdefault(i, set()).add((target, covers[0]))
        wanted.setdefault(j, set()).add((target, covers[1]))
    tables: list[EstimateTable] = []
    for i, ranges in sorted(wanted.items()):
        ws = surveys[i]
        for target, _bands in sorted(ranges):
            inside = age_range_members(ws.data["age_band"], target,
                                       ages.get(ws.survey.crosswalk.population))
            derived = np.where(inside, target.code, "not_applicable")
            data = ws.data.assign(**{AGE_RANGE_GROUP: derived})
            est = estimate_indicators(dataclasses.replace(ws, data=data), schema,
                                      by=[AGE_RANGE_GROUP], level=level)
            keep = est.rows[est.rows["group_var"] == AGE_RANGE_GROUP]
            tables.append(EstimateTable(rows=keep.reset_index(drop=True)))
    return concat_tables(tables)


def _survey_cover(
    ws: WeightedSurvey, target: AgeRange, ages: Mapping[str, AgeRange | None]
) -> tuple[str, ...] | None:
    if "age_band" not in ws.data.columns:
        return None
    bands = sorted(set(ws.data["age_band"].astype(str)) - set(MISSING_TYPES))
    return cover(bands, target, ages.get(ws.survey.crosswalk.population))


# ----------------------------------------------------------------- comparability matrix

MATRIX_COLUMNS = (
    "theme",
    "concept",
    "concept_label",
    "crosswalk",
    "csp_name",
    "instrument",
    "wave",
    "population",
    "mode",
    "grade",
    "note",
    "items",
)

#: Cell grade of a concept an instrument does not ask about.
NOT_ASKED = "not asked"


def comparability_matrix(schema: Schema, crosswalks: Sequence[Crosswalk]) -> pd.DataFrame:
    """Concepts × instruments as a tidy table: one row per cell, with its grade and note.

    Every non-demographic schema concept (theme ``demographics`` is left out) meets every
    crosswalk. A concept asked by several items (the options of a multi-select question)
    gets the weakest of their grades and their distinct notes joined; a concept an
    instrument does not ask gets grade ``'not asked'`` and an empty note. Pivot with
    ``frame.pivot_table(index='concept', columns='crosswalk', values='grade',
    aggfunc='first')`` for the grid.
    """
    rows: list[dict[str, object]] = []
    for concept in schema.concepts:
        if concept.theme == "demographics":
            continue
        for cw in crosswalks:
            items = [i for i in cw.items if i.concept == concept.id]
            grade, note = NOT_ASKED, ""
            if items:
                grade = max((i.comparability for i in items), key=GRADES.index)
                note = " / ".join(dict.fromkeys(i.note.strip() for i in items))
            rows.append(
                {
                    "theme": concept.theme,
                    "concept": concept.id,
                    "concept_label": concept.label,
                    "crosswalk": cw.ref,
                    "csp_name": cw.csp_name,
                    "instrument": cw.instrument,
                    "wave": cw.wave,
                    "population": cw.population,
                    "mode": mode_family(cw.mode),
                    "grade": grade,
                    "note": note,
                    "items": ", ".join(i.id for i in items),
                }
            )
    return pd.DataFrame(rows, columns=list(MATRIX_COLUMNS))
