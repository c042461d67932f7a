"""The workspace end to end through HTTP, on SQLite and PostgreSQL: three officers upload
the three bundled exports, pick their crosswalks, run; an analyst compares all three and
downloads the report; a draft crosswalk goes through submission and another user's
release; a withdrawn upload takes its runs with it; the activity log says who did what."""

from __future__ import annotations

import io
import re
import zipfile

from webkit import EXPORTS, OFFICERS, ROOT, Site

from harmonise.web.runner import Worker


def run_queued(site: Site) -> list[int]:
    """Run every queued job in this thread, as the worker would; their ids."""
    st = site.state
    worker = Worker(st.ws, st.blobs, st.catalogue, st.runs_dir, charts=False)
    done = []
    while (job := st.ws.claim(worker.name_id)) is not None:
        worker.run_one(job)
        done.append(job.id)
    return done


def upload_all(site: Site) -> dict[str, int]:
    ids = {}
    for slug, (path, key, encoding) in EXPORTS.items():
        officer = site.client(OFFICERS[slug])
        response = officer.upload(ROOT / path, encoding)
        assert response.status_code == 303, response.text
        upload_id = int(response.headers["location"].rsplit("/", 1)[1])
        picked = officer.post(f"/uploads/{upload_id}/crosswalk", {"crosswalk": key})
        assert picked.status_code == 303, picked.text
        page = officer.get(f"/uploads/{upload_id}").text
        assert re.search(r'id="validation-summary">[^<]*<span class="ok">valid', page), page
        ids[slug] = upload_id
    return ids


def test_three_officers_upload_run_and_an_analyst_compares(any_site: Site) -> None:
    site = any_site
    ids = upload_all(site)
    bedford = site.client(OFFICERS["bedford"])
    # a re-upload of the same bytes is recognised, not stored twice
    again = bedford.upload(ROOT / EXPORTS["bedford"][0])
    assert again.headers["location"] == f"/uploads/{ids['bedford']}"
    assert "already uploaded" in bedford.get(again.headers["location"]).text
    assert len(site.state.ws.uploads()) == 3
    # the page shows what the privacy screen dropped (the CSV has e-mail and comments)
    luton = site.client(OFFICERS["luton"])
    screen = luton.get(f"/uploads/{ids['luton']}").text
    assert 'id="flagged"' in screen and "removed" in screen
    assert "@" not in re.sub(r"<[^>]+>", "", screen.split('id="codebook"')[1])

    own = bedford.post("/runs")
    assert own.status_code == 303
    analyst = site.client("analyst")
    joint = analyst.post("/runs")
    assert joint.status_code == 303
    assert len(run_queued(site)) == 2
    own_id = int(own.headers["location"].rsplit("/", 1)[1])
    joint_id = int(joint.headers["location"].rsplit("/", 1)[1])
    assert site.state.ws.job(own_id).state == "done", site.state.ws.job(own_id).message
    assert site.state.ws.job(joint_id).state == "done", site.state.ws.job(joint_id).message

    page = analyst.get(f"/runs/{joint_id}").text
    assert 'id="job-state">done' in page and 'id="comparisons"' in page
    assert re.findall(r'class="theme">Theme: (\w+)<', page)  # findings grouped by theme
    assert "proxy" in page and "identical" in page  # each survey's comparability grade
    for name in ("Bedford Borough", "Central Bedfordshire", "Luton"):
        assert name in page
    report = analyst.get(f"/runs/{joint_id}/files/index.html")
    assert report.status_code == 200 and "Community safety perceptions" in report.text
    assert "img-src data:" in report.headers["content-security-policy"]
    csv = analyst.get(f"/runs/{joint_id}/files/estimates.csv")
    assert csv.status_code == 200 and csv.text.startswith("indicator,")
    bundle = zipfile.ZipFile(io.BytesIO(analyst.get(f"/runs/{joint_id}/export.zip").content))
    assert f"run-{joint_id}/tables.xlsx" in bundle.namelist()
    # officers see their own partnership's run only; analysts never see uploads
    assert bedford.get(f"/runs/{own_id}").status_code == 200
    assert site.client(OFFICERS["luton"]).get(f"/runs/{own_id}").status_code == 404
    assert bedford.get(f"/runs/{joint_id}").status_code == 404
    assert analyst.get(f"/uploads/{ids['bedford']}/original").status_code == 403

    # withdrawing Luton's upload withdraws the joint run made from it, files and all
    withdrawn = luton.post(f"/uploads/{ids['luton']}/withdraw")
    assert withdrawn.status_code == 303
    assert analyst.get(f"/runs/{joint_id}").status_code == 404
    assert analyst.get(f"/runs/{joint_id}/files/index.html").status_code == 404
    assert not (site.state.runs_dir / str(joint_id)).exists()
    assert bedford.get(f"/runs/{own_id}").status_code == 200

    log = site.client("admin").get("/admin/activity").text
    for who, action in [(OFFICERS["bedford"], "upload"), (OFFICERS["bedford"], "upload-again"),
                        ("analyst", "run"), ("analyst", "download"),
                        (OFFICERS["luton"], "withdraw")]:
        assert re.search(rf"<td>{who}</td><td>{action}</td>", log), (who, action)


