"""The bridge from each partnership's old questions to the joint survey (pure).

For every partnership, one row per new question ← old item(s): which released crosswalk
item(s) fed the concept until now, the comparability grade of the old item against the
new question, **what changes** (wording, scale points and midpoint, place and time
reference, reference period, population, mode, routing, options) and the **expected
direction of the effect on the series** of the concept's headline indicator. Every item
of every partnership's latest released crosswalk appears: bridged to a new question, or
listed as dropped; columns a crosswalk left unmapped (free text, identifying) are listed
as not carried. New questions a partnership never asked are listed as new series.

The joint survey comes in as a plain list of :class:`JointItem` (concept id, the form's
population, the question's name), so this module does not depend on the questionnaire
spec's model; the new question's wording and scale are the schema concept's (the spec
names concepts; wordings and scales come from the schema).

Direction rules (each change gives +1 higher, −1 lower or 0 unclear for the share the
headline indicator counts; see docs/questionnaire.md):

- a 'neither' midpoint removed: +1 (the midpoint took answers from both sides, so the
  top-two share rises); added: −1;
- otherwise a verbal scale whose counted categories are a larger share of its points
  (3-point 'big problem' → 4-point 'very or fairly big'): +1; smaller: −1; numeric scales
  (0–10) against verbal ones: 0;
- interviewer → self-completion: −1 for a socially desirable answer (feeling safe,
  satisfied, rating good), +1 for an undesirable or sensitive one (a problem, a harm,
  worry); self-completion → interviewer the reverse;
- 'walking alone' added to a safety question: −1 for feeling safe (a solitary scenario);
- an explicit 'in the last 12 months' added to a yes/no experience question: −1 (bounds
  recall); other wording, place, time, population, routing and option changes: 0.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from harmonise.compare.pairs import mode_family
from harmonise.errors import PlanningError
from harmonise.models.crosswalk import Crosswalk, Item
from harmonise.models.schema import GRADES, Concept, Indicator, Scale, Schema, grade_at_least

if TYPE_CHECKING:
    from harmonise.questionnaire.spec import QuestionnaireSpec

#: Status of a bridge row.
STATUSES = ("bridged", "new", "dropped", "not carried")

#: Success codes that are the socially desirable answer (higher = better for the area).
DESIRABLE = frozenset({
    "very_safe", "fairly_safe", "very_good", "good", "very_satisfied", "fairly_satisfied",
    "excellent", "very_confident", "fairly_confident", "agree", "strongly_agree",
    "7", "8", "9", "10",
})
#: Success codes that report something bad or sensitive (a problem, a harm, a worry).
UNDESIRABLE_PARTS = ("big", "unsafe", "worried", "concerned", "certain", "fairly_sure",
                     "none", "poor", "yes", "anxious", "problem")

#: Places and times named in question wordings (first match wins), for the facet check.
PLACES = (
    ("town_centre", ("town centre", "city centre")),
    ("home", ("at home", "in your home", "alone in your home")),
    ("school", ("at school", "in school")),
    ("where_you_live", ("where you live",)),
    ("area", ("this area", "your area", "local area", "in your neighbourhood", "your local")),
)
TIMES = (
    ("dark", ("after dark", "at night", "in the dark", "night-time", "evening")),
    ("day", ("during the day", "in the day", "daytime", "in daylight")),
)
PERIODS = (
    ("last_12_months", ("last 12 months", "past 12 months", "past year", "last year")),
    ("nowadays", ("nowadays",)),
    ("at_the_moment", ("at the moment", "currently", "these days")),
    ("yesterday", ("yesterday",)),
)


@dataclass(frozen=True)
class JointItem:
    """One question of the joint survey: a schema concept asked of a form's population."""

    concept: str
    population: str
    question: str = ""  #: question number or name in the form (default: the concept id)
    routed: bool = False  #: asked only of some respondents (e.g. reasons if felt unsafe)
    mode: str = "self-completion"  #: mode of the form that asks it

    @property
    def name(self) -> str:
        return self.question or self.concept


