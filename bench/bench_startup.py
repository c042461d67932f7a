"""Start-up of the command line: ``harmonise --help`` and ``harmonise estimate`` on a 200-row
file (issue 16's goals on this machine kind: under 0.3 s and 0.8 s).

Each command runs ``--repeats`` times in a fresh interpreter with this checkout's sources
(``PYTHONPATH=src``): wall time and the child's CPU time (user + system) per run, min and
median. Then once under ``python -X importtime``: the slowest imports by cumulative time, so
what start-up spends is named. The load average is printed beside the numbers (compare
only figures measured in one run)::

    .venv/bin/python bench/bench_startup.py --repeats 7
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics as st
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results"
DATA = ROOT / "tests" / "data" / "api" / "apistrat.csv"  # 200 rows
DESIGN = "strata: stype\nweights: pw\nfpc: [fpc]\n"
MAIN = "import sys; from harmonise.cli import main; sys.argv[0] = 'harmonise'; main()"


def commands(design: Path) -> dict[str, list[str]]:
    estimate = ["estimate", str(DATA), "--design", str(design), "--mean", "api00"]
    estimate += ["--total", "enroll", "--proportion", "sch.wide"]
    return {"harmonise --help": ["--help"], "harmonise estimate (200 rows)": estimate}


def _env() -> dict[str, str]:
    return os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    }


def timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", MAIN, *args], env=_env(), check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def slowest_imports(args: list[str], top: int) -> list[tuple[float, str]]:
    """``(cumulative seconds, module)`` of the ``top`` slowest imports (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", MAIN, *args], env=_env(), check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    rows: list[tuple[float, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        rows.append((int(cumulative) / 1e6, name.rstrip()))
    # a top-level import's name has one leading space, a nested one more
    total = sum(seconds for seconds, name in rows if not name.startswith("  "))
    rows.sort(reverse=True)
    return [(total, "(all top-level imports)"), *rows[:top]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--top", type=int, default=12, help="slowest imports to list")
    a = ap.parse_args()
    lines = [
        f"Start-up, {a.repeats} runs each (fresh interpreter, this checkout's sources); "
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} cores)",
        "",
        "| command | wall s min / median | CPU s min / median |",
        "|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        design = Path(tmp) / "design.yaml"
        design.write_text(DESIGN, encoding="utf-8")
        cmds = commands(design)
        for name, args in cmds.items():
            timed(args)  # warm the file cache once
            runs = [timed(args) for _ in range(a.repeats)]
            walls, cpus = [w for w, _ in runs], [c for _, c in runs]
            lines.append(
                f"| `{name}` | {min(walls):.3f} / {st.median(walls):.3f} | "
                f"{min(cpus):.3f} / {st.median(cpus):.3f} |"
            )
        lines.append("")
        lines.append(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for name, args in cmds.items():
            lines += ["", f"Slowest imports of `{name}` (cumulative s, `-X importtime`):", ""]
            lines += [f"- {s:.3f} {m.strip()}" for s, m in slowest_imports(args, a.top)]
    txt = "\n".join(lines) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "startup.md").write_text(txt, encoding="utf-8")
    print(txt)


if __name__ == "__main__":
    main()
