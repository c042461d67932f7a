"""The questionnaire spec (``questionnaire/<name>-vN.yaml``): model, loader and checks.

A spec *names* schema concepts and says where, for whom and when each is asked; the
wording, response scale and codes always come from the schema, so there is one source of
truth. The pydantic model forbids unknown keys; :func:`check_spec` then checks the spec
against the schema, and :func:`load_spec` turns every problem into one
:class:`~harmonise.errors.QuestionnaireError` whose lines name the spec line and what to do:

* an item naming a concept the schema does not have;
* a routing rule (``ask_if``) naming a question that is not asked earlier in the same form,
  or an answer that is not a code of that question;
* a population mismatch: an item asked of people outside its concept's population (an
  under-16 answering an item the standard asks of 16+) without ``min_age`` or a stated
  ``beyond_population`` reason;
* age bands that do not cover the form's ages, a tick-all question with "Don't know".

Don't know and prefer not to say are handled one way everywhere: an item switches them on
with ``dont_know: true`` / ``prefer_not_to_say: true`` and always gets the same choice
names, labels and position (last), which crosswalks map to ``dont_know`` and ``refused``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harmonise.errors import CrosswalkError, QuestionnaireError
from harmonise.models.schema import Schema

#: (choice name, label, missing type) of the two "no answer" options every item may offer.
DONT_KNOW = ("dont_know", "Don't know", "dont_know")
PREFER_NOT = ("prefer_not_to_say", "Prefer not to say", "refused")

#: Age range of each schema population: (youngest, oldest or None for no upper limit).
POPULATION_AGES: dict[str, tuple[int, int | None]] = {
    "adults_16plus": (16, None),
    "adults_18plus": (18, None),
    "young_people_11_18": (11, 18),
    "pupils_y7_y11": (11, 16),
    "all": (0, None),
}

_SLUG = r"^[a-z][a-z0-9_]*$"
_BAND = re.compile(r"^(\d+)-(\d+)$|^(\d+)\+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """Ask when an earlier question's answer is one of ``answers`` (schema codes)."""

    item: str
    answers: tuple[str, ...] = Field(min_length=1)


class SpecItem(_Strict):
    """One question: a schema concept, the forms it is in and when it is asked."""

    concept: str
    #: forms (ids) the question is in; every form when left out
    forms: tuple[str, ...] | None = None
    #: ``age_in_years`` (only for ``age_band``): ask the age as a whole number and derive
    #: the weighting band in the form, so the answer meets the Census bands exactly
    ask: Literal["choice", "age_in_years"] = "choice"
    dont_know: bool = False
    prefer_not_to_say: bool = False
    #: asked only of respondents this old or older (an age filter in forms with younger people)
    min_age: int | None = Field(default=None, ge=0, le=120)
    #: asked only when any of these conditions holds ("if felt unsafe, ask the reasons")
    ask_if: tuple[Condition, ...] = ()
    #: the reason for asking a concept outside its standard population (otherwise an error)
    beyond_population: str | None = Field(default=None, min_length=10)
    #: design or mode note for the people fielding the survey (never shown to respondents)
    note: str | None = None


class Module(_Strict):
    id: str = Field(pattern=_SLUG)
    title: str
    items: tuple[SpecItem, ...] = Field(min_length=1)


class Form(_Strict):
    """One population's form: adults (residents) or young people (school-based)."""

    id: str = Field(pattern=_SLUG)
    title: str
    population: str
    min_age: int = Field(ge=0, le=120)
    max_age: int = Field(ge=0, le=120)
    #: weighting age bands, e.g. ``16-34`` … ``65+``; must cover min_age..max_age exactly
    age_bands: tuple[str, ...] = Field(min_length=1)
    mode: str
    sampling: str
    #: name of a calculated field holding the cluster (school) code set per copy of the form
    cluster: str | None = Field(default=None, pattern=_SLUG)


class Partnership(_Strict):
    csp: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    area_code: str


class ReleaseInfo(_Strict):
    """What the joint survey's crosswalks record: wave, fieldwork and weighting."""

    wave: str
    fieldwork_start: dt.date
    fieldwork_end: dt.date
    synthetic: bool
    targets: str
    margins: tuple[str, ...] = Field(min_length=1)


