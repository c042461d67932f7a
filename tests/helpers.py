"""Small builders shared by the stage tests (importable because tests/ is on pythonpath)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from harmonise.models.crosswalk import Crosswalk
from harmonise.models.harmonised import CrosswalkRef
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
