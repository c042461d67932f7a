"""Cached reference values from R's ``power.prop.test`` (stats) for the sample-size module.

Run ``python tests/rpower.py`` (needs ``Rscript``) to regenerate
``tests/data/r_reference/power_prop_test.csv``: each case of :data:`CASES` solved for ``n``
(given ``p1``, ``p2``, power, significance level) or for ``p2`` (given ``n``; the smallest
detectable difference, solved with ``tol = 1e-12``), numbers as ``%.17g``.
``tests/questionnaire/test_samplesize.py`` compares harmonise to the cached file (no R
needed) and, when R is on the path, to a live run.

Importable as ``from rpower import ...`` (``tests/`` is on pytest's pythonpath).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "data" / "r_reference" / "power_prop_test.csv"


@dataclass(frozen=True)
class PowerCase:
    """``solve`` is ``n`` (given p1, p2) or ``p2`` (given n, p1)."""

    id: str
    solve: str
    p1: float
    power: float
    alpha: float
    p2: float = 0.0
    n: float = 0.0

    def r_code(self) -> str:
        if self.solve == "n":
            call = (f"power.prop.test(p1 = {self.p1!r}, p2 = {self.p2!r}, power = "
                    f"{self.power!r}, sig.level = {self.alpha!r})$n")
        else:
            call = (f"power.prop.test(n = {self.n!r}, p1 = {self.p1!r}, power = {self.power!r}, "
                    f"sig.level = {self.alpha!r}, tol = 1e-12)$p2")
        return f'put("{self.id}", {call})\n'


CASES: tuple[PowerCase, ...] = (
    PowerCase("n_5pt_50_80", "n", 0.5, 0.8, 0.05, p2=0.55),
    PowerCase("n_5pt_45_80", "n", 0.45, 0.8, 0.05, p2=0.5),
    PowerCase("n_8pt_50_80", "n", 0.5, 0.8, 0.05, p2=0.58),
    PowerCase("n_10pt_50_80", "n", 0.5, 0.8, 0.05, p2=0.6),
    PowerCase("n_25pt_50_90", "n", 0.5, 0.9, 0.05, p2=0.75),
    PowerCase("n_3pt_20_90_a01", "n", 0.2, 0.9, 0.01, p2=0.23),
    PowerCase("n_5pt_80_80", "n", 0.8, 0.8, 0.05, p2=0.85),
    PowerCase("n_4pt_33_85_a10", "n", 0.33, 0.85, 0.1, p2=0.37),
    PowerCase("p2_n1565_50_80", "p2", 0.5, 0.8, 0.05, n=1565.0),
    PowerCase("p2_n600_50_80", "p2", 0.5, 0.8, 0.05, n=600.0),
    PowerCase("p2_n2000_30_90", "p2", 0.3, 0.9, 0.05, n=2000.0),
)

PRELUDE = r"""
out <- file("power.csv", open = "w")
writeLines("case,value", out)
put <- function(case, value) writeLines(sprintf("%s,%s", case, sprintf("%.17g", value)), out)
"""


def run_r(workdir: Path, rscript: str, cases: tuple[PowerCase, ...] = CASES) -> dict[str, float]:
    """Run R once on ``cases`` and return ``{case id: value}``."""
    script = PRELUDE + "".join(c.r_code() for c in cases) + "close(out)\n"
    (workdir / "power.R").write_text(script, encoding="utf-8")
    proc = subprocess.run([rscript, "--vanilla", "power.R"], cwd=workdir, capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return read(workdir / "power.csv")


def read(path: Path) -> dict[str, float]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["case"]: float(row["value"]) for row in csv.DictReader(fh)}


def main() -> int:
    import shutil
    import tempfile

    rscript = shutil.which("Rscript")
    if rscript is None:
        print("Rscript not found; install R (make r-deps)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        values = run_r(Path(tmp), rscript)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with CACHE.open("w", encoding="utf-8", newline="") as fh:
        fh.write("case,value\n")
        for case in CASES:
            fh.write(f"{case.id},{values[case.id]:.17g}\n")
    print(f"wrote {len(values)} values to {CACHE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
