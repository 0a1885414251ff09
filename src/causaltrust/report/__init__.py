"""Reports a person would rather look at than read: self-contained HTML for trust reports."""

from causaltrust.report._decompose import decomposition_section
from causaltrust.report._frontier import method_frontier
from causaltrust.report._html import render_report, write_html
from causaltrust.report._ledger import story_lines
from causaltrust.report._lm import render_lm_front, write_lm_front
from causaltrust.report._sensitivity import render_discovery, render_sensitivity, write_sensitivity_html
from causaltrust.report._verdicts import story_verdicts

__all__ = [
    "decomposition_section",
    "method_frontier",
    "render_discovery",
    "render_lm_front",
    "render_report",
    "render_sensitivity",
    "story_lines",
    "story_verdicts",
    "write_html",
    "write_lm_front",
    "write_sensitivity_html",
]
