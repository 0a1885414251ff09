"""Logistic regression on standardised inputs, with the coefficients folded back to the raw scale.

Real tables mix scales (age in years, credit amounts in the thousands, one-hot columns): unscaled lbfgs then
stops before converging and L2 shrinks each coefficient by an amount that depends on its column's unit. The
fit standardises, and :func:`raw_coefficients` returns the equivalent coefficients on the raw columns, so a
fitted mechanism still evaluates ``X @ coef.T + intercept`` with NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ScaledLogistic", "raw_coefficients", "scaled_logistic"]


class ScaledLogistic:
    """``LogisticRegression(max_iter=1000)`` on columns standardised in NumPy (what a ``StandardScaler``
    pipeline does, without its per-call validation: a third of a logistic fit at 10,000 rows).

    ``mean_`` and ``scale_`` follow scikit-learn's ``StandardScaler`` (population standard deviation; a
    column whose variance is indistinguishable from 0 at float precision gets scale 1); ``model_`` is the
    fitted logistic regression, ``classes_`` its classes.
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> ScaledLogistic:
        from sklearn.linear_model import LogisticRegression

        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        var = X.var(axis=0)
        eps = np.finfo(np.float64).eps
        n = X.shape[0]
        # scikit-learn's test for a constant column (preprocessing._data._is_constant_feature).
        constant = var <= n * eps * var + (n * self.mean_ * eps) ** 2
        self.scale_ = np.where(constant, 1.0, np.sqrt(var))
        self.model_ = LogisticRegression(max_iter=1000).fit((X - self.mean_) / self.scale_, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        out: np.ndarray = self.model_.predict_proba(z)
        return out


def scaled_logistic() -> ScaledLogistic:
    """An unfitted :class:`ScaledLogistic` (standardise, then ``LogisticRegression(max_iter=1000)``)."""
    return ScaledLogistic()


def raw_coefficients(fitted: ScaledLogistic) -> tuple[np.ndarray, np.ndarray]:
    """``(coef, intercept)`` on the unscaled columns of a fitted :func:`scaled_logistic`.

    With z = (x − μ) / σ, the logit w·z + b equals (w / σ)·x + (b − Σ w μ / σ); constant columns have
    σ = 1, so nothing divides by zero.
    """
    coef = np.asarray(fitted.model_.coef_, dtype=np.float64) / fitted.scale_
    intercept = np.asarray(fitted.model_.intercept_, dtype=np.float64) - coef @ fitted.mean_
    return coef, intercept
