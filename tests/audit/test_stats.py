"""Bootstrap rank statistics: weighted ranks must equal recomputing on the resample (scipy, sklearn)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from causaltrust.audit._ranks import Ranker, weighted_auc, weighted_spearman


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_rank_statistics_equal_recomputation_on_the_resample(seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=2000), 1)  # rounded: plenty of ties
    y = x + np.round(rng.normal(size=2000), 1)
    label = rng.random(2000) < 0.3
    rx, ry = Ranker(x), Ranker(y)
    for _ in range(5):
        idx = rng.integers(0, 2000, 2000)
        w = np.bincount(idx, minlength=2000).astype(float)
        assert weighted_spearman(rx, ry, w) == pytest.approx(spearmanr(x[idx], y[idx])[0], abs=1e-12)
        assert weighted_auc(rx, label, w) == pytest.approx(roc_auc_score(label[idx], x[idx]), abs=1e-12)


def test_unit_weights_give_plain_ranks():
    x = np.array([3.0, 1.0, 2.0, 2.0])
    np.testing.assert_allclose(Ranker(x).ranks(np.ones(4)), [4.0, 1.0, 2.5, 2.5])
