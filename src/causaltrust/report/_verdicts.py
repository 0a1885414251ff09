"""The story of a ledger as data: per objective, the best baseline and each causal method's verdict."""

from __future__ import annotations

from typing import Any

import numpy as np

from causaltrust.report._ledger import _SENTENCE_METRICS, _causal, _compare, _contexts, _direction, _score

__all__ = ["story_verdicts"]


def story_verdicts(ledger: Any) -> dict[str, dict[str, Any]]:
    """What the story lines say, without the numbers: two runs with equal verdicts tell the same story.

    For each objective of the story (``"<context> / <objective>"``): the metric compared, the best baseline
    and each causal configuration's verdict against it (``win``, ``lose`` or ``tie``, as
    :func:`story_lines` words them); under ``"thresholds"``: each configuration's verdict (``pass`` when
    every seed passes, else ``fail``) on each of the spec's thresholds.

    Examples
    --------
    >>> import os, tempfile
    >>> from causaltrust.bench import Ledger
    >>> story_verdicts(Ledger.open(os.path.join(tempfile.mkdtemp(), "r.duckdb"), create=True))
    {'thresholds': {}}
    """
    from causaltrust.bench import summarize

    agg = summarize(ledger)
    out: dict[str, dict[str, Any]] = {"thresholds": {}}
    if agg.empty:
        return out
    for context, g in _contexts(agg):
        causal = _causal(g)
        if not causal.any() or causal.all():
            continue
        for objective, candidates in _SENTENCE_METRICS.items():
            c = next((m for m in candidates if m in g.columns and g[m].notna().any()), None)
            if c is None:
                continue
            better = _direction(c)
            base = g[~causal & g[c].notna() & np.isfinite(g[c].astype(float))]
            mine = g[causal & g[c].notna()]
            if mine.empty or base.empty:
                continue
            best = base.iloc[int(np.argmin([_score(float(v), better) for v in base[c]]))]
            out[f"{context} / {objective}".strip(" /")] = {
                "metric": c,
                "best_baseline": str(best["config"]),
                "verdicts": {str(r["config"]): _compare(r, best, c) for _, r in mine.iterrows()},
            }
    for c in sorted({col.split("::")[0] for col in agg.columns if col.endswith("::passed")}):
        for _, r in agg.iterrows():
            share = r.get(c + "::passed")
            if share is None or np.isnan(float(share)):
                continue
            word = "pass" if round(float(share) * int(r["n_seeds"])) == int(r["n_seeds"]) else "fail"
            out["thresholds"].setdefault(str(r["config"]), {})[c] = word
    return out
