"""Report stage: charts (pure ggplot builders), HTML and XLSX rendering, the output writer."""

from harmonise.report.data import ReportData, SurveyMeta, report_data
from harmonise.report.html import build_context, render_html
from harmonise.report.write import OPTIONAL_OUTPUTS, OUTPUTS, render_outputs, write_report

__all__ = [
    "OPTIONAL_OUTPUTS",
    "OUTPUTS",
    "ReportData",
    "SurveyMeta",
    "build_context",
    "render_html",
    "render_outputs",
    "report_data",
    "write_report",
]