def test_a_submitted_crosswalk_is_validated_and_released_by_someone_else(site: Site) -> None:
    officer = site.client(OFFICERS["luton"])
    path, _key, encoding = EXPORTS["luton"]
    upload_id = int(officer.upload(ROOT / path, encoding).headers["location"].rsplit("/")[-1])
    draft = officer.get(f"/uploads/{upload_id}/draft.yaml")
    assert draft.status_code == 200 and "status: draft" in draft.text
    assert 'csp: "luton"' in draft.text and 'crosswalk: "luton-upload-' in draft.text
    # the draft as downloaded is incomplete: stored, every problem listed, not releasable
    sent = officer.post(f"/uploads/{upload_id}/submit",
                        files={"crosswalk_file": ("d.yaml", draft.content, "text/yaml")})
    assert sent.status_code == 303
    page = officer.get(sent.headers["location"]).text
    assert "Not valid" in page and page.count("<tr><td>error</td>") >= 3
    # a completed crosswalk (the released one, renamed as a new draft)
    text = (ROOT / "crosswalks/luton/residents-2024.v1.yaml").read_text(encoding="utf-8")
    text = text.replace("crosswalk: luton-residents-2024\n", "crosswalk: luton-residents-web\n")
    text = text.replace("status: released\n", "status: draft\n")
    sent = officer.post(f"/uploads/{upload_id}/submit",
                        files={"crosswalk_file": ("c.yaml", text.encode(), "text/yaml")})
    sub_url = sent.headers["location"]
    sub_id = int(sub_url.rsplit("/", 1)[1])
    assert "<span class=\"ok\">Valid</span>" in officer.get(sub_url).text
    # the officer cannot release; an admin who is not the author can
    assert officer.post(f"{sub_url}/release").status_code == 403
    admin = site.client("admin")
    assert admin.post(f"{sub_url}/release").status_code == 303
    assert 'id="cw-status">released' in admin.get(sub_url).text
    released = site.state.ws.submission(sub_id)
    assert "status: released" in released.text and released.released_by == site.users["admin"]
    # a second release of the same version is refused with a page
    again = admin.post(f"{sub_url}/release")
    assert again.status_code == 409 and "not a draft" in again.text
    # now the officer can pick it for the upload, and it checks valid against the data
    picked = officer.post(f"/uploads/{upload_id}/crosswalk", {"crosswalk": f"db:{sub_id}"})
    assert picked.status_code == 303
    assert 'class="ok">valid' in officer.get(f"/uploads/{upload_id}").text
    # another partnership's officer cannot pick it (not in their list)
    other = site.client(OFFICERS["bedford"])
    path_b = ROOT / EXPORTS["bedford"][0]
    other_id = int(other.upload(path_b).headers["location"].rsplit("/")[-1])
    refused = other.post(f"/uploads/{other_id}/crosswalk", {"crosswalk": f"db:{sub_id}"})
    assert refused.status_code == 400


def test_a_failed_run_shows_why_and_keeps_nothing(site: Site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import harmonise.report as report_pkg

    ids = upload_all(site)
    officer = site.client(OFFICERS["bedford"])
    job_url = officer.post("/runs").headers["location"]

    def broken(*_a: object, **_k: object) -> None:
        raise OSError("disk full while writing the report")

    monkeypatch.setattr(report_pkg, "write_report", broken)  # after the store save
    run_queued(site)
    job = site.state.ws.job(int(job_url.rsplit("/", 1)[1]))
    assert job.state == "failed" and not job.visible
    page = officer.get(job_url).text
    assert 'id="job-error"' in page and "internal error (OSError)" in page
    assert "/files/" not in page
    assert officer.get(f"{job_url}/files/index.html").status_code == 404
    assert not any(p.name == str(job.id) for p in site.state.runs_dir.iterdir())
    assert ids


def test_a_run_left_by_a_dead_worker_is_failed_by_the_next_and_shows_nothing(
        site: Site) -> None:
    import datetime as dt
    import time

    import sqlalchemy as sa

    from harmonise.store.tables import JOBS

    ws = site.state.ws
    officer = site.client(OFFICERS["bedford"])
    job = ws.enqueue(kind="partnership", partnership_id=ws.user(
        site.users[OFFICERS["bedford"]]).partnership_id, by=site.users[OFFICERS["bedford"]],
        inputs=[])
    assert ws.claim("a-worker-that-dies") is not None
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    with ws.engine.begin() as conn:  # its last heartbeat was five minutes ago
        conn.execute(sa.update(JOBS).where(JOBS.c.id == job.id).values(heartbeat_at=old))
    st = site.state
    worker = Worker(st.ws, st.blobs, st.catalogue, st.runs_dir, poll=0.05, charts=False)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while ws.job(job.id).state == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        worker.join(timeout=30)
    page = officer.get(f"/runs/{job.id}").text
    assert 'id="job-state">failed' in page and "nothing from it was kept" in page
    assert "/files/" not in page
