"""Plug-in intervals that refit the SCM in every bootstrap resample (so they include its fitting error).

With the SCM held fixed, a bootstrap of units only measures how the counterfactual contrasts vary over
units: an SCM that is wrong (or right by luck) gets a narrow interval around its own answer. Here every
resample of the rows refits the SCM (the same mechanism families as on the full data, see
:func:`causaltrust.decompose._saturated.refit_modes`), recomputes the per-unit plug-in scores on the
resample and the four terms from them; the percentiles of those draws are the intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.decompose._estimate import terms
from causaltrust.decompose._plugin import outcome_mean, plugin_scores
from causaltrust.decompose._result import Estimate
from causaltrust.decompose._structure import Structure
from causaltrust.scm import SCM

__all__ = ["refit_intervals"]

Array = np.ndarray


def refit_intervals(
    st: Structure,
    data: pd.DataFrame,
    mechanisms: dict[str, Any],
    at_x0: Array,
    levels: Sequence[tuple[Any, Array]],
    x0: Any,
    points: Sequence[Array],
    *,
    n_boot: int,
    rng: np.random.Generator,
    fit_columns: Sequence[str],
) -> list[tuple[Estimate, Estimate, Estimate, Estimate]]:
    """Per level, ``(tv, de, ie, se)``: the given point estimates with refit-bootstrap 95% intervals."""
    n = len(data)
    draws = np.empty((len(levels), n_boot, 4))
    frame = data.reset_index(drop=True)
    for b in range(n_boot):
        idx = _resample(n, at_x0, levels, rng)
        rows = frame.iloc[idx].reset_index(drop=True)
        seed = int(rng.integers(0, 2**31 - 1))
        scm = SCM.fit(st.spec, rows[list(fit_columns)], mechanisms=mechanisms, random_state=seed)
        g: Callable[[pd.DataFrame], Array] = outcome_mean(st, scm, rows, seed)[0]
        for i, (lv, at_x1) in enumerate(levels):
            keep = at_x0[idx] | at_x1[idx]
            sub = rows.loc[keep]
            x1 = at_x1[idx][keep]
            y = sub[st.outcome].to_numpy(dtype=np.float64)
            s_de, s_se = plugin_scores(st, scm, g, sub, x1, x0, lv, seed + i)
            draws[i, b] = terms(s_de, s_se, y, x1)
    out = []
    for i, point in enumerate(points):
        lo, hi = np.percentile(draws[i], [2.5, 97.5], axis=0)
        est = [Estimate(float(point[j]), float(lo[j]), float(hi[j])) for j in range(4)]
        out.append((est[0], est[1], est[2], est[3]))
    return out


def _resample(n: int, at_x0: Array, levels: Sequence[tuple[Any, Array]], rng: np.random.Generator) -> Array:
    """Row indices of one bootstrap resample holding both groups of every contrast (redrawn otherwise)."""
    while True:
        idx = rng.integers(0, n, n)
        if at_x0[idx].any() and all(at_x1[idx].any() for _, at_x1 in levels):
            return idx
