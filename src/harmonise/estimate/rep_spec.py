"""The ``replicates:`` block of a design file and reading replicate weight columns.

Used by :mod:`harmonise.estimate.spec`; see docs/estimation.md ("Replicate weights").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harmonise.errors import EstimationError
from harmonise.estimate.replicates import BUILD_TYPES, COLUMN_TYPES


class DesignReplicatesSpec(BaseModel):
    """Replicate weights: built from the design (``type`` JK1 / JKn / bootstrap, R's
    ``as.svrepdesign``) or read from existing ``columns`` (a regular expression matched
    against the column names, or a list of names; R's ``svrepdesign(combined.weights =
    TRUE)``, each column a full set of weights). ``scale``, ``rscales`` and ``rho`` are
    R's and only go with ``columns``; ``replicates`` and ``seed`` only with bootstrap,
    which needs ``seed`` (without it every run would draw other replicates and SEs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    columns: str | list[str] | None = None
    replicates: int | None = Field(default=None, ge=2)
    seed: int | None = None
    mse: bool = False
    scale: float | None = Field(default=None, ge=0)
    rscales: list[float] | None = None
    rho: float | None = None

    @field_validator("rscales", mode="before")
    @classmethod
    def _one_rscale(cls, value: object) -> object:
        return [value] if isinstance(value, int | float) else value

    @model_validator(mode="after")
    def _consistent(self) -> DesignReplicatesSpec:
        if self.columns is None:
            if self.type not in BUILD_TYPES:
                raise ValueError(
                    f"replicate type {self.type!r} cannot be built from the design; use one "
                    f"of {', '.join(BUILD_TYPES)}, or give the replicate weight 'columns'"
                )
            given = [k for k in ("scale", "rscales", "rho") if getattr(self, k) is not None]
            if given:
                raise ValueError(
                    f"{', '.join(given)} only go with existing replicate 'columns'; replicates "
                    "built from the design set them as R does"
                )
            if self.type != "bootstrap" and (self.replicates is not None or self.seed is not None):
                raise ValueError("'replicates' and 'seed' are for type bootstrap only")
            if self.type == "bootstrap" and self.seed is None:
                raise ValueError(
                    "type bootstrap draws its replicates at random: give 'seed' (any whole "
                    "number, e.g. seed: 1) so the SEs are the same on every run"
                )
        else:
            if self.type not in COLUMN_TYPES:
                raise ValueError(
                    f"unknown replicate type {self.type!r}; use one of {', '.join(COLUMN_TYPES)}"
                )
            if self.replicates is not None or self.seed is not None:
                raise ValueError(
                    "'replicates' and 'seed' are for bootstrap replicates built from the "
                    "design; existing columns are used as they are"
                )
        return self


def replicate_columns(
    data: pd.DataFrame, columns: str | Sequence[str], *, weights: str | None = None
) -> list[str]:
    """The replicate weight columns: every column whose whole name matches the regular
    expression ``columns``, or the listed names (in the data's column order for a regex).
    ``weights`` names the full-sample weight column, which is never a replicate: a
    pattern or list that takes it in is an error (a replicate equal to the full sample
    adds nothing to the variance, so the SEs would come out too small, silently)."""
    if isinstance(columns, str):
        try:
            pattern = re.compile(columns)
        except re.error as exc:
            raise EstimationError(
                f"replicates columns {columns!r} is not a valid regular expression: {exc}"
            ) from exc
        names = [str(c) for c in data.columns if pattern.fullmatch(str(c))]
        if not names:
            raise EstimationError(
                f"replicates columns pattern {columns!r} matches no column; columns are: "
                f"{', '.join(map(str, data.columns))}"
            )
    else:
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise EstimationError(
                f"replicate weight column(s) {missing} are not in the data; columns are: "
                f"{', '.join(map(str, data.columns))}"
            )
        if not columns:
            raise EstimationError("replicates columns: the list is empty; name the columns")
        names = list(columns)
    if weights is not None and weights in names:
        raise EstimationError(
            f"replicates columns {columns!r} take in {weights!r}, the full-sample weight "
            "column ('weights'), which is not a replicate; make the pattern or list name "
            "the replicate columns only (e.g. a pattern ending in [0-9]+)"
        )
    return names


def replicate_matrix(data: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """The named columns as an ``n × R`` matrix; an error names the first column, row and
    value that is missing, text or negative."""
    out = np.empty((len(data), len(names)))
    for j, name in enumerate(names):
        column = data[name]
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            value = column.iloc[first]
            value = value.item() if isinstance(value, np.generic) else value
            raise EstimationError(
                f"replicate weight column {name!r} has {value!r} at data row "
                f"{first + 1} ({int(bad.sum())} bad value(s)); replicate weights must be "
                "non-negative numbers with none missing"
            )
        out[:, j] = values
    return out


__all__ = ["DesignReplicatesSpec", "replicate_columns", "replicate_matrix"]
