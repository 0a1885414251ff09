"""Differentially private classifiers (DP-SGD with Opacus), their non-private twins, and input noise.

* :class:`DPLogisticRegression` and :class:`DPMLPClassifier` train with DP-SGD: per-example gradients
  clipped to ``max_grad_norm``, Gaussian noise calibrated by Opacus to ``(target_epsilon, target_delta)``,
  batches drawn by **Poisson sampling** (each row independently with probability ``q``), the sampling that
  Opacus's accountants assume. They expose the accountant's ``privacy_epsilon_`` and ``privacy_delta_``, so
  a causaltrust audit (and :class:`~causaltrust.learners.SelectiveInvarianceClassifier`, which forwards its
  final estimator's value) reports ``privacy.epsilon``.
* :class:`TorchLogisticRegression` and :class:`TorchMLPClassifier` are the same models and the same batching
  without clipping, noise or accountant: the non-private reference.
* :class:`InputNoiseClassifier` is the uniform input-noise baseline (a data-release style obfuscation, not a
  differential-privacy guarantee) and :func:`gaussian_obfuscation` its reusable noise helper.

Why the DP loop does not use ``PrivacyEngine.make_private``: Opacus's standard path (a ``DPDataLoader`` and
a ``GradSampleModule`` whose hooks record per-example gradients) spends more time in the data loader and in
the hooks than in the training step itself. Here batches are indexed straight from tensors, with the
Poisson sample drawn as geometric gaps between included rows (exactly Bernoulli(``q``) inclusion per row,
at a cost proportional to the batch rather than to the data), and the per-example gradients of the dense
layers are computed in closed form (the formula Opacus's ``GradSampleModule`` uses for ``nn.Linear``).
Everything that the guarantee rests on stays Opacus's: the noise multiplier comes from
``opacus.accountants.utils.get_noise_multiplier``, the clipping, noising and averaging are Opacus's
``DPOptimizer`` (``expected_batch_size = q * n``, as ``make_private`` sets it), and every step is recorded by
the accountant through the optimizer's step hook, exactly as ``PrivacyEngine.make_private`` wires it.
"""

from __future__ import annotations

import functools
import math
import os
import secrets
import warnings
from dataclasses import KW_ONLY, dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from causaltrust.exceptions import DataError
from causaltrust.learners._base import (
    ESTIMATOR_CONSTRAINT,
    SEED_CONSTRAINT,
    BaseEstimator,
    BinaryClassifierMixin,
    ClassifierMixin,
    Design,
    SaveMixin,
    SpecEstimator,
    derive_seed,
    fit_context,
    sigmoid,
)
from causaltrust.learners._torch import (
    LAYER_WIDTHS,
    import_torch,
    init_layers,
    mlp_forward,
    to_numpy_layers,
    torch_threads,
    train_loop,
    widths,
)

if TYPE_CHECKING:  # pragma: no cover - typing only; torch is an optional extra
    import torch

__all__ = [
    "DPLogisticRegression",
    "DPMLPClassifier",
    "InputNoiseClassifier",
    "TorchLogisticRegression",
    "TorchMLPClassifier",
    "gaussian_obfuscation",
]

Array = np.ndarray
_INSTALL = "pip install 'causaltrust[privacy]'"
#: Environment variable read when ``dp_noise_seed`` is None: a test-only seed of the DP noise.
DP_NOISE_SEED_ENV = "CAUSALTRUST_DP_NOISE_SEED"
_ACCOUNTANTS = ("rdp", "prv")


def _import_opacus() -> tuple[Any, Any]:
    try:
        from opacus.accountants import create_accountant
        from opacus.accountants.utils import get_noise_multiplier
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"the DP-SGD classifiers of causaltrust.learners need Opacus: {_INSTALL}") from exc
    return create_accountant, get_noise_multiplier


@functools.lru_cache(maxsize=256)
def _noise_multiplier(epsilon: float, delta: float, q: float, steps: int, accountant: str) -> float:
    """Opacus's calibrated noise multiplier; a pure function, cached because the bisection costs up to a
    second and refits with the same settings (shadow models of an audit, grid searches) repeat it."""
    _, get_noise_multiplier = _import_opacus()
    with warnings.catch_warnings():
        # The bisection probes noise levels far from the answer, where RDP's best order sits at the edge
        # of Opacus's alpha grid; that warning says nothing about the final calibration.
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        return float(
            get_noise_multiplier(
                target_epsilon=epsilon,
                target_delta=delta,
                sample_rate=q,
                steps=steps,
                accountant=accountant,
            )
        )


