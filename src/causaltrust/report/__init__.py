"""Reports a person would rather look at than read: self-contained HTML for trust reports."""

from causaltrust.report._html import render_report, write_html

__all__ = ["render_report", "write_html"]
