"""What is identifying: the rules every stage uses (ingest drops such columns at the door;
recode, crosswalk drafts and validation keep such values out of messages and the audit).

Each column is judged from its name, its label/question/option text and its content:
what it *holds* decides, not a word in its question ("How worried are you about phone
theft?" is a closed question and stays). First, on content alone (:func:`_kind_by_content`):

* **timestamp**: 80% of the values are date-times with a time of day;
* **location**: 80% are latitude/longitude pairs (``51.87 -0.42 0 0``);
* **attachment**: 80% are names of uploaded files (``photo123.jpg``).

Then the rules below, in order (the first that fires names the kind):

=============  ====================================================  ======================
kind           header rule (name, label, question or option)         content rule
=============  ====================================================  ======================
email          asks for one: "Email", "e-mail address", "your email"  >50% look like e-mails
ip_address     "IP address", "IPAddress"                             >50% are IPv4/IPv6
location       "LocationLatitude", "longitude", "GPS", "geopoint"    (header only)
phone          asks for one: "Phone", "phone number", "your mobile"  >50% UK phone numbers
postcode       asks for one: "Postcode", "your postcode" (not "your  >50% full UK postcodes
               postcode area")
date_of_birth  "date of birth", "DOB", "birthday", "born"            dates giving ages 4-110
name           "name" alone, "first/last/full/your … name", "enter   >50% "Forename Surname"
               name", "what is your name"
school         "school name", "which school", "name of school"       >50% "… School/Academy"
timestamp      "Timestamp", "Start Date", "Completion time", "start"  (above)
free_text      "comment", "please specify", "Open-Ended Response"    many distinct long texts
=============  ====================================================  ======================

The ip_address, location and timestamp header rules fire even when the values repeat (test
responses share one timestamp and one geolocation): only answers that cannot be one hold
them back (a timestamp header over text answers with no date or time in them, "How
satisfied are you with the police response time?"; an IP or GPS header over Yes/No). The
name rule fires unless every answer is an answer word (Yes, No, N/A …) or a labelled or
numeric code: names repeat ("Mia" twice). A survey platform's own identifying columns
(``_submitted_by``, ``RecipientEmail`` …) are flagged by its layout
(:mod:`harmonise.ingest.platforms`) and passed in as ``forced``; its id and metadata
columns (``role``) get the cell check only.

Otherwise a header rule does not fire when the content says the column is a coded answer
(every value has a value label, or few distinct values repeated: "May we e-mail you?" Yes/No),
except for school, which is a quasi-identifier even when picked from a list (a numeric
school code is not flagged). For the e-mail, phone, postcode and name headers "coded" is not
enough: the answers must also be closed, every value labelled or numeric, or given by at
least two respondents, or an answer word (Yes, No, N/A, Prefer not to say …), so that a
few typed addresses or names among repeated "no" / "n/a" still flag the column. A
free-text header does not fire on a numeric column ("What is your age? | Open-Ended
Response"). A postcode header does not fire when every value is a
partial postcode (district or sector: area-level, not a person). When the answers are long
distinct texts, other header rules give way to free_text ("What happened on your mobile?").
An empty column whose header fires is flagged: nothing is lost by dropping it. A column of
ticked options joined in one cell (Microsoft/Google Forms, see
:mod:`harmonise.ingest.multiselect`) is coded answers, not free text, by content; so is an
ODK/Kobo select-multiple column (choice names joined by spaces) when every name has its own
``<column>/<name>`` column beside it.
Respondent ids, ages, sex, ward/area codes and coded answers match none of these.

Last, every text cell of every column not yet flagged is checked with
:func:`looks_identifying` (an e-mail address, a UK phone number, a full UK postcode or an
IP address, alone or inside the text): one such cell flags the whole column, its kind the
pattern most cells matched. A postcode district or sector ("LU1", "LU1 3") is not a full
postcode. The same predicate keeps such values out of the codebook, draft crosswalks,
recode error messages and the audit (:func:`placeholder`, :func:`describe`).

Header texts are screened too (:func:`header_value_kind`): a name, label, question or
option text holding an identifying value or a timestamp is a data row read as a header.
A kept text column's value that reads as typed free text (:func:`looks_free_text`) and
that fewer than 2 respondents gave is shown only as :func:`typed_answer` ("a typed answer
of N characters (row R)").

Reasons say which rule fired and counts, never values.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from harmonise.errors import IngestError
from harmonise.models.survey import FlaggedColumn, VariableInfo

SAMPLE = 5000
"""Content rules look at up to this many non-blank values per column."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^\w]+|_+")


