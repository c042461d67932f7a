"""Multi-select answers held in one cell, split into one column per option.

Form platforms export a "tick all that apply" question as one text column:

* **Microsoft Forms** joins the ticked options with ``;`` and ends the cell with ``;``
  (``"CCTV;Better lighting;"``). A column is read this way when at least 80% of its
  non-blank cells end with ``;`` and it holds at least two distinct options.
* **Google Forms** joins them with ``", "`` (``"CCTV, Better lighting"``), and an option
  may itself contain ``", "``. The option list is taken from the data: every distinct cell
  that cannot be spelled as other cells joined by ``", "`` is one option (someone ticked it
  alone); cells are then split against that list, longest option first. A column is read
  this way when at least one cell is such a combination, every cell splits into known
  options, and there are 2-40 options. A single-choice column whose labels contain commas
  ("Yes, a lot") is therefore left alone: no cell is a combination of other cells.

Limit: an option containing ``", "`` that nobody ticked on its own cannot be told from two
options; pass the known options to :func:`split_cells` when they are known.

Each option becomes ``"<column> | <option>"`` holding 1 (ticked) or 0 (not ticked, the
question answered), blank where the cell was blank; the group is recorded in the codebook
with how it was split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from harmonise.errors import IngestError
from harmonise.models.survey import MultiSelectGroup, VariableInfo

MS_FORMS, GOOGLE_FORMS = ";", ", "
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


def infer_options(cells: Sequence[str]) -> tuple[str, ...]:
    """The option list of a Google Forms column: distinct cells that are not combinations."""
    distinct = sorted(set(cells), key=lambda c: (-len(c), c))
    options = []
    for cell in distinct:
        others = [o for o in distinct if o != cell]
        if GOOGLE_FORMS not in cell or _tile(cell, others) is None:
            options.append(cell)
    return tuple(sorted(options, key=lambda c: (-len(c), c)))


def split_cells(cells: Sequence[str], separator: str,
                options: Sequence[str] | None = None) -> tuple[tuple[str, ...],
                                                               list[tuple[str, ...]] | None]:
    """(options in first-seen order, ticked options per cell); None when a cell does not split.

    ``separator`` is ``";"`` (Microsoft Forms; empty pieces from the trailing ``;`` are
    ignored) or ``", "`` (Google Forms; split against ``options``, inferred when None).
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


@dataclass(frozen=True)
class Split:
    """One column read as a multi-select question held in one cell."""

    column: str
    separator: str
    options: tuple[str, ...]
    ticked: tuple[tuple[str, ...] | None, ...]  # per row; None where the cell is blank


def detect_split(column: str, series: pd.Series) -> Split | None:
    """A :class:`Split` when the column is a one-cell multi-select question, else None."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return None
    values = series.tolist()
    filled = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if not filled or len(filled) != int(series.notna().sum()):
        return None
    trailing = sum(1 for v in filled if v.endswith(";"))
    if trailing >= 0.8 * len(filled):
        separator = MS_FORMS
    elif any(GOOGLE_FORMS in v for v in filled) and len(set(filled)) <= MAX_DISTINCT:
        separator = GOOGLE_FORMS
    else:
        return None
    options, ticked = split_cells(filled, separator)
    if ticked is None or not 2 <= len(options) <= MAX_OPTIONS:
        return None
    if separator == GOOGLE_FORMS and all(len(t) == 1 for t in ticked):
        return None  # no cell combines options: a single-choice column with commas in labels
    per_cell = iter(ticked)
    rows = tuple(next(per_cell) if isinstance(v, str) and v.strip() else None for v in values)
    return Split(column=column, separator=separator, options=options, ticked=rows)


def option_column(column: str, option: str) -> str:
    return f"{column} | {option}"


def apply_splits(file: str, data: pd.DataFrame, variables: Mapping[str, VariableInfo],
                 skip: frozenset[str] = frozenset()
                 ) -> tuple[pd.DataFrame, dict[str, VariableInfo], dict[str, MultiSelectGroup]]:
    """Replace every one-cell multi-select column by one 1/0 column per option, in place.

    Columns in ``skip`` (flagged as identifying but kept) are left as they are.
    """
    columns: dict[str, pd.Series] = {}
    infos: dict[str, VariableInfo] = {}
    groups: dict[str, MultiSelectGroup] = {}
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
        groups[name] = MultiSelectGroup(name=name, members=tuple(members), how="split_cell",
                                        question=question, source_column=name,
                                        separator=split.separator, options=split.options)
    if not groups:
        return data, dict(variables), {}
    return pd.DataFrame(columns, index=data.index), infos, groups
