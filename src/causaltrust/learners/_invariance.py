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
NumPy, so fitted estimators predict and save (``estimator.save``, a data-only ``.ctm`` file) without torch,
and predict identically after a round trip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from causaltrust.exceptions import DataError
from causaltrust.learners._base import (
    BinaryClassifierMixin,
    Design,
    SpecEstimator,
    check_frame,
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
from causaltrust.spec import TrustSpec

__all__ = ["GroupDROClassifier", "IRMClassifier", "TorchERMClassifier", "VRExClassifier"]

Array = np.ndarray
_NONNEG = Interval(Real, 0, math.inf, closed="left")
_POSITIVE = Interval(Real, 0, math.inf, closed="neither")


def group_labels(X: pd.DataFrame, group_by: Sequence[str], owner: str) -> Array:
    """One label per row of ``X``: the combination of its values in the ``group_by`` columns.

    ``("E", "A")`` gives every environment × protected-attribute cell its own group (Sagawa et al.'s
    groups; Adragna et al.'s protected-attribute environments), so a method that only sees group labels
    can be handed what the spec says about the protected attribute.
    """
    names = [group_by] if isinstance(group_by, str) else list(group_by)
    if not names or not all(isinstance(n, str) for n in names):
        raise DataError(f"{owner}: group_by must be a non-empty list of column names, got {group_by!r}")
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise DataError(
            f"{owner}.fit: group_by names {missing}, which X lacks (columns: {list(X.columns)}); name "
            "columns of X, e.g. the spec's environment and protected attribute"
        )
    frame = X[names]
    if frame.isna().any().any():
        bad = [n for n in names if frame[n].isna().any()]
        raise DataError(f"{owner}.fit: group_by column(s) {bad} have missing values")
    return frame.astype(str).agg("|".join, axis=1).to_numpy(dtype=object)


@dataclass(eq=False, repr=False)
class _InvarianceBase(BinaryClassifierMixin, SpecEstimator):
    """Shared data handling and training loop; subclasses define the objective (``_objective``).

    The fields are the scikit-learn parameters of every method of the family (see SpecEstimator)."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **SpecEstimator._parameter_constraints,
        "hidden": [LAYER_WIDTHS],
        "lr": [_POSITIVE],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left"), None],
        "weight_decay": [_NONNEG],
        "use_environment_as_feature": ["boolean"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "group_by": [list, tuple, None],
    }

    spec: Any = None
    _: KW_ONLY
    hidden: Sequence[int] = ()
    lr: float = 1e-2
    epochs: int = 1000
    batch_size: int | None = None
    weight_decay: float = 0.0
    use_environment_as_feature: bool = False
    n_threads: int | None = 1
    random_state: int | None = None

    # -- inputs ---------------------------------------------------------------------------------------
    def _required(self, spec: TrustSpec) -> list[str]:
        if self.use_environment_as_feature:
            return list(spec.features)
        return [f for f in spec.features if f != spec.environment]

    def _described(self, spec: TrustSpec) -> str:
        if self.use_environment_as_feature or spec.environment not in spec.features:
            return "the spec's features"
        env = spec.environment
        return (
            f"its inputs (the spec's features without the environment {env!r}: fit reads it from that column "
            "of a DataFrame, or from environments=)"
        )

    def _matrix(self, cols: dict[str, Array]) -> Array:
        return (self.design_.transform(cols) - self.shift_) / self.scale_

    # -- fitting --------------------------------------------------------------------------------------
    @fit_context(nested=False)
    def fit(self, X: pd.DataFrame, y: Any, *, environments: Any = None) -> _InvarianceBase:
        """Train the network on labelled rows from several environments.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The model's input features (``feature_names_in_``: the spec's features, without the environment
            unless ``use_environment_as_feature``). A DataFrame may hold the environment column too, which
            ``fit`` reads the environments from; an array holds the inputs in that order and needs
            ``environments=``.
        y : array-like of shape (n_samples,)
            Binary target coded 0/1.
        environments : array-like of shape (n_samples,), optional
            Environment label of each row. When omitted it is read from the column the spec names as
            ``robustness.environment``. Keyword-only: per-row side information, as in fairlearn.

        Returns
        -------
        self
        """
        X, y_arr = self._prepare(X, y)
        env_codes = self._environment_codes(X, environments)
        inputs = list(self.feature_names_in_)
        self.input_features_ = inputs
        cols = self._columns(X)
        self.design_ = Design(self.meta_, inputs).fit(cols)
        Z = self.design_.transform(cols)
        # Standardise every non-one-hot column (continuous and 0/1), with training statistics.
        numeric = self.design_.numeric
        self.shift_ = np.where(numeric, Z.mean(axis=0), 0.0)
        sd = Z.std(axis=0)
        self.scale_ = np.where(numeric & (sd > 0), sd, 1.0)
        Z = (Z - self.shift_) / self.scale_
        torch = import_torch(type(self).__name__)
        with torch_threads(torch, self.n_threads):
            self._train(torch, Z, y_arr.astype(np.float64), env_codes)
        return self

    def _train(self, torch: Any, Z: Array, y: Array, env_codes: Array) -> None:
        hidden = widths(self.hidden)
        batch, epochs = self.batch_size, int(self.epochs)
        gen = torch.Generator().manual_seed(self.seed_)
        params = init_layers(torch, (Z.shape[1], *hidden, 1), gen, dtype=torch.float64)
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
            return torch.optim.Adam(params, lr=float(self.lr), weight_decay=float(self.weight_decay))

        optimizer = new_optimizer()
        self._start(torch, n_env)
        orders = list(groups)
        # Full batch: the rows grouped by environment, gathered once.
        Z_full = Zt[torch.cat(groups)] if batch is None else None
        cursors = [0] * n_env

        def draw(_: int) -> tuple[list[Any], Any]:
            if batch is None:
                return groups, None
            picks = []
            for e in range(n_env):
                # Per-environment batches of equal size, each environment reshuffled whenever it is
                # exhausted (DomainBed's infinite per-domain loaders).
                if cursors[e] == 0 or cursors[e] + batch > len(orders[e]):
                    orders[e] = groups[e][torch.randperm(len(groups[e]), generator=gen)]
                    cursors[e] = 0
                picks.append(orders[e][cursors[e] : cursors[e] + batch])
                cursors[e] += batch
            return picks, torch.cat(picks)

        def step(i: int, drawn: tuple[list[Any], Any]) -> float:
            nonlocal optimizer
            picks, index = drawn
            logits_all = network(Z_full if index is None else Zt[index])
            batches, start = [], 0
            for p in picks:
                batches.append((logits_all[start : start + len(p)], yt[p]))
                start += len(p)
            loss, restart = self._objective(torch, batches, i)
            if restart:
                optimizer = new_optimizer()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return float(loss.detach())

        losses = train_loop(epochs * steps_per_epoch, draw, step)
        self.coefs_, self.intercepts_ = to_numpy_layers(params)
        self.loss_curve_ = [
            sum(losses[e * steps_per_epoch : (e + 1) * steps_per_epoch]) / steps_per_epoch
            for e in range(epochs)
        ]
        self.n_iter_ = len(losses)
        self._finish()

    def _environment_codes(self, X: pd.DataFrame, environments: Any) -> Array:
        """Each row's environment as a code 0..E-1 (the pooled ERM: one environment)."""
        return np.zeros(len(X), dtype=np.int64)

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
        X : DataFrame or 2-D array
            The model's input features (``feature_names_in_``; an array in that order); other columns of a
            DataFrame are ignored.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "coefs_")
        _, cols = self._predict_frame(X, "decision_function")
        h = mlp_forward(self._matrix(cols), self.coefs_, self.intercepts_)
        return np.asarray(h[:, 0], dtype=np.float64)

    def predict_proba(self, X: pd.DataFrame) -> Array:
        """Probabilities of classes 0 and 1.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The model's input features (``feature_names_in_``; an array in that order); other columns of a
            DataFrame are ignored.

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> Array:
        """Predicted class: 1 where the logit is positive (P(1) > 0.5), else 0.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The model's input features (``feature_names_in_``; an array in that order); other columns of a
            DataFrame are ignored.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return (self.decision_function(X) > 0).astype(np.int64)

    def __sklearn_is_fitted__(self) -> bool:
        # ``lambda_`` is a hyperparameter whose name ends in "_"; fitted state is the trained weights.
        return hasattr(self, "coefs_")


