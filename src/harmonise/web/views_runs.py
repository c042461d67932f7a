"""Pages for runs and results: start a run (queued for the worker), watch its progress,
read its findings by indicator with comparability shown, download the report, tables and
CSVs (or all of them as one zip), and the partnership's joint questionnaire outputs.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

from starlette.responses import Response

from harmonise.errors import StoreError
from harmonise.store.workspace import Job
from harmonise.web.access import job_for, visible_jobs
from harmonise.web.context import Ctx, Refused, not_found, page
from harmonise.web.views_data import _id, attachment

#: files a run's folder may serve, by name pattern (never a path)
_SERVED = re.compile(r"^[a-z][a-z0-9_]*\.(html|csv|xlsx|json)$")
MEDIA = {".html": "text/html; charset=utf-8", ".csv": "text/csv; charset=utf-8",
         ".json": "application/json",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: the report page has inline styles and data: images and nothing else
REPORT_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
              "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
QUESTIONNAIRE_MEDIA = {
    **MEDIA, ".xml": "application/xml", ".md": "text/markdown; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
_QUESTIONNAIRE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def run_inputs(ctx: Ctx, partnership_id: int | None) -> list[dict[str, Any]]:
    """Live uploads with a crosswalk that checked valid against their data."""
    import json

    out = []
    for up in ctx.ws.uploads(partnership_id, live_only=True):
        if up.crosswalk_key and up.crosswalk_report and json.loads(up.crosswalk_report)["valid"]:
            out.append({"upload": up.id, "crosswalk": up.crosswalk_key})
    return out


def _files(ctx: Ctx, job: Job) -> list[str]:
    folder = ctx.state.runs_dir / str(job.id)
    if not job.visible or not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and _SERVED.match(p.name))


@page()
def runs(ctx: Ctx) -> Response:
    me = ctx.me
    pid = me.partnership_id if me.role == "officer" else None
    ready = run_inputs(ctx, pid)
    return ctx.render("runs.html", jobs=visible_jobs(ctx), ready=ready,
                      partnerships={p.id: p.name for p in ctx.ws.partnerships()})


@page()
def run_start(ctx: Ctx) -> Response:
    """Queue a run: an officer's partnership, or (analyst, admin) every partnership."""
    me = ctx.me
    if me.role == "officer":
        kind, pid = "partnership", me.partnership_id
    else:
        kind, pid = "joint", None
    inputs = run_inputs(ctx, pid)
    if not inputs:
        raise Refused(409, "Nothing to run", "No live upload has a released crosswalk that "
                      "checked valid against its data. Upload an export and pick its "
                      "crosswalk first.")
    job = ctx.ws.enqueue(kind=kind, partnership_id=pid, by=me.id, inputs=inputs)
    if ctx.state.worker is not None:
        ctx.state.worker.wake.set()
    ctx.log("run", f"run {job.id}", f"{kind} run of {len(inputs)} upload(s): "
            + ", ".join(str(i["upload"]) for i in inputs), partnership_id=pid)
    return ctx.redirect(f"/runs/{job.id}")


def _table(path: Path, keep: tuple[str, ...], limit: int = 400) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = []
        for row in csv.DictReader(fh):
            rows.append({k: row.get(k, "") for k in keep})
            if len(rows) >= limit:
                break
    return rows


ESTIMATE_FIELDS = ("indicator", "concept", "option", "label", "csp_name", "wave", "group_var",
                   "group", "n", "estimate", "ci_low", "ci_high", "comparability", "suppressed")
COMPARISON_FIELDS = ("indicator", "label", "a_name", "b_name", "a_grade", "b_grade",
                     "compared", "reason", "difference", "ci_low", "ci_high")


