"""The sample-size plan for the joint survey, and its document content (pure).

:func:`build_plan` puts together, for each form of the joint survey (adults, young
people): the design effect each partnership is planned with
(:func:`~harmonise.questionnaire.measure.planning_deffs`), the respondents and invitations
each partnership needs for the power goal (:func:`~harmonise.questionnaire.samplesize.
plan_partnership`), every allocation of a fixed total with its margins of error, and the
transition plan (:func:`~harmonise.questionnaire.transition.plan_transition`).

:func:`plan_document` and :func:`bridge_document` turn a plan and a bridge into
:class:`Document` sections (headings, paragraphs, tables of plain values), which
:mod:`harmonise.questionnaire.plan_write` renders as Markdown, HTML and XLSX.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from harmonise.questionnaire.bridge import Bridge
from harmonise.questionnaire.measure import FORMS, PlanningDeff, SurveyDesignEffect
from harmonise.questionnaire.samplesize import (
    ALLOCATION_METHODS,
    Allocation,
    PartnershipPlan,
    PowerGoal,
    Stratum,
    compare_allocations,
    plan_partnership,
)
from harmonise.questionnaire.transition import TransitionPlan

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str  #: sheet name (≤ 31 characters)
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    #: columns shown on the page (HTML, Markdown); every column when empty (XLSX: always all)
    page_columns: tuple[int, ...] = ()
    #: page columns (indices into what is shown) whose "; "-separated parts go on separate
    #: lines on the page
    list_columns: tuple[int, ...] = ()

    def on_page(self) -> tuple[tuple[str, ...], tuple[tuple[Cell, ...], ...]]:
        keep = self.page_columns or tuple(range(len(self.headers)))
        return (tuple(self.headers[k] for k in keep),
                tuple(tuple(row[k] for k in keep) for row in self.rows))


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]
    warning: str = ""


@dataclass(frozen=True)
class FormPlan:
    form: str
    plans: tuple[PartnershipPlan, ...]
    total: int
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class SurveyPlan:
    goal: PowerGoal
    effects: tuple[SurveyDesignEffect, ...]
    deffs: tuple[PlanningDeff, ...]
    forms: tuple[FormPlan, ...]
    transition: TransitionPlan | None
    populations: Mapping[str, float]
    comparison: str = "partnerships"
    synthetic: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def build_plan(goal: PowerGoal, deffs: Sequence[PlanningDeff], populations: Mapping[str, float],
               *, effects: Sequence[SurveyDesignEffect] = (), total: int | None = None,
               methods: Sequence[str] = tuple(ALLOCATION_METHODS), power_a: float = 0.5,
               kish_i: float = 1.0, minimum: int = 0, transition: TransitionPlan | None = None,
               comparison: str = "partnerships", synthetic: bool = False) -> SurveyPlan:
    """The plan per form; ``total`` (default: the sum of what the partnerships need) is
    spread by every allocation in ``methods``."""
    forms: list[FormPlan] = []
    for form in FORMS:
        rows = [d for d in deffs if d.form == form]
        if not rows:
            continue
        plans = tuple(plan_partnership(goal, csp=d.csp, csp_name=d.csp_name, form=form,
                                       deff=d.deff, deff_source=d.source) for d in rows)
        form_total = total if total is not None else sum(p.respondents for p in plans)
        strata = [Stratum(d.csp, d.csp_name, populations[d.csp], deff=d.deff, p=goal.p)
                  for d in rows]
        allocations = compare_allocations(form_total, strata, power_a=power_a, kish_i=kish_i,
                                          minimum=minimum, alpha=goal.alpha, methods=methods)
        forms.append(FormPlan(form, plans, form_total, allocations))
    return SurveyPlan(goal=goal, effects=tuple(effects), deffs=tuple(deffs), forms=tuple(forms),
                      transition=transition, populations=dict(populations),
                      comparison=comparison, synthetic=synthetic)


def _pct(x: float) -> float:
    return round(100 * x, 1)


SYNTHETIC_WARNING = ("The design effects were measured on the bundled SYNTHETIC surveys: the "
                     "numbers show the method, not a recommendation for Bedfordshire.")


def plan_document(plan: SurveyPlan) -> Document:
    """The plan as headed sections and tables (what the board reads)."""
    g = plan.goal
    what = ("two partnerships" if plan.comparison == "partnerships"
            else "two waves of one partnership")
    sections: list[Section] = []
    sections.append(Section("Goal", (
        f"Detect a difference of {_pct(g.difference):g} points around {_pct(g.p):g}% between "
        f"{what} (two independent samples) with {_pct(g.power):g}% power in a two-sided test "
        f"at the {_pct(g.alpha):g}% level, then allow for the design effect of each "
        f"partnership's sample and a {_pct(g.response_rate):g}% response rate.",
        "Sample size per group under simple random sampling: statsmodels' "
        "samplesize_proportions_2indep_onetail, the formula of R's power.prop.test "
        "(checked against R in the test suite). Margin of error: half-width of the 95% "
        "interval of a proportion at p with the design effect.",
    )))
    if plan.effects:
        sections.append(Section(
            "Design effects measured on the current surveys",
            ("Kish's weighting effect n·Σw²/(Σw)² of each survey's final weights; for the "
             "school sample the ANOVA intra-class correlation (median over its indicators) "
             "and the clustering effect 1 + (m − 1)·ICC; and the median full design effect "
             "of its indicators from the estimate stage (weighting, calibration and "
             "clustering).",),
            (Table("Design effects", (
                "Survey", "Partnership", "Population", "Respondents", "Kish deff",
                "Schools", "Pupils per school", "ICC", "Clustering deff", "Measured deff"),
                tuple((e.survey, e.csp_name, e.population, e.n, round(e.kish, 3), e.clusters,
                       None if e.mean_cluster_size is None else round(e.mean_cluster_size, 1),
                       None if e.icc is None else round(e.icc, 4), round(e.clustering, 3),
                       None if e.measured is None else round(e.measured, 3))
                      for e in plan.effects)),)))
    for fp in plan.forms:
        name = FORMS.get(fp.form, fp.form)
        sections.append(Section(
            f"{name}: respondents per partnership",
            (f"Respondents each partnership needs to detect {_pct(g.difference):g} points "
             f"(n per group {fp.plans[0].n_srs:,.0f} under simple random "
             "sampling, times the design effect), invitations at the response rate, and the "
             "margin of error that gives.",),
            (Table(f"Needed {fp.form}"[:31], (
                "Partnership", "Design effect", "Where the design effect comes from",
                "Respondents", "Invitations", "Margin of error (± points)",
                "Effective sample size"),
                tuple((p.csp_name, round(p.deff, 3), p.deff_source, p.respondents, p.invited,
                       _pct(p.margin), round(p.effective_n)) for p in fp.plans)),)))
        clustered = [d for d in plan.deffs if d.form == fp.form and d.icc is not None]
        if clustered:
            sizes = sorted({10.0, 20.0, 30.0, 60.0, *(d.cluster_size or 30.0
                                                      for d in clustered)})
            n_srs = fp.plans[0].n_srs
            sections.append(Section(
                f"{name}: pupils per school",
                ("The clustering effect grows with the pupils taken in each school: "
                 "1 + (m − 1) × ICC. Respondents each partnership needs for the same goal "
                 "with m pupils per school (same ICC and weighting effect); fewer pupils in "
                 "more schools cost fewer pupils in all.",),
                (Table(f"Pupils per school {fp.form}"[:31],
                       ("Pupils per school", *(f"{d.csp_name}: design effect" for d in
                                               clustered),
                        *(f"{d.csp_name}: respondents" for d in clustered)),
                       tuple((round(m), *(round(d.with_cluster_size(m), 3) for d in clustered),
                              *(math.ceil(n_srs * d.with_cluster_size(m) - 1e-9)
                                for d in clustered)) for m in sizes)),)))
        rows: list[tuple[Cell, ...]] = []
        for a in fp.allocations:
            for s, n, m in zip(a.strata, a.n, a.margins, strict=True):
                rows.append((a.method, a.parameter, s.name, int(s.population), n,
                             _pct(m), None))
            rows.append((a.method, a.parameter, "County", int(sum(s.population
                                                                  for s in a.strata)),
                         a.total, _pct(a.county_margin), round(a.county_deff, 3)))
        sections.append(Section(
            f"{name}: allocations of {fp.total:,} respondents",
            (*(f"{m}: {ALLOCATION_METHODS[m]}." for m in dict.fromkeys(
                a.method for a in fp.allocations)),
             "Whole respondents adding up to the total exactly (largest remainders); the "
             "county margin weights partnerships by population. 'County deff' is the "
             "loss against a proportional allocation of the same total."),
            (Table(f"Allocation {fp.form}"[:31], (
                "Allocation", "Parameter", "Partnership", "Population", "Respondents",
                "Margin of error (± points)", "County deff (allocation)"),
                tuple(rows)),)))
    t = plan.transition
    if t is not None:
        sections.append(Section(
            "Transition plan: the overlap wave",
            (f"In the overlap wave each partnership fields its old form and the joint form "
             f"side by side, respondents randomised between them ({_pct(t.legacy_share):g}% "
             "on the old form; pupils randomised within each school so clustering cancels "
             "out of the difference). The difference between the arms on each item below is "
             "the break in series, published with its interval and used to join the series.",
             f"Arms are sized for the break to ± {_pct(t.precision):g} points "
             f"({100 - _pct(t.alpha):g}% interval) and, alternatively, to detect a break of "
             f"{_pct(t.detect):g} points with {_pct(t.power):g}% power, at p = {t.p:g} with "
             "the weighting design effect."),
            (Table("Overlap items", (
                "Partnership", "Form", "New question", "Indicator", "Old item(s)",
                "Old survey", "Grade old → new", "What changes", "Expected effect"),
                tuple((i.csp_name, i.form, i.new_question, i.indicator_label,
                       i.legacy_items, i.legacy_crosswalk, i.grade, i.changes, i.direction)
                      for i in t.items), list_columns=(7,)),
             Table("Overlap arms", (
                 "Partnership", "Form", "Items", "Design effect",
                 f"Old form, ± {_pct(t.precision):g} pts", f"Joint form, ± {_pct(t.precision):g}"
                 " pts", f"Old form, detect {_pct(t.detect):g} pts",
                 f"Joint form, detect {_pct(t.detect):g} pts"),
                 tuple((a.csp_name, a.form, a.items, round(a.deff, 3),
                        a.legacy_arm_precision, a.joint_arm_precision, a.legacy_arm_power,
                        a.joint_arm_power) for a in t.arms))),
        ))
        sections.append(Section(
            "Where the plan follows practice",
            tuple(f"{p.name}. {p.what} ({p.source}.) Here: {p.followed}"
                  for p in t.practice)))
    return Document(title="Joint community safety survey: sample size, allocation and "
                          "transition plan", sections=tuple(sections),
                    warning=SYNTHETIC_WARNING if plan.synthetic else "")


BRIDGE_HEADERS = (
    "Status", "New question", "Concept", "Joint population", "New wording", "New scale",
    "Old survey", "Old wave", "Old item(s)", "Old wording", "Old scale", "Old population",
    "Old mode", "Grade before (old vs schema)", "Grade old → new", "What changes",
    "Expected effect on the series", "Note",
)


#: Bridge columns on the page (the XLSX has them all); wordings are in the XLSX.
BRIDGE_PAGE = ("Status", "New question", "Old survey", "Old item(s)", "Old scale",
               "Grade before (old vs schema)", "Grade old → new", "What changes",
               "Expected effect on the series", "Note")
CHANGES = BRIDGE_PAGE.index("What changes")



def _short(name: str) -> str:
    """A partnership's name as a sheet name (Excel allows 31 characters): without
    "Community Safety Partnership", so "Luton Community Safety Partners" does not happen."""
    short = re.sub(r"\s*Community Safety Partnership\s*$", "", name).strip() or name
    return short[:31]

def bridge_document(bridge: Bridge, *, synthetic: bool = False) -> Document:
    """One section and table per partnership, plus how to read the grades and arrows."""
    sections = [Section("How to read the bridge", (
        "One row per new question ← old item(s) of each partnership's latest released "
        "crosswalk. Status: bridged (the old item feeds the new question), dropped (the "
        "concept is not in the joint survey), not carried (a column the crosswalk left "
        "unmapped: free text or identifying), new (no old item: the series starts).",
        "'Grade before' is the crosswalk's grade of the old item against the schema concept; "
        "'Grade old → new' caps it for a change of population (proxy) or mode (close). "
        "Arrows give the expected effect of each change on the headline share: ↑ higher, "
        "↓ lower, ? unclear (measure it in the overlap wave).",
        f"Crosswalks bridged: {', '.join(bridge.crosswalks)}."
        + (f" Earlier waves (their series continue through the later wave): "
           f"{', '.join(bridge.earlier)}." if bridge.earlier else ""),
    ))]
    for csp, name in bridge.partnerships():
        rows = tuple((r.status, r.new_question, r.concept, r.joint_population, r.joint_wording,
                      r.joint_scale, r.legacy_crosswalk, r.legacy_wave, r.legacy_items,
                      r.legacy_wording, r.legacy_scale, r.legacy_population, r.legacy_mode,
                      r.grade_before, r.grade, r.changes_text, r.direction, r.note)
                     for r in bridge.for_partnership(csp))
        counts = {s: sum(1 for r in bridge.for_partnership(csp) if r.status == s)
                  for s in ("bridged", "dropped", "not carried", "new")}
        page = tuple(BRIDGE_HEADERS.index(h) for h in BRIDGE_PAGE)
        sections.append(Section(name, (", ".join(f"{v} {k}" for k, v in counts.items()) + ".",),
                                (Table(_short(name), BRIDGE_HEADERS, rows, page_columns=page,
                                       list_columns=(CHANGES,)),)))
    return Document(title="Joint community safety survey: bridge from the old questions",
                    sections=tuple(sections),
                    warning="The old surveys are SYNTHETIC samples: the bridge shows the "
                            "method on invented instruments." if synthetic else "")


__all__ = [
    "BRIDGE_HEADERS",
    "Document",
    "FormPlan",
    "Section",
    "SurveyPlan",
    "Table",
    "bridge_document",
    "build_plan",
    "plan_document",
]
