"""harmonise serve (the shared web workspace) and harmonise users (accounts)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from harmonise.cli.root import project_root, root_option

DATABASE_ENV = "HARMONISE_DATABASE_URL"


def _locations(root: Path | None, data: Path | None, database: str | None) -> tuple[Path, Path,
                                                                                    str]:
    base = project_root(root).resolve()
    folder = (data if data is not None else base / "webdata").resolve()
    url = database or os.environ.get(DATABASE_ENV) or f"sqlite:///{folder / 'workspace.sqlite'}"
    return base, folder, url


@click.command()
@root_option("Project root whose crosswalks/, schema and targets the workspace uses")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for uploads, run outputs and the default database "
                   "[default: ROOT/webdata].")
@click.option("--database", default=None, metavar="URL",
              help=f"Database URL, e.g. postgresql+psycopg://user@host/db "
                   f"[default: ${DATABASE_ENV}, else SQLite in the data folder].")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS proxy in front for anything but "
                   "loopback).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--max-upload-mb", type=click.IntRange(1, 4096), default=200, show_default=True,
              help="Largest upload accepted (the request body cap).")
@click.option("--insecure-cookies", is_flag=True,
              help="Send the session cookie over plain HTTP too (testing on another host "
                   "without TLS only).")
@click.option("--no-worker", is_flag=True,
              help="Do not run queued jobs in this process (another server runs them).")
@click.option("--no-charts", is_flag=True, help="Reports without charts (faster runs).")
def serve(root: Path | None, data: Path | None, database: str | None, host: str, port: int,
          max_upload_mb: int, insecure_cookies: bool, no_worker: bool, no_charts: bool) -> None:
    """Start the shared web workspace: officers upload exports, analysts compare, admins
    manage users, crosswalk releases and the activity log.

    On first use it creates the data folder and the database (schema migrations run at
    every start). With no admin yet, it prints a one-time setup token: open /setup and
    enter it to create the first admin (or use 'harmonise users add --admin'). Runs are
    done by a worker thread polling the database's job table.

    Example:

    \b
        harmonise users add alice --admin
        harmonise serve
        harmonise serve --database postgresql+psycopg://harmonise@db.example/harmonise
    """
    import uvicorn

    from harmonise.web.app import build_state, create_app
    from harmonise.web.auth import new_token
    from harmonise.web.context import WebConfig

    base, folder, url = _locations(root, data, database)
    config = WebConfig(data_dir=folder, database=url, project_root=base,
                       max_upload_bytes=max_upload_mb * 1024 * 1024,
                       secure_cookies=not insecure_cookies, worker=not no_worker,
                       charts=not no_charts)
    state = build_state(config)
    click.echo(f"harmonise workspace: data in {folder}, database {state.ws.shown}", err=True)
    if not state.ws.any_admin():
        token = new_token()
        state.setup_token.append(token)
        click.echo(f"No admin yet. Create one at http://{host}:{port}/setup with the one-time "
                   f"setup token:\n  {token}\n(or stop and run 'harmonise users add NAME "
                   "--admin').", err=True)
    app = create_app(config, state=state)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@click.group()
def users() -> None:
    """Workspace accounts: add one, set a new password, or list them.

    Example:

    \b
        harmonise users add alice --admin
        harmonise users add bob --role officer --partnership luton --partnership-name "Luton CSP"
        harmonise users password bob
        harmonise users list
    """


@users.command("add")
@click.argument("username")
@click.option("--admin", "make_admin", is_flag=True, help="Same as --role admin.")
@click.option("--role", type=click.Choice(["officer", "analyst", "admin"]), default=None,
              help="What the account may do [default: officer].")
@click.option("--partnership", default=None, metavar="SLUG",
              help="The officer's partnership (its short name).")
@click.option("--partnership-name", default=None,
              help="Create the partnership with this full name if it does not exist.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of prompting.")
@root_option("Project root the default data folder is under")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The workspace's data folder [default: ROOT/webdata].")
@click.option("--database", default=None, metavar="URL",
              help=f"Database URL [default: ${DATABASE_ENV}, else SQLite in the data folder].")
def users_add(username: str, make_admin: bool, role: str | None, partnership: str | None,
              partnership_name: str | None, password_stdin: bool, root: Path | None,
              data: Path | None, database: str | None) -> None:
    """Add an account (there is no default password: you choose one, 12+ characters).

    Example:

    \b
        harmonise users add alice --admin
        printf '%s' "$PASSWORD" | harmonise users add bob --partnership luton --password-stdin
    """
    from harmonise.errors import StoreError
    from harmonise.store.workspace import Workspace
    from harmonise.web.auth import hash_password, password_problem
    from harmonise.web.views_admin import SLUG, USERNAME

    if make_admin and role not in (None, "admin"):
        raise click.UsageError("--admin and --role disagree; give one of them")
    chosen = "admin" if make_admin else (role or "officer")
    if not USERNAME.match(username):
        raise click.BadParameter("2-64 letters, digits, dots, dashes or underscores",
                                 param_hint="USERNAME")
    _base, _folder, url = _locations(root, data, database)
    ws = Workspace(url)
    try:
        ws.migrate()
        pid = None
        if chosen == "officer":
            if partnership is None or not SLUG.match(partnership):
                raise StoreError("an officer belongs to a partnership: pass --partnership "
                                 "SLUG (lower-case letters, digits, dashes)")
            found = ws.partnership_by_slug(partnership)
            if found is None:
                if partnership_name is None:
                    known = ", ".join(p.slug for p in ws.partnerships()) or "none yet"
                    raise StoreError(f"no partnership {partnership!r} (known: {known}); "
                                     "add --partnership-name to create it")
                found = ws.add_partnership(partnership, partnership_name)
                ws.log(None, "add-partnership", f"partnership {found.id}",
                       f"{partnership} (command line)", partnership_id=found.id)
            pid = found.id
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        problem = password_problem(password)
        if problem:
            raise StoreError(problem)
        user = ws.add_user(username, hash_password(password), chosen, pid)
        ws.log(None, "add-user", f"user {user.id}", f"role {chosen} (command line)",
               partnership_id=pid)
    finally:
        ws.close()
    click.echo(f"Added {chosen} {username}" + (f" of {partnership}" if pid else "") + ".")


@users.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from standard input instead of prompting.")
@root_option("Project root the default data folder is under")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The workspace's data folder [default: ROOT/webdata].")
@click.option("--database", default=None, metavar="URL",
              help=f"Database URL [default: ${DATABASE_ENV}, else SQLite in the data folder].")
def users_password(username: str, password_stdin: bool, root: Path | None,
                   data: Path | None, database: str | None) -> None:
    """Set a new password for an account (12+ characters) and end its sessions: for a
    user who forgot theirs, or the last admin locked out. A running server's sign-in lock
    on the name lifts by itself within 5 minutes (or an admin unlocks it on the users page).

    Example:

    \b
        harmonise users password bob
        printf '%s' "$PASSWORD" | harmonise users password bob --password-stdin
    """
    from harmonise.errors import StoreError
    from harmonise.store.workspace import Workspace
    from harmonise.web.auth import hash_password, password_problem

    _base, _folder, url = _locations(root, data, database)
    ws = Workspace(url)
    try:
        ws.migrate()
        user = ws.user_by_name(username)
        if user is None:
            raise StoreError(f"no account {username[:64]!r}; 'harmonise users list' shows "
                             "them")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        problem = password_problem(password)
        if problem:
            raise StoreError(problem)
        ws.set_password(user.id, hash_password(password))
        ws.log(None, "password-reset", f"user {user.id}", "new password set (command line); "
               "sessions ended", partnership_id=user.partnership_id)
    finally:
        ws.close()
    click.echo(f"New password set for {username}; their sessions were ended.")


@users.command("list")
@root_option("Project root the default data folder is under")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The workspace's data folder [default: ROOT/webdata].")
@click.option("--database", default=None, metavar="URL",
              help=f"Database URL [default: ${DATABASE_ENV}, else SQLite in the data folder].")
def users_list(root: Path | None, data: Path | None, database: str | None) -> None:
    """List the accounts: name, role, partnership, active.

    Example:

    \b
        harmonise users list
    """
    from harmonise.store.workspace import Workspace

    _base, _folder, url = _locations(root, data, database)
    ws = Workspace(url)
    try:
        ws.migrate()
        slugs = {p.id: p.slug for p in ws.partnerships()}
        for u in ws.users():
            where = slugs.get(u.partnership_id, "") if u.partnership_id else ""
            click.echo(f"{u.username}\t{u.role}\t{where}\t{'active' if u.active else 'disabled'}")
    finally:
        ws.close()


COMMANDS = [serve, users]
