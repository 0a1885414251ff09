"""The fairlearn adapter (learners/_fairlearn.py): fairlearn's public API only, and the same answers as
fairlearn's own probability of deciding 1 (its private ``_pmf_predict``, used here as the reference)."""

from __future__ import annotations

from pathlib import Path

import fairlearn
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC

from causaltrust.learners import _fairlearn

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:fairlearn.*", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Two groups whose base rates differ (0.3 vs 0.6): the parity constraints bind, so the mitigators mix.
    rng = np.random.default_rng(0)
    n = 400
    g = (rng.random(n) < 0.4).astype(np.int64)
    x = rng.normal(size=(n, 2)) + 0.8 * g[:, None]
    y = (rng.random(n) < 1 / (1 + np.exp(-(x[:, 0] - 0.5 + g)))).astype(np.int64)
    return np.column_stack([x, g]).astype(np.float64), y, g


def test_the_installed_fairlearn_is_supported_and_pinned() -> None:
    low, high = (tuple(int(p) for p in v.split(".")) for v in _fairlearn.FAIRLEARN_VERSIONS)
    assert low <= tuple(int(p) for p in fairlearn.__version__.split(".")[:2]) < high
    pins = Path(__file__).parents[2] / "constraints.txt"
    assert f"fairlearn=={fairlearn.__version__}" in pins.read_text().split()


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_reduction_decides_1_as_often_as_fairlearn(data, constraint: str) -> None:
    Z, y, g = data
    eg = _fairlearn.reduction(LogisticRegression(), constraint, eps=0.01, max_iter=8).fit(
        Z, y, sensitive_features=g
    )
    assert (np.asarray(eg.weights_) > 0).sum() >= 2  # a real mixture, not one predictor
    p = _fairlearn.mixture_mean(eg, Z)
    np.testing.assert_allclose(p, eg._pmf_predict(Z)[:, 1], rtol=0, atol=1e-15)


@pytest.mark.parametrize("estimator", [LogisticRegression(), LinearSVC()])
def test_threshold_optimizer_decides_1_as_often_as_fairlearn(data, estimator) -> None:
    Z, y, g = data
    to = _fairlearn.threshold_optimizer(estimator, "demographic_parity").fit(Z, y, sensitive_features=g)
    p = _fairlearn.threshold_positive_rate(to, Z, g)
    np.testing.assert_array_equal(p, to._pmf_predict(Z, sensitive_features=g)[:, 1])
    assert 0 < p.min() < p.max() < 1 or len(np.unique(p)) > 2  # randomized thresholds, not all 0/1


def test_bounded_group_loss_mean_is_the_weighted_mixture(data) -> None:
    Z, _, g = data
    t = Z[:, 0] + 2.0 * g * Z[:, 1]
    eg = _fairlearn.bounded_group_loss(
        LinearRegression(), low=t.min(), high=t.max(), upper_bound=0.5, max_iter=5
    )
    eg.fit(Z, t, sensitive_features=g)
    pred = eg._pmf_predict(Z).to_numpy()  # one column per predictor
    w = np.asarray(eg.weights_, dtype=np.float64)
    np.testing.assert_allclose(_fairlearn.mixture_mean(eg, Z), pred @ w, rtol=1e-12, atol=1e-12)
