"""Spec + schema -> the laid-out forms every writer renders (pure, no files).

One :class:`FormLayout` per form: numbered questions with their wording, choices (schema
codes as choice names), XLSForm ``relevant`` expression, the same routing in words for paper
("If No, go to Q12") and the universe (who is asked). The XLSForm, the printable versions,
the codebook, the crosswalks and the simulator all read this one object, so they cannot
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harmonise.models.schema import Schema
from harmonise.questionnaire.spec import (
    DONT_KNOW,
    PREFER_NOT,
    Condition,
    Form,
    QuestionnaireSpec,
    SpecItem,
    band_code,
    item_name,
    parse_band,
)

Kind = Literal["select_one", "select_multiple", "integer"]


@dataclass(frozen=True)
class Choice:
    name: str  # the schema code (or dont_know / prefer_not_to_say)
    label: str
    heading: str = ""  # a group heading shown above it on paper (ethnic group)


@dataclass(frozen=True)
class Question:
    number: int
    name: str
    module: str
    module_title: str
    concept: str
    kind: Kind
    label: str
    intro: str
    hint: str
    scale: str
    list_name: str
    choices: tuple[Choice, ...]
    #: missing-type of each non-answer choice (dont_know -> dont_know, prefer... -> refused)
    missing: tuple[tuple[str, str], ...]
    relevant: str  # XLSForm expression ("" = always asked)
    constraint: str
    constraint_message: str
    ask_when: str  # routing in words, for the question itself ("" = everyone)
    universe: str
    wording_status: str
    wording_source: str
    note: str
    #: "if <answers> go to Q<n>" lines printed under this question on paper
    skips: tuple[str, ...] = ()
    appearance: str = ""

    @property
    def path(self) -> str:
        """The export column (Kobo: group path joined by '/')."""
        return f"{self.module}/{self.name}"


@dataclass(frozen=True)
class Derived:
    """A calculated field: the age band derived from age, the school (cluster) code."""

    name: str
    module: str
    calculation: str
    concept: str  # "" when not a schema concept (the cluster code)
    label: str

    @property
    def path(self) -> str:
        return f"{self.module}/{self.name}" if self.module else self.name


@dataclass(frozen=True)
class FormLayout:
    spec: QuestionnaireSpec
    form: Form
    questions: tuple[Question, ...]
    derived: tuple[Derived, ...]
    modules: tuple[tuple[str, str], ...]  # (id, title) in order, only modules with questions

    @property
    def form_id(self) -> str:
        return f"{self.spec.questionnaire}_{self.form.id}_v{self.spec.version}"

    @property
    def title(self) -> str:
        return self.form.title

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)


def _choices(item: SpecItem, schema: Schema) -> tuple[str, tuple[Choice, ...], str]:
    concept = schema.concept(item.concept)
    scale = schema.scale(concept.scale)
    if scale.kind == "multi":
        return f"{concept.id}_options", tuple(Choice(o.code, o.label) for o in concept.options), ""
    headings: dict[str, str] = {}
    if scale.id == "ethnic19":  # group headings from the five-group scale (first code word)
        groups = {c.code: c.label for c in schema.scale("ethnic5").categories}
        headings = {c.code: groups.get(c.code.split("_")[0], "") for c in scale.categories}
    out = [Choice(c.code, c.label, headings.get(c.code, "")) for c in scale.categories]
    suffix = ""
    if item.dont_know:
        out.append(Choice(DONT_KNOW[0], DONT_KNOW[1]))
        suffix += "_dk"
    if item.prefer_not_to_say:
        out.append(Choice(PREFER_NOT[0], PREFER_NOT[1]))
        suffix += "_pn"
    name = (f"{concept.id}_list" if scale.id == "open" else scale.id) + suffix
    return name, tuple(out), "likert" if scale.id == "ls11" else ""


def _xpath_condition(cond: Condition, kinds: dict[str, Kind]) -> str:
    parts = [f"selected(${{{cond.item}}}, '{a}')" for a in cond.answers]
    if kinds.get(cond.item) == "select_one" and len(cond.answers) == 1:
        return f"${{{cond.item}}} = '{cond.answers[0]}'"
    return " or ".join(parts)


def _labels(layout_choices: dict[str, tuple[Choice, ...]], name: str,
            codes: tuple[str, ...]) -> str:
    label = {c.name: c.label for c in layout_choices.get(name, ())}
    words = [f"'{label.get(c, c)}'" for c in codes]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _age_expression(form: Form) -> str:
    """Nested if() giving the age band code of ${age}."""
    bands = [(parse_band(b), band_code(b)) for b in form.age_bands]
    expr = f"'{bands[-1][1]}'"
    for parsed, code in reversed(bands[:-1]):
        assert parsed is not None and parsed[1] is not None
        expr = f"if(${{age}} <= {parsed[1]}, '{code}', {expr})"
    return expr


def layout_form(spec: QuestionnaireSpec, schema: Schema, form_id: str) -> FormLayout:
    """Lay out one form of a checked spec (see :func:`harmonise.questionnaire.spec.load_spec`)."""
    form = spec.form(form_id)
    entries = spec.items_in(form_id)
    kinds: dict[str, Kind] = {}
    choice_sets: dict[str, tuple[Choice, ...]] = {}
    numbers = {item_name(i): n for n, (_, i) in enumerate(entries, start=1)}
    questions: list[Question] = []
    derived: list[Derived] = []
    modules: list[tuple[str, str]] = []
    for module, item in entries:
        if (module.id, module.title) not in modules:
            modules.append((module.id, module.title))
        concept = schema.concept(item.concept)
        scale = schema.scale(concept.scale)
        name = item_name(item)
        conditions: list[str] = []
        words: list[str] = []
        if item.min_age is not None and item.min_age > form.min_age:
            conditions.append(f"${{age}} >= {item.min_age}")
            words.append(f"you are {item.min_age} or over")
        if item.ask_if:
            xp = [_xpath_condition(c, kinds) for c in item.ask_if]
            conditions.append(xp[0] if len(xp) == 1 else "(" + ") or (".join(xp) + ")")
            said = [f"you answered {_labels(choice_sets, c.item, c.answers)} at "
                    f"Q{numbers[c.item]}" for c in item.ask_if]
            words.append(" or ".join(said))
        relevant = " and ".join(f"({c})" if " or " in c else c for c in conditions)
        ask_when = " and ".join(words)
        constraint = constraint_message = hint = appearance = ""
        if item.ask == "age_in_years":
            kind: Kind = "integer"
            list_name, choices = "", tuple[Choice, ...]()
            label = concept.wording
            constraint = f". >= {form.min_age} and . <= {form.max_age}"
            constraint_message = (f"This survey is for people aged {form.min_age} to "
                                  f"{form.max_age}." if form.max_age < 120 else
                                  f"This survey is for people aged {form.min_age} or over.")
            hint = "Your age in years"
            derived.append(Derived("age_band", module.id, _age_expression(form), "age_band",
                                   "Age band (derived from age)"))
        else:
            kind = "select_multiple" if scale.kind == "multi" else "select_one"
            list_name, choices, appearance = _choices(item, schema)
            label = concept.wording
            hint = "Tick all that apply" if kind == "select_multiple" else "Tick one box"
            if hint.lower() in label.lower():  # the schema stem already says it
                hint = ""
        offered = {ch.name for ch in choices}
        missing = tuple((code, m) for code, _, m in (DONT_KNOW, PREFER_NOT) if code in offered)
        kinds[name] = kind
        choice_sets[name] = choices
        pop = next((p.label for p in schema.populations if p.id == form.population),
                   form.population)
        universe = pop + (f", asked if {ask_when}" if ask_when else "")
        questions.append(Question(
            number=numbers[name], name=name, module=module.id, module_title=module.title,
            concept=concept.id, kind=kind, label=label, intro=concept.intro or "", hint=hint,
            scale=scale.id, list_name=list_name, choices=choices, missing=missing,
            relevant=relevant, constraint=constraint, constraint_message=constraint_message,
            ask_when=ask_when, universe=universe,
            wording_status=concept.wording_status or "unverified",
            wording_source=concept.wording_source, note=item.note or "",
            appearance=appearance))
    if form.cluster:
        derived.append(Derived(form.cluster, "", "'SET_PER_SCHOOL'", "",
                               "School code (set in each school's copy of the form)"))
    questions = _add_skips(questions, [i for _, i in entries])
    return FormLayout(spec=spec, form=form, questions=tuple(questions),
                      derived=tuple(derived), modules=tuple(modules))


def _add_skips(questions: list[Question], items: list[SpecItem]) -> list[Question]:
    """Paper routing: under a question that alone decides whether the next ones are asked,
    "If <other answers>, go to Q<n>"; age filters say "If you are under N, go to Q<n>"."""
    from dataclasses import replace

    by_name = {q.name: q for q in questions}
    skips: dict[str, list[str]] = {q.name: [] for q in questions}
    n = len(questions)

    def after_run(k: int, prefix: str) -> str:
        """Where to go when question k is not asked: past every following question whose
        routing includes ``prefix``."""
        end = k
        while end + 1 < n and (questions[end + 1].relevant == prefix
                               or questions[end + 1].relevant.startswith(prefix + " and ")):
            end += 1
        return f"Q{questions[end + 1].number}" if end + 1 < n else "the end"

    for k, (q, item) in enumerate(zip(questions, items, strict=True)):
        if len(item.ask_if) == 1:
            cond = item.ask_if[0]
            ctrl = by_name[cond.item]
            if ctrl.number == q.number - 1:  # the controlling question comes just before
                others = tuple(c.name for c in ctrl.choices if c.name not in cond.answers)
                said = _labels({ctrl.name: ctrl.choices}, ctrl.name, others)
                skips[ctrl.name].append(f"If {said}, go to {after_run(k, q.relevant)}")
        if item.min_age is not None and q.relevant.startswith("${age} >= ") and k > 0:
            age_rule = q.relevant.split(" and ")[0]
            previous = questions[k - 1].relevant
            if not (previous == age_rule or previous.startswith(age_rule + " and ")):
                skips[questions[k - 1].name].append(
                    f"If you are under {item.min_age}, go to {after_run(k, age_rule)}")
    return [replace(q, skips=tuple(skips[q.name])) for q in questions]


def layout_all(spec: QuestionnaireSpec, schema: Schema) -> tuple[FormLayout, ...]:
    return tuple(layout_form(spec, schema, f.id) for f in spec.forms)
