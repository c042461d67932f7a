"""What every page handler gets, and the one gate every route goes through.

``page(roles=…)`` wraps a plain (synchronous) handler ``fn(ctx) -> Response``: it finds the
signed-in user from the session cookie (a live session row, an active user), sends the
anonymous to sign in, refuses a role not listed (HTTP 403, a page saying so), parses the
form of a POST within fixed limits and checks its CSRF token, then runs the handler in a
worker thread (database and file work never block the event loop). Per-object rules
(an officer's own partnership) are checked by the handlers through :mod:`.access`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from harmonise.errors import HarmoniseError
from harmonise.store.workspace import User, Workspace
from harmonise.web.auth import RateLimiter, new_token, same_token, token_hash
from harmonise.web.files import BlobStore
from harmonise.web.runner import Catalogue, Worker

ANYONE = ("officer", "analyst", "admin")


@dataclass(frozen=True)
class WebConfig:
    """How ``harmonise serve`` runs (see ``harmonise serve --help``)."""

    data_dir: Path
    database: str
    project_root: Path
    max_upload_bytes: int = 200 * 1024 * 1024
    secure_cookies: bool = True
    worker: bool = True
    charts: bool = True
    session_hours: int = 12
    sign_in_attempts: int = 5
    sign_in_window: float = 300.0


@dataclass
class WebState:
    config: WebConfig
    ws: Workspace
    blobs: BlobStore
    catalogue: Catalogue
    templates: Jinja2Templates
    limiter: RateLimiter  # failed sign-ins per user name
    client_limiter: RateLimiter  # per client address (several users behind one address)
    runs_dir: Path
    worker: Worker | None = None
    setup_token: list[str] = field(default_factory=list)


class Refused(HarmoniseError):
    """A request refused with a page: HTTP ``status``, what went wrong and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def forbidden(what: str = "this page") -> Refused:
    return Refused(403, "Not allowed", f"Your role does not give access to {what}. If you "
                   "need it, ask an admin.")


def not_found(what: str = "page") -> Refused:
    return Refused(404, "Not found", f"There is no such {what}, or it is not yours to see.")


@dataclass
class Ctx:
    request: Request
    state: WebState
    user: User | None
    form: FormData | None

    @property
    def ws(self) -> Workspace:
        return self.state.ws

    @property
    def me(self) -> User:
        assert self.user is not None
        return self.user

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default

    def flash(self, message: str) -> None:
        self.request.session.setdefault("flash", []).append(message[:500])

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        return render(self.request, self.state, template, self.user, status=status, **values)

    def redirect(self, url: str) -> Response:
        return RedirectResponse(url, status_code=303)

    def log(self, action: str, target: str, detail: str = "", *,
            partnership_id: int | None = None) -> None:
        self.ws.log(self.user, action, target, detail, partnership_id=partnership_id)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = new_token()
        request.session["csrf"] = token
    return token


def render(request: Request, state: WebState, template: str, user: User | None, *,
           status: int = 200, **values: Any) -> Response:
    flashes = request.session.pop("flash", []) if "session" in request.scope else []
    context: dict[str, Any] = {
        "request": request, "user": user, "csrf": csrf_token(request), "flashes": flashes,
        "max_upload_mb": state.config.max_upload_bytes // (1024 * 1024), **values,
    }
    return state.templates.TemplateResponse(request, template, context, status_code=status)


def current_user(request: Request, state: WebState) -> User | None:
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    return state.ws.session_user(token_hash(token))


def start_session(request: Request, state: WebState, user: User) -> None:
    """A fresh session (new token, new CSRF token) for a signed-in user."""
    request.session.clear()
    token = new_token()
    state.ws.add_session(token_hash(token), user.id,
                         dt.timedelta(hours=state.config.session_hours))
    request.session["sid"] = token
    request.session["csrf"] = new_token()


Handler = Callable[[Ctx], Response]
FORM_LIMITS: Mapping[str, int] = {"max_files": 1, "max_fields": 40,
                                  "max_part_size": 1024 * 1024}


def page(roles: tuple[str, ...] | None = ANYONE) -> Callable[[Handler],
                                                               Callable[[Request],
                                                                        Awaitable[Response]]]:
    """Gate a handler: ``roles`` None means open to everyone (sign-in, static)."""

    def wrap(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            state: WebState = request.app.state.web
            user = await run_in_threadpool(current_user, request, state)
            if roles is not None:
                if user is None:
                    if request.method == "GET":
                        return RedirectResponse("/signin", status_code=303)
                    raise Refused(401, "Signed out", "Your session has ended. Sign in again "
                                  "and repeat what you were doing.")
                if user.role not in roles:
                    raise forbidden()
            form = None
            if request.method == "POST":
                form = await request.form(**FORM_LIMITS)
                if not same_token(request.session.get("csrf"), form.get("csrf")):
                    await form.close()
                    raise Refused(403, "Form expired", "This form's security token does not "
                                  "match your session (the page was old, or the form came "
                                  "from another site). Reload the page and try again.")
            ctx = Ctx(request, state, user, form)
            try:
                return await run_in_threadpool(fn, ctx)
            finally:
                if form is not None:
                    await form.close()

        endpoint.__name__ = fn.__name__
        endpoint.__doc__ = fn.__doc__
        endpoint.roles = roles  # type: ignore[attr-defined]
        return endpoint

    return wrap


__all__ = ["ANYONE", "Ctx", "Refused", "WebConfig", "WebState", "csrf_token", "current_user",
           "forbidden", "not_found", "page", "render", "start_session"]
