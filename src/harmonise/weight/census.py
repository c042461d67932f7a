"""Weighting targets from a Census 2021 table as ONS and Nomis publish it.

Three CSV layouts are read (:func:`read_census_table`, the I/O edge) into one long table
of area × category × count:

``ons``
    ONS "Create a custom dataset" downloads: one pair of columns per dimension,
    ``<Dimension> Code`` and ``<Dimension>`` (the first pair is the geography, e.g.
    ``Lower tier local authorities Code``), and the count in ``Observation`` (or ``Count``).
``nomis-bulk``
    Nomis bulk files (``census2021-ts008-ltla.csv``): ``date``, ``geography``,
    ``geography code`` and one column per category, headed ``<Dimension>: <Category>``
    (several dimensions joined by ``; ``), usually ending ``; measures: Value``.
``nomis-api``
    Nomis API CSV: ``GEOGRAPHY_CODE``, ``GEOGRAPHY_NAME``, ``C2021_…_NAME`` per dimension
    and ``OBS_VALUE`` (rows whose ``MEASURES_NAME`` is not ``Value`` are left out).

:func:`census_targets` (pure) turns one dimension of such a table into the rows of a
targets file (docs/targets.md): every category of that dimension must be mapped to a
target category or dropped by name (nothing is left out silently), every other
dimension needs an explicit selection (``Age=18..100``, ``Age=*``), and the mapped counts
may not add to more than the table's own total (a category and its subtotal both mapped).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harmonise.errors import TargetsError

#: The dimension name that stands for the table's areas (``--dimension geography``).
GEOGRAPHY = "geography"
#: Census 2021 reference day.
CENSUS_DAY = "2021-03-21"
_TOTAL = re.compile(r"^(total\b.*|all persons|all usual residents.*|all people.*)$", re.I)
_SINGLE_AGE = re.compile(r"^aged (under 1|\d+) years?(?: and over)?$", re.I)
_RANGE = re.compile(r"^(\d+)\s*\.\.\s*(\d*)$")


@dataclass(frozen=True, eq=False)
class CensusTable:
    """A census table in long form: ``area_code``, ``area_name``, per dimension ``d`` its
    label column ``d`` and code column ``d + " Code"`` (may be blank), and ``count``."""

    file: str
    layout: str
    dimensions: tuple[str, ...]
    rows: pd.DataFrame


def _norm(text: object) -> str:
    return " ".join(str(text).replace("\u00a0", " ").split()).casefold()


def _numbers(values: pd.Series, file: str, column: str) -> pd.Series:
    text = values.astype(str).str.replace(",", "", regex=False).str.strip()
    out = pd.to_numeric(text, errors="coerce")
    bad = np.flatnonzero(~(np.isfinite(out.to_numpy(dtype=float)) & (out.to_numpy() >= 0)))
    if len(bad):
        i = int(bad[0])
        raise TargetsError(
            f"{file}: row {i + 2}, column {column!r}: {str(values.iloc[i])[:40]!r} is not a "
            "count; a census table holds non-negative numbers there — check that this is the "
            "table's CSV download, not a formatted spreadsheet"
        )
    return out.astype(float)


def _ons(frame: pd.DataFrame, file: str) -> CensusTable:
    value = next(c for c in frame.columns if _norm(c) in ("observation", "count"))
    pairs = [c[: -len(" code")] for c in frame.columns
             if _norm(c).endswith(" code") and c[: -len(" code")] in frame.columns]
    if len(pairs) < 2:
        raise TargetsError(
            f"{file}: looks like an ONS custom dataset (column {value!r}) but has "
            f"{len(pairs)} '<name> Code' + '<name>' column pair(s); it needs the geography "
            "and at least one variable — download the CSV again with both"
        )
    geo, dims = pairs[0], pairs[1:]
    rows = pd.DataFrame({"area_code": frame[f"{geo} Code"].astype(str).str.strip(),
                         "area_name": frame[geo].astype(str).str.strip()})
    for d in dims:
        rows[d] = frame[d].astype(str).str.strip()
        rows[f"{d} Code"] = frame[f"{d} Code"].astype(str).str.strip()
    rows["count"] = _numbers(frame[value], file, value)
    return CensusTable(file, "ons", tuple(dims), rows)


def _nomis_api(frame: pd.DataFrame, file: str) -> CensusTable:
    if "MEASURES_NAME" in frame.columns:
        frame = frame[frame["MEASURES_NAME"].astype(str).str.strip().str.casefold() == "value"]
    dims = [c[: -len("_NAME")] for c in frame.columns
            if c.startswith("C2021_") and c.endswith("_NAME")]
    if not dims:
        raise TargetsError(f"{file}: a Nomis API table without a C2021_…_NAME column; "
                           "request the table with its census variable")
    rows = pd.DataFrame({"area_code": frame["GEOGRAPHY_CODE"].astype(str).str.strip(),
                         "area_name": frame["GEOGRAPHY_NAME"].astype(str).str.strip()})
    for d in dims:
        rows[d] = frame[f"{d}_NAME"].astype(str).str.strip()
        rows[f"{d} Code"] = (frame[d].astype(str).str.strip() if d in frame.columns else "")
    rows["count"] = _numbers(frame["OBS_VALUE"], file, "OBS_VALUE")
    return CensusTable(file, "nomis-api", tuple(dims), rows.reset_index(drop=True))


def _nomis_bulk(frame: pd.DataFrame, file: str) -> CensusTable:
    keys = {"date", "geography", "geography code"}
    value_columns = [c for c in frame.columns if _norm(c) not in keys]
    parsed: list[dict[str, str]] = []
    for column in value_columns:
        parts = [p for p in column.split("; ") if _norm(p) != "measures: value"]
        cats: dict[str, str] = {}
        for part in parts:
            if ": " not in part:
                raise TargetsError(
                    f"{file}: column {column[:80]!r} is not '<Variable>: <Category>' as in a "
                    "Nomis bulk census file; use the CSV from nomisweb.co.uk/census/2021/bulk"
                )
            dim, cat = part.split(": ", 1)
            cats[dim.strip()] = cat.strip()
        parsed.append(cats)
    dims = list(dict.fromkeys(d for cats in parsed for d in cats))
    if any(set(cats) != set(dims) for cats in parsed):
        raise TargetsError(f"{file}: its columns do not all name the same variables "
                           f"({dims}); use one census table per file")
    code = next(c for c in frame.columns if _norm(c) == "geography code")
    name = next(c for c in frame.columns if _norm(c) == "geography")
    pieces = []
    for column, cats in zip(value_columns, parsed, strict=True):
        piece = pd.DataFrame({"area_code": frame[code].astype(str).str.strip(),
                              "area_name": frame[name].astype(str).str.strip()})
        for d in dims:
            piece[d] = cats[d]
            piece[f"{d} Code"] = ""
        piece["count"] = _numbers(frame[column], file, column)
        pieces.append(piece)
    return CensusTable(file, "nomis-bulk", tuple(dims), pd.concat(pieces, ignore_index=True))


def parse_census_table(raw: bytes, file: str) -> CensusTable:
    """The census table in ``raw`` (CSV bytes) in long form; the layout is detected."""
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TargetsError(f"{file}: cannot be read as a UTF-8 CSV table ({type(exc).__name__}); "
                           "download the census table as CSV") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    names = {_norm(c) for c in frame.columns}
    if frame.empty:
        raise TargetsError(f"{file}: the table has no rows")
    if {"geography_code", "geography_name", "obs_value"} <= names:
        return _nomis_api(frame, file)
    if {"geography", "geography code"} <= names:
        return _nomis_bulk(frame, file)
    if names & {"observation", "count"}:
        return _ons(frame, file)
    raise TargetsError(
        f"{file}: not a census table in a layout harmonise reads (ONS custom dataset: "
        "'<Geography> Code', '<Geography>', '<Variable> Code', '<Variable>', 'Observation'; "
        "Nomis bulk: 'date', 'geography', 'geography code', '<Variable>: <Category>'…; Nomis "
        "API: GEOGRAPHY_CODE, GEOGRAPHY_NAME, C2021_…_NAME, OBS_VALUE). See docs/targets.md"
    )


def read_census_table(path: Path) -> CensusTable:
    """Read a census CSV (I/O edge)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TargetsError(f"{path}: cannot be read ({exc.strerror}); give the census "
                           "table's CSV file") from exc
    return parse_census_table(raw, str(path))


