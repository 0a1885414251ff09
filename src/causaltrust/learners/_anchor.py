"""Anchor regression and anchor classification: the environment as anchor, no path knowledge (issue 25).

Anchor regression (Rothenhäusler, Meinshausen, Bühlmann & Peters, "Anchor regression: heterogeneous data
meet causality", JRSS-B 2021) trades accuracy for invariance with one knob γ >= 0:

    b̂_γ = argmin_b  ||(I - P_A)(y - Xb)||² + γ ||P_A (y - Xb)||²,

where ``P_A`` projects onto the anchor's column space. Here the anchor is the environment, one-hot, so
``P_A r`` is each row's environment mean of the residual ``r``. γ = 1 is least squares; γ → ∞ forces the
per-environment mean residuals to zero (the instrumental-variable end); the solution minimises the worst
risk over shifts of the anchor of strength up to γ. Its closed form is least squares on ``W X, W y`` with
``W = I - (1 - √γ) P_A``.

Anchor classification uses the same penalty on the response residual ``r = y - p`` of a logistic model
(as ``anchorboosting``'s classification loss does, here with a linear model to compare like with like with
the other linear baselines): ``mean log-loss + (γ - 1) · mean((P_A r)²)`` plus the L2 term of scikit-learn's
``LogisticRegression(C)``, minimised with L-BFGS.

Neither knows which paths are spurious. The environment is not an input by default
(``use_environment_as_feature=False``): with per-environment intercepts among the inputs the fit already
makes every environment's mean residual zero (up to the L2 term), and the penalty does next to nothing
(anchor ≈ ERM at every γ).
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

from causaltrust.exceptions import SpecError
from causaltrust.learners._base import (
    BinaryClassifierMixin,
    Design,
    RegressorMixin,
    SpecEstimator,
    fit_context,
)
from causaltrust.learners._invariance import group_labels
from causaltrust.spec import TrustSpec

__all__ = ["AnchorClassifier", "AnchorRegressor", "anchor_regression"]

Array = np.ndarray


def _env_projection(groups: Array, n_groups: int) -> Any:
    """``r -> P_A r``: each row's group mean of ``r`` (``r`` 1-D or 2-D, rows first)."""
    counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
    counts[counts == 0] = 1.0

    def project(r: Array) -> Array:
        r2 = r.reshape(len(r), -1)
        sums = np.zeros((n_groups, r2.shape[1]))
        np.add.at(sums, groups, r2)
        return (sums / counts[:, None])[groups].reshape(r.shape)

    return project


def anchor_regression(Z: Array, y: Array, groups: Array, gamma: float) -> tuple[Array, float]:
    """Anchor regression of ``y`` on ``Z`` (with an intercept), the anchor being the one-hot ``groups``.

    Returns ``(coef, intercept)``: least squares on ``W [1, Z], W y`` with ``W = I - (1 - √γ) P_A``. The
    constant lies in the anchor's span, so its column is transformed too (``W 1 = √γ 1``); γ = 0 then leaves
    the intercept undetermined (every environment mean is partialled out) and it is set to the pooled mean
    residual.

    Examples
    --------
    >>> import numpy as np
    >>> from causaltrust.learners._anchor import anchor_regression
    >>> rng = np.random.default_rng(0)
    >>> g = rng.integers(0, 2, 500)
    >>> x = rng.normal(size=(500, 1)) + g[:, None]
    >>> coef, b = anchor_regression(x, 2 * x[:, 0] + 1 + rng.normal(size=500) * 0.01, g, 1.0)
    >>> bool(abs(coef[0] - 2) < 0.01 and abs(b - 1) < 0.01)
    True
    """
    project = _env_projection(groups, int(groups.max()) + 1 if len(groups) else 0)
    D = np.column_stack([np.ones(len(Z)), Z])
    shrink = 1.0 - math.sqrt(gamma)
    Dw, yw = D - shrink * project(D), y - shrink * project(y)
    theta = np.linalg.lstsq(Dw, yw, rcond=None)[0]
    if gamma == 0.0:
        theta[0] = float(np.mean(y - Z @ theta[1:]))
    return theta[1:], float(theta[0])


