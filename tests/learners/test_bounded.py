"""Bounded robustness (issue 25): robustness="bounded" with shift_strength=γ on the selective learners."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

import causaltrust as ct
from causaltrust.learners import SelectiveInvarianceClassifier, SelectiveInvarianceRegressor
from causaltrust.learners._bounded import augment_spurious

# A linear-Gaussian world where every quantity has a closed form. E shifts the measured X (spurious) and Y
# (contextual); L ~ N(0.8 F, 1) is latent, X = L + δ(E) its noise-free measurement.
LINEAR = {
    "target": "Y",
    "features": ["E", "F", "X"],
    "variables": {
        "E": {"type": "categorical", "role": "environment", "categories": [0, 1],
              "equation": "categorical([0.5, 0.5])"},
        "F": {"type": "continuous", "equation": "normal(0, 1)"},
        "L": {"type": "continuous", "observed": False, "equation": "0.8*F + normal(0, 1)"},
        "X": {"type": "continuous", "measures": "L", "equation": "L + 1.0*(E == 1)"},
        "Y": {"type": "continuous", "role": "target",
              "equation": "1.5*L + 0.5*F + 0.7*(E == 1) + normal(0, 1)"},
    },
    "robustness": {"environment": "E", "spurious_paths": [["E", "X"]], "contextual_paths": [["E", "Y"]]},
    "shifts": {"new_device": {"description": "env 1's offset moves by -1.5",
                              "equations": {"X": "L - 0.5*(E == 1)"}}},
}  # fmt: skip
# Population moments of (F, L) and their covariance with Y (the per-environment intercepts absorb 0.7·E):
SIGMA = np.array([[1.0, 0.8], [0.8, 1.64]])
COV_Y = np.array([0.5 + 1.5 * 0.8, 0.8 * 0.5 + 1.5 * 1.64])
VAR_Y = 1.5**2 * 1.64 + 0.5**2 + 2 * 1.5 * 0.5 * 0.8 + 1.0  # Var(Y | E)
N = 20_000


def _worst_case_optimum(gamma: float, sigma: float = 1.0) -> tuple[np.ndarray, float]:
    """(a_F, w_X) minimising the worst case over per-environment offset moves |u_e| <= γσ, and that risk.

    For f = b_E + a F + w x̃ the risk under a move u_e is R0 + w² u_e² - 2 w u_e E[resid | e]; with free
    environment intercepts the residual mean is 0, so the worst case is R0(a, w) + γ²σ² w²: a ridge on w.
    """
    lam = np.diag([0.0, (gamma * sigma) ** 2])
    theta = np.linalg.solve(SIGMA + lam, COV_Y)
    return theta, float(VAR_Y - COV_Y @ theta)


@pytest.fixture(scope="module")
def linear():
    spec = ct.load_spec(LINEAR)
    scm = ct.SCM.from_spec(spec)
    return spec, scm, scm.sample(N, random_state=0), scm.sample(N, random_state=1)


def _reg(spec, scm, gamma, **kw):
    return SelectiveInvarianceRegressor(
        spec=spec, scm=scm, robustness="bounded", shift_strength=gamma, random_state=0, **kw
    )


def test_squared_loss_objective_is_exactly_the_worst_case_ridge_on_the_sample(linear):
    """On the training sample itself: the fitted coefficients solve min R0 + γ²σ̂² w_X² (a generalised
    ridge computed here with NumPy), to rounding. σ̂ is L's residual sd given F, from the sample's true L."""
    spec, scm, train, _ = linear
    gamma = 1.3
    reg = _reg(spec, scm, gamma).fit(train[spec.features], train["Y"])
    e1 = (train["E"].to_numpy() == 1).astype(float)
    f, lab, y = (train[c].to_numpy() for c in ("F", "L", "Y"))
    sd = np.std(lab - 0.8 * f)
    assert reg.shift_scales_["X"] == pytest.approx(sd, rel=1e-12)
    D = np.column_stack([e1, f, lab])  # mapped X is L (reference environment 0 has offset 0)
    Dc, yc = D - D.mean(axis=0), y - y.mean()
    pen = np.diag([0.0, 0.0, (gamma * sd) ** 2])
    theta = np.linalg.solve(Dc.T @ Dc / N + pen, Dc.T @ yc / N)
    coef = dict(zip(reg.design_.names, reg.estimator_.coef_, strict=True))
    assert coef["F"] == pytest.approx(theta[1], abs=1e-8)
    assert coef["X"] == pytest.approx(theta[2], abs=1e-8)
    assert coef["E=1"] - coef["E=0"] == pytest.approx(theta[0], abs=1e-8)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 4.0])
def test_worst_case_risk_matches_the_closed_form(linear, gamma):
    """Coefficients and worst-case risk against the population closed form. The coefficient's sampling sd
    at n = 20,000 is about 1/sqrt(n · Var(L | F)) ≈ 0.007, so 0.03 is over 4 sd; the risk on 20,000 fresh
    rows has sd ≈ sqrt(2/n) · R ≈ 0.03, so 0.12 (4 sd) bounds it."""
    spec, scm, train, test = linear
    reg = _reg(spec, scm, gamma).fit(train[spec.features], train["Y"])
    theta, risk = _worst_case_optimum(gamma)
    coef = dict(zip(reg.design_.names, reg.estimator_.coef_, strict=True))
    assert coef["F"] == pytest.approx(theta[0], abs=0.03)
    assert coef["X"] == pytest.approx(theta[1], abs=0.03)
    # Worst case of the fitted model: each environment's offset moved by ±γ in the direction that hurts.
    X = test[spec.features].copy()
    worst = 0.0
    for e in (0, 1):
        rows = X["E"].to_numpy() == e
        sub = X[rows]
        risks = []
        for sign in (-1.0, 1.0):
            moved = sub.assign(X=sub["X"] + sign * gamma)
            risks.append(np.mean((test["Y"].to_numpy()[rows] - reg.predict(moved)) ** 2))
        worst += rows.mean() * max(risks)
    assert worst == pytest.approx(risk, abs=0.12)


def test_spurious_effect_falls_monotonically_in_gamma_as_the_closed_form_says(linear):
    """Under new_device (env 1's offset moves by -1.5) the effect on the prediction is |w_X| · 1.5 on env 1's
    rows: 0.75 |w_X(γ)| in expectation. Tolerance: 0.75 · 0.03 (the coefficient bound above) + 0.01 for
    P(E = 1) on 20,000 rows (sd 0.0035)."""
    spec, scm, train, test = linear
    shifted = scm.counterfactual(test, shift="new_device", random_state=0)
    effects = []
    for gamma in [0.0, 0.5, 1.0, 2.0, 4.0, 16.0]:
        reg = _reg(spec, scm, gamma).fit(train[spec.features], train["Y"])
        effect = float(
            np.mean(np.abs(reg.predict(shifted[spec.features]) - reg.predict(test[spec.features])))
        )
        assert effect == pytest.approx(0.75 * abs(_worst_case_optimum(gamma)[0][1]), abs=0.0325)
        effects.append(effect)
    assert all(b < a for a, b in itertools.pairwise(effects))
    assert effects[0] > 1.0  # map's full effect ...
    assert effects[-1] < 0.01  # ... down to essentially drop's zero


def test_large_gamma_keeps_what_the_rest_of_the_graph_says_about_the_latent(linear):
    """γ → ∞: the X coefficient vanishes and F's becomes the regression of Y on F alone, 0.5 + 1.5 · 0.8 =
    1.7: E[L | F] is kept (drop's linear fit), rather than losing L's part as a plain drop of X would."""
    spec, scm, train, _ = linear
    reg = _reg(spec, scm, 1e3).fit(train[spec.features], train["Y"])
    drop = SelectiveInvarianceRegressor(spec=spec, scm=scm, robustness="drop").fit(
        train[spec.features], train["Y"]
    )
    coef = dict(zip(reg.design_.names, reg.estimator_.coef_, strict=True))
    assert abs(coef["X"]) < 1e-5
    assert coef["F"] == pytest.approx(1.7, abs=0.03)  # sampling sd ≈ 0.013 at n = 20,000
    np.testing.assert_allclose(
        reg.predict(train[spec.features]), drop.predict(train[spec.features]), atol=1e-3
    )


@pytest.fixture(scope="module")
def readmission():
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm, scm.sample(3000, random_state=1), scm.sample(2000, random_state=2)


@pytest.mark.parametrize("fairness", [True, False])
def test_gamma_zero_is_exactly_map(readmission, fairness):
    spec, scm, train, test = readmission
    X, y = train[spec.features], train["Y"]
    kw = {"spec": spec, "scm": scm, "fairness": fairness, "random_state": 0}
    m = SelectiveInvarianceClassifier(robustness="map", **kw).fit(X, y)
    b = SelectiveInvarianceClassifier(robustness="bounded", shift_strength=0.0, **kw).fit(X, y)
    np.testing.assert_allclose(
        b.predict_proba(test[spec.features]), m.predict_proba(test[spec.features]), atol=1e-9
    )
    # adapt() composes: the γ = 0 mapping on target rows, so the adapted models agree as well.
    target = scm.shift("new_device").sample(2000, random_state=3)[spec.features]
    np.testing.assert_allclose(
        b.adapt(target).predict_proba(test[spec.features]),
        m.adapt(target).predict_proba(test[spec.features]),
        atol=1e-9,
    )


def test_gamma_zero_regressor_is_exactly_map(linear):
    spec, scm, train, test = linear
    m = SelectiveInvarianceRegressor(spec=spec, scm=scm, robustness="map").fit(
        train[spec.features], train["Y"]
    )
    b = _reg(spec, scm, 0.0).fit(train[spec.features], train["Y"])
    np.testing.assert_allclose(b.predict(test[spec.features]), m.predict(test[spec.features]), atol=1e-9)


class _Recorder(ClassifierMixin, BaseEstimator):
    """A logistic regression that keeps what it was trained on."""

    def fit(self, X, y, sample_weight=None):
        self.X_, self.y_, self.w_ = np.array(X), np.array(y), sample_weight
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class _PrivateRecorder(_Recorder):
    """Looks differentially private to the learner (it has a ``target_epsilon``)."""

    def __init__(self, target_epsilon=1.0):
        self.target_epsilon = target_epsilon


@pytest.mark.parametrize("fairness", [True, False])
def test_augmentation_leaves_labels_and_other_columns_untouched(readmission, fairness):
    """With fairness on (fair-world soft labels, mapped proxy) and off: against map's training matrix, each
    row appears as an antithetic pair that differs in the measured lab X only, by ±γσz, with the same label,
    and a person's weights still sum to what map gives it."""
    spec, scm, train, _ = readmission
    X, y = train[spec.features].iloc[:1000], train["Y"].iloc[:1000]
    kw = {"spec": spec, "scm": scm, "fairness": fairness, "n_draws": 1, "random_state": 0}
    m = SelectiveInvarianceClassifier(estimator=_Recorder(), robustness="map", **kw).fit(X, y)
    gamma = 1.5
    b = SelectiveInvarianceClassifier(estimator=_Recorder(), robustness="bounded", shift_strength=gamma, **kw)
    b.fit(X, y)
    x = b.design_.names.index("X")
    other = [j for j in range(len(b.design_.names)) if j != x]
    Zm = m.estimator_.X_
    # Rows come as (unit, copy): soft labels stack (label 1 rows; label 0 rows), each unit's pair together.
    Zb = b.estimator_.X_.reshape(len(Zm), 2, -1)
    np.testing.assert_array_equal(Zb[:, 0, other], Zm[:, other])
    np.testing.assert_array_equal(Zb[:, 1, other], Zm[:, other])
    u = Zb[:, 0, x] - Zm[:, x]
    np.testing.assert_allclose(Zb[:, 1, x] - Zm[:, x], -u, atol=1e-12)
    np.testing.assert_array_equal(b.estimator_.y_.reshape(-1, 2), np.column_stack([m.estimator_.y_] * 2))
    wm = np.ones(len(Zm)) if m.estimator_.w_ is None else m.estimator_.w_  # map: hard labels, unweighted
    np.testing.assert_allclose(b.estimator_.w_.reshape(-1, 2).sum(axis=1), wm, rtol=1e-12)
    if not fairness:  # hard labels: each unit exactly once (soft ones drop the zero-weight rows)
        # The shift's second moment over the 1,000 units is exactly (γσ)², σ the latent L's noise sd.
        assert np.mean(u**2) == pytest.approx((gamma * b.shift_scales_["X"]) ** 2, rel=1e-9)
    assert np.any(np.abs(u) > 0.5)
    # σ of readmission's L is its noise sd, 1 (1,000 units: the sd estimate's sd is ≈ 0.022; 4 sd).
    assert b.shift_scales_["X"] == pytest.approx(1.0, abs=0.09)


def test_reference_centred_shifts_train_on_the_reference_device(readmission):
    """shift_center="reference", γ = 0: every unit is trained as if a device with the reference hospital's
    offset (0) had measured it *and* the mapping then removed its own hospital's training offset:
    x - 2·δ(E), δ = (0, 0.8, -0.5) from the spec. Other columns and labels as map's."""
    spec, scm, train, _ = readmission
    X, y = train[spec.features].iloc[:800], train["Y"].iloc[:800]
    kw = {"spec": spec, "scm": scm, "fairness": False, "n_draws": 1, "random_state": 0}
    m = SelectiveInvarianceClassifier(estimator=_Recorder(), robustness="map", **kw).fit(X, y)
    r = SelectiveInvarianceClassifier(
        estimator=_Recorder(), robustness="bounded", shift_strength=0.0, shift_center="reference", **kw
    ).fit(X, y)
    x = r.design_.names.index("X")
    delta = np.array([0.0, 0.8, -0.5])[X["E"].to_numpy()]
    np.testing.assert_allclose(r.estimator_.X_[:, x], X["X"].to_numpy() - 2 * delta, atol=1e-12)
    other = [j for j in range(len(r.design_.names)) if j != x]
    np.testing.assert_array_equal(r.estimator_.X_[:, other], m.estimator_.X_[:, other])
    np.testing.assert_array_equal(r.estimator_.y_, m.estimator_.y_)
    with pytest.raises(ValueError, match="shift_center must be 'training'"):
        SelectiveInvarianceClassifier(robustness="bounded", shift_center="pooled", **kw).fit(X, y)


def test_augment_spurious_keeps_draw_blocks_and_labels():
    cols = {"X": np.arange(6.0), "Z": np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])}
    target = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    out, y = augment_spurious(cols, target, {"X": 2.0}, 0.5, units=3, draws=2, copies=2, seed=0)
    np.testing.assert_array_equal(y, np.repeat(target.reshape(3, 1, 2), 2, axis=1).reshape(-1))
    np.testing.assert_array_equal(out["Z"], np.repeat(cols["Z"].reshape(3, 1, 2), 2, axis=1).reshape(-1))
    shift = (out["X"] - np.repeat(cols["X"].reshape(3, 1, 2), 2, axis=1).reshape(-1)).reshape(3, 2, 2)
    np.testing.assert_allclose(shift[:, :, 0], shift[:, :, 1])  # one shift per (unit, copy), all its draws
    np.testing.assert_allclose(shift[:, 0, 0], -shift[:, 1, 0])
    assert np.mean(shift[:, 0, 0] ** 2) == pytest.approx(1.0)  # (γσ)² = (0.5 · 2)²


