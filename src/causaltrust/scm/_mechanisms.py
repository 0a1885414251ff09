"""Causal mechanisms: one per node, each with a few verbs on whole columns.

A mechanism maps its parents' columns (and exogenous noise) to the node's column. Every mechanism can

- ``sample``: draw the node for ``n`` units given parent columns;
- ``draw_noise``: draw prior exogenous noise (so several worlds can share it: path effects);
- ``abduct``: draw noise from its posterior given an observed value (counterfactuals);
- ``evaluate``: compute the node from parent columns and a noise draw;
- ``expectation``: E[node | parents] (effects on binary targets are on probabilities).

Internal column conventions: continuous and binary nodes are float64 arrays (binary holds 0.0/1.0);
categorical nodes are int64 *codes* into the node's categories. A :class:`Noise` may carry an *anchor*
(the factual value and parents): when the parents are unchanged, ``evaluate`` returns the factual value
exactly, so ``counterfactual(df, do={V: observed V})`` reproduces the data bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from causaltrust.exceptions import DataError, IdentificationError
from causaltrust.spec._equations import FUNCTIONS, CompiledEquation, Expr, Name, NoiseTerm, Op, result_fits

__all__ = [
    "AdditiveNoiseMechanism",
    "BernoulliMechanism",
    "CategoricalMechanism",
    "ConstantMechanism",
    "DeterministicMechanism",
    "EmpiricalMechanism",
    "MeasurementMechanism",
    "Mechanism",
    "Noise",
    "NoiseEquationMechanism",
    "PoissonMechanism",
    "from_equation",
]

Array = np.ndarray
Env = Mapping[str, Array]
VarType = Literal["continuous", "binary", "categorical"]


@dataclass
class Noise:
    """Exogenous noise of one node for a batch of units.

    ``eps`` is the mechanism's own noise representation; ``value`` and ``parents`` (the anchor) are the
    factual node value and parent columns when the noise was abducted from data.
    """

    eps: Any
    value: Array | None = None
    parents: dict[str, Array] = field(default_factory=dict)
    extra: Any = None

    def unchanged(self, env: Env) -> Array | bool:
        """Per unit: are all parents equal to the anchor's (True also when there is no parent)?"""
        if self.value is None:
            return False
        same: Array | bool = True
        for name, f in self.parents.items():
            cf = env[name]
            if cf is f:
                continue
            eq = cf == f
            same = eq if same is True else np.logical_and(same, eq)
        return same


def _fits(out: Array, other: Any) -> bool:
    """Whether ``out`` (a float64 array the caller owns) can take ``out ∘ other`` in place: ``other`` is one
    number or an array of ``out``'s shape, so the result has ``out``'s shape and dtype."""
    ok = isinstance(out, np.ndarray) and out.dtype == np.float64 and out.flags.writeable
    return ok and result_fits(out, other)


def _broadcast(x: Array | float, n: int) -> Array:
    if isinstance(x, np.ndarray) and x.shape == (n,):
        return x
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()


class Mechanism:
    """Base class. ``parents`` is the fixed parent order; ``vtype`` the node type."""

    parents: tuple[str, ...] = ()
    vtype: VarType = "continuous"
    description: str = "mechanism"

    def sample(self, env: Env, n: int, rng: np.random.Generator) -> Array:
        return self.evaluate(env, self.draw_noise(n, rng), n)

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        raise NotImplementedError

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        raise NotImplementedError

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        raise NotImplementedError

    def expectation(self, env: Env, noise: Noise, n: int, variable: str) -> Array:
        """E[node | parents] for binary nodes; the node itself (noise kept) for continuous ones."""
        return self.evaluate(env, noise, n)

    def mean(self, env: Env, n: int, variable: str) -> Array:
        """E[node | parents] (P(node = 1) for binary nodes), integrating the noise out."""
        # Generic fallback: Monte-Carlo over prior noise with a fixed stream (deterministic output).
        rng = np.random.default_rng(0)
        draws = [self.evaluate(env, self.draw_noise(n, rng), n).astype(np.float64) for _ in range(64)]
        return np.mean(draws, axis=0)

    def affine_in(self) -> frozenset[str]:
        """Parents this mechanism is noise-free and affine in (what latent inversion needs)."""
        return frozenset()

    def accepts_scalars(self) -> bool:
        """Whether ``evaluate`` takes a parent given as one number for every unit (a ``do()`` value).

        Then a counterfactual computes what depends only on that parent once, not once per unit.
        """
        return False

    def _anchor_parents(self, env: Env) -> dict[str, Array]:
        return {p: env[p] for p in self.parents}

    def _keep_factual(self, env: Env, noise: Noise, new: Array) -> Array:
        if noise.value is None:
            return new
        same = noise.unchanged(env)
        if same is True:
            return noise.value
        if same is False:
            return new
        return np.where(same, noise.value, new)


