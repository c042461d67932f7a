"""Time the main job's stages on the bundled synthetic surveys (run by hand: `make bench`).

Prints min / median seconds over --repeats runs for each stage, so a change that slows a
stage shows up. The peer comparison (R survey, svy, samplics, balance, ipfn on 10k-1M rows)
is run from ../shared/peer-bench; see bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harmonise.pipeline import run
from harmonise.report import write_report

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    manifest = ROOT / "surveys/manifest.yaml"
    lo, med, result = timed(lambda: run(manifest, root=ROOT), args.repeats)
    print(f"{'stage':<34} {'min s':>8} {'median s':>9}")
    print(f"{'ingest → compare (4 surveys)':<34} {lo:8.3f} {med:9.3f}")
    with tempfile.TemporaryDirectory() as tmp:
        lo, med, _ = timed(lambda: write_report(result, Path(tmp), charts=False), args.repeats)
        print(f"{'report without charts':<34} {lo:8.3f} {med:9.3f}")
        lo, med, _ = timed(lambda: write_report(result, Path(tmp)), args.repeats)
        print(f"{'report with charts':<34} {lo:8.3f} {med:9.3f}")


if __name__ == "__main__":
    main()
