"""Objects produced after ingest: harmonised respondents, weights, estimates, comparisons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harmonise.models.crosswalk import Crosswalk
from harmonise.models.survey import FlaggedColumn, Provenance

#: Columns of the audit table: every source value seen per item and where it went.
AUDIT_COLUMNS = (
    "crosswalk",
    "item",
    "concept",
    "option",
    "source",
    "value",
    "value_label",
    "count",
    "target",
    "target_kind",
)

#: Reserved columns of HarmonisedSurvey.data (concept columns follow them).
KEY_COLUMNS = ("respondent_id", "_strata", "_cluster", "_base_weight")


@dataclass(frozen=True)
class CrosswalkRef:
    """Which crosswalk produced a harmonised survey: id, version and content hash."""

    crosswalk: str
    version: int
    sha256: str
    path: str


@dataclass(frozen=True)
class HarmonisedSurvey:
    """One row per respondent: keys, design variables and one column per concept.

    Concept columns hold schema category codes or missing-type names (``dont_know`` …),
    never NaN. ``scales`` maps each concept column to the scale its codes come from.
    """

    crosswalk: Crosswalk
    ref: CrosswalkRef
    data: pd.DataFrame
    scales: Mapping[str, str]
    audit: pd.DataFrame
    source: Provenance
    flagged: tuple[FlaggedColumn, ...] = ()


@dataclass(frozen=True)
class MarginCheck:
    margin: str
    category: str
    target: float
    achieved: float
    sample_n: int
    unweighted_share: float


@dataclass(frozen=True)
class MissingMarginRecord:
    """How one margin's respondents without a usable value were treated before weighting.

    ``kinds`` counts the missing types (``refused``, ``no_answer``, …); for ``impute``,
    ``cells`` names the other margins the hot-deck matched on, ``collapsed`` how many
    recipients found no donor in their full cell and took one from a coarser cell, and
    ``seed`` the hot-deck's seed; for ``exclude``, ``share`` is the base-weighted share
    of the population left out of the margin's adjustment.
    """

    margin: str
    treatment: str
    n_missing: int
    kinds: tuple[tuple[str, int], ...] = ()
    cells: tuple[str, ...] = ()
    collapsed: int = 0
    seed: int | None = None
    share: float | None = None


@dataclass(frozen=True)
class WeightingDiagnostics:
    method: str
    targets_file: str
    targets_sha256: str
    illustrative_targets: bool
    iterations: int
    converged: bool
    max_gap: float
    n: int
    total: float
    min_weight: float
    max_weight: float
    cv: float
    kish_deff: float
    effective_n: float
    share_top1pct: float
    margins: tuple[MarginCheck, ...] = ()
    #: Margins whose missing values were treated (only those with at least one).
    missing: tuple[MissingMarginRecord, ...] = ()


@dataclass(frozen=True)
class WeightedSurvey:
    """A harmonised survey with final weights (column ``_weight``) and how they were made."""

    survey: HarmonisedSurvey
    data: pd.DataFrame
    raking_margins: tuple[str, ...]
    diagnostics: WeightingDiagnostics | None
    #: What the variance must account for, one per calibration step, in order (passed to
    #: ``Design(calibration=...)``); empty when weights were not calibrated.
    adjustments: tuple[Any, ...] = ()
    #: Weight history per respondent: (step name, weights) from base to final.
    history: tuple[tuple[str, Any], ...] = ()


#: Columns of an EstimateTable, in order.
ESTIMATE_COLUMNS = (
    "indicator",
    "concept",
    "option",
    "label",
    "csp",
    "csp_name",
    "crosswalk",
    "wave",
    "population",
    "group_var",
    "group",
    "n",
    "n_success",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "ci_method",
    "df",
    "deff",
    "weighted",
    "comparability",
    "suppressed",
    "suppression_reason",
    "synthetic",
    "illustrative_targets",
    "n_out_of_base",
    "out_of_base_share",
)


@dataclass(frozen=True)
class EstimateTable:
    """Tidy estimates, one row per indicator × survey × subgroup (see ESTIMATE_COLUMNS)."""

    rows: pd.DataFrame
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in ESTIMATE_COLUMNS if c not in self.rows.columns]
        if missing:
            raise ValueError(f"EstimateTable lacks columns {missing}")
