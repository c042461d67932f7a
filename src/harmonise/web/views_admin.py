"""Sign-in, sign-out, first-admin setup, the home page, and the admin pages (users,
partnerships, activity log, retention)."""

from __future__ import annotations

import re

from starlette.responses import Response

from harmonise.errors import StoreError
from harmonise.store.workspace import ROLES, User
from harmonise.web.auth import check_password, dummy_check, hash_password, password_problem
from harmonise.web.context import Ctx, Refused, page, start_session
from harmonise.web.views_data import _id

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@page(None)
def signin_form(ctx: Ctx) -> Response:
    if ctx.user is not None:
        return ctx.redirect("/")
    return ctx.render("signin.html")


def _client(ctx: Ctx) -> str:
    return ctx.request.client.host if ctx.request.client else "unknown"


@page(None)
def signin(ctx: Ctx) -> Response:
    username = ctx.field("username").strip()[:64]
    password = ctx.field("password")[:1024]
    limiter, per_client = ctx.state.limiter, ctx.state.client_limiter
    key, client = f"user:{username.lower()}", f"client:{_client(ctx)}"
    name_wait = limiter.blocked(key)
    if name_wait > 0:  # this account: refused even with the right password until it passes
        raise _too_many(name_wait)
    # the per-address limit (many names tried from one address) does not lock out a right
    # password for an existing account — colleagues behind one proxy share an address —
    # so the password is checked first and only a failure is refused by it
    client_wait = per_client.blocked(client)
    user = ctx.ws.user_by_name(username) if username else None
    if user is None:
        dummy_check(password)
        ok, rehash = False, None
    else:
        ok, rehash = check_password(user.password_hash, password)
    if not ok or user is None or not user.active:
        limiter.fail(key)
        per_client.fail(client)
        # the account tried (never the password); a name that is no account is not
        # written (it may be a password typed into the wrong field)
        if user is None:
            ctx.ws.log(None, "sign-in-failed", "session", "(unknown name)")
        else:
            why = "wrong password" if user.active else "account disabled"
            ctx.ws.log(None, "sign-in-failed", f"user {user.id}",
                       f"account {user.username}: {why}")
        if client_wait > 0:
            raise _too_many(client_wait)
        return ctx.render("signin.html", status=400,
                          error="Wrong user name or password (or the account is disabled).")
    if rehash:
        ctx.ws.set_password(user.id, rehash)
    limiter.clear(key)
    start_session(ctx.request, ctx.state, user)
    ctx.ws.log(user, "sign-in", "session")
    return ctx.redirect("/")


def _too_many(wait: float) -> Refused:
    return Refused(429, "Too many attempts", f"Too many failed sign-ins. Wait "
                   f"{int(wait // 60) + 1} minute(s) and try again, or ask an admin to "
                   "unlock your account or reset your password.")


@page(None)
def signout(ctx: Ctx) -> Response:
    from harmonise.web.auth import token_hash

    token = ctx.request.session.get("sid")
    if isinstance(token, str):
        ctx.ws.end_session(token_hash(token))
    if ctx.user is not None:
        ctx.log("sign-out", "session")
    ctx.request.session.clear()
    return ctx.redirect("/signin")


@page(None)
def setup_form(ctx: Ctx) -> Response:
    if not ctx.state.setup_token or ctx.ws.any_admin():
        raise Refused(404, "Not found", "Setup is finished: an admin exists. Sign in.")
    return ctx.render("setup.html", token=ctx.request.query_params.get("token", "")[:100])


@page(None)
def setup(ctx: Ctx) -> Response:
    """The one-time token printed at first start creates the first admin."""
    from harmonise.web.auth import same_token

    tokens = ctx.state.setup_token
    if not tokens or ctx.ws.any_admin():
        raise Refused(404, "Not found", "Setup is finished: an admin exists. Sign in.")
    if ctx.state.client_limiter.blocked(f"client:{_client(ctx)}") > 0:
        raise Refused(429, "Too many attempts", "Too many wrong setup tokens from this "
                      "address; wait a few minutes.")
    if not same_token(tokens[0], ctx.field("token")):
        ctx.state.client_limiter.fail(f"client:{_client(ctx)}")
        raise Refused(403, "Wrong setup token", "Copy the setup token exactly as the "
                      "server printed it at start.")
    user = _new_user(ctx, role="admin", partnership_id=None)
    tokens.clear()
    ctx.ws.log(user, "add-user", f"user {user.id}", "first admin, by setup token")
    start_session(ctx.request, ctx.state, user)
    return ctx.redirect("/")


def _new_user(ctx: Ctx, *, role: str, partnership_id: int | None) -> User:
    username = ctx.field("username").strip()
    password = ctx.field("password")
    if not USERNAME.match(username):
        raise Refused(400, "Bad user name", "A user name is 2-64 letters, digits, dots, "
                      "dashes or underscores.")
    problem = password_problem(password)
    if problem:
        raise Refused(400, "Password refused", problem + ".")
    try:
        return ctx.ws.add_user(username, hash_password(password), role, partnership_id)
    except StoreError as exc:
        raise Refused(400, "Cannot add the user", str(exc)) from None


@page()
def home(ctx: Ctx) -> Response:
    me = ctx.me
    partnership = (ctx.ws.partnership(me.partnership_id)
                   if me.partnership_id is not None else None)
    return ctx.render("home.html", partnership=partnership)