def _age(label: str) -> int | None:
    m = _SINGLE_AGE.match(label.strip())
    if m is None:
        return None
    return 0 if m.group(1).casefold() == "under 1" else int(m.group(1))


def _selected(labels: pd.Series, codes: pd.Series, spec: str) -> np.ndarray:
    """Rows whose category matches one of ``spec``'s comma-separated items: a label or
    code, or a range ``A..B`` (``A..`` open) of numeric codes or single years of age."""
    norm_labels = labels.map(_norm).to_numpy()
    norm_codes = codes.map(_norm).to_numpy()
    whole = (norm_labels == _norm(spec)) | (norm_codes == _norm(spec))
    if whole.any():  # a label that itself holds a comma
        return np.asarray(whole, dtype=bool)
    keep = np.zeros(len(labels), dtype=bool)
    for item in (s.strip() for s in spec.split(",")):
        m = _RANGE.match(item)
        if m:
            low = int(m.group(1))
            high = int(m.group(2)) if m.group(2) else None
            nums = [int(c) if re.fullmatch(r"\d+", c) else _age(lab) for c, lab in
                    zip(codes, labels, strict=True)]
            keep |= np.array([n is not None and n >= low and (high is None or n <= high)
                              for n in nums], dtype=bool)
        else:
            keep |= (norm_labels == _norm(item)) | (norm_codes == _norm(item))
    return keep


