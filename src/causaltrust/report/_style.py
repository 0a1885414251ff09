"""How methods look in the ledger report's plots: a colour-blind-safe palette, marker shapes, one legend.

Ten colours chosen from Paul Tol's and Okabe & Ito's colour-blind-safe sets, at least 14 CIE76 ΔE apart
from each other in normal vision and in simulated protanopia, deuteranopia and tritanopia (Machado et
al. 2009, full severity; ``tests/report/test_palette.py`` recomputes it), none too light to see on white.
Ten colours cannot tell 20 methods apart alone, so every method also gets one of 13 marker shapes: colour
index ``i % 10`` and shape index ``i % 13`` differ between any two of the first 130 methods. Plots carry no
legend of their own (a plotly legend scrolls and hides methods once it is longer than the plot); the page
draws one legend in HTML with the same markers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["PALETTE", "SYMBOLS", "legend_html", "marker_svg"]

PALETTE = (
    "#0072B2",
    "#D55E00",
    "#BBBBBB",
    "#882255",
    "#33BBEE",
    "#332288",
    "#EE8866",
    "#CCBB44",
    "#EE3377",
    "#009988",
)
SYMBOLS = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "x",
    "cross",
    "star",
    "triangle-down",
    "pentagon",
    "hexagon",
    "hourglass",
    "bowtie",
    "triangle-left",
)


def _regular(n: int, r: float, start: float = -90.0, inner: float | None = None) -> str:
    """Points of a regular polygon (or a star, with ``inner``) around (8, 8)."""
    k = 2 * n if inner is not None else n
    pts = []
    for i in range(k):
        rad = r if inner is None or i % 2 == 0 else inner
        a = math.radians(start + 360.0 * i / k)
        pts.append(f"{8 + rad * math.cos(a):.2f},{8 + rad * math.sin(a):.2f}")
    return " ".join(pts)


_SHAPES = {
    "square": "2.5,2.5 13.5,2.5 13.5,13.5 2.5,13.5",
    "diamond": "8,1.5 14.5,8 8,14.5 1.5,8",
    "triangle-up": "8,1.5 14.5,13.5 1.5,13.5",
    "triangle-down": "1.5,2.5 14.5,2.5 8,14.5",
    "triangle-left": "1.5,8 13.5,1.5 13.5,14.5",
    "hourglass": "2.5,2 13.5,2 2.5,14 13.5,14",
    "bowtie": "2,2.5 14,13.5 14,2.5 2,13.5",
    "pentagon": _regular(5, 6.5),
    "hexagon": _regular(6, 6.5),
    "star": _regular(5, 7.0, inner=3.0),
    "cross": "6,1.5 10,1.5 10,6 14.5,6 14.5,10 10,10 10,14.5 6,14.5 6,10 1.5,10 1.5,6 6,6",
}


def marker_svg(style: Mapping[str, Any], size: int = 16) -> str:
    """An inline SVG of a plot marker: plotly symbol (``-open`` / ``-dot`` variants), colour, causal ring.

    Examples
    --------
    >>> marker_svg({"color": "#0072B2", "symbol": "diamond-open", "causal": False}).startswith("<svg")
    True
    """
    symbol = str(style["symbol"])
    base = symbol.replace("-open", "").replace("-dot", "")
    colour = html.escape(str(style["color"]))
    open_ = "-open" in symbol
    fill = "#fff" if open_ else colour
    edge = "#000" if style.get("causal") else colour
    width = 2.0 if style.get("causal") or open_ else 1.0
    attrs = f'fill="{fill}" stroke="{edge}" stroke-width="{width}"'
    if base == "circle":
        body = f'<circle cx="8" cy="8" r="6" {attrs}/>'
    elif base == "x":
        body = (
            f'<path d="M3 3L13 13M13 3L3 13" stroke="{edge}" stroke-width="5" stroke-linecap="round"/>'
            f'<path d="M3 3L13 13M13 3L3 13" stroke="{colour}" stroke-width="3" stroke-linecap="round"/>'
        )
    else:
        body = f'<polygon points="{_SHAPES.get(base, _SHAPES["square"])}" {attrs}/>'
    if "-dot" in symbol:
        body += f'<circle cx="8" cy="8" r="1.6" fill="{edge if open_ else "#fff"}"/>'
    return (
        f'<svg width="{size}" height="{size}" viewBox="0 0 16 16" role="img" '
        f'aria-label="{html.escape(symbol)}">{body}</svg>'
    )


def legend_html(styles: Mapping[str, Mapping[str, Any]], *, front: bool = True) -> str:
    """One legend for every plot of a section: each configuration's marker and name, causal ones first.

    Examples
    --------
    >>> page = legend_html({"erm": {"color": "#0072B2", "symbol": "circle", "causal": False}})
    >>> 'class="mlegend"' in page and "erm" in page
    True
    """
    order = sorted(styles, key=lambda c: (not styles[c].get("causal"), c))
    items = [
        f'<span class="item" role="listitem">{marker_svg(styles[c])}{html.escape(c)}'
        f"{' <small>(causal)</small>' if styles[c].get('causal') else ''}</span>"
        for c in order
    ]
    if front:
        items.append(
            '<span class="item" role="listitem">'
            '<svg width="26" height="16" role="img" aria-label="Pareto front">'
            '<path d="M1 8H25" stroke="#111" stroke-width="2" stroke-dasharray="3 3"/></svg>'
            "Pareto front</span>"
        )
    return f'<div class="mlegend" role="list">{"".join(items)}</div>'
