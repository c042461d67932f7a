"""Helpers for the web tests: a workspace app on a temporary data folder, seeded users,
and a client that signs in and fills the CSRF token the way a browser form does."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from harmonise.store.workspace import Workspace
from harmonise.web.app import build_state, create_app
from harmonise.web.auth import hash_password
from harmonise.web.context import WebConfig, WebState

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("HARMONISE_TEST_POSTGRES_URL")
if PG_URL is None and os.environ.get("HARMONISE_REQUIRE_POSTGRES"):
    raise RuntimeError("HARMONISE_REQUIRE_POSTGRES is set but HARMONISE_TEST_POSTGRES_URL is "
                       "not; run 'make postgres-deps'")
PASSWORD = "correct horse battery staple"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    PG_URL is None, reason="no PostgreSQL server configured (HARMONISE_TEST_POSTGRES_URL)"))]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

#: the three bundled exports, one per partnership, with the released crosswalk to pick
EXPORTS = {
    "bedford": ("surveys/bedford/bedford-residents-2024.sav",
                "project:bedford/residents-2024.v1.yaml", ""),
    "central-beds": ("surveys/central-beds/young-people-2024.xlsx",
                     "project:central-beds/young-people-2024.v1.yaml", ""),
    "luton": ("surveys/luton/residents-2024.csv", "project:luton/residents-2024.v1.yaml",
              "cp1252"),
}
OFFICERS = {"bedford": "officer_bedford", "central-beds": "officer_central",
            "luton": "officer_luton"}


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    assert PG_URL is not None
    name = f"harmonise_web_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'workspace.sqlite'}"
    else:
        with postgres_database() as url:
            yield url


def seed(ws: Workspace) -> dict[str, int]:
    """Three partnerships, an officer each, an analyst and two admins; name -> user id."""
    ids: dict[str, int] = {}
    digest = hash_password(PASSWORD)
    names = {"bedford": "Bedford Borough CSP", "central-beds": "Central Bedfordshire CSP",
             "luton": "Luton CSP"}
    for slug, name in names.items():
        p = ws.add_partnership(slug, name)
        ids[OFFICERS[slug]] = ws.add_user(OFFICERS[slug], digest, "officer", p.id).id
    ids["analyst"] = ws.add_user("analyst", digest, "analyst", None).id
    ids["admin"] = ws.add_user("admin", digest, "admin", None).id
    ids["admin2"] = ws.add_user("admin2", digest, "admin", None).id
    return ids


@dataclass
class Site:
    state: WebState
    app: Any
    users: dict[str, int]

    def client(self, username: str | None = None) -> Client:
        client = Client(TestClient(self.app, base_url="https://testserver",
                                   follow_redirects=False))
        if username is not None:
            client.sign_in(username)
        return client


def make_site(tmp_path: Path, url: str, *, max_upload_mb: int = 50,
              root: Path = ROOT) -> Site:
    config = WebConfig(data_dir=tmp_path / "data", database=url, project_root=root,
                       max_upload_bytes=max_upload_mb * 1024 * 1024, worker=False,
                       charts=False)
    state = build_state(config)
    users = seed(state.ws)
    return Site(state, create_app(config, state=state), users)


class Client:
    """A signed-in (or anonymous) browser stand-in; ``post`` adds the page's CSRF token."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.csrf = ""

    def get(self, url: str, **kw: Any) -> Any:
        response = self.http.get(url, **kw)
        found = CSRF.search(response.text) if "text/html" in response.headers.get(
            "content-type", "") else None
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, url: str, data: dict[str, str] | None = None, *, csrf: str | None = None,
             **kw: Any) -> Any:
        if not self.csrf and csrf is None:
            self.get("/signin")
        form = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        return self.http.post(url, data=form, **kw)

    def sign_in(self, username: str, password: str = PASSWORD) -> Any:
        self.get("/signin")
        response = self.post("/signin", {"username": username, "password": password})
        assert response.status_code == 303, response.text
        self.get("/")
        return response

    def upload(self, path: Path, encoding: str = "", name: str | None = None) -> Any:
        with path.open("rb") as fh:
            return self.post("/uploads", {"encoding": encoding},
                             files={"file": (name or path.name, fh, "application/octet-stream")})