class ConstantMechanism(Mechanism):
    """A hard intervention: the node takes a fixed value (or a per-unit array) and has no parents."""

    def __init__(self, value: float | Array, vtype: VarType) -> None:
        self.value = value
        self.vtype = vtype
        self.description = "do()"

    def accepts_scalars(self) -> bool:
        return True

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(None)

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        return Noise(None)

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        if isinstance(self.value, np.ndarray):
            if self.value.shape != (n,):
                raise DataError(f"a per-unit do() value has {self.value.shape[0]} entries for {n} units")
            return self.value
        dtype = np.int64 if self.vtype == "categorical" else np.float64
        return np.full(n, self.value, dtype=dtype)


class DeterministicMechanism(Mechanism):
    """A noise-free equation. Binary results must be 0/1; categorical results must be category values."""

    def __init__(
        self,
        parents: tuple[str, ...],
        fn: Callable[[Env], Array | float],
        vtype: VarType,
        variable: str,
        categories: tuple[object, ...] = (),
        eq: CompiledEquation | None = None,
    ) -> None:
        self.parents = parents
        self.fn = fn
        self.vtype = vtype
        self.variable = variable
        self.categories = categories
        self.eq = eq
        self.description = f"deterministic: {eq.text}" if eq is not None else "deterministic"

    @property
    def expr(self) -> Expr | None:
        """The equation's expression tree (None for a deterministic function without equation)."""
        return self.eq.expr if self.eq is not None else None

    def affine_in(self) -> frozenset[str]:
        expr = self.expr
        if expr is None or self.vtype != "continuous":
            return frozenset()
        return frozenset(p for p in self.parents if _degree(expr, p) == 1)

    def accepts_scalars(self) -> bool:
        return isinstance(self.fn, _EqPart)

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(None)

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        return Noise(None, value=value, parents=self._anchor_parents(env))

    def mean(self, env: Env, n: int, variable: str) -> Array:
        return self.evaluate(env, Noise(None), n)

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        out = _broadcast(self.fn(env), n)
        if self.vtype == "binary":
            out = out.astype(np.float64, copy=False)
            bad = (out != 0.0) & (out != 1.0)
            if bad.any():
                raise DataError(
                    f"the equation of binary {self.variable!r} produced {out[bad][0]!r}; a binary "
                    "equation must give 0 or 1 (use a comparison, or bernoulli(p))"
                )
        elif self.vtype == "categorical":
            out = _values_to_codes(out, self.categories, self.variable)
        return self._keep_factual(env, noise, out)


def _values_to_codes(values: Array, categories: tuple[object, ...], variable: str) -> Array:
    cats = np.asarray(categories, dtype=np.float64)
    order = np.argsort(cats)
    idx = np.searchsorted(cats[order], values)
    idx = np.clip(idx, 0, len(cats) - 1)
    ok = cats[order][idx] == values
    if not ok.all():
        raise DataError(
            f"the equation of categorical {variable!r} produced {values[~ok][0]!r}, not one of its "
            f"categories {list(categories)}"
        )
    return order[idx].astype(np.int64)


