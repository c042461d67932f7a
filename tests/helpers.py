"""Small builders shared by the stage tests (importable because tests/ is on pythonpath)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from harmonise.models.crosswalk import Crosswalk
from harmonise.models.harmonised import ESTIMATE_COLUMNS, CrosswalkRef, EstimateTable
from harmonise.models.survey import Codebook, Provenance, SurveyFile, VariableInfo


def survey_file(data: pd.DataFrame, labels: dict[str, dict[Any, str]] | None = None,
                name: str = "test.sav") -> SurveyFile:
    labels = labels or {}
    variables = {
        str(c): VariableInfo(name=str(c), dtype=str(data[c].dtype),
                             value_labels=labels.get(str(c), {}))
        for c in data.columns
    }
    prov = Provenance(file_name=name, sha256="0" * 64, format="test", reader="test",
                      encoding=None, read_at="2026-01-01T00:00:00+00:00",
                      n_rows=len(data), n_columns=data.shape[1])
    return SurveyFile(data=data, codebook=Codebook(variables=variables), provenance=prov)


def crosswalk(items: list[dict[str, Any]], **overrides: Any) -> Crosswalk:
    raw: dict[str, Any] = {
        "crosswalk": "test-survey",
        "version": 1,
        "status": "draft",
        "schema": "perception-v1",
        "csp": "test",
        "csp_name": "Test CSP",
        "instrument": "Test survey",
        "wave": "2024",
        "fieldwork_start": "2024-01-01",
        "fieldwork_end": "2024-02-01",
        "population": "adults_18plus",
        "mode": "online",
        "sampling": "open link",
        "items": items,
    }
    raw.update(overrides)
    return Crosswalk.model_validate(raw)


def ref(cw: Crosswalk) -> CrosswalkRef:
    return CrosswalkRef(crosswalk=cw.crosswalk, version=cw.version, sha256="f" * 64,
                        path="crosswalks/test.v1.yaml")


SAFE5 = {1: "very_safe", 2: "fairly_safe", 3: "neither", 4: "fairly_unsafe", 5: "very_unsafe"}


def safe_item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "q1", "concept": "safe_area_dark", "source": "Q1", "scale": "safety5",
        "recode": dict(SAFE5), "missing": {98: "dont_know", "(blank)": "no_answer"},
        "comparability": "close", "note": "5-point with midpoint",
    }
    item.update(overrides)
    return item


def indicator_tables(
    counts: pd.DataFrame, *, out_of_base_share: float | pd.Series = 0.1
) -> list[EstimateTable]:
    """Weighted and unweighted estimate tables of one indicator (``ind`` of ``cw@v1``) from
    per-group counts (columns ``group_var, group, n, n_success, n_out_of_base``); every
    figure is ``n_success / n`` (disclosure only looks at the counts)."""
    tables = []
    for weighted in (True, False):
        rows = pd.DataFrame({c: [""] * len(counts) for c in ESTIMATE_COLUMNS})
        for col in ("group_var", "group", "n", "n_success", "n_out_of_base"):
            rows[col] = counts[col].to_numpy()
        rows["indicator"], rows["crosswalk"], rows["weighted"] = "ind", "cw@v1", weighted
        rows["suppressed"] = False
        rows["out_of_base_share"] = out_of_base_share
        for col in ("estimate", "se", "ci_low", "ci_high", "deff"):
            rows[col] = rows["n_success"] / rows["n"].where(rows["n"] > 0)
        tables.append(EstimateTable(rows=rows))
    return tables


def linked_release(
    people: pd.DataFrame, groups: dict[tuple[str, str], np.ndarray]
) -> tuple[list[EstimateTable], dict[str, dict[tuple[str, str], np.ndarray]]]:
    """:func:`indicator_tables` counted from respondent-level columns ``valid`` /
    ``success`` / ``oob`` over group masks (keys in row order), and the masks by crosswalk."""
    counts = pd.DataFrame(
        [
            {"group_var": gv, "group": g, "n": int(people["valid"][m].sum()),
             "n_success": int(people["success"][m].sum()),
             "n_out_of_base": int(people["oob"][m].sum())}
            for (gv, g), m in groups.items()
        ]
    )  # fmt: skip
    return indicator_tables(counts), {"cw@v1": groups}
