"""Percentile bootstrap intervals over units."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["bootstrap_interval", "mean_bootstrap", "quantile_bootstrap", "resample_counts"]

Array = np.ndarray


def bootstrap_interval(
    stat: Callable[[Array], float],
    n: int,
    rng: np.random.Generator,
    n_boot: int,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(indices)`` over ``n`` units."""
    if n < 2 or n_boot < 1:
        return (float("nan"), float("nan"))
    vals = np.empty(n_boot)
    for b in range(n_boot):
        vals[b] = stat(rng.integers(0, n, n))
    vals = vals[np.isfinite(vals)]
    if len(vals) == 0:
        return (float("nan"), float("nan"))
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(vals, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


# Resample count matrices up to this many cells (n_boot x n) are kept and shared by every mean metric of an
# audit (200 resamples of 20,000 units: 32 MB); larger ones are drawn in blocks for each metric.
SHARED_CELLS = 8_000_000


def resample_counts(n: int, n_boot: int, rng: np.random.Generator) -> Array:
    """``(n_boot, n)`` matrix: how often each of ``n`` units appears in each bootstrap resample.

    Row ``b`` counts how often each unit appears among ``n`` uniform draws with replacement (one resample),
    so a resample mean of per-unit values ``x`` is ``counts[b] @ x / n``.
    """
    out = np.empty((n_boot, n))
    block = max(1, 1_000_000 // max(n, 1))  # rows per block: bounds the temporary index arrays
    for b0 in range(0, n_boot, block):
        k = min(block, n_boot - b0)
        idx = rng.integers(0, n, (k, n), dtype=np.int64)
        idx += np.arange(k, dtype=np.int64)[:, None] * n
        out[b0 : b0 + k] = np.bincount(idx.ravel(), minlength=k * n).reshape(k, n)
    return out


def mean_bootstrap(
    values: Array,
    rng: np.random.Generator,
    n_boot: int,
    confidence: float,
    counts: Array | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``.

    With ``counts`` (from :func:`resample_counts`, one row per resample) the resample means are one matrix
    product and ``rng`` is not used; otherwise resamples are drawn in (block, n) index matrices.
    """
    n = len(values)
    if n < 2 or n_boot < 1:
        return (float("nan"), float("nan"))
    if counts is not None:
        if counts.shape != (n_boot, n):
            raise ValueError(f"counts: expected shape {(n_boot, n)}, got {counts.shape}")
        vals = counts @ values / n
    else:
        means = []
        block = max(1, min(n_boot, 4_000_000 // max(n, 1)))
        done = 0
        while done < n_boot:
            k = min(block, n_boot - done)
            idx = rng.integers(0, n, (k, n), dtype=np.int32 if n < 2**31 else np.int64)
            means.append(values[idx].mean(axis=1))
            done += k
        vals = np.concatenate(means)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(vals, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def quantile_bootstrap(values: Array, q: float, counts: Array, confidence: float) -> tuple[float, float]:
    """Percentile bootstrap interval of the ``q``-quantile of ``values`` from resample ``counts``.

    Each resample's quantile is NumPy's default (linear) quantile of the resampled values, read from the
    sorted values and the resample's cumulative counts instead of sorting every resample.
    """
    n_boot, n = counts.shape
    if n != len(values):
        raise ValueError(f"counts: expected {len(values)} columns, got {n}")
    if n < 2 or n_boot < 1 or np.isnan(values).any():
        return (float("nan"), float("nan"))
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    cum = np.cumsum(counts[:, order], axis=1)  # resample b's sorted value at position j: ranked[#(cum <= j)]
    h = (n - 1) * q
    lo_pos, frac = int(np.floor(h)), h - np.floor(h)
    at = np.empty((n_boot, 2))
    for k, pos in enumerate((lo_pos, min(lo_pos + 1, n - 1))):
        # first column whose cumulative count exceeds pos, per resample (cum is non-decreasing by row)
        at[:, k] = ranked[(cum <= pos).sum(axis=1)]
    vals = at[:, 0] + frac * (at[:, 1] - at[:, 0])
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(vals, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
