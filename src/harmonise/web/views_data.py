"""Pages for uploads and crosswalks: upload, codebook, privacy screen, crosswalk pick,
draft, submission, release, withdrawal. Handlers run in a worker thread (see
:func:`harmonise.web.context.page`) and call the ingest and crosswalk stage functions.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from harmonise._util.files import sha256_text
from harmonise.errors import CrosswalkError, HarmoniseError, IngestError, StoreError
from harmonise.store.workspace import Upload
from harmonise.web.access import submission_for, upload_for
from harmonise.web.context import Ctx, Refused, page
from harmonise.web.files import codebook_json, display_name, read_upload

ENCODINGS = {"": None, "utf-8": "utf-8", "cp1252": "cp1252", "latin-1": "latin-1",
             "utf-16": "utf-16"}
MAX_CROSSWALK_BYTES = 1024 * 1024
#: ids are 32-bit integers in both databases: a longer number is no object ("not found")
MAX_ID = 2**31 - 1


def _id(request: Request, name: str = "id") -> int:
    raw = request.path_params.get(name)
    if isinstance(raw, int) and 1 <= raw <= MAX_ID:
        return raw
    raise Refused(404, "Not found", "There is no such page.")


def attachment(body: bytes | str, filename: str, media_type: str) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@page(("officer", "admin"))
def uploads(ctx: Ctx) -> Response:
    me = ctx.me
    pid = me.partnership_id if me.role == "officer" else None
    rows = ctx.ws.uploads(pid)
    names = {p.id: p.name for p in ctx.ws.partnerships()}
    return ctx.render("uploads.html", uploads=rows, partnerships=names,
                      encodings=[e for e in ENCODINGS if e])


@page(("officer",))
def upload_create(ctx: Ctx) -> Response:
    """Store an export for the officer's partnership after the ingest checks pass."""
    me = ctx.me
    assert ctx.form is not None and me.partnership_id is not None
    file = ctx.form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise Refused(400, "No file chosen", "Choose an export file (.sav, .zsav, .por, .dta, "
                      ".csv or .xlsx) and upload it again.")
    chosen = ctx.field("encoding")
    if chosen not in ENCODINGS:
        raise Refused(400, "Unknown encoding", "Pick an encoding from the list (or leave it "
                      "to be detected).")
    encoding = ENCODINGS[chosen]
    state = ctx.state
    limit = state.config.max_upload_bytes
    name = display_name(file.filename)
    try:
        incoming = state.blobs.receive(file.file, limit)
    except IngestError as exc:
        raise Refused(413, "File too large", str(exc)) from None
    try:
        examined = state.blobs.examine(incoming, encoding=encoding, max_bytes=limit)
    except IngestError as exc:
        state.blobs.discard(incoming)
        ctx.log("upload-refused", "upload", f"sha256 {incoming.sha256[:12]}: refused by the "
                "ingest checks", partnership_id=me.partnership_id)
        raise Refused(400, "Upload refused", f"{exc} Nothing was stored.") from None
    except BaseException:
        state.blobs.discard(incoming)
        raise
    state.blobs.keep(incoming)
    try:
        upload, created = ctx.ws.add_upload(
            partnership_id=me.partnership_id, sha256=incoming.sha256, size=incoming.size,
            display_name=name, fmt=examined.fmt, encoding=encoding, uploaded_by=me.id,
            codebook=codebook_json(examined.codebook))
    except StoreError:
        if not ctx.ws.blob_in_use(incoming.sha256):
            state.blobs.remove(incoming.sha256)
        raise
    if created:
        ctx.log("upload", f"upload {upload.id}", f"sha256 {upload.sha256[:12]}, "
                f"{upload.size} bytes, {upload.fmt}", partnership_id=me.partnership_id)
        ctx.flash(f"Uploaded and checked: {name}.")
    else:
        ctx.log("upload-again", f"upload {upload.id}", "same bytes as a live upload; "
                "nothing new stored", partnership_id=me.partnership_id)
        ctx.flash(f"This file was already uploaded (upload {upload.id}, same SHA-256); "
                  "nothing new was stored.")
    if ctx.request.headers.get("x-requested-with") == "harmonise-upload":
        # the drag-and-drop script: it navigates itself, so the flash is shown there once
        return JSONResponse({"location": f"/uploads/{upload.id}"})
    return ctx.redirect(f"/uploads/{upload.id}")