@dataclass(frozen=True)
class Change:
    """One way the question changes, and its expected effect on the headline share."""

    dimension: str
    old: str
    new: str
    effect: int  #: +1 higher, -1 lower, 0 unclear
    why: str

    def __str__(self) -> str:
        arrow = {1: "↑", -1: "↓", 0: "?"}[self.effect]
        return f"{self.dimension}: {self.old} → {self.new} ({arrow} {self.why})"


@dataclass(frozen=True)
class BridgeRow:
    csp: str
    csp_name: str
    status: str
    concept: str
    new_question: str = ""
    joint_population: str = ""
    joint_wording: str = ""
    joint_scale: str = ""
    indicator: str = ""
    indicator_label: str = ""
    legacy_crosswalk: str = ""
    legacy_wave: str = ""
    legacy_items: str = ""
    legacy_wording: str = ""
    legacy_scale: str = ""
    legacy_population: str = ""
    legacy_mode: str = ""
    grade_before: str = ""  #: the crosswalk's grade: old item against the schema concept
    grade: str = ""  #: old item against the new question (weakest of the caps)
    changes: tuple[Change, ...] = ()
    direction: str = ""
    note: str = ""

    @property
    def changes_text(self) -> str:
        return "; ".join(str(c) for c in self.changes)


@dataclass(frozen=True)
class Bridge:
    """Bridge rows of every partnership, plus the crosswalks they came from."""

    rows: tuple[BridgeRow, ...]
    crosswalks: tuple[str, ...]  #: refs of the latest released crosswalks used
    earlier: tuple[str, ...]  #: refs of earlier waves not bridged (their series ends there)

    def partnerships(self) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for r in self.rows:
            seen.setdefault(r.csp, r.csp_name)
        return list(seen.items())

    def for_partnership(self, csp: str) -> tuple[BridgeRow, ...]:
        return tuple(r for r in self.rows if r.csp == csp)


# --- small pure helpers ---------------------------------------------------------------


def population_family(population: str) -> str:
    """``adults`` or ``young_people`` from a population id (else the id itself)."""
    if population.startswith("adult"):
        return "adults"
    if "young" in population or "pupil" in population:
        return "young_people"
    return population


def _find(text: str, table: Iterable[tuple[str, tuple[str, ...]]]) -> str:
    low = text.lower()
    return next((code for code, words in table if any(w in low for w in words)), "")


def facets(text: str) -> dict[str, str]:
    """Place, time, reference period and 'walking alone' named in a question wording."""
    return {"place": _find(text, PLACES), "time": _find(text, TIMES),
            "period": _find(text, PERIODS),
            "alone": "alone" if re.search(r"\balone\b", text.lower()) else ""}


def _normal(text: str) -> str:
    """Wording for comparison: no instructions in brackets, case, punctuation or spacing."""
    text = re.sub(r"\([^)]*\)", " ", text.lower().replace("’", "'"))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def valence(indicator: Indicator | None, scale: str) -> int:
    """+1 when the indicator counts a desirable answer, -1 an undesirable one, 0 unknown."""
    if indicator is None or scale not in indicator.success:
        return 0
    codes = indicator.success[scale]
    if all(c in DESIRABLE for c in codes):
        return 1
    if all(any(part in c for part in UNDESIRABLE_PARTS) for c in codes):
        return -1
    return 0


def _midpoint(scale: Scale) -> bool:
    return any(c.code == "neither" or c.label.lower().startswith("neither")
               for c in scale.categories)


def _numeric(scale: Scale) -> bool:
    return bool(scale.categories) and all(c.code.isdigit() for c in scale.categories)


def _scale_text(scale: Scale) -> str:
    mid = "with a midpoint" if _midpoint(scale) else "no midpoint"
    return f"{scale.id} ({len(scale.categories)} points, {mid})"


