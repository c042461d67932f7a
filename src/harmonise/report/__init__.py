"""Report stage: charts (pure ggplot builders), HTML rendering and the output writer."""

from harmonise.report.html import build_context, render_html
from harmonise.report.write import OUTPUTS, write_report

__all__ = ["OUTPUTS", "build_context", "render_html", "write_report"]
