"""Audit of a regressor: RMSE / MAE / R², fair-world RMSE, shift RMSE, mean and standardised mean difference.

Ground truth from NumPy on the same rows, and from the credit_limit scenario's linear equations (the
fair-world targets in closed form, bounded over the unidentified coupling of the binary proxy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import causaltrust as ct
from causaltrust.audit._fairness import mean_difference, standardized_mean_difference

SPEC, SCM = ct.scenarios.load("credit_limit")


@pytest.fixture(scope="module")
def report() -> tuple[ct.TrustReport, pd.DataFrame, np.ndarray]:
    train = SCM.sample(2_000, random_state=1)
    test = SCM.sample(1_500, random_state=2)
    model = ct.learners.ERMRegressor(spec=SPEC).fit(train[SPEC.features], train[SPEC.target])
    rep = ct.audit(
        model, spec=SPEC, scm=SCM, data=test, train_data=train, objectives=["accuracy", "fairness"],
        n_bootstrap=30,
    )  # fmt: skip
    return rep, test, model.predict(test[SPEC.features])


def test_accuracy_metrics_match_numpy(report: tuple[ct.TrustReport, pd.DataFrame, np.ndarray]) -> None:
    rep, test, pred = report
    y = test["Y"].to_numpy()
    assert rep.metric("accuracy.rmse").value == pytest.approx(np.sqrt(np.mean((pred - y) ** 2)), rel=1e-12)
    assert rep.metric("accuracy.mae").value == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-12)
    r2 = 1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert rep.metric("accuracy.r2").value == pytest.approx(r2, rel=1e-12)
    assert rep.metric("accuracy.mae").better == "lower"


def test_fair_world_rmse_uses_the_closed_form_targets(
    report: tuple[ct.TrustReport, pd.DataFrame, np.ndarray],
) -> None:
    rep, test, pred = report
    # credit_limit is linear with additive noise: blocking A -> Y and A -> Z at baseline 0 gives, per unit,
    # Y_fw = Y + 0.6·A + 1.0·(Z - Z_{A=0}). Z = 1[U < sigmoid(-0.5 + 1.5·A)] with U abducted uniform on the
    # interval consistent with Z: for A = 1, Z = 1 units U is uniform on [0, sigmoid(1)), so Z_{A=0} =
    # 1[U < sigmoid(-0.5)] is 1 with probability r = sigmoid(-0.5) / sigmoid(1) (target Y_fw = base) and 0
    # otherwise (target base + 1); every other unit's Z_{A=0} equals its Z (A = 0), or is 0 (A = 1, Z = 0).
    y, a, z = test["Y"].to_numpy(), test["A"].to_numpy(), test["Z"].to_numpy()
    base = y + 0.6 * a
    drawn = (a == 1) & (z == 1)
    r = expit(-0.5) / expit(1.0)
    d = pred - base
    sq_lo, sq_hi = d**2, (d - 1.0) ** 2
    expected_sq = np.where(drawn, r * sq_lo + (1 - r) * sq_hi, sq_lo)
    expected = np.sqrt(expected_sq.mean())
    # One abduction draw per unit (n_draws = 1): the drawn units' squared errors are independent two-point
    # variables with variance r (1 - r) (sq_hi - sq_lo)^2; the MSE's sd is the root of their sum over n^2
    # (~0.014 for the ~440 drawn units of 1,500), and the RMSE's sd is that over 2·RMSE (~0.007), 4 sd here.
    # The two extreme couplings (Z_{A=0} = Z, or 0) are ~0.15 away on either side.
    n = len(pred)
    sd_mse = np.sqrt(np.sum((r * (1 - r) * (sq_hi - sq_lo) ** 2)[drawn])) / n
    value = rep.metric("accuracy.fair_world_rmse").value
    assert value == pytest.approx(expected, abs=4 * sd_mse / (2 * expected))
    assert rep.metric("accuracy.fair_world_rmse").better == "lower"


def test_group_metrics_match_groupby(report: tuple[ct.TrustReport, pd.DataFrame, np.ndarray]) -> None:
    rep, test, pred = report
    means = pd.Series(pred).groupby(test["A"].to_numpy()).mean()
    diff = float(means.max() - means.min())
    assert rep.metric("fairness.mean_difference").value == pytest.approx(diff, rel=1e-12)
    resid = pred - means.loc[test["A"].to_numpy()].to_numpy()
    pooled = np.sqrt(np.sum(resid**2) / (len(pred) - 2))
    assert rep.metric("fairness.standardized_mean_difference").value == pytest.approx(
        diff / pooled, rel=1e-12
    )
    # No classification metrics on a regressor.
    assert "fairness.demographic_parity_difference" not in set(rep.to_frame()["name"])


def test_standardized_mean_difference_edge_cases() -> None:
    g = np.array([0, 0, 1, 1])
    assert standardized_mean_difference(np.array([1.0, 1.0, 1.0, 1.0]), g, 2) == 0.0
    assert standardized_mean_difference(np.array([0.0, 0.0, 1.0, 1.0]), g, 2) == np.inf
    assert mean_difference(np.array([0.0, 2.0, 5.0, 7.0]), g, 3) == 5.0  # empty third group ignored


def _group_gaps_by_hand(pred: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Mean gap and standardized gap from a loop over the groups present: each group's sum accumulated in row
    order (the order bincount adds in), its mean, then the pooled within-group sum of squares."""
    means = {}
    for code in np.unique(g):
        values = pred[g == code]
        means[code] = np.add.accumulate(values)[-1] / len(values)
    gap = float(max(means.values()) - min(means.values()))
    dev = pred - np.array([means[code] for code in g])
    within = float(np.sum(dev**2))
    return gap, gap / float(np.sqrt(within / (len(pred) - len(means))))