def _scale_change(old: Scale, new: Scale, indicator: Indicator | None) -> list[Change]:
    """One change for a different scale: points and midpoint, with the direction rule."""
    if old.id == new.id:
        return []
    effect, why = 0, "different answer categories: measure the break"
    if _midpoint(old) != _midpoint(new):
        effect = 1 if _midpoint(old) else -1
        why = ("no 'neither' midpoint to hold answers, so the top-two share usually rises"
               if effect > 0 else "a 'neither' midpoint takes answers from both sides, so "
               "the top-two share usually falls")
    elif _numeric(old) != _numeric(new):
        why = "a verbal scale against a 0–10 scale: thresholds do not correspond"
    elif (indicator is not None and old.id in indicator.success
          and new.id in indicator.success):
        share_old = len(indicator.success[old.id]) / len(old.categories)
        share_new = len(indicator.success[new.id]) / len(new.categories)
        if share_new != share_old:
            effect = 1 if share_new > share_old else -1
            why = (f"the counted answers are {len(indicator.success[new.id])} of "
                   f"{len(new.categories)} instead of {len(indicator.success[old.id])} of "
                   f"{len(old.categories)}")
    return [Change("scale", _scale_text(old), _scale_text(new), effect, why)]


def _grade_min(*grades: str) -> str:
    return max(grades, key=GRADES.index)


def _stem(items: Sequence[Item]) -> str:
    """The question text of an item (a multi-select option's text without the option)."""
    texts = [i.question or i.source for i in items]
    if len(texts) == 1 and not items[0].option:
        return texts[0]
    text = texts[0].split(" | ")[0]
    cut = max(text.find("?"), text.rfind(")"))
    return text[: cut + 1] if cut > 0 else text


@dataclass(frozen=True)
class _Context:
    schema: Schema
    indicators: Mapping[str, Indicator]


def _changes(items: Sequence[Item], cw: Crosswalk, joint: JointItem, concept: Concept,
             ctx: _Context, grade_before: str) -> tuple[list[Change], str, str]:
    """What changes from the old item(s) to the joint question; the grade cap and note."""
    schema = ctx.schema
    indicator = ctx.indicators.get(concept.id)
    new_scale = schema.scale(concept.scale)
    old_scale = schema.scale(items[0].scale or concept.scale)
    good = valence(indicator, new_scale.id) or valence(indicator, old_scale.id)
    changes: list[Change] = []
    old_text, new_text = _stem(items), concept.wording
    if items[0].question is None and "?" not in old_text:
        changes.append(Change("wording", f"not recorded (column {old_text!r})",
                              "schema wording", 0,
                              "the crosswalk holds no wording: check the old questionnaire"))
        old_text = ""
    elif _normal(old_text) != _normal(new_text):
        changes.append(Change("wording", "old wording", "schema wording", 0,
                              "a different wording (both in this row): measure the break"))
    changes += _scale_change(old_scale, new_scale, indicator)
    f_new = facets(new_text)
    f_old = facets(old_text) if old_text else f_new
    for dim, name in (("place", "place reference"), ("time", "time reference")):
        if f_old[dim] != f_new[dim] and f_new[dim]:
            changes.append(Change(name, f_old[dim] or "not stated", f_new[dim], 0,
                                  "a different reference: measure the break"))
    if f_new["alone"] and not f_old["alone"] and concept.theme == "safety":
        changes.append(Change("wording", "not alone", "walking alone", -good if good > 0 else 0,
                              "a specific solitary scenario usually lowers feeling safe"))
    if f_old["period"] != f_new["period"] and f_new["period"]:
        effect = -1 if f_new["period"] == "last_12_months" and not f_old["period"] and \
            new_scale.id in ("yn", "yn_dk") else 0
        changes.append(Change("reference period", f_old["period"] or "not stated in the "
                              "question", f_new["period"], effect,
                              "an explicit period in each question bounds recall" if effect
                              else "a different reference period"))
    cap, note = "identical", ""
    old_pop, new_pop = cw.population, joint.population
    if old_pop != new_pop:
        same = population_family(old_pop) == population_family(new_pop)
        if not same or population_family(new_pop) != "adults":
            cap = "proxy"
        changes.append(Change("population", old_pop, new_pop, 0,
                              "adults of a slightly different age range" if same and cap ==
                              "identical" else "a different population"))
    elif (population_family(old_pop) != population_family(concept.population)
          and concept.population != "all" and not grade_at_least(grade_before, "close")):
        note = (f"the crosswalk graded this item against the schema concept's population "
                f"({concept.population}); against the joint {new_pop} question the grade may "
                "be higher: confirm in the overlap wave")
    m_old, m_new = mode_family(cw.mode), mode_family(joint.mode)
    if m_old != m_new:
        if "unknown" not in (m_old, m_new):
            cap = _grade_min(cap, "close")
        effect = 0
        if "unknown" not in (m_old, m_new):
            effect = -good if m_new == "self-completion" else good
        changes.append(Change("mode", m_old, m_new, effect,
                              "interviewers draw more socially desirable answers"
                              if effect else "a different mode"))
    old_routed = any("not_asked" in i.missing.values() for i in items)
    if old_routed != joint.routed:
        changes.append(Change("routing", "routed" if old_routed else "asked of all",
                              "routed" if joint.routed else "asked of all", 0,
                              "the base changes"))
    if concept.options:
        old_opts = {i.option for i in items if i.option}
        new_opts = [o.code for o in concept.options if o.code not in old_opts]
        if new_opts:
            changes.append(Change("options", f"{len(old_opts)} options",
                                  f"{len(concept.options)} options (new: "
                                  f"{', '.join(new_opts)})", 0,
                                  "more options can change each option's share"))
    return changes, cap, note