@dataclass(eq=False, repr=False)
class _AnchorBase(SpecEstimator):
    """Shared validation and encoding; subclasses solve their objective in ``_solve``."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **SpecEstimator._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="left")],
        "use_environment_as_feature": ["boolean"],
        "group_by": [list, tuple, None],
    }

    spec: Any = None
    _: KW_ONLY
    gamma: float = 5.0
    use_environment_as_feature: bool = False
    group_by: Sequence[str] | None = None
    random_state: int | None = None

    def _check_spec(self, spec: TrustSpec) -> None:
        env = spec.environment
        if env is None or env not in spec.features:
            raise SpecError(
                f"{type(self).__name__} anchors on the environment: the spec needs a 'robustness' section "
                f"whose environment is among its features {spec.features}"
            )

    @fit_context(nested=False)
    def fit(self, X: pd.DataFrame, y: Any) -> _AnchorBase:
        """Fit on the spec's features of ``X``, the spec's environment column as the anchor.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The spec's features, the environment among them (an array: in the spec's feature order).
        y : array-like
            The target (0/1 for the classifier).
        """
        X, y_arr = self._prepare(X, y)
        gamma = float(self.gamma)  # finite and >= 0: _parameter_constraints
        spec = self.spec_
        env = spec.environment
        assert env is not None
        inputs = (
            list(spec.features) if self.use_environment_as_feature else [f for f in spec.features if f != env]
        )
        self.input_features_ = inputs
        cols = self._columns(X)
        self.design_ = Design(self.meta_, inputs).fit(cols)
        Z = self.design_.transform(cols)
        if self.group_by is None:
            groups, n_groups = cols[env].astype(np.int64), len(self.meta_[env].categories)
        else:
            # One anchor level per observed combination of the group_by columns (e.g. environment × A).
            _, groups = np.unique(group_labels(X, self.group_by, type(self).__name__), return_inverse=True)
            groups, n_groups = groups.astype(np.int64), int(groups.max()) + 1
        y_num = np.asarray(y_arr, dtype=np.float64)
        self.coef_, self.intercept_ = self._solve(Z, y_num, groups, n_groups, gamma)
        return self

    def _solve(self, Z: Array, y: Array, groups: Array, n_groups: int, gamma: float) -> tuple[Array, float]:
        raise NotImplementedError

    def decision_function(self, X: pd.DataFrame) -> Array:
        """The linear score ``Z coef + intercept`` (the logit for the classifier)."""
        check_is_fitted(self, "coef_")
        # A category the training rows never had (a new hospital) is pooled by the design.
        _, cols = self._predict_frame(X, "decision_function")
        return np.asarray(self.design_.transform(cols) @ self.coef_ + self.intercept_, dtype=np.float64)


class AnchorRegressor(RegressorMixin, _AnchorBase):
    """Linear anchor regression with the environment as anchor (closed form; see the module docstring).

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec: features, target and the environment (``robustness.environment``).
    gamma : float, default 5.0
        The anchor strength γ >= 0: 1 is least squares, larger is more invariant across environments.
    use_environment_as_feature : bool, default False
        Whether the environment is also an input (then the penalty has no effect).
    group_by : list of str, optional
        Columns of ``X`` whose value combinations are the anchor's levels, e.g. ``["E", "A"]`` (every
        environment × protected group); default: the spec's environment.
    random_state : int, optional
        Unused: the fit is deterministic (kept for the estimators' common contract).

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec = ct.load_spec({
    ...     "target": "Y", "features": ["E", "X"],
    ...     "variables": {
    ...         "E": {"type": "categorical", "role": "environment", "categories": [0, 1],
    ...               "equation": "categorical([0.5, 0.5])"},
    ...         "X": {"type": "continuous", "equation": "1.0*(E == 1) + normal(0, 1)"},
    ...         "Y": {"type": "continuous", "role": "target", "equation": "2*X + normal(0, 1)"}},
    ...     "robustness": {"environment": "E", "spurious_paths": [["E", "X"]]}})
    >>> df = ct.SCM.from_spec(spec).sample(2000, random_state=0)
    >>> reg = ct.learners.AnchorRegressor(spec=spec, gamma=1.0).fit(df[["E", "X"]], df["Y"])
    >>> round(float(reg.coef_[0]), 1)
    2.0
    """

    _target = "continuous"

    def _solve(self, Z: Array, y: Array, groups: Array, n_groups: int, gamma: float) -> tuple[Array, float]:
        return anchor_regression(Z, y, groups, gamma)

    def predict(self, X: pd.DataFrame) -> Array:
        """Predictions ``Z coef + intercept``."""
        return self.decision_function(X)


@dataclass(eq=False, repr=False)
class AnchorClassifier(BinaryClassifierMixin, _AnchorBase):
    """Linear logistic anchor classification with the environment as anchor (see the module docstring).

    Minimises ``mean log-loss + (γ - 1) · mean((P_A (y - p))²) + ||w||² / (2 C n)`` over standardised
    inputs with L-BFGS; γ = 1 is scikit-learn's ``LogisticRegression(C)``.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec: features, binary target and the environment (``robustness.environment``).
    gamma : float, default 5.0
        The anchor strength γ >= 0.
    C : float, default 1.0
        Inverse L2 strength, as in scikit-learn (on standardised inputs).
    use_environment_as_feature : bool, default False
        Whether the environment is also an input (then the penalty has no effect).
    group_by : list of str, optional
        Columns of ``X`` whose value combinations are the anchor's levels, e.g. ``["E", "A"]`` (every
        environment × protected group); default: the spec's environment.
    max_iter : int, default 1000
        L-BFGS iterations.
    random_state : int, optional
        Unused: the fit is deterministic (kept for the estimators' common contract).

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.AnchorClassifier(spec=spec, gamma=5.0).fit(train[spec.features], train["Y"])
    >>> clf.predict_proba(train[spec.features].head(2)).shape
    (2, 2)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_AnchorBase._parameter_constraints,
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    _: KW_ONLY
    C: float = 1.0
    max_iter: int = 1000

    def _solve(self, Z: Array, y: Array, groups: Array, n_groups: int, gamma: float) -> tuple[Array, float]:
        from scipy.optimize import minimize
        from scipy.special import expit, log_expit

        n = len(y)
        mean, scale = Z.mean(axis=0), Z.std(axis=0)
        scale[scale == 0] = 1.0
        S = (Z - mean) / scale
        project = _env_projection(groups, n_groups)
        pen, l2 = gamma - 1.0, 1.0 / (2.0 * float(self.C) * n)

        def loss(theta: Array) -> tuple[float, Array]:
            w, b = theta[1:], theta[0]
            eta = S @ w + b
            p = expit(eta)
            val = -np.mean(y * log_expit(eta) + (1 - y) * log_expit(-eta))
            g_eta = (p - y) / n
            pr = project(y - p)
            val += pen * float(np.mean(pr**2))
            # d/dη_i of mean((P r)²) = (2/n) (P P r)_i (-p_i (1 - p_i)), and P P = P.
            g_eta += pen * (2.0 / n) * pr * (-p * (1.0 - p))
            grad = np.concatenate([[g_eta.sum()], S.T @ g_eta])
            val += l2 * float(w @ w)
            grad[1:] += 2.0 * l2 * w
            return float(val), grad

        res = minimize(
            loss,
            np.zeros(S.shape[1] + 1),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(self.max_iter)},
        )
        w = res.x[1:] / scale
        self.n_iter_ = int(res.nit)
        return w, float(res.x[0] - w @ mean)

    def predict_proba(self, X: pd.DataFrame) -> Array:
        """Probabilities of classes 0 and 1."""
        from scipy.special import expit

        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> Array:
        """Predicted class (1 when P(1) >= 0.5)."""
        return (self.decision_function(X) >= 0.0).astype(np.int64)
