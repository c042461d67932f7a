"""Population targets for weighting: long-format CSV files under ``surveys/targets/``.

One row per area × population × variable × category::

    area_code,area_name,population,variable,category,count,reference_date,source,
    table_id,year,licence,status,note

Checks: required columns present; counts are non-negative numbers; no category listed
twice; within one area and population every variable adds to the same total (within
``tolerance``, relative; published census tables are perturbed, so totals differ by a
few) — each margin is then rescaled to the first variable's total, and the rescaling is
recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harmonise._util.files import sha256_bytes
from harmonise.errors import TargetsError
from harmonise.models.crosswalk import Crosswalk

REQUIRED = (
    "area_code",
    "area_name",
    "population",
    "variable",
    "category",
    "count",
    "source",
    "year",
    "status",
)


@dataclass(frozen=True)
class MarginTargets:
    variable: str
    categories: tuple[str, ...]
    counts: np.ndarray  # after rescaling to the control total
    raw_total: float
    scaled: bool


@dataclass(frozen=True)
class Targets:
    """Targets of one area and population, ready for raking."""

    file: str
    sha256: str
    area_code: str
    area_name: str
    population: str
    total: float
    margins: dict[str, MarginTargets]
    illustrative: bool
    sources: tuple[str, ...]


def read_targets_table(path: Path) -> tuple[pd.DataFrame, str]:
    """Read a targets CSV (I/O edge); returns the table and the file's SHA-256."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise TargetsError(f"{path}: targets file not found; check the crosswalk's "
                           "weighting.targets path (relative to the project root)") from exc
    except OSError as exc:
        raise TargetsError(f"{path}: cannot be read as a targets file ({exc.strerror}); "
                           "point weighting.targets at a CSV file") from exc
    try:
        import io

        table = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise TargetsError(f"{path}: cannot be read as a UTF-8 CSV table: {exc}") from exc
    return table, sha256_bytes(raw)


def select_targets(
    table: pd.DataFrame,
    *,
    file: str,
    sha256: str,
    area_code: str,
    population: str,
    variables: tuple[str, ...],
    tolerance: float = 0.005,
) -> Targets:
    """Validate the rows for one area and population and build per-variable margins."""
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise TargetsError(
            f"{file}: missing column(s) {missing}; a targets file needs {list(REQUIRED)}"
        )
    counts = pd.to_numeric(table["count"], errors="coerce")
    bad = np.flatnonzero(~((counts >= 0) & np.isfinite(counts)))
    if len(bad):
        i = int(bad[0])
        raise TargetsError(
            f"{file}: row {i + 2}, column 'count': {table['count'].iloc[i]!r} is not a "
            "finite non-negative number; fix the count"
        )
    table = table.assign(count=counts)
    rows = table[(table["area_code"] == area_code) & (table["population"] == population)]
    if rows.empty:
        have = sorted(set(zip(table["area_code"], table["population"], strict=True)))
        raise TargetsError(
            f"{file}: no rows for area_code {area_code!r} and population {population!r}; "
            f"the file has {have}. Fix the crosswalk's weighting section or the file."
        )
    dupes = rows[rows.duplicated(["variable", "category"], keep=False)]
    if not dupes.empty:
        first = dupes.iloc[0]
        times = int(((dupes["variable"] == first["variable"])
                     & (dupes["category"] == first["category"])).sum())
        raise TargetsError(
            f"{file}: variable {first['variable']!r} category {first['category']!r} is listed "
            f"{times} times for area {area_code} ({population}); keep one row per category"
        )
    absent = [v for v in variables if v not in set(rows["variable"])]
    if absent:
        raise TargetsError(
            f"{file}: no targets for variable(s) {absent} in area {area_code}; the file has "
            f"{sorted(set(rows['variable']))}"
        )
    totals = {v: float(rows.loc[rows["variable"] == v, "count"].sum()) for v in variables}
    control = totals[variables[0]]
    if control <= 0:
        raise TargetsError(f"{file}: variable {variables[0]!r} adds to {control}; need > 0")
    off = {v: t for v, t in totals.items() if abs(t - control) > tolerance * control}
    if off:
        listing = ", ".join(f"{v} = {t:,.0f}" for v, t in totals.items())
        raise TargetsError(
            f"{file}: margins for area {area_code} ({population}) do not add up to the same "
            f"total ({listing}); they differ by more than {tolerance:.1%}. Check for a "
            "missing or double-counted category, or use tables for the same population."
        )
    margins: dict[str, MarginTargets] = {}
    for v in variables:
        sub = rows[rows["variable"] == v]
        raw = sub["count"].to_numpy(dtype=float)
        scaled = not np.isclose(raw.sum(), control, rtol=1e-12, atol=0.0)
        margins[v] = MarginTargets(
            variable=v,
            categories=tuple(str(c) for c in sub["category"]),
            counts=raw * (control / raw.sum()),
            raw_total=float(raw.sum()),
            scaled=bool(scaled),
        )
    status = set(rows["status"].str.strip().str.lower())
    unknown = status - {"official", "illustrative"}
    if unknown:
        raise TargetsError(
            f"{file}: column 'status' has {sorted(unknown)}; use 'official' or 'illustrative'"
        )
    return Targets(
        file=file,
        sha256=sha256,
        area_code=area_code,
        area_name=str(rows["area_name"].iloc[0]),
        population=population,
        total=control,
        margins=margins,
        illustrative="illustrative" in status,
        sources=tuple(sorted(set(rows["source"]))),
    )


def check_categories(targets: Targets, crosswalk: Crosswalk, crosswalk_file: str) -> None:
    """Refuse targets whose categories are not the categories the crosswalk recodes to.

    For each weighting margin, the codes the crosswalk's items for that concept recode to
    must be exactly the targets' categories: a code the targets lack leaves respondents
    with no population to weight to, and a target category no value is recoded to can
    never be met. The error names the targets file, the variable, the category, the
    crosswalk and what to do.
    """
    spec = crosswalk.weighting
    if spec is None:
        return
    for variable in spec.margins:
        items = [i for i in crosswalk.items if i.concept == variable and i.option is None]
        if not items or variable not in targets.margins:
            continue  # the weight stage says which item or target is missing
        produced: dict[str, list[str]] = {}
        for item in items:
            for key, code in item.recode.items():
                produced.setdefault(code, []).append(str(key)[:40])
        have = targets.margins[variable].categories
        extra = [c for c in produced if c not in have]
        if extra:
            c = extra[0]
            raise TargetsError(
                f"{targets.file}: variable {variable!r} has no category {c!r}, which crosswalk "
                f"{crosswalk_file} recodes {', '.join(repr(k) for k in produced[c][:5])} to "
                f"(the targets' categories are {list(have)}). Make them the same: recode to "
                "the targets' categories in the crosswalk, or rebuild the targets with that "
                "category (harmonise targets from-census --map 'LABEL=" + c + "'; see "
                "docs/targets.md)"
            )
        absent = [c for c in have if c not in produced]
        if absent:
            c = absent[0]
            raise TargetsError(
                f"{targets.file}: variable {variable!r} category {c!r} has a population target "
                f"but crosswalk {crosswalk_file} recodes no value to it (it recodes to "
                f"{list(produced)}), so no respondent can be weighted to it. Merge it into a "
                "category the crosswalk uses (rebuild the targets with --map, or edit the "
                "file's rows), or recode a source value to it"
            )
