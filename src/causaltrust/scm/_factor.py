"""Latent factors with several noisy indicators (``K: {observed: false, indicators: [X1, X2, X3]}``).

The measurement model of one latent factor K is

    K  = a' D(pa(K)) + σ_K ε_K,                       ε_K ~ N(0, 1)
    Xj ~ family_j(b_j + λ_j K + c_j' D(other parents of Xj)),   j = 1..J,

with the family set by the indicator's type: continuous → Gaussian (identity link, sd σ_j), binary →
Bernoulli (logit link), count → Poisson (log link). λ_1 = +1 fixes K's scale and sign; K has no intercept
(the indicators' intercepts carry the location). The global parameters are fitted with Pyro by stochastic
variational inference (a mean-field Gaussian posterior per unit, ``TraceMeanField_ELBO``, Adam). Since K is
one number per unit, its posterior under the fitted parameters is a one-dimensional integral; abduction
evaluates it by quadrature on a per-unit grid around the posterior mode (found by Newton's method; the log
posterior is concave for all three families), so new units need no new optimisation and draws are exact up
to the grid. The SVI posterior of the training units is kept as a diagnostic, and :func:`nuts_reference`
runs NUTS on a subsample as the reference.

Pyro and torch are imported inside the functions that need them (extra ``causaltrust[factor]``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, gammaln

from causaltrust._random import purpose_rng
from causaltrust.exceptions import DataError, IdentificationError, SpecError
from causaltrust.scm._data import VariableMeta
from causaltrust.scm._mechanisms import (
    AdditiveNoiseMechanism,
    BernoulliMechanism,
    Mechanism,
    PoissonMechanism,
)
from causaltrust.spec import TrustSpec

__all__ = [
    "FactorFit",
    "FactorMechanism",
    "FactorModel",
    "factor_latents",
    "fit_factor",
    "latent_posterior",
    "nuts_reference",
]

Array = np.ndarray
Env = Mapping[str, Array]
FAMILIES = {"continuous": "gaussian", "binary": "bernoulli", "count": "poisson"}
# Quadrature grid of each unit's posterior: this many points over the mode ± _HALF_WIDTH Laplace sds. The
# log posterior is concave, so its curvature is at least the prior's 1/σ_K² everywhere and the mass beyond
# 10 Laplace sds is negligible. 121 points put 6 per sd: the trapezoid rule on a smooth bell-shaped integrand
# converges faster than any power of the spacing (its error for a Gaussian is ~exp(-2π²·36)).
_GRID = 121
_HALF_WIDTH = 10.0
_NEWTON_STEPS = 30
# Units per quadrature block: bounds memory at _GRID x _BLOCK floats per array (~26 MB).
_BLOCK = 16_384
_SVI_STEPS = 500
_SVI_LR = 0.1
_TRACE_EVERY = 25
# Rows the posterior predictive check replicates (a seeded subsample above it).
_PPC_ROWS = 5_000


def _install_hint() -> str:
    return "pip install 'causaltrust[factor]'  (Pyro, on the installed torch)"


def _import_pyro() -> tuple[Any, Any]:
    """``(pyro, torch)`` as untyped modules, with pyro.distributions, infer, optim and ops.stats loaded."""
    import importlib

    try:
        pyro: Any = importlib.import_module("pyro")
        for sub in ("distributions", "infer", "optim", "ops.stats"):
            importlib.import_module(f"pyro.{sub}")
        torch: Any = importlib.import_module("torch")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"fitting a latent factor with indicators needs Pyro: {_install_hint()}") from exc
    return pyro, torch


# -- parent encoding ----------------------------------------------------------------------------------
class _Encoder:
    """Parents → design columns: numbers as they are, categorical ones one-hot without their first level."""

    def __init__(self, names: tuple[str, ...], levels: tuple[int, ...], labels: tuple[str, ...]) -> None:
        self.names = names
        self.levels = levels
        self.labels = labels

    @classmethod
    def build(cls, names: Sequence[str], meta: Mapping[str, VariableMeta]) -> _Encoder:
        levels: list[int] = []
        labels: list[str] = []
        for p in names:
            m = meta[p]
            if m.vtype == "categorical":
                levels.append(len(m.categories))
                labels.extend(f"({p} == {c!r})" for c in m.categories[1:])
            else:
                levels.append(0)
                labels.append(p)
        return cls(tuple(names), tuple(levels), tuple(labels))

    @property
    def width(self) -> int:
        return len(self.labels)

    def __call__(self, env: Env, n: int) -> Array:
        out = np.zeros((n, self.width))
        j = 0
        for p, k in zip(self.names, self.levels, strict=True):
            col = np.broadcast_to(np.asarray(env[p]), (n,))
            if not k:
                out[:, j] = col
                j += 1
                continue
            codes = col.astype(np.intp)
            for code in range(1, k):
                out[:, j] = codes == code
                j += 1
        return out


class _Indicator:
    """One indicator's link: ``b + λ K + c' D(others)`` and its family."""

    def __init__(
        self,
        name: str,
        family: str,
        encoder: _Encoder,
        intercept: float,
        loading: float,
        coef: Array,
        sd: float | None,
        fixed: bool,
    ) -> None:
        self.name = name
        self.family = family
        self.encoder = encoder
        self.intercept = float(intercept)
        self.loading = float(loading)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.sd = sd
        self.fixed = fixed

    def offset(self, env: Env, n: int) -> Array:
        """``b + c' D(others)``: the linear predictor at K = 0."""
        base = np.full(n, self.intercept)
        if self.encoder.width:
            base = base + self.encoder(env, n) @ self.coef
        return base

    def equation(self, latent: str) -> str:
        lin = f"{self.intercept:.3f} {'-' if self.loading < 0 else '+'} {abs(self.loading):.3f}*{latent}"
        for c, label in zip(self.coef, self.encoder.labels, strict=True):
            lin += f" {'-' if c < 0 else '+'} {abs(float(c)):.3f}*{label}"
        if self.family == "gaussian":
            return f"{lin} + normal(0, {self.sd:.3f})"
        if self.family == "bernoulli":
            return f"bernoulli(sigmoid({lin}))"
        return f"poisson(exp({lin}))"


