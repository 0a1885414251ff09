"""Logistic mechanisms fitted on standardised inputs, evaluated with coefficients on the raw scale."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import softmax

from causaltrust.scm._scaled import raw_coefficients, scaled_logistic


def test_raw_coefficients_reproduce_the_pipeline_probabilities() -> None:
    rng = np.random.default_rng(0)
    n = 500
    # Columns on wildly different scales, one constant (its scale is 1 in scikit-learn: no division by 0).
    X = np.column_stack([rng.normal(0, 5_000, n), rng.integers(0, 2, n), np.ones(n), rng.normal(40, 12, n)])
    y = rng.integers(0, 3, n)
    pipe = scaled_logistic().fit(X, y)
    coef, intercept = raw_coefficients(pipe)
    # Independent computation: softmax of the raw-scale logits must equal the pipeline's predict_proba.
    np.testing.assert_allclose(softmax(X @ coef.T + intercept, axis=1), pipe.predict_proba(X), atol=1e-12)


def test_badly_scaled_binary_fit_converges() -> None:
    rng = np.random.default_rng(1)
    n = 2_000
    amount = rng.lognormal(8, 0.8, n)  # credit amounts in the thousands, right-skewed
    y = (rng.random(n) < 1 / (1 + np.exp(-(amount - 3_000) / 2_000))).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning fails the test
        pipe = scaled_logistic().fit(amount[:, None], y)
    coef, intercept = raw_coefficients(pipe)
    p1 = 1 / (1 + np.exp(-(amount * coef[0, 0] + intercept[0])))
    np.testing.assert_allclose(p1, pipe.predict_proba(amount[:, None])[:, 1], atol=1e-12)
