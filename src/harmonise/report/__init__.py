"""Report stage: findings in words, charts (specs laid out once, SVG and PNG), HTML and the
Analysis Function workbook, the all-or-nothing writer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harmonise._util.lazy import lazy_getattr

if TYPE_CHECKING:
    from harmonise.report.data import ReportData, SurveyMeta, report_data
    from harmonise.report.html import Rendered, build_context, render_html, render_report
    from harmonise.report.write import (
        OPTIONAL_OUTPUTS,
        OUTPUTS,
        render_outputs,
        write_report,
    )

#: Where each public name lives; loaded on first use, so importing a small module of the
#: package does not load jinja2 and pandas.
_WHERE = {
    "ReportData": "data", "SurveyMeta": "data", "report_data": "data",
    "Rendered": "html", "build_context": "html", "render_html": "html",
    "render_report": "html", "OPTIONAL_OUTPUTS": "write", "OUTPUTS": "write",
    "render_outputs": "write", "write_report": "write",
}


__getattr__ = lazy_getattr(__name__, {n: f".{m}" for n, m in _WHERE.items()}, globals())


__all__ = [
    "OPTIONAL_OUTPUTS",
    "OUTPUTS",
    "Rendered",
    "ReportData",
    "SurveyMeta",
    "build_context",
    "render_html",
    "render_outputs",
    "render_report",
    "report_data",
    "write_report",
]
