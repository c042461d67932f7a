"""Age ranges of schema populations and of age-band codes, for age-restricted comparisons.

Two surveys of different populations (adults 16+ and young people 11-18) may still be
compared on their **common age range** (16-18) when both surveys' age bands tile that range
exactly. This module holds the pure arithmetic:

- :data:`POPULATION_AGES` — the age range of each schema population. The schema does not
  carry ages yet; the proposed schema change (``crosswalks/schema/perception-v2.yaml``) is
  one optional field per population::

      populations:
        - {id: adults_16plus, label: "Residents aged 16 and over", ages: [16, null]}
        - {id: pupils_y7_y11, label: "...", ages: [11, 16]}

  Until then this explicit mapping is the single place those ranges live; a population
  not listed (or listed as ``None``) has no known age range and is never age-restricted.
- :func:`band_range` — the range an ``age_band`` code stands for (``18_34``, ``65_plus``,
  ``16``), ``None`` for a code it cannot read;
- :func:`common_range` and :func:`cover` — the overlap of two populations and which of a
  survey's bands make up exactly that overlap (``None`` when a band straddles its edge).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, order=True)
class AgeRange:
    """Ages ``low`` to ``high`` inclusive, in completed years; ``high=None`` is open-ended."""

    low: int
    high: int | None = None

    def __post_init__(self) -> None:
        if self.high is not None and self.high < self.low:
            raise ValueError(f"age range {self.low}-{self.high} ends before it starts")

    def __str__(self) -> str:
        if self.high is None:
            return f"{self.low}+"
        return str(self.low) if self.high == self.low else f"{self.low}-{self.high}"

    @property
    def code(self) -> str:
        """The subgroup code used in estimate tables: ``16_18``, ``18_plus``, ``16``."""
        if self.high is None:
            return f"{self.low}_plus"
        return str(self.low) if self.high == self.low else f"{self.low}_{self.high}"

    def intersect(self, other: AgeRange) -> AgeRange | None:
        low = max(self.low, other.low)
        highs = [h for h in (self.high, other.high) if h is not None]
        high = min(highs) if highs else None
        if high is not None and high < low:
            return None
        return AgeRange(low, high)

    def within(self, other: AgeRange) -> bool:
        """True when every age in ``self`` is in ``other``."""
        if self.low < other.low:
            return False
        if other.high is None:
            return True
        return self.high is not None and self.high <= other.high


#: Age range of each schema population (proposed ``ages`` field of schema populations).
POPULATION_AGES: Mapping[str, AgeRange | None] = {
    "adults_16plus": AgeRange(16),
    "adults_18plus": AgeRange(18),
    "young_people_11_18": AgeRange(11, 18),
    # Years 7 to 11 in England: aged 11 at the start of Year 7, 16 by the end of Year 11.
    "pupils_y7_y11": AgeRange(11, 16),
    "all": None,
}

_BAND = re.compile(r"^(\d+)(?:_(\d+|plus))?$")


def band_range(code: str) -> AgeRange | None:
    """The ages an age-band code covers: ``18_34`` -> 18-34, ``65_plus`` -> 65+, ``16`` -> 16."""
    match = _BAND.match(str(code).strip().lower())
    if match is None:
        return None
    low, high = match.group(1), match.group(2)
    if high is None:
        return AgeRange(int(low), int(low))
    if high == "plus":
        return AgeRange(int(low))
    if int(high) < int(low):
        return None
    return AgeRange(int(low), int(high))


def common_range(
    a_population: str, b_population: str, ages: Mapping[str, AgeRange | None]
) -> AgeRange | None:
    """The ages both populations include, or ``None`` (no overlap, or an age range unknown)."""
    a, b = ages.get(a_population), ages.get(b_population)
    if a is None or b is None:
        return None
    return a.intersect(b)


def cover(
    bands: Iterable[str], target: AgeRange, population: AgeRange | None
) -> tuple[str, ...] | None:
    """The band codes that together are exactly ``target``, or ``None`` if none can be.

    Each band is first clipped to the survey's population range (an ``18_34`` band of a
    16+ survey is 18-34; a ``16_18`` band of an 11-18 survey is 16-18). Bands inside the
    target are taken; a band that overlaps the target only in part makes the target
    impossible to separate; the taken bands must leave no gap from the target's first age
    to its last.
    """
    taken: list[tuple[AgeRange, str]] = []
    for code in bands:
        rng = band_range(code)
        if rng is None:
            return None
        if population is not None:
            clipped = rng.intersect(population)
            if clipped is None:
                continue
            rng = clipped
        if rng.within(target):
            taken.append((rng, code))
        elif rng.intersect(target) is not None:
            return None  # straddles the edge of the common range
    if not taken:
        return None
    taken.sort()
    reach = target.low - 1
    for rng, _ in taken:
        if rng.low != reach + 1:
            return None
        if rng.high is None:
            return tuple(c for _, c in taken) if target.high is None else None
        reach = rng.high
    if target.high is None or reach != target.high:
        return None
    return tuple(c for _, c in taken)


#: The ``group_var`` of estimate rows restricted to a common age range.
AGE_RANGE_GROUP = "age_range"


def age_range_members(
    age_band: pd.Series, target: AgeRange, population: AgeRange | None
) -> np.ndarray:
    """Which respondents are in ``target``: their ``age_band``, clipped to the survey's
    population range, lies inside it (a band code that cannot be read is outside). The one
    place this membership is derived: the age-restricted estimates and the release-wide
    disclosure check both use it."""
    bands = age_band.astype("object").astype(str)
    inside: dict[str, bool] = {}
    for band in set(bands):
        rng = band_range(band)
        if rng is not None and population is not None:
            rng = rng.intersect(population)
        inside[band] = rng is not None and rng.within(target)
    return bands.map(inside).to_numpy(dtype=bool)
