"""The shadow attack's bootstrap ROC statistics equal sklearn's roc_curve on every resample, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import auc, roc_curve

from causaltrust.audit.privacy._membership import FPRS, _roc_bootstrap, tpr_at_fpr


def _reference(member: np.ndarray, score: np.ndarray, seed: int, n_boot: int) -> list[tuple[float, float]]:
    # The direct computation: draw the same resamples, call roc_curve on each.
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(member == 1), np.flatnonzero(member == 0)
    lab = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    stats = np.empty((n_boot, 3))
    for b in range(n_boot):
        idx = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        fpr, tpr, _ = roc_curve(lab, score[idx], drop_intermediate=False)
        stats[b] = auc(fpr, tpr), *(tpr_at_fpr(fpr, tpr, a) for a in FPRS.values())
    alpha = (1.0 - 0.95) / 2.0  # the percentile levels as the audit computes them
    q = np.quantile(stats, [alpha, 1.0 - alpha], axis=0)
    return [(float(q[0, j]), float(q[1, j])) for j in range(3)]


@pytest.mark.parametrize("decimals", [1, 3, 12])  # heavy ties, some ties, none
def test_bootstrap_roc_matches_roc_curve_exactly(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    member = (rng.random(1000) < 0.4).astype(int)
    score = np.round(rng.normal(size=1000) + 0.5 * member, decimals)
    fast = _roc_bootstrap(member, score, np.random.default_rng(11), 20, 0.95)
    assert fast == _reference(member, score, 11, 20)