@dataclass(eq=False, repr=False)
class _EnvironmentsBase(_InvarianceBase):
    """The methods that learn from environment labels (all but the pooled ERM)."""

    _: KW_ONLY
    group_by: Sequence[str] | None = None

    def _environment_codes(self, X: pd.DataFrame, environments: Any) -> Array:
        env = self._environments(X, environments)
        levels, env_codes = np.unique(env, return_inverse=True)
        counts = np.bincount(env_codes)
        if counts.min() < 2:
            small = [levels[i] for i in np.flatnonzero(counts < 2)]
            raise DataError(f"{type(self).__name__}.fit: environment(s) {small} have fewer than 2 rows")
        self.environments_ = levels
        return env_codes

    def _environments(self, X: pd.DataFrame, environments: Any) -> Array:
        owner = type(self).__name__
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
        if self.group_by is not None:
            return group_labels(X, self.group_by, owner)
        column = self.spec_.environment
        if column is None or column not in X.columns:
            where = (
                "the spec names no environment (robustness.environment)"
                if column is None
                else f"X has no column {column!r} (the spec's robustness.environment)"
            )
            raise DataError(
                f"{owner}: environments missing at fit: {where}. Pass fit(X, y, environments=labels), "
                f"or X as a DataFrame with the column {column!r}"
            )
        # Checked as every spec column is (declared categories, missing values), though not an input.
        checked = check_frame(X, [column], f"{owner}.fit", spec=self.spec_)
        return checked[column].to_numpy()


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
        random state is never touched). None means fresh entropy per fit, as in scikit-learn."""

_GROUP_BY_PARAM = """    group_by : list of str, optional
        Columns of ``X`` whose value combinations define the training groups (the "environments" of the
        objective), e.g. ``["E", "A"]`` for every environment × protected group; default: the spec's
        environment. ``fit(..., environments=)`` overrides both."""

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

    def _objective(self, torch: Any, batches: list[tuple[Any, Any]], step: int) -> tuple[Any, bool]:
        logits, y = batches[0]
        return self._risk(torch, logits, y), False


@dataclass(eq=False, repr=False)
class _AnnealedPenalty(_EnvironmentsBase):
    """IRM and V-REx: mean environment risk + weight × penalty, the weight annealed from 1 to λ."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_InvarianceBase._parameter_constraints,
        "lambda_": [_NONNEG],
        "anneal_steps": [Interval(Integral, 0, None, closed="left")],
    }
    _: KW_ONLY
    lambda_: float = 100.0
    anneal_steps: int = 100

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
{_GROUP_BY_PARAM}
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
{_GROUP_BY_PARAM}
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


@dataclass(eq=False, repr=False)
class GroupDROClassifier(_EnvironmentsBase):
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_InvarianceBase._parameter_constraints,
        "eta": [_NONNEG],
    }
    __doc__ = f"""Group distributionally robust optimisation (Sagawa et al. 2020), as defined in DomainBed.

    Keeps a weight ``q_e`` per training environment, starting uniform; each step updates
    ``q_e ← q_e · exp(eta · R_e)``, renormalises, and minimises ``Σ_e q_e R_e``, so the environments with
    the highest risk (often the small ones that pooled ERM neglects) gain weight.

    Parameters
    ----------
{_COMMON_PARAMS}
{_GROUP_BY_PARAM}
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

    _: KW_ONLY
    eta: float = 1e-2

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
