"""The LM front as one self-contained HTML page: stereotype effect vs referent agreement vs perplexity.

One point per audited model state (the unmodified model and each intervention × strength), with the intervals
of :func:`causaltrust.text.lm_audit`, and the mediation profiles kept in the reports (before / after).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from causaltrust._files import atomic_write
from causaltrust._format import fmt_num
from causaltrust.audit import TrustReport
from causaltrust.exceptions import CausalTrustError
from causaltrust.report._mediation import heatmap_svg
from causaltrust.report._page import CSS as BASE_CSS
from causaltrust.report._page import notes_html

__all__ = ["render_lm_front", "write_lm_front"]

_CSS = BASE_CSS + ".headline{padding:.8rem 1rem;border-radius:8px;background:#eef1f6;margin:1rem 0}\n"
_COLOURS = ("#1d2330", "#c0392b", "#2f6fd0", "#11812f", "#8e44ad", "#d68910", "#16a085", "#7f8c8d")
_METRICS = (
    ("text.stereotype_effect", "stereotype effect (mean log-ratio)"),
    ("text.stereotype_effect_geometric", "geometric-mean ratio − 1"),
    ("text.stereotype_effect_ratio", "arithmetic-mean ratio − 1"),
    ("text.referent_agreement", "referent agreement"),
    ("text.perplexity", "perplexity"),
)


def _family(label: str) -> str:
    return label.rsplit(" ", 1)[0] if " " in label else label


def _scatter(reports: Mapping[str, TrustReport]) -> str:
    """Referent agreement (x) against the stereotype effect (y), one point per report, 95% intervals."""
    pts: list[tuple[str, float, float | None, float | None, float, float | None, float | None]] = []
    for label, rep in reports.items():
        ms, ma = rep.metric("text.stereotype_effect"), rep.metric("text.referent_agreement")
        pts.append((label, ma.value, ma.low, ma.high, ms.value, ms.low, ms.high))
    xs = [v for p in pts for v in p[1:4] if v is not None and math.isfinite(v)]
    ys = [v for p in pts for v in p[4:7] if v is not None and math.isfinite(v)] + [0.0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    x0, x1 = (x0 - 0.02, x1 + 0.02) if x1 - x0 < 0.04 else (x0, x1)
    y0, y1 = (y0 - 0.05, y1 + 0.05) if y1 - y0 < 0.1 else (y0, y1)
    w, h, left, top, right, bottom = 720, 420, 70, 20, 220, 50

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (w - left - right)

    def py(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * (h - top - bottom)

    families = list(dict.fromkeys(_family(p[0]) for p in pts))
    colour = {f: _COLOURS[i % len(_COLOURS)] for i, f in enumerate(families)}
    parts = [
        f'<svg width="{w}" height="{h}" role="img" aria-label="stereotype effect against referent agreement" '
        'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui,sans-serif">',
        f'<line x1="{left}" y1="{py(0):.1f}" x2="{w - right}" y2="{py(0):.1f}" stroke="#b8bfcc" '
        'stroke-dasharray="4 3"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#5b6475"/>',
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#5b6475"/>',
        f'<text x="{(left + w - right) / 2}" y="{h - 12}" text-anchor="middle">referent agreement '
        "(fair path: keep high) →</text>",
        f'<text x="14" y="{(top + h - bottom) / 2}" transform="rotate(-90 14 {(top + h - bottom) / 2})" '
        'text-anchor="middle">stereotype effect, mean log-ratio (unfair path: → 0)</text>',
    ]
    for k in range(5):
        xv, yv = x0 + (x1 - x0) * k / 4, y0 + (y1 - y0) * k / 4
        parts.append(f'<text x="{px(xv):.1f}" y="{h - bottom + 14}" text-anchor="middle">{xv:.0%}</text>')
        parts.append(f'<text x="{left - 6}" y="{py(yv) + 4:.1f}" text-anchor="end">{yv:.2f}</text>')
    for label, a, alo, ahi, s, slo, shi in pts:
        c = colour[_family(label)]
        if alo is not None and ahi is not None:
            parts.append(
                f'<line x1="{px(alo):.1f}" y1="{py(s):.1f}" x2="{px(ahi):.1f}" y2="{py(s):.1f}" stroke="{c}" '
                'stroke-opacity=".5"/>'
            )
        if slo is not None and shi is not None:
            parts.append(
                f'<line x1="{px(a):.1f}" y1="{py(slo):.1f}" x2="{px(a):.1f}" y2="{py(shi):.1f}" stroke="{c}" '
                'stroke-opacity=".5"/>'
            )
        parts.append(
            f'<circle cx="{px(a):.1f}" cy="{py(s):.1f}" r="4.5" fill="{c}"><title>{html.escape(label)}: '
            f"agreement {a:.1%}, stereotype effect {s:+.3f}</title></circle>"
        )
    for i, f in enumerate(families):
        y = top + 8 + 16 * i
        parts.append(f'<circle cx="{w - right + 20}" cy="{y}" r="4.5" fill="{colour[f]}"/>')
        parts.append(f'<text x="{w - right + 30}" y="{y + 4}">{html.escape(f)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(rep: TrustReport, name: str) -> str:
    m = rep.metric(name)
    pct = name == "text.referent_agreement"

    def f(v: float | None) -> str:
        if v is None or not math.isfinite(v):
            return "—"
        return f"{100 * v:.1f}%" if pct else fmt_num(v)

    return f'<td class="num">{f(m.value)} <span class="better">[{f(m.low)}, {f(m.high)}]</span></td>'


def render_lm_front(reports: Mapping[str, TrustReport], title: str = "Selective invariance front") -> str:
    """The HTML text of the front of several :func:`causaltrust.text.lm_audit` reports (label → report)."""
    if not reports:
        raise CausalTrustError("render_lm_front needs at least one lm_audit report")
    for label, rep in reports.items():
        if not isinstance(rep, TrustReport) or "per_prompt" not in rep.meta:
            raise CausalTrustError(f"{label!r} is not a ct.text.lm_audit report")
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in _METRICS)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>{''.join(_cell(rep, n) for n, _ in _METRICS)}</tr>"
        for label, rep in reports.items()
    )
    profiles = []
    for label, rep in reports.items():
        prof = rep.meta.get("mediation")
        if prof:
            grid = np.array(prof["head_log_indirect"], dtype=float)
            profiles.append(
                f"<h3>{html.escape(label)}</h3><p class='sub'>{prof['n_pairs']} prompts, mean log-ratio TE "
                f"{prof['total_log']:+.3f}</p>"
                + heatmap_svg(grid, "mean log-ratio indirect effect per head (occupation → 'person')")
            )
    first = next(iter(reports.values()))
    notes = [
        *first.notes,
        "Stereotype effect: the occupation-only intervention do(occupation := 'person') on "
        "log P(female pronoun)/P(male pronoun) of the next token, signed toward the occupation's stereotype; "
        "0 = no stereotype. Referent agreement: 'woman'/'man' in the occupation's place, share of prompts "
        "where the matching pronoun is the more likely. Perplexity on the shipped neutral corpus.",
        "Intervals: 95% template-level bootstrap (passage-level for perplexity).",
    ]
    meta = {
        "prompts": first.meta.get("n_prompts"),
        "templates": first.meta.get("n_templates"),
        "split": first.meta.get("split"),
        "sources": ", ".join(first.meta.get("sources", [])),
        "model": first.meta.get("model"),
    }
    meta_rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in meta.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}'
        f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        '<p class="sub">Inside a language model: the stereotype path (occupation → pronoun) should be '
        "invariant, the referent path (an explicit 'woman' / 'man' → pronoun) should be kept.</p>"
        f'<h2 id="front">Front</h2>{_scatter(reports)}'
        f'<h2 id="table">All points</h2><table><tr><th>model state</th>{head}</tr>{rows}</table>'
        + (f'<h2 id="mediation">Mediation profiles</h2>{"".join(profiles)}' if profiles else "")
        + f'<h2 id="notes">Assumptions and scope</h2>{notes_html(notes)}'
        f'<h2 id="provenance">Provenance</h2><table class="meta">{meta_rows}</table></body></html>\n'
    )


def write_lm_front(reports: Mapping[str, TrustReport], path: str | os.PathLike[str], **kw: Any) -> Path:
    """Write :func:`render_lm_front` to ``path`` (through a temporary file, so no reader sees half a page).

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.report.write_lm_front({"none": rep, "selective 1.0": rep2}, "front.html")  # doctest: +SKIP
    """
    text = render_lm_front(reports, **kw)
    out = Path(path)
    with atomic_write(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out