def census_targets(
    table: CensusTable,
    *,
    variable: str,
    mapping: Mapping[str, str],
    population: str,
    dimension: str | None = None,
    drop: Sequence[str] = (),
    where: Mapping[str, str] | None = None,
    area_codes: Sequence[str] = (),
    area: tuple[str, str] | None = None,
    source: str = "ONS Census 2021",
    table_id: str = "",
    licence: str = "Open Government Licence v3.0",
    status: str = "official",
    tolerance: float = 1e-9,
) -> pd.DataFrame:
    """Targets rows (docs/targets.md) for ``variable`` from one dimension of ``table``.

    ``mapping`` maps census categories (label or code, case and spacing ignored) to the
    crosswalk's category codes; ``drop`` names categories left out on purpose (e.g.
    ``Aged 15 years and under`` for adults, a subtotal). Every other dimension needs an
    entry in ``where`` (``"18..100"``, ``"Female"``, ``"*"`` for all). ``dimension``
    ``"geography"`` makes the table's areas the categories (an ``area`` margin), summed
    into the one area ``area = (code, name)``; otherwise ``area_codes`` picks areas (all
    by default). Raises :class:`TargetsError` naming the file, dimension and category.
    """
    file = table.file
    where = dict(where or {})
    dims = table.dimensions
    if dimension is None:
        if len(dims) != 1:
            raise TargetsError(f"{file}: the table has dimensions {list(dims)}; say which one "
                               f"holds {variable!r} (--dimension)")
        dimension = dims[0]
    by_geography = _norm(dimension) == GEOGRAPHY
    if not by_geography:
        dimension = next((d for d in dims if _norm(d) == _norm(dimension)), dimension)
        if dimension not in dims:
            raise TargetsError(f"{file}: no dimension {dimension!r}; the table has "
                               f"{list(dims)} (or 'geography' for its areas)")
    rows = table.rows
    for d in dims:
        if d == dimension:
            continue
        spec = next((v for k, v in where.items() if _norm(k) == _norm(d)), None)
        if spec is None:
            raise TargetsError(
                f"{file}: say which categories of {d!r} to count (--where '{d}=…', e.g. "
                f"'{d}=18..100' for single years of age, or '{d}=*' for everyone); the "
                "population of the targets must match the survey's"
            )
        if spec.strip() == "*":
            totals = rows[d].map(lambda s: bool(_TOTAL.match(s.strip())))
            if totals.any():
                rows = rows[totals.to_numpy()]
            continue
        keep = _selected(rows[d], rows[f"{d} Code"], spec)
        if not keep.any():
            raise TargetsError(f"{file}: --where '{d}={spec}' matches no category of {d!r}; "
                               f"its categories include {sorted(set(rows[d]))[:8]}")
        rows = rows[keep]
    unknown_where = [k for k in where if not any(_norm(k) == _norm(d) for d in dims)]
    if unknown_where:
        raise TargetsError(f"{file}: --where names {unknown_where}, not dimensions of the "
                           f"table ({list(dims)})")
    if by_geography:
        if area is None:
            raise TargetsError("with --dimension geography, give --area-code and --area-name "
                               "of the whole area the categories add up to")
        labels, codes = rows["area_name"], rows["area_code"]
        rows = rows.assign(area_code=area[0], area_name=area[1])
    else:
        if area_codes:
            wanted = {_norm(a) for a in area_codes}
            rows = rows[rows["area_code"].map(_norm).isin(wanted).to_numpy()]
            missing = sorted(wanted - set(rows["area_code"].map(_norm)))
            if missing:
                raise TargetsError(f"{file}: no rows for area code(s) {missing}; check the "
                                   "table's geography (e.g. lower tier local authorities)")
        labels, codes = rows[dimension], rows[f"{dimension} Code"]
    target = _map_categories(labels, codes, mapping, drop, file, dimension)
    is_total = labels.map(lambda s: bool(_TOTAL.match(str(s).strip()))).to_numpy()
    rows = rows.assign(_target=target, _total=is_total, _label=labels.to_numpy())
    out = []
    order = list(dict.fromkeys(mapping.values()))
    for (code, name), group in rows.groupby(["area_code", "area_name"], sort=True):
        mapped = group[group["_target"] != ""]
        sums = mapped.groupby("_target")["count"].sum()
        if group["_total"].any() and not by_geography:
            total = float(group.loc[group["_total"], "count"].sum())
            if float(sums.sum()) > total * (1 + tolerance) + 1e-9:
                raise TargetsError(
                    f"{file}: area {code}: the mapped categories of {dimension!r} add to "
                    f"{sums.sum():,.0f}, more than the table's total {total:,.0f}; a category "
                    "and its subtotal are both mapped — drop one of them (--drop)"
                )
        for cat in order:
            sources = list(dict.fromkeys(mapped.loc[mapped["_target"] == cat, "_label"]))
            if len(sources) > 4:
                sources = [f"{sources[0]} … {sources[-1]} ({len(sources)} categories)"]
            out.append({
                "area_code": code, "area_name": name, "population": population,
                "variable": variable, "category": cat, "count": float(sums.get(cat, 0.0)),
                "reference_date": CENSUS_DAY, "source": source, "table_id": table_id,
                "year": "2021", "licence": licence, "status": status,
                "note": f"{table_id or 'census table'}: " + " + ".join(sources)[:300],
            })
    result = pd.DataFrame(out)
    empty = result[result["count"] <= 0]
    if not empty.empty:
        first = empty.iloc[0]
        raise TargetsError(
            f"{file}: category {first['category']!r} of {variable!r} has no population in "
            f"area {first['area_code']} (nothing mapped to it, or counts of 0); check --map"
        )
    return result


