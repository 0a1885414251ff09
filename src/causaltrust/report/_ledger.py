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
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust._format import fmt_interval, fmt_num
from causaltrust.audit import metric_info
from causaltrust.exceptions import CausalTrustError
from causaltrust.report._audits import audits_html
from causaltrust.report._frontier import frontier_section
from causaltrust.report._graph import EDGE_COLOURS, graph_svg
from causaltrust.report._judge import (
    _direction,
    _interval,
    _score,
    _score_interval,
    compare,
    tie_reason,
    verdict_matrix,
    verdicts_against,
)
from causaltrust.report._page import CSS as _CSS
from causaltrust.report._page import DIRECTION_TEXT, notes_html
from causaltrust.report._page import examples_html as _examples
from causaltrust.report._power import attack_power_sentence
from causaltrust.report._style import PALETTE, SYMBOLS, legend_html

__all__ = [
    "HEADLINE",
    "OBJECTIVES",
    "PAIRS",
    "TRADEOFFS",
    "headline_sentences",
    "render_ledger",
    "spec_thresholds",
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
    "accuracy.interventional_rmse",
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
    "accuracy": [
        "accuracy.interventional",
        "accuracy.observational",
        "accuracy.interventional_rmse",
        "accuracy.rmse",
    ],
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
table.wide th{white-space:normal;min-width:4.2rem;max-width:7rem;
overflow-wrap:normal;word-break:normal;hyphens:none;vertical-align:bottom}table.wide td{white-space:nowrap}
table.ranks th{min-width:0;font-size:.7rem}table.ranks td.num{padding:.3rem .2rem}
table.wide th.group{text-align:center;border-left:2px solid #d5d9e2;background:#eef1f6}
table.wide td.first,table.wide th.first{position:sticky;left:0;background:#fff;z-index:1;
white-space:normal;min-width:8rem;max-width:12rem;overflow-wrap:break-word;box-shadow:1px 0 0 #e4e7ee}
table.wide th.first{background:#f6f7fa}tr.causal td.first{font-weight:700;border-left:4px solid #14307a}
.story p{margin:.35rem 0}.story{background:#f6f7fa;border-radius:8px;padding:.6rem 1rem;margin:1rem 0}
.win{color:#11612f;font-weight:600}.lose{color:#9b1c1c;font-weight:600}.even{color:#5b6475;font-weight:600}
small.ci{color:#5b6475}
.mlegend{display:flex;flex-wrap:wrap;gap:.2rem 1.1rem;font-size:.85rem;margin:.6rem 0;padding:.5rem .8rem;
border:1px solid #e4e7ee;border-radius:8px}.mlegend .item{display:inline-flex;align-items:center;gap:.3rem}
.banner{background:#fdecea;border-left:4px solid #c0392b;padding:.6rem 1rem}
"""


# --- helpers over the summary frame ---------------------------------------------------------------
def _value_text(row: pd.Series, c: str) -> str:
    iv = _interval(row, c)
    return fmt_num(row.get(c), 3) + (f" {fmt_interval(*iv, 3)}" if iv else "")


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
Thresholds = Mapping[str, Mapping[str, Any]]
_ACCURACY_COST = ("accuracy.observational", "accuracy.interventional")


def _short(metric: str) -> str:
    """``accuracy.observational`` → ``observational accuracy``; other metrics keep their name."""
    if metric.startswith("accuracy.") and "[" not in metric:
        return metric.split(".", 1)[1].replace("_", " ") + " accuracy"
    return metric


def _threshold_text(metric: str, bound: Mapping[str, Any]) -> str:
    lhs = "|value|" if _direction(metric) in ("zero", "informative") else "value"
    parts = []
    if bound.get("min") is not None:
        parts.append(f"≥ {_bound(float(bound['min']))}")
    if bound.get("max") is not None:
        parts.append(f"≤ {_bound(float(bound['max']))}")
    return f"{metric} {lhs} {' and '.join(parts)}" if parts else metric


def _bound(v: float) -> str:
    return f"{v:g}"


def _names(rows: pd.DataFrame, limit: int = 8) -> str:
    names = [f"<b>{html.escape(str(c))}</b>" for c in rows["config"]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _epsilon_note(budget: float | None, thresholds: Thresholds | None) -> str:
    if budget is None or thresholds is None or "privacy.epsilon" in thresholds:
        return ""
    return (
        f" privacy.epsilon is reported, not judged: the spec's privacy budget ε = {_bound(budget)} is "
        "not listed under thresholds (the notes that say a model exceeds it are information)."
    )


def _threshold_sentence(
    g: pd.DataFrame, meets: pd.Series, thresholds: Thresholds | None, budget: float | None, extra: str = ""
) -> str:
    judged = sorted({c.split("::")[0] for c in g.columns if c.endswith("::passed") and g[c].notna().any()})
    eps = _epsilon_note(budget, thresholds)
    if not judged:
        return (
            "<b>Thresholds</b> — the spec sets none, so every configuration is eligible and ranked below."
            + eps
        )
    known = thresholds or {}
    required = "; ".join(_threshold_text(m, known[m]) if m in known else m for m in judged)
    ok = g[meets.astype(bool)]
    n, k = len(g), len(ok)
    if k == 0:
        who = "No configuration meets every threshold on every seed, so the lines below rank all of them."
    elif k == n:
        who = f"All {n} configurations meet every threshold on every seed."
    else:
        who = (
            f"{k} of {n} configurations meet every threshold on every seed: {_names(ok)}. "
            "The lines below rank only those."
        )
    return f"<b>Thresholds</b> — the spec requires {html.escape(required)}. {who}{extra}{eps}"


def _best_rows(g: pd.DataFrame, c: str) -> tuple[pd.Series, pd.DataFrame] | None:
    """The best row on ``c`` (finite values only: ∞ is never best) and the rows tied with it."""
    better = _direction(c)
    vals = g[c].astype(float)
    ok = g[vals.notna() & np.isfinite(vals)]
    if ok.empty:
        return None
    best = ok.iloc[int(np.argmin([_score(float(v), better) for v in ok[c]]))]
    ties = ok[[v == "tie" for v in verdicts_against(ok, best, c)]]
    ties = ties[ties["config"] != best["config"]]
    return best, ties


def _points(items: Sequence[tuple[str, float]]) -> str:
    """``2.6 points of observational accuracy, 1.8 of interventional``."""
    words = []
    for i, (m, d) in enumerate(items):
        name = _short(m)
        if i == 0:
            words.append(f"{d:.1f} point{'' if f'{d:.1f}' == '1.0' else 's'} of {name}")
        else:
            words.append(f"{d:.1f} of {name.removesuffix(' accuracy')}")
    return ", ".join(words)


def _cost_text(win: pd.Series, ref: pd.Series, others: Sequence[str]) -> str:
    """What ``win`` pays against ``ref``: ``for 2.6 points of observational accuracy, 1.8 of interventional``.

    Accuracy is stated in points (both ways); the other objectives' headline metrics only where ``win``
    is clearly worse (it loses by the story's rule, :func:`~causaltrust.report._judge.verdict_matrix`).
    """
    from causaltrust.bench import cost_of_win

    rows = {r["metric"]: r for r in cost_of_win(win.to_dict(), ref.to_dict(), [*_ACCURACY_COST, *others])}
    acc = [m for m in _ACCURACY_COST if m in rows]
    lost = [(m, -100 * rows[m]["change"]) for m in acc if -100 * rows[m]["change"] >= 0.05]
    gained = [(m, 100 * rows[m]["change"]) for m in acc if 100 * rows[m]["change"] >= 0.05]
    parts = []
    if lost:
        parts.append(f"for {_points(lost)}")
    elif acc:
        parts.append("at no cost in accuracy")
    if gained:
        parts.append(f"gaining {_points(gained)}")
    worse = [m for m in others if m in rows and rows[m]["worse"] and compare(win, ref, m) == "lose"]
    if worse:
        parts.append(
            "worse on "
            + ", ".join(
                f"{m} {fmt_num(rows[m]['reference'], 3)} → {fmt_num(rows[m]['winner'], 3)}" for m in worse
            )
        )
    return ", ".join(parts)


def _against_reference(
    best: pd.Series, ref: pd.Series, c: str, acc: str, others: Sequence[str], judged: bool
) -> str:
    """The cost clause of an objective's sentence: the winner against the most accurate configuration."""
    name = f"<b>{html.escape(str(ref['config']))}</b>"
    if str(ref["config"]) == str(best["config"]):
        return "" if c == acc else " It is also the most accurate configuration: no cost."
    misses = ", which misses a threshold" if judged else ""
    if c == acc:
        from causaltrust.bench import cost_of_win

        rows = {r["metric"]: r for r in cost_of_win(best.to_dict(), ref.to_dict(), _ACCURACY_COST)}
        lost = [(m, -100 * r["change"]) for m, r in rows.items() if -100 * r["change"] >= 0.05]
        gained = [(m, 100 * r["change"]) for m, r in rows.items() if 100 * r["change"] >= 0.05]
        text = f" Against the most accurate overall, {name} {_value_text(ref, c)}{misses}: "
        text += f"meeting every threshold costs {_points(lost)}" if lost else "no cost in accuracy"
        return text + (f", gaining {_points(gained)}" if gained else "") + "."
    if not np.isfinite(float(ref.get(c, np.nan))):
        return ""
    verdict = compare(best, ref, c)
    own = ref.get(f"{c}::passed")
    if verdict != "win" and own is not None and pd.notna(own) and float(own) < 1:
        # A tie is no tie with a configuration that fails this objective's own threshold.
        return (
            f" The most accurate overall, {name}, misses this threshold ({_value_text(ref, c)}; met on "
            f"{100 * float(own):.0f}% of seeds)."
        )
    if verdict != "win":
        how = "does as well here" if verdict == "tie" else "does better here"
        return f" The most accurate overall, {name}{misses}, {how} ({_value_text(ref, c)})."
    return (
        f" Against the most accurate overall, {name}: {fmt_num(float(ref[c]), 3)} → "
        f"{fmt_num(float(best[c]), 3)} {_cost_text(best, ref, others)}."
    )


def _causal_vs_baseline(elig: pd.DataFrame, causal: pd.Series, c: str) -> str:
    if causal.all() or not causal.any():  # the threshold sentence said so
        return ""
    mine, base = _best_rows(elig[causal.to_numpy()], c), _best_rows(elig[~causal.to_numpy()], c)
    if mine is None and base is None:
        return ""
    if mine is None:
        return " No causal configuration among them has a value here."
    if base is None:
        return " No baseline among them has a value here (not applicable to them)."
    (m, _), (b, _) = mine, base
    verdict = compare(m, b, c)
    word = {
        "win": '<span class="win">causal better</span>',
        "lose": '<span class="lose">baseline better</span>',
        "tie": f'<span class="even">a tie ({tie_reason(m, b, c)})</span>',
    }[verdict]
    return (
        f" Best causal <b>{html.escape(str(m['config']))}</b> {_value_text(m, c)} against best baseline "
        f"<b>{html.escape(str(b['config']))}</b> {_value_text(b, c)}: {word}."
    )


def headline_sentences(
    agg: pd.DataFrame,
    thresholds: Mapping[str, Thresholds] | None = None,
    budgets: Mapping[str, float | None] | None = None,
) -> list[tuple[str, str]]:
    """``(context, sentence)``: which configurations meet the spec's thresholds, then the best per objective.

    The first sentence of each context (same spec and settings) names the thresholds (with their values,
    when ``thresholds`` gives them: per spec label, the summary's ``spec`` column, a mapping metric →
    ``{"min", "max"}``; ``budgets`` gives the privacy ε per spec label) and the configurations that meet
    all of them on every seed. Each objective's sentence then ranks only those (all of them when none
    meets every threshold or the spec sets none): the best on the objective's metric ("closer to 0 is
    better" ranks |value|; ∞ is never best), the configurations tied with it (less than 0.01 apart on a
    probability scale, or not told apart by their per-seed differences: ``report._judge``), the cost of
    its win against the most accurate configuration overall (points of observational and interventional
    accuracy, and other objectives it is clearly worse on), and the best causal configuration against the
    best baseline.
    """
    out: list[tuple[str, str]] = []
    if agg.empty:
        return out
    for context, g in _contexts(agg):
        g = g.reset_index(drop=True)
        spec_label = str(g["spec"].iloc[0])
        thr = (thresholds or {}).get(spec_label)
        eps = (budgets or {}).get(spec_label)
        if len(g) < 2:
            out.append(
                (
                    context,
                    f"Only one configuration (<b>{html.escape(str(g['config'].iloc[0]))}</b>) here, so there "
                    "is nothing to compare.",
                )
            )
            continue
        meets = _meets(g).astype(bool)
        judged = bool(meets.any())
        elig = g[meets] if judged else g
        causal = _causal(elig)
        extra = ""
        if judged and not meets.all():
            if not causal.any():
                extra = " No causal method meets them."
            elif causal.all():
                extra = " No baseline meets them."
        out.append((context, _threshold_sentence(g, meets, thr, eps, extra)))
        acc = next((m for m in _SENTENCE_METRICS["accuracy"] if m in g.columns and g[m].notna().any()), None)
        top = _best_rows(g, acc) if acc else None
        headline = [
            next((m for m in cs if m in g.columns and g[m].notna().any()), None)
            for cs in _SENTENCE_METRICS.values()
        ]
        for (objective, _), c in zip(_SENTENCE_METRICS.items(), headline, strict=True):
            if c is None:
                continue
            found = _best_rows(elig, c)
            if found is None:
                continue
            best, ties = found
            better = _direction(c)
            how = DIRECTION_TEXT[better] + ("; ranked by |value|" if better == "zero" else "")
            sentence = (
                f"<b>{objective.capitalize()}</b> — {html.escape(c)} ({how}): best "
                f"<b>{html.escape(str(best['config']))}</b> {_value_text(best, c)}"
            )
            if len(ties):
                why = "; ".join(dict.fromkeys(tie_reason(t, best, c) for _, t in ties.iterrows()))
                sentence += f", tied with {_names(ties)} ({why})"
            sentence += "."
            if top is not None and acc is not None:
                others = [m for m in headline if m is not None and m not in (c, *_ACCURACY_COST)]
                sentence += _against_reference(best, top[0], c, acc, others, judged)
            sentence += _causal_vs_baseline(elig, causal, c)
            if objective == "privacy":
                sentence += attack_power_sentence(best.to_dict(), (c,))
                sentence += _epsilon_scope(best)
            out.append((context, sentence))
        if (g["n_seeds"] <= 1).all():
            out.append((context, "One seed: point estimates only, no intervals, so nothing is called a tie."))
    return out


def _epsilon_scope(best: pd.Series) -> str:
    """What the privacy sentence's best configuration's ε covers (issue 33): a guarantee, not an attack."""
    eps = best.get("privacy.epsilon")
    if eps is None or pd.isna(eps):
        what = (
            "NaN: a part of its pipeline (e.g. an SCM) was fitted on the training rows without DP, so no ε "
            "covers the whole model"
            if eps is not None
            else "not measured"
        )
    elif math.isinf(float(eps)):
        what = "∞: no DP accountant, the attack above is the only evidence"
    else:
        what = (
            f"{fmt_num(float(eps), 3)}, the accountant's ε for adding or removing one training row (inputs "
            "and label) over the whole fitted pipeline"
        )
    sens = best.get("privacy.sensitive_epsilon")
    tail = ""
    if sens is not None and not pd.isna(sens) and math.isfinite(float(sens)):
        tail = f"; for the sensitive variables' values alone ε = {fmt_num(float(sens), 3)}"
    return f" Its privacy.epsilon: {what}{tail}."


def _meets(g: pd.DataFrame) -> pd.Series:
    from causaltrust.bench import meets_thresholds

    return meets_thresholds(g).fillna(False)


def _builtin_spec(scenario: str) -> Any:
    """The built-in scenario or dataset spec of this name, or None."""
    from causaltrust import datasets, scenarios

    if scenario in scenarios.available():
        return scenarios.load(scenario)[0]
    if scenario in datasets.available():
        return datasets.spec(scenario)
    return None


def spec_thresholds(agg: pd.DataFrame) -> tuple[dict[str, Thresholds], dict[str, float | None]]:
    """Per spec label of a summary: its thresholds (metric → ``{"min", "max"}``) and its privacy budget ε.

    The ledger stores each spec's hash, not the spec: a built-in scenario or dataset whose hash matches
    gives the values; any other spec is absent here (the story then names its thresholds without values).
    """
    thresholds: dict[str, Thresholds] = {}
    budgets: dict[str, float | None] = {}
    if agg.empty:
        return thresholds, budgets
    for label, scen, h in agg[["spec", "scenario", "spec_hash"]].drop_duplicates().itertuples(index=False):
        spec = _builtin_spec(str(scen))
        if spec is None or spec.hash != h:
            continue
        thresholds[str(label)] = {m: {"min": t.min, "max": t.max} for m, t in (spec.thresholds or {}).items()}
        budgets[str(label)] = spec.privacy.epsilon if spec.privacy is not None else None
    return thresholds, budgets


def story_lines(ledger: Any) -> list[str]:
    """The headline sentences of a ledger as plain text (for the command line): thresholds first.

    Examples
    --------
    >>> import tempfile, os
    >>> from causaltrust.bench import Ledger
    >>> story_lines(Ledger.open(os.path.join(tempfile.mkdtemp(), "r.duckdb"), create=True))
    []
    """
    import re

    from causaltrust.bench import summarize

    agg = summarize(ledger)
    out = []
    for context, sentence in headline_sentences(agg, *spec_thresholds(agg)):
        text = html.unescape(re.sub(r"<[^>]+>", "", sentence))
        out.append(f"[{context}] {text}" if context else text)
    return out


def _thresholds(agg: pd.DataFrame, thresholds: Mapping[str, Thresholds]) -> str:
    cols = sorted({c.split("::")[0] for c in agg.columns if c.endswith("::passed") and agg[c].notna().any()})
    if not cols:
        return ""
    known: dict[str, Mapping[str, Any]] = {}
    for spec_thr in thresholds.values():
        known.update(spec_thr)
    head = "".join(f"<th>{html.escape(_threshold_text(c, known[c]) if c in known else c)}</th>" for c in cols)
    rows = []
    causal = _causal(agg)
    meets = _meets(agg)
    for i, (_, r) in enumerate(agg.iterrows()):
        cells = []
        for c in cols:
            share = r.get(c + "::passed")
            if share is None or pd.isna(share):
                cells.append("<td>not measured</td>")
                continue
            n = int(r["n_seeds"])
            k = round(float(share) * n)
            tag = "pass" if k == n else "fail"
            word = "pass" if k == n else "FAIL"
            cells.append(
                f'<td><span class="tag {tag}">{word}</span> {k}/{n} seeds<br>'
                f'<small class="ci">({fmt_num(r.get(c), 3)})</small></td>'
            )
        every = '<span class="tag pass">yes</span>' if meets.iloc[i] else '<span class="tag fail">no</span>'
        cls = ' class="causal"' if causal.iloc[i] else ""
        rows.append(
            f'<tr{cls}><td class="first">{html.escape(str(r["config"]))}</td><td>{every}</td>'
            f"{''.join(cells)}</tr>"
        )
    return (
        "<p>Each configuration against the spec's thresholds, with the threshold's value in the header "
        "and the mean over seeds in brackets (a configuration passes when every seed does).</p>"
        f'<div class="scroll"><table class="wide"><tr><th class="first">configuration</th>'
        f"<th>meets every threshold</th>{head}</tr>{''.join(rows)}</table></div>"
    )


def _story(agg: pd.DataFrame) -> str:
    thresholds, budgets = spec_thresholds(agg)
    sentences = headline_sentences(agg, thresholds, budgets)
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
        "<p class='sub'>Mean over seeds [Student-t 95% interval]. First: which configurations meet every "
        "threshold of the spec; then, among those, the best on each objective, what that win costs against "
        "the most accurate configuration, and the best causal method (as the method registry flags them) "
        "against the best baseline.</p>"
    )
    return legend + body + _thresholds(agg, thresholds)


# --- 2. plots -------------------------------------------------------------------------------------
def _styles(agg: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per configuration: colour (by method), marker shape (by method, open/dot per variant), causal flag."""
    palette = PALETTE
    methods = sorted({str(m) for m in agg["method"]})
    causal = dict(zip(agg["config"], _causal(agg), strict=True))
    variants: dict[str, int] = {}
    out: dict[str, dict[str, Any]] = {}
    for cfg, m in zip(agg["config"], agg["method"], strict=True):
        i = methods.index(str(m))
        j = variants.get(str(m), 0)
        variants[str(m)] = j + 1
        symbol = SYMBOLS[i % len(SYMBOLS)] + ["", "-open", "-dot", "-open-dot"][j % 4]
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
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 60
    fig.update_layout(
        margin={"l": 60, "r": 20, "t": top, "b": 50},
        template="plotly_white",
        height=height,
        autosize=True,
    )
    if not fig.layout.showlegend:  # configurations are named in the page's one legend
        fig.update_layout(showlegend=False)
    plot = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"responsive": True})
    return f'<div class="plot">{plot}</div>'


def _axis_title(metric: str) -> str:
    if _direction(metric) == "zero":
        return f"|{metric}| ({DIRECTION_TEXT['zero']})"
    return f"{metric} ({DIRECTION_TEXT[_direction(metric)]})"


def _shown(metric: str, values: Any) -> Any:
    """What a plot draws: |value| where "closer to 0 is better", so that −0.28 does not look good."""
    return abs(values) if _direction(metric) == "zero" else values


def _shown_interval(metric: str, iv: tuple[float, float] | None) -> tuple[float, float] | None:
    if iv is None or _direction(metric) != "zero":
        return iv
    return _score_interval(*iv, "zero")


def _error_bar(value: float, interval: tuple[float, float] | None) -> dict[str, Any] | None:
    if interval is None:
        return None
    return {
        "type": "data",
        "symmetric": False,
        "array": [max(interval[1] - value, 0.0)],
        "arrayminus": [max(value - interval[0], 0.0)],
    }


def _on_top(rows: pd.DataFrame, styles: Mapping[str, Mapping[str, Any]], key: str = "config") -> pd.DataFrame:
    """Baselines first, causal configurations last: plotly draws later traces on top."""
    causal = [bool(styles.get(str(c), {}).get("causal")) for c in rows[key]]
    return rows.assign(_causal=causal).sort_values(["_causal", key], kind="stable").drop(columns="_causal")


def _config_scatter(go: Any, agg: pd.DataFrame, xm: str, ym: str, title: str, div_id: str) -> str:
    """Configuration means with their seed intervals as error bars, and the Pareto front of the means."""
    from causaltrust.bench import pareto_front

    styles = _styles(agg)
    fig = go.Figure()
    rows = agg[agg[xm].notna() & agg[ym].notna()]
    finite = np.isfinite(rows[xm].astype(float)) & np.isfinite(rows[ym].astype(float))
    rows = _on_top(rows[finite], styles)
    for _, r in rows.iterrows():
        st = styles[str(r["config"])]
        x, y = float(_shown(xm, float(r[xm]))), float(_shown(ym, float(r[ym])))
        ex, ey = _shown_interval(xm, _interval(r, xm)), _shown_interval(ym, _interval(r, ym))
        fig.add_trace(
            go.Scatter(
                x=[x],
                y=[y],
                mode="markers",
                name=str(r["config"]) + (" (causal)" if st["causal"] else ""),
                marker=_marker(st),
                error_x=_error_bar(x, ex),
                error_y=_error_bar(y, ey),
                hovertemplate=f"{html.escape(str(r['config']))}<br>{xm}={fmt_num(float(r[xm]), 3)}<br>"
                f"{ym}={fmt_num(float(r[ym]), 3)}<extra></extra>",
            )
        )
    shown = pd.DataFrame(
        {xm: _shown(xm, rows[xm].astype(float)), ym: _shown(ym, rows[ym].astype(float))}
    ).reset_index(drop=True)
    try:
        front = pareto_front(shown, [xm, ym])
    except CausalTrustError:
        front = pd.DataFrame()
    _add_front(go, fig, front, xm, ym)
    fig.update_layout(
        title={"text": f"{xm} vs {ym}<br><sup>{html.escape(title)}</sup>", "font": {"size": 14}},
        xaxis_title=_axis_title(xm),
        yaxis_title=_axis_title(ym),
    )
    if _direction(ym) == "zero":
        fig.update_yaxes(rangemode="tozero")
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
                line={"color": "#111", "dash": "dot", "width": 1.5},
                hoverinfo="skip",
            )
        )
        fig.data = (fig.data[-1], *fig.data[:-1])  # under the markers


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
        "Causal methods have large outlined markers, drawn on top. Effects where closer to 0 is better are "
        "drawn as |value|. The dotted line joins the configurations no other beats on both axes.</p>"
    )
    grid = f'{legend_html(_styles(agg))}<div class="grid2">{"".join(out)}</div>' if out else ""
    return intro + grid + note


def _frontiers(go: Any, agg: pd.DataFrame) -> str:
    """Per context (spec and settings): each method's accuracy-vs-spurious-effect curve over its settings."""
    parts = []
    for k, (ctx, g) in enumerate(_contexts(agg)):
        body = frontier_section(go, g, _div, ident=f"frontier-{k}")
        if body:
            parts.append((f"<h3>{html.escape(ctx)}</h3>" if ctx else "") + body)
    return "".join(parts)


def _pareto_plots(go: Any, wide: pd.DataFrame, agg: pd.DataFrame) -> str:
    """Other pairs of objectives, one point per cell (seed)."""
    from causaltrust.bench import pareto_front

    styles = _styles(agg)
    out = []
    for k, (xm, ym) in enumerate(PAIRS):
        if xm not in wide.columns or ym not in wide.columns:
            continue
        rows = wide[wide[xm].notna() & wide[ym].notna() & wide["config"].isin(list(styles))]
        if rows.empty:
            continue
        fig = go.Figure()
        for cfg in _on_top(pd.DataFrame({"config": sorted(set(rows["config"]))}), styles)["config"]:
            g = rows[rows["config"] == cfg]
            fig.add_trace(
                go.Scatter(
                    x=_shown(xm, g[xm].astype(float)),
                    y=_shown(ym, g[ym].astype(float)),
                    mode="markers",
                    name=str(cfg),
                    text=[f"{cfg}, seed {s}" for s in g["seed"]],
                    marker=_marker(styles[str(cfg)]),
                )
            )
        shown = pd.DataFrame({xm: _shown(xm, rows[xm].astype(float)), ym: _shown(ym, rows[ym].astype(float))})
        _add_front(go, fig, pareto_front(shown.reset_index(drop=True), [xm, ym]), xm, ym)
        fig.update_layout(
            title=f"{xm} vs {ym} (one point per seed)",
            xaxis_title=_axis_title(xm),
            yaxis_title=_axis_title(ym),
        )
        out.append(_div(fig, f"pareto-{k}"))
    return f'{legend_html(styles)}<div class="grid2">{"".join(out)}</div>' if out else ""


# --- 3. tables ------------------------------------------------------------------------------------
def _best_marks(agg: pd.DataFrame, c: str) -> dict[int, str]:
    """Row index → ``best`` or ``tie`` (tied with the best by the story's rule). Informative metrics: none."""
    better = _direction(c)
    if better == "informative":
        return {}
    vals = agg[c].to_numpy(dtype=float)
    ok = [i for i in range(len(vals)) if np.isfinite(vals[i])]
    if len(ok) < 2:
        return {}
    best = min(ok, key=lambda i: _score(float(vals[i]), better))
    marks = {best: "best"}
    verdicts = verdicts_against(agg.iloc[ok], agg.iloc[best], c)
    for i, v in zip(ok, verdicts, strict=True):
        if i != best and v == "tie":
            marks[i] = "tie"
    if len(marks) == len(ok):  # everything ties: nothing to crown
        return {i: "tie" for i in marks}
    return marks


_ARROWS = {"higher": "↑", "lower": "↓", "zero": "|·| → 0", "informative": "info"}
_MAX_COLUMNS = 7  # metric columns per table: seven fit a 1,366 px screen with the interval lines and settings


def _headline_table(agg: pd.DataFrame, metrics: Sequence[str]) -> str:
    """The headline metrics, split by objective into tables of at most seven metric columns each."""
    cols = [m for m in metrics if m in agg.columns and agg[m].notna().any()]
    groups = [(o, [c for c in cols if c.startswith(o + ".")]) for o in OBJECTIVES]
    # An objective with more metrics than fit one table is split over several (same group heading).
    groups = [(o, cs[i : i + _MAX_COLUMNS]) for o, cs in groups for i in range(0, len(cs), _MAX_COLUMNS)]
    chunks: list[list[tuple[str, list[str]]]] = []
    for o, cs in groups:
        if chunks and sum(len(x) for _, x in chunks[-1]) + len(cs) <= _MAX_COLUMNS:
            chunks[-1].append((o, cs))
        else:
            chunks.append([(o, cs)])
    note = (
        "<p class='sub'>Green: best in the metric's direction; '(tie)': its interval overlaps the best's. "
        "Under each name: ↑ higher is better, ↓ lower is better, |·| → 0 closer to 0 is better (ranked by "
        "|value|), info: informative, reported and never ranked (e.g. the fair-path effect, a legitimate "
        "effect). Hover a header for the metric's description. Bold, with a bar: causal methods.</p>"
    )
    return note + "".join(_headline_chunk(agg, chunk) for chunk in chunks)


def _headline_chunk(agg: pd.DataFrame, groups: Sequence[tuple[str, list[str]]]) -> str:
    cols = [c for _, cs in groups for c in cs]
    settings = [s for s in agg.attrs.get("settings", []) if s in agg.columns]
    show_spec = agg["spec"].nunique() > 1
    marks = {c: _best_marks(agg, c) for c in cols}
    ident = ["spec"] * show_spec + settings
    top = (
        '<tr><th class="first" rowspan="2">configuration</th><th rowspan="2">seeds</th>'
        + "".join(f'<th rowspan="2">{html.escape(s)}</th>' for s in ident)
        + "".join(f'<th class="group" colspan="{len(cs)}">{o}</th>' for o, cs in groups)
        + "</tr>"
    )
    sub = "".join(
        f'<th title="{html.escape(c + ": " + metric_info(c).description)}">'
        f"{html.escape(c.split('.', 1)[1].replace('_', ' '))}"
        f'<br><span class="better">{html.escape(_ARROWS[_direction(c)])}</span></th>'
        for c in cols
    )
    causal = _causal(agg)
    body = []
    for i, (_, row) in enumerate(agg.iterrows()):
        cells = []
        for c in cols:
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
    return f'<div class="scroll"><table class="wide">{top}<tr>{sub}</tr>{"".join(body)}</table></div>'


def _short_header(c: str) -> str:
    """A header that wraps between words: the objective small, then the metric's name with spaces."""
    objective, name = c.split(".", 1)
    return (
        f'<span title="{html.escape(c)}"><small class="ci">{html.escape(objective)}</small><br>'
        f"{html.escape(name.replace('_', ' '))}</span>"
    )


def _tie_ranks(agg: pd.DataFrame, c: str) -> list[float]:
    """1 + the number of configurations that beat it (:func:`~causaltrust.report._judge.verdict_matrix`),
    so ties share a rank. Non-finite values (ε = ∞) rank last, never good; missing values get NaN.
    """
    n = len(agg)
    vals = agg[c].to_numpy(dtype=float)
    finite = np.isfinite(vals)
    beats = (verdict_matrix(agg, agg, c) == "win") & finite[:, None]  # [j, i]: j beats i
    np.fill_diagonal(beats, False)
    out = [float("nan")] * n
    for i in range(n):
        if not np.isnan(vals[i]):
            out[i] = 1.0 + float(beats[:, i].sum()) if finite[i] else float(n)
    return out


def _ranks(agg: pd.DataFrame) -> str:
    """Rank of every configuration per headline objective (1 = best; ties share a rank; ∞ ranks last)."""
    cols = [
        c for c in HEADLINE if c in agg.columns and _direction(c) != "informative" and agg[c].notna().any()
    ]
    if len(cols) < 2 or len(agg) < 2:
        return ""
    ranks = pd.DataFrame({c: _tie_ranks(agg, c) for c in cols})
    n = len(agg)
    head = "".join(f"<th>{_short_header(c)}</th>" for c in cols)
    causal = _causal(agg)
    rows = []
    for i in np.argsort(ranks.mean(axis=1).to_numpy(), kind="stable"):
        cells = []
        for c in cols:
            r = ranks[c].iloc[i]
            if pd.isna(r):
                cells.append("<td>–</td>")
                continue
            if not np.isfinite(float(agg[c].iloc[i])):
                cells.append('<td class="num" style="background:#f8d4d4">∞ (last)</td>')
                continue
            shade = 0.85 - 0.55 * (1 - (r - 1) / max(n - 1, 1))
            cells.append(f'<td class="num" style="background:hsl(140,45%,{shade * 100:.0f}%)">{int(r)}</td>')
        cls = ' class="causal"' if causal.iloc[i] else ""
        rows.append(
            f'<tr{cls}><td class="first">{html.escape(str(agg["config"].iloc[i]))}</td>'
            f"<td class='num'>{ranks.iloc[i].mean():.1f}</td>{''.join(cells)}</tr>"
        )
    return (
        "<p class='sub'>Rank per objective (1 = best): a configuration's rank is one more than the number "
        "of configurations clearly better on that objective (95% intervals over seeds apart), so ties "
        "share a rank; an infinite value (ε of a model without a privacy accountant) ranks last. "
        '"Closer to 0 is better" ranks |value|. Rows sorted by mean rank; darker is better.</p>'
        '<div class="scroll"><table class="wide ranks">'
        f'<tr><th class="first">configuration</th><th>mean rank</th>'
        f"{head}</tr>{''.join(rows)}</table></div>"
    )


def _dominance(wide: pd.DataFrame) -> str:
    from causaltrust.bench import METHODS, dominance_summary

    objs = [c for c in DOMINANCE if c in wide.columns]
    causal = sorted(m for m in set(wide["method"]) if getattr(METHODS.get(str(m)), "causal", False))
    if len(objs) < 2 or not causal or set(wide["method"]) <= set(causal):
        return ""
    try:
        s = dominance_summary(wide, objs, causal_methods=causal)
    except CausalTrustError as exc:
        return f"<p>{html.escape(str(exc))}</p>"
    box = _box_volume(wide, objs, s.attrs.get("reference"))

    def share(v: float) -> str:  # every volume as a share of the box: one unit in the whole table
        if not (box > 0 and np.isfinite(box) and np.isfinite(v)):
            return "–"
        return f"{100 * v / box:+.1f}%" if v < 0 else f"{100 * v / box:.1f}%"

    rows = "".join(
        f"<tr><td>{html.escape(str(r['baseline']))}</td><td>{'yes' if r['dominates'] else 'no'}</td>"
        f"<td class='num'>{100 * float(r['share_points_dominated']):.0f}%</td>"
        f"<td class='num' title='{fmt_num(r['hv_difference'], 4)}'>{share(float(r['hv_difference']))}</td>"
        f"<td class='num' title='{fmt_num(r['hv_causal_only'], 4)}'>{share(float(r['hv_causal_only']))}</td>"
        f"<td class='num' title='{fmt_num(r['hv_baseline_only'], 4)}'>{share(float(r['hv_baseline_only']))}"
        "</td></tr>"
        for _, r in s.iterrows()
    )
    return (
        f"<p>Objectives: {', '.join(objs)}; causal methods: {', '.join(causal)}; one point per cell "
        "(seed).</p>"
        "<p class='sub'>How to read it: every objective is turned into a loss (accuracy → −accuracy, effects "
        "→ |effect|). A front's hypervolume is the volume of loss space it dominates up to a reference point "
        "10% beyond the worst value seen. Every volume here is a share of the box between the best value "
        "seen on every objective and that reference point (the most any front can cover), so all columns "
        "read on one 0–100% scale; hover a cell for the raw volume.</p>"
        "<table><tr><th>baseline</th><th>causal front dominates it</th><th>share of its points "
        "dominated</th><th>hypervolume causal − baseline</th><th>volume only causal covers</th>"
        f"<th>volume only baseline covers</th></tr>{rows}</table>"
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
        return ""
    eps = wide["privacy.epsilon"].astype(float)
    dp = wide[np.isfinite(eps)]
    several = [m for m, g in dp.groupby("method") if g["privacy.epsilon"].round(6).nunique() > 1]
    if not several:  # a curve needs two finite ε of one method: the section is left out
        return ""
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
                    showlegend=True,
                )
            )
        fig.update_layout(
            title=f"{y} vs privacy ε (mean over seeds)",
            xaxis_title="privacy.epsilon (accountant)",
            yaxis_title=_axis_title(y),
            xaxis_type="log",
            showlegend=True,
            legend={"orientation": "h", "y": -0.25},
        )
        out.append(_div(fig, f"privacy-{k}"))
    return f'<div class="grid2">{"".join(out)}</div>'


def _environments(go: Any, agg: pd.DataFrame) -> str:
    """Accuracy per environment and per shift: one bar chart per kind, axes from 0, configurations on x."""
    kinds = [
        ("robustness.environment_accuracy[", "per training environment"),
        ("accuracy.shift[", "per shift, no target data"),
        ("accuracy.shift_adapted[", "per shift, adapted on unlabeled rows of it"),
    ]
    out = []
    for k, (prefix, label) in enumerate(kinds):
        cols = sorted(
            c for c in agg.columns if "::" not in c and c.startswith(prefix) and agg[c].notna().any()
        )
        if not cols:
            continue
        fig = go.Figure()
        for j, c in enumerate(cols):
            fig.add_trace(
                go.Bar(
                    name=c[len(prefix) : -1],
                    x=agg["config"],
                    y=agg[c],
                    marker_color=PALETTE[j % len(PALETTE)],
                )
            )
        fig.update_layout(
            barmode="group",
            title=f"Accuracy {label}",
            yaxis_title="accuracy (higher is better)",
            yaxis_range=[0.0, 1.0],
            showlegend=True,
            legend={
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.02,
                "x": 0,
                "title": {"text": prefix.split("[")[0] + ": "},
            },
            margin={"t": 90},
            xaxis_tickangle=-40,
        )
        out.append(_div(fig, f"environments-{k}", height=420))
    return "".join(out)


# --- 4. notes and the rest ------------------------------------------------------------------------
def _recourse(cells: pd.DataFrame) -> str:
    """Recourse examples stored with the cells (``extras_json``): the first causal method's, else any."""
    from causaltrust.bench import METHODS

    if "extras_json" not in cells.columns or cells.empty:
        return ""
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
    return ""


PLOTLY_CDN = "https://cdn.plot.ly/plotly-basic-{version}.min.js"


def _plotly(plotlyjs: str = "inline") -> tuple[Any, str]:
    """Plotly's ``graph_objects`` and the page's one ``<script>`` for plotly.js.

    ``inline`` (default: reports work offline) embeds the vendored minified *basic* bundle (scatter and bar
    traces, 1.2 MB; ``report/static/SOURCES.md``); ``cdn`` links the same bundle from Plotly's CDN.
    """
    try:
        import plotly
        import plotly.graph_objects as go
    except ImportError:  # pragma: no cover - plotly ships with the report extra
        raise ImportError("ledger reports need plotly: pip install 'causaltrust[report]'") from None
    if plotlyjs not in ("inline", "cdn"):
        raise CausalTrustError(f"plotlyjs: expected 'inline' or 'cdn', got {plotlyjs!r}")
    version = plotly.offline.get_plotlyjs_version()
    if plotlyjs == "cdn":
        return go, f'<script src="{PLOTLY_CDN.format(version=version)}" charset="utf-8"></script>'
    from importlib import resources

    js = (resources.files("causaltrust.report") / "static" / "plotly-basic.min.js").read_text("utf-8")
    return go, f'<script type="text/javascript">{js}</script>'


def render_ledger(led: Any, *, title: str | None = None, plotlyjs: str = "inline") -> str:
    """The HTML text of a benchmark ledger's report (``plotlyjs``: ``"inline"`` or ``"cdn"``)."""
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
    go, plotly_script = _plotly(plotlyjs)
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

    def section(ident: str, title: str, body: str) -> str:
        return f'<h2 id="{ident}">{title}</h2>{body}' if body else ""  # empty sections are left out

    sections = [
        section("summary", "The story in brief", _story(agg) if have else "<p>No finished cells.</p>"),
        section("tradeoffs", "Trade-offs", _tradeoffs(go, agg) if have else ""),
        section(
            "frontiers",
            "Robustness frontiers: accuracy per shift vs spurious-path effect",
            _frontiers(go, agg) if have else "",
        ),
        section("graph", "Causal graph and path roles", graph),
        section(
            "headline",
            "Headline: mean over seeds [95% interval]",
            _headline_table(agg, HEADLINE) if have else "",
        ),
        section(
            "audits", "Audits: reference SCM and DR check side by side", audits_html(agg) if have else ""
        ),
        section(
            "pareto", "More trade-offs, one point per seed", _pareto_plots(go, wide, agg) if have else ""
        ),
        section("ranks", "Ranks per objective", _ranks(agg) if have else ""),
        section("dominance", "Dominance of the causal methods", _dominance(wide) if have else ""),
        section("privacy", "Privacy ε curves", _privacy(go, wide, agg) if have else ""),
        section(
            "environments", "Per-environment and per-shift accuracy", _environments(go, agg) if have else ""
        ),
        section("recourse", "Recourse examples", _recourse(ok)),
        section(
            "failures",
            "Failed cells",
            f"<table><tr><th>method</th><th>params</th><th>seed</th><th>error</th></tr>{fail_rows}</table>"
            if fail_rows
            else "",
        ),
        section("notes", "Assumptions and scope", notes_html(notes) if notes else ""),
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
        f"<style>{_CSS}{_EXTRA_CSS}</style>{plotly_script}</head><body>"
        f'<h1>{html.escape(title)}</h1><p class="sub">Every method trained, then audited as interventional '
        "tests against the true SCM; seeds pooled per configuration (spec, method, parameters, settings). "
        f"Ledger format {html.escape(meta.get('format', ''))} "
        f"v{html.escape(str(meta.get('schema_version', '')))}, "
        f"causaltrust {html.escape(meta.get('package_version', ''))}.</p>"
        f'{banner}<div class="cards">{cards}</div>{"".join(sections)}{_RESIZE}</body></html>\n'
    )