def _poisson_indices(n: int, q: float, gen: torch.Generator) -> torch.Tensor:
    """Row indices of a Poisson sample: each of ``n`` rows is included independently with probability q.

    The gaps between consecutive included rows are i.i.d. Geometric(q), so drawing gaps until they pass
    ``n`` gives exactly the Bernoulli(q) mask's indices while drawing O(q n) numbers instead of n.
    """
    torch = import_torch("DP-SGD", extra="privacy")
    if q >= 1.0:
        return torch.arange(n)
    chunk = int(n * q + 6.0 * math.sqrt(n * q) + 16)
    gaps = torch.empty(chunk, dtype=torch.float64).geometric_(q, generator=gen)
    idx = torch.cumsum(gaps, 0) - 1.0
    while idx[-1] < n:  # rare: the chunk ended before the data did
        more = torch.empty(chunk, dtype=torch.float64).geometric_(q, generator=gen)
        idx = torch.cat([idx, idx[-1] + torch.cumsum(more, 0)])
    return idx[idx < n].long()


def dp_noise_seeds(dp_noise_seed: int | None, owner: str, count: int = 2) -> list[int]:
    """``count`` 64-bit seeds of a DP mechanism's randomness, from a secret unless a test asks otherwise.

    By default each call draws 64 fresh bits per seed from the operating system's cryptographic generator
    (:mod:`secrets`), never from ``random_state``: ε assumes the adversary does not know the noise, and
    ``random_state`` values (benchmark seeds, ``0`` in examples) are public. ``dp_noise_seed`` (or the
    ``CAUSALTRUST_DP_NOISE_SEED`` environment variable) makes the noise reproducible for tests, with a
    warning that the guarantee then holds only if that seed is kept secret.
    """
    seed = dp_noise_seed
    if seed is None:
        env = os.environ.get(DP_NOISE_SEED_ENV, "").strip()
        if env:
            try:
                seed = int(env)
            except ValueError:
                raise ValueError(
                    f"{DP_NOISE_SEED_ENV}={env!r} is not an integer; unset it (secret DP noise) or set a "
                    "non-negative integer seed for reproducible tests"
                ) from None
    if seed is None:
        return [secrets.randbits(64) for _ in range(count)]
    warnings.warn(
        f"{owner}: DP noise seeded from dp_noise_seed={seed} (or {DP_NOISE_SEED_ENV}), for tests: the "
        "privacy guarantee (privacy_epsilon_) then holds only if that seed is secret. Leave both unset "
        "for noise from the operating system's cryptographic generator.",
        UserWarning,
        stacklevel=5,
    )
    return [int(v) for v in np.random.SeedSequence(int(seed)).generate_state(count, np.uint64)]


def _noise_generators(torch: Any, dp_noise_seed: int | None, owner: str) -> tuple[Any, Any]:
    """The generators of DP-SGD's Poisson sampling and Gaussian noise, seeded by :func:`dp_noise_seeds`."""
    sampling, noise = dp_noise_seeds(dp_noise_seed, owner)
    return torch.Generator().manual_seed(sampling), torch.Generator().manual_seed(noise)