def _schema_ref(folder: Path) -> str:
    import json

    try:
        prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        return str(prov["schema"]["ref"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


@page()
def run_detail(ctx: Ctx) -> Response:
    job = job_for(ctx, _id(ctx.request))
    folder = ctx.state.runs_dir / str(job.id)
    files = _files(ctx, job)
    estimates = [r for r in _table(folder / "estimates.csv", ESTIMATE_FIELDS, 2000)
                 if r["group_var"] in ("", "all")] if files else []
    themes = ctx.state.catalogue.themes(_schema_ref(folder)) if files else {}
    by_theme: dict[str, dict[str, list[dict[str, str]]]] = {}
    for row in estimates:
        theme = themes.get(row["concept"], "other")
        by_theme.setdefault(theme, {}).setdefault(row["indicator"], []).append(row)
    comparisons = _table(folder / "comparisons.csv", COMPARISON_FIELDS) if files else []
    return ctx.render("run.html", job=job, files=files, by_theme=by_theme,
                      comparisons=comparisons, running=job.state in ("queued", "running"),
                      requester=_who(ctx, job))


def _who(ctx: Ctx, job: Job) -> str:
    try:
        return ctx.ws.user(job.requested_by).username
    except StoreError:  # a removed user
        return f"user {job.requested_by}"


@page()
def run_file(ctx: Ctx) -> Response:
    job = job_for(ctx, _id(ctx.request))
    name = str(ctx.request.path_params.get("name", ""))
    if name not in _files(ctx, job):
        raise not_found("file")
    data = (ctx.state.runs_dir / str(job.id) / name).read_bytes()
    ctx.log("download", f"run {job.id}", name, partnership_id=job.partnership_id)
    suffix = Path(name).suffix
    if suffix == ".html":
        return Response(data, media_type=MEDIA[suffix],
                        headers={"Content-Security-Policy": REPORT_CSP})
    return attachment(data, f"run-{job.id}-{name}", MEDIA[suffix])


@page()
def run_export(ctx: Ctx) -> Response:
    """Everything the run published, as one zip (what an analyst may see, all of it)."""
    job = job_for(ctx, _id(ctx.request))
    files = _files(ctx, job)
    if not files:
        raise not_found("result")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in files:
            zf.write(ctx.state.runs_dir / str(job.id) / name, f"run-{job.id}/{name}")
    ctx.log("download", f"run {job.id}", "all files (zip)", partnership_id=job.partnership_id)
    return attachment(buf.getvalue(), f"run-{job.id}.zip", "application/zip")


@page()
def runs_export(ctx: Ctx) -> Response:
    """Every result the user may see (every run for analysts and admins, the
    partnership's runs for officers) as one zip: nobody is left unable to export."""
    buf = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for job in visible_jobs(ctx):
            for name in _files(ctx, job):
                zf.write(ctx.state.runs_dir / str(job.id) / name, f"run-{job.id}/{name}")
                count += 1
    ctx.log("download", "runs", f"all visible results (zip, {count} files)")
    return attachment(buf.getvalue(), "harmonise-results.zip", "application/zip")


def _questionnaire_dir(ctx: Ctx) -> Path:
    return ctx.state.config.project_root / "reports" / "questionnaire"


def _questionnaire_files(ctx: Ctx) -> list[str]:
    folder = _questionnaire_dir(ctx)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and _QUESTIONNAIRE.match(p.name))


@page()
def questionnaire(ctx: Ctx) -> Response:
    return ctx.render("questionnaire.html", files=_questionnaire_files(ctx))


@page()
def questionnaire_file(ctx: Ctx) -> Response:
    name = str(ctx.request.path_params.get("name", ""))
    if name not in _questionnaire_files(ctx):
        raise not_found("file")
    data = (_questionnaire_dir(ctx) / name).read_bytes()
    ctx.log("download", "questionnaire", name)
    suffix = Path(name).suffix.lower()
    if suffix == ".html":  # the printable forms and the index: shown, with no script
        return Response(data, media_type=MEDIA[suffix],
                        headers={"Content-Security-Policy": REPORT_CSP})
    return attachment(data, name, QUESTIONNAIRE_MEDIA.get(suffix, "application/octet-stream"))


__all__ = ["questionnaire", "questionnaire_file", "run_detail", "run_export", "run_file",
           "run_start", "runs", "runs_export"]
