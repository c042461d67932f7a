"""The Starlette application: routes, middleware, error pages, and the worker's lifetime.

``create_app(config)`` opens the workspace (migrating it), the blob folder and the run
folder under ``config.data_dir``, and returns the ASGI app. Every route is listed in
``ROUTES`` with the handler whose ``page(roles=…)`` gate decides who may use it.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harmonise.errors import HarmoniseError
from harmonise.store.workspace import Workspace
from harmonise.web import views_admin as va
from harmonise.web import views_data as vd
from harmonise.web import views_runs as vr
from harmonise.web.auth import RateLimiter
from harmonise.web.context import Refused, WebConfig, WebState, current_user, render
from harmonise.web.files import BlobStore
from harmonise.web.runner import Catalogue, Worker

log = logging.getLogger("harmonise.web")

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

ROUTES: list[BaseRoute] = [
    Route("/signin", va.signin_form, methods=["GET"]),
    Route("/signin", va.signin, methods=["POST"]),
    Route("/signout", va.signout, methods=["POST"]),
    Route("/setup", va.setup_form, methods=["GET"]),
    Route("/setup", va.setup, methods=["POST"]),
    Route("/", va.home, methods=["GET"]),
    Route("/uploads", vd.uploads, methods=["GET"]),
    Route("/uploads", vd.upload_create, methods=["POST"]),
    Route("/uploads/{id:int}", vd.upload_detail, methods=["GET"]),
    Route("/uploads/{id:int}/original", vd.upload_original, methods=["GET"]),
    Route("/uploads/{id:int}/codebook.json", vd.upload_codebook, methods=["GET"]),
    Route("/uploads/{id:int}/draft.yaml", vd.upload_draft, methods=["GET"]),
    Route("/uploads/{id:int}/crosswalk", vd.upload_pick, methods=["POST"]),
    Route("/uploads/{id:int}/submit", vd.upload_submit, methods=["POST"]),
    Route("/uploads/{id:int}/withdraw", vd.upload_withdraw, methods=["POST"]),
    Route("/crosswalks", vd.crosswalks, methods=["GET"]),
    Route("/crosswalks/{id:int}", vd.crosswalk_detail, methods=["GET"]),
    Route("/crosswalks/{id:int}/file.yaml", vd.crosswalk_download, methods=["GET"]),
    Route("/crosswalks/{id:int}/release", vd.crosswalk_release, methods=["POST"]),
    Route("/runs", vr.runs, methods=["GET"]),
    Route("/runs", vr.run_start, methods=["POST"]),
    Route("/runs/export.zip", vr.runs_export, methods=["GET"]),
    Route("/runs/{id:int}", vr.run_detail, methods=["GET"]),
    Route("/runs/{id:int}/files/{name}", vr.run_file, methods=["GET"]),
    Route("/runs/{id:int}/export.zip", vr.run_export, methods=["GET"]),
    Route("/questionnaire", vr.questionnaire, methods=["GET"]),
    Route("/questionnaire/{name}", vr.questionnaire_file, methods=["GET"]),
    Route("/admin/users", va.users, methods=["GET"]),
    Route("/admin/users", va.user_add, methods=["POST"]),
    Route("/admin/users/{id:int}", va.user_change, methods=["POST"]),
    Route("/admin/users/{id:int}/unlock", va.user_unlock, methods=["POST"]),
    Route("/admin/users/{id:int}/password", va.user_password, methods=["POST"]),
    Route("/admin/partnerships", va.partnership_add, methods=["POST"]),
    Route("/admin/activity", va.activity, methods=["GET"]),
    Route("/admin/retention", va.retention, methods=["POST"]),
]


class SecurityHeaders:
    """Adds CSP and the usual hardening headers to every response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [*HEADERS, (b"content-security-policy", CSP.encode())]
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyCap:
    """The request-body size cap, refused with a page that says what to do.

    Starlette 1.10's own ``max_body_size`` answers a plain-text "Content Too Large" (and
    replaces any page the app renders), so the cap is here: a declared Content-Length over
    the cap is refused before a byte is read; a body without one is counted as it arrives
    and stopped with HTTP 413 (rendered by the app's error page) once over the cap.
    """

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max:
            mib = self.max // (1024 * 1024)
            body = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Too large"
                    f"</title></head><body><main><h1>Too large</h1><div id=\"refusal\">The request "
                    f"is over the size limit of {mib} MiB, so it was not read and nothing was "
                    "stored. Export only the survey responses, or ask an admin to raise the "
                    "limit (harmonise serve --max-upload-mb).</div><p><a href=\"/\">Back to "
                    "the start page</a></p></main></body></html>").encode()
            await Response(body, status_code=413, media_type="text/html; charset=utf-8",
                           headers={"connection": "close"})(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max:
                    raise HTTPException(413)
            return message

        await self.app(scope, counted, send)


def secret_key(data_dir: Path) -> str:
    """The session-signing key: random, made on first start, readable by the owner only."""
    path = data_dir / "session.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError), \
                open(path, "x", encoding="ascii") as fh:  # noqa: PTH123 - exclusive create
            path.chmod(0o600)
            fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.PackageLoader("harmonise.web", "templates"),
                             autoescape=True)
    return Jinja2Templates(env=env)


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


