"""The common perception schema: scales, concepts, indicators, populations (pydantic).

Loaded from ``crosswalks/schema/perception-vN.yaml``. Every cross-reference inside the
schema (a concept's scale, an indicator's concept and categories) is checked on load.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Comparability grades, strongest first (see docs/comparability.md). ``unassessed`` is
#: only allowed in drafts: a person must grade every item before a release.
GRADES: tuple[str, ...] = (
    "identical",
    "equivalent",
    "close",
    "proxy",
    "not comparable",
    "unassessed",
)
Grade = Literal["identical", "equivalent", "close", "proxy", "not comparable", "unassessed"]

#: Kinds of missing answer kept distinct through the pipeline. None is ever a scale code.
MISSING_TYPES: tuple[str, ...] = (
    "dont_know",
    "refused",
    "not_asked",
    "not_applicable",
    "no_answer",
)
MissingType = Literal["dont_know", "refused", "not_asked", "not_applicable", "no_answer"]

Slug = str

#: How far a concept's wording (stem and response labels) has been checked against its
#: published source: ``verified`` (checked, word for word), ``partly_verified`` (labels or a
#: phrase checked, not the whole item) or ``unverified`` (a working wording: local,
#: proposed by harmonise or not yet seen; never to be presented as an official standard).
WORDING_STATUSES: tuple[str, ...] = ("verified", "partly_verified", "unverified")
WordingStatus = Literal["verified", "partly_verified", "unverified"]


def grade_at_least(grade: str, floor: str) -> bool:
    """True when ``grade`` is as strong as ``floor`` or stronger."""
    return GRADES.index(grade) <= GRADES.index(floor)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    code: Slug = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    label: str


class Scale(_Strict):
    """A response scale. ``open`` scales (areas, schools) take their codes from each crosswalk."""

    id: Slug
    label: str
    kind: Literal["ordinal", "nominal", "multi", "open"]
    source: str | None = None
    categories: tuple[Category, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.categories)

    @model_validator(mode="after")
    def _check(self) -> Scale:
        if self.kind != "open" and not self.categories:
            raise ValueError(f"scale '{self.id}' of kind {self.kind} needs categories")
        dupes = {c for c in self.codes if self.codes.count(c) > 1}
        if dupes:
            raise ValueError(f"scale '{self.id}' repeats category codes {sorted(dupes)}")
        clash = set(self.codes) & set(MISSING_TYPES)
        if clash:
            raise ValueError(
                f"scale '{self.id}' uses missing-type names as codes: {sorted(clash)}; "
                "missing answers are declared in a crosswalk's 'missing' table instead"
            )
        return self


class Population(_Strict):
    id: Slug
    label: str


class Concept(_Strict):
    """One thing a question measures, with the standard wording where one exists."""

    id: Slug
    theme: str
    label: str
    wording: str
    wording_source: str
    scale: Slug
    population: Slug
    place: str | None = None
    time: str | None = None
    options: tuple[Category, ...] = ()  # for multi-select concepts: one per option
    #: how far ``wording`` and the scale's labels were checked against ``wording_source``
    #: (required from schema version 2 on; see :data:`WORDING_STATUSES`)
    wording_status: WordingStatus | None = None
    #: fixed text read or shown before the question (e.g. the ONS4 introduction)
    intro: str | None = None


class Indicator(_Strict):
    """A headline statistic: the share of valid answers falling in ``success`` categories.

    ``success`` says, per scale an item may be recoded to, which categories count: the
    dichotomy is defined explicitly for each scale rather than guessed. Missing types
    (don't know, refused, not asked, not applicable, no answer) are out of the base; every
    scale category (a 'neither' midpoint included) stays in it. For a multi-select concept
    the indicator is computed per option.
    """

    id: Slug
    concept: Slug
    label: str
    success: dict[Slug, tuple[Slug, ...]]


class Schema(_Strict):
    schema_id: Literal["perception"] = Field(alias="schema")
    version: int = Field(ge=1)
    title: str
    note: str | None = None
    populations: tuple[Population, ...]
    scales: tuple[Scale, ...]
    concepts: tuple[Concept, ...]
    indicators: tuple[Indicator, ...]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def ref(self) -> str:
        """The name crosswalks use to target this schema, e.g. ``perception-v1``."""
        return f"{self.schema_id}-v{self.version}"

    def scale(self, scale_id: str) -> Scale:
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise KeyError(scale_id)

    def concept(self, concept_id: str) -> Concept:
        for c in self.concepts:
            if c.id == concept_id:
                return c
        raise KeyError(concept_id)

    def population(self, population_id: str) -> Population:
        for p in self.populations:
            if p.id == population_id:
                return p
        raise KeyError(population_id)

    @model_validator(mode="after")
    def _cross_references(self) -> Schema:
        problems: list[str] = []
        scale_ids = [s.id for s in self.scales]
        concept_ids = [c.id for c in self.concepts]
        pop_ids = [p.id for p in self.populations]
        for kind, ids in (("scale", scale_ids), ("concept", concept_ids), ("population", pop_ids)):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                problems.append(f"duplicate {kind} ids {dupes}")
        scales = {s.id: s for s in self.scales}
        for c in self.concepts:
            if c.scale not in scales:
                problems.append(f"concept '{c.id}' uses unknown scale '{c.scale}'")
            elif scales[c.scale].kind == "multi" and not c.options:
                problems.append(f"multi-select concept '{c.id}' lists no options")
            if c.population not in pop_ids:
                problems.append(f"concept '{c.id}' names unknown population '{c.population}'")
        concepts = {c.id: c for c in self.concepts}
        for ind in self.indicators:
            if ind.concept not in concepts:
                problems.append(f"indicator '{ind.id}' names unknown concept '{ind.concept}'")
            for scale_id, codes in ind.success.items():
                if scale_id not in scales:
                    problems.append(f"indicator '{ind.id}' names unknown scale '{scale_id}'")
                    continue
                unknown = sorted(set(codes) - set(scales[scale_id].codes))
                if unknown:
                    problems.append(
                        f"indicator '{ind.id}': {unknown} are not categories of scale '{scale_id}'"
                    )
        if self.version >= 2:
            unmarked = [c.id for c in self.concepts if c.wording_status is None]
            if unmarked:
                problems.append(
                    f"concepts {unmarked} have no wording_status; from version 2 on every "
                    f"concept says how far its wording was checked ({', '.join(WORDING_STATUSES)})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self
