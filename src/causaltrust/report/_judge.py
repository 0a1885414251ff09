"""How the story tells two configurations apart on one metric: win, lose or tie.

One rule for every sentence, table mark and rank of a ledger report (DESIGN "Issue 30: the story's
comparison"):

1. **Under the story's resolution, a tie.** Two means closer than :data:`TIE_MARGIN` (0.01: one point of
   accuracy, of attack advantage, of recourse validity, or of a classifier's path effect on P(Ŷ = 1)) are a
   tie however many seeds separate them. Metrics on an open scale (RMSE, effects on a regressor's output,
   ε) have no margin.
2. **Paired by seed.** Configurations of one context are trained and tested on the same rows per seed (the
   sweep derives the data from the seed alone), so the question is whether their per-seed *differences*
   centre on 0: a tie when the Student-t 95% interval of the differences over the shared seeds contains 0,
   else the better mean wins. Pairing removes the seed-to-seed variation both share, and the interval no
   longer rests on each configuration's own spread from 3 seeds (one of which can be tiny by chance).
3. **Without per-seed values** (a summary built by hand, or fewer than 2 shared seeds), the two
   configurations' own 95% intervals decide: overlapping intervals are a tie; without intervals, only
   equal values are.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from causaltrust.audit import metric_info
from causaltrust.exceptions import CausalTrustError

__all__ = ["TIE_MARGIN"]

TIE_MARGIN = 0.01


def _direction(metric: str) -> str:
    try:
        return metric_info(metric).better
    except CausalTrustError:
        return "informative"


def _score(v: float, better: str) -> float:
    """Lower is better, whatever the metric's direction (NaN for informative metrics)."""
    return {"higher": -v, "lower": v, "zero": abs(v)}.get(better, float("nan"))


def _scores(v: np.ndarray, better: str) -> np.ndarray:
    """:func:`_score` of an array."""
    if better == "higher":
        return -v
    if better == "lower":
        return v
    if better == "zero":
        return np.abs(v)
    return np.full_like(v, np.nan)


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


def tie_margins(c: str, rows: pd.DataFrame) -> np.ndarray:
    """Per row, the margin under which a difference on ``c`` is a tie: :data:`TIE_MARGIN` on metrics measured
    in probabilities, else 0. Effects on the output (compared by |value|) are on the output's scale: a
    classifier's (a row with an observational accuracy) are probabilities, a regressor's are not.
    """
    zero = np.zeros(len(rows))
    try:
        info = metric_info(c)
    except CausalTrustError:
        return zero
    if info.bounds is not None and info.bounds[0] >= -1.0 and info.bounds[1] <= 1.0:
        return zero + TIE_MARGIN
    if info.better != "zero" or "accuracy.observational" not in rows.columns:
        return zero
    return np.where(pd.to_numeric(rows["accuracy.observational"], errors="coerce").notna(), TIE_MARGIN, 0.0)


def _seed_matrix(rows: pd.DataFrame, c: str) -> np.ndarray | None:
    """Per row, its value on ``c`` per draw of data (rows × draws, NaN where absent); None without values.

    A draw is a seed within one spec and one set of sweep settings (``spec_hash``, ``settings_json``): rows
    of different specs or settings saw different data at the same seed, so they share no column and are
    never paired.
    """
    if "seed_values" not in rows.columns:
        return None
    per = [sv.get(c, {}) if isinstance(sv, Mapping) else {} for sv in rows["seed_values"]]
    ctx = list(
        zip(
            rows["spec_hash"] if "spec_hash" in rows.columns else [None] * len(rows),
            rows["settings_json"] if "settings_json" in rows.columns else [None] * len(rows),
            strict=True,
        )
    )
    keys = [[(str(k), int(s)) for s in d] for k, d in zip(ctx, per, strict=True)]
    col = {key: j for j, key in enumerate(sorted({key for ks in keys for key in ks}))}
    if not col:
        return None
    m = np.full((len(per), len(col)), np.nan)
    for i, (ks, d) in enumerate(zip(keys, per, strict=True)):
        for key, v in zip(ks, d.values(), strict=True):
            m[i, col[key]] = float(v)
    return m


