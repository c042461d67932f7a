"""Turn ReportData into JSON text and back, exactly (pure; no database here).

Tables are stored row by row as JSON objects with the column list and pandas dtypes kept
beside them, so a table reads back with the same columns, dtypes and float bits — and so
writes the same CSV bytes. Floats go through ``repr`` (exact); NaN and missing become
``null`` and infinities the strings ``"inf"``/``"-inf"`` (PostgreSQL's JSON has no NaN).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from harmonise.models.run import DisclosureRules
from harmonise.models.schema import Schema
from harmonise.report.data import ItemMeta, ReportData, SurveyMeta

#: Bumped when the stored layout changes in a way old readers cannot follow.
FORMAT_VERSION = 1


def plain(value: Any) -> Any:
    """A JSON-safe scalar for one cell (see module docstring)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
        return value.isoformat()
    return str(value)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def table_columns(frame: pd.DataFrame) -> list[list[str]]:
    """``[[name, dtype], …]`` in column order."""
    return [[str(c), str(frame[c].dtype)] for c in frame.columns]


def table_rows(frame: pd.DataFrame) -> Iterator[str]:
    """One JSON object per row, keyed by column name."""
    names = [str(c) for c in frame.columns]
    for values in frame.itertuples(index=False, name=None):
        yield dumps(dict(zip(names, (plain(v) for v in values), strict=True)))


def read_table(columns: list[list[str]], rows: list[str]) -> pd.DataFrame:
    """Rebuild a table from ``table_columns`` and ``table_rows`` output."""
    names = [name for name, _ in columns]
    records = [json.loads(r) for r in rows]
    data = {name: [rec.get(name) for rec in records] for name in names}
    out: dict[str, pd.Series] = {}
    for name, dtype in columns:
        values = pd.Series(data[name], dtype="object")
        if dtype == "object":
            out[name] = values
        elif dtype.startswith(("float", "Float")):
            out[name] = values.map(
                lambda v: float(v) if isinstance(v, str) else v
            ).astype(pd.api.types.pandas_dtype(dtype))
        else:
            out[name] = values.astype(pd.api.types.pandas_dtype(dtype))
    return pd.DataFrame(out, columns=names)


def meta_json(data: ReportData) -> str:
    """Everything except the tables: schema, surveys, provenance, rules, test settings."""
    return dumps({
        "format_version": FORMAT_VERSION,
        "schema": data.schema.model_dump(mode="json", by_alias=True),
        "surveys": [dataclasses.asdict(s) for s in data.surveys],
        "provenance": data.provenance,
        "rules": dataclasses.asdict(data.rules),
        "comparison_level": data.comparison_level,
        "correction": data.correction,
    })


def _survey(raw: Mapping[str, Any]) -> SurveyMeta:
    fields = dict(raw)
    fields["raking_margins"] = tuple(fields["raking_margins"])
    fields["flagged"] = tuple((str(n), str(k)) for n, k in fields["flagged"])
    fields["items"] = tuple(ItemMeta(**i) for i in fields["items"])
    return SurveyMeta(**fields)


def _rules(raw: Mapping[str, Any]) -> DisclosureRules:
    known = {f.name for f in dataclasses.fields(DisclosureRules)}
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                              for k, v in raw.items() if k in known}
    return DisclosureRules(**values)


def report_data_from(meta: str, tables: Mapping[str, pd.DataFrame]) -> ReportData:
    """Rebuild ReportData from ``meta_json`` output and the stored tables."""
    raw = json.loads(meta)
    return ReportData(
        schema=Schema.model_validate(raw["schema"]),
        surveys=tuple(_survey(s) for s in raw["surveys"]),
        tables=dict(tables),
        provenance=raw["provenance"],
        rules=_rules(raw["rules"]),
        comparison_level=float(raw["comparison_level"]),
        correction=str(raw["correction"]),
    )
