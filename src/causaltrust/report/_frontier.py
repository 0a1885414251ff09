"""Robustness frontiers in the ledger report: accuracy on each shift against the spurious-path effect.

A method run at several settings of its own knob (the selective learner's ``shift_strength`` γ, IRM / V-REx
penalties, GroupDRO's step size, anchor's γ) is a curve in that plane, not a point. Per shift the ledger
scored without target data (``accuracy.shift[s]``) and for their mean (``accuracy.interventional``), one
plot: every configuration of a method is a marker in the method's colour and shape, and a line joins the
method's own frontier (its configurations that no other configuration of the same method beats on both
axes). The effect is drawn as |value| (closer to 0 is better). Plots carry no plotly legend; one HTML legend
per section names every method with its marker (a plotly legend scrolls once it outgrows the plot).

The section is drawn only when some method has more than one configuration with both values (a sweep); a
ledger of single settings already has the same plane among the trade-offs.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.report._style import PALETTE, SYMBOLS, legend_html

__all__ = ["EFFECT", "frontier_figures", "frontier_section", "method_frontier", "method_styles"]

EFFECT = "robustness.spurious_path_effect"


def method_styles(agg: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per method of a summary frame: colour and marker shape (by sorted method name), causal flag."""
    from causaltrust.bench import METHODS

    methods = sorted({str(m) for m in agg["method"]})
    return {
        m: {
            "color": str(PALETTE[i % len(PALETTE)]),
            "symbol": SYMBOLS[i % len(SYMBOLS)],
            "causal": bool(getattr(METHODS.get(m), "causal", False)),
        }
        for i, m in enumerate(methods)
    }


def method_frontier(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both axes (lower ``x``, higher ``y``), by ``x``.

    A point is dropped when another is at least as good on both and better on one; equal points stay.

    Examples
    --------
    >>> import numpy as np
    >>> method_frontier(np.array([0.1, 0.05, 0.2, 0.0]), np.array([0.7, 0.6, 0.65, 0.5])).tolist()
    [3, 1, 0]
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = [i for i in range(len(x)) if not np.any((x <= x[i]) & (y >= y[i]) & ((x < x[i]) | (y > y[i])))]
    return np.asarray(sorted(keep, key=lambda i: (x[i], -y[i])), dtype=np.int64)


def _accuracies(agg: pd.DataFrame) -> list[str]:
    shifts = sorted(
        c for c in agg.columns if "::" not in c and c.startswith("accuracy.shift[") and agg[c].notna().any()
    )
    inter = ["accuracy.interventional"] if "accuracy.interventional" in agg.columns else []
    return shifts + inter


def _usable(agg: pd.DataFrame, ym: str) -> pd.DataFrame:
    x, y = agg[EFFECT].astype(float), agg[ym].astype(float)
    return agg[np.isfinite(x) & np.isfinite(y)]


def frontier_figures(go: Any, agg: pd.DataFrame) -> list[tuple[str, Any]]:
    """``(accuracy metric, plotly Figure)`` per shift and for the mean over shifts; empty without a sweep.

    Traces per method, baselines first and causal methods last (drawn on top): its configurations as
    markers (``name`` = the method), then, with at least two configurations on its frontier, the line
    through them (``name`` = method + " frontier"). Hover text names each configuration.
    """
    if EFFECT not in agg.columns or "config" not in agg.columns:
        return []
    accs = [ym for ym in _accuracies(agg) if not _usable(agg, ym).empty]
    swept = any(
        (g.groupby("method")["config"].nunique() > 1).any() for g in (_usable(agg, ym) for ym in accs)
    )
    if not swept:
        return []
    styles = method_styles(agg)
    order = sorted(styles, key=lambda m: (styles[m]["causal"], m))
    out = []
    for ym in accs:
        rows = _usable(agg, ym)
        fig = go.Figure()
        for m in order:
            g = rows[rows["method"].astype(str) == m]
            if g.empty:
                continue
            st = styles[m]
            x = np.abs(g[EFFECT].to_numpy(dtype=float))
            y = g[ym].to_numpy(dtype=float)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="markers",
                    name=m,
                    text=[str(c) for c in g["config"]],
                    hovertemplate="%{text}<br>|"
                    + EFFECT
                    + "|=%{x:.3f}<br>"
                    + ym
                    + "=%{y:.3f}<extra></extra>",
                    marker={
                        "color": st["color"],
                        "symbol": st["symbol"],
                        "size": 13 if st["causal"] else 9,
                        "line": {
                            "color": "#000" if st["causal"] else st["color"],
                            "width": 2 if st["causal"] else 1,
                        },
                    },
                )
            )
            front = method_frontier(x, y)
            if len(front) > 1:
                fig.add_trace(
                    go.Scatter(
                        x=x[front],
                        y=y[front],
                        mode="lines",
                        name=f"{m} frontier",
                        line={"color": st["color"], "width": 3 if st["causal"] else 1.5},
                        hoverinfo="skip",
                    )
                )
        what = "mean over shifts" if "[" not in ym else f"shift {ym.split('[', 1)[1][:-1]}, no target data"
        fig.update_layout(
            title={"text": f"{ym} vs |{EFFECT}|<br><sup>{html.escape(what)}</sup>", "font": {"size": 14}},
            xaxis_title=f"|{EFFECT}| (closer to 0 is better)",
            yaxis_title=f"{ym} (higher is better)",
            showlegend=False,
        )
        fig.update_xaxes(rangemode="tozero")
        out.append((ym, fig))
    return out


def frontier_section(go: Any, agg: pd.DataFrame, div: Any, ident: str = "frontier") -> str:
    """The frontier plots of one context (same spec and settings), or "" without a sweep.

    ``div(fig, div_id)`` renders one plot; the plots' ids are ``{ident}-0``, ``{ident}-1``, ...
    """
    figs = frontier_figures(go, agg)
    if not figs:
        return ""
    intro = (
        "<p class='sub'>One marker per configuration (mean over seeds); each method's own settings (γ of the "
        "selective learner, the baselines' penalties and step sizes) trace its curve, and the line joins the "
        "settings of that method no other setting of it beats on both axes. Up and to the left is better. "
        "No target data: every model is used as trained.</p>"
    )
    plots = "".join(div(fig, f"{ident}-{k}") for k, (_, fig) in enumerate(figs))
    return f'{intro}{legend_html(method_styles(agg), front=False)}<div class="grid2">{plots}</div>'
