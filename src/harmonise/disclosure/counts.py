"""Disclosure control for the count tables of a release: the recode audit and the margins.

Both tables publish unweighted counts of respondents: the audit one per source value of
each item, the margins one per weighting category. A count under ``threshold`` is blanked
(primary). But every such count is also one term of a sum the release publishes
elsewhere, so a single blank can be worked back:

* all source values of one item add up to the survey's sample size (in the report and in
  ``weighting.csv``); all categories of one margin do too;
* the audit rows of an item whose indicator row for all respondents is published add up
  to its base ``n`` (answer categories), its count ``n_success`` (success categories), the
  difference of the two (the other categories), its ``n_out_of_base`` (missing types
  other than not asked) and the sample size minus its ``n`` (every missing type, not asked
  included: a small blanked not-asked count takes another missing-type count with it).

Each such sum is a :class:`CountFamily`. While the blanked members of a family whose sum is
published add up to between 1 and ``threshold - 1``, the next smallest published positive
member is blanked too (secondary; deterministic, smallest count then row order first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmonise.models.harmonised import WeightedSurvey
from harmonise.models.schema import Schema


@dataclass(frozen=True)
class CountFamily:
    """Rows (positions in the table) whose counts add up to a published figure."""

    label: str
    rows: tuple[int, ...]


def suppress_counts(frame: pd.DataFrame, column: str, families: Sequence[CountFamily],
                    threshold: int) -> pd.DataFrame:
    """``frame`` with counts in 1..threshold-1 blanked, and more blanked while any family's
    blanked members add up to 1..threshold-1; adds ``<column>_suppressed`` (bool)."""
    if frame.empty or column not in frame.columns:
        return frame
    counts = pd.to_numeric(frame[column], errors="coerce").fillna(0).to_numpy(dtype=float)
    small = (counts > 0) & (counts < threshold)
    changed = True
    while changed:
        changed = False
        for fam in families:
            idx = np.asarray(fam.rows, dtype=int)
            if idx.size == 0:
                continue
            hidden = counts[idx][small[idx]].sum()
            if not 0 < hidden < threshold:
                continue
            open_ = [i for i in idx if not small[i] and counts[i] > 0]
            if not open_:
                continue
            victim = min(open_, key=lambda i: (counts[i], i))
            small[victim] = True
            changed = True
    out = frame.copy()
    out[column] = pd.to_numeric(frame[column], errors="coerce").where(~small)
    out[f"{column}_suppressed"] = small
    return out


def margin_families(margins: pd.DataFrame) -> list[CountFamily]:
    """One family per survey × margin: its categories add up to the sample size."""
    if margins.empty:
        return []
    return [CountFamily(f"sample size of {ref} (weighting.csv, report)",
                        tuple(int(i) for i in np.flatnonzero(
                            ((margins["crosswalk"] == ref) & (margins["margin"] == m))
                            .to_numpy())))
            for ref, m in margins[["crosswalk", "margin"]].drop_duplicates()
            .itertuples(index=False)]


def audit_families(audit: pd.DataFrame, estimates: pd.DataFrame, schema: Schema,
                   surveys: Sequence[WeightedSurvey],
                   margins: pd.DataFrame | None = None) -> list[CountFamily]:
    """The sums the audit's counts take part in (module docstring), per crosswalk item;
    with the published ``margins``, also each weighting category's sample size."""
    if audit.empty:
        return []
    by_ref = {ws.survey.crosswalk.ref: ws for ws in surveys}
    overall = estimates[estimates["group_var"].astype(str) == "all"]
    families: list[CountFamily] = []
    shown = margins if margins is not None and not margins.empty else None
    for m in [] if shown is None else shown.dropna(subset=["sample_n"]).itertuples():
        sel = ((audit["crosswalk"].astype(str) == str(m.crosswalk))
               & (audit["concept"].astype(str) == str(m.margin))
               & (audit["target"].astype(str) == str(m.category))).to_numpy()
        families.append(CountFamily(f"{m.margin} {m.category} sample size of {m.crosswalk} "
                                    "(margins.csv)", tuple(int(i) for i in np.flatnonzero(sel))))
    keys = audit[["crosswalk", "item"]].astype(str).drop_duplicates()
    for ref, item_id in keys.itertuples(index=False):
        mine = audit[(audit["crosswalk"].astype(str) == ref)
                     & (audit["item"].astype(str) == item_id)]
        pos = np.flatnonzero(audit.index.isin(mine.index))
        families.append(CountFamily(f"sample size of {ref}", tuple(int(i) for i in pos)))
        ws = by_ref.get(ref)
        item = None if ws is None else next(
            (i for i in ws.survey.crosswalk.items if i.id == item_id), None)
        if ws is None or item is None or not item.concept:
            continue
        scale = ws.survey.scales.get(item.column)
        for ind in (i for i in schema.indicators if i.concept == item.concept):
            row = overall[(overall["crosswalk"] == ref) & (overall["indicator"] == ind.id)
                          & (overall["option"].astype(str) == (item.option or ""))]
            if row.empty or bool(row["suppressed"].iloc[0]) or scale not in ind.success:
                continue
            success = set(ind.success[scale])
            target = mine["target"].astype(str)
            category = (mine["target_kind"].astype(str) == "category").to_numpy()
            is_success = target.isin(success).to_numpy()
            where = f"{ind.id} row for all respondents of {ref} (estimates.csv)"
            subsets = [("base", category), ("count", category & is_success),
                       ("base minus count", category & ~is_success),
                       ("sample size minus base", ~category)]
            if pd.notna(row["n_out_of_base"].iloc[0]):
                subsets.append(("out-of-base count",
                                (~category & (target != "not_asked")).to_numpy()))
            families += [CountFamily(f"{what} of the {where}",
                                     tuple(int(i) for i in pos[sel]))
                         for what, sel in subsets]
    return families


def protect_counts(
    audit: pd.DataFrame, margins: pd.DataFrame, estimates: pd.DataFrame, schema: Schema,
    surveys: Sequence[WeightedSurvey], threshold: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The audit and the weighting margins as they may be published: unweighted counts under
    ``threshold`` blanked (a count of 3 'Yes' answers there would undo the suppression of
    that estimate), and more where a published sum would give a blank back."""
    margins = suppress_counts(margins.reset_index(drop=True), "sample_n",
                              margin_families(margins), threshold)
    audit = suppress_counts(audit, "count", audit_families(
        audit, estimates, schema, surveys, margins), threshold)
    return audit, margins
