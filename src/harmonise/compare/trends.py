"""Change between waves of one survey, flagged where the crosswalk changed in between.

A **series** is one instrument over time: the crosswalk id with its wave suffix removed
(``luton-residents-2024`` and ``luton-residents-2025`` are the series ``luton-residents``);
a crosswalk id without the suffix is its own series. For each series, indicator (and
option) and pair of consecutive waves, :func:`trends` gives the change (later minus
earlier) of the weighted overall estimates. Waves are independent samples, so
se² = se₁² + se₂², with a normal-theory CI and p-value, and p-values adjusted across the
family of all changes in the table (Holm by default): the same
:func:`harmonise.compare.difference` and :func:`harmonise.compare.adjust_family` as
between surveys.

The same gate as between surveys applies (both items graded at least ``close``, the same
population, neither estimate suppressed). A change is **flagged** when the crosswalk
version changed between the waves: ``item_changed`` says whether this item's mapping
(source wording, scale, recode table, missing codes or grade) is different, and
``changelog`` carries the later crosswalk's changelog lines for the versions in between.
A flagged change may be partly a change of question, not of opinion.

Every refusal and every item change also has a stable code (:data:`TREND_REASON_CODES`,
:data:`ITEM_CHANGE_CODES`) in ``reason_codes`` / ``change_codes`` (joined by ``;``), with
the two items' scales in ``from_scale`` / ``to_scale``: the report words those, never the
prose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from harmonise.compare.pairs import adjust_family, adjust_pvalues, difference, pair_df
from harmonise.models.crosswalk import Crosswalk, Item, normalise_value
from harmonise.models.harmonised import EstimateTable
from harmonise.models.run import Correction, TrendTable
from harmonise.models.schema import grade_at_least

TREND_COLUMNS = (
    "series",
    "indicator",
    "option",
    "label",
    "csp",
    "csp_name",
    "from_wave",
    "to_wave",
    "from_crosswalk",
    "to_crosswalk",
    "from_estimate",
    "to_estimate",
    "from_grade",
    "to_grade",
    "computed",
    "reason",
    "change",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "significant",
    "correction",
    "crosswalk_changed",
    "item_changed",
    "flag",
    "changelog",
    # added with issue 13: codes the report words (never the prose above)
    "reason_codes",
    "change_codes",
    "from_scale",
    "to_scale",
)

#: Why a change was not computed (``reason_codes``).
TREND_REASON_CODES = {
    "from_grade_below_floor": "the earlier wave's item is graded below the floor",
    "to_grade_below_floor": "the later wave's item is graded below the floor",
    "populations_differ": "the waves cover different populations",
    "from_suppressed": "the earlier wave's estimate is suppressed",
    "to_suppressed": "the later wave's estimate is suppressed",
    "scale_changed": "the response scale changed between waves",
}

#: What changed in the item's mapping between waves (``change_codes``).
ITEM_CHANGE_CODES = {
    "item_added_or_removed": "the item is in one wave's crosswalk only",
    "source_changed": "the source question changed",
    "scale_changed": "the response scale changed",
    "recode_changed": "the recode table changed",
    "missing_changed": "the missing codes changed",
    "grade_changed": "the comparability grade changed",
}


def series_id(crosswalk_id: str, wave: str) -> str:
    """``luton-residents-2024`` (wave 2024) -> ``luton-residents``; otherwise the id itself."""
    base = crosswalk_id.split("@")[0]
    suffix = f"-{wave}"
    return base[: -len(suffix)] if wave and base.endswith(suffix) else base


def _version(ref: str) -> int | None:
    match = re.search(r"@v(\d+)$", ref)
    return int(match.group(1)) if match else None


def item_differences(before: Item | None, after: Item | None) -> list[str]:
    """What changed in one item's mapping between two crosswalks (empty if nothing did)."""
    return [text for _, text in item_changes(before, after)]