async def refused(request: Request, exc: Exception) -> Response:
    from starlette.concurrency import run_in_threadpool

    state = _state(request)
    if isinstance(exc, Refused):
        status, title, message = exc.status, exc.title, exc.message
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        title, message = {
            404: ("Not found", "There is no such page. Go back to the start page."),
            405: ("Not allowed", "That page cannot be used this way. Go back and use its "
                  "form."),
            413: ("Too large", f"The request is over the size limit of "
                  f"{state.config.max_upload_bytes // (1024 * 1024)} MiB, so nothing was "
                  "stored. Export only the survey responses, or ask an admin to raise the "
                  "limit (harmonise serve --max-upload-mb)."),
        }.get(status, ("Refused", str(exc.detail)))
    elif isinstance(exc, HarmoniseError):
        status, title, message = 400, "Cannot do that", str(exc)
    else:  # pragma: no cover - handled by the 500 handler below
        raise exc
    try:
        user = await run_in_threadpool(current_user, request, state)
    except Exception:  # the session itself may be what failed
        user = None
    if "session" not in request.scope:
        request.scope["session"] = {}
    return render(request, state, "error.html", user, status=status, title=title,
                  message=message)


async def crashed(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return Response("Something went wrong on the server; nothing was changed. Try again, "
                    "or tell an admin (the server log has the details).", status_code=500,
                    media_type="text/plain; charset=utf-8")


def build_state(config: WebConfig) -> WebState:
    data = config.data_dir
    ws = Workspace(config.database)
    ws.migrate()
    runs_dir = data / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    return WebState(config=config, ws=ws, blobs=BlobStore(data),
                    catalogue=Catalogue(config.project_root, ws), templates=templates(),
                    limiter=RateLimiter(config.sign_in_attempts, config.sign_in_window),
                    client_limiter=RateLimiter(config.sign_in_attempts * 4,
                                               config.sign_in_window),
                    runs_dir=runs_dir)


def create_app(config: WebConfig, *, state: WebState | None = None) -> Starlette:
    state = state or build_state(config)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if config.worker and state.worker is None:
            state.worker = Worker(state.ws, state.blobs, state.catalogue, state.runs_dir,
                                  charts=config.charts)
            state.worker.start()
        try:
            yield
        finally:
            if state.worker is not None:
                state.worker.stop()
                state.worker.join(timeout=30)
                state.worker = None

    handlers: dict[Any, Any] = {Refused: refused, HTTPException: refused,
                                HarmoniseError: refused, Exception: crashed}
    app = Starlette(
        routes=[*ROUTES, Mount("/static", StaticFiles(packages=[("harmonise.web", "static")]),
                               name="static")],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyCap, max_body_size=config.max_upload_bytes + 64 * 1024),
            Middleware(SessionMiddleware, secret_key=secret_key(config.data_dir),
                       session_cookie="harmonise_session", max_age=config.session_hours * 3600,
                       same_site="strict", https_only=config.secure_cookies),
        ],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.state.web = state
    return app


__all__ = ["CSP", "ROUTES", "create_app", "secret_key"]
