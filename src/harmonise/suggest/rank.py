"""Rank the schema's concepts for each question: similarity to shortlist, facets to decide.

For every question and every concept:

1. **similarity** of the wording to the concept's wording and label — cosine of sentence
   embeddings (``wordllama`` when the ``suggest`` extra is installed, or ``minilm``; rescaled
   to 0-1 and averaged with the word overlap) or,
   as the fallback, IDF-weighted word overlap (:mod:`harmonise.suggest.lexical`);
2. **answer options**: the share of the question's answer labels that map onto a scale
   the concept accepts (:func:`harmonise.suggest.scales.propose_recode`), or onto a
   multi-select concept's options; weighted more when the wording says little ("Are
   you…?") and less for generic scales (yes/no);
3. **facets** (:mod:`harmonise.suggest.facets`): a time or place mismatch rules the
   concept out, other differences demote it, a reversed pole is flagged — each with its
   reason.

``score = ((1 - w) · similarity + w · option fit) × facet factor``. The best concept is
suggested when its score is at least :data:`NONE_BELOW`, otherwise the answer is
``none``: a question the schema does not hold must not get its nearest neighbour.
Scores are for ranking and review, not a grade: a person still grades every match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harmonise.models.schema import Concept, Schema
from harmonise.suggest.embed import Embedder, SuggestModelError, load_embedder
from harmonise.suggest.facets import (
    UNIVERSE_OF_POPULATION,
    ConceptFacets,
    Facets,
    compare,
    read_facets,
)
from harmonise.suggest.lexical import LexicalIndex
from harmonise.suggest.scales import (
    GENERIC_FAMILIES,
    SCALE_FAMILY,
    RecodeProposal,
    label_family,
    propose_recode,
    scale_shape,
    substantive,
)
from harmonise.suggest.text import words

NONE_BELOW = {"lexical": 0.48, "wordllama": 0.40, "minilm": 0.53}
"""A best score below this is reported as ``none`` (per similarity method; chosen on the
labelled set in ``tests/data/suggest/``, see docs/suggest.md)."""


_MULTI_TEXT = re.compile(r"tick all|all that apply|select all|choose all|tick any|"
                         r"mark all|more than one|what (sort|kind)s? of things", re.IGNORECASE)

#: Words that never make a concept's topic: times, periods, places and the pole words
#: the facets already judge.
_NOT_TOPIC = frozenset(("dark", "day", "last", "12", "month", "months", "ever", "nowadays",
                        "area", "town", "centre", "online", "safe", "unsafe", "problem",
                        "alone", "walking", "people", "after", "go", "going", "their", "other",
                        "know", "many", "way", "made", "not"))


@dataclass(frozen=True)
class Question:
    """One question to match: its wording and answer options (labels, in order)."""

    text: str
    options: tuple[str, ...] = ()
    multi: bool = False  # a tick-box group: ``options`` are its items
    source: str | None = None  # column or group name, for messages

    @property
    def is_multi(self) -> bool:
        return self.multi or bool(_MULTI_TEXT.search(self.text))


@dataclass(frozen=True)
class Candidate:
    concept: str
    score: float
    similarity: float
    option_fit: float | None
    reasons: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    recode: RecodeProposal | None = None
    ruled_out: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"concept": self.concept, "score": round(self.score, 3),
                "similarity": round(self.similarity, 3),
                "option_fit": None if self.option_fit is None else round(self.option_fit, 3),
                "reasons": list(self.reasons), "flags": list(self.flags),
                "recode": None if self.recode is None else self.recode.as_dict()}


@dataclass(frozen=True)
class QuestionSuggestion:
    """The ranked concepts for one question; ``best`` is None when nothing fits (``none``)."""

    question: Question
    facets: Facets
    method: str
    candidates: tuple[Candidate, ...]
    ruled_out: tuple[Candidate, ...] = ()
    best: Candidate | None = None

    @property
    def suggestion(self) -> str:
        return self.best.concept if self.best is not None else "none"

    def as_dict(self) -> dict[str, object]:
        return {"question": self.question.text, "source": self.question.source,
                "options": list(self.question.options), "multi": self.question.is_multi,
                "method": self.method, "suggestion": self.suggestion,
                "facets": self.facets.as_dict(),
                "candidates": [c.as_dict() for c in self.candidates],
                "ruled_out": [{"concept": c.concept, "similarity": round(c.similarity, 3),
                               "reasons": list(c.reasons)} for c in self.ruled_out]}


@dataclass(frozen=True)
class _Profile:
    concept: Concept
    facets: ConceptFacets
    texts: tuple[str, ...]
    scales: tuple[str, ...] = field(default_factory=tuple)
    topic: tuple[frozenset[str], ...] = ()


def _accepted_scales(concept: Concept, schema: Schema) -> tuple[str, ...]:
    out = [concept.scale]
    for ind in schema.indicators:
        if ind.concept == concept.id:
            out.extend(s for s in ind.success if s not in out)
    return tuple(out)


def concept_facets(concept: Concept, schema: Schema) -> ConceptFacets:
    """A concept's facets (see :class:`ConceptFacets`)."""
    read = read_facets(f"{concept.wording} {concept.label}")
    scales = _accepted_scales(concept, schema)
    families = {SCALE_FAMILY[s] for s in scales if s in SCALE_FAMILY}
    if schema.scale(concept.scale).kind == "open" and re.search(r"\bage\b", concept.wording,
                                                                 re.IGNORECASE):
        families.add("age")
    elif schema.scale(concept.scale).kind == "open":
        families.add("names")
    detail = concept.place or read.place_detail
    place = {"where_you_live": "area"}.get(concept.place or "", concept.place) or read.place
    return ConceptFacets(
        time=concept.time or (read.time if read.time in ("day", "dark") else None),
        place=place, place_detail="area" if detail == "area" else detail,
        period=read.period, universe=UNIVERSE_OF_POPULATION.get(concept.population),
        polarity=read_facets(concept.wording).polarity, families=frozenset(families),
        multi=schema.scale(concept.scale).kind == "multi")