class AdditiveNoiseMechanism(Mechanism):
    """``node = h(parents) + N`` with N independent of the parents (homoscedastic).

    Abduction is exact: ``N = value - h(parents)``. Under new parents the node becomes
    ``value + h(new) - h(old)``, which is bit-exact when the parents did not change.
    """

    def __init__(
        self,
        parents: tuple[str, ...],
        h: Callable[[Env], Array | float],
        draw: Callable[[int, np.random.Generator], Array],
        description: str = "additive noise",
        noise_mean: float = 0.0,
    ) -> None:
        self.parents = parents
        self.h = h
        self.draw = draw
        self.noise_mean = noise_mean
        self.vtype = "continuous"
        self.description = description

    def accepts_scalars(self) -> bool:
        return isinstance(self.h, _EqPart)

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(self.draw(n, rng))

    def sample(self, env: Env, n: int, rng: np.random.Generator) -> Array:
        h = self.h(env)
        noise = self.draw(n, rng)
        if isinstance(h, float) and h == 0.0:
            return noise
        if isinstance(self.draw, _EqNoise) and _fits(noise, h):
            return np.add(noise, h, out=noise)  # the draws are this call's own: h is added in place
        return noise + h

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        h = _broadcast(self.h(env), len(value))
        return Noise(value - h, value=value, parents=self._anchor_parents(env), extra=h)

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        h_new = self.h(env)
        if noise.value is not None:
            return noise.value + (h_new - noise.extra)
        return _broadcast(h_new + noise.eps, n)

    def mean(self, env: Env, n: int, variable: str) -> Array:
        return _broadcast(self.h(env), n) + self.noise_mean


class NoiseEquationMechanism(Mechanism):
    """A continuous equation whose noise is not homoscedastic-additive.

    Sampling always works. Abduction needs the equation to be ``h + c * (loc + scale * eps)`` with a single
    noise term (``c``, ``loc`` and ``scale`` may depend on parents); otherwise counterfactuals raise
    :class:`IdentificationError`.
    """

    def __init__(self, eq: CompiledEquation) -> None:
        self.eq = eq
        self.parents = eq.parents
        self.vtype = "continuous"
        self.terms: tuple[NoiseTerm, ...] = eq.noise_terms
        self.description = f"equation {eq.text!r}"

    def accepts_scalars(self) -> bool:
        return True

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise({t.index: t.draw(n, rng) for t in self.terms})

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        form = self.eq.additive
        if form is None or len(form.terms) != 1:
            why = (
                "its noise does not enter additively"
                if form is None
                else f"it has {len(form.terms)} noise terms whose scales depend on parents"
            )
            raise IdentificationError(
                f"cannot abduct the noise of {variable!r} from data: {why} ({self.eq.text!r}). "
                "Counterfactuals need an equation invertible in its noise, e.g. f(parents) + normal(0, sd) "
                "or f(parents) + g(parents) * normal(0, 1)."
            )
        coef, term = form.terms[0]
        empty: dict[int, Array] = {}
        h = form.h.evaluate(env, empty)
        c = coef.evaluate(env, empty)
        loc = term.loc.evaluate(env, empty)
        scale = term.scale.evaluate(env, empty)
        denom = np.asarray(c * scale)
        if np.any(denom == 0):
            raise IdentificationError(
                f"cannot abduct the noise of {variable!r}: its noise coefficient is 0 for some units"
            )
        eps = ((value - h) / c - loc) / scale
        return Noise(
            {term.index: _broadcast(eps, len(value))}, value=value, parents=self._anchor_parents(env)
        )

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        assert self.eq.expr is not None
        out = _broadcast(self.eq.expr.evaluate(env, noise.eps), n)
        return self._keep_factual(env, noise, out)


