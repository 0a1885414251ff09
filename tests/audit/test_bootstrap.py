"""Shared bootstrap resamples of an audit's mean metrics, checked against plain index resampling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from causaltrust.audit._bootstrap import (
    ResampleBlocks,
    mean_bootstrap,
    quantile_bootstrap,
    resample_counts,
)


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


# -- resamples shared in blocks (issue 30) ---------------------------------------------------------------


def _block_indices(n: int, n_boot: int, rows: int, seed: int) -> np.ndarray:
    """The resample indices ResampleBlocks promises: block b drawn from the b-th child of the seed."""
    children = np.random.SeedSequence(seed).spawn(len(range(0, n_boot, rows)))
    parts = [
        np.random.default_rng(children[b]).integers(0, n, (min(rows, n_boot - b0), n), dtype=np.int64)
        for b, b0 in enumerate(range(0, n_boot, rows))
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize("cache_bytes", [0, 10**9])
def test_blocks_equal_indexed_resamples(cache_bytes: int) -> None:
    rng = np.random.default_rng(2)
    n, n_boot = 120, 45
    x = np.where(rng.random(n) < 0.25, 0.0, rng.normal(size=n))
    # 7 resamples per block (840 cells / 120 units), the last block shorter: 45 = 6 * 7 + 3
    blocks = ResampleBlocks(n, n_boot, np.random.SeedSequence(8), block_cells=840, cache_bytes=cache_bytes)
    assert blocks.rows == 7
    idx = _block_indices(n, n_boot, 7, 8)
    np.testing.assert_allclose(blocks.means(x), x[idx].mean(axis=1), rtol=0, atol=1e-12)
    expected_q = np.array([np.quantile(x[i], 0.95) for i in idx])
    np.testing.assert_allclose(blocks.quantiles(x, 0.95), expected_q, rtol=0, atol=1e-12)
    # read twice (cached or redrawn): the same resamples
    np.testing.assert_array_equal(blocks.means(x), blocks.means(x))
    lo, hi = blocks.mean_interval(x, 0.95)
    np.testing.assert_allclose((lo, hi), np.quantile(x[idx].mean(axis=1), [0.025, 0.975]), atol=1e-12)


def test_block_cache_is_bounded() -> None:
    blocks = ResampleBlocks(1000, 100, np.random.SeedSequence(0), block_cells=10_000, cache_bytes=35_000)
    blocks.means(np.ones(1000))
    # blocks of 10 x 1000 uint8 counts: three fit in 35,000 bytes, the other seven are redrawn when read
    assert len(blocks._cache) == 3
    assert sum(c.nbytes for c in blocks._cache.values()) <= 35_000


def test_audit_above_the_whole_matrix_cap_shares_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import causaltrust as ct
    from causaltrust._random import purpose_sequence
    from causaltrust.audit import _context
    from causaltrust.audit._audit import build_context
    from causaltrust.audit._options import AuditOptions

    spec, scm = ct.scenarios.load("readmission")
    test = scm.sample(300, random_state=1)
    model = lambda df: np.asarray(df["X"] > 0, dtype=np.float64)  # noqa: E731
    ctx = build_context(
        model, spec=spec, scm=scm, data=test, train_data=None, scm_data=None, random_state=4,
        options=AuditOptions(n_bootstrap=40),
    )  # fmt: skip
    monkeypatch.setattr(_context, "SHARED_CELLS", 1000)  # 300 units x 40 resamples: shared in blocks
    x = np.random.default_rng(0).normal(size=300)
    m = ctx.mean_metric("accuracy.observational", x)
    blocks = ctx.resample_blocks(300)
    assert blocks is not None
    assert ctx.resamples(300) is None
    seq = purpose_sequence(4, "bootstrap-blocks")
    idx = np.concatenate(
        [
            np.random.default_rng(c).integers(0, 300, (min(blocks.rows, 40 - b0), 300), dtype=np.int64)
            for c, b0 in zip(seq.spawn(len(blocks.starts)), blocks.starts, strict=True)
        ]
    )
    np.testing.assert_allclose(
        (m.low, m.high), np.quantile(x[idx].mean(axis=1), [0.025, 0.975]), rtol=0, atol=1e-12
    )
    p = ctx.p95_metric("fairness.unfair_path_effect_p95", np.abs(x))
    per = np.array([np.quantile(np.abs(x)[i], 0.95) for i in idx])
    np.testing.assert_allclose((p.low, p.high), np.quantile(per, [0.025, 0.975]), rtol=0, atol=1e-12)


def test_weighted_row_statistics_equal_the_resampled_ones() -> None:
    # The large-audit forms (one statistic per row of resample counts) against the same statistics computed
    # on the resampled units themselves (index gathers), resample by resample.
    from sklearn.metrics import roc_auc_score

    from causaltrust.audit._fairness import (
        _eo_rows,
        _indicators,
        _rate_spread_rows,
        demographic_parity_difference,
        equalized_odds_difference,
    )
    from causaltrust.audit._ranks import Ranker, weighted_auc_rows

    rng = np.random.default_rng(6)
    n, n_boot = 80, 60
    groups = rng.integers(0, 3, n)
    groups[:2] = 2  # a rare group: absent from some resamples
    groups[2:] = np.where(groups[2:] == 2, 0, groups[2:])
    y = (rng.random(n) < 0.5).astype(np.float64)
    labels = (rng.random(n) < 0.4 + 0.2 * (groups == 1)).astype(np.float64)
    score = np.round(rng.random(n), 1)  # ties
    counts = resample_counts(n, n_boot, np.random.default_rng(12))
    idx = np.random.default_rng(12).integers(0, n, (n_boot, n), dtype=np.int64)
    dp = _rate_spread_rows(*_indicators(groups, 3, labels), counts)
    eo = _eo_rows(*_indicators(2 * groups + (y == 1), 6, labels), counts)
    auc = weighted_auc_rows(Ranker(score), y == 1, counts)
    for b in range(n_boot):
        i = idx[b]
        assert dp[b] == pytest.approx(demographic_parity_difference(labels[i], groups[i], 3), abs=1e-12)
        assert eo[b] == pytest.approx(equalized_odds_difference(y[i], labels[i], groups[i], 3), abs=1e-12)
        assert auc[b] == pytest.approx(roc_auc_score(y[i], score[i]), abs=1e-12)


def test_auc_rows_in_sorted_order_and_without_ties() -> None:
    from sklearn.metrics import roc_auc_score

    from causaltrust.audit._ranks import Ranker, weighted_auc_rows

    rng = np.random.default_rng(9)
    n, n_boot = 90, 40
    y = rng.random(n) < 0.4
    blocks = ResampleBlocks(n, n_boot, np.random.SeedSequence(3), block_cells=900)
    idx = _block_indices(n, n_boot, 10, 3)
    for score in (rng.random(n), np.round(rng.random(n), 1)):  # unique scores, then ties
        ranker = Ranker(score)
        got = blocks.apply(lambda c, r=ranker: weighted_auc_rows(r, y, c, ordered=True), ranker.order)
        np.testing.assert_array_equal(blocks.block(1, ranker.order), blocks.block(1)[:, ranker.order])
        for b in range(n_boot):
            assert got[b] == pytest.approx(roc_auc_score(y[idx[b]], score[idx[b]]), abs=1e-12)


def test_apply_many_is_each_statistic_applied_alone_with_each_block_drawn_once() -> None:
    from causaltrust.audit._bootstrap import sorted_quantiles

    n, n_boot = 500, 60
    rng = np.random.default_rng(5)
    x, z = rng.normal(size=n), rng.exponential(size=n)
    order = np.argsort(z, kind="stable")
    jobs = [
        (lambda c: c @ x / n, None),
        (lambda c: sorted_quantiles(z[order], 0.95, c), order),
        (lambda c: c @ z / n, None),
    ]
    # Cache room for one block of the six: the other five are drawn from their seeds when read.
    alone = ResampleBlocks(n, n_boot, np.random.SeedSequence(2), block_cells=5_000, cache_bytes=5_000)
    expected = [alone.apply(stat, cols) for stat, cols in jobs]
    many = ResampleBlocks(n, n_boot, np.random.SeedSequence(2), block_cells=5_000, cache_bytes=5_000)
    draws = []
    many._draw = lambda b, draw=many._draw: draws.append(b) or draw(b)  # type: ignore[method-assign]
    got = many.apply_many(jobs)
    assert draws == list(range(len(many.starts)))  # one draw per block for all three statistics
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    # Independent: the index resamples behind the blocks, statistic by statistic.
    idx = _block_indices(n, n_boot, 10, 2)
    np.testing.assert_allclose(got[0], x[idx].mean(axis=1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[1], np.quantile(z[idx], 0.95, axis=1), rtol=0, atol=1e-12)


def test_a_large_audit_batches_its_block_intervals_to_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    # The audit's one pass over the blocks per objective against the per-metric passes (the path every metric
    # took before issue 30, day 3): every interval equal bit for bit, levels' headline copies included.
    import causaltrust as ct
    from causaltrust.audit import _context

    spec, scm = ct.scenarios.load("readmission")
    train, test = scm.sample(400, random_state=1), scm.sample(300, random_state=2)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=500).fit(train[spec.features], train[spec.target])
    monkeypatch.setattr(_context, "SHARED_CELLS", 1000)  # 300 units x 30 resamples: shared in blocks
    kw = {"spec": spec, "scm": scm, "data": test, "n_bootstrap": 30, "random_state": 3}
    objectives = ["accuracy", "fairness", "robustness"]
    batched = ct.audit(model, objectives=objectives, **kw)
    monkeypatch.setattr(_context.AuditContext, "batched", lambda self, family: family(self))
    alone = ct.audit(model, objectives=objectives, **kw)
    assert [m.name for m in batched.metrics] == [m.name for m in alone.metrics]
    with_blocks = 0
    for b, a in zip(batched.metrics, alone.metrics, strict=True):
        assert (b.value, b.low, b.high) == (a.value, a.low, a.high) or (
            np.isnan(b.value) and np.isnan(a.value)
        ), b.name
        with_blocks += b.low is not None
    assert with_blocks >= 10


def test_subgroup_means_and_ctf_se_rows_equal_the_resampled_ones() -> None:
    # The large-audit forms of a subgroup mean (ctf_de, ctf_ie, environment accuracy) and of ctf_se, from
    # resample counts, against the same statistics on the resampled units themselves (index gathers).
    from causaltrust.audit._context import ratio_rows
    from causaltrust.audit._fairness import _ctf_se, _ctf_se_rows

    rng = np.random.default_rng(11)
    n, n_boot = 70, 50
    group = rng.integers(0, 3, n)
    group[:2] = 2  # a rare group: absent from some resamples (NaN there, as the gathered mean is)
    group[2:] = np.where(group[2:] == 2, 0, group[2:])
    f_x1, f_fact, v = rng.normal(size=n), rng.normal(size=n), rng.random(n)
    at_x0, at_x1, rare = group == 0, group == 1, group == 2
    counts = resample_counts(n, n_boot, np.random.default_rng(12))
    idx = np.random.default_rng(12).integers(0, n, (n_boot, n), dtype=np.int64)
    se = _ctf_se_rows(f_x1, f_fact, at_x0, at_x1, counts)
    sub = ratio_rows(np.where(rare, v, 0.0), rare.astype(np.float64), counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of an empty resampled subgroup: NaN
        for b in range(n_boot):
            i = idx[b]
            assert se[b] == pytest.approx(_ctf_se(f_x1, f_fact, at_x0, at_x1, i), abs=1e-12)
            gathered = v[i][rare[i]].mean()
            if np.isnan(gathered):
                assert np.isnan(sub[b])
            else:
                assert sub[b] == pytest.approx(gathered, abs=1e-12)
    assert np.isnan(sub).any()  # the rare group is absent from some resamples
    assert not np.isnan(sub).all()


def test_attribute_advantage_rows_equal_the_resampled_ones() -> None:
    from causaltrust.audit.privacy._attribute import _advantage_rows, attribute_advantage

    rng = np.random.default_rng(13)
    n, n_boot, k = 60, 40, 3
    a = rng.integers(0, k, n)
    a[:2] = 2  # a rare class: absent from some resamples, then left out of the balanced accuracy
    a[2:] = np.where(a[2:] == 2, 0, a[2:])
    pred = np.where(rng.random(n) < 0.7, a, rng.integers(0, k, n))
    onehot = np.eye(k)[a]
    rows = _advantage_rows(
        onehot, onehot * (pred == a)[:, None], k, resample_counts(n, n_boot, np.random.default_rng(4))
    )
    idx = np.random.default_rng(4).integers(0, n, (n_boot, n), dtype=np.int64)
    for b in range(n_boot):
        assert rows[b] == pytest.approx(attribute_advantage(a[idx[b]], pred[idx[b]], k), abs=1e-12)
