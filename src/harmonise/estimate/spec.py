"""A design file (``DESIGN.yaml``) for any survey, and a tidy table of estimates from it.

``DesignFileSpec`` is what an analyst writes, R's ``svydesign`` arguments by name::

    ids: [dnum]            # cluster column per stage; [] or omitted: each row is a unit
    strata: null           # stratum column (stage 1)
    weights: pw            # weight column (omit to use fpc population sizes / sample sizes)
    # probs: p             # or inclusion probabilities, in (0, 1] (R's probs = ~p)
    fpc: [fpc]             # population size (or sampling fraction) column per stage
    pps: null              # brewer (fpc: the units' inclusion probabilities) | HR |
                           # {method: HR, psum: 0.05}: PPS without replacement (R's pps=)
    trim: {upper: 40}      # trimWeights on the design weights (before any calibration)
    nest: true             # cluster ids repeat across strata
    lonely_psu: fail       # fail | remove | adjust | average | certainty
    calibrate:             # optional
      method: rake         # harmonise.weight.METHODS: rake | poststratify | linear | raking
      margins: {stype: {E: 4421, H: 755, M: 1018}, sch.wide: {No: 1072, Yes: 5122}}
      totals: {api99: 3914069}        # numeric totals (linear / raking)
      bounds: [0.5, 1.6]              # bounds on w / w0 (linear / raking)
      trim: {upper: 40}               # trimWeights (absolute weights), then calibrate again
                                      # (then: recalibrate), or keep the trimmed weights and
                                      # the calibration's residuals (then: keep)
    replicates:            # optional: replicate-weight variances instead of Taylor
      type: JK1            # build: JK1 | JKn | bootstrap (R's as.svrepdesign)
      replicates: 200      # bootstrap only (default 50)
      seed: 1              # bootstrap only
      mse: false           # centre on the full-sample estimate (R's mse=TRUE)
    # or existing columns (R's svrepdesign(repweights=, combined.weights=TRUE)):
    # replicates: {columns: "repw[0-9]+", type: JK1, scale: 0.98, rscales: [...], rho: 0.5}

:func:`build_design` turns it and a data frame into a :class:`Design` (or a
:class:`~harmonise.estimate.replicates.ReplicateDesign` with ``replicates``; with
``calibrate`` too, the full sample and every replicate are calibrated, as R's
``rake(as.svrepdesign(d0), ...)``); :func:`estimate_table` computes tidy rows from
either. Both are pure (the CLI reads the files).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design, LonelyPSU
from harmonise.estimate.quantiles import QRule, QuantileInterval
from harmonise.estimate.rep_calibrate import calibrate_replicates
from harmonise.estimate.rep_spec import DesignReplicatesSpec, replicate_columns, replicate_matrix
from harmonise.estimate.replicates import (
    ReplicateDesign,
    replicate_design,
    replicate_weights_design,
)
from harmonise.estimate.results import CIDf, CIMethod, Deff
from harmonise.estimate.statistics import mean, proportion, quantile, total
from harmonise.weight import (
    METHODS,
    Adjustment,
    Margin,
    NumericTotal,
    RakeResult,
    trim_and_recalibrate,
    trim_calibrated,
)
from harmonise.weight.calibrate import cross_classify, trim_weights

TABLE_COLUMNS = (
    "statistic", "variable", "category", "group", "estimate", "se", "ci_low", "ci_high",
    "df", "deff", "n",
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesignWeightsTrimSpec(_Strict):
    """R's ``trimWeights(d, upper, lower, strict)`` on the design weights (the top-level
    ``trim:``); ``upper``/``lower`` are absolute weights, as in R (a crosswalk's
    ``weighting.trim`` is relative to the mean weight instead)."""

    upper: float = math.inf
    lower: float = -math.inf
    strict: bool = False


class DesignTrimSpec(DesignWeightsTrimSpec):
    """R's ``trimWeights`` on the calibrated weights (``calibrate.trim:``), then:

    * ``then: recalibrate`` (default) — calibration again from the trimmed weights,
      ``rounds`` times (R's ``calibrate(trimWeights(calibrate(d, ...)), ...)``);
    * ``then: keep`` — the trimmed weights, once, with the calibration's residual step in
      the variance (R's ``trimWeights(calibrate(d, ...))``; the totals then miss the
      population by what trimming moved).
    """

    rounds: int = Field(default=1, ge=1, le=20)
    then: Literal["recalibrate", "keep"] = "recalibrate"


class DesignPPSSpec(_Strict):
    """PPS sampling without replacement (R's ``svydesign(pps=)``): ``brewer`` (the
    ``fpc`` column holds each unit's inclusion probability) or ``HR`` (Hartley–Rao from
    ``probs``/``weights``; ``psum``: R's ``HR(psum)``, unstratified designs)."""

    method: Literal["brewer", "HR"]
    psum: float | None = Field(default=None, gt=0, le=1)


def _text_keys(value: object) -> object:
    """``{1: 40, 2.0: 60}`` -> ``{"1": 40, "2": 60}``: category keys as the data's labels."""
    if isinstance(value, Mapping):
        return {label(k): v for k, v in value.items()}
    return value


class DesignCalibrateSpec(_Strict):
    """Weighting of the design: method, population margins / totals, bounds, trimming.

    ``method`` is a name in :data:`harmonise.weight.METHODS`. ``cells`` (poststratify over
    several variables): one mapping per population cell, e.g. ``{stype: E, sch.wide: "Yes",
    count: 3949}``.
    """

    method: str
    margins: dict[str, dict[str, float]] = Field(default_factory=dict)
    cells: list[dict[str, str | float]] = Field(default_factory=list)
    totals: dict[str, float] = Field(default_factory=dict)
    bounds: tuple[float, float] | None = None
    epsilon: float = Field(default=1e-10, gt=0)
    max_iterations: int = Field(default=1000, ge=1)
    trim: DesignTrimSpec | None = None

    @field_validator("method")
    @classmethod
    def _known_method(cls, method: str) -> str:
        if method not in METHODS:
            raise ValueError(f"unknown weighting method {method!r}; use one of {sorted(METHODS)}")
        return method

    @field_validator("margins", mode="before")
    @classmethod
    def _margin_keys(cls, margins: object) -> object:
        if isinstance(margins, Mapping):
            return {k: _text_keys(v) for k, v in margins.items()}
        return margins


class DesignFileSpec(_Strict):
    """A survey design by column names, as a design file gives it (see the module docstring)."""

    ids: list[str] = Field(default_factory=list)
    strata: str | None = None
    weights: str | None = None
    probs: str | None = None
    fpc: list[str] = Field(default_factory=list)
    nest: bool = True
    lonely_psu: LonelyPSU = "fail"
    pps: DesignPPSSpec | None = None
    trim: DesignWeightsTrimSpec | None = None
    calibrate: DesignCalibrateSpec | None = None
    replicates: DesignReplicatesSpec | None = None

    @field_validator("pps", mode="before")
    @classmethod
    def _pps_name(cls, pps: object) -> object:
        return {"method": pps} if isinstance(pps, str) else pps

    @model_validator(mode="after")
    def _one_source_of_weights(self) -> DesignFileSpec:
        if self.weights is not None and self.probs is not None:
            raise ValueError(
                "give 'weights' or 'probs', not both (R: \"Can't specify both sampling "
                "weights and probabilities\"); probs are 1 / weights"
            )
        if self.calibrate is not None and self.calibrate.trim is not None:
            trim = self.calibrate.trim
            if trim.then == "keep" and trim.rounds != 1:
                raise ValueError(
                    "calibrate.trim: 'then: keep' trims once (R's trimWeights(calibrate(d))); "
                    "leave 'rounds' out, or use 'then: recalibrate' for several rounds"
                )
        return self


def label(value: object) -> str:
    """A category's text: integral numbers without ``.0`` (1.0 → ``"1"``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in data.columns:
        raise EstimationError(
            f"design {role} column {name!r} is not in the data; columns are: "
            f"{', '.join(map(str, data.columns))}"
        )
    column = data[name]
    missing = column.isna().to_numpy()
    if missing.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(missing)[:10])
        raise EstimationError(
            f"design {role} column {name!r} is missing for {int(missing.sum())} row(s) "
            f"(data rows {rows}); every respondent needs a value — fill or drop them first"
        )
    return column


def _analysis_numbers(data: pd.DataFrame, var: str) -> np.ndarray:
    """A --mean/--total variable as numbers; blank cells are missing, but text in a numeric
    variable ('10+', "Don't know") is an error, never silently dropped."""
    column = data[var]
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    blank = column.isna().to_numpy() | column.astype("string").str.strip().eq("").fillna(True)
    text = np.isnan(values) & ~np.asarray(blank, dtype=bool)
    if text.any():
        first = int(np.flatnonzero(text)[0])
        raise EstimationError(
            f"variable {var!r} has {int(text.sum())} non-numeric value(s), first "
            f"{column.iloc[first]!r} at data row {first + 1}; a mean or total needs numbers. "
            "Recode those answers to numbers or blanks first, or use --proportion for a "
            "categorical variable."
        )
    return values


def _numeric(data: pd.DataFrame, name: str, role: str) -> np.ndarray:
    column = _column(data, name, role)
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EstimationError(
            f"design {role} column {name!r} must be numeric; data row {first + 1} has "
            f"{column.iloc[first]!r}"
        )
    return values


def _codes(data: pd.DataFrame, name: str, role: str) -> np.ndarray:
    text = _column(data, name, role).map(label)
    return np.asarray(pd.factorize(text, sort=True)[0], dtype=np.int64)


def _margin(data: pd.DataFrame, name: str, targets: Mapping[str, float]) -> Margin:
    values = _column(data, name, "calibration margin").map(label)
    categories = list(targets)
    unknown = sorted(set(values) - set(categories))
    if unknown:
        raise EstimationError(
            f"calibration margin {name!r}: categories {unknown} occur in the data but have no "
            f"population count in the design file (it lists {categories}); add them"
        )
    codes = pd.Categorical(values, categories=categories).codes.astype(np.int64)
    return Margin(name, codes, np.array([float(targets[c]) for c in categories]), tuple(categories))


def _poststrata(data: pd.DataFrame, cal: DesignCalibrateSpec) -> list[Margin]:
    if cal.margins and not cal.cells:
        if len(cal.margins) != 1:
            raise EstimationError(
                "poststratify with several variables needs the cross-classified table as "
                "'cells' (one entry per combination with a 'count'), not separate margins"
            )
        name, targets = next(iter(cal.margins.items()))
        return [_margin(data, name, targets)]
    if not cal.cells:
        raise EstimationError("calibrate: poststratify needs 'margins' (one variable) or 'cells'")
    names = [k for k in cal.cells[0] if k != "count"]
    levels = {v: sorted({label(c[v]) for c in cal.cells}) for v in names}
    table = np.zeros(tuple(len(levels[v]) for v in names))
    for cell in cal.cells:
        if set(cell) != {*names, "count"}:
            raise EstimationError(
                f"calibrate cells: every cell needs {names} and 'count', got {sorted(cell)}"
            )
        index = tuple(levels[v].index(label(cell[v])) for v in names)
        table[index] = float(cell["count"])
    margins = [_margin(data, v, dict.fromkeys(levels[v], 0.0)) for v in names]
    return [cross_classify(margins, table)]


def calibrate_weights(
    data: pd.DataFrame, w0: np.ndarray, cal: DesignCalibrateSpec
) -> tuple[RakeResult, tuple[Adjustment, ...]]:
    """Run the design file's weighting; returns the result and every adjustment.

    With ``trim``: :func:`harmonise.weight.trim_and_recalibrate` (its result's ``history``
    is ``base → calibrated → trimmed_1 → recalibrated_1 → …``, ``method`` ``"<name>+trim"``),
    or with ``then: keep`` :func:`harmonise.weight.trim_calibrated` (``base → calibrated →
    trimmed``, the calibration's adjustment kept).
    """
    margins, options = calibration_inputs(data, cal)
    if cal.trim is None:
        result = METHODS[cal.method].fit(w0, margins, **options)
        return result, (() if result.adjustment is None else (result.adjustment,))
    if cal.trim.then == "keep":
        return trim_calibrated(
            w0,
            margins,
            method=cal.method,
            upper=cal.trim.upper,
            lower=cal.trim.lower,
            strict=cal.trim.strict,
            **options,
        )
    return trim_and_recalibrate(
        w0,
        margins,
        method=cal.method,
        upper=cal.trim.upper,
        lower=cal.trim.lower,
        strict=cal.trim.strict,
        rounds=cal.trim.rounds,
        **options,
    )


def calibration_inputs(
    data: pd.DataFrame, cal: DesignCalibrateSpec
) -> tuple[list[Margin], dict[str, object]]:
    """The margins and method options the design file's ``calibrate`` block describes."""
    fitted = METHODS[cal.method]
    if not fitted.takes_totals and (cal.totals or cal.bounds):
        raise EstimationError(
            f"calibrate: method {cal.method!r} takes no 'totals' or 'bounds'; use one of "
            f"{', '.join(repr(n) for n, m in METHODS.items() if m.takes_totals)} for numeric "
            "totals and bounds"
        )
    if fitted.one_margin:
        margins = _poststrata(data, cal)
    else:
        margins = [_margin(data, name, t) for name, t in cal.margins.items()]
    numeric = [NumericTotal(v, _numeric(data, v, "calibration total"), t)
               for v, t in cal.totals.items()]
    # calibration's Newton steps are capped at 1000 (raking sweeps are not)
    iterations = min(cal.max_iterations, 1000) if fitted.takes_totals else cal.max_iterations
    options = fitted.options(epsilon=cal.epsilon, max_iterations=iterations,
                             numeric=numeric, bounds=cal.bounds)
    return margins, options


def build_design(
    spec: DesignFileSpec, data: pd.DataFrame, *, source: str = "the data"
) -> tuple[Design | ReplicateDesign, RakeResult | None]:
    """The design the spec describes on ``data`` (weighted if it says so): a Taylor
    :class:`Design`, or a :class:`ReplicateDesign` when the spec has ``replicates``
    (then the result is ``None``: the calibration is in every replicate's weights).
    ``source`` names the data file in messages."""
    fpc = [_numeric(data, f, "fpc") for f in spec.fpc]
    pps = spec.pps
    probs = None
    if spec.probs is not None:
        probs = _probabilities(data, spec.probs, source)
        w0 = 1.0 / probs
    elif spec.weights is not None:
        w0 = _numeric(data, spec.weights, "weights")
    elif fpc:
        w0 = _weights_from_fpc(spec, data, fpc)
    else:
        w0 = np.ones(len(data))
    if pps is not None and pps.method == "HR":
        if spec.fpc:
            raise EstimationError(
                "pps: HR takes the inclusion probabilities from 'probs' (or 'weights'), not "
                "'fpc'; give probs: <column> and leave fpc out (pps: brewer reads fpc)"
            )
        if spec.probs is None and spec.weights is None:
            raise EstimationError("pps: HR needs 'probs' (or 'weights'): each unit's probability")
        probs = 1.0 / w0 if probs is None else probs
    if pps is not None and pps.method == "brewer" and (pps.psum is not None or not spec.fpc):
        raise EstimationError(
            "pps: brewer reads each unit's inclusion probability from 'fpc' (R's "
            "svydesign(pps = 'brewer', fpc = ~p)) and takes no psum; give fpc: [<column>]"
        )
    if spec.trim is not None:
        if spec.replicates is not None:
            raise EstimationError(
                "trim is not available with replicates; trim the weights before making the "
                "replicate design, or remove trim"
            )
        w0 = trim_weights(w0, upper=spec.trim.upper, lower=spec.trim.lower,
                          strict=spec.trim.strict)
    if spec.replicates is not None:
        if pps is not None:
            raise EstimationError(
                "pps is not available with replicates (R's as.svrepdesign ignores it); "
                "remove the pps or the replicates block"
            )
        return _replicate_design(spec, spec.replicates, data, w0, fpc), None
    result = None
    adjustments: tuple[Adjustment, ...] = ()
    if spec.calibrate is not None:
        hr = pps is not None and pps.method == "HR"
        if hr and not METHODS[spec.calibrate.method].takes_totals:
            raise EstimationError(
                f"calibrate: method {spec.calibrate.method!r} is not available for a pps: HR "
                "design (R: 'postStratify not yet implemented for these pps designs'); use "
                "method linear or raking (R's calibrate())"
            )
        result, adjustments = calibrate_weights(data, w0, spec.calibrate)
        w0 = result.weights
    design = Design(
        weights=w0,
        strata=_codes(data, spec.strata, "strata") if spec.strata else None,
        clusters=tuple(_codes(data, c, "ids") for c in spec.ids) or None,
        fpc=tuple(fpc) or None,
        lonely_psu=spec.lonely_psu,
        calibration=adjustments,
        nest=spec.nest,
        pps=None if pps is None else pps.method,
        pps_probs=probs if pps is not None and pps.method == "HR" else None,
        pps_psum=None if pps is None else pps.psum,
    )
    return design, result


def _probabilities(data: pd.DataFrame, name: str, source: str) -> np.ndarray:
    """The ``probs`` column: inclusion probabilities in (0, 1] (R's ``probs = ~p``)."""
    p = _numeric(data, name, "probs")
    bad = (p <= 0) | (p > 1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EstimationError(
            f"{source}: design probs column {name!r} has {int(bad.sum())} value(s) outside "
            f"(0, 1], first {p[first]:g} at data row {first + 1}; inclusion probabilities "
            "are fractions (a weight w is probability 1/w): give the weight column as "
            "'weights' instead, or fix those rows"
        )
    return p


def _replicate_design(
    spec: DesignFileSpec,
    rep: DesignReplicatesSpec,
    data: pd.DataFrame,
    w0: np.ndarray,
    fpc: list[np.ndarray],
) -> ReplicateDesign:
    if rep.columns is not None:
        if spec.weights is None or spec.ids or spec.strata or spec.fpc:
            raise EstimationError(
                "a design with replicate weight columns needs 'weights' (the full-sample "
                "weight column) and no ids, strata or fpc: the replicate weights carry the "
                "design (R's svrepdesign)"
            )
        names = replicate_columns(data, rep.columns, weights=spec.weights)
        design = replicate_weights_design(
            w0,
            replicate_matrix(data, names),
            kind=rep.type,
            scale=rep.scale,
            rscales=rep.rscales,
            rho=rep.rho,
            mse=rep.mse,
            names=names,
        )
    else:
        base = Design(
            weights=w0,
            strata=_codes(data, spec.strata, "strata") if spec.strata else None,
            clusters=tuple(_codes(data, c, "ids") for c in spec.ids) or None,
            fpc=tuple(fpc) or None,
            lonely_psu=spec.lonely_psu,
            nest=spec.nest,
        )
        design = replicate_design(
            base,
            rep.type,  # type: ignore[arg-type]
            replicates=rep.replicates or 50,
            seed=rep.seed,
            mse=rep.mse,
        )
    cal = spec.calibrate
    if cal is None:
        return design
    if cal.trim is not None:
        raise EstimationError(
            "calibrate.trim is not available with replicates (R's trimWeights does not "
            "trim replicate weights); remove trim or the replicates block"
        )
    margins, options = calibration_inputs(data, cal)
    return calibrate_replicates(design, margins, method=cal.method, options=options)


def _weights_from_fpc(
    spec: DesignFileSpec, data: pd.DataFrame, fpc: list[np.ndarray]
) -> np.ndarray:
    """R without weights: the product over stages of population / sample size."""
    probe = Design(
        weights=np.ones(len(data)),
        strata=_codes(data, spec.strata, "strata") if spec.strata else None,
        clusters=tuple(_codes(data, c, "ids") for c in spec.ids) or None,
        fpc=tuple(fpc),
        nest=spec.nest,
        pps="brewer" if spec.pps is not None and spec.pps.method == "brewer" else None,
    )
    w = np.ones(len(data))
    for stage in probe.stages:
        w = w / stage.unit_fraction[stage.unit]
    return w


def _row(stat: str, var: str, cat: str, group: str, est: object) -> dict[str, object]:
    deff = getattr(est, "deff", None)
    return {
        "statistic": stat, "variable": var, "category": cat, "group": group,
        "estimate": getattr(est, "estimate"), "se": getattr(est, "se"),  # noqa: B009
        "ci_low": getattr(est, "ci_low"), "ci_high": getattr(est, "ci_high"),  # noqa: B009
        "df": getattr(est, "df"), "deff": np.nan if deff is None else deff,  # noqa: B009
        "n": getattr(est, "n"),  # noqa: B009
    }  # fmt: skip


def by_groups(data: pd.DataFrame, by: str | Sequence[str] | None
              ) -> list[tuple[str, np.ndarray]]:
    """``(label, rows)`` for every group of the cross of the ``by`` variables present in
    the data (R's ``svyby`` groups), in sorted order; ``a=x, b=y`` labels."""
    names = [by] if isinstance(by, str) else list(by or ())
    if len(set(names)) < len(names):
        raise EstimationError(f"--by lists a variable twice ({', '.join(names)}); give each once")
    if not names:
        return []
    values = pd.DataFrame({n: _column(data, n, "--by").map(label) for n in names})
    out = []
    for key, rows in values.groupby(names, sort=True).indices.items():
        parts = key if isinstance(key, tuple) else (key,)
        mask = np.zeros(len(data), dtype=bool)
        mask[rows] = True
        out.append((", ".join(f"{n}={v}" for n, v in zip(names, parts, strict=True)), mask))
    return out


def _is_text(column: pd.Series) -> bool:
    """Whether a --total variable is categorical: some non-blank cell is not a number."""
    present = column.dropna()
    present = present[present.astype(str).str.strip() != ""]
    return bool(pd.to_numeric(present, errors="coerce").isna().any())


def _category_rows(stat: str, var: str, group: str, g: np.ndarray, column: pd.Series,
                   estimate: Callable[[np.ndarray, np.ndarray], object]
                   ) -> list[dict[str, object]]:
    """One row per category of a categorical variable, among the group's respondents with
    an answer (R's ``na.rm=TRUE``: the design keeps every row). Every category of the
    variable gets a row in every group, 0 where the group has none (as R's ``svyby``)."""
    present = column.notna().to_numpy()
    text = column.map(label).to_numpy()
    dom = g & present
    if not dom.any():
        return []
    return [_row(stat, var, cat, group, estimate(text == cat, dom))
            for cat in sorted(set(text[present]))]


def estimate_table(
    design: Design | ReplicateDesign,
    data: pd.DataFrame,
    *,
    means: Sequence[str] = (),
    proportions: Sequence[str] = (),
    totals: Sequence[str] = (),
    by: str | Sequence[str] | None = None,
    ci: CIMethod = "logit",
    level: float = 0.95,
    deff: Deff = True,
    quantiles: Sequence[str] = (),
    probs: Sequence[float] = (0.25, 0.5, 0.75),
    quantile_rule: QRule = "math",
    quantile_interval: QuantileInterval = "mean",
    ci_df: CIDf = "design",
) -> pd.DataFrame:
    """Tidy rows (:data:`TABLE_COLUMNS`) for every statistic, overall and by ``by``.

    ``by`` names one grouping variable or several, whose cross gives the groups (R's
    ``svyby(~y, ~a + b, ...)``; group ``a=x, b=y``). A ``totals`` variable holding text is
    categorical: one total per category, the estimated count (R's ``svytotal(~factor)``).
    ``deff``: R's ``deff=`` (``True`` or ``"replace"``); ``ci_df``: the intervals' degrees
    of freedom, the design's or ``"inf"`` (normal, R's ``confint()`` default).

    Rows with a missing value of a variable are outside that variable's domain (R's
    ``na.rm=TRUE``); the design always keeps every row, and each interval's degrees of
    freedom are those of the design or of the ``by`` group, as R's. A
    :class:`ReplicateDesign` uses replicate variances (the design decides:
    :mod:`harmonise.estimate.variances`). ``quantiles`` gives
    one row per probability in ``probs`` (statistic ``quantile``, category the probability,
    deff empty; R's ``svyquantile`` with ``qrule``/``interval.type``, see
    :mod:`harmonise.estimate.quantiles`, or :mod:`harmonise.estimate.rep_quantiles` for
    a replicate design: ``"score"`` is Taylor-only, ``"quantile"`` replicate-only).
    """
    mean_of = partial(mean, design, level=level, deff=deff, ci_df=ci_df)
    total_of = partial(total, design, level=level, deff=deff, ci_df=ci_df)
    proportion_of = partial(proportion, design, level=level, ci=ci, deff=deff, ci_df=ci_df)
    groups = [("all", np.ones(len(data), dtype=bool)), *by_groups(data, by)]
    rows: list[dict[str, object]] = []
    for var in [*means, *totals, *proportions, *quantiles]:
        if var not in data.columns:
            raise EstimationError(
                f"variable {var!r} is not in the data; columns are: "
                f"{', '.join(map(str, data.columns))}"
            )
    categorical = {var for var in totals if _is_text(data[var])}
    numeric = {var: _analysis_numbers(data, var)
               for var in (*means, *totals, *quantiles) if var not in categorical}
    for group, g in groups:
        for var in means:
            y = numeric[var]
            dom = g & np.isfinite(y)
            if dom.any():
                rows.append(_row("mean", var, "", group, mean_of(y, dom, group=g)))
        for var in totals:
            if var in categorical:
                rows += _category_rows("total", var, group, g, data[var],
                                       partial(total_of, group=g))
                continue
            y = numeric[var]
            dom = g & np.isfinite(y)
            if dom.any():
                rows.append(_row("total", var, "", group, total_of(y, dom, group=g)))
        for var in proportions:
            rows += _category_rows(
                "proportion", var, group, g, data[var],
                partial(proportion_of, group=g),
            )
        for var in quantiles:
            y = numeric[var]
            dom = g & np.isfinite(y)
            if dom.any():
                for q in quantile(
                    design,
                    y, dom, probs, level=level,
                    interval=quantile_interval, rule=quantile_rule, group=g, ci_df=ci_df,
                ):  # fmt: skip
                    rows.append(_row("quantile", var, f"{q.probability:g}", group, q))
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


__all__ = [
    "TABLE_COLUMNS",
    "DesignCalibrateSpec",
    "DesignFileSpec",
    "DesignPPSSpec",
    "DesignReplicatesSpec",
    "DesignTrimSpec",
    "DesignWeightsTrimSpec",
    "build_design",
    "calibrate_weights",
    "calibration_inputs",
    "estimate_table",
    "label",
    "replicate_columns",
]