def words(text: str) -> str:
    """``"RecipientEmail"`` -> ``"recipient email"``; ``"Date-of-Birth"`` -> ``"date of birth"``."""
    spaced = _CAMEL.sub(" ", text)
    return " ".join(_NON_WORD.sub(" ", spaced).casefold().split())


def _header(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


HEADER_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("email", _header(r"^(your |contact |recipient |respondent s? )?e ?mails?( address(es)?)?$"
                      r"|\be ?mail ?address(es)?\b|\b(your|their|contact|recipient|"
                      r"respondent s?|parent s?) e ?mail\b"), "asks for an e-mail address"),
    ("ip_address", _header(r"\bip( ?address(es)?)?\b|\bipaddress\b"), "is an IP address"),
    ("location", _header(r"\b(location )?(latitude|longitude)\b|\bgeo ?location\b|\bgps\b|"
                         r"\bco ?ordinates\b|\bgeo ?point\b"), "holds a geographic location"),
    ("phone", _header(r"^(tele)?phones?$|^mobiles?$|^tel$|\b(tele)?phone (no|number)s?\b|"
                      r"\bmobile (phone )?(no|number)s?\b|\bcontact (no|number)\b|"
                      r"\btel (no|number)\b|\byour (tele)?phone\b|\byour mobile\b"),
     "asks for a phone number"),
    ("postcode", _header(r"^(full |home |your )?post ?codes?$|^postal code$|^zip( code)?$|"
                         r"\b(your|home|full|respondent s?|house|address|residential) "
                         r"post ?codes?\b(?! (area|district|sector|region))|\bpost ?code of\b"
                         r"|\b(your|home) (postal|zip) code\b"),
     "asks for a postcode"),
    ("date_of_birth", _header(r"\bdate of birth\b|\bdob\b|\bd o b\b|\bbirth ?dates?\b"
                              r"|\bbirthday\b|\bborn\b"), "asks for a date of birth"),
    ("name", _header(r"^names?$|\b(first|last|full|sur|given|fore|middle|family|maiden|your|"
                     r"respondent s?|recipient|contact|child s?|parent s?|carer s?|pupil s?|"
                     r"student s?|participant s?|user) ?names?\b|\b(sur|fore|first|last|full|"
                     r"user)name\b|\bname of (the )?(respondent|person|pupil|student|child)\b"
                     r"|^(enter|type|write|give|print) (your |the )?names?\b"
                     r"|\b(what is|what s|please (enter|give|type)) (your|the respondent s?) "
                     r"names?\b"),
     "asks for a person's name"),
    ("school", _header(r"\bschool ?names?\b|\bname of (your |the )?school\b|"
                       r"\b(which|what) school\b|^schools?$|\bschool attended\b"),
     "names a school (a quasi-identifier)"),
    ("timestamp", _header(r"\btime ?stamp\b|\b(start|end|completion|completed|submission|"
                          r"submitted|recorded|created|modified|response) ?(date|time)s?\b|"
                          r"\bdate (submitted|modified|created|completed)\b|"
                          r"^(start|end|started|ended)$|^submitted on$"),
     "is a response timestamp (a quasi-identifier)"),
    ("free_text", _header(r"\bcomments?\b|please (specify|explain|describe|tell)|"
                          r"\bopen ended\b|\bfree ?text\b|\btell us\b|\bother (please )?specify\b"
                          r"|\bany other (comments?|thoughts|feedback)\b"
                          r"|\b\d+ text$|\bopen ?text\b|\banything else\b"),
     "is an open text question"),
)
"""Header rules. The e-mail, phone, postcode and name rules fire on a header that asks for
one ("What is your postcode?", "Phone number"), not on one that mentions one ("How
worried are you about phone theft?"): what such a column holds is judged by content."""


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")
_PARTIAL_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?( ?\d)?$")
_PHONE = re.compile(r"^(?:\+44|0044|0)\d{9,10}$")
_PHONE_STRIP = re.compile(r"[\s().-]")
_PERSON = re.compile(r"^[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?(?: [A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?)"
                     r"{1,2}$")
