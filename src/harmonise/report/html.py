"""Render the report as one self-contained HTML page (styles and charts embedded).

``build_context`` turns :class:`~harmonise.report.data.ReportData` (a fresh run or a
stored one) into plain values for the Jinja2 template ``templates/report.html``; it never
touches respondent-level data, so a stored run renders exactly as it did when it ran.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from harmonise.report.data import ReportData, as_report_data
from harmonise.report.plots import indicator_chart, multiselect_chart

if TYPE_CHECKING:
    from plotnine import ggplot

    from harmonise.models.run import RunResult

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

#: Resolution of embedded charts (fixed so a stored run re-renders to the same bytes).
CHART_DPI = 100

CI_METHODS = {
    "logit": "logit-transformed (R survey's svyciprop default)",
    "beta": "Korn–Graubard beta",
    "likelihood": "likelihood",
    "asin": "arcsine",
    "mean": "Wald",
    "xlogit": "xlogit (SUDAAN/SPSS)",
}


def _pct(x: Any, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "–"
    return f"{100 * float(x):.{digits}f}"


def png_base64(plot: ggplot, dpi: int = CHART_DPI) -> str:
    """Draw a ggplot to PNG bytes (no file) and return them base64-encoded."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plotnine's notes about removed rows / sizes
        plot.save(buf, format="png", dpi=dpi, verbose=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _notes(data: ReportData) -> dict[tuple[str, str, str], str]:
    return {(s.ref, i.concept, i.option): i.note for s in data.surveys for i in s.items}


def _survey_rows(data: ReportData) -> list[dict[str, Any]]:
    names = _survey_names(data)

    def day(iso: str) -> str:
        return pd.Timestamp(iso).strftime("%d %b %Y")

    return [{
        "ref": s.ref, "csp_name": names[s.ref], "instrument": s.instrument,
        "population": s.population, "mode": s.mode, "sampling": s.sampling,
        "fieldwork": f"{day(s.fieldwork_start)} – {day(s.fieldwork_end)}",
        "n": f"{s.n:,}", "crosswalk": s.ref,
    } for s in data.surveys]


def _survey_names(data: ReportData) -> dict[str, str]:
    """Display name per crosswalk ref: the partnership, plus the wave when it has several."""
    counts = Counter((s.csp, s.population) for s in data.surveys)
    return {s.ref: s.csp_name + (f" {s.wave}" if counts[(s.csp, s.population)] > 1 else "")
            for s in data.surveys}


def _comparison_rows(data: ReportData) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(compared, not compared) as display rows, each tagged with its theme."""
    notes = _notes(data)
    theme_of = {c.id: c.theme for c in data.schema.concepts}
    concept_of = {i.id: i.concept for i in data.schema.indicators}
    names = _survey_names(data)
    compared, not_compared = [], []
    for _, c in data.comparisons.iterrows():
        concept_id = concept_of.get(str(c["indicator"]), "")
        rec: dict[str, Any] = {
            "theme": theme_of.get(concept_id, ""), "label": c["label"],
            "a_name": names.get(str(c["a"]), c["a_name"]),
            "b_name": names.get(str(c["b"]), c["b_name"]),
            "a_pct": _pct(c["a_estimate"]), "b_pct": _pct(c["b_estimate"]),
        }
        if not bool(c["compared"]):
            not_compared.append(rec | {"reason": c["reason"]})
            continue
        sig = bool(c["significant"]) if pd.notna(c["significant"]) else False
        caveats = [
            f"{name}: {grade} — {notes.get((ref, concept_id, str(c['option'])), '')}"
            for name, grade, ref in ((rec["a_name"], c["a_grade"], c["a"]),
                                     (rec["b_name"], c["b_grade"], c["b"]))
            if grade not in ("identical", "equivalent")
        ]
        if "caveats" in c.index and isinstance(c["caveats"], str) and c["caveats"]:
            caveats += c["caveats"].split("; ")  # scales, opt-in samples, modes
        p = c["p_adjusted"]
        rec |= {
            "grades": f"{c['a_grade']} / {c['b_grade']}",
            "caveats": caveats,
            "diff": f"{100 * c['difference']:+.1f} ({100 * c['ci_low']:+.1f} to "
                    f"{100 * c['ci_high']:+.1f})",
            "p": "–" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}"),
            "significant": sig,
            "verdict": ("different after correction" if sig
                        else "no significant difference after correction"),
        }
        compared.append(rec)
    return compared, not_compared


def _theme_charts(data: ReportData, rows: pd.DataFrame, title: str,
                  ids: list[str]) -> list[dict[str, str]]:
    charts = []
    visible = rows[~rows["suppressed"].astype(bool) & rows["estimate"].notna()]
    single = visible[visible["option"] == ""]
    if not single.empty:
        charts.append({"alt": f"{title}: estimates with 95% CIs",
                       "png": png_base64(indicator_chart(single, title))})
    for cid in ids:
        multi = visible[(visible["concept"] == cid) & (visible["option"] != "")]
        if not multi.empty:
            label = data.schema.concept(cid).label
            charts.append({"alt": f"{label}: share selecting each option",
                           "png": png_base64(multiselect_chart(multi, label))})
    return charts


def _themes(data: ReportData, charts: bool) -> list[dict[str, Any]]:
    est = data.estimates
    overall = est[est["group_var"] == "all"]
    notes = _notes(data)
    names = _survey_names(data)
    compared, not_compared = _comparison_rows(data)
    themes = []
    for theme_id, title in THEME_TITLES.items():
        ids = [c.id for c in data.schema.concepts if c.theme == theme_id]
        rows = overall[overall["concept"].isin(ids)]
        if rows.empty:
            continue
        table_rows = [{
            "label": r["label"], "csp_name": names.get(str(r["crosswalk"]), r["csp_name"]),
            "population": r["population"], "comparability": r["comparability"],
            "grade_class": str(r["comparability"]).replace(" ", "-"),
            "suppressed": bool(r["suppressed"]), "suppression_reason": r["suppression_reason"],
            "pct": _pct(r["estimate"]),
            "ci": f"{_pct(r['ci_low'])}–{_pct(r['ci_high'])}",
            "n": ("[c]" if bool(r["suppressed"]) else "<10") if pd.isna(r["n"])
            else f"{int(r['n']):,}",
            "out": _pct(r.get("out_of_base_share", np.nan)),
            "note": notes.get((r["crosswalk"], r["concept"], r["option"]), ""),
        } for _, r in rows.sort_values(["indicator", "option", "crosswalk"]).iterrows()]
        themes.append({
            "id": theme_id, "title": title,
            "charts": _theme_charts(data, rows, title, ids) if charts else [],
            "rows": table_rows,
            "compared": [c for c in compared if c["theme"] == theme_id],
            "not_compared": [c for c in not_compared if c["theme"] == theme_id],
        })
    return themes


def _matrix(data: ReportData) -> list[dict[str, Any]]:
    matrix = []
    for concept in data.schema.concepts:
        if concept.theme == "demographics":
            continue
        cells = []
        for s in data.surveys:
            items = [i for i in s.items if i.concept == concept.id]
            if items:
                grade = items[0].comparability
                cells.append({"grade": grade, "cls": grade.replace(" ", "-"),
                              "note": items[0].note})
            else:
                cells.append({"grade": "no item", "cls": "none",
                              "note": "This survey has no question on this concept."})
        if any(c["grade"] != "no item" for c in cells):
            matrix.append({"label": concept.label, "cells": cells})
    return matrix


def _weighting(data: ReportData) -> list[dict[str, Any]]:
    meta = {s.ref: s for s in data.surveys}
    names = _survey_names(data)
    out = []
    for _, d in data.tables["weighting"].iterrows():
        s = meta[str(d["crosswalk"])]
        out.append({
            "csp_name": names[s.ref], "population": s.population,
            "margins": ", ".join(str(d["margins"]).split()), "n": f"{int(d['n']):,}",
            "iterations": int(d["iterations"]),
            "minmax": f"{d['min_weight']:,.1f} / {d['max_weight']:,.1f}",
            "cv": f"{d['cv']:.2f}", "deff": f"{d['kish_deff']:.2f}",
            "neff": f"{d['effective_n']:,.0f}", "top1": f"{100 * d['share_top1pct']:.1f}%",
            "targets": str(d["targets_file"])
            + (" (illustrative)" if bool(d["illustrative_targets"]) else ""),
            "missing": str(d["missing"]) if "missing" in d.index and str(d["missing"]) else "",
        })
    return out


def _weighting_effect(data: ReportData) -> list[dict[str, str]]:
    est, raw = data.estimates, data.unweighted
    overall = est[(est["group_var"] == "all") & (est["option"] == "")]
    raw_overall = raw[(raw["group_var"] == "all") & (raw["option"] == "")]
    merged = overall.merge(raw_overall[["indicator", "crosswalk", "estimate"]],
                           on=["indicator", "crosswalk"], suffixes=("", "_raw"))
    names = _survey_names(data)
    return [{"label": r["label"], "csp_name": names.get(str(r["crosswalk"]), r["csp_name"]),
             "unweighted": _pct(r["estimate_raw"], 1), "weighted": _pct(r["estimate"], 1)}
            for _, r in merged.iterrows()]


def _reason_kind(reason: str) -> str:
    """Group a refusal reason for the front-page summary (the tables keep the full text)."""
    for key, kind in (("graded", "an item is graded below the comparability floor"),
                      ("population", "different populations"),
                      ("suppressed", "an estimate is suppressed")):
        if key in reason:
            return kind
    return reason.split(" (")[0]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return "–" if value is None or value is pd.NA else str(value)


def _trends(data: ReportData) -> dict[str, Any] | None:
    trends = data.trends
    if trends is None or trends.empty:
        return None
    return {"columns": [str(c) for c in trends.columns],
            "rows": [[_cell(v) for v in row] for row in trends.itertuples(index=False)]}


def _method_summary(data: ReportData) -> dict[str, Any]:
    est = data.estimates
    methods = sorted({str(m) for m in est.loc[est["weighted"].astype(bool), "ci_method"]
                      if str(m)})
    weighting = data.tables["weighting"]
    return {
        "n_total": f"{sum(s.n for s in data.surveys):,}",
        "populations": sorted({s.population for s in data.surveys}),
        "modes": sorted({s.mode for s in data.surveys}),
        "weighting": sorted({str(m) for m in weighting["method"]}) if len(weighting) else [],
        "ci_methods": [CI_METHODS.get(m, m) for m in methods],
        "level": f"{100 * data.comparison_level:.0f}%",
    }


def build_context(source: RunResult | ReportData, *, charts: bool = True,
                  run_id: int | None = None) -> dict[str, Any]:
    """Plain values for the template (charts drawn to base64 PNG unless ``charts=False``)."""
    data = as_report_data(source)
    compared, not_compared = _comparison_rows(data)
    flagged = sorted({f"{name} ({kind})" for s in data.surveys for name, kind in s.flagged})
    weighting = data.tables["weighting"]
    return {
        "title": TITLE,
        "run_id": run_id,
        "synthetic": data.synthetic,
        "illustrative": bool(len(weighting) and weighting["illustrative_targets"].any()),
        "provenance": data.provenance,
        "surveys": _survey_rows(data),
        "method": _method_summary(data),
        "themes": _themes(data, charts),
        "n_tests": len(compared),
        "significant": [c for c in compared if c["significant"]],
        "n_refused": len(not_compared),
        "refusal_reasons": Counter(
            _reason_kind(part) for c in not_compared for part in str(c["reason"]).split("; ")
        ).most_common(),
        "correction": data.correction.capitalize(),
        "matrix": _matrix(data),
        "weighting": _weighting(data),
        "weighting_effect": _weighting_effect(data),
        "trends": _trends(data),
        "flagged": ", ".join(flagged) or "none",
        "rules": data.rules,
    }


def render_html(source: RunResult | ReportData, *, charts: bool = True,
                run_id: int | None = None) -> str:
    env = Environment(
        loader=PackageLoader("harmonise.report", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    context = build_context(source, charts=charts, run_id=run_id)
    return env.get_template("report.html").render(**context)
