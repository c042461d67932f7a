"""Disclosure control for published tables: primary and secondary suppression, rounding.

Rules (defaults follow the ONS-style threshold of 10, see docs/disclosure.md):

**Primary suppression** of a proportion:

* its unweighted base is under ``min_base``;
* or fewer than ``min_count`` respondents are in the success categories, or fewer than
  ``min_count`` are outside them (the complement discloses just as much: base minus count);
* or a small group (base under ``min_base_for_extremes``) all answer the same way
  (0% or 100%: class disclosure).

**Secondary suppression**, per *subgroup family* — the rows of one indicator × option ×
survey × weighting × ``group_var`` (e.g. all ``age_band`` rows of Bedford's after-dark
indicator) — whose total (the ``group_var='all'`` row) is published. Anyone can subtract the
published groups' counts from the total; what they get is the combined counts of the
unpublished cells (the suppressed groups plus any respondents in no published group, e.g.
outside an age range). While that combination would itself fail the primary rules, the
next smallest published group of the family (by base, then count) is suppressed too. For a
two-category ``group_var`` this is the complement rule: a suppressed subgroup takes its
complement with it.

Suppressed rows keep their reason, a kind (``primary`` or ``secondary``) and lose every
figure (estimate, SE, CI, design effect, count), so a suppressed cell can never be shown as
a number; the report marks them with :data:`SUPPRESSED_MARK` and footnotes the reasons
(:func:`footnotes`). **Weighted counts** are published only rounded to ``round_to``
(:func:`round_weighted_counts`; :func:`apply_disclosure` rounds any column listed in
``DisclosureRules.weighted_count_columns``).

Families only link a breakdown to its own total; differencing *between* breakdowns of one
release (an age range minus the bands inside it) is checked by
:mod:`harmonise.disclosure.linked`, and the audit/margins counts by
:mod:`harmonise.disclosure.counts`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from harmonise.models.harmonised import EstimateTable
from harmonise.models.run import DisclosureRules

FIGURES = ("estimate", "se", "ci_low", "ci_high", "deff", "n_success")
#: How a suppressed cell is shown in published tables (GSS symbol for "confidential").
SUPPRESSED_MARK = "[c]"
#: Keys of a subgroup family (rows that add up to the same total).
FAMILY = ("indicator", "option", "crosswalk", "weighted", "group_var")
#: Footnote per kind of suppression, for the report.
KIND_NOTES = {
    "primary": "too few respondents in this cell to publish it",
    "secondary": "withheld so that another suppressed cell of the same breakdown cannot be "
    "worked out from the total and the published cells",
    "linked": "withheld so that a suppressed cell cannot be worked out by subtracting one "
    "published breakdown from another that contains it (e.g. an age range minus the age "
    "bands inside it)",
}


def suppression_reason(n: int, n_success: int, rules: DisclosureRules) -> str:
    """Why a proportion with this unweighted base and count is suppressed ('' if it is not)."""
    if n < rules.min_base:
        return f"fewer than {rules.min_base} respondents in the base"
    if 0 < n_success < rules.min_count:
        return f"fewer than {rules.min_count} respondents gave this answer"
    if 0 < n - n_success < rules.min_count:
        return f"fewer than {rules.min_count} respondents gave another answer"
    if n < rules.min_base_for_extremes and n_success in (0, n):
        return f"all of fewer than {rules.min_base_for_extremes} respondents answered alike"
    return ""


def round_to_base(values: Sequence[float] | np.ndarray | pd.Series, base: int) -> np.ndarray:
    """Round to the nearest multiple of ``base`` (halves away from zero); NaN stays NaN."""
    x = np.asarray(values, dtype=float)
    out: np.ndarray = np.sign(x) * np.floor(np.abs(x) / base + 0.5) * base
    return out


def round_weighted_counts(
    frame: pd.DataFrame, columns: Sequence[str], base: int = 5
) -> pd.DataFrame:
    """A copy of ``frame`` with each named column of weighted counts rounded to ``base``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"no column(s) {missing} to round; columns are {list(frame.columns)}")
    out = frame.copy()
    for col in columns:
        out[col] = round_to_base(out[col], base)
    return out


