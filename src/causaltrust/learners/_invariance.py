"""Domain-generalisation baselines: IRM, V-REx and GroupDRO as scikit-learn classifiers (torch).

These are the *statistical* invariance methods the causal learners are measured against. They learn from
several labelled training environments and never see a causal graph; the spec only tells them which
columns are features and which column names the environment. Objectives follow DomainBed
(Gulrajani & Lopez-Paz, "In Search of Lost Domain Generalization", ICLR 2021), ``algorithms.py``:

* **ERM**: the mean loss over all training rows (environments pooled).
* **IRM** (Arjovsky et al. 2019, IRMv1): mean of the per-environment risks plus ``λ`` times the squared
  gradient of each environment's risk with respect to a dummy classifier scale ``w = 1.0``. As in DomainBed
  the square is estimated without bias as the product of the gradients on the even and the odd rows of
  the environment's batch. The penalty weight is 1 for the first ``anneal_steps`` optimiser steps and
  ``λ`` afterwards, and Adam is restarted when it switches (the jump in gradient scale upsets its moments).
* **V-REx** (Krueger et al. 2021): mean of the per-environment risks plus ``λ`` times their variance
  (population variance over environments), with the same annealing and Adam restart.
* **GroupDRO** (Sagawa et al. 2020): weights ``q_e`` start uniform; each step multiplies them by
  ``exp(η · risk_e)`` and renormalises, and the loss is ``Σ_e q_e · risk_e``.

Per-environment risks weigh environments equally (DomainBed draws the same batch size from each), so
``IRMClassifier(lambda_=0, anneal_steps=0)`` is *environment-balanced* ERM; :class:`TorchERMClassifier` is the
plain pooled ERM with the same network, the baseline of the comparisons.

Inputs are the spec's features encoded by :class:`~causaltrust.learners._base.Design` (categorical one-hot,
unseen categories pooled by training frequency); continuous and binary columns are standardised with
training statistics (centring the 0/1 columns as well keeps the penalised objectives well conditioned: IRM
converges in far fewer steps), one-hot columns are left as they are.
The environment column is **not** an input by default (``use_environment_as_feature=False``): invariance
methods conventionally predict from the features alone, so that the model applies unchanged to an
environment never seen in training. The trained weights are kept as NumPy arrays and prediction runs in
NumPy, so fitted estimators pickle without torch and predict identically after a round trip.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from causaltrust.exceptions import DataError
from causaltrust.learners._base import (
    Design,
    check_binary_target,
    check_frame,
    columns_with_unseen,
    resolve_spec,
)
from causaltrust.scm._data import VariableMeta
from causaltrust.spec import TrustSpec

__all__ = ["GroupDROClassifier", "IRMClassifier", "TorchERMClassifier", "VRExClassifier"]

Array = np.ndarray

_TORCH_HINT = "pip install 'causaltrust[torch]'"


def _import_torch(owner: str) -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"{owner} trains with PyTorch, which is not installed: {_TORCH_HINT}") from exc
    return torch


@contextmanager
def _torch_threads(torch: Any, n_threads: int | None) -> Iterator[None]:
    """Set torch's intra-op thread count for the block only; the caller's setting comes back after."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _check_int(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_float(value: Any, name: str, *, positive: bool) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok:
        ok = math.isfinite(float(value)) and (float(value) > 0 if positive else float(value) >= 0)
    if not ok:
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


