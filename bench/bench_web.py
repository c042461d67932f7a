"""Time the web workspace on loopback (run by hand: `make bench-web`).

1. Upload → report: an officer uploads a 3,000-respondent export (the bundled Luton
   residents' CSV, its rows repeated with new ids; each repetition's file differs, so no
   upload is recognised as a re-upload), picks its crosswalk, starts a run, waits for the
   worker to finish it (report with charts) and fetches index.html. p50 / p95 / max over
   --repeats. Goal: p95 < 10 s.
2. Uploads per second: --users officers each upload a different 3,000-respondent export
   at the same moment.

A real uvicorn server in this process, SQLite by default (--database URL for PostgreSQL),
the same app `harmonise serve` runs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

from harmonise.web.app import build_state, create_app
from harmonise.web.auth import hash_password
from harmonise.web.context import WebConfig

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "surveys/luton/residents-2024.csv"
CROSSWALK = "project:luton/residents-2024.v1.yaml"
PASSWORD = "bench password 0123456789"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def export(n: int, salt: int) -> bytes:
    """``n`` respondents: the source rows repeated with fresh ids (cp1252, as bundled)."""
    lines = SOURCE.read_bytes().decode("cp1252").splitlines()
    header, rows = lines[0], lines[1:]
    out = [header]
    for i in range(n):
        rest = rows[i % len(rows)].split(",", 1)[1]
        out.append(f"{salt * 100_000 + i + 1},{rest}")
    return ("\r\n".join(out) + "\r\n").encode("cp1252")


def sign_in(base: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=300)
    token = CSRF.search(client.get("/signin").text).group(1)  # type: ignore[union-attr]
    r = client.post("/signin", data={"csrf": token, "username": username,
                                      "password": PASSWORD})
    assert r.status_code == 303, r.text
    token = CSRF.search(client.get("/uploads").text).group(1)  # type: ignore[union-attr]
    return client, token


def upload(client: httpx.Client, token: str, body: bytes) -> str:
    r = client.post("/uploads", data={"csrf": token, "encoding": "cp1252"},
                    files={"file": ("export.csv", body, "text/csv")})
    assert r.status_code == 303, r.text[:500]
    return str(r.headers["location"])


PHASES: dict[str, list[float]] = {"upload": [], "pick crosswalk": [], "run": [],
                                  "fetch report": []}


def upload_to_report(client: httpx.Client, token: str, body: bytes) -> float:
    t0 = time.perf_counter()
    where = upload(client, token, body)
    t1 = time.perf_counter()
    r = client.post(f"{where}/crosswalk", data={"csrf": token, "crosswalk": CROSSWALK})
    assert r.status_code == 303
    t2 = time.perf_counter()
    r = client.post("/runs", data={"csrf": token})
    assert r.status_code == 303, r.text[:500]
    job = r.headers["location"]
    while True:
        page = client.get(job).text
        state = re.search(r'id="job-state">(\w+)<', page).group(1)  # type: ignore[union-attr]
        if state == "done":
            break
        if state == "failed":
            raise RuntimeError(re.sub(r"<[^>]+>", "", page)[-2000:])
        time.sleep(0.1)
    t3 = time.perf_counter()
    report = client.get(f"{job}/files/index.html")
    assert report.status_code == 200 and "Community safety" in report.text
    t4 = time.perf_counter()
    for name, seconds in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
        PHASES[name].append(seconds)
    return t4 - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--respondents", type=int, default=3000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--database", default=None, help="database URL [default: SQLite]")
    parser.add_argument("--no-charts", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        url = args.database or f"sqlite:///{data / 'workspace.sqlite'}"
        config = WebConfig(data_dir=data / "data", database=url, project_root=ROOT,
                           secure_cookies=False, worker=True, charts=not args.no_charts)
        state = build_state(config)
        ws = state.ws
        partnership = ws.add_partnership("luton", "Luton CSP")
        digest = hash_password(PASSWORD)
        for i in range(max(args.users, 1)):
            ws.add_user(f"officer{i}", digest, "officer", partnership.id)
        server = uvicorn.Server(uvicorn.Config(create_app(config, state=state),
                                               host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        try:
            client, token = sign_in(base, "officer0")
            upload_to_report(client, token, export(args.respondents, 999))  # warm-up
            for values in PHASES.values():
                values.clear()
            times = sorted(upload_to_report(client, token, export(args.respondents, r))
                           for r in range(args.repeats))
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(f"upload → report, {args.respondents:,} respondents, "
                  f"{'no charts' if args.no_charts else 'with charts'}, {ws.dialect}, "
                  f"{len(times)} runs: p50 {statistics.median(times):.2f} s, "
                  f"p95 {p95:.2f} s, max {times[-1]:.2f} s (goal p95 < 10 s)")
            print("  median per phase: " + ", ".join(
                f"{name} {statistics.median(v):.2f} s" for name, v in PHASES.items()))
            sessions = [sign_in(base, f"officer{i}") for i in range(args.users)]
            bodies = [export(args.respondents, 1000 + i) for i in range(args.users)]
            go = threading.Barrier(args.users)

            def send(i: int) -> float:
                go.wait()
                t = time.perf_counter()
                upload(sessions[i][0], sessions[i][1], bodies[i])
                return time.perf_counter() - t

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.users) as pool:
                lat = sorted(pool.map(send, range(args.users)))
            wall = time.perf_counter() - t0
            print(f"{args.users} simultaneous uploads of {len(bodies[0]):,} bytes "
                  f"({args.respondents:,} respondents): {wall:.2f} s, "
                  f"{args.users / wall:.1f} uploads/s, p95 latency "
                  f"{lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]:.2f} s")
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            ws.close()


if __name__ == "__main__":
    main()
