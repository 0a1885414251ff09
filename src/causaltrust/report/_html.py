"""Self-contained HTML pages (no external assets, works offline) for trust reports."""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from causaltrust._files import atomic_write
from causaltrust._format import fmt_interval, fmt_num
from causaltrust.audit import Metric, TrustReport
from causaltrust.decompose import DisparityDecomposition
from causaltrust.exceptions import CausalTrustError
from causaltrust.report._page import CSS as _CSS
from causaltrust.report._page import DIRECTION_TEXT, cell_text, dedupe_notes, examples_html, notes_html
from causaltrust.report._power import attack_power_sentence

__all__ = ["DIRECTION_TEXT", "dedupe_notes", "notes_html", "render_report", "write_html"]

_OBJECTIVES = ("accuracy", "fairness", "robustness", "privacy", "explainability", "text")


def write_html(obj: Any, path: str | os.PathLike[str], *, plotlyjs: str = "inline") -> Path:
    """Render a :class:`TrustReport`, a benchmark :class:`~causaltrust.bench.Ledger` or a
    :class:`~causaltrust.DisparityDecomposition`, or a
    :class:`~causaltrust.text.MediationResult` (head heatmap, layer profile) as one HTML file.

    Ledger pages draw plotly plots (trade-offs, Pareto fronts, ε curves). ``plotlyjs="inline"`` (the
    default) embeds plotly.js once, minified (the 1.2 MB basic bundle), so the page works offline;
    ``plotlyjs="cdn"`` links it instead (a much smaller file that needs the network to draw its plots).

    The file is written to a temporary name and renamed, so a reader never sees half a page.

    Examples
    --------
    >>> import causaltrust as ct, tempfile, os
    >>> from causaltrust.audit import Metric
    >>> rep = ct.TrustReport((Metric("accuracy.observational", 0.8, 0.79, 0.81),))
    >>> path = ct.report.write_html(rep, os.path.join(tempfile.mkdtemp(), "r.html"))
    >>> path.read_text().startswith("<!DOCTYPE html>")
    True
    """
    from causaltrust.bench import Ledger
    from causaltrust.text import MediationResult

    if isinstance(obj, TrustReport):
        text = render_report(obj)
    elif isinstance(obj, Ledger):
        from causaltrust.report._ledger import render_ledger

        text = render_ledger(obj, plotlyjs=plotlyjs)
    elif isinstance(obj, DisparityDecomposition):
        from causaltrust.report._decompose import render_decomposition

        text = render_decomposition(obj)
    elif isinstance(obj, MediationResult):
        from causaltrust.report._mediation import render_mediation

        text = render_mediation(obj)
    else:
        raise CausalTrustError(
            "write_html renders a TrustReport, a benchmark Ledger, a DisparityDecomposition or a text "
            f"MediationResult, got {type(obj).__name__}"
        )
    out = Path(path)
    with atomic_write(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def _ci_svg(m: Metric, lo: float, hi: float) -> str:
    """A small interval bar on a per-table scale, with 0 marked."""
    if m.low is None or m.high is None or not all(map(math.isfinite, (m.low, m.high, m.value))) or hi <= lo:
        return ""
    w = 140

    def x(v: float) -> float:
        return 4 + (w - 8) * (min(max(v, lo), hi) - lo) / (hi - lo)

    zero = f'<line x1="{x(0):.1f}" y1="2" x2="{x(0):.1f}" y2="14" stroke="#b8bfcc"/>' if lo <= 0 <= hi else ""
    return (
        f'<svg class="ci" width="{w}" height="16" role="img" aria-label="interval">{zero}'
        f'<line x1="{x(m.low):.1f}" y1="8" x2="{x(m.high):.1f}" y2="8" stroke="#3b6fd8" stroke-width="3"/>'
        f'<circle cx="{x(m.value):.1f}" cy="8" r="3.5" fill="#14307a"/></svg>'
    )


def _table(metrics: Sequence[Metric]) -> str:
    finite = [v for m in metrics for v in (m.low, m.high, m.value) if v is not None and math.isfinite(v)]
    lo, hi = (min([*finite, 0.0]), max([*finite, 0.0])) if finite else (0.0, 1.0)
    pad = (hi - lo) * 0.05 or 0.05
    lo, hi = lo - pad, hi + pad
    rows = []
    for m in metrics:
        interval = fmt_interval(m.low, m.high)
        thr = []
        if m.threshold_min is not None:
            thr.append(f"≥ {fmt_num(m.threshold_min)}")
        if m.threshold_max is not None:
            thr.append(f"≤ {fmt_num(m.threshold_max)}")
        lhs = "|x| " if m.better in ("zero", "informative") and thr else ""
        verdict = (
            ""
            if m.passed is None
            else '<span class="tag pass">pass</span>'
            if m.passed
            else '<span class="tag fail">FAIL</span>'
        )
        rows.append(
            f'<tr><td title="{html.escape(m.description)}">{html.escape(m.name)}</td>'
            f'<td class="num">{fmt_num(m.value)}</td><td class="num">{interval}</td>'
            f"<td>{_ci_svg(m, lo, hi)}</td>"
            f'<td class="better">{html.escape(DIRECTION_TEXT.get(m.better, m.better))}</td>'
            f"<td>{html.escape(lhs + ', '.join(thr))}</td>"
            f"<td>{verdict}</td></tr>"
        )
    head = (
        "<tr><th>metric</th><th>value</th><th>95% interval</th><th></th><th>better</th><th>threshold</th>"
        "<th></th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _group_rates(rows: Sequence[dict[str, Any]]) -> str:
    """Per protected group: units and rates, for an auditor (the group metrics are their differences)."""
    if not rows:
        return ""
    cols = list(rows[0])
    head = "".join(
        f'<th class="num">{html.escape(str(c))}</th>' if i else f"<th>{html.escape(str(c))}</th>"
        for i, c in enumerate(cols)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{fmt_num(r.get(c), 3)}</td>'
            if isinstance(r.get(c), float)
            else f"<td>{cell_text(r.get(c))}</td>"
            for i, c in enumerate(cols)
        )
        + "</tr>"
        for r in rows
    )
    return (
        '<h3 id="group-rates">Per-group rates</h3><p class="sub">Observed positive rate, selection rate, TPR '
        "and FPR of the model per protected group on the test data; demographic parity and equalized odds "
        f'differences are the gaps between these rows.</p><table class="rates"><tr>{head}</tr>{body}</table>'
    )


def render_report(rep: TrustReport) -> str:
    """The HTML text of a trust report."""
    meta = dict(rep.meta)
    title = f"Trust report — {meta.get('spec', 'spec')} / {meta.get('model', 'model')}"
    failures = rep.failures()
    with_thr = [m for m in rep.metrics if m.passed is not None]
    if failures:
        verdict = (
            f'<div class="verdict fail">{len(failures)} of {len(with_thr)} thresholds failed: '
            f"{html.escape(', '.join(m.name for m in failures))}</div>"
        )
    elif with_thr:
        verdict = f'<div class="verdict pass">All {len(with_thr)} thresholds passed</div>'
    else:
        verdict = '<div class="verdict none">No thresholds set in the spec</div>'
    sections = []
    for obj in _OBJECTIVES:
        ms = [m for m in rep.metrics if m.name.startswith(obj + ".")]
        if ms:
            extra = _group_rates(meta.get("group_rates") or []) if obj == "fairness" else ""
            if obj == "privacy" and (power := attack_power_sentence({m.name: m.value for m in ms})):
                extra += f'<p class="sub" id="attack-power">{html.escape(power.strip())}</p>'
            sections.append(f'<h2 id="{obj}">{obj.capitalize()}</h2>{_table(ms)}{extra}')
    keys = (
        "spec",
        "spec_hash",
        "model",
        "n_test",
        "n_train",
        "scm",
        "scm_fitted_on",
        "random_state",
        "n_bootstrap",
        "n_draws",
        "causaltrust_version",
        "corpus",
        "intervention",
        "relevant",
        "n_texts",
        "n_changed",
        "model_licence",
    )
    meta_rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(meta[k]))}</td></tr>" for k in keys if k in meta
    )
    examples = examples_html(meta.get("recourse_examples") or [])
    if meta.get("text_examples"):  # the texts whose output moved most under the intervention
        examples += examples_html(meta["text_examples"]).replace(
            '<h2 id="recourse-examples">Recourse examples</h2>',
            '<h2 id="text-examples">Texts that moved most under the intervention</h2>',
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}'
        f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        '<p class="sub">Every trust objective measured as an invariance test under the spec\'s '
        "interventions. "
        "Effects are counterfactual, on the test units themselves.</p>"
        f"{verdict}{''.join(sections)}{examples}"
        f'<h2 id="notes">Assumptions and scope</h2>{notes_html(rep.notes)}'
        f'<h2 id="provenance">Provenance</h2><table class="meta">{meta_rows}</table></body></html>\n'
    )
