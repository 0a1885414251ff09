"""Logistic regression on standardised inputs, with the coefficients folded back to the raw scale.

Real tables mix scales (age in years, credit amounts in the thousands, one-hot columns): unscaled lbfgs then
stops before converging and L2 shrinks each coefficient by an amount that depends on its column's unit. The
fit standardises, and :func:`raw_coefficients` returns the equivalent coefficients on the raw columns, so a
fitted mechanism still evaluates ``X @ coef.T + intercept`` with NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["raw_coefficients", "scaled_logistic"]


def scaled_logistic() -> Any:
    """``StandardScaler`` then ``LogisticRegression(max_iter=1000)``, as one scikit-learn pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def raw_coefficients(pipeline: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(coef, intercept)`` on the unscaled columns of a fitted :func:`scaled_logistic` pipeline.

    With z = (x − μ) / σ, the logit w·z + b equals (w / σ)·x + (b − Σ w μ / σ); constant columns have
    σ = 1 in scikit-learn, so nothing divides by zero.
    """
    scaler, model = pipeline[0], pipeline[-1]
    coef = np.asarray(model.coef_, dtype=np.float64) / scaler.scale_
    intercept = np.asarray(model.intercept_, dtype=np.float64) - coef @ scaler.mean_
    return coef, intercept
