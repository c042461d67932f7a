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
    ``role`` is ``"respondent_id"`` or ``"metadata"`` for a survey platform's own columns
    (``_uuid``, ``Status``, ``Progress`` …): not questions, so not items of a crosswalk.
    """

    name: str
    dtype: str
    label: str | None = None
    question: str | None = None
    option: str | None = None
    value_labels: Mapping[Any, str] = field(default_factory=dict)
    user_missing: tuple[Any, ...] = ()
    missing_ranges: tuple[tuple[float, float], ...] = ()
    role: str | None = None


@dataclass(frozen=True)
class MultiSelectGroup:
    """How a multi-select question was recognised, for the codebook.

    ``how`` is one of ``"mr_set"`` (declared in the SPSS file), ``"dichotomies"`` (numbered
    0/1 columns), ``"option_columns"`` (one column per option under a shared question) or
    ``"split_cell"`` (one cell holding every ticked option, split on ``separator`` from
    ``source_column``, which is replaced by the member columns).
    """

    name: str
    members: tuple[str, ...]
    how: str
    question: str | None = None
    source_column: str | None = None
    separator: str | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Codebook:
    """Variables in file order, and multi-select groups (group name -> member columns).

    ``groups`` says how each multi-select group was found (same keys as ``multi_select``);
    ``notes`` records file-wide decisions a reader made (e.g. "dates read as dd/mm/yyyy");
    ``platform`` names the survey platform whose layout was recognised, if any.
    """

    variables: Mapping[str, VariableInfo]
    multi_select: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups: Mapping[str, MultiSelectGroup] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    platform: str | None = None


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
    """A column detected as identifying: removed at the door unless kept with a reason.

    Values and counts of a flagged column are never shown, kept or not.
    """

    name: str
    kind: str  # email, name, phone, postcode, ip_address, date_of_birth, location, school,
    # timestamp, free_text, attachment; from a platform layout also username, device
    reason: str
    kept: bool = False  # kept in the data (a stated reason), possibly reduced (postcode district)
    kept_reason: str | None = None


@dataclass(frozen=True)
class SurveyFile:
    """One export as read: respondents with identifying columns already removed."""

    data: pd.DataFrame
    codebook: Codebook
    provenance: Provenance
    flagged: tuple[FlaggedColumn, ...] = ()
