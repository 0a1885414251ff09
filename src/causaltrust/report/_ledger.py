"""One self-contained HTML page for a benchmark ledger: graph, headline table, Pareto plots, curves.

Plotly's JavaScript is inlined once (the page works offline, with no CDN); every figure is a div that
uses it. The causal graph is drawn as inline SVG with the spec's path roles coloured.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust import _dag
from causaltrust.audit import metric_info
from causaltrust.exceptions import CausalTrustError
from causaltrust.graph import CausalGraph
from causaltrust.report._html import _CSS
from causaltrust.spec import TrustSpec

__all__ = ["HEADLINE", "PAIRS", "render_ledger"]

HEADLINE = [
    "accuracy.observational",
    "accuracy.interventional",
    "accuracy.fair_world",
    "fairness.unfair_path_effect",
    "fairness.fair_path_effect",
    "fairness.demographic_parity_difference",
    "robustness.spurious_path_effect",
    "privacy.epsilon",
    "privacy.mia_advantage",
    "explainability.recourse_validity",
]
PAIRS = [
    ("accuracy.observational", "fairness.unfair_path_effect"),
    ("accuracy.interventional", "robustness.spurious_path_effect"),
    ("accuracy.fair_world", "fairness.demographic_parity_difference"),
    ("accuracy.observational", "privacy.mia_advantage"),
]
DOMINANCE = ["accuracy.interventional", "fairness.unfair_path_effect", "robustness.spurious_path_effect"]
# Plots inside a grid are drawn before their neighbours exist, at the full page width; resize them to their
# cells once the layout is final.
_RESIZE = (
    "<script>window.addEventListener('load',function(){document.querySelectorAll('.js-plotly-plot')"
    ".forEach(function(d){Plotly.Plots.resize(d);});});</script>"
)
ROLE_COLOURS = {"unfair": "#d62728", "spurious": "#ff7f0e", "fair": "#2ca02c", "contextual": "#1f77b4"}
_EXTRA_CSS = """
body{max-width:1400px}.scroll{overflow-x:auto}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}.card{background:#f6f7fa;border-radius:8px;
padding:.7rem 1rem;min-width:9rem}.card b{display:block;font-size:1.3rem}
.best{background:#e7f6ec;font-weight:600}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:1.6rem;height:3px;
vertical-align:middle;margin-right:.3rem}.plot{margin:.5rem 0 1.5rem}.grid2{display:grid;
grid-template-columns:repeat(auto-fit,minmax(min(600px,100%),1fr));gap:1rem}.grid2>div{min-width:0}
.banner{background:#fdecea;border-left:4px solid #c0392b;padding:.6rem 1rem}
"""


def config_labels(wide: pd.DataFrame) -> list[str]:
    """A short label per row: the method, plus only the parameters that differ between its configurations."""
    params = [json.loads(p) if p else {} for p in wide["params_json"]]
    varying: dict[str, set[str]] = {}
    for m, p in zip(wide["method"], params, strict=True):
        for k, v in p.items():
            varying.setdefault(m, set())
            varying[m].add(k) if any(
                q.get(k) != v for mm, q in zip(wide["method"], params, strict=True) if mm == m
            ) else None
    out = []
    for m, p in zip(wide["method"], params, strict=True):
        keys = sorted(varying.get(m, set()))
        out.append(m + (" (" + ", ".join(f"{k}={p.get(k)}" for k in keys) + ")" if keys else ""))
    return out


def _aggregate(wide: pd.DataFrame) -> pd.DataFrame:
    """Mean, 95% interval over seeds and number of seeds, per configuration (method + parameters)."""
    metric_cols = [c for c in wide.columns if "." in c]
    wide = wide.assign(config=config_labels(wide))
    rows = []
    for (config, method), g in wide.groupby(["config", "method"], sort=False):
        row: dict[str, Any] = {"config": config, "method": method, "n_seeds": len(g)}
        for c in metric_cols:
            v = g[c].to_numpy(dtype=float)
            v = v[~np.isnan(v)]
            if len(v) == 0:
                continue
            if not np.isfinite(v).all():  # ε = ∞ for non-private models: a value, not an estimate
                row[c] = float(v.mean()) if (v > 0).all() or (v < 0).all() else float("nan")
                continue
            mean = float(v.mean())
            half = 1.96 * float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else float("nan")
            row[c] = mean
            row[c + "::lo"] = mean - half
            row[c + "::hi"] = mean + half
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return f"{x:.3f}"


def _headline_table(agg: pd.DataFrame, metrics: Sequence[str]) -> str:
    cols = [m for m in metrics if m in agg.columns]
    best: dict[str, Any] = {}
    for c in cols:
        better = metric_info(c).better
        vals = agg[c].astype(float)
        finite = vals[np.isfinite(vals)]
        if finite.empty:
            continue
        key = {"higher": finite.idxmax, "lower": finite.idxmin, "zero": finite.abs().idxmin}[better]()
        best[c] = key
    head = "".join(
        f'<th title="{html.escape(metric_info(c).description)}">{html.escape(c)}'
        f'<br><span class="better">{metric_info(c).better}</span></th>'
        for c in cols
    )
    body = []
    for i, row in agg.iterrows():
        cells = []
        for c in cols:
            v = row.get(c)
            lo, hi = row.get(c + "::lo"), row.get(c + "::hi")
            ci = f"<br><small>[{_fmt(lo)}, {_fmt(hi)}]</small>" if lo is not None and not pd.isna(lo) else ""
            cls = ' class="num best"' if best.get(c) == i else ' class="num"'
            cells.append(f"<td{cls}>{_fmt(v)}{ci}</td>")
        body.append(
            f"<tr><td>{html.escape(str(row['config']))}</td><td class='num'>{row['n_seeds']}</td>"
            + "".join(cells)
            + "</tr>"
        )
    rows = "".join(body)
    return f'<div class="scroll"><table><tr><th>method</th><th>seeds</th>{head}</tr>{rows}</table></div>'


def _graph_svg(spec: TrustSpec) -> str:
    """The causal graph with the prediction node, nodes laid out in layers by depth, edges by path role."""
    g = CausalGraph.from_spec(spec).with_prediction(spec.features)
    parents = dict(g.parents)
    order = _dag.topological_order(parents)
    depth: dict[str, int] = {}
    for v in order:
        depth[v] = 1 + max((depth[p] for p in parents[v]), default=-1)
    layers: dict[int, list[str]] = {}
    for v in order:
        layers.setdefault(depth[v], []).append(v)
    w, h = 760, 80 + 90 * max(len(v) for v in layers.values())
    pos: dict[str, tuple[float, float]] = {}
    n_layers = max(layers) + 1
    for d, nodes in layers.items():
        for i, v in enumerate(nodes):
            pos[v] = (60 + (w - 120) * d / max(n_layers - 1, 1), 50 + (h - 100) * (i + 0.5) / len(nodes))
    roles = g.edge_roles()
    priority = ["unfair", "spurious", "fair", "contextual"]
    parts = [
        f'<svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="causal graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    for (a, b), r in roles.items():
        (x1, y1), (x2, y2) = pos[a], pos[b]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        sx, sy = x1 + dx / length * 24, y1 + dy / length * 24
        ex, ey = x2 - dx / length * 26, y2 - dy / length * 26
        role = next((p for p in priority if p in r), None)
        colour = ROLE_COLOURS.get(role or "", "#9aa3b2")
        title = f"{a} → {b}: " + (", ".join(sorted(r)) or "no role")
        parts.append(
            f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="{colour}" '
            f'stroke-width="{3 if role else 1.5}" marker-end="url(#arrow)">'
            f"<title>{html.escape(title)}</title></line>"
        )
    for v, (x, y) in pos.items():
        nr = g.node_roles.get(v, frozenset())
        fill = (
            "#fde2e2"
            if "protected" in nr
            else "#fff1d6"
            if "environment" in nr
            else "#dfe9ff"
            if ("target" in nr or "prediction" in nr)
            else "#ffffff"
        )
        dash = ' stroke-dasharray="4 3"' if "latent" in nr else ""
        label = ", ".join(sorted(nr - {"feature"})) or ("feature" if "feature" in nr else "")
        parts.append(
            f'<g><circle cx="{x:.1f}" cy="{y:.1f}" r="22" fill="{fill}" stroke="#333"{dash}/>'
            f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" font-size="14" font-weight="600">'
            f"{html.escape(v)}</text><title>{html.escape(v + ': ' + label)}</title></g>"
        )
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{c}"></i>{r}</span>' for r, c in ROLE_COLOURS.items())
    return "".join(parts) + f'<p class="legend">{legend}<span>dashed node: latent</span></p>'


def _plotly() -> tuple[Any, str]:
    try:
        import plotly
        import plotly.graph_objects as go
    except ImportError:  # pragma: no cover - plotly ships with the report extra
        raise ImportError("ledger reports need plotly: pip install 'causaltrust[report]'") from None
    return go, plotly.offline.get_plotlyjs()


def _div(fig: Any, div_id: str) -> str:
    fig.update_layout(
        margin={"l": 50, "r": 20, "t": 40, "b": 50}, template="plotly_white", height=420, autosize=True
    )
    plot = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"responsive": True})
    return f'<div class="plot">{plot}</div>'


def _div_fig(fig: Any) -> Any:
    fig.update_layout(template="plotly_white", height=460)
    return fig


def _pareto_plots(go: Any, wide: pd.DataFrame) -> str:
    from causaltrust.bench import pareto_front

    out = []
    for k, (xm, ym) in enumerate(PAIRS):
        if xm not in wide.columns or ym not in wide.columns:
            continue
        fig = go.Figure()
        for method, g in wide.groupby("method", sort=True):
            fig.add_trace(
                go.Scatter(
                    x=g[xm],
                    y=g[ym],
                    mode="markers",
                    name=str(method),
                    text=[f"seed {s}" for s in g["seed"]],
                    marker={"size": 9, "color": _colour(str(method), wide)},
                )
            )
        front = pareto_front(wide, [xm, ym])
        if len(front):
            front = front.sort_values(xm)
            fig.add_trace(
                go.Scatter(
                    x=front[xm],
                    y=front[ym],
                    mode="lines",
                    name="Pareto front",
                    line={"color": "#111", "dash": "dot"},
                )
            )
        fig.update_layout(
            title=f"{xm} ({metric_info(xm).better}) vs {ym} ({metric_info(ym).better})",
            xaxis_title=xm,
            yaxis_title=ym,
        )
        out.append(_div(fig, f"pareto-{k}"))
    return (
        f'<div class="grid2">{"".join(out)}</div>' if out else "<p>No pair of objectives in this ledger.</p>"
    )


def _colour(method: str, wide: pd.DataFrame) -> str:
    """One stable colour per method (24 distinct ones: 15 methods must not share colours)."""
    from plotly.colors import qualitative

    palette = qualitative.Dark24
    names = sorted({str(m) for m in wide["method"]})
    return str(palette[names.index(method) % len(palette)])


def _parallel(go: Any, agg: pd.DataFrame) -> str:
    cols = [c for c in HEADLINE if c in agg.columns and np.isfinite(agg[c].astype(float)).all()]
    if len(cols) < 2:
        return "<p>Too few finite objectives for parallel coordinates.</p>"
    codes = {m: i for i, m in enumerate(sorted(agg["method"].unique()))}
    dims = [{"label": c.split(".", 1)[1][:22], "values": agg[c].astype(float)} for c in cols]
    dims.insert(
        0,
        {
            "label": "method",
            "values": [codes[m] for m in agg["method"]],
            "tickvals": list(codes.values()),
            "ticktext": list(codes),
        },
    )
    fig = go.Figure(
        go.Parcoords(
            line={"color": [codes[m] for m in agg["method"]], "colorscale": "Turbo"}, dimensions=dims
        )
    )
    fig = _div_fig(fig)
    title = "Every configuration across the headline objectives (mean over seeds)"
    fig.update_layout(margin={"l": 90, "r": 60, "t": 90, "b": 40}, title={"text": title, "y": 0.98})
    plot = fig.to_html(full_html=False, include_plotlyjs=False, div_id="parallel-coordinates")
    return f'<div class="plot">{plot}</div>'


def _privacy(go: Any, wide: pd.DataFrame) -> str:
    if "privacy.epsilon" not in wide.columns:
        return "<p>No privacy metrics in this ledger.</p>"
    dp = wide[np.isfinite(wide["privacy.epsilon"].astype(float))]
    if dp.empty:
        return "<p>No differentially private configuration in this ledger (every ε is ∞).</p>"
    out = []
    for k, y in enumerate(["accuracy.observational", "privacy.mia_advantage", "fairness.unfair_path_effect"]):
        if y not in dp.columns:
            continue
        fig = go.Figure()
        for method, g in dp.groupby("method", sort=True):
            g = g.sort_values("privacy.epsilon")
            fig.add_trace(
                go.Scatter(
                    x=g["privacy.epsilon"],
                    y=g[y],
                    mode="lines+markers",
                    name=str(method),
                    marker={"color": _colour(str(method), wide)},
                )
            )
        fig.update_layout(
            title=f"{y} vs privacy ε",
            xaxis_title="privacy.epsilon (accountant)",
            yaxis_title=y,
            xaxis_type="log",
        )
        out.append(_div(fig, f"privacy-{k}"))
    return f'<div class="grid2">{"".join(out)}</div>'


def _environments(go: Any, agg: pd.DataFrame) -> str:
    prefixes = ("robustness.environment_accuracy[", "accuracy.shift[", "accuracy.shift_adapted[")
    cols = [c for c in agg.columns if "::" not in c and c.startswith(prefixes)]
    if not cols:
        return "<p>No per-environment or per-shift accuracy in this ledger.</p>"
    fig = go.Figure()
    for c in sorted(cols):
        fig.add_trace(
            go.Bar(
                name=c.replace("robustness.environment_accuracy", "environment")
                .replace("accuracy.shift_adapted", "shift, adapted on unlabeled rows")
                .replace("accuracy.shift", "shift, no target data"),
                x=agg["config"],
                y=agg[c],
            )
        )
    low = max(0.0, float(np.nanmin(agg[cols].to_numpy(dtype=float))) - 0.05)
    fig.update_layout(
        barmode="group",
        title="Accuracy per environment and per shift",
        yaxis_title="accuracy",
        yaxis_range=[low, 1.0],
    )
    return _div(fig, "environments-plot")


def _dominance(wide: pd.DataFrame) -> str:
    from causaltrust.bench import dominance_summary

    objs = [c for c in DOMINANCE if c in wide.columns]
    causal = [m for m in ("selective", "selective_fitted") if m in set(wide["method"])]
    if len(objs) < 2 or not causal:
        return (
            "<p>Dominance needs the selective methods and at least two of " + ", ".join(DOMINANCE) + ".</p>"
        )
    try:
        s = dominance_summary(wide, objs, causal_methods=causal)
    except CausalTrustError as exc:
        return f"<p>{html.escape(str(exc))}</p>"
    rows = "".join(
        f"<tr><td>{html.escape(str(r['baseline']))}</td><td>{'yes' if r['dominates'] else 'no'}</td>"
        f"<td class='num'>{r['share_points_dominated']:.2f}</td><td class='num'>{r['hv_difference']:.4f}</td>"
        f"<td class='num'>{r['hv_causal_only']:.4f}</td><td class='num'>{r['hv_baseline_only']:.4f}</td></tr>"
        for _, r in s.iterrows()
    )
    return (
        f"<p>Objectives: {', '.join(objs)} (directions from the metric registry). Causal methods: "
        f"{', '.join(causal)}.</p><table><tr><th>baseline</th><th>front dominated</th><th>share of points "
        "dominated</th><th>hypervolume causal − baseline</th><th>volume only causal covers</th><th>volume "
        f"only baseline covers</th></tr>{rows}</table>"
    )


def render_ledger(led: Any, *, title: str | None = None) -> str:
    """The HTML text of a benchmark ledger's report."""
    from causaltrust import scenarios

    data = led.data()
    wide = led.to_frame()
    cells = data.cells
    n_ok = int((cells["status"] == "ok").sum()) if len(cells) else 0
    n_failed = int((cells["status"] == "failed").sum()) if len(cells) else 0
    scen = sorted(set(cells["scenario"])) if len(cells) else []
    title = title or f"causaltrust benchmark — {', '.join(scen) or 'empty ledger'}"
    go, plotly_js = _plotly()
    agg = _aggregate(wide) if len(wide) else pd.DataFrame()
    graph = ""
    for s in scen:
        if s in scenarios.available():
            graph += f"<h3>{html.escape(s)}</h3>" + _graph_svg(scenarios.load(s)[0])
    graph = graph or "<p>The ledger's scenario is not built in; no graph to draw.</p>"
    cards = "".join(
        f'<div class="card"><b>{v}</b>{html.escape(k)}</div>'
        for k, v in [
            ("cells ok", n_ok),
            ("cells failed", n_failed),
            ("methods", len(set(wide["method"])) if len(wide) else 0),
            ("seeds", len(set(wide["seed"])) if len(wide) else 0),
        ]
    )
    fails = cells[cells["status"] == "failed"] if len(cells) else cells
    fail_rows = "".join(
        f"<tr><td>{html.escape(str(r['method']))}</td><td>{html.escape(str(r['params_json']))}</td>"
        f"<td>{r['seed']}</td><td>{html.escape(str(r['error'])[:300])}</td></tr>"
        for _, r in fails.iterrows()
    )
    notes = sorted(set(data.notes["note"])) if len(data.notes) else []
    recourse = _recourse(cells)
    sections = [
        f'<h2 id="graph">Causal graph and path roles</h2>{graph}',
        f'<h2 id="headline">Headline: mean over seeds [95% interval]</h2>'
        f"{_headline_table(agg, HEADLINE) if len(agg) else '<p>No finished cells.</p>'}",
        f'<h2 id="pareto">Pareto fronts</h2>{_pareto_plots(go, wide) if len(wide) else ""}',
        f'<h2 id="parallel">Parallel coordinates</h2>{_parallel(go, agg) if len(agg) else ""}',
        f'<h2 id="dominance">Dominance of the causal methods</h2>{_dominance(wide) if len(wide) else ""}',
        f'<h2 id="privacy">Privacy ε curves</h2>{_privacy(go, wide) if len(wide) else ""}',
        f'<h2 id="environments">Per-environment and per-shift accuracy</h2>'
        f"{_environments(go, agg) if len(agg) else ''}",
        f'<h2 id="recourse">Recourse examples</h2>{recourse}',
        '<h2 id="failures">Failed cells</h2>'
        + (
            f"<table><tr><th>method</th><th>params</th><th>seed</th><th>error</th></tr>{fail_rows}</table>"
            if fail_rows
            else "<p>None.</p>"
        ),
        '<h2 id="notes">Assumptions and scope</h2><ul class="notes">'
        + "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        + "</ul>",
    ]
    meta = data.meta
    banner = ""
    if n_failed and not n_ok:
        banner = (
            f'<p class="banner"><b>Every cell failed ({n_failed}):</b> this report has no results; the '
            'errors are under <a href="#failures">Failed cells</a>.</p>'
        )
    elif n_failed:
        banner = (
            f'<p class="banner"><b>Partial results:</b> {n_failed} of {n_ok + n_failed} cells failed; '
            f"the tables and plots cover the {n_ok} finished ones "
            '(see <a href="#failures">Failed cells</a>).</p>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        f'<style>{_CSS}{_EXTRA_CSS}</style><script type="text/javascript">{plotly_js}</script></head><body>'
        f'<h1>{html.escape(title)}</h1><p class="sub">Every method trained, then audited as interventional '
        "tests against the true SCM; one ledger row per (method, parameters, seed). Ledger format "
        f"{html.escape(meta.get('format', ''))} v{html.escape(str(meta.get('schema_version', '')))}, "
        f"causaltrust {html.escape(meta.get('package_version', ''))}.</p>"
        f'{banner}<div class="cards">{cards}</div>{"".join(sections)}{_RESIZE}</body></html>\n'
    )


def _recourse(cells: pd.DataFrame) -> str:
    """Recourse examples stored with the cells (``extras_json``), first few of a selective method."""
    if "extras_json" not in cells.columns or cells.empty:
        return "<p>No recourse examples recorded.</p>"
    for method in ("selective_fitted", "selective", *sorted(set(cells["method"]))):
        for raw in cells.loc[cells["method"] == method, "extras_json"]:
            if not isinstance(raw, str) or not raw:
                continue
            ex = json.loads(raw).get("recourse_examples") or []
            if ex:
                from causaltrust.report._html import _examples

                return f"<p>Method {html.escape(method)}.</p>" + _examples(ex[:8]).split("</h2>", 1)[1]
    return "<p>No recourse examples recorded.</p>"
