"""Codes to words: every name a reader sees in the report, and the sentences for refusals.

The pipeline passes codes between stages (population ids, scale ids, grades, subgroup
categories, comparison reason codes from :mod:`harmonise.compare` and
:mod:`harmonise.compare.trends`); this module is the one place they become English. It needs only
the schema and the report's own metadata (no pipeline import), so a stored run words its
figures exactly as a fresh one. Nothing here parses prose.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from harmonise.models.schema import Schema
from harmonise.report.data import SurveyMeta

#: Report sections per schema theme, in the order the report shows them.
THEME_TITLES: Mapping[str, str] = {
    "safety": "Feeling safe",
    "problems": "Problems in the area",
    "online": "Online harms",
    "what_helps": "What would make people feel safer",
    "wellbeing": "Wellbeing and trusted adults",
    "weapons": "Weapons",
    "priorities": "Concern about serious violence",
}

#: Comparability grades as a reader reads them (the crosswalk's grade codes on the left).
GRADE_WORDS: Mapping[str, str] = {
    "identical": "same question",
    "equivalent": "equivalent question",
    "close": "close question",
    "proxy": "proxy (shown, not compared)",
    "not comparable": "not comparable",
    "unassessed": "not yet graded",
}

#: Subgroup variables (schema demographic concepts) as breakdown titles.
GROUP_TITLES: Mapping[str, str] = {
    "sex": "Sex",
    "age_band": "Age",
    "area": "Area",
    "year_group": "School year",
}

#: Who a routed question was asked of, per schema concept (the crosswalks route these to
#: people who felt unsafe); a routed concept not listed reads "some respondents only".
ROUTED_TO: Mapping[str, str] = {
    "unsafe_reasons": "those who felt unsafe",
}

_PARTNERSHIP_SUFFIX = re.compile(r"\s+Community Safety Partnership$", re.IGNORECASE)


def partnership(csp_name: str) -> str:
    """``Bedford Borough`` from ``Bedford Borough Community Safety Partnership``."""
    return _PARTNERSHIP_SUFFIX.sub("", csp_name.strip())


def instrument(text: str) -> str:
    """An instrument's name without asides: ``Young people's community safety survey``
    from ``Young people's community safety survey, SurveyMonkey (synthetic sample)``."""
    short = re.sub(r"\s*\([^)]*\)", "", text).split(",")[0].strip()
    return short[:1].upper() + short[1:] if short else text


@dataclass(frozen=True)
class SurveyName:
    """How one survey is named: short (partnership, year) and full (with instrument)."""

    ref: str
    partnership: str
    short: str
    full: str


def population_noun(label: str) -> str:
    """'residents' from 'Residents aged 18 and over', 'secondary school pupils' from
    'Secondary school pupils, Years 7 to 11'."""
    text = re.sub(r"\s*\([^)]*\)", "", label).split(",")[0]
    text = re.split(r"\s+aged\s+", text)[0].strip()
    return text[:1].lower() + text[1:]


def survey_names(surveys: Iterable[SurveyMeta], schema: Schema | None = None
                 ) -> dict[str, SurveyName]:
    """Display names per crosswalk ref that tell every survey of the run apart.

    The short name is the partnership, with who was asked when a partnership has several
    populations (``Luton residents``, ``Luton secondary school pupils``) and the year when
    one has several waves (``Luton residents 2025``); the full name is always partnership,
    instrument and year.
    """
    metas = list(surveys)
    pops = {s.csp: set() for s in metas}  # type: dict[str, set[str]]
    for s in metas:
        pops[s.csp].add(s.population)
    per_pop = Counter((s.csp, s.population) for s in metas)
    out: dict[str, SurveyName] = {}
    for s in metas:
        place, inst = partnership(s.csp_name), instrument(s.instrument)
        short = place
        if len(pops[s.csp]) > 1:
            label = s.population
            if schema is not None:
                with contextlib.suppress(KeyError):
                    label = schema.population(s.population).label
            short = f"{place} {population_noun(label.replace('_', ' '))}"
        if per_pop[(s.csp, s.population)] > 1:
            short = f"{short} {s.wave}"
        out[s.ref] = SurveyName(ref=s.ref, partnership=place, short=short,
                                full=f"{place}: {inst}, {s.wave}")
    shorts = Counter(n.short for n in out.values())
    fulls = Counter(n.full for n in out.values())
    seen: Counter[str] = Counter()
    for ref, n in out.items():  # still alike (same partnership, people and year): say more
        if shorts[n.short] > 1:
            seen[n.full] += 1
            full = n.full if fulls[n.full] == 1 else f"{n.full} (survey {seen[n.full]})"
            out[ref] = SurveyName(ref=ref, partnership=n.partnership, short=full, full=full)
    return out


