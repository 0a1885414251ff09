"""A linear-Gaussian SCM fitted under differential privacy from noisy sufficient statistics (issue 33).

Every learned node gets one Gaussian mechanism on the sufficient statistic of its regression: with
z = [1, design of its parents, the node] and every entry bounded by a *public* constant (continuous columns
rescaled to [-1, 1] by the caller's ``bounds`` and clipped, binary 0/1, a categorical parent one-hot without
its first level), adding or removing one row changes S = Σ z zᵀ by z zᵀ, whose Frobenius norm is
||z||² <= Δ = 2 + (number of parents). Gaussian noise of standard deviation σΔ on the upper triangle of S
(mirrored) is then the Gaussian mechanism with noise multiplier σ, whose Rényi DP is α / (2σ²) at every order
α (Mironov 2017). A categorical root is a histogram (Δ = 1). Everything else is post-processing of the noisy
statistics: the regression coefficients, the noise variance, a measurement's offsets, the recovered latent.

* continuous node: least squares from the noisy S (eigenvalues of its design block floored at the noise's
  spectral scale 2σΔ√d, so the solve is stable), Gaussian noise of the residual variance the statistics give;
* binary node with parents: PASS-GLM of degree 2 (Huggins, Adams & Broderick 2017): log(1 + e^s) ≈ log 2 +
  s/2 + s²/8 around s = 0 makes the logistic log-likelihood a quadratic in the same S, maximised by
  β = 4 (Σ x xᵀ)⁻¹ (Σ x y − Σ x / 2); it shrinks strong effects towards 0 (said in the provenance);
* binary root: the noisy share of ones; categorical root: the noisy histogram (floored, renormalised);
* a latent L measured by M (``measures: L``, noise-free, unit slope, δ(first category) = 0 as ``SCM.fit``):
  one regression of M on L's parents and M's other parents gives L's mechanism and δ; L's children then read
  L̂ = M - δ̂ (post-processing), with public bounds widened by δ̂'s range.

Not supported (a SpecError says so): a categorical node with parents, latent factors with indicators, and
categorical variables without declared categories (learning the categories from the rows would leak them).
"""

from __future__ import annotations

import math
import os
import secrets
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from causaltrust.exceptions import DataError, SpecError
from causaltrust.scm._data import VariableMeta, frame_to_columns
from causaltrust.scm._mechanisms import (
    AdditiveNoiseMechanism,
    BernoulliMechanism,
    CategoricalMechanism,
    MeasurementMechanism,
    Mechanism,
)
from causaltrust.scm._model import SCM
from causaltrust.spec import TrustSpec

__all__ = ["DPLinearFit", "composed_epsilon", "gaussian_rdp", "rdp_alphas", "rdp_epsilon"]

Array = np.ndarray
Env = Mapping[str, Array]
_FLOOR = 1e-3  # smallest probability a noisy share or histogram bin keeps (then renormalised)
_VAR_FLOOR = 1e-4  # smallest residual variance, in the node's [-1, 1] units


def rdp_alphas() -> list[float]:
    """Opacus's RDP orders (``DEFAULT_ALPHAS``, up to 63) and larger ones up to 4096.

    Small ε needs large orders: at α ≤ 63 no RDP curve converts to less than about log(1/δ) / 62 (0.19 at
    δ = 1e-5), so an SCM at ε = 0.1 would be unreachable.
    """
    from opacus.accountants import RDPAccountant

    return [float(a) for a in RDPAccountant.DEFAULT_ALPHAS] + [2.0**k for k in range(7, 13)]


def gaussian_rdp(noise_multiplier: float, sample_rate: float, steps: int, alphas: Sequence[float]) -> Array:
    """Rényi DP of ``steps`` (subsampled) Gaussian mechanisms at each order (Opacus's ``compute_rdp``).

    With ``sample_rate=1`` and ``steps=1`` it is α / (2σ²), the full-batch Gaussian mechanism.
    """
    from opacus.accountants.analysis.rdp import compute_rdp

    return np.asarray(
        compute_rdp(q=sample_rate, noise_multiplier=noise_multiplier, steps=steps, orders=list(alphas)),
        dtype=np.float64,
    )


def rdp_epsilon(rdp: Array, alphas: Sequence[float], delta: float) -> float:
    """(ε, δ)-DP of a composed RDP curve: Opacus's conversion (Balle et al. 2020), the best order."""
    from opacus.accountants.analysis.rdp import get_privacy_spent

    eps, _ = get_privacy_spent(orders=list(alphas), rdp=list(rdp), delta=delta)
    return float(eps)


