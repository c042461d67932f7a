"""What a draft crosswalk can tell from a file by rule (pure; used by :mod:`.draft`).

* **Not an answer**: the respondent id (named like an id, every value present and
  unique), platform metadata (:data:`METADATA`: status, collector, language, duration,
  start/end, KoboToolbox/ODK ``_uuid``-style fields…), date-time columns (timestamps) and
  columns with a different text value in almost every row (ids, typed text) are not
  proposed as items: they go to ``unmapped:`` with the reason.
* **Age bands**: ``"18-24"``, ``"18 to 24"``, ``"65+"``, ``"75 and over"``, ``"Under 18"``
  and target codes ``18_34`` / ``65_plus`` are read as age ranges, so a survey's bands can
  be placed inside the bands of a targets file when each lies within exactly one of them
  (``25-34`` → ``18_34``), and get clean codes (``18_24``, ``75_plus``) otherwise.
* **Targets**: each area × population of a targets file is one :class:`TargetsChoice`;
  the draft picks the one whose categories the file's sex / age / area answers fit.
* **Codes**: :func:`code_for` makes a clean slug of a label (no ``v_`` prefix: codes
  may start with a digit, ``18_24``).
* **Multi-select options**: :func:`split_label` parts "question: option" labels (SPSS
  dichotomies) and :func:`option_code` finds the concept's option with the same words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from harmonise.models.schema import Concept
from harmonise.models.survey import VariableInfo

_ID = re.compile(r"^(resp(ondent)?|response|pupil|case|record|unique|participant|serial|"
                 r"user|submission|entry|row|interview|form|instance)?[ _]?"
                 r"(id|no|num|number|serial|uuid|ref|reference)$|^respid$|^id$|^serial$|"
                 r"^uuid$|^_?(uuid|id|index)$")

METADATA = re.compile(
    r"^_?(status|response ?status|collector( ?(id|name|type))?|language|user ?language|"
    r"user ?agent|browser|device|device ?type|operating ?system|os|referr?er|duration|"
    r"duration( in)? ?(seconds|minutes|secs?|mins?)?|time ?taken|progress|finished|"
    r"complete(d)?|response ?type|distribution ?channel|recorded ?date|channel|source|"
    r"page|panel|survey ?(id|name|version)|form ?(id|version)|version|started|ended|start|"
    r"end|today|deviceid|subscriberid|simserial|phonenumber|audit|instance ?id|"
    r"instanceid|meta ?instance ?id|submission ?(time|date)|submitted ?by|validation ?status|"
    r"notes|tags|index|parent ?index|parent ?table ?name|submission ?uuid|"
    r"external ?(data ?)?reference|custom ?(data|variable|field) ?\d*|"
    r"recipient ?(first ?name|last ?name|email)|location ?(latitude|longitude)|"
    r"ip ?address|timestamp|date ?(submitted|modified|created|completed)|"
    r"(start|end|completion|submission) ?(date|time))$")
"""Column names (lower case, spaced) that platforms add to every export."""

_WORDS = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def spaced(name: str) -> str:
    """``"ResponseId"`` -> ``"response id"``; ``"meta/instanceID"`` -> ``"meta instance id"``."""
    return " ".join(_WORDS.findall(_CAMEL.sub(" ", name).casefold()))


def is_respondent_id(name: str, series: pd.Series) -> bool:
    """A column named like an id whose values are all present and unique."""
    words = spaced(name)
    return (bool(_ID.match(words.replace(" ", "_")) or _ID.match(words)
                 or _ID.match(words.replace(" ", "")))
            and len(series) > 0 and bool(series.notna().all()) and bool(series.is_unique))


def metadata_reason(name: str, series: pd.Series) -> str | None:
    """Why a column is not an answer to propose as an item, or None when it may be one."""
    words = spaced(name)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date-time column (a timestamp): platform metadata, not an answer"
    if words and (METADATA.match(words) or METADATA.match(words.replace(" ", ""))):
        return "platform metadata (not a survey question)"
    filled = series.dropna()
    if pd.api.types.is_numeric_dtype(series.dtype):
        return None
    texts = filled.astype(str)
    if len(texts) >= 20 and texts.nunique() >= 0.9 * len(texts):
        return ("a different value in almost every row: an identifier or typed text, not "
                "a closed question")
    return None


def code_for(label: object, limit: int = 48) -> str:
    """A clean code for a label: ``"Very safe"`` -> ``very_safe``, ``"65+"`` -> ``65_plus``,
    ``"18-24"`` -> ``18_24``; never empty (``value``)."""
    text = str(label)
    band = parse_band(text)
    if band is not None:
        return band_code(*band)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    folded = folded.casefold().replace("'", "").replace("+", " plus ")
    out = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:limit].strip("_")
    return out or "value"


_RANGE = re.compile(r"^(?:aged? )?(\d{1,3}) ?(?:-|–|—|to|_) ?(\d{1,3})(?: ?(?:years?|yrs?)"
                    r"(?: old)?)?$")
_OPEN = re.compile(r"^(?:aged? )?(\d{1,3}) ?(?:\+|plus|_plus|and over|and older|or over|"
                   r"or older|years? and over|years? or over|years? and older)$")
_UNDER = re.compile(r"^(?:under|below|less than|younger than) (\d{1,3})(?: years?)?$")


def parse_band(text: str) -> tuple[int, int | None] | None:
    """``"18-24"`` -> (18, 24); ``"65+"`` -> (65, None); ``"Under 18"`` -> (0, 17);
    ``"18_34"`` / ``"65_plus"`` (target codes) too; anything else None."""
    t = " ".join(str(text).casefold().replace("–", "-").split())
    if m := _RANGE.match(t):
        lo, hi = int(m.group(1)), int(m.group(2))
        return (lo, hi) if lo <= hi else None
    if m := _OPEN.match(t):
        return int(m.group(1)), None
    if m := _UNDER.match(t):
        return 0, int(m.group(1)) - 1
    return None


def band_code(lo: int, hi: int | None) -> str:
    return f"{lo}_plus" if hi is None else f"{lo}_{hi}"


def nest_bands(labels: Iterable[str], categories: Iterable[str]) -> dict[str, str] | None:
    """Each survey band -> the target category containing it; None unless every band lies
    inside exactly one target band (a ``16-24`` band cannot go into ``18_34``)."""
    targets = [(c, parse_band(c)) for c in categories]
    if not targets or any(b is None for _, b in targets):
        return None
    out: dict[str, str] = {}
    for label in labels:
        band = parse_band(label)
        if band is None and re.fullmatch(r"\d{1,3}(\.0)?", str(label).strip()):
            age = int(float(label))  # an age in years: a band of one year
            band = (age, age)
        if band is None:
            return None
        lo, hi = band
        inside = [c for c, b in targets if b is not None and b[0] <= lo
                  and (b[1] is None or (hi is not None and hi <= b[1]))]
        if len(inside) != 1:
            return None
        out[label] = inside[0]
    return out


@dataclass(frozen=True)
class TargetsChoice:
    """One area × population of a targets file, as a draft's weighting block names it."""

    path: str  # as the crosswalk writes it: relative to the project root
    area_code: str
    area_name: str
    population: str
    margins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def targets_choices(path: str, table: pd.DataFrame) -> list[TargetsChoice]:
    """Every area × population in a targets table (read with ``dtype=str``)."""
    needed = {"area_code", "area_name", "population", "variable", "category"}
    if not needed <= set(table.columns):
        return []
    out = []
    for (code, population), rows in table.groupby(["area_code", "population"], sort=True):
        margins = {str(v): tuple(str(c) for c in sub["category"])
                   for v, sub in rows.groupby("variable", sort=False)}
        out.append(TargetsChoice(path=path, area_code=str(code),
                                 area_name=str(rows["area_name"].iloc[0]),
                                 population=str(population), margins=margins))
    return out


