"""The "Audits" section of a ledger report: which audit every counterfactual number holds under (issue 32).

On real data a sweep grades each model with a reference SCM fitted on held-out rows (by default of the
other mechanism class than the methods' own) and with the model-free DR check (``dr.*``). This section
puts them side by side per configuration, each column naming its audit.
"""

from __future__ import annotations

import html

import pandas as pd

from causaltrust._format import fmt_interval, fmt_num

__all__ = ["audits_html"]

# (metric, column header); the header's bracket says which audit the number comes from.
_SCM = [
    ("fairness.unfair_path_effect", "unfair path, signed"),
    ("fairness.unfair_path_effect_abs", "unfair path, per unit"),
    ("fairness.ctf_de", "direct ctf-DE"),
]
_DR = [("dr.ctf_de", "direct ctf-DE"), ("dr.ctf_ie", "ctf-IE"), ("dr.tv", "TV"), ("dr.clipped", "clipped")]


def _cell(row: pd.Series, metric: str) -> str:
    if metric not in row or pd.isna(row[metric]):
        return "<td>n/a</td>"
    lo, hi = row.get(metric + "::lo"), row.get(metric + "::hi")
    ci = (
        fmt_interval(lo, hi, 3) if lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi) else ""
    )
    return f'<td class="num">{html.escape(fmt_num(row[metric], 3))} {html.escape(ci)}</td>'


def audits_html(agg: pd.DataFrame) -> str:
    """A table per configuration of a sweep on data: the SCM audit's effects beside the DR check's.

    Empty when no configuration ran on data (simulated scenarios are audited against their true SCM).
    """
    from causaltrust.bench import audit_label

    if agg.empty or "settings_json" not in agg.columns:
        return ""
    labels = agg["settings_json"].map(audit_label)
    on_data = labels != "true SCM (simulated)"
    if not on_data.any():
        return ""
    scm = [(m, h) for m, h in _SCM if m in agg.columns]
    dr = [(m, h) for m, h in _DR if m in agg.columns]
    head = "".join(f"<th>{html.escape(h)} [reference SCM]</th>" for _, h in scm)
    head += "".join(f"<th>{html.escape(h)} [DR check]</th>" for _, h in dr)
    rows = []
    for (_, row), label in zip(agg[on_data].iterrows(), labels[on_data], strict=True):
        cells = "".join(_cell(row, m) for m, _ in scm) + "".join(_cell(row, m) for m, _ in dr)
        rows.append(
            f"<tr><td>{html.escape(str(row['config']))}</td><td>{html.escape(label)}</td>{cells}</tr>"
        )
    return (
        "<p>Real data has no true SCM. Every <code>fairness.*</code> effect of a configuration holds under "
        "the reference SCM its <i>audit</i> column names (fitted on the held-out rows; a cross-class audit "
        "uses another mechanism class than the SCMs the methods learned). <code>dr.*</code> is the "
        "model-free check: the cross-fitted doubly robust decomposition of the model's predictions, which "
        "uses the graph but no fitted SCM. Mean over seeds [95% interval].</p>"
        f"<table><tr><th>configuration</th><th>audit</th>{head}</tr>{''.join(rows)}</table>"
    )
