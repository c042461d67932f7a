"""Word normalisation shared by the suggestion modules: folding, stop words, light stemming.

Everything here is plain string work (no model): lower case, accents and curly quotes
folded, apostrophes dropped, then each word mapped through ``SYNONYMS`` (British and
American spellings, words survey writers use for the same thing) and a small suffix
stemmer, so "neighbourhood" and "neighborhood", "worried" and "worry", "offences" and
"offence" compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")

STOPWORDS = frozenset((
    "a", "an", "the", "you", "your", "yours", "do", "does", "did", "is", "are", "was", "were",
    "of", "to", "in", "at", "on", "for", "or", "and", "this", "that", "these", "those", "how",
    "what", "when", "with", "be", "been", "being", "it", "its", "i", "me", "my", "we", "our",
    "by", "as", "if", "any", "please", "tick", "all", "apply", "following", "would", "say",
    "think", "thinking", "about", "from", "there", "which", "who", "feel", "feeling", "much",
    "overall", "generally", "would", "one", "only", "box", "each", "have", "has", "had",
    "can", "could", "will", "so", "some", "where", "out", "up",
))
"""Words that carry no meaning for matching. ``not``/``no``/``never`` are kept (polarity)."""

SYNONYMS: dict[str, str] = {
    "neighbourhood": "area", "neighborhood": "area", "locality": "area", "local": "area",
    "community": "area", "estate": "area",
    "night": "dark", "nighttime": "dark", "evening": "dark", "dusk": "dark",
    "daytime": "day", "daylight": "day",
    "worry": "worried", "worries": "worried", "worrying": "worried", "anxious": "anxious",
    "concern": "concerned", "concerns": "concerned",
    "drug": "drugs",
    "offence": "offences", "offense": "offences", "offenses": "offences",
    "crimes": "crime", "criminal": "crime",
    "violent": "violence",
    "female": "female", "women": "female", "woman": "female", "girl": "female",
    "girls": "female", "male": "male", "men": "male", "man": "male", "boy": "male",
    "boys": "male", "gender": "sex",
    "photos": "images", "photo": "images", "pictures": "images", "picture": "images",
    "image": "images", "videos": "images", "video": "images", "nudes": "nude",
    "internet": "online", "cyber": "online", "cyberbullied": "bullied",
    "cyberbullying": "bullied", "bullying": "bullied", "bully": "bullied",
    "bullies": "bullied", "troll": "trolled", "trolling": "trolled",
    "knife": "weapons", "knives": "weapons", "weapon": "weapons", "blade": "weapons",
    "satisfaction": "satisfied", "satisfy": "satisfied", "dissatisfied": "satisfied",
    "trusted": "trust", "trustworthy": "trust",
    "centre": "centre", "center": "centre", "downtown": "centre",
    "unsafe": "unsafe", "safety": "safe", "safely": "safe", "secure": "safe",
    "old": "age", "aged": "age", "ages": "age", "birthday": "age",
    "live": "live", "living": "live", "lives": "live", "reside": "live",
    "ward": "area", "district": "area", "town": "town", "village": "area",
    "police": "police", "policing": "police", "officers": "police", "officer": "police",
    "abuse": "abuse", "abused": "abuse", "domestic": "domestic",
    "sexual": "sexual", "sex": "sex",
    "lighting": "lighting", "lights": "lighting", "lit": "lighting",
}

_SUFFIXES = ("ings", "ing", "edly", "ed", "es", "s")
_KEEP = frozenset(("less", "news", "yes", "bus", "always", "sometimes", "cctv", "images",
                   "drugs", "offences", "weapons", "police", "this", "was", "has", "is",
                   "unsafe", "worried", "concerned", "bullied", "trolled", "satisfied",
                   "dark", "nude"))


def fold(text: str) -> str:
    """Lower case, accents and curly quotes folded, apostrophes dropped."""
    out = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return out.replace("'", "").replace("\u2019", "")


def raw_words(text: str) -> list[str]:
    """Folded words of ``text``, stop words kept."""
    return _WORD.findall(fold(text))


def _stem(word: str) -> str:
    if word in _KEEP or word.isdigit() or len(word) <= 4:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def norm_word(word: str) -> str:
    """One word mapped through the synonyms, then stemmed."""
    word = SYNONYMS.get(word, word)
    return SYNONYMS.get(_stem(word), _stem(word))


def words(text: str) -> list[str]:
    """Normalised content words of ``text`` (stop words dropped, synonyms and stems applied)."""
    return list(_words(text))


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    return tuple(norm_word(w) for w in raw_words(text) if w not in STOPWORDS)


@lru_cache(maxsize=4096)
def phrase(text: str) -> str:
    """``text`` as one folded string of words separated by single spaces (for patterns)."""
    return " ".join(raw_words(text))
