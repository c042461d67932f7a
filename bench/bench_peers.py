"""harmonise against R survey, svy, samplics, balance, ipfn and plain numpy, in one run.

The peers live in ``../shared/peer-bench`` beside the repository (read-only; it writes data,
results and two virtual environments beside itself), so this script works on a copy::

    .venv/bin/python bench/bench_peers.py run 10000 100000          # all tools, REPS=3
    .venv/bin/python bench/bench_peers.py run --tools harmonise svy numpy_floor r_survey \\
        --reps 3 1000000
    .venv/bin/python bench/bench_peers.py agree 10000               # max rel. diff to R
    .venv/bin/python bench/bench_peers.py summary                   # tables + goals of issue 6
    .venv/bin/python bench/bench_peers.py scale 1000000 10000000    # harmonise alone, 1M → 10M

``run`` copies the peer bench to ``--work`` (default /tmp/peer-bench) when it is not there
yet, runs its ``setup.sh`` (R survey from Debian, two pip venvs) when the venvs are missing,
generates the data, and runs the peer-bench's round-robin ``runner.py`` with one more tool,
``harmonise`` (``bench/peers/harmonise_job.py`` under this repository's .venv), so every tool
runs once per round, in its own process, under the same machine load. ``summary`` writes
``<work>/results/summary_harmonise.md`` and a copy in ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shutil
import statistics as st
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "peer-bench"
JOB = ROOT / "bench" / "peers" / "harmonise_job.py"
OUT = ROOT / "bench" / "results"
#: README figures of R survey at 1M (used only when not measured in the run, and said so).
R_C_1M_README_S = 294.0
R_A_1M_README_S = 6.5


def work_copy(work: Path) -> Path:
    """The writable copy of the peer bench, made from ../shared/peer-bench if needed."""
    if not (work / "runner.py").is_file():
        if not (SHARED / "runner.py").is_file():
            raise SystemExit(
                f"peer benchmark not found at {SHARED} (expected ../shared/peer-bench beside "
                f"the repository {ROOT}); it holds the peers' scripts this benchmark runs"
            )
        shutil.copytree(SHARED, work, ignore=shutil.ignore_patterns(".venv*", "data", "results"))
    return work


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cmd_run(a: argparse.Namespace) -> None:
    work = work_copy(Path(a.work))
    if not ((work / ".venv/bin/python").exists() and (work / ".venv-balance/bin/python").exists()):
        subprocess.run(["bash", str(work / "setup.sh")], check=True)
    py = str(work / ".venv/bin/python")
    for n in a.sizes:
        if not (work / f"data/resp_{n}.csv").exists():
            subprocess.run([py, "gen.py", str(n)], cwd=work, check=True)
    subprocess.run([py, "gen.py", "--margins-only"], cwd=work, check=True)
    os.environ["HARMONISE_PEER_BENCH"] = str(work)
    runner = _load("peer_runner", work / "runner.py")
    runner.TOOLS["harmonise"] = [sys.executable, str(JOB)]
    if a.cap:
        runner.CAP_S = a.cap
    tools = a.tools or list(runner.TOOLS)
    argv = [
        "runner.py",
        "--sizes",
        *map(str, a.sizes),
        "--reps",
        str(a.reps),
        "--results",
        str(work / "results"),
        "--tools",
        *tools,
    ]
    sys.argv = argv
    runner.main()


# ---------------------------------------------------------------- summary


def _records(res: Path) -> list[dict]:
    recs = [json.loads(p.read_text()) for p in sorted(res.glob("*_*_*.json"))]
    return [r for r in recs if "runner" in r]


def fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 0.1:
        return f"{x:.2f}"
    if x >= 0.001:
        return f"{x:.3f}"
    return f"{x:.1e}"


TOOL_ORDER = [
    "harmonise",
    "numpy_floor",
    "svy",
    "r_survey",
    "r_survey_C",
    "samplics",
    "balance",
    "ipfn",
    "weightipy",
    "weightipy_percsp",
]
JOBS = ["A_rake", "A_rake_cells", "B_est", "B_est_vec", "C_est_raked_design", "C_est_vec"]
#: The library as it is, and the prototypes in bench/peers/ (the memory goal is the library's).
LIBRARY_JOBS = ["A_rake", "B_est", "C_est_raked_design"]
PROTOTYPE_JOBS = ["A_rake_cells", "B_est_vec", "C_est_vec"]


def cmd_summary(a: argparse.Namespace) -> None:
    res = Path(a.work) / "results"
    recs = _records(res)
    times: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    peaks: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    info: dict[tuple[str, int], dict] = {}
    by_round: dict[tuple[str, int, int], dict[str, float]] = defaultdict(dict)
    for r in recs:
        if r["runner"].get("timed_out") or r["runner"].get("returncode"):
            continue
        for job, s in r.get("times_s", {}).items():
            times[(r["tool"], r["n"], job)].append(s)
            by_round[(r["tool"], r["n"], r["rep"])][job] = s
            pk = r.get("peak_rss_mib", {}).get(job)
            if pk is not None:
                peaks[(r["tool"], r["n"], job)].append(pk)
        info[(r["tool"], r["n"])] = r.get("info", {})
    ns = sorted({r["n"] for r in recs})
    tools = [t for t in TOOL_ORDER if any(k[0] == t for k in times)]
    tools += sorted({k[0] for k in times} - set(tools))
    out = [
        "# harmonise vs peers: one run",
        "",
        "Seconds, min / median over the rounds (count in brackets) · median peak RSS MiB of "
        "the job (high-water mark reset before it; includes the loaded data). "
        "'harmonise' A_rake, B_est and C_est_raked_design are the library as it is; "
        "A_rake_cells, B_est_vec and C_est_vec are the prototypes in bench/peers/.",
        "",
    ]
    load = os.getloadavg()
    out.append(f"Load average when summarised: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)")
    out.append("")
    for job in JOBS:
        rows = []
        for tool in tools:
            key_job = job
            if tool == "r_survey_C" and job != "C_est_raked_design":
                continue
            cells = []
            for n in ns:
                v = times.get((tool, n, key_job))
                p = peaks.get((tool, n, key_job))
                cells.append(
                    f"{fmt(min(v))} / {fmt(st.median(v))} ({len(v)}) · "
                    f"{fmt(st.median(p)) if p else '–'}"
                    if v
                    else "–"
                )
            if any(c != "–" for c in cells):
                rows.append(f"| {tool} | " + " | ".join(cells) + " |")
        if rows:
            out += [
                f"## {job}",
                "",
                "| tool | " + " | ".join(f"N={n:,}" for n in ns) + " |",
                "|---|" + "---|" * len(ns),
                *rows,
                "",
            ]
    out += goals(times, peaks, info, by_round, ns)
    txt = "\n".join(out) + "\n"
    (res / "summary_harmonise.md").write_text(txt)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "peers_summary.md").write_text(txt)
    print(txt)


def _med(times: dict, tool: str, n: int, job: str) -> float | None:
    v = times.get((tool, n, job))
    return st.median(v) if v else None


def goals(times: dict, peaks: dict, info: dict, by_round: dict, ns: list[int]) -> list[str]:
    """Issue 6's speed goals at the largest N measured for harmonise."""
    hn = [n for n in ns if (("harmonise", n, "A_rake") in times)]
    if not hn:
        return []
    n = max(hn)
    out = [f"## Goals of issue 6 at N = {n:,} (medians)", ""]
    variants = {
        "library": ("A_rake", "C_est_raked_design", "B_est"),
        "prototype": ("A_rake_cells", "C_est_vec", "B_est_vec"),
    }
    r_a = _med(times, "r_survey", n, "A_rake")
    r_c = _med(times, "r_survey_C", n, "C_est_raked_design")
    r_note = ""
    if n == 1_000_000 and (r_a is None or r_c is None):
        r_note = " (R not run at 1M: README figures A 6.5 s + C 294 s, unloaded machine)"
        r_a = R_A_1M_README_S if r_a is None else r_a
        r_c = R_C_1M_README_S if r_c is None else r_c
    svy = [_med(times, "svy", n, j) for j in ("A_rake", "C_est_raked_design")]
    svy_whole = sum(svy) if None not in svy else None  # type: ignore[arg-type]
    r_whole = r_a + r_c if r_a is not None and r_c is not None else None
    out += [
        "| harmonise | whole job A+C s | × faster than svy (goal ≥ 10) | "
        "× faster than R (goal ≥ 100) | A / numpy floor A | B / numpy floor B (goal ≤ 3) |",
        "|---|---|---|---|---|---|",
    ]
    fa, fb = _med(times, "numpy_floor", n, "A_rake"), _med(times, "numpy_floor", n, "B_est")
    for name, (ja, jc, jb) in variants.items():
        a, c, b = (_med(times, "harmonise", n, j) for j in (ja, jc, jb))
        if a is None or c is None:
            continue
        whole = a + c

        def ratio(x: float | None, y: float | None) -> str:
            return f"{x / y:.3g}" if x is not None and y is not None and y > 0 else "–"

        out.append(
            f"| {name} ({ja} + {jc}) | {fmt(whole)} | {ratio(svy_whole, whole)} | "
            f"{ratio(r_whole, whole)}{r_note} | {ratio(a, fa)} | {ratio(b, fb)} |"
        )
    out.append("")
    peers_a = {
        t: _med(times, t, n, "A_rake")
        for t in ("r_survey", "svy", "samplics", "balance", "ipfn", "weightipy_percsp")
    }
    peers_a = {t: v for t, v in peers_a.items() if v is not None}
    for ja in ("A_rake", "A_rake_cells"):
        mine = _med(times, "harmonise", n, ja)
        if mine is None or not peers_a:
            continue
        fastest = min(peers_a, key=lambda t: peers_a[t])
        verdict = "yes" if mine < peers_a[fastest] else "no"
        out.append(
            f"- raking faster than every peer ({ja}): {verdict} — {fmt(mine)} s vs "
            f"fastest peer {fastest} {fmt(peers_a[fastest])} s"
        )
    # linear growth
    lo = [m for m in ns if m < n and ("harmonise", m, "A_rake") in times]
    if lo:
        m = max(lo)
        parts = []
        for j in JOBS:
            x, y = _med(times, "harmonise", m, j), _med(times, "harmonise", n, j)
            if x and y:
                parts.append(f"{j} {math.log(y / x) / math.log(n / m):.2f}")
        out.append(f"- growth {m:,} → {n:,}, log-log slope (1 = linear): " + ", ".join(parts))
    hinfo = info.get(("harmonise", n), {})
    data = hinfo.get("data_mib")
    if data:
        for label, jobs in (("library", LIBRARY_JOBS), ("prototypes", PROTOTYPE_JOBS)):
            seen = [st.median(peaks[("harmonise", n, j)]) for j in jobs
                    if ("harmonise", n, j) in peaks]
            if not seen:
                continue
            worst = max(seen)
            base = hinfo.get("rss_before_load_mib")
            net = (
                f"; net of the interpreter and libraries ({fmt(base)} MiB before loading): "
                f"{(worst - base) / data:.2f}×" if base else ""
            )
            verdict = "met" if worst / data <= 3 else "not met"
            out.append(
                f"- peak RSS of the {label} jobs ({', '.join(jobs)}): {fmt(worst)} MiB = "
                f"{worst / data:.2f}× the loaded frame ({fmt(data)} MiB; goal ≤ 3×: "
                f"{verdict}){net}"
            )
        if hinfo.get("loader_heap_returned"):
            out.append(
                f"- the CSV loader's freed heap was handed back after loading (RSS "
                f"{fmt(hinfo.get('rss_after_load_mib'))} → "
                f"{fmt(hinfo.get('rss_after_trim_mib'))} MiB); the peers load Parquet"
            )
    out.append(
        f"- harmonise raking: {hinfo.get('iterations')} sweeps, max margin error "
        f"{hinfo.get('margin_rel_err', float('nan')):.1e} of the cell target; cell "
        f"prototype vs library weights: {hinfo.get('cells_rel_diff_to_rake', float('nan')):.1e}"
    )
    out.append("")
    return out