def fit_margin(variable: str, labels: Iterable[str], choice: TargetsChoice
               ) -> dict[str, str] | None:
    """Label -> target category for every label, or None when the labels do not fit."""
    categories = choice.margins.get(variable)
    if not categories:
        return None
    labels = list(labels)
    if not labels:
        return None
    if variable == "age_band":
        return nest_bands(labels, categories)
    codes = {code_for(label): label for label in labels}
    if set(codes) <= set(categories):
        return {label: code for code, label in codes.items()}
    return None


def csp_slug(area_name: str) -> str:
    """``"Central Bedfordshire"`` -> ``central-beds``-style id: lower case, dashes."""
    return code_for(area_name).replace("_", "-")


def words_of(text: str) -> list[str]:
    """Every word of ``text``, lower case, accents and apostrophes dropped (no stop words
    removed: "word for word" means every word)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return list(_WORDS.findall(folded.casefold().replace("'", "").replace("’", "")))


def split_label(col: str, members: Sequence[str], variables: Mapping[str, VariableInfo]
                ) -> tuple[str | None, str | None]:
    """(question, option) of a multi-select member whose label holds both
    ("What makes you feel unsafe? (tick all that apply): Drug use or dealing"): the
    members' common start is the question, the rest the option."""
    labels = [variables[m].label or "" for m in members if m in variables]
    label = variables[col].label
    if not label or len(labels) < 2:
        return label, None
    prefix = labels[0]
    for other in labels[1:]:
        while not other.startswith(prefix):
            prefix = prefix[:-1]
    cut = max(prefix.rfind(":"), prefix.rfind(" - "), prefix.rfind("|"))
    if cut <= 0:
        return label, None
    question = prefix[:cut].strip()
    option = label[cut:].lstrip(":-| ").strip()
    return (question or label), (option or None)


def option_code(label: str | None, concept: Concept) -> str | None:
    """The concept's option whose label (or code) is ``label`` word for word, if any."""
    if not label:
        return None
    words = words_of(label)
    for option in concept.options:
        if words in (words_of(option.label), words_of(option.code.replace("_", " "))):
            return option.code
    return None


__all__ = [
    "METADATA",
    "TargetsChoice",
    "band_code",
    "code_for",
    "csp_slug",
    "fit_margin",
    "is_respondent_id",
    "metadata_reason",
    "nest_bands",
    "option_code",
    "parse_band",
    "spaced",
    "split_label",
    "targets_choices",
    "words_of",
]
