"""Standard unlabeled-target baselines: what any model can do with unlabeled rows of a new environment.

The selective learner's ``adapt`` gets an unlabeled sample of the shifted environment; so do these, so that
robustness is compared like with like (DESIGN.md, "Two robustness regimes"):

* :class:`RecenteringClassifier` standardises each continuous feature within its environment (mean 0, sd 1
  per level); ``adapt`` recomputes the statistics on the new rows. It removes an additive artifact, and
  also any real difference between the populations.
* :class:`ImportanceWeightedClassifier` is ERM; ``adapt`` refits it with importance weights
  p(new | x) / p(train | x) from a logistic domain classifier (covariate-shift correction, Shimodaira 2000).
"""

from __future__ import annotations

import copy
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from causaltrust.exceptions import SpecError
from causaltrust.learners._base import (
    ESTIMATOR_CONSTRAINT,
    BinaryClassifierMixin,
    Design,
    SpecEstimator,
    fit_context,
)
from causaltrust.spec import TrustSpec

__all__ = ["ImportanceWeightedClassifier", "RecenteringClassifier"]

Array = np.ndarray
# Importance weights are clipped at this multiple of their mean: a few rows the domain classifier is sure
# about must not carry the whole refit (the usual variance control of importance weighting).
_MAX_WEIGHT = 20.0