# ---------------------------------------------------------------- scale (harmonise alone)


def cmd_scale(a: argparse.Namespace) -> None:
    """The same job with harmonise alone at each size (issue 16: 3–9M respondents, every
    partnership × ten waves): seconds per job, peak RSS against the loaded frame, the
    log-log slope between sizes, and the load average beside each run."""
    work = work_copy(Path(a.work))
    gen = _load("peer_gen", work / "gen.py")
    data = work / "data"
    data.mkdir(exist_ok=True)
    gen.margins().to_csv(data / "margins.csv", index=False)
    for n in a.sizes:
        path = data / f"resp_{n}.csv"
        if not path.exists():  # the peers' gen.py also writes Parquet, which needs pyarrow
            tmp = path.with_suffix(".csv.part")
            gen.generate(n).to_csv(tmp, index=False)
            tmp.replace(path)
    res = work / "results_scale"
    res.mkdir(exist_ok=True)
    env = os.environ | {
        "HARMONISE_PEER_BENCH": str(work),
        "HARMONISE_BENCH_JOBS": "library",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    for rep in range(1, a.reps + 1):
        for n in a.sizes:
            out = res / f"harmonise_{n}_{rep}.json"
            before = os.getloadavg()[0]
            subprocess.run(
                [sys.executable, str(JOB), "--n", str(n), "--rep", str(rep), "--out", str(out)],
                cwd=work, env=env, check=True, stdout=subprocess.DEVNULL,
            )
            record = json.loads(out.read_text())
            record["load_average"] = [before, os.getloadavg()[0]]
            out.write_text(json.dumps(record))
    txt = scale_summary(res, a.sizes)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale_summary.md").write_text(txt)
    print(txt)


def scale_summary(res: Path, sizes: list[int]) -> str:
    jobs = ["load", *LIBRARY_JOBS]
    recs = [json.loads(p.read_text()) for p in sorted(res.glob("harmonise_*_*.json"))]
    out = [
        "| N | " + " | ".join(jobs) + " | peak RSS MiB | frame MiB | peak / frame | load avg |",
        "|---|" + "---|" * (len(jobs) + 4),
    ]
    med: dict[tuple[int, str], float] = {}
    for n in sizes:
        mine = [r for r in recs if r["n"] == n]
        if not mine:
            continue
        cells = []
        for j in jobs:
            v = [r["times_s"][j] for r in mine if j in r.get("times_s", {})]
            if v:
                med[(n, j)] = st.median(v)
            cells.append(f"{fmt(min(v))} / {fmt(st.median(v))}" if v else "–")
        peak = st.median(
            [max(r["peak_rss_mib"].get(j, 0.0) for j in LIBRARY_JOBS) for r in mine]
        )
        frame = st.median([r["info"]["data_mib"] for r in mine])
        loads = [x for r in mine for x in r.get("load_average", [])]
        out.append(
            f"| {n:,} | " + " | ".join(cells) + f" | {fmt(peak)} | {fmt(frame)} | "
            f"{peak / frame:.2f} | {min(loads):.1f}–{max(loads):.1f} |"
        )
    if len(sizes) > 1:
        lo, hi = min(sizes), max(sizes)
        slopes = [
            f"{j} {math.log(med[(hi, j)] / med[(lo, j)]) / math.log(hi / lo):.2f}"
            for j in jobs
            if (lo, j) in med and (hi, j) in med
        ]
        out += ["", f"log-log slope {lo:,} → {hi:,} (1 = linear): " + ", ".join(slopes)]
    return "\n".join(["Seconds, min / median of the runs.", "", *out]) + "\n"


# ---------------------------------------------------------------- agreement


def cmd_agree(a: argparse.Namespace) -> None:
    work = work_copy(Path(a.work))
    n = a.n
    d = work / "data" / f"dump_{n}"
    d.mkdir(parents=True, exist_ok=True)
    py = str(work / ".venv/bin/python")
    if not (work / f"data/resp_{n}.csv").exists():
        subprocess.run([py, "gen.py", str(n)], cwd=work, check=True)
    subprocess.run([py, "gen.py", "--margins-only"], cwd=work, check=True)
    r_cmd = ["Rscript", "bench_r.R", "--n", str(n), "--dump", str(d)]
    if not (d / "r_survey_est.csv").exists():
        subprocess.run([*r_cmd, "--out", str(d / "r_survey_info.json")], cwd=work, check=True)
    if not (d / "r_survey_tight_est.csv").exists():
        subprocess.run([*r_cmd, "--tight", "--skip-b"], cwd=work, check=True)
    env = os.environ | {"HARMONISE_PEER_BENCH": str(work)}
    base = [sys.executable, str(JOB), "--n", str(n), "--dump", str(d)]
    for extra in ([], ["--tight"], ["--weights-from", str(d / "r_survey_weights.csv")]):
        subprocess.run([*base, *extra], cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
    txt = agreement(d, n)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"agreement_{n}.md").write_text(txt)
    print(txt)


def agreement(d: Path, n: int) -> str:
    import numpy as np
    import pandas as pd

    key = ["job", "indicator", "domain", "csp", "sex"]

    def weights(name: str) -> np.ndarray | None:
        p = d / f"{name}_weights.csv"
        return pd.read_csv(p).sort_values("resp_id")["w"].to_numpy() if p.exists() else None

    def est(name: str) -> pd.DataFrame | None:
        p = d / f"{name}_est.csv"
        if not p.exists():
            return None
        return pd.read_csv(p, keep_default_na=False, dtype={"sex": str})

    def rel(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.max(np.abs(np.asarray(x, float) / np.asarray(y, float) - 1)))

    lines = [
        f"# harmonise vs R survey {n:,} rows: max relative difference",
        "",
        "| quantity | R setting | harmonise library | harmonise prototype |",
        "|---|---|---|---|",
    ]
    for sfx, label in (("", "bench (1e-7, 100 it.)"), ("_tight", "tight (1e-12, 1000 it.)")):
        r = weights(f"r_survey{sfx}")
        lib, vec = weights(f"harmonise{sfx}"), weights(f"harmonise_vec{sfx}")
        if r is not None and lib is not None and vec is not None:
            lines.append(f"| raked weights | {label} | {rel(lib, r):.2e} | {rel(vec, r):.2e} |")
    for sfx, rsfx, jobs, label in (
        ("", "", ("B", "C"), "bench, own weights"),
        ("_tight", "_tight", ("C",), "tight, own weights"),
        ("_rw", "", ("B",), "fed R's raked weights"),
    ):
        r = est(f"r_survey{rsfx}")
        lib, vec = est(f"harmonise{sfx}"), est(f"harmonise_vec{sfx}")
        if r is None or lib is None or vec is None:
            continue
        for job in jobs:
            cells = []
            for x in (lib, vec):
                m = r[r.job == job].merge(x[x.job == job], on=key, suffixes=("_r", "_x"))
                if len(m) != 180:
                    raise SystemExit(f"job {job}: {len(m)} matched estimates, expected 180")
                cells.append(f"est {rel(m.est_x, m.est_r):.1e}, SE {rel(m.se_x, m.se_r):.1e}")
            lines.append(f"| {job} estimates (180) | {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--work", default="/tmp/peer-bench", help="writable copy of the peer bench")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="round-robin timing of harmonise and the peers")
    r.add_argument("sizes", type=int, nargs="+")
    r.add_argument("--reps", type=int, default=int(os.environ.get("REPS", "3")))
    r.add_argument("--tools", nargs="+", default=None, help="default: every tool + harmonise")
    r.add_argument(
        "--cap",
        type=int,
        default=None,
        help="seconds before a tool's process is stopped (the peer runner's default is 600; "
        "R's calibration-aware job at 1M rows needs ~300 s on an idle machine)",
    )
    g = sub.add_parser("agree", help="max relative difference of harmonise to R")
    g.add_argument("n", type=int, nargs="?", default=10_000)
    sub.add_parser("summary", help="tables and the goals of issue 6")
    sc = sub.add_parser("scale", help="harmonise alone at each size (e.g. 1M and 10M rows)")
    sc.add_argument("sizes", type=int, nargs="+")
    sc.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    commands = {"run": cmd_run, "agree": cmd_agree, "summary": cmd_summary, "scale": cmd_scale}
    commands[a.cmd](a)


if __name__ == "__main__":
    main()
