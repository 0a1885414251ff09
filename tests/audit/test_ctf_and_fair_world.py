"""ctf_de / ctf_ie / ctf_se and fair-world labels against independent NumPy computations on readmission."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

import causaltrust as ct
from causaltrust.audit import AuditOptions, build_context
from causaltrust.audit._accuracy import accuracy_metrics
from causaltrust.audit._fairness import fairness_metrics

N = 2_000
P0, P1 = float(expit(-0.5)), float(expit(1.0))  # P(Z = 1 | A = 0), P(Z = 1 | A = 1)


@pytest.fixture(scope="module")
def readmission():
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm, scm.sample(N, random_state=7)  # L kept for the NumPy side, dropped for the audit


def _linear(df):
    return 0.3 * df["A"].to_numpy() + 0.2 * df["X"].to_numpy() + 0.5 * df["Z"].to_numpy()


def test_ctf_terms_against_numpy(readmission):
    spec, scm, test = readmission
    ctx = build_context(_linear, spec=spec, scm=scm, data=test.drop(columns="L"), random_state=0)
    m = {x.name: x.value for x in fairness_metrics(ctx)}
    a, x, z = (test[c].to_numpy(dtype=float) for c in ("A", "X", "Z"))
    # The unit's abducted uniform of Z (checked against the data), then the x1-world in NumPy: A = 1 on
    # every path, so X moves by 1.0 through L for the x0 units and Z becomes 1[U < P1].
    u = np.asarray(ctx.worlds.noises(["Z"])["Z"].eps)
    assert np.array_equal(u < np.where(a == 1, P1, P0), z == 1)
    x0, x1 = a == 0, a == 1
    f_fact = 0.3 * a + 0.2 * x + 0.5 * z
    f_de = 0.3 + 0.2 * x + 0.5 * z  # A→Ŷ only
    f_x1 = 0.3 + 0.2 * (x + (1 - a)) + 0.5 * np.where(x0, (u < P1).astype(float), z)
    assert m["fairness.ctf_de"] == pytest.approx(0.3, abs=1e-12)
    assert m["fairness.ctf_ie"] == pytest.approx((f_de - f_x1)[x0].mean(), abs=1e-12)
    assert m["fairness.ctf_se"] == pytest.approx(f_x1[x0].mean() - f_fact[x1].mean(), abs=1e-12)
    # And the closed form of ctf_ie in expectation: -0.2 - 0.5 P(Z1 = 1, Z = 0 | A = 0); the draws of U
    # give a binomial error with sd <= 0.5 * 0.5 / sqrt(n0): 5 sd.
    n0 = int(x0.sum())
    expected_ie = -0.2 - 0.5 * ((z[x0] == 0) * (P1 - P0) / (1 - P0)).mean()
    assert m["fairness.ctf_ie"] == pytest.approx(expected_ie, abs=5 * 0.25 / np.sqrt(n0))


def _fair_world_probability(test, policy=None):
    """P(fair-world Y = 1 | observed unit): A at 0 along A→Y and A→Z→Y, A→L→Y kept (DESIGN.md).

    ``policy`` is the hospital term of Y's logit (the scenario's 0.6 * (E == 2) by default).
    """
    a, z, y, f, l_, e = (test[c].to_numpy(dtype=float) for c in ("A", "Z", "Y", "F", "L", "E"))
    h = 0.6 * (e == 2) if policy is None else policy(e)

    def p_y(a_in, z_in):
        return expit(-1 + 1.2 * l_ + 0.7 * z_in + 0.5 * a_in - 0.3 * f + h)

    p_f = p_y(a, z)

    def given(z0):
        p_cf = p_y(0.0, z0)
        # U_Y uniform on [0, p_f) when Y = 1, on [p_f, 1) when Y = 0.
        return np.where(y == 1, np.minimum(p_cf, p_f) / p_f, np.maximum(p_cf - p_f, 0) / (1 - p_f))

    # Z under A = 0 for a unit observed with A = 1: U_Z uniform on [0, P1) (Z = 1) or [P1, 1) (Z = 0).
    r = np.where(z == 1, P0 / P1, 0.0)
    q_a1 = r * given(np.ones_like(z)) + (1 - r) * given(np.zeros_like(z))
    return np.where(a == 1, q_a1, y)


def test_fair_world_labels_and_accuracy_against_numpy(readmission):
    spec, scm, test = readmission
    observed = test.drop(columns="L")
    q = _fair_world_probability(test)
    k = 200
    expected = ct.scm.fair_world_labels(scm, observed, expected=True, n_draws=k, random_state=0)
    expected = expected.reshape(N, k)
    # Units observed with A = 0, or with Z = 0 (then Z under A = 0 is 0 for sure), involve no draw: exact.
    a, z = test["A"].to_numpy(), test["Z"].to_numpy()
    fixed = (a == 0) | (z == 0)
    np.testing.assert_allclose(expected[fixed], np.repeat(q[fixed, None], k, axis=1), atol=1e-9)
    # The others draw Z under A = 0 per row; the mean over k draws and those units has sd <= 0.5 / sqrt(k n).
    n_drawn = int((~fixed).sum())
    assert expected[~fixed].mean() == pytest.approx(q[~fixed].mean(), abs=5 * 0.5 / np.sqrt(k * n_drawn))
    train = scm.sample(5_000, random_state=8)
    model = LogisticRegression().fit(train[spec.features], train[spec.target])
    ctx = build_context(model, spec=spec, scm=scm, data=observed, random_state=0)
    got = {x.name: x.value for x in accuracy_metrics(ctx)}["accuracy.fair_world"]
    label = model.predict(observed[spec.features]).astype(float)
    hit = label * q + (1 - label) * (1 - q)  # P(label == fair-world label) per unit
    # One abduction draw per unit: independent Bernoulli(hit) indicators, sd = sqrt(sum hit (1 - hit)) / n.
    sd = np.sqrt((hit * (1 - hit)).sum()) / N
    assert got == pytest.approx(hit.mean(), abs=5 * sd + 1e-12)


def test_shift_calibration_of_a_fair_world_model_is_against_fair_world_labels(readmission):
    # A model trained on the fair world (target_world_ = "fair") is calibrated against fair-world labels of
    # each shift's sample: mean p - mean of one fair-world draw per unit, i.e. mean p - mean q plus the
    # draws' error, sd = sqrt(sum q (1 - q)) / n (0.0014-0.0018 at n = 20,000: A = 0 units have q = Y, no
    # draw); 5 sd. Against observed labels it is 36-45 sd off. The shifts keep Z's and Y's mechanisms
    # except new_hospital's policy term (0.2 at E = 3 instead of 0.6 at E = 2).
    spec, scm, test = readmission
    train = scm.sample(5_000, random_state=8)
    model = LogisticRegression().fit(train[spec.features], train[spec.target])
    model.target_world_ = "fair"
    n = 20_000
    options = AuditOptions(n_bootstrap=10, shift_n=n)
    observed = test.drop(columns="L")
    ctx = build_context(model, spec=spec, scm=scm, data=observed, random_state=0, options=options)
    got = {x.name: x.value for x in accuracy_metrics(ctx)}
    policies = {"new_hospital": lambda e: 0.2 * (e == 3)}
    for name in spec.shifts:
        seed = int(ctx.rng(f"shift:{name}:evaluate").integers(0, 2**31 - 1))
        shifted = scm.shift(name).sample(n, random_state=seed)  # the audit's evaluation sample (L kept here)
        p = model.predict_proba(shifted[spec.features])[:, 1]
        q = _fair_world_probability(shifted, policies.get(name))
        sd = np.sqrt((q * (1 - q)).sum()) / n
        calibration = got[f"accuracy.shift_calibration[{name}]"]
        assert calibration == pytest.approx(p.mean() - q.mean(), abs=5 * sd), name
        # Against the observed labels instead it would be off by the unfair paths' share of the rate.
        assert abs(calibration - (p.mean() - shifted[spec.target].mean())) > 5 * sd, name