_SCHOOL = re.compile(r"^[A-Z0-9][\w'’.&-]*(?: [\w'’.&-]+)* (School|Academy|College)\b.*$")
_DATE_TEXT = re.compile(r"^(?:\d{1,2}[/.-]\d{1,2}[/.-](?P<y1>\d{4})|(?P<y2>\d{4})-\d{1,2}-\d{1,2})"
                        r"(?:[ T]00:00(?::00)?)?$")
_EMAIL_IN = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")  # linear: from a word start
_POSTCODE_IN = re.compile(r"(?<![A-Z0-9])[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}"
                          r"(?![A-Z0-9])")  # the unit letters of a postcode omit CIKMOV
_PHONE_IN = re.compile(r"(?<![\w+])(?:\+44|0044|0)(?:[ ()-]*\d){9,10}(?![\w])")
_IPV4_IN = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_ANSWER_WORDS = frozenset({
    "yes", "no", "y", "n", "true", "false", "none", "n a", "na", "nil", "nothing", "not sure",
    "unsure", "maybe", "don t know", "dont know", "do not know", "prefer not to say",
    "rather not say", "not applicable", "no answer", "refused", "other", "x", "0", "1",
    "checked", "unchecked", "selected", "not selected", "ticked", "not ticked",
})
"""Answers, not typed details: a one-off one of these does not make a column open."""
_PLACE_WORDS = re.compile(r"\b(ward|area|district|borough|town|village|parish|street|road|"
                          r"place|locality|neighbourhood|council|lsoa|msoa|region|county)\b")


@dataclass(frozen=True)
class _Profile:
    """What the content rules need to know about one column (never kept, never shown)."""

    n: int  # non-blank values looked at
    texts: tuple[str, ...]  # the non-blank values that are text, stripped
    values: tuple[object, ...]  # every non-blank value looked at
    numeric: bool  # every non-blank value is a number
    distinct: int
    labelled: bool  # every value has a value label (SPSS/Stata)

    @property
    def coded(self) -> bool:
        """An answer picked from a list: labelled codes, or few distinct values repeated."""
        return self.n > 0 and (self.labelled or (self.distinct <= 12
                                                 and self.distinct <= self.n / 2))

    @property
    def closed(self) -> bool:
        """Coded and nothing typed: labelled or numeric codes, or every text answer given by
        at least two respondents or an answer word (a one-off "Prefer not to say" is an
        answer; a one-off "Amy Patel" is typed)."""
        if not self.coded:
            return False
        if self.labelled or self.numeric:
            return True
        return all(n >= 2 or words(t) in _ANSWER_WORDS for t, n in Counter(self.texts).items())

    def share(self, test: Callable[[str], bool]) -> tuple[int, float]:
        hits = sum(1 for t in self.texts if test(t))
        return hits, (hits / self.n if self.n else 0.0)


def _numeric_profile(series: pd.Series, info: VariableInfo | None) -> _Profile:
    """The same profile, vectorised, for a numeric column (no text, no dates)."""
    sample = series.dropna().head(SAMPLE)
    distinct = sample.unique()
    labels = info.value_labels if info is not None else {}
    missing = set(info.user_missing) if info is not None else set()
    known = set(labels) | missing
    labelled = bool(labels) and all(v in known for v in distinct.tolist())
    return _Profile(n=len(sample), texts=(), values=tuple(distinct.tolist()),
                    numeric=len(sample) > 0, distinct=len(distinct), labelled=labelled)


def _profile(series: pd.Series, info: VariableInfo | None) -> _Profile:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype):
        return _numeric_profile(series, info)
    values = tuple(v for v in series.dropna().head(SAMPLE * 2).tolist()
                   if not (isinstance(v, str) and v.strip() == ""))[:SAMPLE]
    texts = tuple(v.strip() for v in values if isinstance(v, str))
    numeric = bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                   for v in values)
    distinct = len({repr(v) for v in values})
    labels = info.value_labels if info is not None else {}
    missing = set(info.user_missing) if info is not None else set()
    labelled = bool(labels) and all(v in labels or v in missing for v in values)
    return _Profile(n=len(values), texts=texts, values=values, numeric=numeric,
                    distinct=distinct, labelled=labelled)