def test_private_estimator_sees_each_person_once(readmission):
    spec, scm, train, _ = readmission
    clf = SelectiveInvarianceClassifier(
        spec=spec, scm=scm, estimator=_PrivateRecorder(), robustness="bounded", n_draws=8, random_state=0
    ).fit(train[spec.features].iloc[:500], train["Y"].iloc[:500])
    assert clf.estimator_.X_.shape[0] == 500
    assert set(np.unique(clf.estimator_.y_).tolist()) <= {0.0, 1.0}


def test_bad_inputs_are_clear(readmission, linear):
    spec, scm, train, _ = readmission
    X, y = train[spec.features].iloc[:300], train["Y"].iloc[:300]
    for bad in (-1.0, float("inf"), "big", True):
        with pytest.raises(ValueError, match="shift_strength must be a finite number >= 0"):
            SelectiveInvarianceClassifier(spec=spec, scm=scm, robustness="bounded", shift_strength=bad).fit(
                X, y
            )
    with pytest.raises(ValueError, match="'map', 'bounded', 'drop'"):
        SelectiveInvarianceClassifier(spec=spec, scm=scm, robustness="worst").fit(X, y)
    lspec = LINEAR | {
        "variables": {**LINEAR["variables"], "W": {"type": "continuous", "equation": "X + normal(0, 1)"}}
    }
    lspec = lspec | {"features": ["E", "F", "X", "W"]}
    spec2 = ct.load_spec(lspec)
    df = ct.SCM.from_spec(spec2).sample(200, random_state=0)
    with pytest.raises(ct.SpecError, match=r"spurious node 'X' feeds the input\(s\) \['W'\]"):
        SelectiveInvarianceRegressor(spec=spec2, robustness="bounded", scm_mechanisms="linear").fit(
            df[spec2.features], df["Y"]
        )
