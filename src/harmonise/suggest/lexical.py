"""Word-overlap similarity between a question and each concept's texts (no model).

Words are normalised by :mod:`harmonise.suggest.text` (synonyms, stems, stop words out).
Each word is weighted by its inverse document frequency over the schema's concept texts,
so a word every concept shares ("safe", "area") counts less than one that tells concepts
apart ("drugs", "trolled", "dark"). The score is the weighted Dice coefficient of the two
word sets, ``2 w(A ∩ B) / (w(A) + w(B))``, maximised over a concept's wording and label;
words the schema never uses get the highest weight, so a question about something else
scores low. This is the fallback method when the embedding extra is not installed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from harmonise.suggest.text import words


class LexicalIndex:
    """IDF-weighted word sets of every concept's texts."""

    def __init__(self, texts: Mapping[str, Sequence[str]]) -> None:
        self._sets = {cid: [frozenset(words(t)) for t in ts if t] for cid, ts in texts.items()}
        n = len(self._sets)
        df: dict[str, int] = {}
        for sets in self._sets.values():
            for w in frozenset().union(*sets) if sets else frozenset():
                df[w] = df.get(w, 0) + 1
        self._idf = {w: math.log((n + 1) / (d + 0.5)) for w, d in df.items()}
        self._unknown = math.log((n + 1) / 0.5)

    def weight(self, word: str) -> float:
        return self._idf.get(word, self._unknown)

    def dice(self, a: frozenset[str], b: frozenset[str]) -> float:
        if not a or not b:
            return 0.0
        both = sum(self.weight(w) for w in a & b)
        return 2 * both / (sum(self.weight(w) for w in a) + sum(self.weight(w) for w in b))

    def scores(self, text: str) -> dict[str, float]:
        """Concept id -> best weighted Dice of ``text`` against the concept's texts."""
        q = frozenset(words(text))
        return {cid: max((self.dice(q, s) for s in sets), default=0.0)
                for cid, sets in self._sets.items()}

    def informative(self, text: str) -> float:
        """How much the wording alone can say, 0-1: total weight of its words relative to a
        typical question (an "Are you…?" scores 0; words the schema never uses count fully,
        since they say the question is about something else)."""
        return min(1.0, sum(self.weight(w) for w in set(words(text))) / 6.0)
