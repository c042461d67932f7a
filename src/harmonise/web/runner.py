"""Crosswalk choices, checks and releases, and runs, through the same stage functions as
the command line; and the background worker that executes queued runs.

    Catalogue(project_root, workspace)   released crosswalks: the project's (lock.json) and
                                         the workspace's; validate / plan a release
    execute(job, …) -> run id            build a private project folder (schema, targets,
                                         crosswalks, uploads, manifest), run the pipeline,
                                         save the run in the store, write the report
    Worker                               a thread polling the job table (no broker)

A run's result becomes visible only when its job is marked done, after the store
transaction and the report files are complete; a crash before that leaves the job
'running' until :meth:`Workspace.recover` marks it failed (deleting any run it saved in
the store), nothing of it is shown, and :func:`sweep_work_folders` removes its private
folder (which holds copies of the raw uploads). A run whose upload is withdrawn while it
runs keeps nothing (:meth:`Workspace.bind_run`, :meth:`Workspace.withdrawn_reason`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harmonise.errors import CrosswalkError, HarmoniseError, StoreError
from harmonise.store.workspace import Job, Partnership, Submission, Workspace
from harmonise.web.files import BlobStore, read_upload

log = logging.getLogger("harmonise.web")

HEARTBEAT = 5.0
STALE_AFTER = dt.timedelta(seconds=60)
RECOVER_EVERY = 30.0


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


class Catalogue:
    """Which released crosswalks exist and their text; checks against uploads."""

    def __init__(self, project_root: Path, workspace: Workspace) -> None:
        self.root = project_root
        self.cw_dir = project_root / "crosswalks"
        self.ws = workspace
        self._themes: dict[tuple[str, int], dict[str, str]] = {}

    def project_lock(self) -> Any:
        from harmonise.crosswalk.lock import LOCK_NAME, read_lock

        return read_lock(self.cw_dir / LOCK_NAME)

    def lock(self) -> Any:
        """The project's lock plus every release made in the workspace."""
        from harmonise.crosswalk.lock import LockEntry

        lock = self.project_lock()
        for sub in self.ws.submissions(status="released"):
            if lock.get(sub.crosswalk, sub.version) is None:
                lock = lock.with_entry(LockEntry(crosswalk=sub.crosswalk, version=sub.version,
                                                 path=f"workspace/{sub.id}", sha256=sub.sha256))
        return lock

    def choices(self, partnership: Partnership | None) -> list[Choice]:
        out = []
        for entry in self.project_lock().entries:
            if partnership is None or entry.path.startswith(f"{partnership.slug}/") \
                    or entry.crosswalk.startswith(f"{partnership.slug}-"):
                out.append(Choice(f"project:{entry.path}", f"{entry.key} (project)"))
        for sub in self.ws.submissions(None if partnership is None else partnership.id,
                                       status="released"):
            out.append(Choice(f"db:{sub.id}", f"{sub.ref} (workspace)"))
        return out

    def text(self, key: str) -> tuple[str, str]:
        """``(yaml text, file label)`` of a released crosswalk named by its key."""
        from harmonise._util.files import sha256_text

        kind, _, ref = key.partition(":")
        if kind == "project":
            entry = self.project_lock().at_path(ref)
            if entry is None:
                raise CrosswalkError(f"{ref} is not a released crosswalk of this project")
            path = (self.cw_dir / entry.path).resolve()
            if not path.is_relative_to(self.cw_dir.resolve()):
                raise CrosswalkError(f"{ref}: outside the crosswalks folder")
            text = path.read_bytes().decode("utf-8")
            if sha256_text(text) != entry.sha256:
                raise CrosswalkError(f"{ref} differs from its released hash in lock.json; "
                                     "restore it from version control")
            return text, f"crosswalks/{entry.path}"
        if kind == "db" and ref.isdigit():
            sub = self.ws.submission(int(ref))
            if sub.status != "released":
                raise CrosswalkError(f"{sub.ref} is not released yet; an admin who did not "
                                     "submit it must release it first")
            return sub.text, f"{sub.crosswalk}.v{sub.version}.yaml"
        raise CrosswalkError(f"unknown crosswalk {key!r}; pick one from the list")

    def previous_release(self, sub: Submission) -> tuple[str, str] | None:
        """``(label, text)`` of the newest release of the same crosswalk id before this
        one (the project's or the workspace's), or None when it is the first."""
        earlier = [e for e in self.lock().entries
                   if e.crosswalk == sub.crosswalk and e.version < sub.version
                   and e.path != f"workspace/{sub.id}"]
        for entry in sorted(earlier, key=lambda e: e.version, reverse=True):
            with contextlib.suppress(HarmoniseError, OSError, UnicodeDecodeError):
                if entry.path.startswith("workspace/"):
                    text, label = self.text(f"db:{entry.path.removeprefix('workspace/')}")
                else:
                    text, label = self.text(f"project:{entry.path}")
                return f"{label} (v{entry.version}, released)", text
        return None

    def themes(self, schema_ref: str) -> dict[str, str]:
        """``{concept: theme}`` of a schema of this project ({} when it is not here)."""
        from harmonise.crosswalk.io import load_schema

        path = self.cw_dir / "schema" / f"{schema_ref}.yaml"
        if "/" in schema_ref or "\\" in schema_ref or not path.is_file():
            return {}
        key = (schema_ref, path.stat().st_mtime_ns)
        if key not in self._themes:
            self._themes[key] = {c.id: c.theme for c in load_schema(path).concepts}
        return self._themes[key]

    def schema_for(self, text: str) -> Any:
        from harmonise.crosswalk.io import load_schema, parse_yaml

        raw = parse_yaml(text, "crosswalk")
        ref = raw.get("schema") if isinstance(raw, dict) else None
        path = self.cw_dir / "schema" / f"{ref}.yaml"
        if not isinstance(ref, str) or "/" in ref or "\\" in ref or not path.is_file():
            return None
        return load_schema(path)

    def check(self, text: str, file: str, *, blob: Path | None = None, fmt: str = "",
              encoding: str | None = None) -> Any:
        """Every problem with a crosswalk text, against an upload's data when given."""
        from harmonise.crosswalk.validate import check_crosswalk, parse_crosswalk
        from harmonise.models.report import Issue, Report

        parsed = parse_crosswalk(text, file)
        survey = None
        if blob is not None and parsed.crosswalk is not None:
            privacy = parsed.crosswalk.privacy
            survey = read_upload(blob, fmt, encoding=encoding, keep=privacy.keep or None,
                                 postcode_district=privacy.postcode_district or None)
        schema = self.schema_for(text)
        report = check_crosswalk(text, file, schema=schema, survey=survey)
        if schema is None and parsed.crosswalk is not None:
            report = Report((Issue(code="schema-version-mismatch", file=file,
                                   value=parsed.crosswalk.schema_ref,
                                   message=f"{file}: the schema it names is not in this "
                                           "project's crosswalks/schema/"), *report.issues),
                            report.files)
        return report

    def targets_problem(self, text: str) -> str | None:
        """Why a crosswalk's ``weighting.targets`` may not be used, or None: a submitted
        crosswalk may name only a CSV file directly in the project's ``surveys/targets/``
        (never another file of the server, whatever the path)."""
        from harmonise.crosswalk.io import parse_yaml

        try:
            raw = parse_yaml(text, "crosswalk")
        except CrosswalkError:
            return None  # the validation report says why it is not readable
        weighting = raw.get("weighting") if isinstance(raw, dict) else None
        if not isinstance(weighting, dict) or weighting.get("targets") is None:
            return None
        try:
            self.targets_file(weighting["targets"])
        except CrosswalkError as exc:
            return str(exc)
        return None

    def targets_file(self, rel: object) -> Path:
        """The project file ``weighting.targets`` names, only if it is
        ``surveys/targets/<name>.csv`` and a regular file there; CrosswalkError if not."""
        folder = (self.root / TARGETS_DIR).resolve()
        shown = str(rel)[:80]
        if not isinstance(rel, str) or not _TARGETS.match(rel):
            raise CrosswalkError(f"weighting.targets {shown!r} is not allowed: name a CSV "
                                 f"file in the project's {TARGETS_DIR}/ (for example "
                                 f"{TARGETS_DIR}/luton-adults-2024.csv); ask an admin to add "
                                 "a targets file there if yours is missing")
        path = self.root / rel
        if path.is_symlink() or not path.resolve().is_relative_to(folder) \
                or not path.is_file():
            available = ", ".join(sorted(p.name for p in folder.glob("*.csv"))[:20]) \
                if folder.is_dir() else "none"
            raise CrosswalkError(f"weighting.targets {shown!r}: there is no such targets "
                                 f"file in {TARGETS_DIR}/ (available: {available}); pick "
                                 "one of them or ask an admin to add yours")
        return path

    def plan_release(self, sub: Submission) -> Any:
        from harmonise.crosswalk.release import plan_release

        problem = self.targets_problem(sub.text)
        if problem is not None:
            raise CrosswalkError(f"{sub.ref}: {problem}")
        schema = self.schema_for(sub.text)
        if schema is None:
            raise CrosswalkError(f"{sub.ref}: the schema it names is not in this project")
        return plan_release(sub.text, f"{sub.crosswalk}.v{sub.version}.yaml",
                            lock_key=f"workspace/{sub.id}", schema=schema, lock=self.lock(),
                            changelog="", today=dt.date.today())