@dataclass(eq=False, repr=False)
class _ShiftBase(BinaryClassifierMixin, SpecEstimator):
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **SpecEstimator._parameter_constraints,
        "estimator": ESTIMATOR_CONSTRAINT,
    }

    spec: Any = None
    estimator: Any = None
    _: KW_ONLY
    random_state: int | None = None

    supports_adapt_ = True

    @fit_context(nested=True)
    def fit(self, X: pd.DataFrame, y: Any) -> _ShiftBase:
        """Encode the spec's features and fit the classifier (see the class docstring).

        Parameters
        ----------
        X : DataFrame or 2-D array
            The spec's features (an array: in the spec's feature order).
        y : array-like
            Binary target coded 0/1.

        Returns
        -------
        self
        """
        X, y_arr = self._prepare(X, y)
        cols = self._columns(X)
        self.design_ = Design(self.meta_, self.spec_.features).fit(cols)
        self._fit_encoded(cols, y_arr)
        return self

    def _fit_encoded(self, cols: dict[str, Array], y: Array) -> None:
        raise NotImplementedError

    def _estimator(self) -> Any:
        return self._clone(self.estimator, lambda: LogisticRegression(max_iter=1000))

    def _cols(self, X: Any, owner: str) -> dict[str, Array]:
        check_is_fitted(self, "estimator_")
        return self._predict_frame(X, owner)[1]

    def _matrix(self, cols: dict[str, Array]) -> Array:
        return self.design_.transform(cols)

    def predict_proba(self, X: pd.DataFrame) -> Array:
        """Probabilities of classes 0 and 1."""
        Z = self._matrix(self._cols(X, "predict_proba"))
        return np.asarray(self.estimator_.predict_proba(Z), dtype=np.float64)

    def predict(self, X: pd.DataFrame) -> Array:
        """Predicted class (1 when P(1) >= 0.5)."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


class RecenteringClassifier(_ShiftBase):
    """Per-environment re-centering and scaling of continuous features, then a classifier.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        Needs a ``robustness`` section (the environment is read from its column).
    estimator : classifier with predict_proba, default LogisticRegression(max_iter=1000)
    random_state : int, optional
        Unused (the fit is deterministic); kept for a uniform interface.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.RecenteringClassifier(spec=spec).fit(train[spec.features], train["Y"])
    >>> new = scm.shift("new_device").sample(500, random_state=2)
    >>> clf.adapt(new[spec.features]).predict_proba(new[spec.features]).shape
    (500, 2)
    """

    def _check_spec(self, spec: TrustSpec) -> None:
        if spec.robustness is None:
            raise SpecError(f"{type(self).__name__} needs a 'robustness' section naming the environment")

    def _fit_encoded(self, cols: dict[str, Array], y: Array) -> None:
        """Standardise continuous features within each environment level and fit the classifier."""
        spec = self.spec_
        self.env_ = cast(str, spec.environment)
        self.continuous_ = [f for f in spec.features if self.meta_[f].vtype == "continuous"]
        self.stats_ = self._stats(cols, {})
        self.estimator_ = self._estimator().fit(self._matrix(cols), y)

    def _stats(
        self, cols: dict[str, Array], old: dict[Any, dict[str, tuple[float, float]]]
    ) -> dict[Any, Any]:
        env = cols[self.env_]
        out = dict(old)
        out[None] = old.get(None) or {
            f: (float(cols[f].mean()), float(cols[f].std()) or 1.0) for f in self.continuous_
        }
        for code in np.unique(env):
            m = env == code
            out[int(code)] = {
                f: (float(cols[f][m].mean()), float(cols[f][m].std()) or 1.0) for f in self.continuous_
            }
        return out

    def _matrix(self, cols: dict[str, Array]) -> Array:
        cols = dict(cols)
        env = cols[self.env_]
        for f in self.continuous_:
            v = np.array(cols[f], dtype=np.float64)
            for code in np.unique(env):
                mean, sd = self.stats_.get(int(code), self.stats_[None])[f]  # unseen level: pooled statistics
                m = env == code
                v[m] = (v[m] - mean) / sd
            cols[f] = v
        return self.design_.transform(cols)

    def adapt(self, X_unlabeled: pd.DataFrame) -> RecenteringClassifier:
        """A new classifier whose per-environment statistics come from the unlabeled rows."""
        cols = self._cols(X_unlabeled, "adapt")
        new = copy.deepcopy(self)
        new.stats_ = self._stats(cols, self.stats_)  # levels absent from the new rows keep theirs
        return new


class ImportanceWeightedClassifier(_ShiftBase):
    """ERM, and after :meth:`adapt`, ERM reweighted by a domain classifier's density ratio.

    Parameters
    ----------
    spec : TrustSpec, dict or path
    estimator : classifier with predict_proba and sample_weight, default LogisticRegression(max_iter=1000)
    random_state : int, optional
        Unused; kept for a uniform interface.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.ImportanceWeightedClassifier(spec=spec).fit(train[spec.features], train["Y"])
    >>> new = scm.shift("new_device").sample(500, random_state=2)
    >>> float(clf.adapt(new[spec.features]).weights_.mean().round(6))
    1.0
    """

    def _fit_encoded(self, cols: dict[str, Array], y: Array) -> None:
        """Plain ERM on the one-hot features; the training rows are kept for :meth:`adapt`."""
        self.Z_train_ = self._matrix(cols)
        self.y_train_ = y
        self.estimator_ = self._estimator().fit(self.Z_train_, y)

    def adapt(self, X_unlabeled: pd.DataFrame) -> ImportanceWeightedClassifier:
        """Refit with weights p(new | x) / p(train | x) · n_train / n_new, clipped at 20x their mean."""
        Z_new = self._matrix(self._cols(X_unlabeled, "adapt"))
        Z = np.vstack([self.Z_train_, Z_new])
        d = np.concatenate([np.zeros(len(self.Z_train_)), np.ones(len(Z_new))])
        domain = LogisticRegression(max_iter=1000).fit(Z, d)
        p = np.clip(domain.predict_proba(self.Z_train_)[:, 1], 1e-6, 1 - 1e-6)
        w = p / (1 - p) * len(self.Z_train_) / len(Z_new)
        w = np.minimum(w / w.mean(), _MAX_WEIGHT)
        new = copy.deepcopy(self)
        new.weights_ = w / w.mean()
        new.estimator_ = self._estimator().fit(self.Z_train_, self.y_train_, sample_weight=new.weights_)
        return new