@page(("admin",))
def users(ctx: Ctx) -> Response:
    return ctx.render("users.html", users=ctx.ws.users(), roles=ROLES,
                      partnerships=ctx.ws.partnerships())


def _partnership_field(ctx: Ctx, role: str) -> int | None:
    raw = ctx.field("partnership")
    if role != "officer":
        return None
    if not raw.isdigit():
        raise Refused(400, "Partnership needed", "An officer belongs to one partnership: "
                      "choose it.")
    return int(raw)


@page(("admin",))
def user_add(ctx: Ctx) -> Response:
    role = ctx.field("role")
    if role not in ROLES:
        raise Refused(400, "Unknown role", f"Choose one of {', '.join(ROLES)}.")
    user = _new_user(ctx, role=role, partnership_id=_partnership_field(ctx, role))
    ctx.log("add-user", f"user {user.id}", f"role {role}")
    ctx.flash("User added.")
    return ctx.redirect("/admin/users")


@page(("admin",))
def user_change(ctx: Ctx) -> Response:
    """Change another user's role/partnership or disable them (never one's own row)."""
    uid = _id(ctx.request)
    role = ctx.field("role")
    if role not in ROLES:
        raise Refused(400, "Unknown role", f"Choose one of {', '.join(ROLES)}.")
    active = ctx.field("active") == "yes"
    try:
        before = ctx.ws.user(uid)
    except StoreError:
        raise Refused(404, "Not found", "There is no such user.") from None
    try:
        after = ctx.ws.change_user(ctx.me, uid, role=role,
                                   partnership_id=_partnership_field(ctx, role), active=active)
    except StoreError as exc:
        raise Refused(403, "Not allowed", str(exc)) from None
    ctx.log("permission", f"user {uid}",
            f"role {before.role} -> {after.role}; partnership {before.partnership_id} -> "
            f"{after.partnership_id}; active {before.active} -> {after.active}")
    ctx.flash(f"User {after.username} changed.")
    return ctx.redirect("/admin/users")


def _other_user(ctx: Ctx) -> User:
    uid = _id(ctx.request)
    if uid == ctx.me.id:
        raise Refused(403, "Not your own", "You cannot unlock or reset your own account "
                      "here; ask another admin, or use 'harmonise users password NAME' on "
                      "the server.")
    try:
        return ctx.ws.user(uid)
    except StoreError:
        raise Refused(404, "Not found", "There is no such user.") from None


@page(("admin",))
def user_unlock(ctx: Ctx) -> Response:
    """Lift the failed sign-in lock of another user's name (this server process)."""
    target = _other_user(ctx)
    ctx.state.limiter.clear(f"user:{target.username.lower()}")
    ctx.log("unlock", f"user {target.id}", "failed sign-in lock lifted")
    ctx.flash(f"{target.username} can sign in again.")
    return ctx.redirect("/admin/users")


@page(("admin",))
def user_password(ctx: Ctx) -> Response:
    """Set a new password for another user: ends their sessions and lifts the lock."""
    target = _other_user(ctx)
    password = ctx.field("password")
    problem = password_problem(password)
    if problem:
        raise Refused(400, "Password refused", problem + ". Nothing was changed.")
    ctx.ws.set_password(target.id, hash_password(password))
    ctx.state.limiter.clear(f"user:{target.username.lower()}")
    ctx.log("password-reset", f"user {target.id}", "new password set by an admin; sessions "
            "ended")
    ctx.flash(f"New password set for {target.username}; give it to them privately.")
    return ctx.redirect("/admin/users")


@page(("admin",))
def partnership_add(ctx: Ctx) -> Response:
    slug = ctx.field("slug").strip()
    name = ctx.field("name").strip()[:200]
    if not SLUG.match(slug) or not name:
        raise Refused(400, "Bad partnership", "Give a short name (lower-case letters, digits, "
                      "dashes) and a full name.")
    try:
        p = ctx.ws.add_partnership(slug, name)
    except StoreError as exc:
        raise Refused(400, "Cannot add the partnership", str(exc)) from None
    ctx.log("add-partnership", f"partnership {p.id}", slug, partnership_id=p.id)
    ctx.flash(f"Partnership {name} added.")
    return ctx.redirect("/admin/users")


@page(("admin",))
def activity(ctx: Ctx) -> Response:
    return ctx.render("activity.html", entries=ctx.ws.activity(1000),
                      retention=ctx.ws.setting("retention_days") or "")


@page(("admin",))
def retention(ctx: Ctx) -> Response:
    """Set the retention rule (days; blank keeps everything) and apply it now."""
    days = ctx.field("days").strip()
    if days and (not days.isdigit() or not 30 <= int(days) <= 36500):
        raise Refused(400, "Bad retention", "Give a number of days from 30 to 36500, or "
                      "leave it blank to keep the log for ever.")
    ctx.ws.set_setting("retention_days", days)
    ctx.log("retention-rule", "activity", f"keep {days or 'for ever'} days")
    gone = ctx.ws.apply_retention(ctx.me)
    ctx.flash(f"Retention rule saved; {gone} entries removed.")
    return ctx.redirect("/admin/activity")


__all__ = ["activity", "home", "partnership_add", "retention", "setup", "setup_form",
           "signin", "signin_form", "signout", "user_add", "user_change", "user_password",
           "user_unlock", "users"]
