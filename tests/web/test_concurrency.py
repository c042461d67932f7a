"""Twenty uploads at once from twenty users over loopback HTTP (a real uvicorn server),
on SQLite and PostgreSQL: every one answered, nothing lost, nothing stored twice (three
of them re-send a partner's file and are recognised as the same upload)."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from server import serving
from webkit import BACKENDS, OFFICERS, PASSWORD, ROOT, database, seed

from harmonise.web.app import build_state, create_app
from harmonise.web.context import WebConfig

USERS = 20
TWINS = {18: 0, 19: 1, 17: 2}  # user -> user whose bytes they send (same partnership)


def export(i: int) -> bytes:
    """A small CSV export, different for every i."""
    rows = "\n".join(f"{r},{'Yes' if (r + i) % 3 else 'No'},{(r * 7 + i) % 5}"
                     for r in range(1, 61))
    return f"id,safe,score\n{rows}\n{i},No,0\n".encode()


def sign_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    assert token
    response = client.post("/signin", data={"csrf": token.group(1), "username": username,
                                             "password": PASSWORD})
    assert response.status_code == 303
    return client


@pytest.mark.parametrize("backend", BACKENDS)
def test_twenty_simultaneous_uploads_lose_and_duplicate_nothing(backend: str,
                                                                tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        config = WebConfig(data_dir=tmp_path / "data", database=url, project_root=ROOT,
                           secure_cookies=False, worker=False)  # plain HTTP on loopback
        state = build_state(config)
        ws = state.ws
        seed(ws)
        digest = ws.user_by_name(OFFICERS["luton"]).password_hash  # type: ignore[union-attr]
        slugs = ["bedford", "central-beds", "luton"]
        names = []
        for i in range(USERS):
            partnership = ws.partnership_by_slug(slugs[i % 3])
            assert partnership is not None
            names.append(ws.add_user(f"load{i}", digest, "officer", partnership.id).username)
        with serving(create_app(config, state=state)) as base:
            clients = [sign_in(base, n) for n in names]
            tokens = [re.search(r'name="csrf" value="([^"]+)"',  # type: ignore[union-attr]
                                c.get("/uploads").text).group(1) for c in clients]
            start = threading.Barrier(USERS)

            def send(i: int) -> tuple[int, str, float]:
                body = export(TWINS.get(i, i))
                start.wait()
                t0 = time.perf_counter()
                r = clients[i].post("/uploads", data={"csrf": tokens[i], "encoding": ""},
                                    files={"file": (f"e{i}.csv", body, "text/csv")})
                return r.status_code, r.headers.get("location", r.text[:200]), \
                    time.perf_counter() - t0

            t0 = time.perf_counter()
            with ThreadPoolExecutor(USERS) as pool:
                results = list(pool.map(send, range(USERS)))
            wall = time.perf_counter() - t0
            for c in clients:
                c.close()
        assert [s for s, _, _ in results] == [303] * USERS, results
        uploads = ws.uploads()
        assert len(uploads) == USERS - len(TWINS)
        assert len({(u.partnership_id, u.sha256) for u in uploads}) == len(uploads)
        where = [loc for _, loc, _ in results]
        for twin, original in TWINS.items():
            assert where[twin] == where[original]
        assert len(set(where)) == USERS - len(TWINS)
        blobs = [p for p in state.blobs.root.rglob("*") if p.is_file()]
        assert len(blobs) == USERS - len(TWINS)
        latencies = sorted(t for _, _, t in results)
        print(f"\n[{backend}] {USERS} concurrent uploads in {wall:.2f} s: "
              f"{USERS / wall:.1f} uploads/s, p95 latency {latencies[18]:.2f} s")
        ws.close()