class FactorModel:
    """The fitted measurement model of one latent factor: K's own mechanism and its indicators' links.

    Parameters are on K's scale (first loading +1). :meth:`posterior` gives each unit's posterior mean and
    sd of K given the indicators present in the columns; :meth:`draws` samples it.
    """

    def __init__(
        self, latent: str, encoder: _Encoder, coef: Array, scale: float, indicators: Sequence[_Indicator]
    ) -> None:
        self.latent = latent
        self.encoder = encoder
        self.coef = np.asarray(coef, dtype=np.float64)
        self.scale = float(scale)
        self.indicators = tuple(indicators)

    def prior_mean(self, env: Env, n: int) -> Array:
        if not self.encoder.width:
            return np.zeros(n)
        out: Array = self.encoder(env, n) @ self.coef
        return out

    def equation(self) -> str:
        lin = " + ".join(f"{c:.3f}*{label}" for c, label in zip(self.coef, self.encoder.labels, strict=True))
        return f"{lin or '0'} + normal(0, {self.scale:.3f})"

    def _present(self, cols: Env, n: int) -> list[tuple[_Indicator, Array, Array]]:
        missing = [p for p in self.encoder.names if p not in cols]
        if missing:
            raise IdentificationError(
                f"the posterior of the latent factor {self.latent!r} needs its parents {missing} in the data"
            )
        out = []
        for ind in self.indicators:
            if ind.name in cols and all(p in cols for p in ind.encoder.names):
                x = np.asarray(cols[ind.name], dtype=np.float64)
                out.append((ind, x, ind.offset(cols, n)))
        return out

    def _mode(self, mu: Array, present: list[tuple[_Indicator, Array, Array]]) -> tuple[Array, Array]:
        """Posterior mode and Laplace sd per unit (Newton's method on the concave log posterior)."""
        prec0 = 1.0 / self.scale**2
        k = mu.copy()
        hess = np.full(mu.shape, prec0)
        for _ in range(_NEWTON_STEPS):
            grad = -(k - mu) * prec0
            hess = np.full(mu.shape, prec0)
            for ind, x, off in present:
                lam = ind.loading
                eta = off + lam * k
                if ind.family == "gaussian":
                    assert ind.sd is not None
                    grad += lam * (x - eta) / ind.sd**2
                    hess += lam**2 / ind.sd**2
                elif ind.family == "bernoulli":
                    p = expit(eta)
                    grad += lam * (x - p)
                    hess += lam**2 * p * (1.0 - p)
                else:
                    rate = np.exp(np.minimum(eta, 50.0))
                    grad += lam * (x - rate)
                    hess += lam**2 * rate
            step = grad / hess
            # Damped: a Poisson indicator's curvature grows like exp(λK); cap a step at 3 prior sds.
            k = k + np.clip(step, -3.0 * self.scale, 3.0 * self.scale)
            if np.max(np.abs(step)) < 1e-10 * self.scale:
                break
        return k, 1.0 / np.sqrt(hess)

    def _log_lik(self, grid: Array, present: list[tuple[_Indicator, Array, Array]]) -> Array:
        out = np.zeros(grid.shape)
        for ind, x, off in present:
            eta = off[:, None] + ind.loading * grid
            xc = x[:, None]
            if ind.family == "gaussian":
                assert ind.sd is not None
                out -= 0.5 * ((xc - eta) / ind.sd) ** 2
            elif ind.family == "bernoulli":
                out += xc * eta - np.logaddexp(0.0, eta)
            else:
                out += xc * eta - np.exp(np.minimum(eta, 50.0)) - gammaln(xc + 1.0)
        return out

    def _grid(self, cols: Env, n: int, rows: slice) -> tuple[Array, Array]:
        """Grid points (n_block, G) and normalised cell weights (trapezoid) of the block's posteriors."""
        sub = {k: np.asarray(v)[rows] for k, v in cols.items()}
        m = len(next(iter(sub.values()))) if sub else n
        mu = self.prior_mean(sub, m)
        present = self._present(sub, m)
        mode, sd = self._mode(mu, present)
        t = np.linspace(-_HALF_WIDTH, _HALF_WIDTH, _GRID)
        grid = mode[:, None] + sd[:, None] * t
        logp = -0.5 * ((grid - mu[:, None]) / self.scale) ** 2 + self._log_lik(grid, present)
        w = np.exp(logp - logp.max(axis=1, keepdims=True))
        w[:, [0, -1]] *= 0.5  # trapezoid rule (equal spacing within a unit)
        w /= w.sum(axis=1, keepdims=True)
        return grid, w

    def posterior(self, cols: Env, n: int) -> tuple[Array, Array]:
        """Posterior mean and sd of K per row (given the indicators present in ``cols``)."""
        mean = np.empty(n)
        sd = np.empty(n)
        for start in range(0, n, _BLOCK):
            rows = slice(start, min(start + _BLOCK, n))
            grid, w = self._grid(cols, n, rows)
            m = (w * grid).sum(axis=1)
            mean[rows] = m
            sd[rows] = np.sqrt(np.maximum((w * (grid - m[:, None]) ** 2).sum(axis=1), 0.0))
        return mean, sd

    def draws(self, cols: Env, n: int, rng: np.random.Generator, size: int | None = None) -> Array:
        """Posterior draws of K per row: one per row (``size`` None), else ``(size, n)`` independent ones.

        Rows repeated per unit get independent draws.
        """
        k = 1 if size is None else size
        out = np.empty((k, n))
        for start in range(0, n, _BLOCK):
            rows = slice(start, min(start + _BLOCK, n))
            grid, w = self._grid(cols, n, rows)
            cdf = np.cumsum(w, axis=1)
            step = grid[:, 1] - grid[:, 0]
            m = grid.shape[0]
            for d in range(k):
                u = rng.random(m) * cdf[:, -1]
                idx = np.minimum((cdf < u[:, None]).sum(axis=1), _GRID - 1)
                # Uniform within the cell around the chosen point: a continuous draw, not a grid value.
                jitter = (rng.random(m) - 0.5) * step
                out[d, rows] = grid[np.arange(m), idx] + jitter
        return out[0] if size is None else out


