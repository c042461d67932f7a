"""The shared workspace's records: partnerships, users, sessions, uploads, crosswalk
submissions, jobs, the activity log and retention settings (SQLite or PostgreSQL by URL).

    Workspace(url).migrate()          create/upgrade the tables (Alembic, to head)
    add_user / set_role / …           users and partnerships (no one changes their own row)
    add_upload / withdraw_upload      content-addressed uploads; a re-upload is recognised
    submit_crosswalk / release        crosswalk submissions; the author cannot release
    enqueue / claim / finish          the job table the background worker polls
    log / activity / apply_retention  the append-only activity log

The same database holds the runs' published tables (:class:`harmonise.store.Store`); a
job points at its run by id. Rules the web layer also checks are enforced here too (no
self-change of rights, no self-release, one live upload of a file per partnership), so a
bug in a page cannot get past them. Nothing here reads or writes respondent data: file
bytes live in the web layer's blob folder, named by hash.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from harmonise.errors import StoreError
from harmonise.store.db import _redacted, delete_runs, store_url
from harmonise.store.tables import (
    ACTIVITY,
    CROSSWALKS,
    JOBS,
    PARTNERSHIPS,
    SESSIONS,
    SETTINGS,
    UPLOADS,
    USERS,
)

ROLES = ("officer", "analyst", "admin")
JOB_STATES = ("queued", "running", "done", "failed")
MIGRATIONS = Path(__file__).with_name("migrations")

T = TypeVar("T")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Partnership:
    id: int
    slug: str
    name: str
    created_at: str


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password_hash: str
    role: str
    partnership_id: int | None
    active: bool
    created_at: str


@dataclass(frozen=True)
class Upload:
    id: int
    partnership_id: int
    sha256: str
    size: int
    display_name: str
    fmt: str
    encoding: str | None
    uploaded_by: int
    uploaded_at: str
    codebook: str
    crosswalk_key: str | None
    crosswalk_report: str | None
    withdrawn_at: str | None
    withdrawn_by: int | None
    active_key: str | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True)
class Submission:
    id: int
    partnership_id: int
    upload_id: int | None
    crosswalk: str
    version: int
    sha256: str
    text: str
    status: str
    report: str
    valid: bool
    submitted_by: int
    submitted_at: str
    released_by: int | None
    released_at: str | None
    released_key: str | None

    @property
    def ref(self) -> str:
        return f"{self.crosswalk}@v{self.version}"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    partnership_id: int | None
    requested_by: int
    state: str
    progress: str
    steps: int
    message: str | None
    inputs: str
    run_id: int | None
    worker: str | None
    created_at: str
    started_at: str | None
    heartbeat_at: str | None
    finished_at: str | None
    withdrawn_at: str | None

    @property
    def upload_ids(self) -> list[int]:
        return [int(i["upload"]) for i in json.loads(self.inputs)]

    @property
    def visible(self) -> bool:
        """Results may be shown: finished whole and not withdrawn."""
        return self.state == "done" and self.withdrawn_at is None and self.run_id is not None


@dataclass(frozen=True)
class Activity:
    id: int
    at: str
    actor_id: int | None
    actor: str
    action: str
    target: str
    partnership_id: int | None
    detail: str


def _row(cls: type[T], row: Any) -> T:
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    return cls(**{n: row[n] for n in names})


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Workspace:
    """The workspace database. Open once per process; methods are thread-safe."""

    def __init__(self, location: str | Path) -> None:
        self.url = store_url(location)
        self.shown = _redacted(self.url)
        try:
            parsed = sa.make_url(self.url)
        except sa.exc.ArgumentError as exc:
            raise StoreError(f"--database {self.shown!r} is neither a file path nor a "
                             "database URL (sqlite:///path or postgresql+psycopg://…)") from exc
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            if parsed.database not in (None, "", ":memory:"):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        try:
            self.engine = sa.create_engine(self.url, **kwargs)
        except (ModuleNotFoundError, sa.exc.NoSuchModuleError) as exc:
            raise StoreError(f"cannot open workspace {self.shown}: {exc}; for PostgreSQL "
                             "install the driver: pip install 'psycopg[binary]'") from exc
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self, what: str) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.IntegrityError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot {what} in workspace {self.shown}: "
                             f"{exc.__class__.__name__}; nothing was changed") from exc

    # ----------------------------------------------------------------- schema
    def migrate(self) -> str:
        """Create or upgrade the workspace tables (and the runs tables) to the newest
        version; return the Alembic revision now in force."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        from harmonise.store.db import METADATA as RUNS_METADATA

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            RUNS_METADATA.create_all(self.engine)
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            with self.engine.connect() as conn:
                head = MigrationContext.configure(conn).get_current_revision()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot create or upgrade workspace {self.shown}: "
                             f"{exc.__class__.__name__}: {exc}") from exc
        return str(head)

    # ----------------------------------------------------------- partnerships
    def add_partnership(self, slug: str, name: str) -> Partnership:
        try:
            with self._tx("add a partnership") as conn:
                pid = conn.execute(PARTNERSHIPS.insert().values(
                    slug=slug, name=name, created_at=now())).inserted_primary_key
        except sa.exc.IntegrityError:
            raise StoreError(f"a partnership {slug!r} already exists; choose another short "
                             "name") from None
        assert pid is not None
        return self.partnership(int(pid[0]))

    def partnership(self, pid: int) -> Partnership:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(PARTNERSHIPS).where(PARTNERSHIPS.c.id == pid)
                               ).mappings().first()
        if row is None:
            raise StoreError(f"no partnership {pid}")
        return _row(Partnership, row)

    def partnership_by_slug(self, slug: str) -> Partnership | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(PARTNERSHIPS).where(PARTNERSHIPS.c.slug == slug)
                               ).mappings().first()
        return None if row is None else _row(Partnership, row)

    def partnerships(self) -> list[Partnership]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(PARTNERSHIPS).order_by(PARTNERSHIPS.c.id)
                                ).mappings().all()
        return [_row(Partnership, r) for r in rows]

    # ------------------------------------------------------------------ users
    def add_user(self, username: str, password_hash: str, role: str,
                 partnership_id: int | None) -> User:
        _check_role(role, partnership_id)
        try:
            with self._tx("add a user") as conn:
                uid = conn.execute(USERS.insert().values(
                    username=username, password_hash=password_hash, role=role,
                    partnership_id=partnership_id, active=True, created_at=now(),
                )).inserted_primary_key
        except sa.exc.IntegrityError:
            raise StoreError(f"a user {username!r} already exists (or the partnership is "
                             "unknown); choose another name") from None
        assert uid is not None
        return self.user(int(uid[0]))

    def user(self, uid: int) -> User:
        found = self._user(USERS.c.id == uid)
        if found is None:
            raise StoreError(f"no user {uid}")
        return found

    def user_by_name(self, username: str) -> User | None:
        return self._user(USERS.c.username == username)

    def _user(self, where: Any) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS).where(where)).mappings().first()
        return None if row is None else _row(User, row)

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(USERS).order_by(USERS.c.id)).mappings().all()
        return [_row(User, r) for r in rows]

    def any_admin(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(USERS.c.id).where(
                USERS.c.role == "admin", USERS.c.active.is_(True)).limit(1)).first() is not None

    def change_user(self, actor: User, uid: int, *, role: str | None = None,
                    partnership_id: int | None = None, active: bool | None = None) -> User:
        """Change another user's role, partnership or active flag (admins only; never
        one's own row). Ends that user's sessions so the change applies at once."""
        if actor.role != "admin":
            raise StoreError("only an admin can change a user's rights")
        if actor.id == uid:
            raise StoreError("you cannot change your own rights; ask another admin")
        target = self.user(uid)
        new_role = role or target.role
        new_pid = partnership_id if role is not None else target.partnership_id
        _check_role(new_role, new_pid)
        values: dict[str, Any] = {"role": new_role, "partnership_id": new_pid}
        if active is not None:
            values["active"] = active
        with self._tx("change a user") as conn:
            conn.execute(USERS.update().where(USERS.c.id == uid).values(**values))
            conn.execute(SESSIONS.delete().where(SESSIONS.c.user_id == uid))
        return self.user(uid)

    def set_password(self, uid: int, password_hash: str) -> None:
        with self._tx("set a password") as conn:
            conn.execute(USERS.update().where(USERS.c.id == uid)
                         .values(password_hash=password_hash))
            conn.execute(SESSIONS.delete().where(SESSIONS.c.user_id == uid))

    # --------------------------------------------------------------- sessions
    def add_session(self, token_hash: str, uid: int, lifetime: dt.timedelta) -> None:
        at = dt.datetime.now(dt.UTC)
        with self._tx("start a session") as conn:
            conn.execute(SESSIONS.insert().values(
                token_hash=token_hash, user_id=uid, created_at=at.isoformat(),
                expires_at=(at + lifetime).isoformat()))

    def session_user(self, token_hash: str) -> User | None:
        """The active user a live session belongs to, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(USERS).join(SESSIONS, SESSIONS.c.user_id == USERS.c.id)
                .where(SESSIONS.c.token_hash == token_hash,
                       SESSIONS.c.expires_at > dt.datetime.now(dt.UTC).isoformat(),
                       USERS.c.active.is_(True))
            ).mappings().first()
        return None if row is None else _row(User, row)

    def end_session(self, token_hash: str) -> None:
        with self._tx("end a session") as conn:
            conn.execute(SESSIONS.delete().where(SESSIONS.c.token_hash == token_hash))

    # ---------------------------------------------------------------- uploads
    def add_upload(self, *, partnership_id: int, sha256: str, size: int, display_name: str,
                   fmt: str, encoding: str | None, uploaded_by: int,
                   codebook: str) -> tuple[Upload, bool]:
        """Record an upload; ``(upload, True)`` when new, ``(existing, False)`` when the
        partnership already has these bytes live (a re-upload is recognised, not kept
        twice). Safe under concurrent uploads: the live-key is unique."""
        key = f"{partnership_id}:{sha256}"
        try:
            with self._tx("record an upload") as conn:
                uid = conn.execute(UPLOADS.insert().values(
                    partnership_id=partnership_id, sha256=sha256, size=size,
                    display_name=display_name[:200], fmt=fmt, encoding=encoding,
                    uploaded_by=uploaded_by, uploaded_at=now(), codebook=codebook,
                    active_key=key)).inserted_primary_key
        except sa.exc.IntegrityError:
            existing = self._upload(UPLOADS.c.active_key == key)
            if existing is None:  # pragma: no cover - withdrawn between the two statements
                raise StoreError("the upload clashed with a withdrawal; upload it again") \
                    from None
            return existing, False
        assert uid is not None
        return self.upload(int(uid[0])), True

    def upload(self, upload_id: int) -> Upload:
        found = self._upload(UPLOADS.c.id == upload_id)
        if found is None:
            raise StoreError(f"no upload {upload_id}")
        return found

    def find_upload(self, upload_id: int) -> Upload | None:
        return self._upload(UPLOADS.c.id == upload_id)

    def _upload(self, where: Any) -> Upload | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(UPLOADS).where(where)).mappings().first()
        return None if row is None else _row(Upload, row)

    def uploads(self, partnership_id: int | None = None, *,
                live_only: bool = False) -> list[Upload]:
        q = sa.select(UPLOADS).order_by(UPLOADS.c.id)
        if partnership_id is not None:
            q = q.where(UPLOADS.c.partnership_id == partnership_id)
        if live_only:
            q = q.where(UPLOADS.c.withdrawn_at.is_(None))
        with self.engine.connect() as conn:
            return [_row(Upload, r) for r in conn.execute(q).mappings().all()]

    def blob_in_use(self, sha256: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(UPLOADS.c.id).where(
                UPLOADS.c.sha256 == sha256, UPLOADS.c.withdrawn_at.is_(None)).limit(1)
            ).first() is not None

    def set_upload_crosswalk(self, upload_id: int, key: str | None, report: str) -> None:
        with self._tx("pick a crosswalk") as conn:
            conn.execute(UPLOADS.update().where(UPLOADS.c.id == upload_id)
                         .values(crosswalk_key=key, crosswalk_report=report))

    def withdraw_upload(self, upload_id: int, by: int) -> list[int]:
        """Withdraw an upload and every job that used it, deleting the runs those jobs
        saved in the store (one transaction); return the withdrawn job ids. Its crosswalk
        submissions that are not released go too. A job still running re-checks before it
        saves or publishes anything (:meth:`bind_run`, :meth:`withdrawn_reason`)."""
        at = now()
        with self._tx("withdraw an upload") as conn:
            conn.execute(UPLOADS.update().where(UPLOADS.c.id == upload_id,
                                                UPLOADS.c.withdrawn_at.is_(None))
                         .values(withdrawn_at=at, withdrawn_by=by, active_key=None))
            jobs = conn.execute(sa.select(JOBS).where(JOBS.c.withdrawn_at.is_(None))
                                ).mappings().all()
            hit = [j["id"] for j in jobs if upload_id in _row(Job, j).upload_ids]
            if hit:
                conn.execute(JOBS.update().where(JOBS.c.id.in_(hit)).values(withdrawn_at=at))
                # read after the update: a run saved by a job at the same moment has
                # committed its run id by now (the update waited for its row lock)
                saved = conn.execute(sa.select(JOBS.c.run_id).where(
                    JOBS.c.id.in_(hit), JOBS.c.run_id.is_not(None))).scalars().all()
                delete_runs(conn, saved)
            conn.execute(CROSSWALKS.update().where(CROSSWALKS.c.upload_id == upload_id,
                                                   CROSSWALKS.c.status == "draft")
                         .values(status="withdrawn"))
        return [int(h) for h in hit]

    # ------------------------------------------------------------- crosswalks
    def submit_crosswalk(self, *, partnership_id: int, upload_id: int | None, crosswalk: str,
                         version: int, sha256: str, text: str, report: str, valid: bool,
                         by: int) -> Submission:
        with self._tx("store a crosswalk") as conn:
            sid = conn.execute(CROSSWALKS.insert().values(
                partnership_id=partnership_id, upload_id=upload_id, crosswalk=crosswalk,
                version=version, sha256=sha256, text=text, status="draft", report=report,
                valid=valid, submitted_by=by, submitted_at=now())).inserted_primary_key
        assert sid is not None
        return self.submission(int(sid[0]))

    def submission(self, sid: int) -> Submission:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(CROSSWALKS).where(CROSSWALKS.c.id == sid)
                               ).mappings().first()
        if row is None:
            raise StoreError(f"no crosswalk submission {sid}")
        return _row(Submission, row)

    def submissions(self, partnership_id: int | None = None,
                    status: str | None = None) -> list[Submission]:
        q = sa.select(CROSSWALKS).order_by(CROSSWALKS.c.id)
        if partnership_id is not None:
            q = q.where(CROSSWALKS.c.partnership_id == partnership_id)
        if status is not None:
            q = q.where(CROSSWALKS.c.status == status)
        with self.engine.connect() as conn:
            return [_row(Submission, r) for r in conn.execute(q).mappings().all()]

    def ownership_problem(self, partnership_id: int, text: str) -> str | None:
        """Why a crosswalk text may not be submitted or released for a partnership (its
        ``csp`` names another partnership, or its ``crosswalk`` id is not in the
        partnership's own name space), or None."""
        return ownership_problem(self.partnership(partnership_id),
                                 [p.slug for p in self.partnerships()], text)

    def release_submission(self, sid: int, actor: User, *, text: str, sha256: str) -> None:
        """Mark a draft released with its released text (admins; never its author; only a
        crosswalk whose csp and id are the submitting partnership's)."""
        sub = self.submission(sid)
        if actor.role != "admin":
            raise StoreError("only an admin can release a crosswalk")
        if sub.submitted_by == actor.id:
            raise StoreError("you submitted this crosswalk, so you cannot release it; "
                             "another admin must review and release it")
        if sub.status != "draft":
            raise StoreError(f"{sub.ref} is {sub.status}, not a draft; nothing to release")
        for checked in (sub.text, text):
            problem = self.ownership_problem(sub.partnership_id, checked)
            if problem is not None:
                raise StoreError(f"{sub.ref} cannot be released: {problem}")
        try:
            with self._tx("release a crosswalk") as conn:
                done = conn.execute(CROSSWALKS.update().where(
                    CROSSWALKS.c.id == sid, CROSSWALKS.c.status == "draft").values(
                    status="released", text=text, sha256=sha256, released_by=actor.id,
                    released_at=now(), released_key=sub.ref)).rowcount
        except sa.exc.IntegrityError:
            raise StoreError(f"{sub.ref} is already released; submit the draft with a new "
                             "version number") from None
        if done != 1:
            raise StoreError(f"{sub.ref} was changed by someone else; reload the page")

    # ------------------------------------------------------------------- jobs
    def enqueue(self, *, kind: str, partnership_id: int | None, by: int,
                inputs: Sequence[dict[str, Any]]) -> Job:
        with self._tx("queue a run") as conn:
            jid = conn.execute(JOBS.insert().values(
                kind=kind, partnership_id=partnership_id, requested_by=by, state="queued",
                progress="waiting for the worker", steps=0, inputs=json.dumps(list(inputs)),
                created_at=now())).inserted_primary_key
        assert jid is not None
        return self.job(int(jid[0]))

    def job(self, jid: int) -> Job:
        found = self.find_job(jid)
        if found is None:
            raise StoreError(f"no job {jid}")
        return found

    def find_job(self, jid: int) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(JOBS).where(JOBS.c.id == jid)).mappings().first()
        return None if row is None else _row(Job, row)

    def jobs(self, partnership_id: int | None = None) -> list[Job]:
        q = sa.select(JOBS).order_by(JOBS.c.id.desc())
        if partnership_id is not None:
            q = q.where(JOBS.c.partnership_id == partnership_id)
        with self.engine.connect() as conn:
            return [_row(Job, r) for r in conn.execute(q).mappings().all()]

    def claim(self, worker: str) -> Job | None:
        """Take the oldest queued job for ``worker`` (at most one worker wins it)."""
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(JOBS.c.id).where(JOBS.c.state == "queued")
                               .order_by(JOBS.c.id).limit(5)).scalars().all()
        for jid in ids:
            at = now()
            with self._tx("claim a job") as conn:
                won = conn.execute(JOBS.update().where(JOBS.c.id == jid,
                                                       JOBS.c.state == "queued").values(
                    state="running", worker=worker, started_at=at, heartbeat_at=at,
                    progress="starting")).rowcount
            if won == 1:
                return self.job(jid)
        return None

    def progress(self, jid: int, message: str) -> None:
        with self._tx("record progress") as conn:
            conn.execute(JOBS.update().where(JOBS.c.id == jid, JOBS.c.state == "running")
                         .values(progress=message[:500], steps=JOBS.c.steps + 1,
                                 heartbeat_at=now()))

    def heartbeat(self, jid: int) -> None:
        with self._tx("record a heartbeat") as conn:
            conn.execute(JOBS.update().where(JOBS.c.id == jid, JOBS.c.state == "running")
                         .values(heartbeat_at=now()))

    def finish(self, jid: int, *, run_id: int | None = None, error: str | None = None) -> None:
        """Done (with its run) or failed (with the message; any run it saved in the store
        is deleted in the same transaction)."""
        values: dict[str, Any] = {"finished_at": now()}
        if error is None:
            values.update(state="done", run_id=run_id, progress="finished")
        else:
            values.update(state="failed", message=error[:4000], progress="failed",
                          run_id=None)
        with self._tx("finish a job") as conn:
            if error is not None:
                _drop_saved_runs(conn, [jid])
            conn.execute(JOBS.update().where(JOBS.c.id == jid, JOBS.c.state == "running")
                         .values(**values))

    def bind_run(self, conn: sa.Connection, jid: int, run_id: int) -> None:
        """Inside the store's save transaction: record ``run_id`` on the running job, or
        refuse (StoreError, so nothing is saved) when the job or one of its uploads was
        withdrawn, or the job is no longer running."""
        job = self.job(jid)
        gone = conn.execute(sa.select(UPLOADS.c.id).where(
            UPLOADS.c.id.in_(job.upload_ids), UPLOADS.c.withdrawn_at.is_not(None))
        ).scalars().all()
        done = conn.execute(JOBS.update().where(
            JOBS.c.id == jid, JOBS.c.state == "running", JOBS.c.withdrawn_at.is_(None))
            .values(run_id=run_id)).rowcount
        if gone or done != 1:
            raise StoreError(_withdrawn_message(gone))

    def withdrawn_reason(self, jid: int) -> str | None:
        """Why a running job must keep nothing (it or one of its uploads was withdrawn, or
        it is no longer running), or None."""
        job = self.job(jid)
        with self.engine.connect() as conn:
            gone = conn.execute(sa.select(UPLOADS.c.id).where(
                UPLOADS.c.id.in_(job.upload_ids), UPLOADS.c.withdrawn_at.is_not(None))
            ).scalars().all()
        if gone or job.withdrawn_at is not None or job.state != "running":
            return _withdrawn_message(gone)
        return None

    def recover(self, *, stale_after: dt.timedelta, worker: str | None = None) -> list[int]:
        """Jobs left running by a worker that died (no heartbeat for ``stale_after``, or
        any left by ``worker`` itself from before a restart) become failed."""
        cutoff = (dt.datetime.now(dt.UTC) - stale_after).isoformat(timespec="microseconds")
        cond = JOBS.c.heartbeat_at < cutoff
        if worker is not None:
            cond = sa.or_(cond, JOBS.c.worker == worker)
        with self._tx("recover jobs") as conn:
            ids = conn.execute(sa.select(JOBS.c.id).where(JOBS.c.state == "running", cond)
                               ).scalars().all()
            if ids:
                _drop_saved_runs(conn, ids)
                conn.execute(JOBS.update().where(JOBS.c.id.in_(ids)).values(
                    state="failed", finished_at=now(), progress="failed", run_id=None,
                    message="the worker stopped while this run was in progress (the server "
                            "was restarted or crashed); nothing from it was kept. Start the "
                            "run again."))
        return [int(i) for i in ids]

    # --------------------------------------------------------------- activity
    def log(self, actor: User | None, action: str, target: str, detail: str = "", *,
            partnership_id: int | None = None) -> None:
        with self._tx("write the activity log") as conn:
            conn.execute(ACTIVITY.insert().values(
                at=now(), actor_id=None if actor is None else actor.id,
                actor="(anonymous)" if actor is None else actor.username,
                action=action, target=target[:80], partnership_id=partnership_id,
                detail=detail[:500]))

    def activity(self, limit: int = 500) -> list[Activity]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(ACTIVITY).order_by(ACTIVITY.c.id.desc())
                                .limit(limit)).mappings().all()
        return [_row(Activity, r) for r in rows]

    def setting(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(SETTINGS.c.value).where(SETTINGS.c.key == key)
                                ).scalar()

    def set_setting(self, key: str, value: str) -> None:
        with self._tx("save a setting") as conn:
            done = conn.execute(SETTINGS.update().where(SETTINGS.c.key == key)
                                .values(value=value)).rowcount
            if done == 0:
                conn.execute(SETTINGS.insert().values(key=key, value=value))

    def apply_retention(self, actor: User) -> int:
        """Delete activity older than the admin's rule (``retention_days``; none: keep
        everything). Returns how many entries went; the purge itself is logged."""
        if actor.role != "admin":
            raise StoreError("only an admin can apply the retention rule")
        days = self.setting("retention_days")
        if not days:
            return 0
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=int(days))).isoformat(
            timespec="microseconds")
        with self._tx("apply the retention rule") as conn:
            gone = conn.execute(ACTIVITY.delete().where(ACTIVITY.c.at < cutoff)).rowcount
        self.log(actor, "retention", "activity", f"removed {gone} entries older than "
                 f"{days} days")
        return int(gone)


