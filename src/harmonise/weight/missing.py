"""Respondents without a usable value of a weighting margin: impute or keep them out.

A weighting margin (``sex``, ``age_band``, ``area``) holds a missing type (``refused``,
``no_answer``, …) for a respondent who answered "Prefer not to say" or left it blank.
Raking needs a category for everyone, so the crosswalk's ``weighting.missing`` declares
per margin one of:

``impute`` (the default)
    a **hot-deck within cells of the other margins**: each recipient takes the value of a
    donor drawn at random, with probability proportional to the starting weight, among
    the respondents who gave a value of this margin and share the recipient's categories
    of the other margins (only those the recipient has). When that cell has no donor the
    last of the other margins is dropped from the cell, and so on down to all donors
    (counted as ``collapsed``). Draws are seeded (``weighting.impute_seed`` and the
    margin's name), so a rerun gives the same values. Cells use the values as reported,
    never another margin's imputed value, so the order of the margins does not matter.
    Valid when the value is missing at random within those cells.

``exclude``
    the respondents are **kept out of this margin's adjustment**: they form one more
    category, ``(missing)``, whose target is their weighted total under the starting
    weights, and the population's categories are scaled to the rest of the total. The
    missing group keeps its starting share of the population on this margin; the
    respondents who gave a value are calibrated to the population's shares. In R this is
    ``rake()``/``calibrate()`` with ``(missing)`` as a level and that target, so the
    variance agrees with R. Valid when the value is missing completely at random (not
    related to the other margins either).

``refuse``
    stop with an error naming the margin, the count and the first row.

Pure functions of numpy arrays; no I/O.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import WeightingError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: Label of the extra category an ``exclude``d margin gets.
MISSING_CATEGORY = "(missing)"


@dataclass(frozen=True, eq=False)
class Imputation:
    """A margin's codes after the hot-deck and what was done.

    ``codes``: every respondent's category (imputed ones filled); ``imputed``: which rows
    were filled; ``collapsed``: how many of them took a donor from a coarser cell than
    their full one.
    """

    codes: IntArray
    imputed: NDArray[np.bool_]
    collapsed: int


def margin_seed(seed: int, margin: str) -> np.random.Generator:
    """The generator of one margin's draws: from the declared seed and the margin's name,
    so adding or reordering margins leaves another margin's draws as they were."""
    return np.random.default_rng([int(seed), zlib.crc32(margin.encode("utf-8"))])


def hot_deck(
    target: int,
    codes: Sequence[np.ndarray],
    weights: np.ndarray,
    *,
    names: Sequence[str],
    seed: int,
) -> Imputation:
    """Impute margin ``target``'s missing codes (``-1``) from donors within cells.

    ``codes`` holds every margin's category codes (``0..k-1``, ``-1`` for missing) in
    the crosswalk's order; ``weights`` the starting weights (donors are drawn with
    probability proportional to them). Recipients are visited cell by cell in sorted
    order of their cell key, and within a cell in row order, so the result depends only
    on the data, the seed and the margin's name.
    """
    own = np.asarray(codes[target], dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    missing = own < 0
    observed = ~missing
    out = own.copy()
    if not missing.any():
        return Imputation(codes=out, imputed=missing, collapsed=0)
    if not observed.any():
        raise WeightingError(
            f"margin {names[target]!r}: no respondent has a usable value, so there is no "
            "donor to impute from; drop the margin, or declare it 'exclude' in the "
            "crosswalk's weighting.missing"
        )
    others = [np.asarray(c, dtype=np.int64) for i, c in enumerate(codes) if i != target]
    rng = margin_seed(seed, names[target])
    rows = np.flatnonzero(missing)
    # A recipient's key: its code on each other margin, -1 where it has none too.
    keys = np.column_stack(others)[rows] if others else np.zeros((rows.size, 0), np.int64)
    order = np.lexsort(keys.T[::-1]) if keys.shape[1] else np.arange(rows.size)
    collapsed = 0
    start = 0
    while start < order.size:
        stop = start + 1
        while stop < order.size and np.array_equal(keys[order[stop]], keys[order[start]]):
            stop += 1
        recipients = rows[order[start:stop]]
        key = keys[order[start]]
        usable = [j for j in range(key.size) if key[j] >= 0]
        for level in range(len(usable) + 1):
            donors = observed.copy()
            for j in usable[: len(usable) - level]:
                donors &= others[j] == key[j]
            if donors.any():
                break
        pool = np.flatnonzero(donors)
        p = w[pool] / w[pool].sum()
        out[recipients] = own[pool[rng.choice(pool.size, size=recipients.size, p=p)]]
        if level:
            collapsed += recipients.size
        start = stop
    return Imputation(codes=out, imputed=missing, collapsed=collapsed)


def exclude_missing(
    codes: np.ndarray, targets: np.ndarray, weights: np.ndarray
) -> tuple[IntArray, FloatArray, float]:
    """Codes and targets with the missing respondents (``-1``) as one more category.

    The extra category's target is the missing respondents' total of ``weights`` (the
    starting weights); the population's categories are scaled to the rest of the total,
    so every margin still adds to the same total. Returns the codes, the targets and the
    missing respondents' share of the total.
    """
    c = np.asarray(codes, dtype=np.int64)
    t = np.asarray(targets, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    k = t.size
    missing = c < 0
    total = float(t.sum())
    held = float(w[missing].sum())
    if held >= total:
        raise WeightingError(
            "every respondent lacks this margin's value, so nothing is left to calibrate "
            "to it; drop the margin from the weighting"
        )
    out = np.where(missing, k, c).astype(np.int64)
    new_targets = np.append(t * ((total - held) / total), held)
    return out, new_targets, held / total


__all__ = ["MISSING_CATEGORY", "Imputation", "exclude_missing", "hot_deck", "margin_seed"]
