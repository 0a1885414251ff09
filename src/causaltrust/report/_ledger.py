"""One self-contained HTML page for a benchmark ledger: the story first, then the evidence.

Order: generated headline sentences (causal methods against the best baseline, per objective) and pass/fail
against the spec's thresholds; the trade-off plots a reader needs; the causal graph; the headline table; then
the rest (other Pareto pairs, ranks, dominance, ε curves, per-environment accuracy, recourse, failures,
notes).

Seeds are pooled per configuration only (:func:`causaltrust.bench.summarize`: spec, method, parameters and
settings), with Student-t intervals clipped to each metric's range. Which methods are causal comes from the
method registry (``MethodSpec.causal``); this module names no method. Plotly's JavaScript is inlined once; the
graph is inline SVG, so the page works offline.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust._format import fmt_interval, fmt_num
from causaltrust.audit import metric_info
from causaltrust.exceptions import CausalTrustError
from causaltrust.report._graph import EDGE_COLOURS, graph_svg
from causaltrust.report._html import _CSS, DIRECTION_TEXT, _examples, notes_html

__all__ = [
    "HEADLINE",
    "OBJECTIVES",
    "PAIRS",
    "TRADEOFFS",
    "headline_sentences",
    "render_ledger",
    "story_lines",
]

OBJECTIVES = ("accuracy", "fairness", "robustness", "privacy", "explainability", "text")
HEADLINE = [
    "accuracy.observational",
    "accuracy.interventional",
    "accuracy.interventional_adapted",
    "accuracy.fair_world",
    "accuracy.rmse",
    "accuracy.r2",
    "accuracy.fair_world_rmse",
    "fairness.unfair_path_effect",
    "fairness.unfair_path_effect_abs",
    "fairness.fair_path_effect",
    "fairness.demographic_parity_difference",
    "fairness.mean_difference",
    "robustness.spurious_path_effect",
    "robustness.spurious_path_effect_adapted",
    "privacy.epsilon",
    "privacy.mia_advantage",
    "explainability.recourse_validity",
    "text.flip_rate",
    "text.output_change_abs",
    "text.relevant_output_change_abs",
]
# The metric each objective's headline sentence compares, in order of preference.
_SENTENCE_METRICS = {
    "accuracy": ["accuracy.interventional", "accuracy.observational", "accuracy.rmse"],
    "fairness": ["fairness.unfair_path_effect"],
    "robustness": ["robustness.spurious_path_effect"],
    "robustness with unlabeled target data": ["accuracy.interventional_adapted"],
    "privacy": ["privacy.mia_advantage"],
    "explainability": ["explainability.recourse_validity"],
    "text": ["text.output_change_abs", "text.flip_rate"],
}
# (x, y, title): the trade-offs a reader needs, each with its robustness regime.
TRADEOFFS = [
    ("accuracy.interventional", "fairness.unfair_path_effect", "no target data: models used as trained"),
    (
        "accuracy.interventional_adapted",
        "fairness.unfair_path_effect",
        "unlabeled target data: every model that can adapt does",
    ),
    ("accuracy.interventional", "robustness.spurious_path_effect", "no target data"),
    ("accuracy.interventional_adapted", "robustness.spurious_path_effect_adapted", "unlabeled target data"),
]
PAIRS = [
    ("accuracy.observational", "fairness.unfair_path_effect"),
    ("accuracy.fair_world", "fairness.demographic_parity_difference"),
    ("accuracy.observational", "privacy.mia_advantage"),
    # A continuous target (issue 26): errors in outcome units.
    ("accuracy.rmse", "fairness.unfair_path_effect"),
    ("accuracy.fair_world_rmse", "fairness.mean_difference"),
]
DOMINANCE = ["accuracy.interventional", "fairness.unfair_path_effect", "robustness.spurious_path_effect"]
# Plots inside a grid are drawn before their neighbours exist, at the full page width; resize them to their
# cells once the layout is final.
_RESIZE = (
    "<script>window.addEventListener('load',function(){document.querySelectorAll('.js-plotly-plot')"
    ".forEach(function(d){Plotly.Plots.resize(d);});});</script>"
)
ROLE_COLOURS = EDGE_COLOURS
# 20 colours x 13 shapes, cycled with coprime periods: 15+ methods never share both. No near-black colour,
# since causal methods are outlined in black.
_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#9c755f",
    "#ff9da7",
    "#76b7b2",
    "#edc948",
    "#bab0ac",
]
_SYMBOLS = [
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
]
_EXTRA_CSS = """
body{max-width:1400px}.scroll{overflow-x:auto;max-width:100%}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}.card{background:#f6f7fa;border-radius:8px;
padding:.7rem 1rem;min-width:9rem}.card b{display:block;font-size:1.3rem}
.best{background:#e7f6ec;font-weight:600}.tie{background:#f1f8f3}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:1.6rem;height:3px;
vertical-align:middle;margin-right:.3rem}.legend b.dot{display:inline-block;width:.9rem;height:.9rem;
border:1px solid #333;border-radius:50%;vertical-align:middle;margin-right:.3rem}
.plot{margin:.5rem 0 1.5rem}.grid2{display:grid;
grid-template-columns:repeat(auto-fit,minmax(min(560px,100%),1fr));gap:1rem}.grid2>div{min-width:0}
table.wide{font-size:.78rem;width:auto}table.wide th,table.wide td{padding:.3rem .35rem}
table.wide th{white-space:normal;min-width:4.6rem;max-width:7rem;
overflow-wrap:anywhere;vertical-align:bottom}table.wide td{white-space:nowrap}
table.wide th.group{text-align:center;border-left:2px solid #d5d9e2;background:#eef1f6}
table.wide td.first,table.wide th.first{position:sticky;left:0;background:#fff;z-index:1;
white-space:normal;min-width:8rem;max-width:12rem;overflow-wrap:anywhere;box-shadow:1px 0 0 #e4e7ee}
table.wide th.first{background:#f6f7fa}tr.causal td.first{font-weight:700;border-left:4px solid #14307a}
.story p{margin:.35rem 0}.story{background:#f6f7fa;border-radius:8px;padding:.6rem 1rem;margin:1rem 0}
.win{color:#11612f;font-weight:600}.lose{color:#9b1c1c;font-weight:600}.even{color:#5b6475;font-weight:600}
small.ci{color:#5b6475}.banner{background:#fdecea;border-left:4px solid #c0392b;padding:.6rem 1rem}
"""


# --- helpers over the summary frame ---------------------------------------------------------------
def _direction(metric: str) -> str:
    try:
        return metric_info(metric).better
    except CausalTrustError:
        return "informative"


def _score(v: float, better: str) -> float:
    """Lower is better, whatever the metric's direction (NaN for informative metrics)."""
    return {"higher": -v, "lower": v, "zero": abs(v)}.get(better, float("nan"))


def _score_interval(lo: float, hi: float, better: str) -> tuple[float, float]:
    if better == "higher":
        return -hi, -lo
    if better == "zero":
        if lo <= 0 <= hi:
            return 0.0, max(abs(lo), abs(hi))
        return min(abs(lo), abs(hi)), max(abs(lo), abs(hi))
    return lo, hi


def _interval(row: pd.Series, c: str) -> tuple[float, float] | None:
    lo, hi = row.get(c + "::lo"), row.get(c + "::hi")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return None
    return float(lo), float(hi)


def _value_text(row: pd.Series, c: str) -> str:
    iv = _interval(row, c)
    return fmt_num(row.get(c), 3) + (f" {fmt_interval(*iv, 3)}" if iv else "")


def _compare(a: pd.Series, b: pd.Series, c: str) -> str:
    """``win`` / ``lose`` / ``tie`` for ``a`` against ``b`` on metric ``c`` (ties: intervals overlap)."""
    better = _direction(c)
    sa, sb = _score(float(a[c]), better), _score(float(b[c]), better)
    ia, ib = _interval(a, c), _interval(b, c)
    if ia and ib:
        (la, ha), (lb, hb) = _score_interval(*ia, better), _score_interval(*ib, better)
        if la <= hb and lb <= ha:
            return "tie"
    elif sa == sb:
        return "tie"
    return "win" if sa < sb else "lose"


def _contexts(agg: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Groups of configurations that may be compared: same spec and same settings."""
    settings = list(agg.attrs.get("settings", []))
    keys = ["spec", *settings]
    if agg["spec"].nunique() <= 1 and not settings:
        return [("", agg)]
    out = []
    for key, g in agg.groupby(keys, sort=True, dropna=False):
        vals = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{k}={v}" if k != "spec" else str(v) for k, v in zip(keys, vals, strict=True))
        out.append((label, g.assign(config=g["name"])))
    return out


def _causal(agg: pd.DataFrame) -> pd.Series:
    from causaltrust.bench import METHODS

    return agg["method"].map(lambda m: bool(getattr(METHODS.get(str(m)), "causal", False)))


# --- 1. the story ---------------------------------------------------------------------------------
def headline_sentences(agg: pd.DataFrame) -> list[tuple[str, str]]:
    """``(context, sentence)`` per objective: each causal configuration against the best baseline.

    The best baseline is the non-causal configuration with the best mean in the metric's direction. A
    difference counts only when the 95% intervals over seeds do not overlap; otherwise it is called a tie.
    Where a baseline does better, the sentence says so.
    """
    out: list[tuple[str, str]] = []
    if agg.empty:
        return out
    for context, g in _contexts(agg):
        causal = _causal(g)
        if not causal.any() or causal.all():
            who = "no causal method" if not causal.any() else "no baseline"
            out.append((context, f"This ledger has {who}, so there is nothing to compare."))
            continue
        for objective, candidates in _SENTENCE_METRICS.items():
            c = next((m for m in candidates if m in g.columns and g[m].notna().any()), None)
            if c is None:
                continue
            better = _direction(c)
            base = g[~causal & g[c].notna() & np.isfinite(g[c].astype(float))]
            mine = g[causal & g[c].notna()]
            if mine.empty:
                continue
            if base.empty:
                values = "; ".join(
                    f"<b>{html.escape(str(r['config']))}</b> {_value_text(r, c)}" for _, r in mine.iterrows()
                )
                out.append(
                    (
                        context,
                        f"<b>{objective.capitalize()}</b> — {html.escape(c)}: {values}; no baseline in this "
                        "ledger has a value (not applicable to them), so there is nothing to compare.",
                    )
                )
                continue
            scores = [_score(float(v), better) for v in base[c]]
            best = base.iloc[int(np.argmin(scores))]
            parts = []
            for _, r in mine.iterrows():
                verdict = _compare(r, best, c)
                word = {
                    "win": '<span class="win">better</span>',
                    "lose": f'<span class="lose">worse: {html.escape(str(best["config"]))} wins</span>',
                    "tie": '<span class="even">a tie (intervals overlap)</span>',
                }[verdict]
                parts.append(f"<b>{html.escape(str(r['config']))}</b> {_value_text(r, c)}: {word}")
            untested = (
                " (one seed: no interval, so this compares point estimates only)"
                if _interval(best, c) is None
                else ""
            )
            sentence = (
                f"<b>{objective.capitalize()}</b> — {html.escape(c)} ({DIRECTION_TEXT[better]}): best "
                f"baseline <b>{html.escape(str(best['config']))}</b> {_value_text(best, c)}; "
                + "; ".join(parts)
                + untested
                + "."
            )
            out.append((context, sentence))
    return out


def story_lines(ledger: Any) -> list[str]:
    """The headline sentences of a ledger as plain text (for the command line).

    Examples
    --------
    >>> import tempfile, os
    >>> from causaltrust.bench import Ledger
    >>> story_lines(Ledger.open(os.path.join(tempfile.mkdtemp(), "r.duckdb"), create=True))
    []
    """
    import re

    from causaltrust.bench import summarize

    out = []
    for context, sentence in headline_sentences(summarize(ledger)):
        text = html.unescape(re.sub(r"<[^>]+>", "", sentence))
        out.append(f"[{context}] {text}" if context else text)
    return out


def _thresholds(agg: pd.DataFrame) -> str:
    cols = sorted({c.split("::")[0] for c in agg.columns if c.endswith("::passed")})
    if not cols:
        return "<p>The spec sets no thresholds, so no method is judged pass or fail.</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    causal = _causal(agg)
    for i, (_, r) in enumerate(agg.iterrows()):
        cells = []
        for c in cols:
            share = r.get(c + "::passed")
            if share is None or pd.isna(share):
                cells.append("<td>–</td>")
                continue
            n = int(r["n_seeds"])
            k = round(float(share) * n)
            tag = "pass" if k == n else "fail"
            word = "pass" if k == n else "FAIL"
            cells.append(f'<td><span class="tag {tag}">{word}</span> {k}/{n} seeds</td>')
        cls = ' class="causal"' if causal.iloc[i] else ""
        rows.append(f'<tr{cls}><td class="first">{html.escape(str(r["config"]))}</td>{"".join(cells)}</tr>')
    return (
        "<p>Each configuration against the spec's thresholds (a configuration passes when every seed "
        "does).</p>"
        f'<div class="scroll"><table class="wide"><tr><th class="first">configuration</th>{head}</tr>'
        f"{''.join(rows)}</table></div>"
    )


def _story(agg: pd.DataFrame) -> str:
    sentences = headline_sentences(agg)
    if not sentences:
        return "<p>No finished cells.</p>"
    blocks: dict[str, list[str]] = {}
    for ctx, s in sentences:
        blocks.setdefault(ctx, []).append(s)
    body = "".join(
        (f"<h3>{html.escape(ctx)}</h3>" if ctx else "")
        + '<div class="story">'
        + "".join(f"<p>{s}</p>" for s in ss)
        + "</div>"
        for ctx, ss in blocks.items()
    )
    legend = (
        "<p class='sub'>Mean over seeds [Student-t 95% interval]. Causal methods are those the method "
        "registry "
        "flags as causal; each is compared with the best baseline on that metric.</p>"
    )
    return legend + body + _thresholds(agg)


# --- 2. plots -------------------------------------------------------------------------------------
def _styles(agg: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per configuration: colour (by method), marker shape (by method, open/dot per variant), causal flag."""
    palette = _PALETTE
    methods = sorted({str(m) for m in agg["method"]})
    causal = dict(zip(agg["config"], _causal(agg), strict=True))
    variants: dict[str, int] = {}
    out: dict[str, dict[str, Any]] = {}
    for cfg, m in zip(agg["config"], agg["method"], strict=True):
        i = methods.index(str(m))
        j = variants.get(str(m), 0)
        variants[str(m)] = j + 1
        symbol = _SYMBOLS[i % len(_SYMBOLS)] + ["", "-open", "-dot", "-open-dot"][j % 4]
        out[str(cfg)] = {
            "color": str(palette[i % len(palette)]),
            "symbol": symbol,
            "causal": bool(causal[cfg]),
        }
    return out


def _marker(style: dict[str, Any]) -> dict[str, Any]:
    return {
        "color": style["color"],
        "symbol": style["symbol"],
        "size": 15 if style["causal"] else 10,
        "line": {"color": "#000", "width": 2.5} if style["causal"] else {"color": style["color"], "width": 1},
    }


def _div(fig: Any, div_id: str, height: int = 440) -> str:
    fig.update_layout(
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        template="plotly_white",
        height=height,
        autosize=True,
        legend={"font": {"size": 10}},
    )
    plot = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"responsive": True})
    return f'<div class="plot">{plot}</div>'


def _axis_title(metric: str) -> str:
    return f"{metric} ({DIRECTION_TEXT[_direction(metric)]})"


def _error_bar(value: float, interval: tuple[float, float] | None) -> dict[str, Any] | None:
    if interval is None:
        return None
    return {
        "type": "data",
        "symmetric": False,
        "array": [interval[1] - value],
        "arrayminus": [value - interval[0]],
    }


def _config_scatter(go: Any, agg: pd.DataFrame, xm: str, ym: str, title: str, div_id: str) -> str:
    """Configuration means with their seed intervals as error bars, and the Pareto front of the means."""
    from causaltrust.bench import pareto_front

    styles = _styles(agg)
    fig = go.Figure()
    rows = agg[agg[xm].notna() & agg[ym].notna()]
    for _, r in rows.iterrows():
        st = styles[str(r["config"])]
        ex, ey = _interval(r, xm), _interval(r, ym)
        fig.add_trace(
            go.Scatter(
                x=[r[xm]],
                y=[r[ym]],
                mode="markers",
                name=str(r["config"]) + (" (causal)" if st["causal"] else ""),
                marker=_marker(st),
                error_x=_error_bar(r[xm], ex),
                error_y=_error_bar(r[ym], ey),
                hovertemplate=f"{html.escape(str(r['config']))}<br>{xm}=%{{x:.3f}}<br>{ym}=%{{y:.3f}}"
                "<extra></extra>",
            )
        )
    try:
        front = pareto_front(rows[[xm, ym]].astype(float).reset_index(drop=True), [xm, ym])
    except CausalTrustError:
        front = pd.DataFrame()
    _add_front(go, fig, front, xm, ym)
    if _direction(ym) == "zero":
        fig.add_hline(y=0, line={"color": "#b8bfcc", "width": 1})
    fig.update_layout(
        title={"text": f"{xm} vs {ym}<br><sup>{html.escape(title)}</sup>", "font": {"size": 14}},
        xaxis_title=_axis_title(xm),
        yaxis_title=_axis_title(ym),
    )
    return _div(fig, div_id)


def _add_front(go: Any, fig: Any, front: pd.DataFrame, xm: str, ym: str) -> None:
    """The dotted line through the Pareto-optimal points (nothing when the front is empty)."""
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


def _tradeoffs(go: Any, agg: pd.DataFrame) -> str:
    out, missing = [], []
    for k, (xm, ym, regime) in enumerate(TRADEOFFS):
        if xm in agg.columns and ym in agg.columns and (agg[xm].notna() & agg[ym].notna()).any():
            out.append(_config_scatter(go, agg, xm, ym, regime, f"tradeoff-{k}"))
        else:
            missing.append(f"{xm} vs {ym} ({regime})")
    note = (
        "<p class='sub'>Not drawn, the ledger lacks the metrics: " + html.escape("; ".join(missing)) + ".</p>"
        if missing
        else ""
    )
    intro = (
        "<p class='sub'>One marker per configuration at its mean over seeds, bars: 95% intervals over seeds. "
        "Causal methods have large outlined markers. The dotted line joins the configurations no other beats "
        "on both axes.</p>"
    )
    grid = f'<div class="grid2">{"".join(out)}</div>' if out else ""
    return intro + grid + note


def _pareto_plots(go: Any, wide: pd.DataFrame, agg: pd.DataFrame) -> str:
    """Other pairs of objectives, one point per cell (seed)."""
    from causaltrust.bench import pareto_front

    styles = _styles(agg)
    out = []
    for k, (xm, ym) in enumerate(PAIRS):
        if xm not in wide.columns or ym not in wide.columns:
            continue
        fig = go.Figure()
        for cfg, g in wide.groupby("config", sort=True):
            st = styles.get(str(cfg))
            if st is None:
                continue
            fig.add_trace(
                go.Scatter(
                    x=g[xm],
                    y=g[ym],
                    mode="markers",
                    name=str(cfg),
                    text=[f"seed {s}" for s in g["seed"]],
                    marker=_marker(st),
                )
            )
        front = pareto_front(wide, [xm, ym])
        _add_front(go, fig, front, xm, ym)
        fig.update_layout(
            title=f"{xm} vs {ym} (one point per seed)",
            xaxis_title=_axis_title(xm),
            yaxis_title=_axis_title(ym),
        )
        out.append(_div(fig, f"pareto-{k}"))
    return (
        f'<div class="grid2">{"".join(out)}</div>' if out else "<p>No pair of objectives in this ledger.</p>"
    )


# --- 3. tables ------------------------------------------------------------------------------------
def _best_marks(agg: pd.DataFrame, c: str) -> dict[int, str]:
    """Row index → ``best`` or ``tie`` (tied with the best: intervals overlap). Informative metrics: none."""
    better = _direction(c)
    if better == "informative":
        return {}
    vals = agg[c].to_numpy(dtype=float)
    ok = [i for i in range(len(vals)) if np.isfinite(vals[i])]
    if len(ok) < 2:
        return {}
    best = min(ok, key=lambda i: _score(float(vals[i]), better))
    marks = {best: "best"}
    for i in ok:
        if i != best and _compare(agg.iloc[i], agg.iloc[best], c) == "tie":
            marks[i] = "tie"
    if len(marks) == len(ok):  # everything ties: nothing to crown
        return {i: "tie" for i in marks}
    return marks


def _headline_table(agg: pd.DataFrame, metrics: Sequence[str]) -> str:
    cols = [m for m in metrics if m in agg.columns and agg[m].notna().any()]
    settings = [s for s in agg.attrs.get("settings", []) if s in agg.columns]
    show_spec = agg["spec"].nunique() > 1
    groups = [(o, [c for c in cols if c.startswith(o + ".")]) for o in OBJECTIVES]
    groups = [(o, cs) for o, cs in groups if cs]
    marks = {c: _best_marks(agg, c) for c in cols}
    ident = ["spec"] * show_spec + settings
    top = (
        '<tr><th class="first" rowspan="2">configuration</th><th rowspan="2">seeds</th>'
        + "".join(f'<th rowspan="2">{html.escape(s)}</th>' for s in ident)
        + "".join(f'<th class="group" colspan="{len(cs)}">{o}</th>' for o, cs in groups)
        + "</tr>"
    )
    sub = "".join(
        f'<th title="{html.escape(metric_info(c).description)}">{html.escape(c.split(".", 1)[1])}'
        f'<br><span class="better">{html.escape(DIRECTION_TEXT[_direction(c)])}</span></th>'
        for _, cs in groups
        for c in cs
    )
    causal = _causal(agg)
    body = []
    for i, (_, row) in enumerate(agg.iterrows()):
        cells = []
        for _, cs in groups:
            for c in cs:
                iv = _interval(row, c)
                ci = f'<br><small class="ci">{fmt_interval(*iv, 3)}</small>' if iv else ""
                mark = marks[c].get(i)
                cls = f"num {mark}" if mark else "num"
                tag = " <small>(tie)</small>" if mark == "tie" else ""
                cells.append(f'<td class="{cls}">{fmt_num(row.get(c), 3)}{tag}{ci}</td>')
        extra = "".join(f"<td>{html.escape(str(row.get(s)))}</td>" for s in ident)
        cls = ' class="causal"' if causal.iloc[i] else ""
        body.append(
            f'<tr{cls}><td class="first">{html.escape(str(row["name"] if ident else row["config"]))}</td>'
            f"<td class='num'>{row['n_seeds']}</td>{extra}{''.join(cells)}</tr>"
        )
    note = (
        "<p class='sub'>Green: best in the metric's direction; '(tie)': its interval overlaps the best's. "
        "Informative metrics (e.g. the fair-path effect, a legitimate effect) are reported, never ranked. "
        "Bold, with a bar: causal methods.</p>"
    )
    return f'{note}<div class="scroll"><table class="wide">{top}<tr>{sub}</tr>{"".join(body)}</table></div>'


def _ranks(agg: pd.DataFrame) -> str:
    """Rank of every configuration per headline objective (1 = best): replaces parallel coordinates."""
    cols = [
        c for c in HEADLINE if c in agg.columns and _direction(c) != "informative" and agg[c].notna().any()
    ]
    if len(cols) < 2 or len(agg) < 2:
        return "<p>Too few configurations or objectives to rank.</p>"
    scores = pd.DataFrame(
        {c: agg[c].astype(float).map(lambda v, c=c: _score(v, _direction(c))) for c in cols}
    )
    ranks = scores.rank(method="min")
    n = len(agg)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    causal = _causal(agg)
    rows = []
    for i in np.argsort(ranks.mean(axis=1).to_numpy(), kind="stable"):
        cells = []
        for c in cols:
            r = ranks[c].iloc[i]
            if pd.isna(r):
                cells.append("<td>–</td>")
                continue
            shade = 0.85 - 0.55 * (1 - (r - 1) / max(n - 1, 1))
            cells.append(f'<td class="num" style="background:hsl(140,45%,{shade * 100:.0f}%)">{int(r)}</td>')
        cls = ' class="causal"' if causal.iloc[i] else ""
        rows.append(
            f'<tr{cls}><td class="first">{html.escape(str(agg["config"].iloc[i]))}</td>'
            f"<td class='num'>{ranks.iloc[i].mean():.1f}</td>{''.join(cells)}</tr>"
        )
    return (
        "<p class='sub'>Rank per objective among the configurations (1 = best mean, ties share a rank); rows "
        "sorted by mean rank. Darker is better. Ranks ignore the size of differences: read the table above "
        "for that.</p>"
        f'<div class="scroll"><table class="wide"><tr><th class="first">configuration</th><th>mean rank</th>'
        f"{head}</tr>{''.join(rows)}</table></div>"
    )


def _dominance(wide: pd.DataFrame) -> str:
    from causaltrust.bench import METHODS, dominance_summary

    objs = [c for c in DOMINANCE if c in wide.columns]
    causal = sorted(m for m in set(wide["method"]) if getattr(METHODS.get(str(m)), "causal", False))
    if len(objs) < 2 or not causal:
        return "<p>Dominance needs a causal method and at least two of " + ", ".join(DOMINANCE) + ".</p>"
    try:
        s = dominance_summary(wide, objs, causal_methods=causal)
    except CausalTrustError as exc:
        return f"<p>{html.escape(str(exc))}</p>"
    box = _box_volume(wide, objs, s.attrs.get("reference"))
    box = box if np.isfinite(box) else 0.0
    rows = "".join(
        f"<tr><td>{html.escape(str(r['baseline']))}</td><td>{'yes' if r['dominates'] else 'no'}</td>"
        f"<td class='num'>{fmt_num(r['share_points_dominated'], 2)}</td>"
        f"<td class='num'>{fmt_num(r['hv_difference'], 4)}</td>"
        f"<td class='num'>{fmt_num(100 * r['hv_difference'] / box, 1) + '%' if box > 0 else '–'}</td>"
        f"<td class='num'>{fmt_num(r['hv_causal_only'], 4)}</td>"
        f"<td class='num'>{fmt_num(r['hv_baseline_only'], 4)}</td></tr>"
        for _, r in s.iterrows()
    )
    return (
        f"<p>Objectives: {', '.join(objs)}; causal methods: {', '.join(causal)}; one point per cell "
        "(seed).</p>"
        "<p class='sub'>How to read the volumes: every objective is turned into a loss (accuracy → "
        "−accuracy, effects → |effect|), and the hypervolume is the volume of loss space a set of points "
        "dominates, up to a reference point 10% beyond the worst value seen. Units are the product of the "
        f"objectives' units (here {len(objs)} of them, each on its own scale of roughly 0–1), so a "
        "difference of 0.007 in a box whose sides are a few hundredths wide can be a large share: compare "
        "with the two 'only' columns. 'Share of the box' divides the difference by the volume between the "
        "best value seen on every objective and the reference point (the most any front can cover), so "
        "it reads on a 0–100% scale; 'share of points dominated' is the plain-language version.</p>"
        "<table><tr><th>baseline</th><th>causal front dominates it</th><th>share of its points "
        "dominated</th>"
        "<th>hypervolume causal − baseline</th><th>… as a share of the box</th>"
        "<th>volume only causal covers</th><th>volume only baseline "
        f"covers</th></tr>{rows}</table>"
    )


def _box_volume(wide: pd.DataFrame, objs: Sequence[str], reference: Any) -> float:
    """Volume between the best value seen on every objective and the reference point (minimisation form)."""
    from causaltrust.bench import directions, to_minimisation

    if reference is None:
        return float("nan")
    dirs = directions(objs)
    pts = to_minimisation(wide[list(objs)].dropna().to_numpy(dtype=float), dirs)
    ref = to_minimisation([list(reference)], dirs)[0]
    if not len(pts):
        return float("nan")
    return float(np.prod(np.maximum(ref - pts.min(axis=0), 0.0)))


def _privacy(go: Any, wide: pd.DataFrame, agg: pd.DataFrame) -> str:
    """ε curves for the methods run at several finite ε values (a curve needs more than one point)."""
    if "privacy.epsilon" not in wide.columns:
        return "<p>No privacy metrics in this ledger.</p>"
    eps = wide["privacy.epsilon"].astype(float)
    dp = wide[np.isfinite(eps)]
    several = [m for m, g in dp.groupby("method") if g["privacy.epsilon"].round(6).nunique() > 1]
    if not several:
        single = sorted(set(dp["method"]))
        why = (
            f"only one ε each ({', '.join(single)}): their values are in the table above"
            if single
            else "every ε is ∞ (no differentially private configuration)"
        )
        return f"<p>No ε curve to draw: {html.escape(why)}.</p>"
    dp = dp[dp["method"].isin(several)]
    styles = _styles(agg)
    out = []
    for k, y in enumerate(["accuracy.observational", "privacy.mia_advantage", "fairness.unfair_path_effect"]):
        if y not in dp.columns:
            continue
        fig = go.Figure()
        for method, g in dp.groupby("method", sort=True):
            means = g.groupby("privacy.epsilon")[y].mean().sort_index()
            st = next((v for c, v in styles.items() if c.split(" ")[0] == method), None)
            fig.add_trace(
                go.Scatter(
                    x=means.index,
                    y=means.values,
                    mode="lines+markers",
                    name=str(method),
                    marker=_marker(st) if st else None,
                )
            )
        fig.update_layout(
            title=f"{y} vs privacy ε (mean over seeds)",
            xaxis_title="privacy.epsilon (accountant)",
            yaxis_title=_axis_title(y),
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
        name = (
            c.replace("robustness.environment_accuracy", "environment")
            .replace("accuracy.shift_adapted", "shift, adapted on unlabeled rows")
            .replace("accuracy.shift", "shift, no target data")
        )
        fig.add_trace(go.Bar(name=name, x=agg["config"], y=agg[c]))
    low = max(0.0, float(np.nanmin(agg[cols].to_numpy(dtype=float))) - 0.05)
    fig.update_layout(
        barmode="group",
        title="Accuracy per environment and per shift",
        yaxis_title="accuracy",
        yaxis_range=[low, 1.0],
    )
    return _div(fig, "environments-plot")


# --- 4. notes and the rest ------------------------------------------------------------------------
def _recourse(cells: pd.DataFrame) -> str:
    """Recourse examples stored with the cells (``extras_json``): the first causal method's, else any."""
    from causaltrust.bench import METHODS

    if "extras_json" not in cells.columns or cells.empty:
        return "<p>No recourse examples recorded.</p>"
    methods = sorted(
        set(cells["method"]), key=lambda m: (not getattr(METHODS.get(str(m)), "causal", False), m)
    )
    for method in methods:
        for raw in cells.loc[cells["method"] == method, "extras_json"]:
            if not isinstance(raw, str) or not raw:
                continue
            ex = json.loads(raw).get("recourse_examples") or []
            if ex:
                return f"<p>Method {html.escape(str(method))}.</p>" + _examples(ex[:8]).split("</h2>", 1)[1]
    return "<p>No recourse examples recorded.</p>"


def _plotly() -> tuple[Any, str]:
    try:
        import plotly
        import plotly.graph_objects as go
    except ImportError:  # pragma: no cover - plotly ships with the report extra
        raise ImportError("ledger reports need plotly: pip install 'causaltrust[report]'") from None
    return go, plotly.offline.get_plotlyjs()


def render_ledger(led: Any, *, title: str | None = None) -> str:
    """The HTML text of a benchmark ledger's report."""
    from causaltrust import scenarios
    from causaltrust.bench import config_frame, summarize

    data = led.data()
    cells = data.cells
    ok = cells[cells["status"] == "ok"] if len(cells) else cells
    wide = led.to_frame()
    if len(wide):
        labels = config_frame(ok.reset_index(drop=True))[["cell_id", "config"]]
        wide = wide.merge(labels, on="cell_id", how="left")
    agg = summarize(led)
    n_ok = len(ok)
    n_failed = int((cells["status"] == "failed").sum()) if len(cells) else 0
    scen = sorted(set(cells["scenario"])) if len(cells) else []
    title = title or f"causaltrust benchmark — {', '.join(scen) or 'empty ledger'}"
    go, plotly_js = _plotly()
    graph = ""
    from causaltrust import datasets

    hashes = set(ok["spec_hash"]) if len(ok) else set()
    for s in scen:
        spec = (
            scenarios.load(s)[0]
            if s in scenarios.available()
            else datasets.spec(s)
            if s in datasets.available()
            else None
        )
        if spec is None:
            continue
        other = "" if spec.hash in hashes else " (the built-in spec of this name; the ledger's spec differs)"
        graph += f"<h3>{html.escape(s + other)}</h3>" + graph_svg(spec)
    graph = graph or "<p>The ledger's spec is neither a built-in scenario nor a dataset: no graph.</p>"
    cards = "".join(
        f'<div class="card"><b>{v}</b>{html.escape(k)}</div>'
        for k, v in [
            ("cells ok", n_ok),
            ("cells failed", n_failed),
            ("configurations", len(agg)),
            ("seeds", len(set(wide["seed"])) if len(wide) else 0),
        ]
    )
    fails = cells[cells["status"] == "failed"] if len(cells) else cells
    fail_rows = "".join(
        f"<tr><td>{html.escape(str(r['method']))}</td><td>{html.escape(str(r['params_json']))}</td>"
        f"<td>{r['seed']}</td><td>{html.escape(str(r['error'])[:300])}</td></tr>"
        for _, r in fails.iterrows()
    )
    notes = list(data.notes["note"]) if len(data.notes) else []
    have = len(agg) > 0
    sections = [
        f'<h2 id="summary">The story in brief</h2>{_story(agg) if have else "<p>No finished cells.</p>"}',
        f'<h2 id="tradeoffs">Trade-offs</h2>{_tradeoffs(go, agg) if have else ""}',
        f'<h2 id="graph">Causal graph and path roles</h2>{graph}',
        '<h2 id="headline">Headline: mean over seeds [95% interval]</h2>'
        + (_headline_table(agg, HEADLINE) if have else "<p>No finished cells.</p>"),
        '<h2 id="pareto">More trade-offs, one point per seed</h2>'
        + (_pareto_plots(go, wide, agg) if have else ""),
        f'<h2 id="ranks">Ranks per objective</h2>{_ranks(agg) if have else ""}',
        f'<h2 id="dominance">Dominance of the causal methods</h2>{_dominance(wide) if have else ""}',
        f'<h2 id="privacy">Privacy ε curves</h2>{_privacy(go, wide, agg) if have else ""}',
        '<h2 id="environments">Per-environment and per-shift accuracy</h2>'
        + (_environments(go, agg) if have else ""),
        f'<h2 id="recourse">Recourse examples</h2>{_recourse(ok)}',
        '<h2 id="failures">Failed cells</h2>'
        + (
            f"<table><tr><th>method</th><th>params</th><th>seed</th><th>error</th></tr>{fail_rows}</table>"
            if fail_rows
            else "<p>None.</p>"
        ),
        f'<h2 id="notes">Assumptions and scope</h2>{notes_html(notes)}',
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
        "tests against the true SCM; seeds pooled per configuration (spec, method, parameters, settings). "
        f"Ledger format {html.escape(meta.get('format', ''))} "
        f"v{html.escape(str(meta.get('schema_version', '')))}, "
        f"causaltrust {html.escape(meta.get('package_version', ''))}.</p>"
        f'{banner}<div class="cards">{cards}</div>{"".join(sections)}{_RESIZE}</body></html>\n'
    )
