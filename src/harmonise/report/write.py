"""Write a run's outputs: the HTML report, tables.xlsx, tidy CSV tables and provenance.

Nothing is half-written. Every output is rendered and written into a staging folder
inside the output folder first; only when all of them are complete are the previous
outputs moved aside and the new ones moved in. If a move fails, the new files are
taken out again and the previous ones put back, so the folder holds either the whole
previous set or the whole new set. The ``charts/`` folder (every chart as PNG and SVG)
moves as one entry. Other files in the folder (the workspace store, screenshots, the
``questionnaire/`` folder another command writes) are never touched; when
``questionnaire/`` is there, the report links to it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harmonise._util.cells import escape_frame
from harmonise._util.files import sha256_bytes
from harmonise.errors import ReportError
from harmonise.report.charts import Chart
from harmonise.report.data import OPTIONAL_TABLES, TABLE_NAMES, ReportData, as_report_data
from harmonise.report.html import render_report
from harmonise.report.xlsx import xlsx_bytes

if TYPE_CHECKING:
    from harmonise.models.run import RunResult

#: Files every run writes into the output folder.
OUTPUTS = (
    "index.html",
    "tables.xlsx",
    *(f"{name}.csv" for name in TABLE_NAMES),
    "provenance.json",
)

#: Files written only when the run has them (removed otherwise, so the set stays whole).
OPTIONAL_OUTPUTS = tuple(f"{name}.csv" for name in OPTIONAL_TABLES)

#: Folder of chart images (PNG and SVG of every chart in the report), replaced as a whole.
CHARTS = "charts"

#: Folder written by the questionnaire design command; linked from the report when present.
QUESTIONNAIRE = "questionnaire"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV: fixed float format, row order as given, so same inputs, same bytes.

    Text that a spreadsheet would run as a formula is escaped (:mod:`harmonise._util.cells`).
    """
    text = escape_frame(frame).to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return text.encode("utf-8")


def render_outputs(source: RunResult | ReportData, *, charts: bool = True,
                   run_id: int | None = None, questionnaire: bool = False) -> dict[str, bytes]:
    """Every output file's name (``charts/…`` inside the charts folder) and content, in
    memory (nothing is written). Each chart is drawn once: the page embeds the same SVG."""
    data = as_report_data(source)
    # the workbook is pure Python: on a second core when this process may fork safely
    workbook = in_child(xlsx_bytes, data)
    try:
        files = _page_and_charts(data, charts, run_id, questionnaire)
        files["tables.xlsx"] = workbook.result()
    finally:
        workbook.close()
    for name, frame in data.tables.items():
        files[f"{name}.csv"] = csv_bytes(frame)
    # provenance.json also proves which output bytes this record belongs to
    outputs = {name: sha256_bytes(content) for name, content in files.items()}
    record = dict(data.provenance) | {"outputs": outputs}
    files["provenance.json"] = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode(
        "utf-8"
    )
    return files


def _page_and_charts(data: ReportData, charts: bool, run_id: int | None,
                     questionnaire: bool) -> dict[str, bytes]:
    """index.html and charts/…; PNGs are drawn in two threads (Pillow's encoder releases
    the GIL) while this thread renders the page."""
    from concurrent.futures import Future, ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        pngs: list[Future[bytes]] = []

        def start(charts: tuple[Chart, ...]) -> None:
            pngs.extend(pool.submit(_png, chart) for chart in charts)

        page = render_report(data, charts=charts, run_id=run_id,
                             questionnaire=questionnaire, on_charts=start)
        files = {"index.html": page.html.encode("utf-8")}
        for chart, png in zip(page.charts, pngs, strict=True):
            files[f"{CHARTS}/{chart.id}.svg"] = chart.svg.encode("utf-8")
            files[f"{CHARTS}/{chart.id}.png"] = png.result()
    if page.charts:
        files[f"{CHARTS}/alt-text.txt"] = "".join(
            f"{c.id}: {c.alt}\n" for c in page.charts).encode("utf-8")
    return files


