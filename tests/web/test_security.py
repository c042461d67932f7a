"""Refusals: forged forms (CSRF), oversized and malicious files, path-traversal names,
markup in labels, another user's or a forged session cookie, repeated wrong passwords,
the one-time setup token; and that nothing identifying or half-stored is left behind."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner
from webkit import EXPORTS, OFFICERS, PASSWORD, ROOT, Site, database, make_site

from harmonise.web.app import build_state, create_app
from harmonise.web.context import WebConfig

sys.path.insert(0, str(ROOT / "tests/ingest"))
from test_zip_bomb import zip_bomb

BEDFORD = ROOT / EXPORTS["bedford"][0]


def stored(site: Site) -> tuple[int, list[Path]]:
    """Upload rows, and every file in the blob folder (incoming temp files included)."""
    blobs = [p for p in site.state.blobs.root.rglob("*") if p.is_file()]
    return len(site.state.ws.uploads()), blobs


def test_a_form_without_the_sessions_csrf_token_is_refused(site: Site) -> None:
    officer = site.client(OFFICERS["bedford"])
    other = site.client(OFFICERS["luton"])
    for token in ("", "forged", other.csrf):
        with BEDFORD.open("rb") as fh:
            response = officer.post("/uploads", csrf=token, files={"file": ("a.sav", fh)})
        assert response.status_code == 403 and "security token" in response.text
    assert stored(site) == (0, [])
    admin = site.client("admin")
    uid = site.users[OFFICERS["luton"]]
    response = admin.post(f"/admin/users/{uid}", {"role": "admin", "active": "yes"}, csrf="x")
    assert response.status_code == 403
    assert site.state.ws.user(uid).role == "officer"


def test_an_oversized_upload_is_refused_before_it_is_stored(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url:
        site = make_site(tmp_path, url, max_upload_mb=1)
        officer = site.client(OFFICERS["bedford"])
        big = b"id,q\n" + b"1,2\n" * 600_000  # 2.4 MB of valid CSV
        response = officer.post("/uploads", files={"file": ("big.csv", io.BytesIO(big))})
        assert response.status_code == 413
        assert "size limit of 1 MiB" in response.text and 'id="refusal"' in response.text
        assert stored(site) == (0, [])

        def chunks():  # no Content-Length: counted as it arrives
            yield b"--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n"
            yield officer.csrf.encode() + b"\r\n--b\r\nContent-Disposition: form-data; "
            yield b'name="file"; filename="big.csv"\r\n\r\n'
            for _ in range(40):
                yield b"1,2\n" * 16_384
        response = officer.http.post("/uploads", content=chunks(), headers={
            "content-type": "multipart/form-data; boundary=b"})
        assert response.status_code == 413 and 'id="refusal"' in response.text
        assert "size limit of 1 MiB" in response.text
        assert stored(site) == (0, [])
        site.state.ws.close()


ENCRYPTED_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.csv", b"", "empty"),
    ("page.csv", b"<!doctype html><html><body>login</body></html>", "a web page"),
    ("report.sav", b"%PDF-1.7\n" + b"x" * 100, "a PDF document"),
    ("old.xlsx", ENCRYPTED_OLE, "encrypted workbook or an old .xls"),
    ("bomb.xlsx", zip_bomb(80), "zip bomb"),
    ("noise.dta", bytes(range(256)) * 40, "judged by its content"),
    ("broken.sav", BEDFORD.read_bytes()[:3000], "sav"),
], ids=["empty", "html", "pdf-as-sav", "encrypted", "zip-bomb", "binary-noise", "truncated"])
def test_malicious_or_broken_files_are_refused_with_a_reason(site: Site, name: str,
                                                             content: bytes,
                                                             message: str) -> None:
    officer = site.client(OFFICERS["bedford"])
    response = officer.post("/uploads", files={"file": (name, io.BytesIO(content))})
    assert response.status_code == 400, response.text[:400]
    assert 'id="refusal"' in response.text and "Nothing was stored" in response.text
    assert message.lower() in response.text.lower()
    assert stored(site) == (0, [])
    log = site.client("admin").get("/admin/activity").text
    assert "<td>upload-refused</td>" in log


@pytest.mark.parametrize("name", ["../../../../tmp/evil.sav", "..\\..\\windows\\evil.sav",
                                  "/etc/passwd", "a\x00b\r\n.sav", "<b>x</b>.sav"])
def test_a_file_name_is_never_a_path_and_is_shown_escaped(site: Site, tmp_path: Path,
                                                          name: str) -> None:
    officer = site.client(OFFICERS["bedford"])
    before = {p for p in tmp_path.rglob("*")}
    with BEDFORD.open("rb") as fh:
        response = officer.post("/uploads", files={"file": (name, fh)})
    assert response.status_code == 303
    upload = site.state.ws.uploads()[0]
    assert site.state.blobs.path(upload.sha256).is_file()
    new = {p for p in tmp_path.rglob("*")} - before
    assert all(p.is_relative_to(site.state.config.data_dir) for p in new)
    assert not Path("/tmp/evil.sav").exists()
    assert "/" not in upload.display_name and "\\" not in upload.display_name
    assert "\x00" not in upload.display_name
    page = officer.get("/uploads").text
    assert "<b>x</b>" not in page


def test_markup_in_labels_and_values_is_rendered_escaped(site: Site) -> None:
    officer = site.client(OFFICERS["bedford"])
    rows = "\n".join(f"{i},<img src=x onerror=alert(1)>" for i in range(30))
    csv = f'id,"<script>alert(""label"")</script>"\n{rows}\n'.encode()
    response = officer.post("/uploads", files={"file": ("m.csv", io.BytesIO(csv))})
    assert response.status_code == 303, response.text[:300]
    page = officer.get(response.headers["location"]).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_an_identifying_file_name_is_not_kept(site: Site) -> None:
    officer = site.client(OFFICERS["bedford"])
    with BEDFORD.open("rb") as fh:
        response = officer.post("/uploads", files={"file": ("jane.doe@example.com.sav", fh)})
    assert response.status_code == 303
    assert site.state.ws.uploads()[0].display_name == "<e-mail-like value>.sav"
    assert "jane.doe" not in officer.get("/uploads").text


def test_no_identifying_value_is_rendered(site: Site) -> None:
    path, _key, encoding = EXPORTS["luton"]
    raw = (ROOT / path).read_bytes().decode("cp1252")
    emails = {w.strip(",\r") for line in raw.splitlines() for w in line.split(",") if "@" in w}
    assert len(emails) > 50
    officer = site.client(OFFICERS["luton"])
    location = officer.upload(ROOT / path, encoding).headers["location"]
    shown = officer.get(location).text + officer.get(f"{location}/codebook.json").text
    assert not any(e in shown for e in emails)


def test_another_users_or_a_forged_session_cookie_gets_nothing_more(site: Site) -> None:
    bedford = site.client(OFFICERS["bedford"])
    up = bedford.upload(BEDFORD).headers["location"]
    luton = site.client(OFFICERS["luton"])
    cookie = luton.http.cookies.get("harmonise_session")
    assert cookie
    # luton's cookie in another client acts as luton, who cannot see bedford's upload
    thief = site.client()
    thief.http.cookies.set("harmonise_session", cookie, domain="testserver.local")
    assert thief.get("/").status_code == 200
    assert thief.get(up).status_code == 404
    assert thief.get(f"{up}/original").status_code == 404
    # a cookie signed with another key is no session at all
    forged = TimestampSigner("not the server key").sign(b"eyJzaWQiOiAieCJ9").decode()
    stranger = site.client()
    stranger.http.cookies.set("harmonise_session", forged, domain="testserver.local")
    assert stranger.get("/").headers["location"] == "/signin"
    # after luton signs out, the copied cookie is dead too (the session row is gone)
    assert luton.post("/signout").status_code == 303
    assert thief.get("/").headers["location"] == "/signin"


def test_the_session_cookie_is_secure_httponly_and_samesite(site: Site) -> None:
    client = site.client()
    client.get("/signin")
    response = client.post("/signin", {"username": "analyst", "password": PASSWORD})
    header = response.headers["set-cookie"].lower()
    assert "secure" in header and "httponly" in header and "samesite=strict" in header
    page = client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_sign_in_is_rate_limited(site: Site) -> None:
    client = site.client()
    client.get("/signin")
    for _ in range(5):
        response = client.post("/signin", {"username": "analyst", "password": "wrong" * 3})
        assert response.status_code == 400 and "Wrong user name or password" in response.text
    blocked = client.post("/signin", {"username": "analyst", "password": PASSWORD})
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert "sid" not in str(blocked.headers.get("set-cookie", ""))
    log = site.client("admin").get("/admin/activity").text
    assert log.count("<td>sign-in-failed</td>") == 5


def test_the_first_admin_comes_from_the_one_time_setup_token(tmp_path: Path) -> None:
    from starlette.testclient import TestClient
    from webkit import Client

    config = WebConfig(data_dir=tmp_path / "d", database=f"sqlite:///{tmp_path / 'w.sqlite'}",
                       project_root=ROOT, worker=False)
    state = build_state(config)
    state.setup_token.append("one-time-token-123")
    client = Client(TestClient(create_app(config, state=state), base_url="https://testserver",
                               follow_redirects=False))
    assert client.get("/setup").status_code == 200
    form = {"username": "first", "password": PASSWORD}
    assert client.post("/setup", {**form, "token": "guess"}).status_code == 403
    assert not state.ws.any_admin()
    assert client.post("/setup", {**form, "token": "one-time-token-123"}).status_code == 303
    assert state.ws.user_by_name("first").role == "admin"  # type: ignore[union-attr]
    assert client.get("/setup").status_code == 404  # used up
    again = client.post("/setup", {"username": "second", "password": PASSWORD,
                                   "token": "one-time-token-123"})
    assert again.status_code == 404 and state.ws.user_by_name("second") is None
    state.ws.close()