class DPLinearFit:
    """How to fit a linear-Gaussian SCM under (ε, δ)-DP: pass it as a learner's ``scm=``.

    The learner then fits the SCM on its training rows with :meth:`fit_private`, and its
    ``privacy_epsilon_parts_`` gives the SCM part this ε; with a DP-SGD estimator the whole pipeline's ε is
    one RDP composition of every mechanism (the SCM's Gaussian releases and DP-SGD's steps).

    Parameters
    ----------
    epsilon : float, default=1.0
        ε of the SCM's releases together (RDP-composed, at ``delta``); the noise is calibrated to it.
    delta : float, default=1e-5
    bounds : mapping of str to (float, float)
        Public bounds of every continuous observed variable (values outside are clipped). They must not be
        read off the training rows: a bound learned from the data is itself a release.
    dp_noise_seed : int, optional
        For tests only: seeds the noise (a warning says the guarantee then assumes a secret seed). Default:
        64 bits from the OS's cryptographic generator per fit, or ``CAUSALTRUST_DP_NOISE_SEED``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, true = ct.scenarios.load("readmission")
    >>> recipe = DPLinearFit(epsilon=4.0, bounds={"F": (-4, 4), "X": (-6, 8)}, dp_noise_seed=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     scm = recipe.fit_private(spec, true.sample(5000, random_state=0), random_state=0)
    >>> scm.provenance["source"], round(scm.provenance["dp"]["epsilon"], 6) <= 4.0
    ('dp_fit', True)
    """

    def __init__(
        self,
        epsilon: float = 1.0,
        delta: float = 1e-5,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        dp_noise_seed: int | None = None,
    ) -> None:
        self.epsilon = epsilon
        self.delta = delta
        self.bounds = bounds
        self.dp_noise_seed = dp_noise_seed

    def __repr__(self) -> str:
        return f"DPLinearFit(epsilon={self.epsilon!r}, delta={self.delta!r}, bounds={self.bounds!r})"

    # -- the releases -----------------------------------------------------------------------------------
    def releases(self, spec: TrustSpec) -> dict[str, float]:
        """Each Gaussian release (a node, or a latent with its measurement) and its L2 sensitivity Δ."""
        self._check(spec)
        out: dict[str, float] = {}
        for v in spec.order:
            var = spec.variables[v]
            if var.measures is not None:
                continue  # released with its latent
            parents = spec.parents(v)
            if not var.observed:
                m = spec.measurement(v)
                assert m is not None
                others = [q for q in spec.parents(m) if q != v]
                out[v] = 2.0 + len(parents) + len(others)
            elif var.type == "categorical":
                out[v] = 1.0  # a histogram: one row moves one count by 1
            else:
                out[v] = 2.0 + len(parents)
        return out

    def noise_multiplier(self, spec: TrustSpec) -> float:
        """σ such that the SCM's releases, RDP-composed, reach ``epsilon`` at ``delta`` (bisection)."""
        k, alphas = len(self.releases(spec)), rdp_alphas()
        eps = float(self.epsilon)

        def spent(sigma: float) -> float:
            return rdp_epsilon(k * np.asarray(alphas) / (2.0 * sigma**2), alphas, float(self.delta))

        lo, hi = 1e-3, 1.0
        while spent(hi) > eps:
            hi *= 2.0
            if hi > 1e6:
                raise DataError(f"DPLinearFit: no noise level reaches epsilon={eps}; raise epsilon")
        for _ in range(60):
            mid = math.sqrt(lo * hi)
            lo, hi = (mid, hi) if spent(mid) > eps else (lo, mid)
        return hi

    def _check(self, spec: TrustSpec) -> None:
        if not (isinstance(self.epsilon, (int, float)) and 0 < self.epsilon < math.inf):
            raise DataError(f"DPLinearFit: epsilon must be a positive finite number, got {self.epsilon!r}")
        if not (isinstance(self.delta, (int, float)) and 0 < self.delta < 1):
            raise DataError(f"DPLinearFit: delta must lie in (0, 1), got {self.delta!r}")
        bounds = dict(self.bounds or {})
        for v in spec.order:
            var = spec.variables[v]
            where = f"DPLinearFit: variable {v!r}"
            if var.indicators:
                raise SpecError(
                    f"{where} is a latent factor with indicators; fit it with SCM.fit on other data"
                )
            if not var.observed and spec.measurement(v) is None:
                raise SpecError(f"{where} is latent without a 'measures:' child; a DP fit cannot recover it")
            if var.type == "categorical" and spec.parents(v):
                raise SpecError(
                    f"{where} is categorical with parents {list(spec.parents(v))}; DPLinearFit fits "
                    "categorical variables only as roots (a noisy histogram); pass an SCM fitted elsewhere"
                )
            if var.type == "categorical" and not var.categories:
                raise SpecError(
                    f"{where} declares no categories; learning them from the rows would release them. "
                    "Declare 'categories:' in the spec"
                )
            if var.type not in ("continuous", "binary", "categorical"):
                raise SpecError(
                    f"{where} has type {var.type!r}; DPLinearFit fits continuous, binary, categorical"
                )
            if var.observed and var.type == "continuous":
                b = bounds.get(v)
                if b is None or not (
                    len(b) == 2 and math.isfinite(b[0]) and math.isfinite(b[1]) and b[0] < b[1]
                ):
                    raise DataError(
                        f"{where}: bounds= needs public finite (low, high) with low < high for every "
                        f"continuous observed variable; got {b!r}. From domain knowledge, not the rows"
                    )

    # -- the fit ----------------------------------------------------------------------------------------
    def fit_private(self, spec: TrustSpec, data: pd.DataFrame, *, random_state: int | None = None) -> SCM:
        """The SCM fitted on ``data`` under (``epsilon``, ``delta``)-DP; accounting in ``provenance["dp"]``.

        ``random_state`` is not used for the noise (secret, see ``dp_noise_seed``); the fitted SCM's own
        sampling is seeded by the caller as usual.
        """
        sigma = self.noise_multiplier(spec)
        releases = self.releases(spec)
        rng = np.random.default_rng(_noise_seed(self.dp_noise_seed))
        meta = {
            n: VariableMeta(n, v.type, tuple(v.categories or ()), v.observed)
            for n, v in spec.variables.items()
        }
        cols = {
            k: np.asarray(c)
            for k, c in frame_to_columns(data, meta, spec.observed, context="DPLinearFit data").items()
        }
        scales = {v: _Scale(*self.bounds[v]) for v in (self.bounds or {}) if v in spec.variables}  # type: ignore[index]
        mechs: dict[str, Mechanism] = {}
        nodes: dict[str, dict[str, Any]] = {}
        for v in spec.order:
            var = spec.variables[v]
            if var.measures is not None:
                continue
            delta_v = releases[v]
            parents = spec.parents(v)
            if var.type == "categorical":
                k = len(var.categories or ())
                counts = np.bincount(cols[v].astype(np.intp), minlength=k)[:k].astype(float)
                noisy = counts + rng.normal(0.0, sigma * delta_v, k)
                p = np.maximum(noisy / max(noisy.sum(), 1.0), _FLOOR)
                mechs[v] = CategoricalMechanism((), _ConstProbs(p / p.sum()), k, v, "DP histogram")
                nodes[v] = _node(
                    "DP histogram (Gaussian mechanism)", f"categorical({np.round(p / p.sum(), 3).tolist()})"
                )
                continue
            if not var.observed:
                m = spec.measurement(v)
                assert m is not None
                others = tuple(q for q in spec.parents(m) if q != v)
                design = _DesignSpec.build(parents + others, meta, scales)
                S = _noisy_stat(design(cols), scales[m].forward(cols[m]), sigma * delta_v, rng)
                beta, var_res = _least_squares(S, sigma * delta_v)
                n_l = 1 + design.width_of(parents)
                out_scale = scales[m]
                coef_l, intercept_l = beta[1:n_l], beta[0] + design.constant_of(others, beta[n_l:])
                h = _Affine(_DesignSpec.build(parents, meta, scales), coef_l, intercept_l, out_scale)
                sd = math.sqrt(var_res) / out_scale.slope
                mechs[v] = AdditiveNoiseMechanism(parents, h, _Gaussian(sd), "DP linear-Gaussian (latent)")
                offsets = design.offsets(others, beta[n_l:], out=out_scale)
                cats = {q: tuple(meta[q].categories) for q in others}
                meas = MeasurementMechanism(v, spec.parents(m), offsets, cats)
                mechs[m] = meas
                cols[v] = np.asarray(cols[m], dtype=float) - meas.delta(cols, len(cols[m]))
                lo, hi = self.bounds[m]  # type: ignore[index]
                shift = [0.0, *(float(x) for q in others for x in _offset_range(offsets[q], scales.get(q)))]
                scales[v] = _Scale(lo - max(shift), hi - min(shift))
                text = h.design.terms(coef_l, intercept_l, out_scale.slope, out_scale.shift)
                nodes[v] = _node(
                    "DP linear-Gaussian from noisy sufficient statistics", f"{text} + normal(0, {sd:.3g})"
                )
                nodes[m] = _node("DP measurement offsets (same release as its latent)", meas.equation())
                continue
            design = _DesignSpec.build(parents, meta, scales)
            if var.type == "continuous":
                S = _noisy_stat(design(cols), scales[v].forward(cols[v]), sigma * delta_v, rng)
                beta, var_res = _least_squares(S, sigma * delta_v)
                sd = math.sqrt(var_res) / scales[v].slope
                h = _Affine(design, beta[1:], beta[0], scales[v])
                mechs[v] = AdditiveNoiseMechanism(parents, h, _Gaussian(sd), "DP linear-Gaussian")
                text = design.terms(beta[1:], beta[0], scales[v].slope, scales[v].shift)
                nodes[v] = _node(
                    "DP linear-Gaussian from noisy sufficient statistics", f"{text} + normal(0, {sd:.3g})"
                )
            else:
                y = np.asarray(cols[v], dtype=float)
                S = _noisy_stat(design(cols), y, sigma * delta_v, rng)
                if not parents:
                    n_hat = max(S[0, 0], 1.0)
                    p1 = float(np.clip(S[0, 1] / n_hat, _FLOOR, 1 - _FLOOR))
                    mechs[v] = BernoulliMechanism((), _Const(p1), v, "DP share")
                    nodes[v] = _node("DP share of ones (Gaussian mechanism)", f"bernoulli({p1:.3f})")
                    continue
                beta = _pass_glm(S, sigma * delta_v)
                mechs[v] = BernoulliMechanism(
                    parents, _Logistic(design, beta[1:], beta[0]), v, "DP logistic (PASS-GLM)"
                )
                text = f"bernoulli(sigmoid({design.terms(beta[1:], beta[0])}))"
                nodes[v] = _node("DP logistic by PASS-GLM degree 2 from noisy sufficient statistics", text)
        alphas = rdp_alphas()
        rdp = len(releases) * np.asarray(alphas) / (2.0 * sigma**2)
        eps = rdp_epsilon(rdp, alphas, float(self.delta))
        provenance = {
            "source": "dp_fit",
            "n_rows": len(data),
            "random_state": random_state,
            "mode": "dp_linear",
            "nodes": {v: nodes[v] for v in spec.variables},
            "mechanisms": {v: nodes[v]["model"] for v in spec.variables},
            "assumptions": [
                f"{spec.measurement(v)} measures {v} (noise-free, unit slope)"
                for v in spec.variables
                if not spec.variables[v].observed
            ]
            + [f"public bounds (values clipped for the sufficient statistics): {dict(self.bounds or {})}"],
            "dp": {
                "epsilon": eps,
                "delta": float(self.delta),
                "noise_multiplier": sigma,
                "releases": releases,
                "history": [(sigma, 1.0, 1)] * len(releases),
                "mechanism": "Gaussian mechanism on clipped sufficient statistics, one per release (RDP)",
            },
        }
        return SCM(spec, mechs, provenance=provenance)


