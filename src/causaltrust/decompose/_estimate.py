"""From per-unit scores to the four terms, and a bootstrap of units for their intervals."""

from __future__ import annotations

import zlib

import numpy as np

from causaltrust.decompose._result import Estimate

__all__ = ["bootstrap_draws", "bootstrap_terms", "median_over_splits", "rng_for", "terms"]

Array = np.ndarray


def rng_for(random_state: int | None, purpose: str) -> np.random.Generator:
    """A generator derived from the seed and a purpose: streams never share draws; global state untouched."""
    seed = 0 if random_state is None else int(random_state)
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(purpose.encode())]))


def terms(s_de: Array, s_se: Array, y: Array, x1: Array, w: Array | None = None) -> Array:
    """``[tv, de, ie, se]`` from per-unit scores (weights ``w``: bootstrap counts; ``None``: all ones).

    ``E[Y_{x1,W_{x0}} | x0] = sum(s_de) / n0`` and ``E[Y_{x1} | x0] = sum(s_se) / n0`` (x0 units carry the
    regression or counterfactual term; for the doubly robust scores x1 units carry the weighted
    residual correction); ``E[Y | x0]``, ``E[Y | x1]`` are group means of ``y``.
    """
    x0 = ~x1
    if w is None:
        w = np.ones(len(y))
    n0 = w[x0].sum()
    n1 = w[x1].sum()
    m0 = (w * y)[x0].sum() / n0
    m1 = (w * y)[x1].sum() / n1
    p_de = (w * s_de).sum() / n0
    p_se = (w * s_se).sum() / n0
    return np.array([m1 - m0, p_de - m0, p_de - p_se, p_se - m1])


def bootstrap_draws(
    s_de: Array, s_se: Array, y: Array, x1: Array, *, n_boot: int, rng: np.random.Generator
) -> tuple[Array, Array]:
    """``(point, draws)``: the four terms and their ``(n_boot, 4)`` resampled values (scores fixed)."""
    point = terms(s_de, s_se, y, x1)
    n = len(y)
    draws = np.empty((n_boot, 4))
    for b in range(n_boot):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        # A resample without one of the groups has no contrast; redraw it (vanishingly rare past ~20 rows).
        while counts[x1].sum() == 0 or counts[~x1].sum() == 0:
            counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        draws[b] = terms(s_de, s_se, y, x1, counts)
    return point, draws


def bootstrap_terms(
    s_de: Array, s_se: Array, y: Array, x1: Array, *, n_boot: int, rng: np.random.Generator
) -> tuple[Estimate, Estimate, Estimate, Estimate]:
    """Point estimates and 95% percentile intervals from ``n_boot`` resamples of units (scores fixed)."""
    point, draws = bootstrap_draws(s_de, s_se, y, x1, n_boot=n_boot, rng=rng)
    lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
    out = [Estimate(float(point[i]), float(lo[i]), float(hi[i])) for i in range(4)]
    return out[0], out[1], out[2], out[3]


def median_over_splits(points: Array, ses: Array) -> tuple[Estimate, Estimate, Estimate, Estimate]:
    """Chernozhukov et al. (2018) over ``S`` repeated cross-fittings: median estimate, split-aware variance.

    ``points`` and ``ses`` are ``(S, 4)``: each split's terms and their bootstrap standard errors. The
    estimate is the median over splits; its variance ``median_s(se_s**2 + (theta_s - theta)**2)`` adds
    how far each split's estimate lies from it, so the interval ``theta +- 1.96 sd`` covers the split.
    """
    theta = np.median(points, axis=0)
    sd = np.sqrt(np.median(ses**2 + (points - theta) ** 2, axis=0))
    out = [
        Estimate(float(theta[i]), float(theta[i] - 1.96 * sd[i]), float(theta[i] + 1.96 * sd[i]))
        for i in range(4)
    ]
    return out[0], out[1], out[2], out[3]