class Later:
    """Bytes being made by a forked child (see :func:`in_child`)."""

    def __init__(self, fn: Callable[[ReportData], bytes], data: ReportData) -> None:
        self._fn, self._data = fn, data
        self._pid: int | None = None
        self._read: int | None = None

    def result(self) -> bytes:
        import os

        if self._pid is None or self._read is None:
            return self._fn(self._data)
        with os.fdopen(self._read, "rb") as pipe:
            self._read = None
            payload = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return payload if status == 0 else self._fn(self._data)

    def close(self) -> None:
        """Stop waiting (after a failure elsewhere): the child gets a broken pipe."""
        import os

        if self._read is not None:
            os.close(self._read)
            self._read = None
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None


def in_child(fn: Callable[[ReportData], bytes], data: ReportData) -> Later:
    """Start ``fn(data)`` in a forked child; ``.result()`` waits for its bytes.

    Only where forking is safe: a POSIX system and no other thread in this process (a web
    server's worker threads, for one, make ``.result()`` run ``fn`` here instead). The
    child shares the parent's memory, sends the bytes down a pipe and leaves with
    ``os._exit``; if it fails for any reason the bytes are made here, so the result is the
    same either way.
    """
    import os
    import threading

    later = Later(fn, data)
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return later
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: make the bytes, send them, leave at once
        status = 1
        try:
            os.close(read_end)
            payload = fn(data)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    later._pid, later._read = pid, read_end
    return later


def _png(chart: Chart) -> bytes:
    return chart.png


def _move(src: Path, dst: Path) -> None:
    """Rename within one file system (atomic per file). A seam for failure tests."""
    src.replace(dst)


def _swap_in(staging: Path, out_dir: Path, names: list[str]) -> None:
    """Move the staged set into ``out_dir``; on failure restore the previous set.

    ``names`` are top-level entries (a file, or the charts folder as one entry)."""
    backup = Path(tempfile.mkdtemp(prefix=".previous-", dir=out_dir))
    moved_aside: list[str] = []
    placed: list[str] = []
    try:
        for name in (*OUTPUTS, *OPTIONAL_OUTPUTS, CHARTS):
            if (out_dir / name).exists():
                _move(out_dir / name, backup / name)
                moved_aside.append(name)
        for name in names:
            _move(staging / name, out_dir / name)
            placed.append(name)
    except OSError:
        for name in placed:
            if (out_dir / name).is_dir():
                shutil.rmtree(out_dir / name, ignore_errors=True)
            else:
                (out_dir / name).unlink(missing_ok=True)
        for name in moved_aside:
            (backup / name).replace(out_dir / name)
        raise
    finally:
        if len(placed) == len(names):
            shutil.rmtree(backup, ignore_errors=True)
        elif not any(backup.iterdir()):
            backup.rmdir()


def write_files(files: Mapping[str, bytes], out_dir: Path) -> list[Path]:
    """Write ``files`` into ``out_dir`` as one consistent set (see module docstring)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    except OSError as exc:
        raise ReportError(f"cannot create the output folder {out_dir}: {exc}; "
                          "check the path and its permissions") from exc
    try:
        for name, content in files.items():
            target = staging / name
            if target.parent != staging:
                target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        _swap_in(staging, out_dir, list(dict.fromkeys(n.split("/")[0] for n in files)))
    except OSError as exc:
        raise ReportError(f"cannot write outputs to {out_dir}: {exc}; the previous "
                          "outputs there were left as they were") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / name for name in files]


def write_report(source: RunResult | ReportData, out_dir: Path, *, charts: bool = True,
                 run_id: int | None = None) -> list[Path]:
    """Render and write every output into ``out_dir``; return the paths written."""
    questionnaire = (out_dir / QUESTIONNAIRE).is_dir()
    return write_files(render_outputs(source, charts=charts, run_id=run_id,
                                      questionnaire=questionnaire), out_dir)