# -- noise, statistics, solves ---------------------------------------------------------------------------
def _noise_seed(seed: int | None) -> int:
    env = os.environ.get("CAUSALTRUST_DP_NOISE_SEED")
    if seed is None and env is not None:
        seed = int(env)
    if seed is None:
        return secrets.randbits(64)
    warnings.warn(
        "DPLinearFit: the DP noise is seeded (dp_noise_seed / CAUSALTRUST_DP_NOISE_SEED); the SCM's privacy "
        "guarantee then holds only if that seed is secret. Leave both unset outside tests.",
        UserWarning,
        stacklevel=3,
    )
    return int(seed)


def _noisy_stat(X: Array, y: Array, scale: float, rng: np.random.Generator) -> Array:
    X = X if X.shape[1] else np.empty((len(y), 0))
    Z = np.column_stack([np.ones(len(y)), X, np.clip(y, -1.0, 1.0)])
    S = Z.T @ Z
    noise = np.triu(rng.normal(0.0, scale, S.shape))
    return S + noise + np.triu(noise, 1).T


def _floored(A: Array, scale: float) -> Array:
    # The noise's symmetric Gaussian matrix has spectral norm about 2 scale sqrt(d): eigenvalues below it
    # are noise, and flooring them there keeps the solve from amplifying it (post-processing).
    w, V = np.linalg.eigh((A + A.T) / 2.0)
    w = np.maximum(w, 2.0 * scale * math.sqrt(len(A)))
    out: Array = (V * w) @ V.T
    return out