TARGETS_DIR = "surveys/targets"
_TARGETS = re.compile(r"^surveys/targets/[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.csv$")
_SCHEMA_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


def _copy_inside(src_root: Path, rel: str, dst_root: Path) -> None:
    src = (src_root / rel).resolve()
    if not src.is_relative_to(src_root.resolve()) or not src.is_file():
        raise CrosswalkError(f"{rel!r} is not a file inside the project")
    dst = dst_root / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def execute(job: Job, ws: Workspace, blobs: BlobStore, catalogue: Catalogue, runs_dir: Path,
            progress: Callable[[str], None], *, charts: bool = True) -> int:
    """Run one job's uploads with their crosswalks; return the stored run id."""
    from harmonise.crosswalk.io import parse_yaml
    from harmonise.pipeline import run
    from harmonise.report import report_data, write_report
    from harmonise.store import Store

    inputs = json.loads(job.inputs)
    if not inputs:
        raise HarmoniseError("this run has no uploads with a released crosswalk")
    from harmonise._util.files import sha256_file
    from harmonise.crosswalk.lock import LOCK_NAME, Lock, LockEntry

    work = Path(tempfile.mkdtemp(prefix=f".job-{job.id}-", dir=runs_dir))
    try:
        entries: list[str] = []
        schema_refs = set()
        # the catalogue checked each released text against its release; the job's own
        # lock records them so the run uses them only as released (harmonise run checks)
        job_lock = Lock()
        for item in inputs:
            upload = ws.upload(int(item["upload"]))
            if not upload.active:
                raise HarmoniseError(f"upload {upload.id} was withdrawn; start a new run")
            text, _label = catalogue.text(str(item["crosswalk"]))
            raw = parse_yaml(text, "crosswalk")
            schema_refs.add(str(raw.get("schema")))
            name = f"u{upload.id}"
            cw_rel = f"crosswalks/{name}/{raw.get('crosswalk')}.v{raw.get('version')}.yaml"
            (work / cw_rel).parent.mkdir(parents=True, exist_ok=True)
            (work / cw_rel).write_text(text, encoding="utf-8")
            cw_id, version = str(raw.get("crosswalk")), int(raw.get("version") or 0)
            # (one crosswalk version for two uploads: the run refuses it, saying why)
            if raw.get("status") == "released" and job_lock.get(cw_id, version) is None:
                job_lock = job_lock.with_entry(LockEntry(
                    crosswalk=cw_id, version=version, path=cw_rel.removeprefix("crosswalks/"),
                    sha256=sha256_file(work / cw_rel)))
            data_rel = f"surveys/{name}{upload.fmt}"
            (work / "surveys").mkdir(exist_ok=True)
            shutil.copyfile(blobs.path(upload.sha256), work / data_rel)
            weighting = raw.get("weighting")
            targets = weighting.get("targets") if isinstance(weighting, dict) else None
            if targets is not None:  # only surveys/targets/*.csv, checked again here
                source = catalogue.targets_file(targets)
                if not (work / str(targets)).exists():
                    (work / TARGETS_DIR).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, work / str(targets))
            enc = f"\n    encoding: {json.dumps(upload.encoding)}" if upload.encoding else ""
            entries.append(f"  - file: {json.dumps(data_rel)}\n"
                           f"    crosswalk: {json.dumps(cw_rel)}{enc}")
        if len(schema_refs) != 1:
            raise CrosswalkError(f"the crosswalks target different schemas "
                                 f"({', '.join(sorted(schema_refs))}); one run needs one")
        ref = schema_refs.pop()
        if not _SCHEMA_REF.match(ref) or ".." in ref:
            raise CrosswalkError(f"schema {ref[:80]!r} is not a schema name of this project; "
                                 "name one in crosswalks/schema/")
        (work / "crosswalks" / LOCK_NAME).write_text(job_lock.to_json(), encoding="utf-8")
        _copy_inside(catalogue.root, f"crosswalks/schema/{ref}.yaml", work)
        manifest = work / "surveys/manifest.yaml"
        manifest.write_text(f"schema: crosswalks/schema/{ref}.yaml\nsurveys:\n"
                            + "\n".join(entries) + "\n", encoding="utf-8")
        result = run(manifest, root=work, progress=progress)
        data = report_data(result)
        progress("save to the store")
        # the save records its run on the job in the same transaction, and refuses when an
        # upload was withdrawn meanwhile (a withdrawal deletes the runs its jobs saved)
        with Store(ws.url) as store:
            run_id = store.save(data, within=lambda conn, rid: ws.bind_run(conn, job.id, rid))
        progress("write the report")
        final = runs_dir / str(job.id)
        write_report(data, work / "out", charts=charts, run_id=run_id)
        _keep_only_if_wanted(ws, job, None)
        if final.exists():
            shutil.rmtree(final)
        (work / "out").replace(final)
        # a withdrawal that committed while the files moved may have found no folder to
        # delete: check again, and take the files back out if so
        _keep_only_if_wanted(ws, job, final)
        return run_id
    except HarmoniseError as exc:
        # the message is shown to users: paths relative to the job folder, never the
        # server's temp folder
        raise HarmoniseError(relative_paths(str(exc), work)) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def relative_paths(message: str, folder: Path) -> str:
    """``message`` with ``folder``'s absolute path (as given and resolved) removed, so
    ``/tmp/…/.job-3-x/surveys/u1.csv`` reads ``surveys/u1.csv``."""
    for shown in sorted({str(folder), str(folder.resolve())}, key=len, reverse=True):
        message = message.replace(shown + os.sep, "").replace(shown, "the run folder")
    return message


