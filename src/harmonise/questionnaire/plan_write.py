"""Render plan and bridge documents as Markdown, HTML and XLSX, and write them (I/O).

A :class:`~harmonise.questionnaire.plan.Document` becomes ``NAME.md``, ``NAME.html`` (one
self-contained A4-printable page) and ``NAME.xlsx`` (a Notes sheet, then one sheet per
table, each an Excel table with readable headers). Files are written as one set through
:func:`harmonise.report.write.write_files` (staged, then moved into place).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

from harmonise.questionnaire.plan import Cell, Document, Table

_STAMP = dt.datetime(2000, 1, 1)


def _md_cell(value: Cell) -> str:
    text = "" if value is None else (f"{value:,}" if isinstance(value, int) else str(value))
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: Document) -> str:
    lines = [f"# {doc.title}", ""]
    if doc.warning:
        lines += [f"> **{doc.warning}**", ""]
    for s in doc.sections:
        lines += [f"## {s.title}", ""]
        for p in s.paragraphs:
            lines += [p, ""]
        for t in s.tables:
            headers, rows = t.on_page()
            lines += ["| " + " | ".join(headers) + " |",
                      "|" + "|".join(" --- " for _ in headers) + "|"]
            lines += ["| " + " | ".join(
                _md_cell(v).replace("; ", "<br>") if k in t.list_columns else _md_cell(v)
                for k, v in enumerate(row)) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #bbb;padding:.25rem .4rem;vertical-align:top;text-align:left}
th{background:#eee}td.n{text-align:right}td.wide{min-width:28rem}
.warn{border:2px solid #c51b7d;padding:.5rem;color:#c51b7d}
@media print{@page{size:A4 landscape;margin:12mm}body{margin:0}table{page-break-inside:auto}
tr{page-break-inside:avoid}}
"""


def _html_table(t: Table) -> str:
    headers, rows = t.on_page()
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for k, v in enumerate(row):
            num = isinstance(v, int | float)
            text = html.escape(_md_cell(v))
            if k in t.list_columns:
                text = "<br>".join(text.split("; "))
                cells.append(f'<td class="wide">{text}</td>')
                continue
            cells.append(f"<td{' class=n' if num else ''}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(doc: Document) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(doc.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(doc.title)}</h1>"]
    if doc.warning:
        parts.append(f'<p class="warn"><strong>{html.escape(doc.warning)}</strong></p>')
    for s in doc.sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        parts += [_html_table(t) for t in s.tables]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", name)[:31].strip() or "Sheet"
    out, k = base, 2
    while out.lower() in used:
        out = f"{base[:28]} {k}"
        k += 1
    used.add(out.lower())
    return out


def render_xlsx(doc: Document) -> bytes:
    """Notes sheet (title, warning, every paragraph), then each table as an Excel table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table as XlTable
    from openpyxl.worksheet.table import TableStyleInfo

    from harmonise.report.xlsx import _normalised

    wb = Workbook()
    notes = wb.active
    assert notes is not None
    notes.title = "Notes"
    notes.append([doc.title])
    notes["A1"].font = Font(bold=True, size=14)
    if doc.warning:
        notes.append([doc.warning])
        notes["A2"].font = Font(bold=True, color="C51B7D")
    used = {"notes"}
    for s in doc.sections:
        notes.append([])
        notes.append([s.title])
        notes.cell(row=notes.max_row, column=1).font = Font(bold=True)
        for p in s.paragraphs:
            notes.append([p])
            notes.cell(row=notes.max_row, column=1).alignment = Alignment(wrap_text=True)
        for t in s.tables:
            name = _sheet_name(t.name, used)
            notes.append([f"Table on sheet '{name}'"])
            ws = wb.create_sheet(name)
            ws.append(list(t.headers))
            for row in t.rows:
                ws.append(list(row))
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.freeze_panes = "A2"
            for j, header in enumerate(t.headers, start=1):
                longest = max([len(str(header))] + [len(_md_cell(r[j - 1])) for r in t.rows])
                ws.column_dimensions[get_column_letter(j)].width = min(60, max(10, longest + 2))
            if t.rows:
                ref = f"A1:{get_column_letter(len(t.headers))}{len(t.rows) + 1}"
                table = XlTable(displayName=re.sub(r"\W", "_", f"T_{name}")[:250], ref=ref)
                table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2",
                                                      showRowStripes=True)
                ws.add_table(table)
    notes.column_dimensions["A"].width = 120
    wb.properties.created = _STAMP
    wb.properties.modified = _STAMP
    wb.properties.title = doc.title
    buf = io.BytesIO()
    wb.save(buf)
    return _normalised(buf.getvalue(), _STAMP)


def document_files(doc: Document, name: str) -> dict[str, bytes]:
    """``NAME.md``, ``NAME.html`` and ``NAME.xlsx`` of a document, in memory."""
    return {f"{name}.md": render_markdown(doc).encode("utf-8"),
            f"{name}.html": render_html(doc).encode("utf-8"),
            f"{name}.xlsx": render_xlsx(doc)}


def write_documents(files: dict[str, bytes], out_dir: Path) -> list[Path]:
    """Write the files into ``out_dir`` as one set (nothing half-written)."""
    from harmonise.report.write import write_files

    return write_files(files, out_dir)


__all__ = ["document_files", "render_html", "render_markdown", "render_xlsx",
           "write_documents"]
