"""Findings in words: the theme sections and the front page's sentences (pure).

Everything here reads :class:`~harmonise.report.data.ReportData` and returns plain values
for the template, worded by :mod:`harmonise.report.words`: figures with their intervals,
the comparisons that hold, and a sentence for each that does not — made from the reason
codes :func:`harmonise.compare.pairs.compare` recorded, never from its prose.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections import Counter
from typing import Any

import pandas as pd

from harmonise.report import words
from harmonise.report.charts import Dot, DotChart, Panel
from harmonise.report.data import ReportData


def _f(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _codes(value: Any) -> list[str]:
    return [c for c in str(value).split(";") if c] if isinstance(value, str) else []


def predicate(label: str) -> str:
    """An indicator label as the end of a sentence: '% feeling very or fairly safe walking
    alone in the area after dark' -> 'feel very or fairly safe walking alone in their area
    after dark'."""
    text = re.sub(r"^%\s*", "", label.strip())
    text = re.sub(r"^of (pupils|adults|residents|young people)\s+", "", text)
    text = text.replace(" in the area", " in their area")
    first, _, rest = text.partition(" ")
    verbs = {"feeling": "feel", "saying": "say", "giving": "give", "choosing": "choose",
             "rating": "rate", "satisfied": "are satisfied"}
    if first in verbs:
        return f"{verbs[first]} {rest}".strip()
    if first == "with":
        return f"have {rest}"
    if "last 12 months" in text or first.endswith("ed") or first in ("sent",):
        return f"were {text}"
    return f"are {text}"


def finding(share: float, low: float, high: float, who: str, place: str,
            label: str, year: str = "") -> str:
    """'About 1 in 3 residents aged 18 and over in Bedford Borough (32%, 29% to 35%)
    feel very or fairly safe walking alone in their area after dark.'"""
    who = f"{who}," if "," in who else who
    head = words.share_words(share)
    head = f"{head} of" if head.endswith("half") else head  # "more than half of residents"
    text = (f"{head} {who} in {place} ({words.percent(share)}, "
            f"{words.percent(low)} to {words.percent(high)}) {predicate(label)}.")
    text = f"In {year}, {text}" if year else text
    return text[:1].upper() + text[1:]


def _notes(data: ReportData) -> dict[tuple[str, str, str], tuple[str, bool]]:
    return {(s.ref, i.concept, i.option): (words.note(data.schema, i.note), i.routed)
            for s in data.surveys for i in s.items}


def routed_note(concept: str, n: Any) -> str:
    who = words.ROUTED_TO.get(concept, "some respondents only")
    base = "" if pd.isna(n) else f", n = {int(n):,}"
    return f"Asked of {who}{base}"


class Wording:
    """Names and lookups for one report (built once per render)."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.names = words.survey_names(data.surveys, data.schema)
        waves = Counter((s.csp, s.population) for s in data.surveys)
        self.year = {s.ref: s.wave if waves[(s.csp, s.population)] > 1 else ""
                     for s in data.surveys}
        self.meta = {s.ref: s for s in data.surveys}
        self.notes = _notes(data)
        self.theme_of = {c.id: c.theme for c in data.schema.concepts}
        self.concept_of = {i.id: i.concept for i in data.schema.indicators}

    def short(self, ref: Any) -> str:
        name = self.names.get(str(ref))
        return name.short if name else "another survey"

    def full(self, ref: Any) -> str:
        name = self.names.get(str(ref))
        return name.full if name else "another survey"

    def place(self, ref: Any) -> str:
        name = self.names.get(str(ref))
        return name.partnership if name else "another area"

    def population(self, ref: Any) -> str:
        meta = self.meta.get(str(ref))
        return words.population(self.data.schema, meta.population) if meta else "respondents"

    def side(self, row: pd.Series, tag: str) -> words.Side:
        concept = self.concept_of.get(str(row["indicator"]), "")
        concept_scale = ""
        with contextlib.suppress(KeyError):
            concept_scale = self.data.schema.concept(concept).scale
        scale_id = str(row.get(f"{tag}_scale", "") or "")
        scale_id = "" if scale_id == "nan" else scale_id
        return words.Side(
            name=self.short(row[tag]), population=self.population(row[tag]),
            grade=str(row[f"{tag}_grade"]),
            scale=words.scale(self.data.schema, scale_id, concept_scale))


def comparisons(w: Wording) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(compared, not compared) rows in words, each tagged with its theme."""
    compared, refused = [], []
    for _, c in w.data.comparisons.iterrows():
        a, b = w.side(c, "a"), w.side(c, "b")
        common = str(c.get("common_age", "") or "")
        common = "" if common == "nan" else common
        rec: dict[str, Any] = {
            "theme": w.theme_of.get(w.concept_of.get(str(c["indicator"]), ""), ""),
            "label": str(c["label"]), "a_name": a.name, "b_name": b.name,
            "a_pct": words.percent(_f(c["a_estimate"])),
            "b_pct": words.percent(_f(c["b_estimate"])),
        }
        if not bool(c["compared"]):
            codes = _codes(c.get("reason_codes"))
            rec["reason"] = (words.refusal(codes, a, b, common) if codes or
                             "reason_codes" in c.index else
                             "The two surveys do not meet the rules for a fair comparison.")
            refused.append(rec)
            continue
        sig = bool(c["significant"]) if pd.notna(c["significant"]) else False
        diff = _f(c["difference"])
        p = _f(c["p_adjusted"])
        if sig:
            more = a.name if diff > 0 else b.name
            verdict = f"a real difference, higher in {more}."
            verdict = verdict[:1].upper() + verdict[1:]
        else:
            verdict = ("No clear difference once chance and the number of comparisons are "
                       "allowed for.")
        rec |= {
            "significant": sig, "verdict": verdict,
            "diff": _difference_words(diff, _f(c["ci_low"]), _f(c["ci_high"]), a.name, b.name),
            "p": "–" if math.isnan(p) else ("below 0.001" if p < 0.001 else f"{p:.3f}"),
            "grades": f"{words.grade(a.grade)}; {words.grade(b.grade)}",
            "caveats": words.caveats(_codes(c.get("caveat_codes")), a, b, common),
            "sentence": (f"{words.percent(_f(c['a_estimate']))} against "
                         f"{words.percent(_f(c['b_estimate']))}; "
                         + verdict[:1].lower() + verdict[1:]),
        }
        compared.append(rec)
    return compared, refused