def _keep_only_if_wanted(ws: Workspace, job: Job, placed: Path | None) -> None:
    """Raise (the worker then fails the job and deletes its stored run) when the job or
    one of its uploads was withdrawn while it ran; remove ``placed`` files first."""
    reason = ws.withdrawn_reason(job.id)
    if reason is not None:
        if placed is not None:
            shutil.rmtree(placed, ignore_errors=True)
        raise HarmoniseError(reason)


def sweep_work_folders(ws: Workspace, runs_dir: Path) -> list[str]:
    """Delete the private ``.job-*`` folders (which hold copies of raw respondent files)
    that no live run is using: those left by a crash or a kill. A folder is kept only while
    its job is 'running' with a fresh heartbeat (another worker sharing the folder).
    Returns the names removed."""
    import re

    cutoff = (dt.datetime.now(dt.UTC) - STALE_AFTER).isoformat(timespec="microseconds")
    removed = []
    for folder in sorted(runs_dir.glob(".job-*")):
        found = re.match(r"^\.job-(\d+)-", folder.name)
        job = ws.find_job(int(found.group(1))) if found else None
        if job is not None and job.state == "running" and (job.heartbeat_at or "") > cutoff:
            continue
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            folder.unlink(missing_ok=True)
        removed.append(folder.name)
    if removed:
        log.warning("removed %d work folder(s) left by runs that did not finish",
                    len(removed))
    return removed


