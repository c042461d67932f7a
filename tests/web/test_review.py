"""Fixes from the security review of the workspace (issue 14's review): a partnership
submits only its own crosswalks, a withdrawal takes the stored runs with it, a crash leaves
no raw files or stored runs behind, weighting targets come only from surveys/targets/, and
refusals show no server paths."""

from __future__ import annotations

import re

from test_flow import run_queued, upload_all
from webkit import EXPORTS, OFFICERS, ROOT, Site

LUTON_CW = ROOT / "crosswalks/luton/residents-2024.v1.yaml"


def _luton_upload(site: Site) -> tuple[object, int]:
    officer = site.client(OFFICERS["luton"])
    path, _key, encoding = EXPORTS["luton"]
    response = officer.upload(ROOT / path, encoding)
    return officer, int(response.headers["location"].rsplit("/", 1)[1])


def _submit(officer: object, upload_id: int, text: str) -> object:
    return officer.post(f"/uploads/{upload_id}/submit",  # type: ignore[attr-defined]
                        files={"crosswalk_file": ("c.yaml", text.encode(), "text/yaml")})


def test_an_officer_cannot_submit_another_partnerships_crosswalk(site: Site) -> None:
    officer, upload_id = _luton_upload(site)
    text = LUTON_CW.read_text(encoding="utf-8").replace("status: released\n", "status: draft\n")
    forged = (text.replace("crosswalk: luton-residents-2024\n",
                           "crosswalk: bedford-residents-2024\n")
              .replace("csp: luton\n", "csp: bedford\n"))
    for bad in (forged, forged.replace("csp: bedford\n", "csp: luton\n"),
                text.replace("csp: luton\n", "csp: bedford\n")):
        refused = _submit(officer, upload_id, bad)
        assert refused.status_code == 400, refused.text  # type: ignore[attr-defined]
        assert "Nothing was stored" in refused.text  # type: ignore[attr-defined]
        assert "csp: luton" in refused.text or "luton-&lt;survey&gt;" in refused.text  # type: ignore[attr-defined]
    assert site.state.ws.submissions() == []
    # the partnership's own crosswalk: the release page shows who it is for and its text
    own = text.replace("crosswalk: luton-residents-2024\n", "crosswalk: luton-residents-web\n")
    sent = _submit(officer, upload_id, own)
    assert sent.status_code == 303  # type: ignore[attr-defined]
    page = site.client("admin").get(sent.headers["location"]).text  # type: ignore[attr-defined]
    assert 'id="cw-partnership">Luton CSP (luton)' in page
    assert 'id="cw-csp">luton<' in page
    assert 'id="cw-csp-name">Luton Community Safety Partnership<' in page
    assert 'id="cw-text">' in page and "respondent_id: ID" in page
    # a new version of a released crosswalk: the page shows the changes since that release
    v2 = text.replace("version: 1\n", "version: 2\n").replace(
        "instrument: Residents' community safety survey",
        "instrument: Residents survey, second edition")
    sent = _submit(officer, upload_id, v2)
    page = site.client("admin").get(sent.headers["location"]).text  # type: ignore[attr-defined]
    diff = page.split('id="cw-diff">')[1].split("</pre>")[0]
    assert "crosswalks/luton/residents-2024.v1.yaml (v1, released)" in diff
    assert "-version: 1" in diff and "+version: 2" in diff
    assert re.search(r"\+instrument: Residents survey, second edition", diff)


