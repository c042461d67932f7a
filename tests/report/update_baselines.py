"""Redraw the chart baselines in tests/baseline_images/ (run by hand after a deliberate
change to a chart, then look at the images before committing them).

    .venv/bin/python tests/report/update_baselines.py [NAME ...]
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cases_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("chart_images", HERE / "test_chart_images.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(names: list[str]) -> int:
    cases = _cases_module()
    unknown = sorted(set(names) - set(cases.CASES))
    if unknown:
        print(f"unknown chart(s) {unknown}; known: {sorted(cases.CASES)}", file=sys.stderr)
        return 2
    cases.BASELINES.mkdir(parents=True, exist_ok=True)
    for name in names or sorted(cases.CASES):
        path = cases.BASELINES / f"{name}.png"
        cases.render_png(name).save(path, optimize=True)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
