"""Percentile bootstrap intervals over units."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["bootstrap_interval", "mean_bootstrap"]

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


def mean_bootstrap(
    values: Array, rng: np.random.Generator, n_boot: int, confidence: float
) -> tuple[float, float]:
    # Means resample fast in blocks: (block, n) index matrices instead of a Python loop per resample.
    n = len(values)
    if n < 2 or n_boot < 1:
        return (float("nan"), float("nan"))
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