# -- mechanisms -----------------------------------------------------------------------------------------
class _GaussianDraw:
    def __init__(self, sd: float) -> None:
        self.sd = float(sd)

    def __call__(self, n: int, rng: np.random.Generator) -> Array:
        return rng.normal(0.0, self.sd, n)


class _LatentMean:
    """``h(env)`` of K: its prior mean given its parents."""

    def __init__(self, model: FactorModel) -> None:
        self.model = model

    def __call__(self, env: Env) -> Array | float:
        if not self.model.encoder.width:
            return 0.0
        n = max(np.asarray(env[p]).size for p in self.model.encoder.names)
        return self.model.prior_mean(env, n)


class _Link:
    """The linear predictor of an indicator, ``b + λ K + c' D(others)``, optionally through a link."""

    def __init__(self, latent: str, ind: _Indicator, link: str) -> None:
        self.latent = latent
        self.ind = ind
        self.link = link

    def eta(self, env: Env) -> Array:
        k = np.asarray(env[self.latent], dtype=np.float64)
        n = k.size
        return self.ind.offset(env, n) + self.ind.loading * k

    def __call__(self, env: Env) -> Array:
        eta = self.eta(env)
        if self.link == "logit":
            out: Array = expit(eta)
            return out
        if self.link == "log":
            return np.asarray(np.exp(np.minimum(eta, 50.0)))
        return eta


class FactorMechanism(AdditiveNoiseMechanism):
    """K's own mechanism ``K = a' D(pa(K)) + N(0, σ_K²)``; its :attr:`model` gives the per-unit posterior.

    :meth:`SCM.recover_latents` calls :meth:`posterior_draws` when K is not in the data: each row gets an
    independent draw from the unit's posterior given its indicators (so ``n_draws`` copies of a unit carry
    ``n_draws`` posterior draws).
    """

    def __init__(self, model: FactorModel) -> None:
        super().__init__(
            model.encoder.names,
            _LatentMean(model),
            _GaussianDraw(model.scale),
            f"latent factor with indicators {[i.name for i in model.indicators]}",
        )
        self.model = model
        # SVI's mean-field q(K) of the training rows (mean, sd): a diagnostic, not used for abduction.
        self.svi_posterior: tuple[Array, Array] | None = None

    def posterior_draws(self, cols: Env, n: int, rng: np.random.Generator) -> Array:
        return self.model.draws(cols, n, rng)


