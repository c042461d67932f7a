"""Every route × every role (and an anonymous client): what each must not get.

The table below is written out by hand (not read from the app's own gates), and a test
checks that it covers every route the app has, so a new route cannot go untested."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Route
from webkit import EXPORTS, OFFICERS, ROOT, Client, Site, database, make_site

from harmonise.web.app import ROUTES

OWN, OTHER = OFFICERS["bedford"], OFFICERS["luton"]
ROLES = ("anonymous", OWN, OTHER, "analyst", "admin")
ALL_SIGNED_IN = {OWN, OTHER, "analyst", "admin"}

#: (method, path, who may pass, form sent when allowed) — {up}, {sub}, {pjob}, {jjob},
#: {user} are filled from the fixture's objects. Allowed POSTs send a form the handler
#: refuses after the gate (4xx with its own page) unless the action is harmless.
TABLE: list[tuple[str, str, set[str], dict[str, str]]] = [
    ("GET", "/", ALL_SIGNED_IN, {}),
    ("GET", "/uploads", {OWN, OTHER, "admin"}, {}),
    ("POST", "/uploads", {OWN, OTHER}, {}),
    ("GET", "/uploads/{up}", {OWN, "admin"}, {}),
    ("GET", "/uploads/{up}/original", {OWN, "admin"}, {}),
    ("GET", "/uploads/{up}/codebook.json", {OWN, "admin"}, {}),
    ("GET", "/uploads/{up}/draft.yaml", {OWN, "admin"}, {}),
    ("POST", "/uploads/{up}/crosswalk", {OWN}, {"crosswalk": "project:nope.yaml"}),
    ("POST", "/uploads/{up}/submit", {OWN}, {}),
    ("GET", "/crosswalks", {OWN, OTHER, "admin"}, {}),
    ("GET", "/crosswalks/{sub}", {OWN, "admin"}, {}),
    ("GET", "/crosswalks/{sub}/file.yaml", {OWN, "admin"}, {}),
    ("POST", "/crosswalks/{sub}/release", {"admin"}, {}),
    ("GET", "/runs", ALL_SIGNED_IN, {}),
    ("POST", "/runs", ALL_SIGNED_IN, {}),
    ("GET", "/runs/export.zip", ALL_SIGNED_IN, {}),
    ("GET", "/runs/{pjob}", {OWN, "analyst", "admin"}, {}),
    ("GET", "/runs/{pjob}/files/{file}", {OWN, "analyst", "admin"}, {}),
    ("GET", "/runs/{pjob}/export.zip", {OWN, "analyst", "admin"}, {}),
    ("GET", "/runs/{jjob}", {"analyst", "admin"}, {}),
    ("GET", "/runs/{jjob}/files/{file}", {"analyst", "admin"}, {}),
    ("GET", "/runs/{jjob}/export.zip", {"analyst", "admin"}, {}),
    ("GET", "/questionnaire", ALL_SIGNED_IN, {}),
    ("GET", "/questionnaire/{name}", ALL_SIGNED_IN, {}),
    ("GET", "/admin/users", {"admin"}, {}),
    ("POST", "/admin/users", {"admin"}, {"role": "emperor"}),
    ("POST", "/admin/users/{user}", {"admin"}, {"role": "emperor"}),
    ("POST", "/admin/users/{user}/unlock", {"admin"}, {}),
    ("POST", "/admin/users/{user}/password", {"admin"}, {"password": "short"}),
    ("POST", "/admin/partnerships", {"admin"}, {"slug": "Bad Slug!", "name": "x"}),
    ("GET", "/admin/activity", {"admin"}, {}),
    ("POST", "/admin/retention", {"admin"}, {"days": "7"}),
    # last: withdrawing changes what the rows above can see
    ("POST", "/uploads/{up}/withdraw", {OWN, "admin"}, {}),
]
#: open to everyone (tested in test_security.py)
PUBLIC = {("GET", "/signin"), ("POST", "/signin"), ("POST", "/signout"), ("GET", "/setup"),
          ("POST", "/setup")}
SECRET_BYTES = b"$FL2"  # the start of the uploaded .sav: must never reach the wrong user
MARKER = "run-output-marker-7f3a"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("roles")
    project = tmp / "project"  # the repository's crosswalks plus a questionnaire output
    project.mkdir()
    for name in ("crosswalks", "surveys"):
        (project / name).symlink_to(ROOT / name)
    (project / "reports/questionnaire").mkdir(parents=True)
    (project / "reports/questionnaire/bridge.csv").write_text("concept,item\n", "utf-8")
    with database("sqlite", tmp) as url:
        site = make_site(tmp, url, root=project)
        ws = site.state.ws
        officer = site.client(OWN)
        up = int(officer.upload(ROOT / EXPORTS["bedford"][0]).headers["location"]
                 .rsplit("/", 1)[1])
        pid = ws.upload(up).partnership_id
        sub = ws.submit_crosswalk(partnership_id=pid, upload_id=up, crosswalk="bedford-x",
                                  version=1, sha256="0" * 64, text="crosswalk: bedford-x\n",
                                  report='{"valid": false, "issues": []}', valid=False,
                                  by=site.users[OWN])
        jobs = {}
        for kind, partnership in (("partnership", pid), ("joint", None)):
            job = ws.enqueue(kind=kind, partnership_id=partnership, by=site.users[OWN],
                             inputs=[{"upload": 999, "crosswalk": "x"}])
            assert ws.claim("test") is not None
            ws.finish(job.id, run_id=1)
            folder = site.state.runs_dir / str(job.id)
            folder.mkdir()
            (folder / "estimates.csv").write_text(f"indicator\n{MARKER}\n", "utf-8")
            jobs[kind] = job.id
        ids = {"up": str(up), "sub": str(sub.id), "pjob": str(jobs["partnership"]),
               "jjob": str(jobs["joint"]), "user": str(site.users[OTHER]),
               "file": "estimates.csv", "name": "bridge.csv"}
        clients = {role: site.client(role) for role in ROLES if role != "anonymous"}
        site.cached = clients  # type: ignore[attr-defined]
        try:
            yield site, ids
        finally:
            ws.close()


def test_the_table_covers_every_route() -> None:
    routes = {(m, r.path.replace("{id:int}", "{id}")) for r in ROUTES if isinstance(r, Route)
              for m in (r.methods or ()) if m != "HEAD"}
    table = {(m, p.replace("{up}", "{id}").replace("{sub}", "{id}").replace("{pjob}", "{id}")
              .replace("{jjob}", "{id}").replace("{user}", "{id}")) for m, p, _, _ in TABLE}
    table = {(m, p.replace("{file}", "{name}")) for m, p in table}
    assert routes - PUBLIC == table


def _request(client: Client, method: str, url: str, form: dict[str, str]):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(url)
    return client.post(url, form)


@pytest.mark.parametrize(("method", "path", "allowed", "form"), TABLE,
                         ids=[f"{m} {p}" for m, p, _, _ in TABLE])
def test_each_role_gets_only_what_it_may(world: tuple[Site, dict[str, str]], method: str,
                                         path: str, allowed: set[str],
                                         form: dict[str, str]) -> None:
    site, ids = world
    url = path.format(**ids)
    for role in ROLES:
        client = site.client() if role == "anonymous" else site.cached[role]  # type: ignore[attr-defined]
        if role == "anonymous":
            client.get("/signin")  # a real CSRF token, so only the sign-in gate refuses
        response = _request(client, method, url, form)
        status = response.status_code
        if role in allowed:
            assert status not in (401, 403, 404), (role, url, status, response.text[:300])
            assert response.headers.get("location") != "/signin", (role, url)
            continue
        if role == "anonymous":
            expected = 303 if method == "GET" else 401
            assert status == expected, (role, url, status)
            if method == "GET":
                assert response.headers["location"] == "/signin"
        else:
            assert status in (403, 404), (role, url, status, response.text[:300])
            assert 'id="refusal"' in response.text
        assert SECRET_BYTES not in response.content, (role, url)
        assert MARKER not in response.text, (role, url)


def test_officers_lists_hold_only_their_own_partnership(
        world: tuple[Site, dict[str, str]]) -> None:
    site, ids = world
    other = site.client(OTHER)
    assert f'href="/uploads/{ids["up"]}"' not in other.get("/uploads").text
    assert f'href="/crosswalks/{ids["sub"]}"' not in other.get("/crosswalks").text
    runs = other.get("/runs").text
    assert f'href="/runs/{ids["pjob"]}"' not in runs
    assert f'href="/runs/{ids["jjob"]}"' not in runs
    analyst = site.client("analyst")
    assert f'href="/runs/{ids["jjob"]}"' in analyst.get("/runs").text
    # "export everything I may see": all runs for the analyst, none of bedford's for luton
    everything = zipfile.ZipFile(io.BytesIO(analyst.get("/runs/export.zip").content))
    assert sorted(everything.namelist()) == [f"run-{ids['pjob']}/estimates.csv",
                                             f"run-{ids['jjob']}/estimates.csv"]
    assert zipfile.ZipFile(io.BytesIO(other.get("/runs/export.zip").content)).namelist() == []


def test_no_one_can_raise_their_own_rights(world: tuple[Site, dict[str, str]]) -> None:
    site, _ = world
    for role in (OWN, "analyst"):
        client = site.client(role)
        uid = site.users[role]
        response = client.post(f"/admin/users/{uid}", {"role": "admin", "active": "yes"})
        assert response.status_code == 403
        assert site.state.ws.user(uid).role != "admin"
    admin = site.client("admin")
    me = site.users["admin"]
    response = admin.post(f"/admin/users/{me}", {"role": "analyst", "active": "yes"})
    assert response.status_code == 403 and "your own rights" in response.text
    assert site.state.ws.user(me).role == "admin"


def test_a_role_change_applies_at_once(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url:
        site = make_site(tmp_path, url)
        analyst = site.client("analyst")
        assert analyst.get("/runs").status_code == 200
        admin = site.client("admin")
        pid = str(site.state.ws.partnership_by_slug("luton").id)  # type: ignore[union-attr]
        changed = admin.post(f"/admin/users/{site.users['analyst']}",
                             {"role": "officer", "partnership": pid, "active": "no"})
        assert changed.status_code == 303
        assert analyst.get("/runs").headers["location"] == "/signin"  # session ended
        log = admin.get("/admin/activity").text
        assert "<td>permission</td>" in log and "role analyst -&gt; officer" in log
        site.state.ws.close()
