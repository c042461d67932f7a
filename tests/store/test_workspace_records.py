"""The shared workspace's records on SQLite and PostgreSQL, through the same code:
migrations, one live upload per file, withdrawal cascades, job claims and crash recovery,
no self-change of rights, no self-release, an append-only log and its retention rule."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from harmonise.errors import StoreError
from harmonise.store.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from webkit import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    with database(request.param, tmp_path) as url:
        workspace = Workspace(url)
        assert workspace.migrate() == "w0001"
        try:
            yield workspace
        finally:
            workspace.close()


def _people(ws: Workspace) -> tuple[int, int, int, int]:
    p = ws.add_partnership("luton", "Luton CSP")
    officer = ws.add_user("o", "h", "officer", p.id).id
    admin = ws.add_user("a", "h", "admin", None).id
    admin2 = ws.add_user("b", "h", "admin", None).id
    return p.id, officer, admin, admin2


def _upload(ws: Workspace, pid: int, by: int, sha: str = "ab" * 32) -> tuple[int, bool]:
    up, created = ws.add_upload(partnership_id=pid, sha256=sha, size=3, display_name="x.csv",
                                fmt=".csv", encoding=None, uploaded_by=by, codebook="{}")
    return up.id, created


def test_migrating_twice_is_a_no_op_and_keeps_data(ws: Workspace) -> None:
    pid, *_ = _people(ws)
    assert ws.migrate() == "w0001"
    assert [p.id for p in ws.partnerships()] == [pid]
    names = set(sa.inspect(ws.engine).get_table_names())
    assert {"users", "uploads", "jobs", "activity", "runs", "alembic_version"} <= names


def test_a_reupload_is_recognised_and_a_withdrawn_file_can_come_back(ws: Workspace) -> None:
    pid, officer, *_ = _people(ws)
    first, created = _upload(ws, pid, officer)
    again, created_again = _upload(ws, pid, officer)
    assert created and not created_again and again == first
    ws.withdraw_upload(first, officer)
    back, created_back = _upload(ws, pid, officer)
    assert created_back and back != first
    assert [u.id for u in ws.uploads(pid, live_only=True)] == [back]
    assert len(ws.uploads(pid)) == 2


def test_withdrawing_an_upload_withdraws_the_runs_made_from_it(ws: Workspace) -> None:
    pid, officer, *_ = _people(ws)
    a, _ = _upload(ws, pid, officer, "aa" * 32)
    b, _ = _upload(ws, pid, officer, "bb" * 32)
    with_a = ws.enqueue(kind="partnership", partnership_id=pid, by=officer,
                        inputs=[{"upload": a, "crosswalk": "k"}, {"upload": b, "crosswalk": "k"}])
    only_b = ws.enqueue(kind="partnership", partnership_id=pid, by=officer,
                        inputs=[{"upload": b, "crosswalk": "k"}])
    assert ws.withdraw_upload(a, officer) == [with_a.id]
    assert ws.job(with_a.id).withdrawn_at is not None
    assert ws.job(only_b.id).withdrawn_at is None


def test_only_one_worker_wins_a_job_and_a_dead_workers_job_fails(ws: Workspace) -> None:
    pid, officer, *_ = _people(ws)
    job = ws.enqueue(kind="partnership", partnership_id=pid, by=officer, inputs=[])
    won: list[object] = []
    threads = [threading.Thread(target=lambda n=n: won.append(ws.claim(f"w{n}")))
               for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [j for j in won if j is not None]
    assert len(claimed) == 1
    assert ws.job(job.id).state == "running"
    assert ws.recover(stale_after=dt.timedelta(hours=1)) == []
    assert ws.recover(stale_after=dt.timedelta(seconds=0)) == [job.id]
    failed = ws.job(job.id)
    assert failed.state == "failed" and "nothing from it was kept" in str(failed.message)
    assert not failed.visible and failed.run_id is None
    ws.finish(job.id, run_id=7)  # a late finish from the dead worker changes nothing
    assert ws.job(job.id).state == "failed"


def test_no_one_changes_their_own_rights_and_only_admins_change_others(ws: Workspace) -> None:
    pid, officer, admin, admin2 = _people(ws)
    with pytest.raises(StoreError, match="your own rights"):
        ws.change_user(ws.user(admin), admin, role="officer", partnership_id=pid)
    with pytest.raises(StoreError, match="only an admin"):
        ws.change_user(ws.user(officer), officer, role="admin")
    with pytest.raises(StoreError, match="only an admin"):
        ws.change_user(ws.user(officer), admin2, role="officer", partnership_id=pid)
    changed = ws.change_user(ws.user(admin), officer, role="analyst", partnership_id=None)
    assert (changed.role, changed.partnership_id) == ("analyst", None)


def test_a_change_of_rights_ends_the_users_sessions(ws: Workspace) -> None:
    pid, officer, admin, _ = _people(ws)
    ws.add_session("t" * 64, officer, dt.timedelta(hours=1))
    assert ws.session_user("t" * 64) is not None
    ws.change_user(ws.user(admin), officer, role="officer", partnership_id=pid, active=False)
    assert ws.session_user("t" * 64) is None


LUTON_X = "crosswalk: luton-x\nversion: 1\ncsp: luton\n"


def test_an_author_cannot_release_their_own_crosswalk(ws: Workspace) -> None:
    pid, officer, admin, admin2 = _people(ws)
    sub = ws.submit_crosswalk(partnership_id=pid, upload_id=None, crosswalk="luton-x",
                              version=1, sha256="0" * 64, text=LUTON_X, report="{}", valid=True,
                              by=admin)
    with pytest.raises(StoreError, match="you submitted this crosswalk"):
        ws.release_submission(sub.id, ws.user(admin), text=LUTON_X + "#2\n", sha256="1" * 64)
    with pytest.raises(StoreError, match="only an admin"):
        ws.release_submission(sub.id, ws.user(officer), text=LUTON_X + "#2\n", sha256="1" * 64)
    ws.release_submission(sub.id, ws.user(admin2), text=LUTON_X + "#2\n", sha256="1" * 64)
    done = ws.submission(sub.id)
    assert (done.status, done.text, done.released_by) == ("released", LUTON_X + "#2\n", admin2)
    twin = ws.submit_crosswalk(partnership_id=pid, upload_id=None, crosswalk="luton-x",
                               version=1, sha256="0" * 64, text=LUTON_X, report="{}", valid=True,
                               by=officer)
    with pytest.raises(StoreError, match="already released"):
        ws.release_submission(twin.id, ws.user(admin2), text=LUTON_X + "#3\n", sha256="2" * 64)


def test_a_crosswalk_naming_another_partnership_is_never_released(ws: Workspace) -> None:
    pid, officer, _admin, admin2 = _people(ws)
    ws.add_partnership("bedford", "Bedford CSP")
    ws.add_partnership("luton-north", "Luton North CSP")
    cases = {
        "crosswalk: bedford-residents-2024\ncsp: bedford\n": "its csp is 'bedford'",
        "crosswalk: bedford-residents-2024\ncsp: luton\n": "set 'csp: luton'|is not one of",
        "crosswalk: luton-residents-2024\ncsp: bedford\n": "set 'csp: luton'",
        "crosswalk: luton-north-residents\ncsp: luton\n": "is not one of Luton CSP's",
        "crosswalk: lutonish\ncsp: luton\n": "name it 'luton-<survey>'",
    }
    for text, message in cases.items():
        assert ws.ownership_problem(pid, text) is not None, text
        sub = ws.submit_crosswalk(partnership_id=pid, upload_id=None, crosswalk="luton-y",
                                  version=1, sha256="0" * 64, text=text, report="{}",
                                  valid=True, by=officer)
        with pytest.raises(StoreError, match=message):
            ws.release_submission(sub.id, ws.user(admin2), text=text, sha256="1" * 64)
        assert ws.submission(sub.id).status == "draft"
    # a draft that is the partnership's own cannot be swapped for another's at release
    own = ws.submit_crosswalk(partnership_id=pid, upload_id=None, crosswalk="luton-x",
                              version=1, sha256="0" * 64, text=LUTON_X, report="{}",
                              valid=True, by=officer)
    with pytest.raises(StoreError, match="its csp is 'bedford'"):
        ws.release_submission(own.id, ws.user(admin2),
                              text=LUTON_X.replace("csp: luton", "csp: bedford"),
                              sha256="1" * 64)
    assert ws.ownership_problem(pid, LUTON_X) is None
    ws.release_submission(own.id, ws.user(admin2), text=LUTON_X, sha256="1" * 64)


def test_the_activity_log_is_append_only_until_a_retention_rule(ws: Workspace) -> None:
    _pid, officer, admin, _ = _people(ws)
    ws.log(ws.user(officer), "upload", "upload 1", "sha256 abc")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), ws.engine.begin() as conn:
        conn.execute(sa.text("UPDATE activity SET actor = 'someone else'"))
    assert ws.activity()[0].actor == "o"
    assert ws.apply_retention(ws.user(admin)) == 0  # no rule: everything is kept
    with ws.engine.begin() as conn:  # an old entry (inserted, not updated)
        conn.execute(sa.text("INSERT INTO activity (at, actor, action, target, detail) "
                             "VALUES ('2000-01-01T00:00:00+00:00', 'x', 'upload', 't', '')"))
    ws.set_setting("retention_days", "365")
    with pytest.raises(StoreError, match="only an admin"):
        ws.apply_retention(ws.user(officer))
    assert ws.apply_retention(ws.user(admin)) == 1
    actions = [e.action for e in ws.activity()]
    assert actions[0] == "retention" and "upload" in actions


def test_job_inputs_and_progress_round_trip(ws: Workspace) -> None:
    pid, officer, *_ = _people(ws)
    job = ws.enqueue(kind="partnership", partnership_id=pid, by=officer,
                     inputs=[{"upload": 4, "crosswalk": "project:x"}])
    assert json.loads(job.inputs) == [{"upload": 4, "crosswalk": "project:x"}]
    assert ws.claim("w") is not None
    ws.progress(job.id, "weight")
    ws.finish(job.id, error="the crosswalk does not fit")
    done = ws.job(job.id)
    assert (done.state, done.steps, done.message) == ("failed", 1, "the crosswalk does not fit")


@pytest.mark.skipif(os.name != "posix", reason="POSIX paths")
def test_a_bad_database_url_is_explained() -> None:
    with pytest.raises(StoreError, match="neither a file path nor a database URL"):
        Workspace("not a url://x")