def _indicator_mechanism(spec: TrustSpec, latent: str, ind: _Indicator) -> Mechanism:
    parents = spec.parents(ind.name)
    desc = f"indicator of {latent} ({ind.family})"
    if ind.family == "gaussian":
        assert ind.sd is not None
        return AdditiveNoiseMechanism(parents, _Link(latent, ind, "identity"), _GaussianDraw(ind.sd), desc)
    if ind.family == "bernoulli":
        return BernoulliMechanism(parents, _Link(latent, ind, "logit"), ind.name, desc)
    return PoissonMechanism(parents, _Link(latent, ind, "log"), ind.name, desc)


# -- identification -------------------------------------------------------------------------------------
def factor_latents(
    spec: TrustSpec, assumed: set[str] | frozenset[str] = frozenset()
) -> dict[str, tuple[str, ...]]:
    """``{latent: indicators}`` of the spec's latent factors; IdentificationError where one is not identified.

    A factor is identified (up to the scale and sign the first indicator fixes) with at least 3 indicators,
    or 2 when the second's loading is fixed (``loadings: {X2: value}``). The other parents of each
    indicator and the parents of K must be observed, and an indicator's other parents must be neither
    parents nor descendants of K (their effect on the indicator would be confounded with K's).
    """
    from causaltrust import _dag

    out: dict[str, tuple[str, ...]] = {}
    parents = spec.graph_parents
    for lat in spec.latent:
        inds = spec.indicators(lat)
        if not inds:
            continue
        var = spec.variables[lat]
        pinned = sorted({lat, *inds} & set(assumed))
        if pinned:
            raise SpecError(
                f"SCM.fit assume: {pinned} belong to the latent factor {lat!r}, whose measurement model is "
                "learned as a whole; drop them from assume"
            )
        fixed = [x for x in inds[1:] if x in var.loadings]
        if len(inds) < 3 and not (len(inds) == 2 and fixed):
            need = (
                f"a third indicator, or a fixed loading for {inds[1]!r} ('loadings: {{{inds[1]}: 1.0}}')"
                if len(inds) == 2
                else "at least two more indicators"
            )
            raise IdentificationError(
                f"SCM.fit: the latent factor {lat!r} has {len(inds)} indicator(s) {list(inds)}; its loadings "
                f"and noise scales are not identified from their covariances. Add {need}"
            )
        hidden = [p for p in parents[lat] if not spec.variables[p].observed]
        if hidden:
            raise IdentificationError(
                f"SCM.fit: the latent factor {lat!r} has latent parents {hidden}; its parents must be "
                "observed"
            )
        desc = _dag.descendants(parents, [lat])
        for x in inds:
            for q in parents[x]:
                if q == lat:
                    continue
                if not spec.variables[q].observed:
                    raise IdentificationError(
                        f"SCM.fit: the indicator {x!r} of {lat!r} has another latent parent {q!r}; the other "
                        "parents of an indicator must be observed"
                    )
                if q in parents[lat] or q in desc:
                    rel = "a parent" if q in parents[lat] else "a descendant"
                    raise IdentificationError(
                        f"SCM.fit: {q!r} is a parent of the indicator {x!r} and also {rel} of the latent "
                        f"factor {lat!r}, so its effect on {x!r} cannot be told apart from its effect "
                        f"through {lat!r}. Make {q!r} a parent of {lat!r} or of the indicators, not both"
                    )
        out[lat] = inds
    return out


# -- fitting -------------------------------------------------------------------------------------------
class FactorFit:
    """What :func:`fit_factor` returns: mechanisms, provenance entries and the training posterior mean."""

    def __init__(
        self,
        mechanisms: dict[str, Mechanism],
        nodes: dict[str, dict[str, Any]],
        posterior_mean: Array,
        assumptions: list[str],
        diagnostics: dict[str, Any],
    ) -> None:
        self.mechanisms = mechanisms
        self.nodes = nodes
        self.posterior_mean = posterior_mean
        self.assumptions = assumptions
        self.diagnostics = diagnostics


def _ols(X: Array, y: Array) -> Array:
    A = np.column_stack([np.ones(len(y)), X])
    coef: Array = np.linalg.lstsq(A, y, rcond=None)[0]
    return coef


def _working_scale(x: Array, family: str) -> Array:
    """An indicator on (roughly) its link's scale, for starting values."""
    if family == "bernoulli":
        p = float(np.clip(x.mean(), 0.02, 0.98))
        return (x - p) / (p * (1.0 - p)) + np.log(p / (1.0 - p))
    if family == "poisson":
        return np.log(x + 0.5)
    return x


