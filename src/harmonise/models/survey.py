"""Objects that carry a survey export through ingest: data, codebook, provenance.

Frozen dataclasses: a stage returns a new object and never mutates its input.
The DataFrame inside a :class:`SurveyFile` is not copied defensively; stages treat it
as read-only (pandas copy-on-write makes accidental writes local).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class VariableInfo:
    """What the export says about one column.

    ``label`` is the variable label (SPSS/Stata) or the header text (CSV/Excel), which is
    usually the question text. ``question``/``option`` keep the two header rows of a
    platform export apart. ``user_missing`` holds declared missing codes that are kept in
    the data as codes, never turned into NaN; ``missing_ranges`` holds SPSS ranges.
    """

    name: str
    dtype: str
    label: str | None = None
    question: str | None = None
    option: str | None = None
    value_labels: Mapping[Any, str] = field(default_factory=dict)
    user_missing: tuple[Any, ...] = ()
    missing_ranges: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Codebook:
    """Variables in file order, and multi-select groups (group name -> member columns)."""

    variables: Mapping[str, VariableInfo]
    multi_select: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Provenance:
    """Where a SurveyFile came from: enough to prove which bytes produced an output."""

    file_name: str
    sha256: str
    format: str
    reader: str
    encoding: str | None
    read_at: str
    n_rows: int
    n_columns: int


@dataclass(frozen=True)
class FlaggedColumn:
    """A column detected as identifying and removed at the door (its values are never kept)."""

    name: str
    kind: str  # email, name, phone, postcode, ip_address, date_of_birth, free_text
    reason: str


@dataclass(frozen=True)
class SurveyFile:
    """One export as read: respondents with identifying columns already removed."""

    data: pd.DataFrame
    codebook: Codebook
    provenance: Provenance
    flagged: tuple[FlaggedColumn, ...] = ()