class BernoulliMechanism(Mechanism):
    """``node = 1[U < p(parents)]`` with ``U ~ Uniform(0, 1)``.

    Abduction draws U from its posterior: uniform on [0, p) when the node is 1 and on [p, 1) when 0. This
    coupling is an assumption (it is not learnable from data); reports say so.
    """

    def __init__(self, parents: tuple[str, ...], p: Callable[[Env], Array | float], variable: str,
                 description: str = "bernoulli") -> None:  # fmt: skip
        self.parents = parents
        self.p = p
        self.variable = variable
        self.vtype = "binary"
        self.description = description
        # p = sigmoid(...) lies in [0, 1] unless it is NaN: one reduction checks it (NaN makes the sum NaN).
        expr = p.eq.p if isinstance(p, _EqPart) else None
        self._sigmoid = isinstance(expr, Op) and expr.fn is FUNCTIONS["sigmoid"][0]

    def accepts_scalars(self) -> bool:
        return isinstance(self.p, _EqPart)

    def _prob(self, env: Env, n: int) -> Array:
        return _broadcast(self._p(env, n), n)

    def _p(self, env: Env, n: int) -> Array | float:
        """P(node = 1): one number when it is the same for every unit, else per unit (checked)."""
        raw = self.p(env)
        if not isinstance(raw, np.ndarray) or raw.ndim == 0:
            value = float(raw)
            if 0.0 <= value <= 1.0:
                return value
        p = _broadcast(raw, n)
        if getattr(self, "_sigmoid", False) and not np.isnan(np.add.reduce(p)):  # (older pickles lack it)
            return p
        if not (p.min() >= 0.0 and p.max() <= 1.0):
            bad = np.flatnonzero(~((p >= 0) & (p <= 1)))
            raise DataError(
                f"the probability of {self.variable!r} is {float(p[bad[0]])} for unit {bad[0]} "
                f"({len(bad)} of {len(p)} units out of [0, 1] or NaN); "
                "bernoulli(p) needs "
                "0 <= p <= 1 (wrap a linear predictor in sigmoid(...))"
            )
        return p

    def sample(self, env: Env, n: int, rng: np.random.Generator) -> Array:
        # 1[U < p] as 0.0 / 1.0 written over the uniforms (no bool array, no float copy); a probability the
        # same for every unit stays one number.
        u = rng.random(n)
        out: Array = np.less(u, self._p(env, n), out=u)
        return out

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(rng.random(n))

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        n = len(value)
        p = self._prob(env, n)
        u = rng.random(n)
        eps = np.where(value == 1.0, u * p, p + u * (1.0 - p))
        return Noise(eps, value=value, parents=self._anchor_parents(env))

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        out = (noise.eps < self._p(env, n)).astype(np.float64)
        return self._keep_factual(env, noise, out)

    def expectation(self, env: Env, noise: Noise, n: int, variable: str) -> Array:
        return self._prob(env, n)

    def mean(self, env: Env, n: int, variable: str) -> Array:
        return self._prob(env, n)