def _report(raw: str | None) -> dict[str, Any] | None:
    return None if not raw else dict(json.loads(raw))


@page(("officer", "admin"))
def upload_detail(ctx: Ctx) -> Response:
    upload = upload_for(ctx, _id(ctx.request))
    partnership = ctx.ws.partnership(upload.partnership_id)
    codebook = json.loads(upload.codebook)
    return ctx.render(
        "upload.html", upload=upload, partnership=partnership, codebook=codebook,
        choices=ctx.state.catalogue.choices(partnership),
        report=_report(upload.crosswalk_report),
        submissions=[s for s in ctx.ws.submissions(upload.partnership_id)
                     if s.upload_id == upload.id],
        can_edit=upload.active and ctx.me.role == "officer",
        uploader=_name(ctx, upload.uploaded_by))


def _name(ctx: Ctx, uid: int | None) -> str:
    if uid is None:
        return ""
    try:
        return ctx.ws.user(uid).username
    except StoreError:
        return f"user {uid}"


def _live_own(ctx: Ctx) -> Upload:
    upload = upload_for(ctx, _id(ctx.request))
    if not upload.active:
        raise Refused(409, "Withdrawn", "This upload was withdrawn; upload the file again "
                      "to work with it.")
    return upload


@page(("officer", "admin"))
def upload_original(ctx: Ctx) -> Response:
    """The bytes exactly as uploaded (own partnership, or an admin)."""
    upload = _live_own(ctx)
    data = ctx.state.blobs.path(upload.sha256).read_bytes()
    ctx.log("download", f"upload {upload.id}", "original file",
            partnership_id=upload.partnership_id)
    return attachment(data, f"upload-{upload.id}{upload.fmt}", "application/octet-stream")


@page(("officer", "admin"))
def upload_codebook(ctx: Ctx) -> Response:
    upload = _live_own(ctx)
    ctx.log("download", f"upload {upload.id}", "codebook", partnership_id=upload.partnership_id)
    return attachment(upload.codebook, f"codebook-{upload.id}.json", "application/json")


@page(("officer", "admin"))
def upload_draft(ctx: Ctx) -> Response:
    """A draft crosswalk for the upload (``draft_crosswalk``, as ``inspect`` writes it)."""
    from harmonise.crosswalk.draft import draft_crosswalk
    from harmonise.crosswalk.io import load_schema

    upload = _live_own(ctx)
    schemas = sorted((ctx.state.catalogue.cw_dir / "schema").glob("*.yaml"))
    if not schemas:
        raise Refused(409, "No schema", "This project has no schema under crosswalks/schema/; "
                      "an admin must add one.")
    survey = read_upload(ctx.state.blobs.path(upload.sha256), upload.fmt,
                         encoding=upload.encoding)
    partnership = ctx.ws.partnership(upload.partnership_id)
    text = draft_crosswalk(survey, load_schema(schemas[-1]),
                           name=f"{partnership.slug}-upload-{upload.id}")
    # the workspace knows whose export it is: the draft names the partnership (a submitted
    # crosswalk must; see Workspace.ownership_problem)
    text = re.sub(r"(?m)^csp: .*$", f"csp: {json.dumps(partnership.slug)}", text, count=1)
    text = re.sub(r"(?m)^csp_name: .*$", f"csp_name: {json.dumps(partnership.name)}", text,
                  count=1)
    ctx.log("download", f"upload {upload.id}", "draft crosswalk",
            partnership_id=upload.partnership_id)
    return attachment(text, f"{partnership.slug}-upload-{upload.id}.v1.yaml",
                      "application/x-yaml")


