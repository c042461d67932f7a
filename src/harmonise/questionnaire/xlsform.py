"""XLSForm (``survey``, ``choices``, ``settings`` sheets) from a laid-out form, and pyxform.

Choice names are schema codes, so an ODK/Kobo export carries the harmonised codes already.
Every question is ``required``: "Don't know" / "Prefer not to say" are offered as answers
instead, so in an export a blank cell always means "not asked" (routing), never "skipped".
No question is free text: there is no ``text`` type anywhere in the form.

:func:`convert` runs pyxform (and ODK Validate, a Java program bundled in pyxform's wheel,
when ``validate=True``); :func:`xlsform_rows` is the pure part the simulator also reads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from harmonise.errors import QuestionnaireError
from harmonise.questionnaire.layout import FormLayout

SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "relevant", "constraint",
                  "constraint_message", "appearance", "calculation",
                  # not XLSForm columns (pyxform ignores them): where each field comes from
                  "harmonise_concept", "harmonise_wording_status")
CHOICE_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_title", "form_id", "version", "default_language")


@dataclass(frozen=True)
class XLSFormRows:
    survey: tuple[dict[str, str], ...]
    choices: tuple[dict[str, str], ...]
    settings: dict[str, str]


def xlsform_rows(layout: FormLayout) -> XLSFormRows:
    """The three sheets as rows of column -> text (pure)."""
    survey: list[dict[str, str]] = [{
        "type": "note", "name": "privacy_notice",
        "label": "**How we use your answers.** " + " ".join(layout.spec.privacy_notice.split()),
    }]
    choices: list[dict[str, str]] = []
    lists: set[str] = set()
    derived = {d.module: [x for x in layout.derived if x.module == d.module]
               for d in layout.derived}
    for module_id, title in layout.modules:
        survey.append({"type": "begin_group", "name": module_id, "label": title})
        for q in (q for q in layout.questions if q.module == module_id):
            if q.intro:
                survey.append({"type": "note", "name": f"{q.name}_intro", "label": q.intro,
                               "relevant": q.relevant})
            row = {
                "type": q.kind if q.kind == "integer" else f"{q.kind} {q.list_name}",
                "name": q.name, "label": q.label, "hint": q.hint, "required": "yes",
                "relevant": q.relevant, "constraint": q.constraint,
                "constraint_message": q.constraint_message, "appearance": q.appearance,
                "harmonise_concept": q.concept if q.kind != "integer" else "",
                "harmonise_wording_status": q.wording_status,
            }
            survey.append(row)
            if q.list_name and q.list_name not in lists:
                lists.add(q.list_name)
                choices += [{"list_name": q.list_name, "name": c.name,
                             "label": f"{c.heading}: {c.label}" if c.heading else c.label}
                            for c in q.choices]
        for d in derived.get(module_id, []):
            survey.append({"type": "calculate", "name": d.name, "calculation": d.calculation,
                           "harmonise_concept": d.concept})
        survey.append({"type": "end_group", "name": module_id})
    for d in derived.get("", []):
        survey.append({"type": "calculate", "name": d.name, "calculation": d.calculation})
    settings = {"form_title": layout.title, "form_id": layout.form_id,
                "version": str(layout.spec.version), "default_language": "English (en)"}
    full = [{c: r.get(c, "") for c in SURVEY_COLUMNS} for r in survey]
    return XLSFormRows(survey=tuple(full), choices=tuple(choices), settings=settings)


def _sheet(wb: object, title: str, columns: Sequence[str],
           rows: Sequence[dict[str, str]]) -> None:
    ws = wb.create_sheet(title)  # type: ignore[attr-defined]
    ws.append(list(columns))
    for r in rows:
        ws.append([r.get(c, "") or None for c in columns])
    for i, col in enumerate(columns):
        letter = ws.cell(row=1, column=i + 1).column_letter
        ws.column_dimensions[letter].width = 60 if col in ("label", "relevant") else 18
    ws.freeze_panes = "A2"


def xlsform_bytes(rows: XLSFormRows) -> bytes:
    """The workbook's bytes (fixed document properties, so the same form gives the same file
    apart from the zip timestamps openpyxl writes)."""
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "survey", SURVEY_COLUMNS, rows.survey)
    _sheet(wb, "choices", CHOICE_COLUMNS, rows.choices)
    _sheet(wb, "settings", SETTINGS_COLUMNS, [rows.settings])
    fixed = dt.datetime(2026, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "harmonise"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def convert(xlsx: bytes, *, validate: bool = False, name: str = "form") -> str:
    """The XForm XML pyxform makes of the workbook; ``validate`` also runs ODK Validate
    (needs ``java``). Any problem raises a QuestionnaireError naming the form."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert as pyxform_convert

    warnings: list[str] = []
    try:
        result = pyxform_convert(xlsform=io.BytesIO(xlsx), warnings=warnings,
                                 validate=validate, file_type=".xlsx")
    except PyXFormError as exc:
        raise QuestionnaireError(f"{name}: pyxform rejected the form: {exc}") from exc
    except (OSError, RuntimeError) as exc:  # ODK Validate could not run (no java)
        raise QuestionnaireError(
            f"{name}: ODK Validate could not run ({exc}); install a Java runtime "
            "(make java-deps) or build without validation") from exc
    except Exception as exc:  # ODK Validate reports problems as a generic error
        if type(exc).__name__ == "ODKValidateError":
            raise QuestionnaireError(f"{name}: ODK Validate rejected the form: {exc}") from exc
        raise
    return str(result.xform)


def read_xlsform(xlsx: bytes) -> XLSFormRows:
    """The three sheets of an XLSForm workbook as rows (blank cells as ``""``)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(xlsx), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged file
        raise QuestionnaireError(f"not an XLSForm workbook: {exc}") from exc
    sheets: dict[str, list[dict[str, str]]] = {}
    for name in ("survey", "choices", "settings"):
        if name not in wb.sheetnames:
            raise QuestionnaireError(f"the XLSForm has no '{name}' sheet")
        values = list(wb[name].iter_rows(values_only=True))
        header = [str(h) if h is not None else "" for h in values[0]] if values else []
        sheets[name] = [{h: ("" if v is None else str(v)) for h, v in zip(header, row,
                                                                            strict=False) if h}
                        for row in values[1:]]
    settings = sheets["settings"][0] if sheets["settings"] else {}
    return XLSFormRows(survey=tuple(sheets["survey"]), choices=tuple(sheets["choices"]),
                       settings=settings)
