"""The new survey's codebook: one row per export column (pure: a table and its bytes).

Columns: form, number, variable (the export column, group path included), concept, label,
type, codes (``code=label`` joined by ``; ``), missing (choice -> missing type), universe,
routing (the XLSForm ``relevant``), wording_status and wording_source. A tick-all question
has one row for its space-joined column and one per option (1 = ticked, 0 = not ticked).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd

from harmonise.questionnaire.layout import FormLayout

COLUMNS = ("form", "number", "variable", "concept", "option", "label", "type", "codes",
           "missing", "universe", "routing", "wording_status", "wording_source", "note")


def codebook_table(layouts: Sequence[FormLayout]) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for lay in layouts:
        pop = lay.form.population
        for q in lay.questions:
            codes = "; ".join(f"{c.name}={c.label}" for c in q.choices
                              if c.name not in dict(q.missing))
            missing = "; ".join(f"{c}={m}" for c, m in q.missing)
            missing = "; ".join(x for x in (missing, "(blank)=not_asked" if q.relevant else "")
                                if x)
            base: dict[str, object] = {
                    "form": lay.form.id, "number": f"Q{q.number}", "concept": q.concept,
                    "universe": q.universe, "routing": q.relevant or "(everyone)",
                    "wording_status": q.wording_status, "wording_source": q.wording_source,
                    "note": " ".join(q.note.split())}
            if q.kind == "integer":
                rows.append(base | {"variable": q.path, "concept": "", "option": "",
                                    "label": q.label, "type": "integer",
                                    "codes": q.constraint, "missing": ""})
                continue
            rows.append(base | {"variable": q.path, "option": "", "label": q.label,
                                "type": q.kind, "codes": codes, "missing": missing})
            if q.kind == "select_multiple":
                for c in q.choices:
                    rows.append(base | {"variable": f"{q.path}/{c.name}", "option": c.name,
                                        "label": f"{q.label}: {c.label}", "type": "0/1",
                                        "codes": "1=ticked; 0=not ticked", "missing": missing})
        for d in lay.derived:
            rows.append({"form": lay.form.id, "number": "", "variable": d.path,
                         "concept": d.concept, "option": "", "label": d.label,
                         "type": "calculate", "codes": d.calculation, "missing": "",
                         "universe": pop, "routing": "(everyone)", "wording_status": "",
                         "wording_source": "", "note": ""})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def codebook_csv(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8")


def codebook_xlsx(table: pd.DataFrame, layouts: Sequence[FormLayout] = ()) -> bytes:
    """An XLSX with a ``codebook`` sheet and a ``read_me`` sheet (what it is, each form's
    population, mode and sampling)."""
    from openpyxl import Workbook

    wb = Workbook()
    readme = wb.active
    readme.title = "read_me"
    for line in ("Codebook of the joint community safety survey (built by harmonise).",
                 "One row per export column; codes are the schema's harmonised codes.",
                 "wording_status: verified = checked word for word against wording_source; "
                 "anything else must be checked before fieldwork."):
        readme.append([line])
    for lay in layouts:
        f = lay.form
        readme.append([])
        readme.append([f"Form {f.id} ({lay.form_id}): {f.title}"])
        readme.append([f"Population: {f.population}, ages {f.min_age} to "
                       f"{f.max_age if f.max_age < 120 else 'any'}"])
        readme.append([f"Mode: {' '.join(f.mode.split())}"])
        readme.append([f"Sampling: {' '.join(f.sampling.split())}"])
    ws = wb.create_sheet("codebook")
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append([None if v == "" else v for v in row])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
