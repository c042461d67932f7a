"""The bundled run's report data and written report, once per session (the run itself is
``bundled_run`` in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonise.models.run import RunResult
from harmonise.report import ReportData, report_data, write_report

#: Screenshots, PDFs and axe results of the browser tests (git-ignored; kept for review).
ARTEFACTS = Path(__file__).resolve().parent.parent / "artefacts"


@pytest.fixture(scope="session")
def bundled_data(bundled_run: RunResult) -> ReportData:
    return report_data(bundled_run)


@pytest.fixture(scope="session")
def bundled_report(bundled_data: ReportData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make run`'s report folder: every output, charts drawn."""
    out = tmp_path_factory.mktemp("report")
    write_report(bundled_data, out)
    return out


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS
