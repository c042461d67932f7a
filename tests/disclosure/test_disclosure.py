"""Small-cell suppression of published estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonise.disclosure.cells import DisclosureRules, apply_disclosure, suppression_reason
from harmonise.models.harmonised import ESTIMATE_COLUMNS, EstimateTable


@pytest.mark.parametrize(
    ("n", "k", "suppressed"),
    [(9, 5, True), (10, 10, True), (200, 9, True), (200, 191, True), (200, 0, False),
     (200, 200, False), (40, 0, True), (40, 40, True), (100, 50, False), (20, 10, False)],
)
def test_rules(n: int, k: int, suppressed: bool) -> None:
    assert bool(suppression_reason(n, k, DisclosureRules())) is suppressed


def _table(n: list[int], k: list[int]) -> EstimateTable:
    rows = pd.DataFrame({c: [""] * len(n) for c in ESTIMATE_COLUMNS})
    rows["n"] = n
    rows["n_success"] = k
    for col in ("estimate", "se", "ci_low", "ci_high", "deff"):
        rows[col] = np.array(k, dtype=float) / np.array(n)
    return EstimateTable(rows=rows)


def test_suppressed_rows_lose_every_figure_and_their_base() -> None:
    out = apply_disclosure(_table([5, 300, 300], [2, 150, 4])).rows
    assert list(out["suppressed"]) == [True, False, True]
    for col in ("estimate", "se", "ci_low", "ci_high", "deff", "n_success"):
        assert out[col].isna().tolist() == [True, False, True]
    assert out["n"].isna().tolist() == [True, False, True]  # bases of hidden cells too
    assert "fewer than 10" in out.loc[2, "suppression_reason"]


def test_threshold_is_configurable() -> None:
    rules = DisclosureRules(min_base=3, min_count=3, min_base_for_extremes=3)
    out = apply_disclosure(_table([6], [3]), rules).rows
    assert not out.loc[0, "suppressed"]


def test_a_withheld_base_takes_its_degrees_of_freedom_with_it() -> None:
    """Without clusters df = n − strata: publishing df beside a [c] base gave the base away
    (a reviewer read 66 beside a withheld base of 67)."""
    table = _table([5, 300, 300], [2, 150, 4])
    table = EstimateTable(rows=table.rows.assign(df=[4, 299, 299]))
    out = apply_disclosure(table).rows
    assert out["df"].isna().tolist() == [True, False, True]
    assert out.loc[1, "df"] == 299