class Worker(threading.Thread):
    """Polls the job table; runs one job at a time; heartbeats while it runs."""

    def __init__(self, ws: Workspace, blobs: BlobStore, catalogue: Catalogue, runs_dir: Path,
                 *, poll: float = 1.0, charts: bool = True) -> None:
        super().__init__(name="harmonise-worker", daemon=True)
        self.ws, self.blobs, self.catalogue, self.runs_dir = ws, blobs, catalogue, runs_dir
        self.poll, self.charts = poll, charts
        self.name_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self.wake = threading.Event()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def run(self) -> None:
        checked: float | None = None
        while not self.stopping.is_set():
            try:
                if checked is None or time.monotonic() - checked > RECOVER_EVERY:
                    # jobs of a worker that died (this server's previous life, or another
                    # server sharing the database) fail instead of hanging as 'running'
                    # (their stored runs deleted), and their work folders, which hold
                    # copies of the raw uploads, are removed
                    self.ws.recover(stale_after=STALE_AFTER)
                    sweep_work_folders(self.ws, self.runs_dir)
                    self.blobs.sweep_incoming()
                    checked = time.monotonic()
                job = self.ws.claim(self.name_id)
            except (StoreError, OSError):
                log.exception("worker cannot reach the job table")
                job = None
            if job is None:
                self.wake.wait(self.poll)
                self.wake.clear()
                continue
            self.run_one(job)

    def run_one(self, job: Job) -> None:
        beating = threading.Event()

        def beat() -> None:
            while not beating.wait(HEARTBEAT):
                with contextlib.suppress(StoreError):
                    self.ws.heartbeat(job.id)

        heart = threading.Thread(target=beat, daemon=True)
        heart.start()
        try:
            run_id = execute(job, self.ws, self.blobs, self.catalogue, self.runs_dir,
                             lambda msg: self.ws.progress(job.id, msg), charts=self.charts)
        except HarmoniseError as exc:
            self.ws.finish(job.id, error=str(exc))
        except Exception as exc:  # a bug: say so, keep the worker alive
            log.exception("run %s failed", job.id)
            self.ws.finish(job.id, error=f"internal error ({exc.__class__.__name__}); the "
                           "server log has the details. Nothing from this run was kept.")
        else:
            self.ws.finish(job.id, run_id=run_id)
        finally:
            beating.set()


__all__ = ["Catalogue", "Choice", "Worker", "execute", "relative_paths", "sweep_work_folders"]
