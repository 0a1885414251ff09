"""Anchor regression / classification (issue 25's baseline) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

import causaltrust as ct
from causaltrust.learners import AnchorClassifier, AnchorRegressor
from causaltrust.learners._anchor import anchor_regression

# A hidden confounder H of X and Y; the environment E shifts X (α = 1.5, P(E = 1) = 0.3).
ALPHA, BETA, P1 = 1.5, 1.0, 0.3
CONFOUNDED = {
    "target": "Y",
    "features": ["E", "X"],
    "variables": {
        "E": {"type": "categorical", "role": "environment", "categories": [0, 1],
              "equation": "categorical([0.7, 0.3])"},
        "H": {"type": "continuous", "observed": False, "equation": "normal(0, 1)"},
        "X": {"type": "continuous", "equation": "1.5*(E == 1) + H + normal(0, 1)"},
        "Y": {"type": "continuous", "role": "target", "equation": "1.0*X + H + normal(0, 1)"},
    },
    "robustness": {"environment": "E", "spurious_paths": [["E", "X"]]},
}  # fmt: skip


def test_closed_form_matches_the_normal_equations_with_an_explicit_projection():
    """An independent solve: the objective's normal equations with the n×n projection P_A built densely."""
    rng = np.random.default_rng(0)
    n = 300
    g = rng.integers(0, 3, n)
    Z = rng.normal(size=(n, 2)) + g[:, None] * np.array([1.0, -0.5])
    y = Z @ np.array([1.0, 2.0]) + g + rng.normal(size=n)
    A = np.eye(3)[g]
    P = A @ np.linalg.solve(A.T @ A, A.T)
    D = np.column_stack([np.ones(n), Z])
    for gamma in (0.5, 1.0, 4.0, 50.0):
        M = np.eye(n) - P + gamma * P
        theta = np.linalg.solve(D.T @ M @ D, D.T @ M @ y)
        coef, intercept = anchor_regression(Z, y, g, gamma)
        np.testing.assert_allclose(coef, theta[1:], atol=1e-9)
        assert intercept == pytest.approx(theta[0], abs=1e-9)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 3.0, 30.0])
def test_population_solution_with_a_hidden_confounder(gamma):
    """b_γ = β + Var(H) / (Var(H) + Var(ε_X) + γ α² p (1 - p)) (the anchor-regression population solution,
    partialled into within- and between-environment parts). At n = 40,000 the slope's sd is below 0.01."""
    spec = ct.load_spec(CONFOUNDED)
    df = ct.SCM.from_spec(spec).sample(40_000, random_state=0)
    reg = AnchorRegressor(spec=spec, gamma=gamma).fit(df[spec.features], df["Y"])
    expected = BETA + 1.0 / (2.0 + gamma * ALPHA**2 * P1 * (1 - P1))
    assert reg.coef_[0] == pytest.approx(expected, abs=0.03)


def test_classifier_at_gamma_one_is_logistic_regression():
    """γ = 1 removes the penalty: the same objective as scikit-learn's LogisticRegression(C) on z-scored
    inputs; both optimisers stop within ~1e-6 of the optimum."""
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(4000, random_state=1)
    X, y = df[spec.features], df["Y"]
    clf = AnchorClassifier(spec=spec, gamma=1.0, C=0.5).fit(X, y)
    Z = clf.design_.transform({f: X[f].to_numpy() for f in clf.input_features_})
    mu, sd = Z.mean(axis=0), Z.std(axis=0)
    ref = LogisticRegression(C=0.5, tol=1e-10, max_iter=5000).fit((Z - mu) / sd, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_[0] / sd, atol=1e-4)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], ref.predict_proba((Z - mu) / sd)[:, 1], atol=1e-5)


def test_classifier_penalty_shrinks_environment_mean_residuals():
    """The anchor penalty's target: the per-environment mean residual of y - p falls as γ grows; with the
    environment as an input every environment's mean residual is already 0 up to the L2 term's pull on the
    environment columns, so γ changes the probabilities by well under 1e-3 (the tolerance; without the
    environment input they move by several points, see the first half)."""
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(6000, random_state=2)
    X, y, e = df[spec.features], df["Y"].to_numpy(), df["E"].to_numpy()

    def env_residual(model):
        r = y - model.predict_proba(X)[:, 1]
        return float(sum((e == k).mean() * r[e == k].mean() ** 2 for k in (0, 1, 2)))

    values = [env_residual(AnchorClassifier(spec=spec, gamma=g).fit(X, y)) for g in (1.0, 5.0, 50.0)]
    assert values[0] > values[1] > values[2]
    assert values[2] < 0.1 * values[0]
    kw = {"spec": spec, "use_environment_as_feature": True}
    p1 = AnchorClassifier(gamma=1.0, **kw).fit(X, y).predict_proba(X)
    p50 = AnchorClassifier(gamma=50.0, **kw).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(p1, p50, atol=1e-3)


def test_bad_inputs_are_clear():
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(200, random_state=0)
    for bad in (-1.0, float("nan"), float("inf"), "x"):
        with pytest.raises(InvalidParameterError, match="'gamma' parameter"):
            AnchorClassifier(spec=spec, gamma=bad).fit(df[spec.features], df["Y"])
    with pytest.raises(ct.DataError, match="binary target"):
        AnchorClassifier(spec=spec).fit(df[spec.features], df["Y"] * 2)
    variables = {**CONFOUNDED["variables"], "E": {**CONFOUNDED["variables"]["E"], "role": None}}
    no_env = ct.load_spec({"target": "Y", "features": ["E", "X"], "variables": variables})
    with pytest.raises(ct.SpecError, match="anchors on the environment"):
        AnchorRegressor(spec=no_env).fit(df[["E", "X"]], df["X"])


def test_predictions_survive_pickle_and_pool_an_unseen_environment(tmp_path):
    """Round trips (pickle, and the data-only model file); a new hospital (a category the shifts add) is
    pooled, not a crash."""
    import pickle

    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(1500, random_state=4)
    clf = AnchorClassifier(spec=spec, gamma=3.0, use_environment_as_feature=True).fit(
        df[spec.features], df["Y"]
    )
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(df[spec.features]), clf.predict_proba(df[spec.features]))
    clf.save(tmp_path / "anchor.ctm")
    loaded = ct.load_model(tmp_path / "anchor.ctm")
    np.testing.assert_array_equal(
        loaded.predict_proba(df[spec.features]), clf.predict_proba(df[spec.features])
    )
    new = scm.shift("new_hospital").sample(50, random_state=0)[spec.features]
    p = clf.predict_proba(new)[:, 1]
    assert np.isfinite(p).all()
    # A logistic model on the one-hot block of E, which for hospital 3 holds the known hospitals' training
    # shares (counted here): its logit is the shares-weighted logit at each known hospital.
    shares = np.bincount(df["E"], minlength=3) / len(df)
    logits = [np.log(q) - np.log1p(-q) for q in (clf.predict_proba(new.assign(E=c))[:, 1] for c in range(3))]
    expected = sum(w * z for w, z in zip(shares, logits, strict=True))
    np.testing.assert_allclose(np.log(p) - np.log1p(-p), expected, rtol=1e-9, atol=1e-9)
