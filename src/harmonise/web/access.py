"""Who may see which object (the per-object half of the role rules; roles per route are
in :func:`harmonise.web.context.page`).

* officer — their own partnership's uploads, codebooks, crosswalk submissions and runs;
* analyst — every run's published results (aggregates), never an upload or a codebook;
* admin   — everything, including the original uploads (for support and retention).

An object another user may not see is answered "not found" (404), so ids do not leak
whether something exists.
"""

from __future__ import annotations

from harmonise.errors import StoreError
from harmonise.store.workspace import Job, Submission, Upload
from harmonise.web.context import Ctx, forbidden, not_found


def own_partnership(ctx: Ctx, partnership_id: int | None) -> bool:
    me = ctx.me
    return me.role == "admin" or (me.role == "officer" and me.partnership_id == partnership_id)


def upload_for(ctx: Ctx, upload_id: int) -> Upload:
    if ctx.me.role == "analyst":
        raise forbidden("uploaded files (analysts see published results only)")
    found = ctx.ws.find_upload(upload_id)
    if found is None or not own_partnership(ctx, found.partnership_id):
        raise not_found("upload")
    return found


def submission_for(ctx: Ctx, sid: int) -> Submission:
    if ctx.me.role == "analyst":
        raise forbidden("crosswalk submissions")
    try:
        sub = ctx.ws.submission(sid)
    except StoreError:
        raise not_found("crosswalk") from None
    if not own_partnership(ctx, sub.partnership_id):
        raise not_found("crosswalk")
    return sub


def job_for(ctx: Ctx, job_id: int) -> Job:
    job = ctx.ws.find_job(job_id)
    if job is None or job.withdrawn_at is not None:
        raise not_found("run")
    me = ctx.me
    if me.role in ("analyst", "admin"):
        return job
    if job.kind == "partnership" and job.partnership_id == me.partnership_id:
        return job
    raise not_found("run")


def visible_jobs(ctx: Ctx) -> list[Job]:
    me = ctx.me
    if me.role == "officer":
        return [j for j in ctx.ws.jobs(me.partnership_id)
                if j.kind == "partnership" and j.withdrawn_at is None]
    return [j for j in ctx.ws.jobs() if j.withdrawn_at is None]


__all__ = ["job_for", "own_partnership", "submission_for", "upload_for", "visible_jobs"]