def group_phrase(schema: Schema, group_var: str, code: str) -> str:
    """A subgroup inside a sentence: 'female respondents', 'people aged 65 and over',
    'pupils in Year 7', 'people in Kempston Central'; ``rest`` is everyone else."""
    if code == "rest":
        return "everyone else in the survey"
    label = category(schema, group_var, code)
    if group_var == "sex":
        return f"{label.lower()} respondents"
    if group_var in ("age_band", "age_range"):
        return f"people aged {label.removeprefix('aged ')}"
    if group_var == "year_group":
        return f"pupils in {label}"
    if group_var == "area":
        return f"people in {label}"
    return label


def title(partnerships: Sequence[str]) -> str:
    """'Community safety perceptions: A, B and C' for the partnerships in the run."""
    names = list(dict.fromkeys(partnerships))
    return "Community safety perceptions: " + and_list(names) if names else \
        "Community safety perceptions"


def and_list(items: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def population(schema: Schema, population_id: str) -> str:
    """A population as a phrase in a sentence: 'residents aged 18 and over'."""
    try:
        label = schema.population(population_id).label
    except KeyError:
        label = population_id.replace("_", " ")
    label = re.sub(r"\s*\([^)]*\)", "", label).strip()
    return label[:1].lower() + label[1:]


def population_title(schema: Schema, population_id: str) -> str:
    """A population as a heading or table cell: 'Residents aged 18 and over'."""
    phrase = population(schema, population_id)
    return phrase[:1].upper() + phrase[1:]


def scale(schema: Schema, scale_id: str, concept_scale: str = "") -> str:
    """A response scale as words ('a 5-point safety scale with a midpoint')."""
    sid = scale_id or concept_scale
    try:
        label = schema.scale(sid).label
    except KeyError:
        return "another scale"
    return label[:1].lower() + label[1:]


def scale_short(schema: Schema, scale_id: str, concept_scale: str = "") -> str:
    """A scale's kind without its topic: '5-point with midpoint' from 'Feeling of safety,
    5-point with midpoint'."""
    return scale(schema, scale_id, concept_scale).split(", ", 1)[-1]


def grade(code: str) -> str:
    return GRADE_WORDS.get(code, code.replace("_", " "))


def category(schema: Schema, group_var: str, code: str) -> str:
    """A subgroup category: 'Female', 'Year 10', '18 to 34', '65 and over', 'Kempston
    Central' (area codes have no labels in the schema: their words are the code's)."""
    if group_var in ("sex", "year_group"):
        try:
            concept = schema.concept(group_var)
            for c in schema.scale(concept.scale).categories:
                if c.code == code:
                    return c.label
        except KeyError:
            pass
    if group_var in ("age_band", "age_range"):
        plus = re.fullmatch(r"(\d+)_?plus", code)
        if plus:
            return f"{plus.group(1)} and over"
        span = re.fullmatch(r"(\d+)_(\d+)", code)
        if span:
            return f"{span.group(1)} to {span.group(2)}"
        if code.isdigit():
            return f"aged {code}"
    words = code.replace("_", " ").strip()
    return " ".join(w[:1].upper() + w[1:] for w in words.split()) or code


def group_title(group_var: str) -> str:
    return GROUP_TITLES.get(group_var, group_var.replace("_", " ").capitalize())


def ages(text: str) -> str:
    """An age range as written by :class:`~harmonise.models.age_ranges.AgeRange`: '16-18' ->
    '16 to 18', '18+' -> '18 and over', '18' -> '18'."""
    if text.endswith("+"):
        return f"{text[:-1]} and over"
    return text.replace("-", " to ")


def percent(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # NaN
        return "–"
    return f"{100 * value:.{digits}f}%"


def share_words(value: float) -> str:
    """'about 1 in 3' for 0.32, 'nearly 3 in 5' for 0.56: the nearest simple fraction a
    councillor says aloud, and which side of it the figure lies when not close."""
    if value != value:
        return ""
    if value >= 0.95:
        return "almost all"
    if value < 0.095:
        return "fewer than 1 in 10"
    best = min(((k, n) for n in (2, 3, 4, 5, 10) for k in range(1, n)),
               key=lambda kn: (abs(kn[0] / kn[1] - value), kn[1]))
    k, n = best
    # within 2.5 points of the fraction it is "about"; further off, say which side, so 62%
    # and 56% do not both read "about 3 in 5"
    gap = value - k / n
    qualifier = "about" if abs(gap) <= 0.025 else ("more than" if gap > 0 else "nearly")
    return f"{qualifier} half" if (k, n) == (1, 2) else f"{qualifier} {k} in {n}"


# ----------------------------------------------------------------- refusals as sentences

@dataclass(frozen=True)
class Side:
    """One survey of a pair, as the sentences need it."""

    name: str
    population: str  # phrase
    grade: str  # code
    scale: str  # words


def refusal(codes: Sequence[str], a: Side, b: Side, common_age: str = "") -> str:
    """Why a pair was not compared, in one sentence, from ``compare``'s reason codes."""
    parts: list[str] = []
    present = set(codes)
    if present & {"populations_no_common_age", "populations_age_unknown",
                  "common_age_not_separable"}:
        text = f"{a.name} asked {a.population}, {b.name} asked {b.population}"
        if "common_age_not_separable" in present and common_age:
            text += (f"; the ages both cover ({ages(common_age)}) cannot be picked out "
                     "with the age groups each survey recorded")
        elif "populations_no_common_age" in present:
            text += ", with no ages in common"
        parts.append(text)
    for side, tag in ((a, "a"), (b, "b")):
        if f"{tag}_grade_below_floor" in present:
            parts.append(f"{side.name}'s question is only a {grade(side.grade).split(' (')[0]} "
                         "for the common measure")
    suppressed = [s.name for s, t in ((a, "a"), (b, "b")) if f"{t}_suppressed" in present]
    if suppressed:
        parts.append(f"too few answers to publish for {and_list(suppressed)}")
    if "modes_differ" in present and parts:
        parts.append("the surveys were also carried out in different ways (interviewer "
                     "and self-completion)")
    known = {"populations_no_common_age", "populations_age_unknown",
             "common_age_not_separable", "a_grade_below_floor", "b_grade_below_floor",
             "a_suppressed", "b_suppressed", "modes_differ"}
    if present - known or not parts:
        parts.append("the two surveys do not meet the rules for a fair comparison")
    sentence = "; ".join(parts)
    return sentence[:1].upper() + sentence[1:] + "."


def caveats(codes: Sequence[str], a: Side, b: Side, common_age: str = "") -> list[str]:
    """What to keep in mind about a comparison made, from its caveat codes."""
    out: list[str] = []
    for code in codes:
        if code == "common_age_range":
            out.append(f"Compared on the ages both surveys cover ({ages(common_age)}) only.")
        elif code == "modes_differ":
            out.append("One survey was run by interviewers and the other filled in by "
                       "respondents themselves; people can answer differently.")
        elif code == "scales_differ":
            out.append(f"The answer scales differ ({a.name}: {a.scale.split(', ', 1)[-1]}; "
                       f"{b.name}: {b.scale.split(', ', 1)[-1]}), so part of the difference "
                       "may come from the scales.")
        elif code in ("a_opt_in", "b_opt_in"):
            side = a if code == "a_opt_in" else b
            out.append(f"{side.name} is an opt-in sample: weighting corrects its make-up "
                       "by age, sex and area, not who chose to take part.")
        elif code:
            out.append("Read with care (see the comparisons table).")
    return out


def trend_refusal(codes: Sequence[str], from_scale: str, to_scale: str) -> str:
    present = set(codes)
    parts: list[str] = []
    if "scale_changed" in present:
        parts.append(f"the answer scale changed ({from_scale} before, {to_scale} after), so "
                     "the two figures are different measures")
    if present & {"from_grade_below_floor", "to_grade_below_floor"}:
        parts.append("the question is not close enough to the common measure in one wave")
    if "populations_differ" in present:
        parts.append("the waves asked different groups of people")
    if present & {"from_suppressed", "to_suppressed"}:
        parts.append("too few answers to publish in one wave")
    if not parts:
        parts.append("the two waves do not meet the rules for a fair comparison")
    sentence = "; ".join(parts)
    return sentence[:1].upper() + sentence[1:] + "."


def question_change(codes: Sequence[str]) -> str:
    """'The question changed between waves: the answer scale changed.' or ''."""
    words = {
        "item_added_or_removed": "the question was added or dropped",
        "source_changed": "the question's wording or position changed",
        "scale_changed": "the answer scale changed",
        "recode_changed": "the way answers are grouped changed",
        "missing_changed": "the way non-answers are handled changed",
        "grade_changed": "its comparability grade changed",
    }
    parts = [words.get(c, "the question's mapping changed") for c in codes if c]
    if not parts:
        return ""
    return "The question changed between waves: " + and_list(list(dict.fromkeys(parts))) + "."


def note(schema: Schema, text: str) -> str:
    """A crosswalk note (written by an analyst) with any code in it put into words:
    missing types ('not_asked' -> 'not asked'), scale and population ids."""
    from harmonise.models.schema import MISSING_TYPES

    swaps = {m: m.replace("_", " ") for m in MISSING_TYPES}
    swaps |= {s.id: scale(schema, s.id) for s in schema.scales if re.search(r"[\d_]", s.id)}
    swaps |= {p.id: population(schema, p.id) for p in schema.populations if "_" in p.id}
    if not text:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(swaps, key=len,
                                                                          reverse=True)))
                         + r")(?![\w-])")
    return pattern.sub(lambda m: swaps[m.group(1)], text)
