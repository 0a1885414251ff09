"""Reports a person would rather look at than read: self-contained HTML for trust reports."""

from causaltrust.report._decompose import decomposition_section
from causaltrust.report._html import render_report, write_html

__all__ = ["decomposition_section", "render_report", "write_html"]