def _direction(changes: Sequence[Change], indicator: Indicator | None) -> str:
    label = indicator.label if indicator else "the headline share"
    effects = {c.effect for c in changes if c.effect}
    if not changes:
        return "none expected"
    if not effects:
        return f"unclear for {label}: measure the break"
    if effects == {1}:
        return f"higher {label}"
    if effects == {-1}:
        return f"lower {label}"
    ups = ", ".join(c.dimension for c in changes if c.effect > 0)
    downs = ", ".join(c.dimension for c in changes if c.effect < 0)
    return f"mixed for {label}: {ups} ↑, {downs} ↓ — measure the break"


def latest_crosswalks(crosswalks: Iterable[Crosswalk]) -> tuple[list[Crosswalk], list[Crosswalk]]:
    """Released crosswalks split into the latest wave per partnership × instrument and the
    earlier waves (their series continue only through the latest one)."""
    groups: dict[tuple[str, str], list[Crosswalk]] = defaultdict(list)
    for cw in crosswalks:
        if cw.status == "released":
            groups[(cw.csp, cw.instrument)].append(cw)
    latest: list[Crosswalk] = []
    earlier: list[Crosswalk] = []
    for key in sorted(groups):
        ordered = sorted(groups[key], key=lambda c: (c.wave, c.version))
        latest.append(ordered[-1])
        earlier += ordered[:-1]
    return latest, earlier