@dataclass(eq=False, repr=False)
class _TorchClassifier(ClassifierMixin, SaveMixin, BaseEstimator):
    """Dense ReLU network (no hidden layer: logistic regression) trained by minibatch SGD in torch.

    Subclasses fix the architecture and whether training is differentially private. Weights are kept as
    NumPy arrays after ``fit``: prediction runs in NumPy (no torch needed) and saved models are plain data.
    The fields are the scikit-learn parameters (declared once: the generated ``__init__`` only stores them).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "hidden": [LAYER_WIDTHS],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, math.inf, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "target_epsilon": [Interval(Real, 0, math.inf, closed="neither")],
        "target_delta": [Interval(Real, 0, 1, closed="neither")],
        "max_grad_norm": [Interval(Real, 0, math.inf, closed="neither")],
        "accountant": [StrOptions(set(_ACCOUNTANTS))],
        "dp_noise_seed": [Interval(Integral, 0, None, closed="left"), None],
        "random_state": SEED_CONSTRAINT,
    }
    _private = False

    _: KW_ONLY
    epochs: int = 10
    batch_size: int = 256
    lr: float = 0.5
    momentum: float = 0.9
    random_state: Any = None

    def _hidden(self) -> tuple[int, ...]:
        return widths(getattr(self, "hidden", ()))

    def _check_numeric_frame(self, X: Any) -> None:
        if isinstance(X, pd.DataFrame):
            bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c].dtype)]
            if bad:
                raise DataError(
                    f"{type(self).__name__} takes numeric inputs; column(s) {bad} are not numeric. Encode "
                    "categorical variables first (e.g. one-hot), or use a spec-aware learner"
                )

    def _validate(self, X: Any, y: Any = None, *, reset: bool) -> Any:
        """scikit-learn's validation, with every refusal one :class:`DataError` naming the estimator.

        Beyond scikit-learn: a frame's column names must be unique strings (a MultiIndex, integer or
        duplicated names would be matched by position, not by name), and values must stay below 1e100 in
        magnitude (the limit the spec-aware learners and the audit apply: beyond it the logits overflow).
        """
        owner = type(self).__name__
        if y is None and reset:
            raise DataError(f"{owner} requires y to be passed, but the target y is None")
        if isinstance(X, pd.DataFrame):
            cols = list(X.columns)
            # Positional names 0..n-1 mean an unnamed array, as in scikit-learn; any other non-string name
            # (or a MultiIndex) would be matched by position while looking like a name.
            index: Any = X.columns  # pandas-stubs type DataFrame columns as Index[str]
            positional = isinstance(index, pd.RangeIndex) and index.start == 0
            if isinstance(X.columns, pd.MultiIndex) or not (
                positional or all(isinstance(c, str) for c in cols)
            ):
                raise DataError(f"{owner}: X's column names must be strings; got {cols[:5]}")
            dups = sorted({c for c in cols if cols.count(c) > 1})
            if dups:
                raise DataError(f"{owner}: X has duplicate column names {dups}; give each column once")
        self._check_numeric_frame(X)
        try:
            out = (
                validate_data(self, X, reset=reset, dtype=np.float64)
                if y is None
                else validate_data(self, X, y, reset=reset, dtype=np.float64)
            )
        except ValueError as exc:
            raise DataError(f"{owner}: {exc}") from None
        Xv = out if y is None else out[0]
        if Xv.size and float(np.max(np.abs(Xv))) >= 1e100:
            raise DataError(
                f"{owner}: X holds values of magnitude 1e100 or more; rescale the features (e.g. "
                "StandardScaler) first"
            )
        return out

    def _validate_x(self, X: Any) -> Array:
        out: Array = self._validate(X, reset=False)
        return out

    # -- fitting ----------------------------------------------------------------------------------------
    @fit_context(nested=False)
    def fit(self, X: Any, y: Any) -> _TorchClassifier:
        """Train on numeric features.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features (categorical variables already encoded as numbers).
        y : array-like of shape (n_samples,)
            Class labels (two or more classes).

        Returns
        -------
        self
        """
        Xv, yv = self._validate(X, y, reset=True)  # y None: a DataError
        try:
            check_classification_targets(yv)
        except ValueError as exc:
            raise DataError(f"{type(self).__name__}: {exc}") from None
        classes, codes = np.unique(yv, return_inverse=True)
        if len(classes) < 2:
            raise DataError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data; got only one "
                f"class: {classes.tolist()}"
            )
        self.classes_ = classes
        torch = import_torch(type(self).__name__, extra="privacy")
        self.seed_ = derive_seed(self.random_state)
        # Per-step tensors are small (a batch of a few hundred rows times a few dozen units): one thread
        # avoids the fork/join cost of intra-op parallelism, which is larger than the work it splits.
        with torch_threads(torch, 1, seed=self.seed_):
            params = self._train(torch, Xv, codes, len(classes), self._hidden(), self.seed_)
        self.coefs_, self.intercepts_ = to_numpy_layers(params)
        return self

    def _train(
        self, torch: Any, X: Array, codes: Array, k: int, hidden: tuple[int, ...], seed: int
    ) -> list[Any]:
        n, d = X.shape
        n_out = 1 if k == 2 else k
        init = torch.Generator().manual_seed(seed)
        # A convex model (no hidden layer) starts at the origin.
        params = init_layers(torch, (d, *hidden, n_out), init, dtype=torch.float32, style="sgd")
        # Copies (torch must not share a possibly read-only NumPy buffer).
        Xt = torch.from_numpy(np.array(X, dtype=np.float32))
        yt = torch.from_numpy(np.array(codes, dtype=np.float32 if n_out == 1 else np.int64))
        batches = max(1, math.ceil(n / self.batch_size))
        q = 1.0 / batches  # as Opacus: sample_rate = 1 / len(data_loader)
        steps = self.epochs * batches
        base = torch.optim.SGD(params, lr=float(self.lr), momentum=float(self.momentum))
        self.n_steps_ = steps
        self.sample_rate_ = q
        if self._private:
            # Sampling and noise are the mechanism: secret, never from random_state.
            sampler, noise = _noise_generators(torch, self.dp_noise_seed, type(self).__name__)
            self._train_private(torch, params, base, Xt, yt, n_out, q, steps, noise, sampler)
            return params
        sampler = torch.Generator().manual_seed(seed ^ 0x5A3C)

        def step(_: int, idx: Any) -> None:
            base.zero_grad(set_to_none=True)
            if len(idx) == 0:
                return
            logits = _forward(torch, params, Xt[idx])[0][-1]
            _loss(torch, logits, yt[idx], n_out).backward()
            base.step()

        train_loop(steps, lambda _: _poisson_indices(n, q, sampler), step)
        return params

    def _train_private(
        self,
        torch: Any,
        params: list[Any],
        base: Any,
        Xt: Any,
        yt: Any,
        n_out: int,
        q: float,
        steps: int,
        noise: Any,
        sampler: Any,
    ) -> None:
        from opacus.optimizers import DPOptimizer

        create_accountant, _ = _import_opacus()
        n = len(Xt)
        sigma = _noise_multiplier(
            float(self.target_epsilon), float(self.target_delta), q, steps, str(self.accountant)
        )
        accountant = create_accountant(mechanism=self.accountant)
        opt = DPOptimizer(
            base,
            noise_multiplier=sigma,
            max_grad_norm=float(self.max_grad_norm),
            expected_batch_size=q * n,
            loss_reduction="mean",
            generator=noise,
        )
        # The wiring of PrivacyEngine.make_private: every optimizer step is one Poisson-subsampled
        # Gaussian mechanism at (sigma, q) in the accountant.
        opt.attach_step_hook(accountant.get_optimizer_hook_fn(sample_rate=q))

        def step(_: int, idx: Any) -> None:
            opt.zero_grad(set_to_none=True)
            # An empty Poisson batch is still a step: noise alone is released and accounted.
            grads = _per_example_grads(torch, params, Xt[idx], yt[idx], n_out)
            for p, g in zip(params, grads, strict=True):
                p.grad_sample = g
            opt.step()

        with torch.no_grad():
            train_loop(steps, lambda _: _poisson_indices(n, q, sampler), step)
        for p in params:
            p.grad_sample = None
            p.summed_grad = None
        self.noise_multiplier_ = sigma
        self.privacy_delta_ = float(self.target_delta)
        self.privacy_epsilon_ = float(accountant.get_epsilon(delta=float(self.target_delta)))

    @property
    def privacy_epsilon_parts_(self) -> dict[str, tuple[float, str]]:
        """What was fitted from the training rows, with its ε: only the model (inputs arrive encoded)."""
        check_is_fitted(self, "coefs_")
        if self._private:
            return {"model": (float(self.privacy_epsilon_), "DP-SGD, Opacus accountant")}
        return {"model": (math.inf, "SGD without differential privacy")}

    # -- prediction -------------------------------------------------------------------------------------
    def decision_function(self, X: Any) -> Array:
        """Logits: shape (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
        check_is_fitted(self, "coefs_")
        h = mlp_forward(self._validate_x(X), self.coefs_, self.intercepts_)
        out: Array = h[:, 0] if h.shape[1] == 1 else h
        return out

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, columns in the order of ``classes_``."""
        z = self.decision_function(X)
        if z.ndim == 1:
            p1 = sigmoid(z)
            return np.column_stack([1.0 - p1, p1])
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: Array = e / e.sum(axis=1, keepdims=True)
        return out

    def predict(self, X: Any) -> Array:
        """The most probable class."""
        check_is_fitted(self, "coefs_")
        out: Array = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return out


def _forward(torch: Any, params: list[Any], x: Any) -> tuple[list[Any], list[Any]]:
    """Activations (input first, logits last) and pre-activations of the hidden layers."""
    acts, pre = [x], []
    h = x
    last = len(params) // 2 - 1
    for i in range(0, len(params), 2):
        z = torch.addmm(params[i + 1], h, params[i].T)
        if i // 2 < last:
            pre.append(z)
            h = torch.relu(z)
        else:
            h = z
        acts.append(h)
    return acts, pre


def _loss(torch: Any, logits: Any, y: Any, n_out: int) -> Any:
    if n_out == 1:
        return torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y)
    return torch.nn.functional.cross_entropy(logits, y)


def _per_example_grads(torch: Any, params: list[Any], x: Any, y: Any, n_out: int) -> list[Any]:
    """Gradients of each example's own loss, shaped (batch, *param.shape), in the order of ``params``.

    Backpropagation kept per example: for a dense layer z = h W^T + b, dL_i/dW = delta_i^T h_i and
    dL_i/db = delta_i (Opacus's ``compute_linear_grad_sample``); delta flows back through W and ReLU.
    """
    acts, pre = _forward(torch, params, x)
    logits = acts[-1]
    if n_out == 1:
        delta = torch.sigmoid(logits) - y[:, None]
    else:
        delta = torch.softmax(logits, dim=1)
        delta[torch.arange(len(y)), y] -= 1.0
    grads: list[Any] = [None] * len(params)
    for layer in range(len(params) // 2 - 1, -1, -1):
        h = acts[layer]
        grads[2 * layer] = delta[:, :, None] * h[:, None, :]
        grads[2 * layer + 1] = delta
        if layer > 0:
            delta = (delta @ params[2 * layer]) * (pre[layer - 1] > 0)
    return grads


class TorchLogisticRegression(_TorchClassifier):
    """Logistic regression trained by minibatch SGD in torch, without differential privacy.

    The non-private twin of :class:`DPLogisticRegression`: the same model, initialisation, Poisson
    batching and optimizer, without clipping, noise or accountant. Softmax regression for more than two
    classes.

    Parameters
    ----------
    epochs : int, default=10
        Passes over the data (``epochs * ceil(n / batch_size)`` steps).
    batch_size : int, default=256
        Expected batch size; each step includes every row independently with probability
        ``1 / ceil(n / batch_size)`` (Poisson sampling).
    lr : float, default=0.5
        SGD learning rate.
    momentum : float, default=0.9
        SGD momentum.
    random_state : int, numpy Generator or None, default=None
        Seeds initialisation and sampling (torch generators; global RNG state is left untouched).

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    coefs_, intercepts_ : list of ndarray
        Weights of each layer (NumPy, float64); prediction runs in NumPy.
    n_steps_ : int
        Optimizer steps taken.
    sample_rate_ : float
        Poisson sampling rate q.

    Examples
    --------
    >>> import numpy as np
    >>> from causaltrust.learners import TorchLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3)); y = (X[:, 0] > 0).astype(int)
    >>> TorchLogisticRegression(random_state=0).fit(X, y).score(X, y) > 0.9
    True
    """


@dataclass(eq=False, repr=False)
class _MLP(_TorchClassifier):
    """The hidden layers of the MLPs (and their smaller default learning rate)."""

    hidden: tuple[int, ...] = (32,)
    _: KW_ONLY
    lr: float = 0.1


class TorchMLPClassifier(_MLP):
    """A ReLU multilayer perceptron trained by minibatch SGD in torch, without differential privacy.

    The non-private twin of :class:`DPMLPClassifier` (same model, batching and optimizer).

    Parameters
    ----------
    hidden : tuple of int, default=(32,)
        Units of each hidden layer.
    epochs, batch_size, lr, momentum, random_state
        As in :class:`TorchLogisticRegression` (``lr`` defaults to 0.1).

    Examples
    --------
    >>> import numpy as np
    >>> from causaltrust.learners import TorchMLPClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> TorchMLPClassifier(epochs=60, random_state=0).fit(X, y).score(X, y) > 0.8
    True
    """


@dataclass(eq=False, repr=False)
class _DPSGD(_TorchClassifier):
    """The privacy settings of DP-SGD training."""

    _private = True

    target_epsilon: float = 1.0
    target_delta: float = 1e-5
    max_grad_norm: float = 1.0
    _: KW_ONLY
    accountant: str = "rdp"
    dp_noise_seed: int | None = None


_DP_DOC = """
    Training is DP-SGD: each step includes every row independently with probability
    ``q = 1 / ceil(n / batch_size)`` (Poisson sampling, as Opacus's accountants assume), clips each example's
    gradient to L2 norm ``max_grad_norm``, adds Gaussian noise of standard deviation
    ``noise_multiplier * max_grad_norm`` and divides by the expected batch size ``q n`` (Opacus's
    ``DPOptimizer``). The noise multiplier is Opacus's ``get_noise_multiplier`` for
    ``epochs * ceil(n / batch_size)`` steps; the accountant records every step, and its ε after training is
    ``privacy_epsilon_`` (at most ``target_epsilon`` up to the search tolerance, 0.01).

    The guarantee covers the rows passed to ``fit`` (add/remove one row). It does not cover anything fitted
    on the same rows beforehand (feature scaling, an SCM; see DESIGN.md "Privacy scope"), and a row
    repeated k times in ``X`` is protected only at the group-privacy level of k rows. Noise is drawn from
    ``torch.Generator`` objects seeded per fit from the operating system's cryptographic generator
    (:mod:`secrets`), so two fits with the same ``random_state`` release different noise; ``random_state``
    seeds only the initialisation. ``dp_noise_seed`` (or the environment variable
    ``CAUSALTRUST_DP_NOISE_SEED``) seeds the Poisson sampling and the noise for reproducible tests, with a
    warning: ε then assumes that seed is secret. See DESIGN.md "Issue 33" for the threat model (this is
    not Opacus's ``secure_mode``). Inputs should be on comparable scales (clipping bounds the whole
    gradient).
"""


class DPLogisticRegression(_DPSGD):
    __doc__ = (
        """Logistic regression trained with differential privacy (DP-SGD, Opacus accountant).
"""
        + _DP_DOC
        + """
    Parameters
    ----------
    target_epsilon : float, default=1.0
        Privacy budget ε (positive, finite).
    target_delta : float, default=1e-5
        δ, in (0, 1); choose well below 1 / n_samples.
    max_grad_norm : float, default=1.0
        Per-example gradient clipping norm C.
    epochs : int, default=10
        Passes over the data.
    batch_size : int, default=256
        Expected batch size.
    lr : float, default=0.5
        SGD learning rate.
    momentum : float, default=0.9
        SGD momentum (post-processing of the noisy gradients; no privacy cost).
    accountant : {"rdp", "prv"}, default="rdp"
        Opacus accountant used to calibrate the noise and to report ε.
    dp_noise_seed : int or None, default=None
        Test-only: seeds the Poisson sampling and the Gaussian noise (a warning says ε then assumes the
        seed is secret). None: fresh secret bits from the OS per fit (or ``CAUSALTRUST_DP_NOISE_SEED``).
    random_state : int, numpy Generator or None, default=None
        Seeds the non-private parts only: the initialisation (global RNG state is untouched).

    Attributes
    ----------
    privacy_epsilon_ : float
        The accountant's ε after training.
    privacy_delta_ : float
        The δ at which ``privacy_epsilon_`` holds.
    privacy_epsilon_parts_ : dict
        What was fitted from the training rows and its ε: ``{"model": (ε, how)}``.
    noise_multiplier_ : float
        σ of the Gaussian noise, in units of ``max_grad_norm``.
    sample_rate_ : float
        Poisson sampling rate q.
    n_steps_ : int
        DP-SGD steps taken (each accounted).
    classes_, coefs_, intercepts_
        As in :class:`TorchLogisticRegression`.

    Examples
    --------
    >>> import numpy as np
    >>> from causaltrust.learners import DPLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3)); y = (X[:, 0] > 0).astype(int)
    >>> clf = DPLogisticRegression(target_epsilon=1.0, random_state=0).fit(X, y)
    >>> clf.privacy_epsilon_ <= 1.0 + 1e-6
    True
    """
    )


@dataclass(eq=False, repr=False)
class DPMLPClassifier(_DPSGD, _MLP):
    __doc__ = (
        """A ReLU multilayer perceptron trained with differential privacy (DP-SGD, Opacus accountant).
