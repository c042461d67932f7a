"""harmonise on the peer benchmark's job, in the peer-bench format (one JSON record per run).

Run by ``bench/bench_peers.py`` (through the peer-bench's ``runner.py``), or by hand::

    HARMONISE_PEER_BENCH=/tmp/peer-bench .venv/bin/python bench/peers/harmonise_job.py --n 10000

It takes the same arguments as the peers' ``bench_*.py`` (``--n --rep --out --dump --tight
--weights-from``) and imports the peer-bench's ``common.py`` (timing, per-job peak RSS,
dumps), found from ``$HARMONISE_PEER_BENCH``, the working directory, or
``../shared/peer-bench`` beside the repository.

Jobs (seconds and peak RSS each):
  load                 pandas.read_csv, the four rake variables as categoricals (as R's load
                       makes factors); the 20 indicators as one float64 matrix (NaN =
                       missing) are prepared untimed, as in bench_numpy_floor.py
  A_rake               the library: ``harmonise.weight.rake`` on the respondents, one call
                       with area-crossed margins (area|sex, area|age band, area|ethnicity),
                       epsilon = tolerance on R's scale (× total), category codes and
                       targets built inside the job
  A_rake_cells         the same public ``rake`` on the 180 area × sex × age × ethnicity cells
                       (weights summed per cell), respondent weight = base × cell ratio:
                       identical fixed point, a prototype of what ``rake`` could do inside
  B_est                the library: ``Design(weights, strata, clusters)`` and
                       ``proportions_by(design, Y, domains)`` once per partition (by area,
                       by area × sex): 20 indicators × 9 domains in 2 calls
                       (``HARMONISE_BENCH_JOBS=scalar``: one ``proportion()`` per
                       indicator × domain, 180 calls, as before the vectorised path)
  C_est_raked_design   the same with ``Design(raking=...)`` (SEs credit the raking)
  B_est_vec, C_est_vec the prototype in ``domains.py``: all indicators × domains per call

``HARMONISE_BENCH_JOBS=prototype`` (or ``library``) runs only one kind of B/C job.
``rake`` itself now rakes the occupied cells (what ``A_rake_cells`` prototyped).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _peer_bench() -> Path:
    env = os.environ.get("HARMONISE_PEER_BENCH")
    candidates = ([Path(env)] if env else []) + [Path.cwd(), REPO.parent / "shared" / "peer-bench"]
    for c in candidates:
        if (c / "common.py").is_file() and (c / "gen.py").is_file():
            return c.resolve()
    raise SystemExit(
        "peer benchmark not found: looked for common.py in "
        + ", ".join(str(c) for c in candidates)
        + ". It lives in ../shared/peer-bench beside the repository; copy it somewhere "
        "writable (cp -r ../shared/peer-bench /tmp/peer-bench) and set "
        "HARMONISE_PEER_BENCH=/tmp/peer-bench, or run bench/bench_peers.py, which does both"
    )


PEER = _peer_bench()
sys.path.insert(0, str(PEER))
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402  (found at run time in the peer bench)
    INDICATORS,
    RAKE_VARS,
    Recorder,
    dump,
    load_margins,
    margin_error,
    parse_args,
    read_weights,
    versions,
)
from domains import design_tables, proportions  # noqa: E402

from harmonise.estimate import Design, proportion, proportions_by  # noqa: E402
from harmonise.weight import Margin, RakeResult, rake  # noqa: E402

args = parse_args("harmonise")
R = Recorder("harmonise", args, versions("harmonise", "numpy", "pandas", "scipy"))


def rss_mib() -> float:
    """Resident set size of this process now (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def malloc_trim() -> bool:
    """glibc ``malloc_trim(0)``: return freed heap pages to the OS (False where unavailable)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False


R.info(rss_before_load_mib=rss_mib())  # interpreter + numpy/pandas/scipy/harmonise
CATS = ["csp", *RAKE_VARS]
with R.job("load"):
    df = pd.read_csv(f"{args.data}/resp_{args.n}.csv", dtype=dict.fromkeys(CATS, "category"))
R.info(rss_after_load_mib=rss_mib())
# pandas' CSV parser frees its buffers but glibc keeps the freed heap (~1x the frame at 1M
# rows); the peers load Parquet through Arrow's allocator and do not carry it. Hand it back
# once, so the jobs' peaks measure harmonise, not the loader. Nothing live is touched.
R.info(loader_heap_returned=malloc_trim())
R.info(rss_after_trim_mib=rss_mib())
mg = load_margins(args.data)
#: HARMONISE_BENCH_JOBS=prototype skips the library's B/C, =library the prototypes' B/C,
#: =scalar runs the library's B/C as 180 proportion() calls (minutes at 1M rows) and skips
#: the prototypes'; default: library and prototype.
which = os.environ.get("HARMONISE_BENCH_JOBS", "all")
if which not in ("all", "library", "prototype", "scalar"):
    raise SystemExit(f"HARMONISE_BENCH_JOBS={which!r}: use all, library, prototype or scalar")
# The library reads the frame's indicator columns in place (NaN = missing); the prototype
# and the scalar path need the N × K float64 matrix, built untimed as bench_numpy_floor.py
# does, and only when they run (it is 150 MiB at 1M rows).
COLS = [df[c].to_numpy() for c in INDICATORS]
Y = np.empty((0, 0))
if which != "library":
    Y = np.asfortranarray(df[INDICATORS].to_numpy(dtype=np.float64))
w0 = df["base_weight"].to_numpy()
R.info(data_mib=float(df.memory_usage(deep=True).sum()) / 2**20, y_matrix_mib=Y.nbytes / 2**20)


def area_margins() -> tuple[np.ndarray, list[Margin]]:
    """Area code per respondent and the three area-crossed margins."""
    area = df["csp"].cat.codes.to_numpy().astype(np.int64)
    areas = list(df["csp"].cat.categories)
    out = []
    for var in RAKE_VARS:
        levels = list(df[var].cat.categories)
        k = len(levels)
        sub = mg[mg["variable"] == var]
        targets = np.zeros(len(areas) * k)
        idx = [
            areas.index(c) * k + levels.index(lev)
            for c, lev in zip(sub["csp"], sub["level"], strict=True)
        ]
        targets[idx] = sub["total"].to_numpy(dtype=float)
        codes = area * k + df[var].cat.codes.to_numpy().astype(np.int64)
        labels = tuple(f"{a}|{lev}" for a in areas for lev in levels)
        out.append(Margin(f"csp|{var}", codes, targets, labels))
    return area, out


R.info(**{"rss_before_A_rake_mib": rss_mib()})  # live + retained heap


with R.job("A_rake"):
    area, margins = area_margins()
    res = rake(w0, margins, epsilon=args.tol, max_iterations=args.maxit)
    w_rk = res.weights
R.info(
    margin_rel_err=margin_error(w_rk, df, mg),
    iterations=res.iterations,
    max_gap_over_total=res.max_gap,
)
# The jobs below need the raked weights only: drop the result's weight history and the
# frozen codes its adjustment keeps (~40 MiB at 1M rows), as a script that has what it
# needs from a result would.
del res

R.info(**{"rss_before_A_rake_cells_mib": rss_mib()})  # live + retained heap

def rake_cells() -> tuple[np.ndarray, RakeResult]:
    """The public ``rake`` on the occupied area × sex × age × ethnicity cells; respondent
    weight = base × cell ratio (a function, so its N-sized temporaries die with it)."""
    area_c, margins_c = area_margins()
    sizes = [len(df[v].cat.categories) for v in RAKE_VARS]
    cell = area_c
    for v, k in zip(RAKE_VARS, sizes, strict=True):
        cell = cell * k + df[v].cat.codes.to_numpy().astype(np.int64)
    n_cells = 3 * int(np.prod(sizes))
    tab0 = np.bincount(cell, weights=w0, minlength=n_cells)
    occupied = np.flatnonzero(tab0 > 0)
    first = np.zeros(n_cells, dtype=np.int64)
    first[cell[::-1]] = np.arange(cell.size)[::-1]  # one respondent of each cell
    cell_margins = [
        Margin(m.name, m.codes[first[occupied]], m.targets, m.labels) for m in margins_c
    ]
    result = rake(tab0[occupied], cell_margins, epsilon=args.tol, max_iterations=args.maxit)
    ratio = np.ones(n_cells)
    ratio[occupied] = result.weights / tab0[occupied]
    return w0 * ratio[cell], result


with R.job("A_rake_cells"):
    w_cells, res_c = rake_cells()
R.info(
    cells_rel_diff_to_rake=float(np.max(np.abs(w_cells / w_rk - 1))),
    cells_iterations=res_c.iterations,
)
del res_c

w = read_weights(args.weights_from) if args.weights_from else w_rk
areas = list(df["csp"].cat.categories)
sex_levels = list(df["sex"].cat.categories)
sex = df["sex"].cat.codes.to_numpy().astype(np.int64)
strata = df["stratum"].to_numpy()
clusters = df["psu"].to_numpy()
LABELS = {"csp": [(a, "") for a in areas], "csp_sex": [(a, s) for a in areas for s in sex_levels]}


def library(design: Design, job: str) -> list[dict[str, object]]:
    """The library's vectorised estimator: every indicator × domain of a partition per
    call (NaN in ``Y`` = not in the indicator's base), one call per partition."""
    rows: list[dict[str, object]] = []
    doms = {"csp": area, "csp_sex": area * len(sex_levels) + sex}
    for name, dom in doms.items():
        tab = proportions_by(design, COLS, dom, n_domains=len(LABELS[name]))
        for k, y in enumerate(INDICATORS):
            for g, (c, s) in enumerate(LABELS[name]):
                rows.append(
                    dict(
                        job=job,
                        indicator=y,
                        domain=name,
                        csp=c,
                        sex=s,
                        est=tab.estimate[k, g],
                        se=tab.se[k, g],
                    )
                )
    return rows


def scalar(design: Design, job: str) -> list[dict[str, object]]:
    """One proportion() per indicator × domain, as an analyst would call it (180 calls)."""
    rows: list[dict[str, object]] = []
    doms = {"csp": area, "csp_sex": area * len(sex_levels) + sex}
    for k, y in enumerate(INDICATORS):
        col = Y[:, k]
        answered = ~np.isnan(col)
        success = col == 1
        for name, dom in doms.items():
            for g, (c, s) in enumerate(LABELS[name]):
                e = proportion(design, success, (dom == g) & answered, deff=False)
                rows.append(
                    dict(job=job, indicator=y, domain=name, csp=c, sex=s, est=e.estimate, se=e.se)
                )
    return rows


def vectorised(raking: tuple[np.ndarray, ...], job: str) -> list[dict[str, object]]:
    tables = design_tables(w, strata, clusters, raking)
    fine = area * len(sex_levels) + sex
    to_area = np.repeat(np.arange(len(areas)), len(sex_levels))
    by_sex, by_area = proportions(tables, Y, fine, len(areas) * len(sex_levels), (None, to_area))
    rows: list[dict[str, object]] = []
    for name, tab in (("csp", by_area), ("csp_sex", by_sex)):
        for k, y in enumerate(INDICATORS):
            for g, (c, s) in enumerate(LABELS[name]):
                rows.append(
                    dict(
                        job=job,
                        indicator=y,
                        domain=name,
                        csp=c,
                        sex=s,
                        est=tab.estimate[k, g],
                        se=tab.se[k, g],
                    )
                )
    return rows


raking_codes = tuple(m.codes for m in margins)
skip_library = which == "prototype"
rows_lib: list[dict[str, object]] = []
estimator = scalar if which == "scalar" else library
if not skip_library:
    R.info(**{"rss_before_B_est_mib": rss_mib()})  # live + retained heap
    with R.job("B_est"):
        rows_lib += estimator(Design(weights=w, strata=strata, clusters=clusters), "B")
    if not args.weights_from:
        R.info(**{"rss_before_C_est_raked_design_mib": rss_mib()})  # live + retained heap
        with R.job("C_est_raked_design"):
            design_c = Design(weights=w, strata=strata, clusters=clusters, raking=raking_codes)
            rows_lib += estimator(design_c, "C")
rows_vec: list[dict[str, object]] = []
if which in ("all", "prototype"):
    R.info(**{"rss_before_B_est_vec_mib": rss_mib()})  # live + retained heap
    with R.job("B_est_vec"):
        rows_vec += vectorised((), "B")
    if not args.weights_from:
        R.info(**{"rss_before_C_est_vec_mib": rss_mib()})  # live + retained heap
        with R.job("C_est_vec"):
            rows_vec += vectorised(raking_codes, "C")

sfx = ("_tight" if args.tight else "") + ("_rw" if args.weights_from else "")
resp_id = df["resp_id"].to_numpy()
dump(args, "harmonise", resp_id, w_rk, rows_lib, sfx)
dump(args, "harmonise_vec", resp_id, w_cells, rows_vec, sfx)
R.finish()
