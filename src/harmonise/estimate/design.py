"""A survey design for Taylor-linearised estimation, with R ``survey`` semantics.

A :class:`Design` corresponds to::

    d <- svydesign(ids = ~cluster (or ~1), strata = ~strata (or NULL),
                   weights = ~w0, data = df, nest = TRUE)
    d <- rake(d, list(~m1, ~m2, ...), list(pop1, pop2, ...))   # when ``raking`` is given

with ``weights`` the final weights (after raking, if any). Primary sampling units (PSUs)
are nested in strata: cluster ids are made unique within each stratum. Without clusters
every respondent is its own PSU; without strata there is one stratum.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import EstimationError

LonelyPSU = Literal["fail", "remove", "adjust", "average", "certainty"]
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "remove", "adjust", "average", "certainty")

IntArray = NDArray[np.int64]


def _rows(mask: NDArray[np.bool_], limit: int = 10) -> str:
    idx = np.flatnonzero(mask) + 1
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    return shown + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def _codes(name: str, values: np.ndarray, n: int) -> IntArray:
    raw = np.asarray(values)
    if raw.ndim != 1 or raw.size != n:
        raise EstimationError(
            f"design {name}: {raw.size} value(s) for {n} weight(s); give one per respondent"
        )
    if not np.issubdtype(raw.dtype, np.integer):
        raise EstimationError(
            f"design {name} must be integer codes, got dtype {raw.dtype}; encode them first "
            "(e.g. pandas.factorize(column)[0])"
        )
    return raw.astype(np.int64)


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class Design:
    """Final weights plus the design information variances need.

    ``raking`` holds the category-code array of each margin the weights were raked to
    (in raking order); standard errors then account for the calibration as R's
    ``rake()``d designs do. ``lonely_psu`` says what to do with a stratum that has a
    single PSU (R's ``options(survey.lonely.psu=)``). Equality is identity.
    """

    weights: np.ndarray
    strata: np.ndarray | None = None
    clusters: np.ndarray | None = None
    raking: tuple[np.ndarray, ...] = ()
    lonely_psu: LonelyPSU = "fail"

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise EstimationError(
                f"design weights must be a non-empty 1-D array, got shape {w.shape}"
            )
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            raise EstimationError(
                f"design weights must be positive: {int(bad.sum())} respondent(s) have a zero, "
                f"negative or missing weight (rows {_rows(bad)}, 1-based); fix the weights, "
                "or keep those respondents out with a domain instead of a zero weight"
            )
        if self.lonely_psu not in LONELY_PSU_OPTIONS:
            raise EstimationError(
                f"lonely_psu={self.lonely_psu!r} is not an option; use one of "
                f"{', '.join(LONELY_PSU_OPTIONS)}"
            )
        n = w.size
        raking = []
        for i, codes in enumerate(self.raking):
            c = _codes(f"raking margin {i + 1}", codes, n)
            if c.min() < 0:
                raise EstimationError(
                    f"design raking margin {i + 1}: negative category codes at rows "
                    f"{_rows(c < 0)} (1-based); every respondent needs a category"
                )
            raking.append(_frozen(c))
        # Read-only copies, so the cached PSU structure can never go stale.
        object.__setattr__(self, "weights", _frozen(w))
        object.__setattr__(self, "raking", tuple(raking))
        for name in ("strata", "clusters"):
            values = getattr(self, name)
            if values is not None:
                object.__setattr__(self, name, _frozen(_codes(name, values, n)))

    @property
    def n(self) -> int:
        """Number of respondents (rows)."""
        return int(self.weights.size)

    @property
    def calibrated(self) -> bool:
        """Whether the weights were raked (R then keeps all rows when taking a domain)."""
        return bool(self.raking)

    @cached_property
    def stratum_index(self) -> IntArray:
        """Stratum of each respondent as ``0..H-1``."""
        if self.strata is None:
            return np.zeros(self.n, dtype=np.int64)
        _, inverse = np.unique(self.strata, return_inverse=True)
        return inverse.astype(np.int64)

    @cached_property
    def stratum_values(self) -> IntArray:
        """The caller's stratum code of each stratum index (for messages)."""
        if self.strata is None:
            return np.zeros(1, dtype=np.int64)
        return np.unique(self.strata).astype(np.int64)

    @cached_property
    def psu_index(self) -> IntArray:
        """PSU of each respondent as ``0..P-1``, unique across strata (``nest=TRUE``)."""
        if self.clusters is None:
            return np.arange(self.n, dtype=np.int64)
        _, cluster = np.unique(self.clusters, return_inverse=True)
        key: IntArray = self.stratum_index * (int(cluster.max()) + 1) + cluster.reshape(-1)
        _, inverse = np.unique(key, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64)

    @cached_property
    def psu_stratum(self) -> IntArray:
        """Stratum (``0..H-1``) of each PSU."""
        out = np.empty(int(self.psu_index.max()) + 1, dtype=np.int64)
        out[self.psu_index] = self.stratum_index
        return out

    @cached_property
    def psus_per_stratum(self) -> IntArray:
        """Number of PSUs in each stratum, over the whole sample."""
        return np.bincount(self.psu_stratum).astype(np.int64)

    @cached_property
    def raking_codes(self) -> tuple[IntArray, ...]:
        """Each raking margin's codes as ``0..k-1`` (dense)."""
        out = []
        for codes in self.raking:
            _, inverse = np.unique(codes, return_inverse=True)
            out.append(inverse.reshape(-1).astype(np.int64))
        return tuple(out)


__all__ = ["LONELY_PSU_OPTIONS", "Design", "LonelyPSU"]