def _start(
    lat: str, model_k: _Encoder, inds: list[tuple[str, str, _Encoder, bool, float]], cols: Env, n: int
) -> tuple[FactorModel, Array]:
    """Starting values: K ≈ first principal component of the indicators' residuals, scaled to λ_1 = 1."""
    work = []
    for name, family, enc, _, _ in inds:
        z = _working_scale(np.asarray(cols[name], dtype=np.float64), family)
        D = enc(cols, n)
        if D.shape[1]:
            z = z - np.column_stack([np.ones(n), D]) @ _ols(D, z)
        work.append(z - z.mean())
    W = np.column_stack(work)
    sd = W.std(axis=0)
    sd[sd == 0] = 1.0
    _, _, vt = np.linalg.svd(W / sd, full_matrices=False)
    proxy = (W / sd) @ vt[0]
    first = np.asarray(W[:, 0])
    slope = float(proxy @ first / max(proxy @ proxy, 1e-12))
    k0 = proxy * (slope if slope != 0 else 1.0)  # first indicator's working-scale loading is 1
    Dk = model_k(cols, n)
    a = np.linalg.lstsq(Dk, k0, rcond=None)[0] if Dk.shape[1] else np.zeros(0)
    resid = k0 - (Dk @ a if Dk.shape[1] else 0.0)
    scale = float(max(np.std(resid), 1e-3))
    built = []
    for name, family, enc, fixed, lam_fixed in inds:
        z_raw = _working_scale(np.asarray(cols[name], dtype=np.float64), family)
        D = enc(cols, n)
        coef = _ols(np.column_stack([k0, D]), z_raw)
        lam = lam_fixed if fixed else float(coef[1])
        res = z_raw - coef[0] - lam * k0 - (D @ coef[2:] if D.shape[1] else 0.0)
        sd_j = float(max(np.std(res), 1e-3)) if family == "gaussian" else None
        built.append(_Indicator(name, family, enc, float(coef[0]), lam, coef[2:], sd_j, fixed))
    return FactorModel(lat, model_k, a, scale, built), k0


