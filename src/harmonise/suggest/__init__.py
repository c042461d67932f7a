"""Suggest which schema concept a question measures, offline: similarity to shortlist
(embeddings when the ``suggest`` extra is installed, word overlap otherwise), explicit
facets (time, place, period, universe, polarity, response scale) to decide, and a recode
proposal from the question's answer labels to the concept's scale codes.

Modules: :mod:`~harmonise.suggest.text` (word normalisation), :mod:`~.facets`,
:mod:`~.scales` (scale shape, recode proposal, missing types), :mod:`~.lexical`,
:mod:`~.embed` (optional model), :mod:`~.rank` (the ranker), :mod:`~.survey` (questions
from a read export).
"""

from __future__ import annotations

from harmonise.suggest.rank import (
    NONE_BELOW,
    Candidate,
    Question,
    QuestionSuggestion,
    Suggester,
    suggest,
)

__all__ = ["NONE_BELOW", "Candidate", "Question", "QuestionSuggestion", "Suggester",
           "suggest"]