def ownership_problem(partnership: Partnership, slugs: Sequence[str], text: str) -> str | None:
    """Why ``text`` (a crosswalk's YAML) does not belong to ``partnership``, or None.

    Its ``csp`` must be the partnership's slug and its ``crosswalk`` id the slug or start
    with ``slug-`` (and not with another partnership's longer slug), so an officer cannot
    have their data published under another partnership's name or crosswalk id.
    """
    from harmonise._util.yamlio import parse_yaml

    slug = partnership.slug
    try:
        raw = parse_yaml(text, "crosswalk", error=StoreError)
    except StoreError:
        return "it is not readable YAML; fix it and submit it again"
    if not isinstance(raw, dict):
        return "it is not a crosswalk (a YAML mapping); submit the crosswalk file"
    csp, cw_id = raw.get("csp"), raw.get("crosswalk")
    if csp != slug:
        return (f"its csp is {str(csp)[:40]!r} but it was submitted for {partnership.name} "
                f"({slug}); set 'csp: {slug}' (a partnership submits only its own "
                "crosswalks)")
    theirs = [s for s in slugs if s != slug and len(s) > len(slug)
              and isinstance(cw_id, str) and (cw_id == s or cw_id.startswith(f"{s}-"))]
    if not isinstance(cw_id, str) or not (cw_id == slug or cw_id.startswith(f"{slug}-")) \
            or theirs:
        return (f"its crosswalk id {str(cw_id)[:60]!r} is not one of {partnership.name}'s; "
                f"name it '{slug}-<survey>' (for example {slug}-residents-2025)")
    return None


def _drop_saved_runs(conn: sa.Connection, job_ids: Sequence[int]) -> None:
    """Delete the store runs the given jobs saved (a failed job keeps nothing)."""
    saved = conn.execute(sa.select(JOBS.c.run_id).where(
        JOBS.c.id.in_(list(job_ids)), JOBS.c.run_id.is_not(None))).scalars().all()
    delete_runs(conn, saved)


def _withdrawn_message(uploads: Sequence[int]) -> str:
    which = f"upload {', '.join(str(u) for u in uploads)}" if uploads else "an upload it used"
    return (f"{which} was withdrawn (or the run was stopped) while this run was in "
            "progress, so nothing from it was kept; start a new run if still needed")


def _check_role(role: str, partnership_id: int | None) -> None:
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if role == "officer" and partnership_id is None:
        raise StoreError("an officer belongs to a partnership: name it (--partnership)")
    if role != "officer" and partnership_id is not None:
        raise StoreError(f"an {role} sees every partnership; do not give one")


__all__ = ["JOB_STATES", "ROLES", "Activity", "Job", "Partnership", "Submission", "Upload",
           "User", "Workspace", "now", "ownership_problem"]
