"""Score the suggester against a labelled set of question wordings.

The set is a CSV with columns ``question_text``, ``response_options`` (``|``-separated),
``multi`` (``yes`` for a tick-box group), ``concept`` (the true concept id or ``none``)
and ``decoy`` (which contrast the item tests: ``day_dark``, ``place``, ``safe_unsafe``,
``worry_topic``, ``universe`` …, blank for none). ``tests/data/suggest/labelled.csv`` is
the bundled one (with its sources in ``SOURCES.md`` beside it).

* **top-1**: the suggestion (a concept or ``none``) equals the label;
* **top-3**: the label is among the three ranked concepts (for a ``none`` item: the
  suggestion is ``none``);
* **decoy error rate**: share of items with a decoy tag whose suggestion is wrong;
* **day/dark confusions**: suggestions of a concept whose time is the opposite of the
  label's; **safe/unsafe confusions**: polarity items whose suggestion is wrong or is
  right but carries no reversed-polarity/scale flag (a silent match).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harmonise.models.schema import Schema
from harmonise.suggest.rank import Question, QuestionSuggestion, Suggester


@dataclass(frozen=True)
class LabelledItem:
    id: str
    question: Question
    concept: str
    decoy: str
    kind: str


def read_labelled(path: Path) -> list[LabelledItem]:
    """The labelled set at ``path``."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: list[LabelledItem] = []
    for row in rows:
        opts = tuple(o.strip() for o in (row.get("response_options") or "").split("|")
                     if o.strip())
        out.append(LabelledItem(
            id=row.get("id") or str(len(out) + 1),
            question=Question(row["question_text"], opts,
                              multi=(row.get("multi") or "").strip().lower() in ("yes", "1",
                                                                                  "true")),
            concept=row["concept"].strip(), decoy=(row.get("decoy") or "").strip(),
            kind=(row.get("kind") or "").strip()))
    return out


@dataclass(frozen=True)
class Evaluation:
    method: str
    n: int
    top1: float
    top3: float
    n_decoy: int
    decoy_error: float
    day_dark_confusions: int
    safe_unsafe_confusions: int
    wrong: tuple[tuple[str, str, str], ...]  # (item id, label, suggestion)

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "n": self.n, "top1": round(self.top1, 4),
                "top3": round(self.top3, 4), "n_decoy": self.n_decoy,
                "decoy_error": round(self.decoy_error, 4),
                "day_dark_confusions": self.day_dark_confusions,
                "safe_unsafe_confusions": self.safe_unsafe_confusions}


def _time(concept: str, schema: Schema) -> str | None:
    return None if concept == "none" else schema.concept(concept).time


def evaluate(items: Sequence[LabelledItem], suggester: Suggester) -> Evaluation:
    """Top-1, top-3 and decoy errors of ``suggester`` on ``items``."""
    results: list[QuestionSuggestion] = suggester.suggest([i.question for i in items], top=3)
    schema = suggester.schema
    top1 = top3 = decoy_wrong = n_decoy = daydark = safeunsafe = 0
    wrong = []
    for item, res in zip(items, results, strict=True):
        got = res.suggestion
        ok1 = got == item.concept
        ok3 = ok1 if item.concept == "none" else item.concept in {
            c.concept for c in res.candidates}
        top1 += ok1
        top3 += ok3
        if not ok1:
            wrong.append((item.id, item.concept, got))
        if item.decoy:
            n_decoy += 1
            decoy_wrong += not ok1
        lt, gt = _time(item.concept, schema), _time(got, schema)
        if lt and gt and lt != gt:
            daydark += 1
        if item.decoy == "safe_unsafe" and item.concept != "none":
            flagged = res.best is not None and any(
                "reversed" in f for f in res.best.flags)
            safeunsafe += (not ok1) or not flagged
        elif item.decoy == "safe_unsafe" and not ok1:
            safeunsafe += 1
    n = len(items)
    return Evaluation(suggester.method, n, top1 / n if n else 0.0, top3 / n if n else 0.0,
                      n_decoy, decoy_wrong / n_decoy if n_decoy else 0.0, daydark,
                      safeunsafe, tuple(wrong))