def item_changes(before: Item | None, after: Item | None) -> list[tuple[str, str]]:
    """(code, prose) per change in one item's mapping (:data:`ITEM_CHANGE_CODES`)."""
    if before is None or after is None:
        return [] if before is after else [("item_added_or_removed", "item added or removed")]
    out: list[tuple[str, str]] = []
    if before.source != after.source or before.question != after.question:
        out.append(("source_changed", "source question changed"))
    if before.scale != after.scale:
        old, new = before.scale or "(concept scale)", after.scale or "(concept scale)"
        out.append(("scale_changed", f"scale {old} → {new}"))
    if _normalised(before.recode) != _normalised(after.recode):
        out.append(("recode_changed", "recode table changed"))
    if _normalised(before.missing) != _normalised(after.missing):
        out.append(("missing_changed", "missing codes changed"))
    if before.comparability != after.comparability:
        out.append(("grade_changed", f"grade {before.comparability} → {after.comparability}"))
    return out


def _normalised(table: Mapping[Any, object]) -> dict[str, object]:
    """A recode or missing table keyed as values are matched (``1``, ``1.0``, ``"1"`` alike;
    text ignoring case and spacing), as :func:`harmonise.crosswalk.diff.diff_crosswalks`."""
    return {normalise_value(k): v for k, v in table.items()}


def changelog_between(after: Crosswalk, from_version: int | None) -> list[str]:
    """The later crosswalk's changelog lines for versions after ``from_version``."""
    lines: list[str] = []
    for line in after.changelog:
        match = re.match(r"\s*v(\d+)\b", line)
        if match is None:
            continue
        v = int(match.group(1))
        if (from_version is None or v > from_version) and v <= after.version:
            lines.append(" ".join(line.split()))
    return lines


def _find_item(cw: Crosswalk | None, concept: str, option: str) -> Item | None:
    if cw is None:
        return None
    for item in cw.items:
        if item.concept == concept and (item.option or "") == option:
            return item
    return None


def _scale_change(a: pd.Series, b: pd.Series,
                  by_ref: dict[str, Crosswalk]) -> list[tuple[str, str]]:
    """A change of response scale between waves is not a change in opinion: the two
    shares are different statistics (a midpoint moves answers out of 'fairly safe'), so
    the trend is shown side by side, never computed."""
    concept = str(a["concept"]) if "concept" in a.index else ""
    before = _find_item(by_ref.get(str(a["crosswalk"])), concept, str(a["option"]))
    after = _find_item(by_ref.get(str(b["crosswalk"])), concept, str(b["option"]))
    if before is None or after is None or before.scale == after.scale:
        return []
    old, new = before.scale or "the concept's scale", after.scale or "the concept's scale"
    return [("scale_changed", f"the response scale changed between waves ({old} → {new}): "
             "the two shares are different statistics, so no change is computed")]


def _flags(
    a: pd.Series, b: pd.Series, by_ref: dict[str, Crosswalk]
) -> dict[str, object]:
    va, vb = _version(str(a["crosswalk"])), _version(str(b["crosswalk"]))
    changed = va != vb
    cw_a, cw_b = by_ref.get(str(a["crosswalk"])), by_ref.get(str(b["crosswalk"]))
    concept, option = str(a["concept"]), str(a["option"])
    before, after = _find_item(cw_a, concept, option), _find_item(cw_b, concept, option)
    if cw_a is not None and cw_b is not None:
        changes = item_changes(before, after)
        log = changelog_between(cw_b, va)
    else:
        changes = [] if a["comparability"] == b["comparability"] else [
            ("grade_changed", f"grade {a['comparability']} → {b['comparability']}")]
        log = []
    diffs = [text for _, text in changes]
    flag = ""
    if changed:
        head = f"crosswalk changed between waves ({a['crosswalk']} → {b['crosswalk']})"
        if diffs:
            flag = f"{head}: this item's {'; '.join(diffs)}"
        else:
            flag = f"{head}; this item's mapping is unchanged"
    elif diffs:
        flag = f"item mapping differs between waves: {'; '.join(diffs)}"
    return {
        "crosswalk_changed": changed,
        "item_changed": bool(diffs),
        "flag": flag,
        "changelog": " | ".join(log),
        "change_codes": ";".join(code for code, _ in changes),
        "from_scale": "" if before is None else before.scale or "",
        "to_scale": "" if after is None else after.scale or "",
    }


