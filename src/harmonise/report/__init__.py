"""Report stage: findings in words, charts (specs laid out once, SVG and PNG), HTML and the
Analysis Function workbook, the all-or-nothing writer."""

from harmonise.report.data import ReportData, SurveyMeta, report_data
from harmonise.report.html import Rendered, build_context, render_html, render_report
from harmonise.report.write import OPTIONAL_OUTPUTS, OUTPUTS, render_outputs, write_report

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
