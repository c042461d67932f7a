"""Suggest a schema concept for a question by plain string similarity, and say how it scored.

Both texts are normalised (lower case, punctuation dropped, curly quotes folded, and the
words in ``STOPWORDS`` removed), then compared two ways:

* **word overlap**: Jaccard similarity of the two word sets, ``|A ∩ B| / |A ∪ B|``;
* **sequence**: :class:`difflib.SequenceMatcher` ratio of the two normalised strings
  (``2 × matching characters / total characters``), which rewards the same word order.

``score = (overlap + sequence) / 2``. A question is matched against each concept's
standard wording and its label; the best concept is suggested when its score is at least
``THRESHOLD`` (0.6) and it beats the runner-up by ``MARGIN`` (0.05), otherwise nothing is
suggested. The numbers go into the draft crosswalk as a YAML comment so a person can see
why. This is a string match, not a judgement of comparability: a person still grades it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from harmonise.models.schema import Concept, Scale, Schema

THRESHOLD = 0.6
MARGIN = 0.05
STOPWORDS = frozenset((
    "a", "an", "the", "you", "your", "do", "does", "is", "are", "of", "to", "in", "at", "on",
    "for", "or", "and", "this", "that", "how", "what", "when", "with", "be", "it", "i", "me",
    "my",
))
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Normalised content words of ``text``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return [w for w in _WORD.findall(folded.replace("'", "")) if w not in STOPWORDS]


@dataclass(frozen=True)
class Similarity:
    overlap: float
    sequence: float

    @property
    def score(self) -> float:
        return (self.overlap + self.sequence) / 2


def similarity(a: str, b: str) -> Similarity:
    """Word-set Jaccard and difflib ratio of two texts after normalisation."""
    wa, wb = words(a), words(b)
    sa, sb = set(wa), set(wb)
    overlap = len(sa & sb) / len(sa | sb) if sa | sb else 0.0
    sequence = difflib.SequenceMatcher(None, " ".join(wa), " ".join(wb), autojunk=False).ratio()
    return Similarity(overlap, sequence)


@dataclass(frozen=True)
class Suggestion:
    concept: Concept
    against: str  # the schema text that matched best
    similarity: Similarity
    runner_up: float

    def explain(self) -> str:
        s = self.similarity
        return (f"suggested by string match: score {s.score:.2f} (word overlap "
                f"{s.overlap:.2f}, sequence {s.sequence:.2f}; threshold {THRESHOLD}) against "
                f"{self.against!r}; next best {self.runner_up:.2f}")


def suggest_concept(question: str | None, schema: Schema,
                    population: str | None = None) -> Suggestion | None:
    """The concept whose wording or label best matches ``question``, if it matches closely.

    ``population`` (when given) limits the candidates to concepts for that population or
    ``all``.
    """
    if not question or not words(question):
        return None
    scored: list[tuple[float, Concept, str, Similarity]] = []
    for concept in schema.concepts:
        if population and concept.population not in (population, "all"):
            continue
        best = max(((similarity(question, text), text) for text in (concept.wording,
                                                                      concept.label)),
                   key=lambda st: st[0].score)
        scored.append((best[0].score, concept, best[1], best[0]))
    if not scored:
        return None
    scored.sort(key=lambda t: -t[0])
    top = scored[0]
    runner = scored[1][0] if len(scored) > 1 else 0.0
    if top[0] < THRESHOLD or top[0] - runner < MARGIN:
        return None
    return Suggestion(concept=top[1], against=top[2], similarity=top[3], runner_up=runner)


def match_category(label: str, scale: Scale) -> str | None:
    """The scale category whose label or code equals ``label`` once normalised, if any."""
    key = " ".join(words(label)) or label.casefold().strip()
    for cat in scale.categories:
        if key in (" ".join(words(cat.label)), " ".join(words(cat.code.replace("_", " ")))):
            return cat.code
    return None


_MISSING = (
    ("dont_know", re.compile(r"\b(don ?t|do not) know\b|^dk$|\bnot known\b")),
    ("refused", re.compile(r"\brefused\b|\bprefer not to (say|answer)\b|\brather not say\b")),
    ("not_asked", re.compile(r"\bnot asked\b")),
    ("not_applicable", re.compile(r"\bnot applicable\b|^n ?a$|\bdoes not apply\b")),
    ("no_answer", re.compile(r"\bno (answer|reply|response)\b|^missing\b|\bnot answered\b"
                             r"|\bskipped\b")),
)


def missing_type(label: str) -> str | None:
    """A missing type for an answer label such as "Don't know" or "Prefer not to say"."""
    folded = " ".join(_WORD.findall(unicodedata.normalize("NFKD", label).encode(
        "ascii", "ignore").decode().casefold().replace("'", "")))
    for kind, pattern in _MISSING:
        if pattern.search(folded):
            return kind
    return None