def _reasons(a: pd.Series, b: pd.Series, floor: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for side, tag in ((a, "from"), (b, "to")):
        if not grade_at_least(str(side["comparability"]), floor):
            out.append((f"{tag}_grade_below_floor",
                        f"wave {side['wave']} ({side['crosswalk']}) item is graded "
                        f"'{side['comparability']}', below '{floor}'"))
    if a["population"] != b["population"]:
        out.append(("populations_differ",
                    f"different populations ({a['population']} vs {b['population']})"))
    for side, tag in ((a, "from"), (b, "to")):
        if bool(side["suppressed"]):
            out.append((f"{tag}_suppressed", f"wave {side['wave']} estimate suppressed "
                                             f"({side['suppression_reason']})"))
    return out


def trends(
    table: EstimateTable,
    *,
    crosswalks: Sequence[Crosswalk] = (),
    floor: str = "close",
    level: float = 0.95,
    correction: Correction = "holm",
) -> TrendTable:
    """Change between consecutive waves of each series, per indicator (and option).

    ``crosswalks`` (optional, those of the run) let the flag say what changed in the item
    and quote the changelog; without them only a version or grade change is detected.
    """
    adjust_pvalues(np.array([]), correction, 1 - level)  # an unknown correction fails early
    rows = table.rows
    overall = rows[(rows["group_var"] == "all") & rows["weighted"].astype(bool)].copy()
    overall["series"] = [
        series_id(str(c), str(w)) for c, w in zip(overall["crosswalk"], overall["wave"],
                                                  strict=True)
    ]
    by_ref = {cw.ref: cw for cw in crosswalks}
    out: list[dict[str, object]] = []
    for (series, indicator, option), grp in overall.groupby(
        ["series", "indicator", "option"], sort=True
    ):
        waves = [r for _, r in grp.sort_values(["wave", "crosswalk"]).iterrows()]
        for a, b in pairwise(waves):
            if a["wave"] == b["wave"]:
                continue
            reasons = _reasons(a, b, floor) + _scale_change(a, b, by_ref)
            rec: dict[str, object] = {
                "series": series, "indicator": indicator, "option": option,
                "label": b["label"], "csp": b["csp"], "csp_name": b["csp_name"],
                "from_wave": a["wave"], "to_wave": b["wave"],
                "from_crosswalk": a["crosswalk"], "to_crosswalk": b["crosswalk"],
                "from_estimate": a["estimate"], "to_estimate": b["estimate"],
                "from_grade": a["comparability"], "to_grade": b["comparability"],
                "computed": not reasons, "reason": "; ".join(t for _, t in reasons),
                "reason_codes": ";".join(c for c, _ in reasons),
                "correction": correction,
            } | _flags(a, b, by_ref)
            if not reasons:  # later minus earlier
                d = difference(float(b["estimate"]), float(a["estimate"]),
                               float(b["se"]), float(a["se"]), level=level, df=pair_df(a, b))
                rec |= {"change": d.estimate, "se": d.se, "ci_low": d.ci_low,
                        "ci_high": d.ci_high, "p_value": d.p_value}
            out.append(rec)
    frame = pd.DataFrame(out, columns=list(TREND_COLUMNS))
    for col in ("change", "se", "ci_low", "ci_high"):
        frame[col] = frame[col].astype(float)
    frame = adjust_family(frame, frame["computed"].astype(bool), correction, level)
    return TrendTable(rows=frame, level=level, correction=correction)
