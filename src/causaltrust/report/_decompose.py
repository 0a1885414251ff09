"""A self-contained HTML section (and page) for a disparity decomposition: TV and its three parts."""

from __future__ import annotations

import html
import math

from causaltrust._format import fmt_num
from causaltrust.decompose import DisparityDecomposition, Estimate, LevelDecomposition
from causaltrust.report._page import notes_html

__all__ = ["decomposition_section", "render_decomposition"]

_CSS = """
.ctdec{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2330;line-height:1.45}
.ctdec h2{font-size:1.2rem;margin:1.6rem 0 .3rem}.ctdec h3{font-size:1rem;margin:1.2rem 0 .2rem}
.ctdec .sub{color:#5b6475;margin:.1rem 0 .6rem}
.ctdec table{border-collapse:collapse;font-size:.92rem;margin:.4rem 0}
.ctdec th,.ctdec td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #eceef3}
.ctdec th{background:#f6f7fa}.ctdec td.num{text-align:right;font-variant-numeric:tabular-nums}
.ctdec li{margin:.25rem 0;color:#3b4252}
"""
# Bars: the observed disparity and its three signed contributions, TV = DE + (-IE) + (-SE).
_BARS = (
    ("tv", 1, "observed disparity (TV)", "#5b6475"),
    ("de", 1, "direct (ctf-DE)", "#c0392b"),
    ("ie", -1, "indirect through mediators (−ctf-IE)", "#2e86c1"),
    ("se", -1, "spurious through confounders (−ctf-SE)", "#8e7cc3"),
)


def _fmt(x: float) -> str:
    return fmt_num(x, signed=True)


def _chart(level: LevelDecomposition) -> str:
    """Horizontal bars with 95% interval whiskers on one axis through 0 (inline SVG, no script)."""
    vals = []
    for term, sign, label, color in _BARS:
        e: Estimate = getattr(level, term)
        lo, hi = sorted((sign * e.low, sign * e.high))
        vals.append((label, sign * e.value, lo, hi, color))
    finite = [v for _, a, b, c, _ in vals for v in (a, b, c) if math.isfinite(v)]
    lo_ax, hi_ax = min([*finite, 0.0]), max([*finite, 0.0])
    pad = (hi_ax - lo_ax) * 0.08 or 0.05
    lo_ax, hi_ax = lo_ax - pad, hi_ax + pad
    left, width, row = 270, 380, 34
    height = row * len(vals) + 30

    def x(v: float) -> float:
        return left + width * (min(max(v, lo_ax), hi_ax) - lo_ax) / (hi_ax - lo_ax)

    parts = [
        f'<svg width="{left + width + 90}" height="{height}" role="img" '
        'aria-label="disparity decomposition bar chart" font-size="12">'
    ]
    for i, (label, v, lo, hi, color) in enumerate(vals):
        y = 8 + i * row
        x0, x1 = sorted((x(0.0), x(v)))
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{html.escape(label)}</text>')
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" height="18" fill="{color}" '
            'fill-opacity="0.75"/>'
        )
        if math.isfinite(lo) and math.isfinite(hi):
            parts.append(
                f'<line x1="{x(lo):.1f}" y1="{y + 13}" x2="{x(hi):.1f}" y2="{y + 13}" stroke="#111" '
                'stroke-width="1.5"/>'
                f'<line x1="{x(lo):.1f}" y1="{y + 7}" x2="{x(lo):.1f}" y2="{y + 19}" stroke="#111"/>'
                f'<line x1="{x(hi):.1f}" y1="{y + 7}" x2="{x(hi):.1f}" y2="{y + 19}" stroke="#111"/>'
            )
        parts.append(f'<text x="{left + width + 8}" y="{y + 16}">{_fmt(v)}</text>')
    zx = x(0.0)
    parts.append(f'<line x1="{zx:.1f}" y1="4" x2="{zx:.1f}" y2="{height - 22}" stroke="#888"/>')
    parts.append(
        f'<text x="{x(lo_ax):.1f}" y="{height - 6}">{lo_ax:+.3f}</text>'
        f'<text x="{x(hi_ax):.1f}" y="{height - 6}" text-anchor="end">{hi_ax:+.3f}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _table(level: LevelDecomposition) -> str:
    rows = []
    for term, name in (
        ("tv", "TV = E[Y | x1] − E[Y | x0]"),
        ("de", "ctf-DE = E[Y<sub>x1,W<sub>x0</sub></sub> | x0] − E[Y | x0]"),
        ("ie", "ctf-IE = E[Y<sub>x1,W<sub>x0</sub></sub> | x0] − E[Y<sub>x1</sub> | x0]"),
        ("se", "ctf-SE = E[Y<sub>x1</sub> | x0] − E[Y | x1]"),
    ):
        e: Estimate = getattr(level, term)
        rows.append(
            f'<tr><td>{name}</td><td class="num">{_fmt(e.value)}</td>'
            f'<td class="num">[{_fmt(e.low)}, {_fmt(e.high)}]</td></tr>'
        )
    return "<table><tr><th>term</th><th>estimate</th><th>95% interval</th></tr>" + "".join(rows) + "</table>"


def decomposition_section(dec: DisparityDecomposition) -> str:
    """The HTML of one section (a ``<section class="ctdec">`` with its own style), to embed in any page."""
    esc = html.escape
    method = "cross-fitted doubly robust" if dec.method == "dr" else "plug-in (SCM)"
    parts = [
        f'<section class="ctdec"><style>{_CSS}</style>',
        f"<h2>Disparity decomposition: {esc(dec.outcome)} by {esc(dec.protected)}</h2>",
        f'<p class="sub">Method: {esc(method)}. TV = DE − IE − SE (Plečko–Bareinboim, x-specific: '
        f"conditioned on the observed {esc(dec.protected)}). 95% intervals: {esc(dec.interval)}.</p>",
        f'<p class="sub">Confounders Z: {esc(", ".join(dec.confounders) or "none")}. '
        f"Mediators W: {esc(', '.join(dec.mediators) or 'none')}.</p>",
    ]
    for lv in dec.levels:
        parts.append(
            f"<h3>x0 = {esc(str(dec.baseline))} (n = {lv.n0}) → x1 = {esc(str(lv.value))} (n = {lv.n1})</h3>"
        )
        parts.append(_chart(lv))
        parts.append(_table(lv))
    parts.append(f"<h3>Assumptions and notes</h3>{notes_html(dec.notes)}</section>")
    return "".join(parts)


def render_decomposition(dec: DisparityDecomposition) -> str:
    """A whole HTML page holding :func:`decomposition_section`."""
    title = f"Disparity decomposition — {dec.outcome} by {dec.protected}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}'
        '</title></head><body style="max-width:1000px;margin:2rem auto;padding:0 1rem">'
        f"{decomposition_section(dec)}</body></html>\n"
    )
