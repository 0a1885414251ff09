"""Additive noise on a log scale, for non-negative right-skewed nodes (counts, amounts).

``node = expm1(h(parents) + N)``: noise and parents act multiplicatively on ``1 + node``, so a counterfactual
stays above -1 and moves a unit with 30 prior offences more than one with none, as counts and amounts
usually behave. :func:`use_log_scale` is the rule ``SCM.fit`` applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from causaltrust.scm._mechanisms import Mechanism, Noise, _broadcast

__all__ = ["LogAdditiveNoiseMechanism", "use_log_scale"]

Array = np.ndarray
Env = Mapping[str, Array]
# Sample skewness above which a non-negative node is modelled on the log1p scale. A symmetric variable has
# skewness 0 and an exponential one 2; 1 separates "roughly symmetric" from "long right tail".
SKEW_THRESHOLD = 1.0


def use_log_scale(y: Array) -> bool:
    """True for a non-negative column with at least 3 distinct values and skewness above 1."""
    y = np.asarray(y, dtype=np.float64)
    if y.size < 3 or y.min() < 0 or np.unique(y).size < 3:
        return False
    sd = y.std()
    if sd == 0:
        return False
    skew = float(np.mean(((y - y.mean()) / sd) ** 3))
    return skew > SKEW_THRESHOLD


def _log1p_support(value: Array) -> Array:
    """log1p of values clipped at 0: the mechanism was fitted on non-negative data, and a value handed in
    from elsewhere (another model's counterfactual, -1 or below) must not become -inf or NaN."""
    return np.log1p(np.maximum(np.asarray(value, dtype=np.float64), 0.0))


class LogAdditiveNoiseMechanism(Mechanism):
    """``node = expm1(h(parents) + N)`` with N independent of the parents.

    Abduction is exact: ``N = log1p(value) - h(parents)``. Under new parents the node becomes
    ``expm1(log1p(value) + h(new) - h(old))``; units whose parents did not change keep their factual value.
    """

    def __init__(
        self,
        parents: tuple[str, ...],
        h: Callable[[Env], Array | float],
        draw: Callable[[int, np.random.Generator], Array],
        description: str,
        exp_noise_mean: float,
    ) -> None:
        self.parents = parents
        self.h = h
        self.draw = draw
        self.exp_noise_mean = exp_noise_mean  # E[exp(N)], for E[node | parents]
        self.vtype = "continuous"
        self.description = description

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(self.draw(n, rng))

    def sample(self, env: Env, n: int, rng: np.random.Generator) -> Array:
        return np.expm1(_broadcast(self.h(env), n) + self.draw(n, rng))

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        h = _broadcast(self.h(env), len(value))
        return Noise(_log1p_support(value) - h, value=value, parents=self._anchor_parents(env), extra=h)

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        h_new = _broadcast(self.h(env), n)
        if noise.value is not None:
            moved = np.expm1(_log1p_support(noise.value) + (h_new - noise.extra))
            return self._keep_factual(env, noise, moved)
        return np.expm1(h_new + noise.eps)

    def mean(self, env: Env, n: int, variable: str) -> Array:
        return np.exp(_broadcast(self.h(env), n)) * self.exp_noise_mean - 1.0
