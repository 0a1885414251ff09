"""The story of a ledger as data: who meets the thresholds, and per objective the best and its ties."""

from __future__ import annotations

from typing import Any

from causaltrust.report._judge import compare
from causaltrust.report._ledger import (
    _SENTENCE_METRICS,
    _best_rows,
    _causal,
    _contexts,
    _meets,
)

__all__ = ["story_verdicts"]


def story_verdicts(ledger: Any) -> dict[str, dict[str, Any]]:
    """What the story lines say, without the numbers: two runs with equal verdicts tell the same story.

    Per context of the story (spec × settings; ``""`` for a ledger of one): ``"meets"``, the configurations
    that meet every threshold on every seed (the story ranks only those, or all when none does), and per
    objective: the metric, the ``top`` configurations (the best and those tied with it: intervals over seeds
    overlap; which of tied ones is named first is noise, so it is not part of the verdict), the best's
    verdict against the most accurate configuration overall (``win`` / ``tie`` / ``lose``) and
    the best causal configuration's verdict against the best baseline among the ranked ones (None when they
    are all causal or all baselines), as :func:`story_lines` words them.

    Examples
    --------
    >>> import os, tempfile
    >>> from causaltrust.bench import Ledger
    >>> story_verdicts(Ledger.open(os.path.join(tempfile.mkdtemp(), "r.duckdb"), create=True))
    {}
    """
    from causaltrust.bench import summarize

    agg = summarize(ledger)
    out: dict[str, dict[str, Any]] = {}
    if agg.empty:
        return out
    for context, g in _contexts(agg):
        g = g.reset_index(drop=True)
        meets = _meets(g).astype(bool)
        elig = g[meets] if bool(meets.any()) else g
        causal = _causal(elig).to_numpy()
        story: dict[str, Any] = {"meets": sorted(str(c) for c in g.loc[meets, "config"])}
        acc = next((m for m in _SENTENCE_METRICS["accuracy"] if m in g.columns and g[m].notna().any()), None)
        top = _best_rows(g, acc) if acc else None
        for objective, candidates in _SENTENCE_METRICS.items():
            c = next((m for m in candidates if m in g.columns and g[m].notna().any()), None)
            found = _best_rows(elig, c) if c else None
            if c is None or found is None:
                continue
            best, ties = found
            mine, base = _best_rows(elig[causal], c), _best_rows(elig[~causal], c)
            story[objective] = {
                "metric": c,
                "top": sorted([str(best["config"]), *(str(t) for t in ties["config"])]),
                "against_most_accurate": None if top is None else compare(best, top[0], c),
                "causal_vs_baseline": None if mine is None or base is None else compare(mine[0], base[0], c),
            }
        out[context] = story
    return out
