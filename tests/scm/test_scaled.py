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


def test_category_absent_from_training_rows_keeps_add_one_mass() -> None:
    import pandas as pd

    import causaltrust as ct

    spec = ct.load_spec(
        {
            "target": "C",
            "variables": {
                "A": {"type": "binary"},
                "C": {"type": "categorical", "categories": ["x", "y", "z"], "parents": ["A"]},
            },
        }
    )
    rng = np.random.default_rng(0)
    n = 300
    a = rng.integers(0, 2, n)
    c = np.where(rng.random(n) < 0.3 + 0.4 * a, "y", "x")  # "z" never occurs in training
    scm = ct.SCM.fit(spec, pd.DataFrame({"A": a, "C": c}), mechanisms="linear", random_state=0)
    probs = scm.mechanisms["C"].probs({"A": np.array([0.0, 1.0])}, 2)
    # Add-one for the one unseen category: 1 / (n + 1) of the mass, the rest as the logistic model says.
    np.testing.assert_allclose(probs[:, 2], 1 / (n + 1))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    # A test row in the unseen category is abducted instead of contradicting the model.
    cf = scm.counterfactual(pd.DataFrame({"A": [0], "C": ["z"]}), do={"A": 1}, random_state=0)
    assert cf["C"].iloc[0] in {"x", "y", "z"}


def test_numpy_standardisation_matches_the_scikit_learn_pipeline() -> None:
    # Independent computation: StandardScaler + LogisticRegression as a scikit-learn pipeline (what
    # scaled_logistic was before issue 30 day 3) on the same columns, a constant one included. Both solve the
    # same strictly convex problem on the same standardised columns (equal up to float rounding), so lbfgs
    # ends at the same optimum to within its tolerance (1e-4 on the gradient): probabilities agree to 1e-6.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(2)
    n = 2_000
    X = np.column_stack([rng.normal(0, 300, n), rng.integers(0, 2, n), np.full(n, 7.0), rng.normal(4, 2, n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, 0] / 300 + X[:, 1] - 0.5)))).astype(int)
    ours = scaled_logistic().fit(X, y)
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    np.testing.assert_allclose(ours.scale_, ref[0].scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
