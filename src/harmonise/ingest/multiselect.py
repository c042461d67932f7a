"""Multi-select answers held in one cell, split into one column per option.

Form platforms export a "tick all that apply" question as one text column:

* **Microsoft Forms** joins the ticked options with ``;`` and ends the cell with ``;``
  (``"CCTV;Better lighting;"``). A column is read this way when at least 80% of its
  non-blank cells end with ``;`` and it holds at least two distinct options.
* **Google Forms** joins them with ``", "`` (``"CCTV, Better lighting"``) in the form's
  order and appends typed "Other" text last; an option may itself contain ``", "``. The
  option list is taken from the data (:func:`split_google`): pieces split on ``", "`` are
  joined back where one always follows the other ("Drugs" + "alcohol", "(e.g. BA" + "BS)");
  options are pieces ticked by at least 1% of answers (2 at least) or found before an
  option; anything left at the end of a cell is typed "Other" text, recorded as a 1/0
  column ``<column> | Other (typed)`` while its words are dropped (free text). A column is
  read this way when some cell ticks two options, at least half the cells hold options
  only and there are 2-40 options; a single-choice column whose labels contain commas
  ("Yes, a lot") is left alone.

Limit: an option ticked by fewer than 1% of answers and only ever last in a cell cannot be
told from typed text; pass the known options to :func:`split_cells` when they are known.

Each option becomes ``"<column> | <option>"`` holding 1 (ticked) or 0 (not ticked, the
question answered), blank where the cell was blank; the group is recorded in the codebook
with how it was split.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

import pandas as pd

from harmonise.errors import IngestError
from harmonise.models.survey import MultiSelectGroup, VariableInfo

MS_FORMS, GOOGLE_FORMS = ";", ", "
OTHER = "Other (typed)"
"""The option standing for typed "Other" text, whose words are dropped (free text)."""
MAX_OPTIONS = 40
MAX_DISTINCT = 2000
"""A Google Forms column with more distinct cells than this is not tried (free text)."""


def _tile(cell: str, options: Sequence[str]) -> list[str] | None:
    """``cell`` as options joined by ", ", longest option first; None when it cannot be."""
    out: list[str] = []
    rest = cell
    while rest:
        for opt in options:  # sorted longest first
            if rest == opt or rest.startswith(opt + GOOGLE_FORMS):
                out.append(opt)
                rest = rest[len(opt) + len(GOOGLE_FORMS):] if rest != opt else ""
                break
        else:
            return None
    return out


def _continues(a: str, b: str) -> bool:
    """Whether piece ``b`` reads as the rest of ``a`` ("Yes" + "a lot", "(e.g. BA" + "BS)")."""
    if a.count("(") > a.count(")") or b[:1].isspace():
        return True
    first = b.split()[0] if b.split() else ""
    return first[:1].isalpha() and first == first.lower()  # "or seminars", not "rOpenSci"


def _merge_pieces(cells: Sequence[list[str]]) -> list[list[str]]:
    """Join ", "-pieces that belong to one option or one typed answer: a piece always (90%)
    found right after the same piece, when it reads as a continuation or when both are
    (90%) always found together (3 times at least). Works on distinct cells, weighted."""
    weights = Counter(tuple(c) for c in cells)
    distinct = [list(c) for c in weights]
    counts_of = list(weights.values())
    for _ in range(200):
        counts: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        for c, w in zip(distinct, counts_of, strict=True):
            for i, t in enumerate(c):
                counts[t] += w
                if i:
                    pairs[(c[i - 1], t)] += w
        best = None
        for (a, b), n in pairs.most_common():
            after = n >= 0.9 * counts[b]
            if after and (_continues(a, b) or (n >= 3 and n >= 0.9 * counts[a])):
                best = (a, b)
                break
        if best is None:
            break
        a, b = best
        joined = a + GOOGLE_FORMS + b
        for c in distinct:
            i = 0
            while i < len(c) - 1:
                if c[i] == a and c[i + 1] == b:
                    c[i:i + 2] = [joined]
                i += 1
    merged = {key: c for key, c in zip(weights, distinct, strict=True)}
    return [list(merged[tuple(c)]) for c in cells]


def _known(tokens: Sequence[list[str]]) -> set[str]:
    """Options: pieces ticked by at least 1% of answers (2 at least), and any piece found
    before an option (typed "Other" text always comes last)."""
    counts = Counter(t for c in tokens for t in c)
    floor = max(2, math.ceil(0.01 * len(tokens)))
    known = {t for t, n in counts.items() if n >= floor}
    grew = True
    while grew:
        grew = False
        for c in tokens:
            for i in range(len(c) - 1):
                if c[i] not in known and any(t in known for t in c[i + 1:]):
                    known.add(c[i])
                    grew = True
    return known


def infer_options(cells: Sequence[str]) -> tuple[str, ...]:
    """The option list of a Google Forms column (longest first): see :func:`split_google`."""
    tokens = _merge_pieces([c.split(GOOGLE_FORMS) for c in cells])
    return tuple(sorted(_known(tokens), key=lambda c: (-len(c), c)))


def split_cells(cells: Sequence[str], separator: str,
                options: Sequence[str] | None = None) -> tuple[tuple[str, ...],
                                                               list[tuple[str, ...]] | None]:
    """(options in first-seen order, ticked options per cell); None when a cell does not split.

    ``separator`` is ``";"`` (Microsoft Forms; empty pieces from the trailing ``;`` are
    ignored) or ``", "`` (Google Forms; split against ``options``, inferred when None: a
    cell holding anything but options then does not split, see :func:`split_google`).
    """
    if separator == MS_FORMS:
        ticked = [tuple(p.strip() for p in c.split(";") if p.strip()) for c in cells]
    else:
        known = sorted(options if options is not None else infer_options(cells),
                       key=lambda c: (-len(c), c))
        tiles = [_tile(c, known) for c in cells]
        if any(t is None for t in tiles):
            return (), None
        ticked = [tuple(t or ()) for t in tiles]
    order: dict[str, None] = {}
    for t in ticked:
        for opt in t:
            order.setdefault(opt, None)
    return tuple(order), ticked


def split_google(cells: Sequence[str]) -> tuple[tuple[str, ...], list[tuple[str, ...]],
                                                list[bool]] | None:
    """See :func:`_split_google` (the result is cached: the privacy screen and the split
    both ask about the same column)."""
    found = _split_google(tuple(cells))
    return None if found is None else (found[0], list(found[1]), list(found[2]))


@functools.lru_cache(maxsize=32)
def _split_google(cells: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...],
                                                   tuple[bool, ...]] | None:
    """(options in first-seen order, ticked options per cell, typed "Other" per cell) of a
    Google Forms checkbox column, or None when the column does not read as one.

    Pieces split on ", " are joined back where they belong together (an option or a typed
    answer holding ", "); options are pieces ticked by at least 1% of answers or found
    before an option; what is left at the end of a cell is typed "Other" text. The column
    reads as a checkbox question when some cell ticks two options, at least half the cells
    hold options only, and there are 2-40 options.
    """
    tokens = _merge_pieces([c.split(GOOGLE_FORMS) for c in cells])
    known = _known(tokens)
    ticked = [tuple(t for t in c if t in known) for c in tokens]
    other = [any(t not in known for t in c) for c in tokens]
    order: dict[str, None] = {}
    for t in ticked:
        for opt in t:
            order.setdefault(opt, None)
    if (not any(len(t) >= 2 for t in ticked) or sum(other) > 0.5 * len(cells)
            or not 2 <= len(order) <= MAX_OPTIONS):
        return None
    return tuple(order), tuple(ticked), tuple(other)


@dataclass(frozen=True)
class Split:
    """One column read as a multi-select question held in one cell."""

    column: str
    separator: str
    options: tuple[str, ...]
    ticked: tuple[tuple[str, ...] | None, ...]  # per row; None where the cell is blank
    other: tuple[bool | None, ...] = ()  # per row: typed "Other" text (dropped); None if blank


def detect_split(column: str, series: pd.Series) -> Split | None:
    """A :class:`Split` when the column is a one-cell multi-select question, else None."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(
            series.dtype):
        return None
    values = series.tolist()
    filled = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if not filled or len(filled) != int(series.notna().sum()):
        return None
    trailing = sum(1 for v in filled if v.endswith(";"))
    other: list[bool] = []
    if trailing >= 0.8 * len(filled):
        separator = MS_FORMS
        options, ticked = split_cells(filled, separator)
        if ticked is None or not 2 <= len(options) <= MAX_OPTIONS:
            return None
    elif any(GOOGLE_FORMS in v for v in filled) and len(set(filled)) <= MAX_DISTINCT:
        separator = GOOGLE_FORMS
        found = split_google(filled)
        if found is None:
            return None
        options, ticked, other = found
    else:
        return None
    per_cell = iter(ticked)
    per_other = iter(other)
    rows = tuple(next(per_cell) if isinstance(v, str) and v.strip() else None for v in values)
    typed = tuple((next(per_other) if other else False) if isinstance(v, str) and v.strip()
                  else None for v in values)
    return Split(column=column, separator=separator, options=options, ticked=rows,
                 other=typed if any(t for t in typed) else ())