class CategoricalMechanism(Mechanism):
    """Gumbel-max: ``node = argmax_k(log p_k(parents) + G_k)`` with standard Gumbel G_k.

    Sampling uses the inverse CDF (the same distribution, one uniform per unit); worlds that must share
    noise use the Gumbels. Abduction samples the Gumbels from their posterior given the observed category
    (Oberst & Sontag 2019; top-down construction of Maddison et al. 2014). The coupling is an assumption.
    """

    def __init__(
        self,
        parents: tuple[str, ...],
        probs: Callable[[Env, int], Array],
        n_categories: int,
        variable: str,
        description: str = "categorical",
    ) -> None:
        self.parents = parents
        self.probs = probs
        self.k = n_categories
        self.variable = variable
        self.vtype = "categorical"
        self.description = description

    def _probs(self, env: Env, n: int) -> Array:
        p = self.probs(env, n)
        if p.shape != (n, self.k) and p.shape != (1, self.k):
            raise DataError(f"{self.variable!r}: expected {self.k} category probabilities, got {p.shape[-1]}")
        return p

    def rowwise(self) -> bool:
        """Whether each unit's probabilities depend on its own parents only, by elementwise arithmetic
        (a spec equation), so they may be computed once per combination of categorical parents."""
        return isinstance(self.probs, _EqProbs)

    def cdf(self, env: Env, n: int) -> Array:
        """Cumulative category probabilities, (n, K) or (1, K)."""
        return np.cumsum(self._probs(env, n), axis=1)

    def sample(self, env: Env, n: int, rng: np.random.Generator) -> Array:
        return self.sample_cdf(self.cdf(env, n), n, rng)

    def sample_cdf(self, cdf: Array, n: int, rng: np.random.Generator) -> Array:
        """Inverse-CDF draws given the cumulative probabilities (one row, or one per unit)."""
        u = rng.random(n)
        if cdf.shape[0] == 1:
            codes = np.searchsorted(cdf[0], u, side="right")
        else:
            codes = (cdf < u[:, None]).sum(axis=1)
        return np.minimum(codes, self.k - 1).astype(np.int64, copy=False)

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(rng.gumbel(size=(n, self.k)))

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        n = len(value)
        with np.errstate(divide="ignore"):
            logp = np.log(np.broadcast_to(self._probs(env, n), (n, self.k)))
        codes = value.astype(np.int64)
        if np.any(np.isneginf(logp[np.arange(n), codes])):
            bad = int(np.flatnonzero(np.isneginf(logp[np.arange(n), codes]))[0])
            raise IdentificationError(
                f"unit {bad}: the observed category of {variable!r} has probability 0 under its mechanism; "
                "the data contradicts the model"
            )
        # Top-down Gumbel posterior: the max is Gumbel(logsumexp), the argmax gets it, others are
        # Gumbels truncated below it.
        lse = np.logaddexp.reduce(logp, axis=1)
        top = lse + rng.gumbel(size=n)
        g = logp + rng.gumbel(size=(n, self.k))
        trunc = -np.logaddexp(-top[:, None], -g)
        trunc[np.arange(n), codes] = top
        with np.errstate(invalid="ignore"):
            eps = trunc - logp  # standard Gumbel noise; -inf - -inf where p = 0 → nan, never chosen
        # A category with probability 0 says nothing about its Gumbel: its posterior is the prior.
        impossible = np.isneginf(logp)
        if impossible.any():
            eps = np.where(impossible, rng.gumbel(size=(n, self.k)), eps)
        return Noise(eps, value=value, parents=self._anchor_parents(env))

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        with np.errstate(divide="ignore"):  # the log before broadcasting: once when p is the same for all
            scores = np.broadcast_to(np.log(self._probs(env, n)), (n, self.k)) + noise.eps
        out = np.argmax(scores, axis=1).astype(np.int64)
        return self._keep_factual(env, noise, out)

    def expectation(self, env: Env, noise: Noise, n: int, variable: str) -> Array:
        raise DataError(
            f"effects on categorical {variable!r} are not defined as one number; use a binary or continuous "
            "target (or an indicator variable such as (Y == 'high'))"
        )

    def mean(self, env: Env, n: int, variable: str) -> Array:
        return self.expectation(env, Noise(None), n, variable)


class EmpiricalMechanism(Mechanism):
    """A root node drawn from the values seen in data (the empirical distribution)."""

    def __init__(self, values: Array, vtype: VarType) -> None:
        self.values = np.asarray(values)
        self.vtype = vtype
        self.description = f"empirical ({len(self.values)} values)"

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(self.values[rng.integers(0, len(self.values), n)])

    def sample(self, env: Env, n: int, rng: np.random.Generator) -> Array:
        return self.values[rng.integers(0, len(self.values), n)]

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        return Noise(value, value=value)

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        return np.asarray(noise.eps)


class MeasurementMechanism(Mechanism):
    """A noise-free, unit-slope measurement ``M = L + δ(other parents)`` of a latent ``L``.

    ``offsets[q]`` is, for a categorical parent, one offset per category code (unseen codes get 0, the
    reference scale) and, for a numeric parent, a slope. Inverting it recovers ``L = M - δ``.
    """

    def __init__(
        self,
        latent: str,
        parents: tuple[str, ...],
        offsets: Mapping[str, Array | float],
        categories: Mapping[str, tuple[object, ...]],
    ) -> None:
        self.latent = latent
        self.parents = parents
        self.offsets = {q: offsets[q] for q in parents if q != latent}
        self.categories = {q: tuple(categories.get(q, ())) for q in self.offsets}
        self.vtype = "continuous"
        self.description = f"measurement: {self.equation()}"

    def equation(self) -> str:
        """The measurement as an equation of the spec language (offsets rounded to 3 decimals)."""
        terms = [self.latent]
        for q, off in self.offsets.items():
            if isinstance(off, np.ndarray):
                for cat, d in zip(self.categories[q], off, strict=False):
                    if round(float(d), 3) != 0.0:
                        sign = "-" if d < 0 else "+"
                        terms.append(f"{sign} {abs(float(d)):.3f}*({q} == {cat!r})")
            elif round(float(off), 3) != 0.0:
                terms.append(f"{'-' if off < 0 else '+'} {abs(float(off)):.3f}*{q}")
        return " ".join(terms)

    def delta(self, env: Env, n: int) -> Array:
        """δ(other parents) per unit."""
        out = np.zeros(n)
        for q, off in self.offsets.items():
            col = np.broadcast_to(np.asarray(env[q]), (n,))
            if isinstance(off, np.ndarray):
                codes = col.astype(np.intp, copy=False)
                ok = (codes >= 0) & (codes < len(off))
                out += np.where(ok, off[np.clip(codes, 0, len(off) - 1)], 0.0)
            else:
                out += float(off) * col
        return out

    def affine_in(self) -> frozenset[str]:
        return frozenset({self.latent})

    def accepts_scalars(self) -> bool:
        return True

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(None)

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        return Noise(None, value=value, parents=self._anchor_parents(env))

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        out = _broadcast(env[self.latent], n) + self.delta(env, n)
        return self._keep_factual(env, noise, out)

    def mean(self, env: Env, n: int, variable: str) -> Array:
        return _broadcast(env[self.latent], n) + self.delta(env, n)


