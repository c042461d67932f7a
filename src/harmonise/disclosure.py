"""Disclosure control for published tables (primary small-cell suppression).

Rules (defaults follow the ONS-style threshold of 10, see docs/disclosure.md):

* an estimate is suppressed when its unweighted base is under ``min_base``;
* or when fewer than ``min_count`` respondents are in the success categories, or fewer
  than ``min_count`` are outside them (the complement discloses just as much: base minus
  count);
* or when a small group (base under ``min_base_for_extremes``) all answer the same way
  (0% or 100%: class disclosure).

Suppressed rows keep their reason and lose every figure (estimate, SE, CI, counts), so a
suppressed cell can never be shown as a number. Secondary suppression across linked
tables is not done yet (see docs/disclosure.md for the plan).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmonise.models.harmonised import EstimateTable

FIGURES = ("estimate", "se", "ci_low", "ci_high", "deff", "n_success")


@dataclass(frozen=True)
class DisclosureRules:
    min_base: int = 10
    min_count: int = 10
    min_base_for_extremes: int = 50


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


def apply_disclosure(table: EstimateTable, rules: DisclosureRules | None = None) -> EstimateTable:
    """Return a copy of ``table`` with small cells suppressed and their figures removed."""
    rules = rules or DisclosureRules()
    rows = table.rows.copy()
    reasons = [
        suppression_reason(int(n), int(k), rules)
        for n, k in zip(rows["n"], rows["n_success"].fillna(0), strict=True)
    ]
    rows["suppression_reason"] = pd.Series(reasons, index=rows.index, dtype="object")
    rows["suppressed"] = rows["suppression_reason"] != ""
    hide = rows["suppressed"].to_numpy()
    for col in FIGURES:
        rows[col] = rows[col].astype(float)
        rows.loc[hide, col] = np.nan
    rows["n"] = rows["n"].astype(float)
    rows.loc[rows["n"] < rules.min_base, "n"] = np.nan  # no unweighted count under the threshold
    return EstimateTable(rows=rows, meta=dict(table.meta) | {"disclosure": rules})
