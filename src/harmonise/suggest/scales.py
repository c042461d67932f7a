"""Response scales: what a list of answer labels looks like, and the recode it suggests.

* :func:`missing_type` reads "Don't know", "Prefer not to say", "Not answered" … as a
  missing type (never a scale category);
* :func:`scale_shape` says how many substantive points a label list has, whether it has
  a midpoint ("Neither … nor …"), and which family of scale it is (safety, rating,
  problem, worry, yes/no, sex, year group, 0-10 …) from the words in the labels;
* :func:`propose_recode` maps each source label to a category code of a schema scale:
  ``exact`` when the label (or the code) is the category's once normalised, ``likely``
  when it matches after intensity words are aligned ("Quite safe" -> ``fairly_safe``,
  a bare "Safe" -> the mildest "safe" category) — always left for a person to confirm —
  and ``review`` when nothing fits. Labels listed in the opposite order from the schema
  scale (negative first) are flagged ``reversed``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from harmonise.models.schema import Scale
from harmonise.suggest.text import phrase

_MISSING = (
    ("dont_know", re.compile(r"\b(dont|do not) know\b|^dk$|\bnot known\b|\bcant say\b"
                             r"|\bnot sure\b(?! that)")),
    ("refused", re.compile(r"\brefused\b|\bprefer not to (say|answer)\b|\brather not say\b")),
    ("not_asked", re.compile(r"\bnot asked\b")),
    ("not_applicable", re.compile(r"\bnot applicable\b|^n ?a$|\bdoes not apply\b"
                                  r"|\bnever (go|walk)\w* (out|alone)\b")),
    ("no_answer", re.compile(r"\bno (answer|reply|response)\b|^missing\b|\bnot answered\b"
                             r"|\bskipped\b")),
)

#: Scales where "Not sure" is a substantive answer, not a don't-know.
_NOT_SURE_IS_A_POINT = frozenset(("certainty4",))


def missing_type(label: str, scale_id: str | None = None) -> str | None:
    """A missing type for an answer label such as "Don't know" or "Prefer not to say"."""
    folded = phrase(label)
    for kind, pattern in _MISSING:
        if pattern.search(folded):
            if kind == "dont_know" and "not sure" in folded and scale_id in _NOT_SURE_IS_A_POINT:
                return None
            return kind
    return None


#: Words that say which family of scale a label belongs to, checked in this order.
_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("multi", re.compile(r"^(not )?selected$|^(un)?ticked$|^(un)?checked$")),
    ("year", re.compile(r"^(school )?year ?(7|8|9|10|11|12|13|seven|eight|nine|ten|eleven)$")),
    ("sex", re.compile(r"^(female|male|woman|man|girl|boy)$")),
    ("ls11", re.compile(r"^(10|[0-9])( (not at all|completely)\b.*)?$")),
    ("age", re.compile(r"^\d{1,2} ?(to|-)? ?\d{1,2}$|^\d{1,2} ?(plus|and over|or over|or older)"
                       r"|^under \d{1,2}$|^aged? \d|^\d{1,2}$")),
    ("safety", re.compile(r"\b(safe|unsafe)\b")),
    ("problem", re.compile(r"\bproblem\b")),
    ("worry", re.compile(r"\bworried\b")),
    ("concern", re.compile(r"\bconcerned\b")),
    ("satisfaction", re.compile(r"\bsatisfied\b|\bdissatisfied\b")),
    ("rating", re.compile(r"\b(good|poor|bad|excellent|fair)\b")),
    ("certainty", re.compile(r"\b(certain|fairly sure|definitely|probably)\b")),
    ("agree", re.compile(r"\bagree\b|\bdisagree\b")),
    ("frequency", re.compile(r"\b(always|often|sometimes|rarely|never|daily|weekly)\b")),
    ("count", re.compile(r"^(none|one|two|three|one or two|three or more|four or more)$")),
    ("yesno", re.compile(r"^(yes|no)\b")),
)

#: Family of each schema scale (the ``open`` scales get theirs from the concept).
SCALE_FAMILY: dict[str, str] = {
    "safety4": "safety", "safety5": "safety", "rating4": "rating", "problem4": "problem",
    "problem3": "problem", "certainty4": "certainty", "satisfaction4": "satisfaction",
    "ls11": "ls11", "concern4": "concern", "count3": "count", "yn": "yesno", "multi": "multi",
    "sex2": "sex", "year_group": "year",
}

#: Families so common that matching one says little about the question ("Yes / No").
GENERIC_FAMILIES = frozenset(("yesno", "multi", "frequency", "agree"))

#: Families that answer the same kind of question (worried ~ concerned).
KINDRED = {"worry": "concern", "concern": "concern"}


def label_family(label: str) -> str | None:
    """The family of scale one label belongs to, or None."""
    folded = phrase(label)
    for family, pattern in _FAMILIES:
        if pattern.search(folded):
            return family
    return None


@dataclass(frozen=True)
class ScaleShape:
    """What a question's answer list looks like (missing-type labels left out)."""

    points: int
    midpoint: bool
    family: str | None
    missing: tuple[str, ...]  # missing types offered ("dont_know", ...)

    def describe(self) -> str:
        mid = " with a midpoint" if self.midpoint else ""
        fam = f"{self.family} " if self.family else ""
        return f"{fam}{self.points}-point{mid}"


def substantive(options: Sequence[str], scale_id: str | None = None) -> list[str]:
    """The options that are not missing types, in order."""
    return [o for o in options if missing_type(o, scale_id) is None]


