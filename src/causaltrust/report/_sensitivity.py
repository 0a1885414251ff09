"""An HTML section (and a standalone page) for ``ct.sensitivity`` and ``ct.discover`` results.

Self-contained: it reads only the plain objects (a DataFrame with the sensitivity columns, a discovery
result) and writes inline-styled HTML, so it can be embedded in any page or saved on its own.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import pandas as pd

from causaltrust._files import atomic_write
from causaltrust._format import fmt_num
from causaltrust.exceptions import DataError

__all__ = ["render_discovery", "render_sensitivity", "write_sensitivity_html"]

_REQUIRED = ("edit", "metric", "base", "edited", "change", "flipped", "reason")
_STYLE = (
    "<style>.ct-sens table{border-collapse:collapse;font-size:.9rem;width:100%}.ct-sens th,.ct-sens td{"
    "padding:.3rem .5rem;border-bottom:1px solid #eceef3;text-align:left}.ct-sens td.num{text-align:right;"
    "font-variant-numeric:tabular-nums}.ct-sens .flip{background:#fdeaea;font-weight:600}.ct-sens .why{"
    "color:#6b7385}.ct-sens th{background:#f6f7fa}</style>"
)


def _num(x: Any) -> str:
    return fmt_num(x, signed=True) if isinstance(x, float) or x is None else html.escape(str(x))


def render_sensitivity(frame: pd.DataFrame, *, metrics: list[str] | None = None) -> str:
    """An HTML ``<section>``: per edit, each metric's base and edited value, flips first, then the rest.

    Parameters
    ----------
    frame : DataFrame
        The output of :func:`causaltrust.sensitivity`.
    metrics : list of str, optional
        Metrics to show (default: the unfair-path, counterfactual and spurious-path effects when present,
        else every metric).

    Examples
    --------
    >>> import pandas as pd
    >>> from causaltrust.report import render_sensitivity
    >>> f = pd.DataFrame([{"edit": "drop A->Z", "metric": "fairness.unfair_path_effect", "base": 0.2,
    ...                    "edited": 0.1, "change": -0.1, "flipped": False, "reason": ""}])
    >>> "drop A-&gt;Z" in render_sensitivity(f)
    True
    """
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        msg = f"render_sensitivity: the frame lacks columns {missing}; pass ct.sensitivity's output"
        raise DataError(msg)
    if metrics is None:
        preferred = [
            "fairness.unfair_path_effect",
            "fairness.counterfactual_effect",
            "robustness.spurious_path_effect",
        ]
        metrics = [m for m in preferred if m in set(frame["metric"])] or sorted(set(frame["metric"]) - {""})
    shown = frame[frame["metric"].isin(metrics) | (frame["metric"] == "")]
    flips = int(frame["flipped"].astype(bool).sum())
    unidentified = frame.loc[frame["metric"] == "", "edit"].tolist()
    head = (
        f"<p>{frame['edit'].nunique()} graph edits; the model is fixed and the SCM refitted per edit. "
        f"<b>{flips}</b> thresholded conclusion(s) flip"
        + (f"; {len(unidentified)} edit(s) not identified from the data" if unidentified else "")
        + ".</p>"
    )
    order = shown.assign(_f=~shown["flipped"].astype(bool), _a=-shown["change"].abs().fillna(-1.0))
    order = order.sort_values(["_f", "_a"], kind="stable")
    rows = []
    for r in order.itertuples(index=False):
        cls = ' class="flip"' if bool(r.flipped) else ""
        if r.metric == "":
            rows.append(
                f"<tr><td>{html.escape(str(r.edit))}</td><td colspan=4 class=why>not identified: "
                f"{html.escape(str(r.reason))}</td></tr>"
            )
            continue
        rows.append(
            f"<tr{cls}><td>{html.escape(str(r.edit))}</td><td>{html.escape(str(r.metric))}</td>"
            f"<td class=num>{_num(r.base)}</td><td class=num>{_num(r.edited)}</td>"
            f"<td class=num>{_num(r.change)}</td></tr>"
        )
    table = (
        "<table><tr><th>edit</th><th>metric</th><th>base</th><th>edited</th><th>change</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return f'<section class="ct-sens">{_STYLE}<h2>Sensitivity to the causal graph</h2>{head}{table}</section>'


def render_discovery(result: Any) -> str:
    """An HTML ``<section>`` for a :class:`~causaltrust.discovery.DiscoveryResult`: edges, stability, notes.

    Examples
    --------
    >>> import numpy as np, pandas as pd, causaltrust as ct
    >>> from causaltrust.report import render_discovery
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=500); b = a + rng.normal(size=500)
    >>> "a --- b" in render_discovery(ct.discover(pd.DataFrame({"a": a, "b": b})))
    True
    """
    frame = result.to_frame()
    rows = "".join(
        f"<tr><td>{html.escape(f'{r.u} {r.mark} {r.v}')}</td><td class=num>{_num(r.stability)}</td></tr>"
        for r in frame.itertuples(index=False)
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    boot = "none"
    if result.n_bootstrap:
        boot = f"{result.n_bootstrap} bootstrap resamples, column order shuffled"
    return (
        f'<section class="ct-sens">{_STYLE}<h2>Discovered graph ({html.escape(result.method)})</h2>'
        f"<p>n = {result.n}, test {html.escape(result.test)}, alpha {result.alpha}; background knowledge: "
        f"{html.escape(result.background.describe())}; stability: {boot}.</p>"
        f"<table><tr><th>edge</th><th>stability</th></tr>{rows}</table>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + "</section>"
    )


def write_sensitivity_html(
    frame: pd.DataFrame | None, path: str | os.PathLike[str], *, discovery: Any = None
) -> Path:
    """Write the sensitivity section (and a discovery section, when given) as one standalone HTML page.

    The file is written to a temporary name and renamed, so a reader never sees half a page.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd, causaltrust as ct
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=500); b = a + rng.normal(size=500)
    >>> res = ct.discover(pd.DataFrame({"a": a, "b": b}))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.html"
    >>> out = ct.report.write_sensitivity_html(None, path, discovery=res)
    >>> out.read_text().count("<section")
    1
    """
    if frame is None and discovery is None:
        raise DataError("write_sensitivity_html: pass a sensitivity frame, a discovery result, or both")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    body = (render_discovery(discovery) if discovery is not None else "") + (
        render_sensitivity(frame) if frame is not None else ""
    )
    page = (
        "<!doctype html><html><head><meta charset=utf-8><title>causaltrust: graph uncertainty</title></head>"
        f"<body style='font-family:system-ui;max-width:1100px;margin:2rem auto'>{body}</body></html>"
    )
    with atomic_write(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out