def _difference_words(diff: float, low: float, high: float, a: str, b: str) -> str:
    """The difference in one direction with its interval in the same direction ("Luton 31
    points higher (26 to 36)"), never a positive size beside a negative interval."""
    if math.isnan(diff):
        return "–"
    if diff > 0:
        higher, lo, hi = a, 100 * low, 100 * high
    else:
        higher, lo, hi = b, -100 * high, -100 * low
    return f"{higher} {100 * abs(diff):.0f} points higher ({lo:.0f} to {hi:.0f})"


def comparison_words(w: Wording, c: pd.Series) -> tuple[str, str]:
    """(why not compared, caveats) of one comparisons row in words, for the workbook."""
    a, b = w.side(c, "a"), w.side(c, "b")
    common = str(c.get("common_age", "") or "")
    common = "" if common == "nan" else common
    why = "" if bool(c["compared"]) else words.refusal(_codes(c.get("reason_codes")), a, b,
                                                        common)
    return why, "; ".join(words.caveats(_codes(c.get("caveat_codes")), a, b, common))


def trend_words(w: Wording, r: pd.Series) -> tuple[str, str]:
    """(why not compared, what changed in the question) of one trends row, in words."""
    try:
        concept_scale = w.data.schema.concept(w.concept_of.get(str(r["indicator"]), "")).scale
    except KeyError:
        concept_scale = ""
    scales = [words.scale_short(w.data.schema, str(r.get(k, "") or "").replace("nan", ""),
                                concept_scale) for k in ("from_scale", "to_scale")]
    why = "" if bool(r["computed"]) else words.trend_refusal(_codes(r.get("reason_codes")),
                                                             *scales)
    return why, words.question_change(_codes(r.get("change_codes")))


def _overall(data: ReportData) -> pd.DataFrame:
    est = data.estimates
    return est[(est["group_var"] == "all") & est["weighted"].astype(bool)]


def theme_rows(w: Wording, theme_id: str) -> pd.DataFrame:
    ids = [c.id for c in w.data.schema.concepts if c.theme == theme_id]
    rows = _overall(w.data)
    return rows[rows["concept"].isin(ids)]


def _label(row: pd.Series, data: ReportData) -> str:
    """An indicator row's label; a multi-select option as its option text."""
    if str(row["option"]):
        return str(row["label"]).split(": ")[-1]
    return str(row["label"])