def scale_shape(options: Sequence[str]) -> ScaleShape | None:
    """The shape of an answer list, or None when there are no options."""
    if not options:
        return None
    subs = substantive(options)
    missing = tuple(dict.fromkeys(m for o in options if (m := missing_type(o)) is not None))
    fams = [label_family(o) for o in subs]
    known = [f for f in fams if f is not None]
    family = max(set(known), key=known.count) if known and known.count(
        max(set(known), key=known.count)) * 2 >= len(subs) else None
    if family == "ls11" and not ({"0", "10"} & {phrase(o).split(" ")[0] for o in subs}):
        family = "age"  # 1-9 alone is not a 0-10 scale
    if family is None and len(subs) >= 3 and not known and all(
            o[:1].isupper() and len(o.split()) <= 4 for o in subs):
        family = "names"  # place or school names: an open scale
    midpoint = any(re.search(r"\bneither\b|\bneutral\b|\bnor\b|\babout the same\b|\bmixed\b",
                             phrase(o)) for o in subs)
    return ScaleShape(points=len(subs), midpoint=midpoint, family=family, missing=missing)


# --- recode proposal ---------------------------------------------------------------

_INTENSITY = {"quite": "fairly", "somewhat": "fairly", "reasonably": "fairly",
              "slightly": "bit", "little": "bit", "extremely": "very", "really": "very",
              "totally": "very", "completely": "very", "big": "big", "dissatisfied": "unsatisfied"}
_ARTICLES = frozenset(("a", "an", "the"))
_MILD = frozenset(("fairly", "bit"))


@lru_cache(maxsize=4096)
def _label_tokens(text: str) -> frozenset[str]:
    out = []
    words = phrase(text.replace("_", " ")).split()
    i = 0
    while i < len(words):
        w = words[i]
        if w == "not" and i + 1 < len(words) and words[i + 1] in ("safe",):
            out.append("un" + words[i + 1])
            i += 2
            continue
        if w not in _ARTICLES:
            out.append(_INTENSITY.get(w, w))
        i += 1
    return frozenset(out)


@dataclass(frozen=True)
class RecodeLine:
    """One source label and what it maps to."""

    label: str
    target: str | None  # a category code, a missing type, or None (a person decides)
    status: str  # exact | likely | missing | review

    def as_dict(self) -> dict[str, str | None]:
        return {"label": self.label, "target": self.target, "status": self.status}


@dataclass(frozen=True)
class RecodeProposal:
    """Source labels mapped to one schema scale's codes."""

    scale: str
    lines: tuple[RecodeLine, ...]
    reversed: bool  # labels run the opposite way from the scale's categories

    @property
    def fit(self) -> float:
        """Share of substantive labels mapped: exact counts 1, likely 0.75."""
        subs = [ln for ln in self.lines if ln.status != "missing"]
        if not subs:
            return 0.0
        return sum(1.0 if ln.status == "exact" else 0.75 if ln.status == "likely" else 0.0
                   for ln in subs) / len(subs)

    @property
    def to_review(self) -> tuple[str, ...]:
        return tuple(ln.label for ln in self.lines if ln.status in ("likely", "review"))

    def as_dict(self) -> dict[str, object]:
        return {"scale": self.scale, "reversed": self.reversed, "fit": round(self.fit, 3),
                "lines": [ln.as_dict() for ln in self.lines]}


def _match(label: str, scale: Scale) -> tuple[str | None, str]:
    tokens = _label_tokens(label)
    for cat in scale.categories:
        if tokens in (_label_tokens(cat.label), _label_tokens(cat.code)):
            return cat.code, "exact"
    scored = []
    for cat in scale.categories:
        best = 0.0
        for other in (_label_tokens(cat.label), _label_tokens(cat.code)):
            if tokens and other:
                best = max(best, len(tokens & other) / len(tokens | other))
        scored.append((best, cat.code))
    scored.sort(key=lambda t: -t[0])
    if len(tokens) == 1:  # a bare "Safe": the mildest category with that word
        mild = [c.code for c in scale.categories
                if tokens <= _label_tokens(c.label) and _label_tokens(c.label) & _MILD]
        if len(mild) == 1:
            return mild[0], "likely"
    if scored and scored[0][0] >= 0.5 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1], "likely"
    return None, "review"


def propose_recode(options: Sequence[str], scale: Scale) -> RecodeProposal:
    """Each label of ``options`` mapped to a code of ``scale`` (see the module docstring)."""
    return _propose(tuple(options), scale)


@lru_cache(maxsize=2048)
def _propose(options: tuple[str, ...], scale: Scale) -> RecodeProposal:
    lines: list[RecodeLine] = []
    for label in options:
        kind = missing_type(label, scale.id)
        if kind is not None:
            lines.append(RecodeLine(label, kind, "missing"))
            continue
        if scale.kind == "open":
            lines.append(RecodeLine(label, None, "review"))
            continue
        code, status = _match(label, scale)
        lines.append(RecodeLine(label, code, status))
    order = [scale.codes.index(ln.target) for ln in lines
             if ln.status in ("exact", "likely") and ln.target in scale.codes]
    reversed_ = (scale.kind == "ordinal" and len(order) >= 2
                 and order == sorted(order, reverse=True) and order[0] != order[-1])
    return RecodeProposal(scale=scale.id, lines=tuple(lines), reversed=reversed_)


def match_category(label: str, scale: Scale) -> str | None:
    """The scale category whose label or code equals ``label`` once normalised, if any."""
    code, status = _match(label, scale)
    return code if status == "exact" else None
