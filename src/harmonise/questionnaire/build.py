"""Build every output of a questionnaire spec: in memory first, then written all at once.

    build_outputs(spec, schema) -> Built          pure apart from running pyxform
    write_outputs(built.files, out_dir)           the I/O edge: staged, then moved into place

Outputs (``<ref>`` = ``joint-v1``): per form an XLSForm (``<ref>-<form>.xlsx``), the XForm
pyxform made of it (``.xml``), printable HTML and DOCX; the codebook (CSV and XLSX); the
draft crosswalks (``crosswalks/<questionnaire>/<csp>-<form>.vN.yaml``); ``index.html``
linking them. Files other builders put in the same folder (the bridge, the plan) are left
alone.
"""

from __future__ import annotations

import html
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harmonise.errors import QuestionnaireError
from harmonise.models.schema import Schema
from harmonise.questionnaire.codebook import codebook_csv, codebook_table, codebook_xlsx
from harmonise.questionnaire.crosswalks import build_crosswalks
from harmonise.questionnaire.layout import FormLayout, layout_all
from harmonise.questionnaire.printable import docx_bytes, render_html
from harmonise.questionnaire.spec import QuestionnaireSpec
from harmonise.questionnaire.xlsform import convert, xlsform_bytes, xlsform_rows


@dataclass(frozen=True)
class Built:
    files: dict[str, bytes]
    layouts: tuple[FormLayout, ...]
    validated: bool  # ODK Validate accepted every form


def form_stem(layout: FormLayout) -> str:
    return f"{layout.spec.ref}-{layout.form.id.replace('_', '-')}"


def _index(spec: QuestionnaireSpec, names: list[str], validated: bool) -> bytes:
    e = html.escape
    check = ("pyxform converted every form and ODK Validate accepted it" if validated else
             "pyxform converted every form (ODK Validate not run: no Java runtime)")
    links = "\n".join(f'<li><a href="{e(n)}">{e(n)}</a></li>' for n in sorted(names))
    return (f"<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            f"<title>{e(spec.title)} ({e(spec.ref)})</title></head><body>\n"
            f"<h1>{e(spec.title)} — {e(spec.ref)} (draft)</h1>\n"
            f"<p>Built by <code>harmonise questionnaire build</code>: {e(check)}. Wordings "
            "marked † are not yet checked against their published source.</p>\n"
            f"<ul>\n{links}\n</ul>\n</body></html>\n").encode()


def _add_links(index: bytes, names: list[str]) -> bytes:
    e = html.escape
    extra = "\n".join(f'<li><a href="{e(n)}">{e(n)}</a></li>' for n in names)
    text = index.decode("utf-8").replace(
        "</ul>\n</body>", f"</ul>\n<h2>Also in this folder</h2>\n<ul>\n{extra}\n</ul>\n</body>")
    return text.encode("utf-8")


def build_outputs(spec: QuestionnaireSpec, schema: Schema, *,
                  validate: bool = False) -> Built:
    """Every output's relative path and bytes. ``validate`` runs ODK Validate (needs java)."""
    from concurrent.futures import ThreadPoolExecutor

    layouts = layout_all(spec, schema)
    files: dict[str, bytes] = {}
    workbooks = {form_stem(lay): xlsform_bytes(xlsform_rows(lay)) for lay in layouts}
    # ODK Validate is a Java process per form: run them side by side (threads wait on it)
    with ThreadPoolExecutor(max_workers=len(workbooks)) as pool:
        xforms = {stem: pool.submit(convert, xlsx, validate=validate, name=f"{stem}.xlsx")
                  for stem, xlsx in workbooks.items()}
        for lay in layouts:
            stem = form_stem(lay)
            files[f"{stem}.xlsx"] = workbooks[stem]
            files[f"{stem}.html"] = render_html(lay).encode("utf-8")
            files[f"{stem}.docx"] = docx_bytes(lay)
        for stem, future in xforms.items():
            files[f"{stem}.xml"] = future.result().encode("utf-8")
    table = codebook_table(layouts)
    files[f"{spec.ref}-codebook.csv"] = codebook_csv(table)
    files[f"{spec.ref}-codebook.xlsx"] = codebook_xlsx(table, layouts)
    for path, text in build_crosswalks(layouts, schema).items():
        files[f"crosswalks/{path}"] = text.encode("utf-8")
    files["index.html"] = _index(spec, list(files), validate)
    return Built(files=files, layouts=layouts, validated=validate)


def write_outputs(files: Mapping[str, bytes], out_dir: Path) -> list[Path]:
    """Write ``files`` (relative paths) under ``out_dir``: all staged first, then moved in,
    so a failure leaves no half-written set. ``index.html`` also links the files other
    builders (the bridge, the plan) left in the folder."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-questionnaire-", dir=out_dir))
    except OSError as exc:
        raise QuestionnaireError(f"cannot create the output folder {out_dir}: {exc}; check "
                                 "the path and its permissions") from exc
    files = dict(files)
    if "index.html" in files:
        others = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*")
                        if p.is_file() and not p.relative_to(out_dir).as_posix().startswith(".")
                        and p.relative_to(out_dir).as_posix() not in files)
        if others:
            files["index.html"] = _add_links(files["index.html"], others)
    try:
        for name, content in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        written = []
        for name in files:
            dest = out_dir / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            (staging / name).replace(dest)
            written.append(dest)
    except OSError as exc:
        raise QuestionnaireError(f"cannot write the questionnaire outputs to {out_dir}: "
                                 f"{exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
