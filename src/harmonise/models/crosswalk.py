"""A versioned crosswalk: one survey instrument mapped item by item to schema concepts.

Files live at ``crosswalks/<csp>/<instrument>.vN.yaml``. The model forbids unknown keys so a
typo is an error, not a silently ignored setting. Checks that need the schema or the data live in
``harmonise.recode`` (``schema_issues``, ``data_issues``); ``harmonise.crosswalk.validate``
runs them all and returns a :class:`~harmonise.models.report.Report`.

Validators raise errors whose pydantic ``type`` is a stable issue code (see
:data:`harmonise.models.report.ISSUE_CODES`), so a validation report can name each problem.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from numbers import Number
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harmonise.models.schema import Grade, MissingType

#: A recode key as written in YAML: a code (1, 98), a label ("Very safe") or BLANK.
RecodeKey = int | float | str

#: The key that matches an empty cell (system-missing, blank string) in the source data.
BLANK = "(blank)"

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_SPACE = re.compile(r"\s+")


def normalise_value(value: Any) -> str:
    """The key a source value (or a recode-table key) is matched on.

    Numbers match whatever their type (``1``, ``1.0`` and ``numpy.int8(1)`` are all ``"1"``);
    text matches ignoring case, surrounding and repeated whitespace, curly quotes and dashes;
    empty cells (NaN, None, blank text) match the crosswalk key ``(blank)``.
    """
    if value is None or value is pd.NA or value is pd.NaT:
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



def _problem(code: str, message: str) -> PydanticCustomError:
    """A validation error with a stable issue code as its type (message kept verbatim)."""
    return PydanticCustomError(code, "{message}", {"message": message})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesignSpec(_Strict):
    """Design variables in the source data (column names), or null where the survey has none.

    ``pps: brewer``: the clusters were drawn with probability proportional to size without
    replacement, each with inclusion probability ``1 / base_weight``; SEs then use Brewer's
    approximation (R's ``svydesign(ids = ~cluster, fpc = ~I(1/w), pps = "brewer")``)
    instead of the with-replacement variance. Needs ``cluster`` and ``base_weight``.
    """

    strata: str | None = None
    cluster: str | None = None
    base_weight: str | None = None
    pps: Literal["brewer"] | None = None

    @model_validator(mode="after")
    def _pps_needs_clusters_and_weights(self) -> DesignSpec:
        if self.pps is not None and (self.cluster is None or self.base_weight is None):
            raise _problem(
                "design-pps-incomplete",
                "design.pps: brewer needs 'cluster' (the units drawn with probability "
                "proportional to size) and 'base_weight' (1 / each cluster's inclusion "
                "probability); give both or remove pps",
            )
        return self


class TrimSpec(_Strict):
    """Weight trimming after calibration, then re-calibration (R ``trimWeights`` + re-rake).

    Bounds are multiples of the mean calibrated weight (so a crosswalk need not know the
    population's scale): ``upper: 5`` caps weights at five times the mean.
    """

    upper: float = Field(default=math.inf, gt=1)
    lower: float = Field(default=0.0, ge=0, lt=1)
    strict: bool = False
    rounds: int = Field(default=1, ge=1, le=20)


#: What the weight stage does with respondents who have no usable value of a margin
#: ("Prefer not to say", blank): see :mod:`harmonise.weight.missing`.
MissingTreatment = Literal["impute", "exclude", "refuse"]

#: The treatment of a margin the ``missing:`` block does not name.
DEFAULT_MISSING_TREATMENT: MissingTreatment = "impute"

#: The hot-deck's seed when the weighting block does not set ``impute_seed``.
DEFAULT_IMPUTE_SEED = 20240601


def _method_names(schema: dict[str, Any]) -> None:
    """The JSON Schema lists the registered weighting methods (read when it is generated)."""
    from harmonise.weight.methods import METHODS

    schema["enum"] = list(METHODS)


class WeightingSpec(_Strict):
    """How to weight this instrument: a targets file and the margins to calibrate to.

    ``margins`` name harmonised concepts (e.g. ``sex``, ``age_band``, ``area``); their
    categories must match the targets file's categories one for one. ``method`` is a name
    in ``harmonise.weight.methods.METHODS``: ``rake`` (iterative proportional fitting),
    ``poststratify`` (one margin), ``linear`` (GREG) or ``raking`` calibration, the last two
    optionally with ``bounds`` on the weight adjustment ratios.

    ``missing`` says per margin what to do with respondents without a usable value
    (a missing type such as ``refused`` or ``no_answer``): ``impute`` (the default: a
    seeded hot-deck within cells of the other margins, ``impute_seed``), ``exclude`` (kept
    out of that margin's adjustment: they form their own category whose target is their
    base-weighted total) or ``refuse`` (stop, as before).
    """

    method: str = Field(default="rake", json_schema_extra=_method_names)
    targets: str
    area_code: str
    population: str
    margins: tuple[str, ...] = Field(min_length=1)
    epsilon: float = Field(default=1e-10, gt=0)
    max_iterations: int = Field(default=1000, ge=1)
    bounds: tuple[float, float] | None = None
    trim: TrimSpec | None = None
    missing: dict[str, MissingTreatment] = Field(default_factory=dict)
    impute_seed: int = Field(default=DEFAULT_IMPUTE_SEED, ge=0, lt=2**63)

    def treatment(self, margin: str) -> MissingTreatment:
        """The declared treatment of ``margin``'s missing values (the default if none)."""
        return self.missing.get(margin, DEFAULT_MISSING_TREATMENT)

    @model_validator(mode="after")
    def _method_options(self) -> WeightingSpec:
        unknown = [m for m in self.missing if m not in self.margins]
        if unknown:
            raise ValueError(
                f"missing: {unknown} are not weighting margins (margins are "
                f"{list(self.margins)}); name a margin or remove the entry"
            )
        from harmonise.weight.methods import METHODS  # the registry of weighting methods

        fitted = METHODS.get(self.method)
        if fitted is None:
            raise ValueError(
                f"unknown weighting method {self.method!r}; use one of {', '.join(METHODS)}"
            )
        if fitted.one_margin and len(self.margins) != 1:
            raise ValueError(
                f"{self.method} takes one margin (a cross-classified variable); use 'rake' or "
                "a calibration method for several margins"
            )
        if self.bounds is not None:
            if not fitted.takes_totals:
                takers = " and ".join(repr(n) for n, m in METHODS.items() if m.takes_totals)
                raise ValueError(f"bounds apply to {takers} calibration only")
            low, high = self.bounds
            if not low < 1 < high:
                raise ValueError(f"bounds {self.bounds} must satisfy lower < 1 < upper")
        return self


class PrivacySpec(_Strict):
    """Overrides of the identifying-column detection at ingest, each with a stated reason.

    ``keep``: flagged columns to keep anyway (column -> reason), e.g. a school name used as
    the cluster. ``postcode_district``: full-postcode columns to reduce to their district
    (``LU1 1AA`` -> ``LU1``) instead of dropping (column -> reason).
    """

    keep: dict[str, str] = Field(default_factory=dict)
    postcode_district: dict[str, str] = Field(default_factory=dict)


class ReadSpec(_Strict):
    """How the export is read, so every command reads it the same way (``read:`` block).

    ``header_rows`` (1, 2 or 3; CSV and .xlsx), ``sheet`` (an .xlsx sheet name or 0-based
    number) and ``encoding`` (CSV text encoding); unset means "detect".
    """

    header_rows: Literal[1, 2, 3] | None = None
    sheet: str | int | None = None
    encoding: str | None = None


class Item(_Strict):
    """One source question (or one option of a multi-select question) mapped to a concept."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    concept: str | None = None  # may be blank only in a draft
    option: str | None = None
    source: str
    question: str | None = None
    scale: str | None = None
    recode: dict[RecodeKey, str]
    missing: dict[RecodeKey, MissingType] = Field(default_factory=dict)
    comparability: Grade
    note: str = Field(min_length=1)

    @field_validator("recode", "missing", mode="before")
    @classmethod
    def _no_booleans(cls, table: Any) -> Any:
        if isinstance(table, dict):
            for key in table:
                if isinstance(key, bool):
                    raise _problem(
                        "yaml-boolean-key",
                        f"key {key!r} is a YAML boolean; quote it (e.g. 'Yes', 'true') "
                        "so it matches the text in the data",
                    )
        return table

    @model_validator(mode="after")
    def _disjoint(self) -> Item:
        seen: dict[str, str] = {}
        for table in (self.recode, self.missing):
            for key in table:
                norm = normalise_value(key)
                if norm in seen:
                    raise _problem(
                        "value-listed-twice",
                        f"item '{self.id}': source value {key!r} is listed twice "
                        f"(also as {seen[norm]!r}) across 'recode' and 'missing'",
                    )
                seen[norm] = repr(key)
        return self

    @property
    def column(self) -> str:
        """Name of the harmonised column this item fills."""
        concept = self.concept or f"unassigned_{self.id}"
        return f"{concept}__{self.option}" if self.option else concept


class Crosswalk(_Strict):
    crosswalk: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    status: Literal["draft", "released"]
    schema_ref: str = Field(alias="schema", pattern=r"^perception-v\d+$")
    synthetic: bool = False
    csp: str
    csp_name: str
    instrument: str
    wave: str
    fieldwork_start: dt.date
    fieldwork_end: dt.date
    population: str
    mode: str
    sampling: str
    respondent_id: str | None = None
    design: DesignSpec = Field(default_factory=DesignSpec)
    weighting: WeightingSpec | None = None
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    read: ReadSpec = Field(default_factory=ReadSpec)
    #: Source columns deliberately not mapped (column -> reason), e.g. free text, timestamps.
    unmapped: dict[str, str] = Field(default_factory=dict)
    changelog: tuple[str, ...] = ()
    items: tuple[Item, ...] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def ref(self) -> str:
        return f"{self.crosswalk}@v{self.version}"

    @model_validator(mode="after")
    def _unique(self) -> Crosswalk:
        ids = [i.id for i in self.items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise _problem("item-id-repeated", f"item ids repeated: {dupes}")
        cols = [i.column for i in self.items]
        dupes = sorted({c for c in cols if cols.count(c) > 1})
        if dupes:
            raise _problem("column-repeated", f"two items fill the same concept/option: {dupes}")
        if self.fieldwork_end < self.fieldwork_start:
            raise _problem("fieldwork-dates", "fieldwork_end is before fieldwork_start")
        if self.status == "released":
            incomplete = [
                i.id for i in self.items if i.concept is None or i.comparability == "unassessed"
            ]
            if incomplete:
                raise _problem(
                    "release-incomplete",
                    f"a released crosswalk needs a concept and a comparability grade for every "
                    f"item; items {incomplete} are incomplete (keep status: draft until a "
                    "person has assessed them)",
                )
        return self
