"""Render the comparison report as one self-contained HTML page (charts embedded)."""

from __future__ import annotations

import base64
import io
import math
import warnings
from typing import TYPE_CHECKING, Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from harmonise.report.plots import indicator_chart, multiselect_chart

if TYPE_CHECKING:
    from plotnine import ggplot

    from harmonise.pipeline import RunResult

THEME_TITLES = {
    "safety": "Feeling safe",
    "problems": "Problems in the area",
    "online": "Online harms",
    "what_helps": "What would make people feel safer",
    "wellbeing": "Wellbeing and trusted adults",
    "weapons": "Weapons",
    "priorities": "Concern about serious violence",
}

TITLE = "Community safety perceptions: Bedford Borough, Central Bedfordshire and Luton"


def _pct(x: Any, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * float(x):.{digits}f}"


def png_base64(plot: ggplot, dpi: int = 110) -> str:
    """Draw a ggplot to PNG bytes (no file) and return them base64-encoded."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plotnine's notes about removed rows / sizes
        plot.save(buf, format="png", dpi=dpi, verbose=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _notes(result: RunResult) -> dict[tuple[str, str, str], str]:
    out = {}
    for ws in result.surveys:
        cw = ws.survey.crosswalk
        for item in cw.items:
            out[(cw.ref, str(item.concept), item.option or "")] = item.note
    return out


def build_context(result: RunResult, *, charts: bool = True) -> dict[str, Any]:
    schema = result.schema
    est = result.estimates.rows
    overall = est[(est["group_var"] == "all")]
    notes = _notes(result)
    surveys = []
    for ws in result.surveys:
        cw = ws.survey.crosswalk
        surveys.append({
            "ref": cw.ref, "csp_name": cw.csp_name, "instrument": cw.instrument,
            "population": cw.population, "mode": cw.mode, "sampling": cw.sampling,
            "fieldwork": f"{cw.fieldwork_start:%d %b %Y} – {cw.fieldwork_end:%d %b %Y}",
            "n": len(ws.data), "crosswalk": cw.ref,
        })
    themes = []
    for theme_id, title in THEME_TITLES.items():
        concepts = [c for c in schema.concepts if c.theme == theme_id]
        ids = [c.id for c in concepts]
        rows = overall[overall["concept"].isin(ids)]
        if rows.empty:
            continue
        chart_list = []
        if charts:
            visible = rows[~rows["suppressed"].astype(bool) & rows["estimate"].notna()]
            single = visible[visible["option"] == ""]
            if not single.empty:
                chart_list.append({"alt": f"{title}: estimates with 95% CIs",
                                   "png": png_base64(indicator_chart(single, title))})
            for cid in ids:
                multi = visible[(visible["concept"] == cid) & (visible["option"] != "")]
                if not multi.empty:
                    label = schema.concept(cid).label
                    chart_list.append({"alt": f"{label}: share selecting each option",
                                       "png": png_base64(multiselect_chart(multi, label))})
        table_rows = []
        for _, r in rows.sort_values(["indicator", "option", "crosswalk"]).iterrows():
            table_rows.append({
                "label": r["label"], "csp_name": r["csp_name"], "population": r["population"],
                "comparability": r["comparability"],
                "grade_class": str(r["comparability"]).replace(" ", "-"),
                "suppressed": bool(r["suppressed"]), "suppression_reason": r["suppression_reason"],
                "pct": _pct(r["estimate"]),
                "ci": f"{_pct(r['ci_low'])}–{_pct(r['ci_high'])}",
                "n": "<10" if pd.isna(r["n"]) else f"{int(r['n']):,}",
                "note": notes.get((r["crosswalk"], r["concept"], r["option"]), ""),
            })
        themes.append({"id": theme_id, "title": title, "charts": chart_list, "rows": table_rows})

    comp = result.comparisons.rows
    compared, not_compared = [], []
    concept_of = {i.id: i.concept for i in schema.indicators}
    for _, c in comp.iterrows():
        concept_id = concept_of[str(c["indicator"])]
        rec = {"label": c["label"], "a_name": c["a_name"], "b_name": c["b_name"],
               "a_pct": _pct(c["a_estimate"]), "b_pct": _pct(c["b_estimate"])}
        if bool(c["compared"]):
            sig = bool(c["significant"])
            caveats = [
                f"{name}: {grade} — {notes.get((ref, concept_id, str(c['option'])), '')}"
                for name, grade, ref in ((c["a_name"], c["a_grade"], c["a"]),
                                         (c["b_name"], c["b_grade"], c["b"]))
                if grade not in ("identical", "equivalent")
            ]
            rec |= {
                "grades": f"{c['a_grade']} / {c['b_grade']}",
                "caveats": caveats,
                "diff": f"{100 * c['difference']:+.1f} ({100 * c['ci_low']:+.1f} to "
                        f"{100 * c['ci_high']:+.1f})",
                "p": "<0.001" if c["p_holm"] < 0.001 else f"{c['p_holm']:.3f}",
                "verdict": ("different after correction" if sig
                            else "no significant difference after correction"),
            }
            compared.append(rec)
        else:
            not_compared.append(rec | {"reason": c["reason"]})

    matrix = []
    for concept in schema.concepts:
        if concept.theme == "demographics":
            continue
        cells = []
        for ws in result.surveys:
            items = [i for i in ws.survey.crosswalk.items if i.concept == concept.id]
            if items:
                grade = items[0].comparability
                cells.append({"grade": grade, "cls": grade.replace(" ", "-"),
                              "note": items[0].note})
            else:
                cells.append({"grade": "no item", "cls": "none",
                              "note": "This survey has no question on this concept."})
        if any(c["grade"] != "no item" for c in cells):
            matrix.append({"label": concept.label, "cells": cells})

    weighting = []
    for ws in result.surveys:
        d = ws.diagnostics
        if d is None:
            continue
        cw = ws.survey.crosswalk
        weighting.append({
            "csp_name": cw.csp_name, "population": cw.population,
            "margins": ", ".join(ws.raking_margins), "n": f"{d.n:,}",
            "iterations": d.iterations,
            "minmax": f"{d.min_weight:,.1f} / {d.max_weight:,.1f}", "cv": f"{d.cv:.2f}",
            "deff": f"{d.kish_deff:.2f}", "neff": f"{d.effective_n:,.0f}",
            "top1": f"{100 * d.share_top1pct:.1f}%",
            "targets": d.targets_file + (" (illustrative)" if d.illustrative_targets else ""),
        })
    raw = result.unweighted.rows
    raw_overall = raw[(raw["group_var"] == "all") & (raw["option"] == "")]
    merged = overall[overall["option"] == ""].merge(
        raw_overall[["indicator", "crosswalk", "estimate"]],
        on=["indicator", "crosswalk"], suffixes=("", "_raw"),
    )
    weighting_effect = [
        {"label": r["label"], "csp_name": r["csp_name"],
         "unweighted": _pct(r["estimate_raw"], 1), "weighted": _pct(r["estimate"], 1)}
        for _, r in merged.iterrows()
    ]
    flagged = sorted({f"{f.name} ({f.kind})" for ws in result.surveys
                      for f in ws.survey.flagged})
    n_tests = int(comp["compared"].astype(bool).sum())
    return {
        "title": TITLE,
        "synthetic": bool(result.provenance.get("synthetic")),
        "illustrative": any(ws.diagnostics and ws.diagnostics.illustrative_targets
                            for ws in result.surveys),
        "provenance": result.provenance,
        "surveys": surveys,
        "themes": themes,
        "compared": compared,
        "not_compared": not_compared,
        "n_tests": n_tests,
        "correction": result.comparisons.correction.capitalize(),
        "matrix": matrix,
        "weighting": weighting,
        "weighting_effect": weighting_effect,
        "flagged": ", ".join(flagged) or "none",
        "rules": result.rules,
    }


def render_html(result: RunResult, *, charts: bool = True) -> str:
    env = Environment(
        loader=PackageLoader("harmonise.report", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    return env.get_template("report.html").render(**build_context(result, charts=charts))
