"""Time `harmonise questionnaire build` on the joint spec (run by hand: `make bench`).

Goal: building everything (spec check, both XLSForms and their XForms, HTML, DOCX, codebook,
six crosswalks, written to disk) in under 5 s on the bundled schema. Prints min / median
seconds over --repeats runs, without and with ODK Validate (Java), and the first run in a
fresh process (imports included) as a user sees it.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harmonise.questionnaire.build import build_outputs, write_outputs
from harmonise.questionnaire.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "questionnaire/joint-v1.yaml"


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'questionnaire build':<44} {'min s':>8} {'median s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def build(validate: bool) -> None:
            spec, schema = load_spec(SPEC)
            write_outputs(build_outputs(spec, schema, validate=validate).files, out)

        lo, med = timed(lambda: build(False), args.repeats)
        print(f"{'everything, no ODK Validate (warm)':<44} {lo:8.3f} {med:9.3f}")
        if shutil.which("java"):
            lo, med = timed(lambda: build(True), args.repeats)
            print(f"{'everything + ODK Validate (warm)':<44} {lo:8.3f} {med:9.3f}")
        cli = [sys.executable, "-c", "import sys; from harmonise.cli import main; sys.exit(main())",
               "questionnaire", "build", str(SPEC), "--out", str(out / "cli")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        lo, med = timed(lambda: subprocess.run(cli, check=True, capture_output=True),
                        args.repeats)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
        print(f"{'harmonise questionnaire build (new process)':<44} {lo:8.3f} {med:9.3f}")
        print(f"{'  CPU seconds per run (python + java)':<44} {cpu / args.repeats:8.3f}")


if __name__ == "__main__":
    main()
