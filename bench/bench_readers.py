"""Reader benchmark: harmonise's read_survey against the bare reader, in the same run.

    python bench/bench_readers.py [--rows 200000] [--cols 150] [--xlsx-rows 20000] [--repeats 3]

Generates a SYNTHETIC .sav (pyreadstat.write_sav) and .xlsx (openpyxl write-only mode) of
``--cols`` variables (an id, coded 1-5 answers with value labels and a user-missing 98/99,
and a few text columns) into a temporary folder, then times, alternating, the bare reader
(``pyreadstat.read_sav(user_missing=True)`` / ``pandas.read_excel(engine="openpyxl")``)
and ``harmonise.ingest.read_survey`` (which adds the checks, hashing, codebook, privacy
screen, date and multi-select detection). Prints min and median seconds of ``--repeats``
runs and the overhead ratio of the medians (goal: at most 1.5×).

The .xlsx defaults to 20,000 rows: writing and reading a 200,000 × 150 workbook takes
minutes per run with openpyxl (both readers parse the same XML), so ``--xlsx-rows``
scales it down; pass ``--xlsx-rows 200000`` for the full size.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat

from harmonise.ingest import read_survey

LABELS = {1: "Very safe", 2: "Fairly safe", 3: "Neither", 4: "Fairly unsafe",
          5: "Very unsafe", 98: "Don't know", 99: "No answer"}
WARDS = ["Castle", "Putnoe", "Wootton", "Brickhill", "Kingsbrook"]


def frame(rows: int, cols: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {"RESPID": np.arange(1, rows + 1, dtype=float)}
    n_text = min(5, max(0, cols - 2))
    for j in range(cols - 1 - n_text):
        codes = rng.choice([1, 2, 3, 4, 5, 98, 99], size=rows,
                           p=[.2, .3, .2, .15, .1, .03, .02]).astype(float)
        codes[rng.random(rows) < 0.02] = np.nan
        data[f"Q{j + 1}"] = codes
    for j in range(n_text):
        data[f"T{j + 1}"] = rng.choice(WARDS, size=rows)
    return pd.DataFrame(data)


def write_sav(df: pd.DataFrame, path: Path) -> None:
    coded = [c for c in df.columns if c.startswith("Q")]
    pyreadstat.write_sav(
        df, str(path),
        column_labels={c: f"How safe do you feel ({c})?" for c in coded},
        variable_value_labels={c: {float(k): v for k, v in LABELS.items()} for c in coded},
        missing_ranges={c: [98, 99] for c in coded})


def write_xlsx(df: pd.DataFrame, path: Path) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Responses")
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([None if isinstance(v, float) and v != v else
                   (int(v) if isinstance(v, float) else v) for v in row])
    wb.save(path)


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def compare(name: str, path: Path, bare: Callable[[], object], repeats: int,
            shape: str) -> None:
    bare_t: list[float] = []
    ours_t: list[float] = []
    for _ in range(repeats):  # alternate so drift hits both alike
        bare_t += timed(bare, 1)
        ours_t += timed(lambda: read_survey(path, max_bytes=10**11), 1)
    bm, om = statistics.median(bare_t), statistics.median(ours_t)
    print(f"| {name} | {shape} | {min(bare_t):.2f} / {bm:.2f} | {min(ours_t):.2f} / {om:.2f} "
          f"| {om / bm:.2f}× |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--cols", type=int, default=150)
    ap.add_argument("--xlsx-rows", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sav, xlsx = Path(tmp) / "bench.sav", Path(tmp) / "bench.xlsx"
        t0 = time.perf_counter()
        write_sav(frame(args.rows, args.cols), sav)
        t1 = time.perf_counter()
        write_xlsx(frame(args.xlsx_rows, args.cols), xlsx)
        t2 = time.perf_counter()
        print(f"SYNTHETIC files generated: .sav {sav.stat().st_size / 1e6:.0f} MB in "
              f"{t1 - t0:.1f}s, .xlsx {xlsx.stat().st_size / 1e6:.0f} MB in {t2 - t1:.1f}s\n")
        print("| format | rows × vars | bare reader min / median s | harmonise min / median s "
              "| overhead (medians) |")
        print("| --- | --- | --- | --- | --- |")
        compare(".sav", sav, lambda: pyreadstat.read_sav(str(sav), user_missing=True),
                args.repeats, f"{args.rows:,} × {args.cols}")
        compare(".xlsx", xlsx, lambda: pd.read_excel(xlsx, engine="openpyxl"), args.repeats,
                f"{args.xlsx_rows:,} × {args.cols}")


if __name__ == "__main__":
    main()