def table_rows(w: Wording, rows: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    order = {i.id: k for k, i in enumerate(w.data.schema.indicators)}
    rows = rows.assign(_o=rows["indicator"].map(order)).sort_values(
        ["_o", "option", "crosswalk"], kind="stable")
    for _, r in rows.iterrows():
        note, routed = w.notes.get((str(r["crosswalk"]), str(r["concept"]), str(r["option"])),
                                   ("", False))
        suppressed = bool(r["suppressed"])
        n = r["n"]
        out.append({
            "label": str(r["label"]), "survey": w.short(r["crosswalk"]),
            "grade": words.grade(str(r["comparability"])),
            "grade_class": str(r["comparability"]).replace(" ", "-"),
            "suppressed": suppressed,
            "pct": words.percent(_f(r["estimate"]), 1),
            "ci": f"{words.percent(_f(r['ci_low']), 1)} to {words.percent(_f(r['ci_high']), 1)}",
            "n": ("[c]" if suppressed else "under 10") if pd.isna(n) else f"{int(n):,}",
            "base": routed_note(str(r["concept"]), n) if routed else "All respondents",
            "note": note,
        })
    return out


def theme_chart(w: Wording, theme_id: str, title: str, rows: pd.DataFrame) -> DotChart | None:
    """Per indicator (and option) a panel; per survey a dot shaped by its grade."""
    if rows.empty:
        return None
    panels = []
    order = {i.id: k for k, i in enumerate(w.data.schema.indicators)}
    keys = (rows.assign(_o=rows["indicator"].map(order))
            .sort_values(["_o", "option"], kind="stable")[["indicator", "option"]]
            .drop_duplicates())
    for ind, opt in keys.itertuples(index=False):
        grp = rows[(rows["indicator"] == ind) & (rows["option"] == opt)].sort_values("crosswalk")
        first = grp.iloc[0]
        dots = tuple(Dot(label=w.short(r["crosswalk"]),
                         value=math.nan if bool(r["suppressed"]) else _f(r["estimate"]),
                         low=_f(r["ci_low"]), high=_f(r["ci_high"]),
                         style=str(r["comparability"]))
                     for _, r in grp.iterrows())
        routed = [f"{w.short(r['crosswalk'])}: " + routed_note(str(r["concept"]), r["n"])
                  for _, r in grp.iterrows()
                  if w.notes.get((str(r["crosswalk"]), str(r["concept"]), str(r["option"])),
                                 ("", False))[1]]
        title_text = _label(first, w.data)
        if opt:
            title_text = f"{str(first['label']).split(': ')[0]}: {title_text}"
        panels.append(Panel(title=title_text.lstrip("% ").capitalize(), dots=dots,
                            note="; ".join(routed)))
    figures = "; ".join(
        f"{p.title}: " + ", ".join(
            f"{d.label} {'suppressed' if math.isnan(d.value) else words.percent(d.value)}"
            for d in p.dots) for p in panels)
    alt = (f"Dot-and-interval chart, {title}: each survey's percentage with its 95% "
           f"confidence interval. {figures}.")
    return DotChart(id=f"theme-{theme_id.replace('_', '-')}", title=title, panels=tuple(panels),
                    legend="grade", alt=alt)


def headlines(w: Wording, theme_id: str) -> list[str]:
    """One sentence per survey: its first published single-answer indicator of the theme,
    or for a multi-select question the three options chosen most often."""
    rows = theme_rows(w, theme_id)
    rows = rows[~rows["suppressed"].astype(bool) & rows["estimate"].notna()]
    out: list[str] = []
    order = {i.id: k for k, i in enumerate(w.data.schema.indicators)}
    for ref in [s.ref for s in w.data.surveys]:
        mine = rows[rows["crosswalk"] == ref]
        if mine.empty:
            continue
        mine = mine.assign(_o=mine["indicator"].map(order)).sort_values("_o", kind="stable")
        single = mine[mine["option"] == ""]
        if not single.empty:
            r = single.iloc[0]
            sentence = finding(_f(r["estimate"]), _f(r["ci_low"]), _f(r["ci_high"]),
                               w.population(ref), w.place(ref), str(r["label"]), w.year[ref])
            if str(r.get("comparability", "")) in ("proxy", "not comparable"):
                # a board must not quote it as the common measure
                sentence = sentence.rstrip(".") + (
                    " (asked with a related question, not the common measure itself).")
            out.append(sentence)
            continue
        top = mine.sort_values("estimate", ascending=False).head(3)
        first = top.iloc[0]
        items = [f"{_label(r, w.data).lower()} ({words.percent(_f(r['estimate']))})"
                 for _, r in top.iterrows()]
        routed = w.notes.get((ref, str(first["concept"]), str(first["option"])), ("", False))
        who = (words.ROUTED_TO.get(str(first["concept"]), "some respondents only")
               if routed[1] else w.population(ref))
        try:
            head = w.data.schema.concept(str(first["concept"])).label
        except KeyError:
            head = str(first["label"]).split(": ")[0].lstrip("% ")
        base = "" if pd.isna(first["n"]) else f", {int(first['n']):,} answers"
        head = head[:1].lower() + head[1:].replace(" you ", " them ")
        out.append(f"{w.short(ref)}, {head}: most often {words.and_list(items)} (asked of "
                   f"{who}{base}).")
    return out
