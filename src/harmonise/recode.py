"""Apply a crosswalk to a SurveyFile: SurveyFile -> HarmonisedSurvey, with an audit.

("harmonise" the verb; the module is named apart from the package.)
"""

from __future__ import annotations

import math
import re
import unicodedata
from numbers import Number
from typing import Any

from harmonise.models.crosswalk import BLANK

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_SPACE = re.compile(r"\s+")


def normalise_value(value: Any) -> str:
    """The key a source value (or a recode-table key) is matched on.

    Numbers match whatever their type (``1``, ``1.0`` and ``numpy.int8(1)`` are all ``"1"``);
    text matches ignoring case, surrounding and repeated whitespace, curly quotes and dashes;
    empty cells (NaN, None, blank text) match the crosswalk key ``(blank)``.
    """
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Number) and not isinstance(value, complex):
        f = float(value)  # type: ignore[arg-type]
        if math.isnan(f):
            return BLANK
        return str(int(f)) if f.is_integer() else repr(f)
    text = unicodedata.normalize("NFKC", str(value)).translate(_QUOTES)
    text = _SPACE.sub(" ", text).strip().casefold()
    if text in ("", "(blank)"):
        return BLANK
    return text