def _score_intervals(rows: pd.DataFrame, c: str, better: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row, its interval on ``c`` as scores (lower is better); NaN where it has none."""
    n = len(rows)
    lo = pd.to_numeric(rows.get(c + "::lo", pd.Series(np.nan, index=rows.index)), errors="coerce").to_numpy(
        float
    )
    hi = pd.to_numeric(rows.get(c + "::hi", pd.Series(np.nan, index=rows.index)), errors="coerce").to_numpy(
        float
    )
    slo, shi = np.full(n, np.nan), np.full(n, np.nan)
    for i in np.flatnonzero(~(np.isnan(lo) | np.isnan(hi))).tolist():
        slo[i], shi[i] = _score_interval(float(lo[i]), float(hi[i]), better)
    return slo, shi


def verdict_matrix(rows: pd.DataFrame, refs: pd.DataFrame, c: str) -> np.ndarray:
    """``win`` / ``lose`` / ``tie`` of every row of ``rows`` (axis 0) against every row of ``refs`` (axis 1)
    on metric ``c``, by the module's rule: the margin first, then the paired seeds, then the intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"accuracy.interventional": [0.80, 0.795, 0.70]})
    >>> verdict_matrix(rows, rows.iloc[:1], "accuracy.interventional")[:, 0].tolist()
    ['tie', 'tie', 'lose']
    """
    return _verdict_matrix(rows, refs, c)[0]


# Which step of the rule decided a pair, in the story's words (for the ties it names).
_HOW = {
    "margin": f"less than {TIE_MARGIN:g} apart",
    "paired": "the paired seeds do not tell them apart",
    "intervals": "intervals overlap",
    "values": "equal values",
}


def _verdict_matrix(rows: pd.DataFrame, refs: pd.DataFrame, c: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`verdict_matrix` and, per pair, which step decided it (a key of :data:`_HOW`)."""
    with np.errstate(invalid="ignore"):  # ∞ - ∞ (two configurations without a DP accountant) is no difference
        return _decide(rows, refs, c)


def _decide(rows: pd.DataFrame, refs: pd.DataFrame, c: str) -> tuple[np.ndarray, np.ndarray]:
    from scipy import stats

    better = _direction(c)
    n = len(rows)
    sa = _scores(pd.to_numeric(rows[c], errors="coerce").to_numpy(float), better)[:, None]
    sb = _scores(pd.to_numeric(refs[c], errors="coerce").to_numpy(float), better)[None, :]
    out = np.where(sa < sb, "win", "lose").astype(object)
    margin = np.maximum(tie_margins(c, rows)[:, None], tie_margins(c, refs)[None, :])
    decided = np.abs(sa - sb) < margin
    out[decided] = "tie"
    how = np.where(decided, "margin", "values").astype(object)
    both = _seed_matrix(pd.concat([rows, refs], ignore_index=True), c)
    if both is not None:
        m = _scores(both, better)
        d = m[:n, None, :] - m[None, n:, :]  # per-seed score differences, row minus reference
        ok = np.isfinite(d)
        count = ok.sum(axis=2)
        paired = (count >= 2) & ~decided
        if paired.any():
            mean = np.where(ok, d, 0.0).sum(axis=2) / np.maximum(count, 1)
            var = np.where(ok, (d - mean[..., None]) ** 2, 0.0).sum(axis=2) / np.maximum(count - 1, 1)
            half = stats.t.ppf(0.975, np.maximum(count - 1, 1)) * np.sqrt(var / np.maximum(count, 1))
            out[paired] = np.where(mean < 0, "win", "lose")[paired]
            out[paired & (np.abs(mean) <= half)] = "tie"
            how[paired] = "paired"
            decided |= paired
    (la, ha), (lb, hb) = _score_intervals(rows, c, better), _score_intervals(refs, c, better)
    has = ~np.isnan(la)[:, None] & ~np.isnan(lb)[None, :]
    overlap = has & (la[:, None] <= hb[None, :]) & (lb[None, :] <= ha[:, None])
    equal = ~has & (sa == sb)
    out[~decided & (overlap | equal)] = "tie"
    how[~decided & has] = "intervals"
    return out, how


def verdicts_against(rows: pd.DataFrame, ref: pd.Series, c: str) -> list[str]:
    """:func:`verdict_matrix` of ``rows`` against one configuration ``ref``."""
    return [str(v) for v in verdict_matrix(rows, ref.to_frame().T, c)[:, 0]]


def tie_reason(a: pd.Series, b: pd.Series, c: str) -> str:
    """Why ``a`` ties with ``b`` on ``c``, in the story's words: the step of the rule that decided it."""
    return _HOW[str(_verdict_matrix(a.to_frame().T, b.to_frame().T, c)[1][0, 0])]


def compare(a: pd.Series, b: pd.Series, c: str) -> str:
    """``win`` / ``lose`` / ``tie`` for ``a`` against ``b`` on metric ``c`` (the module's rule)."""
    return verdicts_against(a.to_frame().T, b, c)[0]