def test_a_forged_draft_is_not_released(site: Site) -> None:
    """A draft stored before the check (or written into the database) is refused at
    release, with the reason on the page."""
    _officer, upload_id = _luton_upload(site)
    text = (LUTON_CW.read_text(encoding="utf-8").replace("status: released\n", "status: draft\n")
            .replace("crosswalk: luton-residents-2024\n", "crosswalk: bedford-residents-2024\n")
            .replace("csp: luton\n", "csp: bedford\n"))
    ws = site.state.ws
    sub = ws.submit_crosswalk(partnership_id=ws.upload(upload_id).partnership_id,
                              upload_id=upload_id, crosswalk="bedford-residents-2024",
                              version=1, sha256="0" * 64, text=text, report='{"valid": true, '
                              '"issues": []}', valid=True, by=site.users[OFFICERS["luton"]])
    admin = site.client("admin")
    page = admin.get(f"/crosswalks/{sub.id}").text
    assert 'id="cw-ownership"' in page and "its csp is" in page
    refused = admin.post(f"/crosswalks/{sub.id}/release")
    assert refused.status_code == 409 and "set &#39;csp: luton&#39;" in refused.text
    assert ws.submission(sub.id).status == "draft"


def _store_runs(site: Site) -> set[int]:
    import sqlalchemy as sa

    from harmonise.store.db import RUN_ROWS, RUN_TABLES, RUNS

    with site.state.ws.engine.connect() as conn:
        found = set()
        for table, col in ((RUNS, RUNS.c.id), (RUN_TABLES, RUN_TABLES.c.run_id),
                           (RUN_ROWS, RUN_ROWS.c.run_id)):
            found |= {int(i) for i in conn.execute(sa.select(col).distinct()).scalars()}
            assert table is not None
        return found


def test_withdrawing_an_upload_deletes_the_runs_it_produced_from_the_store(
        any_site: Site) -> None:
    site = any_site
    ids = upload_all(site)
    bedford = site.client(OFFICERS["bedford"])
    own = int(bedford.post("/runs").headers["location"].rsplit("/", 1)[1])
    joint = int(site.client("analyst").post("/runs").headers["location"].rsplit("/", 1)[1])
    run_queued(site)
    ws = site.state.ws
    own_run, joint_run = ws.job(own).run_id, ws.job(joint).run_id
    assert own_run is not None and joint_run is not None
    assert {own_run, joint_run} <= _store_runs(site)
    luton = site.client(OFFICERS["luton"])
    assert luton.post(f"/uploads/{ids['luton']}/withdraw").status_code == 303
    left = _store_runs(site)
    assert joint_run not in left  # runs, run_tables and run_rows all gone
    assert own_run in left  # Bedford's own run did not use Luton's upload


def _withdraw_during(site: Site, monkeypatch, module: object, name: str) -> int:  # type: ignore[no-untyped-def]
    """Run Luton's job while Luton's upload is withdrawn inside ``module.name``; the job."""
    ids = upload_all(site)
    luton = site.client(OFFICERS["luton"])
    job_id = int(luton.post("/runs").headers["location"].rsplit("/", 1)[1])
    original = getattr(module, name)
    ws = site.state.ws

    def withdrawing(*args: object, **kwargs: object) -> object:
        out = original(*args, **kwargs)
        ws.withdraw_upload(ids["luton"], site.users[OFFICERS["luton"]])
        return out

    monkeypatch.setattr(module, name, withdrawing)
    before = _store_runs(site)
    run_queued(site)
    job = ws.job(job_id)
    assert job.state == "failed" and not job.visible and job.run_id is None
    assert "was withdrawn" in (job.message or "")
    assert _store_runs(site) == before  # nothing saved, or what was saved is deleted
    assert not (site.state.runs_dir / str(job_id)).exists()
    assert [p.name for p in site.state.runs_dir.iterdir()] == []
    return job_id


