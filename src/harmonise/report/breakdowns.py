"""Who and where (subgroup breakdowns) and trends between waves, in words (pure).

Breakdowns read the published estimate table's subgroup rows (sex, age band, area, school
year: whatever each survey has) and the within-survey tests of
:func:`harmonise.compare.subgroups.subgroup_differences` (adjusted together, as the
comparisons are).
Trends read :func:`harmonise.compare.trends.trends`' table and its codes.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harmonise.report import words
from harmonise.report.charts import Dot, DotChart, Panel, SlopeChart, SlopeLine
from harmonise.report.findings import Wording, _codes, _f, predicate

#: Breakdown variables in the order the report shows them.
GROUP_ORDER = ("sex", "age_band", "year_group", "area")

#: Themes whose single-answer indicators are charted by subgroup (the others are tabled).
CHART_THEMES = ("safety",)


def _tests(w: Wording) -> dict[tuple[str, str, str, str, str], pd.Series]:
    sub = w.data.subgroups
    if sub is None or sub.empty:
        return {}
    return {(str(r["crosswalk"]), str(r["indicator"]), str(r["option"]), str(r["group_var"]),
             str(r["group"])): r for _, r in sub.iterrows()}


def _direction(test: pd.Series | None) -> str:
    if test is None or pd.isna(test["significant"]) or not bool(test["significant"]):
        return "same"
    return "higher" if _f(test["difference"]) > 0 else "lower"


def _cell_order(group_var: str, codes: list[str], w: Wording) -> list[str]:
    if group_var == "sex" or group_var == "year_group":
        try:
            scale = w.data.schema.scale(w.data.schema.concept(group_var).scale)
            known = [c.code for c in scale.categories]
            return [c for c in known if c in codes] + sorted(set(codes) - set(known))
        except KeyError:
            pass
    if group_var == "age_band":
        def first_age(code: str) -> int:
            digits = code.split("_")[0]
            return int(digits) if digits.isdigit() else 999
        return sorted(codes, key=lambda c: (first_age(c), c))
    if group_var == "year_group":
        return sorted(codes, key=lambda c: (len(c), c))
    return sorted(codes)


def _base(row: pd.Series) -> str:
    """", 771 answers": the base beside a figure (published bases only)."""
    n = row.get("n")
    return f", {int(n):,} answers" if n is not None and pd.notna(n) else ""


def who_and_where(
    w: Wording,
) -> tuple[list[dict[str, Any]], list[DotChart], list[str], str]:
    """Per survey and breakdown: a table (indicators × categories) and, for the safety
    indicators, a chart; plus the front page's sentences for the differences that hold,
    and one sentence naming the surveys where no area stands out on feeling safe."""
    est = w.data.estimates
    # every measure, a tick-all-that-apply question's options included (a row each); the
    # charts and the front page's sentences keep to single-answer measures
    est = est[est["weighted"].astype(bool)]
    tests = _tests(w)
    order = {i.id: k for k, i in enumerate(w.data.schema.indicators)}
    sections: list[dict[str, Any]] = []
    charts: list[DotChart] = []
    ranked: list[tuple[str, float, str]] = []  # (survey, |difference|, sentence)
    quiet_areas: list[str] = []
    for s in w.data.surveys:
        mine = est[est["crosswalk"] == s.ref]
        overall = mine[mine["group_var"] == "all"].set_index("indicator")
        for gv in [g for g in GROUP_ORDER if g in set(mine["group_var"])]:
            rows = mine[mine["group_var"] == gv]
            said = len(ranked)
            cats = _cell_order(gv, sorted(set(rows["group"].astype(str))), w)
            measures = sorted(
                {(str(i), "" if pd.isna(o) else str(o))
                 for i, o in zip(rows["indicator"], rows["option"], strict=True)},
                key=lambda m: (order.get(m[0], 999), m[1] != "", m[1]))
            table = []
            panels = []
            for ind, option in measures:
                mine_rows = rows[(rows["indicator"] == ind)
                                 & (rows["option"].fillna("").astype(str) == option)]
                by_cat = {str(r["group"]): r for _, r in mine_rows.iterrows()}
                label = str(next(iter(by_cat.values()))["label"])
                cells = []
                dots = []
                for cat in cats:
                    r = by_cat.get(cat)
                    test = tests.get((s.ref, ind, option, gv, cat))
                    mirrored = False
                    if test is None and len(cats) == 2:  # a two-way split is tested once
                        other = tests.get((s.ref, ind, option, gv,
                                           next(c for c in cats if c != cat)))
                        if other is not None:
                            test, mirrored = other.copy(), True
                            test["difference"] = -_f(other["difference"])
                    direction = _direction(test)
                    hidden = r is None or bool(r["suppressed"]) or pd.isna(r["estimate"])
                    if r is None or hidden:
                        r = pd.Series({"estimate": math.nan, "ci_low": math.nan,
                                       "ci_high": math.nan})
                    cells.append({
                        "text": "[c]" if hidden else
                        f"{words.percent(_f(r['estimate']))} "
                        f"({words.percent(_f(r['ci_low']))} to {words.percent(_f(r['ci_high']))})"
                        + _base(r),
                        "suppressed": hidden,
                        "mark": {"higher": "▲ higher", "lower": "▼ lower"}.get(direction, ""),
                    })
                    dots.append(Dot(label=words.category(w.data.schema, gv, cat),
                                    value=math.nan if hidden else _f(r["estimate"]),
                                    low=math.nan if hidden else _f(r["ci_low"]),
                                    high=math.nan if hidden else _f(r["ci_high"]),
                                    style=direction))
                    if direction != "same" and not hidden and test is not None and not option \
                            and w.theme_of.get(w.concept_of.get(ind, "")) in CHART_THEMES:
                        if mirrored:
                            continue  # one sentence for a two-way split
                        schema = w.data.schema
                        sentence = (
                            f"{w.short(s.ref)}: a "
                            f"{'larger' if direction == 'higher' else 'smaller'}"
                            f" share of {words.group_phrase(schema, gv, cat)} "
                            f"({words.percent(_f(r['estimate']))}, "
                            f"{words.percent(_f(r['ci_low']))} to "
                            f"{words.percent(_f(r['ci_high']))}) than of "
                            f"{words.group_phrase(schema, gv, str(test['versus']))} "
                            f"({words.percent(_f(test['versus_estimate']))}) "
                            f"{predicate(label)}.")
                        ranked.append((s.ref, abs(_f(test["difference"])), sentence))
                table.append({"label": label, "cells": cells})
                if not option and w.theme_of.get(w.concept_of.get(ind, "")) in CHART_THEMES:
                    ref = overall.loc[ind] if ind in overall.index else None
                    ref_value = (math.nan if ref is None or bool(ref["suppressed"])
                                 else _f(ref["estimate"]))
                    panels.append(Panel(
                        title=label.lstrip("% ").capitalize(), dots=tuple(dots),
                        reference=ref_value,
                        reference_label="" if math.isnan(ref_value) else
                        f"Dashed line: {w.short(s.ref)} as a whole, "
                        f"{words.percent(ref_value)}"))
            if gv == "area" and panels and len(ranked) == said:
                quiet_areas.append(w.short(s.ref))
            title = f"{w.full(s.ref)}: by {words.group_title(gv).lower()}"
            chart_id = f"who-{s.ref.split('@')[0]}-{gv}".replace("_", "-")
            if panels:
                figures = "; ".join(
                    f"{p.title}: " + ", ".join(
                        f"{d.label} "
                        f"{'suppressed' if math.isnan(d.value) else words.percent(d.value)}"
                        for d in p.dots) for p in panels)
                charts.append(DotChart(
                    id=chart_id, title=title, panels=tuple(panels), legend="difference",
                    alt=f"Dot-and-interval chart, {title}. {figures}."))
            sections.append({
                "id": chart_id, "title": title, "survey": w.full(s.ref),
                "group": words.group_title(gv),
                "categories": [words.category(w.data.schema, gv, c) for c in cats],
                "rows": table, "chart": chart_id if panels else None,
            })
    # the front page shows the first few: the largest difference of each survey first (every
    # survey with one is covered), then the rest by size
    ranked.sort(key=lambda t: -t[1])
    firsts: dict[str, str] = {}
    for survey_ref, _, sentence in ranked:
        firsts.setdefault(survey_ref, sentence)
    sentences = [*firsts.values(), *(t[2] for t in ranked if t[2] not in firsts.values())]
    quiet = ""
    if quiet_areas:
        quiet = (f"No area stands out from the rest of its survey on feeling safe once the "
                 f"number of tests is allowed for ({words.and_list(quiet_areas)}).")
    return sections, charts, sentences, quiet


def trends(w: Wording) -> tuple[dict[str, Any] | None, list[SlopeChart], list[str]]:
    """The trends section (short table, slope chart per series) and front-page sentences."""
    t = w.data.trends
    if t is None or t.empty:
        return None, [], []
    t = t[t["option"].fillna("").astype(str) == ""] if "option" in t.columns else t
    rows: list[dict[str, Any]] = []
    charts: list[SlopeChart] = []
    sentences: list[str] = []
    for series, grp in t.groupby("series", sort=True):
        first = grp.iloc[0]
        before, after = str(first["from_wave"]), str(first["to_wave"])
        name = w.short(first["to_crosswalk"]).removesuffix(f" {after}")
        lines = []
        for _, r in grp.iterrows():
            change_words = words.question_change(_codes(r.get("change_codes")))
            a, b = _f(r["from_estimate"]), _f(r["to_estimate"])
            label = str(r["label"]).lstrip("% ")
            if bool(r["computed"]):
                sig = bool(r["significant"]) if pd.notna(r["significant"]) else False
                change = _f(r["change"])
                low, high = sorted(abs(100 * _f(r[k])) for k in ("ci_low", "ci_high"))
                verdict = (f"{'rose' if change > 0 else 'fell'} by {100 * abs(change):.0f} "
                           f"points (95% interval {low:.0f} to {high:.0f}), a real change"
                           if sig else
                           "no clear change once chance and the number of comparisons are "
                           "allowed for")
            else:
                try:
                    concept_scale = w.data.schema.concept(
                        w.concept_of.get(str(r["indicator"]), "")).scale
                except KeyError:
                    concept_scale = ""
                scales = [words.scale_short(w.data.schema, str(r.get(k, "") or "").replace(
                    "nan", ""), concept_scale) for k in ("from_scale", "to_scale")]
                verdict = "not compared: " + words.trend_refusal(
                    _codes(r.get("reason_codes")), *scales).rstrip(".")
                verdict = verdict[:14] + verdict[14].lower() + verdict[15:]
            changed = bool(r["item_changed"])
            rows.append({"label": str(r["label"]), "before": words.percent(a),
                         "after": words.percent(b), "verdict": verdict[:1].upper() + verdict[1:],
                         "changed": change_words})
            lines.append(SlopeLine(label=label[:1].upper() + label[1:], before=a, after=b,
                                   changed=changed, note=verdict[:1].upper() + verdict[1:]))
            sentences.append(f"{name}, {before} to {after}: {label} {words.percent(a)} then "
                             f"{words.percent(b)}; {verdict}."
                             + (" " + change_words if change_words else ""))
        chart_id = f"trend-{series}"
        alt = (f"Slope chart, {name}, {before} to {after}: "
               + "; ".join(f"{ln.label} {words.percent(ln.before)} to "
                           f"{words.percent(ln.after)}" for ln in lines) + ".")
        charts.append(SlopeChart(id=chart_id, title=f"{name}: {before} to {after}",
                                 before_label=before, after_label=after, lines=tuple(lines),
                                 alt=alt))
    return {"rows": rows, "charts": [c.id for c in charts]}, charts, sentences
