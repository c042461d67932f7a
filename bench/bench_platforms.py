"""Platform-export benchmark: read_survey on each real export of the shared folder.

    python bench/bench_platforms.py [--repeats 3] [--folder /work/shared/peer-data/platforms]

Times ``harmonise.ingest.read_survey`` (layout detection, option-column grouping, the
Google Forms split, the privacy screen) on every .csv and .xlsx file of the folder and
prints, per file, rows × columns, the platform recognised and the min and median seconds
of ``--repeats`` runs. The files are read where they are (never copied).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from harmonise.ingest import read_survey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=Path("/work/shared/peer-data/platforms"))
    args = parser.parse_args()
    files = sorted(p for p in args.folder.glob("*.*") if p.suffix in (".csv", ".xlsx"))
    if not files:
        print(f"skipped: no .csv or .xlsx exports in {args.folder}")
        return
    print(f"{'file':<42} {'rows x cols':>12} {'platform':<16} {'min s':>7} {'median s':>9}")
    for path in files:
        times = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            survey = read_survey(path)
            times.append(time.perf_counter() - began)
        shape = f"{survey.data.shape[0]}x{survey.data.shape[1]}"
        print(f"{path.name:<42} {shape:>12} {survey.codebook.platform or '-':<16} "
              f"{min(times):>7.3f} {statistics.median(times):>9.3f}")


if __name__ == "__main__":
    main()