def test_an_upload_withdrawn_before_the_save_leaves_the_run_nothing(any_site: Site,
                                                                    monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import harmonise.report as report_pkg

    _withdraw_during(any_site, monkeypatch, report_pkg, "report_data")


def test_an_upload_withdrawn_after_the_save_leaves_the_run_nothing(any_site: Site,
                                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import harmonise.report as report_pkg

    _withdraw_during(any_site, monkeypatch, report_pkg, "write_report")


def test_a_crash_leaves_no_work_folder_and_no_stored_run_after_recovery(site: Site) -> None:
    import datetime as dt
    import time

    import sqlalchemy as sa

    from harmonise.store import Store
    from harmonise.store.tables import JOBS
    from harmonise.web.runner import Worker

    ids = upload_all(site)
    ws, st = site.state.ws, site.state
    luton = site.client(OFFICERS["luton"])
    finished = int(luton.post("/runs").headers["location"].rsplit("/", 1)[1])
    run_queued(site)
    # a job that crashed after saving its run: claimed by a worker that died, its run
    # saved and recorded on it, its work folder (holding a copy of the raw export) left
    dead = int(luton.post("/runs").headers["location"].rsplit("/", 1)[1])
    assert ws.claim("a-worker-that-dies") is not None
    with Store(ws.url) as store:
        _, data = store.load(ws.job(finished).run_id)
        saved = store.save(data, within=lambda conn, rid: ws.bind_run(conn, dead, rid))
    assert ws.job(dead).run_id == saved and saved in _store_runs(site)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    with ws.engine.begin() as conn:
        conn.execute(sa.update(JOBS).where(JOBS.c.id == dead).values(heartbeat_at=old))
    left = st.runs_dir / f".job-{dead}-x1y2"
    (left / "surveys").mkdir(parents=True)
    (left / "surveys" / f"u{ids['luton']}.csv").write_bytes(b"ID,Email\n1,a@example.org\n")
    orphan = st.runs_dir / ".job-999-zz"  # a job the database no longer knows
    orphan.mkdir()
    # a job running now under another live worker keeps its folder
    live = int(site.client(OFFICERS["bedford"]).post("/runs").headers["location"]
               .rsplit("/", 1)[1])
    assert ws.claim("another-live-worker") is not None
    busy = st.runs_dir / f".job-{live}-busy"
    busy.mkdir()

    worker = Worker(ws, st.blobs, st.catalogue, st.runs_dir, poll=0.05, charts=False)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while (ws.job(dead).state == "running" or left.exists()) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        worker.join(timeout=30)
    job = ws.job(dead)
    assert job.state == "failed" and job.run_id is None
    assert saved not in _store_runs(site) and ws.job(finished).run_id in _store_runs(site)
    assert not left.exists() and not orphan.exists()
    assert busy.exists() and ws.job(live).state == "running"


def test_half_received_uploads_left_by_a_crash_are_removed(site: Site) -> None:
    import os
    import time

    blobs = site.state.blobs
    stale = blobs.incoming / "up-crashed"
    stale.write_bytes(b"ID,Email\n1,a@example.org\n")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    arriving = blobs.incoming / "up-arriving"
    arriving.write_bytes(b"ID\n1\n")
    assert blobs.sweep_incoming() == 1
    assert not stale.exists() and arriving.exists()


BAD_TARGETS = ["surveys/bedford/bedford-residents-2024.sav", "crosswalks/lock.json",
               "../../../etc/passwd", "/etc/passwd", "surveys/targets/../luton/residents-2024.csv",
               "surveys/targets/missing.csv", "surveys/targets/sub/x.csv"]


def test_weighting_targets_come_only_from_surveys_targets(site: Site) -> None:
    officer, upload_id = _luton_upload(site)
    text = (LUTON_CW.read_text(encoding="utf-8").replace("status: released\n", "status: draft\n")
            .replace("crosswalk: luton-residents-2024\n", "crosswalk: luton-residents-web\n"))
    good = "targets: surveys/targets/luton-adults-2024.csv\n"
    assert good in text
    for bad in BAD_TARGETS:
        refused = _submit(officer, upload_id, text.replace(good, f"targets: {bad}\n"))
        assert refused.status_code == 400, (bad, refused.text)  # type: ignore[attr-defined]
        assert "surveys/targets/" in refused.text  # type: ignore[attr-defined]
        assert "Nothing was stored" in refused.text  # type: ignore[attr-defined]
    assert site.state.ws.submissions() == []
    assert _submit(officer, upload_id, text).status_code == 303  # type: ignore[attr-defined]


def test_a_released_crosswalk_with_other_targets_is_refused_at_run_time(site: Site) -> None:
    """Even a crosswalk that reached the database some other way cannot make a run read
    another partnership's raw export as its targets."""
    import json

    _officer, upload_id = _luton_upload(site)
    ws = site.state.ws
    text = (LUTON_CW.read_text(encoding="utf-8")
            .replace("crosswalk: luton-residents-2024\n", "crosswalk: luton-residents-web\n")
            .replace("targets: surveys/targets/luton-adults-2024.csv\n",
                     "targets: surveys/bedford/bedford-residents-2024.sav\n"))
    pid = ws.upload(upload_id).partnership_id
    sub = ws.submit_crosswalk(partnership_id=pid, upload_id=upload_id,
                              crosswalk="luton-residents-web", version=1, sha256="0" * 64,
                              text=text, report="{}", valid=True, by=site.users["admin"])
    from harmonise._util.files import sha256_text

    ws.release_submission(sub.id, ws.user(site.users["admin2"]), text=text,
                          sha256=sha256_text(text))
    ws.set_upload_crosswalk(upload_id, f"db:{sub.id}", json.dumps({"valid": True,
                                                                   "issues": []}))
    luton = site.client(OFFICERS["luton"])
    job_id = int(luton.post("/runs").headers["location"].rsplit("/", 1)[1])
    run_queued(site)
    job = ws.job(job_id)
    assert job.state == "failed" and "is not allowed" in (job.message or ""), job.message
    assert "surveys/targets/" in (job.message or "")
    # and an admin's release of such a draft is refused by the release check
    draft = ws.submit_crosswalk(partnership_id=pid, upload_id=upload_id,
                                crosswalk="luton-residents-web", version=2, sha256="0" * 64,
                                text=text.replace("version: 1\n", "version: 2\n")
                                .replace("status: released\n", "status: draft\n"),
                                report="{}", valid=True, by=site.users["admin"])
    refused = site.client("admin2").post(f"/crosswalks/{draft.id}/release")
    assert refused.status_code == 409 and "surveys/targets/" in refused.text


def test_a_failed_run_shows_paths_relative_to_its_job_folder(site: Site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import harmonise.pipeline as pipeline
    from harmonise.errors import IngestError

    upload_all(site)
    officer = site.client(OFFICERS["bedford"])
    job_url = officer.post("/runs").headers["location"]

    def failing(manifest, *, root, **_kw):  # type: ignore[no-untyped-def]
        data = next((root / "surveys").glob("u*.sav"))
        raise IngestError(f"{data}: row 7, column Q3: value out of range (read from "
                          f"{manifest}); folder {root}")

    monkeypatch.setattr(pipeline, "run", failing)
    run_queued(site)
    page = officer.get(job_url).text
    message = page.split('id="job-error"')[1].split("</")[0]
    assert "surveys/u" in message and ".sav: row 7" in message
    assert "(read from surveys/manifest.yaml)" in message and "folder the run folder" in message
    for absolute in (str(site.state.runs_dir), str(site.state.runs_dir.resolve()), ".job-"):
        assert absolute not in page


def test_an_out_of_range_id_is_not_found(any_site: Site) -> None:
    admin = any_site.client("admin")
    for number in ("99999999999999999999999", str(2**31), str(2**63), "0"):
        for url in (f"/uploads/{number}", f"/runs/{number}", f"/crosswalks/{number}",
                    f"/uploads/{number}/codebook.json", f"/runs/{number}/export.zip"):
            response = admin.get(url)
            assert response.status_code == 404, (url, response.status_code)
            assert "Not found" in response.text
        changed = admin.post(f"/admin/users/{number}", {"role": "analyst", "active": "yes"})
        assert changed.status_code == 404


def test_failed_sign_ins_log_the_account_tried_never_the_password(site: Site) -> None:
    anonymous = site.client()
    anonymous.get("/signin")
    tries = [(OFFICERS["luton"], "a wrong password xyz"),
             ("correct horse typed as a name", "another secret abc")]
    for name, password in tries:
        assert anonymous.post("/signin", {"username": name,
                                          "password": password}).status_code == 400
    entries = [e for e in site.state.ws.activity() if e.action == "sign-in-failed"]
    assert [e.detail for e in reversed(entries)] == [
        f"account {OFFICERS['luton']}: wrong password", "(unknown name)"]
    assert entries[-1].target == f"user {site.users[OFFICERS['luton']]}"
    log = site.client("admin").get("/admin/activity").text
    assert OFFICERS["luton"] in log and "(unknown name)" in log
    for _name, password in tries:
        assert password not in log
    assert "correct horse typed" not in log


def test_the_per_address_limit_does_not_lock_out_a_right_password(site: Site) -> None:
    from webkit import PASSWORD

    client = site.client()
    client.get("/signin")
    for i in range(20):  # 20 failures from one address, 4 each on 5 names (under 5 a name)
        name = ["analyst", "admin", "admin2", OFFICERS["bedford"], f"ghost{i}"][i % 5]
        assert client.post("/signin", {"username": name,
                                       "password": "wrong" * 3}).status_code == 400
    # the address is over its limit: a wrong password is refused outright…
    wrong = client.post("/signin", {"username": "admin", "password": "wrong" * 3})
    assert wrong.status_code == 429 and "Too many failed sign-ins" in wrong.text
    # …but an existing account with its right password signs in
    right = client.post("/signin", {"username": "analyst", "password": PASSWORD})
    assert right.status_code == 303, right.text
    # the per-name limit still holds, right password or not
    other = site.client()
    other.get("/signin")
    for _ in range(5):
        other.post("/signin", {"username": OFFICERS["luton"], "password": "wrong" * 3})
    locked = other.post("/signin", {"username": OFFICERS["luton"], "password": PASSWORD})
    assert locked.status_code == 429


def test_an_admin_unlocks_a_user_and_sets_a_new_password(site: Site) -> None:
    from webkit import PASSWORD

    from harmonise.web.auth import check_password

    name, uid = OFFICERS["luton"], site.users[OFFICERS["luton"]]
    officer = site.client()
    officer.get("/signin")
    for _ in range(5):
        officer.post("/signin", {"username": name, "password": "wrong" * 3})
    assert officer.post("/signin", {"username": name,
                                    "password": PASSWORD}).status_code == 429
    admin = site.client("admin")
    assert f'action="/admin/users/{uid}/unlock"' in admin.get("/admin/users").text
    assert admin.post(f"/admin/users/{uid}/unlock").status_code == 303
    assert officer.post("/signin", {"username": name,
                                    "password": PASSWORD}).status_code == 303
    assert officer.get("/uploads").status_code == 200
    # a new password: the old one stops working and the user's sessions end
    short = admin.post(f"/admin/users/{uid}/password", {"password": "short"})
    assert short.status_code == 400 and "at least 12" in short.text
    new = "a brand new password 42"
    assert admin.post(f"/admin/users/{uid}/password", {"password": new}).status_code == 303
    assert officer.get("/uploads").status_code == 303  # signed out
    stored = site.state.ws.user(uid).password_hash
    assert check_password(stored, new)[0] and not check_password(stored, PASSWORD)[0]
    fresh = site.client()
    fresh.get("/signin")
    assert fresh.post("/signin", {"username": name, "password": new}).status_code == 303
    # never one's own account; an analyst or officer may do neither
    own = admin.post(f"/admin/users/{site.users['admin']}/password", {"password": new})
    assert own.status_code == 403
    assert site.client("analyst").post(f"/admin/users/{uid}/unlock").status_code == 403
    log = site.client("admin2").get("/admin/activity").text
    assert "<td>unlock</td>" in log and "<td>password-reset</td>" in log
    assert new not in log
