"""Compare surveys on an indicator, only where the questions really measure the same thing.

Gate: both items graded at least ``close`` AND the same population definition AND neither
estimate suppressed. A compared pair gets the difference, its SE (independent samples:
se² = se_a² + se_b²), a normal-theory CI and p-value, and Holm-adjusted p-values across
the family of all comparisons in the run (pingouin.multicomp). A pair that fails the gate
is listed with every reason it fails, so the report can show both figures side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats

from harmonise.models.harmonised import EstimateTable
from harmonise.models.schema import grade_at_least

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
    "p_holm",
    "significant",
)


@dataclass(frozen=True)
class ComparisonTable:
    rows: pd.DataFrame
    level: float
    correction: str


def _reasons(a: pd.Series, b: pd.Series, floor: str) -> list[str]:
    out = []
    for side in (a, b):
        if not grade_at_least(str(side["comparability"]), floor):
            out.append(
                f"{side['csp_name']} ({side['crosswalk']}) item is graded "
                f"'{side['comparability']}', below '{floor}'"
            )
    if a["population"] != b["population"]:
        out.append(f"different populations ({a['population']} vs {b['population']})")
    for side in (a, b):
        if bool(side["suppressed"]):
            out.append(f"{side['csp_name']} estimate suppressed ({side['suppression_reason']})")
    return out


def compare(
    table: EstimateTable,
    *,
    floor: str = "close",
    level: float = 0.95,
    correction: str = "holm",
) -> ComparisonTable:
    """All pairs of surveys per indicator (and option), overall estimates only."""
    rows = table.rows
    overall = rows[(rows["group_var"] == "all") & rows["weighted"].astype(bool)]
    out: list[dict[str, object]] = []
    z = float(stats.norm.ppf(0.5 + level / 2))
    for (indicator, option), grp in overall.groupby(["indicator", "option"], sort=True):
        recs = [r for _, r in grp.sort_values("crosswalk").iterrows()]
        for a, b in combinations(recs, 2):
            reasons = _reasons(a, b, floor)
            rec: dict[str, object] = {
                "indicator": indicator,
                "option": option,
                "label": a["label"],
                "a": a["crosswalk"],
                "a_name": a["csp_name"],
                "b": b["crosswalk"],
                "b_name": b["csp_name"],
                "a_estimate": a["estimate"],
                "b_estimate": b["estimate"],
                "a_grade": a["comparability"],
                "b_grade": b["comparability"],
                "a_population": a["population"],
                "b_population": b["population"],
                "compared": not reasons,
                "reason": "; ".join(reasons),
            }
            if not reasons:
                diff = float(a["estimate"]) - float(b["estimate"])
                se = float(np.hypot(float(a["se"]), float(b["se"])))
                p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else float("nan")
                rec |= {
                    "difference": diff,
                    "se": se,
                    "ci_low": diff - z * se,
                    "ci_high": diff + z * se,
                    "p_value": p,
                }
            out.append(rec)
    frame = pd.DataFrame(out, columns=list(COMPARISON_COLUMNS))
    frame["significant"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    frame["p_holm"] = frame["p_holm"].astype(float)
    tested = frame["compared"].astype(bool) & frame["p_value"].notna()
    if tested.any():
        _, adjusted = pg.multicomp(frame.loc[tested, "p_value"].to_numpy(dtype=float),
                                   alpha=1 - level, method=correction)
        frame.loc[tested, "p_holm"] = adjusted
        frame.loc[tested, "significant"] = adjusted < (1 - level)
    return ComparisonTable(rows=frame, level=level, correction=correction)