def _least_squares(S: Array, scale: float) -> tuple[Array, float]:
    A, b, c = _floored(S[:-1, :-1], scale), S[:-1, -1], S[-1, -1]
    beta = np.linalg.solve(A, b)
    n_hat = max(S[0, 0], 1.0)
    var = (c - 2.0 * beta @ b + beta @ A @ beta) / n_hat
    return beta, max(float(var), _VAR_FLOOR)


def _pass_glm(S: Array, scale: float) -> Array:
    A, b = _floored(S[:-1, :-1], scale), S[:-1, -1]
    out: Array = 4.0 * np.linalg.solve(A, b - S[:-1, 0] / 2.0)
    return out


def _node(model: str, equation: str) -> dict[str, Any]:
    return {"status": "learned", "model": model, "cv_metric": None, "cv_score": None, "equation": equation}


def _offset_range(off: Array | float, scale: _Scale | None) -> tuple[float, float]:
    if isinstance(off, np.ndarray):
        return float(off.min()), float(off.max())
    assert scale is not None
    ends = (float(off) * scale.low, float(off) * scale.high)
    return min(ends), max(ends)


# -- picklable pieces of the fitted mechanisms -------------------------------------------------------------
class _Scale:
    """x' = slope * x + shift maps the public [low, high] onto [-1, 1]."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = float(low), float(high)
        self.slope = 2.0 / (self.high - self.low)
        self.shift = -(self.low + self.high) / (self.high - self.low)

    def forward(self, x: Array) -> Array:
        out: Array = self.slope * np.asarray(x, dtype=float) + self.shift
        return out


class _DesignSpec:
    """Parents → columns in [-1, 1]: continuous rescaled, binary 0/1, categorical one-hot from level 1."""

    def __init__(
        self, parents: tuple[str, ...], levels: tuple[int, ...], scales: tuple[_Scale | None, ...]
    ) -> None:
        self.parents, self.levels, self.scales = parents, levels, scales

    @classmethod
    def build(
        cls, parents: tuple[str, ...], meta: Mapping[str, VariableMeta], scales: Mapping[str, _Scale]
    ) -> _DesignSpec:
        levels = tuple(len(meta[p].categories) if meta[p].vtype == "categorical" else 0 for p in parents)
        return cls(
            parents,
            levels,
            tuple(scales.get(p) if not k else None for p, k in zip(parents, levels, strict=True)),
        )

    def terms(self, coef: Array, intercept: float, out_slope: float = 1.0, out_shift: float = 0.0) -> str:
        """The linear predictor in the parents' own units, as text (3 decimals)."""
        const, parts, j = intercept - out_shift, [], 0
        for p, k, s in zip(self.parents, self.levels, self.scales, strict=True):
            if k:
                parts += [f"{coef[j + i - 1] / out_slope:+.3f}*({p} == {i})" for i in range(1, k)]
                j += k - 1
            else:
                slope = s.slope if s is not None else 1.0
                const += float(coef[j]) * (s.shift if s is not None else 0.0)
                parts.append(f"{coef[j] * slope / out_slope:+.3f}*{p}")
                j += 1
        return " ".join([f"{const / out_slope:.3f}", *parts])

    def width_of(self, parents: Sequence[str]) -> int:
        return sum(k - 1 if k else 1 for p, k in zip(self.parents, self.levels, strict=True) if p in parents)

    def __call__(self, env: Env) -> Array:
        n = max((np.asarray(env[p]).shape[0] for p in self.parents if np.ndim(env[p])), default=1)
        out: list[Array] = []
        for p, k, s in zip(self.parents, self.levels, self.scales, strict=True):
            col = np.broadcast_to(np.asarray(env[p], dtype=float), (n,))
            if k:
                out.extend((col == j).astype(float) for j in range(1, k))
            else:
                out.append(np.clip(s.forward(col), -1.0, 1.0) if s is not None else col)
        return np.column_stack(out) if out else np.empty((n, 0))

    def constant_of(self, others: Sequence[str], coef: Array) -> float:
        """The part of the measurement's offsets that the rescaling of numeric parents makes constant."""
        total, j = 0.0, 0
        for p, k, s in zip(self.parents, self.levels, self.scales, strict=True):
            if p not in others:
                continue
            if k:
                j += k - 1
            else:
                total += float(coef[j]) * (s.shift if s is not None else 0.0)
                j += 1
        return total

    def offsets(self, others: Sequence[str], coef: Array, *, out: _Scale) -> dict[str, Array | float]:
        """δ of each other parent of the measurement, in the measurement's own units (first category 0)."""
        res: dict[str, Array | float] = {}
        j = 0
        for p, k, s in zip(self.parents, self.levels, self.scales, strict=True):
            if p not in others:
                continue
            if k:
                res[p] = np.r_[0.0, coef[j : j + k - 1]] / out.slope
                j += k - 1
            else:
                res[p] = float(coef[j]) * (s.slope if s is not None else 1.0) / out.slope
                j += 1
        return res


