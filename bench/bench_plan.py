"""Time the bridge and the sample-size plan on the bundled surveys (run by hand).

Prints min / median seconds over --repeats runs of: the bridge from the joint spec
(spec check, crosswalks, rows, Markdown/HTML/XLSX in memory); measuring the design effects
(ingest → recode → weight → estimate on the five bundled surveys); the plan from measured
design effects (sample sizes, five allocations per form, transition plan, documents).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harmonise.crosswalk.io import load_crosswalk
from harmonise.crosswalk.validate import crosswalk_files
from harmonise.questionnaire.bridge import build_bridge, joint_items_from_spec
from harmonise.questionnaire.measure import measure_manifest, planning_deffs
from harmonise.questionnaire.plan import bridge_document, build_plan, plan_document
from harmonise.questionnaire.plan_write import document_files
from harmonise.questionnaire.samplesize import (
    CENSUS_2021_RESIDENTS,
    PARTNERSHIP_NAMES,
    PowerGoal,
)
from harmonise.questionnaire.spec import load_spec
from harmonise.questionnaire.transition import plan_transition

ROOT = Path(__file__).resolve().parent.parent


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

    def bridge() -> Any:
        spec, schema = load_spec(ROOT / "questionnaire/joint-v1.yaml")
        cws = [load_crosswalk(p) for p in crosswalk_files([ROOT / "crosswalks"])
               if p.parent.name != "joint"]
        result = build_bridge(joint_items_from_spec(spec, schema), schema, cws)
        document_files(bridge_document(result), "bridge")
        return result, schema

    def measure() -> Any:
        return measure_manifest(ROOT / "surveys/manifest.yaml", root=ROOT)

    result, schema = bridge()
    effects = measure()

    def plan() -> None:
        deffs = planning_deffs(effects, PARTNERSHIP_NAMES)
        transition = plan_transition(result, {c.id: c.theme for c in schema.concepts}, deffs)
        document_files(plan_document(build_plan(PowerGoal(), deffs, CENSUS_2021_RESIDENTS,
                                                effects=effects, transition=transition)),
                       "plan")

    print(f"{'questionnaire bridge / sample-size':<44} {'min s':>8} {'median s':>9}")
    for name, fn in (("bridge from the spec, documents", bridge),
                     ("design effects of 5 surveys (pipeline)", measure),
                     ("plan, allocations, transition, documents", plan)):
        lo, med = timed(fn, args.repeats)
        print(f"{name:<44} {lo:8.3f} {med:9.3f}")


if __name__ == "__main__":
    main()