class _InvarianceBase(ClassifierMixin, BaseEstimator):
    """Shared data handling and training loop; subclasses define the objective (``_objective``)."""

    #: Whether the method needs environment labels at fit (ERM does not).
    _needs_environments = True

    # Subclasses set their own ``__init__`` (scikit-learn reads hyperparameters from its signature).
    spec: Any
    hidden: Sequence[int]
    lr: float
    epochs: int
    batch_size: int | None
    weight_decay: float
    use_environment_as_feature: bool
    n_threads: int | None
    random_state: int | None

    # -- hyperparameters ------------------------------------------------------------------------------
    def _check_common(self) -> tuple[tuple[int, ...], float, int, int | None, float, int | None]:
        hidden: Any = self.hidden
        if isinstance(hidden, int | np.integer) and not isinstance(hidden, bool):
            hidden = (int(hidden),)
        try:
            sizes = tuple(_check_int(h, "hidden sizes", minimum=1) for h in hidden)
        except TypeError:
            raise ValueError(
                f"hidden must be a tuple of layer widths (() for a linear model), got {self.hidden!r}"
            ) from None
        lr = _check_float(self.lr, "lr", positive=True)
        epochs = _check_int(self.epochs, "epochs", minimum=1)
        batch = None if self.batch_size is None else _check_int(self.batch_size, "batch_size", minimum=2)
        decay = _check_float(self.weight_decay, "weight_decay", positive=False)
        threads = None if self.n_threads is None else _check_int(self.n_threads, "n_threads", minimum=1)
        return sizes, lr, epochs, batch, decay, threads

    def _check_method(self) -> None:
        """Validate the method's own hyperparameters (subclasses)."""

    # -- inputs ---------------------------------------------------------------------------------------
    def _inputs(self, spec: TrustSpec) -> list[str]:
        env = spec.environment
        if self.use_environment_as_feature:
            return list(spec.features)
        return [f for f in spec.features if f != env]

    def _environments(self, X: pd.DataFrame, environments: Any, spec: TrustSpec, owner: str) -> Array:
        if environments is not None:
            env = np.asarray(environments)
            if env.ndim != 1 or len(env) != len(X):
                raise DataError(
                    f"{owner}.fit: environments must be 1-D with one label per row of X ({len(X)}), "
                    f"got shape {env.shape}"
                )
            if pd.isna(pd.Series(env)).any():
                raise DataError(f"{owner}.fit: environments has missing values")
            return env
        column = spec.environment
        if column is None or column not in X.columns:
            where = (
                "the spec names no environment (robustness.environment)"
                if column is None
                else f"X has no column {column!r} (the spec's robustness.environment)"
            )
            raise DataError(
                f"{owner}: environments missing at fit: {where}. Pass fit(X, y, environments=labels), "
                "or include the environment column in X"
            )
        env_col = X[column]
        if env_col.isna().any():
            raise DataError(f"{owner}.fit: environment column {column!r} has missing values")
        return env_col.to_numpy()

    def _matrix(self, X: pd.DataFrame, owner: str) -> Array:
        cols = columns_with_unseen(X, self.meta_, self.input_features_, owner)
        Z = self.design_.transform(cols)
        return (Z - self.shift_) / self.scale_

    # -- fitting --------------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: Any, *, environments: Any = None) -> _InvarianceBase:
        """Train the network on labelled rows from several environments.

        Parameters
        ----------
        X : DataFrame
            The spec's features (the environment column, when the spec names one, may be among them).
        y : array-like of shape (n_samples,)
            Binary target coded 0/1.
        environments : array-like of shape (n_samples,), optional
            Environment label of each row. When omitted it is read from the column the spec names as
            ``robustness.environment``. Keyword-only: per-row side information, as in fairlearn.

        Returns
        -------
        self
        """
        owner = type(self).__name__
        spec = resolve_spec(self.spec, owner)
        sizes, lr, epochs, batch, decay, threads = self._check_common()
        self._check_method()
        inputs = self._inputs(spec)
        X = check_frame(X, inputs, owner, spec=spec)
        y_arr = np.asarray(y)
        if y_arr.ndim != 1 or len(y_arr) != len(X):
            raise DataError(
                f"{owner}.fit: y must be 1-D with one value per row of X ({len(X)}), got {y_arr.shape}"
            )
        if pd.isna(pd.Series(y_arr)).any():
            raise DataError(f"{owner}.fit: y has missing values")
        labels = set(np.unique(y_arr).tolist())
        if not labels <= {0, 1}:
            kind = "continuous values" if y_arr.dtype.kind == "f" else "other labels"
            raise DataError(
                f"{owner} predicts a binary target coded 0/1; y holds {kind} {sorted(labels)[:5]}"
            )
        check_binary_target(y_arr, len(X), owner)
        if self._needs_environments:
            env = self._environments(X, environments, spec, owner)
            levels, env_codes = np.unique(env, return_inverse=True)
            counts = np.bincount(env_codes)
            if counts.min() < 2:
                small = [levels[i] for i in np.flatnonzero(counts < 2)]
                raise DataError(f"{owner}.fit: environment(s) {small} have fewer than 2 rows")
            self.environments_ = levels
        else:
            env_codes = np.zeros(len(X), dtype=np.int64)
        self.meta_ = {
            n: VariableMeta(n, v.type, tuple(v.categories or ()), v.observed)
            for n, v in spec.variables.items()
        }
        self.input_features_ = inputs
        cols = columns_with_unseen(X, self.meta_, inputs, owner)
        self.design_ = Design(self.meta_, inputs).fit(cols)
        Z = self.design_.transform(cols)
        # Standardise every non-one-hot column (continuous and 0/1), with training statistics.
        numeric = np.concatenate(
            [
                np.full(
                    len(self.meta_[f].categories) if self.meta_[f].vtype == "categorical" else 1,
                    self.meta_[f].vtype != "categorical",
                )
                for f in inputs
            ]
            or [np.zeros(0, dtype=bool)]
        )
        self.shift_ = np.where(numeric, Z.mean(axis=0), 0.0)
        sd = Z.std(axis=0)
        self.scale_ = np.where(numeric & (sd > 0), sd, 1.0)
        Z = (Z - self.shift_) / self.scale_
        torch = _import_torch(owner)
        seed = 0 if self.random_state is None else int(self.random_state)
        with _torch_threads(torch, threads):
            self._train(torch, Z, y_arr.astype(np.float64), env_codes, sizes, lr, epochs, batch, decay, seed)
        self.spec_ = spec
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(inputs)
        self.feature_names_in_ = np.asarray(inputs, dtype=object)
        return self

    def _train(
        self,
        torch: Any,
        Z: Array,
        y: Array,
        env_codes: Array,
        sizes: tuple[int, ...],
        lr: float,
        epochs: int,
        batch: int | None,
        decay: float,
        seed: int,
    ) -> None:
        gen = torch.Generator().manual_seed(seed)
        dims = (Z.shape[1], *sizes, 1)
        params: list[Any] = []
        for fan_in, fan_out in itertools.pairwise(dims):
            # torch.nn.Linear's default init, drawn from our own generator (no global RNG state).
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            w = torch.empty(fan_out, fan_in, dtype=torch.float64).uniform_(-bound, bound, generator=gen)
            b = torch.empty(fan_out, dtype=torch.float64).uniform_(-bound, bound, generator=gen)
            params.extend([w.requires_grad_(), b.requires_grad_()])
        Zt = torch.as_tensor(Z, dtype=torch.float64)
        yt = torch.as_tensor(y, dtype=torch.float64)
        n_env = int(env_codes.max()) + 1
        groups = [torch.as_tensor(np.flatnonzero(env_codes == e)) for e in range(n_env)]
        longest = max(len(g) for g in groups)
        steps_per_epoch = 1 if batch is None else max(1, math.ceil(longest / batch))

        def network(x: Any) -> Any:
            h = x
            for i in range(0, len(params) - 2, 2):
                h = torch.relu(torch.nn.functional.linear(h, params[i], params[i + 1]))
            return torch.nn.functional.linear(h, params[-2], params[-1]).squeeze(-1)

        def new_optimizer() -> Any:
            return torch.optim.Adam(params, lr=lr, weight_decay=decay)

        optimizer = new_optimizer()
        self._start(torch, n_env)
        curve: list[float] = []
        step = 0
        orders = list(groups)
        # Full batch: the rows grouped by environment, gathered once.
        Z_full = Zt[torch.cat(groups)] if batch is None else None
        cursors = [0] * n_env
        for _epoch in range(epochs):
            total = 0.0
            for _ in range(steps_per_epoch):
                if batch is None:
                    picks, index = groups, None
                else:
                    picks = []
                    for e in range(n_env):
                        # Per-environment batches of equal size, each environment reshuffled whenever
                        # it is exhausted (DomainBed's infinite per-domain loaders).
                        if cursors[e] == 0 or cursors[e] + batch > len(orders[e]):
                            perm = torch.randperm(len(groups[e]), generator=gen)
                            orders[e] = groups[e][perm]
                            cursors[e] = 0
                        picks.append(orders[e][cursors[e] : cursors[e] + batch])
                        cursors[e] += batch
                    index = torch.cat(picks)
                logits_all = network(Z_full if index is None else Zt[index])
                batches = []
                start = 0
                for p in picks:
                    batches.append((logits_all[start : start + len(p)], yt[p]))
                    start += len(p)
                loss, restart = self._objective(torch, batches, step)
                if restart:
                    optimizer = new_optimizer()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach())
                step += 1
            curve.append(total / steps_per_epoch)
        self.coefs_ = [params[i].detach().numpy().T.copy() for i in range(0, len(params), 2)]
        self.intercepts_ = [params[i].detach().numpy().copy() for i in range(1, len(params), 2)]
        self.loss_curve_ = curve
        self.n_iter_ = step
        self._finish()

    def _start(self, torch: Any, n_env: int) -> None:
        """Reset the method's training state before the first step."""

    def _finish(self) -> None:
        """Store the method's fitted state after the last step."""

    def _objective(self, torch: Any, batches: list[tuple[Any, Any]], step: int) -> tuple[Any, bool]:
        """The loss of one step from per-environment ``(logits, labels)``; True to restart Adam."""
        raise NotImplementedError

    @staticmethod
    def _risk(torch: Any, logits: Any, y: Any) -> Any:
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y)

    # -- prediction -----------------------------------------------------------------------------------
    def decision_function(self, X: pd.DataFrame) -> Array:
        """The network's logit of class 1 for each row of ``X``.

        Parameters
        ----------
        X : DataFrame
            The model's input features (``feature_names_in_``); other columns are ignored.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "coefs_")
        owner = type(self).__name__
        X = check_frame(X, self.input_features_, owner, spec=self.spec_, fit=False)
        h = self._matrix(X, owner)
        last = len(self.coefs_) - 1
        for i, (w, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            h = h @ w + b
            if i < last:
                h = np.maximum(h, 0.0)
        return np.asarray(h[:, 0], dtype=np.float64)

    def predict_proba(self, X: pd.DataFrame) -> Array:
        """Probabilities of classes 0 and 1.

        Parameters
        ----------
        X : DataFrame
            The model's input features (``feature_names_in_``); other columns are ignored.

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        z = self.decision_function(X)
        p = np.exp(-np.logaddexp(0.0, -z))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> Array:
        """Predicted class: 1 where the logit is positive (P(1) > 0.5), else 0.

        Parameters
        ----------
        X : DataFrame
            The model's input features (``feature_names_in_``); other columns are ignored.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return (self.decision_function(X) > 0).astype(np.int64)

    def __sklearn_is_fitted__(self) -> bool:
        # ``lambda_`` is a hyperparameter whose name ends in "_"; fitted state is the trained weights.
        return hasattr(self, "coefs_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


_COMMON_PARAMS = """    spec : TrustSpec, dict or path
        The trust spec: its ``features`` are the inputs and its ``robustness.environment`` names the
        column holding each row's environment.
    hidden : tuple of int, default ()
        Widths of the hidden ReLU layers: ``()`` is a linear (logistic) model, ``(32,)`` a one-layer MLP.
    lr : float, default 1e-2
        Adam's learning rate.
    epochs : int, default 1000
        Passes over the training data. Full batch: one optimiser step each; with ``batch_size``,
        ``ceil(rows of the largest environment / batch_size)`` steps each.
    batch_size : int, optional
        Rows drawn from *each* environment per step (DomainBed's per-domain minibatches); None trains on
        every row at every step (fast for linear models on tens of thousands of rows).
    weight_decay : float, default 0.0
        Adam's L2 penalty.
    use_environment_as_feature : bool, default False
        Whether the environment column stays an input when it is among the spec's features. Off by default:
        invariance methods conventionally predict from the other features only, which also lets the model
        score environments it never saw.
    n_threads : int or None, default 1
        torch threads used while fitting (restored afterwards); small networks train fastest on one.
        None keeps torch's setting.
    random_state : int, optional
        Seed of the weight initialisation and the minibatch order (a local ``torch.Generator``; global
        random state is never touched). None means 0, so fits are reproducible by default."""

_COMMON_ATTRS = """    classes_ : ndarray of shape (2,)
        ``[0, 1]``.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        The input features (the spec's features, without the environment unless
        ``use_environment_as_feature``).
    coefs_, intercepts_ : list of ndarray
        Trained weights of each layer (NumPy; prediction needs no torch).
    loss_curve_ : list of float
        Training objective per epoch.
    n_iter_ : int
        Optimiser steps taken."""


class TorchERMClassifier(_InvarianceBase):
    __doc__ = f"""Empirical risk minimisation with the network and training loop of the invariance methods.

    The baseline of :class:`IRMClassifier`, :class:`VRExClassifier` and :class:`GroupDROClassifier`: the
    mean logistic loss over all training rows, environments pooled: it needs no environment labels, and
    ``environments`` passed to :meth:`fit` play no part.

    Parameters
    ----------
{_COMMON_PARAMS}

    Attributes
    ----------
{_COMMON_ATTRS}

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.TorchERMClassifier(spec, epochs=50, random_state=0).fit(train, train["Y"])
    >>> clf.predict_proba(train.head(2)).shape
    (2, 2)
    """

    _needs_environments = False

    def __init__(
        self,
        spec: Any = None,
        *,
        hidden: Sequence[int] = (),
        lr: float = 1e-2,
        epochs: int = 1000,
        batch_size: int | None = None,
        weight_decay: float = 0.0,
        use_environment_as_feature: bool = False,
        n_threads: int | None = 1,
        random_state: int | None = None,
    ) -> None:
        self.spec = spec
        self.hidden = hidden
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.use_environment_as_feature = use_environment_as_feature
        self.n_threads = n_threads
        self.random_state = random_state

    def _objective(self, torch: Any, batches: list[tuple[Any, Any]], step: int) -> tuple[Any, bool]:
        logits, y = batches[0]
        return self._risk(torch, logits, y), False


class _AnnealedPenalty(_InvarianceBase):
    """IRM and V-REx: mean environment risk + weight × penalty, the weight annealed from 1 to λ."""

    lambda_: float
    anneal_steps: int

    def __init__(
        self,
        spec: Any = None,
        *,
        hidden: Sequence[int] = (),
        lambda_: float = 100.0,
        anneal_steps: int = 100,
        lr: float = 1e-2,
        epochs: int = 1000,
        batch_size: int | None = None,
        weight_decay: float = 0.0,
        use_environment_as_feature: bool = False,
        n_threads: int | None = 1,
        random_state: int | None = None,
    ) -> None:
        self.spec = spec
        self.hidden = hidden
        self.lambda_ = lambda_
        self.anneal_steps = anneal_steps
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.use_environment_as_feature = use_environment_as_feature
        self.n_threads = n_threads
        self.random_state = random_state

    def _check_method(self) -> None:
        _check_float(self.lambda_, "lambda_", positive=False)
        _check_int(self.anneal_steps, "anneal_steps", minimum=0)

    def _penalty(self, torch: Any, batches: list[tuple[Any, Any]], risks: Any) -> Any:
        raise NotImplementedError

    def _objective(self, torch: Any, batches: list[tuple[Any, Any]], step: int) -> tuple[Any, bool]:
        risks = torch.stack([self._risk(torch, logits, y) for logits, y in batches])
        weight = float(self.lambda_) if step >= self.anneal_steps else 1.0
        loss = risks.mean() + weight * self._penalty(torch, batches, risks)
        # DomainBed restarts Adam when the penalty weight jumps (its moment estimates would be stale).
        restart = step == self.anneal_steps and step > 0
        return loss, restart


class IRMClassifier(_AnnealedPenalty):
    __doc__ = f"""Invariant risk minimisation (IRMv1, Arjovsky et al. 2019), as defined in DomainBed.

    Minimises ``mean_e R_e + w · mean_e (∂R_e(s · f)/∂s |_{{s=1}})²`` where ``R_e`` is environment ``e``'s
    logistic risk and the square is estimated as the product of the gradients on the even and odd rows of
    the environment's batch (unbiased). ``w`` is 1 for the first ``anneal_steps`` steps, then ``lambda_``
    (Adam restarts at the switch). ``lambda_=0, anneal_steps=0`` is environment-balanced ERM.

    Parameters
    ----------
{_COMMON_PARAMS}
    lambda_ : float, default 100.0
        Penalty weight after annealing.
    anneal_steps : int, default 100
        Optimiser steps with penalty weight 1 before ``lambda_`` applies.

    Attributes
    ----------
{_COMMON_ATTRS}
    environments_ : ndarray
        The training environments' labels.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.IRMClassifier(spec, epochs=50, anneal_steps=10, random_state=0)
    >>> clf = clf.fit(train, train["Y"])  # environments read from column E
    >>> list(clf.feature_names_in_), clf.environments_.tolist()
    (['A', 'X', 'Z', 'F'], [0, 1, 2])
    """

    def _penalty(self, torch: Any, batches: list[tuple[Any, Any]], risks: Any) -> Any:
        terms = []
        for logits, y in batches:
            scale = torch.tensor(1.0, dtype=logits.dtype, requires_grad=True)
            loss_1 = self._risk(torch, logits[::2] * scale, y[::2])
            loss_2 = self._risk(torch, logits[1::2] * scale, y[1::2])
            grad_1 = torch.autograd.grad(loss_1, [scale], create_graph=True)[0]
            grad_2 = torch.autograd.grad(loss_2, [scale], create_graph=True)[0]
            terms.append(grad_1 * grad_2)
        return torch.stack(terms).mean()


class VRExClassifier(_AnnealedPenalty):
    __doc__ = f"""Risk extrapolation (V-REx, Krueger et al. 2021), as defined in DomainBed.

    Minimises ``mean_e R_e + w · Var_e(R_e)`` (population variance of the environments' logistic risks).
    ``w`` is 1 for the first ``anneal_steps`` steps, then ``lambda_`` (Adam restarts at the switch).

    Parameters
    ----------
{_COMMON_PARAMS}
    lambda_ : float, default 100.0
        Variance weight after annealing.
    anneal_steps : int, default 100
        Optimiser steps with weight 1 before ``lambda_`` applies.

    Attributes
    ----------
{_COMMON_ATTRS}
    environments_ : ndarray
        The training environments' labels.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.VRExClassifier(spec, epochs=50, anneal_steps=10, random_state=0)
    >>> clf.fit(train, train["Y"]).predict(train.head(3)).shape
    (3,)
    """

    def _penalty(self, torch: Any, batches: list[tuple[Any, Any]], risks: Any) -> Any:
        return ((risks - risks.mean()) ** 2).mean()


class GroupDROClassifier(_InvarianceBase):
    __doc__ = f"""Group distributionally robust optimisation (Sagawa et al. 2020), as defined in DomainBed.

    Keeps a weight ``q_e`` per training environment, starting uniform; each step updates
    ``q_e ← q_e · exp(eta · R_e)``, renormalises, and minimises ``Σ_e q_e R_e``, so the environments with
    the highest risk (often the small ones that pooled ERM neglects) gain weight.

    Parameters
    ----------
{_COMMON_PARAMS}
    eta : float, default 1e-2
        Step size of the exponentiated-gradient update of the environment weights (DomainBed's default).

    Attributes
    ----------
{_COMMON_ATTRS}
    environments_ : ndarray
        The training environments' labels.
    group_weights_ : ndarray
        Final environment weights ``q`` (same order as ``environments_``).

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.GroupDROClassifier(spec, epochs=50, eta=0.1, random_state=0)
    >>> clf = clf.fit(train, train["Y"])
    >>> round(float(clf.group_weights_.sum()), 6)
    1.0
    """

    def __init__(
        self,
        spec: Any = None,
        *,
        hidden: Sequence[int] = (),
        eta: float = 1e-2,
        lr: float = 1e-2,
        epochs: int = 1000,
        batch_size: int | None = None,
        weight_decay: float = 0.0,
        use_environment_as_feature: bool = False,
        n_threads: int | None = 1,
        random_state: int | None = None,
    ) -> None:
        self.spec = spec
        self.hidden = hidden
        self.eta = eta
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.use_environment_as_feature = use_environment_as_feature
        self.n_threads = n_threads
        self.random_state = random_state

    def _check_method(self) -> None:
        _check_float(self.eta, "eta", positive=False)

    def _start(self, torch: Any, n_env: int) -> None:
        self._q = torch.full((n_env,), 1.0 / n_env, dtype=torch.float64)

    def _objective(self, torch: Any, batches: list[tuple[Any, Any]], step: int) -> tuple[Any, bool]:
        risks = torch.stack([self._risk(torch, logits, y) for logits, y in batches])
        q = self._q * torch.exp(float(self.eta) * risks.detach())
        self._q = q / q.sum()
        return torch.dot(risks, self._q), False

    def _finish(self) -> None:
        self.group_weights_ = self._q.numpy().copy()
        del self._q