class QuestionnaireSpec(_Strict):
    questionnaire: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: int = Field(ge=1)
    title: str
    schema_ref: str = Field(alias="schema", pattern=r"^perception-v\d+$")
    note: str | None = None
    privacy_notice: str = Field(min_length=40)
    forms: tuple[Form, ...] = Field(min_length=1)
    partnerships: tuple[Partnership, ...] = Field(min_length=1)
    release: ReleaseInfo
    modules: tuple[Module, ...] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def ref(self) -> str:
        return f"{self.questionnaire}-v{self.version}"

    def form(self, form_id: str) -> Form:
        for f in self.forms:
            if f.id == form_id:
                return f
        raise KeyError(form_id)

    def items_in(self, form_id: str) -> list[tuple[Module, SpecItem]]:
        """The form's questions in order, each with its module."""
        return [(m, i) for m in self.modules for i in m.items
                if i.forms is None or form_id in i.forms]

    @model_validator(mode="after")
    def _unique(self) -> QuestionnaireSpec:
        for kind, ids in (("form", [f.id for f in self.forms]),
                          ("module", [m.id for m in self.modules]),
                          ("partnership", [p.csp for p in self.partnerships])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{kind} ids repeated: {dupes}")
        return self


def item_name(item: SpecItem) -> str:
    """The question's name in the form and the export: the concept id (``age`` for age)."""
    return "age" if item.ask == "age_in_years" else item.concept


def parse_band(band: str) -> tuple[int, int | None] | None:
    """``"16-34"`` -> (16, 34); ``"65+"`` -> (65, None); None when not a band."""
    m = _BAND.match(band)
    if m is None:
        return None
    if m.group(3) is not None:
        return int(m.group(3)), None
    return int(m.group(1)), int(m.group(2))


def band_code(band: str) -> str:
    """The category code of a band in harmonised data and targets: ``16_34``, ``65_plus``."""
    low, high = parse_band(band) or (0, None)
    return f"{low}_plus" if high is None else f"{low}_{high}"


# --------------------------------------------------------------------------- line numbers

Path_ = tuple[str | int, ...]


def line_map(text: str) -> dict[Path_, int]:
    """1-based line of every key and list entry in the YAML text, by its path."""
    lines: dict[Path_, int] = {}

    def walk(node: yaml.Node, path: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                lines[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                sub = (*path, i)
                lines[sub] = value.start_mark.line + 1
                walk(value, sub)

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines
    if root is not None:
        walk(root, ())
    return lines


def _line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """The line of ``path`` or of its nearest ancestor that has one."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong with a spec: where (a path in the YAML) and what to do."""

    path: Path_
    message: str


# --------------------------------------------------------------------------- checks


def _ages(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else f"{lo}-{hi}"


def _within(inner: tuple[int, int | None], outer: tuple[int, int | None]) -> bool:
    if inner[0] < outer[0]:
        return False
    if outer[1] is None:
        return True
    return inner[1] is not None and inner[1] <= outer[1]


def _check_form(spec: QuestionnaireSpec, schema: Schema, fi: int) -> list[SpecProblem]:
    form = spec.forms[fi]
    out: list[SpecProblem] = []
    where: Path_ = ("forms", fi)
    if form.population not in {p.id for p in schema.populations}:
        out.append(SpecProblem((*where, "population"),
                               f"form '{form.id}': population {form.population!r} is not in "
                               f"{schema.ref}; use one of {[p.id for p in schema.populations]}"))
    if form.max_age < form.min_age:
        out.append(SpecProblem((*where, "max_age"), f"form '{form.id}': max_age is below min_age"))
    expected = form.min_age
    for bi, band in enumerate(form.age_bands):
        parsed = parse_band(band)
        if parsed is None:
            out.append(SpecProblem((*where, "age_bands", bi),
                                   f"form '{form.id}': age band {band!r} is not like '16-34' "
                                   "or '65+'"))
            return out
        if parsed[0] != expected:
            out.append(SpecProblem((*where, "age_bands", bi),
                                   f"form '{form.id}': age band {band!r} should start at "
                                   f"{expected}; bands must follow on from min_age with no gap "
                                   "or overlap"))
            return out
        expected = (parsed[1] + 1) if parsed[1] is not None else 10**6
    last = parse_band(form.age_bands[-1])
    if last is not None and last[1] is not None and last[1] != form.max_age:
        out.append(SpecProblem((*where, "age_bands"),
                               f"form '{form.id}': the last age band ends at {last[1]} but "
                               f"max_age is {form.max_age}; end it at max_age or use 'NN+'"))
    return out


def _check_item(spec: QuestionnaireSpec, schema: Schema, mi: int, ii: int,
                seen: dict[str, dict[str, tuple[str, ...]]]) -> list[SpecProblem]:
    """Problems of one item; ``seen`` maps form id -> names asked so far -> their codes."""
    item = spec.modules[mi].items[ii]
    where: Path_ = ("modules", mi, "items", ii)
    name = item_name(item)
    out: list[SpecProblem] = []
    concepts = {c.id: c for c in schema.concepts}
    concept = concepts.get(item.concept)
    if concept is None:
        out.append(SpecProblem((*where, "concept"),
                               f"concept {item.concept!r} is not in {schema.ref}; check the "
                               f"spelling, or add the concept (with its source and "
                               f"wording_status) to a new schema version first"))
        return out
    scale = schema.scale(concept.scale)
    forms = item.forms if item.forms is not None else tuple(f.id for f in spec.forms)
    known_forms = {f.id for f in spec.forms}
    for fid in forms:
        if fid not in known_forms:
            out.append(SpecProblem((*where, "forms"),
                                   f"item {name!r} names form {fid!r}, which the spec does not "
                                   f"define; use one of {sorted(known_forms)}"))
    if item.ask == "age_in_years" and item.concept != "age_band":
        out.append(SpecProblem((*where, "ask"),
                               f"item {name!r}: 'ask: age_in_years' is only for concept age_band"))
    if item.ask == "choice" and scale.kind == "open":
        out.append(SpecProblem((*where, "concept"),
                               f"concept {item.concept!r} has an open scale (codes set per "
                               "survey), so the form cannot list its answers; use a concept "
                               "with a fixed scale"))
    if scale.kind == "multi" and (item.dont_know or item.prefer_not_to_say):
        out.append(SpecProblem((*where, "dont_know" if item.dont_know else "prefer_not_to_say"),
                               f"item {name!r} is a tick-all question: 'don't know' or 'prefer "
                               "not to say' cannot be one of its options (each option is its own "
                               "yes/no column); remove it"))
    if item.ask == "age_in_years" and (item.dont_know or item.prefer_not_to_say):
        out.append(SpecProblem((*where, "prefer_not_to_say"),
                               "age is needed for weighting and routing: it cannot offer "
                               "'don't know' or 'prefer not to say'"))
    codes = scale.codes if scale.kind != "multi" else tuple(o.code for o in concept.options)
    codes += (DONT_KNOW[0],) if item.dont_know else ()
    codes += (PREFER_NOT[0],) if item.prefer_not_to_say else ()
    std = POPULATION_AGES.get(concept.population)
    for fid in forms:
        if fid not in known_forms:
            continue
        form = spec.form(fid)
        asked = seen.setdefault(fid, {})
        if name in asked:
            out.append(SpecProblem((*where, "concept"),
                                   f"item {name!r} is asked twice in form '{fid}'; remove one"))
        for ci, cond in enumerate(item.ask_if):
            cpath: Path_ = (*where, "ask_if", ci)
            if cond.item not in asked:
                later = any(item_name(i) == cond.item for _, i in spec.items_in(fid))
                why = ("is asked later, not before it" if later
                       else "is not a question in that form")
                out.append(SpecProblem((*cpath, "item"),
                                       f"item {name!r} in form '{fid}': routing names question "
                                       f"{cond.item!r}, which {why}; route on a question asked "
                                       "earlier in the same form"))
                continue
            bad = [a for a in cond.answers if a not in asked[cond.item]]
            if bad:
                out.append(SpecProblem((*cpath, "answers"),
                                       f"item {name!r}: {bad} are not answers of {cond.item!r} "
                                       f"(its codes: {list(asked[cond.item])})"))
        if std is None:
            out.append(SpecProblem((*where, "concept"),
                                   f"concept {item.concept!r} has population "
                                   f"{concept.population!r}, whose ages harmonise does not know"))
        else:
            low = max(form.min_age, item.min_age or 0)
            if low > form.max_age:
                out.append(SpecProblem((*where, "min_age"),
                                       f"item {name!r}: min_age {item.min_age} is above form "
                                       f"'{fid}''s oldest age {form.max_age}; nobody would be "
                                       "asked; remove the item from this form"))
            ages = (low, None if form.max_age >= 120 else form.max_age)
            if not _within(ages, std) and item.beyond_population is None:
                out.append(SpecProblem(
                    (*where, "concept"),
                    f"population mismatch: {name!r} ({concept.population}, ages "
                    f"{_ages(*std)}) would be asked of ages {_ages(*ages)} in form '{fid}'. "
                    f"Add 'min_age: {std[0]}' to ask it only of those old enough, take it out "
                    "of this form (forms: [...]), or give 'beyond_population: <reason>' if "
                    "the wording is deliberately used outside its standard population"))
        asked[name] = codes
    return out


def check_spec(spec: QuestionnaireSpec, schema: Schema) -> list[SpecProblem]:
    """Every way the spec does not fit the schema or itself (empty when it fits)."""
    out: list[SpecProblem] = []
    if spec.schema_ref != schema.ref:
        out.append(SpecProblem(("schema",), f"the spec names {spec.schema_ref} but the schema "
                                            f"given is {schema.ref}"))
    for fi in range(len(spec.forms)):
        out += _check_form(spec, schema, fi)
    seen: dict[str, dict[str, tuple[str, ...]]] = {}
    for mi, module in enumerate(spec.modules):
        for ii in range(len(module.items)):
            out += _check_item(spec, schema, mi, ii, seen)
    for f in spec.forms:
        names = seen.get(f.id, {})
        if "age" not in names:
            out.append(SpecProblem(("forms",), f"form '{f.id}' does not ask age (concept "
                                               "age_band, ask: age_in_years); age filters and "
                                               "weighting need it"))
    for mi_, margin in enumerate(spec.release.margins):
        if margin != "age_band" and all(margin not in n for n in seen.values()):
            out.append(SpecProblem(("release", "margins", mi_),
                                   f"weighting margin {margin!r} is not asked in any form"))
    return out


# --------------------------------------------------------------------------- loading


def _explain_validation(file: str, exc: ValidationError, lines: dict[Path_, int]) -> list[str]:
    out = []
    for err in exc.errors():
        path = tuple(err["loc"])
        line = _line_of(lines, path)
        field = ".".join(str(p) for p in path) or "(top level)"
        at = f"{file}:{line}" if line else file
        hint = ""
        if err["type"] == "extra_forbidden":
            hint = " (check the spelling; see questionnaire/questionnaire.schema.json)"
        out.append(f"  {at}: {field}: {err['msg']}{hint}")
    return out


def parse_spec(text: str, file: str) -> tuple[QuestionnaireSpec, dict[Path_, int]]:
    """The spec model and its line map; a structure problem raises naming each line."""
    from harmonise._util.yamlio import parse_yaml

    raw: Any = parse_yaml(text, file, error=QuestionnaireError)
    lines = line_map(text)
    try:
        return QuestionnaireSpec.model_validate(raw), lines
    except ValidationError as exc:
        body = "\n".join(_explain_validation(file, exc, lines))
        raise QuestionnaireError(f"{file} is not a valid questionnaire spec:\n{body}") from exc


def format_problems(file: str, problems: list[SpecProblem], lines: dict[Path_, int]) -> str:
    body = []
    for p in problems:
        line = _line_of(lines, p.path)
        body.append(f"  {file}:{line}: {p.message}" if line else f"  {file}: {p.message}")
    return f"{file} does not fit its schema ({len(problems)} problem(s)):\n" + "\n".join(body)


def spec_from_text(text: str, file: str, schema: Schema) -> QuestionnaireSpec:
    """Parse and check a spec against ``schema`` (pure); every problem in one error."""
    spec, lines = parse_spec(text, file)
    problems = check_spec(spec, schema)
    if problems:
        raise QuestionnaireError(format_problems(file, problems, lines))
    return spec


def default_schema_path(spec_path: Path, schema_ref: str, project: Path | None = None) -> Path:
    """``<project>/crosswalks/schema/<ref>.yaml`` for a spec in ``<project>/questionnaire/``;
    for a spec kept elsewhere, the ``project``'s schema of that version."""
    beside = spec_path.resolve().parent.parent / "crosswalks" / "schema" / f"{schema_ref}.yaml"
    if beside.exists() or project is None:
        return beside
    return project / "crosswalks" / "schema" / f"{schema_ref}.yaml"


def load_spec(path: Path, schema_path: Path | None = None, project: Path | None = None
              ) -> tuple[QuestionnaireSpec, Schema]:
    """Read and check a spec file; the schema defaults to the version the spec names."""
    from harmonise.crosswalk.io import load_schema

    try:
        text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
    except FileNotFoundError as exc:
        raise QuestionnaireError(f"{path}: file not found; check the path") from exc
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(f"{path}: not UTF-8 text; save the file as UTF-8") from exc
    spec, lines = parse_spec(text, str(path))
    schema_path = schema_path or default_schema_path(path, spec.schema_ref, project)
    try:
        schema = load_schema(schema_path)
    except CrosswalkError as exc:
        line = _line_of(lines, ("schema",))
        raise QuestionnaireError(
            f"{path}:{line}: the spec names schema {spec.schema_ref!r}, which cannot be "
            f"loaded: {exc}") from exc
    problems = check_spec(spec, schema)
    if problems:
        raise QuestionnaireError(format_problems(str(path), problems, lines))
    return spec, schema


def spec_json_schema() -> str:
    """JSON Schema of the spec file (committed as questionnaire/questionnaire.schema.json)."""
    import json

    schema = QuestionnaireSpec.model_json_schema(by_alias=True, mode="validation")
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://harmonise.invalid/questionnaire.schema.json",
        "title": "harmonise questionnaire spec",
        "description": ("A joint questionnaire: schema concepts in modules, with forms, "
                        "populations, routing and mode notes (questionnaire/<name>-vN.yaml). "
                        "Generated from harmonise.questionnaire.spec.QuestionnaireSpec; do not "
                        "edit by hand."),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