def _option_overlap(options: Sequence[str], targets: Sequence[str]) -> float:
    """Share of ``options`` whose words overlap one target label by half or more."""
    tsets = [frozenset(words(t)) for t in targets]
    hits = 0
    for opt in options:
        o = frozenset(words(opt))
        if o and any(len(o & t) / len(o | t) >= 0.34 for t in tsets if t):
            hits += 1
    return hits / len(options) if options else 0.0


class Suggester:
    """Ranks a schema's concepts for questions. Build once, call :meth:`suggest` often.

    ``method``: ``auto`` (the wordllama model when installed, else lexical),
    ``lexical``, ``wordllama`` or ``minilm``; ``facets=False`` switches the facet rules off (for the
    benchmark's comparison only).
    """

    def __init__(self, schema: Schema, method: str = "auto", *, facets: bool = True,
                 embedder: Embedder | None = None) -> None:
        self.schema = schema
        self.use_facets = facets
        self._embedder: Embedder | None = embedder
        if embedder is None and method != "lexical":
            self._embedder = load_embedder("wordllama" if method == "auto" else method)
            if self._embedder is None and method != "auto":
                raise SuggestModelError(
                    f"the {method} embedding model is not installed: pip install "
                    "'harmonise[suggest]', or use --method lexical")
        base = self._embedder.name if self._embedder is not None else "lexical"
        self.method = base + ("+facets" if facets else "")
        self._profiles = [
            _Profile(c, concept_facets(c, schema), (c.wording, c.label),
                     _accepted_scales(c, schema)) for c in schema.concepts]
        self._lexical = LexicalIndex({p.concept.id: p.texts for p in self._profiles})
        self._profiles = [_Profile(p.concept, p.facets, p.texts, p.scales,
                                   self._topic(p, self._profiles)) for p in self._profiles]
        self._concept_vecs: np.ndarray | None = None
        self._owner: list[int] = []
        if self._embedder is not None:
            texts = [t for p in self._profiles for t in p.texts]
            self._owner = [i for i, p in enumerate(self._profiles) for _ in p.texts]
            self._concept_vecs = self._embedder.embed(texts)

    @staticmethod
    def _topic(p: _Profile, profiles: Sequence[_Profile]) -> tuple[frozenset[str], ...]:
        """Per text of ``p``: the words that tell it apart from the concepts sharing its
        scale — its words less those used by half or more of that group, less time, place,
        period and filler words."""
        def bag(q: _Profile) -> frozenset[str]:
            return frozenset(w for t in q.texts for w in words(t))
        group = [q for q in profiles if q.concept.scale == p.concept.scale]
        shared = {w for w in bag(p) if len(group) > 1
                  and sum(w in bag(q) for q in group) * 2 >= len(group)}
        out = tuple(frozenset(words(t)) - _NOT_TOPIC - shared for t in p.texts)
        return tuple(t for t in out if t)

    def _coverage(self, text: str, topics: tuple[frozenset[str], ...]) -> float:
        """Best share (IDF-weighted) of a concept's topic words the question uses."""
        if not topics:
            return 1.0
        q = frozenset(words(text))
        return max(sum(self._lexical.weight(w) for w in t & q)
                   / sum(self._lexical.weight(w) for w in t) for t in topics)

    # --- similarity -----------------------------------------------------------------
    def _similarities(self, questions: Sequence[Question]) -> np.ndarray:
        n, k = len(questions), len(self._profiles)
        lex = np.zeros((n, k))
        for i, q in enumerate(questions):
            s = self._lexical.scores(q.text)
            lex[i] = [s[p.concept.id] for p in self._profiles]
        if self._embedder is None or self._concept_vecs is None:
            return lex
        emb = self._embedded(questions)
        return (emb + lex) / 2 if self.use_facets else emb

    def _embedded(self, questions: Sequence[Question]) -> np.ndarray:
        n, k = len(questions), len(self._profiles)
        assert self._embedder is not None and self._concept_vecs is not None
        qv = self._embedder.embed([q.text for q in questions])
        cos = qv @ self._concept_vecs.T
        out = np.full((n, k), -1.0)
        for j, owner in enumerate(self._owner):
            out[:, owner] = np.maximum(out[:, owner], cos[:, j])
        # rescaled from the model's [floor, ceil] (unrelated questions .. paraphrases) to 0-1
        lo, hi = self._embedder.floor, self._embedder.ceil
        return np.clip((out - lo) / (hi - lo), 0.0, 1.0)

    # --- options ----------------------------------------------------------------------
    def _options(self, q: Question, p: _Profile) -> tuple[float | None, RecodeProposal | None,
                                                         str | None]:
        subs = substantive(q.options)
        if not subs:
            return None, None, None
        shape = scale_shape(q.options)
        if shape is not None and shape.family in GENERIC_FAMILIES and not p.facets.multi \
                and shape.family not in p.facets.families:
            return None, None, None  # agree/disagree, yes/no: say nothing about the concept
        if p.facets.multi:
            labels = [o.label for o in p.concept.options]
            return _option_overlap(subs, labels), None, "multi"
        best: tuple[float, RecodeProposal | None, str | None] = (0.0, None, None)
        for scale_id in p.scales:
            scale = self.schema.scale(scale_id)
            if scale.kind == "open":
                if "age" in p.facets.families:
                    fit = sum(label_family(o) == "age" for o in subs) / len(subs)
                    if fit > best[0]:
                        best = (fit, None, "age")
                    continue
                if "names" in p.facets.families:
                    named = shape is not None and shape.family == "names"
                    return (1.0 if named else 0.0), None, "names"
                return None, None, None
            proposal = propose_recode(q.options, scale)
            if proposal.fit > best[0] or best[1] is None:
                best = (proposal.fit, proposal, SCALE_FAMILY.get(scale_id))
        return best

    # --- ranking ----------------------------------------------------------------------
    def suggest(self, questions: Sequence[Question], top: int = 3) -> list[QuestionSuggestion]:
        """The ranked suggestions for each question, in order."""
        if not questions:
            return []
        sims = self._similarities(questions)
        return [self._rank(q, sims[i], top) for i, q in enumerate(questions)]

    def _rank(self, q: Question, sims: np.ndarray, top: int) -> QuestionSuggestion:
        facets = read_facets(q.text, () if q.is_multi else q.options)
        info = self._lexical.informative(q.text)
        kept: list[Candidate] = []
        out: list[Candidate] = []
        for j, p in enumerate(self._profiles):
            sim = float(sims[j])
            fit, proposal, family = self._options(q, p) if q.options else (None, None, None)
            reasons: list[str] = []
            score = sim
            if fit is not None:
                spec = 0.3 if family in GENERIC_FAMILIES else 1.0
                w = spec * (0.2 + 0.6 * (1.0 - info))
                score = (1 - w) * sim + w * fit
                if proposal is not None and fit > 0:
                    reasons.append(f"answer options fit {proposal.scale}: {fit:.2f}")
                elif family == "multi":
                    reasons.append(f"tick-box options match the concept's options: {fit:.2f}")
            factor = 1.0
            if self.use_facets and not p.facets.multi:
                cover = self._coverage(q.text, p.topic)
                gate = (0.35 if cover == 0 else 0.7 + 0.3 * cover) ** info
                if gate < 0.95:
                    factor *= gate
                    words_ = sorted(frozenset().union(*p.topic))
                    reasons.append(f"topic: the wording uses {cover:.0%} of the words that "
                                   f"set {p.concept.id} apart ({', '.join(words_)})")
            if q.is_multi and not p.facets.multi:
                factor *= 0.5
                reasons.append("a tick-box group matches only a multi-select concept")
            elif p.facets.multi and not q.is_multi:
                factor *= 0.8
                reasons.append("the concept is multi-select; the question is not a tick-box "
                               "group")
            flags: list[str] = []
            if proposal is not None and proposal.reversed:
                flags.append("reversed scale: the answer labels run the other way from "
                             f"{proposal.scale} (negative first) — recode by label")
            if self.use_facets:
                verdict = compare(facets, p.facets, p.concept.id)
                if verdict.ruled_out:
                    out.append(Candidate(p.concept.id, 0.0, sim, fit, verdict.reasons,
                                         ruled_out=True))
                    continue
                factor *= verdict.factor
                reasons.extend(verdict.reasons)
                flags.extend(verdict.flags)
            kept.append(Candidate(p.concept.id, score * factor, sim, fit, tuple(reasons),
                                  tuple(flags), proposal))
        kept.sort(key=lambda c: (-c.score, c.concept))
        floor_ = NONE_BELOW["lexical" if self._embedder is None else self._embedder.name]
        best = kept[0] if kept and kept[0].score >= floor_ else None
        top_sim = sorted(kept, key=lambda c: -c.similarity)[:top]
        floor = top_sim[-1].similarity if top_sim else 0.0
        ruled = tuple(sorted((c for c in out if c.similarity >= floor),
                             key=lambda c: -c.similarity)[:top])
        return QuestionSuggestion(q, facets, self.method, tuple(kept[:top]), ruled, best)


def suggest(questions: Sequence[Question], schema: Schema, *, method: str = "auto",
            top: int = 3) -> list[QuestionSuggestion]:
    """Convenience wrapper: build a :class:`Suggester` and rank ``questions``."""
    return Suggester(schema, method).suggest(questions, top)