"""
        + _DP_DOC
        + """
    Parameters
    ----------
    hidden : tuple of int, default=(32,)
        Units of each hidden layer.
    target_epsilon, target_delta, max_grad_norm, epochs, batch_size, momentum, accountant
        As in :class:`DPLogisticRegression`.
    dp_noise_seed, random_state
        As in :class:`DPLogisticRegression`.
    lr : float, default=0.1
        SGD learning rate.

    Attributes
    ----------
    privacy_epsilon_, privacy_delta_, privacy_epsilon_parts_, noise_multiplier_, sample_rate_, n_steps_
        As in :class:`DPLogisticRegression`.

    Examples
    --------
    >>> import numpy as np
    >>> from causaltrust.learners import DPMLPClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 3)); y = (X[:, 0] > 0).astype(int)
    >>> clf = DPMLPClassifier(target_epsilon=8.0, random_state=0).fit(X, y)
    >>> round(clf.privacy_epsilon_) <= 8
    True
    """
    )

    # Fields merge along the MRO: _MLP's ``hidden`` comes first among the positional ones, and _DPSGD (later
    # in the merge) carries the base's lr=0.5, so the MLP's default is restated here.
    _: KW_ONLY
    lr: float = 0.1


# -- input noise ---------------------------------------------------------------------------------------


def gaussian_obfuscation(
    Z: Array,
    columns_mask: Any,
    scale: float | Array,
    rng: np.random.Generator,
    *,
    std: Array | None = None,
) -> Array:
    """``Z`` with Gaussian noise added to the masked columns, in units of each column's standard deviation.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_columns)
        Encoded features (e.g. :class:`~causaltrust.learners._base.Design` output).
    columns_mask : array-like of bool, shape (n_columns,)
        Which columns receive noise (the targeted variant passes only the columns that carry the sensitive
        variables' effect).
    scale : float or ndarray of shape (n_columns,)
        Noise standard deviation in units of the column's standard deviation (non-negative).
    rng : numpy Generator
        Source of the noise.
    std : ndarray of shape (n_columns,), optional
        Column standard deviations to scale by (default: those of ``Z``; pass the training ones to noise
        other rows consistently). Constant columns get no noise.

    Returns
    -------
    ndarray
        A new float array; ``Z`` is not modified.

    Notes
    -----
    This is data-release style obfuscation, not differential privacy: the noise is not calibrated to a
    sensitivity and no ε follows from it.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.arange(8.0).reshape(4, 2)
    >>> out = gaussian_obfuscation(Z, [True, False], 0.5, np.random.default_rng(0))
    >>> bool((out[:, 1] == Z[:, 1]).all()), bool((out[:, 0] != Z[:, 0]).any())
    (True, True)
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2:
        raise ValueError(f"gaussian_obfuscation: Z must be 2-D, got shape {Z.shape}")
    mask = np.asarray(columns_mask, dtype=bool)
    if mask.shape != (Z.shape[1],):
        raise ValueError(
            f"gaussian_obfuscation: columns_mask must have one entry per column ({Z.shape[1]}), "
            f"got shape {mask.shape}"
        )
    s = np.broadcast_to(np.asarray(scale, dtype=np.float64), (Z.shape[1],))
    if not np.all(np.isfinite(s)) or (s < 0).any():
        raise ValueError(f"gaussian_obfuscation: scale must be finite and non-negative, got {scale!r}")
    sd = Z.std(axis=0) if std is None else np.asarray(std, dtype=np.float64)
    if sd.shape != (Z.shape[1],):
        raise ValueError(f"gaussian_obfuscation: std must have shape ({Z.shape[1]},), got {sd.shape}")
    out = Z.copy()
    cols = np.flatnonzero(mask)
    if len(cols):
        out[:, cols] += rng.standard_normal((Z.shape[0], len(cols))) * (s[cols] * sd[cols])
    return out


@dataclass(eq=False, repr=False)
class InputNoiseClassifier(BinaryClassifierMixin, SpecEstimator):
    """Uniform input-noise baseline: Gaussian noise on every encoded training feature, then a classifier.

    The spec's features are encoded (numbers as they are, categorical one-hot) and each column of the
    *training* rows gets Gaussian noise of ``noise_scale`` times its standard deviation before ``estimator``
    is fitted; predictions use the clean encoding. This is data-release style obfuscation, **not** a
    differential-privacy guarantee: the noise is not calibrated to any sensitivity, so ``privacy_epsilon_``
    is ``inf``. It is the untargeted baseline of the causal, targeted variant (noise only where the
    sensitive variables' effect flows); see :func:`gaussian_obfuscation`.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec (features and their types).
    estimator : classifier, default=LogisticRegression(max_iter=1000)
        Fitted on the noisy encoded features.
    noise_scale : float, default=1.0
        Noise standard deviation in units of each column's standard deviation.
    random_state : int, numpy Generator or None, default=None
        Seeds the noise.

    Attributes
    ----------
    estimator_ : classifier
        The fitted estimator.
    design_ : Design
        The feature encoding.
    column_std_ : ndarray
        Standard deviation of each encoded training column (before noise).
    classes_ : ndarray
        Class labels.
    privacy_epsilon_ : float
        ``inf``: no DP guarantee.

    Examples
    --------
    >>> import causaltrust as ct
    >>> from causaltrust.learners import InputNoiseClassifier
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> df = scm.sample(500, random_state=0)
    >>> clf = InputNoiseClassifier(spec, noise_scale=0.5, random_state=0).fit(df, df[spec.target])
    >>> clf.predict_proba(df).shape
    (500, 2)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **SpecEstimator._parameter_constraints,
        "estimator": ESTIMATOR_CONSTRAINT,
        "noise_scale": [Interval(Real, 0, math.inf, closed="left")],
    }

    spec: Any = None
    estimator: Any = None
    noise_scale: float = 1.0
    random_state: Any = None

    def _encode(self, X: pd.DataFrame) -> Array:
        check_is_fitted(self, "estimator_")
        return self.design_.transform(self._predict_frame(X)[1])

    @fit_context(nested=True)
    def fit(self, X: pd.DataFrame, y: Any) -> InputNoiseClassifier:
        """Encode, add noise to the training rows, fit the estimator.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The spec's features (an array: in the spec's feature order).
        y : array-like of shape (n_samples,)
            Labels coded 0/1.

        Returns
        -------
        self
        """
        X, y_arr = self._prepare(X, y)
        cols = self._columns(X)
        self.design_: Design = Design(self.meta_, self.spec_.features).fit(cols)
        Z = self.design_.transform(cols)
        self.column_std_ = Z.std(axis=0)
        rng = np.random.default_rng(self.seed_)
        noise = float(self.noise_scale)
        noisy = gaussian_obfuscation(Z, np.ones(Z.shape[1], dtype=bool), noise, rng, std=self.column_std_)
        self.estimator_: Any = self._clone(self.estimator, lambda: LogisticRegression(max_iter=1000))
        self.estimator_.fit(noisy, y_arr)
        self.classes_ = self.estimator_.classes_
        self.privacy_epsilon_ = math.inf
        return self

    def predict_proba(self, X: pd.DataFrame) -> Array:
        """Class probabilities of the estimator on the clean encoding."""
        check_is_fitted(self, "estimator_")
        out: Array = self.estimator_.predict_proba(self._encode(X))
        return out

    def predict(self, X: pd.DataFrame) -> Array:
        """Predicted labels on the clean encoding."""
        check_is_fitted(self, "estimator_")
        out: Array = self.estimator_.predict(self._encode(X))
        return out