def _headers_of(name: str, info: VariableInfo | None) -> list[tuple[str, str]]:
    """(where, words) for the name and every header text known for the column."""
    out = [("column name", words(name))]
    if info is not None:
        for where, text in (("label", info.label), ("question text", info.question),
                            ("option text", info.option)):
            if text and words(text) not in {w for _, w in out}:
                out.append((where, words(text)))
    return out


def _is_ip(text: str) -> bool:
    if not any(ch in text for ch in ".:"):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_phone(text: str) -> bool:
    return bool(_PHONE.match(_PHONE_STRIP.sub("", text)))


def _is_postcode(text: str) -> bool:
    return bool(_POSTCODE.match(" ".join(text.upper().split())))


_LOOKS: dict[str, str] = {"email": "e-mail", "phone": "phone-number", "postcode": "postcode",
                         "ip_address": "IP-address"}
"""The cell patterns, in the order they are tried, and how a value of each is described."""


_MAX_WHOLE = 320
"""Longer texts are only searched (linear time), not matched whole (quadratic at worst)."""


def looks_identifying(value: object) -> str | None:
    """The kind (``"email"``, ``"phone"``, ``"postcode"``, ``"ip_address"``) when ``value``
    is text that is, or contains, an e-mail address, a UK phone number, a full UK postcode
    or an IP address; else None. Numbers, dates and postcode districts ("LU1") are None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if "@" in text and ((len(text) <= _MAX_WHOLE and _EMAIL.match(text))
                        or _EMAIL_IN.search(text)):
        return "email"
    if any(ch.isdigit() for ch in text):
        if _is_phone(text) or _PHONE_IN.search(text):
            return "phone"
        upper = " ".join(text.upper().split())
        if _POSTCODE_IN.search(upper):
            return "postcode"
        if _is_ip(text) or any(_is_ip(m.group()) for m in _IPV4_IN.finditer(text)):
            return "ip_address"
    elif ":" in text and _is_ip(text):  # IPv6 without digits ("::")
        return "ip_address"
    return None


TYPED_MIN_CHARS = 40
"""A value shorter than this is an option label, typed or not (``Very safe``)."""
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)|[!?]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]|\\[rn](?=[A-Z])")  # or an escaped one


def looks_free_text(value: object) -> bool:
    """Whether ``value`` reads as typed free text rather than an option label: text of
    several words (4 or more) holding a line break (or one written ``\\n``); longer than
    an option label (:data:`TYPED_MIN_CHARS` characters) with sentence punctuation
    (``.``, ``!``, ``?`` or ``…`` ending a sentence: ``"e.g.,"`` does not); or 8 words and more than
    :data:`MAX_QUOTED` characters (too long to quote whole). Callers hide such a value when
    fewer than 2 respondents gave it (:func:`typed_answer`); codes and short labels stay."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if len(text.split()) < 4:
        return False
    if _LINE_BREAK.search(text):
        return True
    if len(text) > MAX_QUOTED and len(text.split()) >= 8:
        return True  # a sentence too long to quote whole
    return len(text) >= TYPED_MIN_CHARS and bool(_SENTENCE_END.search(text))


def typed_answer(value: str, row: int | None = None) -> str:
    """What is shown instead of a typed answer: ``a typed answer of 43 characters (row 5)``
    (``row``: the 1-based data row where it is; never the text)."""
    where = f" (row {row})" if row is not None else ""
    return f"a typed answer of {len(value.strip())} characters{where}"


def first_rows(series: pd.Series) -> dict[object, int]:
    """Each value of ``series`` -> the 1-based data row where it first appears."""
    out: dict[object, int] = {}
    for i, v in enumerate(series.tolist(), start=1):
        if isinstance(v, str) and v not in out:
            out[v] = i
    return out


HEADER_VALUE_REASON = ("its header holds an identifying value — a data row read as a "
                       "header? check --header-rows")
"""The reason given for a column whose header text holds an identifying value."""