def build_bridge(joint: Sequence[JointItem], schema: Schema,
                 crosswalks: Iterable[Crosswalk]) -> Bridge:
    """The bridge for every partnership with a released crosswalk (see module docstring)."""
    by_concept: dict[str, list[JointItem]] = defaultdict(list)
    for j in joint:
        try:
            schema.concept(j.concept)
        except KeyError:
            raise PlanningError(
                f"joint survey item {j.name!r} names concept {j.concept!r}, which is not in "
                f"schema {schema.ref}; add it to the schema or fix the concept id") from None
        by_concept[j.concept].append(j)
    if not by_concept:
        raise PlanningError("the joint survey lists no questions; give at least one concept")
    indicators: dict[str, Indicator] = {}
    for ind in schema.indicators:
        indicators.setdefault(ind.concept, ind)
    ctx = _Context(schema, indicators)
    latest, earlier = latest_crosswalks(crosswalks)
    rows: list[BridgeRow] = []
    partnerships: dict[str, str] = {}
    for cw in latest:
        partnerships.setdefault(cw.csp, cw.csp_name)
    covered: set[tuple[str, str, str]] = set()
    for cw in latest:
        grouped: dict[str, list[Item]] = defaultdict(list)
        for item in cw.items:
            grouped[item.concept or f"(unassigned {item.id})"].append(item)
        for concept_id, items in grouped.items():
            grade_before = _grade_min(*(i.comparability for i in items))
            base = BridgeRow(
                csp=cw.csp, csp_name=cw.csp_name, status="dropped", concept=concept_id,
                legacy_crosswalk=cw.ref, legacy_wave=cw.wave,
                legacy_items=", ".join(i.id for i in items), legacy_wording=_stem(items),
                legacy_scale=items[0].scale or "", legacy_population=cw.population,
                legacy_mode=mode_family(cw.mode), grade_before=grade_before)
            candidates = by_concept.get(concept_id, [])
            if not candidates:
                rows.append(replace(base, direction="series ends", note=f"concept "
                                    f"{concept_id!r} is not in the joint survey; the item is "
                                    "dropped"))
                continue
            family = population_family(cw.population)
            j = next((c for c in candidates if population_family(c.population) == family),
                     candidates[0])
            concept = schema.concept(concept_id)
            changes, cap, note = _changes(items, cw, j, concept, ctx, grade_before)
            headline = indicators.get(concept_id)
            rows.append(replace(
                base, status="bridged", new_question=j.name, joint_population=j.population,
                joint_wording=concept.wording, joint_scale=concept.scale,
                indicator=headline.id if headline else "",
                indicator_label=headline.label if headline else "",
                legacy_scale=items[0].scale or concept.scale,
                grade=_grade_min(grade_before, cap), changes=tuple(changes),
                direction=_direction(changes, headline), note=note))
            covered.add((cw.csp, j.concept, j.population))
        for column, reason in cw.unmapped.items():
            rows.append(BridgeRow(
                csp=cw.csp, csp_name=cw.csp_name, status="not carried", concept="",
                legacy_crosswalk=cw.ref, legacy_wave=cw.wave, legacy_items=column,
                direction="series ends", note=f"unmapped in the crosswalk: {reason}"))
    for csp, name in partnerships.items():
        for j in joint:
            if (csp, j.concept, j.population) in covered:
                continue
            concept = schema.concept(j.concept)
            headline = indicators.get(j.concept)
            rows.append(BridgeRow(
                csp=csp, csp_name=name, status="new", concept=j.concept, new_question=j.name,
                joint_population=j.population, joint_wording=concept.wording,
                joint_scale=concept.scale, indicator=headline.id if headline else "",
                indicator_label=headline.label if headline else "", direction="series starts",
                note="no earlier item in this partnership's surveys for this form"))
    order = {s: k for k, s in enumerate(STATUSES)}
    rows.sort(key=lambda r: (r.csp, order[r.status]))
    return Bridge(rows=tuple(rows), crosswalks=tuple(c.ref for c in latest),
                  earlier=tuple(c.ref for c in earlier))


def joint_items_from_spec(spec: QuestionnaireSpec, schema: Schema) -> tuple[JointItem, ...]:
    """The joint survey's questions from a checked questionnaire spec: every question of
    every form, named ``<form> Q<n> (<name>)`` as the built forms number them, routed when
    it has a ``relevant`` condition (routing or an age filter), with the form's mode."""
    from harmonise.questionnaire.layout import layout_form

    out: list[JointItem] = []
    for form in spec.forms:
        for q in layout_form(spec, schema, form.id).questions:
            out.append(JointItem(concept=q.concept, population=form.population,
                                 question=f"{form.id} Q{q.number} ({q.name})",
                                 routed=bool(q.relevant), mode=form.mode))
    return tuple(out)


def default_joint_items(schema: Schema) -> tuple[JointItem, ...]:
    """A joint survey of every schema concept, each asked of its own population (adults'
    concepts in the adult form, pupils' and young people's in the young people's form;
    ``all`` concepts in both), for use before a questionnaire spec exists."""
    out: list[JointItem] = []
    for c in schema.concepts:
        pops = ("adults_16plus", "young_people_11_18") if c.population == "all" else (
            "young_people_11_18" if population_family(c.population) == "young_people"
            else c.population,)
        out += [JointItem(concept=c.id, population=p,
                          routed=c.id == "unsafe_reasons") for p in pops]
    return tuple(out)


__all__ = [
    "STATUSES",
    "Bridge",
    "BridgeRow",
    "Change",
    "JointItem",
    "build_bridge",
    "default_joint_items",
    "facets",
    "joint_items_from_spec",
    "latest_crosswalks",
    "mode_family",
    "population_family",
    "valence",
]
