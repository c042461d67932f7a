"""Render the report as one self-contained HTML page (styles and charts embedded).

:func:`build_report` turns :class:`~harmonise.report.data.ReportData` (a fresh run or a
stored one) into plain values for the Jinja2 template ``templates/report.html`` and the
charts (each rendered once: the page embeds the SVG, and the writer saves the same SVG
and PNG under ``charts/``). It never touches respondent-level data, so a stored run
renders exactly as it did when it ran. Every name a reader sees comes from
:mod:`harmonise.report.words`; no code reaches the visible text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from harmonise.report import breakdowns, findings, words
from harmonise.report.charts import Chart, DotChart, SlopeChart, render
from harmonise.report.data import ReportData, as_report_data

if TYPE_CHECKING:
    from harmonise.models.run import RunResult

THEME_TITLES = words.THEME_TITLES

CI_METHODS = {
    "logit": "on the logit scale (R survey's default for proportions)",
    "beta": "Korn–Graubard (beta)",
    "likelihood": "likelihood-based",
    "asin": "on the arcsine scale",
    "mean": "Wald",
    "xlogit": "xlogit (as SUDAAN and SPSS)",
}

MARGIN_WORDS = {"sex": "sex", "age_band": "age", "area": "area", "year_group": "school year"}


@dataclass(frozen=True)
class Rendered:
    """The page and the charts it embeds (the writer saves the same charts as files)."""

    html: str
    charts: tuple[Chart, ...]


def _day(iso: str) -> str:
    return pd.Timestamp(iso).strftime("%-d %B %Y")


def _surveys(w: findings.Wording) -> list[dict[str, Any]]:
    return [{
        "name": w.full(s.ref), "partnership": words.partnership(s.csp_name),
        "instrument": words.instrument(s.instrument), "year": s.wave,
        "population": words.population_title(w.data.schema, s.population),
        "mode": s.mode, "sampling": s.sampling,
        "fieldwork": f"{_day(s.fieldwork_start)} to {_day(s.fieldwork_end)}",
        "n": f"{s.n:,}", "synthetic": s.synthetic,
    } for s in w.data.surveys]


def _synthetic(data: ReportData, w: findings.Wording) -> dict[str, Any]:
    flags = [s.synthetic for s in data.surveys]
    return {
        "all": bool(flags) and all(flags),
        "some": [w.full(s.ref) for s in data.surveys if s.synthetic] if any(flags)
        and not all(flags) else [],
    }


def _matrix(w: findings.Wording) -> list[dict[str, Any]]:
    out = []
    for concept in w.data.schema.concepts:
        if concept.theme == "demographics":
            continue
        cells = []
        for s in w.data.surveys:
            items = [i for i in s.items if i.concept == concept.id]
            grade = items[0].comparability if items else "none"
            cells.append({"grade": words.grade(grade) if items else "not asked",
                          "cls": grade.replace(" ", "-")})
        if any(c["cls"] != "none" for c in cells):
            out.append({"label": concept.label, "cells": cells})
    return out


def _margin_words(text: str) -> str:
    """Margin codes in the weight stage's summary as words ('age_band' -> 'age')."""
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, MARGIN_WORDS)) + r")(?![\w-])")
    return pattern.sub(lambda m: MARGIN_WORDS[m.group(1)], text)


def _weighting(w: findings.Wording) -> list[dict[str, Any]]:
    out = []
    for _, d in w.data.tables["weighting"].iterrows():
        ref = str(d["crosswalk"])
        margins = [MARGIN_WORDS.get(m, m.replace("_", " ")) for m in str(d["margins"]).split()]
        out.append({
            "survey": w.full(ref), "margins": words.and_list(margins), "n": f"{int(d['n']):,}",
            "minmax": f"{d['min_weight']:,.1f} to {d['max_weight']:,.1f}",
            "deff": f"{d['kish_deff']:.2f}", "neff": f"{d['effective_n']:,.0f}",
            "illustrative": bool(d["illustrative_targets"]),
            # how respondents without a margin's value were treated (weight stage's words,
            # with the margin codes put into words)
            "missing": _margin_words(str(d["missing"]))
            if "missing" in d.index and isinstance(d["missing"], str) and d["missing"] else "",
        })
    return out


def _weighting_effect(w: findings.Wording) -> list[dict[str, str]]:
    est, raw = w.data.estimates, w.data.unweighted
    overall = est[(est["group_var"] == "all") & (est["option"] == "")]
    raw_overall = raw[(raw["group_var"] == "all") & (raw["option"] == "")]
    merged = overall.merge(raw_overall[["indicator", "crosswalk", "estimate"]],
                           on=["indicator", "crosswalk"], suffixes=("", "_raw"))
    return [{"label": str(r["label"]), "survey": w.short(r["crosswalk"]),
             "unweighted": words.percent(findings._f(r["estimate_raw"]), 1),
             "weighted": words.percent(findings._f(r["estimate"]), 1)}
            for _, r in merged.iterrows()]


