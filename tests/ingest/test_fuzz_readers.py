"""Fuzz the readers: seeded bit flips and truncations of real sample files never escape as anything
but a HarmoniseError.

The fuzzing runs in a child Python process for a bounded time (``BUDGET`` seconds), so a
crash inside a C library (ReadStat once segfaulted on a damaged SPSS dictionary, which is
what :mod:`harmonise.ingest.savcheck` now guards) fails this test with the file that caused
it instead of killing the test run. Hypothesis draws the seed file and the mutation; any
exception other than HarmoniseError (or a warning, as under pytest) is a failure and
hypothesis shrinks it to a small mutation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEER = Path("/work/shared/peer-data/pyreadstat")
BUDGET = 90.0

CHILD = r'''
import sys, time, warnings
from pathlib import Path
from hypothesis import HealthCheck, given, seed, settings, strategies as st
from harmonise.errors import HarmoniseError
from harmonise.ingest import read_survey

warnings.simplefilter("error")
ROUNDS = 15
seeds = [Path(p) for p in sys.argv[3:]]
blobs = [p.read_bytes() for p in seeds]
work, budget = Path(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
count = [0]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                   st.integers(0, 7)), min_size=1, max_size=8)),
    st.tuples(st.just("cut"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("splice"), st.tuples(st.floats(0, 1, exclude_max=True),
                                           st.binary(min_size=1, max_size=16))),
)

@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.integers(0, len(seeds) - 1), mutation)
def fuzz(which, change):
    if time.monotonic() - start > budget:
        return
    data = bytearray(blobs[which])
    kind, arg = change
    if kind == "flip":
        for where, bit in arg:
            data[int(where * len(data))] ^= 1 << bit
    elif kind == "cut":
        data = data[: int(arg * len(data))]
    else:
        at = int(arg[0] * len(data))
        data[at:at + len(arg[1])] = arg[1]
    path = work / ("mutant" + seeds[which].suffix)
    path.write_bytes(bytes(data))
    (work / "last.txt").write_text(f"{seeds[which].name} {kind}")
    count[0] += 1
    try:
        read_survey(path)
    except HarmoniseError:
        pass

# A fixed number of seeded rounds: the same mutants on every run and machine, so a red
# CI run is reproducible (the time budget only guards against a hang).
for round_seed in range(ROUNDS):
    seed(round_seed)(fuzz)()
print(f"{count[0]} mutants read in {time.monotonic() - start:.1f}s")
'''


def _seeds() -> list[Path]:
    seeds = sorted(p for folder in ("bedford", "central-beds", "luton")
                   for p in (ROOT / "surveys" / folder).iterdir()
                   if p.suffix in (".sav", ".dta", ".xlsx", ".csv"))
    if PEER.is_dir():
        seeds += sorted(p for p in PEER.iterdir()
                        if p.suffix in (".sav", ".zsav", ".dta", ".por", ".csv")
                        and p.stat().st_size < 200_000)
    return seeds


@pytest.mark.slow
def test_mutated_files_raise_only_harmonise_errors(tmp_path: Path) -> None:
    seeds = _seeds()
    assert len(seeds) >= 4
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), str(BUDGET),
                           *map(str, seeds)], capture_output=True, text=True,
                          timeout=BUDGET + 60, check=False)
    last = tmp_path / "last.txt"
    where = last.read_text() if last.exists() else "?"
    assert proc.returncode == 0, (
        f"fuzzing failed (exit {proc.returncode}; last mutant from {where}, kept at "
        f"{tmp_path}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    assert "mutants read" in proc.stdout
