"""Time the main job on the bundled synthetic surveys (run by hand: `make bench`).

Prints min / median seconds over --repeats runs for each stage, then the acceptance
figure: the whole `harmonise run` command (a fresh process: imports included) in wall
seconds, with its CPU seconds beside it (on a shared machine the CPU time is the steadier
figure). --src runs another source tree's command (e.g. an older commit unpacked with
`git archive <commit> | tar -x -C /tmp/before`) for a before/after measurement. The peer
comparison (R survey, svy, samplics, balance, ipfn on 10k-1M rows) is run from
../shared/peer-bench; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def command_times(src: Path, repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of `harmonise run` on the bundled manifest, fresh processes."""
    walls, cpus = [], []
    env = dict(os.environ, PYTHONPATH=str(src))
    code = "import sys; from harmonise.cli import main; sys.exit(main())"
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", code, "run", "--root", str(ROOT), "--manifest",
                 str(ROOT / "surveys/manifest.yaml"), "--out", tmp, "--store",
                 str(Path(tmp) / "store.sqlite")],
                check=True, env=env, capture_output=True)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="source tree whose `harmonise run` is timed [default: this one]")
    parser.add_argument("--command-only", action="store_true",
                        help="time only the whole command (e.g. for --src of an old commit)")
    args = parser.parse_args()
    if not args.command_only:
        from harmonise.pipeline import run
        from harmonise.report import report_data, write_report

        manifest = ROOT / "surveys/manifest.yaml"
        lo, med, result = timed(lambda: run(manifest, root=ROOT), args.repeats)
        print(f"{'stage':<40} {'min s':>8} {'median s':>9}")
        print(f"{'ingest → compare (5 surveys)':<40} {lo:8.3f} {med:9.3f}")
        lo, med, data = timed(lambda: report_data(result), args.repeats)
        print(f"{'report data (published tables)':<40} {lo:8.3f} {med:9.3f}")
        with tempfile.TemporaryDirectory() as tmp:
            lo, med, _ = timed(lambda: write_report(data, Path(tmp), charts=False),
                               args.repeats)
            print(f"{'report without charts':<40} {lo:8.3f} {med:9.3f}")
            lo, med, _ = timed(lambda: write_report(data, Path(tmp)), args.repeats)
            print(f"{'report with charts':<40} {lo:8.3f} {med:9.3f}")
    walls, cpus = command_times(args.src, args.repeats)
    print(f"{'harmonise run (whole command, wall)':<40} {min(walls):8.3f} "
          f"{statistics.median(walls):9.3f}")
    print(f"{'harmonise run (whole command, CPU)':<40} {min(cpus):8.3f} "
          f"{statistics.median(cpus):9.3f}")


if __name__ == "__main__":
    main()