def _secondary(
    rows: pd.DataFrame, n: np.ndarray, k: np.ndarray, reasons: list[str], rules: DisclosureRules
) -> list[str]:
    """Kinds ('' / 'primary' / 'secondary') after secondary suppression; fills ``reasons``."""
    kinds = ["primary" if r else "" for r in reasons]
    keys = [tuple(str(v) for v in t) for t in rows[list(FAMILY)].itertuples(index=False)]
    groups = rows["group"].astype(str).tolist()
    totals = {key[:-1]: i for i, key in enumerate(keys) if key[-1] == "all"}
    families: dict[tuple[str, ...], list[int]] = {}
    for i, key in enumerate(keys):
        if key[-1] != "all":
            families.setdefault(key, []).append(i)
    for key, members in families.items():
        total = totals.get(key[:-1])
        if total is None or kinds[total]:
            continue  # no published total to subtract from
        group_var = key[-1]
        hidden = [m for m in members if kinds[m]]
        rest_n = n[total] - sum(n[m] for m in members)
        rest_k = k[total] - sum(k[m] for m in members)
        open_ = sorted((m for m in members if not kinds[m]), key=lambda m: (n[m], k[m], groups[m]))
        protected = [groups[m] for m in hidden]
        if rest_n > 0:
            protected.append(f"respondents in no published {group_var} group")
        while open_:
            agg_n = rest_n + sum(n[m] for m in hidden)
            agg_k = rest_k + sum(k[m] for m in hidden)
            if agg_n <= 0 or not suppression_reason(int(agg_n), int(agg_k), rules):
                break
            nxt = open_.pop(0)
            hidden.append(nxt)
            kinds[nxt] = "secondary"
            reasons[nxt] = (
                f"secondary suppression: protects {', '.join(protected)} "
                f"in the same {group_var} breakdown"
            )
    return kinds


def apply_disclosure(table: EstimateTable, rules: DisclosureRules | None = None) -> EstimateTable:
    """Return a copy of ``table`` with small cells suppressed and their figures removed.

    Adds the column ``suppression_kind`` (``''``, ``'primary'``, ``'secondary'``).
    """
    rules = rules or DisclosureRules()
    rows = table.rows.copy()
    n = rows["n"].fillna(0).to_numpy(dtype=float)
    k = rows["n_success"].fillna(0).to_numpy(dtype=float)
    reasons = [suppression_reason(int(a), int(b), rules) for a, b in zip(n, k, strict=True)]
    if rules.secondary and len(rows):
        kinds = _secondary(rows, n, k, reasons, rules)
    else:
        kinds = ["primary" if r else "" for r in reasons]
    rows["suppression_reason"] = pd.Series(reasons, index=rows.index, dtype="object")
    rows["suppression_kind"] = pd.Series(kinds, index=rows.index, dtype="object")
    rows["suppressed"] = rows["suppression_reason"] != ""
    hide = rows["suppressed"].to_numpy()
    for col in FIGURES:
        rows[col] = rows[col].astype(float)
        rows.loc[hide, col] = np.nan
    rows["n"] = rows["n"].astype(float)
    # No unweighted base under the threshold, and none on a suppressed row: with secondary
    # suppression at least two cells of a family are hidden, so a total minus the
    # published bases gives only their sum, never one small base. The degrees of freedom
    # go with the base: without clusters they are the base minus the strata.
    withheld = (rows["n"] < rules.min_base) | hide
    rows.loc[withheld, "n"] = np.nan
    if "df" in rows.columns:
        rows["df"] = pd.to_numeric(rows["df"], errors="coerce")
        rows.loc[withheld, "df"] = np.nan
    if "n_out_of_base" in rows.columns:  # the out-of-base share follows the count rule too
        ex = pd.to_numeric(rows["n_out_of_base"], errors="coerce")
        small = ((ex > 0) & (ex < rules.min_count)) | hide
        rows["n_out_of_base"] = ex.where(~small)
        share = pd.to_numeric(rows["out_of_base_share"], errors="coerce")
        rows["out_of_base_share"] = share.where(~small)
    present = [c for c in rules.weighted_count_columns if c in rows.columns]
    if present:
        rows = round_weighted_counts(rows, present, rules.round_to)
        rows.loc[hide, present] = np.nan
    return EstimateTable(rows=rows, meta=dict(table.meta) | {"disclosure": rules})


def footnotes(table: EstimateTable) -> list[str]:
    """One footnote per distinct suppression reason in ``table``, marked as in the tables."""
    rows = table.rows
    if "suppressed" not in rows.columns:
        return []
    shown = rows[rows["suppressed"].astype(bool)]
    notes: list[str] = []
    for reason in dict.fromkeys(shown["suppression_reason"].astype(str)):
        kind = next((k for k in ("secondary", "linked") if reason.startswith(k)), "primary")
        notes.append(f"{SUPPRESSED_MARK} {KIND_NOTES[kind]}: {reason}")
    return notes