def _map_categories(labels: pd.Series, codes: pd.Series, mapping: Mapping[str, str],
                    drop: Sequence[str], file: str, dimension: str) -> np.ndarray:
    """The target category of each row ('' for dropped and total rows). Keys of
    ``mapping`` and ``drop`` entries are selections as in ``--where`` (a label or code,
    a comma list, a range ``18..34`` of numeric codes or single years of age)."""
    out = np.full(len(labels), "", dtype=object)
    mapped = np.zeros(len(labels), dtype=bool)
    for key, code in mapping.items():
        hit = _selected(labels, codes, key)
        if not hit.any():
            raise TargetsError(f"{file}: --map {key!r} matches no category of {dimension!r} "
                               "(after --where); check the spelling against the table")
        twice = hit & mapped & (out != code)
        if twice.any():
            label = str(labels.iloc[int(np.flatnonzero(twice)[0])])
            raise TargetsError(f"{file}: {dimension!r} category {label[:60]!r} is mapped to "
                               f"two categories (again by --map {key!r}); map it once")
        out[hit] = code
        mapped |= hit
    dropped = np.zeros(len(labels), dtype=bool)
    for d in drop:
        hit = _selected(labels, codes, d)
        if not hit.any():
            raise TargetsError(f"{file}: --drop {d!r} matches no category of {dimension!r}; "
                               "check the spelling against the table")
        if (hit & mapped).any():
            label = str(labels.iloc[int(np.flatnonzero(hit & mapped)[0])])
            raise TargetsError(f"{file}: {dimension!r} category {label[:60]!r} is both mapped "
                               f"and dropped (--drop {d!r}); choose one")
        dropped |= hit
    total = labels.map(lambda t: bool(_TOTAL.match(str(t).strip()))).to_numpy(dtype=bool)
    out[total & ~mapped] = ""
    unmapped = ~(mapped | dropped | total)
    if unmapped.any():
        names = list(dict.fromkeys(str(x) for x in labels[unmapped]))
        shown = ", ".join(repr(u[:60]) for u in names[:8]) + (" …" if len(names) > 8 else "")
        raise TargetsError(
            f"{file}: {len(names)} categor{'ies' if len(names) > 1 else 'y'} of "
            f"{dimension!r} neither mapped nor dropped: {shown}; map each census category "
            "to a crosswalk category (--map 'LABEL=code', --map '18..34=18_34') or leave it "
            "out on purpose (--drop 'LABEL', --drop '0..17')"
        )
    return out


__all__ = [
    "CENSUS_DAY",
    "GEOGRAPHY",
    "CensusTable",
    "census_targets",
    "parse_census_table",
    "read_census_table",
]
