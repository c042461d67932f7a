"""Facets of a question — time, place, reference period, universe, polarity, scale — and
how a question's facets compare with a schema concept's.

Embeddings and word overlap see "… after dark" and "… during the day" as near-identical;
in community-safety surveys those differences decide comparability. So each question and
each concept is read by the same rules (:func:`read_facets`) and :func:`compare` turns a
difference into a verdict with a reason a person can read:

========================  =====================================================
difference                effect
========================  =====================================================
time (day vs after dark)  **ruled out**
place (area vs town       **ruled out** (area ≈ where you live ≈ near your home is
centre, home, school …)   the same place, noted)
no time/place stated      demoted (the concept has one; the question does not)
reference period          demoted (ever vs last 12 months, yesterday vs nowadays)
universe (adults vs       demoted (never above ``proxy``)
pupils)
polarity (unsafe vs safe) flagged and demoted: the recode must run the other way
response scale family     demoted (worried vs safe); points or midpoint: noted
========================  =====================================================

A concept's facets come from the schema (its ``place`` and ``time`` fields, its population,
its scale and the scales its indicators accept) plus the same reading of its wording and
label — no facet metadata is stored in the schema file, so released schema and crosswalk
files keep their bytes and hashes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harmonise.suggest.scales import GENERIC_FAMILIES, KINDRED, ScaleShape, scale_shape
from harmonise.suggest.text import phrase

# --- reading -------------------------------------------------------------------------

_TIME = (
    ("dark", re.compile(r"\bafter dark\b|\bat night\b|\bnight ?time\b|\bin the dark\b"
                        r"|\bafter nightfall\b|\bin the evenings?\b|\bat dusk\b"
                        r"|\bwhen (it s|its|it is) dark\b|\bgoing out after\b|\bat nights\b")),
    ("day", re.compile(r"\bduring the day\b|\bin the day ?time\b|\bdaytime\b|\bin daylight\b"
                       r"|\bby day\b|\bduring daylight\b|\bin the day\b|\bday time\b"
                       r"|\bdaylight\b")),
)

_PLACE = (
    ("busy_place", re.compile(r"\bbusy (public )?(place|space|street)s?\b")),
    ("park", re.compile(r"\bparks?\b|\bopen spaces?\b|\bwoodland\b")),
    ("public_transport", re.compile(r"\bpublic transport\b|\bon (the )?(bus|buses|train|trains|"
                                    r"tram|trams|tube)\b|\b(bus|train) stations?\b|\bbus stops?\b"
                                    r"|\bbus(es)?\b|\btrains?\b")),
    ("work", re.compile(r"\bworkplace\b|\bat work\b|\bplace of work\b")),
    ("in_person", re.compile(r"\bin person\b|\bface to face\b|\boffline\b")),
    ("town_centre", re.compile(r"\b(town|city) cent(re|er)s?\b|\bhigh streets?\b|\bshopping "
                               r"(area|centre|center)s?\b|\bbusiness (area|district)s?\b"
                               r"|\bdowntown\b|\bnight ?time economy\b")),
    ("area", re.compile(r"\bnear (your |my )?home\b|\bnear where\b|\bwhere (you|i) live\b"
                        r"|\b(this|your|my|the|local|their) (local )?(area|neighbou?rhood)s?\b"
                        r"|\bneighbou?rhood\b|\blocal area\b|\bin (your|my|the) street\b"
                        r"|\bquiet street\b|\bcommunity\b|\bhome area\b|\baround here\b")),
    ("home", re.compile(r"\b(in|at) (your |my )?(own )?home\b|\bhome alone\b|\bat home\b"
                        r"|\bin (your|my) (own )?house\b")),
    ("school", re.compile(r"\b(at|in|your|my|to|from) (secondary )?school\b|\bschools?\b"
                          r"|\bclassroom\b|\bplayground\b")),
    ("online", re.compile(r"\bonline\b|\binternet\b|\bsocial media\b|\bcyber\w*|\bchat rooms?\b"
                          r"|\b(text|instant) messages?\b|\bgaming\b|\bapps?\b")),
)
#: Places that count as the same place for the area concepts.
_PLACE_FAMILY = {"area": "area", "where_you_live": "area", "quiet_street": "area",
                 "town_centre": "town_centre", "busy_place": "busy_place", "park": "park",
                 "home": "home", "school": "school", "online": "online",
                 "public_transport": "public_transport", "work": "work",
                 "in_person": "in_person"}

_PERIOD = (
    ("next_12_months", re.compile(r"\bnext (12|twelve) months\b|\bnext year\b|\bin the future\b")),
    ("12_months", re.compile(r"\b(last|past|previous) (12|twelve) months\b|\b(last|past) year\b"
                             r"|\bin the last year\b|\bsince (last|this time last) year\b")),
    ("month", re.compile(r"\b(last|past|previous) (month|4 weeks|four weeks|30 days)\b")),
    ("week", re.compile(r"\b(last|past|previous) (week|7 days|seven days)\b")),
    ("yesterday", re.compile(r"\byesterday\b")),
    ("now", re.compile(r"\bnowadays\b|\bat the moment\b|\bat present\b|\bcurrently\b"
                       r"|\bthese days\b|\bin general\b")),
    ("ever", re.compile(r"\bever\b|\bat any time\b")),
)

_UNIVERSE = (
    ("pupils", re.compile(r"\bpupils?\b|\bat (your|my) school\b|\byear (group|are you in)\b"
                          r"|\bwhat year\b|\bi am in year\b|\bin year [0-9]+\b|\bstudents?\b")),
    ("young_people", re.compile(r"\b(you are|aged) (11|12|13|14|15|16|17) to (16|17|18)\b"
                                r"|\bunder 18s?\b|\bas a young person\b")),
    ("adults", re.compile(r"\b(adult )?residents?\b(?! (of|in) (a|the) care)|\baged (16|18) "
                          r"(and|or) over\b|\bhouseholders?\b")),
)

_POLE_NEG = re.compile(r"\bunsafe\b|\bnot (feel )?safe\b|\b(dont|do not|never) feel safe\b"
                       r"|\bafraid\b|\bfrightened\b|\bscared\b|\binsecure\b")
_POLE_POS = re.compile(r"\bsafe\b")
_BOTH = re.compile(r"\bsafe or unsafe\b|\bunsafe or safe\b|\bsafe or not\b")
_STATEMENT_NEG = re.compile(r"^(i|we) (do not|dont|never|cannot|cant|would not|wouldnt) ")


@dataclass(frozen=True)
class Facets:
    """What a wording (and its answer list) says about time, place, period, universe,
    polarity and response scale. ``None`` means the wording does not say."""

    time: str | None = None
    time_words: str | None = None
    place: str | None = None
    place_detail: str | None = None
    period: str | None = None
    universe: str | None = None
    polarity: str | None = None  # positive | negative | both | negated_statement
    scale: ScaleShape | None = None

    def as_dict(self) -> dict[str, object]:
        return {"time": self.time, "place": self.place, "period": self.period,
                "universe": self.universe, "polarity": self.polarity,
                "scale": None if self.scale is None else {
                    "points": self.scale.points, "midpoint": self.scale.midpoint,
                    "family": self.scale.family, "missing": list(self.scale.missing)}}


def _first(patterns: Sequence[tuple[str, re.Pattern[str]]], text: str
           ) -> tuple[str | None, str | None]:
    for name, pattern in patterns:
        m = pattern.search(text)
        if m:
            return name, m.group(0)
    return None, None


def read_polarity(text: str) -> str | None:
    """``positive`` (safe), ``negative`` (unsafe, afraid), ``both`` (safe or unsafe), a
    ``negated_statement`` ("I do not feel safe …") or None when the wording has no pole."""
    folded = phrase(text)
    if _STATEMENT_NEG.search(folded) and _POLE_POS.search(folded):
        return "negated_statement"
    if _BOTH.search(folded):
        return "both"
    neg = bool(_POLE_NEG.search(folded))
    pos = bool(_POLE_POS.search(_POLE_NEG.sub(" ", folded)))
    if neg and pos:
        return "both"
    if neg:
        return "negative"
    return "positive" if pos else None


def read_facets(text: str, options: Sequence[str] = ()) -> Facets:
    """The facets of one wording and its answer options."""
    folded = phrase(text)
    time, time_words = _first(_TIME, folded)
    if time is not None:
        other = [n for n, p in _TIME if n != time and p.search(folded)]
        if other:  # "during the day and after dark": no single time
            time, time_words = "both", None
    place, place_words = _first(_PLACE, folded)
    detail = place
    if place == "area" and place_words and re.search(r"where (you|i) live", place_words):
        detail = "where_you_live"
    elif place == "area" and place_words and re.search(r"near|quiet street", place_words):
        detail = "near_home"
    period, _ = _first(_PERIOD, folded)
    universe, _ = _first(_UNIVERSE, folded)
    shape = scale_shape(options)
    if universe is None and shape is not None and shape.family == "year":
        universe = "pupils"
    return Facets(time=time, time_words=time_words, place=place, place_detail=detail,
                  period=period, universe=universe, polarity=read_polarity(text), scale=shape)


# --- comparing -----------------------------------------------------------------------

UNIVERSE_OF_POPULATION = {"adults_16plus": "adults", "adults_18plus": "adults",
                          "young_people_11_18": "young_people", "pupils_y7_y11": "pupils"}


@dataclass(frozen=True)
class ConceptFacets:
    """A concept's facets: read from its wording and label, overridden by the schema's own
    ``place``/``time`` fields and population; ``families`` are the scale families it
    accepts (its scale and every scale its indicators define a dichotomy for)."""

    time: str | None
    place: str | None
    place_detail: str | None
    period: str | None
    universe: str | None
    polarity: str | None
    families: frozenset[str]
    multi: bool


@dataclass(frozen=True)
class Verdict:
    """How a question's facets compare with a concept's."""

    ruled_out: bool
    factor: float  # multiplies the score (1 = no change)
    reasons: tuple[str, ...]  # every difference or agreement worth showing
    flags: tuple[str, ...]  # things a person must look at even when the match stands


_PERIOD_WORDS = {"12_months": "the last 12 months", "month": "the last month",
                 "week": "the last week", "yesterday": "yesterday", "now": "nowadays",
                 "ever": "ever", "next_12_months": "the next 12 months"}
_TIME_WORDS = {"day": "during the day", "dark": "after dark", "both": "day and dark"}


def compare(q: Facets, c: ConceptFacets, concept_id: str) -> Verdict:
    """The verdict for one question against one concept (see the module docstring)."""
    reasons: list[str] = []
    flags: list[str] = []
    factor = 1.0
    # time
    if c.time is not None:
        if q.time is None:
            factor *= 0.65
            reasons.append(f"time: the question names no time of day; {concept_id} is "
                           f"{_TIME_WORDS[c.time]}")
        elif q.time == "both":
            factor *= 0.7
            reasons.append("time: the question mixes day and after dark")
        elif q.time != c.time:
            return Verdict(True, 0.0, (f"time differs: question {_TIME_WORDS[q.time]!r}, "
                                       f"{concept_id} {_TIME_WORDS[c.time]!r}",), ())
        else:
            note = "" if q.time_words in (None, "after dark", "during the day") else \
                f" ('{q.time_words}' read as {_TIME_WORDS[c.time]}: at most close)"
            reasons.append(f"time matches: {_TIME_WORDS[c.time]}{note}")
    elif q.time in ("day", "dark"):
        factor *= 0.9
        reasons.append(f"time: the question is about {_TIME_WORDS[q.time]}; {concept_id} "
                       "has no time of day")
    # place
    if c.place is not None:
        qf, cf = _PLACE_FAMILY.get(q.place or ""), _PLACE_FAMILY.get(c.place)
        if q.place is None:
            factor *= 0.9
            reasons.append(f"place: the question names no place; {concept_id} is "
                           f"{c.place.replace('_', ' ')}")
        elif qf != cf:
            return Verdict(True, 0.0, (f"place differs: question "
                                       f"{q.place.replace('_', ' ')!r}, {concept_id} "
                                       f"{c.place.replace('_', ' ')!r}",), ())
        else:
            same = q.place_detail == c.place_detail or {q.place_detail, c.place_detail} == {
                "area"}
            reasons.append(f"place matches: {c.place.replace('_', ' ')}" + (
                "" if same else f" ({(q.place_detail or '').replace('_', ' ')} vs "
                                f"{(c.place_detail or '').replace('_', ' ')}: at most close)"))
    elif q.place is not None and q.place not in ("area",) and not c.multi:
        factor *= 0.85
        reasons.append(f"place: the question is about {q.place.replace('_', ' ')}; "
                       f"{concept_id} names no such place")
    # reference period
    if q.period is not None and c.period is not None and q.period != c.period:
        factor *= 0.8
        reasons.append(f"period differs: question {_PERIOD_WORDS[q.period]}, {concept_id} "
                       f"{_PERIOD_WORDS[c.period]}")
    elif q.period is not None and c.period is None and q.period in ("next_12_months",
                                                                    "yesterday"):
        factor *= 0.85
        reasons.append(f"period: the question asks about {_PERIOD_WORDS[q.period]}")
    # universe
    if q.universe is not None and c.universe is not None and q.universe != c.universe:
        young = {"young_people", "pupils"}
        if {q.universe, c.universe} <= young:
            reasons.append(f"universe: {q.universe.replace('_', ' ')} vs "
                           f"{c.universe.replace('_', ' ')} (at most proxy)")
        else:
            factor *= 0.85
            reasons.append(f"universe differs: {q.universe.replace('_', ' ')} vs "
                           f"{c.universe.replace('_', ' ')} (never above proxy)")
    # polarity
    if c.polarity in ("positive", "both") and q.polarity in ("negative", "negated_statement"):
        factor *= 0.9
        kind = "a negated statement" if q.polarity == "negated_statement" else \
            "the negative pole (unsafe)"
        flags.append(f"reversed polarity: the question asks about {kind}; {concept_id} "
                     "measures feeling safe — the recode must run the other way")
    # response scale
    shape = q.scale
    if shape is not None and shape.family is not None and c.families:
        if c.multi and shape.family != "multi" and shape.family is not None:
            pass
        elif KINDRED.get(shape.family, shape.family) in {KINDRED.get(f, f) for f in c.families}:
            reasons.append(f"response scale: {shape.describe()} (close to "
                           f"{'/'.join(sorted(c.families))})")
        elif shape.family not in c.families and not (shape.family in ("yesno",)
                                                     and "multi" in c.families):
            generic = shape.family in GENERIC_FAMILIES
            factor *= 0.85 if generic else 0.6
            reasons.append(f"response {'format' if generic else 'scale'} differs: "
                           f"{shape.describe()} answers, {concept_id} takes "
                           f"{'/'.join(sorted(c.families))}")
        else:
            reasons.append(f"response scale: {shape.describe()}")
    return Verdict(False, factor, tuple(reasons), tuple(flags))