def header_value_kind(text: object) -> str | None:
    """The kind when a header text (a name, label, question or option text) holds what a
    respondent's answer would: an identifying value (:func:`looks_identifying`) or a
    date-time with a time of day (``timestamp``). Each ``" | "`` part of a joined header
    is judged on its own (``"Timestamp | 12/13/2019 9:50:30"``). Else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    kind = looks_identifying(text)
    if kind is not None:
        return kind
    parts = [p.strip() for p in text.split(" | ")]
    return "timestamp" if any(_has_time(p) for p in parts if p) else None


MAX_QUOTED = 60
"""Longest value quoted in a message; longer values are cut with an ellipsis."""


def cap(value: object, limit: int = MAX_QUOTED) -> str:
    """``value`` as text for a message, cut to ``limit`` characters (``…`` marks the cut)
    and with line breaks shown as spaces. Screen it first (:func:`looks_identifying`)."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(kind: str) -> str:
    """``"email"`` -> ``"an e-mail-like value"``: how a message names a hidden value."""
    what = _LOOKS.get(kind, kind.replace("_", " "))
    return f"{'an' if what[0] in 'aeiouAEIOU' else 'a'} {what}-like value"


def placeholder(kind: str, n: int | None = None) -> str:
    """What is written instead of a hidden value: ``<e-mail-like value>``, or
    ``<e-mail-like value ×3>`` standing for 3 distinct values."""
    what = _LOOKS.get(kind, kind.replace("_", " "))
    return f"<{what}-like value{'' if n is None else f' ×{n}'}>"