@page(("officer",))
def upload_pick(ctx: Ctx) -> Response:
    """Pick a released crosswalk for the upload; it is validated against the data."""
    upload = _live_own(ctx)
    partnership = ctx.ws.partnership(upload.partnership_id)
    key = ctx.field("crosswalk")
    if key not in {c.key for c in ctx.state.catalogue.choices(partnership)}:
        raise Refused(400, "Unknown crosswalk", "Pick a released crosswalk from the list.")
    cat = ctx.state.catalogue
    text, label = cat.text(key)
    try:
        report = cat.check(text, label, blob=ctx.state.blobs.path(upload.sha256),
                           fmt=upload.fmt, encoding=upload.encoding)
    except HarmoniseError as exc:
        raise Refused(400, "Cannot check the crosswalk", str(exc)) from None
    ctx.ws.set_upload_crosswalk(upload.id, key, report.to_json())
    ctx.log("pick-crosswalk", f"upload {upload.id}", f"{key}: {report.summary()}",
            partnership_id=upload.partnership_id)
    ctx.flash(f"Crosswalk checked against the data: {report.summary()}.")
    return ctx.redirect(f"/uploads/{upload.id}")


@page(("officer",))
def upload_submit(ctx: Ctx) -> Response:
    """A completed crosswalk for the upload: validated, stored as a draft for review."""
    from harmonise.crosswalk.validate import parse_crosswalk

    upload = _live_own(ctx)
    assert ctx.form is not None
    file = ctx.form.get("crosswalk_file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise Refused(400, "No file chosen", "Choose the completed crosswalk (.yaml) file.")
    raw = file.file.read(MAX_CROSSWALK_BYTES + 1)
    if len(raw) > MAX_CROSSWALK_BYTES:
        raise Refused(413, "Crosswalk too large", "A crosswalk file may be at most 1 MiB.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "Not UTF-8 text", "Save the crosswalk as UTF-8 text and upload "
                      "it again.") from None
    parsed = parse_crosswalk(text, "crosswalk")
    if parsed.crosswalk is None:
        issues = "; ".join(i.message for i in parsed.issues[:20])
        raise Refused(400, "Crosswalk not readable", f"{issues} Fix these and upload it "
                      "again; nothing was stored.")
    cw = parsed.crosswalk
    problem = ctx.ws.ownership_problem(upload.partnership_id, text)
    if problem is not None:
        ctx.log("submit-refused", f"upload {upload.id}", "crosswalk of another partnership",
                partnership_id=upload.partnership_id)
        raise Refused(400, "Not your partnership's crosswalk", f"This crosswalk cannot be "
                      f"submitted: {problem}. Nothing was stored.")
    problem = ctx.state.catalogue.targets_problem(text)
    if problem is not None:
        raise Refused(400, "Weighting targets not allowed", f"{problem}. Nothing was "
                      "stored.")
    label = f"{cw.crosswalk}.v{cw.version}.yaml"
    try:
        report = ctx.state.catalogue.check(text, label,
                                           blob=ctx.state.blobs.path(upload.sha256),
                                           fmt=upload.fmt, encoding=upload.encoding)
    except HarmoniseError as exc:
        raise Refused(400, "Cannot check the crosswalk", str(exc)) from None
    sub = ctx.ws.submit_crosswalk(
        partnership_id=upload.partnership_id, upload_id=upload.id, crosswalk=cw.crosswalk,
        version=cw.version, sha256=sha256_text(text), text=text, report=report.to_json(),
        valid=report.valid, by=ctx.me.id)
    ctx.log("submit-crosswalk", f"crosswalk {sub.id}", f"{sub.ref}: {report.summary()}",
            partnership_id=upload.partnership_id)
    ctx.flash(f"Crosswalk {sub.ref} stored as a draft: {report.summary()}.")
    return ctx.redirect(f"/crosswalks/{sub.id}")


@page(("officer", "admin"))
def upload_withdraw(ctx: Ctx) -> Response:
    """Withdraw an upload; the runs that used it are withdrawn with it."""
    import shutil

    upload = _live_own(ctx)
    jobs = ctx.ws.withdraw_upload(upload.id, ctx.me.id)
    for jid in jobs:
        shutil.rmtree(ctx.state.runs_dir / str(jid), ignore_errors=True)
    if not ctx.ws.blob_in_use(upload.sha256):
        ctx.state.blobs.remove(upload.sha256)
    ctx.log("withdraw", f"upload {upload.id}", f"and {len(jobs)} run(s) made from it",
            partnership_id=upload.partnership_id)
    ctx.flash(f"Upload {upload.id} withdrawn, with {len(jobs)} run(s) made from it.")
    return ctx.redirect("/uploads")


@page(("officer", "admin"))
def crosswalks(ctx: Ctx) -> Response:
    me = ctx.me
    subs = ctx.ws.submissions(me.partnership_id if me.role == "officer" else None)
    names = {p.id: p.name for p in ctx.ws.partnerships()}
    return ctx.render("crosswalks.html", submissions=subs, partnerships=names)


@page(("officer", "admin"))
def crosswalk_detail(ctx: Ctx) -> Response:
    from harmonise._util.yamlio import parse_yaml

    sub = submission_for(ctx, _id(ctx.request))
    try:
        raw = parse_yaml(sub.text, "crosswalk", error=StoreError)
    except StoreError:
        raw = None
    meta = raw if isinstance(raw, dict) else {}
    previous = ctx.state.catalogue.previous_release(sub)
    diff = None
    if previous is not None:
        import difflib

        label, old_text = previous
        diff = "".join(difflib.unified_diff(
            old_text.splitlines(keepends=True), sub.text.splitlines(keepends=True),
            fromfile=label, tofile=f"{sub.crosswalk}.v{sub.version}.yaml (this one)"))
    return ctx.render("crosswalk.html", sub=sub, report=_report(sub.report),
                      partnership=ctx.ws.partnership(sub.partnership_id),
                      csp=str(meta.get("csp", "")), csp_name=str(meta.get("csp_name", "")),
                      ownership=ctx.ws.ownership_problem(sub.partnership_id, sub.text),
                      previous=previous[0] if previous else None, diff=diff,
                      author=_name(ctx, sub.submitted_by),
                      releaser=_name(ctx, sub.released_by),
                      can_release=(ctx.me.role == "admin" and sub.status == "draft"
                                   and sub.submitted_by != ctx.me.id))


@page(("officer", "admin"))
def crosswalk_download(ctx: Ctx) -> Response:
    sub = submission_for(ctx, _id(ctx.request))
    ctx.log("download", f"crosswalk {sub.id}", sub.ref, partnership_id=sub.partnership_id)
    return attachment(sub.text, f"{sub.crosswalk}.v{sub.version}.yaml", "application/x-yaml")


@page(("admin",))
def crosswalk_release(ctx: Ctx) -> Response:
    """Release a draft (an admin who is not its author): checks as the CLI's release."""
    sub = submission_for(ctx, _id(ctx.request))
    if sub.submitted_by == ctx.me.id:
        raise Refused(403, "Not your own", "You submitted this crosswalk, so you cannot "
                      "release it: another admin must review and release it.")
    if sub.status != "draft":
        raise Refused(409, "Cannot release", f"{sub.ref} is {sub.status}, not a draft; "
                      "nothing to release.")
    problem = ctx.ws.ownership_problem(sub.partnership_id, sub.text)
    if problem is not None:
        raise Refused(409, "Cannot release", f"{sub.ref} cannot be released: {problem}. "
                      "The partnership must submit a corrected crosswalk.")
    try:
        plan = ctx.state.catalogue.plan_release(sub)
        ctx.ws.release_submission(sub.id, ctx.me, text=plan.text, sha256=plan.entry.sha256)
    except (CrosswalkError, StoreError) as exc:
        raise Refused(409, "Cannot release", str(exc)) from None
    ctx.log("release", f"crosswalk {sub.id}", f"{sub.ref} sha256 {plan.entry.sha256[:12]}",
            partnership_id=sub.partnership_id)
    ctx.flash(f"{sub.ref} released.")
    return ctx.redirect(f"/crosswalks/{sub.id}")


__all__ = ["crosswalk_detail", "crosswalk_download", "crosswalk_release", "crosswalks",
           "upload_codebook", "upload_create", "upload_detail", "upload_draft",
           "upload_original", "upload_pick", "upload_submit", "upload_withdraw", "uploads"]