class _Affine:
    """h(env) = (design(env) @ coef + intercept - shift) / slope: a linear mean in the node's own units."""

    def __init__(self, design: _DesignSpec, coef: Array, intercept: float, out: _Scale) -> None:
        self.design, self.coef, self.intercept, self.out = (
            design,
            np.asarray(coef, float),
            float(intercept),
            out,
        )

    def __call__(self, env: Env) -> Array | float:
        if not self.design.parents:
            return (self.intercept - self.out.shift) / self.out.slope
        z: Array = self.design(env) @ self.coef + self.intercept
        return (z - self.out.shift) / self.out.slope


class _Logistic:
    """p(env) = sigmoid(design(env) @ coef + intercept)."""

    def __init__(self, design: _DesignSpec, coef: Array, intercept: float) -> None:
        self.design, self.coef, self.intercept = design, np.asarray(coef, float), float(intercept)

    def __call__(self, env: Env) -> Array:
        out: Array = expit(self.design(env) @ self.coef + self.intercept)
        return out


class _Gaussian:
    def __init__(self, sd: float) -> None:
        self.sd = float(sd)

    def __call__(self, n: int, rng: np.random.Generator) -> Array:
        return rng.normal(0.0, self.sd, n)


class _Const:
    def __init__(self, value: float) -> None:
        self.value = float(value)

    def __call__(self, env: Env) -> float:
        return self.value