def scan_cells(series: pd.Series) -> dict[str, int]:
    """Cells of ``series`` per :func:`looks_identifying` kind (every cell, not a sample)."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(
            series.dtype):
        return {}
    found: dict[str, int] = {}
    for value, count in series.value_counts(dropna=True, sort=False).items():
        kind = looks_identifying(value)
        if kind is not None:
            found[kind] = found.get(kind, 0) + int(count)
    return found


def _cells_reason(found: Mapping[str, int], n: int) -> tuple[str, str]:
    """(kind, reason) for a column with identifying-looking cells: counts, never values."""
    order = list(_LOOKS)
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
    kind = ranked[0][0]
    parts = [f"{c} {'is' if c == 1 else 'are'} {_LOOKS[k]}-like" for k, c in ranked]
    return kind, (f"{kind}: content: of {n} non-blank cells, {', '.join(parts)} "
                  "(one such cell is enough)")


def _birth_year(value: object) -> int | None:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return None if (value.hour, value.minute, value.second) != (0, 0, 0) else value.year
    if isinstance(value, dt.date):
        return value.year
    if isinstance(value, str):
        m = _DATE_TEXT.match(value.strip())
        if m:
            return int(m.group("y1") or m.group("y2"))
    return None


_WORDY_STAMP = re.compile(r"^[A-Z][a-z]{2,8} \d{1,2}, \d{4},? \d{1,2}:\d{2}(:\d{2})?( ?[AP]M)?$",
                          re.IGNORECASE)  # ODK: "Apr 26, 2018 8:58:20 AM"
_ISO_STAMP = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4},?[T ]\d{1,2}:\d{2}"
                        r"(:\d{2}(\.\d+)?)?( ?[AP]M)?"
                        r"( ?(Z|UTC|GMT|[A-Z]{3,4})?[+-]?\d{0,2}:?\d{0,2})?$",
                        re.IGNORECASE)
_GEOPOINT = re.compile(r"^-?\d{1,2}\.\d{3,}[ ,;]+-?\d{1,3}\.\d{3,}([ ,;]+-?[\d.]+){0,2}$")
_ATTACHMENT = re.compile(r"^[^/\\]+\.(jpe?g|png|gif|heic|webp|bmp|tiff?|mp3|mp4|m4a|wav|"
                         r"amr|3gp|mov|pdf|docx?)$", re.IGNORECASE)


def _has_time(value: object) -> bool:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0)
    return isinstance(value, str) and bool(_ISO_STAMP.match(value.strip())
                                           or _WORDY_STAMP.match(value.strip()))


_DATELIKE = re.compile(r"\d{1,4}[-/.:]\d{1,2}")


def _datelike(value: object) -> bool:
    """A date, a time or text holding one (``2024-05-01``, ``10:00``)."""
    if isinstance(value, pd.Timestamp | dt.date | dt.time):
        return True
    return isinstance(value, str) and bool(_DATELIKE.search(value) or _WORDY_STAMP.match(
        value.strip()))


def _kind_by_content(p: _Profile) -> tuple[str, str] | None:
    """Kinds judged on content alone, whatever the header says: date-times with a time of
    day (timestamps), latitude/longitude pairs, names of uploaded files."""
    if p.n == 0 or p.numeric:
        return None
    stamps = sum(1 for v in p.values if _has_time(v))
    answers = sum(1 for t in p.texts if words(t) in _ANSWER_WORDS)  # "None", "n/a"
    if stamps and stamps >= 0.8 * (p.n - answers):
        return "timestamp", (f"timestamp: content: {stamps} of {p.n} non-blank values are "
                             "dates with a time of day (a quasi-identifier)")
    hits, share = p.share(lambda t: bool(_GEOPOINT.match(t)))
    if share >= 0.8:
        return "location", f"location: content: {hits} of {p.n} values are latitude/longitude"
    hits, share = p.share(lambda t: bool(_ATTACHMENT.match(t)))
    if share >= 0.8:
        return "attachment", (f"attachment: content: {hits} of {p.n} values are names of "
                              "uploaded files (photos, recordings, documents)")
    return None


def _content_rule(kind: str, p: _Profile, header_words: str) -> str | None:
    """The content rule for ``kind``, as a reason, or None when it does not fire."""
    if p.n == 0 or p.numeric:
        return None  # content rules read text and dates; numbers are codes, ages, ids
    if kind == "date_of_birth":
        years = [y for y in (_birth_year(v) for v in p.values) if y is not None]
        this_year = dt.datetime.now(dt.UTC).year
        ages = [this_year - y for y in years]
        plausible = sum(1 for a in ages if 4 <= a <= 110)
        if (len(years) >= 0.8 * p.n and plausible >= 0.8 * p.n and years
                and max(years) - min(years) >= 2):
            return f"{plausible} of {p.n} non-blank values are dates giving ages 4-110"
        return None
    if not p.texts:
        return None
    tests: dict[str, tuple[Callable[[str], bool], str]] = {
        "email": (lambda t: bool(_EMAIL.match(t)), "look like e-mail addresses"),
        "ip_address": (_is_ip, "are IP addresses"),
        "phone": (_is_phone, "look like UK phone numbers"),
        "postcode": (_is_postcode, "are full UK postcodes"),
    }
    if kind in tests:
        test, what = tests[kind]
        hits, share = p.share(test)
        return f"{hits} of {p.n} non-blank values {what}" if share > 0.5 else None
    if kind == "name":
        if _PLACE_WORDS.search(header_words) or "school" in header_words:
            return None
        hits, share = p.share(lambda t: bool(_PERSON.match(t)) and not _SCHOOL.match(t))
        if share > 0.5 and not p.coded and p.distinct >= 2:
            return f"{hits} of {p.n} non-blank values look like a forename and surname"
        return None
    if kind == "school":
        hits, share = p.share(lambda t: bool(_SCHOOL.match(t)))
        names = len({t for t in p.texts if _SCHOOL.match(t)})
        if share > 0.5 and names >= 2:
            return f"{hits} of {p.n} non-blank values look like school names"
        return None
    if kind == "free_text":
        return _free_text(p)
    return None


def _free_text(p: _Profile) -> str | None:
    """Typed answers: several distinct long texts, or several distinct sentences.

    Long = 3+ words or 30+ characters; a sentence = 8+ words. Answer labels repeat ("Fairly
    safe"), so both need at least 3 (long) or 2 (sentences) distinct values making up half
    (long) or most (sentences) of them; lists of ticked options joined by "," or ";"
    repeat their parts and are excluded. A single typed answer cannot be told from a label
    by content alone: the header rules ("comment", "please specify", "Open-Ended
    Response") catch those.
    """
    long = [t for t in p.texts if len(t.split()) >= 3 or len(t) >= 30]
    sentences = [t for t in long if len(t.split()) >= 8]
    distinct_long, distinct_sentences = len(set(long)), len(set(sentences))
    parts = [s.strip().casefold() for t in long for s in re.split(r"[;,]", t) if s.strip()]
    varied_parts = len(set(parts)) >= 0.5 * len(parts)
    if (len(long) >= 0.3 * p.n and distinct_long >= 3 and distinct_long >= 0.5 * len(long)
            and varied_parts):
        return (f"{len(long)} of {p.n} non-blank values are long texts with spaces, "
                f"{distinct_long} of them distinct")
    if distinct_sentences >= 2 and distinct_sentences >= 0.7 * len(sentences):
        return f"{distinct_sentences} distinct answers of 8 or more words"
    return None


def _header_fires(kind: str, p: _Profile) -> bool:
    """Whether the content allows a header rule to fire (see the module docstring)."""
    if kind == "school":
        return not p.numeric
    answer_words = p.n > 0 and len(p.texts) == p.n and all(
        words(t) in _ANSWER_WORDS for t in p.texts)
    if kind == "timestamp":  # repeated stamps still fire; "police response time" ratings not
        return p.n == 0 or p.numeric or any(_datelike(v) for v in p.values)
    if kind in ("ip_address", "location"):  # repeated values fire; "Do you use GPS?" Yes/No not
        return not (p.labelled or answer_words)
    if kind == "name":  # names repeat ("Mia" twice): only closed answers hold it back
        return not (p.labelled or p.numeric or answer_words)
    if kind == "free_text":
        return not p.numeric and not p.coded
    if _free_text(p) is not None:
        return False  # long distinct answers: free text, flagged as such further down
    if kind == "postcode" and p.texts and all(
            _PARTIAL_POSTCODE.match(" ".join(t.upper().split())) for t in p.texts):
        return False
    if kind in _OPEN_KINDS:
        return not p.closed
    return not p.coded


_OPEN_KINDS = frozenset({"email", "phone", "postcode", "name"})
"""Header rules that need closed answers, not merely coded ones, to be held back."""


def classify(name: str, series: pd.Series, info: VariableInfo | None = None) -> tuple[
    str, str
] | None:
    """``(kind, reason)`` when the column looks identifying, else None."""
    # Imported here: importing ``harmonise.ingest`` runs its package, which imports this module.
    from harmonise.ingest.multiselect import detect_split

    p = _profile(series, info)
    headers = _headers_of(name, info)
    all_words = " / ".join(w for _, w in headers)
    by_content = _kind_by_content(p)
    if by_content is not None:
        return by_content
    for kind, pattern, what in HEADER_RULES:
        for where, text in headers:
            if pattern.search(text) and _header_fires(kind, p):
                return kind, f"{kind}: {where} {what}"
        reason = _content_rule(kind, p, all_words)
        if reason is not None and kind == "free_text" and detect_split(name, series):
            reason = None  # ticked options joined in one cell (Forms): coded answers
        if reason is not None:
            return kind, f"{kind}: content: {reason}"
    found = scan_cells(series)
    if found:
        return _cells_reason(found, int(series.notna().sum()))
    return None


def _kobo_select_multiple(name: str, series: pd.Series, names: set[str]) -> bool:
    """An ODK/Kobo select-multiple column: every cell is choice names joined by spaces and
    each name has its own ``<column>/<name>`` 1/0 column beside it (Kobo's "single and
    separate columns" export). Coded answers, not free text."""
    cells = [str(v) for v in series.dropna() if str(v).strip()]
    if not cells:
        return False
    choices = {w for c in cells for w in c.split()}
    return all(f"{name}/{w}" in names for w in choices)


def detect_identifying(
    data: pd.DataFrame, variables: Mapping[str, VariableInfo] | None = None
) -> tuple[FlaggedColumn, ...]:
    """Every identifying column of ``data``, in column order."""
    variables = variables or {}
    out: list[FlaggedColumn] = []
    names = {str(c) for c in data.columns}
    for col in data.columns:
        name = str(col)
        info = variables.get(name)
        if info is not None and info.role is not None:
            # a platform's id or metadata column: only identifying-looking cells flag it
            cells = scan_cells(data[col])
            if cells:
                kind, reason = _cells_reason(cells, int(data[col].notna().sum()))
                out.append(FlaggedColumn(name=name, kind=kind, reason=reason))
            continue
        if _kobo_select_multiple(name, data[col], names):
            continue
        found = classify(name, data[col], info)
        if found is not None:
            out.append(FlaggedColumn(name=name, kind=found[0], reason=found[1]))
    return tuple(out)


_OUTWARD = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(?: ?\d[A-Z]{2}| ?\d)?$")


def postcode_district(value: object) -> str | None:
    """``"lu1 1aa"`` -> ``"LU1"``; a district or sector gives its district; else None."""
    if not isinstance(value, str):
        return None
    m = _OUTWARD.match(" ".join(value.upper().split()))
    if m is None:
        return None
    return m.group(1)


def reduce_to_district(series: pd.Series) -> tuple[pd.Series, int]:
    """Postcodes reduced to their district; anything else blank. Returns (series, n blanked)."""
    filled = series.notna()
    out = series.map(postcode_district)
    lost = int((filled & out.isna()).sum())
    return out.astype("str").where(out.notna()), lost


def _check_overrides(file: str, columns: list[str], which: str,
                     table: Mapping[str, str]) -> None:
    unknown = [k for k in table if k not in columns]
    if unknown:
        raise IngestError(
            f"{file}: {which} names column(s) {unknown} which are not in the file; its columns "
            f"are {columns}. Fix the names in {which} (they are matched exactly)."
        )
    no_reason = [k for k, why in table.items() if not str(why).strip()]
    if no_reason:
        raise IngestError(
            f"{file}: {which} gives no reason for column(s) {no_reason}; state why each "
            "identifying column is needed (e.g. 'school is the cluster of the design')."
        )


DISTRICT_ONLY = "district only: "
"""How the kept reason of a column reduced to postcode districts starts."""


@dataclass(frozen=True)
class Screened:
    """What the privacy screen decided: every flag, the columns to drop, columns replaced."""

    flagged: tuple[FlaggedColumn, ...]
    dropped: tuple[str, ...]
    replaced: Mapping[str, pd.Series]


def screen(
    file: str,
    data: pd.DataFrame,
    variables: Mapping[str, VariableInfo],
    keep: Mapping[str, str] | None = None,
    postcode_districts: Mapping[str, str] | None = None,
    *,
    forced: Mapping[str, tuple[str, str]] | None = None,
) -> Screened:
    """Flag identifying columns and apply ``keep`` and ``postcode_districts``.

    ``keep``: column -> stated reason; the column stays as it is and its flag's reason
    starts ``"kept: "``. ``forced``: column -> (kind, reason) flagged whatever it holds
    (a platform's own identifying columns). ``postcode_districts``: column -> stated
    reason; the column stays, reduced to postcode districts (``LU1 1AA`` -> ``LU1``),
    other values blank (counted in the reason, never shown). Every other flagged column is
    dropped.
    """
    keep = dict(keep or {})
    districts = dict(postcode_districts or {})
    columns = [str(c) for c in data.columns]
    _check_overrides(file, columns, "keep", keep)
    _check_overrides(file, columns, "postcode_district", districts)
    both = sorted(set(keep) & set(districts))
    if both:
        raise IngestError(
            f"{file}: column(s) {both} are in both keep and postcode_district; list each in "
            "one of them (postcode_district keeps only the district)."
        )
    found = {f.name: f for f in detect_identifying(data, variables)}
    for col, (kind, reason) in (forced or {}).items():
        if col in columns:
            found[col] = FlaggedColumn(name=col, kind=kind, reason=reason)
    for col in districts:
        if col not in found:
            found[col] = FlaggedColumn(name=col, kind="postcode",
                                       reason="postcode: listed in postcode_district")
    flagged: list[FlaggedColumn] = []
    dropped: list[str] = []
    replaced: dict[str, pd.Series] = {}
    for col in columns:
        f = found.get(col)
        if f is None:
            continue
        if col in keep:
            why = keep[col].strip()
            flagged.append(FlaggedColumn(name=col, kind=f.kind, kept=True, kept_reason=why,
                                         reason=f"kept: {why} (flagged because {f.reason})"))
        elif col in districts:
            why = districts[col].strip()
            reduced, lost = reduce_to_district(data[col])
            replaced[col] = reduced
            extra = f"; {lost} value(s) that are not postcodes blanked" if lost else ""
            flagged.append(FlaggedColumn(
                name=col, kind=f.kind, kept=True, kept_reason=f"{DISTRICT_ONLY}{why}",
                reason=f"kept as postcode district only: {why}{extra} (flagged because "
                       f"{f.reason})"))
        else:
            flagged.append(f)
            dropped.append(col)
    return Screened(tuple(flagged), tuple(dropped), replaced)