class _EqPart:
    """A picklable callable evaluating one part of a compiled equation on parent columns."""

    def __init__(self, eq: CompiledEquation, part: Literal["p", "expr", "h", "rate"]) -> None:
        self.eq = eq
        self.part = part

    def __call__(self, env: Env) -> Array | float:
        if self.part == "p":
            expr = self.eq.p
        elif self.part == "rate":
            expr = self.eq.rate
        elif self.part == "expr":
            expr = self.eq.expr
        else:
            expr = self.eq.additive.h if self.eq.additive is not None else None
        assert expr is not None
        return expr.evaluate(env, {})


class _EqProbs:
    """Category probabilities (n, K) of a ``categorical([...])`` equation, normalised per unit."""

    def __init__(self, eq: CompiledEquation) -> None:
        self.eq = eq

    def __call__(self, env: Env, n: int) -> Array:
        variable = self.eq.variable
        cols = [e.evaluate(env, {}) for e in self.eq.probs]
        if all(isinstance(c, float) for c in cols):
            mat = np.asarray(cols, dtype=np.float64)[None, :]
        else:
            mat = np.column_stack([_broadcast(c, n) for c in cols])
        if self.eq.logits:
            mat = np.exp(mat - mat.max(axis=1, keepdims=True))
        elif np.any(mat < 0):
            raise DataError(f"a category probability of {variable!r} is negative")
        total = mat.sum(axis=1, keepdims=True)
        if np.any(total <= 0):
            raise DataError(f"the category probabilities of {variable!r} sum to 0 for some units")
        return mat / total


class _EqNoise:
    """Total additive noise ``sum_j c_j * (loc_j + scale_j * eps_j)`` of a homoscedastic equation."""

    def __init__(self, eq: CompiledEquation) -> None:
        self.eq = eq

    def terms(self) -> list[tuple[float, NoiseTerm, float, float]]:
        assert self.eq.additive is not None
        return [
            (float(c.value), t, float(t.loc.value), float(t.scale.value))  # type: ignore[attr-defined]
            for c, t in self.eq.additive.terms
        ]

    def mean(self) -> float:
        return sum(c * (loc + scale * t.eps_mean) for c, t, loc, scale in self.terms())

    def __call__(self, n: int, rng: np.random.Generator) -> Array:
        # Every array here is this call's own draw: scaled, shifted and summed in place (the same products
        # and sums as (c * scale) * eps + c * loc, term after term).
        total: Array | None = None
        for c, t, loc, scale in self.terms():
            part = t.draw(n, rng)
            if c * scale != 1.0:
                np.multiply(part, c * scale, out=part)
            if c * loc != 0.0:
                np.add(part, c * loc, out=part)
            total = part if total is None else np.add(total, part, out=total)
        assert total is not None
        return total