@pytest.mark.parametrize(("n", "k"), [(3, 2), (50, 3), (2_000, 5)])
def test_regression_group_gaps_equal_a_loop_over_groups_bit_for_bit(n: int, k: int) -> None:
    # The two bincounts and in-place passes of the library (issue 30's floor) give the same bits as the
    # formula written group by group; k above the codes present leaves empty groups out.
    rng = np.random.default_rng(n)
    for _ in range(5):
        g = rng.integers(0, max(k - 1, 2), n)
        g[:2] = [0, 1]  # two groups present at least
        pred = rng.standard_normal(n) * 3.0 + 0.7 * g
        gap, smd = _group_gaps_by_hand(pred, g)
        assert mean_difference(pred, g, k) == gap
        assert standardized_mean_difference(pred, g, k) == smd


def test_shift_rmse_on_a_regression_shift() -> None:
    d = SPEC.to_dict()
    d["shifts"] = {"poorer": {"equations": {"I": "3 - 0.8*A + normal(0, 1)"}}}
    spec = ct.load_spec(d)
    scm = ct.SCM.from_spec(spec)
    train, test = scm.sample(1_000, random_state=1), scm.sample(800, random_state=2)
    model = ct.learners.ERMRegressor(spec=spec).fit(train[spec.features], train[spec.target])
    rep = ct.audit(model, spec=spec, scm=scm, data=test, objectives=["accuracy"], n_bootstrap=20, shift_n=800)
    # A shift of income only moves X along the true linear mechanism: least squares stays right, so the
    # shift RMSE is close to the noise sd 0.8 (n = 800: the RMSE's sd is about 0.8 / sqrt(2·800) = 0.02).
    assert rep.metric("accuracy.shift_rmse[poorer]").value == pytest.approx(0.8, abs=0.08)
    assert np.isnan(rep.metric("accuracy.shift_rmse_adapted[poorer]").value)


def test_recourse_above_the_specs_threshold_matches_the_linear_closed_form() -> None:
    # credit_limit: favourable = predicted limit >= 8; the lever H (credit history, bounds [0, 20]) has no
    # other child, so for least squares the cheapest action is ΔH = (8 - pred) / b_H, valid iff H + ΔH <= 20.
    train, test = SCM.sample(2_000, random_state=1), SCM.sample(100, random_state=2)
    model = ct.learners.ERMRegressor(spec=SPEC).fit(train[SPEC.features], train[SPEC.target])
    rep = ct.audit(
        model,
        spec=SPEC,
        scm=SCM,
        data=test,
        objectives=["explainability"],
        n_bootstrap=20,
        recourse_units=300,
    )
    pred = model.predict(test[SPEC.features])
    b_h = model.estimator_.coef_[model.design_.names.index("H")]
    rejected = pred < 8.0
    need = (8.0 - pred[rejected]) / b_h
    feasible = test["H"].to_numpy()[rejected] + need <= 20.0
    assert rep.metric("explainability.recourse_validity").value == pytest.approx(feasible.mean(), abs=1e-9)
    # The search bisects to a small tolerance above the exact action.
    assert rep.metric("explainability.recourse_cost").value == pytest.approx(need[feasible].mean(), rel=0.01)


def test_favorable_threshold_needs_a_continuous_target() -> None:
    d = ct.scenarios.load("readmission")[0].to_dict()
    d["recourse"]["favorable_threshold"] = 0.5
    with pytest.raises(ct.SpecError, match="favorable_threshold applies to a continuous target"):
        ct.load_spec(d)


def test_interventional_rmse_is_the_mean_and_worst_over_shifts() -> None:
    d = SPEC.to_dict()
    d["shifts"] = {
        "poorer": {"equations": {"I": "3 - 0.8*A + normal(0, 1)"}},
        "noisier": {"equations": {"Y": "2 + 1.5*I + 0.2*H - 1.0*Z - 0.6*A + normal(0, 2)"}},
    }
    spec = ct.load_spec(d)
    scm = ct.SCM.from_spec(spec)
    train, test = scm.sample(2_000, random_state=1), scm.sample(500, random_state=2)
    model = ct.learners.ERMRegressor(spec=spec).fit(train[spec.features], train[spec.target])
    rep = ct.audit(
        model, spec=spec, scm=scm, data=test, objectives=["accuracy"], n_bootstrap=10, shift_n=2_000
    )
    # Least squares is the true linear mechanism up to O(sqrt(5 / 2,000)) coefficient error, so its RMSE on
    # each shift is the shifted noise sd: 0.8 when income moves, 2.0 when Y's noise doubles. Closed form:
    # mean 1.4, worst 2.0. An RMSE's sd at n = 2,000 is sd / sqrt(2n): 0.013 and 0.032; 5 SE below.
    mean, worst = rep.metric("accuracy.interventional_rmse"), rep.metric("accuracy.interventional_rmse_worst")
    assert mean.value == pytest.approx(1.4, abs=5 * np.hypot(0.013, 0.032) / 2)
    assert worst.value == pytest.approx(2.0, abs=5 * 0.032)
    # Each shift's own RMSE against its closed form (5 SE), rather than the code's mean / max over them.
    assert rep.metric("accuracy.shift_rmse[poorer]").value == pytest.approx(0.8, abs=5 * 0.013)
    assert rep.metric("accuracy.shift_rmse[noisier]").value == pytest.approx(2.0, abs=5 * 0.032)
    assert mean.better == worst.better == "lower"
    # ERM cannot adapt on unlabeled rows: NaN, never its unadapted number.
    assert np.isnan(rep.metric("accuracy.interventional_rmse_adapted").value)
    # The classifiers' accuracy names are not reused for an RMSE.
    assert "accuracy.interventional" not in set(rep.to_frame()["name"])
