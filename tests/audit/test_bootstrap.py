"""Shared bootstrap resamples of an audit's mean metrics, checked against plain index resampling."""

from __future__ import annotations

import numpy as np
import pytest

from causaltrust.audit._bootstrap import mean_bootstrap, quantile_bootstrap, resample_counts


def test_counts_are_the_resamples_of_the_same_draws() -> None:
    n, n_boot = 50, 30
    counts = resample_counts(n, n_boot, np.random.default_rng(7))
    idx = np.random.default_rng(7).integers(0, n, (n_boot, n), dtype=np.int64)
    for b in range(n_boot):
        np.testing.assert_array_equal(counts[b], np.bincount(idx[b], minlength=n))


def test_mean_interval_from_counts_equals_indexed_resample_means() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=200)
    n_boot = 400
    counts = resample_counts(len(x), n_boot, np.random.default_rng(11))
    idx = np.random.default_rng(11).integers(0, len(x), (n_boot, len(x)), dtype=np.int64)
    means = x[idx].mean(axis=1)
    expected = np.quantile(means, [0.025, 0.975])
    got = mean_bootstrap(x, np.random.default_rng(0), n_boot, 0.95, counts)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_mean_interval_covers_the_normal_interval() -> None:
    # 10,000 units: the bootstrap interval of a mean is within a few percent of mean ± 1.96 sd / sqrt(n).
    x = np.random.default_rng(5).exponential(size=10_000)
    counts = resample_counts(len(x), 2000, np.random.default_rng(1))
    lo, hi = mean_bootstrap(x, np.random.default_rng(0), 2000, 0.95, counts)
    half = 1.96 * x.std() / np.sqrt(len(x))
    assert hi - lo == pytest.approx(2 * half, rel=0.1)
    assert (lo + hi) / 2 == pytest.approx(x.mean(), abs=0.2 * half)


def test_counts_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="counts: expected shape"):
        mean_bootstrap(np.ones(10), np.random.default_rng(0), 5, 0.95, np.ones((5, 9)))


@pytest.mark.parametrize("q", [0.95, 0.5, 0.0, 1.0, 0.333])
def test_quantile_interval_equals_numpy_quantiles_of_the_resamples(q: float) -> None:
    rng = np.random.default_rng(4)
    # ties included: a per-unit effect is often exactly 0 for many units
    x = np.where(rng.random(300) < 0.3, 0.0, rng.exponential(size=300))
    n_boot = 250
    counts = resample_counts(len(x), n_boot, np.random.default_rng(9))
    idx = np.random.default_rng(9).integers(0, len(x), (n_boot, len(x)), dtype=np.int64)
    per_resample = np.array([np.quantile(x[i], q) for i in idx])
    expected = np.quantile(per_resample, [0.025, 0.975])
    np.testing.assert_allclose(quantile_bootstrap(x, q, counts, 0.95), expected, rtol=0, atol=1e-12)


def test_quantile_interval_of_values_with_nan_is_nan() -> None:
    x = np.r_[np.arange(9.0), np.nan]
    counts = resample_counts(10, 20, np.random.default_rng(0))
    assert np.isnan(quantile_bootstrap(x, 0.95, counts, 0.95)).all()