class PoissonMechanism(Mechanism):
    """``node = F⁻¹(U; rate(parents))`` with ``U ~ Uniform(0, 1)`` and F the Poisson CDF.

    The mechanism of a Poisson indicator of a latent factor and of a spec equation ``poisson(rate)``.
    Abduction draws U uniformly on [F(y - 1), F(y)), the interval consistent with the observed count y
    (the inverse-CDF coupling, as for Bernoulli nodes; an assumption, not learnable from data). A rate
    that is negative, infinite or NaN for some unit is a DataError naming the variable.
    """

    def __init__(
        self, parents: tuple[str, ...], rate: Callable[[Env], Array | float], variable: str, description: str
    ) -> None:
        self.parents = parents
        self.rate = rate
        self.variable = variable
        self.vtype = "continuous"
        self.description = description

    def _rate(self, env: Env, n: int) -> Array:
        rate = np.broadcast_to(np.asarray(self.rate(env), dtype=np.float64), (n,))
        ok = np.isfinite(rate) & (rate >= 0.0)
        if not ok.all():
            bad = np.flatnonzero(~ok)
            raise DataError(
                f"the rate of {self.variable!r} is {float(rate[bad[0]])} for unit {bad[0]} ({len(bad)} of "
                f"{n} units negative, infinite or NaN); poisson(rate) needs a finite rate >= 0 (write a "
                "log-linear rate as exp(...))"
            )
        return rate

    def sample(self, env: Env, n: int, rng: np.random.Generator) -> Array:
        return rng.poisson(self._rate(env, n)).astype(np.float64)

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(rng.random(n))

    def abduct(self, value: Array, env: Env, rng: np.random.Generator, variable: str) -> Noise:
        from scipy.stats import poisson

        rate = self._rate(env, value.shape[0])
        lo = poisson.cdf(value - 1.0, rate)
        hi = poisson.cdf(value, rate)
        eps = lo + rng.random(value.shape[0]) * (hi - lo)
        return Noise(eps, value=value, parents=self._anchor_parents(env))

    def evaluate(self, env: Env, noise: Noise, n: int) -> Array:
        from scipy.stats import poisson

        rate = self._rate(env, n)
        out = np.asarray(poisson.ppf(np.clip(noise.eps, 0.0, 1.0 - 1e-16), rate), dtype=np.float64)
        return self._keep_factual(env, noise, out)

    def mean(self, env: Env, n: int, variable: str) -> Array:
        return self._rate(env, n).copy()


def from_equation(
    eq: CompiledEquation, vtype: VarType, categories: tuple[object, ...], variable: str
) -> Mechanism:
    """The mechanism of a compiled spec equation (picklable: it keeps the equation, not closures)."""
    if eq.kind == "bernoulli":
        return BernoulliMechanism(eq.parents, _EqPart(eq, "p"), variable, f"bernoulli: {eq.text}")
    if eq.kind == "poisson":
        return PoissonMechanism(eq.parents, _EqPart(eq, "rate"), variable, f"poisson: {eq.text}")
    if eq.kind == "categorical":
        return CategoricalMechanism(
            eq.parents, _EqProbs(eq), len(categories), variable, f"categorical: {eq.text}"
        )
    if eq.kind == "deterministic":
        return DeterministicMechanism(eq.parents, _EqPart(eq, "expr"), vtype, variable, categories, eq)
    form = eq.additive
    if form is not None and form.constant:
        noise = _EqNoise(eq)
        return AdditiveNoiseMechanism(
            eq.parents, _EqPart(eq, "h"), noise, f"additive noise: {eq.text}", noise_mean=noise.mean()
        )
    return NoiseEquationMechanism(eq)


def _degree(expr: Expr, name: str) -> int | None:
    """Polynomial degree of ``expr`` in ``name`` when it is at most linear, else None."""
    if isinstance(expr, Name):
        return 1 if expr.name == name else 0
    if isinstance(expr, NoiseTerm):
        return None
    if name not in expr.names:
        return 0
    if isinstance(expr, Op):
        degs = [_degree(a, name) for a in expr.args]
        if any(d is None for d in degs):
            return None
        ds = [d for d in degs if d is not None]
        if expr.fn in (np.add, np.subtract):
            return max(ds)
        if expr.fn is np.negative:
            return ds[0]
        if expr.fn is np.multiply:
            return sum(ds) if sum(ds) <= 1 else None
        if expr.fn is np.divide:
            return ds[0] if ds[1] == 0 else None
    return None