class _ConstProbs:
    def __init__(self, p: Array) -> None:
        self.p = np.asarray(p, dtype=float)

    def __call__(self, env: Env, n: int) -> Array:
        return self.p[None, :]


def composed_epsilon(estimator: Any, scm: SCM) -> float | None:
    """ε of a DP SCM's releases and a DP-SGD estimator's steps in one RDP accountant (None if not both).

    The history is the estimator's ``(noise_multiplier_, sample_rate_, n_steps_)`` and one full-batch
    Gaussian release ``(σ, 1, 1)`` per node of the SCM (``provenance["dp"]["history"]``); their RDP curves add
    at every order, and ε is read at the estimator's δ. None when the SCM was not fitted under DP, or the
    estimator has no RDP accountant (then the parts' ε add up, a valid but looser bound).

    Parameters
    ----------
    estimator : fitted estimator
        A DP-SGD estimator (``DPLogisticRegression`` / ``DPMLPClassifier``) with the RDP accountant.
    scm : SCM
        Fitted by :meth:`DPLinearFit.fit_private`.

    Returns
    -------
    float or None

    Examples
    --------
    >>> import causaltrust as ct
    >>> composed_epsilon(object(), ct.scenarios.load("readmission")[1]) is None  # not a DP SCM
    True
    """
    dp = scm.provenance.get("dp")
    sigma = getattr(estimator, "noise_multiplier_", None)
    if dp is None or sigma is None or getattr(estimator, "accountant", "rdp") != "rdp":
        return None
    alphas = rdp_alphas()
    history = [(float(sigma), float(estimator.sample_rate_), int(estimator.n_steps_)), *dp["history"]]
    rdp = sum((gaussian_rdp(s, q, k, alphas) for s, q, k in history), np.zeros(len(alphas)))
    return rdp_epsilon(rdp, alphas, float(estimator.target_delta))