def typed_other(series: pd.Series) -> tuple[pd.Series, int] | None:
    """A single-choice column with typed "Other" answers (Google Forms): answers given by
    one respondent only replaced by :data:`OTHER`, with how many were replaced; None
    unless the column reads as a choice question (20 answers or more, 2-40 answers given by
    two respondents or more that make up at least 80% of the answers). An option only one
    respondent chose is replaced too: the codebook note says how many were."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(
            series.dtype):
        return None
    filled = series.dropna()
    if len(filled) < 20:
        return None
    counts = filled.value_counts()
    options = set(counts[counts >= 2].index)
    if not all(isinstance(o, str) for o in options):
        return None  # a number given twice: not a choice question's labels
    rare = filled[~filled.isin(options)]
    if not 2 <= len(options) <= MAX_OPTIONS or len(rare) == 0 or len(rare) > 0.2 * len(filled):
        return None
    out = series.astype(object).where(~series.index.isin(rare.index), OTHER)
    return out.where(series.notna()).astype("str"), len(rare)


def option_column(column: str, option: str) -> str:
    return f"{column} | {option}"


def apply_splits(file: str, data: pd.DataFrame, variables: Mapping[str, VariableInfo],
                 skip: Set[str] = frozenset()
                 ) -> tuple[pd.DataFrame, dict[str, VariableInfo], dict[str, MultiSelectGroup],
                            tuple[str, ...]]:
    """Replace every one-cell multi-select column by one 1/0 column per option, in place;
    typed "Other" text becomes a 1/0 column ``<column> | Other (typed)`` and is dropped.

    Columns in ``skip`` (flagged as identifying but kept, metadata) are left as they are.
    """
    columns: dict[str, pd.Series] = {}
    infos: dict[str, VariableInfo] = {}
    groups: dict[str, MultiSelectGroup] = {}
    notes: list[str] = []
    for col in data.columns:
        name = str(col)
        info = variables[name]
        split = None if name in skip else detect_split(name, data[col])
        if split is None:
            columns[name] = data[col]
            infos[name] = info
            continue
        question = info.question or info.label or name
        members = []
        for opt in split.options:
            new = option_column(name, opt)
            if new in data.columns:
                raise IngestError(
                    f"{file}: column {name!r} holds ticked options in one cell, and splitting "
                    f"it would make column {new!r}, which already exists. Rename that column "
                    "and upload again."
                )
            columns[new] = pd.Series(
                [float("nan") if t is None else float(opt in t) for t in split.ticked],
                index=data.index, dtype="float64")
            infos[new] = VariableInfo(name=new, dtype="float64", label=question,
                                      question=question, option=opt,
                                      value_labels={0.0: "Not selected", 1.0: "Selected"})
            members.append(new)
        options = split.options
        if split.other:
            new = option_column(name, OTHER)
            columns[new] = pd.Series([float("nan") if t is None else float(t)
                                      for t in split.other], index=data.index, dtype="float64")
            infos[new] = VariableInfo(name=new, dtype="float64", label=question,
                                      question=question, option=OTHER,
                                      value_labels={0.0: "Not selected", 1.0: "Selected"})
            members.append(new)
            options = (*options, OTHER)
            notes.append(f"column {name!r}: {sum(1 for t in split.other if t)} answer(s) "
                         f"held typed 'Other' text: recorded in {new!r} as 1, the text itself "
                         "dropped (free text)")
        groups[name] = MultiSelectGroup(name=name, members=tuple(members), how="split_cell",
                                        question=question, source_column=name,
                                        separator=split.separator, options=options)
    if not groups:
        return data, dict(variables), {}, ()
    return pd.DataFrame(columns, index=data.index), infos, groups, tuple(notes)