def _provenance(w: findings.Wording) -> dict[str, Any]:
    prov = w.data.provenance
    schema = prov.get("schema", {})
    by_id = {s.crosswalk: s for s in w.data.surveys}
    crosswalks = []
    for c in prov.get("crosswalks", []) or []:
        meta = by_id.get(str(c.get("crosswalk")))
        crosswalks.append({
            "survey": w.full(meta.ref) if meta else "a survey",
            "version": c.get("version"), "status": c.get("status"),
            "path": c.get("path", ""), "sha256": c.get("sha256", "")})
    return {
        "version": prov.get("tool_version", ""), "run_at": prov.get("run_at", ""),
        "schema_title": w.data.schema.title, "schema_version": w.data.schema.version,
        "schema_path": schema.get("path", "") if isinstance(schema, dict) else "",
        "schema_sha": schema.get("sha256", "") if isinstance(schema, dict) else "",
        "crosswalks": crosswalks, "inputs": prov.get("inputs", []) or [],
        "targets": prov.get("targets", []) or [],
    }


def _data_uri(chart: Chart) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(chart.svg.encode()).decode("ascii")


def build_report(source: RunResult | ReportData, *, charts: bool = True,
                 run_id: int | None = None, questionnaire: bool = False
                 ) -> tuple[dict[str, Any], tuple[Chart, ...]]:
    """Plain values for the template, and the charts (none when ``charts=False``)."""
    data = as_report_data(source)
    w = findings.Wording(data)
    compared, refused = findings.comparisons(w)
    specs: list[DotChart | SlopeChart] = []
    themes = []
    for theme_id, title in THEME_TITLES.items():
        rows = findings.theme_rows(w, theme_id)
        if rows.empty:
            continue
        spec = findings.theme_chart(w, theme_id, title, rows)
        if spec is not None:
            specs.append(spec)
        themes.append({
            "id": theme_id, "title": title, "chart": spec.id if spec else None,
            "headlines": findings.headlines(w, theme_id),
            "rows": findings.table_rows(w, rows),
            "compared": [c for c in compared if c["theme"] == theme_id],
            "refused": [c for c in refused if c["theme"] == theme_id],
        })
    sections, who_charts, who_sentences, quiet_areas = breakdowns.who_and_where(w)
    trend, trend_charts, trend_sentences = breakdowns.trends(w)
    specs += [*who_charts, *trend_charts]
    rendered = tuple(render(s) for s in specs) if charts else ()
    by_id = {c.id: {"uri": _data_uri(c), "alt": c.alt, "title": c.title,
                    "file": f"charts/{c.id}"} for c in rendered}
    weighting = data.tables["weighting"]
    est = data.estimates
    methods = sorted({str(m) for m in est.loc[est["weighted"].astype(bool), "ci_method"]
                      if str(m)})
    partnerships = [words.partnership(s.csp_name) for s in data.surveys]
    context = {
        "title": words.title(partnerships),
        "partnerships": words.and_list(list(dict.fromkeys(partnerships))),
        "run_id": run_id,
        "synthetic": _synthetic(data, w),
        "illustrative": bool(len(weighting) and weighting["illustrative_targets"].any()),
        "provenance": data.provenance,
        "prov": _provenance(w),
        "surveys": _surveys(w),
        "n_total": f"{sum(s.n for s in data.surveys):,}",
        "themes": themes,
        "charts": by_id,
        "n_tests": len(compared),
        "who": sections,
        "who_sentences": who_sentences[:6],
        "n_who_sentences": len(who_sentences),
        "quiet_areas": quiet_areas,
        "trends": trend,
        "trend_sentences": trend_sentences,
        "correction": {"holm": "Holm", "bh": "Benjamini–Hochberg", "fdr_bh":
                       "Benjamini–Hochberg", "bonferroni": "Bonferroni",
                       "none": "no"}.get(data.correction, data.correction),
        "level": f"{100 * data.comparison_level:.0f}%",
        "ci_methods": [CI_METHODS.get(m, "another method") for m in methods],
        "matrix": _matrix(w),
        "weighting": _weighting(w),
        "weighting_effect": _weighting_effect(w),
        "flagged": len({name for s in data.surveys for name, _ in s.flagged}),
        "rules": data.rules,
        "questionnaire": questionnaire,
    }
    return context, rendered


def render_report(source: RunResult | ReportData, *, charts: bool = True,
                  run_id: int | None = None, questionnaire: bool = False,
                  on_charts: Callable[[tuple[Chart, ...]], None] | None = None) -> Rendered:
    """The page and its charts. ``on_charts`` is called with the charts as soon as they
    are laid out, before the page is rendered (the writer starts their PNGs there)."""
    env = Environment(
        loader=PackageLoader("harmonise.report", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context, rendered = build_report(source, charts=charts, run_id=run_id,
                                     questionnaire=questionnaire)
    if on_charts is not None:
        on_charts(rendered)
    return Rendered(html=env.get_template("report.html").render(**context), charts=rendered)


def build_context(source: RunResult | ReportData, *, charts: bool = True,
                  run_id: int | None = None) -> dict[str, Any]:
    """The template's values (kept for callers of the earlier API)."""
    return build_report(source, charts=charts, run_id=run_id)[0]


def render_html(source: RunResult | ReportData, *, charts: bool = True,
                run_id: int | None = None, questionnaire: bool = False) -> str:
    return render_report(source, charts=charts, run_id=run_id,
                         questionnaire=questionnaire).html