def _svi(
    model0: FactorModel, cols: Env, n: int, k_init: Array, seed: int, steps: int
) -> tuple[FactorModel, dict[str, Any], Array, Array]:
    """Fit the global parameters with Pyro SVI; returns the model, diagnostics and q's means and sds."""
    pyro, torch = _import_pyro()
    dist = pyro.distributions
    SVI, TraceMeanField_ELBO = pyro.infer.SVI, pyro.infer.TraceMeanField_ELBO
    ClippedAdam = pyro.optim.ClippedAdam

    dt = torch.float64
    Dk = torch.as_tensor(model0.encoder(cols, n), dtype=dt)
    data = []
    for ind in model0.indicators:
        data.append(
            (
                ind,
                torch.as_tensor(np.array(cols[ind.name], dtype=np.float64), dtype=dt),
                torch.as_tensor(ind.encoder(cols, n), dtype=dt),
            )
        )
    positive = torch.distributions.constraints.positive

    def model() -> None:
        a = pyro.param("k_coef", torch.as_tensor(model0.coef, dtype=dt))
        sk = pyro.param("k_scale", torch.tensor(model0.scale, dtype=dt), constraint=positive)
        mu = Dk @ a if Dk.shape[1] else torch.zeros(n, dtype=dt)
        with pyro.plate("units", n):
            k = pyro.sample("K", dist.Normal(mu, sk))
            for j, (ind, x, D) in enumerate(data):
                b = pyro.param(f"b{j}", torch.tensor(ind.intercept, dtype=dt))
                lam = (
                    torch.tensor(ind.loading, dtype=dt)
                    if ind.fixed
                    else pyro.param(f"lam{j}", torch.tensor(ind.loading, dtype=dt))
                )
                eta = b + lam * k
                if D.shape[1]:
                    c = pyro.param(f"c{j}", torch.as_tensor(ind.coef, dtype=dt))
                    eta = eta + D @ c
                if ind.family == "gaussian":
                    sd = pyro.param(f"sd{j}", torch.tensor(ind.sd, dtype=dt), constraint=positive)
                    pyro.sample(f"x{j}", dist.Normal(eta, sd), obs=x)
                elif ind.family == "bernoulli":
                    pyro.sample(f"x{j}", dist.Bernoulli(logits=eta), obs=x)
                else:
                    pyro.sample(f"x{j}", dist.Poisson(torch.exp(eta.clamp(max=50.0))), obs=x)

    q_sd0 = np.full(n, 0.5 * model0.scale)

    def guide() -> None:
        loc = pyro.param("q_loc", torch.as_tensor(k_init, dtype=dt))
        scale = pyro.param("q_scale", torch.as_tensor(q_sd0, dtype=dt), constraint=positive)
        with pyro.plate("units", n):
            pyro.sample("K", dist.Normal(loc, scale))

    pyro.clear_param_store()
    pyro.set_rng_seed(seed)
    # Learning rate decays 100-fold over the run (lrd per step), so the last steps average out the
    # one-particle gradient noise instead of jittering around the optimum.
    optim = ClippedAdam({"lr": _SVI_LR, "lrd": 0.01 ** (1.0 / steps), "clip_norm": 10.0})
    svi = SVI(model, guide, optim, loss=TraceMeanField_ELBO())
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as every other fit (scm._fit): threads only oversubscribe a shared machine
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            trace = _run_svi(svi, steps, n)
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - start
    store = pyro.get_param_store()

    def value(name: str) -> Array:
        return np.asarray(store[name].detach().numpy(), dtype=np.float64)

    built = []
    for j, ind in enumerate(model0.indicators):
        built.append(
            _Indicator(
                ind.name,
                ind.family,
                ind.encoder,
                float(value(f"b{j}")),
                ind.loading if ind.fixed else float(value(f"lam{j}")),
                value(f"c{j}") if ind.encoder.width else np.zeros(0),
                float(value(f"sd{j}")) if ind.family == "gaussian" else None,
                ind.fixed,
            )
        )
    fitted = FactorModel(model0.latent, model0.encoder, value("k_coef"), float(value("k_scale")), built)
    q_loc, q_scale = value("q_loc"), value("q_scale")
    pyro.clear_param_store()
    tail = trace[-max(2, len(trace) // 10) :]
    diag = {
        "method": "SVI (Pyro TraceMeanField_ELBO, mean-field Gaussian q(K) per unit, ClippedAdam)",
        "steps": steps,
        "seconds": round(seconds, 3),
        "elbo_trace": [round(-t, 5) for t in trace],  # ELBO per unit every _TRACE_EVERY steps
        "elbo_trace_every": _TRACE_EVERY,
        "elbo_final": round(-trace[-1], 5),
        # Spread of the per-unit ELBO over the last tenth of the run: one-particle noise once converged.
        "elbo_tail_range": round(float(max(tail) - min(tail)), 5),
    }
    return fitted, diag, q_loc, q_scale


def _run_svi(svi: Any, steps: int, n: int) -> list[float]:
    trace: list[float] = []
    for step in range(steps):
        loss = svi.step()
        if step % _TRACE_EVERY == 0 or step == steps - 1:
            trace.append(float(loss) / n)
    return trace


def _ppc(model: FactorModel, cols: Env, n: int, seed: int, reps: int = 20) -> dict[str, Any]:
    """Posterior predictive check per indicator: replicate each indicator given posterior draws of K."""
    rng = purpose_rng(seed, "factor-ppc")
    if n > _PPC_ROWS:  # a seeded subsample: the statistics' replicate spread is still small at this size
        keep = np.sort(rng.choice(n, _PPC_ROWS, replace=False))
        cols = {k: np.asarray(v)[keep] for k, v in cols.items()}
        n = _PPC_ROWS
    out: dict[str, Any] = {}
    for ind in model.indicators:
        x = np.asarray(cols[ind.name], dtype=np.float64)
        # K drawn from its posterior given the OTHER indicators: replicating x from a K that already saw x
        # would pass by construction.
        others = {k: v for k, v in cols.items() if k != ind.name}
        stats: dict[str, list[float]] = {"mean": [], "sd": []}
        if ind.family == "poisson":
            stats["share_zero"] = []
        off = ind.offset(cols, n)
        ks = model.draws(others, n, rng, size=reps)
        for k in ks:
            eta = off + ind.loading * k
            if ind.family == "gaussian":
                assert ind.sd is not None
                rep = eta + rng.normal(0.0, ind.sd, n)
            elif ind.family == "bernoulli":
                rep = (rng.random(n) < expit(eta)).astype(np.float64)
            else:
                rep = rng.poisson(np.exp(np.minimum(eta, 50.0))).astype(np.float64)
            stats["mean"].append(float(rep.mean()))
            stats["sd"].append(float(rep.std()))
            if "share_zero" in stats:
                stats["share_zero"].append(float((rep == 0).mean()))
        observed = {"mean": float(x.mean()), "sd": float(x.std())}
        if ind.family == "poisson":
            observed["share_zero"] = float((x == 0).mean())
        entry = {}
        for s, reps_s in stats.items():
            r = np.asarray(reps_s)
            p = float(min(1.0, 2.0 * min((r >= observed[s]).mean(), (r <= observed[s]).mean())))
            entry[s] = {
                "observed": round(observed[s], 5),
                "replicated": round(float(r.mean()), 5),
                "replicated_sd": round(float(r.std()), 5),
                "p_value": round(p, 3),
            }
        out[ind.name] = {"family": ind.family, "replicates": reps, "rows": n, **entry}
    return out


def fit_factor(
    spec: TrustSpec,
    latent: str,
    cols: Env,
    meta: Mapping[str, VariableMeta],
    seed: int,
    *,
    steps: int = _SVI_STEPS,
) -> FactorFit:
    """Fit the measurement model of ``latent`` (what :meth:`SCM.fit` calls for a latent with indicators).

    Returns K's :class:`FactorMechanism`, each indicator's mechanism, their provenance entries (method,
    ELBO trace, posterior predictive check) and K's posterior mean per training row (the column that K's
    other children are fitted on).
    """
    n = len(np.asarray(cols[spec.indicators(latent)[0]]))
    var = spec.variables[latent]
    enc_k = _Encoder.build(spec.parents(latent), meta)
    inds = []
    for x in spec.indicators(latent):
        xtype = spec.variables[x].type
        family = FAMILIES[xtype]
        others = tuple(p for p in spec.parents(x) if p != latent)
        fixed = x == spec.indicators(latent)[0] or x in var.loadings
        inds.append((x, family, _Encoder.build(others, meta), fixed, float(var.loadings.get(x, 1.0))))
    for x, _, _, _, _ in inds:
        col = np.asarray(cols[x], dtype=np.float64)
        if np.unique(col).size < 2:
            raise IdentificationError(
                f"SCM.fit: the indicator {x!r} of {latent!r} is constant in the data, so it says nothing "
                f"about {latent!r}; drop it from 'indicators:' or add rows"
            )
    model0, _ = _start(latent, enc_k, inds, cols, n)
    # Refine the start: the exact posterior mean under the starting values is a better q(K) location.
    k_init, _ = model0.posterior(cols, n)
    model, diag, q_loc, q_scale = _svi(model0, cols, n, k_init, seed, steps)
    mean, sd = model.posterior(cols, n)
    diag["svi_vs_quadrature"] = {
        "max_abs_mean_diff_in_sd": round(float(np.max(np.abs(q_loc - mean) / sd)), 4),
        "mean_sd_ratio": round(float(np.mean(q_scale / sd)), 4),
    }
    diag["ppc"] = _ppc(model, cols, n, seed)
    k_mech = FactorMechanism(model)
    k_mech.svi_posterior = (q_loc, q_scale)
    mechs: dict[str, Mechanism] = {latent: k_mech}
    nodes: dict[str, dict[str, Any]] = {
        latent: {
            "status": "learned",
            "model": "latent factor (SVI)",
            "cv_metric": None,
            "cv_score": None,
            "equation": model.equation(),
            "inference": diag,
        }
    }
    for ind in model.indicators:
        mechs[ind.name] = _indicator_mechanism(spec, latent, ind)
        nodes[ind.name] = {
            "status": "learned",
            "model": f"indicator of {latent} ({ind.family}, SVI)",
            "cv_metric": None,
            "cv_score": None,
            "equation": ind.equation(latent),
            "assumption": f"indicator of {latent} with a {ind.family} family, linear in {latent} on the "
            "link scale" + (" (loading fixed)" if ind.fixed else ""),
            "ppc": diag["ppc"][ind.name],
        }
    assumptions = [
        f"{latent} is a latent factor: normal given its parents, with indicators "
        f"{[i.name for i in model.indicators]} independent given {latent} and their other parents; "
        f"{model.indicators[0].name}'s loading is +1 (scale and sign of {latent})",
        f"children of {latent} other than its indicators are fitted on its posterior mean given the "
        "indicators (regression calibration)",
    ]
    return FactorFit(mechs, nodes, mean, assumptions, diag)


# -- public views ---------------------------------------------------------------------------------------
def _factor_mechanism(scm: Any, latent: str | None) -> tuple[str, FactorMechanism]:
    found = [v for v in scm.latent if isinstance(scm.mechanisms[v], FactorMechanism)]
    if latent is None:
        if len(found) != 1:
            raise SpecError(
                f"latent_posterior: the SCM has {len(found)} fitted latent factors {found}; name one with "
                "latent=..."
            )
        latent = found[0]
    if latent not in found:
        raise SpecError(
            f"latent_posterior: {latent!r} is not a fitted latent factor of this SCM (fitted factors: "
            f"{found}); fit the SCM from a spec with 'indicators:' on it"
        )
    mech = scm.mechanisms[latent]
    assert isinstance(mech, FactorMechanism)
    return latent, mech


def latent_posterior(
    scm: Any,
    data: pd.DataFrame,
    latent: str | None = None,
    *,
    n_draws: int = 0,
    random_state: int | None = None,
) -> pd.DataFrame:
    """Per-unit posterior of a fitted latent factor given each unit's indicators and parents.

    Parameters
    ----------
    scm : SCM
        Fitted by :meth:`SCM.fit` from a spec with ``indicators:`` on the latent.
    data : DataFrame
        The units; indicators absent from the columns are integrated out (the posterior then rests on the
        others), the latent's parents and the present indicators' other parents are required.
    latent : str, optional
        Which factor (default: the only one).
    n_draws : int, default 0
        Posterior draws to add as columns ``draw_0, draw_1, ...``.
    random_state : int, optional
        Seed of the draws.

    Returns
    -------
    DataFrame
        ``mean`` and ``sd`` (and the draws), indexed like ``data``.
    """
    latent, mech = _factor_mechanism(scm, latent)
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 0:
        raise DataError(f"latent_posterior: n_draws must be a non-negative integer, got {n_draws!r}")
    cols = scm.columns(data)
    n = len(data)
    mean, sd = mech.model.posterior(cols, n)
    out = pd.DataFrame({"mean": mean, "sd": sd}, index=data.index)
    if n_draws:
        rng = purpose_rng(0 if random_state is None else int(random_state), f"latent-posterior:{latent}")
        for d in range(int(n_draws)):
            out[f"draw_{d}"] = mech.model.draws(cols, n, rng)
    return out


def nuts_reference(
    scm: Any,
    data: pd.DataFrame,
    latent: str | None = None,
    *,
    num_samples: int = 500,
    warmup_steps: int = 300,
    num_chains: int = 2,
    random_state: int = 0,
    jit_compile: bool = True,
) -> pd.DataFrame:
    """NUTS (Pyro) draws of K per unit under the fitted parameters: the reference for the posterior.

    One NUTS run samples every unit's K jointly (the units are independent given the parameters, so the
    adapted diagonal mass matrix makes the joint target close to isotropic). Chains run one after another
    (no multiprocessing). ``jit_compile`` traces the potential's gradient once with the PyTorch JIT (about
    10x faster per leapfrog step than Pyro's per-step tracing). ``attrs``: ``r_hat_max`` (the largest split
    Gelman-Rubin R-hat over the units, Pyro's ``split_gelman_rubin``), ``ess_min`` (the smallest effective
    sample size over the units, all chains), ``seconds`` and ``method``. Returns ``mean`` and ``sd`` per unit.
    """
    pyro, torch = _import_pyro()
    dist = pyro.distributions
    MCMC, NUTS = pyro.infer.MCMC, pyro.infer.NUTS
    split_gelman_rubin = pyro.ops.stats.split_gelman_rubin
    effective_sample_size = pyro.ops.stats.effective_sample_size

    latent, mech = _factor_mechanism(scm, latent)
    model = mech.model
    cols = scm.columns(data)
    n = len(data)
    dt = torch.float64
    mu = torch.as_tensor(model.prior_mean(cols, n), dtype=dt)
    present = model._present(cols, n)
    terms = [(ind, torch.tensor(x, dtype=dt), torch.tensor(off, dtype=dt)) for ind, x, off in present]

    def nuts_model() -> None:
        with pyro.plate("units", n):
            k = pyro.sample("K", dist.Normal(mu, model.scale))
            for j, (ind, x, off) in enumerate(terms):
                eta = off + ind.loading * k
                if ind.family == "gaussian":
                    pyro.sample(f"x{j}", dist.Normal(eta, ind.sd), obs=x)
                elif ind.family == "bernoulli":
                    pyro.sample(f"x{j}", dist.Bernoulli(logits=eta), obs=x)
                else:
                    pyro.sample(f"x{j}", dist.Poisson(torch.exp(eta.clamp(max=50.0))), obs=x)

    chains = []
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the SVI fit: threads only oversubscribe a shared machine
    try:
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            # Pyro's jit_compile calls torch.jit.trace, which torch 2.13 marks deprecated; not the caller's.
            warnings.filterwarnings("ignore", "`torch.jit.trace` is deprecated", DeprecationWarning)
            for c in range(num_chains):
                torch.manual_seed(random_state * 1000 + c)
                pyro.set_rng_seed(random_state * 1000 + c)
                kernel = NUTS(nuts_model, jit_compile=bool(jit_compile), ignore_jit_warnings=True)
                mcmc = MCMC(kernel, num_samples=num_samples, warmup_steps=warmup_steps, disable_progbar=True)
                mcmc.run()
                chains.append(mcmc.get_samples()["K"])
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - start
    draws = torch.stack(chains)  # chains x samples x units
    r_hat = split_gelman_rubin(draws, chain_dim=0, sample_dim=1)
    flat = draws.reshape(-1, n).numpy()
    out = pd.DataFrame({"mean": flat.mean(axis=0), "sd": flat.std(axis=0)}, index=data.index)
    out.attrs["r_hat_max"] = float(torch.max(r_hat))
    out.attrs["ess_min"] = float(torch.min(effective_sample_size(draws, chain_dim=0, sample_dim=1)))
    out.attrs["seconds"] = seconds
    out.attrs["method"] = (
        f"NUTS (Pyro{', JIT' if jit_compile else ''}), {num_chains} chain(s) x {num_samples} draws after "
        f"{warmup_steps} warmup steps"
    )
    return out
