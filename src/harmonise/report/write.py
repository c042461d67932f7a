"""Write a run's outputs: the HTML report, tidy CSV tables and provenance.

Nothing is half-written: every file is first written into a staging folder beside the
output folder and moved into place only after all of them are complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harmonise.errors import ReportError
from harmonise.report.html import render_html

if TYPE_CHECKING:
    from harmonise.pipeline import RunResult

#: Files a run writes into the output folder.
OUTPUTS = (
    "index.html",
    "estimates.csv",
    "estimates_unweighted.csv",
    "comparisons.csv",
    "weighting.csv",
    "margins.csv",
    "audit.csv",
    "provenance.json",
)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    # Fixed float format and row order: same inputs and crosswalks give identical bytes.
    frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


def tables(result: RunResult) -> dict[str, pd.DataFrame]:
    weighting: list[dict[str, object]] = []
    margins: list[dict[str, object]] = []
    audits: list[pd.DataFrame] = []
    for ws in result.surveys:
        cw = ws.survey.crosswalk
        audits.append(ws.survey.audit)
        d = ws.diagnostics
        if d is None:
            continue
        weighting.append({
            "crosswalk": cw.ref, "method": d.method, "margins": " ".join(ws.raking_margins),
            "targets_file": d.targets_file, "illustrative_targets": d.illustrative_targets,
            "iterations": d.iterations, "converged": d.converged, "max_gap": d.max_gap,
            "n": d.n, "total": d.total, "min_weight": d.min_weight,
            "max_weight": d.max_weight, "cv": d.cv, "kish_deff": d.kish_deff,
            "effective_n": d.effective_n, "share_top1pct": d.share_top1pct,
        })
        margins.extend(
            {"crosswalk": cw.ref, "margin": m.margin, "category": m.category,
             "target": m.target, "achieved": m.achieved, "sample_n": m.sample_n,
             "unweighted_share": m.unweighted_share}
            for m in d.margins
        )
    return {
        "estimates.csv": result.estimates.rows,
        "estimates_unweighted.csv": result.unweighted.rows,
        "comparisons.csv": result.comparisons.rows,
        "weighting.csv": pd.DataFrame(weighting),
        "margins.csv": pd.DataFrame(margins),
        "audit.csv": pd.concat(audits, ignore_index=True),
    }


def write_report(result: RunResult, out_dir: Path, *, charts: bool = True) -> list[Path]:
    """Write every output into ``out_dir`` (created if needed); return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        (staging / "index.html").write_text(render_html(result, charts=charts),
                                            encoding="utf-8")
        for name, frame in tables(result).items():
            _csv(frame, staging / name)
        (staging / "provenance.json").write_text(
            json.dumps(result.provenance, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        written = []
        for name in OUTPUTS:
            target = out_dir / name
            (staging / name).replace(target)
            written.append(target)
        return written
    except OSError as exc:
        raise ReportError(f"cannot write outputs to {out_dir}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
