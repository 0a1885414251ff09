"""Self-contained HTML page for a mediation analysis: head heatmap, per-layer profile, ranked components."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from causaltrust._format import fmt_num
from causaltrust.report._page import CSS as BASE_CSS
from causaltrust.report._page import notes_html

__all__ = ["render_mediation"]

# The report's shared page style, plus this page's headline box.
_CSS = (
    BASE_CSS
    + """
.headline{padding:.8rem 1rem;border-radius:8px;background:#eef1f6;margin:1rem 0}
"""
)


def _fmt(x: float) -> str:
    return fmt_num(x, signed=True)


def _colour(v: float, scale: float) -> str:
    """Diverging blue (negative) – white – red (positive) colour for ``v`` on ``[-scale, scale]``."""
    if not math.isfinite(v) or scale <= 0:
        return "#dddddd"
    t = max(-1.0, min(1.0, v / scale))
    if t >= 0:
        r, g, b = 255, round(255 - 180 * t), round(255 - 200 * t)
    else:
        r, g, b = round(255 + 200 * t), round(255 + 150 * t), 255
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap_svg(grid: np.ndarray, title: str) -> str:
    """An SVG heatmap of a ``(layers, heads)`` grid: layers top to bottom, a cell per head, hover values."""
    n_layers, n_heads = grid.shape
    cell_w, cell_h, left, top = max(18, min(46, 600 // max(n_heads, 1))), 16, 58, 28
    finite = np.abs(grid[np.isfinite(grid)])
    scale = float(finite.max()) if finite.size else 1.0
    width, height = left + cell_w * n_heads + 90, top + cell_h * n_layers + 30
    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui,sans-serif">',
        f'<text x="{left}" y="14" font-weight="600">{html.escape(title)}</text>',
    ]
    for h in range(n_heads):
        parts.append(
            f'<text x="{left + cell_w * h + cell_w / 2:.1f}" y="{top - 3}" text-anchor="middle">{h}</text>'
        )
    for layer in range(n_layers):
        y = top + cell_h * layer
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">L{layer}</text>')
        for h in range(n_heads):
            v = float(grid[layer, h])
            parts.append(
                f'<rect x="{left + cell_w * h}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                f'fill="{_colour(v, scale)}"><title>layer {layer}, head {h}: {_fmt(v)}</title></rect>'
            )
    x0 = left + cell_w * n_heads + 14
    for k in range(11):
        v = scale * (1 - k / 5)
        parts.append(f'<rect x="{x0}" y="{top + k * 12}" width="14" height="12" fill="{_colour(v, scale)}"/>')
    parts.append(f'<text x="{x0 + 18}" y="{top + 10}">{_fmt(scale)}</text>')
    parts.append(f'<text x="{x0 + 18}" y="{top + 70}">0</text>')
    parts.append(f'<text x="{x0 + 18}" y="{top + 130}">{_fmt(-scale)}</text>')
    parts.append(f'<text x="{left}" y="{height - 6}">head →   (layer ↓)</text></svg>')
    return "".join(parts)


def profile_svg(values: np.ndarray, title: str) -> str:
    """Horizontal bars of a per-layer effect profile (one bar per layer, 0 marked)."""
    n = len(values)
    bar_h, left, width = 14, 58, 420
    finite = np.abs(values[np.isfinite(values)])
    scale = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    zero = left + width / 2
    parts = [
        f'<svg width="{left + width + 80}" height="{24 + bar_h * n + 8}" role="img" '
        f'aria-label="{html.escape(title)}"'
        f' xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui,sans-serif">',
        f'<text x="{left}" y="14" font-weight="600">{html.escape(title)}</text>',
        f'<line x1="{zero}" y1="20" x2="{zero}" y2="{24 + bar_h * n}" stroke="#b8bfcc"/>',
    ]
    for i, v in enumerate(values):
        y = 22 + bar_h * i
        w = 0.0 if not math.isfinite(v) else (width / 2) * v / scale
        x = zero if w >= 0 else zero + w
        parts.append(f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">L{i}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{abs(w):.1f}" height="{bar_h - 2}" '
            f'fill="{"#c0392b" if w >= 0 else "#2f6fd0"}"><title>layer {i}: {_fmt(float(v))}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _ranked_table(res: Any, kind: str, k: int) -> str:
    df = res.ranked(kind, k)
    rows = "".join(
        f"<tr><td>{r.rank}</td><td>{r.layer}</td><td>{'' if kind != 'head' else r.head}</td>"
        f'<td class="num">{_fmt(r.indirect)}</td>'
        f'<td class="num">[{_fmt(r.indirect_low)}, {_fmt(r.indirect_high)}]</td>'
        f'<td class="num">{_fmt(r.indirect_log)}</td>'
        f'<td class="num">{_fmt(r.direct)}</td><td class="num">{_fmt(r.indirect_share)}</td></tr>'
        for r in df.itertuples()
    )
    head = (
        "<tr><th>rank</th><th>layer</th><th>head</th><th>indirect (NIE)</th><th>95% interval</th>"
        "<th>NIE, mean log-ratio</th><th>direct (NDE)</th><th>NIE / TE</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def render_mediation(res: Any) -> str:
    """The HTML text of a :class:`causaltrust.text.MediationResult`."""
    kinds = list(dict.fromkeys(res.components["kind"]))
    te, low, high = res.total
    title = f"Mediation analysis — {res.model_name}"
    sections = []
    if "head" in kinds:
        sections.append(
            '<h2 id="heads">Attention heads</h2>'
            + heatmap_svg(res.heatmap("head"), "mean natural indirect effect per head")
            + "<h3>Top heads</h3>"
            + _ranked_table(res, "head", 15)
        )
    for kind, label in (("layer", "Residual stream per layer"), ("mlp", "MLP output per layer")):
        if kind in kinds:
            sections.append(
                f'<h2 id="{kind}">{label}</h2>'
                + profile_svg(res.heatmap(kind), f"mean natural indirect effect ({kind})")
                + _ranked_table(res, kind, 10)
            )
    per_pair = res.total_per_pair
    pair_rows = "".join(
        f'<tr><td>{html.escape(f)}</td><td>{html.escape(c)}</td><td class="num">{_fmt(float(t))}</td></tr>'
        for (f, c), t in list(zip(res.pairs, per_pair, strict=True))[:30]
    )
    more = f"<p class='sub'>first 30 of {len(res.pairs)} pairs</p>" if len(res.pairs) > 30 else ""
    meta = {
        "model": res.model_name,
        "quantity y": res.quantity,
        "patched positions": res.positions,
        "pairs": len(res.pairs),
        "layers × heads": f"{res.n_layers} × {res.n_heads}",
        "forward passes": res.n_forward,
        "wall time (s)": f"{res.seconds:.1f}",
        "reuse of activations below the patch": res.stats.get("reuse"),
    }
    meta_rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in meta.items()
    )
    notes = [
        *res.notes,
        "Effects are relative changes of y (Vig et al., 2020): TE = y(u')/y(u) − 1, "
        "NIE = y(u, z ← z(u'))/y(u) − 1, NDE = y(u', z ← z(u))/y(u) − 1, averaged over pairs "
        "(Student-t 95% intervals over pairs). Effects are not "
        "additive: NIE + NDE need not equal TE. The mean of ratios is dominated by the few pairs with the "
        "largest ratios; the mean log-ratio (log y_patched − log y(u)) beside it is not.",
        "A head's component is its output (its slice of the attention output projection's input), not its "
        "attention weights.",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}'
        f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        '<p class="sub">Causal mediation by activation patching: which internal components carry the '
        "effect of "
        "the intervention on the output.</p>"
        f'<div class="headline">Total effect {_fmt(te)} (95% interval {_fmt(low)} to {_fmt(high)}). '
        f"{html.escape(res.headline())}</div>"
        f"{''.join(sections)}"
        f'<h2 id="pairs">Pairs (per-pair total effect)</h2>{more}<table><tr><th>factual</th>'
        "<th>counterfactual</th>"
        f"<th>TE</th></tr>{pair_rows}</table>"
        f'<h2 id="notes">Assumptions and scope</h2>{notes_html(notes)}'
        f'<h2 id="provenance">Provenance</h2><table class="meta">{meta_rows}</table></body></html>\n'
    )
